"""The network lab's model: a site's racks of servers and the fabric applied to it. Pure code.

Every operation is a function from a state (and the pending faults) to an `Outcome`, as in
the storage model; `planactor.lab.Lab` adds the file, the lock, the clock and the latency.

The model:

- a *site* is racks of servers (`rack-1` holds `srv-1-01`...). Until a fabric is applied the
  servers reach nothing;
- `apply_fabric` takes a fabric document (what `network.design_fabric` returns), refuses it
  if its validation report has errors or its access switches (leaves, or fat-tree edges)
  cannot host the racks, and cables rack N's servers to the Nth access switch's first ports
  (server K on `EthernetK`), as the design lays them out. Switches, links, ports and
  addresses are kept as designed;
- a switch is `up` or `drained` (administratively out of service) and may have *failed*
  (an injected fault); it *works* when up and not failed. A link is `up` or `down`
  (administratively) and may have failed; it *works* when up, not failed and both its
  switches work. Every link of an access switch is an uplink;
- two servers *reach* each other when their access switches work and are joined by working
  links. Servers hang off one access switch each, with cables that do not fail.

The invariant: once a fabric is applied, every pair of servers in different racks stays
reachable. An operation that breaks it records one `partition` violation naming the rack
pairs and servers it cut off and the cause. Taking something down (`set_link` down,
`set_switch` drained) is refused unless forced when it would cut off a rack, take the last
working uplink of an access switch that serves servers, or otherwise partition the racks.
Faults are not refused: they happen, and the monitor records what they break.

Each write remembers the idempotency key that made it (`applied_by`, `set_by`): a
compensation passes its own step's key (`if_applied_by`, `if_set_by`) and so undoes only
what that step did, never a change someone else made before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast

from planactor.lab import _common
from planactor.lab._common import OpError, fault_doc, fault_kind, one_of, run, take
from planactor.lab._common import Refused as _Refused
from planactor.lab._common import list_names as _list
from planactor.lab._common import natural as _natural
from planactor.lab._common import text_arg as _text
from planactor.lab._kinds import Built, KindOutcome, register_kind
from planactor.plan import content_hash
from planactor.validate import Inventory

__all__ = [
    "ADMIN_OPERATIONS",
    "FAULT_KINDS",
    "INVARIANT",
    "NETWORK_SCENARIOS",
    "WRITE_OPERATIONS",
    "AppliedFabric",
    "Cable",
    "End",
    "Fault",
    "Link",
    "NetworkKind",
    "NetworkScenario",
    "NetworkState",
    "OpError",
    "Outcome",
    "Rack",
    "Switch",
    "Violation",
    "apply",
    "cut_racks",
    "cut_server_pairs",
    "facts",
    "faults_from_doc",
    "faults_to_doc",
    "graph_edges",
    "inventory_entities",
    "link_status",
    "link_works",
    "network_scenario",
    "rack_of",
    "rack_switches",
    "site",
    "state_from_doc",
    "state_to_doc",
    "switch_status",
    "uplinks",
]

SwitchState = Literal["up", "drained"]
LinkState = Literal["up", "down"]
FaultKind = Literal["link-down", "switch-down", "apply-fails"]

FAULT_KINDS: tuple[FaultKind, ...] = ("link-down", "switch-down", "apply-fails")
# Operations the network actors call (each logged with its idempotency key) ...
WRITE_OPERATIONS = ("apply_fabric", "remove_fabric", "set_link", "set_switch")
# ... and what the lab's operator does (not part of the operation log).
ADMIN_OPERATIONS = ("inject_fault", "clear_faults")
INVARIANT = "every pair of servers in different racks stays reachable"
# Switches servers attach to, as in the network pack (`planactor.actors.network`).
_ACCESS_ROLES = frozenset({"leaf", "edge"})
_SWITCH_STATES = ("up", "drained")
_LINK_STATES = ("up", "down")
# A switch's design in a fabric document (the rest is derived, or its state here).
_DESIGN_FIELDS = ("name", "role", "pod", "index", "asn", "loopback", "port_count", "servers")


# -- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Rack:
    name: str
    servers: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Switch:
    """A switch as designed, plus its state. `servers`: server ports the design gives it."""

    name: str
    role: str
    index: int
    pod: int | None = None
    asn: int
    loopback: str
    port_count: int
    servers: int = 0
    state: SwitchState = "up"
    failed: bool = False
    set_by: str | None = None  # the idempotency key that last changed `state`

    @property
    def working(self) -> bool:
        return self.state == "up" and not self.failed


@dataclass(frozen=True, slots=True, kw_only=True)
class End:
    switch: str
    port: str
    address: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """A designed link (`a` the upper-tier end) and its state."""

    a: End
    b: End
    speed_gbps: int
    state: LinkState = "up"
    failed: bool = False
    set_by: str | None = None

    def joins(self, x: str, y: str) -> bool:
        return {self.a.switch, self.b.switch} == {x, y}

    def other(self, switch: str) -> str:
        return self.b.switch if self.a.switch == switch else self.a.switch


@dataclass(frozen=True, slots=True, kw_only=True)
class Cable:
    """A server's cable to its access switch's port."""

    server: str
    rack: str
    switch: str
    port: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AppliedFabric:
    """The fabric applied to the site. `fingerprint`: content hash of the design."""

    fingerprint: str
    kind: str
    spec: Mapping[str, Any]
    switches: Mapping[str, Switch]  # in design order
    links: tuple[Link, ...]
    cabling: tuple[Cable, ...]
    applied_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkState:
    racks: tuple[Rack, ...]
    fabric: AppliedFabric | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """An injected fault. `times`: firings left of a one-shot fault (`apply-fails`)."""

    kind: FaultKind
    a: str | None = None
    b: str | None = None
    switch: str | None = None
    times: int | None = None

    def describe(self) -> str:
        match self.kind:
            case "link-down":
                return f"link {self.a} -- {self.b} has failed"
            case "switch-down":
                return f"{self.switch} has failed"
            case _:
                n = "every" if self.times is None else str(self.times)
                return f"the next {n} fabric apply(s) fail"


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """A broken invariant: server pairs in different racks that stopped reaching each other."""

    rack_pairs: tuple[tuple[str, str], ...]
    servers: tuple[str, ...]
    pairs: int
    cause: str
    kind: Literal["partition"] = "partition"
    invariant: str = INVARIANT

    def to_doc(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "invariant": self.invariant,
            "racks": [list(p) for p in self.rack_pairs],
            "servers": list(self.servers),
            "pairs": self.pairs,
            "cause": self.cause,
        }


# What an operation did. `refused` changes no state (a one-shot fault may have fired).
# At run time the plain class: calling a subscripted alias of a frozen slotted dataclass fails.
if TYPE_CHECKING:
    Outcome: TypeAlias = _common.Outcome[NetworkState, Fault, Violation]
else:
    Outcome = _common.Outcome


# -- queries -----------------------------------------------------------------------------------


def rack_switches(fabric: AppliedFabric) -> dict[str, str]:
    """Each cabled rack's access switch."""
    return {c.rack: c.switch for c in fabric.cabling}


def rack_of(state: NetworkState) -> dict[str, str]:
    """Each server's rack."""
    return {s: r.name for r in state.racks for s in r.servers}


def link_works(fabric: AppliedFabric, link: Link) -> bool:
    """Up, not failed, and both its switches work."""
    return (
        link.state == "up"
        and not link.failed
        and fabric.switches[link.a.switch].working
        and fabric.switches[link.b.switch].working
    )


def uplinks(fabric: AppliedFabric, switch: str) -> list[Link]:
    """The links towards a higher tier: every link of an access switch, `b` ends elsewhere."""
    access = fabric.switches[switch].role in _ACCESS_ROLES
    return [
        link
        for link in fabric.links
        if link.b.switch == switch or (access and link.a.switch == switch)
    ]


def _has_working_uplink(fabric: AppliedFabric, switch: str) -> bool:
    return any(link_works(fabric, link) for link in uplinks(fabric, switch))


def switch_status(sw: Switch) -> str:
    """`up`, `drained`, `failed` or `drained, failed`."""
    if sw.failed:
        return "failed" if sw.state == "up" else f"{sw.state}, failed"
    return sw.state


def link_status(fabric: AppliedFabric, link: Link) -> str:
    """`up`, `down`, `failed`, or `up, but spine-1 is drained` when an end does not work."""
    if link.failed:
        return "failed" if link.state == "up" else "down, failed"
    if link.state == "down":
        return "down"
    idle = [
        f"{end.switch} is {switch_status(fabric.switches[end.switch])}"
        for end in (link.a, link.b)
        if not fabric.switches[end.switch].working
    ]
    return "up" if not idle else "up, but " + " and ".join(idle)


def _components(fabric: AppliedFabric) -> dict[str, str]:
    """Working switches mapped to a representative of their connected component."""
    parent = {name: name for name, sw in fabric.switches.items() if sw.working}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for link in fabric.links:
        if link.state == "up" and not link.failed:
            a, b = link.a.switch, link.b.switch
            if a in parent and b in parent:
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[ra] = rb
    return {name: find(name) for name in parent}


def cut_racks(state: NetworkState) -> frozenset[tuple[str, str]]:
    """Pairs of racks (with servers) whose servers cannot reach each other; none without a
    fabric, where the invariant is not in force."""
    fabric = state.fabric
    if fabric is None:
        return frozenset()
    comp = _components(fabric)
    where = rack_switches(fabric)
    racks = [r.name for r in state.racks if r.servers]
    roots = {r: comp.get(where.get(r, "")) for r in racks}
    return frozenset(
        (x, y)
        for i, x in enumerate(racks)
        for y in racks[i + 1 :]
        if roots[x] is None or roots[x] != roots[y]
    )


def cut_server_pairs(state: NetworkState) -> frozenset[tuple[str, str]]:
    """Every pair of servers in different racks that cannot reach each other."""
    servers = {r.name: r.servers for r in state.racks}
    return frozenset((s, t) for x, y in cut_racks(state) for s in servers[x] for t in servers[y])


def graph_edges(state: NetworkState) -> list[tuple[str, str, float]]:
    """The working network as `(node, node, 1.0)` edges, servers and switches alike: each
    server to its working access switch, then every working link, in design order."""
    fabric = state.fabric
    if fabric is None:
        return []
    edges = [(c.server, c.switch, 1.0) for c in fabric.cabling if fabric.switches[c.switch].working]
    edges += [(ln.a.switch, ln.b.switch, 1.0) for ln in fabric.links if link_works(fabric, ln)]
    return edges


def site(state: NetworkState) -> dict[str, Any]:
    """The site as routines read it (`facts()["site"]`)."""
    return {
        "racks": len(state.racks),
        "servers_per_rack": max((len(r.servers) for r in state.racks), default=0),
        "rack_names": [r.name for r in state.racks],
        "servers": [s for r in state.racks for s in r.servers],
        "rack_servers": {r.name: list(r.servers) for r in state.racks},
    }


def facts(state: NetworkState) -> dict[str, Any]:
    """`{"site": {"racks": N, "servers_per_rack": M, "rack_names", "servers",
    "rack_servers"}, "fabric": null | {"fingerprint", "kind", "roles": {role: [switches]},
    "switches": {name: {"role", "state", "failed", "working", "rack", "uplinks",
    "working_uplinks"}}, "racks": {rack: switch}, "links", "working_links", "reachable"}}`."""
    fabric = state.fabric
    if fabric is None:
        return {"site": site(state), "fabric": None}
    served = {sw: rack for rack, sw in rack_switches(fabric).items()}
    roles: dict[str, list[str]] = {}
    switches: dict[str, Any] = {}
    for name, sw in fabric.switches.items():
        roles.setdefault(sw.role, []).append(name)
        ups = uplinks(fabric, name)
        switches[name] = {
            "role": sw.role,
            "state": sw.state,
            "failed": sw.failed,
            "working": sw.working,
            "rack": served.get(name),
            "uplinks": len(ups),
            "working_uplinks": sum(1 for ln in ups if link_works(fabric, ln)),
        }
    return {
        "site": site(state),
        "fabric": {
            "fingerprint": fabric.fingerprint,
            "kind": fabric.kind,
            "roles": roles,
            "switches": switches,
            "racks": rack_switches(fabric),
            "links": len(fabric.links),
            "working_links": sum(1 for ln in fabric.links if link_works(fabric, ln)),
            "reachable": not cut_racks(state),
        },
    }


def inventory_entities(state: NetworkState) -> dict[str, list[str]]:
    """Entity names by kind: `rack`, `server`, and `switch` once a fabric is applied (before
    that, switch names are not checked: a plan may name the switches it deploys)."""
    out = {
        "rack": [r.name for r in state.racks],
        "server": [s for r in state.racks for s in r.servers],
    }
    if state.fabric is not None:
        out["switch"] = list(state.fabric.switches)
    return out


# -- the invariant monitor and the guard -------------------------------------------------------


def _why(state: NetworkState, pairs: Iterable[tuple[str, str]]) -> str:
    """What keeps these racks apart, switch by switch."""
    fabric = state.fabric
    assert fabric is not None
    where = rack_switches(fabric)
    reasons: list[str] = []
    racks = sorted({r for p in pairs for r in p}, key=_natural)
    for rack in racks:
        sw = where.get(rack)
        if sw is None:
            reasons.append(f"{rack} is not cabled")
        elif not fabric.switches[sw].working:
            reasons.append(f"{sw} ({rack}) is {switch_status(fabric.switches[sw])}")
        elif not _has_working_uplink(fabric, sw):
            reasons.append(f"{sw} ({rack}) has no working uplink")
    return "; ".join(reasons) or "no working path joins their switches"


def _violation(after: NetworkState, pairs: frozenset[tuple[str, str]], action: str) -> Violation:
    servers = {r.name: r.servers for r in after.racks}
    ordered = sorted(pairs, key=lambda p: (_natural(p[0]), _natural(p[1])))
    racks = sorted({r for p in pairs for r in p}, key=_natural)
    count = sum(len(servers[x]) * len(servers[y]) for x, y in pairs)
    shown = _list([f"{x}/{y}" for x, y in ordered])
    return Violation(
        rack_pairs=tuple(ordered),
        servers=tuple(s for r in racks for s in servers[r]),
        pairs=count,
        cause=f"{action}: {count} cross-rack server pair(s) cut apart ({shown}); "
        f"{_why(after, pairs)}",
    )


def _monitor(before: NetworkState, after: NetworkState, action: str) -> tuple[Violation, ...]:
    """One partition violation if some racks that reached each other before no longer do."""
    new = cut_racks(after) - cut_racks(before)
    return (_violation(after, new, action),) if new else ()


def _guard(before: NetworkState, after: NetworkState, action: str) -> None:
    """Refuse to cut off a rack, to take the last working uplink of a switch that serves
    servers, or to partition the racks in any other way (what was broken before is not
    this operation's doing)."""
    fb, fa = before.fabric, after.fabric
    assert fb is not None
    assert fa is not None
    counts = {r.name: len(r.servers) for r in before.racks}
    force = "or pass force=true to do it anyway (the lab records the partition)"
    served = sorted(
        ((rack, sw) for rack, sw in rack_switches(fb).items() if counts.get(rack)),
        key=lambda kv: _natural(kv[0]),
    )
    cut_off = [
        f"{rack} ({counts[rack]} servers, on {sw})"
        for rack, sw in served
        if fb.switches[sw].working and not fa.switches[sw].working
    ]
    if cut_off:
        raise _Refused(
            "precondition",
            f"{action} would cut off {_list(cut_off)}: a rack hangs off one switch",
            f"take the rack's servers out of service first, {force}",
        )
    stranded = [
        f"{sw} ({rack})"
        for rack, sw in served
        if _has_working_uplink(fb, sw) and not _has_working_uplink(fa, sw)
    ]
    restore = "bring another path back first (network.undrain_switch, network.set_link_state)"
    if stranded:
        raise _Refused(
            "precondition",
            f"{action} would take down the last working uplink of {_list(stranded)}",
            f"{restore}, {force}",
        )
    new = cut_racks(after) - cut_racks(before)
    if new:
        pairs = sorted(new, key=lambda p: (_natural(p[0]), _natural(p[1])))
        raise _Refused(
            "precondition",
            f"{action} would partition the fabric: {_list([f'{x}/{y}' for x, y in pairs])} "
            f"would lose reachability ({_why(after, new)})",
            f"{restore}, {force}",
        )


# -- the operations ----------------------------------------------------------------------------


Operation = Callable[[NetworkState, tuple[Fault, ...], Mapping[str, Any]], Outcome]


def apply(
    state: NetworkState, faults: Iterable[Fault], op: str, args: Mapping[str, Any]
) -> Outcome:
    """Run operation `op` on `state`; never raises for bad arguments (an `invalid` error)."""
    known = ", ".join(WRITE_OPERATIONS + ADMIN_OPERATIONS)
    return run(_OPERATIONS, state, faults, op, args, lab="network", known=known)


def _optional_text(args: Mapping[str, Any], name: str) -> str | None:
    value = args.get(name)
    if value is not None and not isinstance(value, str):
        raise _Refused("invalid", f"argument {name!r} must be a string or null, not {value!r}")
    return value


def _fabric(state: NetworkState, doing: str) -> AppliedFabric:
    if state.fabric is None:
        raise _Refused(
            "precondition",
            f"cannot {doing}: no fabric is applied to the site",
            "apply one first (network.apply_fabric, or the network.deploy_fabric routine)",
        )
    return state.fabric


def _switch(fabric: AppliedFabric, name: str) -> Switch:
    sw = fabric.switches.get(name)
    if sw is None:
        names = sorted(fabric.switches, key=_natural)
        raise _Refused(
            "invalid", f"no switch named {name!r} in the fabric", "known: " + _list(names, 8)
        )
    return sw


def _links_between(fabric: AppliedFabric, a: str, b: str) -> list[int]:
    _switch(fabric, a)
    _switch(fabric, b)
    found = [i for i, ln in enumerate(fabric.links) if ln.joins(a, b)]
    if not found:
        peers = sorted({ln.other(a) for ln in fabric.links if a in (ln.a.switch, ln.b.switch)})
        raise _Refused(
            "invalid",
            f"no link between {a} and {b}",
            f"{a} links to {_list(peers, 8)}" if peers else f"{a} has no links",
        )
    return found


def _with_switch(state: NetworkState, fabric: AppliedFabric, sw: Switch) -> NetworkState:
    return replace(state, fabric=replace(fabric, switches={**fabric.switches, sw.name: sw}))


def _with_links(
    state: NetworkState, fabric: AppliedFabric, changed: Mapping[int, Link]
) -> NetworkState:
    links = tuple(changed.get(i, ln) for i, ln in enumerate(fabric.links))
    return replace(state, fabric=replace(fabric, links=links))


def _parse_fabric(doc: Any) -> tuple[dict[str, Any], list[str]]:
    """A fabric document's design (its source-of-truth fields, as JSON) and its validation
    errors (`code at where: message`). Refuses a document that is not shaped like one."""
    # Imported here: the network pack imports this module (a cycle at import time).
    from pydantic import ValidationError

    from planactor.actors.network._document import FabricDocument, check_document

    if not isinstance(doc, Mapping):
        raise _Refused("invalid", f"argument 'fabric' must be a fabric document, not {doc!r}")
    try:
        parsed = FabricDocument.model_validate(dict(doc))
    except ValidationError as e:
        shown = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()[:3]
        )
        raise _Refused(
            "invalid",
            f"argument 'fabric' is not a fabric document ({e.error_count()} error(s): {shown})",
            "pass what network.design_fabric returns as `fabric`",
        ) from None
    errors = [
        f"{f.code} at {f.where}: {f.message}"
        for f in check_document(parsed).findings
        if f.severity == "error"
    ]
    full = parsed.model_dump(mode="json")
    design = {
        "spec": full["spec"],
        "switches": [{k: sw[k] for k in _DESIGN_FIELDS} for sw in full["switches"]],
        "links": [
            {"a": ln["a"], "b": ln["b"], "speed_gbps": ln["speed_gbps"]} for ln in full["links"]
        ],
    }
    return design, errors


def _build_fabric(
    state: NetworkState, design: Mapping[str, Any], fingerprint: str, by: str | None
) -> AppliedFabric:
    switches = {
        sw["name"]: Switch(
            name=sw["name"],
            role=sw["role"],
            index=sw["index"],
            pod=sw["pod"],
            asn=sw["asn"],
            loopback=sw["loopback"],
            port_count=sw["port_count"],
            servers=sw["servers"],
        )
        for sw in design["switches"]
    }
    links = tuple(
        Link(a=End(**ln["a"]), b=End(**ln["b"]), speed_gbps=ln["speed_gbps"])
        for ln in design["links"]
    )
    access = [sw for sw in switches.values() if sw.role in _ACCESS_ROLES]
    if len(access) < len(state.racks):
        raise _Refused(
            "invalid",
            f"the fabric has {len(access)} access switch(es) for the site's "
            f"{len(state.racks)} racks (one per rack)",
            f"design at least {len(state.racks)} leaves",
        )
    cabling = []
    for rack, sw in zip(state.racks, access, strict=False):
        if sw.servers < len(rack.servers):
            raise _Refused(
                "invalid",
                f"{sw.name} has {sw.servers} server port(s); {rack.name} has "
                f"{len(rack.servers)} servers",
                f"design at least {len(rack.servers)} servers per leaf",
            )
        cabling += [
            Cable(server=s, rack=rack.name, switch=sw.name, port=f"Ethernet{k}")
            for k, s in enumerate(rack.servers, start=1)
        ]
    return AppliedFabric(
        fingerprint=fingerprint,
        kind=str(design["spec"]["kind"]),
        spec=design["spec"],
        switches=switches,
        links=links,
        cabling=tuple(cabling),
        applied_by=by,
    )


def _fabric_result(fabric: AppliedFabric, *, applied: bool) -> dict[str, Any]:
    return {
        "fingerprint": fabric.fingerprint,
        "kind": fabric.kind,
        "switches": len(fabric.switches),
        "links": len(fabric.links),
        "racks": rack_switches(fabric),
        "servers_cabled": len(fabric.cabling),
        "applied": applied,
    }


def _op_apply_fabric(
    state: NetworkState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    design, errors = _parse_fabric(args.get("fabric"))
    if errors:
        raise _Refused(
            "invalid",
            f"the fabric has {len(errors)} validation error(s): {_list(errors, 3)}",
            "fix the design; network.validate_fabric lists every finding",
        )
    fingerprint = content_hash(design)
    if state.fabric is not None:
        if state.fabric.fingerprint == fingerprint:
            return Outcome(
                state=state,
                faults=faults,
                status="unchanged",
                result=_fabric_result(state.fabric, applied=False),
            )
        raise _Refused(
            "precondition",
            f"another fabric ({state.fabric.fingerprint[:19]}) is applied to the site",
            "remove it first (network.remove_fabric)",
        )
    fabric = _build_fabric(state, design, fingerprint, _optional_text(args, "by"))
    fired, rest = take(faults, lambda f: f.kind == "apply-fails")
    if fired is not None:
        return Outcome(
            state=state,
            faults=rest,
            status="failed",
            result=_fabric_result(fabric, applied=False),
            changes=("pushing the fabric failed; nothing was applied",),
            error=OpError(
                kind="failed",
                message="applying the fabric failed: the switches rejected the configuration "
                "push (injected fault); nothing was applied",
                hint="retry: the push is all or nothing (`planactor lab clear-faults` lifts "
                "the fault)",
            ),
        )
    after = replace(state, fabric=fabric)
    where = rack_switches(fabric)
    changes = [
        f"fabric {fingerprint[:19]} ({fabric.kind}) applied: {len(fabric.switches)} switches, "
        f"{len(fabric.links)} links"
    ]
    changes += [
        f"{r.name}: {len(r.servers)} servers cabled to {where[r.name]} "
        f"Ethernet1-Ethernet{len(r.servers)}"
        for r in state.racks
        if r.servers
    ]
    return Outcome(
        state=after,
        faults=faults,
        status="applied",
        result=_fabric_result(fabric, applied=True),
        changes=tuple(changes),
        violations=_monitor(state, after, f"applying fabric {fingerprint[:19]}"),
    )


def _op_remove_fabric(
    state: NetworkState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    """Tear the fabric down, uncabling every server (the invariant stops being in force)."""
    fingerprint = _optional_text(args, "fingerprint")
    if_applied_by = _optional_text(args, "if_applied_by")
    fabric = state.fabric
    if fabric is None:
        return Outcome(
            state=state, faults=faults, status="unchanged", result=_removed(None, removed=False)
        )
    if fingerprint is not None and fingerprint != fabric.fingerprint:
        raise _Refused(
            "precondition",
            f"the fabric applied is {fabric.fingerprint[:19]}, not {fingerprint[:19]}",
            "network.lab_topology shows the fabric applied and its fingerprint",
        )
    if if_applied_by is not None and fabric.applied_by != if_applied_by:
        # A compensation: the fabric is not the one its step applied; leave it.
        return Outcome(
            state=state, faults=faults, status="unchanged", result=_removed(fabric, removed=False)
        )
    kept = tuple(f for f in faults if f.kind == "apply-fails")
    return Outcome(
        state=replace(state, fabric=None),
        faults=kept,
        status="applied",
        result=_removed(fabric, removed=True),
        changes=(
            f"fabric {fabric.fingerprint[:19]} removed: {len(fabric.switches)} switches, "
            f"{len(fabric.links)} links; {len(fabric.cabling)} servers uncabled",
        ),
    )


def _removed(fabric: AppliedFabric | None, *, removed: bool) -> dict[str, Any]:
    return {
        "removed": removed,
        "fingerprint": fabric.fingerprint if fabric else None,
        "switches": len(fabric.switches) if fabric and removed else 0,
        "links": len(fabric.links) if fabric and removed else 0,
        "servers_uncabled": len(fabric.cabling) if fabric and removed else 0,
    }


def _op_set_link(
    state: NetworkState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    a, b = _text(args, "a"), _text(args, "b")
    new = _text(args, "state")
    if new not in _LINK_STATES:
        raise _Refused("invalid", f"a link's state is up or down, not {new!r}")
    fabric = _fabric(state, f"set link {a} -- {b} {new}")
    found = _links_between(fabric, a, b)
    if_set_by = _optional_text(args, "if_set_by")
    targets = [i for i in found if fabric.links[i].state != new]
    if if_set_by is not None:
        targets = [i for i in targets if fabric.links[i].set_by == if_set_by]
    result: dict[str, Any] = {"a": a, "b": b, "state": new, "previous": new, "links": 0}
    if not targets:
        works = any(link_works(fabric, fabric.links[i]) for i in found)
        return Outcome(
            state=state,
            faults=faults,
            status="unchanged",
            result={**result, "changed": False, "working": works},
        )
    by = _optional_text(args, "by")
    after = _with_links(
        state,
        fabric,
        {i: replace(fabric.links[i], state=cast(LinkState, new), set_by=by) for i in targets},
    )
    action = f"taking link {a} -- {b} down"
    forced = bool(args.get("force"))
    if new == "down" and not forced:
        _guard(state, after, action)
    assert after.fabric is not None
    works = any(link_works(after.fabric, after.fabric.links[i]) for i in found)
    old = "down" if new == "up" else "up"
    return Outcome(
        state=after,
        faults=faults,
        status="applied",
        result={
            **result,
            "previous": old,
            "links": len(targets),
            "changed": True,
            "working": works,
        },
        changes=tuple(
            f"link {fabric.links[i].a.switch}:{fabric.links[i].a.port} -- "
            f"{fabric.links[i].b.switch}:{fabric.links[i].b.port}: {old} -> {new}"
            + ("" if new == "down" or works else " (it still does not work)")
            for i in targets
        ),
        violations=_monitor(state, after, action + (" (forced)" if forced else "")),
    )


def _op_set_switch(
    state: NetworkState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    name = _text(args, "switch")
    new = _text(args, "state")
    if new not in _SWITCH_STATES:
        raise _Refused("invalid", f"a switch's state is up or drained, not {new!r}")
    fabric = _fabric(state, f"set {name} {new}")
    sw = _switch(fabric, name)
    if_set_by = _optional_text(args, "if_set_by")
    result: dict[str, Any] = {"switch": name, "role": sw.role, "state": new, "previous": new}
    if sw.state == new or (if_set_by is not None and sw.set_by != if_set_by):
        return Outcome(
            state=state,
            faults=faults,
            status="unchanged",
            result={**result, "state": sw.state, "changed": False, "working": sw.working},
        )
    changed = replace(sw, state=cast(SwitchState, new), set_by=_optional_text(args, "by"))
    after = _with_switch(state, fabric, changed)
    action = f"draining {name}"
    forced = bool(args.get("force"))
    if new == "drained" and not forced:
        _guard(state, after, action)
    verb = "drained" if new == "drained" else "back in service"
    note = " (it has failed: still not working)" if new == "up" and sw.failed else ""
    return Outcome(
        state=after,
        faults=faults,
        status="applied",
        result={**result, "previous": sw.state, "changed": True, "working": changed.working},
        changes=(f"{name} ({sw.role}): {sw.state} -> {new}, {verb}{note}",),
        violations=_monitor(state, after, action + (" (forced)" if forced else "")),
    )


def _op_inject_fault(
    state: NetworkState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    try:
        fault = faults_from_doc([dict(args)])[0]
    except ValueError as e:
        raise _Refused("invalid", str(e)) from None
    after = state
    if fault.kind == "link-down":
        a, b = fault.a or "", fault.b or ""
        fabric = _fabric(state, f"fail link {a} -- {b}")
        found = _links_between(fabric, a, b)
        after = _with_links(
            state, fabric, {i: replace(fabric.links[i], failed=True) for i in found}
        )
    elif fault.kind == "switch-down":
        name = fault.switch or ""
        fabric = _fabric(state, f"fail {name}")
        after = _with_switch(state, fabric, replace(_switch(fabric, name), failed=True))
    kept = tuple(f for f in faults if not (f.kind != "apply-fails" and _same(f, fault)))
    return Outcome(
        state=after,
        faults=(*kept, fault),
        status="applied",
        result={"fault": faults_to_doc([fault])[0]},
        changes=(f"fault: {fault.describe()}",),
        violations=_monitor(state, after, f"{fault.describe()} (injected fault)"),
    )


def _same(f: Fault, g: Fault) -> bool:
    if f.kind != g.kind:
        return False
    if f.kind == "link-down":
        return {f.a, f.b} == {g.a, g.b}
    return f.switch == g.switch


def _op_clear_faults(
    state: NetworkState,
    faults: tuple[Fault, ...],
    args: Mapping[str, Any],  # noqa: ARG001
) -> Outcome:
    """Lift every fault: failed links and switches work again (as far as their administrative
    state lets them), one-shots vanish. Lifting faults cannot break the invariant."""
    after = state
    fabric = state.fabric
    if fabric is not None:
        after = replace(
            state,
            fabric=replace(
                fabric,
                switches={n: replace(sw, failed=False) for n, sw in fabric.switches.items()},
                links=tuple(replace(ln, failed=False) for ln in fabric.links),
            ),
        )
    return Outcome(
        state=after,
        faults=(),
        status="applied",
        result={"cleared": len(faults)},
        changes=tuple(f"cleared: {f.describe()}" for f in faults),
    )


_OPERATIONS: dict[str, Operation] = {
    "apply_fabric": _op_apply_fabric,
    "remove_fabric": _op_remove_fabric,
    "set_link": _op_set_link,
    "set_switch": _op_set_switch,
    "inject_fault": _op_inject_fault,
    "clear_faults": _op_clear_faults,
}


# -- the document form -------------------------------------------------------------------------


def _end_doc(end: End) -> dict[str, Any]:
    return {"switch": end.switch, "port": end.port, "address": end.address}


def state_to_doc(state: NetworkState) -> dict[str, Any]:
    fabric = state.fabric
    return {
        "site": {"racks": [{"name": r.name, "servers": list(r.servers)} for r in state.racks]},
        "fabric": None
        if fabric is None
        else {
            "fingerprint": fabric.fingerprint,
            "kind": fabric.kind,
            "applied_by": fabric.applied_by,
            "spec": dict(fabric.spec),
            "switches": [
                {
                    "name": sw.name,
                    "role": sw.role,
                    "pod": sw.pod,
                    "index": sw.index,
                    "asn": sw.asn,
                    "loopback": sw.loopback,
                    "port_count": sw.port_count,
                    "servers": sw.servers,
                    "state": sw.state,
                    "failed": sw.failed,
                    "set_by": sw.set_by,
                }
                for sw in fabric.switches.values()
            ],
            "links": [
                {
                    "a": _end_doc(ln.a),
                    "b": _end_doc(ln.b),
                    "speed_gbps": ln.speed_gbps,
                    "state": ln.state,
                    "failed": ln.failed,
                    "set_by": ln.set_by,
                }
                for ln in fabric.links
            ],
            "cabling": [
                {"server": c.server, "rack": c.rack, "switch": c.switch, "port": c.port}
                for c in fabric.cabling
            ],
        },
    }


def state_from_doc(doc: Any) -> NetworkState:
    """Parse and check a state document; ValueError says what is wrong and where."""
    try:
        return _parse_state(doc)
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"malformed network state: {type(e).__name__}: {e}") from None


def _key(value: Any) -> str | None:
    return None if value is None else str(value)


def _parse_state(doc: Any) -> NetworkState:
    racks = tuple(
        Rack(name=str(r["name"]), servers=tuple(str(s) for s in r["servers"]))
        for r in doc["site"]["racks"]
    )
    servers = [s for r in racks for s in r.servers]
    if len(set(servers)) != len(servers) or len({r.name for r in racks}) != len(racks):
        raise ValueError("site: rack and server names must be unique")
    f = doc.get("fabric")
    if f is None:
        return NetworkState(racks=racks)
    switches: dict[str, Switch] = {}
    for sw in f["switches"]:
        name = str(sw["name"])
        switches[name] = Switch(
            name=name,
            role=str(sw["role"]),
            index=int(sw["index"]),
            pod=None if sw.get("pod") is None else int(sw["pod"]),
            asn=int(sw["asn"]),
            loopback=str(sw["loopback"]),
            port_count=int(sw["port_count"]),
            servers=int(sw.get("servers", 0)),
            state=one_of(sw.get("state", "up"), _SWITCH_STATES, f"switch {name}.state"),
            failed=bool(sw.get("failed", False)),
            set_by=_key(sw.get("set_by")),
        )
    links = []
    for i, ln in enumerate(f["links"]):
        ends = [
            End(switch=str(e["switch"]), port=str(e["port"]), address=str(e["address"]))
            for e in (ln["a"], ln["b"])
        ]
        for e in ends:
            if e.switch not in switches:
                raise ValueError(f"links[{i}]: unknown switch {e.switch!r}")
        links.append(
            Link(
                a=ends[0],
                b=ends[1],
                speed_gbps=int(ln["speed_gbps"]),
                state=one_of(ln.get("state", "up"), _LINK_STATES, f"links[{i}].state"),
                failed=bool(ln.get("failed", False)),
                set_by=_key(ln.get("set_by")),
            )
        )
    rack_names = {r.name: set(r.servers) for r in racks}
    cabling = []
    for c in f["cabling"]:
        cable = Cable(
            server=str(c["server"]),
            rack=str(c["rack"]),
            switch=str(c["switch"]),
            port=str(c["port"]),
        )
        if cable.server not in rack_names.get(cable.rack, ()):
            raise ValueError(f"cabling: {cable.server!r} is not a server of rack {cable.rack!r}")
        if cable.switch not in switches:
            raise ValueError(f"cabling: {cable.server} goes to unknown switch {cable.switch!r}")
        cabling.append(cable)
    return NetworkState(
        racks=racks,
        fabric=AppliedFabric(
            fingerprint=str(f["fingerprint"]),
            kind=str(f["kind"]),
            spec=dict(f["spec"]),
            switches=switches,
            links=tuple(links),
            cabling=tuple(cabling),
            applied_by=_key(f.get("applied_by")),
        ),
    )


_FAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "link-down": ("a", "b"),
    "switch-down": ("switch",),
    "apply-fails": (),
}


def faults_to_doc(faults: Iterable[Fault]) -> list[dict[str, Any]]:
    docs = []
    for f in faults:
        doc = fault_doc(f, ("a", "b", "switch", "times"))
        docs.append(doc)
    return docs


def faults_from_doc(docs: Iterable[Any]) -> tuple[Fault, ...]:
    """Parse fault documents; ValueError names what is missing."""
    out = []
    for d in docs:
        kind = fault_kind(d, FAULT_KINDS, _FAULT_FIELDS)
        times = d.get("times", 1 if kind == "apply-fails" else None)
        if times is not None and (
            kind != "apply-fails"
            or not isinstance(times, int)
            or isinstance(times, bool)
            or times < 1
        ):
            raise ValueError(
                f"fault 'times' must be a positive integer (apply-fails only), not {times!r}"
            )
        out.append(
            Fault(
                kind=cast(FaultKind, kind),
                a=d.get("a"),
                b=d.get("b"),
                switch=d.get("switch"),
                times=times,
            )
        )
    return tuple(out)


# -- scenarios ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkScenario:
    name: str
    description: str
    state: NetworkState
    faults: tuple[Fault, ...] = ()
    latency_ms: int = 0


def _site(racks: int, per_rack: int) -> NetworkState:
    rw, sw = len(str(racks)), max(2, len(str(per_rack)))
    return NetworkState(
        racks=tuple(
            Rack(
                name=f"rack-{i:0{rw}d}",
                servers=tuple(f"srv-{i:0{rw}d}-{k:0{sw}d}" for k in range(1, per_rack + 1)),
            )
            for i in range(1, racks + 1)
        )
    )


def _with_leaf_spine(state: NetworkState, spines: int) -> NetworkState:
    from planactor.actors.network._fabric import LeafSpineSpec, leaf_spine
    from planactor.actors.network._render import to_document

    per_rack = max(len(r.servers) for r in state.racks)
    design = leaf_spine(
        LeafSpineSpec(leaves=len(state.racks), spines=spines, servers_per_leaf=per_rack)
    )
    out = apply(state, (), "apply_fabric", {"fabric": to_document(design), "by": "scenario"})
    assert out.status == "applied", out.error
    return out.state


def _default() -> NetworkScenario:
    return NetworkScenario(
        name="default",
        description="4 racks of 8 servers (srv-1-01..srv-4-08), no fabric yet",
        state=_site(4, 8),
    )


def _small() -> NetworkScenario:
    return NetworkScenario(
        name="small", description="2 racks of 4 servers, no fabric yet", state=_site(2, 4)
    )


def _built() -> NetworkScenario:
    return NetworkScenario(
        name="built",
        description="the default site with a leaf-spine fabric applied: 2 spines, a leaf per "
        "rack (leaf-1..leaf-4), all up",
        state=_with_leaf_spine(_site(4, 8), 2),
    )


def _degraded() -> NetworkScenario:
    state = _with_leaf_spine(_site(4, 8), 2)
    fault = Fault(kind="link-down", a="spine-1", b="leaf-1")
    out = apply(state, (), "inject_fault", faults_to_doc([fault])[0])
    return NetworkScenario(
        name="degraded",
        description="built, but link spine-1 -- leaf-1 has failed: leaf-1 hangs on spine-2 "
        "alone, so spine-2 cannot be drained",
        state=out.state,
        faults=out.faults,
    )


NETWORK_SCENARIOS: dict[str, Callable[[], NetworkScenario]] = {
    "default": _default,
    "small": _small,
    "built": _built,
    "degraded": _degraded,
}


def network_scenario(name: str) -> NetworkScenario:
    """The named scenario, built afresh; KeyError if there is none."""
    return NETWORK_SCENARIOS[name]()


# -- the kind ----------------------------------------------------------------------------------


class NetworkKind:
    """The network lab: `planactor lab init network`."""

    name = "network"

    def scenarios(self) -> dict[str, str]:
        return {name: make().description for name, make in NETWORK_SCENARIOS.items()}

    def build(self, scenario_name: str) -> Built:
        sc = network_scenario(scenario_name)
        return Built(
            state=state_to_doc(sc.state),
            faults=faults_to_doc(sc.faults),
            latency_ms=sc.latency_ms,
        )

    def apply(
        self, state: Mapping[str, Any], faults: list[Any], op: str, args: Mapping[str, Any]
    ) -> KindOutcome:
        out = apply(state_from_doc(state), faults_from_doc(faults), op, args)
        return KindOutcome(
            state=state_to_doc(out.state),
            faults=faults_to_doc(out.faults),
            status=out.status,
            result=out.result,
            changes=list(out.changes),
            violations=[v.to_doc() for v in out.violations],
            error=out.error.to_doc() if out.error else None,
            logged=op in WRITE_OPERATIONS and out.status != "refused",
        )

    def inventory(self, state: Mapping[str, Any]) -> Inventory:
        """The validator's inventory: `rack`, `server` and (with a fabric) `switch`."""
        return Inventory.from_mapping(inventory_entities(state_from_doc(state)))

    def facts(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """What routines read: `site.racks`, `site.servers_per_rack`... (see `facts`)."""
        return facts(state_from_doc(state))


register_kind(NetworkKind())
