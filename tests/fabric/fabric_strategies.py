"""Hypothesis strategies for the fabric tests: specs that a fabric can meet."""

from __future__ import annotations

from ipaddress import IPv4Network

from hypothesis import strategies as st

from planactor.fabric import FatTreeSpec, LeafSpineSpec

__all__ = ["ASN_BASES", "fat_tree_specs", "leaf_spine_specs", "pools"]

# Both private ranges, at their starts and near the 2-byte range's end.
ASN_BASES = st.sampled_from([64512, 65000, 65100, 4200000000, 4200000123])


@st.composite
def pools(draw: st.DrawFn, links: int, switches: int) -> tuple[IPv4Network, IPv4Network]:
    """A p2p pool in 10/8 big enough for `links` /31s, a loopback pool in 172.16/12."""
    need = max(2 * links, 2)
    smallest = 32 - (need - 1).bit_length()
    p2p_prefix = draw(st.integers(min_value=max(smallest - 4, 8), max_value=smallest))
    p2p_block = draw(st.integers(min_value=0, max_value=(1 << (p2p_prefix - 8)) - 1))
    p2p = IPv4Network(((10 << 24) + (p2p_block << (32 - p2p_prefix)), p2p_prefix))
    lo_smallest = 32 - switches.bit_length()  # room for switches + 1 addresses
    lo_prefix = draw(st.integers(min_value=max(lo_smallest - 4, 12), max_value=lo_smallest))
    lo_block = draw(st.integers(min_value=0, max_value=(1 << (lo_prefix - 12)) - 1))
    loopback = IPv4Network(((172 << 24) + (16 << 16) + (lo_block << (32 - lo_prefix)), lo_prefix))
    return p2p, loopback


@st.composite
def leaf_spine_specs(
    draw: st.DrawFn, *, max_leaves: int = 24, max_spines: int = 6, max_uplinks: int = 3
) -> LeafSpineSpec:
    leaves = draw(st.integers(min_value=1, max_value=max_leaves))
    spines = draw(st.integers(min_value=1, max_value=max_spines))
    per = draw(st.integers(min_value=1, max_value=max_uplinks))
    servers = draw(st.integers(min_value=0, max_value=48))
    p2p, loopback = draw(pools(leaves * spines * per, leaves + spines))
    return LeafSpineSpec(
        leaves=leaves,
        spines=spines,
        servers_per_leaf=servers,
        uplinks_per_spine=per,
        server_link_gbps=draw(st.sampled_from([10, 25, 50, 100])),
        uplink_gbps=draw(st.sampled_from([40, 100, 400])),
        leaf_ports=servers + spines * per + draw(st.integers(min_value=0, max_value=8)),
        spine_ports=leaves * per + draw(st.integers(min_value=0, max_value=8)),
        p2p_pool=p2p,
        loopback_pool=loopback,
        asn_base=draw(ASN_BASES),
        spine_asn=draw(st.sampled_from(["shared", "per-spine"])),
    )


@st.composite
def fat_tree_specs(draw: st.DrawFn, *, max_k: int = 10) -> FatTreeSpec:
    k = draw(st.integers(min_value=1, max_value=max_k // 2)) * 2
    p2p, loopback = draw(pools(k**3 // 2, 5 * (k // 2) ** 2))
    return FatTreeSpec(
        k=k,
        server_link_gbps=draw(st.sampled_from([25, 100])),
        uplink_gbps=draw(st.sampled_from([100, 400])),
        p2p_pool=p2p,
        loopback_pool=loopback,
        asn_base=draw(ASN_BASES),
    )
