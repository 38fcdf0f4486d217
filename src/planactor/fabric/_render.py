"""Renderings of a fabric: a JSON document and Graphviz DOT text (no graphviz binary needed).

The JSON document is what the network actors return and what `network.validate_fabric`
reads back. Its `summary`, each switch's `server_ports` and `ports` (the port map of its
links; server ports are summarised, not listed) and each link's `subnet` are derived from the
rest; they are there for people to read, and the validator checks they agree.
"""

from __future__ import annotations

from typing import Any

import pydantic_core

from planactor.fabric._model import (
    ROLES,
    Fabric,
    FatTreeSpec,
    LeafSpineSpec,
    Link,
    Switch,
    port_map,
    port_name,
    summarize,
)

__all__ = ["spec_to_dict", "to_document", "to_dot", "to_json"]


def spec_to_dict(spec: LeafSpineSpec | FatTreeSpec) -> dict[str, Any]:
    """The spec as JSON values (pools as strings), `kind` last as in `FabricDocument`."""
    out: dict[str, Any] = {}
    for name in spec.__dataclass_fields__:
        value = getattr(spec, name)
        out[name] = str(value) if name.endswith("_pool") else value
    out["kind"] = spec.kind
    return out


def _server_ports(sw: Switch) -> str | None:
    if not sw.servers:
        return None
    return port_name(1) if sw.servers == 1 else f"{port_name(1)}-{port_name(sw.servers)}"


def _link(link: Link) -> dict[str, Any]:
    return {
        "a": {
            "switch": link.a.switch,
            "port": link.a.port_name,
            "address": f"{link.a.address}/31",
        },
        "b": {
            "switch": link.b.switch,
            "port": link.b.port_name,
            "address": f"{link.b.address}/31",
        },
        "speed_gbps": link.speed_gbps,
        "subnet": str(link.subnet),
    }


def to_document(fabric: Fabric) -> dict[str, Any]:
    """The fabric as a JSON-ready dict: summary, spec, switches (with port maps), links."""
    s = summarize(fabric)
    ports = port_map(fabric, servers=False)
    switches = []
    for sw in fabric.switches:
        switches.append(
            {
                "name": sw.name,
                "role": sw.role,
                "pod": sw.pod,
                "index": sw.index,
                "asn": sw.asn,
                "loopback": f"{sw.loopback}/32",
                "port_count": sw.port_count,
                "servers": sw.servers,
                "server_ports": _server_ports(sw),
                "ports": [
                    {
                        "port": p.name,
                        "role": p.role,
                        "peer": p.peer,
                        "peer_port": p.peer_port,
                        "speed_gbps": p.speed_gbps,
                        "address": f"{p.address}/31",
                    }
                    for p in ports.get(sw.name, ())
                ],
            }
        )
    return {
        "summary": {
            "kind": s.kind,
            "switches": s.switches,
            "roles": s.roles,
            "servers": s.servers,
            "links": s.links,
            "asns": s.asns,
            "oversubscription": s.oversubscription,
        },
        "spec": spec_to_dict(fabric.spec),
        "switches": switches,
        "links": [_link(link) for link in fabric.links],
    }


def to_json(fabric: Fabric, *, indent: int | None = 2) -> str:
    """The JSON document as text; the same fabric always gives the same bytes."""
    # pydantic-core's encoder: the standard library's falls back to pure Python with indent.
    return pydantic_core.to_json(to_document(fabric), indent=indent).decode()


def _q(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(sw: Switch) -> str:
    lines = [sw.name, f"AS{sw.asn}", f"{sw.loopback}/32"]
    if sw.servers:
        lines.append(f"{sw.servers} servers")
    return _q("\n".join(lines)).replace("\n", "\\n")


def _same_rank(tier: list[Switch], indent: str) -> str:
    return indent + "{ rank=same; " + " ".join(f"{_q(sw.name)};" for sw in tier) + " }"


def to_dot(fabric: Fabric, *, ports: bool = True) -> str:
    """Graphviz DOT (undirected), top tier first; fat-tree pods drawn as clusters.

    Nodes show name, ASN, loopback and server count; edges carry the /31 as a tooltip and,
    with `ports=True`, the port names at each end.
    """
    s = summarize(fabric)
    roles = ", ".join(f"{n} {role}" for role, n in s.roles.items())
    out = [
        f"graph {_q(fabric.kind)} {{",
        f"  // {fabric.kind}: switches {roles}; {s.links} links; {s.servers} servers",
        "  graph [rankdir=TB, splines=line, nodesep=0.25, ranksep=1.2];",
        '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=9];',
        '  edge [fontname="Helvetica", fontsize=7];',
    ]
    by_role: dict[str, list[Switch]] = {}
    for sw in fabric.switches:
        by_role.setdefault(sw.role, []).append(sw)
    if isinstance(fabric.spec, FatTreeSpec):
        cores = by_role.get("core", [])
        out.append(_same_rank(cores, "  "))
        out += [f"  {_q(c.name)} [label={_label(c)}];" for c in cores]
        pods: dict[int | None, list[Switch]] = {}
        for sw in fabric.switches:
            if sw.role != "core":
                pods.setdefault(sw.pod, []).append(sw)
        for pod, members in pods.items():
            out.append(f"  subgraph {_q(f'cluster_pod{pod}')} {{")
            out.append(f"    label={_q(f'pod {pod}')};")
            for role in ("aggregation", "edge"):
                tier = [sw for sw in members if sw.role == role]
                if tier:
                    out.append(_same_rank(tier, "    "))
            out += [f"    {_q(sw.name)} [label={_label(sw)}];" for sw in members]
            out.append("  }")
    else:
        for role in ROLES[fabric.kind]:
            tier = by_role.get(role, [])
            if tier:
                out.append(_same_rank(tier, "  "))
        out += [f"  {_q(sw.name)} [label={_label(sw)}];" for sw in fabric.switches]
    for link in fabric.links:
        attrs = [f"tooltip={_q(str(link.subnet))}"]
        if ports:
            attrs.append(f"taillabel={_q(link.a.port_name)}")
            attrs.append(f"headlabel={_q(link.b.port_name)}")
        out.append(f"  {_q(link.a.switch)} -- {_q(link.b.switch)} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"
