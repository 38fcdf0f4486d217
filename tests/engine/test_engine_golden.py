"""Golden journals: runs recorded by an earlier build still verify and replay in this one.

The files in `golden/` are journal rows as a release wrote them (regenerate them with
`python tests/engine/golden/regenerate.py`, only for an intended format change). If a
change to the engine, the scheduler, the codec or the journal makes one of them fail to
verify or to replay, journals that users already hold would fail the same way.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from planactor import testing
from planactor.catalog import Catalog, actor_of
from planactor.engine import Engine
from planactor.journal import Journal, event_problem
from planactor.plan import RetryPolicy

GOLDEN = Path(__file__).parent / "golden"
FILES = sorted(GOLDEN.glob("*.json"))


def _load(doc: dict[str, Any], db: Path) -> str:
    """The recorded rows inserted, as stored, into a new journal file; the run's id."""
    Journal(db).close()  # the current schema
    conn = sqlite3.connect(db)
    with conn:
        for table in ("runs", "events"):
            for row in doc[table]:
                cols = ", ".join(row)
                marks = ", ".join("?" for _ in row)
                conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values()))
    conn.close()
    (run,) = doc["runs"]
    return str(run["run_id"])


def test_every_scenario_has_its_golden_journal() -> None:
    """A succeeded, a retried, a paused-and-resumed, a compensated and a parallel run."""
    assert [f.stem for f in FILES] == [
        "compensated",
        "parallel",
        "paused-resumed",
        "retry",
        "succeeded",
    ]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_a_golden_journal_verifies_and_replays(path: Path, tmp_path: Path) -> None:
    """Its chain verifies, every event is well formed, and replay re-derives every decision."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "planactor-golden-journal/1"
    run_id = _load(doc, tmp_path / "j.db")
    with Journal(tmp_path / "j.db") as journal:
        chain = journal.verify(run_id)
        assert chain.ok, chain
        assert chain.events == len(doc["events"])
        record = journal.run(run_id)
        assert record.status == doc["status"]
        assert record.plan.hash == record.plan_hash
        for ev in journal.events(run_id):
            assert event_problem(ev.type, ev.step, ev.attempt, ev.data) is None, ev
        report = Engine(catalog=testing.catalog(), journal=journal).replay(run_id)
    assert report.ok, report
    assert report.first_divergence is None
    assert report.note is None  # the run ended: nothing left to do


def test_a_changed_decision_or_record_fails_the_golden_check(tmp_path: Path) -> None:
    """Proof the check bites: a different retry decision diverges, an edited byte breaks."""
    path = GOLDEN / "paused-resumed.json"
    run_id = _load(json.loads(path.read_text("utf-8")), tmp_path / "j.db")
    base = actor_of(testing.flaky)
    assert base is not None
    others = [a for a in testing.catalog() if a.name != base.name]
    retrying = Catalog([*others, dataclasses.replace(base, retry=RetryPolicy(attempts=2))])
    with Journal(tmp_path / "j.db") as journal:
        report = Engine(catalog=retrying, journal=journal).replay(run_id)
        paused = next(e for e in journal.events(run_id) if e.type == "run.paused")
        assert not report.ok
        assert report.first_divergence == paused.seq
        assert report.expected == "start 'f' (attempt 2)"
    conn = sqlite3.connect(tmp_path / "j.db")
    with conn:
        conn.execute('UPDATE events SET body = replace(body, \'"item":"w"\', \'"item":"v"\')')
    conn.close()
    with Journal(tmp_path / "j.db") as journal:
        assert not journal.verify(run_id).ok
