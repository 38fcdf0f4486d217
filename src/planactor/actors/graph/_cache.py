"""Edge list -> `Graph` conversions, cached so repeated queries on one graph do not rebuild.

Actors are stateless: every call brings its graph as an edge list. Building the igraph
graph costs far more than a query, so conversions are kept in a bounded LRU keyed by the
edge list's content and direction. The key is the content itself (hashed once, compared
on a hit), not a digest: two different graphs can never share an entry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from planactor.actors.graph._graph import EdgeTriple, Graph, Path

__all__ = ["GraphCache", "cached_graph", "default_cache", "shortest_path_between"]


class _Key:
    """An edge list and its direction, with the (O(edges)) hash computed once."""

    __slots__ = ("directed", "edges", "hash")

    def __init__(self, edges: tuple[EdgeTriple, ...], directed: bool) -> None:
        self.edges = edges
        self.directed = directed
        self.hash = hash((directed, edges))

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Key)
            and self.hash == other.hash
            and self.directed == other.directed
            and self.edges == other.edges
        )


class GraphCache:
    """A thread-safe LRU of `Graph`s built from edge lists.

    Holds at most `max_graphs` graphs and, beyond the most recent one, at most
    `max_edges` input edges in total, so a few huge graphs cannot pin the memory.
    """

    def __init__(self, *, max_graphs: int = 32, max_edges: int = 2_000_000) -> None:
        if max_graphs < 1 or max_edges < 1:
            raise ValueError("a GraphCache holds at least one graph and one edge")
        self.max_graphs = max_graphs
        self.max_edges = max_edges
        self.hits = 0
        self.misses = 0
        self._graphs: OrderedDict[_Key, Graph] = OrderedDict()
        self._edges = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._graphs)

    @property
    def edge_total(self) -> int:
        """Input edges held by the cached graphs' keys."""
        return self._edges

    def get(self, edges: Iterable[EdgeTriple], *, directed: bool = False) -> Graph:
        """The graph of these `(source, target, weight)` edges, built on first use."""
        key = _key(edges, directed)
        with self._lock:
            graph = self._graphs.get(key)
            if graph is not None:
                self._graphs.move_to_end(key)
                self.hits += 1
                return graph
            self.misses += 1
        # Built outside the lock: a big graph must not stall queries on cached ones.
        graph = Graph(edges=key.edges, directed=directed)
        with self._lock:
            raced = self._graphs.get(key)
            if raced is not None:
                return raced
            self._graphs[key] = graph
            self._edges += len(key.edges)
            while len(self._graphs) > self.max_graphs or (
                self._edges > self.max_edges and len(self._graphs) > 1
            ):
                old, _ = self._graphs.popitem(last=False)
                self._edges -= len(old.edges)
        return graph

    def clear(self) -> None:
        with self._lock:
            self._graphs.clear()
            self._edges = 0


def _key(edges: Iterable[EdgeTriple], directed: bool) -> _Key:
    triples = tuple(edges)
    try:
        return _Key(triples, directed)
    except TypeError:  # lists in place of tuples: normalise, then hash
        return _Key(tuple(tuple(e) for e in triples), directed)  # type: ignore[misc]


_DEFAULT = GraphCache()


def default_cache() -> GraphCache:
    """The process-wide cache the graph actors share (for its counters, or to clear it)."""
    return _DEFAULT


def cached_graph(edges: Iterable[EdgeTriple], *, directed: bool = False) -> Graph:
    """The graph of these edges from the process-wide cache the graph actors share."""
    return _DEFAULT.get(edges, directed=directed)


def shortest_path_between(
    edges: Iterable[EdgeTriple], source: str, target: str, *, directed: bool = False
) -> Path | None:
    """The cheapest path from source to target over these edges, or None if there is none.

    Raises `NodeNotFound` for a name that is no edge's end. Callers that query one graph
    many times should keep `cached_graph(edges)` and ask it: that skips hashing the edges.
    """
    return _DEFAULT.get(edges, directed=directed).shortest_path(source, target)
