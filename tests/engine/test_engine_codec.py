"""planactor.engine._codec (and _replay): scheduler commands and events <-> journal records."""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forgery import rewrite_chain
from planactor import PlanactorError, testing
from planactor.engine import (
    CompensationFailed,
    CompensationSucceeded,
    Engine,
    FinishRun,
    PauseRun,
    ReplayReport,
    RunResult,
    SchedulerError,
    SkipStep,
    StartCompensation,
    StartStep,
    StepError,
    StepFailed,
    StepSucceeded,
)
from planactor.engine._codec import (
    append_command,
    append_result,
    check,
    matches,
    result_of,
    started_settings,
)
from planactor.journal import EventKind, Journal, event_problem
from planactor.plan import Plan

SRC = Path(__file__).parents[2] / "src" / "planactor"


def _plan(*steps: dict[str, Any]) -> Plan:
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "codec",
            "requested_by": "t",
            "inputs": {"go": False},
            "steps": steps,
        }
    )


@pytest.fixture
def journal() -> Iterator[Journal]:
    j = Journal(":memory:")
    j.begin_run(
        run_id="r",
        plan=_plan({"id": "a", "actor": "core.echo", "args": {}}),
        dry_run=False,
        data={"dry_run": False, "parallel": 2, "steps": 1},
    )
    yield j
    j.close()


COMMANDS = [
    StartStep(step="a", attempt=1, args={"message": "hi"}),
    StartStep(step="a", attempt=2, args={"message": "hi"}, delay_s=0.5),
    SkipStep(step="b", reason="condition `when` is false"),
    StartCompensation(step="a", actor="testing.ledger_undo", args={"x": 1}, output={"y": 2}),
    PauseRun(reason="stop", step="a"),
    PauseRun(reason="stop"),
    FinishRun(status="succeeded"),
    FinishRun(status="compensated", reason="step 'b' failed"),
]

RESULTS = [
    StepSucceeded(step="a", attempt=1, output={"v": 1}),
    StepSucceeded(step="a", attempt=2, output=None),
    StepFailed(step="a", attempt=1, error=StepError(kind="timeout", message="timed out")),
    StepFailed(step="a", attempt=1, error=StepError(kind="E", message="m", unexpected=True)),
    CompensationSucceeded(step="a"),
    CompensationFailed(step="a", error=StepError(kind="E", message="m", retryable=False)),
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=repr)
def test_a_journaled_command_reads_back_as_itself(journal: Journal, cmd: Any) -> None:
    """The record of a command is well formed and matches the command on replay."""
    kind, data = append_command(journal, "r", cmd)
    last = journal.events("r")[-1]
    assert check(last) is kind
    assert last.data == data
    assert matches(cmd, last)
    assert result_of(last) is None
    if isinstance(cmd, StartStep) and cmd.attempt > 1:
        retrying = journal.events("r")[-2]
        assert (retrying.type, retrying.data) == (EventKind.STEP_RETRYING, {"delay_s": 0.5})


@pytest.mark.parametrize("event", RESULTS, ids=repr)
def test_a_journaled_result_reads_back_as_the_same_event(journal: Journal, event: Any) -> None:
    """The record of an actor's result decodes to an equal scheduler event."""
    append_result(journal, "r", event)
    assert result_of(journal.events("r")[-1]) == event


def test_the_run_started_record_gives_the_recorded_settings(journal: Journal) -> None:
    """Parallelism and dry-run come back as recorded; a start that is not one is refused."""
    first, *_ = journal.events("r")
    assert started_settings(first) == (2, False)
    append_command(journal, "r", SkipStep(step="a", reason="r"))
    with pytest.raises(SchedulerError, match=r"begins with run\.started"):
        started_settings(journal.events("r")[-1])


def test_every_event_a_run_journals_is_well_formed(tmp_path: Path) -> None:
    """Retries, skips, a pause, a resume and compensations: every record checks."""
    j = Journal(":memory:")
    engine = Engine(catalog=testing.catalog(), journal=j, sleep=lambda _: None)
    ledger, counter = tmp_path / "ledger", tmp_path / "n"
    write = {"actor": "testing.ledger_write", "args": {"ledger": str(ledger), "item": "w"}}
    flaky = {"actor": "testing.flaky", "args": {"counter": str(counter), "fail_times": 3}}
    plan = _plan(
        {"id": "w", **write},
        {"id": "f", **flaky, "retry": {"attempts": 2, "backoff_s": 0}, "after": ["w"]},
        {
            "id": "s",
            "actor": "core.echo",
            "args": {"message": "x"},
            "after": ["f"],
            "when": {"input": "go", "op": "truthy"},
        },
    )
    paused = engine.run(plan)
    assert paused.status == "paused"
    ended = engine.resume(paused.run_id, abort=True)
    assert ended.status == "compensated"
    kinds = set()
    for ev in j.events(paused.run_id):
        assert event_problem(ev.type, ev.step, ev.attempt, ev.data) is None, ev
        kinds.add(ev.type)
    assert {"step.retrying", "run.resumed", "compensation.succeeded"} <= kinds


def test_the_engine_spells_no_event_name() -> None:
    """Event names live in planactor.journal._events; engine, journal and CLI use EventKind."""
    name = re.compile(r"[\"'](run|step|compensation)\.[a-z_]+[\"']")
    files = [
        *(SRC / "engine").glob("*.py"),
        SRC / "journal" / "_journal.py",
        SRC / "cli" / "_run.py",
    ]
    spelled = [
        f"{f.name}:{n}"
        for f in files
        for n, line in enumerate(f.read_text().splitlines(), 1)
        if name.search(line) and not line.lstrip().startswith("#")
    ]
    assert spelled == []


# -- a journal that diverges --------------------------------------------------------------------

_BASE: dict[str, Any] = {}


def _base() -> tuple[Path, str, str]:
    """A journal file with a finished run (retries, skips) and a paused one, made once."""
    if not _BASE:
        d = Path(tempfile.mkdtemp(prefix="planactor-codec-"))
        with Journal(d / "j.db") as j:
            engine = Engine(catalog=testing.catalog(), journal=j, sleep=lambda _: None)
            flaky = {"actor": "testing.flaky", "args": {"counter": str(d / "n"), "fail_times": 1}}
            done = engine.run(
                _plan(
                    {"id": "a", "actor": "core.echo", "args": {"message": "x"}},
                    {"id": "f", **flaky, "retry": {"attempts": 3, "backoff_s": 0}, "after": ["a"]},
                    {
                        "id": "b",
                        "actor": "core.echo",
                        "args": {"message": "y", "value": {"$ref": "f.output.calls"}},
                        "after": ["f"],
                    },
                    {
                        "id": "s",
                        "actor": "core.echo",
                        "args": {"message": "z"},
                        "after": ["b"],
                        "when": {"input": "go", "op": "truthy"},
                    },
                )
            )
            assert done.status == "succeeded"
            paused = engine.run(
                _plan(
                    {"id": "a", "actor": "core.echo", "args": {"message": "x"}},
                    {
                        "id": "g",
                        "actor": "testing.flaky",
                        "after": ["a"],
                        "args": {"counter": str(d / "m"), "fail_times": 9},
                    },
                )
            )
            assert paused.status == "paused"
        _BASE.update(db=d / "j.db", done=done.run_id, paused=paused.run_id)
    return _BASE["db"], _BASE["done"], _BASE["paused"]


_JUNK = st.sampled_from([None, True, 0, -1, 99, "x", "", [], {}, {"kind": 1}, ["a"], 1.5])
_MUTATION = st.one_of(
    st.tuples(st.just("drop"), st.integers(0, 5)),
    st.tuples(st.just("data"), st.integers(0, 5), _JUNK),
    st.tuples(st.just("step"), _JUNK | st.sampled_from(["a", "b", "f", "g", "zz"])),
    st.tuples(st.just("attempt"), _JUNK),
    st.tuples(st.just("type"), st.sampled_from([k.value for k in EventKind] + ["step.exploded"])),
    st.tuples(st.just("whole"), _JUNK),
)


def _mutate(doc: dict[str, Any], mutation: tuple[Any, ...]) -> None:
    what, *how = mutation
    data = doc["data"]
    if what in ("drop", "data") and isinstance(data, dict) and data:
        key = sorted(data)[how[0] % len(data)]
        if what == "drop":
            del data[key]
        else:
            data[key] = how[1]
    elif what in ("step", "attempt", "type"):
        doc[what] = how[0]
    elif what == "whole":
        doc["data"] = how[0]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(["done", "paused"]), at=st.integers(1, 40), mutation=_MUTATION)
def test_a_malformed_or_impossible_record_is_a_divergence_never_a_crash(
    which: str, at: int, mutation: tuple[Any, ...]
) -> None:
    """Whatever one recorded event is changed to, replay reports; resume refuses or runs."""
    base, done, paused = _base()
    run_id = done if which == "done" else paused
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "j.db"
        shutil.copy(base, db)
        with Journal(db) as j:
            n = len(j.events(run_id))
        target = 1 + at % (n - 1)

        edited: list[str] = []

        def edit(doc: dict[str, Any]) -> None:
            if doc["seq"] == target:
                edited.append(doc["type"])
                _mutate(doc, mutation)

        rewrite_chain(db, run_id, edit)
        with Journal(db) as j:
            engine = Engine(catalog=testing.catalog(), journal=j, sleep=lambda _: None)
            report = engine.replay(run_id)
            assert isinstance(report, ReplayReport)
            if not report.ok and report.first_divergence is not None:
                # A step's recorded output is a fact replay takes as given: an edited output
                # that is still a possible one shows where later decisions differ from it.
                output_edit = edited == [EventKind.STEP_SUCCEEDED] and mutation[0] == "data"
                assert report.first_divergence <= target or output_edit
                assert report.expected
                assert report.found
            if which == "paused":
                # Refused by name (JournalError and kin), not a traceback; or it goes on.
                with contextlib.suppress(PlanactorError):
                    assert isinstance(engine.resume(run_id), RunResult)
