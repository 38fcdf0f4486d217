"""The hash chain, pure: one event's link, and the check of a run's stored chain.

No I/O here: the journal reads the rows and the run's recorded head and hands them over, so
the rules of what counts as a broken chain can be tested (and read) on their own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["GENESIS", "ChainReport", "chain", "check_chain"]

GENESIS = "0" * 64


def chain(prev: str, body: bytes) -> str:
    """The hash of an event: sha256 of the previous hash and the event's canonical body."""
    return hashlib.sha256(prev.encode("ascii") + body).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    """The result of recomputing a run's hash chain."""

    run_id: str
    ok: bool
    events: int
    head: str
    first_bad_seq: int | None = None
    reason: str | None = None


def check_chain(
    run_id: str,
    rows: Sequence[tuple[int, str, str]],
    *,
    recorded_head: tuple[int, str] | None,
    anchor: tuple[int, str] | None,
) -> ChainReport:
    """Recompute the chain over `rows` (seq, body, hash, in seq order); name the first event
    that breaks it.

    Also checks the run's `recorded_head` (catches a cut-off tail) and, given an `anchor`
    `(seq, hash)` kept outside the journal, that event `seq` still has that hash (catches a
    chain rewritten consistently from some point on).
    """

    def broken(at: int, why: str, head: str) -> ChainReport:
        # `at`: where the chain breaks (for a deleted event: its place).
        return ChainReport(
            run_id=run_id, ok=False, events=len(rows), head=head, first_bad_seq=at, reason=why
        )

    prev = GENESIS
    for n, (seq, body, digest) in enumerate(rows):
        reason = None
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
            reason = "its body is not JSON"
        if reason is None and not isinstance(doc, dict):
            doc = None
            reason = "its body is not a JSON object"
        if reason is None and (seq != n or doc is None or doc.get("seq") != n):
            reason = f"expected event #{n} here (deleted, reordered or renumbered)"
        elif reason is None and chain(prev, body.encode("utf-8")) != digest:
            reason = "its hash does not match its body and the previous hash"
        elif reason is None and doc is not None and doc.get("run") != run_id:
            reason = "it belongs to another run"
        if reason is not None:
            return broken(n, reason, prev)
        prev = str(digest)
    if not rows:
        return broken(0, "the run has no events", GENESIS)
    if recorded_head is not None:
        head_seq, head_hash = recorded_head
        if head_seq >= len(rows):
            return broken(
                len(rows),
                f"the run's record ends at event #{head_seq} but only "
                f"{len(rows)} events remain: the tail was cut off",
                prev,
            )
        if head_seq != len(rows) - 1 or head_hash != prev:
            return broken(
                min(head_seq, len(rows) - 1),
                f"the run's record names head #{head_seq} {head_hash[:16]}…, "
                f"which is not the chain's last event",
                prev,
            )
    if anchor is not None:
        a_seq, a_hash = anchor
        if a_seq >= len(rows):
            return broken(
                len(rows),
                f"the anchor names event #{a_seq}, but the run has {len(rows)} events: "
                "the tail was cut off",
                prev,
            )
        if str(rows[a_seq][2]) != a_hash:
            return broken(
                a_seq,
                f"event #{a_seq} has hash {str(rows[a_seq][2])[:16]}…, the anchor says "
                f"{a_hash[:16]}…: the chain was rewritten",
                prev,
            )
    return ChainReport(run_id=run_id, ok=True, events=len(rows), head=prev)
