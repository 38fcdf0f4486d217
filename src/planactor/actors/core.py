"""The `core` pack: small, dependable actors for tests, demos and glue."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from planactor._errors import ActorError, PlanactorError
from planactor.catalog import ActorContext, actor, llm_skill

if TYPE_CHECKING:  # the journal is imported when a run is summarized, not at catalog load
    from planactor.journal import Journal


class EchoInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(description="Returned unchanged.")
    value: JsonValue = Field(default=None, description="Any JSON value, returned unchanged.")


class EchoOutput(BaseModel):
    message: str
    value: JsonValue = None


@actor(name="core.echo", effect="read")
def echo(args: EchoInput, ctx: ActorContext) -> EchoOutput:
    """Return the message and value it was given."""
    ctx.logger.debug("echo %s", args.message)
    return EchoOutput(message=args.message, value=args.value)


class SleepInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(ge=0, le=3600, description="How long to wait.")


class SleepOutput(BaseModel):
    slept_s: float = Field(description="Measured wall-clock time asleep.")


@actor(name="core.sleep", effect="read")
def sleep(args: SleepInput) -> SleepOutput:
    """Wait for a number of seconds (for timeouts, pacing and crash tests)."""
    start = time.monotonic()
    time.sleep(args.seconds)
    return SleepOutput(slept_s=time.monotonic() - start)


class SummarizeRunInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run_id: str = Field(min_length=1, description="The run whose journal to summarise.")


class TicketSummary(BaseModel):
    title: str = Field(max_length=80, description="One line for the change ticket.")
    summary: str = Field(max_length=400, description="What was done and how it ended.")


_SUMMARY_PROMPT = (
    "Write a change-ticket summary of this run of an infrastructure change.\n{facts}\n"
    "Give a short title and a summary of what was done and how it ended. Use only the facts."
)


def run_facts(journal: Journal, run_id: str, *, limit: int = 1200) -> str:
    """A run's journal compressed to the lines a ticket needs: intent, status, each step."""
    from planactor.journal import EventKind

    record = journal.run(run_id)
    steps = {s.id: s.actor for s in record.plan.steps}
    state: dict[str, str] = {}
    for e in journal.events(run_id):
        if e.step is None:
            continue
        if e.type == EventKind.STEP_SUCCEEDED:
            state[e.step] = "succeeded"
        elif e.type == EventKind.STEP_FAILED:
            state[e.step] = f"failed: {e.data.get('error', {}).get('message', '')}"
        elif e.type == EventKind.STEP_SKIPPED:
            state[e.step] = "skipped"
        elif e.type == EventKind.COMPENSATION_SUCCEEDED:
            state[e.step] = "undone (compensated)"
    lines = [f"Run {run_id}: {record.plan.intent!r}, status {record.status}."]
    lines += [f"- {sid} {actor}: {state.get(sid, 'not run')}" for sid, actor in steps.items()]
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@llm_skill(name="core.summarize_run", effect="read", prompt=_SUMMARY_PROMPT, output=TicketSummary)
def summarize_run(args: SummarizeRunInput, ctx: ActorContext) -> dict[str, str]:
    """Compress a run's journal into a change-ticket summary (written by a model)."""
    from planactor.journal import Journal

    journal = ctx.resource(
        "journal", Journal, hint="give the run the journal: Engine(resources={'journal': ...})"
    )
    try:
        return {"facts": run_facts(journal, args.run_id)}
    except PlanactorError as e:  # an unknown run: no retry will find it
        raise ActorError(e.message, hint=e.hint, retryable=False) from None
