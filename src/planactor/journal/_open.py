"""Opening a journal file defensively: ours, or refused without a single byte written.

A journal is an SQLite database stamped with `PRAGMA application_id` (`APPLICATION_ID`) and
`PRAGMA user_version` (`SCHEMA_VERSION`). Before anything that writes (the WAL switch, the
schema script, a migration), the file is inspected through a read-only connection:

- a file that is not SQLite, another application's database, or a journal of a newer
  planactor is refused (InputError, exit 2) saying what it is, and left as it was;
- a damaged file is refused with `PRAGMA quick_check`'s finding and the way to recover;
- a journal made before the stamp (our tables, no id) is ours at version 1: it is migrated
  and stamped in one transaction, so a crash leaves it as it was or fully migrated;
- with `create=False` (the commands that only read) a missing file is bad input, and no
  file is ever created.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path

from planactor._errors import InputError

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "open_database"]

APPLICATION_ID = 0x504C4143  # "PLAC"
SCHEMA_VERSION = 1
_OUR_TABLES = frozenset({"runs", "events"})
_RECOVER = (
    "keep a copy of the file; `planactor audit verify --db FILE` shows which runs still "
    "verify; restore the journal from a backup, or move it aside to start a new one"
)


def _statements(script: str) -> list[str]:
    return [s for s in script.split(";") if s.strip()]


def open_database(
    path: str,
    *,
    synchronous: str,
    create: bool,
    schema: str,
    migrate: Callable[[sqlite3.Connection], None],
    busy_timeout_s: float = 5.0,
) -> sqlite3.Connection:
    """A connection to the journal at `path` (":memory:" for one in memory), checked and, if
    it is an older journal of ours, migrated; InputError when it is not a journal we may use.

    `busy_timeout_s`: how long a statement waits for another connection's write lock."""
    if path == ":memory:":
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA synchronous={synchronous}")
        _install(db, schema, migrate, stamp=True)
        return db
    state = _inspect(Path(path), create=create)
    try:
        db = sqlite3.connect(
            path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
    except sqlite3.DatabaseError as e:
        raise InputError(f"{path}: cannot open the journal: {e}") from None
    try:
        if state == "new" and not create:
            raise InputError(
                f"{path}: holds no journal yet",
                hint="`planactor run --db FILE` creates a journal; check the path",
            )
        _switch_to_wal(db, busy_timeout_s)
        db.execute(f"PRAGMA synchronous={synchronous}")
        if state != "ours":  # a current journal needs nothing: no write lock to open it
            _install(db, schema, migrate, stamp=True)
    except sqlite3.DatabaseError as e:
        db.close()
        raise InputError(f"{path}: cannot open the journal: {e}", hint=_RECOVER) from None
    except BaseException:
        db.close()
        raise
    return db


def _switch_to_wal(db: sqlite3.Connection, busy_timeout_s: float) -> None:
    """`PRAGMA journal_mode=WAL`, tried again while another connection is in the way.

    Two processes opening a new journal at once each hold a shared lock and want the
    exclusive one the switch needs: SQLite refuses one of them at once (SQLITE_BUSY without
    waiting, as waiting could deadlock), so the busy timeout alone does not cover it."""
    deadline = time.monotonic() + busy_timeout_s
    pause = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if e.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _install(
    db: sqlite3.Connection,
    schema: str,
    migrate: Callable[[sqlite3.Connection], None],
    *,
    stamp: bool,
) -> None:
    """Create what is missing and migrate, in one transaction (CREATE ... IF NOT EXISTS is a
    no-op on a current journal); stamp the id and version when asked."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in _statements(schema):
            db.execute(statement)
        migrate(db)
        if stamp:
            db.execute(f"PRAGMA application_id={APPLICATION_ID}")
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _inspect(path: Path, *, create: bool) -> str:
    """ "new" (no file yet, or an empty one), "ours", or "unstamped" (a journal made before
    the stamp); InputError for anything else. Reads only."""
    source = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if not create:
            raise InputError(
                f"{source}: no such journal",
                hint="check --db (`planactor run` creates the journal it records to)",
            ) from None
        path.parent.mkdir(parents=True, exist_ok=True)
        return "new"
    except OSError as e:
        raise InputError(f"{source}: cannot open the journal: {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            f"{source}: not a regular file, so not a journal",
            hint="give the path of a journal file (default $PLANACTOR_HOME/journal.db)",
        )
    if st.st_size == 0:
        return "new"
    # Never os.open()/close() the file here: closing any descriptor of a file drops every
    # POSIX lock this process holds on it, so a second Journal on a file this process already
    # has open would silently unlock the first; another process would then take the WAL for
    # unused, checkpoint and delete it, and the first connection's commits would go to an
    # unlinked file nobody else sees. SQLite's own connections share their locks safely, so
    # the header is checked by SQLite (SQLITE_NOTADB: the file is not an SQLite database).
    if not os.access(path, os.R_OK):
        raise InputError(f"{source}: cannot read the journal: permission denied")
    try:
        ro = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
    except sqlite3.DatabaseError as e:
        raise InputError(f"{source}: cannot open the journal: {e}") from None
    try:
        # One read transaction: another process creating the journal at this moment is seen
        # before or after its stamp, never half-way (user version set, id not yet).
        ro.execute("BEGIN")
        app_id = ro.execute("PRAGMA application_id").fetchone()[0]
        version = ro.execute("PRAGMA user_version").fetchone()[0]
        tables = {
            row[0] for row in ro.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        ro.execute("COMMIT")
    except sqlite3.DatabaseError as e:
        if e.sqlite_errorcode == sqlite3.SQLITE_NOTADB:
            raise InputError(
                f"{source}: not an SQLite database (or its header is damaged), so not a "
                "planactor journal (left untouched)",
                hint="check --db; planactor journals are SQLite files such as journal.db",
            ) from None
        raise InputError(
            f"{source}: the journal is damaged ({e}); quick_check: {_quick_check(ro)}",
            hint=_RECOVER,
        ) from None
    finally:
        ro.close()
    if app_id == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise InputError(
                f"{source}: a journal of a newer planactor (schema version {version}; this "
                f"one reads up to {SCHEMA_VERSION}); left untouched",
                hint="upgrade planactor to read it",
            )
        return "ours" if version == SCHEMA_VERSION else "unstamped"
    if app_id == 0 and version == 0 and (not tables or tables >= _OUR_TABLES):
        return "new" if not tables else "unstamped"
    what = f"application id 0x{app_id:08x}" if app_id else "no application id"
    shown = ", ".join(sorted(tables)[:6]) or "none"
    raise InputError(
        f"{source}: an SQLite database of another application ({what}, user version "
        f"{version}, tables: {shown}), not a planactor journal; left untouched",
        hint="check --db; planactor journals are made by `planactor run`",
    )


def _quick_check(db: sqlite3.Connection) -> str:
    """PRAGMA quick_check's first findings, or why it could not run."""
    try:
        rows = [str(r[0]) for r in db.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as e:
        return f"cannot run ({e})"
    return "; ".join(rows) or "no finding"
