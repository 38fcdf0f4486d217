"""`planactor demo`: the end-to-end story on a storage lab, in its own folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clitools import run
from planactor import load_plan
from planactor.journal import Journal
from planactor.lab import current_lab, facts, storage_state


def test_demo_runs_both_acts_without_data_unavailability(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """--yes: act 1 upgrades array-01 (DU 0), act 2 pauses on a failed controller (DU 0)."""
    workdir = tmp_path / "demo"
    code, out, err = run(capsys, "demo", "--dir", str(workdir), "--yes")
    assert code == 0, err
    assert out.count("DU events: 0") == 3
    assert "SUCCEEDED" in out
    assert "PAUSED" in out
    assert "fault injected" in out
    assert "planactor resume" in out
    # Act 2 ends with recover: the playbook's fix, approved and run linked, then the resume.
    assert "planactor recover" in out
    assert "playbook storage.controller-failed-upgrade" in out
    assert "(recovers run-" in out
    # The approved plan file is valid and carries two approvals by people other than sam.
    plan = load_plan(workdir / "upgrade-array-01.json").plan
    assert plan.requested_by == "sam"
    assert sorted(a.identity for a in plan.approvals) == ["alice", "carol"]
    # The lab really changed, and its monitor recorded no violation.
    doc = current_lab(workdir / "lab.json").read()
    firmware = facts(storage_state(doc))["arrays"]["array-01"]["firmware"]
    assert set(firmware.values()) == {"5.2.1"}
    assert doc.violations == []
    # Every run's journal verifies; the demo left the user's home untouched.
    with Journal(workdir / "home" / "journal.db") as journal:
        runs = journal.runs()
        assert [r.status for r in runs] == ["succeeded", "succeeded", "succeeded", "succeeded"]
        assert runs[3].plan.recovers == runs[2].run_id  # the fix run, linked to act 2's run
        assert all(journal.verify(r.run_id).ok for r in runs)
    assert not home.exists()


def test_demo_without_approval_runs_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without --yes and no terminal to ask, the demo stops at approval with exit 3."""
    workdir = tmp_path / "demo"
    code, _, err = run(capsys, "demo", "--dir", str(workdir))
    assert code == 3
    assert "--yes" in err
    doc = current_lab(workdir / "lab.json").read()
    assert doc.operations == []


def test_console_script_demo(tmp_path: Path) -> None:
    """The installed script runs the demo end to end and leaves an auditable journal."""
    env = {**os.environ, "PLANACTOR_HOME": str(tmp_path / "user-home"), "COLUMNS": "120"}
    env.pop("PLANACTOR_LAB", None)
    script = Path(sys.executable).with_name("planactor")
    demo = subprocess.run(
        [str(script), "demo", "--dir", str(tmp_path / "d"), "--yes"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    env["PLANACTOR_HOME"] = str(tmp_path / "d" / "home")
    verify = subprocess.run(
        [str(script), "audit", "verify", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)
