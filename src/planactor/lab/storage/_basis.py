"""The storage facts a plan depends on (its basis), and the facts a write changes on purpose.

A plan that names an array (or one of its controllers or LUNs) depends on the array's mode,
controllers and hosts, on each controller's firmware and state, and on each host of the
array: whether it answers, which controller carries its I/O to that array, its preferred
one, and the state of its paths to the array's controllers. That is what routine
expansion (`arrays.A.hosts`, `active`...) and `StorageSafety` read. A host's facts about
other arrays are not part of it: moving esx-01 on array-02 leaves a plan for array-01
current. A plan that names hosts but no array depends on every array those hosts use.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from planactor.lab._common import natural
from planactor.lab.storage._model import StorageState
from planactor.lab.storage._queries import hosts_on

__all__ = ["basis_facts", "footprint"]


def basis_facts(state: StorageState, names: Collection[str]) -> dict[str, dict[str, Any]]:
    """Entity (`array/A`, `controller/C`, `host/H`) -> the fields a plan naming `names` reads."""
    arrays = {n for n in names if n in state.arrays}
    arrays |= {state.controllers[n].array for n in names if n in state.controllers}
    arrays |= {state.luns[n].array for n in names if n in state.luns}
    named_hosts = {n for n in names if n in state.hosts}
    if not arrays:
        arrays = {a for h in named_hosts for a in state.hosts[h].active}
    facts: dict[str, dict[str, Any]] = {}
    hosts = set(named_hosts)
    for a in sorted(arrays, key=natural):
        arr = state.arrays[a]
        on = hosts_on(state, a)
        hosts.update(on)
        facts[f"array/{a}"] = {"mode": arr.mode, "controllers": list(arr.controllers), "hosts": on}
        for c in arr.controllers:
            ctrl = state.controllers[c]
            facts[f"controller/{c}"] = {"firmware": ctrl.firmware, "state": ctrl.state}
    for h in sorted(hosts, key=natural):
        host = state.hosts[h]
        used = [a for a in sorted(arrays, key=natural) if a in host.active]
        paths = {}
        for a in used:
            for c in state.arrays[a].controllers:
                p = state.paths.get((h, c))
                paths[c] = p.state if p is not None else "none"
        facts[f"host/{h}"] = {
            "responsive": host.responsive,
            "active": {a: host.active[a] for a in used},
            "preferred": {a: host.preferred[a] for a in used if a in host.preferred},
            "paths": paths,
        }
    return facts


def footprint(op: str, args: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(entity, field) glob patterns of the basis facts operation `op` changes on purpose.

    A resumed run's own writes are expected to have changed these; nothing else is.
    """
    array = str(args.get("array", "*"))
    controller = str(args.get("controller", "*"))
    match op:
        case "move_paths":
            return [(f"host/{args.get('host', '*')}", f"active.{array}")]
        case "restore_paths":
            paths = args.get("paths")
            hosts = list(paths) if isinstance(paths, Mapping) else ["*"]
            return [(f"host/{h}", f"active.{array}") for h in hosts]
        case "fail_back" | "rebalance":
            return [("host/*", f"active.{array}")]
        case "upgrade_firmware":
            return [(f"controller/{controller}", "firmware"), (f"controller/{controller}", "state")]
        case "reboot_controller":
            return [(f"controller/{controller}", "state")]
    return []
