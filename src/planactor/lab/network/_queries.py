"""Questions about a network state: which links and switches work, which racks reach each
other, the working graph, and the views the planner reads (`facts`, `inventory_entities`).
Pure code."""

from __future__ import annotations

from typing import Any

from planactor.fabric import ACCESS_ROLES
from planactor.lab.network._model import AppliedFabric, Link, NetworkState, Switch

__all__ = [
    "cut_racks",
    "cut_server_pairs",
    "facts",
    "graph_edges",
    "has_working_uplink",
    "inventory_entities",
    "link_status",
    "link_works",
    "rack_of",
    "rack_switches",
    "site",
    "switch_status",
    "uplinks",
]


def rack_switches(fabric: AppliedFabric) -> dict[str, str]:
    """Each cabled rack's access switch."""
    return {c.rack: c.switch for c in fabric.cabling}


def rack_of(state: NetworkState) -> dict[str, str]:
    """Each server's rack."""
    return {s: r.name for r in state.racks for s in r.servers}


def link_works(fabric: AppliedFabric, link: Link) -> bool:
    """Up, not failed, and both its switches work."""
    return (
        link.state == "up"
        and not link.failed
        and fabric.switches[link.a.switch].working
        and fabric.switches[link.b.switch].working
    )


def uplinks(fabric: AppliedFabric, switch: str) -> list[Link]:
    """The links towards a higher tier: every link of an access switch, `b` ends elsewhere."""
    access = fabric.switches[switch].role in ACCESS_ROLES
    return [
        link
        for link in fabric.links
        if link.b.switch == switch or (access and link.a.switch == switch)
    ]


def has_working_uplink(fabric: AppliedFabric, switch: str) -> bool:
    return any(link_works(fabric, link) for link in uplinks(fabric, switch))


def switch_status(sw: Switch) -> str:
    """`up`, `drained`, `failed` or `drained, failed`."""
    if sw.failed:
        return "failed" if sw.state == "up" else f"{sw.state}, failed"
    return sw.state


def link_status(fabric: AppliedFabric, link: Link) -> str:
    """`up`, `down`, `failed`, or `up, but spine-1 is drained` when an end does not work."""
    if link.failed:
        return "failed" if link.state == "up" else "down, failed"
    if link.state == "down":
        return "down"
    idle = [
        f"{end.switch} is {switch_status(fabric.switches[end.switch])}"
        for end in (link.a, link.b)
        if not fabric.switches[end.switch].working
    ]
    return "up" if not idle else "up, but " + " and ".join(idle)


def _components(fabric: AppliedFabric) -> dict[str, str]:
    """Working switches mapped to a representative of their connected component."""
    parent = {name: name for name, sw in fabric.switches.items() if sw.working}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for link in fabric.links:
        if link.state == "up" and not link.failed:
            a, b = link.a.switch, link.b.switch
            if a in parent and b in parent:
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[ra] = rb
    return {name: find(name) for name in parent}


def cut_racks(state: NetworkState) -> frozenset[tuple[str, str]]:
    """Pairs of racks (with servers) whose servers cannot reach each other; none without a
    fabric, where the invariant is not in force."""
    fabric = state.fabric
    if fabric is None:
        return frozenset()
    comp = _components(fabric)
    where = rack_switches(fabric)
    racks = [r.name for r in state.racks if r.servers]
    roots = {r: comp.get(where.get(r, "")) for r in racks}
    return frozenset(
        (x, y)
        for i, x in enumerate(racks)
        for y in racks[i + 1 :]
        if roots[x] is None or roots[x] != roots[y]
    )


def cut_server_pairs(state: NetworkState) -> frozenset[tuple[str, str]]:
    """Every pair of servers in different racks that cannot reach each other."""
    servers = {r.name: r.servers for r in state.racks}
    return frozenset((s, t) for x, y in cut_racks(state) for s in servers[x] for t in servers[y])


def graph_edges(state: NetworkState) -> list[tuple[str, str, float]]:
    """The working network as `(node, node, 1.0)` edges, servers and switches alike: each
    server to its working access switch, then every working link, in design order."""
    fabric = state.fabric
    if fabric is None:
        return []
    edges = [(c.server, c.switch, 1.0) for c in fabric.cabling if fabric.switches[c.switch].working]
    edges += [(ln.a.switch, ln.b.switch, 1.0) for ln in fabric.links if link_works(fabric, ln)]
    return edges


def site(state: NetworkState) -> dict[str, Any]:
    """The site as routines read it (`facts()["site"]`)."""
    return {
        "racks": len(state.racks),
        "servers_per_rack": max((len(r.servers) for r in state.racks), default=0),
        "rack_names": [r.name for r in state.racks],
        "servers": [s for r in state.racks for s in r.servers],
        "rack_servers": {r.name: list(r.servers) for r in state.racks},
    }


def facts(state: NetworkState) -> dict[str, Any]:
    """`{"site": {"racks": N, "servers_per_rack": M, "rack_names", "servers",
    "rack_servers"}, "fabric": null | {"fingerprint", "kind", "roles": {role: [switches]},
    "switches": {name: {"role", "state", "failed", "working", "rack", "uplinks",
    "working_uplinks"}}, "racks": {rack: switch}, "links", "working_links", "reachable"}}`."""
    fabric = state.fabric
    if fabric is None:
        return {"site": site(state), "fabric": None}
    served = {sw: rack for rack, sw in rack_switches(fabric).items()}
    roles: dict[str, list[str]] = {}
    switches: dict[str, Any] = {}
    for name, sw in fabric.switches.items():
        roles.setdefault(sw.role, []).append(name)
        ups = uplinks(fabric, name)
        switches[name] = {
            "role": sw.role,
            "state": sw.state,
            "failed": sw.failed,
            "working": sw.working,
            "rack": served.get(name),
            "uplinks": len(ups),
            "working_uplinks": sum(1 for ln in ups if link_works(fabric, ln)),
        }
    return {
        "site": site(state),
        "fabric": {
            "fingerprint": fabric.fingerprint,
            "kind": fabric.kind,
            "roles": roles,
            "switches": switches,
            "racks": rack_switches(fabric),
            "links": len(fabric.links),
            "working_links": sum(1 for ln in fabric.links if link_works(fabric, ln)),
            "reachable": not cut_racks(state),
        },
    }


def inventory_entities(state: NetworkState) -> dict[str, list[str]]:
    """Entity names by kind: `rack`, `server`, and `switch` once a fabric is applied (before
    that, switch names are not checked: a plan may name the switches it deploys)."""
    out = {
        "rack": [r.name for r in state.racks],
        "server": [s for r in state.racks for s in r.servers],
    }
    if state.fabric is not None:
        out["switch"] = list(state.fabric.switches)
    return out
