"""The engine: the I/O shell around the pure scheduler.

It journals every command before carrying it out (a step's `step.started` event, with its
idempotency key, is committed before the actor is called), calls actors inline or on a
run's worker threads, enforces timeouts, and feeds results back to the scheduler. Results
drained together and the commands they lead to are committed in one transaction (group
commit); a journal in memory, which no crash leaves behind, commits in batches instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from planactor._errors import ActorError, JournalError, UnexpectedState
from planactor._speed import model_json, quick_init
from planactor.catalog import Actor, ActorContext, Catalog
from planactor.engine._scheduler import (
    Command,
    CompensationFailed,
    CompensationSucceeded,
    Event,
    FinishRun,
    PauseRun,
    Resumed,
    RunStatus,
    Scheduler,
    SkipStep,
    StartCompensation,
    StartStep,
    StepError,
    StepFailed,
    StepSpec,
    StepState,
    StepSucceeded,
)
from planactor.journal import Journal, JournalEvent
from planactor.plan import Plan, RetryPolicy, Step
from planactor.validate import ValidatedPlan, validate_plan

__all__ = [
    "Engine",
    "RecordedRun",
    "ReplayReport",
    "ResumeGate",
    "RunResult",
    "StepOutcome",
    "specs_for",
]

EXIT_FOR_STATUS: dict[str, int] = {
    "succeeded": 0,
    "failed": 1,
    "compensated": 1,
    "paused": 4,
    "running": 1,
}


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class StepOutcome:
    step: str
    state: StepState
    attempts: int
    output: dict[str, Any] | None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """How a run ended (or paused). `exit_code` follows docs/cli.md."""

    run_id: str
    status: RunStatus
    plan_hash: str
    dry_run: bool
    reason: str | None
    steps: dict[str, StepOutcome]
    commits: int = 0

    @property
    def exit_code(self) -> int:
        return EXIT_FOR_STATUS[self.status]

    def logical_record(self) -> dict[str, Any]:
        """What ran with which inputs and outputs: equal for sequential and parallel runs."""
        return {
            "status": self.status,
            "steps": {
                sid: {"state": o.state, "attempts": o.attempts, "output": o.output}
                for sid, o in sorted(self.steps.items())
            },
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedRun:
    """What a resume gate judges: the run as its verified journal records it."""

    run_id: str
    plan: Plan
    plan_hash: str
    started: Mapping[str, Any]  # the data of the run's `run.started` event
    done: Mapping[str, Any]  # finished steps (succeeded or skipped) -> recorded output
    abort: bool


ResumeGate = Callable[[RecordedRun], Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayReport:
    """Whether the scheduler, fed the recorded results, issues the recorded commands."""

    run_id: str
    ok: bool
    events: int
    plan_matches: bool = True
    first_divergence: int | None = None
    expected: str | None = None
    found: str | None = None
    note: str | None = None


def specs_for(catalog: Catalog, plan: Plan) -> dict[str, StepSpec]:
    """The scheduler's view of each actor the plan calls."""
    specs = {}
    for name in {s.actor for s in plan.steps}:
        a = catalog.get(name)
        specs[name] = StepSpec(
            effect=a.effect,
            idempotent=a.idempotent,
            compensate=a.compensate,
            retry=a.retry or RetryPolicy(),
            timeout_s=a.timeout_s,
        )
    return specs


@dataclass(slots=True)
class _Call:
    """An actor call in flight on a thread; `deadline` is a monotonic time or None."""

    step: str
    attempt: int
    compensation: bool
    deadline: float | None


class _Pool:
    """A run's worker threads for calls without a timeout: a hand-off per call, not a start.

    A thread is started only when no worker is free, up to `size` (the run's parallelism
    bounds the calls in flight), so a job never waits behind a busy worker. A call with a
    timeout gets a thread of its own instead: one that hangs past its deadline must not
    hold a worker the run still needs.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._free = 0  # workers done with their job and not yet promised another

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._free:
                self._free -= 1
                start = False
            else:
                start = self._threads < self._size
                self._threads += start
        if start:
            name = f"planactor-worker-{self._threads}"
            threading.Thread(target=self._work, name=name, daemon=True).start()
        self._jobs.put(job)

    def close(self) -> None:
        """Let the workers end once the jobs already submitted are done."""
        for _ in range(self._threads):
            self._jobs.put(None)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()
            with self._lock:
                self._free += 1


@dataclass(slots=True)
class _Run:
    run_id: str
    plan: Plan
    scheduler: Scheduler
    dry_run: bool
    parallel: int
    plan_hash: str
    notes: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    by_id: dict[str, Step] = field(default_factory=dict)
    pool: _Pool | None = None

    def __post_init__(self) -> None:
        self.by_id = {s.id: s for s in self.plan.steps}


class Engine:
    """Runs plans deterministically against a catalog, recording everything in a journal."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        journal: Journal,
        on_event: Callable[[str, str | None, Mapping[str, Any]], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        resources: Mapping[str, object] | None = None,
    ) -> None:
        """`resources`: what the actors may use, by name (`{"lab": Lab(path)}`); each call's
        `ActorContext.resource(name, type)` hands them out. Nothing reaches actors through
        process-global state, so engines in one process can drive different worlds."""
        from types import MappingProxyType  # local: keeps this edit to the constructor

        self.catalog = catalog
        self.journal = journal
        self._on_event = on_event
        self._sleep = sleep
        # One read-only view shared by every context: no copy per step.
        self._resources: Mapping[str, object] = MappingProxyType(dict(resources or {}))

    # -- entry points -------------------------------------------------------------------------

    def run(
        self,
        plan: ValidatedPlan | Plan,
        *,
        dry_run: bool = False,
        parallel: int = 1,
        run_id: str | None = None,
        authorization: Mapping[str, Any] | None = None,
    ) -> RunResult:
        """Run a validated plan to its end, or until it pauses.

        `plan` is what `validate_plan` or `load_plan` returned: the journal records the hash
        it carries, computed when the plan was validated, so the run is bound to the plan
        that was checked (and approved). A bare `Plan` is validated here first, against this
        engine's catalog; so is a validated plan whose catalog is another one.

        `authorization` (approvals and policy, see `planactor.policy.authorize`) is recorded
        in the run's first event, under the hash chain, for the audit.
        """
        if isinstance(plan, Plan):
            plan = validate_plan(plan, catalog=self.catalog)
        elif plan.catalog is not self.catalog:
            plan = validate_plan(plan.plan, catalog=self.catalog)
        if parallel < 1:
            raise ValueError("parallel must be at least 1")
        # The hash was computed once, by validation: a canonical serialisation of the plan.
        checked, plan_hash = plan.plan, plan.hash
        if len(checked.steps) != plan.report.step_count:  # cheap; catches a plan edited in place
            raise ValueError("the validated plan was changed after validation; validate it again")
        run_id = run_id or _new_run_id()
        sched = Scheduler(
            plan=checked,
            specs=specs_for(self.catalog, checked),
            max_parallel=parallel,
            dry_run=dry_run,
        )
        state = _Run(
            run_id=run_id,
            plan=checked,
            scheduler=sched,
            dry_run=dry_run,
            parallel=parallel,
            plan_hash=plan_hash,
        )
        self.journal.begin_run(
            run_id=run_id,
            plan=checked,
            dry_run=dry_run,
            plan_hash=plan_hash,
            data={
                "dry_run": dry_run,
                "parallel": parallel,
                "steps": len(checked.steps),
                **({"authorization": dict(authorization)} if authorization is not None else {}),
                # Planner metadata is outside the plan hash: chain it here for the audit.
                **(
                    {"planner": checked.planner.model_dump(mode="json")}
                    if checked.planner is not None
                    else {}
                ),
            },
        )
        self._emit("run.started", None, {"run_id": run_id, "plan_hash": plan_hash})
        return self._drive(state, sched.start())

    async def run_async(
        self,
        plan: ValidatedPlan | Plan,
        *,
        dry_run: bool = False,
        parallel: int = 1,
        run_id: str | None = None,
        authorization: Mapping[str, Any] | None = None,
    ) -> RunResult:
        """`run` without blocking the event loop (the engine itself runs on a thread)."""
        return await asyncio.to_thread(
            self.run,
            plan,
            dry_run=dry_run,
            parallel=parallel,
            run_id=run_id,
            authorization=authorization,
        )

    def resume(
        self,
        run_id: str,
        *,
        retry: Iterable[str] = (),
        abort: bool = False,
        parallel: int = 1,
        take_over: bool = False,
        gate: ResumeGate | None = None,
    ) -> RunResult:
        """Continue a paused or interrupted run from its journal.

        The run's lease is taken first (RunBusy if a live process drives it; `take_over`
        for one held on another host), so the record rebuilt below is one nobody else is
        extending. `gate`, given the verified record, raises to refuse the resume or
        returns the authorization to chain into the `run.resumed` event: the engine
        judges no signatures itself (`planactor resume` passes the policy's gate).
        """
        self.journal.claim(run_id, take_over=take_over)
        record = self.journal.run(run_id)
        if record.status in ("succeeded", "failed", "compensated"):
            raise JournalError(f"run {run_id} already ended ({record.status}); nothing to resume")
        chain = self.journal.verify(run_id)
        if not chain.ok:
            raise JournalError(
                f"run {run_id}: the journal fails verification at event #{chain.first_bad_seq} "
                f"({chain.reason}); refusing to resume a run whose record was altered"
            )
        events = self.journal.events(run_id)
        plan = record.plan
        stored_hash = plan.hash  # a canonical serialisation of the whole plan: once
        started_hash = events[0].data.get("plan_hash")
        if stored_hash != record.plan_hash or stored_hash != started_hash:
            raise JournalError(
                f"run {run_id}: the stored plan's hash {stored_hash} is not the one the run "
                f"started with ({started_hash}); a run never executes a different plan"
            )
        retry = tuple(retry)
        unknown = [r for r in retry if r not in {s.id for s in plan.steps}]
        if unknown:
            raise JournalError(f"--retry names no step of run {run_id}: {', '.join(unknown)}")
        # Rebuild with the parallelism the run had, not the one asked for now.
        sched = self._recorded_scheduler(plan, events[0])
        dry_run = sched.dry_run
        try:
            leftover = self._rebuild(sched, events)
        except _Divergence as d:
            raise JournalError(
                f"run {run_id}: the journal does not match what the engine decides at event "
                f"#{d.seq} (expected {d.expected}, found {d.found}); refusing to resume",
                hint="`planactor replay` shows the divergence; did the catalog change?",
            ) from None
        authorization = None
        if gate is not None:
            authorization = gate(
                RecordedRun(
                    run_id=run_id,
                    plan=plan,
                    plan_hash=record.plan_hash,
                    started=events[0].data,
                    done=_finished_steps(events),
                    abort=abort,
                )
            )
        state = _Run(
            run_id=run_id,
            plan=plan,
            scheduler=sched,
            dry_run=dry_run,
            parallel=parallel,
            plan_hash=record.plan_hash,
        )
        # Decisions computed before the interruption but never recorded carry no effect:
        # record them now, and withdraw starts that never reached an actor.
        pending: list[Command] = []
        for cmd in leftover:
            if isinstance(cmd, StartStep | StartCompensation):
                sched.withdraw(cmd)
            else:
                pending.append(cmd)
        if pending:
            finished = self._journal_commands(state, pending, [])
            if finished is not None:
                self.journal.flush()
                return self._result(state, finished)
        sched.max_parallel = parallel
        self.journal.append(
            run_id,
            "run.resumed",
            data={
                "retry": list(retry),
                "abort": abort,
                "parallel": parallel,
                **({"authorization": dict(authorization)} if authorization is not None else {}),
            },
        )
        self.journal.set_status(run_id, "running")
        self._emit("run.resumed", None, {"run_id": run_id})
        return self._drive(state, sched.handle(Resumed(retry=retry, abort=abort)))

    def replay(self, run_id: str, *, plan: ValidatedPlan | Plan | None = None) -> ReplayReport:
        """Feed the recorded results to a fresh scheduler and compare its commands.

        Given `plan`, also check that it is the plan this run executed.
        """
        record = self.journal.run(run_id)
        events = self.journal.events(run_id)
        stored = record.plan
        given_hash = None if plan is None else plan.hash
        plan_matches = given_hash is None or given_hash == record.plan_hash
        if stored.hash != events[0].data.get("plan_hash"):
            return ReplayReport(
                run_id=run_id,
                ok=False,
                events=len(events),
                first_divergence=0,
                note="the stored plan's hash is not the one the run started with",
            )
        sched = self._recorded_scheduler(stored, events[0])
        try:
            leftover = self._rebuild(sched, events)
        except _Divergence as d:
            return ReplayReport(
                run_id=run_id,
                ok=False,
                events=len(events),
                plan_matches=plan_matches,
                first_divergence=d.seq,
                expected=d.expected,
                found=d.found,
            )
        note = None
        if not plan_matches:
            note = (
                f"the plan given ({given_hash}) is not the plan this run "
                f"executed ({record.plan_hash})"
            )
        elif leftover:
            note = f"the run was interrupted; next: {_describe(leftover[0])}"
        return ReplayReport(
            run_id=run_id, ok=plan_matches, events=len(events), plan_matches=plan_matches, note=note
        )

    # -- rebuilding from the journal ----------------------------------------------------------

    def _recorded_scheduler(self, plan: Plan, started: JournalEvent) -> Scheduler:
        """A fresh scheduler set up as the run's `run.started` event recorded it."""
        return Scheduler(
            plan=plan,
            specs=specs_for(self.catalog, plan),
            max_parallel=int(started.data.get("parallel", 1)),
            dry_run=bool(started.data.get("dry_run", False)),
        )

    def _rebuild(self, sched: Scheduler, events: list[JournalEvent]) -> list[Command]:
        """Feed recorded results to `sched`, checking each recorded command against it.

        Returns the commands the scheduler issued that the journal does not show yet.
        """
        expected: deque[Command] = deque(sched.start())
        for ev in events[1:]:
            try:
                feed = _event_from_journal(ev)
                if isinstance(feed, Resumed):
                    # As `resume` did: starts decided but never recorded were withdrawn, and
                    # the run went on with the parallelism asked for then.
                    while expected:
                        cmd = expected.popleft()
                        if not isinstance(cmd, StartStep | StartCompensation):
                            raise _Divergence(ev.seq, _describe(cmd), _describe_event(ev))
                        sched.withdraw(cmd)
                    sched.max_parallel = int(ev.data.get("parallel", sched.max_parallel))
                if feed is not None:
                    expected.extend(sched.handle(feed))
                    continue
            except (AssertionError, KeyError, TypeError, ValueError) as e:
                # A result the run could not have produced here (e.g. of a step not running).
                found = _describe_event(ev)
                raise _Divergence(ev.seq, f"an event the run can produce ({e})", found) from None
            if ev.type == "step.retrying":
                continue  # informational: the start that follows is what is compared
            if not expected:
                raise _Divergence(ev.seq, "nothing", _describe_event(ev))
            cmd = expected.popleft()
            if not _matches(cmd, ev):
                raise _Divergence(ev.seq, _describe(cmd), _describe_event(ev))
        return list(expected)

    # -- the loop -----------------------------------------------------------------------------

    def _drive(self, state: _Run, commands: list[Command]) -> RunResult:
        if state.parallel > 1:
            state.pool = _Pool(state.parallel)
        try:
            return self._loop(state, commands)
        finally:
            if state.pool is not None:
                state.pool.close()

    def _loop(self, state: _Run, commands: list[Command]) -> RunResult:
        results: queue.SimpleQueue[tuple[_Call, Event]] = queue.SimpleQueue()
        inflight: dict[tuple[str, int, bool], _Call] = {}
        while True:
            launches: list[StartStep | StartCompensation] = []
            finished = self._journal_commands(state, commands, launches)
            if finished is not None:
                self.journal.flush()  # the whole run is in the database when run() returns
                return self._result(state, finished)
            self.journal.make_durable()  # group commit: every start durable before its call
            commands = []
            for cmd in launches:
                event = self._launch(state, cmd, inflight, results)
                if event is not None:  # ran inline
                    commands += self._record_result(state, event)
            if commands:
                continue
            if not inflight:
                raise RuntimeError("the scheduler is waiting on nothing")  # a bug, not input
            for _, event in self._wait(inflight, results):
                commands += self._record_result(state, event)

    def _journal_commands(
        self, state: _Run, commands: list[Command], launches: list[StartStep | StartCompensation]
    ) -> PauseRun | FinishRun | None:
        run_id = state.run_id
        end: PauseRun | FinishRun | None = None
        for cmd in commands:
            if isinstance(cmd, StartStep):
                if cmd.attempt > 1:
                    self.journal.append(
                        run_id,
                        "step.retrying",
                        step=cmd.step,
                        attempt=cmd.attempt,
                        data={"delay_s": cmd.delay_s},
                    )
                self.journal.append(
                    run_id,
                    "step.started",
                    step=cmd.step,
                    attempt=cmd.attempt,
                    data={"args": cmd.args, "idempotency_key": f"{run_id}/{cmd.step}"},
                )
                if self._on_event is not None:  # the hot path: no dict for nobody
                    self._on_event("step.started", cmd.step, {"attempt": cmd.attempt})
                launches.append(cmd)
            elif isinstance(cmd, SkipStep):
                self.journal.append(
                    run_id, "step.skipped", step=cmd.step, data={"reason": cmd.reason}
                )
                state.notes[cmd.step] = cmd.reason
                self._emit("step.skipped", cmd.step, {"reason": cmd.reason})
            elif isinstance(cmd, StartCompensation):
                self.journal.append(
                    run_id, "compensation.started", step=cmd.step, data={"actor": cmd.actor}
                )
                self._emit("compensation.started", cmd.step, {"actor": cmd.actor})
                launches.append(cmd)
            elif isinstance(cmd, PauseRun):
                self.journal.append(
                    run_id, "run.paused", step=cmd.step, data={"reason": cmd.reason}
                )
                self.journal.set_status(run_id, "paused")
                state.reason = cmd.reason
                self._emit("run.paused", cmd.step, {"reason": cmd.reason})
                end = cmd
            else:
                kind = "run.succeeded" if cmd.status == "succeeded" else "run.failed"
                self.journal.append(run_id, kind, data={"status": cmd.status, "reason": cmd.reason})
                self.journal.set_status(run_id, cmd.status)
                state.reason = cmd.reason
                self._emit(kind, None, {"status": cmd.status, "reason": cmd.reason})
                end = cmd
        return end

    def _record_result(self, state: _Run, event: Event) -> list[Command]:
        run_id = state.run_id
        if isinstance(event, StepSucceeded):
            data: dict[str, Any] = {"output": event.output}
            if event.step in state.notes:
                data["note"] = state.notes[event.step]
            self.journal.append(
                run_id, "step.succeeded", step=event.step, attempt=event.attempt, data=data
            )
            if self._on_event is not None:  # the hot path: not even a call for nobody
                self._on_event("step.succeeded", event.step, data)
        elif isinstance(event, StepFailed):
            err = _error_doc(event.error)
            self.journal.append(
                run_id, "step.failed", step=event.step, attempt=event.attempt, data={"error": err}
            )
            self._emit("step.failed", event.step, {"error": err})
        elif isinstance(event, CompensationSucceeded):
            self.journal.append(run_id, "compensation.succeeded", step=event.step)
            self._emit("compensation.succeeded", event.step, {})
        elif isinstance(event, CompensationFailed):
            err = _error_doc(event.error)
            self.journal.append(run_id, "compensation.failed", step=event.step, data={"error": err})
            self._emit("compensation.failed", event.step, {"error": err})
        return state.scheduler.handle(event)

    # -- calling actors -----------------------------------------------------------------------

    def _launch(
        self,
        state: _Run,
        cmd: StartStep | StartCompensation,
        inflight: dict[tuple[str, int, bool], _Call],
        results: queue.SimpleQueue[tuple[_Call, Event]],
    ) -> Event | None:
        step = state.by_id[cmd.step]
        actor = self.catalog.get(step.actor)
        timeout = step.timeout_s or actor.timeout_s
        if state.parallel == 1 and timeout is None:
            return self._work(state, actor, cmd)  # the common case: no thread hand-off at all
        compensation = isinstance(cmd, StartCompensation)
        attempt = cmd.attempt if isinstance(cmd, StartStep) else 1
        delay = cmd.delay_s if isinstance(cmd, StartStep) else 0.0
        call = _Call(
            step=cmd.step,
            attempt=attempt,
            compensation=compensation,
            deadline=None if timeout is None else time.monotonic() + delay + timeout,
        )
        inflight[(cmd.step, attempt, compensation)] = call

        def job() -> None:
            results.put((call, self._work(state, actor, cmd)))

        if timeout is None and state.pool is not None:
            state.pool.submit(job)
        else:
            threading.Thread(target=job, name=f"planactor-{cmd.step}", daemon=True).start()
        return None

    def _work(self, state: _Run, actor: Actor, cmd: StartStep | StartCompensation) -> Event:
        if isinstance(cmd, StartCompensation):
            return self._compensate(state, actor, cmd)
        if cmd.delay_s:
            self._sleep(cmd.delay_s)
        return self._call(state, actor, cmd)

    def _wait(
        self,
        inflight: dict[tuple[str, int, bool], _Call],
        results: queue.SimpleQueue[tuple[_Call, Event]],
    ) -> list[tuple[_Call, Event]]:
        """At least one finished (or timed-out) call, plus any others already finished."""
        out: list[tuple[_Call, Event]] = []
        while not out:
            deadlines = [c.deadline for c in inflight.values() if c.deadline is not None]
            wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            with contextlib.suppress(queue.Empty):
                out.append(results.get(timeout=wait))
            while True:  # drain what else has finished: committed together
                try:
                    out.append(results.get_nowait())
                except queue.Empty:
                    break
            # Results of calls already given up on (timed out) are dropped.
            out = [(c, e) for c, e in out if inflight.get(_key(c)) is c]
            for c, _ in out:
                del inflight[_key(c)]
            now = time.monotonic()
            for c in [c for c in inflight.values() if c.deadline is not None and c.deadline <= now]:
                del inflight[_key(c)]
                err = StepError(kind="timeout", message="timed out", retryable=True)
                ev: Event = (
                    CompensationFailed(step=c.step, error=err)
                    if c.compensation
                    else StepFailed(step=c.step, attempt=c.attempt, error=err)
                )
                out.append((c, ev))
        return out

    def _context(self, state: _Run, step_id: str, attempt: int, suffix: str = "") -> ActorContext:
        return ActorContext(
            run_id=state.run_id,
            step_id=step_id,
            idempotency_key=f"{state.run_id}/{step_id}{suffix}",
            dry_run=state.dry_run,
            attempt=attempt,
            resources=self._resources,
        )

    def _call(self, state: _Run, actor: Actor, cmd: StartStep) -> Event:
        ctx = self._context(state, cmd.step, cmd.attempt)
        try:
            if state.dry_run and actor.effect == "write":
                inp = actor.parse_input(cmd.args)
                if actor.check is None:
                    state.notes[cmd.step] = "not simulated: the actor has no check"
                else:
                    found = actor.check(inp, ctx)
                    shown = found.model_dump(mode="json") if isinstance(found, BaseModel) else found
                    state.notes[cmd.step] = f"would change: {shown}"
                return StepSucceeded(step=cmd.step, attempt=cmd.attempt, output=None)
            out = actor.call(cmd.args, ctx)
            return StepSucceeded(step=cmd.step, attempt=cmd.attempt, output=model_json(out))
        except Exception as e:
            return StepFailed(step=cmd.step, attempt=cmd.attempt, error=_step_error(e))

    def _compensate(self, state: _Run, actor: Actor, cmd: StartCompensation) -> Event:
        ctx = self._context(state, cmd.step, 1, "/compensate")
        try:
            comp = self.catalog.get(cmd.actor)
            inp = actor.compensation_input(
                comp, actor.parse_input(cmd.args), actor.output_model.model_validate(cmd.output)
            )
            comp.call(inp, ctx)
            return CompensationSucceeded(step=cmd.step)
        except Exception as e:
            return CompensationFailed(step=cmd.step, error=_step_error(e))

    # -- results ------------------------------------------------------------------------------

    def _result(self, state: _Run, end: PauseRun | FinishRun) -> RunResult:
        sched = state.scheduler
        notes = state.notes
        steps = {
            sid: StepOutcome(
                step=sid, state=st, attempts=attempts, output=output, note=notes.get(sid)
            )
            for sid, st, attempts, output in sched.outcomes()
        }
        return RunResult(
            run_id=state.run_id,
            status=sched.status,
            plan_hash=state.plan_hash,
            dry_run=state.dry_run,
            reason=end.reason,
            steps=steps,
            commits=self.journal.commits,
        )

    def _emit(self, kind: str, step: str | None, data: Mapping[str, Any]) -> None:
        if self._on_event is not None:
            self._on_event(kind, step, data)


# -- helpers ----------------------------------------------------------------------------------


class _Divergence(Exception):
    def __init__(self, seq: int, expected: str, found: str) -> None:
        super().__init__(f"event #{seq}: expected {expected}, found {found}")
        self.seq, self.expected, self.found = seq, expected, found


def _finished_steps(events: list[JournalEvent]) -> dict[str, Any]:
    """Steps the journal shows succeeded (with their output) or skipped (None)."""
    done: dict[str, Any] = {}
    for ev in events:
        if ev.step is not None and ev.type in ("step.succeeded", "step.skipped"):
            done[ev.step] = ev.data.get("output")
    return done


def _key(c: _Call) -> tuple[str, int, bool]:
    return (c.step, c.attempt, c.compensation)


def _new_run_id() -> str:
    return "run-" + uuid.uuid4().hex[:12]


def _step_error(e: Exception) -> StepError:
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


def _error_doc(err: StepError) -> dict[str, Any]:
    return {
        "kind": err.kind,
        "message": err.message,
        "retryable": err.retryable,
        "unexpected": err.unexpected,
    }


def _event_from_journal(ev: JournalEvent) -> Event | None:
    """The scheduler input a recorded result stands for; None for recorded commands."""
    if ev.type == "step.succeeded":
        assert ev.step is not None
        assert ev.attempt is not None
        return StepSucceeded(step=ev.step, attempt=ev.attempt, output=ev.data.get("output"))
    if ev.type == "step.failed":
        assert ev.step is not None
        assert ev.attempt is not None
        return StepFailed(step=ev.step, attempt=ev.attempt, error=StepError(**ev.data["error"]))
    if ev.type == "compensation.succeeded":
        assert ev.step is not None
        return CompensationSucceeded(step=ev.step)
    if ev.type == "compensation.failed":
        assert ev.step is not None
        return CompensationFailed(step=ev.step, error=StepError(**ev.data["error"]))
    if ev.type == "run.resumed":
        return Resumed(retry=tuple(ev.data.get("retry", ())), abort=bool(ev.data.get("abort")))
    return None


def _matches(cmd: Command, ev: JournalEvent) -> bool:
    if isinstance(cmd, StartStep):
        return (
            ev.type == "step.started"
            and ev.step == cmd.step
            and ev.attempt == cmd.attempt
            and ev.data.get("args") == cmd.args
        )
    if isinstance(cmd, SkipStep):
        return ev.type == "step.skipped" and ev.step == cmd.step
    if isinstance(cmd, StartCompensation):
        return ev.type == "compensation.started" and ev.step == cmd.step
    if isinstance(cmd, PauseRun):
        return ev.type == "run.paused" and ev.step == cmd.step
    want = "run.succeeded" if cmd.status == "succeeded" else "run.failed"
    return ev.type == want and ev.data.get("status") == cmd.status


def _describe(cmd: Command) -> str:
    if isinstance(cmd, StartStep):
        return f"start {cmd.step!r} (attempt {cmd.attempt})"
    if isinstance(cmd, SkipStep):
        return f"skip {cmd.step!r}"
    if isinstance(cmd, StartCompensation):
        return f"compensate {cmd.step!r}"
    if isinstance(cmd, PauseRun):
        return f"pause ({cmd.reason})"
    return f"finish {cmd.status}"


def _describe_event(ev: JournalEvent) -> str:
    what = f"{ev.type}" + (f" {ev.step!r}" if ev.step else "")
    return what + (f" (attempt {ev.attempt})" if ev.attempt else "")
