"""Test helpers that forge what planactor records, the way a careful forger would: a journal
file tampered with and its chain rehashed, an approval signed without sign()'s checks."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from planactor.journal import GENESIS
from planactor.plan import Approval, Plan, canonical_json
from planactor.policy import key_id_of


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


def forge_approval(
    plan: Plan,
    identity: str,
    key: Ed25519PrivateKey,
    *,
    now: datetime,
    valid_for: timedelta = timedelta(hours=1),
) -> Approval:
    """An approval built and signed the way sign() does, without sign()'s refusals (the
    requester, machine names, the plan's own planner)."""
    unsigned = Approval.model_construct(
        plan_hash=plan.hash,
        identity=identity,
        key_id=key_id_of(key.public_key()),
        approved_at=now,
        expires_at=now + valid_for,
        ticket=None,
        comment=None,
        signature="",
    )
    signature = base64.b64encode(key.sign(unsigned.payload())).decode("ascii")
    return Approval.model_validate({**unsigned.model_dump(mode="json"), "signature": signature})
