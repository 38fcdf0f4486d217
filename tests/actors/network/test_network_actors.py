"""The `network` pack's actors: design_fabric, design_fat_tree and validate_fabric."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

import planactor.actors.network as net
from planactor import Catalog, validate
from planactor.catalog import ActorContext, actor_of

CTX = ActorContext.for_step(run_id="run-1", step_id="design")
ACTORS = [net.design_fabric, net.design_fat_tree, net.validate_fabric]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(ACTORS, pack="network")


def _call(catalog: Catalog, name: str, args: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = catalog.get(name).call(args, CTX).model_dump(mode="json")
    return out


def test_pack_loads_as_read_actors(catalog: Catalog) -> None:
    """The three actors load into a catalog as idempotent reads with descriptions."""
    assert [a.name for a in catalog] == [
        "network.design_fabric",
        "network.design_fat_tree",
        "network.validate_fabric",
    ]
    for fn in ACTORS:
        spec = actor_of(fn)
        assert spec is not None
        assert (spec.effect, spec.idempotent, spec.tags) == ("read", True, ("network",))
        assert spec.description
    assert catalog.fingerprint.startswith("sha256:")


def test_module_registers_exactly_its_actors() -> None:
    """The pack's namespace holds its design actors and its lab actors, all its own."""
    found = [a for a in (actor_of(v) for v in vars(net).values()) if a is not None]
    names = {a.name for a in found}
    assert {actor_of(f).name for f in ACTORS} <= names  # type: ignore[union-attr]
    assert {"network.apply_fabric", "network.check_reachability"} <= names
    assert all(a.module.startswith("planactor.actors.network") for a in found)


def test_design_fabric(catalog: Catalog) -> None:
    """design_fabric returns the fabric document and a clean report."""
    out = _call(
        catalog,
        "network.design_fabric",
        {"leaves": 4, "spines": 2, "servers_per_leaf": 48, "uplinks_per_spine": 2},
    )
    assert out["report"] == {"ok": True, "errors": 0, "warnings": 0, "findings": []}
    summary = out["fabric"]["summary"]
    assert (summary["switches"], summary["links"], summary["oversubscription"]) == (6, 16, 3.0)
    assert out["fabric"]["links"][0]["a"] == {
        "switch": "spine-1",
        "port": "Ethernet1",
        "address": "10.0.0.0/31",
    }


def test_design_fabric_output_is_the_json_rendering(catalog: Catalog) -> None:
    """The actor's fabric is exactly what to_json renders for the same spec."""
    args = {"leaves": 3, "spines": 2, "servers_per_leaf": 8, "asn_base": 4200000000}
    out = catalog.get("network.design_fabric").call(args, CTX)
    fabric = net.leaf_spine(net.DesignFabricInput(**args).to_spec())
    assert isinstance(out, net.DesignOutput)
    assert out.fabric.model_dump_json(indent=2) == net.to_json(fabric)


def test_design_fat_tree(catalog: Catalog) -> None:
    """design_fat_tree with k=4: 20 switches, 32 links, 16 hosts, 1:1, clean."""
    out = _call(catalog, "network.design_fat_tree", {"k": 4})
    s = out["fabric"]["summary"]
    assert s["roles"] == {"core": 4, "aggregation": 8, "edge": 8}
    assert (s["switches"], s["links"], s["servers"], s["oversubscription"]) == (20, 32, 16, 1.0)
    assert out["report"]["ok"] is True


def test_oversubscription_target_shows_in_the_report(catalog: Catalog) -> None:
    """A design above its oversubscription target is returned with the findings, not ok."""
    out = _call(
        catalog,
        "network.design_fabric",
        {"leaves": 2, "spines": 2, "servers_per_leaf": 48, "oversubscription_max": 2.0},
    )
    report = out["report"]
    assert report["ok"] is False
    assert [f["code"] for f in report["findings"]] == ["oversubscribed", "oversubscribed"]
    assert "6:1, above the target 2:1" in report["findings"][0]["message"]


@pytest.mark.parametrize(
    ("name", "args", "needle"),
    [
        ("network.design_fabric", {"leaves": 4, "spines": 0, "servers_per_leaf": 1}, "spines"),
        ("network.design_fat_tree", {"k": 5}, "even"),
        (
            "network.design_fabric",
            {"leaves": 4, "spines": 8, "servers_per_leaf": 60},
            "leaf_ports",
        ),
        (
            "network.design_fabric",
            {"leaves": 4, "spines": 2, "servers_per_leaf": 1, "p2p_pool": "10.0.0.0/30"},
            "p2p_pool",
        ),
        (
            "network.design_fabric",
            {"leaves": 4, "spines": 2, "servers_per_leaf": 1, "p2p_pool": "10.0.0.1/16"},
            "p2p_pool",
        ),
        (
            "network.design_fabric",
            {"leaves": 4, "spines": 2, "servers_per_leaf": 1, "asn_base": 100},
            "asn_base",
        ),
        ("network.design_fabric", {"leaves": 4, "spines": 2, "servers": 1}, "servers"),
        ("network.design_fat_tree", {"k": 4, "p2p_pool": "2001:db8::/64"}, "p2p_pool"),
    ],
    ids=[
        "no-spines",
        "odd-k",
        "too-few-leaf-ports",
        "pool-too-small",
        "pool-host-bits",
        "public-asn",
        "unknown-field",
        "ipv6-pool",
    ],
)
def test_impossible_input_is_a_validation_error(
    catalog: Catalog, name: str, args: dict[str, Any], needle: str
) -> None:
    """Impossible inputs are refused by the input model, naming what is wrong."""
    with pytest.raises(ValidationError) as exc:
        catalog.get(name).call(args, CTX)
    assert needle in str(exc.value)


def test_impossible_combination_says_how_to_fix_it(catalog: Catalog) -> None:
    """A cross-field refusal carries the generator's hint."""
    with pytest.raises(ValidationError) as exc:
        catalog.get("network.design_fabric").call(
            {"leaves": 100, "spines": 2, "servers_per_leaf": 1}, CTX
        )
    (error,) = exc.value.errors()
    assert error["type"] == "impossible_fabric"
    assert "raise spine_ports to 100" in error["msg"]


def test_validate_fabric_round_trip(catalog: Catalog) -> None:
    """A designed fabric, passed as JSON to validate_fabric, validates clean."""
    fabric = _call(catalog, "network.design_fat_tree", {"k": 4})["fabric"]
    report = _call(catalog, "network.validate_fabric", {"fabric": json.loads(json.dumps(fabric))})
    assert report == {"ok": True, "errors": 0, "warnings": 0, "findings": []}


def test_validate_fabric_reports_a_broken_document(catalog: Catalog) -> None:
    """A document missing a link and reusing an address is reported, not refused."""
    fabric = _call(
        catalog, "network.design_fabric", {"leaves": 3, "spines": 2, "servers_per_leaf": 4}
    )["fabric"]
    del fabric["links"][0]
    fabric["links"][1]["b"]["address"] = fabric["links"][0]["b"]["address"]
    for sw in fabric["switches"]:
        sw.pop("ports")
    fabric.pop("summary")
    report = _call(catalog, "network.validate_fabric", {"fabric": fabric})
    assert report["ok"] is False
    codes = [f["code"] for f in report["findings"]]
    assert codes == ["duplicate-address", "not-a-31", "missing-link"]
    assert report["findings"][2]["where"] == "leaf-1 -- spine-1"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("links", 0, "a", "address"), "10.0.0.0/30"),
        (("links", 0, "a", "port"), "Eth1"),
        (("switches", 0, "loopback"), "10.255.0.1"),
        (("spec", "kind"), "mesh"),
    ],
    ids=["prefix", "port-name", "loopback-prefix", "kind"],
)
def test_validate_fabric_refuses_malformed_documents(
    catalog: Catalog, path: tuple[str | int, ...], value: str
) -> None:
    """A document that is not shaped like a fabric is a validation error of the input."""
    fabric: Any = _call(catalog, "network.design_fat_tree", {"k": 2})["fabric"]
    node = fabric
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValidationError):
        catalog.get("network.validate_fabric").call({"fabric": fabric}, CTX)


def test_a_plan_can_design_then_validate(catalog: Catalog) -> None:
    """A plan feeding design_fabric's fabric into validate_fabric passes static validation."""
    plan = {
        "api_version": "planactor/v1",
        "intent": "design a 4-leaf fabric and check it",
        "requested_by": "tests",
        "steps": [
            {
                "id": "design",
                "actor": "network.design_fabric",
                "args": {"leaves": 4, "spines": 2, "servers_per_leaf": 32},
            },
            {
                "id": "check",
                "actor": "network.validate_fabric",
                "args": {"fabric": {"$ref": "design.output.fabric"}},
            },
        ],
    }
    report = validate(json.dumps(plan), catalog=catalog)
    assert report.ok, [str(p) for p in report.problems]
