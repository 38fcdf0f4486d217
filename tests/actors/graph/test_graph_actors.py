"""The `graph` pack's actors: graph.shortest_path (checked against networkx on random
graphs), graph.k_shortest_paths and graph.reachable."""

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
from planactor.actors.graph import (
    Edge,
    KShortestPathsInput,
    KShortestPathsOutput,
    ReachableInput,
    ReachableOutput,
    ShortestPathInput,
    ShortestPathOutput,
    WeightedPath,
    default_cache,
    k_shortest_paths,
    reachable,
    shortest_path,
)
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


def _edges(edges: list[tuple[str, str, float]]) -> list[Edge]:
    return [Edge(source=s, target=t, weight=w) for s, t, w in edges]


def test_pack_registers_three_read_actors() -> None:
    """The graph pack offers its three actors, all read-only and idempotent."""
    catalog = Catalog.discover()
    names = ("graph.shortest_path", "graph.k_shortest_paths", "graph.reachable")
    for name in names:
        spec = catalog.get(name)
        assert (spec.effect, spec.idempotent, catalog.pack_of(name)) == ("read", True, "graph")


def test_k_shortest_paths_on_the_example_fabric() -> None:
    """On the example fabric, the three cheapest routes come cheapest first."""
    fabric = json.loads(example_plan_bytes())["inputs"]["fabric"]
    out = k_shortest_paths(
        KShortestPathsInput(edges=fabric, source="server-a", target="server-d", k=3)
    )
    assert out.reachable is True
    assert [(p.path[2:4], p.hops) for p in out.paths] == [
        (["spine-2", "leaf-2"], 4),
        (["spine-1", "leaf-2"], 4),
        (["spine-2", "leaf-3"], 4),
    ]
    assert [p.distance for p in out.paths] == pytest.approx([2.3, 2.4, 2.9])


def test_k_shortest_paths_returns_fewer_when_fewer_exist() -> None:
    """Asking for more paths than exist returns every simple path, no repeats."""
    out = k_shortest_paths(
        KShortestPathsInput(
            edges=_edges([("a", "b", 1.0), ("b", "c", 1.0)]), source="a", target="c", k=5
        )
    )
    assert out == KShortestPathsOutput(
        reachable=True, paths=[WeightedPath(path=["a", "b", "c"], distance=2.0, hops=2)]
    )


def test_k_shortest_paths_ties_do_not_depend_on_edge_order() -> None:
    """Equal-cost paths come in the same order (by hops, then names) for any edge order."""
    square = [("s", "x", 1.0), ("x", "t", 1.0), ("s", "b", 1.0), ("b", "t", 1.0)]
    outs = [
        k_shortest_paths(KShortestPathsInput(edges=_edges(e), source="s", target="t"))
        for e in (square, square[::-1])
    ]
    assert outs[0] == outs[1]
    assert [p.path for p in outs[0].paths] == [["s", "b", "t"], ["s", "x", "t"]]


def test_k_shortest_paths_unreachable() -> None:
    """No path at all gives reachable=False and no paths."""
    out = k_shortest_paths(
        KShortestPathsInput(edges=_edges([("a", "b", 1.0)]), source="b", target="a", directed=True)
    )
    assert out == KShortestPathsOutput(reachable=False, paths=[])


@pytest.mark.parametrize("k", [0, 101, 1.5])
def test_k_out_of_range_is_refused(k: float) -> None:
    """k must be a whole number from 1 to 100."""
    args = {"edges": [{"source": "a", "target": "b"}], "source": "a", "target": "b", "k": k}
    with pytest.raises(ValidationError):
        Catalog.discover().get("graph.k_shortest_paths").call(args, CTX)


def test_reachable_lists_nodes_sorted_and_answers_for_a_target() -> None:
    """graph.reachable lists reachable nodes by name, source included, and answers for target."""
    edges = _edges([("c", "a", 1.0), ("a", "b", 1.0), ("x", "y", 1.0)])
    assert reachable(ReachableInput(edges=edges, source="a")) == ReachableOutput(
        nodes=["a", "b", "c"], reachable=None
    )
    assert reachable(ReachableInput(edges=edges, source="a", target="y")).reachable is False
    directed = reachable(ReachableInput(edges=edges, source="a", target="c", directed=True))
    assert directed == ReachableOutput(nodes=["a", "b"], reachable=False)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("graph.k_shortest_paths", {"source": "a", "target": "zz"}),
        ("graph.reachable", {"source": "zz"}),
        ("graph.reachable", {"source": "a", "target": "zz"}),
    ],
)
def test_new_actors_refuse_unknown_nodes(name: str, args: dict[str, str]) -> None:
    """An unknown source or target is a final ActorError naming it, as for shortest_path."""
    full = {"edges": [{"source": "a", "target": "b"}], **args}
    with pytest.raises(ActorError) as exc:
        Catalog.discover().get(name).call(full, CTX)
    assert exc.value.retryable is False
    assert "'zz'" in str(exc.value)
    assert exc.value.hint


def test_repeated_calls_reuse_one_conversion() -> None:
    """Calls on equal edge lists, each parsed from fresh JSON, convert the graph once."""
    spec = Catalog.discover().get("graph.shortest_path")
    cache = default_cache()
    edges = [{"source": f"rep-{i}", "target": f"rep-{i + 1}", "weight": 0.5} for i in range(9)]
    misses, hits = cache.misses, cache.hits
    outs = [
        spec.call({"edges": [dict(e) for e in edges], "source": "rep-0", "target": t}, CTX)
        for t in ("rep-9", "rep-9", "rep-4")
    ]
    assert (cache.misses - misses, cache.hits - hits) == (1, 2)
    assert outs[0] == outs[1]
    assert outs[2].model_dump()["distance"] == 2.0
