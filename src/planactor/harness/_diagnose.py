"""What `recover` may look at with a model, read-only: a diagnosis loop and a ticket summary.

Both are journaled runs of their own whose first event names the paused run
(`diagnoses: RUN_ID`, under the chain), so `planactor audit` shows them beside it, and
neither can change anything: the diagnosis is an `ask` loop (read actors only, and the
engine refuses any other), the summary a read-only run of the `core.summarize_run` skill.
They are never counted as fix runs: only a plan that says `recovers` is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from planactor.catalog import Catalog
from planactor.engine import Engine
from planactor.harness._ask import DEFAULT_MAX_STEPS, AskResult, ask
from planactor.harness._playbooks import RecoveryContext
from planactor.journal import Journal
from planactor.plan import Plan
from planactor.planner import Backend

__all__ = ["SUMMARY_SKILL", "Ticket", "diagnose", "diagnosis_question", "ticket"]

SUMMARY_SKILL = "core.summarize_run"


def diagnosis_question(ctx: RecoveryContext) -> str:
    """The question the loop is asked: what state the failed step's entities are in now."""
    f = ctx.failure
    named = [f"{k} {v}" for k, v in sorted(f.args.items()) if isinstance(v, str)]
    about = ", ".join(named) or "the entities of this run"
    return (
        f"Step {f.step} ({f.actor}) failed: {f.text}. What state are {about} in now, "
        "and is anything degraded (a path down, a controller failed)?"
    )


def diagnose(
    ctx: RecoveryContext,
    *,
    backend: Backend,
    journal: Journal,
    resources: Mapping[str, object] | None,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> AskResult:
    """An `ask` loop about the paused run's failure, journaled and linked to the run."""
    return ask(
        diagnosis_question(ctx),
        backend=backend,
        catalog=ctx.catalog,
        journal=journal,
        inventory=ctx.inventory,
        resources=resources,
        max_steps=max_steps,
        requested_by=ctx.requested_by,
        diagnoses=ctx.run_id,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticket:
    """A change-ticket summary of the paused run, as the skill's run recorded it."""

    run_id: str  # the summary's own run
    status: str
    title: str | None
    summary: str | None
    error: str | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "title": self.title,
            "summary": self.summary,
            "error": self.error,
        }


def ticket(
    run_id: str, *, catalog: Catalog, journal: Journal, backend: Backend, requested_by: str
) -> Ticket:
    """Summarize run `run_id` for a change ticket with the `core.summarize_run` skill.

    A read-only run of its own: the prompt, the model and its raw answer are journaled
    (`step.llm_call`), so the summary in the ticket can be traced to what the model said."""
    plan = Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": f"summarize run {run_id} for its change ticket",
            "requested_by": requested_by,
            "steps": [{"id": "summary", "actor": SUMMARY_SKILL, "args": {"run_id": run_id}}],
        }
    )
    engine = Engine(
        catalog=catalog, journal=journal, resources={"journal": journal, "llm": backend}
    )
    result = engine.run(plan, read_only=True, labels={"kind": "ticket", "diagnoses": run_id})
    step = result.steps["summary"]
    output = step.output if isinstance(step.output, Mapping) else {}
    error = None
    if step.state != "succeeded":
        error = result.reason or step.state
    return Ticket(
        run_id=result.run_id,
        status=result.status,
        title=_text(output.get("title")),
        summary=_text(output.get("summary")),
        error=error,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
