"""`planactor.journal.Journal`: SQLite storage, the hash chain, verification, group commit."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forgery import rewrite_chain, sql
from planactor import InputError, JournalError
from planactor.journal import GENESIS, Journal, JournalEvent
from planactor.plan import Plan, canonical_json

RUN = "run-1"
EVENTS = 6  # run.started plus five more


def make_plan(intent: str = "journal test") -> Plan:
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": intent,
            "requested_by": "tests",
            "steps": [{"id": "a", "actor": "core.echo", "args": {"message": "hi"}}],
        }
    )


def record_run(j: Journal, run_id: str = RUN, n: int = EVENTS - 1) -> None:
    j.begin_run(run_id=run_id, plan=make_plan(), dry_run=False, data={"parallel": 1})
    for i in range(n):
        j.append(run_id, "step.started", step="a", attempt=i + 1, data={"args": {"i": i}})
    j.flush()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "j.db"


@pytest.fixture
def journal(db: Path) -> Iterator[Journal]:
    j = Journal(db)
    record_run(j)
    yield j
    j.close()


def rows(db: Path, run_id: str = RUN) -> list[tuple[int, str, str]]:
    with sqlite3.connect(db) as conn:
        out = conn.execute(
            "SELECT seq, body, hash FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
        ).fetchall()
    conn.close()
    return out


# -- the chain ------------------------------------------------------------------------------


def test_chain_follows_the_documented_formula(journal: Journal) -> None:
    """hash_i = sha256(hash_{i-1} || body_i) from 64 zeros; event #0 records the plan hash."""
    events = journal.events(RUN)
    assert [e.seq for e in events] == list(range(EVENTS))
    assert events[0].type == "run.started"
    assert events[0].data["plan_hash"] == make_plan().hash
    prev = GENESIS
    for e in events:
        body = canonical_json(
            {
                "run": RUN,
                "seq": e.seq,
                "type": e.type,
                "step": e.step,
                "attempt": e.attempt,
                "at": e.at,
                "data": e.data,
            }
        )
        prev = hashlib.sha256(prev.encode("ascii") + body).hexdigest()
        assert e.hash == prev
    report = journal.verify(RUN)
    assert report.ok
    assert report.events == EVENTS
    assert report.head == prev
    assert report.first_bad_seq is None


def test_changed_byte_in_a_body_is_detected_at_that_event(journal: Journal, db: Path) -> None:
    """One changed character inside event #3's data breaks the chain at #3."""
    sql(db, "UPDATE events SET body = replace(body, '\"i\":2', '\"i\":7') WHERE seq = 3")
    report = journal.verify(RUN)
    assert not report.ok
    assert report.first_bad_seq == 3
    assert report.reason == "its hash does not match its body and the previous hash"
    assert report.head == rows(db)[2][2]  # the last hash that verified


def test_deleted_event_is_detected_where_it_was(journal: Journal, db: Path) -> None:
    """Deleting event #2 breaks the chain at #2, the place of the missing event."""
    sql(db, "DELETE FROM events WHERE seq = 2")
    report = journal.verify(RUN)
    assert not report.ok
    assert report.first_bad_seq == 2
    assert "expected event #2" in (report.reason or "")


def test_reordered_events_are_detected_at_the_first_swapped_one(journal: Journal, db: Path) -> None:
    """Swapping the seq values of events #2 and #3 breaks the chain at #2."""
    sql(db, "UPDATE events SET seq = -1 WHERE seq = 2")
    sql(db, "UPDATE events SET seq = 2 WHERE seq = 3")
    sql(db, "UPDATE events SET seq = 3 WHERE seq = -1")
    report = journal.verify(RUN)
    assert not report.ok
    assert report.first_bad_seq == 2
    assert "reordered" in (report.reason or "")


def test_truncated_tail_is_caught_by_the_runs_recorded_head(journal: Journal, db: Path) -> None:
    """A cut tail is a valid shorter chain, but the run's record names a later head."""
    sql(db, "DELETE FROM events WHERE seq >= 4")
    report = journal.verify(RUN)
    assert not report.ok
    assert report.first_bad_seq == 4
    assert "cut off" in (report.reason or "")


def test_truncated_tail_with_a_forged_head_is_caught_by_the_anchor(
    journal: Journal, db: Path
) -> None:
    """A cut tail whose run record is forged to match verifies alone; the anchor exposes it."""
    anchor = journal.head(RUN)
    sql(db, "DELETE FROM events WHERE seq >= 4")
    last = sqlite3.connect(db).execute("SELECT hash FROM events WHERE seq = 3").fetchone()[0]
    sql(db, f"UPDATE runs SET head_seq = 3, head_hash = '{last}'")
    assert journal.verify(RUN).ok
    report = journal.verify(RUN, anchor=anchor)
    assert not report.ok
    assert "cut off" in (report.reason or "")


def test_consistent_rewrite_verifies_alone_but_fails_the_anchor(journal: Journal, db: Path) -> None:
    """A whole chain rewritten with recomputed hashes verifies; against the anchor it does not."""
    anchor = journal.head(RUN)
    anchored = anchor[1]

    def edit(doc: dict[str, Any]) -> None:
        if doc["seq"] == 1:
            doc["data"]["args"]["i"] = 99

    rewrite_chain(db, RUN, edit)
    report = journal.verify(RUN)
    assert report.ok
    assert report.head != anchored
    assert journal.events(RUN)[1].data["args"] == {"i": 99}
    against = journal.verify(RUN, anchor=anchor)
    assert not against.ok
    assert "rewritten" in (against.reason or "")


def test_body_that_is_not_json_is_detected(journal: Journal, db: Path) -> None:
    """An event body that is not JSON breaks the chain there, and events() refuses it."""
    sql(db, "UPDATE events SET body = 'garbage{' WHERE seq = 4")
    report = journal.verify(RUN)
    assert not report.ok
    assert report.first_bad_seq == 4
    assert report.reason == "its body is not JSON"
    with pytest.raises(JournalError, match="#4"):
        journal.events(RUN)


def test_body_that_is_json_but_not_an_object_is_detected(journal: Journal, db: Path) -> None:
    """A body that is a JSON list breaks the chain there instead of crashing verify."""
    sql(db, "UPDATE events SET body = '[1, 2]' WHERE seq = 1")
    report = journal.verify(RUN)
    assert report.first_bad_seq == 1
    assert report.reason == "its body is not a JSON object"


def test_event_from_another_run_is_detected(journal: Journal, db: Path) -> None:
    """Another run's intact chain copied under this run id fails at #0: it belongs elsewhere."""
    record_run(journal, "run-2")
    sql(db, "DELETE FROM events WHERE run_id = ?", RUN)
    sql(
        db,
        "INSERT INTO events SELECT ?, seq, type, step, body, hash FROM events WHERE run_id = ?",
        RUN,
        "run-2",
    )
    assert journal.verify("run-2").ok
    report = journal.verify(RUN)
    assert not report.ok
    assert report.first_bad_seq == 0
    assert report.reason == "it belongs to another run"


def test_run_with_no_events_does_not_verify(journal: Journal, db: Path) -> None:
    """A run whose events are all gone fails verification at #0."""
    sql(db, "DELETE FROM events WHERE run_id = ?", RUN)
    report = journal.verify(RUN)
    assert not report.ok
    assert report.events == 0
    assert report.first_bad_seq == 0
    assert report.reason == "the run has no events"
    assert report.head == GENESIS


def test_chain_continues_across_reopening(journal: Journal, db: Path) -> None:
    """A second Journal on the same file appends onto the stored head; the chain verifies."""
    journal.close()
    with Journal(db) as again:
        again.append(RUN, "run.resumed", data={})
        again.flush()
        report = again.verify(RUN)
        assert report.ok
        assert report.events == EVENTS + 1


# -- storage --------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "pragma"), [("FULL", 2), ("NORMAL", 1)])
def test_full_and_normal_synchronous_both_work(db: Path, mode: Any, pragma: int) -> None:
    """Both synchronous modes open in WAL mode and store a verifiable run."""
    with Journal(db, synchronous=mode) as j:
        assert j.synchronous == mode
        assert j._db.execute("PRAGMA synchronous").fetchone()[0] == pragma
        assert j._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        record_run(j)
        assert j.verify(RUN).ok


def test_invalid_synchronous_is_an_input_error(db: Path) -> None:
    """A synchronous mode other than FULL or NORMAL raises InputError."""
    with pytest.raises(InputError, match="synchronous"):
        Journal(db, synchronous="OFF")  # type: ignore[arg-type]
    assert not db.exists()


def test_unknown_run_id_is_an_input_error_with_a_hint(journal: Journal) -> None:
    """Asking for a run that is not there raises InputError (exit 2) pointing to `runs`."""
    with pytest.raises(InputError, match="no run 'run-404'") as info:
        journal.run("run-404")
    assert info.value.exit_code == 2
    assert "planactor runs" in (info.value.hint or "")


def test_begin_run_twice_is_a_journal_error(journal: Journal, db: Path) -> None:
    """A run id can begin once: again before or after the flush, or from another Journal, fails."""
    with pytest.raises(JournalError, match="already exists"):
        journal.begin_run(run_id=RUN, plan=make_plan(), dry_run=False, data={})
    journal.begin_run(run_id="pending", plan=make_plan(), dry_run=False, data={})
    with pytest.raises(JournalError, match="already exists"):
        journal.begin_run(run_id="pending", plan=make_plan(), dry_run=False, data={})
    with Journal(db) as other, pytest.raises(JournalError, match="already exists"):
        other.begin_run(run_id=RUN, plan=make_plan(), dry_run=True, data={})


def test_events_are_invisible_to_other_connections_until_flush(journal: Journal, db: Path) -> None:
    """Appended events reach the database in one transaction at flush(), not before."""
    commits = journal.commits
    journal.append(RUN, "step.succeeded", step="a", attempt=5, data={"output": None})
    journal.append(RUN, "run.succeeded", data={"status": "succeeded"})
    journal.set_status(RUN, "succeeded")
    assert len(rows(db)) == EVENTS
    journal.flush()
    assert len(rows(db)) == EVENTS + 2
    assert journal.commits == commits + 1
    journal.flush()  # nothing pending: no empty transaction
    assert journal.commits == commits + 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM runs").fetchone() == ("succeeded",)
    conn.close()


def test_readers_of_the_same_journal_see_pending_events(journal: Journal) -> None:
    """run(), events() and verify() flush first, so they see what was just appended."""
    journal.append(RUN, "run.paused", data={"reason": "r"})
    journal.set_status(RUN, "paused")
    assert journal.events(RUN)[-1].type == "run.paused"
    assert journal.run(RUN).status == "paused"
    assert journal.verify(RUN).events == EVENTS + 1


def test_run_record_round_trips_the_plan(journal: Journal) -> None:
    """The stored run gives back the plan, its hash, intent and dry-run flag."""
    record = journal.run(RUN)
    assert record.plan == make_plan()
    assert record.plan_hash == make_plan().hash
    assert record.intent == "journal test"
    assert not record.dry_run
    assert [r.run_id for r in journal.runs()] == [RUN]


def test_unreadable_stored_plan_is_a_journal_error(journal: Journal, db: Path) -> None:
    """A stored plan altered into something that is not a plan gives JournalError."""
    sql(db, "UPDATE runs SET plan = '{\"steps\": 1}'")
    with pytest.raises(JournalError, match="stored plan cannot be read"):
        journal.run(RUN)


def test_integrity_check_is_ok(journal: Journal) -> None:
    """SQLite's integrity check of a fresh journal says ok."""
    assert journal.integrity_check() == "ok"


def test_memory_journal_works(tmp_path: Path) -> None:
    """ ":memory:" keeps the journal in memory and creates no file."""
    with Journal(":memory:") as j:
        record_run(j)
        assert j.verify(RUN).ok
        assert j.path == ":memory:"
    assert list(tmp_path.iterdir()) == []


def test_file_that_is_not_sqlite_is_bad_input(tmp_path: Path) -> None:
    """Opening a file that is not an SQLite database is bad input (exit 2) naming it (issue 18:
    a foreign file is refused untouched, not a failed run)."""
    bad = tmp_path / "notes.db"
    bad.write_text("this is not a database, just some words that fill a page\n" * 40)
    with pytest.raises(InputError) as info:
        Journal(bad)
    assert info.value.exit_code == 2
    assert str(bad) in str(info.value)


def test_missing_parent_directories_are_created(tmp_path: Path) -> None:
    """A journal path in directories that do not exist yet is created."""
    path = tmp_path / "a" / "b" / "j.db"
    with Journal(path) as j:
        record_run(j)
    assert path.exists()


_DATA = st.dictionaries(
    st.text(),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=10,
    ),
)


@settings(max_examples=300)
@given(
    run_id=st.text(),
    seq=st.integers(min_value=0),
    type_=st.text(),
    step=st.none() | st.text(),
    attempt=st.none() | st.integers(min_value=1),
    at=st.text(),
    data=_DATA,
)
def test_event_bodies_are_the_canonical_json_of_the_documented_envelope(
    run_id: str,
    seq: int,
    type_: str,
    step: str | None,
    attempt: int | None,
    at: str,
    data: dict[str, Any],
) -> None:
    """The hand-written event body equals canonical_json of {run, seq, type, step, ...}."""
    body = JournalEvent.body_of(
        run_id=run_id, seq=seq, type=type_, step=step, attempt=attempt, at=at, data=data
    )
    envelope = {
        "run": run_id,
        "seq": seq,
        "type": type_,
        "step": step,
        "attempt": attempt,
        "at": at,
        "data": data,
    }
    assert body == canonical_json(envelope)


def test_an_in_memory_journal_batches_commits_but_readers_see_every_event() -> None:
    """make_durable on :memory: does not commit each event; a read flushes them all first."""
    plan = Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "t",
            "requested_by": "a",
            "steps": [{"id": "a", "actor": "core.echo", "args": {"message": "m"}}],
        }
    )
    with Journal(":memory:") as j:
        j.begin_run(run_id="r", plan=plan, dry_run=False, data={})
        for i in range(10):
            j.append("r", "step.started", step="a", attempt=1, data={"i": i})
            j.make_durable()
        assert j.commits == 0
        assert len(j.events("r")) == 11
        assert j.verify("r").ok
