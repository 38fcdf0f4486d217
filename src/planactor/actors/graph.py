"""The `graph` pack: path algorithms over a graph given in the arguments."""

from __future__ import annotations

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field

from planactor._errors import ActorError
from planactor.catalog import actor


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


@actor(name="graph.shortest_path", effect="read")
def shortest_path(args: ShortestPathInput) -> ShortestPathOutput:
    """Weighted shortest path from source to target (Dijkstra)."""
    graph: nx.Graph = nx.DiGraph() if args.directed else nx.Graph()
    for e in args.edges:
        # Parallel edges: keep the cheapest, as a router would.
        if graph.has_edge(e.source, e.target):
            e_weight = min(graph[e.source][e.target]["weight"], e.weight)
        else:
            e_weight = e.weight
        graph.add_edge(e.source, e.target, weight=e_weight)
    for end in (args.source, args.target):
        if end not in graph:
            raise ActorError(
                f"node {end!r} is not in the graph", hint="check the edge list", retryable=False
            )
    try:
        distance, path = nx.single_source_dijkstra(graph, args.source, args.target)
    except nx.NetworkXNoPath:
        return ShortestPathOutput(reachable=False, path=[], distance=None, hops=None)
    return ShortestPathOutput(
        reachable=True, path=list(path), distance=float(distance), hops=len(path) - 1
    )
