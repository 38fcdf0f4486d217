"""planactor.actors.graph.Graph on igraph, held to networkx (the model) on random graphs."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planactor import ActorError, InputError
from planactor.actors.graph import Graph, NodeNotFound, Path

Triple = tuple[str, str, float]

# Few names and small integer weights: many ties, parallel edges, self-loops, zero
# weights and several components. Floats and the odd infinite link for the rest.
NODES = st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h"])
WEIGHTS = st.one_of(
    st.integers(min_value=0, max_value=5).map(float),
    st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False),
)
EDGES = st.lists(st.tuples(NODES, NODES, WEIGHTS), min_size=1, max_size=24)
INF_EDGES = st.lists(st.tuples(NODES, NODES, WEIGHTS | st.just(math.inf)), min_size=1, max_size=24)


def _multi(edges: list[Triple], directed: bool) -> nx.MultiGraph:
    """The model keeps every edge; networkx's Dijkstra uses the cheapest of parallel ones."""
    model: nx.MultiGraph = nx.MultiDiGraph() if directed else nx.MultiGraph()
    model.add_weighted_edges_from(edges)
    return model


def _simple(edges: list[Triple], directed: bool) -> nx.Graph:
    """Parallel edges merged to the cheapest, self-loops left out: what simple paths see."""
    model: nx.Graph = nx.DiGraph() if directed else nx.Graph()
    for s, t, w in edges:
        model.add_nodes_from((s, t))
        if s != t and not (model.has_edge(s, t) and model[s][t]["weight"] <= w):
            model.add_edge(s, t, weight=w)
    return model


def _length(model: nx.Graph, path: list[str] | tuple[str, ...]) -> float:
    """Weights along a path, added from the source on, cheapest of parallel edges."""
    total = 0.0
    for u, v in itertools.pairwise(path):
        data = model.get_edge_data(u, v)
        assert data is not None, f"{u}->{v} is not an edge"
        total += data["weight"] if "weight" in data else min(d["weight"] for d in data.values())
    return total


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _ends(edges: list[Triple], data: st.DataObject) -> tuple[str, str]:
    nodes = sorted({n for s, t, _ in edges for n in (s, t)})
    return (
        data.draw(st.sampled_from(nodes), label="source"),
        data.draw(st.sampled_from(nodes), label="target"),
    )


@given(edges=INF_EDGES, data=st.data(), directed=st.booleans())
def test_shortest_path_matches_networkx(
    edges: list[Triple], data: st.DataObject, directed: bool
) -> None:
    """Distance equals networkx's Dijkstra; the path is real and its weights sum to it."""
    source, target = _ends(edges, data)
    model = _multi(edges, directed)
    found = Graph(edges=edges, directed=directed).shortest_path(source, target)
    try:
        expected = nx.dijkstra_path_length(model, source, target)
    except nx.NetworkXNoPath:
        assert found is None
        return
    assert found is not None
    assert found.distance == expected or _close(found.distance, expected)
    assert (found.nodes[0], found.nodes[-1]) == (source, target)
    assert found.hops == len(found.nodes) - 1
    assert len(set(found.nodes)) == len(found.nodes), "a shortest path never loops"
    assert _length(model, found.nodes) == found.distance


@given(
    edges=EDGES,
    data=st.data(),
    directed=st.booleans(),
    k=st.integers(min_value=1, max_value=6),
)
def test_k_shortest_paths_match_networkx(
    edges: list[Triple], data: st.DataObject, directed: bool, k: int
) -> None:
    """k-shortest paths are real, simple, distinct, sorted, first is the shortest, and
    their distances are networkx's k cheapest simple paths'."""
    source, target = _ends(edges, data)
    model = _simple(edges, directed)
    graph = Graph(edges=edges, directed=directed)
    paths = graph.k_shortest_paths(source, target, k)
    try:
        reference = list(
            itertools.islice(nx.shortest_simple_paths(model, source, target, "weight"), k)
        )
    except nx.NetworkXNoPath:
        assert paths == []
        return

    assert len(paths) == len(reference)
    assert len({p.nodes for p in paths}) == len(paths), "paths are distinct"
    for p in paths:
        assert (p.nodes[0], p.nodes[-1]) == (source, target)
        assert len(set(p.nodes)) == len(p.nodes), f"{p.nodes} is not simple"
        assert _length(model, p.nodes) == p.distance
    keys = [(p.distance, p.hops, p.nodes) for p in paths]
    assert keys == sorted(keys)
    shortest = graph.shortest_path(source, target)
    assert shortest is not None
    assert _close(paths[0].distance, shortest.distance)
    expected = sorted(_length(model, p) for p in reference)
    assert all(_close(a, b) for a, b in zip([p.distance for p in paths], expected, strict=True))


@given(edges=INF_EDGES, data=st.data(), directed=st.booleans())
def test_reachability_matches_networkx(
    edges: list[Triple], data: st.DataObject, directed: bool
) -> None:
    """Reachable sets equal networkx's descendants (plus the source) or connected component."""
    source, target = _ends(edges, data)
    model = _multi(edges, directed)
    graph = Graph(edges=edges, directed=directed)
    if directed:
        expected = nx.descendants(model, source) | {source}
    else:
        expected = nx.node_connected_component(model, source)
    assert graph.reachable_from(source) == expected
    assert graph.reaches(source, target) is (target in expected)
    assert (graph.shortest_path(source, target) is not None) is (target in expected)


@given(edges=EDGES, directed=st.booleans())
def test_equal_edge_lists_give_equal_answers(edges: list[Triple], directed: bool) -> None:
    """Two graphs built from one edge list answer every query identically (determinism)."""
    one, two = Graph(edges=edges, directed=directed), Graph(edges=edges, directed=directed)
    assert one.nodes == two.nodes
    for s, t in itertools.product(one.nodes, repeat=2):
        assert one.shortest_path(s, t) == two.shortest_path(s, t)
        assert one.k_shortest_paths(s, t, 3) == two.k_shortest_paths(s, t, 3)


def test_ties_are_ordered_by_hops_then_names() -> None:
    """Equal distances: fewer hops first, then node names; the edge order does not matter."""
    edges = [("s", "z", 1.0), ("z", "t", 1.0), ("s", "a", 1.0), ("a", "t", 1.0)]
    edges += [("s", "m", 0.5), ("m", "n", 0.5), ("n", "t", 1.0)]
    for order in (edges, edges[::-1]):
        paths = Graph(edges=order).k_shortest_paths("s", "t", 5)
        assert [p.nodes for p in paths] == [
            ("s", "a", "t"),
            ("s", "z", "t"),
            ("s", "m", "n", "t"),
        ]
        assert [p.distance for p in paths] == [2.0, 2.0, 2.0]


def test_nodes_in_first_seen_order_and_edges_merged() -> None:
    """Nodes keep first-seen order; parallel edges merge and self-loops go, nodes stay."""
    graph = Graph(edges=[("b", "a", 3.0), ("a", "b", 1.0), ("c", "c", 1.0), ("a", "d", 2.0)])
    assert graph.nodes == ("b", "a", "c", "d")
    assert (graph.node_count, graph.edge_count) == (4, 2)
    assert "c" in graph
    assert "x" not in graph
    assert graph.shortest_path("c", "c") == Path(nodes=("c",), distance=0.0)
    assert graph.reachable_from("c") == {"c"}
    assert graph.shortest_path("b", "d") == Path(nodes=("b", "a", "d"), distance=3.0)
    directed = Graph(edges=[("b", "a", 3.0), ("a", "b", 1.0)], directed=True)
    assert directed.edge_count == 2
    assert directed.directed is True
    assert "2 edges" in repr(directed)


def test_infinite_link_is_used_only_as_a_last_resort() -> None:
    """An infinite weight is a link of distance inf, as in networkx, never preferred."""
    graph = Graph(edges=[("a", "b", math.inf), ("b", "c", 1.0), ("a", "c", 5.0)])
    assert graph.shortest_path("a", "b") == Path(nodes=("a", "c", "b"), distance=6.0)
    only = Graph(edges=[("a", "b", math.inf)])
    assert only.shortest_path("a", "b") == Path(nodes=("a", "b"), distance=math.inf)
    assert only.k_shortest_paths("a", "b", 2) == [Path(nodes=("a", "b"), distance=math.inf)]


def test_unreachable_target_gives_none_and_no_paths() -> None:
    """A target in another component has no path and no k-shortest paths."""
    graph = Graph(edges=[("a", "b", 1.0), ("c", "d", 1.0), ("b", "c", 1.0)], directed=True)
    assert graph.shortest_path("d", "a") is None
    assert graph.k_shortest_paths("d", "a", 3) == []
    assert graph.reaches("d", "a") is False
    assert graph.reaches("a", "d") is True


QUERIES: dict[str, Callable[[Graph], object]] = {
    "shortest_path": lambda g: g.shortest_path("leaf-1", "spine-2"),
    "k_shortest_paths": lambda g: g.k_shortest_paths("spine-2", "leaf-1", 2),
    "reaches": lambda g: g.reaches("leaf-1", "spine-2"),
    "reachable_from": lambda g: g.reachable_from("spine-2"),
}


@pytest.mark.parametrize("query", QUERIES.values(), ids=QUERIES.keys())
def test_unknown_node_is_a_final_error_with_suggestions(query: Callable[[Graph], object]) -> None:
    """An unknown name raises NodeNotFound: a non-retryable ActorError naming it, with hint."""
    with pytest.raises(NodeNotFound) as exc:
        query(Graph(edges=[("leaf-1", "spine-1", 1.0)]))
    assert isinstance(exc.value, ActorError)
    assert exc.value.retryable is False
    assert "'spine-2'" in str(exc.value)
    assert exc.value.suggestions == ("spine-1",)
    assert exc.value.hint is not None
    assert "spine-1" in exc.value.hint


@pytest.mark.parametrize("weight", [-1.0, math.nan])
def test_negative_or_nan_weight_is_refused(weight: float) -> None:
    """Dijkstra needs weights >= 0: anything else is bad input naming the edge."""
    with pytest.raises(InputError, match=r"edge 1 \('b' -> 'c'\)") as exc:
        Graph(edges=[("a", "b", 1.0), ("b", "c", weight)])
    assert exc.value.hint


def test_k_below_one_is_refused() -> None:
    """Asking for fewer than one path is bad input."""
    with pytest.raises(InputError, match="k must be at least 1"):
        Graph(edges=[("a", "b", 1.0)]).k_shortest_paths("a", "b", 0)


def test_path_between_larger_components_uses_a_search() -> None:
    """Directed, across strong components, reachability follows the edge directions."""
    chain = [(f"n{i}", f"n{i + 1}", 1.0) for i in range(50)]
    graph = Graph(edges=chain, directed=True)
    found = graph.shortest_path("n0", "n50")
    assert found is not None
    assert (found.hops, found.distance) == (50, 50.0)
    assert graph.shortest_path("n50", "n0") is None
    assert len(graph.reachable_from("n25")) == 26


@pytest.mark.parametrize("weight", [0.0, 1.0, 2.5, math.inf])
def test_equal_weights_take_the_fewest_hops(weight: float) -> None:
    """With every weight equal the fewest hops win and the distance adds the weights."""
    edges = [("a", "b", weight), ("b", "c", weight), ("c", "d", weight), ("a", "x", weight)]
    edges += [("x", "d", weight)]
    found = Graph(edges=edges).shortest_path("a", "d")
    assert found is not None
    assert found.nodes == ("a", "x", "d")
    assert found.distance == weight + weight
    paths = Graph(edges=edges).k_shortest_paths("a", "d", 3)
    assert [p.nodes for p in paths] == [("a", "x", "d"), ("a", "b", "c", "d")]
