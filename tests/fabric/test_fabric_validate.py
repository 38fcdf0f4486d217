"""The fabric validator: clean fabrics pass; every kind of breakage is reported with its code."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from fabric_strategies import fat_tree_specs, leaf_spine_specs
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from planactor.fabric import (
    CODES,
    Endpoint,
    Fabric,
    FabricDocument,
    FabricReport,
    FatTreeSpec,
    Finding,
    LeafSpineSpec,
    Link,
    check_document,
    check_fabric,
    fat_tree,
    leaf_spine,
    oversubscription,
    to_document,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "network.md"
SETTINGS = settings(max_examples=50, deadline=None)

# 3 leaves x 2 spines, 4 x 25G servers per leaf, 2 x 100G uplinks: 0.5:1, target 3:1.
LS = leaf_spine(
    LeafSpineSpec(
        leaves=3,
        spines=2,
        servers_per_leaf=4,
        leaf_ports=8,
        spine_ports=4,
        oversubscription_max=3.0,
    )
)
FT = fat_tree(FatTreeSpec(k=4))


def _switch(fabric: Fabric, name: str, **changes: object) -> Fabric:
    return replace(
        fabric,
        switches=tuple(
            replace(sw, **changes) if sw.name == name else sw  # type: ignore[arg-type]
            for sw in fabric.switches
        ),
    )


def _end(fabric: Fabric, i: int, side: str, **changes: object) -> Fabric:
    links = list(fabric.links)
    link = links[i]
    end = replace(getattr(link, side), **changes)
    links[i] = replace(link, **{side: end})
    return replace(fabric, links=tuple(links))


def _links(fabric: Fabric, links: list[Link]) -> Fabric:
    return replace(fabric, links=tuple(links))


def _extra_link(fabric: Fabric, a: str, a_port: int, b: str, b_port: int) -> Fabric:
    """A well-formed extra link, numbered from a /31 no other link uses."""
    link = Link(
        a=Endpoint(switch=a, port=a_port, address=IPv4Address("10.0.200.0")),
        b=Endpoint(switch=b, port=b_port, address=IPv4Address("10.0.200.1")),
        speed_gbps=100,
    )
    return _links(fabric, [*fabric.links, link])


def _link_index(fabric: Fabric, a: str, b: str) -> int:
    return next(i for i, e in enumerate(fabric.links) if (e.a.switch, e.b.switch) == (a, b))


def test_generated_fabrics_are_clean() -> None:
    """The reference fabrics report nothing at all."""
    assert check_fabric(LS).findings == ()
    assert check_fabric(FT).findings == ()


# Each breakage and the exact codes it must produce, in report order.
BROKEN: dict[str, tuple[Callable[[], Fabric], list[str]]] = {
    "missing leaf-spine link": (
        lambda: _links(LS, [e for i, e in enumerate(LS.links) if i != 0]),
        ["missing-link"],
    ),
    "duplicate p2p address": (
        lambda: _end(LS, 1, "b", address=LS.links[0].b.address),
        ["duplicate-address", "not-a-31"],
    ),
    "duplicate loopback": (
        lambda: _switch(LS, "leaf-2", loopback=LS.switches[2].loopback),
        ["duplicate-address"],
    ),
    "port reused by two links": (
        lambda: _end(LS, 1, "a", port=LS.links[0].a.port),
        ["duplicate-port"],
    ),
    "uplink on a server port": (lambda: _end(LS, 0, "b", port=2), ["duplicate-port"]),
    "oversubscription over the target": (
        lambda: replace(LS, spec=replace(LS.spec, oversubscription_max=0.25)),
        ["oversubscribed"] * 3,
    ),
    "duplicate switch name": (
        lambda: replace(LS, switches=(*LS.switches, LS.switches[2])),
        ["duplicate-switch", "duplicate-address"],
    ),
    "wrong role": (
        lambda: _switch(FT, "core-1", role="spine"),
        ["wrong-role", "switch-count", "duplicate-asn"] + ["unexpected-link"] * 4,
    ),
    "leaf missing with its links": (
        lambda: replace(
            LS,
            switches=LS.switches[:-1],
            links=tuple(e for e in LS.links if e.b.switch != "leaf-3"),
        ),
        ["switch-count"],
    ),
    "fat-tree switch out of position": (
        lambda: _switch(FT, "edge-1-2", index=3),
        ["bad-position"],
    ),
    "two switches in one position": (
        lambda: _switch(FT, "edge-1-2", index=1),
        ["bad-position"],
    ),
    "leaf with too few servers": (lambda: _switch(LS, "leaf-1", servers=3), ["server-count"]),
    "link to an unknown switch": (
        lambda: _end(LS, 0, "b", switch="leaf-9"),
        ["unknown-switch", "missing-link"],
    ),
    "self link": (
        lambda: _end(LS, 0, "b", switch="spine-1", port=4),
        ["self-link", "missing-link"],
    ),
    "port beyond the port count": (lambda: _end(LS, 0, "a", port=5), ["port-out-of-range"]),
    "more ports used than there are": (
        lambda: _switch(LS, "leaf-1", port_count=5),
        ["port-out-of-range", "degree"],
    ),
    "overlapping pools": (
        lambda: replace(LS, spec=replace(LS.spec, loopback_pool=IPv4Network("10.0.0.0/8"))),
        ["pool-overlap"],
    ),
    "address outside the pool": (
        lambda: _end(
            _end(LS, 0, "a", address=IPv4Address("192.0.2.0")),
            0,
            "b",
            address=IPv4Address("192.0.2.1"),
        ),
        ["outside-pool", "outside-pool"],
    ),
    "loopback outside its pool": (
        lambda: _switch(LS, "spine-1", loopback=IPv4Address("192.0.2.1")),
        ["outside-pool"],
    ),
    "addresses from two /31s": (
        lambda: _end(
            _end(LS, 0, "b", address=LS.links[1].b.address),
            1,
            "b",
            address=LS.links[0].b.address,
        ),
        ["not-a-31", "not-a-31"],
    ),
    "leaf in the spines' ASN": (
        lambda: _switch(LS, "leaf-1", asn=65000),
        ["duplicate-asn", "same-asn-link", "same-asn-link"],
    ),
    "two leaves in one ASN": (lambda: _switch(LS, "leaf-2", asn=65001), ["duplicate-asn"]),
    "spines in two ASNs": (lambda: _switch(LS, "spine-2", asn=65100), ["asn-scheme"]),
    "public ASN": (lambda: _switch(LS, "leaf-1", asn=100), ["asn-not-private"]),
    "leaf-to-leaf link": (lambda: _extra_link(LS, "leaf-1", 7, "leaf-2", 7), ["unexpected-link"]),
    "extra parallel uplink": (
        lambda: _extra_link(LS, "spine-1", 4, "leaf-1", 8),
        ["link-count"],
    ),
    "fat-tree link to the wrong core": (
        lambda: _end(FT, _link_index(FT, "core-1", "agg-1-1"), "a", switch="core-3", port=3),
        ["duplicate-port", "degree", "unexpected-link", "missing-link"],
    ),
    "fat-tree edge without an aggregation link": (
        lambda: _links(
            FT, [e for e in FT.links if (e.a.switch, e.b.switch) != ("agg-2-1", "edge-2-2")]
        ),
        ["missing-link"],
    ),
    "edge-to-core link": (
        lambda: _extra_link(FT, "core-1", 5, "edge-1-1", 5),
        ["port-out-of-range", "port-out-of-range", "degree", "degree", "unexpected-link"],
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_fabric_is_reported(case: str) -> None:
    """Each deliberate breakage is reported with exactly the expected codes, in order."""
    build, expected = BROKEN[case]
    report = check_fabric(build())
    assert report.codes() == expected, [str(f) for f in report.findings]


def test_every_code_is_exercised() -> None:
    """The broken-fabric cases (plus the document tests) produce every code the validator has."""
    seen = {code for _, codes in BROKEN.values() for code in codes} | {"derived-mismatch"}
    assert seen == set(CODES)


def test_findings_say_where_and_how_to_fix() -> None:
    """A missing link names the pair; an oversubscribed leaf its ratio, target and a hint."""
    missing = check_fabric(_links(LS, list(LS.links[1:]))).findings[0]
    assert missing.where == "leaf-1 -- spine-1"
    assert "leaf-1 has no link to spine-1" in missing.message
    over = check_fabric(replace(LS, spec=replace(LS.spec, oversubscription_max=0.25))).findings[0]
    assert (over.where, over.severity) == ("switch leaf-1", "error")
    assert "0.5:1, above the target 0.25:1" in over.message
    assert over.hint is not None
    assert "uplinks_per_spine" in over.hint
    dup = check_fabric(_end(LS, 1, "a", port=1)).findings[0]
    assert dup.where == "spine-1:Ethernet1"
    assert "reuses the port of links[0]" in dup.message


def test_warnings_leave_the_report_ok() -> None:
    """A public ASN is only a warning: the report stays ok and counts it."""
    report = check_fabric(_switch(LS, "leaf-1", asn=100))
    assert report.ok
    assert (len(report.errors), len(report.warnings)) == (0, 1)
    assert report.to_document()["warnings"] == 1
    assert str(report.findings[0]).startswith("warning: switch leaf-1: AS100 is not a private")


def test_report_dict_shape() -> None:
    """to_dict gives ok, counts and each finding's code, severity, where, message, hint."""
    report = FabricReport(
        findings=(Finding(code="missing-link", where="x", message="m", hint="h"),)
    )
    assert report.to_document() == {
        "ok": False,
        "errors": 1,
        "warnings": 0,
        "findings": [
            {"code": "missing-link", "severity": "error", "where": "x", "message": "m", "hint": "h"}
        ],
    }


def test_oversubscription_exactly_at_the_target_is_fine() -> None:
    """A ratio equal to the target passes, even when the target is an inexact float (1.2)."""
    spec = LeafSpineSpec(
        leaves=2, spines=5, servers_per_leaf=24, server_link_gbps=25, oversubscription_max=1.2
    )
    fabric = leaf_spine(spec)
    assert set(oversubscription(fabric).values()) == {1.2}
    assert check_fabric(fabric).ok


def test_leaf_without_uplinks_is_oversubscribed_when_a_target_is_set() -> None:
    """A leaf with servers and no uplinks at all has no finite ratio: above any target."""
    fabric = _links(LS, [e for e in LS.links if e.b.switch != "leaf-2"])
    report = check_fabric(fabric)
    assert "oversubscribed" in report.codes()
    assert any("no uplink capacity" in f.message for f in report.findings)


def test_per_spine_scheme_with_shared_spines_is_flagged() -> None:
    """spine_asn='per-spine' with two spines in one ASN is an asn-scheme warning."""
    fabric = leaf_spine(
        LeafSpineSpec(leaves=2, spines=2, servers_per_leaf=1, spine_asn="per-spine")
    )
    report = check_fabric(_switch(fabric, "spine-2", asn=65000))
    assert report.codes() == ["asn-scheme"]
    assert report.ok


# -- properties -------------------------------------------------------------------------


@SETTINGS
@given(spec=leaf_spine_specs(), data=st.data())
def test_any_missing_link_is_found(spec: LeafSpineSpec, data: st.DataObject) -> None:
    """Removing any one link is reported at its leaf-spine pair, and nothing else is."""
    fabric = leaf_spine(spec)
    i = data.draw(st.integers(min_value=0, max_value=len(fabric.links) - 1), label="link")
    gone = fabric.links[i]
    report = check_fabric(_links(fabric, [e for j, e in enumerate(fabric.links) if j != i]))
    expected = "missing-link" if spec.uplinks_per_spine == 1 else "link-count"
    assert report.codes() == [expected]
    assert report.findings[0].where == f"{gone.b.switch} -- {gone.a.switch}"


@SETTINGS
@given(spec=fat_tree_specs(), data=st.data())
def test_any_missing_fat_tree_link_is_found(spec: FatTreeSpec, data: st.DataObject) -> None:
    """Removing any one fat-tree link is reported as exactly one missing link."""
    fabric = fat_tree(spec)
    i = data.draw(st.integers(min_value=0, max_value=len(fabric.links) - 1), label="link")
    report = check_fabric(_links(fabric, [e for j, e in enumerate(fabric.links) if j != i]))
    assert report.codes() == ["missing-link"]


@SETTINGS
@given(spec=leaf_spine_specs(), data=st.data())
def test_any_duplicate_address_is_found(spec: LeafSpineSpec, data: st.DataObject) -> None:
    """Giving one link end another interface's address is reported as a duplicate."""
    fabric = leaf_spine(spec)
    addresses = [e.address for link in fabric.links for e in (link.a, link.b)]
    addresses += [sw.loopback for sw in fabric.switches]
    i = data.draw(st.integers(min_value=0, max_value=len(fabric.links) - 1), label="link")
    side = data.draw(st.sampled_from(["a", "b"]), label="side")
    taken = data.draw(st.sampled_from(addresses), label="address")
    assume(taken != getattr(fabric.links[i], side).address)
    report = check_fabric(_end(fabric, i, side, address=taken))
    assert "duplicate-address" in report.codes()
    assert not report.ok


@SETTINGS
@given(spec=leaf_spine_specs(), data=st.data())
def test_any_reused_spine_port_is_found(spec: LeafSpineSpec, data: st.DataObject) -> None:
    """Moving a link onto a port another link of the same spine uses is a duplicate port."""
    assume(spec.leaves * spec.uplinks_per_spine >= 2)
    fabric = leaf_spine(spec)
    i, j = data.draw(
        st.lists(
            st.integers(min_value=0, max_value=spec.leaves * spec.uplinks_per_spine - 1),
            min_size=2,
            max_size=2,
            unique=True,
        ),
        label="links of spine 1",
    )
    report = check_fabric(_end(fabric, j, "a", port=fabric.links[i].a.port))
    assert report.codes() == ["duplicate-port"]


@SETTINGS
@given(spec=leaf_spine_specs())
def test_oversubscription_target_is_enforced(spec: LeafSpineSpec) -> None:
    """Every leaf is flagged just below its ratio, none at it."""
    assume(spec.servers_per_leaf > 0)
    fabric = leaf_spine(spec)
    (ratio,) = set(oversubscription(fabric).values())
    assert ratio is not None
    at = replace(fabric, spec=replace(spec, oversubscription_max=ratio))
    assert check_fabric(at).ok
    below = replace(fabric, spec=replace(spec, oversubscription_max=ratio * 0.99))
    assert check_fabric(below).codes() == ["oversubscribed"] * spec.leaves


# -- documents --------------------------------------------------------------------------


def _doc(fabric: Fabric) -> dict[str, object]:
    return to_document(fabric)


def test_clean_document_checks_clean() -> None:
    """A generated document, derived fields and all, checks clean."""
    assert check_document(FabricDocument.of(LS)).findings == ()
    assert check_document(FabricDocument.of(FT)).findings == ()


def test_document_without_derived_fields_checks_clean() -> None:
    """Derived fields are optional: a hand-written document may leave them out."""
    doc = to_document(LS)
    del doc["summary"]
    for sw in doc["switches"]:
        del sw["ports"], sw["server_ports"]
    for link in doc["links"]:
        del link["subnet"]
    assert check_document(FabricDocument.model_validate(doc)).findings == ()


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("summary", "links"), 5, "summary"),
        (("switches", 2, "ports", 0, "peer"), "spine-2", "switch leaf-1"),
        (("switches", 2, "server_ports"), "Ethernet1-Ethernet3", "switch leaf-1"),
        (("links", 1, "subnet"), "10.0.0.0/31", "links[1]"),
    ],
    ids=["summary", "port-map", "server-ports", "subnet"],
)
def test_stale_derived_fields_are_reported(
    path: tuple[str | int, ...], value: object, where: str
) -> None:
    """A derived field that disagrees with the links is a derived-mismatch where it is."""
    doc: dict[str, object] = to_document(LS)
    node: object = doc
    for key in path[:-1]:
        node = node[key]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]
    report = check_document(FabricDocument.model_validate(doc))
    assert report.codes() == ["derived-mismatch"]
    assert report.findings[0].where == where


def test_docs_list_every_code() -> None:
    """docs/network.md documents every validation code."""
    text = DOCS.read_text()
    missing = sorted(code for code in CODES if not re.search(rf"`{code}`", text))
    assert not missing


def _leaves(node: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Paths to every scalar in a JSON document."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))]
    return [path]


SMALL_DOC = to_document(
    leaf_spine(LeafSpineSpec(leaves=3, spines=2, servers_per_leaf=2, oversubscription_max=2.0))
)
# Mostly values of the edited field's own type, so that many edits parse and get checked.
ODD_INTS = st.sampled_from([0, 1, 2, 3, 7, 64, 100, 65000, 65001, -1])
ODD_STRINGS = st.sampled_from(
    [
        "",
        "leaf-1",
        "spine-2",
        "Ethernet1",
        "Ethernet99",
        "10.0.0.0/31",
        "10.0.0.1/31",
        "10.255.0.1/32",
        "10.0.0.0/16",
        "fat-tree",
        "core",
        "edge",
        "uplink",
        "per-spine",
    ]
)
ODD_ANY = st.sampled_from([None, 2.5, True]) | ODD_INTS | ODD_STRINGS


def _odd_value(original: object) -> st.SearchStrategy[object]:
    if isinstance(original, bool) or original is None:
        return ODD_ANY
    if isinstance(original, int):
        return ODD_INTS | ODD_ANY
    if isinstance(original, str):
        return ODD_STRINGS | ODD_ANY
    return ODD_ANY


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_edited_document_is_refused_or_reported(data: st.DataObject) -> None:
    """Editing any values of a document never crashes the check: the document is refused by
    its model (a ValidationError) or checked into a report."""
    doc = json.loads(json.dumps(SMALL_DOC))
    paths = _leaves(doc)
    for path in data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3), label="at"):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = data.draw(_odd_value(node[path[-1]]), label=str(path))
    try:
        parsed = FabricDocument.model_validate(doc)
    except ValidationError:
        return
    report = check_document(parsed)
    assert all(f.code in CODES for f in report.findings)
