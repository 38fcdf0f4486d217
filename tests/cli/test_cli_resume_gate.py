"""`planactor resume` establishes again what `run` establishes: each attack of issue 17 item 1
is performed as described and must now fail with exit 3, saying what is missing."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from clitools import ledger_write, run, sign_as, write_plan
from planactor import testing
from planactor.journal import Journal
from planactor.lab import Lab
from planactor.plan import Plan

# A forced firmware upgrade of array-02's active controller: `run` refuses it on the
# storage lab (hosts would lose their LUNs); applied, it records 6 DU events.
UNSAFE = {
    "id": "flash",
    "actor": "storage.upgrade_firmware",
    "args": {"array": "array-02", "controller": "array-02-a", "version": "5.2.0", "force": True},
}


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def forge_run(db: Path, run_id: str, plan_file: Path, data: dict[str, Any]) -> None:
    """A paused run's row and `run.started` event, written with sqlite3 and hashlib as an
    attacker with write access to the journal would (the chain recipe of docs/audit.md)."""
    Journal(db).close()  # the tables, as planactor makes them
    doc = json.loads(plan_file.read_text())
    plan_hash = Plan.model_validate(doc).hash  # public: anyone can compute it
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    event = {"run": run_id, "seq": 0, "type": "run.started", "step": None, "attempt": None}
    body = _canonical({**event, "at": at, "data": {"plan_hash": plan_hash, **data}})
    digest = hashlib.sha256(b"0" * 64 + body).hexdigest()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO runs (run_id, plan_hash, intent, plan, dry_run, status, created_at, "
            "updated_at, head_seq, head_hash) VALUES (?, ?, ?, ?, 0, 'paused', ?, ?, 0, ?)",
            (run_id, plan_hash, doc["intent"], json.dumps(doc), at, at, digest),
        )
        conn.execute(
            "INSERT INTO events (run_id, seq, type, step, body, hash) VALUES (?, 0, ?, NULL, ?, ?)",
            (run_id, "run.started", body.decode(), digest),
        )
    conn.close()


def _started(**extra: Any) -> dict[str, Any]:
    return {"dry_run": False, "parallel": 1, "steps": 1, **extra}


def _lab_untouched(home: Path) -> None:
    doc = Lab(home / "lab.json").read()
    assert doc.operations == []
    assert doc.violations == []


def test_forged_run_without_authorization_does_not_resume(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """A forged run of a DU-causing write, with no authorization, exits 3; the lab is untouched
    and `run` refuses the same plan too."""
    run(capsys, "lab", "init", "storage")
    plan = write_plan(tmp_path, [UNSAFE])
    assert run(capsys, "run", str(plan), "--yes")[0] in (2, 3)
    db = tmp_path / "forged.db"
    forge_run(db, "run-forged", plan, _started())
    code, out, err = run(capsys, "resume", "run-forged", "--db", str(db))
    assert code == 3, out + err
    assert "no recorded authorization" in err
    assert "never approved" in err
    _lab_untouched(home)


def _resume_forged_approved(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan: Path, signature: str | None = None
) -> tuple[int, str, str]:
    """On a storage lab, forge a paused run of `plan` whose recorded authorization holds
    carol's approval (its signature replaced by `signature` if given) with the verdict
    `valid`, then `resume` it."""
    run(capsys, "lab", "init", "storage")
    sign_as(capsys, plan, "carol")
    approval = json.loads(plan.read_text())["approvals"][0]
    if signature is not None:
        approval["signature"] = signature
    authorization = {
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "approvals": [{**approval, "verdict": "valid"}],
    }
    db = tmp_path / "forged.db"
    forge_run(db, "run-forged", plan, _started(authorization=authorization))
    return run(capsys, "resume", "run-forged", "--db", str(db))


def test_forged_authorization_with_a_bad_signature_does_not_resume(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """An authorization record whose approval claims `valid` but whose signature is forged is
    judged again, and refused as a bad signature (exit 3)."""
    forged_signature = base64.b64encode(bytes(64)).decode()  # well-formed, not carol's
    code, out, err = _resume_forged_approved(
        capsys, tmp_path, write_plan(tmp_path, [UNSAFE]), signature=forged_signature
    )
    assert code == 3, out + err
    assert "may not resume run run-forged" in err
    assert "signature" in err
    _lab_untouched(home)


def test_genuine_approval_does_not_let_an_unsafe_forged_run_resume(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """With a real approval in the forged record, the lab's safety simulation of the steps still
    to run refuses the DU (exit 3), as `run` does."""
    plan = write_plan(tmp_path, [UNSAFE], change_ticket="CHG-1")
    code, out, err = _resume_forged_approved(capsys, tmp_path, plan)
    assert code == 3, out + err
    assert "unsafe on the lab as it is now" in err
    assert "storage-du" in err
    _lab_untouched(home)


def _paused_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, ledger: Path
) -> tuple[Path, str]:
    """An approved run of w1 -> f (fails once, pauses) -> w2, paused after w1 applied."""
    counter = tmp_path / "calls"
    flaky = {
        "id": "f",
        "actor": "testing.flaky",
        "args": {"counter": str(counter), "fail_times": 1, "retryable": False},
        "after": ["w1"],
    }
    plan = write_plan(
        tmp_path,
        [ledger_write(ledger, "w1", "a"), flaky, ledger_write(ledger, "w2", "b", after=["f"])],
    )
    sign_as(capsys, plan, "carol")
    code, out, err = run(capsys, "run", str(plan), "--yes", "--json")
    assert code == 4, out + err
    return plan, str(json.loads(out)["run_id"])


@pytest.mark.usefixtures("testing_pack")
def test_resume_refuses_once_the_approver_is_no_longer_trusted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """A paused run whose approver's key was removed from the trusted keys does not resume
    (exit 3, unknown key); trusted again, it resumes and applies each write once."""
    ledger = tmp_path / "ledger.jsonl"
    _, run_id = _paused_run(capsys, tmp_path, ledger)
    pub = home / "keys" / "carol.pub"
    kept = tmp_path / "carol.pub"
    shutil.move(pub, kept)
    code, out, err = run(capsys, "resume", run_id)
    assert code == 3, out + err
    assert "carol" in err
    assert testing.applied_counts(ledger) == {f"{run_id}/w1": 1}
    shutil.move(kept, pub)
    code, out, err = run(capsys, "resume", run_id, "--json")
    assert code == 0, out + err
    assert testing.applied_counts(ledger) == {f"{run_id}/w1": 1, f"{run_id}/w2": 1}


@pytest.mark.usefixtures("testing_pack")
def test_resume_judges_the_policy_in_force_now(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """A policy that now denies the run's actors stops its resume (exit 3), naming the rule."""
    ledger = tmp_path / "ledger.jsonl"
    _, run_id = _paused_run(capsys, tmp_path, ledger)
    policy = tmp_path / "deny.yaml"
    policy.write_text(
        "name: frozen\nrules:\n  - name: change-freeze\n    description: no changes now\n"
        "    match: {actor: 'testing.*'}\n    require: {deny: change freeze}\n"
    )
    code, out, err = run(capsys, "resume", run_id, "--policy", str(policy))
    assert code == 3, out + err
    assert "change-freeze" in err
    assert testing.applied_counts(ledger) == {f"{run_id}/w1": 1}


@pytest.mark.usefixtures("testing_pack")
def test_resume_records_the_new_authorization_in_the_chain(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """The authorization a resume ran under is chained into its `run.resumed` event."""
    ledger = tmp_path / "ledger.jsonl"
    _, run_id = _paused_run(capsys, tmp_path, ledger)
    assert run(capsys, "resume", run_id)[0] == 0
    with Journal(home / "journal.db") as journal:
        resumed = [e for e in journal.events(run_id) if e.type == "run.resumed"]
    assert len(resumed) == 1
    approvals = resumed[0].data["authorization"]["approvals"]
    assert [(a["identity"], a["verdict"]) for a in approvals] == [("carol", "valid")]


def test_memory_journal_is_refused_for_a_run_that_writes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`run --db :memory:` exits 2 (a run that writes must leave a record); a dry run may."""
    plan = write_plan(tmp_path, [UNSAFE])
    code, _, err = run(capsys, "run", str(plan), "--db", ":memory:", "--yes")
    assert code == 2
    assert "keeps no journal" in err
