"""planactor.bench._sp_graphs: the original experiment's seeded graphs, call for call."""

from __future__ import annotations

import pytest

from planactor.actors.graph import Graph
from planactor.bench._sp_graphs import avg_degree, make_sp_graph


@pytest.mark.parametrize(("nodes", "edges"), [(5, 5), (20, 30), (50, 75), (100, 150)])
def test_seed_42_has_the_original_edge_counts(nodes: int, edges: int) -> None:
    """Seed 42 gives the original's edge counts: 5, 30, 75 and 150."""
    assert len(make_sp_graph(nodes, 42).edges) == edges


def test_seed_42_at_100_nodes_has_the_original_optimum() -> None:
    """The original's 100-node graph: N0 -> N99 costs 75 at best."""
    assert make_sp_graph(100, 42).optimum == 75


def test_seed_42_optima_of_the_smaller_graphs() -> None:
    """The smaller seed-42 graphs' optima, as this generator draws them (pinned)."""
    assert [make_sp_graph(n, 42).optimum for n in (5, 20, 50)] == [7, 51, 38]


def test_text_form_is_one_sorted_line_per_edge() -> None:
    """The prompt's edge list: `N0 -- N4  (weight 7)`, one line per edge, sorted."""
    assert make_sp_graph(5, 42).text().splitlines() == [
        "N0 -- N4  (weight 7)",
        "N2 -- N4  (weight 18)",
        "N3 -- N0  (weight 19)",
        "N3 -- N1  (weight 8)",
        "N3 -- N2  (weight 4)",
    ]


@pytest.mark.parametrize("seed", range(40, 60))
def test_graphs_are_simple_connected_and_weighted_1_to_20(seed: int) -> None:
    """No loops or repeated pairs, weights 1-20, every node reachable, the query N0 -> N49."""
    g = make_sp_graph(50, seed)
    pairs = {frozenset((u, v)) for u, v, _ in g.edges}
    assert len(pairs) == len(g.edges)
    assert all(len(p) == 2 for p in pairs)
    assert all(1 <= w <= 20 for _, _, w in g.edges)
    assert (g.source, g.target) == ("N0", "N49")
    graph = Graph(edges=[(u, v, float(w)) for u, v, w in g.edges])
    assert graph.reachable_from("N0") == frozenset(f"N{i}" for i in range(50))


def test_same_seed_same_graph_other_seed_other_graph() -> None:
    """A seed fixes the graph; the next seed draws another."""
    assert make_sp_graph(20, 7) == make_sp_graph(20, 7)
    assert make_sp_graph(20, 7).edges != make_sp_graph(20, 8).edges


def test_average_degree_is_2_at_5_nodes_else_3() -> None:
    """The original's mean degree: 2 for the 5-node graph, 3 above."""
    assert [avg_degree(n) for n in (5, 6, 100)] == [2.0, 3.0, 3.0]


def test_path_weight_walks_real_edges_only() -> None:
    """A path's weight sums its hops in either direction; a missing hop gives None."""
    g = make_sp_graph(5, 42)
    assert g.path_weight(["N0", "N4"]) == 7
    assert g.path_weight(["N4", "N2", "N3"]) == 22
    assert g.path_weight(["N0", "N1"]) is None
    assert g.path_weight(["N0", "N0"]) is None


def test_too_small_a_graph_is_refused() -> None:
    """One node has no query to ask."""
    with pytest.raises(ValueError, match="at least 2 nodes"):
        make_sp_graph(1, 42)
