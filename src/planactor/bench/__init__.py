"""Benchmarks that reproduce the claims planactor rests on, runnable from an installed
package (`planactor bench NAME`) or a checkout (`make bench`, `benchmarks/*.py`).

Each prints medians and ratios against a peer measured in the same run.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from planactor._errors import InputError

__all__ = ["BENCHMARKS", "run_benchmark"]

# name -> (module, one line on what it measures)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "compounding": (
        "planactor.bench._compounding",
        "the storage firmware upgrade by a pure-LLM executor (ReAct) and by planner-actor:"
        " end-to-end success, DU events, per-step accuracy and p^n against workflow length",
    ),
    "engine": (
        "planactor.bench._engine",
        "engine overhead per step, in memory and durable, next to LangGraph",
    ),
    "engine-temporal": (
        "planactor.distributed._bench",
        "the same plans on Temporal (also `engine --engine temporal`): per-step overhead next"
        " to the local engine and a hand-written Temporal workflow",
    ),
    "shortest-path": (
        "planactor.bench._shortest_path",
        "the graph pack's Dijkstra (igraph, cached) next to networkx, 100 to 100,000 nodes;"
        " with --methods algorithm,llm,llm-cot,llm-tool, next to an LLM (valid/optimal"
        " answers, latency, tokens, $, energy)",
    ),
    "validate": (
        "planactor.bench._validate",
        "full static validation of 10,000-step plans next to pydantic's structure-only parse",
    ),
    "startup": (
        "planactor.bench._startup",
        "process start to exit of --version, --help and validate, next to `python -c pass`",
    ),
    "topology": (
        "planactor.bench._topology",
        "leaf-spine and fat-tree generation and validation next to networkx's generators;"
        " with --methods generator,llm, next to an LLM agent writing the fabric document"
        " (the validator's finding codes, latency, tokens)",
    ),
}


def run_benchmark(name: str, argv: Sequence[str] = ()) -> int:
    """Run benchmark `name` with its own command-line arguments; its exit code."""
    if name not in BENCHMARKS:
        raise InputError(
            f"no benchmark named {name!r}", hint=f"choose one of: {', '.join(BENCHMARKS)}"
        )
    module = importlib.import_module(BENCHMARKS[name][0])
    code: int = module.main(list(argv))
    return code
