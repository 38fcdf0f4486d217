"""The Temporal workflow: a plan interpreter driven by the engine's own scheduler.

`engine/_scheduler.py` decides, unchanged: events in, commands out. This module only
carries its commands out with Temporal's I/O (an activity per actor call, a durable timer
per retry delay, an update per human decision) and feeds the results back, exactly as the
local runner does with threads and SQLite. Every command and event is kept as a record
(`_protocol.encode`) that the starter reads with the `progress` query and journals.

Determinism: the scheduler is pure; the workflow waits with `workflow.wait` (ordered, not
asyncio's set-based wait) and handles results in the order the calls were made; it reads
no clock. tests/distributed replays recorded histories (`Replayer`) to keep it so.

Mapping of failure semantics (docs/distributed.md): an actor's error is raised as a
non-retryable ApplicationError carrying our StepError, and the scheduler decides retries
(its budget, its backoff as a workflow timer), so attempts and the journal match a local
run. Temporal's own retry covers what the actor never saw: a worker lost mid-call (missed
heartbeats) is retried on another worker with the same idempotency key, except for a
non-idempotent write, whose outcome is then unknown and which the scheduler pauses on.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from planactor.distributed._protocol import (
        ACTOR_ACTIVITY,
        COMPENSATION_ACTIVITY,
        PROGRESS_QUERY,
        RESUME_UPDATE,
        WORKFLOW_NAME,
        ActorCall,
        ActorResult,
        CompensationCall,
        Decision,
        Progress,
        RunInput,
        encode,
        spec_from,
        step_error,
        verify_decision,
    )
    from planactor.engine._scheduler import (
        Command,
        CompensationFailed,
        CompensationSucceeded,
        Event,
        FinishRun,
        PauseRun,
        Resumed,
        Scheduler,
        SkipStep,
        StartCompensation,
        StartStep,
        StepError,
        StepFailed,
        StepSpec,
        StepSucceeded,
    )
    from planactor.plan import Plan

__all__ = ["PlanWorkflow", "non_retryable_types"]

# Our error classes whose failure no retry can mend: Temporal must never retry them (the
# scheduler does not either). Actor errors are raised non-retryable anyway; the list states
# it in the activity options, where an operator reading the history looks.
_FINAL = ["UnexpectedState", "InvalidInput", "ReadOnlyViolation", "PreconditionFailed"]
# Calls without a timeout of their own: generous, a lost worker is caught by heartbeats.
_NO_TIMEOUT = timedelta(hours=24)
_INFRA_ATTEMPTS = 10


def non_retryable_types() -> list[str]:
    return list(_FINAL)


def _options(spec: StepSpec, heartbeat_s: float) -> dict[str, Any]:
    """Activity options for one call of an actor with this spec."""
    unsafe_twice = spec.effect == "write" and not spec.idempotent
    # A call with its own timeout reports the timeout to the scheduler (which retries or
    # pauses, as locally); so does a lost non-idempotent write (it may have applied).
    once = unsafe_twice or spec.timeout_s is not None
    return {
        "start_to_close_timeout": (
            timedelta(seconds=spec.timeout_s) if spec.timeout_s is not None else _NO_TIMEOUT
        ),
        "heartbeat_timeout": timedelta(seconds=heartbeat_s),
        "retry_policy": RetryPolicy(
            initial_interval=timedelta(milliseconds=200),
            maximum_attempts=1 if once else _INFRA_ATTEMPTS,
            non_retryable_error_types=_FINAL,
        ),
    }


def _failure(e: ActivityError) -> StepError:
    cause = e.cause
    if isinstance(cause, ApplicationError) and cause.details:
        detail = cause.details[0]
        if isinstance(detail, dict) and "kind" in detail:
            return step_error(detail)
    if isinstance(cause, TimeoutError):
        what = cause.type.name.lower() if cause.type is not None else "timeout"
        return StepError(kind="timeout", message=f"no answer in time ({what})")
    return StepError(kind=type(cause).__name__, message=str(cause or e))


@workflow.defn(name=WORKFLOW_NAME)
class PlanWorkflow:
    """One run of one plan. Its input holds the plan and its authorization."""

    def __init__(self) -> None:
        self._records: list[dict[str, Any]] = []
        self._status = "running"
        self._decisions: list[Decision] = []
        self._input: RunInput | None = None
        self._notes: dict[tuple[str, int], str] = {}
        self._step_ids: frozenset[str] = frozenset()

    @workflow.run
    async def run(self, inp: RunInput) -> str:
        self._input = inp
        plan = Plan.model_validate_json(inp.plan)
        if plan.hash != inp.plan_hash:
            # A run never executes a plan other than the one that was approved.
            raise ApplicationError(
                f"the plan's hash {plan.hash} is not the approved {inp.plan_hash}",
                non_retryable=True,
            )
        specs = {name: spec_from(doc) for name, doc in inp.specs.items()}
        sched = Scheduler(plan=plan, specs=specs, max_parallel=inp.parallel, dry_run=inp.dry_run)
        actors = {s.id: s.actor for s in plan.steps}
        self._step_ids = frozenset(actors)
        inflight: list[tuple[Command, asyncio.Task[Event]]] = []
        commands = sched.start()
        while True:
            for cmd in commands:
                self._records.append(encode(cmd))
                if isinstance(cmd, StartStep):
                    spec = sched.specs[actors[cmd.step]]
                    task = asyncio.ensure_future(self._step(inp, cmd, actors[cmd.step], spec))
                    inflight.append((cmd, task))
                elif isinstance(cmd, StartCompensation):
                    task = asyncio.ensure_future(self._compensate(inp, cmd, actors[cmd.step]))
                    inflight.append((cmd, task))
                elif isinstance(cmd, FinishRun):
                    self._status = cmd.status
                    return cmd.status
                elif isinstance(cmd, PauseRun):
                    commands = await self._paused(inp, sched)
                    break
                else:
                    assert isinstance(cmd, SkipStep)
            else:
                commands = []
                if not inflight:
                    raise ApplicationError("the scheduler waits on nothing", non_retryable=True)
                await workflow.wait([t for _, t in inflight], return_when=asyncio.FIRST_COMPLETED)
                # Every call that has finished, in the order the calls were made.
                still: list[tuple[Command, asyncio.Task[Event]]] = []
                for cmd, task in inflight:
                    if not task.done():
                        still.append((cmd, task))
                        continue
                    commands += self._result(sched, task.result())
                inflight = still

    def _result(self, sched: Scheduler, event: Event) -> list[Command]:
        note = (
            self._notes.pop((event.step, event.attempt), None)
            if isinstance(event, StepSucceeded) and self._notes
            else None
        )
        self._records.append(encode(event, note=note))
        return sched.handle(event)

    async def _paused(self, inp: RunInput, sched: Scheduler) -> list[Command]:
        self._status = "paused"
        await workflow.wait_condition(lambda: bool(self._decisions))
        decision = self._decisions.pop(0)
        self._status = "running"
        resumed = Resumed(retry=tuple(decision.retry), abort=decision.abort)
        self._records.append(
            {
                **encode(resumed),
                "parallel": inp.parallel,
                "identity": decision.identity,
                "authorization": decision.authorization,
            }
        )
        return sched.handle(resumed)

    # -- Temporal I/O -------------------------------------------------------------------------

    async def _step(self, inp: RunInput, cmd: StartStep, actor: str, spec: StepSpec) -> Event:
        if cmd.delay_s:
            await workflow.sleep(cmd.delay_s)  # a durable timer: a retry's backoff
        call = ActorCall(
            run_id=inp.run_id,
            step=cmd.step,
            actor=actor,
            attempt=cmd.attempt,
            args=cmd.args,
            dry_run=inp.dry_run,
            timeout_s=spec.timeout_s,
        )
        try:
            res = await workflow.execute_activity(
                ACTOR_ACTIVITY,
                call,
                result_type=ActorResult,
                summary=f"{cmd.step} ({actor}) #{cmd.attempt}",
                **_options(spec, inp.heartbeat_s),
            )
        except ActivityError as e:
            return StepFailed(step=cmd.step, attempt=cmd.attempt, error=_failure(e))
        ok = StepSucceeded(step=cmd.step, attempt=cmd.attempt, output=res.output)
        if res.note is not None:  # a dry run's write: what it would change
            self._notes[(cmd.step, cmd.attempt)] = res.note
        return ok

    async def _compensate(self, inp: RunInput, cmd: StartCompensation, actor: str) -> Event:
        call = CompensationCall(
            run_id=inp.run_id,
            step=cmd.step,
            actor=actor,
            compensate=cmd.actor,
            args=cmd.args,
            output=cmd.output,
        )
        assert self._input is not None
        spec = spec_from(self._input.specs[cmd.actor]) if cmd.actor in self._input.specs else None
        try:
            await workflow.execute_activity(
                COMPENSATION_ACTIVITY,
                call,
                summary=f"compensate {cmd.step} ({cmd.actor})",
                **_options(spec or StepSpec(effect="write", idempotent=True), inp.heartbeat_s),
            )
        except ActivityError as e:
            return CompensationFailed(step=cmd.step, error=_failure(e))
        return CompensationSucceeded(step=cmd.step)

    # -- messages -----------------------------------------------------------------------------

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self, since: int) -> Progress:
        return Progress(
            status=self._status, records=self._records[since:], total=len(self._records)
        )

    @workflow.update(name=RESUME_UPDATE)
    async def resume(self, decision: Decision) -> str:
        self._decisions.append(decision)
        # Answer once the run has taken the decision, so the caller reads on from there.
        await workflow.wait_condition(lambda: decision not in self._decisions)
        return "accepted"

    @resume.validator
    def _check_resume(self, decision: Decision) -> None:
        # Runs before the update is written to history: a refused decision leaves no trace.
        inp = self._input
        if inp is None:
            raise ApplicationError("the run has not started yet")
        if self._status != "paused":
            raise ApplicationError(f"the run is {self._status}, not paused: nothing to resume")
        problem = verify_decision(
            decision, run_id=inp.run_id, plan_hash=inp.plan_hash, trusted=inp.trusted
        )
        if problem is not None:
            raise ApplicationError(f"resume refused: {problem}", non_retryable=True)
        unknown = [s for s in decision.retry if s not in self._step_ids]
        if unknown:
            raise ApplicationError(f"--retry names no step of this run: {', '.join(unknown)}")
