"""The network pack's lab actors against a lab file: writes, guards, idempotency, compensation,
dry runs, reads, and the deploy routine through the engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from planactor import ActorContext, ActorError, Catalog, UnexpectedState
from planactor.actors import network
from planactor.actors.network import LeafSpineSpec, leaf_spine, to_document
from planactor.catalog import ENTITY_KEY, Actor, actor_of
from planactor.engine import Engine
from planactor.journal import Journal
from planactor.lab import Lab, NetworkKind, create_lab, lab_resources
from planactor.plan import Plan

LAB_ACTORS = [
    network.apply_fabric,
    network.remove_fabric,
    network.set_link_state,
    network.drain_switch,
    network.undrain_switch,
    network.lab_topology,
    network.check_reachability,
    network.path_between,
]
CATALOG = Catalog.discover()


# What the engine would hand the actors called directly here: the lab a fixture made last.
RESOURCES: dict[str, object] = {}


@pytest.fixture
def make_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Lab]:
    def make(scenario: str = "default", kind: str = "network") -> Lab:
        lab = create_lab(
            tmp_path / f"{kind}-{scenario}.json", kind=kind, scenario=scenario, overwrite=True
        )
        monkeypatch.setitem(RESOURCES, "lab", lab)
        return lab

    return make


@pytest.fixture
def lab(make_lab: Callable[..., Lab]) -> Lab:
    return make_lab()


@pytest.fixture
def built(make_lab: Callable[..., Lab]) -> Lab:
    return make_lab("built")


@pytest.fixture
def engine(lab: Lab) -> Iterator[Engine]:
    journal = Journal(":memory:")
    yield Engine(
        catalog=CATALOG, journal=journal, sleep=lambda s: None, resources=lab_resources(lab)
    )
    journal.close()


def spec(fn: Any) -> Actor:
    found = actor_of(fn)
    assert found is not None
    return found


def ctx(step: str, run: str = "run-1", *, dry_run: bool = False) -> ActorContext:
    return ActorContext.for_step(run_id=run, step_id=step, dry_run=dry_run, resources=RESOURCES)


def call(fn: Any, args: dict[str, Any], step: str = "s", run: str = "run-1") -> Any:
    return spec(fn).call(args, ctx(step, run))


def compensate(
    fn: Any, args: dict[str, Any], output: Any, step: str = "s", run: str = "run-1"
) -> Any:
    """Run `fn`'s compensation for a call that gave `output`, as the engine does."""
    me = spec(fn)
    assert me.compensate is not None
    comp = CATALOG.get(me.compensate)
    inp = me.compensation_input(comp, me.parse_input(args), output)
    return comp.call(inp, ctx(f"{step}/compensate", run))


def fabric(spines: int = 2, leaves: int = 4, **kw: Any) -> dict[str, Any]:
    return to_document(
        leaf_spine(LeafSpineSpec(leaves=leaves, spines=spines, servers_per_leaf=8, **kw))
    )


def switch_state(lab: Lab, name: str) -> str:
    return next(s["state"] for s in lab.read().state["fabric"]["switches"] if s["name"] == name)


# -- the pack ---------------------------------------------------------------------------------


def test_the_lab_actors_register_with_the_network_pack() -> None:
    """Discovery finds the lab actors under the network pack, with their compensations."""
    names = {a.name for a in LAB_ACTORS for a in [spec(a)]}
    assert names <= {a.name for a in CATALOG}
    cat = Catalog(LAB_ACTORS, pack="network")
    kinds_ = {a.name: a.kind for a in cat}
    assert kinds_["network.remove_fabric"] == "irreversible"
    assert kinds_["network.lab_topology"] == "read"
    assert cat.get("network.apply_fabric").compensate == "network.remove_fabric"
    assert cat.get("network.set_link_state").compensate == "network.set_link_state"
    assert cat.get("network.drain_switch").compensate == "network.undrain_switch"
    assert cat.get("network.undrain_switch").compensate == "network.drain_switch"
    assert all(a.idempotent and a.check is not None for a in cat if a.effect == "write")
    assert {spec(a).module for a in LAB_ACTORS} == {"planactor.actors.network._lab_actors"}


def test_inputs_name_inventory_entities() -> None:
    """Switch and server fields are marked as entities for the validator and the planner."""
    link = network.SetLinkStateInput.model_json_schema()["properties"]
    assert (link["a"][ENTITY_KEY], link["b"][ENTITY_KEY]) == ("switch", "switch")
    assert network.SwitchInput.model_json_schema()["properties"]["switch"][ENTITY_KEY] == "switch"
    path = network.PathBetweenInput.model_json_schema()["properties"]
    assert (path["a"][ENTITY_KEY], path["b"][ENTITY_KEY]) == ("server", "server")
    reach = network.CheckReachabilityInput.model_json_schema()["properties"]
    assert reach["servers"][ENTITY_KEY] == "server"


def test_a_missing_lab_or_a_storage_lab_is_a_final_error(
    make_lab: Callable[..., Lab], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a lab, or with a storage lab, the actors fail for good with a hint."""
    monkeypatch.setitem(RESOURCES, "lab", Lab(tmp_path / "none.json"))
    with pytest.raises(ActorError) as e:
        call(network.lab_topology, {})
    assert e.value.retryable is False
    assert "planactor lab init" in (e.value.hint or "")
    make_lab("default", kind="storage")
    for fn, args in [(network.lab_topology, {}), (network.remove_fabric, {})]:
        with pytest.raises(ActorError, match="not a network lab") as e:
            call(fn, args)
        assert e.value.retryable is False


# -- apply and remove -------------------------------------------------------------------------


def test_apply_fabric_applies_once_per_key(lab: Lab) -> None:
    """The first call applies; the same key replays its result; another key changes nothing."""
    first = call(network.apply_fabric, {"fabric": fabric()}, "apply")
    assert first.applied is True
    assert first.racks == {f"rack-{i}": f"leaf-{i}" for i in (1, 2, 3, 4)}
    assert (first.switches, first.links, first.servers_cabled) == (6, 8, 32)
    assert first.idempotency_key == "run-1/apply"
    again = call(network.apply_fabric, {"fabric": fabric()}, "apply")
    assert again == first
    other = call(network.apply_fabric, {"fabric": fabric()}, "apply", run="run-2")
    assert other.applied is False
    assert other.fingerprint == first.fingerprint
    doc = lab.read()
    assert doc.applied_counts() == {"run-1/apply": 1}
    assert doc.state["fabric"]["applied_by"] == "run-1/apply"


def test_apply_fabric_compensation_removes_only_its_own_fabric(lab: Lab) -> None:
    """Undoing an apply removes the fabric it applied, not one that was there before it."""
    args = {"fabric": fabric()}
    mine = call(network.apply_fabric, args, "apply")
    theirs = call(network.apply_fabric, args, "apply", run="run-2")
    kept = compensate(network.apply_fabric, args, theirs, "apply", "run-2")
    assert kept.removed is False
    assert lab.read().state["fabric"] is not None
    gone = compensate(network.apply_fabric, args, mine, "apply")
    assert gone.removed is True
    assert gone.fingerprint == mine.fingerprint
    assert lab.read().state["fabric"] is None


@pytest.mark.parametrize(
    ("args", "error", "retryable", "message"),
    [
        ({"fabric": fabric(leaves=3)}, ActorError, False, "3 access switch"),
        ({"fabric": fabric(oversubscription_max=0.1)}, ActorError, False, "oversubscribed"),
    ],
    ids=["too-few-leaves", "invalid-design"],
)
def test_apply_fabric_refuses_what_does_not_fit(
    lab: Lab, args: dict[str, Any], error: type[Exception], retryable: bool, message: str
) -> None:
    """A design the site cannot take, or with validation errors, fails for good."""
    with pytest.raises(error, match=message) as e:
        call(network.apply_fabric, args)
    assert isinstance(e.value, ActorError)
    assert e.value.retryable is retryable
    assert lab.read().state["fabric"] is None


def test_apply_over_another_fabric_is_unexpected(built: Lab) -> None:
    """A site that already has a different fabric pauses the run: remove it first."""
    with pytest.raises(UnexpectedState, match="another fabric"):
        call(network.apply_fabric, {"fabric": fabric(spines=3)})


def test_a_failed_push_is_retryable_and_applies_nothing(lab: Lab) -> None:
    """apply-fails: a retryable error, nothing applied; the retry with the same key applies."""
    lab.inject_fault({"kind": "apply-fails"})
    with pytest.raises(ActorError, match="nothing was applied") as e:
        call(network.apply_fabric, {"fabric": fabric()}, "apply")
    assert e.value.retryable is True
    assert lab.read().state["fabric"] is None
    assert call(network.apply_fabric, {"fabric": fabric()}, "apply").applied is True
    assert [e["status"] for e in lab.read().operations] == ["failed", "applied"]


def test_remove_fabric(built: Lab) -> None:
    """Removing uncables every server; a wrong fingerprint pauses; nothing left is no change."""
    with pytest.raises(UnexpectedState, match="not sha256:0"):
        call(network.remove_fabric, {"fingerprint": "sha256:0"})
    out = call(network.remove_fabric, {}, "remove")
    assert (out.removed, out.switches, out.servers_uncabled) == (True, 6, 32)
    assert call(network.remove_fabric, {}, "remove-again").removed is False


# -- links and switches -----------------------------------------------------------------------


def test_set_link_state_and_its_compensation(built: Lab) -> None:
    """A link goes down and its compensation brings it back up."""
    args = {"a": "spine-1", "b": "leaf-2", "state": "down"}
    out = call(network.set_link_state, args, "shut")
    assert (out.previous, out.links, out.changed, out.working) == ("up", 1, True, False)
    undo = compensate(network.set_link_state, args, out, "shut")
    assert (undo.state, undo.changed, undo.working) == ("up", True, True)
    assert all(ln["state"] == "up" for ln in built.read().state["fabric"]["links"])


def test_set_link_state_guards_the_last_uplink(built: Lab) -> None:
    """The second uplink of a leaf is refused (UnexpectedState); forced, the lab records it."""
    call(network.set_link_state, {"a": "spine-1", "b": "leaf-1", "state": "down"}, "one")
    with pytest.raises(UnexpectedState, match="last working uplink of leaf-1") as e:
        call(network.set_link_state, {"a": "spine-2", "b": "leaf-1", "state": "down"}, "two")
    assert "force" in (e.value.hint or "")
    assert built.read().violations == []
    call(
        network.set_link_state,
        {"a": "spine-2", "b": "leaf-1", "state": "down", "force": True},
        "two-forced",
    )
    (v,) = built.read().violations
    assert v["kind"] == "partition"
    assert v["idempotency_key"] == "run-1/two-forced"
    assert v["racks"] == [["rack-1", "rack-2"], ["rack-1", "rack-3"], ["rack-1", "rack-4"]]


def test_unknown_switches_fail_for_good(built: Lab) -> None:
    """A switch the fabric does not have is a final error naming the known ones."""
    with pytest.raises(ActorError, match="no switch named 'spine-7'") as e:
        call(network.drain_switch, {"switch": "spine-7"})
    assert e.value.retryable is False
    assert "spine-1" in (e.value.hint or "")


def test_draining_a_spine_keeps_reachability_and_both_is_refused(built: Lab) -> None:
    """One spine drains with every server still reachable; the second one is refused."""
    out = call(network.drain_switch, {"switch": "spine-1"}, "drain-1")
    assert (out.state, out.previous, out.changed, out.working) == ("drained", "up", True, False)
    reach = call(network.check_reachability, {"expect_reachable": True})
    assert reach.ok is True
    assert all("spine-2" in p.path for p in reach.paths if p.rack_a != p.rack_b)
    with pytest.raises(UnexpectedState, match="last working uplink of leaf-1"):
        call(network.drain_switch, {"switch": "spine-2"}, "drain-2")
    assert switch_state(built, "spine-2") == "up"
    assert built.read().violations == []


def test_drain_compensation_undrains_only_what_it_drained(built: Lab) -> None:
    """Undoing a drain brings the switch back; undoing a drain that found it drained does not."""
    args = {"switch": "spine-1"}
    mine = call(network.drain_switch, args, "drain")
    undo = compensate(network.drain_switch, args, mine, "drain")
    assert (undo.state, undo.changed) == ("up", True)
    assert switch_state(built, "spine-1") == "up"
    call(network.drain_switch, args, "maintenance", run="run-0")
    noop = call(network.drain_switch, args, "drain", run="run-2")
    assert noop.changed is False
    kept = compensate(network.drain_switch, args, noop, "drain", "run-2")
    assert kept.changed is False
    assert switch_state(built, "spine-1") == "drained"


def test_undrain_and_its_compensation(built: Lab) -> None:
    """Undrain puts a drained switch back; its compensation drains it again."""
    call(network.drain_switch, {"switch": "spine-2"}, "drain", run="run-0")
    out = call(network.undrain_switch, {"switch": "spine-2"}, "undrain")
    assert (out.state, out.previous, out.working) == ("up", "drained", True)
    again = compensate(network.undrain_switch, {"switch": "spine-2"}, out, "undrain")
    assert (again.state, again.changed) == ("drained", True)


# -- dry runs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "args", "outcome"),
    [
        (network.drain_switch, {"switch": "spine-1"}, "applied"),
        (network.drain_switch, {"switch": "leaf-1"}, "refused"),
        (network.undrain_switch, {"switch": "spine-1"}, "unchanged"),
        (network.set_link_state, {"a": "spine-1", "b": "leaf-1", "state": "down"}, "applied"),
        (network.apply_fabric, {"fabric": fabric()}, "unchanged"),
        (network.remove_fabric, {}, "applied"),
    ],
)
def test_check_changes_nothing(built: Lab, fn: Any, args: dict[str, Any], outcome: str) -> None:
    """A dry run reports the outcome and leaves the lab file as it was."""
    before = built.path.read_text()
    me = spec(fn)
    assert me.check is not None
    found = me.check(me.parse_input(args), ctx("dry"))
    assert found.outcome == outcome
    assert found.already_applied is False
    assert built.path.read_text() == before


def test_check_foresees_partitions_and_prior_application(built: Lab) -> None:
    """A forced drain's check lists the partition; after the real call, it says applied."""
    me = spec(network.drain_switch)
    assert me.check is not None
    call(network.drain_switch, {"switch": "spine-1"}, "drain-1")
    forced = me.parse_input({"switch": "spine-2", "force": True})
    seen = me.check(forced, ctx("drain-2"))
    assert seen.outcome == "applied"
    assert len(seen.partitions) == 1
    assert "384 cross-rack server pair(s)" in seen.partitions[0]
    assert me.check(me.parse_input({"switch": "spine-1"}), ctx("drain-1")).already_applied


# -- reads ------------------------------------------------------------------------------------


def test_lab_topology(lab: Lab, built: Lab) -> None:
    """Racks, and with a fabric its switches and links; `switch` narrows to one switch."""
    topo = call(network.lab_topology, {})
    assert topo.fabric is True
    assert [s.name for s in topo.switches][:2] == ["spine-1", "spine-2"]
    assert topo.racks[0].switch == "leaf-1"
    assert len(topo.links) == 8
    assert topo.reachable is True
    leaf = call(network.lab_topology, {"switch": "leaf-3"})
    assert [s.name for s in leaf.switches] == ["leaf-3"]
    assert {ln.a for ln in leaf.links} == {"spine-1", "spine-2"}
    assert leaf.switches[0].working_uplinks == 2
    built.inject_fault({"kind": "switch-down", "switch": "spine-1"})
    downed = call(network.lab_topology, {"switch": "spine-1"})
    assert downed.switches[0].failed is True
    assert {ln.status for ln in downed.links} == {"up, but spine-1 is failed"}


def test_lab_topology_without_a_fabric(lab: Lab) -> None:
    """A bare site lists its racks and no switch; naming a switch is a final error."""
    topo = call(network.lab_topology, {})
    assert (topo.fabric, topo.switches, topo.reachable) == (False, [], False)
    assert [r.switch for r in topo.racks] == [None] * 4
    with pytest.raises(ActorError, match="no switch named 'spine-1'"):
        call(network.lab_topology, {"switch": "spine-1"})


def test_check_reachability_of_every_server(built: Lab) -> None:
    """All 496 pairs connect; one path per pair of racks is shown, 4 hops across the spine."""
    out = call(network.check_reachability, {})
    assert (out.ok, out.servers, out.pairs, out.unreachable_pairs) == (True, 32, 496, 0)
    assert out.max_hops == 4
    assert [(p.a, p.b) for p in out.paths] == [
        (f"srv-{i}-01", f"srv-{j}-01") for i in range(1, 5) for j in range(i + 1, 5)
    ]
    assert out.paths[0].path == ["srv-1-01", "leaf-1", "spine-1", "leaf-2", "srv-2-01"]


def test_check_reachability_of_named_servers(built: Lab) -> None:
    """Named servers: every pair's path; a pair in one rack is 2 hops through its leaf."""
    out = call(network.check_reachability, {"servers": ["srv-1-01", "srv-1-02", "srv-3-05"]})
    assert [(p.a, p.b, p.hops) for p in out.paths] == [
        ("srv-1-01", "srv-1-02", 2),
        ("srv-1-01", "srv-3-05", 4),
        ("srv-1-02", "srv-3-05", 4),
    ]
    with pytest.raises(ActorError, match="two or more"):
        call(network.check_reachability, {"servers": ["srv-1-01"]})
    with pytest.raises(ActorError, match="no server named 'srv-9-01'"):
        call(network.check_reachability, {"servers": ["srv-1-01", "srv-9-01"]})


def test_check_reachability_reports_and_expects(built: Lab) -> None:
    """With a leaf forced out, its servers' pairs are listed; expect_reachable pauses the
    run, except in a dry run, which only reports."""
    call(network.drain_switch, {"switch": "leaf-2", "force": True})
    out = call(network.check_reachability, {})
    assert out.ok is False
    # Rack-2's servers reach no other rack (8 x 24 pairs), nor each other (28 pairs).
    assert out.unreachable_pairs == 8 * 24 + 28
    assert len(out.unreachable) == network._lab_actors.MAX_LISTED
    assert out.unreachable[0].a == "srv-1-01"
    assert out.unreachable[0].b == "srv-2-01"
    args = {"expect_reachable": True}
    with pytest.raises(UnexpectedState, match="220 of 496 server pairs cannot connect"):
        call(network.check_reachability, args)
    me = spec(network.check_reachability)
    dry = me.call(args, ctx("dry", dry_run=True))
    assert dry.ok is False


def test_check_reachability_without_a_fabric(lab: Lab) -> None:
    """Nothing connects before a fabric is applied; expecting it pauses with a hint."""
    out = call(network.check_reachability, {})
    assert (out.ok, out.fabric, out.unreachable_pairs) == (False, False, 496)
    with pytest.raises(UnexpectedState, match="no fabric is applied"):
        call(network.check_reachability, {"expect_reachable": True})


def test_path_between_matches_networkx(built: Lab) -> None:
    """The path is a shortest one through working switches, as networkx finds it."""
    call(network.drain_switch, {"switch": "spine-1"})
    out = call(network.path_between, {"a": "srv-1-03", "b": "srv-4-07"})
    assert out.path == ["srv-1-03", "leaf-1", "spine-2", "leaf-4", "srv-4-07"]
    assert (out.hops, out.reachable, out.rack_a, out.rack_b) == (4, True, "rack-1", "rack-4")
    graph = nx.Graph()
    doc = built.read().state["fabric"]
    graph.add_edges_from((c["server"], c["switch"]) for c in doc["cabling"])
    graph.add_edges_from(
        (ln["a"]["switch"], ln["b"]["switch"])
        for ln in doc["links"]
        if ln["a"]["switch"] != "spine-1"
    )
    assert out.hops == nx.shortest_path_length(graph, "srv-1-03", "srv-4-07")
    same = call(network.path_between, {"a": "srv-2-01", "b": "srv-2-01"})
    assert (same.path, same.hops) == (["srv-2-01"], 0)


def test_path_between_a_cut_off_server(built: Lab) -> None:
    """A server whose leaf does not work reaches nothing; an unknown server is a final error."""
    built.inject_fault({"kind": "switch-down", "switch": "leaf-2"})
    out = call(network.path_between, {"a": "srv-2-01", "b": "srv-3-01"})
    assert (out.reachable, out.path, out.hops) == (False, [], None)
    with pytest.raises(ActorError, match="no server named"):
        call(network.path_between, {"a": "srv-2-01", "b": "esx-01"})


# -- the deploy routine, through the engine ---------------------------------------------------


def deploy_plan(lab: Lab, **params: Any) -> Plan:
    kind = NetworkKind()
    doc = lab.read()
    return CATALOG.routine("network.deploy_fabric").expand(
        params,
        facts=kind.facts(doc.state),
        inventory=kind.inventory(doc.state),
        requested_by="tests",
    )


def test_the_deploy_routine_sizes_the_fabric_from_the_site(lab: Lab) -> None:
    """A leaf per rack, a server port per server of a rack, spines from the parameter."""
    plan = deploy_plan(lab, spines=3)
    assert [s.id for s in plan.steps] == ["design", "validate", "apply", "reachability"]
    design = plan.steps[0].args
    assert (design["leaves"], design["servers_per_leaf"], design["spines"]) == (4, 8, 3)
    assert plan.steps[3].on_failure == "compensate"


def test_the_deploy_routine_runs_and_every_server_reaches_every_other(
    lab: Lab, engine: Engine
) -> None:
    """On a fresh network lab the routine succeeds; afterwards every pair connects."""
    result = engine.run(deploy_plan(lab))
    assert result.status == "succeeded", result.reason
    applied = result.steps["apply"].output
    assert applied is not None
    assert applied["racks"] == {f"rack-{i}": f"leaf-{i}" for i in (1, 2, 3, 4)}
    reach = result.steps["reachability"].output
    assert reach is not None
    assert (reach["ok"], reach["pairs"]) == (True, 496)
    doc = lab.read()
    assert doc.violations == []
    assert [e["op"] for e in doc.operations] == ["apply_fabric"]
    assert call(network.check_reachability, {"expect_reachable": True}).ok
    # Draining a spine afterwards keeps it so.
    call(network.drain_switch, {"switch": "spine-2"})
    assert call(network.check_reachability, {}).ok


def test_the_deploy_routine_in_a_dry_run_changes_nothing(lab: Lab, engine: Engine) -> None:
    """A dry run designs and checks, says what the apply would do, and writes nothing."""
    before = lab.path.read_text()
    result = engine.run(deploy_plan(lab), dry_run=True)
    assert result.status == "succeeded", result.reason
    note = result.steps["apply"].note or ""
    assert "'outcome': 'applied'" in note
    assert lab.path.read_text() == before


def test_the_deploy_routine_retries_a_failed_push(lab: Lab, engine: Engine) -> None:
    """One failed configuration push is retried by the actor's policy; the run succeeds."""
    lab.inject_fault({"kind": "apply-fails"})
    result = engine.run(deploy_plan(lab))
    assert result.status == "succeeded", result.reason
    assert result.steps["apply"].attempts == 2
    assert [e["status"] for e in lab.read().operations] == ["failed", "applied"]


def test_a_later_failure_compensates_the_apply(lab: Lab, engine: Engine) -> None:
    """A step after the apply that fails with on_failure=compensate removes the fabric."""
    plan = deploy_plan(lab)
    doc = plan.to_document()
    doc["steps"].append(
        {
            "id": "probe",
            "actor": "network.path_between",
            "args": {"a": "srv-1-01", "b": "srv-9-99"},
            "after": ["reachability"],
            "on_failure": "compensate",
        }
    )
    result = engine.run(Plan.model_validate(doc))
    assert result.status == "compensated", result.reason
    assert lab.read().state["fabric"] is None
    ops = [(e["op"], e["status"]) for e in lab.read().operations]
    assert ops == [("apply_fabric", "applied"), ("remove_fabric", "applied")]
