"""`planactor.audit` verification against the gaps an attacker used: events after a run's end,
stored fields outside the chain, runs with writes and no authorization, and a policy that
calls itself `default`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditruns import SIGNED, make_plan, record_run
from forgery import append_event, forge_approval, forge_run, rewrite_chain, sql
from planactor import testing
from planactor.audit import (
    Anchor,
    AuditRecord,
    Verification,
    audit_html,
    audit_json,
    audit_markdown,
    audit_run,
    verify_run,
)
from planactor.engine import Engine
from planactor.journal import Journal
from planactor.plan import Plan, StepKind
from planactor.policy import KeyStore, RulePolicy, default_policy_text, load_policy, parse_policy

CATALOG = testing.catalog()


def kinds(name: str) -> StepKind:
    """Each actor's effect as the testing catalog says (the audit's `kind_of`)."""
    return CATALOG.get(name).kind if name in CATALOG else "unknown"


class Setup:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.db = tmp / "j.db"
        self.store = KeyStore(directory=tmp / "keys")
        self.store.new("alice")
        self.journal = Journal(self.db)

    def run(self, plan: Plan, **kw: Any) -> str:
        return record_run(self.journal, self.store, plan, **kw)

    def verify(self, run_id: str, **kw: Any) -> Verification:
        return verify_run(self.journal, run_id, trusted=self.store.trusted(), kind_of=kinds, **kw)

    def audit(self, run_id: str) -> AuditRecord:
        return audit_run(self.journal, run_id, trusted=self.store.trusted(), kind_of=kinds)

    def checks(self, run_id: str, **kw: Any) -> list[tuple[str, int | None]]:
        return [(f.check, f.seq) for f in self.verify(run_id, **kw).findings]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    s = Setup(tmp_path)
    yield s
    s.journal.close()


@pytest.fixture
def run_id(setup: Setup) -> str:
    return setup.run(make_plan(setup.tmp))


def _types(setup: Setup, run_id: str) -> list[str]:
    return [e.type for e in setup.journal.events(run_id)]


# -- nothing after the end ---------------------------------------------------------------------


def test_event_appended_after_the_end_is_found_even_with_an_anchor(
    setup: Setup, run_id: str
) -> None:
    """A step result chained after run.failed (head moved, anchor of the end still holds)."""
    seq, digest = setup.journal.head(run_id)
    anchor = Anchor(run_id=run_id, seq=seq, hash=digest)
    assert _types(setup, run_id)[-1] == "run.failed"
    added = append_event(
        setup.db, run_id, "step.succeeded", step="u", attempt=1, data={"output": {"ok": True}}
    )
    v = setup.verify(run_id, anchors=[anchor])
    assert [(f.check, f.seq) for f in v.findings] == [("sequence", added)]
    assert v.findings[0].message.startswith(
        f"event #{added} (step.succeeded) comes after the run ended at event #{seq} (run.failed)"
    )
    r = setup.audit(run_id)
    assert r.ended_at == setup.journal.events(run_id)[seq].at  # the end, not the forgery


def test_a_paused_then_resumed_run_has_not_ended(setup: Setup, run_id: str) -> None:
    """run.paused is no end: the events after the pause and the resume verify."""
    types = _types(setup, run_id)
    assert types.index("run.paused") < types.index("run.resumed") < len(types) - 1
    assert setup.verify(run_id).ok


def test_a_run_started_twice_is_found(setup: Setup) -> None:
    """A second run.started chained onto an unfinished run is named at that event."""
    plan = make_plan(setup.tmp)
    setup.journal.begin_run(
        run_id="r-2", plan=plan, dry_run=True, data={"dry_run": True, "parallel": 1}
    )
    setup.journal.flush()
    added = append_event(setup.db, "r-2", "run.started", data={"plan_hash": plan.hash})
    assert setup.checks("r-2") == [("sequence", added)]


# -- every stored field the report shows -------------------------------------------------------


def test_planner_metadata_edited_in_the_stored_plan_is_found(setup: Setup, run_id: str) -> None:
    """The stored plan's planner metadata is outside the plan hash; event #0 chained it."""
    sql(setup.db, "UPDATE runs SET plan = replace(plan, '\"smollm2\"', '\"gpt-5\"')")
    assert setup.journal.run(run_id).plan.planner.model == "gpt-5"  # type: ignore[union-attr]
    v = setup.verify(run_id)
    assert [(f.check, f.seq) for f in v.findings] == [("plan", 0)]
    assert "planner metadata differs" in v.findings[0].message


def test_created_at_edited_in_the_runs_row_is_found(setup: Setup, run_id: str) -> None:
    """The row's creation time must be the time of the run's first event."""
    sql(setup.db, "UPDATE runs SET created_at = '2020-01-01T00:00:00.000000+00:00'")
    v = setup.verify(run_id)
    assert [(f.check, f.seq) for f in v.findings] == [("record", 0)]
    assert "created at 2020-01-01T00:00:00.000000+00:00" in v.findings[0].message


def test_approval_added_to_the_stored_plan_is_found(setup: Setup, run_id: str) -> None:
    """An approval slipped into the stored plan (outside the hash) was not recorded at start."""
    setup.store.new("mallory")
    record = setup.journal.run(run_id)
    forged = forge_approval(record.plan, "mallory", setup.store.private("mallory"), now=SIGNED)
    doc = record.plan.to_document()
    doc["approvals"] = [forged.model_dump(mode="json")]
    sql(setup.db, "UPDATE runs SET plan = ? WHERE run_id = ?", json.dumps(doc), run_id)
    v = setup.verify(run_id)
    assert [(f.check, f.seq) for f in v.findings] == [("plan", 0)]
    assert "approval(s) by mallory" in v.findings[0].message


def test_a_run_journaled_without_chained_planner_metadata_marks_it_outside(
    setup: Setup, run_id: str
) -> None:
    """Planner metadata only in the stored plan (older runs) verifies, marked outside."""

    def edit(doc: dict[str, Any]) -> None:
        if doc["seq"] == 0:
            del doc["data"]["planner"]

    rewrite_chain(setup.db, run_id, edit)
    v = setup.verify(run_id)
    assert v.ok, v.findings
    assert v.outside_chain == ("planner",)
    assert "outside the chain" in v.notes[0]
    md = audit_markdown(setup.audit(run_id))
    assert "| Outside the chain | planner |" in md
    assert "kept with the stored plan; not covered by the plan hash" in md


def _resumed_with(setup: Setup, run_id: str, change: Any = None) -> int:
    """Give the run's resume the authorization its start recorded (as the resume gate
    records one), `change`d; the chain recomputed. Returns the resume's event number."""
    auth = setup.journal.events(run_id)[0].data["authorization"]
    resumed = next(e.seq for e in setup.journal.events(run_id) if e.type == "run.resumed")

    def edit(doc: dict[str, Any]) -> None:
        if doc["seq"] == resumed:
            doc["data"]["authorization"] = json.loads(json.dumps(auth))
            if change is not None:
                change(doc["data"]["authorization"])

    rewrite_chain(setup.db, run_id, edit)
    return resumed


def test_approvals_recorded_by_a_resume_are_judged_again(setup: Setup, run_id: str) -> None:
    """A resume's recorded authorization verifies like the start's; a forged one fails there."""
    _resumed_with(setup, run_id)
    v = setup.verify(run_id)
    assert (v.ok, v.approvals_checked) == (True, 2)

    def forge(auth: dict[str, Any]) -> None:
        a = auth["approvals"][0]
        a["signature"] = ("B" if a["signature"][0] != "B" else "C") + a["signature"][1:]

    resumed = _resumed_with(setup, run_id, forge)
    v = setup.verify(run_id)
    assert [(f.check, f.seq) for f in v.findings] == [("approval", resumed)]
    assert "bad-signature" in v.findings[0].message


# -- writes need a recorded authorization ------------------------------------------------------


def test_forged_run_with_writes_and_no_authorization_is_unauthorized(setup: Setup) -> None:
    """A runs row and a run.started written with sqlite3 and hashlib verify as a chain, but
    a run with a write step and no authorization is `unauthorized`, not ok."""
    plan = make_plan(setup.tmp)
    forge_run(setup.db, "r-forged", plan, data={"dry_run": False, "parallel": 1, "steps": 3})
    assert setup.journal.verify("r-forged").ok
    v = setup.verify("r-forged")
    assert [(f.check, f.seq) for f in v.findings] == [("unauthorized", 0)]
    assert v.findings[0].message == (
        "the run has write step(s) w1 but recorded no authorization (no policy check, "
        "no approvals) and was not a dry run"
    )


def test_an_engine_run_without_authorization_is_unauthorized(setup: Setup) -> None:
    """The Python API may run without the gate; the audit then says so."""
    engine = Engine(catalog=CATALOG, journal=setup.journal, sleep=lambda _: None)
    result = engine.run(make_plan(setup.tmp))
    assert [f.check for f in setup.verify(result.run_id).findings] == ["unauthorized"]


def test_read_only_or_dry_runs_need_no_authorization(setup: Setup) -> None:
    """Without writes, or as a dry run, a run without authorization verifies."""
    plan = make_plan(setup.tmp)
    doc = plan.to_document()
    doc["steps"] = [{"id": "f", "actor": "testing.flaky", "args": {"counter": "c"}}]
    reads = Plan.model_validate(doc)
    forge_run(setup.db, "r-reads", reads, data={"dry_run": False, "parallel": 1})
    forge_run(setup.db, "r-dry", plan, data={"dry_run": True, "parallel": 1})
    assert setup.checks("r-reads") == []
    assert setup.checks("r-dry") == []


def test_an_actor_this_catalog_does_not_know_counts_as_a_write(setup: Setup) -> None:
    """What cannot be shown read-only needed an approval."""
    doc = make_plan(setup.tmp).to_document()
    doc["steps"] = [{"id": "x", "actor": "elsewhere.reboot", "args": {}}]
    forge_run(setup.db, "r-x", Plan.model_validate(doc), data={"dry_run": False})
    (f,) = setup.verify("r-x").findings
    assert f.check == "unauthorized"
    assert "x (elsewhere.reboot: not in this catalog, so it may write)" in f.message


# -- the policy in force -------------------------------------------------------------------------


def _weakened() -> RulePolicy:
    """A policy file that calls itself `default` but has lost its rules."""
    shipped = parse_policy(default_policy_text(), source="default policy")
    doc = shipped.doc.model_copy(update={"rules": [], "description": "rules removed"})
    return RulePolicy(doc=doc, source="/etc/planactor/policy.yaml")


def test_policy_calling_itself_default_but_not_shipped_is_noted(setup: Setup) -> None:
    """The record verifies, and every rendering says the policy is not the shipped default."""
    run_id = setup.run(make_plan(setup.tmp), policy=_weakened())
    v = setup.verify(run_id)
    assert v.ok
    assert v.policy is not None
    assert (v.policy.name, v.policy.is_shipped_default) == ("default", False)
    (note,) = v.notes
    assert note.startswith("the policy in force calls itself 'default' but is not the shipped")
    assert "/etc/planactor/policy.yaml" in note
    assert v.to_document()["notes"] == [note]
    r = setup.audit(run_id)
    md = audit_markdown(r)
    assert f"**Note**: {note}" in md.replace("\\", "")
    assert "no although it is named 'default': its hash differs" in md
    assert "calls itself &#x27;default&#x27; but is not the shipped" in audit_html(r)
    doc = json.loads(audit_json(r))
    assert doc["policy"]["is_shipped_default"] is False
    assert doc["integrity"]["notes"] == [note]


def test_shipped_default_is_recognised_by_its_hash_read_now(
    setup: Setup, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped hash is that of default.yaml as load_policy(None) loads it, at audit time."""
    monkeypatch.setenv("PLANACTOR_HOME", str(setup.tmp / "home"))
    monkeypatch.delenv("PLANACTOR_POLICY", raising=False)
    r = setup.audit(run_id)
    assert r.policy is not None
    assert r.policy.shipped_hash == load_policy(None).hash
    assert r.policy.is_shipped_default is True
    assert r.notes == ()
    assert "yes: its hash is the shipped default's" in audit_markdown(r)
