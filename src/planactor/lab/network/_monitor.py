"""The network lab's invariant monitor and guard: every pair of servers in different racks
stays reachable once a fabric is applied. The monitor records what an operation broke; the
guard refuses, beforehand, a change that would break it. Pure code."""

from __future__ import annotations

from collections.abc import Iterable

from planactor.lab._common import Refused as _Refused
from planactor.lab._common import list_names as _list
from planactor.lab._common import natural as _natural
from planactor.lab.network._model import NetworkState, Violation
from planactor.lab.network._queries import (
    cut_racks,
    has_working_uplink,
    rack_switches,
    switch_status,
)

__all__ = ["guard", "monitor"]


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
        elif not has_working_uplink(fabric, sw):
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


def monitor(before: NetworkState, after: NetworkState, action: str) -> tuple[Violation, ...]:
    """One partition violation if some racks that reached each other before no longer do."""
    new = cut_racks(after) - cut_racks(before)
    return (_violation(after, new, action),) if new else ()


def guard(before: NetworkState, after: NetworkState, action: str) -> None:
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
        if has_working_uplink(fb, sw) and not has_working_uplink(fa, sw)
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
