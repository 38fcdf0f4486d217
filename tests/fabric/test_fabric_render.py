"""Renderings: the JSON document (round trip, determinism) and Graphviz DOT text."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from fabric_strategies import fat_tree_specs, leaf_spine_specs
from hypothesis import given, settings

from planactor.fabric import (
    FabricDocument,
    FatTreeSpec,
    LeafSpineSpec,
    fat_tree,
    from_document,
    leaf_spine,
    to_document,
    to_dot,
    to_json,
)

SETTINGS = settings(max_examples=40, deadline=None)

SMALL = leaf_spine(LeafSpineSpec(leaves=2, spines=2, servers_per_leaf=2))


def test_document_layout() -> None:
    """The document holds summary, spec, switches (with port maps) and links, as engineers
    write them: interface addresses with their prefix, ports by name."""
    doc = json.loads(to_json(SMALL))
    assert list(doc) == ["summary", "spec", "switches", "links"]
    assert doc["summary"] == {
        "kind": "leaf-spine",
        "switches": 4,
        "roles": {"spine": 2, "leaf": 2},
        "servers": 4,
        "links": 4,
        "asns": 3,
        "oversubscription": 0.25,
    }
    assert doc["spec"]["p2p_pool"] == "10.0.0.0/16"
    assert doc["spec"]["kind"] == "leaf-spine"
    leaf = doc["switches"][2]
    assert {k: leaf[k] for k in ("name", "asn", "loopback", "servers", "server_ports")} == {
        "name": "leaf-1",
        "asn": 65001,
        "loopback": "10.255.0.3/32",
        "servers": 2,
        "server_ports": "Ethernet1-Ethernet2",
    }
    assert leaf["ports"][0] == {
        "port": "Ethernet3",
        "role": "uplink",
        "peer": "spine-1",
        "peer_port": "Ethernet1",
        "speed_gbps": 100,
        "address": "10.0.0.1/31",
    }
    assert doc["switches"][0]["server_ports"] is None
    assert doc["links"][0] == {
        "a": {"switch": "spine-1", "port": "Ethernet1", "address": "10.0.0.0/31"},
        "b": {"switch": "leaf-1", "port": "Ethernet3", "address": "10.0.0.1/31"},
        "speed_gbps": 100,
        "subnet": "10.0.0.0/31",
    }


def test_single_server_port_range() -> None:
    """One server is shown as a single port, not a range."""
    fabric = leaf_spine(LeafSpineSpec(leaves=1, spines=1, servers_per_leaf=1))
    assert to_document(fabric)["switches"][1]["server_ports"] == "Ethernet1"


@SETTINGS
@given(spec=leaf_spine_specs(max_leaves=12))
def test_leaf_spine_json_round_trip(spec: LeafSpineSpec) -> None:
    """JSON text -> document model -> fabric gives back the very same fabric, and the
    document model prints the same bytes as to_json."""
    fabric = leaf_spine(spec)
    text = to_json(fabric)
    doc = FabricDocument.model_validate_json(text)
    assert from_document(doc) == fabric
    assert doc.model_dump_json(indent=2) == text


@SETTINGS
@given(spec=fat_tree_specs(max_k=6))
def test_fat_tree_json_round_trip(spec: FatTreeSpec) -> None:
    """Fat-trees survive the JSON round trip too, pods and positions included."""
    fabric = fat_tree(spec)
    assert from_document(FabricDocument.model_validate_json(to_json(fabric))) == fabric


def test_json_is_deterministic_and_compact_on_request() -> None:
    """The same fabric always gives the same text; indent=None gives one line."""
    assert to_json(SMALL) == to_json(leaf_spine(SMALL.spec))
    assert "\n" not in to_json(SMALL, indent=None)
    assert json.loads(to_json(SMALL, indent=None)) == json.loads(to_json(SMALL))


_EDGE = re.compile(r'^\s*"([^"]+)" -- "([^"]+)" \[(.*)\];$')
_NODE = re.compile(r'^\s*"([^"]+)" \[label=')


def _dot_edges(dot: str) -> list[tuple[str, str, str]]:
    return [m.groups() for line in dot.splitlines() if (m := _EDGE.match(line))]  # type: ignore[misc]


@SETTINGS
@given(spec=leaf_spine_specs(max_leaves=12))
def test_dot_has_every_switch_and_link(spec: LeafSpineSpec) -> None:
    """DOT text: one node per switch, one edge per link with its ports and /31, braces balanced."""
    fabric = leaf_spine(spec)
    dot = to_dot(fabric)
    nodes = [m.group(1) for line in dot.splitlines() if (m := _NODE.match(line))]
    assert nodes == [sw.name for sw in fabric.switches]
    edges = _dot_edges(dot)
    assert [(a, b) for a, b, _ in edges] == [(e.a.switch, e.b.switch) for e in fabric.links]
    first = fabric.links[0]
    assert f'taillabel="{first.a.port_name}"' in edges[0][2]
    assert f'tooltip="{first.subnet}"' in edges[0][2]
    assert dot.startswith('graph "leaf-spine" {')
    assert dot.count("{") == dot.count("}")


def test_dot_fat_tree_clusters_pods() -> None:
    """A fat-tree's DOT draws one cluster per pod, cores outside them, on one rank."""
    dot = to_dot(fat_tree(FatTreeSpec(k=4)))
    assert dot.count("subgraph") == 4
    assert 'subgraph "cluster_pod3" {' in dot
    assert '{ rank=same; "core-1"; "core-2"; "core-3"; "core-4"; }' in dot
    assert '"edge-2-1" [label="edge-2-1\\nAS65007\\n10.255.0.11/32\\n2 servers"];' in dot
    assert len(_dot_edges(dot)) == 32


def test_dot_without_ports_and_with_awkward_names() -> None:
    """ports=False drops port labels; quotes and backslashes in names are escaped."""
    odd = replace(
        SMALL,
        switches=tuple(
            replace(sw, name='leaf "1"\\x') if sw.name == "leaf-1" else sw for sw in SMALL.switches
        ),
    )
    dot = to_dot(odd, ports=False)
    assert "taillabel" not in dot
    assert '"leaf \\"1\\"\\\\x" [label="leaf \\"1\\"\\\\x\\nAS65001' in dot
