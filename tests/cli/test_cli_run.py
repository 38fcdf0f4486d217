"""`planactor run`, `resume`, `runs` and `replay`: exit codes, approvals, journal files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from clitools import ledger_write, run, sign_as, write_plan
from planactor import testing
from planactor._examples import example_plan_bytes


def _writes(tmp_path: Path, *extra: dict[str, Any]) -> tuple[Path, Path]:
    ledger = tmp_path / "ledger.jsonl"
    steps = [
        ledger_write(ledger, "w1", "a"),
        ledger_write(ledger, "w2", "b", after=["w1"]),
        *extra,
    ]
    return write_plan(tmp_path, steps), ledger


def _run_id(capsys: pytest.CaptureFixture[str]) -> str:
    code, out, _ = run(capsys, "runs", "--json")
    assert code == 0
    runs = json.loads(out)
    return str(runs[-1]["run_id"])


def test_run_read_only_plan_succeeds_and_is_listed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """An approved read-only plan runs, exits 0, and appears in `runs` (the example is
    written by hand, so novel: it needs an approval even though it only reads)."""
    plan = tmp_path / "plan.json"
    plan.write_bytes(example_plan_bytes())
    sign_as(capsys, plan, "carol")
    code, out, _ = run(capsys, "run", str(plan))
    assert code == 0
    assert "SUCCEEDED" in out
    assert (home / "journal.db").exists()
    code, out, _ = run(capsys, "runs", "--json")
    (record,) = json.loads(out)
    assert record["status"] == "succeeded"


@pytest.mark.usefixtures("testing_pack")
def test_run_refuses_unapproved_writes_with_exit_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A plan that writes, with no approval, exits 3 (even with --yes) and runs nothing."""
    plan, ledger = _writes(tmp_path)
    code, _, err = run(capsys, "run", str(plan), "--yes")
    assert code == 3
    assert "needs 1 approval(s) and has none valid" in err
    assert "planactor approve" in err
    assert not ledger.exists()
    code, out, _ = run(capsys, "runs")
    assert "no runs" in out


@pytest.mark.usefixtures("testing_pack")
def test_approved_run_applies_each_write_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A plan approved by someone other than its requester runs; each write applies once."""
    plan, ledger = _writes(tmp_path)
    sign_as(capsys, plan, "carol")
    code, out, _ = run(capsys, "run", str(plan), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["status"] == "succeeded"
    assert testing.applied_counts(ledger) == {
        f"{result['run_id']}/w1": 1,
        f"{result['run_id']}/w2": 1,
    }


@pytest.mark.usefixtures("testing_pack")
def test_dry_run_needs_no_approval_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--dry-run reports what writes would change and leaves the ledger untouched."""
    plan, ledger = _writes(tmp_path)
    code, out, _ = run(capsys, "run", str(plan), "--dry-run", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["dry_run"] is True
    assert "would change" in result["steps"]["w1"]["note"]
    assert not ledger.exists()


@pytest.mark.usefixtures("testing_pack")
def test_pause_exits_4_then_abort_compensates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A step in an unexpected state pauses (exit 4); `resume --abort` compensates (exit 1)."""
    plan, ledger = _writes(
        tmp_path, {"id": "check", "actor": "testing.unexpected", "args": {}, "after": ["w2"]}
    )
    sign_as(capsys, plan, "carol")
    code, out, _ = run(capsys, "run", str(plan), "--yes")
    assert code == 4
    assert "PAUSED" in out
    assert "planactor resume" in out
    run_id = _run_id(capsys)
    code, out, _ = run(capsys, "resume", run_id, "--abort", "--json")
    assert code == 1
    assert json.loads(out)["status"] == "compensated"
    undone = [e["item"] for e in testing.ledger_entries(ledger) if e["op"] == "undo"]
    assert undone == ["b", "a"]


def test_resume_of_unknown_or_finished_run_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Resuming a run that does not exist exits 2; one that already ended exits 1."""
    plan = tmp_path / "plan.json"
    plan.write_bytes(example_plan_bytes())
    sign_as(capsys, plan, "carol")
    run(capsys, "run", str(plan))
    code, _, err = run(capsys, "resume", "run-nope")
    assert code == 2
    assert "planactor runs" in err
    code, _, err = run(capsys, "resume", _run_id(capsys))
    assert code == 1
    assert "already ended" in err
    assert "Traceback" not in err


def test_replay_reports_determinism_and_a_different_plan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`replay` exits 0 for a faithful record, 1 when --plan is not the plan that ran."""
    plan = tmp_path / "plan.json"
    plan.write_bytes(example_plan_bytes())
    sign_as(capsys, plan, "carol")
    run(capsys, "run", str(plan))
    run_id = _run_id(capsys)
    code, out, _ = run(capsys, "replay", run_id)
    assert code == 0
    assert "deterministic" in out
    other = write_plan(
        tmp_path, [{"id": "x", "actor": "core.echo", "args": {"message": "m"}}], "other.json"
    )
    code, out, _ = run(capsys, "replay", run_id, "--plan", str(other), "--json")
    assert code == 1
    assert json.loads(out)["plan_matches"] is False


def test_replay_flags_a_tampered_journal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """Changing one recorded output in the database makes `replay` exit 1, naming the event."""
    plan = tmp_path / "plan.json"
    plan.write_bytes(example_plan_bytes())
    sign_as(capsys, plan, "carol")
    run(capsys, "run", str(plan))
    run_id = _run_id(capsys)
    db = sqlite3.connect(home / "journal.db")
    with db:
        db.execute(
            "UPDATE events SET body = replace(body, 'server-d', 'server-x') "
            "WHERE run_id = ? AND type = 'step.succeeded'",
            (run_id,),
        )
    db.close()
    code, out, _ = run(capsys, "replay", run_id)
    assert code == 1
    assert "chain broken at event #2" in out


def test_parallel_run_and_custom_db(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--parallel and --db work together; the journal lands where --db says."""
    steps = [{"id": f"s{i}", "actor": "core.echo", "args": {"message": str(i)}} for i in range(8)]
    plan = write_plan(tmp_path, steps)
    sign_as(capsys, plan, "carol")  # hand-written, so novel: approved, though it only reads
    db = tmp_path / "elsewhere" / "j.db"
    code, out, _ = run(capsys, "run", str(plan), "--parallel", "4", "--db", str(db), "--json")
    assert code == 0
    outputs = {k: v["output"]["message"] for k, v in json.loads(out)["steps"].items()}
    assert outputs == {f"s{i}": str(i) for i in range(8)}
    code, out, _ = run(capsys, "runs", "--db", str(db), "--json")
    assert len(json.loads(out)) == 1


def test_run_invalid_plan_exits_2_before_journaling(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """An invalid plan is refused with its problems, and no journal is created."""
    plan = write_plan(tmp_path, [{"id": "a", "actor": "core.ecoh", "args": {}}])
    code, _, err = run(capsys, "run", str(plan))
    assert code == 2
    assert "unknown-actor" in err
    assert not (home / "journal.db").exists()


def test_run_with_a_lab_refuses_a_plan_that_would_cause_data_unavailability(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--lab: flashing array-01's active controller while hosts use it is refused (exit 2)."""
    lab_file = tmp_path / "lab.json"
    code, _, err = run(capsys, "lab", "init", "storage", "--path", str(lab_file))
    assert code == 0, err
    plan = write_plan(
        tmp_path,
        [
            {
                "id": "flash",
                "actor": "storage.upgrade_firmware",
                "args": {"array": "array-01", "controller": "array-01-a", "version": "5.2.1"},
            }
        ],
    )
    code, out, err = run(capsys, "run", str(plan), "--lab", str(lab_file))
    assert code == 2
    assert "storage-du" in err + out
    from planactor.lab import current_lab

    assert current_lab(lab_file).read().operations == []
