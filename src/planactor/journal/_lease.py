"""Run leases: at most one live process drives a run at a time.

A process that starts, resumes or appends to a run first holds the run's lease: one row in
the journal's `leases` table naming its process (pid, host, the process's start time) and a
token unique to its `Journal`. Taking it is part of an IMMEDIATE transaction, so two
processes racing for one run are serialised by SQLite and the loser is told who won. A lease
whose holder is gone (the process died, or its pid now belongs to another process) is
stale and taken over; one held on another host cannot be judged from here and is taken
over only when asked (`take_over=True`, after a person checked that host).

The lease alone does not stop a process that ignores it (or a clock-less race in which a
dead holder's pid is reused within the same clock tick): every commit also checks that the
run's last event is still the one this process built on, so a foreign append is never
chained over.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from dataclasses import dataclass

from planactor._errors import RunBusy

__all__ = ["LEASE_SCHEMA", "Holder", "claim", "holder_alive", "release", "release_all"]

LEASE_SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    run_id TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    proc_start TEXT,
    since TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Holder:
    """Who holds (or wants) a run's lease."""

    token: str
    pid: int
    host: str
    proc_start: str | None
    since: str

    @classmethod
    def this_process(cls, *, token: str, since: str) -> Holder:
        pid = os.getpid()
        return cls(
            token=token,
            pid=pid,
            host=socket.gethostname(),
            proc_start=_proc_start(pid),
            since=since,
        )

    def describe(self) -> str:
        return f"process {self.pid} on {self.host} since {self.since[:19].replace('T', ' ')}"


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name, or None where there is none."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    # The command name is in parentheses and may itself hold spaces or parentheses.
    return text[text.rfind(")") + 2 :].split()


def _proc_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot: with the pid, it names a process."""
    fields = _proc_stat(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def holder_alive(holder: Holder) -> bool | None:
    """True or False for a holder on this host; None when it runs elsewhere (undecidable)."""
    if holder.host != socket.gethostname():
        return None
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    fields = _proc_stat(holder.pid)
    if fields is None:
        return True  # no /proc: the signal said it exists
    if fields[0] in ("Z", "X"):
        return False  # exited, not yet reaped by its parent
    # The same pid with another start time is another process: the holder died.
    return holder.proc_start is None or fields[19] == holder.proc_start


def _read(db: sqlite3.Connection, run_id: str) -> Holder | None:
    row = db.execute(
        "SELECT token, pid, host, proc_start, since FROM leases WHERE run_id = ?", (run_id,)
    ).fetchone()
    if row is None:
        return None
    return Holder(
        token=str(row[0]),
        pid=int(row[1]),
        host=str(row[2]),
        proc_start=None if row[3] is None else str(row[3]),
        since=str(row[4]),
    )


def claim(
    db: sqlite3.Connection, run_id: str, me: Holder, *, take_over: bool = False
) -> Holder | None:
    """Hold `run_id`'s lease; call inside the write transaction that depends on it.

    Returns the stale holder taken over, if any. Raises RunBusy when a live process (or,
    without `take_over`, a process on another host) holds it.
    """
    held = _read(db, run_id)
    if held is not None and held.token == me.token:
        return None
    if held is not None:
        alive = holder_alive(held)
        if alive or (alive is None and not take_over):
            elsewhere = alive is None
            raise RunBusy(
                f"run {run_id} is being driven by {held.describe()}",
                hint=(
                    "if that process is gone, `planactor resume "
                    f"{run_id} --take-over` takes the run over"
                    if elsewhere
                    else "wait for it to finish or pause (`planactor runs`), then resume"
                ),
            )
    db.execute(
        "INSERT OR REPLACE INTO leases (run_id, token, pid, host, proc_start, since) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (run_id, me.token, me.pid, me.host, me.proc_start, me.since),
    )
    return held


def release(db: sqlite3.Connection, run_id: str, token: str) -> None:
    db.execute("DELETE FROM leases WHERE run_id = ? AND token = ?", (run_id, token))


def release_all(db: sqlite3.Connection, token: str) -> None:
    db.execute("DELETE FROM leases WHERE token = ?", (token,))
