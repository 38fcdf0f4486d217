"""The network pack's lab actors: apply a designed fabric to the lab's site, change it, check it.

Write actors: `network.apply_fabric` (compensated by `network.remove_fabric`),
`network.remove_fabric` (irreversible), `network.set_link_state` (compensated by itself),
`network.drain_switch` and `network.undrain_switch` (each compensated by the other). Read
actors: `network.lab_topology`, `network.check_reachability`, `network.path_between` (paths
from the graph pack's shortest paths over the working fabric).

Every actor works on the network lab the run was given (`Engine(resources={"lab": Lab(F)})`,
or `planactor run --lab F`). A write sends one operation to the lab with the call's
idempotency key, as the storage actors do: a retried or resumed call returns the recorded
result and applies nothing. Taking a link or a switch down is refused inside that same
atomic operation when it would cut a rack off or leave a leaf that serves servers without a
working uplink (UnexpectedState: the run pauses); `force=True` skips the guard, and the
lab's monitor records the partition it causes.

A compensation undoes only what its own step did: the lab remembers which idempotency key
applied the fabric or last changed each switch and link, and the compensation names that key
(`if_applied_by`, `if_set_by`), so undoing a drain never brings back a switch that someone
had drained before the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from planactor._errors import ActorError, UnexpectedState
from planactor.actors.graph import Graph, cached_graph, shortest_path_between
from planactor.catalog import ActorContext, actor, entity
from planactor.fabric import FabricDocument
from planactor.plan import RetryPolicy

# The lab is imported when an actor runs, not when the catalog loads the pack: loading
# the catalog (every `planactor validate`) must not pay for the simulators.
if TYPE_CHECKING:
    from planactor.lab import network as model

__all__ = [
    "ApplyFabricInput",
    "ApplyFabricOutput",
    "CheckReachabilityInput",
    "LabTopologyOutput",
    "LinkInfo",
    "NetworkChange",
    "PathBetweenInput",
    "RackInfo",
    "ReachabilityOutput",
    "RemoveFabricInput",
    "RemoveFabricOutput",
    "ServerPair",
    "ServerPath",
    "SetLinkStateInput",
    "SetLinkStateOutput",
    "SwitchChangeOutput",
    "SwitchInfo",
    "SwitchInput",
    "TopologyInput",
    "apply_fabric",
    "check_reachability",
    "drain_switch",
    "lab_topology",
    "path_between",
    "remove_fabric",
    "set_link_state",
    "undrain_switch",
]

_TAGS = ("network", "lab")
F = TypeVar("F", bound=Callable[..., Any])
# Unreachable pairs listed in full in a reachability report, at most.
MAX_LISTED = 50


def _pack_actor(**kw: Any) -> Callable[[F], F]:
    return actor(**kw)


# -- talking to the lab ---------------------------------------------------------------------------


def _observe(ctx: ActorContext) -> model.NetworkState:
    """Read the lab's state, taking the lab's latency as a real read would."""
    from planactor.lab import actor_observe
    from planactor.lab.network import state_from_doc

    doc = actor_observe("network", ctx)
    try:
        return state_from_doc(doc.state)
    except ValueError as e:
        raise ActorError(f"the lab's state is malformed: {e}", retryable=False) from None


def _write(op: str, args: dict[str, Any], ctx: ActorContext) -> dict[str, Any]:
    """Send one write to the lab under the call's idempotency key; map refusals to errors."""
    # "failed": a configuration push that applied nothing, worth another try; any other
    # refusal (invalid arguments or design) cannot get better by trying again.
    from planactor.lab import actor_operate

    receipt = actor_operate(
        "network",
        op,
        {**args, "by": ctx.idempotency_key},
        ctx,
        retryable={"failed"},
        violation="partition",
    )
    return {**receipt.result, "idempotency_key": ctx.idempotency_key}


class NetworkChange(BaseModel):
    """What a dry run reports a network write would do (nothing is changed)."""

    operation: str
    already_applied: bool = Field(description="This idempotency key has applied already.")
    outcome: str = Field(description="applied, unchanged, refused or failed")
    changes: list[str] = Field(default_factory=list)
    refused: str | None = Field(default=None, description="Why it would be refused.")
    partitions: list[str] = Field(
        default_factory=list, description="Partitions (cut server pairs) it would cause."
    )


def _check(
    op: str, build: Callable[[Any], dict[str, Any]]
) -> Callable[[BaseModel, ActorContext], NetworkChange]:
    def check(args: BaseModel, ctx: ActorContext) -> NetworkChange:
        from planactor.lab import actor_preview

        seen = actor_preview("network", op, {**build(args), "by": ctx.idempotency_key}, ctx)
        return NetworkChange(
            operation=op,
            already_applied=seen.already_applied,
            outcome=seen.outcome,
            changes=list(seen.changes),
            refused=seen.refused,
            partitions=list(seen.violations),
        )

    check.__name__ = f"check_{op}"
    return check


def _dump(args: BaseModel) -> dict[str, Any]:
    return args.model_dump(mode="json")


# -- write actors ---------------------------------------------------------------------------------


class ApplyFabricInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fabric: FabricDocument = Field(
        description="The fabric to apply, as network.design_fabric returns it "
        '(`{"$ref": "design.output.fabric"}`).'
    )


class ApplyFabricOutput(BaseModel):
    fingerprint: str = Field(description="Content hash of the design (names it in the lab).")
    kind: Literal["leaf-spine", "fat-tree"]
    switches: int
    links: int
    racks: dict[str, str] = Field(description="rack -> the access switch its servers use")
    servers_cabled: int
    applied: bool = Field(description="False when this fabric was applied already.")
    idempotency_key: str = Field(description="This call's key; the compensation names it.")


def _undo_apply(inp: Any, out: Any) -> dict[str, Any]:  # noqa: ARG001
    return {"fingerprint": out.fingerprint, "if_applied_by": out.idempotency_key}


@_pack_actor(
    name="network.apply_fabric",
    effect="write",
    idempotent=True,
    compensate="network.remove_fabric",
    compensate_args=_undo_apply,
    check=_check("apply_fabric", _dump),
    timeout_s=600,
    retry=RetryPolicy(attempts=3, backoff_s=2.0),
    tags=_TAGS,
)
def apply_fabric(args: ApplyFabricInput, ctx: ActorContext) -> ApplyFabricOutput:
    """Apply a designed fabric to the lab's site, cabling each rack to a leaf (undo: remove)."""
    return ApplyFabricOutput.model_validate(_write("apply_fabric", _dump(args), ctx))


class RemoveFabricInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fingerprint: str | None = Field(
        default=None, description="Remove only this fabric (refused if another is applied)."
    )
    if_applied_by: str | None = Field(
        default=None,
        description="Remove it only if it was applied under this idempotency key; otherwise "
        "change nothing (what apply_fabric's compensation passes).",
    )


class RemoveFabricOutput(BaseModel):
    removed: bool = Field(description="False when there was nothing (of ours) to remove.")
    fingerprint: str | None
    switches: int
    links: int
    servers_uncabled: int


@_pack_actor(
    name="network.remove_fabric",
    effect="write",
    idempotent=True,
    irreversible=True,
    check=_check("remove_fabric", _dump),
    timeout_s=600,
    retry=RetryPolicy(attempts=3, backoff_s=2.0),
    tags=_TAGS,
)
def remove_fabric(args: RemoveFabricInput, ctx: ActorContext) -> RemoveFabricOutput:
    """Tear the lab's fabric down and uncable every server (irreversible: an outage)."""
    return RemoveFabricOutput.model_validate(_write("remove_fabric", _dump(args), ctx))


_FORCE = Field(
    default=False,
    description="Skip the guard (a rack cut off, a leaf's last uplink, a partition). Dangerous.",
)
_IF_SET_BY = Field(
    default=None,
    description="Change it only if its state was last set under this idempotency key "
    "(what a compensation passes); otherwise change nothing.",
)


class SetLinkStateInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: str = entity("switch", description="One end of the link.")
    b: str = entity("switch", description="The other end (every parallel link between them).")
    state: Literal["up", "down"]
    force: bool = _FORCE
    if_set_by: str | None = _IF_SET_BY


class SetLinkStateOutput(BaseModel):
    a: str
    b: str
    state: Literal["up", "down"]
    previous: Literal["up", "down"] = Field(description="The state of the links it changed.")
    links: int = Field(description="Links changed (parallel links count one each).")
    changed: bool
    working: bool = Field(description="Some link between them carries traffic now.")
    idempotency_key: str


def _undo_link(inp: Any, out: Any) -> dict[str, Any]:
    return {"a": inp.a, "b": inp.b, "state": out.previous, "if_set_by": out.idempotency_key}


@_pack_actor(
    name="network.set_link_state",
    effect="write",
    idempotent=True,
    compensate="network.set_link_state",
    compensate_args=_undo_link,
    check=_check("set_link", _dump),
    timeout_s=120,
    retry=RetryPolicy(attempts=3, backoff_s=2.0),
    tags=_TAGS,
)
def set_link_state(args: SetLinkStateInput, ctx: ActorContext) -> SetLinkStateOutput:
    """Shut or enable the link(s) between two switches (undo: the previous state)."""
    return SetLinkStateOutput.model_validate(_write("set_link", _dump(args), ctx))


class SwitchInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    switch: str = entity("switch")
    force: bool = _FORCE
    if_set_by: str | None = _IF_SET_BY


class SwitchChangeOutput(BaseModel):
    switch: str
    role: str
    state: Literal["up", "drained"] = Field(description="Its administrative state now.")
    previous: Literal["up", "drained"]
    changed: bool
    working: bool = Field(description="Up and not failed: it carries traffic.")
    idempotency_key: str


def _switch_args(state: str) -> Callable[[Any], dict[str, Any]]:
    def build(args: Any) -> dict[str, Any]:
        return {**_dump(args), "state": state}

    return build


def _undo_switch(inp: Any, out: Any) -> dict[str, Any]:
    return {"switch": inp.switch, "if_set_by": out.idempotency_key}


@_pack_actor(
    name="network.drain_switch",
    effect="write",
    idempotent=True,
    compensate="network.undrain_switch",
    compensate_args=_undo_switch,
    check=_check("set_switch", _switch_args("drained")),
    timeout_s=300,
    retry=RetryPolicy(attempts=3, backoff_s=2.0),
    tags=_TAGS,
)
def drain_switch(args: SwitchInput, ctx: ActorContext) -> SwitchChangeOutput:
    """Take a switch out of service (refused if a rack or a leaf would lose its last path)."""
    return SwitchChangeOutput.model_validate(
        _write("set_switch", _switch_args("drained")(args), ctx)
    )


@_pack_actor(
    name="network.undrain_switch",
    effect="write",
    idempotent=True,
    compensate="network.drain_switch",
    compensate_args=_undo_switch,
    check=_check("set_switch", _switch_args("up")),
    timeout_s=300,
    retry=RetryPolicy(attempts=3, backoff_s=2.0),
    tags=_TAGS,
)
def undrain_switch(args: SwitchInput, ctx: ActorContext) -> SwitchChangeOutput:
    """Put a drained switch back in service (undo: drain it again)."""
    return SwitchChangeOutput.model_validate(_write("set_switch", _switch_args("up")(args), ctx))


# -- read actors --------------------------------------------------------------------------------


class TopologyInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    switch: str | None = entity("switch", default=None, description="Only this switch's links.")


class RackInfo(BaseModel):
    name: str
    servers: list[str]
    switch: str | None = Field(description="The access switch its servers are cabled to.")


class SwitchInfo(BaseModel):
    name: str
    role: str
    state: Literal["up", "drained"]
    failed: bool
    working: bool
    asn: int
    loopback: str
    rack: str | None = Field(description="The rack it serves (access switches).")
    uplinks: int
    working_uplinks: int


class LinkInfo(BaseModel):
    a: str
    a_port: str
    a_address: str
    b: str
    b_port: str
    b_address: str
    speed_gbps: int
    state: Literal["up", "down"]
    failed: bool
    working: bool
    status: str = Field(description="up, down, failed, or why an up link carries nothing.")


class LabTopologyOutput(BaseModel):
    racks: list[RackInfo]
    fabric: bool = Field(description="A fabric is applied.")
    fingerprint: str | None
    kind: str | None
    switches: list[SwitchInfo]
    links: list[LinkInfo]
    reachable: bool = Field(description="Every pair of servers in different racks connects.")


def _known_switch(state: model.NetworkState, name: str) -> None:
    if state.fabric is None or name not in state.fabric.switches:
        known = sorted(state.fabric.switches) if state.fabric else []
        raise ActorError(
            f"no switch named {name!r} in the lab's fabric",
            hint="known: " + ", ".join(known) if known else "no fabric is applied",
            retryable=False,
        )


@_pack_actor(name="network.lab_topology", effect="read", timeout_s=60, tags=_TAGS)
def lab_topology(args: TopologyInput, ctx: ActorContext) -> LabTopologyOutput:
    """List the lab's racks, and the applied fabric's switches and links with their state."""
    from planactor.lab import network as model

    state = _observe(ctx)
    if args.switch is not None:
        _known_switch(state, args.switch)
    fabric = state.fabric
    where = model.rack_switches(fabric) if fabric else {}
    racks = [
        RackInfo(name=r.name, servers=list(r.servers), switch=where.get(r.name))
        for r in state.racks
    ]
    if fabric is None:
        return LabTopologyOutput(
            racks=racks,
            fabric=False,
            fingerprint=None,
            kind=None,
            switches=[],
            links=[],
            reachable=False,
        )
    switch_facts = model.facts(state)["fabric"]["switches"]
    switches = [
        SwitchInfo(
            name=name,
            role=sw.role,
            state=sw.state,
            failed=sw.failed,
            working=sw.working,
            asn=sw.asn,
            loopback=sw.loopback,
            rack=switch_facts[name]["rack"],
            uplinks=switch_facts[name]["uplinks"],
            working_uplinks=switch_facts[name]["working_uplinks"],
        )
        for name, sw in fabric.switches.items()
        if args.switch is None or name == args.switch
    ]
    links = [
        LinkInfo(
            a=ln.a.switch,
            a_port=ln.a.port,
            a_address=ln.a.address,
            b=ln.b.switch,
            b_port=ln.b.port,
            b_address=ln.b.address,
            speed_gbps=ln.speed_gbps,
            state=ln.state,
            failed=ln.failed,
            working=model.link_works(fabric, ln),
            status=model.link_status(fabric, ln),
        )
        for ln in fabric.links
        if args.switch is None or args.switch in (ln.a.switch, ln.b.switch)
    ]
    return LabTopologyOutput(
        racks=racks,
        fabric=True,
        fingerprint=fabric.fingerprint,
        kind=fabric.kind,
        switches=switches,
        links=links,
        reachable=not model.cut_racks(state),
    )


class ServerPair(BaseModel):
    a: str
    b: str


class ServerPath(BaseModel):
    a: str
    b: str
    rack_a: str
    rack_b: str
    reachable: bool
    path: list[str] = Field(description="Servers and switches from a to b; empty if none.")
    hops: int | None = Field(description="Links along the path (server cables included).")


class CheckReachabilityInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    servers: list[str] | None = entity(
        "server",
        default=None,
        description="Check every pair of these servers (two or more); default: every server.",
    )
    expect_reachable: bool = Field(
        default=False,
        description="Fail (UnexpectedState: the run pauses) if some pair cannot connect; "
        "a dry run only reports.",
    )


class ReachabilityOutput(BaseModel):
    ok: bool = Field(description="A fabric is applied and every pair checked connects.")
    fabric: bool = Field(description="A fabric is applied.")
    servers: int = Field(description="Servers checked.")
    pairs: int = Field(description="Pairs checked.")
    unreachable_pairs: int
    unreachable: list[ServerPair] = Field(
        description=f"Pairs that cannot connect (the first {MAX_LISTED})."
    )
    max_hops: int | None = Field(description="The longest shortest path among the pairs.")
    paths: list[ServerPath] = Field(
        description="Every pair's path when servers are named; otherwise one path per pair of "
        "racks (between their first servers), the shapes every other pair repeats."
    )


def _path(graph: Graph, a: str, b: str, racks: dict[str, str]) -> ServerPath:
    nodes: list[str] = []
    if a == b:
        nodes = [a]
    elif a in graph and b in graph:  # a server whose switch does not work has no edge
        found = graph.shortest_path(a, b)
        nodes = list(found.nodes) if found else []
    return _server_path(a, b, nodes, racks)


def _server_path(a: str, b: str, nodes: list[str], racks: dict[str, str]) -> ServerPath:
    return ServerPath(
        a=a,
        b=b,
        rack_a=racks[a],
        rack_b=racks[b],
        reachable=bool(nodes),
        path=nodes,
        hops=len(nodes) - 1 if nodes else None,
    )


def _servers(state: model.NetworkState, names: list[str]) -> list[str]:
    from planactor.lab import network as model

    racks = model.rack_of(state)
    unknown = [s for s in names if s not in racks]
    if unknown:
        raise ActorError(
            f"no server named {', '.join(map(repr, unknown))} in the lab's site",
            hint="known: " + ", ".join(list(racks)[:8]) + (" ..." if len(racks) > 8 else ""),
            retryable=False,
        )
    return list(dict.fromkeys(names))


@_pack_actor(name="network.check_reachability", effect="read", timeout_s=120, tags=_TAGS)
def check_reachability(args: CheckReachabilityInput, ctx: ActorContext) -> ReachabilityOutput:
    """Check that servers reach each other through the working fabric; paths and hop counts."""
    from planactor.lab import network as model

    state = _observe(ctx)
    racks = model.rack_of(state)
    named = args.servers is not None
    servers = _servers(state, args.servers) if args.servers is not None else list(racks)
    if named and len(servers) < 2:
        raise ActorError("check_reachability needs two or more distinct servers", retryable=False)
    graph = cached_graph(model.graph_edges(state))
    pairs = [(a, b) for i, a in enumerate(servers) for b in servers[i + 1 :]]
    checked = [_path(graph, a, b, racks) for a, b in pairs]
    cut = [p for p in checked if not p.reachable]
    if named:
        shown = checked
    else:
        first = {r.name: r.servers[0] for r in state.racks if r.servers}
        reps = set(first.values())
        shown = [p for p in checked if p.a in reps and p.b in reps]
    hops = [p.hops for p in checked if p.hops is not None]
    out = ReachabilityOutput(
        ok=state.fabric is not None and not cut,
        fabric=state.fabric is not None,
        servers=len(servers),
        pairs=len(pairs),
        unreachable_pairs=len(cut),
        unreachable=[ServerPair(a=p.a, b=p.b) for p in cut[:MAX_LISTED]],
        max_hops=max(hops) if hops else None,
        paths=shown,
    )
    if args.expect_reachable and not out.ok and not ctx.dry_run:
        if state.fabric is None:
            raise UnexpectedState(
                "no fabric is applied to the site: no server reaches another",
                hint="apply one (network.apply_fabric, or the network.deploy_fabric routine)",
            )
        listed = ", ".join(f"{p.a}/{p.b}" for p in cut[:4])
        raise UnexpectedState(
            f"{len(cut)} of {len(pairs)} server pairs cannot connect (e.g. {listed})",
            hint="network.lab_topology shows which switches and links do not work",
        )
    return out


class PathBetweenInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: str = entity("server", description="Where the path starts.")
    b: str = entity("server", description="Where it ends.")


@_pack_actor(name="network.path_between", effect="read", timeout_s=60, tags=_TAGS)
def path_between(args: PathBetweenInput, ctx: ActorContext) -> ServerPath:
    """The shortest path between two servers through the working fabric, and its hop count."""
    from planactor.lab import network as model

    state = _observe(ctx)
    _servers(state, [args.a, args.b])
    edges = model.graph_edges(state)
    ends = {n for e in edges for n in e[:2]}
    nodes: list[str] = []
    if args.a == args.b:
        nodes = [args.a]
    elif args.a in ends and args.b in ends:
        found = shortest_path_between(edges, args.a, args.b)
        nodes = list(found.nodes) if found else []
    return _server_path(args.a, args.b, nodes, model.rack_of(state))
