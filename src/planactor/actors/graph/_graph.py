"""An immutable weighted graph on igraph, queried by node name; networkx is the model.

Built once from `(source, target, weight)` triples, then queried many times: node names
map to igraph vertex ids (first-seen order, so equal edge lists give equal graphs and
equal answers), parallel edges collapse to the cheapest, self-loops are dropped (they
never shorten a path nor belong to a simple one). An infinite weight keeps the link,
as networkx does: the path exists, its distance is `inf`.
"""

from __future__ import annotations

import difflib
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planactor._errors import ActorError, InputError

if TYPE_CHECKING:
    import igraph

__all__ = ["Graph", "NodeNotFound", "Path"]

EdgeTriple = tuple[str, str, float]
# Suggesting near names scans every node: only worth it on graphs a person wrote.
_SUGGEST_MAX_NODES = 10_000


class NodeNotFound(ActorError):
    """A source or target that is not a node of the graph; retrying cannot help."""

    retryable = False

    def __init__(self, node: str, *, suggestions: tuple[str, ...] = ()) -> None:
        near = f"did you mean {', '.join(map(repr, suggestions))}? " if suggestions else ""
        super().__init__(
            f"node {node!r} is not in the graph",
            hint=f"{near}check the edge list: every node must be the end of at least one edge",
        )
        self.node = node
        self.suggestions = suggestions


@dataclass(frozen=True, slots=True, kw_only=True)
class Path:
    """A walk from `nodes[0]` to `nodes[-1]`; `distance` sums its weights in order."""

    nodes: tuple[str, ...]
    distance: float

    @property
    def hops(self) -> int:
        return len(self.nodes) - 1


class Graph:
    """A weighted graph for shortest paths, k-shortest simple paths and reachability.

    Weights must be non-negative (Dijkstra); NaN or a negative weight is an InputError
    naming the edge. Unknown source or target names raise `NodeNotFound`.
    """

    __slots__ = (
        "_directed",
        "_ends",
        "_g",
        "_ids",
        "_membership",
        "_names",
        "_search_weights",
        "_weights",
    )

    def __init__(self, *, edges: Iterable[EdgeTriple], directed: bool = False) -> None:
        ids: dict[str, int] = {}
        cheapest: dict[tuple[int, int], float] = {}
        for i, (source, target, weight) in enumerate(edges):
            if not weight >= 0:  # also refuses NaN
                raise InputError(
                    f"edge {i} ({source!r} -> {target!r}) has weight {weight!r}",
                    hint="weights must be numbers >= 0, as Dijkstra requires",
                )
            u = ids.setdefault(source, len(ids))
            v = ids.setdefault(target, len(ids))
            if u == v:
                continue
            key = (u, v) if directed or u < v else (v, u)
            old = cheapest.get(key)
            if old is None or weight < old:
                cheapest[key] = float(weight)
        self._directed = directed
        self._ids = ids
        self._names = list(ids)
        self._ends = list(cheapest)
        self._weights = list(cheapest.values())
        # Imported here, not at the top: loading the catalog imports this pack, and igraph
        # (with the matplotlib it loads) would add ~0.4 s to every command's start-up.
        import igraph

        self._g: igraph.Graph = igraph.Graph(n=len(ids), edges=self._ends, directed=directed)
        self._search_weights = _search_weights(self._weights)
        # Same component (strong, if directed) means reachable: most queries skip a search.
        mode = "strong" if directed else "weak"
        self._membership: list[int] = self._g.connected_components(mode=mode).membership

    @property
    def directed(self) -> bool:
        return self._directed

    @property
    def nodes(self) -> tuple[str, ...]:
        """Node names in first-seen order of the edge list."""
        return tuple(self._names)

    @property
    def node_count(self) -> int:
        return len(self._names)

    @property
    def edge_count(self) -> int:
        """Edges after merging parallel edges and dropping self-loops."""
        return len(self._ends)

    def __contains__(self, node: object) -> bool:
        return node in self._ids

    def __repr__(self) -> str:
        kind = "directed" if self._directed else "undirected"
        return f"<Graph {kind}, {self.node_count} nodes, {self.edge_count} edges>"

    def shortest_path(self, source: str, target: str) -> Path | None:
        """The cheapest path from source to target (Dijkstra), or None if there is none."""
        # The hot path: lookups inlined, a search only when components differ.
        ids = self._ids
        s, t = ids.get(source), ids.get(target)
        if s is None or t is None:
            raise self._missing(source if s is None else target)
        if self._membership[s] != self._membership[t] and not self._reaches(s, t):
            return None
        eids = self._g.get_shortest_path(
            s, t, weights=self._search_weights, mode="out", output="epath"
        )
        return self._walk(s, eids)

    def k_shortest_paths(self, source: str, target: str, k: int) -> list[Path]:
        """Up to k cheapest simple paths (Yen), by distance, then hops, then node names.

        When more than k paths tie at the k-th distance, which of them are returned is
        igraph's choice: the same edge list always gives the same answer.
        """
        if k < 1:
            raise InputError(f"k must be at least 1, not {k}", hint="ask for k >= 1 paths")
        s, t = self._id(source), self._id(target)
        if not self._reaches(s, t):
            return []
        found = self._g.get_k_shortest_paths(
            s, t, k=k, weights=self._search_weights, mode="out", output="epath"
        )
        paths = [self._walk(s, eids) for eids in found]
        paths.sort(key=lambda p: (p.distance, len(p.nodes), p.nodes))
        return paths

    def reachable_from(self, source: str) -> frozenset[str]:
        """Every node a path leads to from source, source included."""
        names = self._names
        return frozenset(names[v] for v in self._g.subcomponent(self._id(source), mode="out"))

    def reaches(self, source: str, target: str) -> bool:
        """Whether some path leads from source to target (a node reaches itself)."""
        return self._reaches(self._id(source), self._id(target))

    def _id(self, node: str) -> int:
        try:
            return self._ids[node]
        except KeyError:
            raise self._missing(node) from None

    def _missing(self, node: str) -> NodeNotFound:
        near: tuple[str, ...] = ()
        if len(self._names) <= _SUGGEST_MAX_NODES:
            near = tuple(difflib.get_close_matches(node, self._names, n=3))
        return NodeNotFound(node, suggestions=near)

    def _reaches(self, s: int, t: int) -> bool:
        if self._membership[s] == self._membership[t]:
            return True
        if not self._directed:
            return False
        # Different strong components: only a search can tell. A BFS (no weights) that
        # reports `inf` instead of igraph's "couldn't reach" warning.
        return bool(self._g.distances(s, t, mode="out")[0][0] != math.inf)

    def _walk(self, s: int, eids: list[int]) -> Path:
        # Edge ids to node names; the distance adds weights from the source on, as
        # networkx's Dijkstra does, so equal paths give bit-equal distances.
        names, ends, weights = self._names, self._ends, self._weights
        node = s
        nodes = [names[s]]
        distance = 0.0
        for e in eids:
            a, b = ends[e]
            node = b if a == node else a
            nodes.append(names[node])
            distance += weights[e]
        return Path(nodes=tuple(nodes), distance=distance)


def _search_weights(weights: list[float]) -> list[float] | None:
    """The weights igraph searches with; None (a BFS) when they are all equal.

    Equal weights make the fewest hops the cheapest path, and a BFS is an order of
    magnitude faster than Dijkstra (common: edges default to weight 1). igraph's
    k-shortest search skips infinite edges where networkx walks them: an infinite edge
    becomes a weight so large that it loses to any path of ordinary weights, yet a path
    of them all cannot overflow. Reported distances add the original weights: `inf`.
    """
    if len(set(weights)) <= 1:
        return None
    if math.inf not in weights:
        return weights
    huge = sys.float_info.max / (len(weights) + 1)
    return [huge if w == math.inf else w for w in weights]
