"""`planactor.engine.Scheduler`: the pure state machine, driven by hand-built events (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planactor.engine import (
    Command,
    CompensationFailed,
    CompensationSucceeded,
    Event,
    FinishRun,
    PauseRun,
    Resumed,
    Scheduler,
    SchedulerError,
    SkipStep,
    StartCompensation,
    StartStep,
    StepError,
    StepFailed,
    StepSpec,
    StepSucceeded,
)
from planactor.plan import Plan, RetryPolicy, dependencies

READ = StepSpec(effect="read", idempotent=True)
WRITE = StepSpec(effect="write", idempotent=True, compensate="t.undo")
WRITE_ONCE = StepSpec(effect="write", idempotent=False, compensate="t.undo")
IRREVERSIBLE = StepSpec(effect="write", idempotent=False)
SPECS = {
    "t.read": READ,
    "t.write": WRITE,
    "t.write_once": WRITE_ONCE,
    "t.irreversible": IRREVERSIBLE,
    "t.undo": WRITE,
    "t.read_retry3": StepSpec(effect="read", idempotent=True, retry=RetryPolicy(attempts=3)),
}


def make_plan(*steps: dict[str, Any], inputs: dict[str, Any] | None = None) -> Plan:
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "scheduler test",
            "requested_by": "tests",
            "inputs": inputs or {},
            "steps": list(steps),
        }
    )


def step(sid: str, actor: str = "t.read", **kw: Any) -> dict[str, Any]:
    return {"id": sid, "actor": actor, "args": kw.pop("args", {}), **kw}


def ref(text: str) -> dict[str, str]:
    return {"$ref": text}


def sched(*steps: dict[str, Any], parallel: int = 1, **kw: Any) -> Scheduler:
    inputs = kw.pop("inputs", None)
    return Scheduler(
        plan=make_plan(*steps, inputs=inputs), specs=SPECS, max_parallel=parallel, **kw
    )


def ok(sid: str, attempt: int = 1, output: dict[str, Any] | None = None) -> StepSucceeded:
    return StepSucceeded(step=sid, attempt=attempt, output={"v": sid} if output is None else output)


def fail(
    sid: str,
    attempt: int = 1,
    *,
    kind: str = "ActorError",
    retryable: bool = True,
    unexpected: bool = False,
) -> StepFailed:
    err = StepError(kind=kind, message=f"{sid} broke", retryable=retryable, unexpected=unexpected)
    return StepFailed(step=sid, attempt=attempt, error=err)


def started(cmds: list[Command]) -> list[str]:
    return [c.step for c in cmds if isinstance(c, StartStep)]


def skipped(cmds: list[Command]) -> list[str]:
    return [c.step for c in cmds if isinstance(c, SkipStep)]


def run_to_end(s: Scheduler, cmds: list[Command], *, leave: str | None = None) -> list[Command]:
    """Answer every StartStep (but `leave`'s) with success, in order, while there are any."""
    log = list(cmds)
    queue = [c for c in cmds if isinstance(c, StartStep) and c.step != leave]
    while queue:
        c = queue.pop(0)
        more = s.handle(ok(c.step, c.attempt))
        log += more
        queue += [m for m in more if isinstance(m, StartStep) and m.step != leave]
    return log


# -- order and parallelism --------------------------------------------------------------------


def test_diamond_runs_in_dependency_order_with_plan_order_tie_break() -> None:
    """In a diamond, the two middle steps start together in plan order; the join waits for both."""
    s = sched(
        step("a"),
        step("c", after=["a"]),
        step("b", after=["a"]),
        step("d", after=["b", "c"]),
        parallel=2,
    )
    assert started(s.start()) == ["a"]
    assert started(s.handle(ok("a"))) == ["c", "b"]
    assert s.handle(ok("b")) == []
    assert started(s.handle(ok("c"))) == ["d"]
    assert s.handle(ok("d")) == [FinishRun(status="succeeded")]
    assert s.status == "succeeded"


def test_fan_out_starts_in_plan_order_not_id_order() -> None:
    """Ready steps start in plan order even when their ids sort differently."""
    steps = [step("root"), *(step(x, after=["root"]) for x in ["zeta", "alpha", "mid"])]
    s = sched(*steps)
    log = run_to_end(s, s.start())
    assert started(log) == ["root", "zeta", "alpha", "mid"]
    wide = sched(*steps, parallel=3)
    wide.start()
    assert started(wide.handle(ok("root"))) == ["zeta", "alpha", "mid"]


def test_max_parallel_limits_concurrent_starts() -> None:
    """No more than max_parallel steps are started before one of them reports back."""
    s = sched(*(step(f"s{i}") for i in range(5)), parallel=2)
    assert started(s.start()) == ["s0", "s1"]
    assert started(s.handle(ok("s1"))) == ["s2"]
    assert started(s.handle(ok("s0"))) == ["s3"]
    assert started(s.handle(ok("s2"))) == ["s4"]


def test_max_parallel_below_one_is_refused() -> None:
    """A scheduler with max_parallel 0 cannot be built."""
    with pytest.raises(ValueError, match="max_parallel"):
        sched(step("a"), parallel=0)


def test_references_resolve_to_the_outputs_of_dependencies() -> None:
    """A StartStep carries args with references replaced by the dependency's output."""
    s = sched(
        step("a"), step("b", args={"x": ref("a.output.v"), "k": {"$input": "n"}}), inputs={"n": 3}
    )
    s.start()
    (cmd,) = s.handle(ok("a", output={"v": [1, 2]}))
    assert cmd == StartStep(step="b", attempt=1, args={"x": [1, 2], "k": 3})


def test_a_reference_that_does_not_resolve_at_run_time_fails_the_step_without_raising() -> None:
    """A reference into an output that lacks the field gives up the step (here: pause), no crash."""
    s = sched(step("a"), step("b", args={"x": ref("a.output.v.deep")}))
    s.start()
    (cmd,) = s.handle(ok("a", output={"v": "a string"}))
    assert isinstance(cmd, PauseRun)
    assert cmd.step == "b"
    assert "does not resolve" in cmd.reason
    assert s.state_of("b") == "failed"


# -- retries --------------------------------------------------------------------------------


def test_retryable_failure_restarts_with_next_attempt_and_policy_delay() -> None:
    """A retryable failure re-issues StartStep with attempt+1 and RetryPolicy.delay_before."""
    policy = {"attempts": 4, "backoff_s": 0.5, "multiplier": 3.0, "max_backoff_s": 2.0}
    s = sched(step("a", args={"n": 1}, retry=policy))
    s.start()
    delays = []
    for attempt in (1, 2, 3):
        (cmd,) = s.handle(fail("a", attempt))
        assert isinstance(cmd, StartStep)
        assert (cmd.step, cmd.attempt, cmd.args) == ("a", attempt + 1, {"n": 1})
        delays.append(cmd.delay_s)
    assert delays == [RetryPolicy(**policy).delay_before(n) for n in (2, 3, 4)]
    assert delays == [0.5, 1.5, 2.0]  # capped by max_backoff_s


def test_retries_stop_after_attempts() -> None:
    """After `attempts` tries the step has failed for good and its on_failure applies."""
    s = sched(step("a", retry={"attempts": 2, "backoff_s": 0}))
    s.start()
    assert started(s.handle(fail("a", 1))) == ["a"]
    (cmd,) = s.handle(fail("a", 2))
    assert isinstance(cmd, PauseRun)
    assert s.attempts_of("a") == 2
    assert s.state_of("a") == "failed"


def test_step_retry_overrides_the_actor_retry() -> None:
    """The step's retry policy replaces the actor's (here: 1 attempt instead of 3)."""
    default = sched(step("a", "t.read_retry3"))
    default.start()
    assert started(default.handle(fail("a", 1))) == ["a"]
    override = sched(step("a", "t.read_retry3", retry={"attempts": 1}))
    override.start()
    assert isinstance(override.handle(fail("a", 1))[0], PauseRun)


def test_non_retryable_error_does_not_retry() -> None:
    """An error marked non-retryable goes straight to on_failure, whatever the budget."""
    s = sched(step("a", retry={"attempts": 5}))
    s.start()
    (cmd,) = s.handle(fail("a", retryable=False))
    assert isinstance(cmd, PauseRun)
    assert s.attempts_of("a") == 1


def test_unexpected_error_pauses_without_retrying() -> None:
    """An UnexpectedState-style error pauses at once, even with retries left."""
    s = sched(step("a", retry={"attempts": 5}, on_failure="compensate"))
    s.start()
    (cmd,) = s.handle(fail("a", unexpected=True, retryable=False))
    assert cmd == PauseRun(reason="step 'a': a broke", step="a")
    assert s.status == "paused"


def test_timeout_of_non_idempotent_write_pauses_with_unknown_state() -> None:
    """A timed-out non-idempotent write may have applied: it pauses as `unknown`, no retry."""
    s = sched(step("w", "t.write_once", retry={"attempts": 3}))
    s.start()
    (cmd,) = s.handle(fail("w", kind="timeout"))
    assert isinstance(cmd, PauseRun)
    assert "unknown" in cmd.reason
    assert s.state_of("w") == "unknown"


def test_timeout_of_idempotent_write_retries() -> None:
    """A timed-out idempotent write is simply tried again."""
    s = sched(step("w", "t.write", retry={"attempts": 2, "backoff_s": 0}))
    s.start()
    assert s.handle(fail("w", kind="timeout")) == [StartStep(step="w", attempt=2, args={})]


# -- on_failure -----------------------------------------------------------------------------


def test_continue_on_a_read_step_runs_the_rest_and_finishes_failed() -> None:
    """on_failure=continue: `after` dependents run, readers of its output skip, run ends failed."""
    s = sched(
        step("a", on_failure="continue"),
        step("b", after=["a"]),
        step("c", args={"x": ref("a.output.v")}),
    )
    s.start()
    cmds = s.handle(fail("a", retryable=False))
    assert started(cmds) == ["b"]
    assert skipped(cmds) == ["c"]
    assert s.handle(ok("b")) == [FinishRun(status="failed", reason="step 'a' failed (continued)")]
    assert (s.state_of("a"), s.state_of("b"), s.state_of("c")) == ("failed", "succeeded", "skipped")


def test_continue_on_a_write_step_pauses() -> None:
    """on_failure=continue is only honoured for read steps: a failed write pauses."""
    s = sched(step("w", "t.write", on_failure="continue"), step("b", after=["w"]))
    s.start()
    (cmd,) = s.handle(fail("w", retryable=False))
    assert isinstance(cmd, PauseRun)
    assert cmd.step == "w"


def test_pause_waits_for_steps_in_flight() -> None:
    """on_failure=pause: PauseRun comes only after the other running steps report back."""
    s = sched(step("a"), step("b"), step("c", after=["b"]), parallel=2)
    s.start()
    assert s.handle(fail("a", retryable=False)) == []
    assert s.status == "running"
    (cmd,) = s.handle(ok("b"))
    assert cmd == PauseRun(reason="step 'a' failed: a broke", step="a")
    assert s.status == "paused"
    assert s.state_of("c") == "pending"


def test_compensate_undoes_writes_in_reverse_plan_order_skipping_irreversible() -> None:
    """on_failure=compensate undoes succeeded writes last-first; irreversible ones are named."""
    s = sched(
        step("w1", "t.write", args={"i": 1}),
        step("x", "t.irreversible", after=["w1"]),
        step("r", after=["x"]),
        step("w2", "t.write", after=["r"]),
        step("f", after=["w2"], on_failure="compensate"),
    )
    log = run_to_end(s, s.start(), leave="f")
    assert started(log) == ["w1", "x", "r", "w2", "f"]
    (first,) = s.handle(fail("f", retryable=False))
    assert first == StartCompensation(step="w2", actor="t.undo", args={}, output={"v": "w2"})
    (second,) = s.handle(CompensationSucceeded(step="w2"))
    assert second == StartCompensation(step="w1", actor="t.undo", args={"i": 1}, output={"v": "w1"})
    (end,) = s.handle(CompensationSucceeded(step="w1"))
    assert isinstance(end, FinishRun)
    assert end.status == "failed"
    assert end.reason == "step 'f' failed: f broke; not compensated: 'x'"
    assert (s.state_of("w1"), s.state_of("w2"), s.state_of("x")) == (
        "compensated",
        "compensated",
        "succeeded",
    )


def test_compensate_ends_compensated_when_every_compensation_succeeds() -> None:
    """With only reversible writes, successful compensations end the run `compensated`."""
    s2 = sched(
        step("w1", "t.write"), step("w2", "t.write_once"), step("f", on_failure="compensate")
    )
    log = run_to_end(s2, s2.start(), leave="f")
    assert started(log) == ["w1", "w2", "f"]
    assert [c.step for c in s2.handle(fail("f", retryable=False))] == ["w2"]
    assert [c.step for c in s2.handle(CompensationSucceeded(step="w2"))] == ["w1"]
    assert s2.handle(CompensationSucceeded(step="w1")) == [
        FinishRun(status="compensated", reason="step 'f' failed: f broke")
    ]
    assert s2.status == "compensated"


def test_failed_compensation_ends_the_run_failed() -> None:
    """A CompensationFailed leaves the run `failed`, naming the step left uncompensated."""
    s = sched(step("w", "t.write"), step("f", after=["w"], on_failure="compensate"))
    s.start()
    s.handle(ok("w"))
    s.handle(fail("f", retryable=False))
    err = StepError(kind="ActorError", message="undo broke")
    (end,) = s.handle(CompensationFailed(step="w", error=err))
    assert isinstance(end, FinishRun)
    assert end.status == "failed"
    assert "not compensated: 'w'" in (end.reason or "")
    assert s.status == "failed"


def test_write_in_flight_when_compensation_begins_is_compensated_too() -> None:
    """A parallel write that succeeds after another step failed is still compensated."""
    s = sched(step("w", "t.write"), step("f", on_failure="compensate"), parallel=2)
    assert started(s.start()) == ["w", "f"]
    assert s.handle(fail("f", retryable=False)) == []
    (cmd,) = s.handle(ok("w"))
    assert cmd == StartCompensation(step="w", actor="t.undo", args={}, output={"v": "w"})


def test_step_failing_in_flight_during_compensation_is_not_retried() -> None:
    """Once a rollback has begun, a failing in-flight step is not tried again."""
    s = sched(
        step("w", "t.write"),
        step("r", retry={"attempts": 5}),
        step("f", on_failure="compensate"),
        parallel=3,
    )
    s.start()
    s.handle(ok("w"))
    assert s.handle(fail("f", retryable=False)) == []
    (cmd,) = s.handle(fail("r"))
    assert isinstance(cmd, StartCompensation)
    assert cmd.step == "w"


# -- conditions and skips -------------------------------------------------------------------


def test_when_false_skips_and_readers_skip_while_after_dependents_run() -> None:
    """A false `when` skips the step; its readers skip too; `after`-only dependents still run."""
    s = sched(
        step("gate", when={"$input": "go"}),
        step("reader", args={"x": ref("gate.output.v")}),
        step("later", after=["gate"]),
        step("reader2", args={"x": ref("reader.output.v")}),
        inputs={"go": False},
    )
    cmds = s.start()
    assert cmds[0] == SkipStep(step="gate", reason="condition `when` is false")
    assert skipped(cmds) == ["gate", "reader", "reader2"]
    assert "gate" in next(c.reason for c in cmds if isinstance(c, SkipStep) and c.step == "reader")
    assert started(cmds) == ["later"]
    assert s.handle(ok("later")) == [FinishRun(status="succeeded")]


def test_when_on_a_step_output_is_evaluated_when_the_step_becomes_ready() -> None:
    """`when` may test a dependency's output; true runs the step, false skips it."""
    s = sched(
        step("a"),
        step("yes", when={"$ref": "a.output.n", "op": "gt", "value": 1}),
        step("no", when={"$ref": "a.output.n", "op": "lt", "value": 1}),
    )
    s.start()
    cmds = s.handle(ok("a", output={"n": 2}))
    assert started(cmds) == ["yes"]
    assert skipped(cmds) == ["no"]


def test_dry_run_write_without_output_makes_its_readers_skip() -> None:
    """In a dry run a write succeeds with output None: readers skip, `after` dependents run."""
    s = sched(
        step("w", "t.write"),
        step("reader", args={"x": ref("w.output.v")}),
        step("after", after=["w"]),
        dry_run=True,
    )
    s.start()
    cmds = s.handle(StepSucceeded(step="w", attempt=1, output=None))
    assert skipped(cmds) == ["reader"]
    assert isinstance(cmds[0], SkipStep)
    assert "dry run" in cmds[0].reason
    assert started(cmds) == ["after"]


def test_dry_run_failure_compensates_nothing() -> None:
    """A dry run never compensates: nothing was written."""
    s = sched(step("w", "t.write"), step("f", after=["w"], on_failure="compensate"), dry_run=True)
    s.start()
    s.handle(StepSucceeded(step="w", attempt=1, output=None))
    assert s.handle(fail("f", retryable=False)) == [
        FinishRun(status="compensated", reason="step 'f' failed: f broke")
    ]


# -- resume ---------------------------------------------------------------------------------


def test_resumed_restarts_interrupted_idempotent_steps() -> None:
    """A step still running when the run was interrupted restarts with attempt+1 if idempotent."""
    s = sched(step("w", "t.write", args={"k": 1}), step("b", after=["w"]))
    s.start()
    assert s.handle(Resumed()) == [StartStep(step="w", attempt=2, args={"k": 1})]


def test_resumed_pauses_on_interrupted_non_idempotent_step() -> None:
    """An interrupted non-idempotent step pauses the run again, telling how to go on."""
    s = sched(step("w", "t.write_once"))
    s.start()
    (cmd,) = s.handle(Resumed())
    assert isinstance(cmd, PauseRun)
    assert cmd.step == "w"
    assert "--retry w" in cmd.reason
    assert s.state_of("w") == "unknown"


def test_resumed_with_retry_reruns_the_named_non_idempotent_step() -> None:
    """Naming a non-idempotent step in `retry` runs it again."""
    s = sched(step("w", "t.write_once"))
    s.start()
    s.handle(Resumed())
    assert s.handle(Resumed(retry=("w",))) == [StartStep(step="w", attempt=2, args={})]


def test_resumed_pause_leaves_nothing_in_flight() -> None:
    """With an idempotent and a non-idempotent step interrupted, resume pauses without a start."""
    s = sched(step("a", "t.write"), step("b", "t.write_once"), parallel=2)
    s.start()
    (cmd,) = s.handle(Resumed())
    assert isinstance(cmd, PauseRun)
    assert cmd.step == "b"
    assert s.status == "paused"


def test_resumed_abort_compensates() -> None:
    """Resumed(abort=True) compensates the completed writes and ends the run."""
    s = sched(step("w", "t.write"), step("u", after=["w"]))
    s.start()
    s.handle(ok("w"))
    s.handle(fail("u", unexpected=True))
    (cmd,) = s.handle(Resumed(abort=True))
    assert isinstance(cmd, StartCompensation)
    assert s.handle(CompensationSucceeded(step="w")) == [
        FinishRun(status="compensated", reason="aborted on resume")
    ]


def test_abort_reports_a_write_of_unknown_outcome_as_not_compensated() -> None:
    """A write whose outcome is unknown cannot be compensated: abort names it, run ends failed."""
    s = sched(step("w", "t.write"), step("x", "t.write_once", after=["w"]))
    s.start()
    s.handle(ok("w"))
    s.handle(fail("x", kind="timeout"))
    assert s.handle(Resumed(abort=True))[0] == StartCompensation(
        step="w", actor="t.undo", args={}, output={"v": "w"}
    )
    (end,) = s.handle(CompensationSucceeded(step="w"))
    assert end == FinishRun(status="failed", reason="aborted on resume; not compensated: 'x'")


def test_resume_after_pause_gives_a_fresh_retry_budget_and_attempts_keep_counting() -> None:
    """After a pause on a failed step, resume retries it with a new budget; attempts go on."""
    s = sched(step("a", retry={"attempts": 2, "backoff_s": 0}))
    s.start()
    s.handle(fail("a", 1))
    assert isinstance(s.handle(fail("a", 2))[0], PauseRun)
    assert s.handle(Resumed()) == [StartStep(step="a", attempt=3, args={})]
    assert s.handle(fail("a", 3)) == [StartStep(step="a", attempt=4, args={})]
    assert isinstance(s.handle(fail("a", 4))[0], PauseRun)
    s.handle(Resumed())
    assert s.handle(ok("a", 5)) == [FinishRun(status="succeeded")]
    assert s.attempts_of("a") == 5


def test_every_step_that_paused_a_parallel_run_gets_a_fresh_budget() -> None:
    """Two parallel failures pause once; resume retries both, not only the last one."""
    s = sched(step("a"), step("b"), step("c", after=["a"]), parallel=2)
    s.start()
    assert s.handle(fail("a", retryable=False)) == []
    (pause,) = s.handle(fail("b", retryable=False))
    assert isinstance(pause, PauseRun)
    assert started(s.handle(Resumed())) == ["a", "b"]
    assert started(s.handle(ok("a", 2))) == ["c"]
    s.handle(ok("b", 2))
    assert s.handle(ok("c")) == [FinishRun(status="succeeded")]


def test_resume_interrupted_during_compensation_finishes_the_rollback() -> None:
    """Resumed while a compensation was under way re-issues it and goes on compensating."""
    s = sched(
        step("w1", "t.write"),
        step("w2", "t.write", after=["w1"]),
        step("f", after=["w2"], on_failure="compensate"),
        step("g", after=["f"]),
    )
    s.start()
    s.handle(ok("w1"))
    s.handle(ok("w2"))
    (comp,) = s.handle(fail("f", retryable=False))
    assert isinstance(comp, StartCompensation)
    assert comp.step == "w2"
    # interrupted here: the compensation of w2 never reported back
    assert s.handle(Resumed()) == [comp]
    (next_comp,) = s.handle(CompensationSucceeded(step="w2"))
    assert isinstance(next_comp, StartCompensation)
    assert next_comp.step == "w1"
    assert s.handle(CompensationSucceeded(step="w1")) == [
        FinishRun(status="compensated", reason="step 'f' failed: f broke")
    ]
    assert s.state_of("g") == "pending"


def test_withdraw_unstarts_a_start_that_never_happened() -> None:
    """A withdrawn StartStep is pending again: resume starts it fresh instead of pausing."""
    s = sched(step("w", "t.write_once"))
    (cmd,) = s.start()
    assert isinstance(cmd, StartStep)
    s.withdraw(cmd)
    assert s.state_of("w") == "pending"
    assert s.attempts_of("w") == 0
    assert s.handle(Resumed()) == [StartStep(step="w", attempt=1, args={})]


def test_withdraw_unstarts_a_compensation() -> None:
    """A withdrawn StartCompensation is issued again on resume."""
    s = sched(step("w", "t.write"), step("f", after=["w"], on_failure="compensate"))
    s.start()
    s.handle(ok("w"))
    (comp,) = s.handle(fail("f", retryable=False))
    assert isinstance(comp, StartCompensation)
    s.withdraw(comp)
    assert s.handle(Resumed()) == [comp]


# -- misuse ---------------------------------------------------------------------------------


def test_result_of_a_step_that_is_not_running_is_refused() -> None:
    """Feeding a result for a step that was never started raises SchedulerError."""
    s = sched(step("a"), step("b", after=["a"]))
    s.start()
    with pytest.raises(SchedulerError, match="'b' is not running"):
        s.handle(ok("b"))


def test_result_of_another_attempt_is_refused_and_changes_nothing() -> None:
    """A result for an attempt that is not the running one raises; the step keeps running."""
    s = sched(step("a"))
    s.start()
    for wrong in (ok("a", attempt=2), fail("a", attempt=3)):
        with pytest.raises(SchedulerError, match="'a' is on attempt 1, not"):
            s.handle(wrong)
    assert s.state_of("a") == "running"
    assert s.handle(ok("a")) == [FinishRun(status="succeeded")]


def test_compensation_result_without_compensation_is_refused() -> None:
    """A compensation result when none is under way raises SchedulerError."""
    s = sched(step("a"))
    s.start()
    with pytest.raises(SchedulerError, match="no compensation"):
        s.handle(CompensationSucceeded(step="a"))


def test_finished_run_cannot_be_resumed() -> None:
    """Resumed on a finished run raises SchedulerError."""
    s = sched(step("a"))
    s.start()
    s.handle(ok("a"))
    with pytest.raises(SchedulerError, match="succeeded run cannot be resumed"):
        s.handle(Resumed())


# -- properties -----------------------------------------------------------------------------


@st.composite
def dag_plans(draw: st.DrawFn, *, writes: bool = False) -> Plan:
    """Plans of 1-8 steps; each depends (by `after` or by reference) on earlier steps only."""
    n = draw(st.integers(1, 8))
    actors = ["t.read", "t.write", "t.irreversible"] if writes else ["t.read"]
    steps = []
    for i in range(n):
        deps = draw(st.lists(st.integers(0, i - 1), unique=True, max_size=3)) if i else []
        by_ref = [d for d in deps if draw(st.booleans())]
        actor = draw(st.sampled_from(actors))
        on_failure = draw(st.sampled_from(["pause", "continue", "compensate"]))
        doc: dict[str, Any] = {
            "id": f"s{i}",
            "actor": actor,
            "args": {"message": f"m{i}", "value": [ref(f"s{d}.output.message") for d in by_ref]},
            "after": [f"s{d}" for d in deps if d not in by_ref],
            "on_failure": on_failure,
            "retry": {"attempts": draw(st.integers(1, 3)), "backoff_s": 0},
        }
        steps.append(doc)
    return make_plan(*steps)


def drive(
    s: Scheduler, data: st.DataObject, *, resumes: int = 0
) -> tuple[list[Event], list[Command]]:
    """Feed random outcomes to `s`, checking invariants; return the events fed and commands."""
    plan = s.plan
    deps = {st_.id: dependencies(st_) for st_ in plan.steps}
    events: list[Event] = []
    log: list[Command] = []
    inflight: dict[str, int] = {}
    comp: str | None = None
    settled: set[str] = set()
    ends = 0
    cmds = s.start()
    while True:
        for c in cmds:
            log.append(c)
            assert ends == 0, "a command after the end"
            if isinstance(c, StartStep):
                assert all(d in settled for d in deps[c.step]), f"{c.step} started early"
                inflight[c.step] = c.attempt
                assert len(inflight) <= s.max_parallel
            elif isinstance(c, SkipStep):
                assert all(d in settled for d in deps[c.step])
                settled.add(c.step)
            elif isinstance(c, StartCompensation):
                assert comp is None
                assert not inflight
                comp = c.step
            else:
                assert isinstance(c, FinishRun | PauseRun)
                assert not inflight
                assert comp is None
                ends += 1
        if ends:
            if isinstance(log[-1], PauseRun) and resumes > 0:
                resumes -= 1
                ends = 0
                ev: Event = Resumed(abort=data.draw(st.booleans()))
                events.append(ev)
                cmds = s.handle(ev)
                continue
            return events, log
        assert inflight or comp is not None, "the scheduler is waiting on nothing"
        if comp is not None:
            good = data.draw(st.booleans())
            err = StepError(kind="E", message="undo failed")
            ev = (
                CompensationSucceeded(step=comp)
                if good
                else CompensationFailed(step=comp, error=err)
            )
            comp = None
        else:
            sid = data.draw(st.sampled_from(sorted(inflight)))
            attempt = inflight.pop(sid)
            if data.draw(st.booleans()):
                ev = StepSucceeded(step=sid, attempt=attempt, output={"message": sid})
                settled.add(sid)
            else:
                ev = fail(sid, attempt, retryable=data.draw(st.booleans()))
        events.append(ev)
        cmds = s.handle(ev)
        if isinstance(ev, StepFailed) and s.state_of(ev.step) == "failed":
            # Only a failure the run continues past lets dependents go ahead.
            spec = plan.step(ev.step)
            if spec.on_failure == "continue" and SPECS[spec.actor].effect == "read":
                settled.add(ev.step)


def replay_commands(plan: Plan, parallel: int, events: list[Event]) -> list[Command]:
    s = Scheduler(plan=plan, specs=SPECS, max_parallel=parallel)
    out = s.start()
    for ev in events:
        out += s.handle(ev)
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=dag_plans(), parallel=st.integers(1, 4), data=st.data())
def test_random_dags_run_safely_and_deterministically(
    plan: Plan, parallel: int, data: st.DataObject
) -> None:
    """Random read DAGs: deps first, max_parallel held, one end, same events give same commands."""
    s = Scheduler(plan=plan, specs=SPECS, max_parallel=parallel)
    events, log = drive(s, data)
    ends = [c for c in log if isinstance(c, FinishRun | PauseRun)]
    assert len(ends) == 1
    assert log[-1] is ends[0]
    assert s.status == ("paused" if isinstance(ends[0], PauseRun) else ends[0].status)
    assert replay_commands(plan, parallel, events) == log
    assert replay_commands(plan, parallel, events) == log  # and again, from another fresh one


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=dag_plans(writes=True), parallel=st.integers(1, 4), data=st.data())
def test_random_sagas_leave_no_succeeded_write_unaccounted(
    plan: Plan, parallel: int, data: st.DataObject
) -> None:
    """With writes, failures and resumes: a rolled-back run leaves no write silently applied."""
    s = Scheduler(plan=plan, specs=SPECS, max_parallel=parallel)
    events, log = drive(s, data, resumes=2)
    end = log[-1]
    assert replay_commands(plan, parallel, events) == log
    rolled_back = any(isinstance(c, StartCompensation) for c in log) or (
        isinstance(end, FinishRun) and end.status == "compensated"
    )
    if isinstance(end, FinishRun) and rolled_back:
        for st_ in plan.steps:
            if SPECS[st_.actor].effect == "write" and s.state_of(st_.id) == "succeeded":
                assert end.status == "failed"
                reason = end.reason or ""
                assert "; not compensated: " in reason
                assert repr(st_.id) in reason.split("; not compensated: ")[-1].split(", ")
