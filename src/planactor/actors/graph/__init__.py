"""The `graph` pack: path algorithms over a graph given in the arguments.

Actors: `graph.shortest_path` (Dijkstra), `graph.k_shortest_paths` (Yen, simple paths)
and `graph.reachable`. They run on igraph, with networkx as the model the tests hold
them to. Each call brings its graph as an edge list; the igraph conversion is cached
(see `GraphCache`), so repeated calls on one graph pay for the query only.

Other packs use the same algorithms from Python:

    graph = cached_graph([("a", "b", 1.0), ("b", "c", 2.0)])
    graph.shortest_path("a", "c")   # Path(nodes=('a', 'b', 'c'), distance=3.0)
"""

from __future__ import annotations

from operator import attrgetter

from pydantic import BaseModel, ConfigDict, Field

from planactor.actors.graph._cache import (
    GraphCache,
    cached_graph,
    default_cache,
    shortest_path_between,
)
from planactor.actors.graph._graph import Graph, NodeNotFound, Path
from planactor.catalog import actor

__all__ = [
    "Edge",
    "Graph",
    "GraphCache",
    "KShortestPathsInput",
    "KShortestPathsOutput",
    "NodeNotFound",
    "Path",
    "ReachableInput",
    "ReachableOutput",
    "ShortestPathInput",
    "ShortestPathOutput",
    "WeightedPath",
    "cached_graph",
    "default_cache",
    "k_shortest_paths",
    "reachable",
    "shortest_path",
    "shortest_path_between",
]

MAX_K = 100


class Edge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    weight: float = Field(default=1.0, ge=0, description="Non-negative, as Dijkstra requires.")


class ShortestPathInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    edges: list[Edge] = Field(min_length=1, description="The graph, as weighted edges.")
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    directed: bool = Field(default=False, description="Edges go one way only.")


class ShortestPathOutput(BaseModel):
    reachable: bool
    path: list[str] = Field(description="Nodes from source to target; empty if unreachable.")
    distance: float | None = Field(description="Sum of weights along the path.")
    hops: int | None = Field(description="Number of edges along the path.")


class KShortestPathsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    edges: list[Edge] = Field(min_length=1, description="The graph, as weighted edges.")
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    k: int = Field(default=3, ge=1, le=MAX_K, description="How many paths, at most.")
    directed: bool = Field(default=False, description="Edges go one way only.")


class WeightedPath(BaseModel):
    path: list[str] = Field(description="Nodes from source to target.")
    distance: float = Field(description="Sum of weights along the path.")
    hops: int = Field(description="Number of edges along the path.")


class KShortestPathsOutput(BaseModel):
    reachable: bool
    paths: list[WeightedPath] = Field(
        description="Up to k simple paths, cheapest first (ties: fewer hops, then names); "
        "empty if unreachable."
    )


class ReachableInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    edges: list[Edge] = Field(min_length=1, description="The graph, as weighted edges.")
    source: str = Field(min_length=1)
    target: str | None = Field(
        default=None, min_length=1, description="If given, also say whether it is reachable."
    )
    directed: bool = Field(default=False, description="Edges go one way only.")


class ReachableOutput(BaseModel):
    nodes: list[str] = Field(description="Every node reachable from source, itself included.")
    reachable: bool | None = Field(description="Whether target is reachable; null without one.")


_TRIPLE = attrgetter("source", "target", "weight")


def _graph_of(edges: list[Edge], directed: bool) -> Graph:
    return cached_graph(map(_TRIPLE, edges), directed=directed)


@actor(name="graph.shortest_path", effect="read")
def shortest_path(args: ShortestPathInput) -> ShortestPathOutput:
    """Weighted shortest path from source to target (Dijkstra)."""
    found = _graph_of(args.edges, args.directed).shortest_path(args.source, args.target)
    if found is None:
        return ShortestPathOutput(reachable=False, path=[], distance=None, hops=None)
    return ShortestPathOutput(
        reachable=True, path=list(found.nodes), distance=found.distance, hops=found.hops
    )


@actor(name="graph.k_shortest_paths", effect="read")
def k_shortest_paths(args: KShortestPathsInput) -> KShortestPathsOutput:
    """Up to k cheapest loop-free paths from source to target (Yen), cheapest first."""
    found = _graph_of(args.edges, args.directed).k_shortest_paths(args.source, args.target, args.k)
    return KShortestPathsOutput(
        reachable=bool(found),
        paths=[WeightedPath(path=list(p.nodes), distance=p.distance, hops=p.hops) for p in found],
    )


@actor(name="graph.reachable", effect="read")
def reachable(args: ReachableInput) -> ReachableOutput:
    """Which nodes a path leads to from source; and whether target is one of them."""
    graph = _graph_of(args.edges, args.directed)
    nodes = sorted(graph.reachable_from(args.source))
    if args.target is None:
        return ReachableOutput(nodes=nodes, reachable=None)
    return ReachableOutput(nodes=nodes, reachable=graph.reaches(args.source, args.target))
