"""One run's loop: journal the scheduler's commands, call the actors, feed back the results.

Every command is journaled before it is carried out (a step's `step.started` event, with
its idempotency key, is durable before the actor is called). Actors run inline in a
sequential run without timeouts, else on the run's workers (`_pool`). Results drained
together and the commands they lead to are committed in one transaction (group commit); a
journal in memory, which no crash leaves behind, commits in batches instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from planactor._errors import ActorError, UnexpectedState
from planactor._speed import model_json
from planactor.catalog import Actor, ActorContext, Catalog
from planactor.engine._codec import append_command, append_result
from planactor.engine._pool import Call, CallKey, Outcome, Pool, Results, wait
from planactor.engine._results import RunResult, StepOutcome
from planactor.engine._scheduler import (
    Command,
    CompensationFailed,
    CompensationSucceeded,
    FinishRun,
    PauseRun,
    Scheduler,
    SkipStep,
    StartCompensation,
    StartStep,
    StepError,
    StepFailed,
    StepSucceeded,
)
from planactor.journal import EventKind, Journal
from planactor.plan import Plan

__all__ = ["OnEvent", "Runner"]

# Told of each event once it is journaled: (kind, step or None, its data). A `step.started`
# event brings `{"attempt": n}` instead of its recorded arguments.
OnEvent = Callable[[EventKind, str | None, Mapping[str, Any]], None]

_STEP_STARTED = EventKind.STEP_STARTED
_STEP_SUCCEEDED = EventKind.STEP_SUCCEEDED
_LLM_CALL = EventKind.LLM_CALL.value


class Runner:
    """The I/O shell around one run's scheduler, from its first commands to its end."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        journal: Journal,
        on_event: OnEvent | None,
        sleep: Callable[[float], None],
        resources: Mapping[str, object],
        run_id: str,
        plan: Plan,
        plan_hash: str,
        scheduler: Scheduler,
        parallel: int,
        read_only: bool = False,
    ) -> None:
        self.catalog = catalog
        self.journal = journal
        self._on_event = on_event
        self._sleep = sleep
        self._resources = resources
        self.run_id = run_id
        self.plan = plan
        self.plan_hash = plan_hash
        self.scheduler = scheduler
        self.dry_run = scheduler.dry_run
        self.parallel = parallel
        self.read_only = read_only
        self.notes: dict[str, str] = {}
        # LLM skill calls by (step, attempt), journaled (`step.llm_call`) before the step's result.
        self._llm_calls: dict[tuple[str, int], Mapping[str, Any]] = {}
        self._llm_log = self._log_llm_call  # bound once: no new method object per step
        self.by_id = {s.id: s for s in plan.steps}
        self._pool: Pool | None = None

    # -- the loop -----------------------------------------------------------------------------

    def drive(self, commands: list[Command]) -> RunResult:
        """Carry out `commands` and everything they lead to, until the run ends or pauses."""
        if self.parallel > 1:
            self._pool = Pool(self.parallel)
        try:
            return self._loop(commands)
        finally:
            if self._pool is not None:
                self._pool.close()

    def _loop(self, commands: list[Command]) -> RunResult:
        results: Results = Results()
        inflight: dict[CallKey, Call] = {}
        while True:
            launches: list[StartStep | StartCompensation] = []
            finished = self.journal_commands(commands, launches)
            if finished is not None:
                self.journal.flush()  # the whole run is in the database when run() returns
                return self.result(finished)
            self.journal.make_durable()  # group commit: every start durable before its call
            commands = []
            for cmd in launches:
                event = self._launch(cmd, inflight, results)
                if event is not None:  # ran inline
                    commands += self._record_result(event)
            if commands:
                continue
            if not inflight:
                raise RuntimeError("the scheduler is waiting on nothing")  # a bug, not input
            for _, event in wait(inflight, results):
                commands += self._record_result(event)

    def journal_commands(
        self, commands: list[Command], launches: list[StartStep | StartCompensation]
    ) -> PauseRun | FinishRun | None:
        """Journal each command; collect the starts to launch; the end, if one was decided."""
        journal, run_id, on_event = self.journal, self.run_id, self._on_event
        end: PauseRun | FinishRun | None = None
        for cmd in commands:
            kind, data = append_command(journal, run_id, cmd)
            if isinstance(cmd, StartStep):
                launches.append(cmd)
                if on_event is not None:  # the hot path: no dict for nobody
                    on_event(_STEP_STARTED, cmd.step, {"attempt": cmd.attempt})
                continue
            step: str | None = None
            if isinstance(cmd, StartCompensation):
                launches.append(cmd)
                step = cmd.step
            elif isinstance(cmd, SkipStep):
                self.notes[cmd.step] = cmd.reason
                step = cmd.step
            elif isinstance(cmd, PauseRun):
                journal.set_status(run_id, "paused")
                end, step = cmd, cmd.step
            else:
                journal.set_status(run_id, cmd.status)
                end = cmd
            if on_event is not None:
                on_event(kind, step, data)
        return end

    def _record_result(self, event: Outcome) -> list[Command]:
        if self._llm_calls and isinstance(event, StepSucceeded | StepFailed):
            call = self._llm_calls.pop((event.step, event.attempt), None)
            if call is not None:
                self.journal.append(
                    self.run_id,
                    _LLM_CALL,
                    step=event.step,
                    attempt=event.attempt,
                    data=call,
                )
        notes = self.notes  # empty unless a dry run or a skip wrote one: no lookup then
        note = notes.get(event.step) if notes and type(event) is StepSucceeded else None
        kind, data = append_result(self.journal, self.run_id, event, note)
        if self._on_event is not None:  # the hot path: not even a call for nobody
            self._on_event(kind, event.step, data)
        return self.scheduler.handle(event)

    # -- calling actors -----------------------------------------------------------------------

    def _launch(
        self,
        cmd: StartStep | StartCompensation,
        inflight: dict[CallKey, Call],
        results: Results,
    ) -> Outcome | None:
        step = self.by_id[cmd.step]
        actor = self.catalog.get(step.actor)
        timeout = step.timeout_s or actor.timeout_s
        if self.parallel == 1 and timeout is None:
            return self._work(actor, cmd)  # the common case: no thread hand-off at all
        compensation = isinstance(cmd, StartCompensation)
        attempt = cmd.attempt if isinstance(cmd, StartStep) else 1
        delay = cmd.delay_s if isinstance(cmd, StartStep) else 0.0
        call = Call(
            step=cmd.step,
            attempt=attempt,
            compensation=compensation,
            deadline=None if timeout is None else time.monotonic() + delay + timeout,
        )
        inflight[call.key] = call

        def job() -> None:
            results.put((call, self._work(actor, cmd)))

        if timeout is None and self._pool is not None:
            self._pool.submit(job)
        else:
            threading.Thread(target=job, name=f"planactor-{cmd.step}", daemon=True).start()
        return None

    def _work(self, actor: Actor, cmd: StartStep | StartCompensation) -> Outcome:
        if isinstance(cmd, StartCompensation):
            return self._compensate(actor, cmd)
        if cmd.delay_s:
            self._sleep(cmd.delay_s)
        return self._call(actor, cmd)

    def _context(self, step_id: str, attempt: int, suffix: str = "") -> ActorContext:
        return ActorContext(
            run_id=self.run_id,
            step_id=step_id,
            idempotency_key=f"{self.run_id}/{step_id}{suffix}",  # as _codec.idempotency_key
            dry_run=self.dry_run,
            attempt=attempt,
            resources=self._resources,
            llm_log=None if suffix else self._llm_log,
        )

    def _log_llm_call(self, ctx: ActorContext, call: Mapping[str, Any]) -> None:
        # Possibly on a worker thread: one dict assignment, journaled by the run's thread.
        self._llm_calls[(ctx.step_id, ctx.attempt)] = dict(call)

    def _call(self, actor: Actor, cmd: StartStep) -> Outcome:
        if self.read_only and actor.effect != "read":
            # Defence in depth: whatever chose this step, a read-only run never calls a write.
            return StepFailed(
                step=cmd.step,
                attempt=cmd.attempt,
                error=StepError(
                    kind="ReadOnlyViolation",
                    message=f"refused: {actor.name} is a {actor.effect} actor and this run "
                    "is read-only; it was not called",
                    retryable=False,
                ),
            )
        ctx = self._context(cmd.step, cmd.attempt)
        try:
            if self.dry_run and actor.effect == "write":
                inp = actor.parse_input(cmd.args)
                if actor.check is None:
                    self.notes[cmd.step] = "not simulated: the actor has no check"
                else:
                    found = actor.check(inp, ctx)
                    shown = found.model_dump(mode="json") if isinstance(found, BaseModel) else found
                    self.notes[cmd.step] = f"would change: {shown}"
                return StepSucceeded(step=cmd.step, attempt=cmd.attempt, output=None)
            out = actor.call(cmd.args, ctx)
            return StepSucceeded(step=cmd.step, attempt=cmd.attempt, output=model_json(out))
        except Exception as e:
            return StepFailed(step=cmd.step, attempt=cmd.attempt, error=step_error(e))

    def _compensate(self, actor: Actor, cmd: StartCompensation) -> Outcome:
        ctx = self._context(cmd.step, 1, "/compensate")
        try:
            comp = self.catalog.get(cmd.actor)
            inp = actor.compensation_input(
                comp, actor.parse_input(cmd.args), actor.output_model.model_validate(cmd.output)
            )
            comp.call(inp, ctx)
            return CompensationSucceeded(step=cmd.step)
        except Exception as e:
            return CompensationFailed(step=cmd.step, error=step_error(e))

    # -- the end ------------------------------------------------------------------------------

    def result(self, end: PauseRun | FinishRun) -> RunResult:
        sched = self.scheduler
        notes = self.notes
        steps = {
            sid: StepOutcome(
                step=sid, state=st, attempts=attempts, output=output, note=notes.get(sid)
            )
            for sid, st, attempts, output in sched.outcomes()
        }
        return RunResult(
            run_id=self.run_id,
            status=sched.status,
            plan_hash=self.plan_hash,
            dry_run=self.dry_run,
            reason=end.reason,
            steps=steps,
            commits=self.journal.commits,
        )


def step_error(e: Exception) -> StepError:
    """How an actor's exception is recorded and judged (retryable, unexpected state)."""
    if isinstance(e, ActorError):
        return StepError(
            kind=type(e).__name__,
            message=e.message,
            retryable=e.retryable,
            unexpected=isinstance(e, UnexpectedState),
        )
    if isinstance(e, ValidationError):  # arguments that resolved to the wrong shape at run time
        return StepError(kind="InvalidInput", message=str(e).splitlines()[0], retryable=False)
    return StepError(kind=type(e).__name__, message=str(e) or type(e).__name__)
