"""The storage lab's model: arrays, controllers, LUNs, hosts and their paths. Pure code.

Every operation is a function from a state (and the pending faults) to an `Outcome`: the
new state, what the operation reports, and the invariant violations it caused. Nothing here
reads files, sleeps or looks at the clock; `planactor.lab.Lab` adds those at the edge.

The model:

- an array has two controllers and runs `active-passive` or `alua`;
- a host reaches each array it has LUNs on through one path per controller, and routes its
  I/O to that array through one controller, its *active* one (in ALUA the active-optimized
  one); `preferred` is where that I/O belongs when all is well (`fail_back` returns it);
- a *working path* is a path that is up, through a controller that is online. In
  active-passive mode only the path through the active controller serves I/O: the lab's
  arrays never trespass a LUN on their own (explicit failover, as during managed
  maintenance), so moving I/O is the operator's job, which is the point of a plan. In ALUA
  mode both controllers serve I/O: the non-optimized path takes over when the optimized one
  stops working;
- a controller *carries host I/O* when some host's I/O flows through it now.

The invariant: at every instant every host keeps at least one working path to each of its
LUNs. An operation that breaks it, even for a moment (a controller is offline while it
flashes or reboots), records a DU (data unavailable) violation naming the host, the LUN
and the cause.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast

from planactor.lab import _common
from planactor.lab._common import OpError, fault_doc, fault_kind, one_of, run, take
from planactor.lab._common import Refused as _Refused
from planactor.lab._common import list_names as _list
from planactor.lab._common import natural as _natural
from planactor.lab._common import text_arg as _text

__all__ = [
    "ADMIN_OPERATIONS",
    "FAULT_KINDS",
    "WRITE_OPERATIONS",
    "Array",
    "Controller",
    "ControllerState",
    "Fault",
    "FaultKind",
    "Host",
    "Lun",
    "Mode",
    "OpError",
    "Outcome",
    "Path",
    "PathState",
    "PathView",
    "StorageState",
    "Violation",
    "apply",
    "carries_io",
    "facts",
    "faults_from_doc",
    "faults_to_doc",
    "hosts_on",
    "inventory_entities",
    "io_controller",
    "other_controller",
    "path_role",
    "path_views",
    "path_works",
    "preflight",
    "state_from_doc",
    "state_to_doc",
    "unavailable",
]

Mode = Literal["active-passive", "alua"]
ControllerState = Literal["online", "offline", "failed"]
PathState = Literal["up", "down"]
FaultKind = Literal["path-down", "upgrade-fails", "host-down", "timeout"]

FAULT_KINDS: tuple[FaultKind, ...] = ("path-down", "upgrade-fails", "host-down", "timeout")
# Operations the storage actors call (each logged with its idempotency key) ...
WRITE_OPERATIONS = (
    "move_paths",
    "upgrade_firmware",
    "reboot_controller",
    "fail_back",
    "rebalance",
    "restore_paths",
)
# ... and what the lab's operator does (not part of the operation log).
ADMIN_OPERATIONS = ("inject_fault", "clear_faults")
VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_MODES = ("active-passive", "alua")
_CONTROLLER_STATES = ("online", "offline", "failed")


# -- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Controller:
    name: str
    array: str
    firmware: str
    # `offline` exists only inside an operation (flashing, rebooting); `failed` persists.
    state: ControllerState = "online"


@dataclass(frozen=True, slots=True, kw_only=True)
class Array:
    name: str
    mode: Mode
    controllers: tuple[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Lun:
    name: str
    array: str
    hosts: tuple[str, ...]
    size_gb: int = 512


@dataclass(frozen=True, slots=True, kw_only=True)
class Host:
    """A host; `active` and `preferred` map each array it uses to a controller."""

    name: str
    active: Mapping[str, str]
    preferred: Mapping[str, str]
    responsive: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Path:
    """One host's path to one controller (it carries every LUN of that host on the array)."""

    host: str
    controller: str
    state: PathState = "up"


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageState:
    arrays: Mapping[str, Array]
    controllers: Mapping[str, Controller]
    luns: Mapping[str, Lun]
    hosts: Mapping[str, Host]
    paths: Mapping[tuple[str, str], Path]  # (host, controller)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """An injected fault. `times` counts the firings left of a one-shot fault."""

    kind: FaultKind
    host: str | None = None
    controller: str | None = None
    operation: str | None = None
    times: int | None = None
    applied: bool = True  # timeout: the operation took effect before the call timed out

    def describe(self) -> str:
        match self.kind:
            case "path-down":
                return f"path {self.host} -> {self.controller} is down"
            case "host-down":
                return f"{self.host} does not respond"
            case "upgrade-fails":
                return f"the next {_times(self.times)} upgrade(s) of {self.controller} fail"
            case _:
                when = "after applying" if self.applied else "before applying"
                return f"the next {_times(self.times)} {self.operation} call(s) time out {when}"


def _times(times: int | None) -> str:
    return "every" if times is None else str(times)


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """A broken invariant: `host` lost its last working path to `lun`."""

    kind: Literal["DU"]
    host: str
    lun: str
    array: str
    cause: str
    invariant: str = "every host keeps a working path to each of its LUNs"

    def to_doc(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "invariant": self.invariant,
            "host": self.host,
            "lun": self.lun,
            "array": self.array,
            "cause": self.cause,
        }


# What an operation did. `refused` changes no state (the faults may have fired).
# At run time the plain class: calling a subscripted alias of a frozen slotted dataclass fails.
if TYPE_CHECKING:
    Outcome: TypeAlias = _common.Outcome[StorageState, Fault, Violation]
else:
    Outcome = _common.Outcome


# -- queries -------------------------------------------------------------------------------------


def other_controller(state: StorageState, controller: str) -> str:
    a, b = state.arrays[state.controllers[controller].array].controllers
    return b if controller == a else a


def hosts_on(state: StorageState, array: str) -> list[str]:
    """Hosts with a LUN on `array`, sorted."""
    return sorted({h for lun in state.luns.values() if lun.array == array for h in lun.hosts})


def _luns_of(state: StorageState, host: str, array: str) -> list[str]:
    return sorted(
        (n for n, lun in state.luns.items() if lun.array == array and host in lun.hosts),
        key=_natural,
    )


def path_works(state: StorageState, host: str, controller: str) -> bool:
    """The path is up and its controller online."""
    p = state.paths.get((host, controller))
    return p is not None and p.state == "up" and state.controllers[controller].state == "online"


def _serving(state: StorageState, host: str, array: str) -> tuple[str, ...]:
    """The controllers through which the host's I/O to `array` can flow now, best first."""
    active = state.hosts[host].active[array]
    if state.arrays[array].mode == "active-passive":
        return (active,) if path_works(state, host, active) else ()
    order = (active, other_controller(state, active))
    return tuple(c for c in order if path_works(state, host, c))


def io_controller(state: StorageState, host: str, array: str) -> str | None:
    """The controller the host's I/O to `array` flows through now (None: none can)."""
    serving = _serving(state, host, array)
    return serving[0] if serving else None


def carries_io(state: StorageState, controller: str) -> list[str]:
    """The hosts whose I/O flows through `controller` now, sorted."""
    array = state.controllers[controller].array
    return [h for h in hosts_on(state, array) if io_controller(state, h, array) == controller]


def unavailable(state: StorageState) -> dict[tuple[str, str], str]:
    """Every (host, LUN) pair without a working path, mapped to the LUN's array."""
    out: dict[tuple[str, str], str] = {}
    for name, lun in state.luns.items():
        for h in lun.hosts:
            if not _serving(state, h, lun.array):
                out[(h, name)] = lun.array
    return out


def path_role(state: StorageState, host: str, controller: str) -> str:
    """`active`/`passive` (active-passive) or `active-optimized`/`active-non-optimized`."""
    array = state.controllers[controller].array
    is_active = state.hosts[host].active[array] == controller
    if state.arrays[array].mode == "active-passive":
        return "active" if is_active else "passive"
    return "active-optimized" if is_active else "active-non-optimized"


@dataclass(frozen=True, slots=True, kw_only=True)
class PathView:
    """A path as `storage.list_paths` reports it."""

    host: str
    array: str
    controller: str
    state: PathState
    role: str
    working: bool
    carries_io: bool
    luns: tuple[str, ...]


def path_views(
    state: StorageState, *, array: str | None = None, host: str | None = None
) -> list[PathView]:
    views = []
    for (h, c), p in sorted(state.paths.items()):
        arr = state.controllers[c].array
        if (array is not None and arr != array) or (host is not None and h != host):
            continue
        views.append(
            PathView(
                host=h,
                array=arr,
                controller=c,
                state=p.state,
                role=path_role(state, h, c),
                working=path_works(state, h, c),
                carries_io=io_controller(state, h, arr) == c,
                luns=tuple(_luns_of(state, h, arr)),
            )
        )
    return views


def preflight(state: StorageState, array: str, controller: str | None = None) -> list[str]:
    """What would make it unsafe to take a controller of `array` offline ([] if nothing).

    Without `controller`, every host of the array must have a working path through each
    controller (so either can be taken offline once I/O is moved); with it, through the
    other one. Hosts that do not respond are listed too: their paths cannot be moved.
    """
    arr = state.arrays[array]
    survivors = arr.controllers if controller is None else (other_controller(state, controller),)
    problems = []
    for c in arr.controllers:
        if state.controllers[c].state != "online":
            problems.append(f"{c} is {state.controllers[c].state}")
    for h in hosts_on(state, array):
        if not state.hosts[h].responsive:
            problems.append(f"{h} does not respond: its paths cannot be moved")
        for c in survivors:
            p = state.paths.get((h, c))
            if p is None:
                problems.append(f"{h} has no path through {c}")
            elif p.state != "up":
                problems.append(f"{h}'s path through {c} is down")
    return problems


# -- the invariant monitor ----------------------------------------------------------------------

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


# -- the operations -----------------------------------------------------------------------------


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
    try:
        fault = faults_from_doc([dict(args)])[0]
    except ValueError as e:
        raise _Refused("invalid", str(e)) from None
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
    return Outcome(
        state=after,
        faults=(*kept, fault),
        status="applied",
        result={"fault": faults_to_doc([fault])[0]},
        changes=(f"fault: {fault.describe()}",),
        violations=_monitor(state, after, cause),
    )


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
    return Outcome(
        state=after,
        faults=(),
        status="applied",
        result={"cleared": len(faults)},
        changes=tuple(f"cleared: {f.describe()}" for f in faults),
        # Lifting faults only brings paths back: it cannot break the invariant.
    )


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


# -- views for the planner ------------------------------------------------------------------------


def facts(state: StorageState) -> dict[str, Any]:
    """What routines read: per array its mode, controllers, which one is active, firmware
    and hosts; per host its arrays. `active` is the controller carrying the most host I/O
    (the first controller when none carries any)."""
    arrays: dict[str, Any] = {}
    for name in sorted(state.arrays, key=_natural):
        arr = state.arrays[name]
        io = {c: carries_io(state, c) for c in arr.controllers}
        active = max(arr.controllers, key=lambda c: (len(io[c]), c == arr.controllers[0]))
        arrays[name] = {
            "mode": arr.mode,
            "controllers": list(arr.controllers),
            "active": active,
            "passive": other_controller(state, active),
            "firmware": {c: state.controllers[c].firmware for c in arr.controllers},
            "state": {c: state.controllers[c].state for c in arr.controllers},
            "io": io,
            # Each controller's partner: where its hosts go while it is down.
            "partner": {c: other_controller(state, c) for c in arr.controllers},
            "hosts": hosts_on(state, name),
            "luns": sorted((n for n, lun in state.luns.items() if lun.array == name), key=_natural),
        }
    hosts = {
        name: {
            "arrays": sorted(h.active, key=_natural),
            "luns": sorted((n for n, lun in state.luns.items() if name in lun.hosts), key=_natural),
            "responsive": h.responsive,
        }
        for name, h in sorted(state.hosts.items(), key=lambda kv: _natural(kv[0]))
    }
    return {"arrays": arrays, "hosts": hosts}


def inventory_entities(state: StorageState) -> dict[str, list[str]]:
    """Entity names by kind: `array`, `controller`, `host`, `lun`."""
    return {
        "array": sorted(state.arrays, key=_natural),
        "controller": sorted(state.controllers, key=_natural),
        "host": sorted(state.hosts, key=_natural),
        "lun": sorted(state.luns, key=_natural),
    }


# -- the document form -----------------------------------------------------------------------------


def state_to_doc(state: StorageState) -> dict[str, Any]:
    return {
        "arrays": [
            {
                "name": a.name,
                "mode": a.mode,
                "controllers": [
                    {
                        "name": c,
                        "firmware": state.controllers[c].firmware,
                        "state": state.controllers[c].state,
                    }
                    for c in a.controllers
                ],
                "luns": [
                    {"name": lun.name, "hosts": list(lun.hosts), "size_gb": lun.size_gb}
                    for lun in sorted(state.luns.values(), key=lambda x: _natural(x.name))
                    if lun.array == a.name
                ],
            }
            for a in sorted(state.arrays.values(), key=lambda x: _natural(x.name))
        ],
        "hosts": [
            {
                "name": h.name,
                "responsive": h.responsive,
                "preferred": dict(sorted(h.preferred.items())),
                "active": dict(sorted(h.active.items())),
                "paths": [
                    {"controller": c, "state": p.state}
                    for (hn, c), p in sorted(state.paths.items())
                    if hn == h.name
                ],
            }
            for h in sorted(state.hosts.values(), key=lambda x: _natural(x.name))
        ],
    }


def state_from_doc(doc: Any) -> StorageState:
    """Parse and check a state document; ValueError says what is wrong and where."""
    try:
        return _parse_state(doc)
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"malformed storage state: {type(e).__name__}: {e}") from None


def _parse_state(doc: Any) -> StorageState:
    arrays: dict[str, Array] = {}
    controllers: dict[str, Controller] = {}
    luns: dict[str, Lun] = {}
    for a in doc["arrays"]:
        name = str(a["name"])
        ctrls = a["controllers"]
        if len(ctrls) != 2:
            raise ValueError(f"array {name}: needs exactly two controllers, has {len(ctrls)}")
        for c in ctrls:
            controllers[str(c["name"])] = Controller(
                name=str(c["name"]),
                array=name,
                firmware=str(c["firmware"]),
                state=one_of(c.get("state", "online"), _CONTROLLER_STATES, f"{c['name']}.state"),
            )
        arrays[name] = Array(
            name=name,
            mode=one_of(a["mode"], _MODES, f"array {name}.mode"),
            controllers=(str(ctrls[0]["name"]), str(ctrls[1]["name"])),
        )
        for lun in a.get("luns", []):
            luns[str(lun["name"])] = Lun(
                name=str(lun["name"]),
                array=name,
                hosts=tuple(str(h) for h in lun["hosts"]),
                size_gb=int(lun.get("size_gb", 512)),
            )
    hosts: dict[str, Host] = {}
    paths: dict[tuple[str, str], Path] = {}
    for h in doc["hosts"]:
        name = str(h["name"])
        active = {str(k): str(v) for k, v in h["active"].items()}
        preferred = {str(k): str(v) for k, v in h.get("preferred", active).items()}
        for arr, c in [*active.items(), *preferred.items()]:
            if arr not in arrays or c not in arrays[arr].controllers:
                raise ValueError(f"host {name}: {c!r} is not a controller of array {arr!r}")
        hosts[name] = Host(
            name=name,
            active=active,
            preferred=preferred,
            responsive=bool(h.get("responsive", True)),
        )
        for p in h.get("paths", []):
            c = str(p["controller"])
            if c not in controllers:
                raise ValueError(f"host {name}: path to unknown controller {c!r}")
            paths[(name, c)] = Path(
                host=name, controller=c, state=one_of(p.get("state", "up"), ("up", "down"), c)
            )
    for lun in luns.values():
        for h in lun.hosts:
            if h not in hosts or lun.array not in hosts[h].active:
                raise ValueError(f"{lun.name}: host {h!r} is not attached to {lun.array}")
    return StorageState(arrays=arrays, controllers=controllers, luns=luns, hosts=hosts, paths=paths)


def faults_to_doc(faults: Iterable[Fault]) -> list[dict[str, Any]]:
    docs = []
    for f in faults:
        doc = fault_doc(f, ("host", "controller", "operation", "times"))
        if f.kind == "timeout":
            doc["applied"] = f.applied
        docs.append(doc)
    return docs


_FAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "path-down": ("host", "controller"),
    "host-down": ("host",),
    "upgrade-fails": ("controller",),
    "timeout": ("operation",),
}


def faults_from_doc(docs: Iterable[Any]) -> tuple[Fault, ...]:
    """Parse fault documents; ValueError names what is missing."""
    out = []
    for d in docs:
        kind = fault_kind(d, FAULT_KINDS, _FAULT_FIELDS)
        times = d.get("times", 1 if kind in ("upgrade-fails", "timeout") else None)
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ValueError(f"fault 'times' must be a positive integer, not {times!r}")
        out.append(
            Fault(
                kind=cast(FaultKind, kind),
                host=d.get("host"),
                controller=d.get("controller"),
                operation=d.get("operation"),
                times=times,
                applied=bool(d.get("applied", True)),
            )
        )
    return tuple(out)
