"""A run worth auditing (on pytest's pythonpath), shared by the journal's audit tests and those
of `planactor audit`: a plan that writes, retries and pauses, approved by alice long ago, run
and then aborted, so that its compensations are journaled too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from planactor import testing
from planactor.engine import Engine
from planactor.journal import Journal
from planactor.plan import Approval, Plan
from planactor.policy import (
    KeyStore,
    RulePolicy,
    authorize,
    default_policy_text,
    parse_policy,
    sign,
)
from planactor.validate import validate_plan

__all__ = ["CHECKED", "SIGNED", "make_plan", "record_run"]

# A fixed past moment: the approval has long expired by now, and must still verify, because
# expiry is judged at the time the run recorded its check.
SIGNED = datetime(2025, 3, 2, 10, 0, tzinfo=UTC)
CHECKED = SIGNED + timedelta(hours=1)


def make_plan(tmp: Path, intent: str = "move volume vol-7 to array-02") -> Plan:
    """A write, a read that fails once then succeeds, and a step that pauses the run."""
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": intent,
            "requested_by": "bob",
            "change_ticket": "CHG-1",
            "planner": {"backend": "local", "model": "smollm2", "tokens_in": 120, "cost_usd": 0.0},
            "steps": [
                {
                    "id": "w1",
                    "actor": "testing.ledger_write",
                    "args": {"ledger": str(tmp / "ledger.jsonl"), "item": "a"},
                    "on_failure": "compensate",
                },
                {
                    "id": "f",
                    "actor": "testing.flaky",
                    "args": {"counter": str(tmp / "calls"), "fail_times": 1},
                    "after": ["w1"],
                    "retry": {"attempts": 2, "backoff_s": 0},
                },
                {"id": "u", "actor": "testing.unexpected", "args": {}, "after": ["f"]},
            ],
        }
    )


def record_run(
    journal: Journal,
    store: KeyStore,
    plan: Plan,
    *,
    extra: Sequence[Approval] = (),
    policy: RulePolicy | None = None,
) -> str:
    """Approve as alice (her key in `store`) at SIGNED, authorize under `policy` (the shipped
    default unless given) at CHECKED (with `extra` approvals too), run to the pause, then
    abort it (compensations)."""
    approval = sign(
        plan,
        identity="alice",
        key=store.private("alice"),
        now=SIGNED,
        valid_for=timedelta(hours=4),
        ticket="CHG-1",
    )
    auth = authorize(
        validate_plan(
            plan.model_copy(update={"approvals": [approval, *extra]}), catalog=testing.catalog()
        ),
        catalog=testing.catalog(),
        policy=policy or parse_policy(default_policy_text(), source="test"),
        trusted=store.trusted(),
        now=CHECKED,
    )
    engine = Engine(catalog=testing.catalog(), journal=journal, sleep=lambda _: None)
    result = engine.run(plan, authorization=auth.to_document())
    assert result.status == "paused"
    engine.resume(result.run_id, abort=True)
    return result.run_id
