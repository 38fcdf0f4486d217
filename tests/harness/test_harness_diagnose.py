"""`recover`'s read-only looks: a diagnosis loop and a ticket summary, journaled and linked."""

from __future__ import annotations

from planactor import lab as lablib
from planactor.audit import linked_runs
from planactor.harness import diagnose, diagnosis_question, fix_runs, gather, ticket
from planactor.journal import EventKind
from planactor.testing import ScriptedBackend
from recovery_lab import REQUESTER, World, recover_now, upgrade

FAULT = {"kind": "upgrade-fails", "controller": "array-02-a", "times": 1}


def _paused(w: World) -> str:
    first = upgrade(w, "array-02", after="drain-first", fault=FAULT)
    assert first.status == "paused"
    return first.run_id


def test_the_diagnosis_is_a_read_only_ask_run_linked_to_the_paused_run(w: World) -> None:
    """The loop is asked about the failed step's entities; its transcript's first event says
    `diagnoses: RUN`; the audit links it both ways; it is never counted as a fix run."""
    rid = _paused(w)
    ctx, _ = gather(w.journal, rid, catalog=w.catalog, lab=w.lab, requested_by=REQUESTER)
    question = diagnosis_question(ctx)
    assert "upgrade-first" in question
    assert "array-02-a" in question
    backend = ScriptedBackend(
        {"action": "storage.list_paths", "args": {"array": "array-02"}},
        {"answer": "array-02-a failed its upgrade", "cites": ["obs-1"]},
    )
    d = diagnose(ctx, backend=backend, journal=w.journal, resources=lablib.lab_resources(w.lab))
    assert d.verdict == "supported"
    first = w.journal.events(d.run_id, limit=1)
    assert first[0].type == EventKind.RUN_STARTED
    assert first[0].data["diagnoses"] == rid
    assert [(x.run_id, x.relation) for x in linked_runs(w.journal, rid)] == [
        (d.run_id, "diagnosed by")
    ]
    assert [(x.run_id, x.relation) for x in linked_runs(w.journal, d.run_id)] == [
        (rid, "diagnoses")
    ]
    assert fix_runs(w.journal, rid) == ()
    # The playbook still proposes the fix: a diagnosis is not a fix run.
    rec = recover_now(w, rid)
    assert rec.proposal is not None
    assert rec.proposal.source.startswith("playbook")


def test_a_steered_diagnosis_cannot_write(w: World) -> None:
    """A model that answers the diagnosis with a write actor changes nothing in the lab."""
    rid = _paused(w)
    ctx, _ = gather(w.journal, rid, catalog=w.catalog, lab=w.lab, requested_by=REQUESTER)
    before = w.lab.read().state
    backend = ScriptedBackend(
        {
            "action": "storage.reboot_controller",
            "args": {"array": "array-02", "controller": "array-02-a"},
        },
        {"answer": "rebooted", "cites": []},
    )
    d = diagnose(ctx, backend=backend, journal=w.journal, resources=lablib.lab_resources(w.lab))
    assert d.verdict != "supported"
    assert w.lab.read().state == before


def test_the_ticket_summary_runs_the_skill_read_only_and_links_it(w: World) -> None:
    """The summary is a one-step read-only run of core.summarize_run: the model is given the
    paused run's facts, its answer is the ticket, and the run says `diagnoses: RUN`."""
    rid = _paused(w)
    backend = ScriptedBackend({"title": "array-02 upgrade paused", "summary": "a-side failed."})
    t = ticket(rid, catalog=w.catalog, journal=w.journal, backend=backend, requested_by="sam")
    assert (t.status, t.title, t.summary, t.error) == (
        "succeeded",
        "array-02 upgrade paused",
        "a-side failed.",
        None,
    )
    prompt = backend.prompts[0][-1]["content"]
    assert f"Run {rid}" in prompt
    assert "upgrade-first storage.upgrade_firmware: failed" in prompt
    kinds = [e.type for e in w.journal.events(t.run_id)]
    assert EventKind.LLM_CALL in kinds
    assert w.journal.events(t.run_id, limit=1)[0].data["diagnoses"] == rid
    assert "diagnosed by" in {x.relation for x in linked_runs(w.journal, rid)}
    assert fix_runs(w.journal, rid) == ()
