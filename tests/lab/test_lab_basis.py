"""planactor.lab._basis and the kinds' basis readers: which facts a plan depends on, and
which changes make it stale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planactor.lab import (
    BasisCheck,
    Lab,
    NetworkKind,
    StorageKind,
    basis_reader,
    create_lab,
    replan_command,
    stale_facts,
)
from planactor.plan import Plan, make_basis

MOVE = {
    "api_version": "planactor/v1",
    "intent": "Move the I/O of esx-01 on array-01 to array-01-b",
    "requested_by": "alice",
    "steps": [
        {
            "id": "move",
            "actor": "storage.move_paths",
            "args": {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"},
        }
    ],
}


def _planned(lab: Lab, doc: dict[str, Any] = MOVE) -> Plan:
    """The plan document with the basis a planner records from the lab as it is now."""
    read = basis_reader(lab.read())
    assert read is not None
    return Plan.model_validate({**doc, "basis": read(doc)})


def test_storage_basis_holds_the_named_array_and_its_hosts_for_that_array_only() -> None:
    """Naming array-01 records its controllers' firmware and state and each of its hosts'
    facts about array-01, and nothing about array-02 or array-03."""
    kind = StorageKind()
    state = kind.build("default").state
    facts = kind.basis(state, {"array-01", "esx-03", "5.2.1"})
    assert facts["controller/array-01-a"] == {"firmware": "5.1.0", "state": "online"}
    assert "controller/array-02-a" not in facts
    esx03 = facts["host/esx-03"]  # a host of arrays 01, 02 and 03
    assert esx03["active"] == {"array-01": "array-01-a"}
    assert set(esx03["paths"]) == {"array-01-a", "array-01-b"}
    assert facts["array/array-01"]["hosts"] == [f"esx-{i:02d}" for i in range(1, 9)]


def test_a_plan_naming_only_a_host_depends_on_every_array_it_uses() -> None:
    """Without an array named, the host's facts cover each array it has LUNs on."""
    facts = StorageKind().basis(StorageKind().build("default").state, {"esx-01"})
    assert set(facts["host/esx-01"]["active"]) == {"array-01", "array-02"}


def test_nothing_of_the_lab_named_records_no_basis(tmp_path: Path) -> None:
    """A plan that names nothing the lab holds gets no basis (there is nothing to go stale)."""
    lab = create_lab(tmp_path / "lab.json")
    read = basis_reader(lab.read())
    assert read is not None
    echo = {**MOVE, "steps": [{"id": "e", "actor": "core.echo", "args": {"message": "hi"}}]}
    assert read(echo) is None


def test_a_hand_move_of_a_named_host_is_a_change(tmp_path: Path) -> None:
    """Moving esx-01 on array-01 by hand (no run's key) makes the plan stale, naming the fact."""
    lab = create_lab(tmp_path / "lab.json")
    plan = _planned(lab)
    assert stale_facts(plan, lab.read()) == []
    lab.operate(
        "move_paths", {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"}
    )
    (change,) = stale_facts(plan, lab.read())
    assert (change.entity, change.field) == ("host/esx-01", "active.array-01")
    assert (change.before, change.after) == ("array-01-a", "array-01-b")


def test_drift_outside_the_plan_never_flags(tmp_path: Path) -> None:
    """esx-01 moved on array-02, another array's controller failing a path: not the plan's."""
    lab = create_lab(tmp_path / "lab.json")
    plan = _planned(lab)
    lab.operate(
        "move_paths", {"array": "array-02", "host": "esx-01", "to_controller": "array-02-b"}
    )
    lab.inject_fault({"kind": "path-down", "host": "esx-07", "controller": "array-03-b"})
    assert stale_facts(plan, lab.read()) == []


def test_the_runs_own_writes_are_expected_but_others_are_not(tmp_path: Path) -> None:
    """A write logged under the resumed run's key is excused; the same fact changed by
    another key, or a fact the write does not change, still counts."""
    lab = create_lab(tmp_path / "lab.json")
    plan = _planned(lab)
    lab.operate(
        "move_paths",
        {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"},
        key="run-1/move",
    )
    assert stale_facts(plan, lab.read(), runs={"run-1"}) == []
    assert len(stale_facts(plan, lab.read(), runs={"run-2"})) == 1
    lab.inject_fault({"kind": "path-down", "host": "esx-01", "controller": "array-01-a"})
    (change,) = stale_facts(plan, lab.read(), runs={"run-1"})
    assert change.field == "paths.array-01-a"


def test_storage_footprints_name_what_each_write_changes() -> None:
    """Each storage write excuses only the facts it changes."""
    kind = StorageKind()
    assert kind.footprint("move_paths", {"array": "a1", "host": "h1"}) == [("host/h1", "active.a1")]
    assert kind.footprint("fail_back", {"array": "a1"}) == [("host/*", "active.a1")]
    assert ("controller/c1", "firmware") in kind.footprint(
        "upgrade_firmware", {"array": "a1", "controller": "c1"}
    )
    assert kind.footprint("reboot_controller", {"controller": "c1"}) == [("controller/c1", "state")]
    assert kind.footprint("inject_fault", {}) == []


def test_network_basis_holds_the_site_and_the_named_racks_and_switches() -> None:
    """A network plan depends on the site's shape and applied fabric, and on the racks and
    switches it names (not the others)."""
    kind = NetworkKind()
    facts = kind.basis(kind.build("built").state, {"rack-1", "leaf-1", "srv-1-01"})
    assert set(facts) == {"site/site", "rack/rack-1", "switch/leaf-1"}
    assert facts["site/site"]["racks"] == 4
    assert facts["switch/leaf-1"] == {"role": "leaf", "state": "up", "failed": False}
    assert kind.footprint("set_switch", {"switch": "leaf-1"}) == [("switch/leaf-1", "state")]


def test_basis_check_warns_of_a_missing_or_stale_basis(tmp_path: Path) -> None:
    """The validation policy: no-basis for a hand-written plan, stale-basis once it drifted,
    nothing for a current plan; warnings only, never errors."""
    lab = create_lab(tmp_path / "lab.json")
    check = BasisCheck(doc=lab.read(), path=lab.path)
    hand = Plan.model_validate(MOVE)
    (problem,) = check.check(hand, catalog=None, inventory=None)  # type: ignore[arg-type]
    assert (problem.code, problem.severity) == ("no-basis", "warning")
    plan = _planned(lab)
    assert check.check(plan, catalog=None, inventory=None) == []  # type: ignore[arg-type]
    lab.operate(
        "move_paths", {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"}
    )
    later = BasisCheck(doc=lab.read(), path=lab.path)
    (problem,) = later.check(plan, catalog=None, inventory=None)  # type: ignore[arg-type]
    assert (problem.code, problem.severity) == ("stale-basis", "warning")
    assert "host/esx-01 active.array-01" in problem.message


def test_the_replan_command_repeats_the_routine_and_its_parameters() -> None:
    """The command to plan again names the routine, its parameters, the ticket and the lab."""
    plan = Plan.model_validate(
        {
            **MOVE,
            "change_ticket": "CHG-7",
            "basis": make_basis(lab="storage", facts={"x/y": {"z": 1}}).to_document(),
        }
    )
    assert replan_command(plan, lab=Path("/l.json"), output="p.json") == (
        "planactor plan 'Move the I/O of esx-01 on array-01 to array-01-b' "
        "--ticket CHG-7 --lab /l.json -o p.json"
    )
