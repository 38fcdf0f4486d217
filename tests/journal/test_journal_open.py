"""planactor.journal._open: a journal is recognised by its stamp; anything else is refused
untouched, an older journal of ours is migrated in one transaction."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from planactor import InputError
from planactor.journal import Journal
from planactor.journal._open import APPLICATION_ID, SCHEMA_VERSION
from planactor.plan import Plan


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pragma(path: Path, name: str) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute(f"PRAGMA {name}").fetchone()[0])
    finally:
        db.close()


def test_a_new_journal_is_stamped(tmp_path: Path) -> None:
    """A journal created here carries our application id and schema version."""
    path = tmp_path / "j.db"
    Journal(path).close()
    assert _pragma(path, "application_id") == APPLICATION_ID
    assert _pragma(path, "user_version") == SCHEMA_VERSION


def test_another_applications_database_is_refused_untouched(tmp_path: Path) -> None:
    """An SQLite file of another application is exit 2, named, and not one byte changes."""
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO customers VALUES (1, 'ada')")
    db.commit()
    db.close()
    before = _digest(path)
    with pytest.raises(InputError, match="another application") as info:
        Journal(path)
    assert info.value.exit_code == 2
    assert "customers" in info.value.message
    assert _digest(path) == before
    assert not Path(f"{path}-wal").exists()


def test_a_database_with_a_foreign_application_id_is_refused(tmp_path: Path) -> None:
    """Even with tables named like ours, another application id is not ours."""
    path = tmp_path / "x.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE runs (a)")
    db.execute("CREATE TABLE events (b)")
    db.execute("PRAGMA application_id=1234")
    db.commit()
    db.close()
    before = _digest(path)
    with pytest.raises(InputError, match="0x000004d2"):
        Journal(path)
    assert _digest(path) == before


def test_a_journal_of_a_newer_planactor_is_refused_untouched(tmp_path: Path) -> None:
    """A higher schema version than this planactor reads is exit 2 and left as it is."""
    path = tmp_path / "j.db"
    Journal(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    before = _digest(path)
    with pytest.raises(InputError, match="newer planactor"):
        Journal(path)
    assert _digest(path) == before


def test_an_unstamped_journal_of_ours_is_migrated_and_stamped(tmp_path: Path) -> None:
    """A journal made before the stamp (our tables, no head columns, no id) opens, gains the
    columns and the stamp, and keeps its rows."""
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE runs (run_id TEXT PRIMARY KEY, plan_hash TEXT NOT NULL, intent TEXT NOT"
        " NULL, plan TEXT NOT NULL, dry_run INTEGER NOT NULL, status TEXT NOT NULL, created_at"
        " TEXT NOT NULL, updated_at TEXT NOT NULL);"
        "CREATE TABLE events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL,"
        " step TEXT, body TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (run_id, seq));"
    )
    db.close()
    with Journal(path) as journal:
        assert journal.runs() == []
    assert _pragma(path, "application_id") == APPLICATION_ID
    db = sqlite3.connect(path)
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    db.close()
    assert {"head_seq", "head_hash"} <= columns


def test_a_damaged_journal_reports_quick_check_and_how_to_recover(tmp_path: Path) -> None:
    """A journal whose pages were overwritten is exit 2 with quick_check's finding and a hint."""
    path = tmp_path / "j.db"
    Journal(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=DELETE")  # fold the WAL in, so the pages are in the file
    data = bytearray(path.read_bytes())
    data[100 : len(data)] = b"\xa5" * (len(data) - 100)  # every page after the header
    path.write_bytes(bytes(data))
    before = _digest(path)
    with pytest.raises(InputError) as info:
        Journal(path)
    assert info.value.exit_code == 2
    assert "quick_check" in info.value.message
    assert info.value.hint is not None
    assert "audit verify" in info.value.hint
    assert _digest(path) == before


def test_a_missing_journal_is_not_created_by_a_reader(tmp_path: Path) -> None:
    """With create=False a missing file is exit 2 and no file (or folder) appears."""
    path = tmp_path / "no" / "such.db"
    with pytest.raises(InputError, match="no such journal") as info:
        Journal(path, create=False)
    assert info.value.exit_code == 2
    assert not path.parent.exists()


def test_a_fifo_or_a_directory_is_not_a_journal(tmp_path: Path) -> None:
    """A FIFO (never opened, so never blocks) or a directory is refused as not a file."""
    fifo = tmp_path / "j.db"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        Journal(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        Journal(tmp_path)


def make_plan() -> Plan:
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "journal test",
            "requested_by": "tests",
            "steps": [{"id": "a", "actor": "core.echo", "args": {"message": "hi"}}],
        }
    )


def _seen_by_another_process(path: Path) -> list[str]:
    """The run ids another process reads from the journal (opened and closed, as a reader)."""
    script = (
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1])\n"
        "print(','.join(r[0] for r in db.execute('SELECT run_id FROM runs ORDER BY run_id')))\n"
        "db.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    return [r for r in done.stdout.strip().split(",") if r]


def test_a_second_journal_on_the_same_file_keeps_the_first_ones_commits_visible(
    tmp_path: Path,
) -> None:
    """Opening the journal twice in one process leaves the first connection's locks alone:
    another process's reader does not delete the WAL under it, and its commits stay visible
    (checking the header by hand once closed a descriptor and dropped every lock)."""
    path = tmp_path / "j.db"
    first = Journal(path)
    second = Journal(path)
    try:
        assert _seen_by_another_process(path) == []
        assert (tmp_path / "j.db-wal").exists()  # still in use: not checkpointed away
        first.begin_run(run_id="r1", plan=make_plan(), dry_run=False, data={})
        first.flush()
        assert _seen_by_another_process(path) == ["r1"]
        second.begin_run(run_id="r2", plan=make_plan(), dry_run=False, data={})
        second.flush()
        assert _seen_by_another_process(path) == ["r1", "r2"]
    finally:
        second.close()
        first.close()


def _open_and_close(path: str) -> None:
    Journal(path).close()


def test_processes_opening_a_new_journal_at_once_all_get_it(tmp_path: Path) -> None:
    """Two processes creating the same journal at the same moment both open it: neither is
    refused as locked (the switch to WAL is tried again) nor sees it half-stamped."""
    context = multiprocessing.get_context("fork")
    failed = []
    for n in range(150):
        path = str(tmp_path / f"j{n}.db")
        procs = [context.Process(target=_open_and_close, args=(path,)) for _ in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=60)
        failed += [(n, p.exitcode) for p in procs if p.exitcode != 0]
        assert _pragma(Path(path), "application_id") == APPLICATION_ID
    assert failed == []
