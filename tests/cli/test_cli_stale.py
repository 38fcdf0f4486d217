"""Stale plans from the command line: a plan approved against one state of the storage lab is
refused (exit 2) by `run` and `resume` once a fact it was made from changed, and runs when
only unrelated parts of the lab changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clitools import approve, new_keys, run
from planactor.lab import Lab
from planactor.plan import make_basis

UPGRADE = [
    "plan",
    "Upgrade the firmware on array-01 to 5.2.1",
    "--planner",
    "routine",
    "--routine",
    "storage.firmware_upgrade",
    "--param",
    "array=array-01",
    "--param",
    "version=5.2.1",
    "--ticket",
    "CHG-1",
]


def _approved_plan(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[Path, Lab]:
    """A storage lab and a firmware upgrade of array-01 planned from it, approved by two."""
    lab_file = tmp_path / "lab.json"
    code, _, err = run(capsys, "lab", "init", "storage", "--path", str(lab_file))
    assert code == 0, err
    plan = tmp_path / "plan.json"
    code, _, err = run(capsys, *UPGRADE, "--lab", str(lab_file), "-o", str(plan))
    assert code == 0, err
    new_keys(capsys, "carol", "dave")
    approve(capsys, plan, "carol")
    approve(capsys, plan, "dave")
    return plan, Lab(lab_file)


def _run_writes(lab: Lab) -> list[Any]:
    """The lab's logged writes that a run made (they carry its idempotency key)."""
    return [o for o in lab.read().operations if o.get("idempotency_key")]


def test_the_plan_records_its_basis_inside_the_hash(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`plan --lab` records the facts of array-01 it read; validate --lab finds it current."""
    plan, lab = _approved_plan(capsys, tmp_path)
    basis = json.loads(plan.read_text())["basis"]
    assert basis["lab"] == "storage"
    assert basis["facts"]["controller/array-01-a"] == {"firmware": "5.1.0", "state": "online"}
    assert not any("array-02" in entity for entity in basis["facts"])
    code, out, err = run(capsys, "validate", str(plan), "--lab", str(lab.path))
    assert code == 0, err
    assert "basis" not in out


@pytest.mark.parametrize(
    ("change", "fact", "before", "after"),
    [
        (
            ("move_paths", {"array": "array-01", "host": "esx-02", "to_controller": "array-01-b"}),
            "host/esx-02 active.array-01",
            "array-01-a",
            "array-01-b",
        ),
        (
            ("inject_fault", {"kind": "path-down", "host": "esx-03", "controller": "array-01-b"}),
            "host/esx-03 paths.array-01-b",
            "up",
            "down",
        ),
    ],
    ids=["host-moved-by-hand", "path-down-fault"],
)
def test_a_changed_fact_the_plan_read_refuses_the_run(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    change: tuple[str, dict[str, Any]],
    fact: str,
    before: str,
    after: str,
) -> None:
    """Exit 2 before any effect: "plan is stale", the fact, from what to what, and the
    `planactor plan` command that makes the plan again."""
    plan, lab = _approved_plan(capsys, tmp_path)
    lab.operate(*change)
    code, out, err = run(capsys, "run", str(plan), "--lab", str(lab.path), "--yes")
    assert code == 2, out + err
    assert "plan is stale" in err
    assert f'{fact}: "{before}" -> "{after}"' in err
    assert "planactor plan 'Upgrade the firmware on array-01 to 5.2.1' --routine" in err
    assert _run_writes(lab) == []


def test_unrelated_drift_does_not_stop_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """esx-01 moved on array-02 and a path of array-03 down: the array-01 plan runs."""
    plan, lab = _approved_plan(capsys, tmp_path)
    lab.operate(
        "move_paths", {"array": "array-02", "host": "esx-01", "to_controller": "array-02-b"}
    )
    lab.inject_fault({"kind": "path-down", "host": "esx-07", "controller": "array-03-b"})
    code, out, err = run(capsys, "run", str(plan), "--lab", str(lab.path), "--yes", "--json")
    assert code == 0, out + err
    assert json.loads(out)["status"] == "succeeded"


def test_resume_after_a_relevant_change_is_refused_the_same_way(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A run paused by a failed upgrade resumes past its own writes, but not past a path that
    went down meanwhile (exit 2, named); once the path is back, it resumes and succeeds."""
    plan, lab = _approved_plan(capsys, tmp_path)
    lab.inject_fault({"kind": "upgrade-fails", "controller": "array-01-a", "times": 1})
    code, out, err = run(capsys, "run", str(plan), "--lab", str(lab.path), "--yes", "--json")
    assert code == 4, out + err
    run_id = json.loads(out)["run_id"]
    lab.operate("reboot_controller", {"array": "array-01", "controller": "array-01-a"})
    lab.inject_fault({"kind": "path-down", "host": "esx-03", "controller": "array-01-a"})
    writes = len(_run_writes(lab))
    code, out, err = run(capsys, "resume", run_id, "--lab", str(lab.path))
    assert code == 2, out + err
    assert f"run {run_id} may not resume: its plan is stale" in err
    assert 'host/esx-03 paths.array-01-a: "up" -> "down"' in err
    assert len(_run_writes(lab)) == writes
    lab.clear_faults()
    code, out, err = run(capsys, "resume", run_id, "--lab", str(lab.path), "--json")
    assert code == 0, out + err
    assert json.loads(out)["status"] == "succeeded"


def test_editing_the_basis_voids_the_approvals(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The basis is hashed: a plan whose basis was edited (even to facts that still hold)
    is no longer the approved plan, and `run` refuses it (exit 3)."""
    plan, lab = _approved_plan(capsys, tmp_path)
    doc = json.loads(plan.read_text())
    facts = doc["basis"]["facts"]
    del facts["host/esx-08"]  # a subset of what holds: not stale, but not what was approved
    doc["basis"] = make_basis(lab="storage", facts=facts).to_document()
    plan.write_text(json.dumps(doc))
    code, out, err = run(capsys, "run", str(plan), "--lab", str(lab.path), "--yes")
    assert code == 3, out + err
    assert _run_writes(lab) == []


def test_a_hand_written_plan_gets_a_warning_not_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A plan with no basis validates against a lab with the `no-basis` warning (exit 0)."""
    lab_file = tmp_path / "lab.json"
    run(capsys, "lab", "init", "storage", "--path", str(lab_file))
    plan = tmp_path / "hand.json"
    step = {
        "id": "move",
        "actor": "storage.move_paths",
        "args": {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"},
    }
    doc = {"api_version": "planactor/v1", "intent": "t", "requested_by": "alice", "steps": [step]}
    plan.write_text(json.dumps(doc))
    code, out, err = run(capsys, "validate", str(plan), "--lab", str(lab_file), "--json")
    assert code == 0, out + err
    report = json.loads(out)
    assert report["ok"] is True
    assert [p["code"] for p in report["problems"]] == ["no-basis"]
    assert report["problems"][0]["severity"] == "warning"
