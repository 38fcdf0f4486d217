"""The journal: an append-only, hash-chained record of runs, kept in SQLite.

Every event of a run is chained: `hash_i = sha256(hash_{i-1} || canonical_json(event_i))`,
starting from 64 zeros; the first event (`run.started`) records the plan hash. Events are
buffered and committed together by `flush()` (group commit): the engine calls
`make_durable()` before it calls an actor, so the `step.started` event with its idempotency
key is durable first. A journal in memory, which nothing survives, commits in batches.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from planactor._errors import InputError, JournalError, RunBusy
from planactor.journal import _lease
from planactor.journal._chain import GENESIS, ChainReport, chain, check_chain
from planactor.journal._events import EventKind
from planactor.journal._open import open_database
from planactor.plan import Plan, canonical_json, canonical_text

__all__ = ["GENESIS", "ChainReport", "Journal", "JournalEvent", "RunRecord", "Synchronous"]

Synchronous = Literal["FULL", "NORMAL"]
# A journal in memory commits at most this many events at once (see `make_durable`).
_MEMORY_BATCH = 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    plan_hash TEXT NOT NULL,
    intent TEXT NOT NULL,
    plan TEXT NOT NULL,
    dry_run INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    head_seq INTEGER,
    head_hash TEXT
);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    step TEXT,
    body TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalEvent:
    """One recorded event. `body` is the canonical JSON that the hash covers."""

    run_id: str
    seq: int
    type: str
    step: str | None
    attempt: int | None
    at: str
    data: dict[str, Any]
    hash: str

    @staticmethod
    def body_of(
        *,
        run_id: str,
        seq: int,
        type: str,
        step: str | None,
        attempt: int | None,
        at: str,
        data: Mapping[str, Any],
    ) -> bytes:
        fast = _envelope(run_id, seq, type, step, attempt, at, data)
        if fast is not None:
            return fast.encode("utf-8")
        return canonical_json(
            {
                "run": run_id,
                "seq": seq,
                "type": type,
                "step": step,
                "attempt": attempt,
                "at": at,
                "data": data,
            }
        )


def _envelope(
    run_id: str,
    seq: int,
    kind: str,
    step: str | None,
    attempt: int | None,
    at: str,
    data: Mapping[str, Any],
) -> str | None:
    """`body_of` (before UTF-8) written out by hand, without building and sorting a dict.

    The keys are literals in sorted order and the scalars are encoded as json encodes
    them, so the bytes are the same; None for anything but the plain types, which take
    the general path.
    """
    if not (
        type(seq) is int
        and type(run_id) is str
        and type(kind) is str
        and type(at) is str
        and (step is None or type(step) is str)
        and (attempt is None or type(attempt) is int)
    ):
        return None
    return (
        f'{{"at":{encode_basestring(at)},"attempt":{"null" if attempt is None else attempt},'
        f'"data":{canonical_text(data)},"run":{encode_basestring(run_id)},"seq":{seq},'
        f'"step":{"null" if step is None else encode_basestring(step)},'
        f'"type":{encode_basestring(kind)}}}'
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    run_id: str
    plan_hash: str
    intent: str
    plan: Plan
    dry_run: bool
    status: str
    created_at: str
    updated_at: str


class Journal:
    """SQLite journal. `path=":memory:"` keeps it in memory (tests, benchmarks, dry runs).

    `synchronous="FULL"` (the default) makes every commit survive a power loss;
    `"NORMAL"` (in WAL mode) survives a crash of the process but may lose the last
    commits on a power loss, for about 100x more commits per second.

    `busy_timeout_s` is how long a commit waits for another process's write lock before
    the run stops with a JournalError (saying how to resume). Other processes hold it only
    for one commit each, but under FULL a commit waits for the disk, and a busy disk can
    take seconds per fsync: SQLite's default of 5 s stopped runs on a loaded machine.
    """

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        synchronous: Synchronous = "FULL",
        create: bool = True,
        busy_timeout_s: float = 30.0,
    ):
        if synchronous not in ("FULL", "NORMAL"):
            raise InputError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        self.path = str(path)
        # Checked before anything writes: a foreign, newer or damaged database is refused
        # untouched, an older journal migrated; `create=False` never makes a file.
        self._db = open_database(
            self.path,
            synchronous=synchronous,
            create=create,
            schema=_SCHEMA + _lease.LEASE_SCHEMA,
            migrate=_migrate,
            busy_timeout_s=busy_timeout_s,
        )
        self.synchronous = synchronous
        self._in_memory = self.path == ":memory:"
        self.commits = 0  # transactions committed: one fsync of the WAL each under FULL
        self._pending: list[tuple[str, int, str, str | None, str, str]] = []
        self._runs_pending: list[tuple[Any, ...]] = []
        self._status_pending: dict[str, tuple[str, str]] = {}
        self._heads: dict[str, tuple[int, str]] = {}
        # Each run's last committed event as this process knows it: a commit checks that
        # the database still ends there, so nobody else appended in between.
        self._base: dict[str, tuple[int, str]] = {}
        self._releases: set[str] = set()
        self._token = uuid.uuid4().hex
        # This process as a lease holder, once a claim or a commit needed it (`_holder`).
        self._me: _lease.Holder | None = None

    # -- writing ------------------------------------------------------------------------------

    def begin_run(
        self,
        *,
        run_id: str,
        plan: Plan,
        dry_run: bool,
        data: Mapping[str, Any],
        plan_hash: str | None = None,
    ) -> None:
        """Record a new run and its `run.started` event (flushed with the next flush).

        `plan_hash` saves recomputing the hash when the caller already has it.
        """
        plan_hash = plan_hash or plan.hash
        if self._row(run_id) is not None or run_id in self._heads:
            raise JournalError(f"run {run_id!r} already exists in {self.path}")
        now = _now()
        plan_text = json.dumps(plan.to_document(), ensure_ascii=False)
        self._runs_pending.append(
            (
                run_id,
                plan_hash,
                plan.intent,
                plan_text,
                int(dry_run),
                "running",
                now,
                now,
                -1,
                GENESIS,
            )
        )
        self._heads[run_id] = self._base[run_id] = (-1, GENESIS)
        self.append(run_id, EventKind.RUN_STARTED.value, data={"plan_hash": plan_hash, **data})

    def append(
        self,
        run_id: str,
        type: str,
        *,
        step: str | None = None,
        attempt: int | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> str:
        """Chain an event onto the run; it becomes durable at the next `flush()`."""
        seq, prev = self._head(run_id)
        at = _now()
        data = data or {}
        text = _envelope(run_id, seq + 1, type, step, attempt, at, data)
        if text is None:
            body = JournalEvent.body_of(
                run_id=run_id, seq=seq + 1, type=type, step=step, attempt=attempt, at=at, data=data
            )
            text = body.decode("utf-8")
        else:
            body = text.encode("utf-8")
        digest = chain(prev, body)
        self._pending.append((run_id, seq + 1, type, step, text, digest))
        self._heads[run_id] = (seq + 1, digest)
        return digest

    def set_status(self, run_id: str, status: str) -> None:
        self._status_pending[run_id] = (status, _now())
        # A paused or ended run is driven by nobody: its lease goes with that commit.
        if status == "running":
            self._releases.discard(run_id)
        else:
            self._releases.add(run_id)

    def claim(self, run_id: str, *, take_over: bool = False) -> _lease.Holder | None:
        """Hold the run's lease before deciding anything from its record (resume does).

        RunBusy names the live process that holds it. A stale lease (its process died) is
        taken over and returned; one held on another host only with `take_over`. The run's
        events are read afresh afterwards.
        """
        self.flush()
        me = self._holder()
        try:
            with self._transaction():
                stale = _lease.claim(self._db, run_id, me, take_over=take_over)
        except sqlite3.DatabaseError as e:
            raise self._write_error(e, run_id) from None
        self._heads.pop(run_id, None)
        self._base.pop(run_id, None)
        self._releases.discard(run_id)
        return stale

    def flush(self) -> None:
        """Commit everything appended so far in one transaction (one fsync under FULL)."""
        if not (self._pending or self._runs_pending or self._status_pending):
            return
        touched = {row[0] for row in self._pending}
        me = self._holder()
        try:
            with self._transaction():
                for run_id in sorted(touched | self._status_pending.keys()):
                    _lease.claim(self._db, run_id, me)
                    self._check_base(run_id)
                if self._runs_pending:
                    self._db.executemany(
                        "INSERT INTO runs (run_id, plan_hash, intent, plan, dry_run, status, "
                        "created_at, updated_at, head_seq, head_hash) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        self._runs_pending,
                    )
                self._db.executemany(
                    "INSERT INTO events (run_id, seq, type, step, body, hash) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    self._pending,
                )
                # The run's head travels with its events, so a tail cut off the events
                # table no longer matches the run's record.
                self._db.executemany(
                    "UPDATE runs SET head_seq = ?, head_hash = ? WHERE run_id = ?",
                    [(*self._heads[r], r) for r in touched],
                )
                for run_id, (status, at) in self._status_pending.items():
                    self._db.execute(
                        "UPDATE runs SET status = ?, updated_at = ? WHERE run_id = ?",
                        (status, at, run_id),
                    )
                for run_id in self._releases:
                    _lease.release(self._db, run_id, self._token)
        except RunBusy:
            # Another process drives (or drove) the run: what this one buffered would be
            # chained onto a head that is no longer the last; it is dropped, not forced in.
            self._drop_pending()
            raise
        except sqlite3.DatabaseError as e:
            raise self._write_error(e, next(iter(sorted(touched)), None)) from None
        for run_id in touched:
            self._base[run_id] = self._heads[run_id]
        self._releases.clear()
        self._pending.clear()
        self._runs_pending.clear()
        self._status_pending.clear()
        self.commits += 1

    def make_durable(self) -> None:
        """What the engine calls before it calls an actor: `flush()`, for a journal on disk.

        A journal in memory survives nothing, so a commit there buys no durability: it
        commits in batches (and whenever a reader flushes, so readers see every event).
        The events, their order and their chain are the same either way.
        """
        if not self._in_memory or len(self._pending) >= _MEMORY_BATCH:
            self.flush()

    def _holder(self) -> _lease.Holder:
        """This process as a lease holder: read once (it reads /proc), again after a fork."""
        me = self._me
        if me is None or me.pid != os.getpid():
            me = self._me = _lease.Holder.this_process(token=self._token, since=_now())
        return me

    def _check_base(self, run_id: str) -> None:
        """RunBusy unless the run's last committed event is the one this process built on."""
        row = self._db.execute(
            "SELECT seq, hash FROM events WHERE run_id = ? ORDER BY seq DESC LIMIT 1", (run_id,)
        ).fetchone()
        found = (-1, GENESIS) if row is None else (int(row[0]), str(row[1]))
        base = self._base.setdefault(run_id, found)
        if found != base:
            raise RunBusy(
                f"run {run_id} was written by another process while this one drove it "
                f"(it now ends at event #{found[0]}; this process built on #{base[0]}); "
                "this process recorded nothing more",
                hint=f"`planactor audit verify {run_id}`, then `planactor resume {run_id}`",
            )

    def _drop_pending(self) -> None:
        for run_id in {row[0] for row in self._pending}:
            self._heads.pop(run_id, None)
            self._base.pop(run_id, None)
        self._pending.clear()
        self._runs_pending.clear()
        self._status_pending.clear()
        self._releases.clear()

    def _write_error(self, e: sqlite3.DatabaseError, run_id: str | None) -> JournalError:
        """The error for a failed commit, saying how to go on with the run it interrupted."""
        hint = None
        if run_id is not None:
            hint = (
                f"run {run_id} stopped here; what it did before is in the journal: "
                f"`planactor resume {run_id}` continues it once the journal is writable"
            )
        return JournalError(f"{self.path}: cannot write the journal: {e}", hint=hint)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _head(self, run_id: str) -> tuple[int, str]:
        head = self._heads.get(run_id)
        if head is None:
            row = self._db.execute(
                "SELECT seq, hash FROM events WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
                (run_id,),
            ).fetchone()
            if row is None:
                raise JournalError(f"run {run_id!r} has no events in {self.path}")
            head = self._heads[run_id] = (int(row[0]), str(row[1]))
            self._base.setdefault(run_id, head)
        return head

    # -- reading ------------------------------------------------------------------------------

    def _row(self, run_id: str) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._db.execute(
            "SELECT run_id, plan_hash, intent, plan, dry_run, status, created_at, updated_at "
            "FROM runs WHERE run_id = ?",
            (run_id,),
        ).fetchone()
        return row

    def run(self, run_id: str) -> RunRecord:
        self.flush()
        row = self._row(run_id)
        if row is None:
            raise InputError(
                f"no run {run_id!r} in {self.path}", hint="`planactor runs` lists the runs"
            )
        return _record(row)

    def run_ids(self) -> list[str]:
        """Every run id, oldest first, without reading the stored plans."""
        self.flush()
        rows = self._db.execute("SELECT run_id FROM runs ORDER BY created_at, run_id").fetchall()
        return [str(r[0]) for r in rows]

    def runs(self) -> list[RunRecord]:
        self.flush()
        rows = self._db.execute(
            "SELECT run_id, plan_hash, intent, plan, dry_run, status, created_at, updated_at "
            "FROM runs ORDER BY created_at, run_id"
        ).fetchall()
        return [_record(r) for r in rows]

    def events(self, run_id: str, *, limit: int | None = None) -> list[JournalEvent]:
        """The run's events in order; the first `limit` of them when given (1: how it began,
        with the labels and links the run was started with)."""
        self.flush()
        rows = self._db.execute(
            "SELECT seq, body, hash FROM events WHERE run_id = ? ORDER BY seq LIMIT ?",
            (run_id, -1 if limit is None else limit),
        ).fetchall()
        out = []
        for seq, body, digest in rows:
            try:
                doc = json.loads(body)
                event = JournalEvent(
                    run_id=run_id,
                    seq=int(seq),
                    type=doc["type"],
                    step=doc["step"],
                    attempt=doc["attempt"],
                    at=doc["at"],
                    data=doc["data"],
                    hash=str(digest),
                )
            except (ValueError, TypeError, KeyError):
                raise JournalError(
                    f"run {run_id!r}: event #{seq} in {self.path} is not a journal event",
                    hint="`planactor audit verify` checks the whole chain",
                ) from None
            out.append(event)
        return out

    def head(self, run_id: str) -> tuple[int, str]:
        """The run's last event: its sequence number and hash (what an anchor records)."""
        self.flush()
        self.run(run_id)  # an unknown run is bad input, named with a hint
        return self._head(run_id)

    def verify(self, run_id: str, *, anchor: tuple[int, str] | None = None) -> ChainReport:
        """Recompute the chain from the stored bodies; name the first event that breaks it
        (`check_chain`: also the run's recorded head, and `anchor` if given)."""
        self.flush()
        rows = self._db.execute(
            "SELECT seq, body, hash FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
        ).fetchall()
        recorded = self._db.execute(
            "SELECT head_seq, head_hash FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        head = None
        if recorded is not None and recorded[0] is not None:
            head = (int(recorded[0]), str(recorded[1]))
        return check_chain(run_id, rows, recorded_head=head, anchor=anchor)

    def integrity_check(self) -> str:
        row = self._db.execute("PRAGMA integrity_check").fetchone()
        return str(row[0])

    def close(self) -> None:
        try:
            self.flush()
        finally:
            try:  # a run this process still holds (it was interrupted) is free to resume
                # Only a journal that claimed or committed can hold a lease: a reader never
                # waits for the write lock to close.
                if self._me is not None:
                    with self._transaction():
                        _lease.release_all(self._db, self._token)
            except sqlite3.DatabaseError:
                pass  # a stale lease is taken over by the next claim anyway
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _migrate(db: sqlite3.Connection) -> None:
    """Journals made before runs recorded their head gain the two columns."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    for name, kind in (("head_seq", "INTEGER"), ("head_hash", "TEXT")):
        if name not in columns:
            db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")


def _record(row: tuple[Any, ...]) -> RunRecord:
    try:
        plan = Plan.model_validate_json(row[3])
    except ValidationError as e:
        raise JournalError(
            f"run {row[0]!r}: its stored plan cannot be read ({e.error_count()} errors); "
            "the journal was altered"
        ) from None
    return RunRecord(
        run_id=row[0],
        plan_hash=row[1],
        intent=row[2],
        plan=plan,
        dry_run=bool(row[4]),
        status=row[5],
        created_at=row[6],
        updated_at=row[7],
    )


# (whole second, its ISO text): formatting a datetime costs more than the rest of an event.
_second: tuple[int, str] = (-1, "")


def _now() -> str:
    """`datetime.now(UTC).isoformat(timespec="microseconds")`, formatted once a second."""
    global _second
    sec, micro = divmod(time.time_ns() // 1000, 1_000_000)
    cached = _second
    if cached[0] != sec:
        text = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        cached = _second = (sec, text)
    return f"{cached[1]}.{micro:06d}+00:00"
