"""Test helpers that tamper with a journal file the way a careful forger would."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from planactor.journal import GENESIS
from planactor.plan import canonical_json


def sql(db: Path, statement: str, *params: Any) -> None:
    """Run one statement against the journal file directly, outside planactor."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(statement, params)
    conn.close()


def rewrite_chain(db: Path, run_id: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit every body of a run, recompute every hash and the run's recorded head."""
    prev = GENESIS
    conn = sqlite3.connect(db)
    with conn:
        for seq, body in conn.execute(
            "SELECT seq, body FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
        ).fetchall():
            doc = json.loads(body)
            edit(doc)
            new = canonical_json(doc)
            prev = hashlib.sha256(prev.encode("ascii") + new).hexdigest()
            conn.execute(
                "UPDATE events SET body = ?, hash = ? WHERE run_id = ? AND seq = ?",
                (new.decode("utf-8"), prev, run_id, seq),
            )
        conn.execute("UPDATE runs SET head_hash = ? WHERE run_id = ?", (prev, run_id))
    conn.close()
