"""The scheduler: a pure state machine that decides what a run does next.

It does no I/O, reads no clock and starts no thread (like h11): the runner feeds it events
(a step succeeded, failed, a compensation finished, a person decided) and carries out the
commands it returns (start a step, skip one, compensate one, pause, finish). The same
events in the same order always give the same commands, which is what replay checks.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from planactor._speed import quick_init
from planactor.plan import OutputRef, Plan, RetryPolicy, Step, iter_references
from planactor.plan import resolve as resolve_refs

__all__ = [
    "Command",
    "CompensationFailed",
    "CompensationSucceeded",
    "Event",
    "FinishRun",
    "PauseRun",
    "Resumed",
    "RunStatus",
    "Scheduler",
    "SchedulerError",
    "SkipStep",
    "StartCompensation",
    "StartStep",
    "StepError",
    "StepFailed",
    "StepSpec",
    "StepState",
    "StepSucceeded",
]


class SchedulerError(Exception):
    """An event the run could not have produced at this point (h11's protocol error).

    A result of a step that is not running or of another attempt, a compensation that is
    not under way, a resume of a run that ended: `Scheduler.handle` raises this and leaves
    its state as it was. The engine's codec raises it too, for a journal record that is not
    a well-formed event. Replaying a journal, it means the journal diverges from what the
    engine decides.
    """


RunStatus = Literal["running", "paused", "succeeded", "failed", "compensated"]
StepState = Literal[
    "pending", "running", "succeeded", "failed", "skipped", "compensated", "unknown"
]


@dataclass(frozen=True, slots=True, kw_only=True)
class StepSpec:
    """What the scheduler must know about the actor a step calls (plain data)."""

    effect: Literal["read", "write"]
    idempotent: bool
    compensate: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float | None = None


# -- commands (scheduler -> runner) -----------------------------------------------------------


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class StartStep:
    step: str
    attempt: int
    args: dict[str, Any]
    delay_s: float = 0.0


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SkipStep:
    step: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StartCompensation:
    step: str
    actor: str
    args: dict[str, Any]
    output: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class PauseRun:
    reason: str
    step: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FinishRun:
    status: Literal["succeeded", "failed", "compensated"]
    reason: str | None = None


Command = StartStep | SkipStep | StartCompensation | PauseRun | FinishRun


# -- events (runner -> scheduler) -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StepError:
    """Why an attempt failed. `kind` is the error class name, or `timeout`."""

    kind: str
    message: str
    retryable: bool = True
    unexpected: bool = False  # UnexpectedState or a failed precondition: pause, never retry


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class StepSucceeded:
    step: str
    attempt: int
    output: dict[str, Any] | None  # None: a dry run did not produce a real output


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class StepFailed:
    step: str
    attempt: int
    error: StepError


@dataclass(frozen=True, slots=True, kw_only=True)
class CompensationSucceeded:
    step: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CompensationFailed:
    step: str
    error: StepError


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumed:
    """A person (or the recovery agent) continues a paused or interrupted run.

    `retry` names steps whose outcome is unknown and which it is safe to run again;
    `abort` compensates the completed writes and ends the run instead.
    """

    retry: tuple[str, ...] = ()
    abort: bool = False


Event = StepSucceeded | StepFailed | CompensationSucceeded | CompensationFailed | Resumed


@dataclass(slots=True)
class _Step:
    step: Step
    spec: StepSpec
    index: int
    deps: tuple[str, ...]
    # Steps whose *output* this one reads (a skipped one makes this step skip too).
    reads: frozenset[str]
    # The args hold no reference (no container, no `$` key): resolving them is a copy.
    plain: bool = False
    state: StepState = "pending"
    waiting: int = 0  # dependencies not yet settled
    attempt: int = 0
    base: int = 0  # attempts made before the current retry budget began (a resume resets it)
    args: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    error: StepError | None = None


@dataclass(slots=True)
class Scheduler:
    """One run's decisions. Build it, call `start()`, then `handle(event)` for each event."""

    plan: Plan
    specs: Mapping[str, StepSpec]
    max_parallel: int = 1
    dry_run: bool = False
    status: RunStatus = "running"
    _steps: dict[str, _Step] = field(default_factory=dict)
    _order: list[str] = field(default_factory=list)
    _running: set[str] = field(default_factory=set)
    _mode: Literal["normal", "pausing", "compensating"] = "normal"
    _pause: PauseRun | None = None
    # None until the steps in flight have drained: only then is it known what succeeded.
    _to_compensate: list[str] | None = None
    _compensating: str | None = None
    _uncompensated: list[str] = field(default_factory=list)
    _failure: str | None = None
    # The steps whose failure paused the run: each gets a fresh retry budget on resume.
    _paused_on: set[str] = field(default_factory=set)
    # Incremental bookkeeping, so each event costs O(its step's edges), not O(plan size).
    _dependents: dict[str, list[str]] = field(default_factory=dict)
    _ready: list[int] = field(default_factory=list)  # heap of plan positions
    _outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_parallel < 1:
            raise ValueError("max_parallel must be at least 1")
        for i, step in enumerate(self.plan.steps):
            plain = _plain(step.args)
            refs = (
                ()
                if plain
                else tuple(r.step for r in iter_references(step.args) if isinstance(r, OutputRef))
            )
            when = (step.when.ref.split(".", 1)[0],) if step.when and step.when.ref else ()
            base = self.specs[step.actor]
            self._steps[step.id] = _Step(
                step=step,
                # The step's own retry policy and timeout override the actor's defaults.
                spec=base
                if step.retry is None and step.timeout_s is None
                else replace(
                    base,
                    retry=step.retry or base.retry,
                    timeout_s=step.timeout_s or base.timeout_s,
                ),
                index=i,
                # As `plan.dependencies(step)`, sharing its walk over the args.
                deps=tuple(dict.fromkeys((*step.after, *refs, *when))),
                reads=frozenset((*refs, *when)),
                plain=plain,
            )
            self._order.append(step.id)
        for sid, st in self._steps.items():
            st.waiting = len(st.deps)
            for dep in st.deps:
                self._dependents.setdefault(dep, []).append(sid)
            if not st.deps:
                heapq.heappush(self._ready, st.index)

    # -- public API ---------------------------------------------------------------------------

    def start(self) -> list[Command]:
        return self._advance()

    def handle(self, event: Event) -> list[Command]:
        if isinstance(event, StepSucceeded):
            s = self._running_step(event.step, event.attempt)
            s.state, s.output, s.error = "succeeded", event.output, None
            if event.output is not None:
                self._outputs[event.step] = event.output
            self._settled(s)
        elif isinstance(event, StepFailed):
            return self._failed(self._running_step(event.step, event.attempt), event)
        elif isinstance(event, CompensationSucceeded | CompensationFailed):
            if self._compensating != event.step:
                raise SchedulerError(f"no compensation of {event.step!r} is under way")
            self._compensating = None
            if isinstance(event, CompensationSucceeded):
                self._steps[event.step].state = "compensated"
            else:
                self._uncompensated.append(event.step)
        else:
            return self._resumed(event)
        return self._advance()

    def withdraw(self, cmd: StartStep | StartCompensation) -> None:
        """Forget a start that was decided but never carried out.

        Used when rebuilding a run from its journal: a start the journal does not record
        never reached its actor (the engine commits `step.started` before the call).
        """
        if isinstance(cmd, StartStep):
            s = self._steps[cmd.step]
            self._running.discard(cmd.step)
            s.state, s.attempt = "pending", cmd.attempt - 1
            heapq.heappush(self._ready, s.index)
        else:
            self._compensating = None
            assert self._to_compensate is not None
            self._to_compensate.insert(0, cmd.step)

    def state_of(self, step_id: str) -> StepState:
        return self._steps[step_id].state

    def output_of(self, step_id: str) -> dict[str, Any] | None:
        return self._steps[step_id].output

    def attempts_of(self, step_id: str) -> int:
        return self._steps[step_id].attempt

    def outcomes(self) -> Iterator[tuple[str, StepState, int, dict[str, Any] | None]]:
        """`(step id, state, attempts, output)` of every step, in plan order."""
        steps = self._steps
        for sid in self._order:
            s = steps[sid]
            yield sid, s.state, s.attempt, s.output

    # -- transitions --------------------------------------------------------------------------

    def _running_step(self, step_id: str, attempt: int) -> _Step:
        if step_id not in self._running:
            raise SchedulerError(f"step {step_id!r} is not running")
        s = self._steps[step_id]
        if attempt != s.attempt:
            raise SchedulerError(f"step {step_id!r} is on attempt {s.attempt}, not {attempt}")
        self._running.discard(step_id)
        return s

    def _failed(self, s: _Step, event: StepFailed) -> list[Command]:
        s.error = event.error
        err = event.error
        timed_out_write = (
            err.kind == "timeout" and s.spec.effect == "write" and not s.spec.idempotent
        )
        if self._mode == "compensating":
            # The run is being rolled back: a step that was in flight is not tried again,
            # and its failure cannot turn the rollback into a pause.
            s.state = "unknown" if timed_out_write else "failed"
            return self._advance()
        if err.unexpected:
            s.state = "failed"
            return self._begin_pause(f"step {s.step.id!r}: {err.message}", s.step.id)
        if timed_out_write:
            # It may have applied: running it again could apply it twice.
            s.state = "unknown"
            return self._begin_pause(
                f"step {s.step.id!r} timed out and is not idempotent: its outcome is unknown",
                s.step.id,
            )
        if err.retryable and event.attempt - s.base < s.spec.retry.attempts:
            s.state = "running"
            s.attempt = event.attempt + 1
            self._running.add(s.step.id)
            assert s.args is not None
            delay = s.spec.retry.delay_before(s.attempt)
            return [StartStep(step=s.step.id, attempt=s.attempt, args=s.args, delay_s=delay)]
        return self._gave_up(s, err)

    def _gave_up(self, s: _Step, err: StepError) -> list[Command]:
        """A step failed for good: its `on_failure` decides what the run does."""
        s.state, s.error = "failed", err
        policy = s.step.on_failure
        if policy == "continue" and s.spec.effect == "read":
            self._settled(s)
            return self._advance()
        if policy == "compensate":
            self._failure = f"step {s.step.id!r} failed: {err.message}"
            return self._begin_compensation()
        return self._begin_pause(f"step {s.step.id!r} failed: {err.message}", s.step.id)

    def _resumed(self, event: Resumed) -> list[Command]:
        if self.status not in ("paused", "running"):
            raise SchedulerError(f"a {self.status} run cannot be resumed")
        self.status = "running"
        # Nothing is in flight in a resumed run: a step still marked running was started
        # before a crash or a kill and never reported back.
        for sid in self._running:
            self._steps[sid].state = "unknown"
        self._running.clear()
        if self._mode == "compensating":
            # Interrupted while rolling back: finish the rollback. A compensation that had
            # started runs again (with the same idempotency key).
            if self._compensating is not None:
                assert self._to_compensate is not None
                self._to_compensate.insert(0, self._compensating)
                self._compensating = None
            return self._advance()
        self._mode, self._pause = "normal", None
        if event.abort:
            self._failure = "aborted on resume"
            return self._begin_compensation()
        for sid in self._order:
            s = self._steps[sid]
            if s.state == "unknown" and not (s.spec.idempotent or sid in event.retry):
                # Decided before anything starts, so the pause leaves nothing in flight; the
                # steps that paused the run earlier keep their claim to a fresh budget.
                return self._begin_pause(
                    f"step {sid!r} started but its outcome is unknown, and it is not "
                    "idempotent: check it, then resume with --retry "
                    f"{sid} (run it again) or --abort",
                    sid,
                )
        paused_on, self._paused_on = self._paused_on, set()
        commands: list[Command] = []
        for sid in self._order:
            s = self._steps[sid]
            if s.state == "unknown":
                s.base = s.attempt
                commands.append(self._start(s, s.attempt + 1))
            elif s.state == "failed" and sid in paused_on:
                s.base = s.attempt
                s.state = "pending"  # a fresh retry budget once a person has looked
                heapq.heappush(self._ready, s.index)
        return commands + self._advance()

    def _begin_pause(self, reason: str, step: str | None) -> list[Command]:
        self._mode = "pausing"
        if step is not None:
            self._paused_on.add(step)
        self._pause = PauseRun(reason=reason, step=step)
        return self._advance()

    def _begin_compensation(self) -> list[Command]:
        self._mode = "compensating"
        self._to_compensate = None  # decided once the steps in flight have finished
        return self._advance()

    # -- what next ----------------------------------------------------------------------------

    def _advance(self) -> list[Command]:
        if self.status != "running":
            return []
        if self._mode == "pausing":
            if self._running:
                return []  # let steps in flight finish first
            self.status = "paused"
            assert self._pause is not None
            return [self._pause]
        if self._mode == "compensating":
            return self._next_compensation()
        commands: list[Command] = []
        while self._ready:
            s = self._steps[self._order[self._ready[0]]]
            if s.state != "pending":
                heapq.heappop(self._ready)  # started or settled since it was pushed
                continue
            missing = [d for d in s.reads if d not in self._outputs] if s.reads else None
            if missing:
                heapq.heappop(self._ready)
                commands.append(self._skip(s, self._why_missing(missing[0])))
                continue
            try:
                holds = s.step.when is None or self._holds(s)
                if holds and s.args is None and len(self._running) < self.max_parallel:
                    s.args = self._resolve(s)
            except KeyError as e:
                # A reference into a value whose shape is only known at run time (a list
                # index, a field of a free-form JSON value) that the output does not have.
                heapq.heappop(self._ready)
                err = StepError(
                    kind="InvalidInput",
                    message=f"a reference does not resolve: {e.args[0]}",
                    retryable=False,
                )
                return commands + self._gave_up(s, err)
            if not holds:
                heapq.heappop(self._ready)
                commands.append(self._skip(s, "condition `when` is false"))
                continue
            if len(self._running) >= self.max_parallel:
                break  # it stays at the head of the heap for the next free slot
            heapq.heappop(self._ready)
            commands.append(self._start(s, s.attempt + 1))
        if not self._running:  # skips alone (no start) may be the last commands of a run
            commands.append(self._finish())
        return commands

    def _skip(self, s: _Step, reason: str) -> SkipStep:
        s.state = "skipped"
        self._settled(s)
        return SkipStep(step=s.step.id, reason=reason)

    def _settled(self, s: _Step) -> None:
        """A step's dependents may go ahead: it succeeded, was skipped or failed-and-continued."""
        for sid in self._dependents.get(s.step.id, ()):
            d = self._steps[sid]
            d.waiting -= 1
            if d.waiting == 0 and d.state == "pending":
                heapq.heappush(self._ready, d.index)

    def _start(self, s: _Step, attempt: int) -> StartStep:
        if s.args is None:
            s.args = self._resolve(s)
        s.state, s.attempt = "running", attempt
        self._running.add(s.step.id)
        return StartStep(step=s.step.id, attempt=attempt, args=s.args)

    def _resolve(self, s: _Step) -> dict[str, Any]:
        if s.plain:
            return dict(s.step.args)  # what resolving gives, without the walk
        args: dict[str, Any] = resolve_refs(
            s.step.args, outputs=self._outputs, inputs=self.plan.inputs
        )
        return args

    def _why_missing(self, dep: str) -> str:
        d = self._steps[dep]
        if d.state == "succeeded":  # a dry run: the write was not carried out
            return f"needs the output of write step {dep!r}, which a dry run does not produce"
        return f"needs the output of step {dep!r}, which {d.state}"

    def _holds(self, s: _Step) -> bool:
        cond = s.step.when
        assert cond is not None
        subject = (
            resolve_refs({"$ref": cond.ref}, outputs=self._outputs, inputs=self.plan.inputs)
            if cond.ref is not None
            else self.plan.inputs.get(cond.input or "")
        )
        return cond.holds(subject)

    def _finish(self) -> FinishRun:
        failed = [sid for sid in self._order if self._steps[sid].state == "failed"]
        if failed:
            self.status = "failed"
            return FinishRun(status="failed", reason=f"step {failed[0]!r} failed (continued)")
        self.status = "succeeded"
        return FinishRun(status="succeeded")

    def _next_compensation(self) -> list[Command]:
        if self._running or self._compensating is not None:
            return []
        if self._to_compensate is None:
            # Reverse plan order: dependents are undone before what they depend on, and the
            # order does not depend on which parallel step happened to finish first. A write
            # whose outcome is unknown may have applied: it is reported, not compensated.
            self._to_compensate = [
                sid
                for sid in reversed(self._order)
                if self._steps[sid].state in ("succeeded", "unknown")
                and self._steps[sid].spec.effect == "write"
                and not self.dry_run
            ]
        while self._to_compensate:
            sid = self._to_compensate.pop(0)
            s = self._steps[sid]
            if s.spec.compensate is None or s.state == "unknown":
                # Irreversible (nothing can undo it), or it may not have applied at all.
                self._uncompensated.append(sid)
                continue
            self._compensating = sid
            assert s.args is not None
            assert s.output is not None
            return [
                StartCompensation(step=sid, actor=s.spec.compensate, args=s.args, output=s.output)
            ]
        if self._uncompensated:
            self.status = "failed"
            left = ", ".join(repr(x) for x in self._uncompensated)
            return [FinishRun(status="failed", reason=f"{self._failure}; not compensated: {left}")]
        self.status = "compensated"
        return [FinishRun(status="compensated", reason=self._failure)]


def _plain(args: dict[str, Any]) -> bool:
    """No reference can hide in `args`: no value is a container and no key starts with `$`."""
    for k, v in args.items():  # noqa: SIM110 (twice as fast as all(); once per step and run)
        if isinstance(v, dict | list) or k[:1] == "$":
            return False
    return True
