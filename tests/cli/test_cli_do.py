"""`planactor do`: plan, verdict, approval by effect, run, audit anchor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clitools import run
from planactor import load_plan
from planactor.lab import current_lab

pytestmark = pytest.mark.usefixtures("wide_terminal")


@pytest.fixture
def lab(capsys: pytest.CaptureFixture[str], home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PLANACTOR_USER", "sam")
    path = home / "lab.json"
    assert run(capsys, "lab", "init", "storage", "--path", str(path))[0] == 0
    for who in ("alice", "sam"):
        assert run(capsys, "keys", "new", "--name", who)[0] == 0
    return path


def test_a_read_only_intent_runs_without_approval(
    capsys: pytest.CaptureFixture[str], lab: Path
) -> None:
    """Every actor reads: it runs at once, and the summary gives the audit anchor."""
    code, out, err = run(
        capsys, "do", "check the health of array-01", "--planner", "routine", "--lab", str(lab)
    )
    assert code == 0, err
    assert "read-only" in out
    assert "SUCCEEDED" in out
    assert re.search(r"audit anchor .*: run-[0-9a-f]+@\d+:[0-9a-f]{64}", out)


def test_a_write_without_an_approver_stops_with_the_approve_command(
    capsys: pytest.CaptureFixture[str], lab: Path
) -> None:
    """Exit 3, nothing changed, the plan saved, and the exact commands to approve and run."""
    code, out, err = run(
        capsys, "do", "reboot controller array-01-b", "--planner", "routine", "--lab", str(lab)
    )
    assert code == 3
    assert "writes: 1 write step(s)" in out
    saved = re.search(r"planactor approve (\S+) --as NAME", err)
    assert saved, err
    assert load_plan(saved.group(1)).plan.intent == "reboot controller array-01-b"
    assert current_lab(lab).read().operations == []


def test_a_write_approved_with_as_runs(capsys: pytest.CaptureFixture[str], lab: Path) -> None:
    """--as alice --yes signs as `approve` would, and the run goes ahead."""
    code, out, err = run(
        capsys, "do", "reboot controller array-01-b", "--planner", "routine", "--lab", str(lab),
        "--as", "alice", "--yes", "--ticket", "CHG-7",
    )  # fmt: skip
    assert code == 0, err
    assert "approved as alice" in out
    assert "SUCCEEDED" in out
    assert len(current_lab(lab).read().operations) == 1


def test_the_requester_cannot_approve_their_own_change(
    capsys: pytest.CaptureFixture[str], lab: Path
) -> None:
    """--as sam for sam's intent: refused (separation of duties), exit 3, nothing ran."""
    code, _, err = run(
        capsys, "do", "reboot controller array-01-b", "--planner", "routine", "--lab", str(lab),
        "--as", "sam", "--yes",
    )  # fmt: skip
    assert code == 3
    assert "separation of duties" in err
    assert current_lab(lab).read().operations == []


def test_dry_run_stops_after_the_dry_run(capsys: pytest.CaptureFixture[str], lab: Path) -> None:
    """--dry-run: no approval needed, writes only say what they would do."""
    code, out, err = run(
        capsys, "do", "reboot controller array-01-b", "--planner", "routine", "--lab", str(lab),
        "--dry-run",
    )  # fmt: skip
    assert code == 0, err
    assert "(dry run)" in out
    assert current_lab(lab).read().operations == []
