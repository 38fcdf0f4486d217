"""`planactor.audit` records: what they hold, what verification finds, renderings."""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import re
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditruns import SIGNED, make_plan, record_run
from forgery import rewrite_chain, sql
from planactor import InputError, JournalError
from planactor.audit import (
    Anchor,
    AuditRecord,
    audit_html,
    audit_json,
    audit_markdown,
    audit_run,
    recheck_approvals,
    run_ids,
    verify_run,
)
from planactor.journal import GENESIS, Journal
from planactor.plan import Approval, Plan, canonical_json
from planactor.policy import KeyStore, PublicKey, sign
from strategies import UNICODE


class Setup:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.db = tmp / "j.db"
        self.store = KeyStore(directory=tmp / "keys")
        self.store.new("alice")
        self.journal = Journal(self.db)

    @property
    def trusted(self) -> dict[str, PublicKey]:
        return self.store.trusted()

    def run(self, plan: Plan, *, extra: Sequence[Approval] = ()) -> str:
        """Approve, authorize and run the plan; then abort the pause (compensations)."""
        return record_run(self.journal, self.store, plan, extra=extra)

    def audit(self, run_id: str, **kw: Any) -> AuditRecord:
        return audit_run(self.journal, run_id, trusted=self.trusted, **kw)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    s = Setup(tmp_path)
    yield s
    s.journal.close()


@pytest.fixture
def run_id(setup: Setup) -> str:
    return setup.run(make_plan(setup.tmp))


# -- what the record holds ------------------------------------------------------------------------


def test_record_answers_who_asked_what_was_approved_and_by_whom(setup: Setup, run_id: str) -> None:
    """Intent, requester, ticket, plan hash, planner metadata and the approver are recorded."""
    r = setup.audit(run_id)
    plan = make_plan(setup.tmp)
    assert (r.intent, r.requested_by, r.ticket) == (plan.intent, "bob", "CHG-1")
    assert r.plan_hash == plan.hash
    assert r.planner is not None
    assert r.planner["model"] == "smollm2"
    assert r.planner["cost_usd"] == 0.0
    assert r.authorization is not None
    assert r.authorization["policy"]["name"] == "default"
    assert r.authorization["checked_at"].startswith("2025-03-02T11:00:00")
    (approval,) = r.approvals
    assert (approval.identity, approval.recorded, approval.verdict) == ("alice", "valid", "valid")
    assert approval.document["ticket"] == "CHG-1"
    assert r.ok, r.findings


def test_record_holds_every_step_with_attempts_outputs_and_compensations(
    setup: Setup, run_id: str
) -> None:
    """Each step shows its tries (inputs, outcome, timing), its output and its compensation."""
    r = setup.audit(run_id)
    steps = {s.id: s for s in r.steps}
    w1, f, u = steps["w1"], steps["f"], steps["u"]
    assert w1.state == "compensated"
    assert w1.output == {"ledger": str(setup.tmp / "ledger.jsonl"), "item": "a", "applied": True}
    assert w1.attempts[0].idempotency_key == f"{run_id}/w1"
    assert w1.attempts[0].inputs == {"ledger": str(setup.tmp / "ledger.jsonl"), "item": "a"}
    (comp,) = w1.compensations
    assert (comp.actor, comp.outcome) == ("testing.ledger_undo", "succeeded")
    assert comp.duration_s is not None
    assert comp.duration_s >= 0
    assert [a.outcome for a in f.attempts] == ["failed", "succeeded"]
    assert f.attempts[0].error is not None
    assert f.attempts[0].error["kind"] == "ActorError"
    assert f.attempts[1].retry_delay_s == 0.0
    assert f.output == {"calls": 2}
    assert u.state == "failed"
    assert u.attempts[0].error is not None
    assert u.attempts[0].error["unexpected"] is True


def test_record_holds_pauses_resumes_and_the_final_state(setup: Setup, run_id: str) -> None:
    """The pause, the resume that aborted it, and the compensated end are all in the record."""
    r = setup.audit(run_id)
    assert [(i.kind, i.step) for i in r.interruptions] == [("paused", "u"), ("resumed", None)]
    assert r.interruptions[1].detail["abort"] is True
    assert (r.status, r.stored_status) == ("compensated", "compensated")
    assert r.reason is not None
    assert r.ended_at is not None
    assert r.duration_s is not None
    head = r.head
    assert head is not None
    assert (head.seq, head.hash) == setup.journal.head(run_id)


def test_a_step_that_never_ran_and_an_interrupted_one_are_named(setup: Setup) -> None:
    """A step with no events is `not run`; one started without a result is `unknown`."""
    plan = make_plan(setup.tmp)
    j = setup.journal
    j.begin_run(run_id="r-int", plan=plan, dry_run=False, data={"parallel": 1})
    j.append("r-int", "step.started", step="w1", attempt=1, data={"args": {}})
    j.flush()
    r = setup.audit("r-int")
    states = {s.id: s.state for s in r.steps}
    assert states == {"w1": "unknown", "f": "not run", "u": "not run"}
    assert r.status == "running"
    assert r.ended_at is None


def test_json_report_carries_enough_to_recompute_the_chain(setup: Setup, run_id: str) -> None:
    """From the JSON report alone, the documented formula gives the same head."""
    doc = json.loads(audit_json(setup.audit(run_id)))
    prev = GENESIS
    for e in doc["events"]:
        body = canonical_json(
            {
                "run": doc["run_id"],
                "seq": e["seq"],
                "type": e["type"],
                "step": e["step"],
                "attempt": e["attempt"],
                "at": e["at"],
                "data": e["data"],
            }
        )
        prev = hashlib.sha256(prev.encode("ascii") + body).hexdigest()
        assert prev == e["hash"]
    assert doc["integrity"]["head"] == f"{run_id}@{len(doc['events']) - 1}:{prev}"
    assert doc["format"] == "planactor-audit/v1"


# -- verification ----------------------------------------------------------------------------------


def test_clean_run_verifies(setup: Setup, run_id: str) -> None:
    """A run nobody touched verifies, with its approval checked."""
    v = verify_run(setup.journal, run_id, trusted=setup.trusted)
    assert v.ok
    assert v.approvals_checked == 1
    assert v.head is not None


def _seq_of(setup: Setup, run_id: str, type_: str, step: str) -> int:
    return next(e.seq for e in setup.journal.events(run_id) if e.type == type_ and e.step == step)


def test_changed_output_is_found_at_its_event(setup: Setup, run_id: str) -> None:
    """A changed byte in a recorded output names that event."""
    seq = _seq_of(setup, run_id, "step.succeeded", "f")
    sql(
        setup.db,
        "UPDATE events SET body = replace(body, '\"calls\":2', '\"calls\":3') WHERE seq = ?",
        seq,
    )
    v = verify_run(setup.journal, run_id, trusted=setup.trusted)
    assert not v.ok
    assert (v.findings[0].check, v.findings[0].seq) == ("chain", seq)


def test_consistent_rewrite_is_found_only_with_the_anchor(setup: Setup, run_id: str) -> None:
    """A chain rewritten with fresh hashes verifies alone; the anchor kept before exposes it."""
    seq, digest = setup.journal.head(run_id)
    anchor = Anchor(run_id=run_id, seq=seq, hash=digest)

    def edit(doc: dict[str, Any]) -> None:
        if doc["type"] == "step.succeeded" and doc["step"] == "w1":
            doc["data"]["output"]["item"] = "forged"

    rewrite_chain(setup.db, run_id, edit)
    assert verify_run(setup.journal, run_id, trusted=setup.trusted).ok
    v = verify_run(setup.journal, run_id, trusted=setup.trusted, anchors=[anchor])
    assert not v.ok
    assert v.findings[0].seq == seq
    assert "rewritten" in v.findings[0].message


def test_forged_approval_signature_is_found_at_event_0(setup: Setup, run_id: str) -> None:
    """An approval's signature changed under a consistent chain fails as bad-signature."""

    def edit(doc: dict[str, Any]) -> None:
        if doc["seq"] == 0:
            a = doc["data"]["authorization"]["approvals"][0]
            a["signature"] = ("B" if a["signature"][0] != "B" else "C") + a["signature"][1:]

    rewrite_chain(setup.db, run_id, edit)
    v = verify_run(setup.journal, run_id, trusted=setup.trusted)
    assert (v.findings[0].check, v.findings[0].seq) == ("approval", 0)
    assert "bad-signature" in v.findings[0].message


def test_approval_without_a_trusted_key_here_fails(setup: Setup, run_id: str) -> None:
    """An auditor who does not trust the approver's key cannot vouch for the approval."""
    v = verify_run(setup.journal, run_id, trusted={})
    assert not v.ok
    assert "unknown-key" in v.findings[0].message


def test_extended_approval_is_found(setup: Setup, run_id: str) -> None:
    """An approval whose expiry was pushed out (chain recomputed) no longer verifies."""

    def edit(doc: dict[str, Any]) -> None:
        if doc["seq"] == 0:
            a = doc["data"]["authorization"]["approvals"][0]
            a["expires_at"] = "2099-01-01T00:00:00Z"  # what a forger would extend

    rewrite_chain(setup.db, run_id, edit)
    v = verify_run(setup.journal, run_id, trusted=setup.trusted)
    assert not v.ok
    assert "bad-signature" in v.findings[0].message


def _with_expired_carol(setup: Setup) -> str:
    plan = make_plan(setup.tmp)
    setup.store.new("carol")
    stale = sign(
        plan,
        identity="carol",
        key=setup.store.private("carol"),
        now=SIGNED - timedelta(days=3),
        valid_for=timedelta(hours=1),
    )
    return setup.run(plan, extra=[stale])


def test_approval_rejected_at_run_start_is_shown_not_held_against_the_record(
    setup: Setup,
) -> None:
    """An expired approval recorded as such is judged `expired` again: shown, not a finding."""
    run_id = _with_expired_carol(setup)
    r = setup.audit(run_id)
    assert [(a.identity, a.recorded, a.verdict) for a in r.approvals] == [
        ("alice", "valid", "valid"),
        ("carol", "expired", "expired"),
    ]
    assert r.ok


def test_verdict_promoted_to_valid_is_found(setup: Setup) -> None:
    """A recorded `expired` edited to `valid` (chain recomputed) is judged again and fails."""
    run_id = _with_expired_carol(setup)

    def edit(doc: dict[str, Any]) -> None:
        if doc["seq"] == 0:
            doc["data"]["authorization"]["approvals"][1]["verdict"] = "valid"

    rewrite_chain(setup.db, run_id, edit)
    v = verify_run(setup.journal, run_id, trusted=setup.trusted)
    assert [(f.check, f.seq) for f in v.findings] == [("approval", 0)]
    assert "carol" in v.findings[0].message
    assert "expired" in v.findings[0].message


def test_dropped_approval_leaves_too_few_approvers(setup: Setup, run_id: str) -> None:
    """An approval removed from the record (chain recomputed) leaves the policy unmet."""

    def edit(doc: dict[str, Any]) -> None:
        if doc["seq"] == 0:
            doc["data"]["authorization"]["approvals"] = []

    rewrite_chain(setup.db, run_id, edit)
    v = verify_run(setup.journal, run_id, trusted=setup.trusted)
    assert [(f.check, f.seq) for f in v.findings] == [("approval", 0)]
    assert "needed 1 approver(s)" in v.findings[0].message


def test_malformed_approval_or_check_time_fails_the_approval(setup: Setup, run_id: str) -> None:
    """A recorded approval that is no approval, or no check time, cannot be vouched for."""
    record, events = setup.journal.run(run_id), setup.journal.events(run_id)
    auth = events[0].data["authorization"]
    plan_hash = events[0].data["plan_hash"]
    broken = {**auth, "approvals": [{"identity": "alice", "verdict": "valid"}]}
    (a,) = recheck_approvals(broken, plan=record.plan, plan_hash=plan_hash, trusted=setup.trusted)
    assert (a.verdict, a.ok) == ("malformed", False)
    undated = {**auth, "checked_at": "yesterday"}
    (a,) = recheck_approvals(undated, plan=record.plan, plan_hash=plan_hash, trusted=setup.trusted)
    assert (a.verdict, a.ok) == ("unreadable", False)
    assert recheck_approvals(None, plan=record.plan, plan_hash=plan_hash, trusted={}) == ()


def test_stored_plan_changed_in_the_runs_table_is_found(setup: Setup, run_id: str) -> None:
    """The runs table's plan is not under the chain; its hash is checked against event #0."""
    sql(setup.db, 'UPDATE runs SET plan = replace(plan, \'"item": "a"\', \'"item": "z"\')')
    v = verify_run(setup.journal, run_id, trusted=setup.trusted)
    assert [(f.check, f.seq) for f in v.findings] == [("plan", 0)]


def test_unreadable_stored_plan_is_a_finding_not_a_crash(setup: Setup, run_id: str) -> None:
    """A stored plan that no longer parses is reported; the report itself cannot be made."""
    sql(setup.db, "UPDATE runs SET plan = '{\"steps\": 1}'")
    v = verify_run(setup.journal, run_id, trusted=setup.trusted)
    assert [(f.check, f.seq) for f in v.findings] == [("plan", None)]
    assert run_ids(setup.journal) == [run_id]
    with pytest.raises(JournalError) as e:
        setup.audit(run_id)
    assert e.value.hint is not None
    assert "audit verify" in e.value.hint


def test_status_edited_in_the_runs_table_is_found(setup: Setup, run_id: str) -> None:
    """A run's row that claims success while its events end compensated is a finding."""
    sql(setup.db, "UPDATE runs SET status = 'succeeded'")
    v = verify_run(setup.journal, run_id, trusted=setup.trusted)
    last = len(setup.journal.events(run_id)) - 1
    assert [(f.check, f.seq) for f in v.findings] == [("record", last)]


def test_unknown_run_is_bad_input(setup: Setup) -> None:
    """Auditing a run that is not there is an InputError pointing at `planactor runs`."""
    with pytest.raises(InputError) as e:
        verify_run(setup.journal, "run-nope", trusted=setup.trusted)
    assert e.value.hint is not None
    assert "planactor runs" in e.value.hint


# -- anchors ---------------------------------------------------------------------------------------

# Run ids are one printable line (the engine's are `run-<hex>`); '@' and ':' may occur.
_RUN_IDS = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")) | st.sampled_from("@:"),
    min_size=1,
    max_size=30,
)


@given(
    run=_RUN_IDS,
    seq=st.integers(min_value=0, max_value=10**9),
    raw=st.binary(min_size=32, max_size=32),
)
def test_anchor_text_round_trips(run: str, seq: int, raw: bytes) -> None:
    """Any anchor printed by `audit head` parses back to itself, even with '@' in the run id."""
    a = Anchor(run_id=run, seq=seq, hash=raw.hex())
    assert Anchor.parse(str(a)) == a


@pytest.mark.parametrize(
    "text",
    [
        "",
        "run-1",
        "run-1@3",
        "run-1@x:" + "0" * 64,
        "@3:" + "0" * 64,
        "run-1@3:" + "A" * 64,
        "run-1@3:" + "0" * 63,
        "run-1@-1:" + "0" * 64,
    ],
)
def test_malformed_anchor_says_the_expected_format(text: str) -> None:
    """A malformed anchor is an InputError that spells out RUN_ID@SEQ:HASH."""
    with pytest.raises(InputError, match="RUN_ID@SEQ:HASH"):
        Anchor.parse(text)


# -- renderings ------------------------------------------------------------------------------------


def test_markdown_report_holds_the_answers(setup: Setup, run_id: str) -> None:
    """The Markdown report names intent, requester, ticket, plan hash, outputs and the head."""
    r = setup.audit(run_id)
    md = audit_markdown(r, kind_of=lambda name: "write" if "ledger" in name else "read")
    head = r.head
    assert head is not None
    for needle in (
        "move volume vol-7 to array-02",
        "| Requested by | bob |",
        "CHG-1",
        r.plan_hash,
        '"calls": 2',
        "testing.ledger_undo",
        "**paused**",
        "**resumed**",
        str(head),
        "**Integrity: VERIFIED**",
        "| cost usd | 0.0 |",
        "| 0 | `w1` | `testing.ledger_write` | write |",
    ):
        assert needle in md, needle


def test_html_report_is_self_contained(setup: Setup, run_id: str) -> None:
    """The HTML page holds the same answers with inline CSS and no external reference."""
    r = setup.audit(run_id)
    page = audit_html(r)
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page
    assert not re.search(r"""(src|href)\s*=|<script|<link|@import|url\(""", page)
    head = r.head
    assert head is not None
    for needle in ("move volume vol-7 to array-02", "bob", "CHG-1", r.plan_hash, str(head)):
        assert html.escape(needle) in page, needle


def test_tampered_record_renders_as_failed(setup: Setup, run_id: str) -> None:
    """A report of an altered run says FAILED up front and names the first bad event."""
    sql(setup.db, "UPDATE runs SET status = 'succeeded'")
    r = setup.audit(run_id)
    assert "**Integrity: FAILED**: first at event #" in audit_markdown(r)
    assert "Integrity: FAILED" in audit_html(r)
    assert json.loads(audit_json(r))["integrity"]["ok"] is False


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(UNICODE, min_size=1, max_size=40)
    | st.sampled_from(["<script>alert(1)</script>", "a|b\n| c", "`code` ```", "x</td><td>", "&lt;"])
)
def test_hostile_values_are_escaped(setup: Setup, run_id: str, text: str) -> None:
    """Any intent stays one table cell in Markdown and never becomes markup in HTML."""
    base = setup.audit(run_id)
    r = dataclasses.replace(base, plan=base.plan.model_copy(update={"intent": text}))
    md = audit_markdown(r)
    (row,) = [line for line in md.splitlines() if line.startswith("| Intent |")][:1]
    assert len(re.findall(r"(?<!\\)\|", row)) == 3
    assert "<" not in row.replace("<br>", "")
    page = audit_html(r)
    assert html.escape(text) in page
    assert "<script" not in page
