"""The shortest-path task the LLM benchmark asks: seeded graphs, their text, their answer.

The generator is the original experiment's, call for call, so seed 42 gives its graphs:
`random.Random(seed)`; nodes `N0..N{n-1}`; shuffle them; each node `i >= 1` of the shuffled
list links to a random earlier one (a spanning tree, so every query has an answer); then
random pairs (not a loop, not already an edge) until there are `int(n * avg_degree / 2)`
edges. Weights are integers 1-20, drawn right after each edge's endpoints. `avg_degree` is 2
at 5 nodes (a tree of 4 edges plus one) and 3 otherwise. The query is always N0 -> N{n-1}.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from functools import cached_property

from planactor.actors.graph import Graph

__all__ = ["BASE_SEED", "SpGraph", "avg_degree", "make_sp_graph"]

BASE_SEED = 42  # graph g of a size uses seed BASE_SEED + g: graph 0 is the original's
MIN_WEIGHT = 1
MAX_WEIGHT = 20


def avg_degree(nodes: int) -> float:
    """The original's mean degree: 2 for its 5-node graph, 3 for every larger one."""
    return 2.0 if nodes <= 5 else 3.0


# No slots: the weights and the optimum are cached on the instance.
@dataclass(frozen=True, kw_only=True)
class SpGraph:
    """One benchmark graph: undirected edges with integer weights, in the order drawn, and
    the query from `source` to `target`."""

    nodes: int
    seed: int
    edges: tuple[tuple[str, str, int], ...]
    source: str
    target: str

    @cached_property
    def weights(self) -> dict[frozenset[str], int]:
        """Edge weight by its unordered pair of endpoints."""
        return {frozenset((u, v)): w for u, v, w in self.edges}

    @cached_property
    def optimum(self) -> int:
        """The shortest distance from source to target (Dijkstra, through the graph pack)."""
        found = Graph(edges=[(u, v, float(w)) for u, v, w in self.edges]).shortest_path(
            self.source, self.target
        )
        if found is None:  # impossible: the spanning tree connects every node
            raise AssertionError(f"seed {self.seed}: {self.target} unreachable")
        return round(found.distance)

    def text(self) -> str:
        """One line per edge, sorted: `N0 -- N4  (weight 7)` (the original's form)."""
        return "\n".join(sorted(f"{u} -- {v}  (weight {w})" for u, v, w in self.edges))

    def path_weight(self, path: list[str]) -> int | None:
        """The weight of `path` walked hop by hop; None if some hop is not an edge."""
        total = 0
        for u, v in itertools.pairwise(path):
            w = self.weights.get(frozenset((u, v)))
            if w is None or u == v:
                return None
            total += w
        return total


def make_sp_graph(nodes: int, seed: int) -> SpGraph:
    """The seeded graph of `nodes` nodes, drawn exactly as the original experiment drew it."""
    if nodes < 2:
        raise ValueError(f"a shortest-path graph needs at least 2 nodes, not {nodes}")
    rng = random.Random(seed)
    names = [f"N{i}" for i in range(nodes)]
    shuffled = names[:]
    rng.shuffle(shuffled)
    edges: dict[frozenset[str], tuple[str, str, int]] = {}
    for i in range(1, nodes):
        earlier = rng.choice(shuffled[:i])
        edges[frozenset((earlier, shuffled[i]))] = (
            earlier,
            shuffled[i],
            rng.randint(MIN_WEIGHT, MAX_WEIGHT),
        )
    wanted = min(int(nodes * avg_degree(nodes) / 2), nodes * (nodes - 1) // 2)
    while len(edges) < wanted:
        a, b = rng.choice(names), rng.choice(names)
        key = frozenset((a, b))
        if a == b or key in edges:
            continue
        edges[key] = (a, b, rng.randint(MIN_WEIGHT, MAX_WEIGHT))
    return SpGraph(
        nodes=nodes,
        seed=seed,
        edges=tuple(edges.values()),
        source="N0",
        target=f"N{nodes - 1}",
    )
