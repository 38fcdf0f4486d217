"""GraphCache: repeated queries on one edge list reuse one conversion, within a bound."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planactor.actors.graph import (
    Graph,
    GraphCache,
    Path,
    cached_graph,
    shortest_path_between,
)

Triple = tuple[str, str, float]

NODES = st.sampled_from(["a", "b", "c", "d", "e"])
EDGES = st.lists(
    st.tuples(NODES, NODES, st.integers(min_value=0, max_value=3).map(float)),
    min_size=1,
    max_size=8,
)


def _answers(graph: Graph) -> list[object]:
    pairs = [(s, t) for s in graph.nodes for t in graph.nodes]
    return [(graph.shortest_path(s, t), graph.k_shortest_paths(s, t, 2)) for s, t in pairs]


@given(edges=EDGES, directed=st.booleans())
def test_cached_graph_answers_like_a_fresh_one(edges: list[Triple], directed: bool) -> None:
    """A graph from the cache, first or later use, answers exactly as a freshly built one."""
    cache = GraphCache(max_graphs=4)
    first = cache.get(edges, directed=directed)
    again = cache.get(list(edges), directed=directed)
    assert again is first
    assert (cache.misses, cache.hits) == (1, 1)
    assert _answers(again) == _answers(Graph(edges=edges, directed=directed))


@given(
    graphs=st.lists(st.tuples(EDGES, st.booleans()), min_size=1, max_size=30),
    max_graphs=st.integers(min_value=1, max_value=5),
    max_edges=st.integers(min_value=1, max_value=30),
)
def test_cache_never_grows_beyond_its_bounds(
    graphs: list[tuple[list[Triple], bool]], max_graphs: int, max_edges: int
) -> None:
    """At most max_graphs graphs; more than max_edges edges only for the newest one alone."""
    cache = GraphCache(max_graphs=max_graphs, max_edges=max_edges)
    for edges, directed in graphs:
        graph = cache.get(edges, directed=directed)
        assert cache.get(edges, directed=directed) is graph, "the newest graph is kept"
        assert 1 <= len(cache) <= max_graphs
        assert cache.edge_total <= max_edges or len(cache) == 1


def test_least_recently_used_graph_goes_first() -> None:
    """A full cache evicts the graph used longest ago, not the one used last."""
    one, two, three = ([(n, "z", 1.0)] for n in "xyw")
    cache = GraphCache(max_graphs=2)
    kept = cache.get(one)
    cache.get(two)
    assert cache.get(one) is kept  # `one` is now the most recent
    cache.get(three)
    assert cache.get(one) is kept
    assert cache.misses == 3
    cache.get(two)
    assert cache.misses == 4, "`two` was evicted and is rebuilt"


def test_direction_is_part_of_the_key() -> None:
    """The same edges directed and undirected are two graphs with different answers."""
    cache = GraphCache()
    edges = [("a", "b", 1.0)]
    assert cache.get(edges).reaches("b", "a") is True
    assert cache.get(edges, directed=True).reaches("b", "a") is False
    assert len(cache) == 2


def test_equal_content_hits_whatever_the_container() -> None:
    """Edges given as a list of lists, a list or a tuple of tuples share one graph."""
    cache = GraphCache()
    graph = cache.get((("a", "b", 1.0), ("b", "c", 2.0)))
    assert cache.get([["a", "b", 1.0], ["b", "c", 2.0]]) is graph
    assert cache.get(iter([("a", "b", 1.0), ("b", "c", 2.0)])) is graph
    assert cache.get([("a", "b", 1.0), ("b", "c", 2.5)]) is not graph


def test_clear_empties_the_cache() -> None:
    """clear() drops every graph and its edge count."""
    cache = GraphCache()
    cache.get([("a", "b", 1.0)])
    cache.clear()
    assert (len(cache), cache.edge_total) == (0, 0)


def test_bounds_must_be_positive() -> None:
    """A cache that could hold nothing is refused."""
    with pytest.raises(ValueError, match="at least one"):
        GraphCache(max_graphs=0)


def test_concurrent_queries_agree() -> None:
    """Threads sharing a cache get the same answers as a single thread."""
    cache = GraphCache(max_graphs=2)
    graphs = [[(f"n{i}", f"n{i + 1}", 1.0) for i in range(size)] for size in (3, 5, 8)]
    expected = [Graph(edges=g).shortest_path("n0", f"n{len(g)}") for g in graphs]

    def query(i: int) -> Path | None:
        return cache.get(graphs[i % 3]).shortest_path("n0", f"n{len(graphs[i % 3])}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(query, range(300)))
    assert results == [expected[i % 3] for i in range(300)]
    assert len(cache) <= 2


def test_module_functions_share_the_default_cache() -> None:
    """cached_graph and shortest_path_between use one process-wide cache."""
    edges = [("cache-test-a", "cache-test-b", 2.0), ("cache-test-b", "cache-test-c", 3.0)]
    assert cached_graph(edges) is cached_graph(tuple(edges))
    assert shortest_path_between(edges, "cache-test-a", "cache-test-c") == Path(
        nodes=("cache-test-a", "cache-test-b", "cache-test-c"), distance=5.0
    )
    assert shortest_path_between(edges, "cache-test-c", "cache-test-a", directed=True) is None
