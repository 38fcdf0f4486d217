"""Forge what planactor records, the way a careful forger would, so an audit test can check
that the forgery is caught: a journal edited behind planactor's back with its hash chain
recomputed, an approval signed without sign()'s refusals.

They write the journal's SQLite file with sqlite3 and hashlib alone, as docs/audit.md says
anyone can; nothing here goes through the Journal class.
"""

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

__all__ = ["forge_approval", "rewrite_chain", "sql"]


def sql(db: str | Path, statement: str, *params: Any) -> None:
    """Run one statement against the journal file directly, outside planactor."""
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(statement, params)
    finally:
        conn.close()


def rewrite_chain(db: str | Path, run_id: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Call `edit` on every event body of a run (in order, in place), then recompute every
    hash and the run's recorded head: a tampering only anchors or signatures can reveal."""
    prev = GENESIS
    conn = sqlite3.connect(db)
    try:
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
    finally:
        conn.close()


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
