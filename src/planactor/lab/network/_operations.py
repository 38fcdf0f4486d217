"""The network lab's operations, each from a state (and the pending faults) to an `Outcome`:
apply or remove a fabric, set a link or a switch, inject or clear faults. Writes record the
idempotency key that made them, for compensations (see `planactor.lab.network`). Pure code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, cast

from pydantic import ValidationError

from planactor.fabric import ACCESS_ROLES, FabricDocument, check_document
from planactor.lab._common import (
    OpError,
    fault_injected,
    faults_cleared,
    one_fault,
    run,
    take,
)
from planactor.lab._common import Refused as _Refused
from planactor.lab._common import list_names as _list
from planactor.lab._common import natural as _natural
from planactor.lab._common import text_arg as _text
from planactor.lab.network._documents import faults_from_doc, faults_to_doc
from planactor.lab.network._model import (
    ADMIN_OPERATIONS,
    LINK_STATES,
    SWITCH_STATES,
    WRITE_OPERATIONS,
    AppliedFabric,
    Cable,
    End,
    Fault,
    Link,
    LinkState,
    NetworkState,
    Outcome,
    Switch,
    SwitchState,
)
from planactor.lab.network._monitor import guard, monitor
from planactor.lab.network._queries import link_works, rack_switches
from planactor.plan import content_hash

__all__ = ["apply"]

# A switch's design in a fabric document (the rest is derived, or its state here).
_DESIGN_FIELDS = ("name", "role", "pod", "index", "asn", "loopback", "port_count", "servers")

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
    access = [sw for sw in switches.values() if sw.role in ACCESS_ROLES]
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
        violations=monitor(state, after, f"applying fabric {fingerprint[:19]}"),
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
    if new not in LINK_STATES:
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
        guard(state, after, action)
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
        violations=monitor(state, after, action + (" (forced)" if forced else "")),
    )


def _op_set_switch(
    state: NetworkState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    name = _text(args, "switch")
    new = _text(args, "state")
    if new not in SWITCH_STATES:
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
        guard(state, after, action)
    verb = "drained" if new == "drained" else "back in service"
    note = " (it has failed: still not working)" if new == "up" and sw.failed else ""
    return Outcome(
        state=after,
        faults=faults,
        status="applied",
        result={**result, "previous": sw.state, "changed": True, "working": changed.working},
        changes=(f"{name} ({sw.role}): {sw.state} -> {new}, {verb}{note}",),
        violations=monitor(state, after, action + (" (forced)" if forced else "")),
    )


def _op_inject_fault(
    state: NetworkState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    fault = one_fault(faults_from_doc, args)
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
    doc = faults_to_doc([fault])[0]
    return fault_injected(
        after, kept, fault, doc, monitor(state, after, f"{fault.describe()} (injected fault)")
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
    return faults_cleared(after, faults)


_OPERATIONS: dict[str, Operation] = {
    "apply_fabric": _op_apply_fabric,
    "remove_fabric": _op_remove_fabric,
    "set_link": _op_set_link,
    "set_switch": _op_set_switch,
    "inject_fault": _op_inject_fault,
    "clear_faults": _op_clear_faults,
}
