"""Run leases and the head check: one driver per run, stale leases taken over, foreign appends
never chained over (issue 17 item 4)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from planactor import JournalError, Plan, RunBusy
from planactor.catalog import Catalog, actor
from planactor.engine import Engine
from planactor.journal import Journal
from planactor.journal._lease import Holder, holder_alive

PLAN = Plan.model_validate(
    {
        "api_version": "planactor/v1",
        "intent": "lease test",
        "requested_by": "alice",
        "steps": [{"id": "e", "actor": "core.echo", "args": {"message": "hi"}}],
    }
)


class LockIn(BaseModel):
    pass


class LockOut(BaseModel):
    ok: bool = True


def _begin(db: Path, run_id: str = "r1") -> Journal:
    journal = Journal(db)
    journal.begin_run(run_id=run_id, plan=PLAN, dry_run=False, data={})
    journal.flush()
    return journal


def _lease_row(db: Path, run_id: str = "r1") -> tuple[object, ...] | None:
    conn = sqlite3.connect(db)
    row: tuple[object, ...] | None = conn.execute(
        "SELECT token, pid, host FROM leases WHERE run_id = ?", (run_id,)
    ).fetchone()
    conn.close()
    return row


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _set_lease(db: Path, *, pid: int, host: str, run_id: str = "r1") -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO leases (run_id, token, pid, host, proc_start, since) "
            "VALUES (?, 'other', ?, ?, NULL, '2026-01-01T00:00:00+00:00')",
            (run_id, pid, host),
        )
    conn.close()


def test_starting_a_run_holds_its_lease_until_it_pauses(tmp_path: Path) -> None:
    """begin_run takes the lease in its first commit; a paused status releases it."""
    db = tmp_path / "j.db"
    journal = _begin(db)
    row = _lease_row(db)
    assert row is not None
    assert row[1] == os.getpid()
    journal.append("r1", "run.paused", data={"reason": "x"})
    journal.set_status("r1", "paused")
    journal.flush()
    assert _lease_row(db) is None
    journal.close()


def test_a_second_driver_in_a_live_process_is_refused_by_name(tmp_path: Path) -> None:
    """While one journal drives a run, another may neither claim it nor append to it."""
    db = tmp_path / "j.db"
    first = _begin(db)
    second = Journal(db)
    with pytest.raises(RunBusy, match=r"run r1 is being driven by process \d+ on "):
        second.claim("r1")
    second.append("r1", "step.started", step="e", attempt=1, data={})
    with pytest.raises(RunBusy, match="being driven by"):
        second.flush()
    assert [e.type for e in first.events("r1")] == ["run.started"]
    second.close()
    first.close()


def test_closing_a_journal_frees_the_runs_it_held(tmp_path: Path) -> None:
    """A process that stops mid-run (its journal closed) leaves the run free to resume."""
    db = tmp_path / "j.db"
    _begin(db).close()
    assert _lease_row(db) is None
    other = Journal(db)
    assert other.claim("r1") is None
    other.close()


def test_a_dead_holders_lease_is_taken_over(tmp_path: Path) -> None:
    """A lease whose process is gone is stale: claim takes it and returns who held it."""
    db = tmp_path / "j.db"
    _begin(db).close()
    pid = _dead_pid()
    _set_lease(db, pid=pid, host=socket.gethostname())
    journal = Journal(db)
    stale = journal.claim("r1")
    assert stale is not None
    assert stale.pid == pid
    row = _lease_row(db)
    assert row is not None
    assert row[1] == os.getpid()
    journal.close()


def test_a_lease_held_on_another_host_needs_take_over(tmp_path: Path) -> None:
    """Liveness on another host cannot be judged: RunBusy with a --take-over hint, unless asked."""
    db = tmp_path / "j.db"
    _begin(db).close()
    _set_lease(db, pid=1, host="elsewhere.example")
    journal = Journal(db)
    with pytest.raises(RunBusy) as info:
        journal.claim("r1")
    assert "on elsewhere.example" in info.value.message
    assert info.value.hint is not None
    assert "--take-over" in info.value.hint
    stale = journal.claim("r1", take_over=True)
    assert stale is not None
    assert stale.host == "elsewhere.example"
    journal.close()


def test_a_foreign_append_is_never_chained_over(tmp_path: Path) -> None:
    """A journal whose run gained an event it did not write refuses to commit on top of it,
    and drops what it buffered instead of forcing it in."""
    db = tmp_path / "j.db"
    first = _begin(db)
    first.append("r1", "step.started", step="e", attempt=1, data={})
    first.flush()
    # Another writer that ignores leases: the lease row removed, an event appended.
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM leases")
    conn.close()
    intruder = Journal(db)
    intruder.append("r1", "step.succeeded", step="e", attempt=1, data={"output": {}})
    intruder.close()
    first.append("r1", "step.failed", step="e", attempt=1, data={"error": {}})
    with pytest.raises(RunBusy, match="written by another process"):
        first.flush()
    first.close()
    with Journal(db) as journal:
        assert [e.type for e in journal.events("r1")] == [
            "run.started",
            "step.started",
            "step.succeeded",
        ]
        assert journal.verify("r1").ok


def test_holder_alive_tells_a_reused_pid_from_its_process() -> None:
    """The same pid with another start time is another process: the holder is dead."""
    me = Holder.this_process(token="t", since="now")
    assert holder_alive(me) is True
    assert holder_alive(
        Holder(token="t", pid=os.getpid(), host=socket.gethostname(), proc_start="1", since="now")
    ) is (me.proc_start == "1")
    assert (
        holder_alive(
            Holder(
                token="t", pid=_dead_pid(), host=socket.gethostname(), proc_start=None, since="now"
            )
        )
        is False
    )


def test_a_journal_lock_that_stops_a_run_names_the_run_and_its_resume(tmp_path: Path) -> None:
    """When the journal stays locked by another program past SQLite's busy timeout, the run
    stops with a JournalError whose hint names the run and `planactor resume RUN`."""
    db = tmp_path / "j.db"
    holders: list[sqlite3.Connection] = []

    @actor(name="t.lock_journal", effect="read")
    def lock_journal(args: LockIn) -> LockOut:
        """Take the journal's write lock and keep it (another program's long transaction)."""
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        holders.append(conn)
        return LockOut()

    plan = Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "lock",
            "requested_by": "alice",
            "steps": [{"id": "lock", "actor": "t.lock_journal", "args": {}}],
        }
    )
    journal = Journal(db, busy_timeout_s=0.5)
    with pytest.raises(JournalError) as info:
        Engine(catalog=Catalog([lock_journal], pack="t"), journal=journal).run(
            plan, run_id="run-locked"
        )
    for conn in holders:  # the other program ends its transaction: nothing was lost
        conn.rollback()
        conn.close()
    journal.close()
    assert "database is locked" in info.value.message
    assert info.value.hint is not None
    assert "run-locked" in info.value.hint
    assert "planactor resume run-locked" in info.value.hint
    with Journal(db) as reread:
        assert [e.type for e in reread.events("run-locked")][-2:] == [
            "step.succeeded",
            "run.succeeded",
        ]
        assert reread.verify("run-locked").ok
