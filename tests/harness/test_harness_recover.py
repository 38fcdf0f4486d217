"""The recovery agent on the storage lab: playbooks first, the model second, nothing run."""

from __future__ import annotations

import json

import pytest

from planactor._errors import BackendError, InputError
from planactor.audit import linked_runs
from planactor.journal import EventKind
from planactor.planner import LocalBackend
from planactor.testing import ScriptedBackend
from recovery_lab import World, approve, recover_now, resume, run, upgrade

FAULT = {"kind": "upgrade-fails", "controller": "array-02-a", "times": 1}
# What a model that understood would compose: bring the failed controller back, check.
COMPOSED = {
    "steps": [
        {
            "id": "check",
            "actor": "storage.preflight",
            "args": {"array": "array-02", "controller": "array-02-a"},
        },
        {
            "id": "reboot",
            "actor": "storage.reboot_controller",
            "args": {"array": "array-02", "controller": "array-02-a"},
            "after": ["check"],
        },
        {
            "id": "verify",
            "actor": "storage.preflight",
            "args": {"array": "array-02"},
            "after": ["reboot"],
        },
    ]
}


def _paused(w: World) -> str:
    first = upgrade(w, "array-02", after="drain-first", fault=FAULT)
    assert first.status == "paused"
    assert first.steps["upgrade-first"].state == "failed"
    return first.run_id


def test_a_failed_upgrade_is_recovered_by_the_playbook_end_to_end(w: World) -> None:
    """upgrade-fails pauses the upgrade; the playbook's fix validates, runs linked once
    approved; recover then says resume; the upgrade succeeds; the audit links both; no DU."""
    rid = _paused(w)
    ops = len(w.lab.read().operations)
    rec = recover_now(w, rid)
    assert len(w.lab.read().operations) == ops  # recover ran nothing
    assert rec.proposal is not None
    assert rec.validated is not None
    assert rec.proposal.source == "playbook storage.controller-failed-upgrade"
    fix = rec.validated.plan
    assert fix.recovers == rid
    assert fix.basis is not None  # the lab facts it was made from: `run` refuses it once stale
    assert fix.origin is not None
    assert fix.origin.routine == "storage.reboot_controller_safely"
    assert rec.verdict is not None
    assert rec.verdict.report.approvers_required >= 1
    assert rec.proposal.then == "resume"
    assert "controller array-02-a (array-02) is failed" in " ".join(rec.diagnostics)

    fixed = run(w, approve(w, fix, who=("alice",)))
    assert fixed.status == "succeeded"
    first = w.journal.events(fixed.run_id)[0]
    assert first.type == EventKind.RUN_STARTED
    assert first.data["recovers"] == rid

    again = recover_now(w, rid)
    assert again.proposal is not None
    assert again.proposal.plan is None
    assert again.proposal.then == "resume"
    assert again.context.fixes == ((fixed.run_id, "succeeded"),)

    assert resume(w, rid).status == "succeeded"
    links = linked_runs(w.journal, rid)
    assert [(x.run_id, x.relation, x.status) for x in links] == [
        (fixed.run_id, "recovered by", "succeeded")
    ]
    assert [x.run_id for x in linked_runs(w.journal, fixed.run_id)] == [rid]
    assert w.du() == 0


def test_the_model_fallback_composes_a_fix_that_recovers_the_run(w: World) -> None:
    """--model-only: the model's composed plan is validated, linked, and fixes the run."""
    rid = _paused(w)
    backend = ScriptedBackend(COMPOSED)
    rec = recover_now(w, rid, backend=backend, model_only=True)
    assert backend.calls == 1
    prompt = json.dumps(backend.prompts[0])
    assert "the firmware upgrade of array-02-a to 5.2.1 failed" in prompt
    assert rec.proposal is not None
    assert rec.proposal.source == "model"
    assert rec.validated is not None
    assert rec.validated.plan.recovers == rid
    assert rec.verdict is not None
    assert rec.verdict.report.novel
    fixed = run(w, approve(w, rec.validated.plan, who=("alice",)))
    assert fixed.status == "succeeded"
    assert resume(w, rid).status == "succeeded"
    assert w.du() == 0


def test_a_model_that_cannot_compose_is_reported_not_invented(w: World) -> None:
    """Three unusable answers: no proposal, a note naming the model's failure."""
    rid = _paused(w)
    backend = ScriptedBackend("no", "still no", BackendError("server error", backend="x"))
    rec = recover_now(w, rid, backend=backend, model_only=True)
    assert rec.proposal is None
    assert rec.validated is None
    assert rec.model_failed
    assert rec.notes[0].startswith("model: could not compose a valid remediation")


def test_the_model_is_not_asked_when_a_playbook_answers(w: World) -> None:
    """Playbooks first: a backend given is never called when one matches."""
    rid = _paused(w)
    backend = ScriptedBackend()
    rec = recover_now(w, rid, backend=backend)
    assert backend.calls == 0
    assert rec.proposal is not None
    assert rec.proposal.source.startswith("playbook")


def test_no_playbook_and_no_model_says_so(w: World) -> None:
    """A failure no playbook knows, with no model: nothing proposed, and why."""
    rid = _paused(w)
    rec = recover_now(w, rid, model_only=True)
    assert rec.proposal is None
    assert rec.notes == ("no playbook matched and no model was given",)


def test_a_run_that_is_not_paused_is_refused(w: World) -> None:
    """recover of a run that ended is bad input (exit 2), named."""
    done = upgrade(w, "array-01", fault={"kind": "timeout", "operation": "fail_back"})
    assert done.status == "succeeded"
    with pytest.raises(InputError, match="not paused") as e:
        recover_now(w, done.run_id)
    assert e.value.exit_code == 2


def test_with_the_real_local_model(w: World) -> None:
    """The 135M model in --model-only: a valid linked plan, or a clear failure note."""
    rid = _paused(w)
    rec = recover_now(w, rid, backend=LocalBackend(), model_only=True)
    if rec.proposal is None:
        assert rec.model_failed
        assert "could not compose" in rec.notes[0]
    else:
        assert rec.validated is not None
        assert rec.validated.plan.recovers == rid
        assert rec.proposal.source == "model"
