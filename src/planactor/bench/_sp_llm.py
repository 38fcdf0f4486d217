"""Shortest path: the algorithm next to an LLM answering from the edge list, thinking aloud,
or calling the algorithm as a tool. Many seeded graphs per size, each asked once per method.

    planactor bench shortest-path --methods algorithm,llm,llm-cot,llm-tool
        [--sizes 5,20,50,100] [--graphs 20] [--planner local|openai|anthropic]
        [--model M] [--base-url URL] [--json] [--out DIR] [--resume]

Trials are appended to `<out>/shortest-path_<planner>_<model>.jsonl` as they finish, so
`--resume` continues an interrupted sweep; the summary goes to the `.csv` beside it and the
chart to the `.png`. Graph g of each size has seed 42 + g (graph 0 is the original
experiment's). Methods, scoring and energy: `_sp_methods`, `_sp_score`, `_energy`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from planactor._errors import InputError
from planactor.bench._energy import DEFAULT_WATTS_PER_CORE, EnergyMeter
from planactor.bench._sp_graphs import BASE_SEED, make_sp_graph
from planactor.bench._sp_methods import LLM_METHODS, METHODS, MethodLimits, Trial, run_trial
from planactor.bench._sp_report import ratios, render, summarize, write_chart, write_csv
from planactor.bench._sweep_files import choices, drop_partial_line, positive, read_records, slug
from planactor.planner import BACKENDS, Backend, get_backend

__all__ = ["DEFAULT_SIZES", "main", "run_sweep"]

DEFAULT_SIZES = (5, 20, 50, 100)
DEFAULT_GRAPHS = 20
DEFAULT_OUT = Path("bench-results")


def _methods(text: str) -> tuple[str, ...]:
    return choices(text, METHODS, "method")


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(p.replace("_", "")) for p in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes are node counts like 5,20: not {text!r}") from None
    if any(s < 2 for s in sizes):
        raise argparse.ArgumentTypeError("every size needs at least 2 nodes")
    return sizes


def results_stem(out: Path, methods: Sequence[str], planner: str, model: str) -> Path:
    """`<out>/shortest-path_<planner>_<model>` (the algorithm alone: `..._algorithm`)."""
    if not any(m in LLM_METHODS for m in methods):
        return out / "shortest-path_algorithm"
    return out / f"shortest-path_{planner}_{slug(model)}"


def run_sweep(
    *,
    methods: Sequence[str],
    sizes: Sequence[int],
    graphs: int,
    backend: Backend | None,
    meter: EnergyMeter,
    limits: MethodLimits,
    jsonl: Path,
    resume: bool,
    console: Console,
    base_seed: int = BASE_SEED,
) -> list[Trial]:
    """Every (size, graph, method) trial, skipping those the JSONL has when resuming.

    Trials run graph by graph with the methods taking turns, so load that comes and goes
    on a shared machine falls on every method alike.
    """
    plan = [(size, base_seed + g, m) for size in sizes for g in range(graphs) for m in methods]
    wanted = {(m, size, seed) for size, seed, m in plan}
    done: dict[tuple[str, int, int], Trial] = {}
    if resume:
        drop_partial_line(jsonl)
        for t in read_records(jsonl, Trial.from_document):
            if t.key in wanted:
                if backend is not None and t.method in LLM_METHODS and t.backend != backend.name:
                    raise InputError(
                        f"{jsonl} holds {t.backend} trials; this run asks {backend.name}",
                        hint="resume with the same --planner and --model, or use another --out",
                    )
                done[t.key] = t
    jsonl.parent.mkdir(parents=True, exist_ok=True)
    todo = [(size, seed, m) for size, seed, m in plan if (m, size, seed) not in done]
    with (
        jsonl.open("a" if resume else "w", encoding="utf-8") as sink,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        ) as progress,
    ):
        task = progress.add_task("trials", total=len(plan), completed=len(done))
        graph = None
        for size, seed, method in todo:
            if graph is None or (graph.nodes, graph.seed) != (size, seed):
                graph = make_sp_graph(size, seed)
            progress.update(task, description=f"{method} n={size} seed={seed}")
            trial = run_trial(method, graph, backend=backend, meter=meter, limits=limits)
            sink.write(json.dumps(trial.to_document()) + "\n")
            sink.flush()
            done[trial.key] = trial
            progress.advance(task)
        progress.update(task, description="trials")
    return [done[(m, size, seed)] for size, seed, m in plan]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="planactor bench shortest-path",
        description=(__doc__ or "").split("\n\n", 1)[0],
    )
    p.add_argument(
        "--methods", type=_methods, required=True, help=f"comma list of {', '.join(METHODS)}"
    )
    p.add_argument("--sizes", type=_sizes, default=DEFAULT_SIZES, help="node counts (5,20,50,100)")
    p.add_argument("--graphs", type=positive, default=DEFAULT_GRAPHS, help="graphs per size (20)")
    p.add_argument("--planner", choices=BACKENDS, default="local", help="LLM backend (local)")
    p.add_argument("--model", default=None, help="GGUF path (local) or model id (hosted)")
    p.add_argument("--base-url", default=None, help="an OpenAI-compatible server's URL")
    p.add_argument("--json", action="store_true", help="print the summary rows as JSON")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder (bench-results)")
    p.add_argument("--resume", action="store_true", help="continue the sweep its JSONL records")
    p.add_argument(
        "--watts-per-core",
        type=float,
        default=DEFAULT_WATTS_PER_CORE,
        help="for the energy estimate when RAPL is not readable (10)",
    )
    p.add_argument(
        "--max-tokens",
        type=positive,
        default=MethodLimits().max_tokens,
        help="answer tokens per call of llm and llm-tool (256)",
    )
    p.add_argument(
        "--cot-max-tokens",
        type=positive,
        default=MethodLimits().cot_max_tokens,
        help="answer tokens of an llm-cot call, its reasoning included (1024)",
    )
    p.add_argument(
        "--timeout", type=float, default=MethodLimits().timeout_s, help="seconds per call"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(argv) if argv is not None else None)
    if not args.watts_per_core > 0 or not args.timeout > 0:
        raise InputError("--watts-per-core and --timeout must be positive")
    llm = any(m in LLM_METHODS for m in args.methods)
    backend = get_backend(args.planner, model=args.model, base_url=args.base_url) if llm else None
    model = (backend.model or args.model or "default") if backend is not None else ""
    stem = results_stem(args.out, args.methods, args.planner, model)
    jsonl, csv_path, png = (stem.with_suffix(s) for s in (".jsonl", ".csv", ".png"))
    # Piped output would wrap the wide tables at 80 columns: give them room.
    out = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 150)
    err = Console(file=sys.stderr, width=None if sys.stderr.isatty() else 150)
    meter = EnergyMeter(watts_per_core=args.watts_per_core)
    limits = MethodLimits(
        max_tokens=args.max_tokens, cot_max_tokens=args.cot_max_tokens, timeout_s=args.timeout
    )
    trials = run_sweep(
        methods=args.methods,
        sizes=args.sizes,
        graphs=args.graphs,
        backend=backend,
        meter=meter,
        limits=limits,
        jsonl=jsonl,
        resume=args.resume,
        console=err,
    )
    rows = summarize(trials)
    write_csv(rows, csv_path)
    label = f"{backend.name} {backend.model}" if backend is not None else "algorithm only"
    write_chart(rows, png, title=f"shortest path, {args.graphs} graphs per size: {label}")
    if args.json:
        print(json.dumps([r.to_document() for r in rows], indent=2))
    else:
        render(out, rows, ratios(rows), energy_note=meter.describe())
    (err if args.json else out).print(f"results: {jsonl}, {csv_path}, {png}")
    return 0
