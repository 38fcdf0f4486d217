"""Named storage scenarios: the default estate, and the same estate with one thing wrong.

`default`: three arrays (`array-01`..`array-03`), each with controllers `-a` and `-b` on
firmware 5.1.0; array-01 and array-02 run active-passive, array-03 ALUA. Eight hosts
(`esx-01`..`esx-08`) each have one path per controller of every array they use and route
all their I/O through the `-a` controllers:

    array-01: lun-1..lun-8    one LUN for each of esx-01..esx-08
    array-02: lun-9..lun-14   esx-01..esx-06
    array-03: lun-15..lun-20  esx-03..esx-08

The fault scenarios start from it; each makes one step of a firmware upgrade go wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from planactor.lab.storage._model import (
    Array,
    Controller,
    Fault,
    Host,
    Lun,
    Mode,
    Path,
    StorageState,
)

__all__ = ["DEFAULT_FIRMWARE", "SCENARIOS", "Scenario", "default_state", "scenario"]

DEFAULT_FIRMWARE = "5.1.0"
_LAYOUT: tuple[tuple[str, Mode, range], ...] = (
    ("array-01", "active-passive", range(1, 9)),
    ("array-02", "active-passive", range(1, 7)),
    ("array-03", "alua", range(3, 9)),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    name: str
    description: str
    state: StorageState
    faults: tuple[Fault, ...] = ()
    latency_ms: int = 0


def default_state() -> StorageState:
    arrays: dict[str, Array] = {}
    controllers: dict[str, Controller] = {}
    luns: dict[str, Lun] = {}
    active: dict[str, dict[str, str]] = {f"esx-{i:02d}": {} for i in range(1, 9)}
    paths: dict[tuple[str, str], Path] = {}
    n = 0
    for name, mode, host_numbers in _LAYOUT:
        a, b = f"{name}-a", f"{name}-b"
        arrays[name] = Array(name=name, mode=mode, controllers=(a, b))
        for c in (a, b):
            controllers[c] = Controller(name=c, array=name, firmware=DEFAULT_FIRMWARE)
        for i in host_numbers:
            n += 1
            host = f"esx-{i:02d}"
            luns[f"lun-{n}"] = Lun(name=f"lun-{n}", array=name, hosts=(host,))
            active[host][name] = a
            for c in (a, b):
                paths[(host, c)] = Path(host=host, controller=c)
    hosts = {h: Host(name=h, active=dict(m), preferred=dict(m)) for h, m in active.items()}
    return StorageState(arrays=arrays, controllers=controllers, luns=luns, hosts=hosts, paths=paths)


def _default() -> Scenario:
    return Scenario(
        name="default",
        description="3 arrays (2 active-passive, 1 ALUA), 8 hosts, all healthy",
        state=default_state(),
    )


def _path_down() -> Scenario:
    state = default_state()
    paths = dict(state.paths)
    paths[("esx-03", "array-01-b")] = Path(host="esx-03", controller="array-01-b", state="down")
    return Scenario(
        name="path-down",
        description="esx-03's path to array-01-b is down: array-01-a cannot be taken offline",
        state=StorageState(
            arrays=state.arrays,
            controllers=state.controllers,
            luns=state.luns,
            hosts=state.hosts,
            paths=paths,
        ),
        faults=(Fault(kind="path-down", host="esx-03", controller="array-01-b"),),
    )


def _upgrade_fails() -> Scenario:
    return Scenario(
        name="upgrade-fails",
        description="the first firmware upgrade of array-01-a fails and halts the controller",
        state=default_state(),
        faults=(Fault(kind="upgrade-fails", controller="array-01-a", times=1),),
    )


def _host_unresponsive() -> Scenario:
    state = default_state()
    hosts = dict(state.hosts)
    h = hosts["esx-05"]
    hosts["esx-05"] = Host(name=h.name, active=h.active, preferred=h.preferred, responsive=False)
    return Scenario(
        name="host-unresponsive",
        description="esx-05 does not respond: its paths cannot be moved",
        state=StorageState(
            arrays=state.arrays,
            controllers=state.controllers,
            luns=state.luns,
            hosts=hosts,
            paths=state.paths,
        ),
        faults=(Fault(kind="host-down", host="esx-05"),),
    )


def _slow() -> Scenario:
    return Scenario(
        name="slow",
        description="every operation takes 200 ms, and the first firmware upgrade applies "
        "but its call times out (a retry must not flash twice)",
        state=default_state(),
        faults=(Fault(kind="timeout", operation="upgrade_firmware", times=1, applied=True),),
        latency_ms=200,
    )


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "default": _default,
    "path-down": _path_down,
    "upgrade-fails": _upgrade_fails,
    "host-unresponsive": _host_unresponsive,
    "slow": _slow,
}


def scenario(name: str) -> Scenario:
    """The named scenario, built afresh; KeyError if there is none."""
    return SCENARIOS[name]()
