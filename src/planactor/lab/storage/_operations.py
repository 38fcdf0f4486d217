"""The storage lab's operations, each from a state (and the pending faults) to an `Outcome`,
and the monitor that records a DU whenever a host loses its last working path to a LUN, even
for a moment inside an operation. Pure code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

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
from planactor.lab.storage._documents import faults_from_doc, faults_to_doc
from planactor.lab.storage._model import (
    ADMIN_OPERATIONS,
    WRITE_OPERATIONS,
    Array,
    Controller,
    ControllerState,
    Fault,
    Host,
    Outcome,
    StorageState,
    Violation,
)
from planactor.lab.storage._queries import (
    carries_io,
    hosts_on,
    other_controller,
    path_works,
    unavailable,
)

__all__ = ["VERSION", "apply"]

VERSION = re.compile(r"^\d+\.\d+\.\d+$")

Cause = Callable[[str, str, str], str]  # (host, lun, array) -> why it lost its last path


def _monitor(before: StorageState, after: StorageState, cause: Cause) -> tuple[Violation, ...]:
    """A DU violation for every (host, LUN) that had a working path before and has none after."""
    was = unavailable(before)
    now = unavailable(after)
    return tuple(
        Violation(kind="DU", host=h, lun=lun, array=arr, cause=cause(h, lun, arr))
        for (h, lun), arr in sorted(now.items(), key=lambda kv: (kv[0][0], _natural(kv[0][1])))
        if (h, lun) not in was
    )


def _offline_cause(state: StorageState, verb: str, controller: str) -> Cause:
    other = other_controller(state, controller)

    def cause(host: str, lun: str, array: str) -> str:
        why = (
            f"{verb} {controller} takes it offline while {host} still reaches {lun} only through it"
        )
        p = state.paths.get((host, other))
        if state.controllers[other].state != "online":
            return f"{why} ({other} is {state.controllers[other].state})"
        if p is None or p.state != "up":
            return f"{why} (its path through {other} is down)"
        if state.arrays[array].mode == "active-passive":
            return f"{why} ({array} is active-passive: the path through {other} is passive)"
        return why

    return cause


def apply(
    state: StorageState, faults: Iterable[Fault], op: str, args: Mapping[str, Any]
) -> Outcome:
    """Run operation `op` on `state`; never raises for bad arguments (an `invalid` error)."""
    known = ", ".join(WRITE_OPERATIONS + ADMIN_OPERATIONS)
    outcome = run(_OPERATIONS, state, faults, op, args, lab="storage", known=known)
    # A refusal passes through unchanged: only what applied (or not) can time out.
    return _maybe_time_out(state, op, outcome)


def _maybe_time_out(before: StorageState, op: str, outcome: Outcome) -> Outcome:
    if outcome.status not in ("applied", "unchanged"):
        return outcome
    fired, rest = take(outcome.faults, lambda f: f.kind == "timeout" and f.operation == op)
    if fired is None:
        return outcome
    err = OpError(
        kind="timeout",
        message=f"{op} timed out"
        + (" (it may have taken effect)" if fired.applied else " before taking effect"),
        hint="retry with the same idempotency key: a write that applied is not applied twice",
    )
    if fired.applied:
        return replace(outcome, faults=rest, error=err)
    return Outcome(state=before, faults=rest, status="refused", error=err)


def _array(state: StorageState, args: Mapping[str, Any]) -> Array:
    name = _text(args, "array")
    if name not in state.arrays:
        raise _Refused("invalid", f"no array named {name!r}", _known(state.arrays))
    return state.arrays[name]


def _host(state: StorageState, args: Mapping[str, Any], array: Array, key: str = "host") -> Host:
    name = _text(args, key)
    if name not in state.hosts:
        raise _Refused("invalid", f"no host named {name!r}", _known(state.hosts))
    host = state.hosts[name]
    if array.name not in host.active:
        raise _Refused("invalid", f"{name} has no LUN on {array.name}")
    return host


def _controller(state: StorageState, name: str, array: Array) -> Controller:
    if name not in array.controllers:
        raise _Refused(
            "invalid",
            f"{name!r} is not a controller of {array.name}",
            f"{array.name}'s controllers are {' and '.join(array.controllers)}",
        )
    return state.controllers[name]


def _known(names: Iterable[str]) -> str:
    return "known: " + ", ".join(sorted(names, key=_natural))


def _with_controller(
    s: StorageState, name: str, *, status: ControllerState, firmware: str | None = None
) -> StorageState:
    controllers = dict(s.controllers)
    old = controllers[name]
    controllers[name] = replace(old, state=status, firmware=firmware or old.firmware)
    return replace(s, controllers=controllers)


def _with_active(state: StorageState, moves: Mapping[str, str], array: str) -> StorageState:
    hosts = dict(state.hosts)
    for h, c in moves.items():
        hosts[h] = replace(hosts[h], active={**hosts[h].active, array: c})
    return replace(state, hosts=hosts)


def _require_path(state: StorageState, host: Host, to: str) -> None:
    """Moving I/O onto `to` needs a host that answers and a working path through `to`."""
    if not host.responsive:
        raise _Refused(
            "unresponsive",
            f"{host.name} does not respond: its paths cannot be moved",
            "retry when the host answers again (storage.host_health shows it)",
        )
    ctrl = state.controllers[to]
    if ctrl.state != "online":
        raise _Refused(
            "precondition",
            f"cannot move {host.name}'s I/O to {to}: the controller is {ctrl.state}",
            "bring the controller back first (storage.reboot_controller)",
        )
    p = state.paths.get((host.name, to))
    if p is None or p.state != "up":
        raise _Refused(
            "precondition",
            f"cannot move {host.name}'s I/O to {to}: its path through {to} is down",
            "repair the path first; storage.list_paths shows which paths work",
        )


def _move_cause(moves: Mapping[str, str]) -> Cause:
    def cause(host: str, lun: str, array: str) -> str:
        to = moves.get(host)
        if to is None:
            return f"an operation on {array} left {host} without a working path to {lun}"
        return f"moving {host}'s I/O to {to} left it without a working path to {lun}"

    return cause


def _move_result(
    array: str, moves: Mapping[str, str], previous: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "array": array,
        "moved": [
            {"host": h, "from_controller": previous[h], "to_controller": moves[h]}
            for h in sorted(moves)
        ],
        "previous": {h: previous[h] for h in sorted(moves)},
    }


def _moves(
    state: StorageState, faults: tuple[Fault, ...], array: Array, moves: Mapping[str, str]
) -> Outcome:
    """Route each host's I/O to its controller (all or nothing), watching the invariant."""
    previous = {h: state.hosts[h].active[array.name] for h in moves}
    moves = {h: c for h, c in moves.items() if previous[h] != c}
    if not moves:
        return Outcome(
            state=state,
            faults=faults,
            status="unchanged",
            result=_move_result(array.name, {}, {}),
        )
    for h, c in sorted(moves.items()):
        _require_path(state, state.hosts[h], c)
    after = _with_active(state, moves, array.name)
    return Outcome(
        state=after,
        faults=faults,
        status="applied",
        result=_move_result(array.name, moves, previous),
        changes=tuple(
            f"{h}: I/O to {array.name} moves from {previous[h]} to {c}"
            for h, c in sorted(moves.items())
        ),
        violations=_monitor(state, after, _move_cause(moves)),
    )


def _op_move_paths(
    state: StorageState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    array = _array(state, args)
    host = _host(state, args, array)
    to = _controller(state, _text(args, "to_controller"), array).name
    frm = host.active[array.name]
    out = _moves(state, faults, array, {host.name: to})
    result = {"array": array.name, "host": host.name, "from_controller": frm, "to_controller": to}
    return replace(out, result={**result, "moved": out.status == "applied"})


def _op_restore_paths(
    state: StorageState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    array = _array(state, args)
    paths = args.get("paths")
    if not isinstance(paths, Mapping):
        raise _Refused("invalid", f"argument 'paths' must map hosts to controllers, not {paths!r}")
    moves = {}
    for h, c in paths.items():
        host = _host(state, {"host": h}, array)
        if not isinstance(c, str):
            raise _Refused("invalid", f"paths[{h!r}] must name a controller, not {c!r}")
        moves[host.name] = _controller(state, c, array).name
    return _moves(state, faults, array, moves)


def _op_fail_back(
    state: StorageState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    array = _array(state, args)
    moves = {h: state.hosts[h].preferred[array.name] for h in hosts_on(state, array.name)}
    return _moves(state, faults, array, moves)


def _op_rebalance(
    state: StorageState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    """Even out the hosts' I/O between the two controllers, moving as few hosts as possible."""
    array = _array(state, args)
    for c in array.controllers:
        if state.controllers[c].state != "online":
            raise _Refused(
                "precondition",
                f"cannot rebalance {array.name}: {c} is {state.controllers[c].state}",
                "bring the controller back first (storage.reboot_controller)",
            )
    load: dict[str, list[str]] = {c: [] for c in array.controllers}
    for h in hosts_on(state, array.name):
        load[state.hosts[h].active[array.name]].append(h)
    moves: dict[str, str] = {}
    skipped: list[str] = []
    while True:
        heavy, light = sorted(array.controllers, key=lambda c: -len(load[c]))
        if len(load[heavy]) - len(load[light]) <= 1:
            break
        # The last host by name that can move: deterministic, and stable across calls.
        movable = [
            h
            for h in reversed(load[heavy])
            if state.hosts[h].responsive and path_works(state, h, light)
        ]
        skipped += [h for h in load[heavy] if h not in movable and h not in skipped]
        if not movable:
            break
        load[heavy].remove(movable[0])
        load[light].append(movable[0])
        moves[movable[0]] = light
    out = _moves(state, faults, array, moves)
    return replace(out, result={**out.result, "skipped": sorted(skipped)})


def _offline_precondition(state: StorageState, array: Array, ctrl: Controller, verb: str) -> None:
    """Never take a controller offline while it carries host I/O or its peer cannot take over."""
    other = other_controller(state, ctrl.name)
    peer = state.controllers[other]
    if peer.state != "online":
        raise _Refused(
            "precondition",
            f"{verb} {ctrl.name} would leave {array.name} without a controller: "
            f"{other} is {peer.state}",
            f"bring {other} back first (storage.reboot_controller)",
        )
    carrying = carries_io(state, ctrl.name)
    if carrying:
        raise _Refused(
            "precondition",
            f"{ctrl.name} still carries host I/O for {_list(carrying)}",
            f"move their paths to {other} first (storage.move_paths), then retry",
        )
    lacking = [h for h in hosts_on(state, array.name) if not path_works(state, h, other)]
    if lacking:
        raise _Refused(
            "precondition",
            f"{_list(lacking)} {'has' if len(lacking) == 1 else 'have'} no working path through "
            f"{other}, which must carry the I/O while {ctrl.name} is offline",
            "repair the paths first; storage.preflight lists them",
        )


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


def _offline_then(
    state: StorageState, ctrl: Controller, verb: str, final: StorageState
) -> tuple[Violation, ...]:
    """Violations of taking `ctrl` offline, then of reaching `final` from there."""
    offline = _with_controller(state, ctrl.name, status="offline")
    during = _monitor(state, offline, _offline_cause(state, verb, ctrl.name))
    return during + _monitor(offline, final, _offline_cause(state, verb, ctrl.name))


def _op_upgrade_firmware(
    state: StorageState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    array = _array(state, args)
    ctrl = _controller(state, _text(args, "controller"), array)
    version = _text(args, "version")
    if not VERSION.match(version):
        raise _Refused("invalid", f"firmware version {version!r} is not MAJOR.MINOR.PATCH")
    result = {
        "array": array.name,
        "controller": ctrl.name,
        "from_version": ctrl.firmware,
        "to_version": version,
    }
    if ctrl.firmware == version and ctrl.state == "online":
        return Outcome(
            state=state, faults=faults, status="unchanged", result={**result, "upgraded": False}
        )
    if _version(version) < _version(ctrl.firmware):
        raise _Refused(
            "invalid",
            f"{ctrl.name} runs {ctrl.firmware}; {version} would be a downgrade",
            "the lab's arrays do not support downgrades",
        )
    if ctrl.state == "failed":
        raise _Refused(
            "precondition",
            f"{ctrl.name} has failed; it cannot be upgraded",
            "reboot it first (storage.reboot_controller)",
        )
    if not args.get("force"):
        _offline_precondition(state, array, ctrl, "upgrading")
    fired, rest = take(faults, lambda f: f.kind == "upgrade-fails" and f.controller == ctrl.name)
    if fired is not None:
        final = _with_controller(state, ctrl.name, status="failed")
        return Outcome(
            state=final,
            faults=rest,
            status="failed",
            result={**result, "upgraded": False},
            changes=(f"{ctrl.name}: the flash failed; the controller halted on {ctrl.firmware}",),
            violations=_offline_then(state, ctrl, "upgrading", final),
            error=OpError(
                kind="failed",
                message=f"the firmware upgrade of {ctrl.name} to {version} failed: "
                f"the controller halted on {ctrl.firmware}",
                hint=f"reboot {ctrl.name} (storage.reboot_controller) to bring it back on "
                f"{ctrl.firmware}, then retry the upgrade",
            ),
        )
    final = _with_controller(state, ctrl.name, status="online", firmware=version)
    return Outcome(
        state=final,
        faults=faults,
        status="applied",
        result={**result, "upgraded": True},
        changes=(f"{ctrl.name}: firmware {ctrl.firmware} -> {version} (offline while it flashes)",),
        violations=_offline_then(state, ctrl, "upgrading", final),
    )


def _op_reboot_controller(
    state: StorageState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    array = _array(state, args)
    ctrl = _controller(state, _text(args, "controller"), array)
    if not args.get("force"):
        _offline_precondition(state, array, ctrl, "rebooting")
    final = _with_controller(state, ctrl.name, status="online")
    return Outcome(
        state=final,
        faults=faults,
        status="applied",
        result={
            "array": array.name,
            "controller": ctrl.name,
            "firmware": ctrl.firmware,
            "was": ctrl.state,
        },
        changes=(f"{ctrl.name}: reboots ({ctrl.state} -> online, offline meanwhile)",),
        violations=_offline_then(state, ctrl, "rebooting", final),
    )


def _op_inject_fault(
    state: StorageState, faults: tuple[Fault, ...], args: Mapping[str, Any]
) -> Outcome:
    fault = one_fault(faults_from_doc, args)
    after = state
    cause = _fault_cause(fault)
    if fault.kind == "path-down":
        host, ctrl = fault.host or "", fault.controller or ""
        if (host, ctrl) not in state.paths:
            raise _Refused("invalid", f"no path from {host!r} to {ctrl!r}", _known_paths(state))
        paths = dict(state.paths)
        paths[(host, ctrl)] = replace(paths[(host, ctrl)], state="down")
        after = replace(state, paths=paths)
    elif fault.kind == "host-down":
        name = fault.host or ""
        if name not in state.hosts:
            raise _Refused("invalid", f"no host named {name!r}", _known(state.hosts))
        hosts = dict(state.hosts)
        hosts[name] = replace(hosts[name], responsive=False)
        after = replace(state, hosts=hosts)
    elif fault.kind == "upgrade-fails":
        if (fault.controller or "") not in state.controllers:
            raise _Refused(
                "invalid", f"no controller named {fault.controller!r}", _known(state.controllers)
            )
    elif fault.operation not in WRITE_OPERATIONS:
        raise _Refused(
            "invalid",
            f"cannot time out {fault.operation!r}",
            "operations: " + ", ".join(WRITE_OPERATIONS),
        )
    kept = tuple(f for f in faults if not (f.kind in ("path-down", "host-down") and f == fault))
    doc = faults_to_doc([fault])[0]
    return fault_injected(after, kept, fault, doc, _monitor(state, after, cause))


def _fault_cause(fault: Fault) -> Cause:
    def cause(host: str, lun: str, array: str) -> str:  # noqa: ARG001
        if fault.kind == "path-down":
            return (
                f"path {fault.host} -> {fault.controller} went down (injected fault): "
                f"it was {host}'s last working path to {lun}"
            )
        return f"injected fault: {fault.describe()}"

    return cause


def _known_paths(state: StorageState) -> str:
    return "e.g. " + ", ".join(f"{h} {c}" for h, c in sorted(state.paths)[:3])


def _op_clear_faults(
    state: StorageState,
    faults: tuple[Fault, ...],
    args: Mapping[str, Any],  # noqa: ARG001
) -> Outcome:
    """Lift every injected fault: paths come back up, hosts answer again, one-shots vanish.

    A controller that failed its upgrade stays failed: that is a consequence, not a fault
    (`storage.reboot_controller` brings it back).
    """
    paths = {k: replace(p, state="up") for k, p in state.paths.items()}
    hosts = {k: replace(h, responsive=True) for k, h in state.hosts.items()}
    after = replace(state, paths=paths, hosts=hosts)
    return faults_cleared(after, faults)


_OPERATIONS: dict[str, Callable[[StorageState, tuple[Fault, ...], Mapping[str, Any]], Outcome]] = {
    "move_paths": _op_move_paths,
    "upgrade_firmware": _op_upgrade_firmware,
    "reboot_controller": _op_reboot_controller,
    "fail_back": _op_fail_back,
    "rebalance": _op_rebalance,
    "restore_paths": _op_restore_paths,
    "inject_fault": _op_inject_fault,
    "clear_faults": _op_clear_faults,
}
