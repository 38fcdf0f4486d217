"""The fabric generators: leaf-spine and fat-tree fabrics, their conventions and limits."""

from __future__ import annotations

import re
from collections import Counter
from ipaddress import IPv4Address, IPv4Network

import pytest
from fabric_strategies import fat_tree_specs, leaf_spine_specs
from hypothesis import given, settings

from planactor import InputError
from planactor.fabric import (
    Fabric,
    FatTreeSpec,
    LeafSpineSpec,
    check_fabric,
    fat_tree,
    generate,
    leaf_spine,
    oversubscription,
    port_map,
    summarize,
    to_json,
)

SETTINGS = settings(max_examples=60, deadline=None)


def _small() -> Fabric:
    return leaf_spine(LeafSpineSpec(leaves=3, spines=2, servers_per_leaf=48))


def test_leaf_spine_names_asns_and_loopbacks() -> None:
    """Spines come first and share asn_base; leaf N has asn_base+N; loopbacks count from .1."""
    fabric = _small()
    rows = [(sw.name, sw.role, sw.asn, str(sw.loopback)) for sw in fabric.switches]
    assert rows == [
        ("spine-1", "spine", 65000, "10.255.0.1"),
        ("spine-2", "spine", 65000, "10.255.0.2"),
        ("leaf-1", "leaf", 65001, "10.255.0.3"),
        ("leaf-2", "leaf", 65002, "10.255.0.4"),
        ("leaf-3", "leaf", 65003, "10.255.0.5"),
    ]


def test_leaf_spine_links_ports_and_31s() -> None:
    """Link N takes the Nth /31, spine on the even address; leaf uplinks follow its servers."""
    fabric = _small()
    rows = [
        (
            link.a.switch,
            link.a.port_name,
            str(link.a.address),
            link.b.switch,
            link.b.port_name,
            str(link.b.address),
            str(link.subnet),
        )
        for link in fabric.links
    ]
    assert rows == [
        ("spine-1", "Ethernet1", "10.0.0.0", "leaf-1", "Ethernet49", "10.0.0.1", "10.0.0.0/31"),
        ("spine-1", "Ethernet2", "10.0.0.2", "leaf-2", "Ethernet49", "10.0.0.3", "10.0.0.2/31"),
        ("spine-1", "Ethernet3", "10.0.0.4", "leaf-3", "Ethernet49", "10.0.0.5", "10.0.0.4/31"),
        ("spine-2", "Ethernet1", "10.0.0.6", "leaf-1", "Ethernet50", "10.0.0.7", "10.0.0.6/31"),
        ("spine-2", "Ethernet2", "10.0.0.8", "leaf-2", "Ethernet50", "10.0.0.9", "10.0.0.8/31"),
        ("spine-2", "Ethernet3", "10.0.0.10", "leaf-3", "Ethernet50", "10.0.0.11", "10.0.0.10/31"),
    ]


def test_parallel_uplinks_take_consecutive_ports() -> None:
    """With two uplinks per spine, spine port 2N-1..2N faces leaf N, and a leaf's uplinks to
    one spine sit side by side."""
    fabric = leaf_spine(LeafSpineSpec(leaves=2, spines=2, servers_per_leaf=4, uplinks_per_spine=2))
    pairs = [(e.a.switch, e.a.port, e.b.switch, e.b.port) for e in fabric.links]
    assert pairs[:4] == [
        ("spine-1", 1, "leaf-1", 5),
        ("spine-1", 2, "leaf-1", 6),
        ("spine-1", 3, "leaf-2", 5),
        ("spine-1", 4, "leaf-2", 6),
    ]
    assert pairs[4] == ("spine-2", 1, "leaf-1", 7)


def test_names_are_zero_padded_to_sort() -> None:
    """Names pad their numbers to the widest, so 12 leaves run leaf-01..leaf-12."""
    fabric = leaf_spine(LeafSpineSpec(leaves=12, spines=2, servers_per_leaf=0))
    leaves = [sw.name for sw in fabric.switches if sw.role == "leaf"]
    assert leaves[0] == "leaf-01"
    assert leaves == sorted(leaves)


def test_per_spine_asns() -> None:
    """With spine_asn='per-spine', each spine has its own ASN and leaves follow them."""
    fabric = leaf_spine(
        LeafSpineSpec(leaves=2, spines=3, servers_per_leaf=1, spine_asn="per-spine")
    )
    assert [sw.asn for sw in fabric.switches] == [65000, 65001, 65002, 65003, 65004]
    assert check_fabric(fabric).ok


def test_four_byte_asns() -> None:
    """A 4-byte private asn_base numbers the leaves from it."""
    fabric = leaf_spine(LeafSpineSpec(leaves=2, spines=1, servers_per_leaf=1, asn_base=4200000000))
    assert [sw.asn for sw in fabric.switches] == [4200000000, 4200000001, 4200000002]


def test_summary_and_oversubscription() -> None:
    """96 leaves of 48 x 25G servers over 4 x 100G uplinks: 100 switches, 384 links, 3:1."""
    fabric = leaf_spine(LeafSpineSpec(leaves=96, spines=4, servers_per_leaf=48, spine_ports=96))
    s = summarize(fabric)
    assert (s.kind, s.switches, s.links, s.servers, s.asns) == ("leaf-spine", 100, 384, 4608, 97)
    assert s.roles == {"spine": 4, "leaf": 96}
    assert s.oversubscription == 3.0
    assert set(oversubscription(fabric).values()) == {3.0}


def test_port_map_lists_servers_then_uplinks() -> None:
    """A leaf's port map: server ports first (downlinks to its servers), then its uplinks."""
    ports = port_map(_small())["leaf-2"]
    assert [p.name for p in ports[:2]] == ["Ethernet1", "Ethernet2"]
    assert (ports[0].peer, ports[0].peer_port, ports[0].address) == ("leaf-2-srv01", "eth0", None)
    assert all(p.role == "downlink" for p in ports[:48])
    up = ports[48:]
    assert [(p.name, p.role, p.peer, p.peer_port) for p in up] == [
        ("Ethernet49", "uplink", "spine-1", "Ethernet2"),
        ("Ethernet50", "uplink", "spine-2", "Ethernet2"),
    ]
    assert [str(p.address) for p in up] == ["10.0.0.3", "10.0.0.9"]
    spine = port_map(_small(), servers=False)["spine-1"]
    assert [(p.name, p.role, p.peer) for p in spine] == [
        ("Ethernet1", "downlink", "leaf-1"),
        ("Ethernet2", "downlink", "leaf-2"),
        ("Ethernet3", "downlink", "leaf-3"),
    ]


@SETTINGS
@given(spec=leaf_spine_specs())
def test_leaf_spine_properties(spec: LeafSpineSpec) -> None:
    """Any feasible spec: validates clean, leaves*spines*uplinks links, distinct /31s inside
    the pool, no port used twice, and the same spec gives the same JSON."""
    fabric = leaf_spine(spec)
    assert check_fabric(fabric).findings == ()
    assert len(fabric.links) == spec.leaves * spec.spines * spec.uplinks_per_spine
    assert len(fabric.switches) == spec.leaves + spec.spines
    subnets = [link.subnet for link in fabric.links]
    assert len(set(subnets)) == len(subnets)
    assert all(net.subnet_of(spec.p2p_pool) for net in subnets)
    assert all(
        link.a.address in link.subnet and link.b.address in link.subnet for link in fabric.links
    )
    loopbacks = {sw.loopback for sw in fabric.switches}
    assert len(loopbacks) == len(fabric.switches)
    assert all(lo in spec.loopback_pool for lo in loopbacks)
    ends = Counter((end.switch, end.port) for link in fabric.links for end in (link.a, link.b))
    assert max(ends.values()) == 1
    ports = port_map(fabric)
    for sw in fabric.switches:
        numbers = [p.number for p in ports[sw.name]]
        assert len(numbers) == len(set(numbers)) <= sw.port_count
    # Uplinks come after the server ports on every leaf.
    assert all(link.b.port > spec.servers_per_leaf for link in fabric.links)
    assert to_json(leaf_spine(spec)) == to_json(fabric)


@SETTINGS
@given(spec=fat_tree_specs())
def test_fat_tree_properties(spec: FatTreeSpec) -> None:
    """A k-ary fat-tree: (k/2)^2 cores, k pods of k/2 + k/2, k^3/4 hosts, k^3/2 links, every
    switch using all k ports, and a clean report."""
    k, h = spec.k, spec.k // 2
    fabric = fat_tree(spec)
    assert check_fabric(fabric).findings == ()
    s = summarize(fabric)
    assert s.roles == {"core": h * h, "aggregation": k * h, "edge": k * h}
    assert s.servers == k**3 // 4
    assert s.links == k**3 // 2
    assert {sw.pod for sw in fabric.switches if sw.role != "core"} == set(range(1, k + 1))
    ports = port_map(fabric)
    for sw in fabric.switches:
        assert sw.port_count == k
        assert len(ports[sw.name]) == k
    subnets = {link.subnet for link in fabric.links}
    assert len(subnets) == len(fabric.links)
    assert to_json(fat_tree(spec)) == to_json(fabric)


def test_fat_tree_k4_wiring() -> None:
    """k=4: agg J of each pod reaches cores 2J-1 and 2J; each core reaches one agg per pod."""
    fabric = fat_tree(FatTreeSpec(k=4))
    role = {sw.name: sw for sw in fabric.switches}
    core_links = [(e.a.switch, e.b.switch) for e in fabric.links if role[e.a.switch].role == "core"]
    assert sorted(c for c, agg in core_links if agg == "agg-1-1") == ["core-1", "core-2"]
    assert sorted(c for c, agg in core_links if agg == "agg-3-2") == ["core-3", "core-4"]
    for core in ("core-1", "core-2", "core-3", "core-4"):
        pods = sorted(role[agg].pod or 0 for c, agg in core_links if c == core)
        assert pods == [1, 2, 3, 4]
    assert [sw.asn for sw in fabric.switches if sw.pod == 2] == [65002, 65002, 65007, 65008]
    assert {sw.asn for sw in fabric.switches if sw.role == "core"} == {65000}


def test_generate_dispatches_on_the_spec() -> None:
    """generate() builds whichever kind of fabric its spec describes."""
    assert generate(FatTreeSpec(k=2)).kind == "fat-tree"
    assert generate(LeafSpineSpec(leaves=1, spines=1, servers_per_leaf=0)).kind == "leaf-spine"


def _leaf_spine(**changes: object) -> LeafSpineSpec:
    base: dict[str, object] = {"leaves": 4, "spines": 2, "servers_per_leaf": 48}
    return LeafSpineSpec(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (_leaf_spine(spines=0), "spines"),
        (_leaf_spine(leaves=0), "leaves"),
        (_leaf_spine(servers_per_leaf=-1), "servers_per_leaf"),
        (_leaf_spine(uplinks_per_spine=0), "uplinks_per_spine"),
        (_leaf_spine(uplink_gbps=0), "uplink_gbps"),
        (_leaf_spine(oversubscription_max=0.0), "oversubscription_max"),
        (_leaf_spine(spines=9, uplinks_per_spine=2), "leaf_ports"),
        (_leaf_spine(leaves=40, uplinks_per_spine=2), "spine_ports"),
        (_leaf_spine(p2p_pool=IPv4Network("10.0.0.0/29")), "p2p_pool"),
        (_leaf_spine(loopback_pool=IPv4Network("10.255.0.0/30")), "loopback_pool"),
        (_leaf_spine(loopback_pool=IPv4Network("10.0.128.0/24")), "loopback_pool"),
        (_leaf_spine(asn_base=100), "asn_base"),
        (_leaf_spine(asn_base=65533), "asn_base"),
        (_leaf_spine(spine_asn="each"), "spine_asn"),
        (FatTreeSpec(k=5), "k"),
        (FatTreeSpec(k=0), "k"),
        (FatTreeSpec(k=8, p2p_pool=IPv4Network("10.0.0.0/24")), "p2p_pool"),
        (FatTreeSpec(k=4, server_link_gbps=0), "server_link_gbps"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_impossible_specs_are_refused(spec: LeafSpineSpec | FatTreeSpec, field: str) -> None:
    """A spec no fabric can meet raises InputError naming the field, with a hint to fix it."""
    with pytest.raises(InputError) as exc:
        generate(spec)
    assert re.search(rf"\b{field}\b", str(exc.value))
    assert exc.value.hint
    assert exc.value.exit_code == 2


def test_pool_size_hint_names_the_prefix_needed() -> None:
    """A pool too small for the links says which prefix would do."""
    with pytest.raises(InputError) as exc:
        leaf_spine(
            _leaf_spine(leaves=40, spines=4, spine_ports=64, p2p_pool=IPv4Network("10.0.0.0/25"))
        )
    assert "160 links need 320" in str(exc.value)
    assert exc.value.hint == "use a /23 or larger"


def test_odd_k_hint_suggests_an_even_k() -> None:
    """An odd k is refused with the next even k as the suggestion."""
    with pytest.raises(InputError) as exc:
        fat_tree(FatTreeSpec(k=7))
    assert "k=8" in (exc.value.hint or "")


def test_loopbacks_start_at_the_first_host_address() -> None:
    """Loopbacks skip the pool's network address: spine-1 is .1, not .0."""
    fabric = leaf_spine(_leaf_spine(loopback_pool=IPv4Network("192.168.7.0/24")))
    assert fabric.switches[0].loopback == IPv4Address("192.168.7.1")
