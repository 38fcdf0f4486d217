"""Crash tests: SIGKILL a child process running a plan, resume it, check that nothing is lost.

The child (`crash_child.py`) runs a plan whose write actors record each application in a
ledger file keyed by idempotency key, with the journal under `synchronous=FULL`. It is
killed either exactly at the K-th engine event (`--stop-after-events K`, from `on_event`,
which runs after the event is appended to the journal but before it is committed) or at a
seeded random moment. After every kill the write-ahead rule is checked (a write in the
ledger has a committed `step.started`); after the last resume: every write applied exactly
once, the run succeeded, the chain verifies, `PRAGMA integrity_check` is ok and replay
agrees with the record. Kill times are drawn with `random.Random(seed)` (FoundationDB and
TigerBeetle style): a failure message names the seed and the kill times to reproduce it.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from planactor import testing
from planactor.engine import Engine
from planactor.journal import Journal

CHILD = Path(__file__).with_name("crash_child.py")
RUN_ID = "crash-run"
KILLED = -signal.SIGKILL
TIMEOUT_S = 60.0
SEEDS = 40  # seeded random kills of the 24-step plan (plus kills of some resumes)


def _load_child() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_child", CHILD)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


child = _load_child()


@dataclass
class Case:
    """One run's files: a journal and a ledger, in a directory of their own."""

    dir: Path
    plan: str
    parallel: int = 1
    kills: list[str] = field(default_factory=list)  # what was killed when, for messages

    def __post_init__(self) -> None:
        self.dir.mkdir(parents=True)

    @property
    def cwd(self) -> Path:
        """The children run in the test's tmp_path."""
        return self.dir.parent

    @property
    def db(self) -> Path:
        return self.dir / "journal.db"

    @property
    def ledger(self) -> Path:
        return self.dir / "ledger.jsonl"

    def argv(self, mode: str, *extra: str) -> list[str]:
        return [
            sys.executable,
            str(CHILD),
            str(self.db),
            str(self.ledger),
            mode,
            "--plan",
            self.plan,
            "--parallel",
            str(self.parallel),
            *extra,
        ]

    def writes(self) -> list[str]:
        """The write steps' idempotency keys."""
        plan = child.build_plan(self.plan, str(self.ledger))
        return [f"{RUN_ID}/{s.id}" for s in plan.steps if s.actor.startswith("testing.ledger")]


def _report(proc: subprocess.CompletedProcess[str] | subprocess.Popen[str], out: str) -> dict:
    lines = out.splitlines()
    assert lines, f"the child printed nothing (exit {proc.returncode})"
    doc: dict[str, Any] = json.loads(lines[-1])
    return doc


def _call(case: Case, mode: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        case.argv(mode, *extra), cwd=case.cwd, capture_output=True, text=True, timeout=TIMEOUT_S
    )


def _finish(case: Case, mode: str, *extra: str) -> dict:
    """Run the child to its end (no kill); return its report."""
    proc = _call(case, mode, *extra)
    assert proc.returncode == 0, (
        f"{case.kills}: child {mode} exited {proc.returncode}\n{proc.stderr}"
    )
    return _report(proc, proc.stdout)


def _kill_at_event(case: Case, k: int) -> None:
    """Run the child, which kills itself at its k-th event."""
    proc = _call(case, "run", "--stop-after-events", str(k))
    case.kills.append(f"run killed at event {k}")
    assert proc.returncode == KILLED, (
        f"{case.kills}: expected SIGKILL, got exit {proc.returncode}\n{proc.stderr}"
    )


def _kill_after(case: Case, mode: str, delay: float) -> bool:
    """Start the child, SIGKILL it `delay` s after it is ready; False if it ended first."""
    with subprocess.Popen(
        case.argv(mode), cwd=case.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        if first.strip() == "ready":
            time.sleep(delay)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=TIMEOUT_S)
    killed = proc.returncode == KILLED
    case.kills.append(f"{mode} {'killed' if killed else 'not killed'} at {delay:.4f} s")
    assert first.strip() == "ready", f"{case.kills}: child failed to start\n{err}"
    assert killed or proc.returncode == 0, f"{case.kills}: exit {proc.returncode}\n{err}"
    if not killed:
        assert _report(proc, out)["status"] == "succeeded", f"{case.kills}: {out}"
    return killed


def _snapshot(case: Case) -> Path | None:
    """A copy of the journal files as the kill left them (None: no journal yet).

    Inspecting the copy leaves the hot WAL in place for the resume to recover.
    """
    if not case.db.exists():
        return None
    snap = case.dir / "snapshot"
    snap.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (snap / f"{case.db.name}{suffix}").unlink(missing_ok=True)
    for suffix in ("", "-wal"):
        src = case.db.with_name(case.db.name + suffix)
        if src.exists():
            shutil.copyfile(src, snap / src.name)
    return snap / case.db.name


def _journal_state(case: Case) -> tuple[list[Any], str | None]:
    """The committed events of the run and its status ([] and None: no trace of it)."""
    db = _snapshot(case)
    if db is None:
        return [], None
    with Journal(db) as j:
        assert j.integrity_check() == "ok", f"{case.kills}: integrity_check"
        status = {r.run_id: r.status for r in j.runs()}.get(RUN_ID)
        if status is None:
            return [], None
        chain = j.verify(RUN_ID)
        assert chain.ok, f"{case.kills}: the chain breaks after a kill: {chain}"
        return j.events(RUN_ID), status


def _check_after_kill(case: Case) -> None:
    """Write-ahead: every write in the ledger has a committed `step.started` event."""
    events, _ = _journal_state(case)
    started = {f"{RUN_ID}/{e.step}" for e in events if e.type == "step.started"}
    applied = set(testing.applied_counts(case.ledger))
    assert applied <= started, (
        f"{case.kills}: applied before `step.started` was committed: {sorted(applied - started)}"
    )


def _check_done(case: Case, reference: dict[str, Any] | None = None) -> None:
    """The run succeeded, each write applied once, the record is whole and replays."""
    msg = f"{case.kills}"
    counts = testing.applied_counts(case.ledger)
    assert counts == Counter(dict.fromkeys(case.writes(), 1)), f"{msg}: ledger {counts}"
    with Journal(case.db) as j:
        record = j.run(RUN_ID)
        assert record.status == "succeeded", f"{msg}: status {record.status}"
        assert record.plan_hash == child.build_plan(case.plan, str(case.ledger)).hash, msg
        chain = j.verify(RUN_ID)
        assert chain.ok, f"{msg}: {chain}"
        assert j.integrity_check() == "ok", msg
        replay = Engine(catalog=testing.catalog(), journal=j).replay(RUN_ID)
        assert replay.ok, f"{msg}: {replay}"
        assert replay.note is None, f"{msg}: {replay}"
        events = j.events(RUN_ID)
    done = Counter(e.step for e in events if e.type == "step.succeeded")
    assert done == Counter({s.id: 1 for s in record.plan.steps}), f"{msg}: {done}"
    if reference is not None:
        assert _outputs(case) == reference, f"{msg}: the reads saw other values"


def _outputs(case: Case) -> dict[str, Any]:
    """What the reads returned and what the ledger holds (timings and flags left out)."""
    with Journal(case.db) as j:
        events = j.events(RUN_ID)
        plan = j.run(RUN_ID).plan
    echoes = {s.id for s in plan.steps if s.actor == "core.echo"}
    reads = {e.step: e.data["output"] for e in events if e.type == "step.succeeded"}
    items = {e["key"]: e["item"] for e in testing.ledger_entries(case.ledger)}
    return {"reads": {k: v for k, v in reads.items() if k in echoes}, "ledger": items}


def _events_of(tmp_path: Path, plan: str, parallel: int) -> list[list[Any]]:
    """The events an uninterrupted run of `plan` emits."""
    case = Case(tmp_path / f"events-{plan}-{parallel}", plan, parallel)
    report = _finish(case, "run")
    assert report["status"] == "succeeded"
    _check_done(case)
    events: list[list[Any]] = report["events"]
    return events


@pytest.mark.parametrize("parallel", [1, 3])
def test_kill_at_every_event_boundary_then_resume(tmp_path: Path, parallel: int) -> None:
    """Killed at each event of a 6-step plan, a resume applies every write exactly once."""
    n = len(_events_of(tmp_path, "short", parallel))
    assert n == 14  # run.started, 6 x (started, succeeded), run.succeeded
    for k in range(1, n + 1):
        case = Case(tmp_path / f"k{k}", "short", parallel)
        _kill_at_event(case, k)
        _check_after_kill(case)
        _, status = _journal_state(case)
        report = _finish(case, "resume")
        if status is None:  # nothing was committed before the kill: the run starts afresh
            assert report["restarted"], case.kills
        else:
            assert not report["restarted"], case.kills
        assert report["status"] == "succeeded", f"{case.kills}: {report}"
        _check_done(case)


def _timed_run(where: Path, parallel: int) -> tuple[float, int, dict[str, Any]]:
    """An uninterrupted run of the 24-step plan: seconds from `ready` to its report."""
    case = Case(where, "long", parallel)
    assert len(case.writes()) == 12
    with subprocess.Popen(
        case.argv("run"), cwd=case.cwd, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        start = time.monotonic()
        report = json.loads(proc.stdout.readline())
        seconds = time.monotonic() - start
        proc.communicate(timeout=TIMEOUT_S)
    assert report["status"] == "succeeded"
    assert len(report["events"]) == 50  # run.started, 24 x 2, run.succeeded
    _check_done(case)
    return seconds, parallel, _outputs(case)


def test_seeded_random_kills_of_a_24_step_plan(tmp_path: Path) -> None:
    """Killed at seeded random moments, possibly again while resuming, the run still ends well."""
    runs = [_timed_run(tmp_path / f"reference-{i}", i % 2 * 2 + 1) for i in range(4)]
    duration = {p: min(t for t, q, _ in runs if q == p) for p in (1, 3)}  # ready -> report
    reference = runs[0][2]
    assert all(outputs == reference for _, _, outputs in runs)

    killed = 0
    for seed in range(SEEDS):
        rng = random.Random(seed)
        parallel = 1 if seed % 2 == 0 else 3
        case = Case(tmp_path / f"seed{seed}", "long", parallel)
        case.kills.append(f"seed {seed}, run with parallel {parallel}")
        for crash in range(rng.choice([1, 1, 2, 3])):  # 1 to 3 crashes, the later ones resuming
            # A resume has less left to do than a run: kill it earlier.
            delay = rng.uniform(0, duration[parallel]) * (0.5 if crash else 1.0)
            if not _kill_after(case, "resume" if crash else "run", delay):
                break
            killed += 1
            _check_after_kill(case)
            case.parallel = rng.choice([1, 3])  # a resume may use another --parallel
            case.kills.append(f"resume with parallel {case.parallel}")
        report = _finish(case, "resume")
        assert report["status"] == "succeeded", f"{case.kills}: {report}"
        _check_done(case, reference)
    assert killed >= SEEDS // 2, f"only {killed} of the runs were killed before they ended"


def _once_started_without_result(case: Case) -> bool:
    events, _ = _journal_state(case)
    started = any(e.type == "step.started" and e.step == "o2" for e in events)
    ended = any(e.type in ("step.succeeded", "step.failed") and e.step == "o2" for e in events)
    return started and not ended


def test_non_idempotent_write_killed_mid_step_pauses_instead_of_applying_twice(
    tmp_path: Path,
) -> None:
    """A killed non-idempotent write pauses the resume; --retry then runs it once more."""
    events = _events_of(tmp_path, "once", 1)
    k = events.index(["step.succeeded", "o2"]) + 1  # applied; its result not yet committed
    case = Case(tmp_path / "once", "once")
    key = f"{RUN_ID}/o2"
    _kill_at_event(case, k)
    _check_after_kill(case)
    assert _once_started_without_result(case), case.kills
    assert testing.applied_counts(case.ledger)[key] == 1

    report = _finish(case, "resume")
    assert report["status"] == "paused", report
    assert "'o2'" in report["reason"], report
    assert "--retry" in report["reason"], report
    assert testing.applied_counts(case.ledger)[key] == 1  # no silent second application
    _, status = _journal_state(case)
    assert status == "paused"

    report = _finish(case, "resume", "--retry", "o2")
    assert report["status"] == "succeeded", report
    counts = testing.applied_counts(case.ledger)
    assert counts == Counter({f"{RUN_ID}/w1": 1, key: 2})  # retried knowingly, at most twice
    with Journal(case.db) as j:
        assert j.verify(RUN_ID).ok
        assert j.integrity_check() == "ok"
        assert Engine(catalog=testing.catalog(), journal=j).replay(RUN_ID).ok


def test_non_idempotent_write_at_every_event_boundary(tmp_path: Path) -> None:
    """At every boundary, a resume pauses exactly when the write's outcome is unknown."""
    events = _events_of(tmp_path, "once", 1)
    assert len(events) == 8
    key = f"{RUN_ID}/o2"
    for k in range(1, len(events) + 1):
        case = Case(tmp_path / f"k{k}", "once")
        _kill_at_event(case, k)
        _check_after_kill(case)
        unknown = _once_started_without_result(case)
        before = testing.applied_counts(case.ledger)[key]
        report = _finish(case, "resume")
        if unknown:
            assert report["status"] == "paused", f"{case.kills}: {report}"
            assert testing.applied_counts(case.ledger)[key] == before, case.kills
            report = _finish(case, "resume", "--retry", "o2")
            assert report["status"] == "succeeded", f"{case.kills}: {report}"
            assert testing.applied_counts(case.ledger)[key] == before + 1, case.kills
        else:
            assert report["status"] == "succeeded", f"{case.kills}: {report}"
            assert testing.applied_counts(case.ledger)[key] == 1, case.kills
        with Journal(case.db) as j:
            assert j.verify(RUN_ID).ok, case.kills
            assert j.integrity_check() == "ok", case.kills
            assert Engine(catalog=testing.catalog(), journal=j).replay(RUN_ID).ok, case.kills


@pytest.mark.parametrize(("run_parallel", "resume_parallel"), [(3, 1), (1, 3)])
def test_resume_with_other_parallelism_than_the_killed_run(
    tmp_path: Path, run_parallel: int, resume_parallel: int
) -> None:
    """A run killed with one --parallel resumes with another, and its record still replays."""
    events = _events_of(tmp_path, "short", run_parallel)
    # Killed before w3's result is committed; at --parallel 3, w4 may be in flight too.
    k = events.index(["step.succeeded", "w3"]) + 1
    case = Case(tmp_path / "case", "short", run_parallel)
    _kill_at_event(case, k)
    _check_after_kill(case)
    case.parallel = resume_parallel
    report = _finish(case, "resume")
    assert report["status"] == "succeeded", f"{case.kills}: {report}"
    _check_done(case)
