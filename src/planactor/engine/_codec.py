"""The codec between the scheduler's commands and events and the journal's records.

Writing, each command becomes the event that records it before it is carried out (a start
also records its retry delay) and each result the event that records it. Reading, a
recorded result becomes the scheduler event it stands for, and a recorded command is
compared with the command the scheduler issues again. A record that is not a well-formed
event of its kind (`planactor.journal.event_problem`) raises SchedulerError, as the
scheduler does for an event the run could not have produced: nothing here guesses.

The event names and fields are defined once, in `planactor.journal.EventKind` and `KINDS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from planactor.engine._scheduler import (
    Command,
    CompensationFailed,
    CompensationSucceeded,
    Event,
    PauseRun,
    Resumed,
    SchedulerError,
    SkipStep,
    StartCompensation,
    StartStep,
    StepError,
    StepFailed,
    StepSucceeded,
)
from planactor.journal import (
    KINDS,
    ErrorData,
    EventKind,
    Journal,
    JournalEvent,
    RunResumedData,
    RunStartedData,
    event_problem,
)

__all__ = [
    "append_command",
    "append_result",
    "append_resumed",
    "check",
    "describe_command",
    "describe_event",
    "error_data",
    "finished_steps",
    "idempotency_key",
    "is_command",
    "matches",
    "result_of",
    "started_settings",
]

# The stored strings, looked up once: `EventKind.X.value` is a property call per use.
_RUN_RESUMED = EventKind.RUN_RESUMED.value
_RUN_PAUSED = EventKind.RUN_PAUSED.value
_RUN_SUCCEEDED = EventKind.RUN_SUCCEEDED.value
_RUN_FAILED = EventKind.RUN_FAILED.value
_STEP_STARTED = EventKind.STEP_STARTED.value
_STEP_RETRYING = EventKind.STEP_RETRYING.value
_STEP_SUCCEEDED = EventKind.STEP_SUCCEEDED.value
_STEP_FAILED = EventKind.STEP_FAILED.value
_STEP_SKIPPED = EventKind.STEP_SKIPPED.value
_COMP_STARTED = EventKind.COMPENSATION_STARTED.value
_COMP_SUCCEEDED = EventKind.COMPENSATION_SUCCEEDED.value
_COMP_FAILED = EventKind.COMPENSATION_FAILED.value


def idempotency_key(run_id: str, step: str, suffix: str = "") -> str:
    """The key an actor receives, and `step.started` records: `RUN/STEP[/compensate]`."""
    return f"{run_id}/{step}{suffix}"


# -- writing ----------------------------------------------------------------------------------


def append_command(
    journal: Journal, run_id: str, cmd: Command
) -> tuple[EventKind, Mapping[str, Any]]:
    """Journal a command before it is carried out; its kind and recorded data."""
    if isinstance(cmd, StartStep):
        if cmd.attempt > 1:
            journal.append(
                run_id,
                _STEP_RETRYING,
                step=cmd.step,
                attempt=cmd.attempt,
                data={"delay_s": cmd.delay_s},
            )
        data: dict[str, Any] = {"args": cmd.args, "idempotency_key": f"{run_id}/{cmd.step}"}
        journal.append(run_id, _STEP_STARTED, step=cmd.step, attempt=cmd.attempt, data=data)
        return EventKind.STEP_STARTED, data
    if isinstance(cmd, SkipStep):
        data = {"reason": cmd.reason}
        journal.append(run_id, _STEP_SKIPPED, step=cmd.step, data=data)
        return EventKind.STEP_SKIPPED, data
    if isinstance(cmd, StartCompensation):
        data = {"actor": cmd.actor}
        journal.append(run_id, _COMP_STARTED, step=cmd.step, data=data)
        return EventKind.COMPENSATION_STARTED, data
    if isinstance(cmd, PauseRun):
        data = {"reason": cmd.reason}
        journal.append(run_id, _RUN_PAUSED, step=cmd.step, data=data)
        return EventKind.RUN_PAUSED, data
    data = {"status": cmd.status, "reason": cmd.reason}
    if cmd.status == "succeeded":
        journal.append(run_id, _RUN_SUCCEEDED, data=data)
        return EventKind.RUN_SUCCEEDED, data
    journal.append(run_id, _RUN_FAILED, data=data)  # failed, or failed and compensated
    return EventKind.RUN_FAILED, data


def append_result(
    journal: Journal,
    run_id: str,
    event: StepSucceeded | StepFailed | CompensationSucceeded | CompensationFailed,
    note: str | None = None,
) -> tuple[EventKind, Mapping[str, Any]]:
    """Journal what an actor call came to (`note`: what a dry run's write would change)."""
    if isinstance(event, StepSucceeded):
        data: dict[str, Any] = {"output": event.output}
        if note is not None:
            data["note"] = note
        journal.append(run_id, _STEP_SUCCEEDED, step=event.step, attempt=event.attempt, data=data)
        return EventKind.STEP_SUCCEEDED, data
    if isinstance(event, StepFailed):
        data = {"error": error_data(event.error)}
        journal.append(run_id, _STEP_FAILED, step=event.step, attempt=event.attempt, data=data)
        return EventKind.STEP_FAILED, data
    if isinstance(event, CompensationSucceeded):
        journal.append(run_id, _COMP_SUCCEEDED, step=event.step)
        return EventKind.COMPENSATION_SUCCEEDED, {}
    data = {"error": error_data(event.error)}
    journal.append(run_id, _COMP_FAILED, step=event.step, data=data)
    return EventKind.COMPENSATION_FAILED, data


def append_resumed(
    journal: Journal,
    run_id: str,
    event: Resumed,
    *,
    parallel: int,
    authorization: Mapping[str, Any] | None,
) -> None:
    """Journal a person's decision to continue the run (with the resume gate's record)."""
    data: RunResumedData = {"retry": list(event.retry), "abort": event.abort, "parallel": parallel}
    if authorization is not None:
        data["authorization"] = dict(authorization)
    journal.append(run_id, _RUN_RESUMED, data=data)


def error_data(err: StepError) -> ErrorData:
    return {
        "kind": err.kind,
        "message": err.message,
        "retryable": err.retryable,
        "unexpected": err.unexpected,
    }


# -- reading ----------------------------------------------------------------------------------


def check(ev: JournalEvent) -> EventKind:
    """The recorded event's kind; SchedulerError if it is not a well-formed event of it."""
    problem = event_problem(ev.type, ev.step, ev.attempt, ev.data)
    if problem is not None:
        raise SchedulerError(problem)
    return EventKind(ev.type)


def started_settings(ev: JournalEvent) -> tuple[int, bool]:
    """`(parallel, dry_run)` as the run's `run.started` event recorded them."""
    if check(ev) is not EventKind.RUN_STARTED:
        raise SchedulerError(f"a run begins with {EventKind.RUN_STARTED}, not {ev.type}")
    data = cast(RunStartedData, ev.data)
    if data["parallel"] < 1:
        raise SchedulerError(f"a run.started event's parallel {data['parallel']} is below 1")
    return data["parallel"], data["dry_run"]


def result_of(ev: JournalEvent) -> Event | None:
    """The scheduler event a recorded result stands for; None for other kinds.

    SchedulerError if the record is malformed, or if it is the run's first event again.
    """
    kind = check(ev)
    replay = KINDS[kind].replay
    if replay == "header":
        raise SchedulerError(f"a second {kind} event")
    if replay != "result":
        return None
    data: Any = ev.data
    step = cast(str, ev.step)
    if kind is EventKind.STEP_SUCCEEDED:
        return StepSucceeded(step=step, attempt=cast(int, ev.attempt), output=data["output"])
    if kind is EventKind.STEP_FAILED:
        return StepFailed(step=step, attempt=cast(int, ev.attempt), error=_step_error(data))
    if kind is EventKind.COMPENSATION_SUCCEEDED:
        return CompensationSucceeded(step=step)
    if kind is EventKind.COMPENSATION_FAILED:
        return CompensationFailed(step=step, error=_step_error(data))
    assert kind is EventKind.RUN_RESUMED, kind  # every result kind is decoded above
    if data["parallel"] < 1:
        raise SchedulerError(f"a run.resumed event's parallel {data['parallel']} is below 1")
    return Resumed(retry=tuple(data["retry"]), abort=data["abort"])


def is_command(ev: JournalEvent) -> bool:
    """Whether the (checked) record is a command of the scheduler's, compared on replay."""
    return KINDS[EventKind(ev.type)].replay == "command"


def _step_error(data: Mapping[str, Any]) -> StepError:
    err: ErrorData = data["error"]
    return StepError(
        kind=err["kind"],
        message=err["message"],
        retryable=err.get("retryable", True),
        unexpected=err.get("unexpected", False),
    )


def matches(cmd: Command, ev: JournalEvent) -> bool:
    """Whether the recorded command `ev` is `cmd` (a retry's delay is recorded apart)."""
    if isinstance(cmd, StartStep):
        return (
            ev.type == _STEP_STARTED
            and ev.step == cmd.step
            and ev.attempt == cmd.attempt
            and ev.data.get("args") == cmd.args
        )
    if isinstance(cmd, SkipStep):
        return ev.type == _STEP_SKIPPED and ev.step == cmd.step
    if isinstance(cmd, StartCompensation):
        return ev.type == _COMP_STARTED and ev.step == cmd.step
    if isinstance(cmd, PauseRun):
        return ev.type == _RUN_PAUSED and ev.step == cmd.step
    want = _RUN_SUCCEEDED if cmd.status == "succeeded" else _RUN_FAILED
    return ev.type == want and ev.data.get("status") == cmd.status


def describe_command(cmd: Command) -> str:
    if isinstance(cmd, StartStep):
        return f"start {cmd.step!r} (attempt {cmd.attempt})"
    if isinstance(cmd, SkipStep):
        return f"skip {cmd.step!r}"
    if isinstance(cmd, StartCompensation):
        return f"compensate {cmd.step!r}"
    if isinstance(cmd, PauseRun):
        return f"pause ({cmd.reason})"
    return f"finish {cmd.status}"


def describe_event(ev: JournalEvent) -> str:
    what = f"{ev.type}" + (f" {ev.step!r}" if ev.step else "")
    return what + (f" (attempt {ev.attempt})" if ev.attempt else "")


def finished_steps(events: Sequence[JournalEvent]) -> dict[str, Any]:
    """Steps the journal shows succeeded (with their output) or skipped (None)."""
    done: dict[str, Any] = {}
    for ev in events:
        if ev.step is not None and ev.type in (_STEP_SUCCEEDED, _STEP_SKIPPED):
            done[ev.step] = ev.data.get("output")
    return done
