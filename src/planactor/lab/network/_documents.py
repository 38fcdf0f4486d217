"""The network state and its faults as JSON documents (what the lab file holds), both ways.

Parsing checks as it goes: a ValueError says what is wrong and where.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from planactor.lab._common import fault_doc, fault_kind, fault_times, one_of, parse_state
from planactor.lab.network._model import (
    FAULT_KINDS,
    LINK_STATES,
    SWITCH_STATES,
    AppliedFabric,
    Cable,
    End,
    Fault,
    FaultKind,
    Link,
    NetworkState,
    Rack,
    Switch,
)

__all__ = ["faults_from_doc", "faults_to_doc", "state_from_doc", "state_to_doc"]


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
    return parse_state(_parse_state, doc, lab="network")


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
            state=one_of(sw.get("state", "up"), SWITCH_STATES, f"switch {name}.state"),
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
                state=one_of(ln.get("state", "up"), LINK_STATES, f"links[{i}].state"),
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
    return [fault_doc(f, ("a", "b", "switch", "times")) for f in faults]


def faults_from_doc(docs: Iterable[Any]) -> tuple[Fault, ...]:
    """Parse fault documents; ValueError names what is missing."""
    out = []
    for d in docs:
        kind = fault_kind(d, FAULT_KINDS, _FAULT_FIELDS)
        times = fault_times(d, kind, counted=("apply-fails",), only_counted=True)
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
