"""`planactor recover`: a remediation plan for a paused run, and what to do with the run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from clitools import run
from planactor import load_plan
from planactor.journal import Journal
from planactor.lab import current_lab

pytestmark = pytest.mark.usefixtures("wide_terminal")


@pytest.fixture
def paused(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, Path]:
    """An approved firmware upgrade of array-02 paused by a failed flash of array-02-a."""
    monkeypatch.setenv("PLANACTOR_USER", "sam")
    lab = home / "lab.json"
    plan = tmp_path / "up.json"
    steps = [
        ("lab", "init", "storage", "--path", str(lab)),
        ("keys", "new", "--name", "alice"),
        ("keys", "new", "--name", "carol"),
        ("plan", "Upgrade the firmware on array-02 to 5.2.1", "--planner", "routine",
         "--lab", str(lab), "-o", str(plan)),
        ("approve", str(plan), "--as", "alice", "--ticket", "CHG-1"),
        ("approve", str(plan), "--as", "carol", "--ticket", "CHG-1"),
        ("lab", "fault", "upgrade-fails", "array-02-a", "--path", str(lab)),
    ]  # fmt: skip
    for argv in steps:
        code, _, err = run(capsys, *argv)
        assert code == 0, (argv, err)
    code, out, _ = run(capsys, "run", str(plan), "--lab", str(lab), "--yes")
    assert code == 4
    match = re.search(r"planactor resume (run-[0-9a-f]+)", out)
    assert match
    return match.group(1), lab


def test_recover_proposes_the_fix_and_then_says_resume(
    capsys: pytest.CaptureFixture[str], paused: tuple[str, Path], tmp_path: Path
) -> None:
    """-o writes the playbook's linked plan (exit 0); it runs once approved; recover then
    says resume; the resumed run succeeds; the audit shows both runs; no DU."""
    rid, lab = paused
    fix = tmp_path / "fix.json"
    code, out, err = run(capsys, "recover", rid, "--lab", str(lab), "-o", str(fix))
    assert code == 0, err
    assert "playbook storage.controller-failed-upgrade" in out
    assert f"planactor approve {fix} --as NAME" in out
    assert load_plan(fix).plan.recovers == rid
    assert run(capsys, "approve", str(fix), "--as", "alice", "--ticket", "CHG-1")[0] == 0
    code, _, err = run(capsys, "run", str(fix), "--lab", str(lab), "--yes")
    assert code == 0, err
    code, out, _ = run(capsys, "recover", rid, "--lab", str(lab))
    assert code == 0
    assert "next: resume" in out
    assert "succeeded" in out  # the fix run's status
    code, _, err = run(capsys, "resume", rid, "--lab", str(lab))
    assert code == 0, err
    code, report, _ = run(capsys, "audit", rid)
    assert "## Linked runs" in report
    assert "recovered by it | succeeded" in report
    code, page, _ = run(capsys, "audit", rid, "--format", "html")
    assert code == 0
    assert "<h2>Linked runs</h2>" in page
    assert current_lab(lab).read().violations == []


def test_recover_json(capsys: pytest.CaptureFixture[str], paused: tuple[str, Path]) -> None:
    """--json: the failure, the lab findings, the plan and the advice, machine-readable."""
    rid, lab = paused
    code, out, _ = run(capsys, "recover", rid, "--lab", str(lab), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["failure"]["step"] == "upgrade-first"
    assert doc["failure"]["actor"] == "storage.upgrade_firmware"
    assert doc["plan"]["recovers"] == rid
    assert doc["then"] == "resume"
    assert doc["exit_code"] == 0


def test_recover_says_when_a_person_must_decide(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The array keeps timing out the upgrade: no plan can help; exit 4 and the advice."""
    monkeypatch.setenv("PLANACTOR_USER", "sam")
    lab = home / "lab.json"
    plan = tmp_path / "up.json"
    for argv in (
        ("lab", "init", "storage", "--path", str(lab)),
        ("keys", "new", "--name", "alice"),
        ("keys", "new", "--name", "carol"),
        ("plan", "Upgrade the firmware on array-02 to 5.2.1", "--planner", "routine",
         "--lab", str(lab), "-o", str(plan)),
        ("approve", str(plan), "--as", "alice", "--ticket", "CHG-1"),
        ("approve", str(plan), "--as", "carol", "--ticket", "CHG-1"),
        ("lab", "fault", "timeout", "upgrade_firmware", "--times", "9", "--before-apply",
         "--path", str(lab)),
    ):  # fmt: skip
        assert run(capsys, *argv)[0] == 0
    code, out, _ = run(capsys, "run", str(plan), "--lab", str(lab), "--yes")
    rid = re.search(r"planactor resume (run-[0-9a-f]+)", out)
    assert code == 4
    assert rid
    code, out, _ = run(capsys, "recover", rid.group(1), "--lab", str(lab), "--planner", "routine")
    assert code == 4
    assert "playbook storage.timed-out" in out
    assert "repair-then-resume" in out


def test_recover_of_an_unknown_run_is_bad_input(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    """An unknown run id: exit 2, named."""
    home.mkdir(parents=True)
    Journal(home / "journal.db", create=True).close()
    code, _, err = run(capsys, "recover", "run-000000000000")
    assert code == 2
    assert "run-000000000000" in err


def test_recover_diagnose_and_ticket_with_the_embedded_model(
    capsys: pytest.CaptureFixture[str], paused: tuple[str, Path]
) -> None:
    """--diagnose --ticket with the embedded 135M model: both run read-only and are linked
    to the paused run in its audit; whatever the model says, the playbook's fix is proposed
    and the lab is unchanged by the looking."""
    rid, lab = paused
    before = current_lab(lab).read().state
    code, out, err = run(
        capsys, "recover", rid, "--lab", str(lab), "--diagnose", "--max-steps", "2",
        "--ticket", "--json",
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert doc["source"] == "playbook storage.controller-failed-upgrade"
    assert doc["diagnosis"]["verdict"] in ("supported", "unsupported", "undecided")
    assert doc["ticket"]["status"] in ("succeeded", "failed")
    assert current_lab(lab).read().state == before
    code, report, _ = run(capsys, "audit", rid)
    assert code == 0
    assert f"| {doc['diagnosis']['run_id']} | {rid} diagnosed by it |" in report
    assert f"| {doc['ticket']['run_id']} | {rid} diagnosed by it |" in report
