"""How long the network pack takes to generate and validate data-centre fabrics.

Fabrics measured:

- leaf-spine, 4 spines x 96 leaves (100 switches, 384 links, 48 x 25G servers per leaf);
- leaf-spine, 8 spines x 512 leaves (520 switches, 4,096 links), for scale;
- fat-tree, k=8 (80 switches, 256 links, 128 hosts) and k=16 (320 switches, 2,048 links).

For each, in the same run: `generate` (switches, links, ports, ASNs, /31s and loopbacks),
`check_fabric` (the full validation report), both together (the target), the JSON rendering
(`to_json`) and the DOT rendering (`to_dot`). The peer builds the same graph with networkx:
`nx.complete_bipartite_graph(leaves, spines)` for leaf-spine; for the fat-tree, which networkx
has no generator for, `nx.Graph` from the same edge list (computed inside the timed call).
Median of 200 repeats (50 for the large fabrics) after one warm-up.

    planactor bench topology [--json]

With `--methods generator,llm` the same command runs the other benchmark: the generator next
to an LLM agent writing the fabric document, both scored by the validator (`_topology_llm`).

Target: a 100-switch fabric generated and validated in under 10 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import networkx as nx

from planactor.bench._timing import median_ms
from planactor.fabric import (
    FatTreeSpec,
    LeafSpineSpec,
    check_fabric,
    generate,
    to_dot,
    to_json,
)

__all__ = ["CASES", "Result", "main", "measure", "run"]

TARGET_MS = 10.0
TARGET_SWITCHES = 100


def _leaf_spine_peer(spec: LeafSpineSpec) -> Callable[[], object]:
    return lambda: nx.complete_bipartite_graph(spec.leaves, spec.spines)


def _fat_tree_edges(k: int) -> list[tuple[str, str]]:
    h = k // 2
    edges = []
    for p in range(k):
        for j in range(h):
            agg = f"agg-{p}-{j}"
            edges += [(agg, f"edge-{p}-{i}") for i in range(h)]
            edges += [(f"core-{j * h + m}", agg) for m in range(h)]
    return edges


def _fat_tree_peer(spec: FatTreeSpec) -> Callable[[], object]:
    def build() -> object:
        graph = nx.Graph()
        graph.add_edges_from(_fat_tree_edges(spec.k))
        return graph

    return build


CASES: dict[str, LeafSpineSpec | FatTreeSpec] = {
    "leaf-spine 4x96": LeafSpineSpec(leaves=96, spines=4, servers_per_leaf=48, spine_ports=96),
    "leaf-spine 8x512": LeafSpineSpec(
        leaves=512, spines=8, servers_per_leaf=48, spine_ports=512, asn_base=4200000000
    ),
    "fat-tree k=8": FatTreeSpec(k=8),
    "fat-tree k=16": FatTreeSpec(k=16),
}


@dataclass(frozen=True, slots=True)
class Result:
    case: str
    switches: int
    links: int
    repeats: int
    generate_ms: float
    validate_ms: float
    total_ms: float
    json_ms: float
    dot_ms: float
    networkx_ms: float

    @property
    def ratio(self) -> float:
        """Generate + validate, over networkx building the bare graph."""
        return self.total_ms / self.networkx_ms

    def to_document(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def measure(case: str, repeats: int | None = None) -> Result:
    spec = CASES[case]
    fabric = generate(spec)
    report = check_fabric(fabric)
    if not report.ok:
        raise RuntimeError(f"{case}: the benchmark fabric does not validate: {report.codes()}")
    n = repeats or (200 if len(fabric.switches) <= 100 else 50)
    peer = _fat_tree_peer(spec) if isinstance(spec, FatTreeSpec) else _leaf_spine_peer(spec)
    return Result(
        case=case,
        switches=len(fabric.switches),
        links=len(fabric.links),
        repeats=n,
        generate_ms=median_ms(lambda: generate(spec), n),
        validate_ms=median_ms(lambda: check_fabric(fabric), n),
        total_ms=median_ms(lambda: check_fabric(generate(spec)), n),
        json_ms=median_ms(lambda: to_json(fabric), n),
        dot_ms=median_ms(lambda: to_dot(fabric), n),
        networkx_ms=median_ms(peer, n),
    )


def run(repeats: int | None = None) -> list[Result]:
    return [measure(case, repeats) for case in CASES]


def _verdicts(results: list[Result]) -> list[tuple[str, int, float, bool]]:
    return [
        (r.case, r.switches, r.total_ms, r.total_ms < TARGET_MS)
        for r in results
        if r.switches <= TARGET_SWITCHES
    ]


def _table(results: list[Result]) -> str:
    head = (
        f"{'fabric':<17} {'switches':>8} {'links':>6} {'generate':>9} {'validate':>9} "
        f"{'both ms':>8} {'networkx':>9} {'ratio':>6} {'json ms':>8} {'dot ms':>7}"
    )
    rows = [head, "-" * len(head)]
    rows += [
        f"{r.case:<17} {r.switches:>8,} {r.links:>6,} {r.generate_ms:>9.2f} {r.validate_ms:>9.2f} "
        f"{r.total_ms:>8.2f} {r.networkx_ms:>9.3f} {r.ratio:>6.1f} {r.json_ms:>8.2f} "
        f"{r.dot_ms:>7.2f}"
        for r in results
    ]
    rows.append(f"target: < {TARGET_MS:.0f} ms for {TARGET_SWITCHES} switches, generate + validate")
    for case, switches, ms, ok in _verdicts(results):
        rows.append(
            f"{'PASS' if ok else 'MISS'}: {case}: {switches} switches generated and validated "
            f"in {ms:.2f} ms (target < {TARGET_MS:.0f} ms)"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if any(a == "--methods" or a.startswith("--methods=") for a in args_in):
        # The generator next to an LLM agent writing the document (planactor.bench._topology_llm).
        from planactor.bench._topology_llm import main as llm_main

        return llm_main(args_in)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(args_in)
    results = run()
    if args.json:
        doc = {
            "python": sys.version.split()[0],
            "target": {"switches": TARGET_SWITCHES, "ms": TARGET_MS},
            "results": [r.to_document() for r in results],
            "verdicts": [
                {"case": c, "switches": s, "ms": ms, "pass": ok}
                for c, s, ms, ok in _verdicts(results)
            ],
        }
        print(json.dumps(doc, indent=2))
    else:
        print(_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
