"""Shortest path per query: the graph pack (igraph) next to networkx, 100 to 100,000 nodes.

Graphs: G(n, p) with mean degree 4 plus a random spanning path, so every pair is
connected (mean degree ~6); weights uniform in [1, 10); all seeded. Every contender
answers the same source/target pairs, taking turns in chunks of queries, and the
benchmark checks they agree on the distance. Per query, median over all queries after a warm-up:

- networkx: `nx.single_source_dijkstra(G, s, t)` on a prebuilt `nx.Graph` (the peer);
- actor: `planactor.actors.graph.shortest_path(ShortestPathInput)`, the actor's public
  function. Stateless: every call brings the edge list; the igraph conversion comes
  from the cache (warm), but the cache key is read from every edge of the input;
- graph: `Graph.shortest_path(s, t)` on the cached graph, what a caller holding the
  graph (`cached_graph(edges)`) pays per query;
- igraph: the bare `igraph.Graph.get_shortest_path(s, t, weights=w)` call on vertex ids,
  for scale: the floor under any wrapper of python-igraph;
- convert: building the `Graph` from the edge list once (a cache miss), median of a few.

    planactor bench shortest-path [--json] [--sizes 100,1000] [--degree 4]

With `--methods algorithm,llm,llm-cot,llm-tool` the same command runs the other benchmark,
the algorithm next to LLMs on the original experiment's small graphs (`_sp_llm`).

Target at 100 nodes: the actor's warm query under 15 µs and faster than networkx.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import igraph
import networkx as nx

from planactor.actors.graph import Edge, Graph, ShortestPathInput, cached_graph, shortest_path

__all__ = ["Result", "main", "make_graph", "measure", "run"]

SIZES = (100, 1_000, 10_000, 100_000)
MEAN_DEGREE = 4.0
SEED = 20_250_101
TARGET_NODES = 100
TARGET_US = 15.0

Triple = tuple[str, str, float]


def _queries(nodes: int) -> int:
    """Enough queries for a stable median; networkx needs ~1 s per query at 100,000."""
    return {100: 2_000, 1_000: 500, 10_000: 60}.get(nodes, 15)


def make_graph(nodes: int, degree: float = MEAN_DEGREE, seed: int = SEED) -> list[Triple]:
    """A connected G(n, p) edge list: mean degree `degree` plus a random spanning path."""
    rng = random.Random(seed)
    gnp = nx.fast_gnp_random_graph(nodes, degree / (nodes - 1), seed=seed)
    order = list(range(nodes))
    rng.shuffle(order)
    pairs = set(gnp.edges) | {(min(u, v), max(u, v)) for u, v in itertools.pairwise(order)}
    return [(f"n{u}", f"n{v}", rng.uniform(1, 10)) for u, v in sorted(pairs)]


def _pairs(nodes: int, count: int, seed: int = SEED) -> list[tuple[str, str]]:
    rng = random.Random(seed + nodes)
    out: list[tuple[str, str]] = []
    while len(out) < count:
        s, t = rng.randrange(nodes), rng.randrange(nodes)
        if s != t:
            out.append((f"n{s}", f"n{t}"))
    return out


@dataclass(frozen=True, slots=True)
class Result:
    nodes: int
    edges: int
    queries: int
    networkx_us: float
    actor_us: float
    graph_us: float
    igraph_us: float
    convert_ms: float

    @property
    def actor_speedup(self) -> float:
        """networkx time / actor time: above 1, the actor is faster."""
        return self.networkx_us / self.actor_us

    @property
    def graph_speedup(self) -> float:
        return self.networkx_us / self.graph_us

    def to_document(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "actor_speedup": self.actor_speedup,
            "graph_speedup": self.graph_speedup,
        }


def _median_us(calls: Sequence[Callable[[], object]]) -> float:
    """Median per-call time; the first call is a warm-up and is not counted."""
    calls[0]()
    times = []
    clock = time.perf_counter
    for call in calls:
        start = clock()
        call()
        times.append(clock() - start)
    return statistics.median(times) * 1e6


def _interleaved_us(contenders: dict[str, Sequence[Callable[[], object]]]) -> dict[str, float]:
    """Median per-query time of each contender, taking turns in chunks of queries.

    On a shared machine, load comes and goes: turns spread it over every contender
    alike, so the ratios hold even when absolute times wander. Chunks of up to 50
    queries keep a fast contender's caches as warm as in a loop of its own.
    """
    clock = time.perf_counter
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for calls in contenders.values():
        calls[0]()  # warm-up
    total = len(next(iter(contenders.values())))
    chunk = max(1, min(50, total // 10))
    for first in range(0, total, chunk):
        for name, calls in contenders.items():
            out = times[name]
            for call in calls[first : first + chunk]:
                start = clock()
                call()
                out.append(clock() - start)
    return {name: statistics.median(ts) * 1e6 for name, ts in times.items()}


def measure(nodes: int, queries: int | None = None, degree: float = MEAN_DEGREE) -> Result:
    """Time networkx, the actor, the cached graph and the conversion on one graph."""
    triples = make_graph(nodes, degree)
    n = queries or _queries(nodes)
    pairs = _pairs(nodes, n)

    model = nx.Graph()
    model.add_weighted_edges_from(triples)
    edges = [Edge(source=s, target=t, weight=w) for s, t, w in triples]
    # Input models are built before timing: parsing is the engine's cost, not the query's.
    inputs = [ShortestPathInput(edges=edges, source=s, target=t) for s, t in pairs]
    graph = cached_graph(triples)
    ids = {name: i for i, name in enumerate(graph.nodes)}
    bare = igraph.Graph(n=len(ids), edges=[(ids[s], ids[t]) for s, t, _ in triples])
    weights = [w for _, _, w in triples]

    for (s, t), inp in list(zip(pairs, inputs, strict=True))[:50]:
        expected, _ = nx.single_source_dijkstra(model, s, t)
        got = shortest_path(inp).distance
        if got is None or not math.isclose(got, expected, rel_tol=1e-9):
            raise RuntimeError(f"{nodes} nodes, {s}->{t}: actor says {got}, networkx {expected}")

    def bind(fn: Callable[..., Any], *args: Any) -> Callable[[], Any]:
        return lambda: fn(*args)

    medians = _interleaved_us(
        {
            "networkx": [bind(nx.single_source_dijkstra, model, s, t) for s, t in pairs],
            "actor": [bind(shortest_path, inp) for inp in inputs],
            "graph": [bind(graph.shortest_path, s, t) for s, t in pairs],
            "igraph": [
                bind(lambda a, b: bare.get_shortest_path(a, b, weights=weights), ids[s], ids[t])
                for s, t in pairs
            ],
        }
    )
    builds = 3 if nodes >= 100_000 else 11
    convert_ms = _median_us([lambda: Graph(edges=triples)] * builds) / 1000
    return Result(
        nodes=nodes,
        edges=graph.edge_count,
        queries=n,
        networkx_us=medians["networkx"],
        actor_us=medians["actor"],
        graph_us=medians["graph"],
        igraph_us=medians["igraph"],
        convert_ms=convert_ms,
    )


def run(
    sizes: Sequence[int] = SIZES, queries: int | None = None, degree: float = MEAN_DEGREE
) -> list[Result]:
    return [measure(n, queries, degree) for n in sizes]


def _verdicts(results: list[Result]) -> list[dict[str, Any]]:
    """At the target size, for the actor and the cached graph: under target, beats networkx."""
    return [
        {
            "path": name,
            "us": us,
            "networkx_us": r.networkx_us,
            "under_target": us < TARGET_US,
            "faster_than_networkx": us < r.networkx_us,
        }
        for r in results
        if r.nodes == TARGET_NODES
        for name, us in (("actor", r.actor_us), ("graph", r.graph_us))
    ]


def _table(results: list[Result]) -> str:
    head = (
        f"{'nodes':>8} {'edges':>8} {'queries':>7} {'networkx µs':>12} {'actor µs':>10} "
        f"{'graph µs':>10} {'igraph µs':>10} {'nx/actor':>9} {'nx/graph':>9} {'convert ms':>11}"
    )
    rows = [head, "-" * len(head)]
    rows += [
        f"{r.nodes:>8,} {r.edges:>8,} {r.queries:>7,} {r.networkx_us:>12,.1f} "
        f"{r.actor_us:>10,.1f} {r.graph_us:>10,.1f} {r.igraph_us:>10,.1f} {r.actor_speedup:>8.1f}x "
        f"{r.graph_speedup:>8.1f}x {r.convert_ms:>11,.2f}"
        for r in results
    ]
    for v in _verdicts(results):
        ok = v["under_target"] and v["faster_than_networkx"]
        rows.append(
            f"{'PASS' if ok else 'MISS'}: {v['path']}: {v['us']:.1f} µs per query at "
            f"{TARGET_NODES} nodes (target < {TARGET_US:.0f} µs "
            f"and < networkx's {v['networkx_us']:.1f} µs)"
        )
    return "\n".join(rows)


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(part.replace("_", "")) for part in text.split(","))


def main(argv: list[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if any(a == "--methods" or a.startswith("--methods=") for a in args_in):
        # The algorithm next to LLMs: a sweep of its own (planactor.bench._sp_llm).
        from planactor.bench._sp_llm import main as llm_main

        return llm_main(args_in)
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--sizes", type=_sizes, default=SIZES, help="node counts, e.g. 100,1000")
    parser.add_argument(
        "--degree", type=float, default=MEAN_DEGREE, help="mean degree of the G(n, p) part"
    )
    args = parser.parse_args(args_in)
    results = run(args.sizes, degree=args.degree)
    if args.json:
        doc = {
            "python": sys.version.split()[0],
            "networkx": nx.__version__,
            "igraph": igraph.__version__,
            "target": {"nodes": TARGET_NODES, "us": TARGET_US},
            "mean_degree_gnp": args.degree,
            "results": [r.to_document() for r in results],
            "verdicts": _verdicts(results),
        }
        print(json.dumps(doc, indent=2))
    else:
        print(_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
