"""Questions about a storage state: where I/O flows, which paths work, what is unavailable,
and the views the planner reads (`facts`, `inventory_entities`). Pure code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planactor.lab._common import natural as _natural
from planactor.lab.storage._model import PathState, StorageState

__all__ = [
    "PathView",
    "carries_io",
    "facts",
    "hosts_on",
    "inventory_entities",
    "io_controller",
    "luns_of",
    "other_controller",
    "path_role",
    "path_views",
    "path_works",
    "preflight",
    "unavailable",
]


def other_controller(state: StorageState, controller: str) -> str:
    a, b = state.arrays[state.controllers[controller].array].controllers
    return b if controller == a else a


def hosts_on(state: StorageState, array: str) -> list[str]:
    """Hosts with a LUN on `array`, sorted."""
    return sorted({h for lun in state.luns.values() if lun.array == array for h in lun.hosts})


def luns_of(state: StorageState, host: str, array: str) -> list[str]:
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
                luns=tuple(luns_of(state, h, arr)),
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
