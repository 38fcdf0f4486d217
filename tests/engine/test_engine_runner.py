"""`planactor.engine.Engine`: runs, retries, timeouts, compensation, dry runs, resume and replay."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from forgery import rewrite_chain, sql
from planactor import JournalError, PlanInvalid, testing
from planactor.catalog import Catalog, actor_of
from planactor.engine import Engine, RunResult
from planactor.journal import Journal
from planactor.plan import Plan, RetryPolicy
from planactor.validate import ValidatedPlan, validate_plan


def make_plan(*steps: dict[str, Any], **kw: Any) -> Plan:
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "engine test",
            "requested_by": "tests",
            "steps": list(steps),
            **kw,
        }
    )


def echo(sid: str, message: str = "hi", **kw: Any) -> dict[str, Any]:
    args = {"message": message, **kw.pop("args", {})}
    return {"id": sid, "actor": "core.echo", "args": args, **kw}


def write(sid: str, ledger: Path, actor: str = "testing.ledger_write", **kw: Any) -> dict[str, Any]:
    return {"id": sid, "actor": actor, "args": {"ledger": str(ledger), "item": sid}, **kw}


def flaky(sid: str, counter: Path, fail_times: int, **kw: Any) -> dict[str, Any]:
    args = {"counter": str(counter), "fail_times": fail_times, **kw.pop("args", {})}
    return {"id": sid, "actor": "testing.flaky", "args": args, **kw}


@pytest.fixture
def journal() -> Iterator[Journal]:
    j = Journal(":memory:")
    yield j
    j.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "j.db"


@pytest.fixture
def file_journal(db: Path) -> Iterator[Journal]:
    j = Journal(db)
    yield j
    j.close()


@pytest.fixture
def engine(journal: Journal) -> Engine:
    return Engine(catalog=testing.catalog(), journal=journal)


@pytest.fixture
def file_engine(file_journal: Journal) -> Engine:
    return Engine(catalog=testing.catalog(), journal=file_journal)


def event_types(j: Journal, run_id: str) -> list[tuple[str, str | None]]:
    return [(e.type, e.step) for e in j.events(run_id)]


def starts(j: Journal, run_id: str) -> list[str]:
    return [e.step or "" for e in j.events(run_id) if e.type == "step.started"]


# -- running --------------------------------------------------------------------------------


def test_steps_run_in_dependency_order_with_plan_order_tie_break(
    engine: Engine, journal: Journal
) -> None:
    """A sequential run starts ready steps in plan order, dependencies first."""
    plan = make_plan(
        echo("a"),
        echo("c", after=["a"]),
        echo("b", after=["a"]),
        echo("d", args={"value": {"$ref": "b.output.message"}}, after=["c"]),
    )
    result = engine.run(plan)
    assert result.status == "succeeded"
    assert result.exit_code == 0
    assert starts(journal, result.run_id) == ["a", "c", "b", "d"]
    assert result.steps["d"].output == {"message": "hi", "value": "hi"}
    assert journal.run(result.run_id).status == "succeeded"


def test_retryable_failures_are_retried_with_the_policy_delays(tmp_path: Path) -> None:
    """A flaky step is retried until it succeeds, waiting RetryPolicy's delays in between."""
    slept: list[float] = []
    with Journal(":memory:") as j:
        engine = Engine(catalog=testing.catalog(), journal=j, sleep=slept.append)
        retry = {"attempts": 3, "backoff_s": 0.25, "multiplier": 2.0}
        result = engine.run(make_plan(flaky("f", tmp_path / "n", 2, retry=retry)))
        assert result.status == "succeeded"
        assert result.steps["f"].attempts == 3
        assert result.steps["f"].output == {"calls": 3}
        assert slept == [0.25, 0.5]
        retrying = [e for e in j.events(result.run_id) if e.type == "step.retrying"]
        assert [(e.attempt, e.data["delay_s"]) for e in retrying] == [(2, 0.25), (3, 0.5)]


def test_retries_stop_at_the_attempts_budget(engine: Engine, tmp_path: Path) -> None:
    """Once `attempts` tries failed, the step fails for good (here: the run pauses)."""
    counter = tmp_path / "n"
    result = engine.run(make_plan(flaky("f", counter, 5, retry={"attempts": 2, "backoff_s": 0})))
    assert result.status == "paused"
    assert result.exit_code == 4
    assert result.steps["f"].attempts == 2
    assert counter.read_text() == "2"


def test_non_retryable_actor_error_is_not_retried(engine: Engine, tmp_path: Path) -> None:
    """An ActorError with retryable=False is not tried again whatever the budget."""
    counter = tmp_path / "n"
    step = flaky("f", counter, 5, args={"retryable": False}, retry={"attempts": 4, "backoff_s": 0})
    result = engine.run(make_plan(step))
    assert result.status == "paused"
    assert counter.read_text() == "1"


def test_step_timeout_fails_with_kind_timeout(engine: Engine, journal: Journal) -> None:
    """A call that outlives its step's timeout_s fails with error kind `timeout`."""
    plan = make_plan(
        {"id": "s", "actor": "core.sleep", "args": {"seconds": 1.0}, "timeout_s": 0.05}
    )
    result = engine.run(plan)
    assert result.status == "paused"
    assert result.steps["s"].attempts == 1
    (failed,) = [e for e in journal.events(result.run_id) if e.type == "step.failed"]
    assert failed.data["error"]["kind"] == "timeout"


def test_step_timeout_is_retried_when_the_policy_allows(engine: Engine, journal: Journal) -> None:
    """A timed-out read step is retried like any retryable failure."""
    step = {
        "id": "s",
        "actor": "core.sleep",
        "args": {"seconds": 1.0},
        "timeout_s": 0.05,
        "retry": {"attempts": 2, "backoff_s": 0},
    }
    result = engine.run(make_plan(step))
    assert result.status == "paused"
    assert result.steps["s"].attempts == 2
    kinds = [
        e.data["error"]["kind"] for e in journal.events(result.run_id) if e.type == "step.failed"
    ]
    assert kinds == ["timeout", "timeout"]


# -- failure policies -----------------------------------------------------------------------


def test_on_failure_continue_finishes_failed_and_runs_after_dependents(
    engine: Engine, tmp_path: Path
) -> None:
    """on_failure=continue: the run goes on (readers skip, `after` dependents run), ends failed."""
    plan = make_plan(
        flaky("f", tmp_path / "n", 9, on_failure="continue"),
        echo("after", after=["f"]),
        echo("reader", args={"value": {"$ref": "f.output.calls"}}),
    )
    result = engine.run(plan)
    assert result.status == "failed"
    assert result.exit_code == 1
    assert result.reason == "step 'f' failed (continued)"
    states = {sid: o.state for sid, o in result.steps.items()}
    assert states == {"f": "failed", "after": "succeeded", "reader": "skipped"}


def test_on_failure_pause_stops_before_dependents(
    engine: Engine, journal: Journal, tmp_path: Path
) -> None:
    """on_failure=pause (the default) pauses the run; the journal says why and where."""
    plan = make_plan(flaky("f", tmp_path / "n", 9), echo("next", after=["f"]))
    result = engine.run(plan)
    assert result.status == "paused"
    assert result.steps["next"].state == "pending"
    assert event_types(journal, result.run_id)[-1] == ("run.paused", "f")
    assert journal.run(result.run_id).status == "paused"


def test_on_failure_compensate_undoes_writes_in_reverse_plan_order(
    engine: Engine, tmp_path: Path
) -> None:
    """on_failure=compensate: the ledger gets undo entries last-first, keyed RUN/STEP/compensate."""
    ledger = tmp_path / "ledger"
    plan = make_plan(
        write("w1", ledger),
        write("w2", ledger, after=["w1"]),
        echo("r", after=["w2"]),
        write("w3", ledger, actor="testing.ledger_write_once", after=["r"]),
        flaky(
            "f", tmp_path / "n", 9, args={"retryable": False}, after=["w3"], on_failure="compensate"
        ),
    )
    result = engine.run(plan)
    assert result.status == "compensated"
    assert result.exit_code == 1
    rid = result.run_id
    entries = [(e["op"], e["key"]) for e in testing.ledger_entries(ledger)]
    assert entries == [
        ("apply", f"{rid}/w1"),
        ("apply", f"{rid}/w2"),
        ("apply", f"{rid}/w3"),
        ("undo", f"{rid}/w3/compensate"),
        ("undo", f"{rid}/w2/compensate"),
        ("undo", f"{rid}/w1/compensate"),
    ]
    assert {s: result.steps[s].state for s in ("w1", "w2", "w3", "r")} == {
        "w1": "compensated",
        "w2": "compensated",
        "w3": "compensated",
        "r": "succeeded",
    }


def test_parallel_compensation_follows_plan_order_not_completion_order(
    engine: Engine, tmp_path: Path
) -> None:
    """In a parallel run every completed write is compensated, in reverse plan order."""
    ledger = tmp_path / "ledger"
    plan = make_plan(
        write("w1", ledger),
        write("w2", ledger),
        write("w3", ledger),
        flaky("f", tmp_path / "n", 9, args={"retryable": False}, on_failure="compensate"),
    )
    result = engine.run(plan, parallel=4)
    assert result.status == "compensated"
    undone = [e["item"] for e in testing.ledger_entries(ledger) if e["op"] == "undo"]
    applied = [e["item"] for e in testing.ledger_entries(ledger) if e["op"] == "apply"]
    assert undone == [w for w in ["w3", "w2", "w1"] if w in applied]
    assert sorted(applied) == ["w1", "w2", "w3"]


def test_unexpected_state_pauses_without_retrying(engine: Engine) -> None:
    """UnexpectedState pauses the run at once, even with retries left."""
    step = {"id": "u", "actor": "testing.unexpected", "args": {}, "retry": {"attempts": 3}}
    result = engine.run(make_plan(step))
    assert result.status == "paused"
    assert result.steps["u"].attempts == 1
    assert result.reason == "step 'u': the world is not as the plan assumed"


def test_last_steps_skipped_still_finishes_the_run(engine: Engine) -> None:
    """A run whose final ready steps are all skipped finishes instead of waiting forever."""
    plan = make_plan(echo("a"), echo("b", after=["a"], when={"$input": "go"}), inputs={"go": False})
    result = engine.run(plan)
    assert result.status == "succeeded"
    assert result.steps["b"].state == "skipped"


def test_reference_that_does_not_resolve_at_run_time_pauses(engine: Engine) -> None:
    """A reference into a free-form output that lacks the field pauses the run (no crash)."""
    plan = make_plan(
        echo("a", args={"value": "a string"}),
        echo("b", args={"value": {"$ref": "a.output.value.x"}}),
    )
    result = engine.run(plan)
    assert result.status == "paused"
    assert "does not resolve" in (result.reason or "")


# -- dry run --------------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_notes_what_would_change(
    engine: Engine, journal: Journal, tmp_path: Path
) -> None:
    """A dry run writes no ledger entry; writes note "would change" or "not simulated"."""
    ledger = tmp_path / "ledger"
    plan = make_plan(
        write("w", ledger),
        write("once", ledger, actor="testing.ledger_write_once"),
        echo("reader", args={"value": {"$ref": "w.output.item"}}),
        echo("after", after=["w"]),
    )
    result = engine.run(plan, dry_run=True)
    assert result.status == "succeeded"
    assert result.dry_run
    assert not ledger.exists()
    assert result.steps["w"].note == "would change: {'item': 'w', 'already_applied': False}"
    assert result.steps["once"].note == "not simulated: the actor has no check"
    assert result.steps["reader"].state == "skipped"
    assert "dry run" in (result.steps["reader"].note or "")
    assert result.steps["after"].state == "succeeded"
    assert journal.run(result.run_id).dry_run
    notes = {
        e.step: e.data.get("note")
        for e in journal.events(result.run_id)
        if e.type == "step.succeeded"
    }
    assert notes["once"] == "not simulated: the actor has no check"


# -- parallel, async, validation ------------------------------------------------------------


def dag_plan(n: int = 30, seed: int = 7) -> Plan:
    rnd = random.Random(seed)
    steps = []
    for i in range(n):
        deps = rnd.sample(range(i), k=min(i, rnd.randint(0, 3)))
        refs = [{"$ref": f"s{d}.output.message"} for d in deps[:2]]
        steps.append(
            echo(f"s{i}", f"m{i}", args={"value": refs}, after=[f"s{d}" for d in deps[2:]])
        )
    return make_plan(*steps)


def test_parallel_run_has_the_same_logical_record_as_sequential(
    engine: Engine, journal: Journal
) -> None:
    """--parallel gives the same states, attempts and outputs as sequential on a 30-step DAG."""
    plan = dag_plan()
    sequential = engine.run(plan)
    parallel = engine.run(plan, parallel=4)
    assert sequential.status == "succeeded"
    assert parallel.logical_record() == sequential.logical_record()
    assert len(parallel.steps) == 30
    assert engine.replay(parallel.run_id).ok


def test_run_async_runs_the_plan(engine: Engine) -> None:
    """run_async runs a plan to its end from an asyncio event loop."""
    result = asyncio.run(engine.run_async(make_plan(echo("a"), echo("b", after=["a"]))))
    assert isinstance(result, RunResult)
    assert result.status == "succeeded"


def test_invalid_plan_raises_before_anything_is_journaled(engine: Engine, journal: Journal) -> None:
    """A plan that fails validation raises PlanInvalid and leaves the journal empty."""
    plan = make_plan({"id": "a", "actor": "core.nope", "args": {}})
    with pytest.raises(PlanInvalid):
        engine.run(plan)
    assert journal.runs() == []
    assert journal.commits == 0


def test_a_plan_never_runs_under_another_plans_hash(engine: Engine, journal: Journal) -> None:
    """Plan B cannot run journaled as plan A: no report= pairing, no hand-made or edited pair."""
    a = validate_plan(make_plan(echo("a")), catalog=engine.catalog)
    b = make_plan(echo("b"))
    with pytest.raises(TypeError):
        engine.run(b, report=a.report)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="made by validate_plan"):
        ValidatedPlan(b, a.report, engine.catalog)
    with pytest.raises(AttributeError, match="cannot be changed"):
        a.plan = b
    edited = validate_plan(make_plan(echo("a")), catalog=engine.catalog)
    edited.plan.steps.append(b.steps[0])
    with pytest.raises(ValueError, match="changed after validation"):
        engine.run(edited)
    assert journal.runs() == []
    # What does run is journaled under its own hash, whichever way it is given.
    for given in (a, a.plan):
        result = engine.run(given)
        assert result.plan_hash == a.hash == journal.run(result.run_id).plan_hash
        assert journal.events(result.run_id)[0].data["plan_hash"] == a.hash
        assert list(result.steps) == ["a"]


def test_a_plan_validated_against_another_catalog_is_validated_again(
    journal: Journal, tmp_path: Path
) -> None:
    """The engine checks a plan against its own catalog, not only the one it was checked with."""
    validated = validate_plan(make_plan(write("w", tmp_path / "l")), catalog=testing.catalog())
    echo_only = Engine(catalog=Catalog([testing.catalog().get("core.echo")]), journal=journal)
    with pytest.raises(PlanInvalid) as exc:
        echo_only.run(validated)
    assert exc.value.report.codes() == ["unknown-actor"]
    assert journal.runs() == []


def test_parallel_below_one_is_refused(engine: Engine, journal: Journal) -> None:
    """parallel=0 raises ValueError before a run is recorded."""
    with pytest.raises(ValueError, match="parallel"):
        engine.run(make_plan(echo("a")), parallel=0)
    assert journal.runs() == []


def test_sequential_chain_commits_once_per_step(file_journal: Journal, tmp_path: Path) -> None:
    """A sequential chain of N writes costs at most N+2 commits (one group commit per step)."""
    n = 8
    ledger = tmp_path / "ledger"
    plan = make_plan(*(write(f"w{i}", ledger, after=[f"w{i - 1}"] if i else []) for i in range(n)))
    result = Engine(catalog=testing.catalog(), journal=file_journal).run(plan)
    assert result.status == "succeeded"
    assert n <= file_journal.commits <= n + 2
    assert result.commits == file_journal.commits


# -- resume ---------------------------------------------------------------------------------


def test_resume_with_abort_compensates_a_paused_run(engine: Engine, tmp_path: Path) -> None:
    """A run paused by UnexpectedState, resumed with abort, compensates its writes."""
    ledger = tmp_path / "ledger"
    plan = make_plan(
        write("w", ledger), {"id": "u", "actor": "testing.unexpected", "args": {}, "after": ["w"]}
    )
    paused = engine.run(plan)
    assert paused.status == "paused"
    result = engine.resume(paused.run_id, abort=True)
    assert result.status == "compensated"
    assert result.reason == "aborted on resume"
    assert [e["op"] for e in testing.ledger_entries(ledger)] == ["apply", "undo"]
    assert engine.replay(paused.run_id).ok


def test_resume_retries_the_step_that_paused_the_run(engine: Engine, tmp_path: Path) -> None:
    """on_failure=pause, then resume: the failed step gets a fresh try and the run completes."""
    plan = make_plan(flaky("f", tmp_path / "n", 1), echo("next", after=["f"]))
    paused = engine.run(plan)
    assert paused.status == "paused"
    result = engine.resume(paused.run_id)
    assert result.status == "succeeded"
    assert result.steps["f"].attempts == 2
    assert result.steps["f"].output == {"calls": 2}
    assert result.steps["next"].state == "succeeded"


def test_resume_with_less_parallelism_than_the_run_had(engine: Engine, tmp_path: Path) -> None:
    """A run started with parallel=3 resumes sequentially, and replay agrees with it."""
    plan = make_plan(
        echo("a"),
        echo("b"),
        flaky("f", tmp_path / "n", 1),
        *(echo(f"e{i}", after=["f"]) for i in range(3)),
    )
    first = engine.run(plan, parallel=3)
    assert first.status == "paused"
    assert engine.resume(first.run_id, parallel=1).status == "succeeded"
    report = engine.replay(first.run_id)
    assert report.ok, report


def test_resume_with_more_parallelism_replays(engine: Engine, tmp_path: Path) -> None:
    """A sequential run resumed with --parallel 3 replays without divergence."""
    plan = make_plan(flaky("f", tmp_path / "n", 1), *(echo(f"e{i}", after=["f"]) for i in range(4)))
    first = engine.run(plan)
    assert first.status == "paused"
    assert engine.resume(first.run_id, parallel=3).status == "succeeded"
    report = engine.replay(first.run_id)
    assert report.ok, report


def test_resume_of_a_finished_run_raises(engine: Engine) -> None:
    """Resuming a run that already ended raises JournalError."""
    result = engine.run(make_plan(echo("a")))
    with pytest.raises(JournalError, match="already ended"):
        engine.resume(result.run_id)


def test_resume_with_an_unknown_retry_step_journals_nothing(
    engine: Engine, journal: Journal, tmp_path: Path
) -> None:
    """--retry naming no step of the run raises JournalError before anything is recorded."""
    paused = engine.run(make_plan(flaky("f", tmp_path / "n", 1)))
    before = len(journal.events(paused.run_id))
    with pytest.raises(JournalError, match="nope"):
        engine.resume(paused.run_id, retry=["nope"])
    assert len(journal.events(paused.run_id)) == before


def test_resume_refuses_a_stored_plan_that_was_altered(
    file_engine: Engine, db: Path, tmp_path: Path
) -> None:
    """An UPDATE of the stored plan (valid JSON, other hash) makes resume refuse the run."""
    paused = file_engine.run(make_plan(flaky("f", tmp_path / "n", 1)))
    doc = make_plan(flaky("f", tmp_path / "n", 0)).to_document()
    sql(db, "UPDATE runs SET plan = ? WHERE run_id = ?", json.dumps(doc), paused.run_id)
    with pytest.raises(JournalError, match="hash"):
        file_engine.resume(paused.run_id)


def test_resume_refuses_a_stored_plan_that_is_not_a_plan(
    file_engine: Engine, db: Path, tmp_path: Path
) -> None:
    """A stored plan that no longer parses gives JournalError, not a traceback."""
    paused = file_engine.run(make_plan(flaky("f", tmp_path / "n", 1)))
    sql(db, "UPDATE runs SET plan = ? WHERE run_id = ?", "{not a plan", paused.run_id)
    with pytest.raises(JournalError, match="stored plan"):
        file_engine.resume(paused.run_id)


def test_resume_refuses_a_tampered_chain(file_engine: Engine, db: Path, tmp_path: Path) -> None:
    """An event body edited in the database makes resume refuse the run, naming the event."""
    paused = file_engine.run(make_plan(flaky("f", tmp_path / "n", 1)))
    sql(
        db,
        "UPDATE events SET body = replace(body, '\"fail_times\":1', '\"fail_times\":0') "
        "WHERE run_id = ? AND seq = 1",
        paused.run_id,
    )
    with pytest.raises(JournalError, match=r"verification at event #1"):
        file_engine.resume(paused.run_id)


# -- replay ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["normal", "retried", "paused+resumed", "parallel"])
def test_replay_agrees_with_the_journal(engine: Engine, tmp_path: Path, kind: str) -> None:
    """Replay finds no divergence for normal, retried, paused-and-resumed and parallel runs."""
    counter = tmp_path / "n"
    ledger = tmp_path / "ledger"
    if kind == "normal":
        result = engine.run(make_plan(echo("a"), write("w", ledger, after=["a"])))
    elif kind == "retried":
        retry = {"attempts": 3, "backoff_s": 0}
        result = engine.run(make_plan(flaky("f", counter, 2, retry=retry), echo("b", after=["f"])))
        assert result.steps["f"].attempts == 3
    elif kind == "paused+resumed":
        paused = engine.run(make_plan(write("w", ledger), flaky("f", counter, 1, after=["w"])))
        assert paused.status == "paused"
        result = engine.resume(paused.run_id)
    else:
        result = engine.run(dag_plan(12, seed=3), parallel=3)
    assert result.status == "succeeded"
    report = engine.replay(result.run_id)
    assert report.ok, report
    assert report.first_divergence is None
    assert report.plan_matches


def test_replay_detects_a_consistently_rewritten_journal(
    file_engine: Engine, file_journal: Journal, db: Path
) -> None:
    """A step.started's args rewritten, chain recomputed: verify passes, replay diverges."""
    result = file_engine.run(make_plan(echo("a", "one"), echo("b", "two", after=["a"])))
    (target,) = [
        e for e in file_journal.events(result.run_id) if e.type == "step.started" and e.step == "b"
    ]

    def edit(doc: dict[str, Any]) -> None:
        if doc["seq"] == target.seq:
            doc["data"]["args"]["message"] = "forged"

    rewrite_chain(db, result.run_id, edit)
    with Journal(db) as fresh:
        assert fresh.verify(result.run_id).ok
        report = Engine(catalog=testing.catalog(), journal=fresh).replay(result.run_id)
    assert not report.ok
    assert report.first_divergence == target.seq
    assert report.expected == "start 'b' (attempt 1)"
    assert report.found == "step.started 'b' (attempt 1)"


def test_replay_detects_an_impossible_result_as_divergence(
    file_engine: Engine, file_journal: Journal, db: Path
) -> None:
    """A recorded result for a step that was not running is reported as a divergence."""
    result = file_engine.run(make_plan(echo("a"), echo("b", after=["a"])))
    events = file_journal.events(result.run_id)
    (target,) = [e for e in events if e.type == "step.succeeded" and e.step == "a"]

    def edit(doc: dict[str, Any]) -> None:
        if doc["seq"] == target.seq:
            doc["step"] = "b"

    rewrite_chain(db, result.run_id, edit)
    with Journal(db) as fresh:
        report = Engine(catalog=testing.catalog(), journal=fresh).replay(result.run_id)
    assert not report.ok
    assert report.first_divergence == target.seq


def test_replay_detects_a_changed_retry_policy(
    engine: Engine, journal: Journal, tmp_path: Path
) -> None:
    """A catalog giving the flaky actor more attempts makes replay diverge where the run paused."""
    paused = engine.run(make_plan(flaky("f", tmp_path / "n", 1)))
    assert paused.status == "paused"
    base = actor_of(testing.flaky)
    assert base is not None
    others = [a for a in testing.catalog() if a.name != base.name]
    changed = Catalog([*others, dataclasses.replace(base, retry=RetryPolicy(attempts=3))])
    report = Engine(catalog=changed, journal=journal).replay(paused.run_id)
    assert not report.ok
    last = journal.events(paused.run_id)[-1]
    assert last.type == "run.paused"
    assert report.first_divergence == last.seq
    assert report.expected == "start 'f' (attempt 2)"


def test_replay_with_another_plan_reports_plan_mismatch(engine: Engine) -> None:
    """replay(plan=...) with a plan that did not run says plan_matches False."""
    result = engine.run(make_plan(echo("a")))
    report = engine.replay(result.run_id, plan=make_plan(echo("a", "other")))
    assert not report.ok
    assert not report.plan_matches
    assert "not the plan this run executed" in (report.note or "")
    assert engine.replay(result.run_id, plan=make_plan(echo("a"))).ok
