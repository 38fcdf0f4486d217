"""`planactor audit`: reports, `audit verify` against every kind of tampering, `audit head`."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditruns import make_plan, record_run
from clitools import run
from forgery import append_event, forge_run, rewrite_chain, sql
from planactor.journal import Journal
from planactor.plan import Plan
from planactor.policy import KeyStore, RulePolicy, default_policy_text, parse_policy

ANCHOR = re.compile(r"^(?P<run>\S+)@(?P<seq>\d+):(?P<hash>[0-9a-f]{64})$")


def record(home: Path, plan: Plan) -> str:
    """Record the audited run of `plan` in PLANACTOR_HOME's journal, approved by alice."""
    store = KeyStore()
    if "alice" not in store.trusted():
        store.new("alice")
    with Journal(home / "journal.db") as j:
        return record_run(j, store, plan)


@pytest.fixture
def run_id(home: Path, tmp_path: Path) -> str:
    return record(home, make_plan(tmp_path))


def seqs(home: Path, run_id: str) -> dict[tuple[str, str | None], int]:
    """(type, step) -> seq of the last such event."""
    with Journal(home / "journal.db") as j:
        return {(e.type, e.step): e.seq for e in j.events(run_id)}


def head_of(capsys: pytest.CaptureFixture[str], run_id: str) -> str:
    code, out, _ = run(capsys, "audit", "head", run_id)
    assert code == 0
    (line,) = out.splitlines()
    return line


# -- verify: clean and tampered ---------------------------------------------------------------


def test_clean_run_verifies_with_exit_0(capsys: pytest.CaptureFixture[str], run_id: str) -> None:
    """An untouched journal verifies: one ok line per run, exit 0."""
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0
    assert out.startswith("ok")
    assert run_id in out
    assert "1 approval(s) checked" in out


Tamper = Callable[[Path, str, dict[tuple[str, str | None], int]], int]


def _change_a_byte(db: Path, run_id: str, s: dict[tuple[str, str | None], int]) -> int:
    seq = s[("step.succeeded", "f")]
    sql(
        db,
        "UPDATE events SET body = replace(body, '\"calls\":2', '\"calls\":3') WHERE seq = ?",
        seq,
    )
    return seq


def _delete_one(db: Path, run_id: str, s: dict[tuple[str, str | None], int]) -> int:
    seq = s[("step.started", "u")]
    sql(db, "DELETE FROM events WHERE run_id = ? AND seq = ?", run_id, seq)
    return seq


def _reorder_two(db: Path, run_id: str, s: dict[tuple[str, str | None], int]) -> int:
    a, b = s[("step.succeeded", "w1")], s[("step.started", "f")]
    sql(db, "UPDATE events SET seq = -1 WHERE run_id = ? AND seq = ?", run_id, a)
    sql(db, "UPDATE events SET seq = ? WHERE run_id = ? AND seq = ?", a, run_id, b)
    sql(db, "UPDATE events SET seq = ? WHERE run_id = ? AND seq = -1", b, run_id)
    return a


def _truncate_tail(db: Path, run_id: str, s: dict[tuple[str, str | None], int]) -> int:
    seq = s[("compensation.started", "w1")]
    sql(db, "DELETE FROM events WHERE run_id = ? AND seq >= ?", run_id, seq)
    return seq  # the first missing event


@pytest.mark.parametrize(
    "tamper", [_change_a_byte, _delete_one, _reorder_two, _truncate_tail], ids=lambda f: f.__name__
)
def test_tampering_exits_1_naming_the_first_bad_event(
    capsys: pytest.CaptureFixture[str], home: Path, run_id: str, tamper: Tamper
) -> None:
    """A changed byte, a deleted event, two swapped events, a cut tail: each exits 1 at #N."""
    bad = tamper(home / "journal.db", run_id, seqs(home, run_id))
    code, out, _ = run(capsys, "audit", "verify", run_id)
    assert code == 1
    assert out.startswith("TAMPERED")
    assert f"event #{bad}:" in out
    code, out, _ = run(capsys, "audit", "verify", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False
    assert doc["runs"][0]["first_bad_seq"] == bad


def test_consistent_rewrite_is_caught_by_the_anchor_taken_before(
    capsys: pytest.CaptureFixture[str], home: Path, run_id: str
) -> None:
    """A chain rewritten with fresh hashes passes alone, and fails against the kept anchor."""
    anchor = head_of(capsys, run_id)
    anchored_seq = int(ANCHOR.match(anchor)["seq"])  # type: ignore[index]

    def edit(doc: dict[str, Any]) -> None:
        if doc["type"] == "step.succeeded" and doc["step"] == "w1":
            doc["data"]["output"]["item"] = "forged"

    rewrite_chain(home / "journal.db", run_id, edit)
    assert run(capsys, "audit", "verify", run_id)[0] == 0  # why the head must live elsewhere
    code, out, _ = run(capsys, "audit", "verify", run_id, "--anchor", anchor)
    assert code == 1
    assert f"event #{anchored_seq}:" in out
    assert "rewritten" in out
    assert head_of(capsys, run_id) != anchor
    code, out, err = run(capsys, "audit", run_id, "--anchor", anchor)
    assert code == 1
    assert "**Integrity: FAILED**" in out
    assert "rewritten" in err


def test_cut_tail_with_a_forged_head_is_caught_by_the_anchor(
    capsys: pytest.CaptureFixture[str], home: Path, run_id: str
) -> None:
    """Cutting the tail and forging the run's head and status still fails against the anchor."""
    anchor = head_of(capsys, run_id)
    last = int(ANCHOR.match(anchor)["seq"])  # type: ignore[index]
    db = home / "journal.db"
    sql(db, "DELETE FROM events WHERE seq >= ?", last - 1)
    with sqlite3.connect(db) as conn:
        (h,) = conn.execute("SELECT hash FROM events WHERE seq = ?", (last - 2,)).fetchone()
    conn.close()
    sql(db, "UPDATE runs SET head_seq = ?, head_hash = ?, status = 'running'", last - 2, h)
    assert run(capsys, "audit", "verify", run_id)[0] == 0
    code, out, _ = run(capsys, "audit", "verify", "--anchor", anchor)
    assert code == 1
    assert f"event #{last - 1}:" in out
    assert "cut off" in out


def test_event_after_the_end_exits_1_even_with_the_anchor(
    capsys: pytest.CaptureFixture[str], home: Path, run_id: str
) -> None:
    """An event chained after the run's end (head moved, old anchor holds) is named, exit 1."""
    anchor = head_of(capsys, run_id)
    end = int(ANCHOR.match(anchor)["seq"])  # type: ignore[index]
    added = append_event(home / "journal.db", run_id, "step.succeeded", step="u", attempt=1)
    code, out, _ = run(capsys, "audit", "verify", run_id, "--anchor", anchor)
    assert code == 1
    assert out.startswith(
        f"TAMPERED {run_id}: event #{added}: event #{added} (step.succeeded) comes after the "
        f"run ended at event #{end} (run.failed)"
    )


def test_forged_run_without_authorization_is_unauthorized_exit_1(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path
) -> None:
    """A run written with sqlite3 and hashlib, a write step and no authorization: exit 1."""
    db = home / "journal.db"
    Journal(db).close()  # the schema, as planactor creates it
    data = {"dry_run": False, "parallel": 1, "steps": 3}
    forge_run(db, "run-forged", make_plan(tmp_path), data=data)
    code, out, _ = run(capsys, "audit", "verify", "run-forged")
    assert code == 1
    assert out.startswith("UNAUTHORIZED run-forged: event #0: the run has write step(s) w1")
    assert "recorded no authorization" in out
    code, out, _ = run(capsys, "audit", "verify", "--json")
    assert code == 1
    (finding,) = json.loads(out)["runs"][0]["findings"]
    assert (finding["check"], finding["seq"]) == ("unauthorized", 0)


def test_policy_named_default_but_not_shipped_is_noted_exit_0(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path
) -> None:
    """A run under an edited policy still named `default`: verify and the report say so."""
    shipped = parse_policy(default_policy_text(), source="default policy")
    doc = shipped.doc.model_copy(update={"rules": [], "description": "rules removed"})
    store = KeyStore()
    store.new("alice")
    with Journal(home / "journal.db") as j:
        run_id = record_run(
            j, store, make_plan(tmp_path), policy=RulePolicy(doc=doc, source="edited.yaml")
        )
    note = "note: the policy in force calls itself 'default' but is not the shipped default"
    code, out, _ = run(capsys, "audit", "verify", run_id)
    assert code == 0
    assert out.startswith(f"ok       {run_id}")
    assert note in out
    code, out, _ = run(capsys, "audit", "verify", "--json")
    assert json.loads(out)["runs"][0]["policy"]["is_shipped_default"] is False
    code, out, err = run(capsys, "audit", run_id)
    assert code == 0
    assert note in err
    assert "no although it is named 'default'" in out


def test_stored_plan_tampered_in_the_runs_table_exits_1(
    capsys: pytest.CaptureFixture[str], home: Path, run_id: str
) -> None:
    """A stored plan that is not the plan the run started with is named at event #0."""
    sql(
        home / "journal.db",
        'UPDATE runs SET plan = replace(plan, \'"item": "a"\', \'"item": "z"\')',
    )
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 1
    assert "event #0:" in out
    assert "stored plan" in out


def test_forged_approval_signature_exits_1_though_the_chain_holds(
    capsys: pytest.CaptureFixture[str], home: Path, run_id: str
) -> None:
    """An approval re-signed by nobody (chain recomputed) fails its signature check."""

    def edit(doc: dict[str, Any]) -> None:
        if doc["seq"] == 0:
            a = doc["data"]["authorization"]["approvals"][0]
            a["signature"] = ("B" if a["signature"][0] != "B" else "C") + a["signature"][1:]

    rewrite_chain(home / "journal.db", run_id, edit)
    code, out, _ = run(capsys, "audit", "verify", run_id, "--json")
    assert code == 1
    (result,) = json.loads(out)["runs"]
    assert [f["check"] for f in result["findings"]] == ["approval"]
    assert result["first_bad_seq"] == 0
    assert "bad-signature" in result["reason"]


def test_approver_key_missing_here_exits_1(
    capsys: pytest.CaptureFixture[str], home: Path, run_id: str
) -> None:
    """Without the approver's public key, the approval cannot be vouched for: exit 1."""
    (home / "keys" / "alice.pub").unlink()
    code, out, _ = run(capsys, "audit", "verify", run_id)
    assert code == 1
    assert "unknown-key" in out


def test_deleted_run_is_caught_by_its_anchor(
    capsys: pytest.CaptureFixture[str], home: Path, run_id: str
) -> None:
    """A run removed from the journal altogether is found when its anchor is given."""
    anchor = head_of(capsys, run_id)
    sql(home / "journal.db", "DELETE FROM events WHERE run_id = ?", run_id)
    sql(home / "journal.db", "DELETE FROM runs WHERE run_id = ?", run_id)
    code, out, _ = run(capsys, "audit", "verify", "--anchor", anchor)
    assert code == 1
    assert out.startswith("MISSING")
    assert run_id in out


# -- verify and head: input ---------------------------------------------------------------------


def test_unknown_run_and_malformed_anchor_exit_2(
    capsys: pytest.CaptureFixture[str], run_id: str
) -> None:
    """An unknown run points at `planactor runs`; a bad anchor spells out the format."""
    for argv in (["audit", "run-nope"], ["audit", "verify", "run-nope"], ["audit", "head", "x"]):
        code, _, err = run(capsys, *argv)
        assert code == 2, argv
        assert "planactor runs" in err
    code, _, err = run(capsys, "audit", "verify", "--anchor", f"{run_id}@3")
    assert code == 2
    assert "RUN_ID@SEQ:HASH" in err
    code, _, err = run(capsys, "audit", "verify", run_id, "--anchor", "other@1:" + "0" * 64)
    assert code == 2
    assert "Traceback" not in err


def test_usage_mistakes_exit_2(capsys: pytest.CaptureFixture[str], run_id: str) -> None:
    """No argument, too many, or report options on verify are usage errors (exit 2)."""
    for argv in (
        ["audit"],
        ["audit", run_id, "extra"],
        ["audit", "verify", run_id, "extra"],
        ["audit", "verify", "--format", "html"],
        ["audit", "head", "--anchor", "r@1:" + "0" * 64],
        ["audit", run_id, "--format", "pdf"],
    ):
        code, _, err = run(capsys, *argv)
        assert code == 2, argv
        assert "Traceback" not in err


def test_head_prints_anchors_that_verify_accepts(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path, run_id: str
) -> None:
    """`audit head` prints RUN_ID@SEQ:HASH per run; fed back to verify, every one holds."""
    other = record(home, make_plan(tmp_path, intent="a second change"))
    code, out, _ = run(capsys, "audit", "head")
    assert code == 0
    anchors = out.splitlines()
    assert {ANCHOR.match(a)["run"] for a in anchors} == {run_id, other}  # type: ignore[index]
    argv = [x for a in anchors for x in ("--anchor", a)]
    code, out, _ = run(capsys, "audit", "verify", *argv)
    assert code == 0
    assert "2 run" not in out
    assert out.count("anchor(s) hold") == 2
    code, out, _ = run(capsys, "audit", "head", "--json")
    assert {r["anchor"] for r in json.loads(out)} == set(anchors)


def test_head_warns_about_a_run_that_does_not_verify(
    capsys: pytest.CaptureFixture[str], home: Path, run_id: str
) -> None:
    """A broken chain has no head worth anchoring: a warning and exit 1."""
    sql(home / "journal.db", "DELETE FROM events WHERE seq = 1")
    code, out, err = run(capsys, "audit", "head")
    assert code == 1
    assert out == ""
    assert "does not verify" in err


def test_empty_home_has_nothing_to_verify(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    """Without a journal, verify and head say so and exit 0, creating no journal file."""
    assert run(capsys, "audit", "verify")[:2] == (0, f"no runs in {home / 'journal.db'}\n")
    assert run(capsys, "audit", "head")[0] == 0
    assert not (home / "journal.db").exists()


# -- reports ---------------------------------------------------------------------------------------


def test_markdown_report_answers_the_auditors_questions(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path, run_id: str
) -> None:
    """The default report names intent, requester, ticket, plan hash, steps and the head."""
    plan_hash = make_plan(tmp_path).hash
    code, out, _ = run(capsys, "audit", run_id)
    assert code == 0
    head = head_of(capsys, run_id)
    for needle in (
        "# Audit report: run",
        "move volume vol-7 to array-02",
        "| Requested by | bob |",
        "CHG-1",
        plan_hash,
        "### Step `w1`: compensated",
        "### Step `f`: succeeded",
        '"calls": 2',
        "| 2 |",  # the second try of f
        "testing.ledger_undo",
        "**paused**",
        head,
        "alice",
    ):
        assert needle in out, needle


def test_json_report_holds_steps_attempts_compensations_and_head(
    capsys: pytest.CaptureFixture[str], run_id: str
) -> None:
    """--format json gives the whole record; -o writes it to a file."""
    code, out, _ = run(capsys, "audit", run_id, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    steps = {s["id"]: s for s in doc["steps"]}
    assert doc["intent"] == "move volume vol-7 to array-02"
    assert (doc["requested_by"], doc["change_ticket"]) == ("bob", "CHG-1")
    assert [a["outcome"] for a in steps["f"]["attempts"]] == ["failed", "succeeded"]
    assert steps["f"]["output"] == {"calls": 2}
    assert steps["w1"]["compensations"][0]["outcome"] == "succeeded"
    assert doc["approvals"][0]["verdict"] == "valid"
    assert doc["integrity"]["head"] == head_of(capsys, run_id)
    assert doc["planner"]["model"] == "smollm2"


def test_report_to_a_file_in_html(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, run_id: str
) -> None:
    """-o FILE writes the HTML page and says where; nothing goes to standard output."""
    target = tmp_path / "reports" / "audit.html"
    code, out, err = run(capsys, "audit", run_id, "--format", "html", "-o", str(target))
    assert code == 0
    assert out == ""
    assert str(target) in err
    page = target.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "move volume vol-7 to array-02" in page


def test_html_report_escapes_a_hostile_intent(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path
) -> None:
    """An intent carrying <script> is shown as text, never as markup."""
    hostile = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    run_id = record(home, make_plan(tmp_path, intent=hostile))
    code, out, _ = run(capsys, "audit", run_id, "--format", "html")
    assert code == 0
    assert "<script" not in out
    assert "<img" not in out
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in out
    code, out, _ = run(capsys, "audit", run_id)
    assert "<script" not in out


def test_report_of_a_tampered_run_exits_1_and_says_so(
    capsys: pytest.CaptureFixture[str], home: Path, run_id: str
) -> None:
    """The report is still written, marked FAILED, and the command exits 1."""
    sql(home / "journal.db", "UPDATE runs SET status = 'succeeded'")
    code, out, err = run(capsys, "audit", run_id)
    assert code == 1
    assert "**Integrity: FAILED**" in out
    assert "TAMPERED" in err


@pytest.mark.parametrize("width", [60, 80, 160])
def test_verify_lines_fit_the_width_and_keep_the_head_start(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, run_id: str, width: int
) -> None:
    """A verified run's line fits the width: its head is shown from `@SEQ:` as far as it fits
    (whole in `audit head`), or left out when too little room is left."""
    monkeypatch.setenv("COLUMNS", str(width))
    # The console reads COLUMNS unless a width was set on it (a test that patched `width`
    # leaves one behind): cleared for this test, put back after.
    from planactor.cli._app import out

    monkeypatch.setattr(out, "_width", None)
    head = head_of(capsys, run_id)
    code, out, _ = run(capsys, "audit", "verify", run_id)
    assert code == 0
    (line,) = out.splitlines()
    assert line.startswith(f"ok       {run_id}: ")
    assert len(line) <= width
    if "; head " in line:
        shown = line.split("; head ", 1)[1].removesuffix("…")
        assert head.removeprefix(run_id).startswith(shown)
    if width >= 160:
        assert line.endswith(head.removeprefix(run_id))
