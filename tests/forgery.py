"""Test helpers that forge what planactor records, the way a careful forger would: a journal
file tampered with and its chain rehashed, an approval signed without sign()'s checks.

They are public now, in planactor.testing; this module names them for the tests that import
them from here."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from planactor.journal import GENESIS
from planactor.plan import Plan, canonical_json
from planactor.testing import forge_approval, rewrite_chain, sql

__all__ = ["append_event", "forge_approval", "forge_run", "rewrite_chain", "sql"]


def append_event(
    db: Path,
    run_id: str,
    type_: str,
    *,
    step: str | None = None,
    attempt: int | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Chain one more event onto a run, dated as its last one, hashed as planactor hashes,
    and move the run's recorded head to it; returns its number. Anchors taken before hold."""
    conn = sqlite3.connect(db)
    with conn:
        seq, prev, last = conn.execute(
            "SELECT seq, hash, body FROM events WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
            (run_id,),
        ).fetchone()
        seq += 1
        at = json.loads(last)["at"]
        body = _body(run_id, seq, type_, step, attempt, at, data or {})
        digest = hashlib.sha256(prev.encode("ascii") + body).hexdigest()
        conn.execute(
            "INSERT INTO events (run_id, seq, type, step, body, hash) VALUES (?, ?, ?, ?, ?, ?)",
            (run_id, seq, type_, step, body.decode("utf-8"), digest),
        )
        conn.execute(
            "UPDATE runs SET head_seq = ?, head_hash = ? WHERE run_id = ?", (seq, digest, run_id)
        )
    conn.close()
    return int(seq)


def forge_run(
    db: Path,
    run_id: str,
    plan: Plan,
    *,
    data: dict[str, Any],
    at: str = "2025-03-02T11:00:00.000000+00:00",
) -> None:
    """A run that planactor never started: its row and a `run.started` event, written with
    sqlite3 and hashlib alone (the recipe docs/audit.md gives for recomputing a chain)."""
    body = _body(run_id, 0, "run.started", None, None, at, {"plan_hash": plan.hash, **data})
    digest = hashlib.sha256(GENESIS.encode("ascii") + body).hexdigest()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO runs (run_id, plan_hash, intent, plan, dry_run, status, created_at, "
            "updated_at, head_seq, head_hash) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, 0, ?)",
            (
                run_id,
                plan.hash,
                plan.intent,
                json.dumps(plan.to_document()),
                int(bool(data.get("dry_run"))),
                at,
                at,
                digest,
            ),
        )
        conn.execute(
            "INSERT INTO events (run_id, seq, type, step, body, hash) VALUES (?, 0, ?, NULL, ?, ?)",
            (run_id, "run.started", body.decode("utf-8"), digest),
        )
    conn.close()


def _body(
    run_id: str,
    seq: int,
    type_: str,
    step: str | None,
    attempt: int | None,
    at: str,
    data: dict[str, Any],
) -> bytes:
    return canonical_json(
        {
            "run": run_id,
            "seq": seq,
            "type": type_,
            "step": step,
            "attempt": attempt,
            "at": at,
            "data": data,
        }
    )
