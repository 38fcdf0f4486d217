"""The vocabulary of run events: every kind a run journals, and the fields each one carries.

A journal event is an envelope (`run`, `seq`, `type`, `step`, `attempt`, `at`) around a
`data` object. `EventKind` names every type; `KINDS` says, for each, which envelope fields
it uses, the fields of its `data` (a TypedDict below) and what replay does with it. The
engine, the journal, the audit and the command line name kinds through `EventKind`, never
by spelling the string, and `event_problem` checks a recorded event against its kind.

Adding a kind is a change to this module alone: a member of `EventKind`, the TypedDict of
its data and its entry in `KINDS`. A kind with `replay="info"` (a note beside the run, such
as a retry's delay) is journaled, verified and shown in audits like any other, and replay
passes over it; a new *scheduler* command or result also needs its scheduler class and its
line in the engine's codec (`planactor.engine._codec`).

This module is pure (no I/O) and imports nothing of planactor's, so the scheduler's shell,
the journal and the audit can all use it without a dependency between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, Literal, NotRequired

from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

__all__ = [
    "KINDS",
    "AskAnswerData",
    "AskObservationData",
    "AskTurnData",
    "CompensationFailedData",
    "CompensationStartedData",
    "CompensationSucceededData",
    "ErrorData",
    "EventKind",
    "KindSpec",
    "LlmCallData",
    "Replay",
    "RunEndedData",
    "RunPausedData",
    "RunResumedData",
    "RunStartedData",
    "StepFailedData",
    "StepRetryingData",
    "StepSkippedData",
    "StepStartedData",
    "StepSucceededData",
    "event_problem",
    "kind_of",
]


class EventKind(StrEnum):
    """Every type of event a run journals (the value is what the journal stores)."""

    RUN_STARTED = "run.started"
    RUN_RESUMED = "run.resumed"
    RUN_PAUSED = "run.paused"
    RUN_SUCCEEDED = "run.succeeded"
    RUN_FAILED = "run.failed"  # also a run that failed and was compensated (`status`)
    STEP_STARTED = "step.started"
    STEP_RETRYING = "step.retrying"
    STEP_SUCCEEDED = "step.succeeded"
    STEP_FAILED = "step.failed"
    STEP_SKIPPED = "step.skipped"
    COMPENSATION_STARTED = "compensation.started"
    COMPENSATION_SUCCEEDED = "compensation.succeeded"
    COMPENSATION_FAILED = "compensation.failed"
    LLM_CALL = "step.llm_call"  # an LLM skill's model call: prompt, model, parameters, raw output
    ASK_TURN = "ask.turn"  # one model turn of `planactor ask`: its raw output and choice
    ASK_OBSERVATION = "ask.observation"  # what the read the turn chose observed (its run)
    ASK_ANSWER = "ask.answer"  # how the ask ended: an answer (supported or not), or none


# Unknown fields are tolerated (a later version may add some); the listed ones must be there.
_TOLERANT = ConfigDict(extra="allow")


@with_config(_TOLERANT)
class ErrorData(TypedDict):
    """Why an attempt or a compensation failed (the scheduler's StepError)."""

    kind: str  # the error's class name, or "timeout"
    message: str
    retryable: NotRequired[bool]  # True when absent
    unexpected: NotRequired[bool]  # False when absent


@with_config(_TOLERANT)
class RunStartedData(TypedDict):
    """The first event: what the run is and how it runs."""

    plan_hash: str
    dry_run: bool
    parallel: int
    steps: int
    authorization: NotRequired[dict[str, Any]]  # planactor.policy.Authorization.to_document()
    planner: NotRequired[dict[str, Any]]  # the plan's planner metadata (outside its hash)
    kind: NotRequired[str]  # what started the run when not a plan's `run`: "ask"
    read_only: NotRequired[bool]  # the engine refuses every step whose actor writes
    question: NotRequired[str]  # an ask's question
    ask: NotRequired[str]  # an ask's action run: the ask run it serves
    recovers: NotRequired[str]  # a remediation run: the paused run it recovers (plan.recovers)


@with_config(_TOLERANT)
class RunResumedData(TypedDict):
    """A person (or the recovery agent) continued the run."""

    retry: list[str]
    abort: bool
    parallel: int
    authorization: NotRequired[dict[str, Any]]  # the resume gate's re-authorization


@with_config(_TOLERANT)
class RunPausedData(TypedDict):
    reason: str


@with_config(_TOLERANT)
class RunEndedData(TypedDict):
    """`run.succeeded` or `run.failed`; `status` tells failed from compensated."""

    status: Literal["succeeded", "failed", "compensated"]
    reason: str | None


@with_config(_TOLERANT)
class StepStartedData(TypedDict):
    """Committed before the actor is called: the arguments and the idempotency key."""

    args: dict[str, Any]
    idempotency_key: str


@with_config(_TOLERANT)
class StepRetryingData(TypedDict):
    delay_s: float


@with_config(_TOLERANT)
class StepSucceededData(TypedDict):
    output: dict[str, Any] | None  # None: a dry run did not produce a real output
    note: NotRequired[str]  # e.g. what a dry run's write would change


@with_config(_TOLERANT)
class StepFailedData(TypedDict):
    error: ErrorData


@with_config(_TOLERANT)
class StepSkippedData(TypedDict):
    reason: str


@with_config(_TOLERANT)
class CompensationStartedData(TypedDict):
    actor: str  # the compensating actor


@with_config(_TOLERANT)
class CompensationSucceededData(TypedDict):
    """No fields: the step's compensation is done."""


@with_config(_TOLERANT)
class CompensationFailedData(TypedDict):
    error: ErrorData


@with_config(_TOLERANT)
class LlmCallData(TypedDict):
    """An LLM skill asked its model: enough to see what it was told and what it said.

    Replay and resume never call the model again: the step's recorded output stands."""

    skill: str
    backend: str
    model: str
    prompt: str
    parameters: dict[str, Any]  # max_tokens, temperature...
    raw: str  # the model's text, as it came back
    tokens_in: int
    tokens_out: int


@with_config(_TOLERANT)
class AskTurnData(TypedDict):
    """One model turn of an ask: what it said and what the harness made of it."""

    turn: int
    raw: str  # the model's text, as it came back ("" when the call failed)
    choice: Literal["action", "answer", "invalid"]
    action: NotRequired[str]
    args: NotRequired[dict[str, Any]]
    problem: NotRequired[str]  # why the turn was invalid
    tokens_in: int
    tokens_out: int


@with_config(_TOLERANT)
class AskObservationData(TypedDict):
    """What the chosen read observed: its step id (what answers cite) and its own run."""

    id: str  # the observation's step id, e.g. "obs-1"
    run: NotRequired[str]  # the read-only run that executed it (none: refused before a run)
    run_head: NotRequired[str]  # that run's last hash: the transcript is chained to it
    actor: str
    status: str  # the run's status: succeeded or failed
    output: dict[str, Any] | None
    error: NotRequired[str]


@with_config(_TOLERANT)
class AskAnswerData(TypedDict):
    """How an ask ended."""

    verdict: Literal["supported", "unsupported", "undecided"]
    answer: str | None
    cites: list[str]
    reason: NotRequired[str]  # why unsupported or undecided


# header: the first event, which sets the run up; command: a decision of the scheduler,
# which replay re-derives and compares; result: what the scheduler was told (an outcome, a
# person's decision), which replay feeds it; info: beside the run, passed over by replay.
Replay = Literal["header", "command", "result", "info"]


@dataclass(frozen=True, slots=True)
class KindSpec:
    """What an event of one kind holds: envelope fields, its data's type, its replay role."""

    data: type
    replay: Replay
    step: Literal["required", "optional", "absent"] = "absent"
    attempt: bool = False  # the envelope carries the attempt number (from 1)


KINDS: dict[EventKind, KindSpec] = {
    EventKind.RUN_STARTED: KindSpec(RunStartedData, "header"),
    EventKind.RUN_RESUMED: KindSpec(RunResumedData, "result"),
    EventKind.RUN_PAUSED: KindSpec(RunPausedData, "command", step="optional"),
    EventKind.RUN_SUCCEEDED: KindSpec(RunEndedData, "command"),
    EventKind.RUN_FAILED: KindSpec(RunEndedData, "command"),
    EventKind.STEP_STARTED: KindSpec(StepStartedData, "command", "required", attempt=True),
    EventKind.STEP_RETRYING: KindSpec(StepRetryingData, "info", "required", attempt=True),
    EventKind.STEP_SUCCEEDED: KindSpec(StepSucceededData, "result", "required", attempt=True),
    EventKind.STEP_FAILED: KindSpec(StepFailedData, "result", "required", attempt=True),
    EventKind.STEP_SKIPPED: KindSpec(StepSkippedData, "command", "required"),
    EventKind.COMPENSATION_STARTED: KindSpec(CompensationStartedData, "command", "required"),
    EventKind.COMPENSATION_SUCCEEDED: KindSpec(CompensationSucceededData, "result", "required"),
    EventKind.COMPENSATION_FAILED: KindSpec(CompensationFailedData, "result", "required"),
    EventKind.LLM_CALL: KindSpec(LlmCallData, "info", "required", attempt=True),
    EventKind.ASK_TURN: KindSpec(AskTurnData, "info"),
    EventKind.ASK_OBSERVATION: KindSpec(AskObservationData, "info"),
    EventKind.ASK_ANSWER: KindSpec(AskAnswerData, "info"),
}


def kind_of(type_: str) -> EventKind | None:
    """The kind a recorded `type` names; None for a type this version does not know."""
    try:
        return EventKind(type_)
    except ValueError:
        return None


@cache
def _adapter(data: type) -> TypeAdapter[Any]:
    return TypeAdapter(data)


def event_problem(type_: str, step: object, attempt: object, data: object) -> str | None:
    """What is wrong with a recorded event for its kind, or None if it is well formed.

    Checks the kind is known, the envelope's `step` and `attempt` are there exactly when
    the kind uses them, and `data` has every field of the kind with its JSON type
    (strictly: `true` is no number and `"1"` no integer).
    """
    kind = kind_of(type_)
    if kind is None:
        return f"an event of unknown type {type_!r}"
    spec = KINDS[kind]
    if spec.step == "absent" and step is not None:
        return f"a {kind} event names step {step!r}"
    if spec.step == "required" and not (isinstance(step, str) and step):
        return f"a {kind} event names no step"
    if spec.step == "optional" and step is not None and not isinstance(step, str):
        return f"a {kind} event's step is not text"
    if spec.attempt != (attempt is not None):
        return f"a {kind} event {'has no' if spec.attempt else 'has an'} attempt number"
    if attempt is not None and (type(attempt) is not int or attempt < 1):
        return f"a {kind} event's attempt {attempt!r} is not a number from 1"
    try:
        _adapter(spec.data).validate_python(data, strict=True)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        where = "".join(f".{p}" for p in first["loc"])
        return f"a {kind} event's data{where}: {first['msg'].lower()}"
    return None
