"""The fabric model and its pure generators: two-tier leaf-spine (Clos) and k-ary fat-tree.

Conventions (RFC 7938: eBGP on every link, one session per /31):

- names: `spine-1`, `leaf-01`; `core-01`, `agg-P-I`, `edge-P-I` (pod P, position I), numbers
  zero-padded to the width of the largest so names sort in order;
- ports: `Ethernet1`... Servers take a switch's first ports (`Ethernet1`..`EthernetS`), uplinks
  follow them; a spine's port N faces leaf N (times `uplinks_per_spine`);
- ASNs (private only): leaf-spine, all spines share `asn_base` and leaf N has `asn_base + N`
  (or, with `spine_asn="per-spine"`, spines take `asn_base`.. and leaves follow them);
  fat-tree, the cores share `asn_base`, pod P's aggregation switches share `asn_base + P`,
  and every edge switch has its own ASN after those;
- addresses: link N (in generation order) takes the Nth /31 of `p2p_pool`, the upper-tier end
  the even address; loopbacks are /32s from `loopback_pool`, from its first host address,
  in switch order.

The model is a set of frozen dataclasses. Links and server counts are the source of truth;
port maps (`port_map`) and the summary (`summarize`) are derived from them, so a fabric
cannot disagree with itself. Nothing here enforces the invariants: broken fabrics can be
built (by hand, or from a document) and `check_fabric` reports what is wrong with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Literal

from planactor._errors import InputError

__all__ = [
    "ACCESS_ROLES",
    "DEFAULT_LOOPBACK_POOL",
    "DEFAULT_P2P_POOL",
    "PRIVATE_ASNS",
    "ROLES",
    "TIER",
    "Endpoint",
    "Fabric",
    "FatTreeSpec",
    "Kind",
    "LeafSpineSpec",
    "Link",
    "Port",
    "Role",
    "SpineAsn",
    "Summary",
    "Switch",
    "check_spec",
    "fat_tree",
    "generate",
    "is_private_asn",
    "leaf_spine",
    "oversubscription",
    "port_map",
    "port_name",
    "server_name",
    "summarize",
]

Role = Literal["spine", "leaf", "core", "aggregation", "edge"]
Kind = Literal["leaf-spine", "fat-tree"]
SpineAsn = Literal["shared", "per-spine"]

# The roles each kind of fabric is made of, top tier first.
ROLES: dict[Kind, tuple[Role, ...]] = {
    "leaf-spine": ("spine", "leaf"),
    "fat-tree": ("core", "aggregation", "edge"),
}
# Switches servers attach to (top of rack).
ACCESS_ROLES: frozenset[str] = frozenset({"leaf", "edge"})
# Height of each tier: a port towards a higher tier is an uplink.
TIER: dict[str, int] = {"leaf": 0, "edge": 0, "spine": 1, "aggregation": 1, "core": 2}
# RFC 6996 private-use ranges, 2-byte and 4-byte.
PRIVATE_ASNS: tuple[tuple[int, int], ...] = ((64512, 65534), (4200000000, 4294967294))

DEFAULT_P2P_POOL = IPv4Network("10.0.0.0/16")
DEFAULT_LOOPBACK_POOL = IPv4Network("10.255.0.0/16")


def port_name(number: int) -> str:
    return f"Ethernet{number}"


def server_name(switch: str, number: int, servers: int) -> str:
    """`leaf-01-srv07`: the server on a switch's port `number` (servers use the first ports)."""
    return f"{switch}-srv{number:0{len(str(servers))}d}"


def is_private_asn(asn: int) -> bool:
    return any(lo <= asn <= hi for lo, hi in PRIVATE_ASNS)


# -- the model -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LeafSpineSpec:
    """What a two-tier leaf-spine fabric is asked to be (every leaf linked to every spine)."""

    leaves: int
    spines: int
    servers_per_leaf: int
    uplinks_per_spine: int = 1
    server_link_gbps: int = 25
    uplink_gbps: int = 100
    oversubscription_max: float | None = None
    leaf_ports: int = 64
    spine_ports: int = 64
    p2p_pool: IPv4Network = DEFAULT_P2P_POOL
    loopback_pool: IPv4Network = DEFAULT_LOOPBACK_POOL
    asn_base: int = 65000
    spine_asn: SpineAsn = "shared"

    @property
    def kind(self) -> Kind:
        return "leaf-spine"


@dataclass(frozen=True, slots=True, kw_only=True)
class FatTreeSpec:
    """A k-ary fat-tree (Al-Fares et al. 2008): k pods of k/2 edge and k/2 aggregation
    switches, (k/2)^2 cores, k^3/4 hosts; every switch has k ports."""

    k: int
    server_link_gbps: int = 100
    uplink_gbps: int = 100
    oversubscription_max: float | None = None
    p2p_pool: IPv4Network = DEFAULT_P2P_POOL
    loopback_pool: IPv4Network = DEFAULT_LOOPBACK_POOL
    asn_base: int = 65000

    @property
    def kind(self) -> Kind:
        return "fat-tree"


@dataclass(frozen=True, slots=True, kw_only=True)
class Switch:
    """A switch. `pod` is set in fat-trees; `index` is its 1-based position in its tier
    (in its pod, for aggregation and edge switches). Servers use ports 1..`servers`."""

    name: str
    role: Role
    index: int
    pod: int | None = None
    asn: int
    loopback: IPv4Address
    port_count: int
    servers: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """One end of a link: a switch's port and its address in the link's /31."""

    switch: str
    port: int
    address: IPv4Address

    @property
    def port_name(self) -> str:
        return port_name(self.port)


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """A routed point-to-point link; `a` is the upper-tier end, `b` the lower one."""

    a: Endpoint
    b: Endpoint
    speed_gbps: int

    @property
    def subnet(self) -> IPv4Network:
        """The /31 holding `a`'s address (`b`'s should be the other half)."""
        return IPv4Network((int(self.a.address) & ~1, 31))


@dataclass(frozen=True, slots=True, kw_only=True)
class Port:
    """A used port in a switch's port map: what it faces and how it is addressed."""

    number: int
    role: Literal["uplink", "downlink"]
    peer: str
    peer_port: str
    speed_gbps: int
    address: IPv4Address | None = None  # None on server ports (not routed here)

    @property
    def name(self) -> str:
        return port_name(self.number)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fabric:
    """A generated (or loaded) fabric: its spec, its switches and its switch-to-switch links."""

    spec: LeafSpineSpec | FatTreeSpec
    switches: tuple[Switch, ...]
    links: tuple[Link, ...]

    @property
    def kind(self) -> Kind:
        return self.spec.kind


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """Counts and the worst oversubscription (None: an access switch has servers but no
    uplink capacity)."""

    kind: Kind
    switches: int
    roles: dict[str, int]
    servers: int
    links: int
    asns: int
    oversubscription: float | None


# -- derived views -------------------------------------------------------------------------


def port_map(fabric: Fabric, *, servers: bool = True) -> dict[str, tuple[Port, ...]]:
    """Every switch's used ports in port order (without server ports if `servers=False`).

    Keyed by switch name; a link end naming no switch of the fabric is left out (the
    validator reports it). The first of two switches with one name gets the ports.
    """
    by_name: dict[str, Switch] = {}
    for sw in fabric.switches:
        by_name.setdefault(sw.name, sw)
    ports: dict[str, list[Port]] = {name: [] for name in by_name}
    server_gbps = fabric.spec.server_link_gbps
    for name, sw in by_name.items() if servers else ():
        ports[name].extend(
            Port(
                number=n,
                role="downlink",
                peer=server_name(name, n, sw.servers),
                peer_port="eth0",
                speed_gbps=server_gbps,
            )
            for n in range(1, sw.servers + 1)
        )
    for link in fabric.links:
        for near, far in ((link.a, link.b), (link.b, link.a)):
            mine = by_name.get(near.switch)
            if mine is None:
                continue
            peer = by_name.get(far.switch)
            up = peer is not None and TIER[peer.role] > TIER[mine.role]
            ports[near.switch].append(
                Port(
                    number=near.port,
                    role="uplink" if up else "downlink",
                    peer=far.switch,
                    peer_port=far.port_name,
                    speed_gbps=link.speed_gbps,
                    address=near.address,
                )
            )
    return {name: tuple(sorted(p, key=lambda port: port.number)) for name, p in ports.items()}


def oversubscription(fabric: Fabric) -> dict[str, float | None]:
    """Per access switch with servers: server capacity over uplink capacity (None: no uplinks).

    Every link of a leaf or an edge switch goes up, so its uplink capacity is the sum of
    the speeds of its links.
    """
    uplink: dict[str, int] = {}
    for link in fabric.links:
        for end in (link.a, link.b):
            uplink[end.switch] = uplink.get(end.switch, 0) + link.speed_gbps
    gbps = fabric.spec.server_link_gbps
    ratios: dict[str, float | None] = {}
    for sw in fabric.switches:
        if sw.role in ACCESS_ROLES and sw.servers and sw.name not in ratios:
            up = uplink.get(sw.name, 0)
            ratios[sw.name] = sw.servers * gbps / up if up else None
    return ratios


def summarize(fabric: Fabric) -> Summary:
    roles: dict[str, int] = dict.fromkeys(ROLES[fabric.kind], 0)
    for sw in fabric.switches:
        roles[sw.role] = roles.get(sw.role, 0) + 1
    ratios = list(oversubscription(fabric).values())
    worst: float | None = 0.0
    if None in ratios:
        worst = None
    elif ratios:
        worst = max(r for r in ratios if r is not None)
    return Summary(
        kind=fabric.kind,
        switches=len(fabric.switches),
        roles=roles,
        servers=sum(sw.servers for sw in fabric.switches),
        links=len(fabric.links),
        asns=len({sw.asn for sw in fabric.switches}),
        oversubscription=worst,
    )


# -- checking a spec -----------------------------------------------------------------------


def _at_least(name: str, value: int, minimum: int, hint: str | None = None) -> None:
    if value < minimum:
        raise InputError(
            f"{name} must be at least {minimum}, not {value}",
            hint=hint or f"set {name} to {minimum} or more",
        )


def _check_pools(spec: LeafSpineSpec | FatTreeSpec, links: int, switches: int) -> None:
    for name, pool in (("p2p_pool", spec.p2p_pool), ("loopback_pool", spec.loopback_pool)):
        if not isinstance(pool, IPv4Network):
            raise InputError(
                f"{name} must be an IPv4 network, not {pool!r}",
                hint=f"for example {name}=IPv4Network('10.0.0.0/16')",
            )
    if spec.p2p_pool.overlaps(spec.loopback_pool):
        raise InputError(
            f"p2p_pool {spec.p2p_pool} and loopback_pool {spec.loopback_pool} overlap",
            hint="give loopbacks a pool of their own, e.g. 10.255.0.0/16 beside 10.0.0.0/16",
        )
    need = 2 * links
    if spec.p2p_pool.num_addresses < need:
        raise InputError(
            f"p2p_pool {spec.p2p_pool} holds {spec.p2p_pool.num_addresses} addresses, but "
            f"{links} links need {need} (one /31 each)",
            hint=f"use a /{_prefix_for(need)} or larger",
        )
    # Loopbacks start at the pool's first host address, as engineers number them.
    if spec.loopback_pool.num_addresses < switches + 1:
        raise InputError(
            f"loopback_pool {spec.loopback_pool} is too small for {switches} switches "
            f"(one /32 each, from its first host address)",
            hint=f"use a /{_prefix_for(switches + 1)} or larger",
        )


def _prefix_for(addresses: int) -> int:
    return 32 - (addresses - 1).bit_length()


def _check_asns(base: int, count: int) -> None:
    last = base + count - 1
    for lo, hi in PRIVATE_ASNS:
        if lo <= base <= hi:
            if last > hi:
                raise InputError(
                    f"asn_base {base}: the fabric needs {count} ASNs, up to {last}, past the "
                    f"end of the private range {lo}-{hi}",
                    hint="use the 4-byte private range: asn_base=4200000000",
                )
            return
    raise InputError(
        f"asn_base {base} is not a private ASN (RFC 6996: 64512-65534, 4200000000-4294967294)",
        hint="use asn_base=65000 or asn_base=4200000000",
    )


def _check_speeds(spec: LeafSpineSpec | FatTreeSpec) -> None:
    _at_least("server_link_gbps", spec.server_link_gbps, 1)
    _at_least("uplink_gbps", spec.uplink_gbps, 1)
    if spec.oversubscription_max is not None and not spec.oversubscription_max > 0:
        raise InputError(
            f"oversubscription_max must be positive, not {spec.oversubscription_max}",
            hint="3.0 means at most 3:1; leave it out for no limit",
        )


def check_spec(spec: LeafSpineSpec | FatTreeSpec) -> None:
    """Refuse (InputError, naming the field and how to fix it) a spec no fabric can meet."""
    _check_speeds(spec)
    if isinstance(spec, FatTreeSpec):
        _check_fat_tree(spec)
        return
    _at_least("leaves", spec.leaves, 1)
    _at_least("spines", spec.spines, 1, "a leaf-spine fabric needs at least one spine")
    _at_least("servers_per_leaf", spec.servers_per_leaf, 0)
    _at_least("uplinks_per_spine", spec.uplinks_per_spine, 1)
    if spec.spine_asn not in ("shared", "per-spine"):
        raise InputError(
            f"spine_asn must be 'shared' or 'per-spine', not {spec.spine_asn!r}",
            hint="'shared' (RFC 7938): every spine in one ASN",
        )
    uplinks = spec.spines * spec.uplinks_per_spine
    leaf_need = spec.servers_per_leaf + uplinks
    if leaf_need > spec.leaf_ports:
        raise InputError(
            f"leaf_ports: a leaf needs {leaf_need} ports ({spec.servers_per_leaf} servers + "
            f"{uplinks} uplinks: {spec.spines} spines x {spec.uplinks_per_spine}), "
            f"but has {spec.leaf_ports}",
            hint=f"raise leaf_ports to {leaf_need}, or use fewer servers_per_leaf, spines "
            "or uplinks_per_spine",
        )
    spine_need = spec.leaves * spec.uplinks_per_spine
    if spine_need > spec.spine_ports:
        raise InputError(
            f"spine_ports: a spine needs {spine_need} ports ({spec.leaves} leaves x "
            f"{spec.uplinks_per_spine} uplinks), but has {spec.spine_ports}",
            hint=f"raise spine_ports to {spine_need}, or use fewer leaves or uplinks_per_spine",
        )
    switches = spec.leaves + spec.spines
    _check_pools(spec, spec.leaves * uplinks, switches)
    spine_asns = 1 if spec.spine_asn == "shared" else spec.spines
    _check_asns(spec.asn_base, spine_asns + spec.leaves)


def _check_fat_tree(spec: FatTreeSpec) -> None:
    if spec.k < 2 or spec.k % 2:
        suggestion = max(2, spec.k + spec.k % 2)
        raise InputError(
            f"k must be an even number of at least 2, not {spec.k}",
            hint=f"a k-ary fat-tree splits each switch's k ports half down, half up: "
            f"try k={suggestion}",
        )
    h = spec.k // 2
    _check_pools(spec, spec.k**3 // 2, 5 * h * h)
    _check_asns(spec.asn_base, 1 + spec.k + spec.k * h)


# -- generators ----------------------------------------------------------------------------


def _names(prefix: str, count: int) -> list[str]:
    width = len(str(count))
    return [f"{prefix}-{i:0{width}d}" for i in range(1, count + 1)]


def leaf_spine(spec: LeafSpineSpec) -> Fabric:
    """Generate a two-tier leaf-spine fabric: every leaf linked to every spine
    `uplinks_per_spine` times. Raises InputError for a spec no fabric can meet."""
    check_spec(spec)
    n_spines, n_leaves, per = spec.spines, spec.leaves, spec.uplinks_per_spine
    servers = spec.servers_per_leaf
    spine_names, leaf_names = _names("spine", n_spines), _names("leaf", n_leaves)
    base = spec.asn_base
    shared = spec.spine_asn == "shared"
    first_leaf_asn = base + 1 if shared else base + n_spines
    loopback = int(spec.loopback_pool.network_address) + 1
    switches = [
        Switch(
            name=name,
            role="spine",
            index=i + 1,
            asn=base if shared else base + i,
            loopback=IPv4Address(loopback + i),
            port_count=spec.spine_ports,
        )
        for i, name in enumerate(spine_names)
    ]
    switches += [
        Switch(
            name=name,
            role="leaf",
            index=i + 1,
            asn=first_leaf_asn + i,
            loopback=IPv4Address(loopback + n_spines + i),
            port_count=spec.leaf_ports,
            servers=servers,
        )
        for i, name in enumerate(leaf_names)
    ]
    address = int(spec.p2p_pool.network_address)
    speed = spec.uplink_gbps
    links: list[Link] = []
    for s, spine in enumerate(spine_names):
        leaf_port = servers + s * per  # uplink ports follow the server ports
        for leaf_i, leaf in enumerate(leaf_names):
            spine_port = leaf_i * per
            for u in range(1, per + 1):
                links.append(
                    Link(
                        a=Endpoint(switch=spine, port=spine_port + u, address=IPv4Address(address)),
                        b=Endpoint(
                            switch=leaf, port=leaf_port + u, address=IPv4Address(address + 1)
                        ),
                        speed_gbps=speed,
                    )
                )
                address += 2
    return Fabric(spec=spec, switches=tuple(switches), links=tuple(links))


def fat_tree(spec: FatTreeSpec) -> Fabric:
    """Generate a k-ary fat-tree. In pod P, aggregation switch J links to every edge switch
    and to cores (J-1)*k/2+1 .. J*k/2; core C's port P faces pod P. Raises InputError for
    an odd or too small k, or pools or ASNs too small."""
    check_spec(spec)
    k = spec.k
    h = k // 2
    pod_w, pos_w = len(str(k)), len(str(h))
    cores = _names("core", h * h)
    aggs = [[f"agg-{p:0{pod_w}d}-{j:0{pos_w}d}" for j in range(1, h + 1)] for p in range(1, k + 1)]
    edges = [
        [f"edge-{p:0{pod_w}d}-{j:0{pos_w}d}" for j in range(1, h + 1)] for p in range(1, k + 1)
    ]
    base = spec.asn_base
    loopback = int(spec.loopback_pool.network_address) + 1
    switches = [
        Switch(
            name=name,
            role="core",
            index=i + 1,
            asn=base,
            loopback=IPv4Address(loopback + i),
            port_count=k,
        )
        for i, name in enumerate(cores)
    ]
    edge_asn = base + k + 1
    for p in range(k):
        for j, name in enumerate(aggs[p]):
            switches.append(
                Switch(
                    name=name,
                    role="aggregation",
                    index=j + 1,
                    pod=p + 1,
                    asn=base + p + 1,
                    loopback=IPv4Address(loopback + len(switches)),
                    port_count=k,
                )
            )
        for j, name in enumerate(edges[p]):
            switches.append(
                Switch(
                    name=name,
                    role="edge",
                    index=j + 1,
                    pod=p + 1,
                    asn=edge_asn,
                    loopback=IPv4Address(loopback + len(switches)),
                    port_count=k,
                    servers=h,
                )
            )
            edge_asn += 1
    address = int(spec.p2p_pool.network_address)
    speed = spec.uplink_gbps
    links: list[Link] = []

    def link(upper: str, upper_port: int, lower: str, lower_port: int) -> None:
        nonlocal address
        links.append(
            Link(
                a=Endpoint(switch=upper, port=upper_port, address=IPv4Address(address)),
                b=Endpoint(switch=lower, port=lower_port, address=IPv4Address(address + 1)),
                speed_gbps=speed,
            )
        )
        address += 2

    for p in range(k):
        # Edge switch I: hosts on ports 1..h, aggregation J on port h+J.
        # Aggregation switch J: edge I on port I, its cores on ports h+1..k.
        for j, agg in enumerate(aggs[p]):
            for i, edge in enumerate(edges[p]):
                link(agg, i + 1, edge, h + j + 1)
        for j, agg in enumerate(aggs[p]):
            for m in range(h):
                link(cores[j * h + m], p + 1, agg, h + m + 1)
    return Fabric(spec=spec, switches=tuple(switches), links=tuple(links))


def generate(spec: LeafSpineSpec | FatTreeSpec) -> Fabric:
    """The fabric a spec asks for (leaf-spine or fat-tree)."""
    return fat_tree(spec) if isinstance(spec, FatTreeSpec) else leaf_spine(spec)
