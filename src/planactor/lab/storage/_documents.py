"""The storage state and its faults as JSON documents (what the lab file holds), both ways.

Parsing checks as it goes: a ValueError says what is wrong and where.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from planactor.lab._common import fault_doc, fault_kind, fault_times, one_of, parse_state
from planactor.lab._common import natural as _natural
from planactor.lab.storage._model import (
    CONTROLLER_STATES,
    FAULT_KINDS,
    MODES,
    Array,
    Controller,
    Fault,
    FaultKind,
    Host,
    Lun,
    Path,
    StorageState,
)

__all__ = ["faults_from_doc", "faults_to_doc", "state_from_doc", "state_to_doc"]


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
    return parse_state(_parse_state, doc, lab="storage")


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
                state=one_of(c.get("state", "online"), CONTROLLER_STATES, f"{c['name']}.state"),
            )
        arrays[name] = Array(
            name=name,
            mode=one_of(a["mode"], MODES, f"array {name}.mode"),
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
        # One-shot by default; a path or host fault may be given a count too.
        times = fault_times(d, kind, counted=("upgrade-fails", "timeout"), only_counted=False)
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
