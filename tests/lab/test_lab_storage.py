"""The pure storage model: operations, preconditions, faults, the invariant monitor, views."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planactor.lab import storage as lab
from planactor.lab.storage import (
    Fault,
    Outcome,
    StorageState,
    apply,
    default_state,
    scenario,
    unavailable,
)

A1 = ("array-01-a", "array-01-b")
HOSTS = [f"esx-{i:02d}" for i in range(1, 9)]


def ok(outcome: Outcome) -> StorageState:
    assert outcome.error is None, outcome.error
    assert outcome.status in ("applied", "unchanged")
    return outcome.state


def move(state: StorageState, host: str, to: str, array: str = "array-01") -> Outcome:
    return apply(state, (), "move_paths", {"array": array, "host": host, "to_controller": to})


def drain(state: StorageState, array: str = "array-01", to: str = "b") -> StorageState:
    """Move every host of `array` to its controller `to`."""
    for h in lab.hosts_on(state, array):
        state = ok(move(state, h, f"{array}-{to}", array))
    return state


def upgrade(
    state: StorageState, ctrl: str = "array-01-a", version: str = "5.2.0", **kw: Any
) -> Outcome:
    array = ctrl.rsplit("-", 1)[0]
    return apply(
        state,
        kw.pop("faults", ()),
        "upgrade_firmware",
        {"array": array, "controller": ctrl, "version": version, **kw},
    )


def inject(state: StorageState, **fault: Any) -> Outcome:
    return apply(state, (), "inject_fault", fault)


# -- the default scenario and the views ----------------------------------------------------------


def test_default_scenario_shape() -> None:
    """Three arrays of two controllers on 5.1.0 (array-03 ALUA), eight hosts, one path each way."""
    s = default_state()
    assert sorted(s.arrays) == ["array-01", "array-02", "array-03"]
    assert [s.arrays[a].mode for a in sorted(s.arrays)] == ["active-passive"] * 2 + ["alua"]
    assert s.arrays["array-01"].controllers == A1
    assert {c.firmware for c in s.controllers.values()} == {"5.1.0"}
    assert sorted(s.hosts) == HOSTS
    for (h, c), p in s.paths.items():
        assert p.state == "up"
        assert s.controllers[c].array in s.hosts[h].active
    assert unavailable(s) == {}


def test_facts_shape_matches_the_planner_contract() -> None:
    """facts(): per array mode, controllers, active/passive, firmware and hosts; per host arrays."""
    f = lab.facts(default_state())
    a1 = f["arrays"]["array-01"]
    assert a1["mode"] == "active-passive"
    assert a1["controllers"] == list(A1)
    assert (a1["active"], a1["passive"]) == A1
    assert a1["firmware"] == {"array-01-a": "5.1.0", "array-01-b": "5.1.0"}
    assert a1["hosts"] == HOSTS
    assert f["arrays"]["array-03"]["hosts"] == HOSTS[2:]
    assert f["hosts"]["esx-01"]["arrays"] == ["array-01", "array-02"]


def test_facts_active_follows_the_host_io() -> None:
    """Once most hosts run through -b, facts() calls -b the active controller."""
    f = lab.facts(drain(default_state()))
    assert (f["arrays"]["array-01"]["active"], f["arrays"]["array-01"]["passive"]) == A1[::-1]


def test_inventory_lists_four_kinds() -> None:
    """inventory(): arrays, controllers, hosts and LUNs by name."""
    inv = lab.inventory(default_state())
    assert inv.names("array") == {"array-01", "array-02", "array-03"}
    assert inv.names("controller") is not None
    assert len(inv.names("controller") or ()) == 6
    assert inv.names("host") == set(HOSTS)
    assert len(inv.names("lun") or ()) == 20


def test_path_views_roles_per_mode() -> None:
    """Paths are active/passive on active-passive arrays, optimized/non-optimized on ALUA."""
    s = default_state()
    roles = {(v.array, v.controller[-1]): v.role for v in lab.path_views(s, host="esx-03")}
    assert roles[("array-01", "a")] == "active"
    assert roles[("array-01", "b")] == "passive"
    assert roles[("array-03", "a")] == "active-optimized"
    assert roles[("array-03", "b")] == "active-non-optimized"
    assert all(v.host == "esx-03" for v in lab.path_views(s, host="esx-03"))
    assert {v.array for v in lab.path_views(s, array="array-02")} == {"array-02"}


def test_carries_io() -> None:
    """A controller carries the I/O of the hosts routed through it, and only theirs."""
    s = default_state()
    assert lab.carries_io(s, "array-01-a") == HOSTS
    assert lab.carries_io(s, "array-01-b") == []
    s = ok(move(s, "esx-02", "array-01-b"))
    assert lab.carries_io(s, "array-01-b") == ["esx-02"]


def test_alua_io_falls_over_to_the_non_optimized_path() -> None:
    """In ALUA, a host whose optimized path is down sends its I/O through the other controller."""
    s = ok(inject(default_state(), kind="path-down", host="esx-04", controller="array-03-a"))
    assert lab.io_controller(s, "esx-04", "array-03") == "array-03-b"
    assert ("esx-04", "lun-16") not in unavailable(s)


def test_preflight() -> None:
    """Preflight finds nothing in the default lab, and names the down path and the mute host."""
    assert lab.preflight(default_state(), "array-01") == []
    assert lab.preflight(scenario("path-down").state, "array-01") == [
        "esx-03's path through array-01-b is down"
    ]
    # The path through -a is not needed to take -a offline.
    assert lab.preflight(scenario("path-down").state, "array-01", "array-01-b") == []
    assert lab.preflight(scenario("host-unresponsive").state, "array-01") == [
        "esx-05 does not respond: its paths cannot be moved"
    ]


# -- move_paths, fail_back, rebalance, restore_paths --------------------------------------------


def test_move_paths_moves_one_host() -> None:
    """move_paths routes one host's I/O through the other controller and reports where from."""
    out = move(default_state(), "esx-03", "array-01-b")
    assert out.status == "applied"
    assert out.result == {
        "array": "array-01",
        "host": "esx-03",
        "from_controller": "array-01-a",
        "to_controller": "array-01-b",
        "moved": True,
    }
    assert out.state.hosts["esx-03"].active["array-01"] == "array-01-b"
    assert out.state.hosts["esx-04"].active["array-01"] == "array-01-a"
    assert out.violations == ()


def test_move_paths_to_where_it_is_changes_nothing() -> None:
    """Moving a host to the controller it already uses is `unchanged`."""
    out = move(default_state(), "esx-03", "array-01-a")
    assert out.status == "unchanged"
    assert out.result["moved"] is False
    assert out.state == default_state()


@pytest.mark.parametrize(
    ("host", "to", "array", "message"),
    [
        ("esx-99", "array-01-b", "array-01", "no host named 'esx-99'"),
        ("esx-01", "array-02-b", "array-01", "'array-02-b' is not a controller of array-01"),
        ("esx-01", "array-03-b", "array-03", "esx-01 has no LUN on array-03"),
        ("esx-01", "array-09-b", "array-09", "no array named 'array-09'"),
    ],
)
def test_move_paths_refuses_bad_names(host: str, to: str, array: str, message: str) -> None:
    """Unknown hosts, arrays and foreign controllers are `invalid` and change nothing."""
    out = move(default_state(), host, to, array)
    assert out.status == "refused"
    assert out.error is not None
    assert out.error.kind == "invalid"
    assert message in out.error.message
    assert out.state == default_state()


def test_move_paths_needs_a_working_target_path() -> None:
    """A host is never moved onto a path that is down: a precondition, not a DU."""
    out = move(scenario("path-down").state, "esx-03", "array-01-b")
    assert out.status == "refused"
    assert out.error is not None
    assert out.error.kind == "precondition"
    assert "path through array-01-b is down" in out.error.message


def test_move_paths_needs_a_responsive_host() -> None:
    """A host that does not respond cannot have its paths moved (retryable)."""
    out = move(scenario("host-unresponsive").state, "esx-05", "array-01-b")
    assert out.error is not None
    assert out.error.kind == "unresponsive"


def test_move_paths_needs_an_online_target_controller() -> None:
    """Moving I/O onto a failed controller is refused."""
    s = drain(default_state())
    s = upgrade(s, faults=(Fault(kind="upgrade-fails", controller="array-01-a", times=1),)).state
    out = move(s, "esx-01", "array-01-a")
    assert out.error is not None
    assert out.error.kind == "precondition"
    assert "the controller is failed" in out.error.message


def test_fail_back_returns_hosts_to_their_preferred_controller() -> None:
    """fail_back moves every host of the array back, reporting where each came from."""
    s = drain(default_state())
    out = apply(s, (), "fail_back", {"array": "array-01"})
    assert out.status == "applied"
    assert [m["host"] for m in out.result["moved"]] == HOSTS
    assert out.result["previous"] == dict.fromkeys(HOSTS, "array-01-b")
    assert lab.carries_io(out.state, "array-01-a") == HOSTS
    again = apply(out.state, (), "fail_back", {"array": "array-01"})
    assert again.status == "unchanged"
    assert again.result["moved"] == []


def test_fail_back_is_all_or_nothing() -> None:
    """If one host cannot go back, none moves."""
    s = drain(default_state())
    s = ok(inject(s, kind="path-down", host="esx-06", controller="array-01-a"))
    out = apply(s, (), "fail_back", {"array": "array-01"})
    assert out.status == "refused"
    assert out.state == s


def test_rebalance_splits_evenly_with_fewest_moves() -> None:
    """Eight hosts on -a become four and four, moving the last four by name."""
    out = apply(default_state(), (), "rebalance", {"array": "array-01"})
    assert [m["host"] for m in out.result["moved"]] == HOSTS[4:]
    assert len(lab.carries_io(out.state, "array-01-a")) == 4
    assert len(lab.carries_io(out.state, "array-01-b")) == 4
    assert apply(out.state, (), "rebalance", {"array": "array-01"}).status == "unchanged"


def test_rebalance_skips_hosts_that_cannot_move() -> None:
    """A host that does not respond stays, and is reported as skipped."""
    out = apply(scenario("host-unresponsive").state, (), "rebalance", {"array": "array-01"})
    moved = [m["host"] for m in out.result["moved"]]
    assert "esx-05" not in moved
    assert len(moved) == 4
    assert out.result["skipped"] == ["esx-05"]


def test_rebalance_needs_both_controllers() -> None:
    """Rebalancing onto a failed controller is refused."""
    s = drain(default_state())
    s = upgrade(s, faults=(Fault(kind="upgrade-fails", controller="array-01-a"),)).state
    out = apply(s, (), "rebalance", {"array": "array-01"})
    assert out.error is not None
    assert out.error.kind == "precondition"


def test_restore_paths_undoes_a_fail_back() -> None:
    """restore_paths with fail_back's `previous` puts every host back."""
    s = drain(default_state())
    back = apply(s, (), "fail_back", {"array": "array-01"})
    undo = apply(
        back.state, (), "restore_paths", {"array": "array-01", "paths": back.result["previous"]}
    )
    assert undo.state == s
    assert apply(s, (), "restore_paths", {"array": "array-01", "paths": 3}).status == "refused"
    bad = apply(s, (), "restore_paths", {"array": "array-01", "paths": {"esx-01": 7}})
    assert bad.error is not None
    assert bad.error.kind == "invalid"


# -- taking a controller offline ---------------------------------------------------------------


def test_upgrade_refused_while_the_controller_carries_io() -> None:
    """Never upgrade a controller that carries host I/O."""
    out = upgrade(default_state())
    assert out.status == "refused"
    assert out.error is not None
    assert out.error.kind == "precondition"
    assert "array-01-a still carries host I/O for esx-01" in out.error.message
    assert "storage.move_paths" in (out.error.hint or "")


def test_upgrade_refused_when_a_host_lacks_a_surviving_path() -> None:
    """Never take a controller offline if some host lacks a working path through the other."""
    s = scenario("path-down").state
    # Move everyone but esx-03 (whose path to -b is down); then -a carries only esx-03.
    for h in HOSTS:
        if h != "esx-03":
            s = ok(move(s, h, "array-01-b"))
    out = upgrade(s, "array-01-b")
    assert out.error is not None
    assert "still carries host I/O" in out.error.message
    # Taking -a offline is refused too: esx-03 carries through -a, and has no path via -b.
    out = upgrade(s, "array-01-a")
    assert out.error is not None
    assert "esx-03" in out.error.message


def test_upgrade_refused_when_the_peer_is_down() -> None:
    """Never take the last online controller of an array offline."""
    s = drain(default_state())
    s = upgrade(s, faults=(Fault(kind="upgrade-fails", controller="array-01-a"),)).state
    out = apply(s, (), "reboot_controller", {"array": "array-01", "controller": "array-01-b"})
    assert out.error is not None
    assert "without a controller" in out.error.message


def test_upgrade_after_moving_every_host() -> None:
    """With its hosts moved away, a controller flashes without any DU."""
    out = upgrade(drain(default_state()))
    assert out.status == "applied"
    assert out.state.controllers["array-01-a"].firmware == "5.2.0"
    assert out.state.controllers["array-01-a"].state == "online"
    assert out.result == {
        "array": "array-01",
        "controller": "array-01-a",
        "from_version": "5.1.0",
        "to_version": "5.2.0",
        "upgraded": True,
    }
    assert out.violations == ()


def test_upgrade_is_idempotent_on_the_target_version() -> None:
    """Upgrading to the version it runs changes nothing, even while it carries I/O."""
    s = upgrade(drain(default_state())).state
    s = ok(apply(s, (), "fail_back", {"array": "array-01"}))
    out = upgrade(s)
    assert out.status == "unchanged"
    assert out.result["upgraded"] is False


@pytest.mark.parametrize(("version", "message"), [("5.0.9", "downgrade"), ("5.2", "MAJOR")])
def test_upgrade_refuses_bad_versions(version: str, message: str) -> None:
    """Downgrades and malformed versions are invalid."""
    out = upgrade(drain(default_state()), version=version)
    assert out.error is not None
    assert out.error.kind == "invalid"
    assert message in out.error.message


def test_forced_upgrade_records_a_du_for_every_host_on_the_controller() -> None:
    """Forced while carrying I/O, the flash cuts every active-passive host off: one DU each."""
    out = upgrade(default_state(), force=True)
    assert out.status == "applied"
    assert [(v.host, v.lun) for v in out.violations] == [
        (h, f"lun-{i}") for i, h in enumerate(HOSTS, 1)
    ]
    v = out.violations[2]
    assert v.kind == "DU"
    assert v.cause.startswith(
        "upgrading array-01-a takes it offline while esx-03 still reaches lun-3 only through it"
    )
    assert "active-passive" in v.cause
    # The outage was transient: afterwards every host has its path again.
    assert unavailable(out.state) == {}


def test_forced_upgrade_in_alua_survives_on_the_other_path() -> None:
    """In ALUA the non-optimized path carries on: refused unforced, but no DU when forced."""
    refused = upgrade(default_state(), "array-03-a")
    assert refused.error is not None
    assert refused.error.kind == "precondition"
    assert upgrade(default_state(), "array-03-a", force=True).violations == ()


def test_forced_upgrade_in_alua_with_the_other_path_down() -> None:
    """In ALUA a DU needs the other path down too; the cause says so."""
    s = ok(inject(default_state(), kind="path-down", host="esx-07", controller="array-03-b"))
    out = upgrade(s, "array-03-a", force=True)
    assert [(v.host, v.lun) for v in out.violations] == [("esx-07", "lun-19")]
    assert "its path through array-03-b is down" in out.violations[0].cause


def test_failed_upgrade_halts_the_controller_and_reboot_recovers_it() -> None:
    """An upgrade-fails fault leaves the controller failed on its old firmware, once."""
    faults = (Fault(kind="upgrade-fails", controller="array-01-a", times=1),)
    out = upgrade(drain(default_state()), faults=faults)
    assert out.status == "failed"
    assert out.error is not None
    assert out.error.kind == "failed"
    assert out.faults == ()
    ctrl = out.state.controllers["array-01-a"]
    assert (ctrl.state, ctrl.firmware) == ("failed", "5.1.0")
    assert out.violations == ()
    again = upgrade(out.state)
    assert again.error is not None
    assert "reboot it first" in (again.error.hint or "")
    back = apply(
        out.state, (), "reboot_controller", {"array": "array-01", "controller": "array-01-a"}
    )
    assert back.result["was"] == "failed"
    assert back.state.controllers["array-01-a"].state == "online"
    assert upgrade(back.state).status == "applied"


def test_reboot_preconditions_and_forced_du() -> None:
    """A reboot is refused while carrying I/O; forced, it records DUs but ends online."""
    args = {"array": "array-02", "controller": "array-02-a"}
    refused = apply(default_state(), (), "reboot_controller", args)
    assert refused.error is not None
    assert refused.error.kind == "precondition"
    forced = apply(default_state(), (), "reboot_controller", {**args, "force": True})
    assert len(forced.violations) == 6
    assert forced.violations[0].cause.startswith("rebooting array-02-a takes it offline")
    drained = drain(default_state(), "array-02")
    assert apply(drained, (), "reboot_controller", args).status == "applied"


# -- faults ------------------------------------------------------------------------------------


def test_path_down_on_an_active_path_is_a_du() -> None:
    """Losing the only I/O path of an active-passive host records a DU; a passive one does not."""
    out = inject(default_state(), kind="path-down", host="esx-03", controller="array-01-a")
    assert [(v.host, v.lun) for v in out.violations] == [("esx-03", "lun-3")]
    assert "went down (injected fault)" in out.violations[0].cause
    quiet = inject(default_state(), kind="path-down", host="esx-03", controller="array-01-b")
    assert quiet.violations == ()
    assert quiet.state.paths[("esx-03", "array-01-b")].state == "down"
    assert quiet.faults == (Fault(kind="path-down", host="esx-03", controller="array-01-b"),)


def test_host_down_makes_the_host_unresponsive() -> None:
    """host-down: the host stops answering; its data stays available."""
    out = inject(default_state(), kind="host-down", host="esx-02")
    assert out.state.hosts["esx-02"].responsive is False
    assert out.violations == ()


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "path-down", "host": "esx-01", "controller": "array-03-a"},
        {"kind": "host-down", "host": "esx-42"},
        {"kind": "upgrade-fails", "controller": "array-07-a"},
        {"kind": "timeout", "operation": "inventory"},
        {"kind": "meteor"},
        {"kind": "path-down", "host": "esx-01"},
        {"kind": "timeout", "operation": "move_paths", "times": 0},
    ],
)
def test_bad_faults_are_refused(fault: dict[str, Any]) -> None:
    """A fault naming nothing that exists, or missing its targets, is invalid."""
    out = inject(default_state(), **fault)
    assert out.status == "refused"
    assert out.error is not None
    assert out.error.kind == "invalid"


def test_timeout_after_applying() -> None:
    """A timeout fault lets the operation apply, then reports a timeout, once."""
    faults = (Fault(kind="timeout", operation="move_paths", times=1),)
    out = apply(
        default_state(),
        faults,
        "move_paths",
        {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"},
    )
    assert out.status == "applied"
    assert out.error is not None
    assert out.error.kind == "timeout"
    assert out.faults == ()
    assert out.state.hosts["esx-01"].active["array-01"] == "array-01-b"


def test_timeout_before_applying_changes_nothing_but_the_fault() -> None:
    """A timeout before applying leaves the state alone and counts the firing."""
    faults = (Fault(kind="timeout", operation="move_paths", times=2, applied=False),)
    out = apply(
        default_state(),
        faults,
        "move_paths",
        {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"},
    )
    assert out.status == "refused"
    assert out.state == default_state()
    assert out.faults == (replace(faults[0], times=1),)


def test_clear_faults_restores_paths_and_hosts() -> None:
    """clear_faults brings every path up, every host back, and drops pending faults."""
    s = scenario("path-down").state
    s = ok(inject(s, kind="host-down", host="esx-01"))
    out = apply(s, (Fault(kind="upgrade-fails", controller="array-01-a"),), "clear_faults", {})
    assert out.faults == ()
    assert all(p.state == "up" for p in out.state.paths.values())
    assert all(h.responsive for h in out.state.hosts.values())


def test_unknown_operation_is_invalid() -> None:
    """An operation the model does not know is refused, not raised."""
    out = apply(default_state(), (), "format_disks", {})
    assert out.error is not None
    assert out.error.kind == "invalid"


def test_fault_descriptions() -> None:
    """Each fault describes itself in words for `lab show`."""
    texts = [
        Fault(kind="path-down", host="esx-01", controller="array-01-a").describe(),
        Fault(kind="host-down", host="esx-01").describe(),
        Fault(kind="upgrade-fails", controller="array-01-a", times=2).describe(),
        Fault(kind="timeout", operation="move_paths", times=1, applied=False).describe(),
    ]
    assert texts == [
        "path esx-01 -> array-01-a is down",
        "esx-01 does not respond",
        "the next 2 upgrade(s) of array-01-a fail",
        "the next 1 move_paths call(s) time out before applying",
    ]


# -- documents ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(lab.SCENARIOS))
def test_state_document_round_trip(name: str) -> None:
    """Every scenario's state and faults survive the document form unchanged."""
    sc = scenario(name)
    assert lab.state_from_doc(lab.state_to_doc(sc.state)) == sc.state
    assert lab.faults_from_doc(lab.faults_to_doc(sc.faults)) == sc.faults


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("arrays"),
        lambda d: d["arrays"][0]["controllers"].pop(),
        lambda d: d["arrays"][0].update(mode="active-active"),
        lambda d: d["hosts"][0]["active"].update({"array-01": "array-02-a"}),
        lambda d: d["hosts"][0]["paths"].append({"controller": "nope"}),
        lambda d: d["arrays"][0]["luns"][0].update(hosts=["esx-99"]),
    ],
)
def test_malformed_state_documents_are_refused(mutate: Any) -> None:
    """A malformed state document raises ValueError, never anything else."""
    doc = lab.state_to_doc(default_state())
    mutate(doc)
    with pytest.raises(ValueError, match=r"\w"):
        lab.state_from_doc(doc)


# -- the monitor never misses a DU --------------------------------------------------------------

_CONTROLLERS = [f"array-0{a}-{c}" for a in (1, 2, 3) for c in "ab"]


@st.composite
def operations(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    array = draw(st.sampled_from(["array-01", "array-02", "array-03"]))
    ctrl = draw(st.sampled_from([f"{array}-a", f"{array}-b"]))
    host = draw(st.sampled_from(HOSTS))
    kind = draw(
        st.sampled_from(
            ["move", "upgrade", "reboot", "fail_back", "rebalance", "fault", "clear", "restore"]
        )
    )
    force = draw(st.booleans())
    match kind:
        case "move":
            return "move_paths", {"array": array, "host": host, "to_controller": ctrl}
        case "upgrade":
            v = draw(st.sampled_from(["5.1.0", "5.2.0", "6.0.0"]))
            return "upgrade_firmware", {
                "array": array,
                "controller": ctrl,
                "version": v,
                "force": force,
            }
        case "reboot":
            return "reboot_controller", {"array": array, "controller": ctrl, "force": force}
        case "fail_back" | "rebalance":
            return kind, {"array": array}
        case "restore":
            return "restore_paths", {"array": array, "paths": {host: ctrl}}
        case "clear":
            return "clear_faults", {}
    fault = draw(
        st.sampled_from(
            [
                {
                    "kind": "path-down",
                    "host": host,
                    "controller": draw(st.sampled_from(_CONTROLLERS)),
                },
                {"kind": "host-down", "host": host},
                {"kind": "upgrade-fails", "controller": ctrl},
                {"kind": "timeout", "operation": "upgrade_firmware", "applied": force},
            ]
        )
    )
    return "inject_fault", fault


@settings(max_examples=150, deadline=None)
@given(st.lists(operations(), max_size=25))
def test_no_du_goes_unrecorded(ops: list[tuple[str, dict[str, Any]]]) -> None:
    """Random operations: every outage, even one inside an operation, was recorded when it began."""
    state, faults = default_state(), ()
    open_outages: set[tuple[str, str]] = set()
    for op, args in ops:
        out = apply(state, faults, op, args)
        recorded = {(v.host, v.lun) for v in out.violations}
        before = set(unavailable(state))
        now = set(unavailable(out.state))
        # Every recorded DU is a pair that had a path before the operation began.
        assert not recorded & before
        # Every pair without a path now was recorded, now or when its outage began.
        assert now <= open_outages | recorded, (op, args, now - open_outages - recorded)
        if op in ("upgrade_firmware", "reboot_controller") and out.status in ("applied", "failed"):
            # While it flashed or rebooted the controller was offline: outages then count too.
            ctrl = args["controller"]
            offline = replace(state.controllers[ctrl], state="offline")
            during = replace(state, controllers={**state.controllers, ctrl: offline})
            assert set(unavailable(during)) - before <= recorded, (op, args)
        if out.status == "refused":
            assert out.state == state
        # The invariant holds unless something was forced or a fault hit.
        if recorded and op != "inject_fault":
            assert args.get("force") is True, (op, args)
        open_outages = now
        state, faults = out.state, out.faults
