"""The pure network model: the site, applying a fabric, links and switches, faults, the monitor."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planactor.fabric import FatTreeSpec, LeafSpineSpec, fat_tree, leaf_spine, to_document
from planactor.lab import kinds
from planactor.lab.network import (
    INVARIANT,
    NETWORK_SCENARIOS,
    Fault,
    NetworkKind,
    NetworkState,
    Outcome,
    Rack,
    apply,
    cut_racks,
    cut_server_pairs,
    facts,
    faults_from_doc,
    faults_to_doc,
    graph_edges,
    inventory_entities,
    link_status,
    network_scenario,
    state_from_doc,
    state_to_doc,
)


def site(racks: int = 4, per_rack: int = 8) -> NetworkState:
    """A site of `racks` racks of `per_rack` servers, named as the scenarios name them."""
    return NetworkState(
        racks=tuple(
            Rack(
                name=f"rack-{i}", servers=tuple(f"srv-{i}-{k:02d}" for k in range(1, per_rack + 1))
            )
            for i in range(1, racks + 1)
        )
    )


def design(leaves: int = 4, spines: int = 2, servers: int = 8, **kw: Any) -> dict[str, Any]:
    return to_document(
        leaf_spine(LeafSpineSpec(leaves=leaves, spines=spines, servers_per_leaf=servers, **kw))
    )


def ok(outcome: Outcome) -> NetworkState:
    assert outcome.error is None, outcome.error
    assert outcome.status in ("applied", "unchanged")
    return outcome.state


def built(spines: int = 2, **kw: Any) -> NetworkState:
    return ok(apply(site(), (), "apply_fabric", {"fabric": design(spines=spines, **kw)}))


def drain(state: NetworkState, switch: str, **kw: Any) -> Outcome:
    return apply(state, (), "set_switch", {"switch": switch, "state": "drained", **kw})


def link(state: NetworkState, a: str, b: str, to: str, **kw: Any) -> Outcome:
    return apply(state, (), "set_link", {"a": a, "b": b, "state": to, **kw})


def inject(state: NetworkState, faults: tuple[Fault, ...] = (), **fault: Any) -> Outcome:
    return apply(state, faults, "inject_fault", fault)


# -- the site and the scenarios ----------------------------------------------------------------


def test_default_scenario_is_a_site_without_a_fabric() -> None:
    """Four racks of eight servers, named in rack order, no fabric and so no partition."""
    state = network_scenario("default").state
    assert state == site()
    assert [r.name for r in state.racks] == ["rack-1", "rack-2", "rack-3", "rack-4"]
    assert state.racks[0].servers[:2] == ("srv-1-01", "srv-1-02")
    assert all(len(r.servers) == 8 for r in state.racks)
    assert state.fabric is None
    assert cut_racks(state) == frozenset()
    assert graph_edges(state) == []


def test_scenarios_small_built_and_degraded() -> None:
    """small has 2 racks of 4; built has a clean 2-spine fabric; degraded one failed uplink."""
    small = network_scenario("small").state
    assert [len(r.servers) for r in small.racks] == [4, 4]
    b = network_scenario("built")
    assert b.state.fabric is not None
    assert sorted(b.state.fabric.switches) == [
        "leaf-1", "leaf-2", "leaf-3", "leaf-4", "spine-1", "spine-2"
    ]  # fmt: skip
    assert not cut_racks(b.state)
    d = network_scenario("degraded")
    assert d.faults == (Fault(kind="link-down", a="spine-1", b="leaf-1"),)
    assert d.state.fabric is not None
    failed = [ln for ln in d.state.fabric.links if ln.failed]
    assert [(ln.a.switch, ln.b.switch) for ln in failed] == [("spine-1", "leaf-1")]
    assert set(NETWORK_SCENARIOS) == {"default", "small", "built", "degraded"}


def test_facts_give_the_site_size_routines_read() -> None:
    """site.racks and site.servers_per_rack size a fabric; fabric is null until applied."""
    f = facts(site())
    assert f["site"]["racks"] == 4
    assert f["site"]["servers_per_rack"] == 8
    assert f["site"]["rack_names"] == ["rack-1", "rack-2", "rack-3", "rack-4"]
    assert len(f["site"]["servers"]) == 32
    assert f["fabric"] is None
    fb = facts(built())["fabric"]
    assert fb["roles"] == {
        "spine": ["spine-1", "spine-2"],
        "leaf": [f"leaf-{i}" for i in (1, 2, 3, 4)],
    }
    assert fb["racks"] == {f"rack-{i}": f"leaf-{i}" for i in (1, 2, 3, 4)}
    assert fb["switches"]["leaf-1"] == {
        "role": "leaf",
        "state": "up",
        "failed": False,
        "working": True,
        "rack": "rack-1",
        "uplinks": 2,
        "working_uplinks": 2,
    }
    assert (fb["links"], fb["working_links"], fb["reachable"]) == (8, 8, True)


def test_inventory_lists_switches_only_once_a_fabric_is_applied() -> None:
    """rack and server always; switch only with a fabric (a plan may name what it deploys)."""
    before = inventory_entities(site())
    assert set(before) == {"rack", "server"}
    assert len(before["server"]) == 32
    after = inventory_entities(built())
    assert after["switch"] == ["spine-1", "spine-2", "leaf-1", "leaf-2", "leaf-3", "leaf-4"]


def test_the_kind_is_registered_with_views() -> None:
    """`planactor lab init network` finds the kind; inventory and facts read a state document."""
    kind = kinds()["network"]
    assert isinstance(kind, NetworkKind)
    built_doc = kind.build("built")
    assert built_doc.violations == []
    assert kind.facts(built_doc.state)["site"]["racks"] == 4
    assert kind.inventory(built_doc.state).names("switch") is not None
    assert set(kind.scenarios()) == set(NETWORK_SCENARIOS)
    with pytest.raises(KeyError):
        kind.build("nope")


# -- apply_fabric ------------------------------------------------------------------------------


def test_apply_fabric_cables_each_rack_to_a_leaf() -> None:
    """Rack N's servers go to leaf N's first ports; switches and links come up as designed."""
    out = apply(site(), (), "apply_fabric", {"fabric": design(), "by": "run/apply"})
    state = ok(out)
    assert out.status == "applied"
    assert out.result["racks"] == {f"rack-{i}": f"leaf-{i}" for i in (1, 2, 3, 4)}
    assert (out.result["switches"], out.result["links"], out.result["servers_cabled"]) == (6, 8, 32)
    assert out.result["applied"] is True
    assert out.result["fingerprint"].startswith("sha256:")
    fabric = state.fabric
    assert fabric is not None
    assert fabric.applied_by == "run/apply"
    cable = fabric.cabling[9]
    assert (cable.server, cable.rack, cable.switch, cable.port) == (
        "srv-2-02",
        "rack-2",
        "leaf-2",
        "Ethernet2",
    )
    first = fabric.links[0]
    assert (first.a.switch, first.a.port, first.a.address) == (
        "spine-1",
        "Ethernet1",
        "10.0.0.0/31",
    )
    assert (first.b.switch, first.b.port, first.b.address) == ("leaf-1", "Ethernet9", "10.0.0.1/31")
    assert fabric.switches["leaf-1"].loopback == "10.255.0.3/32"
    assert out.violations == ()
    assert "rack-1: 8 servers cabled to leaf-1 Ethernet1-Ethernet8" in out.changes


def test_apply_fabric_is_idempotent_on_the_same_design() -> None:
    """The same design again changes nothing; derived fields do not change its fingerprint."""
    state = built()
    doc = design()
    bare = {
        "spec": doc["spec"],
        "switches": [
            {k: v for k, v in sw.items() if k not in ("ports", "server_ports")}
            for sw in doc["switches"]
        ],
        "links": [{k: v for k, v in ln.items() if k != "subnet"} for ln in doc["links"]],
    }
    for again in (doc, bare):
        out = apply(state, (), "apply_fabric", {"fabric": again, "by": "other"})
        assert out.status == "unchanged"
        assert out.state == state
        assert out.result["applied"] is False


def test_apply_fabric_refuses_another_design_while_one_is_applied() -> None:
    """A different design over an applied one is a precondition error: remove it first."""
    out = apply(built(), (), "apply_fabric", {"fabric": design(spines=3)})
    assert out.status == "refused"
    assert out.error is not None
    assert out.error.kind == "precondition"
    assert "remove it first" in (out.error.hint or "")


@pytest.mark.parametrize(
    ("fabric", "message"),
    [
        ("not a document", "must be a fabric document"),
        ({"spec": {"kind": "leaf-spine"}}, "not a fabric document"),
        (design(leaves=3), "3 access switch(es) for the site's 4 racks"),
        (design(servers=6), "leaf-1 has 6 server port(s); rack-1 has 8 servers"),
        (design(oversubscription_max=0.5), "oversubscribed"),
    ],
    ids=["string", "shape", "too-few-leaves", "too-few-ports", "validation-error"],
)
def test_apply_fabric_refuses_designs_that_do_not_fit(fabric: Any, message: str) -> None:
    """Invalid shapes, validation errors and too small leaves are refused as invalid."""
    out = apply(site(), (), "apply_fabric", {"fabric": fabric})
    assert out.status == "refused"
    assert out.error is not None
    assert out.error.kind == "invalid"
    assert message in out.error.message
    assert out.state == site()


def test_apply_fabric_refuses_a_design_missing_a_link() -> None:
    """A design with a link cut out fails validation (missing-link) and is not applied."""
    doc = design()
    doc["links"] = doc["links"][1:]
    for sw in doc["switches"]:
        sw.pop("ports")
    doc.pop("summary")
    out = apply(site(), (), "apply_fabric", {"fabric": doc})
    assert out.error is not None
    assert "missing-link" in out.error.message


def test_apply_fails_fault_applies_nothing_and_fires_once() -> None:
    """apply-fails: the push fails, nothing changes, the fault is spent; the retry applies."""
    faults = faults_from_doc([{"kind": "apply-fails"}])
    out = apply(site(), faults, "apply_fabric", {"fabric": design()})
    assert out.status == "failed"
    assert out.error is not None
    assert out.error.kind == "failed"
    assert out.state == site()
    assert out.faults == ()
    assert apply(site(), out.faults, "apply_fabric", {"fabric": design()}).status == "applied"
    two = faults_from_doc([{"kind": "apply-fails", "times": 2}])
    assert apply(site(), two, "apply_fabric", {"fabric": design()}).faults == (
        Fault(kind="apply-fails", times=1),
    )


def test_a_fat_tree_hosts_racks_on_its_edge_switches() -> None:
    """Edge switches are the access switches of a fat-tree; servers across pods are 6 hops apart."""
    state = site(3, 2)
    doc = to_document(fat_tree(FatTreeSpec(k=4)))
    after = ok(apply(state, (), "apply_fabric", {"fabric": doc}))
    assert after.fabric is not None
    assert [c.switch for c in after.fabric.cabling[::2]] == ["edge-1-1", "edge-1-2", "edge-2-1"]
    graph = nx.Graph([(a, b) for a, b, _ in graph_edges(after)])
    assert nx.shortest_path_length(graph, "srv-1-01", "srv-3-01") == 6
    assert not cut_racks(after)
    refused = apply(site(2, 4), (), "apply_fabric", {"fabric": doc})
    assert refused.error is not None
    assert "edge-1-1 has 2 server port(s)" in refused.error.message


# -- remove_fabric -----------------------------------------------------------------------------


def test_remove_fabric_uncables_everything_without_a_violation() -> None:
    """Removing tears the fabric down; the invariant is then not in force: nothing recorded."""
    state = built()
    faults = faults_from_doc(
        [{"kind": "link-down", "a": "spine-1", "b": "leaf-1"}, {"kind": "apply-fails"}]
    )
    out = apply(state, faults, "remove_fabric", {})
    assert out.status == "applied"
    assert out.state.fabric is None
    assert out.violations == ()
    assert out.result == {
        "removed": True,
        "fingerprint": state.fabric.fingerprint if state.fabric else None,
        "switches": 6,
        "links": 8,
        "servers_uncabled": 32,
    }
    # The faults that named its switches go with it.
    assert out.faults == (Fault(kind="apply-fails", times=1),)
    again = apply(out.state, (), "remove_fabric", {})
    assert (again.status, again.result["removed"]) == ("unchanged", False)


def test_remove_fabric_guards() -> None:
    """A named fingerprint must match; `if_applied_by` leaves a fabric someone else applied."""
    state = ok(apply(site(), (), "apply_fabric", {"fabric": design(), "by": "mine"}))
    wrong = apply(state, (), "remove_fabric", {"fingerprint": "sha256:0000"})
    assert wrong.error is not None
    assert wrong.error.kind == "precondition"
    theirs = apply(state, (), "remove_fabric", {"if_applied_by": "someone-else"})
    assert theirs.status == "unchanged"
    assert theirs.state == state
    assert apply(state, (), "remove_fabric", {"if_applied_by": "mine"}).state.fabric is None


# -- links and switches ------------------------------------------------------------------------


def test_one_uplink_down_keeps_reachability() -> None:
    """Shutting one of a leaf's two uplinks applies; again changes nothing; up restores it."""
    state = built()
    out = link(state, "leaf-1", "spine-1", "down", by="k1")
    down = ok(out)
    assert out.status == "applied"
    assert out.result == {
        "a": "leaf-1",
        "b": "spine-1",
        "state": "down",
        "previous": "up",
        "links": 1,
        "changed": True,
        "working": False,
    }
    assert out.violations == ()
    assert not cut_racks(down)
    assert down.fabric is not None
    assert link_status(down.fabric, down.fabric.links[0]) == "down"
    assert link(down, "spine-1", "leaf-1", "down").status == "unchanged"
    up = link(down, "spine-1", "leaf-1", "up")
    assert up.status == "applied"
    assert up.state.fabric is not None
    assert [ln.state for ln in up.state.fabric.links] == ["up"] * 8
    assert not cut_racks(up.state)


def test_the_last_uplink_of_a_serving_leaf_is_guarded() -> None:
    """Taking a leaf's last working uplink down is refused unless forced; forced, it records."""
    state = ok(link(built(), "spine-1", "leaf-1", "down"))
    out = link(state, "spine-2", "leaf-1", "down")
    assert out.status == "refused"
    assert out.error is not None
    assert out.error.kind == "precondition"
    assert "last working uplink of leaf-1 (rack-1)" in out.error.message
    assert "force" in (out.error.hint or "")
    forced = link(state, "spine-2", "leaf-1", "down", force=True)
    assert forced.status == "applied"
    (v,) = forced.violations
    assert v.kind == "partition"
    assert v.rack_pairs == (("rack-1", "rack-2"), ("rack-1", "rack-3"), ("rack-1", "rack-4"))
    assert v.pairs == 3 * 64
    assert v.servers[0] == "srv-1-01"
    assert len(v.servers) == 32
    assert "taking link spine-2 -- leaf-1 down (forced)" in v.cause
    assert "leaf-1 (rack-1) has no working uplink" in v.cause
    assert v.to_document()["invariant"] == INVARIANT


@pytest.mark.parametrize(
    ("args", "kind", "message"),
    [
        ({"a": "leaf-1", "b": "leaf-2", "state": "down"}, "invalid", "no link between leaf-1"),
        ({"a": "leaf-9", "b": "spine-1", "state": "down"}, "invalid", "no switch named 'leaf-9'"),
        ({"a": "leaf-1", "b": "spine-1", "state": "off"}, "invalid", "up or down"),
        ({"a": "leaf-1", "state": "down"}, "invalid", "argument 'b'"),
    ],
)
def test_set_link_refuses_bad_arguments(args: dict[str, Any], kind: str, message: str) -> None:
    """Unknown switches, switches without a link between them and bad states are invalid."""
    out = apply(built(), (), "set_link", args)
    assert out.error is not None
    assert (out.error.kind, out.status) == (kind, "refused")
    assert message in out.error.message


def test_changes_need_a_fabric() -> None:
    """Without a fabric, link and switch changes are precondition errors pointing at apply."""
    for op, args in [
        ("set_link", {"a": "spine-1", "b": "leaf-1", "state": "down"}),
        ("set_switch", {"switch": "spine-1", "state": "drained"}),
    ]:
        out = apply(site(), (), op, args)
        assert out.error is not None
        assert out.error.kind == "precondition"
        assert "apply one first" in (out.error.hint or "")


def test_draining_a_spine_keeps_reachability_but_not_both() -> None:
    """One spine of two drains; the second is refused; forced, every rack is cut apart."""
    state = built()
    one = drain(state, "spine-1", by="k1")
    assert one.status == "applied"
    assert one.result == {
        "switch": "spine-1",
        "role": "spine",
        "state": "drained",
        "previous": "up",
        "changed": True,
        "working": False,
    }
    assert one.violations == ()
    both = drain(one.state, "spine-2")
    assert both.status == "refused"
    assert both.error is not None
    assert "last working uplink of leaf-1 (rack-1), leaf-2 (rack-2)" in both.error.message
    forced = drain(one.state, "spine-2", force=True)
    (v,) = forced.violations
    assert len(v.rack_pairs) == 6
    assert v.pairs == 6 * 64
    assert len(cut_server_pairs(forced.state)) == 384


def test_draining_a_serving_leaf_cuts_off_its_rack() -> None:
    """A leaf that serves a rack cannot drain unless forced; an unused leaf can."""
    out = drain(built(), "leaf-2")
    assert out.error is not None
    assert "would cut off rack-2 (8 servers, on leaf-2)" in out.error.message
    spare = ok(apply(site(), (), "apply_fabric", {"fabric": design(leaves=5)}))
    assert drain(spare, "leaf-5").status == "applied"
    forced = drain(built(), "leaf-2", force=True)
    (v,) = forced.violations
    assert v.rack_pairs == (("rack-1", "rack-2"), ("rack-2", "rack-3"), ("rack-2", "rack-4"))
    assert "leaf-2 (rack-2) is drained" in v.cause


def test_undrain_and_if_set_by() -> None:
    """Undrain brings a switch back; with if_set_by only the change that key made is undone."""
    state = built()
    drained = ok(drain(state, "spine-1", by="theirs"))
    mine = apply(
        drained, (), "set_switch", {"switch": "spine-1", "state": "up", "if_set_by": "mine"}
    )
    assert mine.status == "unchanged"
    assert mine.result["state"] == "drained"
    back = apply(
        drained, (), "set_switch", {"switch": "spine-1", "state": "up", "if_set_by": "theirs"}
    )
    assert back.status == "applied"
    assert back.state.fabric is not None
    assert back.state.fabric.switches["spine-1"].working
    again = apply(back.state, (), "set_switch", {"switch": "spine-1", "state": "up"})
    assert again.status == "unchanged"
    bad = apply(state, (), "set_switch", {"switch": "spine-1", "state": "down"})
    assert bad.error is not None
    assert "up or drained" in bad.error.message


def test_set_link_if_set_by_restores_only_its_own_change() -> None:
    """A link someone else shut stays shut when a compensation names another key."""
    shut = ok(link(built(), "spine-1", "leaf-1", "down", by="theirs"))
    assert link(shut, "spine-1", "leaf-1", "up", if_set_by="mine").status == "unchanged"
    assert link(shut, "spine-1", "leaf-1", "up", if_set_by="theirs").status == "applied"


# -- faults -------------------------------------------------------------------------------------


def test_link_down_fault_records_a_partition_only_when_it_cuts() -> None:
    """A failed uplink is no partition while the other works; failing both is one."""
    one = inject(built(), kind="link-down", a="spine-1", b="leaf-3")
    assert one.status == "applied"
    assert one.violations == ()
    assert one.faults == (Fault(kind="link-down", a="spine-1", b="leaf-3"),)
    assert one.state.fabric is not None
    assert link_status(one.state.fabric, one.state.fabric.links[2]) == "failed"
    two = inject(one.state, one.faults, kind="link-down", a="leaf-3", b="spine-2")
    (v,) = two.violations
    assert v.cause.startswith("link leaf-3 -- spine-2 has failed (injected fault): 192 cross-rack")
    assert len(two.faults) == 2


def test_switch_down_fault_and_clear_faults() -> None:
    """A failed spine strands nothing while the other works; clearing faults brings it back."""
    state = ok(drain(built(), "spine-2", by="k"))
    out = inject(state, kind="switch-down", switch="spine-1")
    assert len(out.violations) == 1
    assert out.state.fabric is not None
    assert out.state.fabric.switches["spine-1"].failed
    cleared = apply(out.state, out.faults, "clear_faults", {})
    assert cleared.faults == ()
    assert cleared.violations == ()
    assert cleared.result == {"cleared": 1}
    assert cleared.state.fabric is not None
    assert cleared.state.fabric.switches["spine-1"].working
    # Clearing faults leaves administrative state alone: spine-2 is still drained.
    assert cleared.state.fabric.switches["spine-2"].state == "drained"


def test_enabling_a_failed_link_applies_but_it_stays_down() -> None:
    """An administrative `up` on a failed link is recorded; it carries nothing until repaired."""
    state = ok(link(built(), "spine-1", "leaf-1", "down"))
    failed = inject(state, kind="link-down", a="spine-1", b="leaf-1")
    up = link(failed.state, "spine-1", "leaf-1", "up")
    assert up.status == "applied"
    assert up.result["working"] is False
    assert "(it still does not work)" in up.changes[0]


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"kind": "meteor"}, "not one of link-down"),
        ({"kind": "link-down", "a": "spine-1"}, "needs a and b"),
        ({"kind": "switch-down"}, "needs switch"),
        ({"kind": "switch-down", "switch": "spine-9"}, "no switch named 'spine-9'"),
        ({"kind": "link-down", "a": "spine-1", "b": "leaf-1", "times": 2}, "apply-fails only"),
        ({"kind": "apply-fails", "times": 0}, "positive integer"),
    ],
)
def test_bad_faults_are_refused(fault: dict[str, Any], message: str) -> None:
    """Unknown kinds, missing targets, unknown switches and bad counts are invalid."""
    out = apply(built(), (), "inject_fault", fault)
    assert out.error is not None
    assert out.error.kind == "invalid"
    assert message in out.error.message


def test_faults_on_switches_need_a_fabric() -> None:
    """There is no link or switch to fail before a fabric is applied; apply-fails is fine."""
    out = inject(site(), kind="switch-down", switch="spine-1")
    assert out.error is not None
    assert "no fabric is applied" in out.error.message
    assert inject(site(), kind="apply-fails").status == "applied"


def test_fault_descriptions_and_documents() -> None:
    """Faults describe themselves and round-trip through their documents."""
    faults = (
        Fault(kind="link-down", a="spine-1", b="leaf-1"),
        Fault(kind="switch-down", switch="spine-2"),
        Fault(kind="apply-fails", times=2),
    )
    assert [f.describe() for f in faults] == [
        "link spine-1 -- leaf-1 has failed",
        "spine-2 has failed",
        "the next 2 fabric apply(s) fail",
    ]
    assert faults_from_doc(faults_to_doc(faults)) == faults


def test_unknown_operation_is_invalid() -> None:
    """An operation the model does not know is refused, listing the ones it does."""
    out = apply(site(), (), "format_disks", {})
    assert out.error is not None
    assert "unknown network operation" in out.error.message
    assert "apply_fabric" in (out.error.hint or "")


# -- documents ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(NETWORK_SCENARIOS))
def test_state_document_round_trip(name: str) -> None:
    """Every scenario, and a state after changes, survives the document form unchanged."""
    state = network_scenario(name).state
    assert state_from_doc(state_to_doc(state)) == state
    if state.fabric is not None:
        changed = ok(drain(state, "spine-1", by="key"))
        assert state_from_doc(state_to_doc(changed)) == changed


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("site"),
        lambda d: d["site"]["racks"].append(d["site"]["racks"][0]),
        lambda d: d["fabric"]["switches"][0].update(state="down"),
        lambda d: d["fabric"]["links"][0]["a"].update(switch="nowhere"),
        lambda d: d["fabric"]["links"][0].update(state="flapping"),
        lambda d: d["fabric"]["cabling"][0].update(rack="rack-9"),
        lambda d: d["fabric"]["cabling"][0].update(switch="leaf-9"),
    ],
)
def test_malformed_state_documents_are_refused(mutate: Any) -> None:
    """A broken state document is a ValueError saying what is wrong."""
    doc = state_to_doc(network_scenario("built").state)
    mutate(doc)
    with pytest.raises(ValueError, match=r"\S"):
        state_from_doc(doc)


def test_the_kind_logs_writes_but_not_refusals_or_admin() -> None:
    """KindOutcome.logged: applied and unchanged writes are logged; faults and refusals not."""
    kind = NetworkKind()
    doc = kind.build("built").state
    drained = kind.apply(doc, [], "set_switch", {"switch": "spine-1", "state": "drained"})
    assert (drained.status, drained.logged) == ("applied", True)
    refused = kind.apply(drained.state, [], "set_switch", {"switch": "spine-2", "state": "drained"})
    assert (refused.status, refused.logged) == ("refused", False)
    assert refused.error is not None
    assert refused.error["kind"] == "precondition"
    fault = kind.apply(doc, [], "inject_fault", {"kind": "switch-down", "switch": "spine-1"})
    assert fault.logged is False
    assert fault.faults == [{"kind": "switch-down", "switch": "spine-1"}]


# -- the monitor, against networkx ------------------------------------------------------------


def nx_cut_pairs(state: NetworkState) -> set[tuple[str, str]]:
    """Cross-rack server pairs without a path, computed independently with networkx."""
    fabric = state.fabric
    if fabric is None:
        return set()
    g = nx.Graph()
    servers = [(s, r.name) for r in state.racks for s in r.servers]
    g.add_nodes_from(s for s, _ in servers)
    works = {n for n, sw in fabric.switches.items() if sw.state == "up" and not sw.failed}
    g.add_nodes_from(works)
    g.add_edges_from((c.server, c.switch) for c in fabric.cabling if c.switch in works)
    g.add_edges_from(
        (ln.a.switch, ln.b.switch)
        for ln in fabric.links
        if ln.state == "up" and not ln.failed and ln.a.switch in works and ln.b.switch in works
    )
    comp = {n: i for i, c in enumerate(nx.connected_components(g)) for n in c}
    return {
        (s, t)
        for i, (s, r) in enumerate(servers)
        for t, q in servers[i + 1 :]
        if r != q and comp[s] != comp[t]
    }


def _fabrics() -> list[tuple[NetworkState, dict[str, Any]]]:
    return [
        (site(), design()),
        (site(), design(spines=3, uplinks_per_spine=2)),
        (site(4, 2), to_document(fat_tree(FatTreeSpec(k=4)))),
    ]


FABRICS = _fabrics()


@st.composite
def scripts(draw: st.DrawFn) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
    which = draw(st.integers(0, len(FABRICS) - 1))
    state = ok(apply(FABRICS[which][0], (), "apply_fabric", {"fabric": FABRICS[which][1]}))
    assert state.fabric is not None
    names = list(state.fabric.switches)
    pairs = sorted({(ln.a.switch, ln.b.switch) for ln in state.fabric.links})
    ops: list[tuple[str, dict[str, Any]]] = []
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["link", "switch", "link-down", "switch-down", "clear"]))
        a, b = draw(st.sampled_from(pairs))
        sw = draw(st.sampled_from(names))
        force = draw(st.booleans())
        match kind:
            case "link":
                to = draw(st.sampled_from(["up", "down"]))
                ops.append(("set_link", {"a": a, "b": b, "state": to, "force": force}))
            case "switch":
                to = draw(st.sampled_from(["up", "drained"]))
                ops.append(("set_switch", {"switch": sw, "state": to, "force": force}))
            case "link-down":
                ops.append(("inject_fault", {"kind": "link-down", "a": a, "b": b}))
            case "switch-down":
                ops.append(("inject_fault", {"kind": "switch-down", "switch": sw}))
            case _:
                ops.append(("clear_faults", {}))
    return which, ops


@settings(max_examples=150, deadline=None)
@given(scripts())
def test_a_partition_is_recorded_exactly_when_a_cross_rack_pair_loses_reachability(
    script: tuple[int, list[tuple[str, dict[str, Any]]]],
) -> None:
    """Random link and switch failures and changes: the monitor agrees with networkx."""
    which, ops = script
    state = ok(apply(FABRICS[which][0], (), "apply_fabric", {"fabric": FABRICS[which][1]}))
    faults: tuple[Fault, ...] = ()
    for op, args in ops:
        out = apply(state, faults, op, args)
        before, after = nx_cut_pairs(state), nx_cut_pairs(out.state)
        new = after - before
        assert cut_server_pairs(out.state) == after
        if new:
            (v,) = out.violations
            assert v.pairs == len(new)
            assert set(v.servers) == {s for p in new for s in p}
            racks = {s: r.name for r in state.racks for s in r.servers}
            assert set(v.rack_pairs) == {tuple(sorted((racks[s], racks[t]))) for s, t in new}
        else:
            assert out.violations == ()
        if out.status == "refused":
            assert out.state == state
        # Only a fault or a forced change may cut servers apart.
        if new:
            assert op == "inject_fault" or args.get("force") is True, (op, args)
        state, faults = out.state, out.faults
