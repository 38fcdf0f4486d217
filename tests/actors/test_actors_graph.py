"""The `graph` pack: graph.shortest_path, checked against networkx on random graphs."""

from __future__ import annotations

import itertools
import json
import math

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from planactor import ActorError, Catalog
from planactor._examples import example_plan_bytes
from planactor.actors.graph import Edge, ShortestPathInput, ShortestPathOutput, shortest_path
from planactor.catalog import ActorContext

CTX = ActorContext.for_step(run_id="run-1", step_id="route")


def _run(
    edges: list[tuple[str, str, float]], source: str, target: str, *, directed: bool = False
) -> ShortestPathOutput:
    return shortest_path(
        ShortestPathInput(
            edges=[Edge(source=s, target=t, weight=w) for s, t, w in edges],
            source=source,
            target=target,
            directed=directed,
        )
    )


def test_weighted_path_on_the_example_fabric() -> None:
    """On the example fabric, the cheapest path goes through spine-2, not the fewest hops."""
    fabric = json.loads(example_plan_bytes())["inputs"]["fabric"]
    out = shortest_path(ShortestPathInput(edges=fabric, source="server-a", target="server-d"))
    assert out.reachable is True
    assert out.path == ["server-a", "leaf-1", "spine-2", "leaf-2", "server-d"]
    assert out.distance == pytest.approx(2.3)
    assert out.hops == 4


def test_weights_beat_hop_count() -> None:
    """A longer path with smaller total weight wins over a direct heavy edge."""
    out = _run([("a", "d", 10), ("a", "b", 1), ("b", "c", 1), ("c", "d", 1)], "a", "d")
    assert out.path == ["a", "b", "c", "d"]
    assert out.distance == 3.0
    assert out.hops == 3


def test_directed_follows_edge_direction() -> None:
    """Directed graphs only travel along edges; undirected ones both ways."""
    ring = [("a", "b", 1.0), ("b", "c", 1.0), ("c", "a", 1.0)]
    undirected = _run(ring, "a", "c")
    directed = _run(ring, "a", "c", directed=True)
    assert (undirected.path, undirected.distance) == (["a", "c"], 1.0)
    assert (directed.path, directed.distance) == (["a", "b", "c"], 2.0)


def test_directed_edge_cannot_be_walked_backwards() -> None:
    """In a directed graph, a target only reachable against an edge is unreachable."""
    out = _run([("a", "b", 1.0)], "b", "a", directed=True)
    assert out.reachable is False
    assert _run([("a", "b", 1.0)], "b", "a").path == ["b", "a"]


@pytest.mark.parametrize("weights", [(5.0, 1.0, 3.0), (1.0, 5.0, 3.0), (3.0, 5.0, 1.0)], ids=str)
def test_parallel_edges_keep_the_cheapest(weights: tuple[float, ...]) -> None:
    """Of several edges between two nodes, the cheapest counts, whatever their order."""
    out = _run([("a", "b", w) for w in weights], "a", "b")
    assert out.distance == 1.0


def test_undirected_parallel_edges_in_opposite_directions_merge() -> None:
    """Undirected, a-b and b-a are the same link: the cheaper one counts."""
    assert _run([("a", "b", 5.0), ("b", "a", 1.0)], "a", "b").distance == 1.0


def test_directed_opposite_edges_stay_distinct() -> None:
    """Directed, a->b and b->a are different links with their own weights."""
    edges = [("a", "b", 5.0), ("b", "a", 1.0)]
    assert _run(edges, "a", "b", directed=True).distance == 5.0
    assert _run(edges, "b", "a", directed=True).distance == 1.0


def test_unreachable_target() -> None:
    """A target in another component gives reachable=False, an empty path, no distance."""
    out = _run([("a", "b", 1.0), ("c", "d", 1.0)], "a", "d")
    assert out == ShortestPathOutput(reachable=False, path=[], distance=None, hops=None)


def test_source_equals_target() -> None:
    """From a node to itself the path is that node, at distance 0."""
    out = _run([("a", "b", 2.0)], "a", "a")
    assert (out.reachable, out.path, out.distance, out.hops) == (True, ["a"], 0.0, 0)


@pytest.mark.parametrize(("source", "target", "missing"), [("x", "b", "x"), ("a", "y", "y")])
def test_missing_node_is_a_final_actor_error(source: str, target: str, missing: str) -> None:
    """A source or target not in the graph raises a non-retryable ActorError naming it."""
    with pytest.raises(ActorError) as exc:
        _run([("a", "b", 1.0)], source, target)
    assert exc.value.retryable is False
    assert repr(missing) in str(exc.value)
    assert exc.value.hint


@pytest.mark.parametrize(
    "args",
    [
        {"edges": [], "source": "a", "target": "b"},
        {"edges": [{"source": "a", "target": "b", "weight": -1}], "source": "a", "target": "b"},
        {"edges": [{"source": "", "target": "b"}], "source": "a", "target": "b"},
        {"edges": [{"source": "a", "target": "b"}], "source": "a", "target": "b", "x": 1},
    ],
    ids=["no-edges", "negative-weight", "empty-name", "unknown-field"],
)
def test_bad_input_is_refused(args: dict[str, object]) -> None:
    """Empty graphs, negative weights, empty names and unknown fields are refused."""
    with pytest.raises(ValidationError):
        Catalog.discover().get("graph.shortest_path").call(args, CTX)


def test_default_weight_is_one() -> None:
    """Edges without a weight cost 1, so the distance counts hops."""
    out = (
        Catalog.discover()
        .get("graph.shortest_path")
        .call(
            {
                "edges": [{"source": "a", "target": "b"}, {"source": "b", "target": "c"}],
                "source": "a",
                "target": "c",
            },
            CTX,
        )
    )
    assert out.model_dump() == {
        "reachable": True,
        "path": ["a", "b", "c"],
        "distance": 2.0,
        "hops": 2,
    }


NODES = st.sampled_from(["a", "b", "c", "d", "e", "f", "g"])
WEIGHTS = st.one_of(
    st.integers(min_value=0, max_value=20).map(float),
    st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False),
)
EDGES = st.lists(st.tuples(NODES, NODES, WEIGHTS), min_size=1, max_size=20)


@given(edges=EDGES, data=st.data(), directed=st.booleans())
def test_matches_networkx_on_random_graphs(
    edges: list[tuple[str, str, float]], data: st.DataObject, directed: bool
) -> None:
    """Distance equals networkx's Dijkstra length; the path is real and its weights sum to it."""
    nodes = sorted({n for s, t, _ in edges for n in (s, t)})
    source = data.draw(st.sampled_from(nodes), label="source")
    target = data.draw(st.sampled_from(nodes), label="target")
    out = _run(edges, source, target, directed=directed)

    # The reference keeps every parallel edge; networkx's Dijkstra uses the cheapest.
    reference: nx.MultiGraph = nx.MultiDiGraph() if directed else nx.MultiGraph()
    reference.add_weighted_edges_from(edges)
    try:
        expected = nx.dijkstra_path_length(reference, source, target)
    except nx.NetworkXNoPath:
        assert out == ShortestPathOutput(reachable=False, path=[], distance=None, hops=None)
        return

    assert out.reachable is True
    assert out.distance is not None
    assert math.isclose(out.distance, expected, rel_tol=1e-9, abs_tol=1e-9)
    assert out.path[0] == source
    assert out.path[-1] == target
    assert out.hops == len(out.path) - 1
    total = 0.0
    for u, v in itertools.pairwise(out.path):
        assert reference.has_edge(u, v), f"{u}->{v} is not an edge"
        total += min(d["weight"] for d in reference.get_edge_data(u, v).values())
    assert math.isclose(total, out.distance, rel_tol=1e-9, abs_tol=1e-9)
