"""Engine.run(read_only=True): a write step fails, final, before its actor is called."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planactor import testing
from planactor.engine import Engine
from planactor.journal import EventKind, Journal
from planactor.plan import Plan


def _plan(ledger: Path, **step: Any) -> Plan:
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "look only",
            "requested_by": "me",
            "steps": [
                {"id": "r1", "actor": "core.echo", "args": {"message": "hi"}},
                {
                    "id": "w1",
                    "actor": "testing.ledger_write",
                    "args": {"ledger": str(ledger), "item": "x"},
                    "after": ["r1"],
                    **step,
                },
            ],
        }
    )


def test_a_read_only_run_refuses_a_write_step_without_calling_it(tmp_path: Path) -> None:
    """The write fails as ReadOnlyViolation, not retryable, and the ledger is untouched."""
    ledger = tmp_path / "ledger"
    journal = Journal()
    engine = Engine(catalog=testing.catalog(), journal=journal)
    result = engine.run(_plan(ledger, retry={"attempts": 3}), read_only=True)
    assert result.status == "paused"
    assert result.steps["r1"].state == "succeeded"
    assert result.steps["w1"].attempts == 1  # not retried
    assert testing.applied_counts(ledger) == {}
    events = journal.events(result.run_id)
    assert events[0].data["read_only"] is True
    failed = next(e for e in events if e.type == EventKind.STEP_FAILED)
    assert failed.data["error"]["kind"] == "ReadOnlyViolation"
    assert failed.data["error"]["retryable"] is False
    assert "testing.ledger_write is a write actor" in failed.data["error"]["message"]
    assert journal.verify(result.run_id).ok
    assert engine.replay(result.run_id).ok


def test_a_resumed_read_only_run_stays_read_only(tmp_path: Path) -> None:
    """The flag is in the first event: a resume retrying the write refuses it again."""
    ledger = tmp_path / "ledger"
    journal = Journal()
    engine = Engine(catalog=testing.catalog(), journal=journal)
    first = engine.run(_plan(ledger), read_only=True)
    again = engine.resume(first.run_id, retry=["w1"])
    assert again.status == "paused"
    assert testing.applied_counts(ledger) == {}


def test_the_same_plan_without_read_only_writes(tmp_path: Path) -> None:
    """The refusal comes from the option, not the plan: without it the write applies."""
    ledger = tmp_path / "ledger"
    result = Engine(catalog=testing.catalog(), journal=Journal()).run(
        _plan(ledger), labels={"kind": "test"}
    )
    assert result.status == "succeeded"
    assert sum(testing.applied_counts(ledger).values()) == 1
