"""Actors that record what they really did, and actors that fail on purpose.

The ledger actors append each write they apply to a JSON-lines file, keyed by the
idempotency key, so a test (or a crash test in another process) can count how many times
each write was applied.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from planactor._errors import ActorError, UnexpectedState
from planactor.catalog import ActorContext, Catalog, actor

__all__ = [
    "applied_counts",
    "catalog",
    "flaky",
    "ledger_entries",
    "ledger_undo",
    "ledger_write",
    "ledger_write_once",
    "unexpected",
]

_LOCK = threading.Lock()


class LedgerInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ledger: str = Field(description="Path of the JSON-lines ledger file.")
    item: str = Field(description="What is written (recorded with the key).")


class LedgerOutput(BaseModel):
    ledger: str
    item: str
    applied: bool = Field(description="False when this key had already been applied.")


class LedgerChange(BaseModel):
    item: str
    already_applied: bool


def _append(path: str, entry: dict[str, Any], *, unless_key: str | None = None) -> bool:
    """Append under a lock (threads and processes); fsync so a SIGKILL cannot lose it."""
    with _LOCK, open(path, "a+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            if unless_key is not None:
                f.seek(0)
                for line in f:
                    if not line.strip():
                        continue
                    seen = json.loads(line)
                    if seen.get("key") == unless_key and seen.get("op") == entry["op"]:
                        return False
            f.seek(0, os.SEEK_END)
            f.write(json.dumps(entry, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
            return True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _check_write(args: LedgerInput, ctx: ActorContext) -> LedgerChange:
    entries = ledger_entries(args.ledger)
    done = any(e["key"] == ctx.idempotency_key and e["op"] == "apply" for e in entries)
    return LedgerChange(item=args.item, already_applied=done)


@actor(
    name="testing.ledger_write",
    effect="write",
    idempotent=True,
    compensate="testing.ledger_undo",
    check=_check_write,
)
def ledger_write(args: LedgerInput, ctx: ActorContext) -> LedgerOutput:
    """Append an item to a ledger once per idempotency key."""
    applied = _append(
        args.ledger,
        {"key": ctx.idempotency_key, "op": "apply", "item": args.item},
        unless_key=ctx.idempotency_key,
    )
    return LedgerOutput(ledger=args.ledger, item=args.item, applied=applied)


@actor(
    name="testing.ledger_write_once",
    effect="write",
    idempotent=False,
    compensate="testing.ledger_undo",
)
def ledger_write_once(args: LedgerInput, ctx: ActorContext) -> LedgerOutput:
    """Append an item to a ledger every time it is called (not idempotent)."""
    _append(args.ledger, {"key": ctx.idempotency_key, "op": "apply", "item": args.item})
    return LedgerOutput(ledger=args.ledger, item=args.item, applied=True)


@actor(
    name="testing.ledger_undo",
    effect="write",
    idempotent=True,
    compensate="testing.ledger_write",
)
def ledger_undo(args: LedgerInput, ctx: ActorContext) -> LedgerOutput:
    """Record that an item was taken back out of the ledger (a compensation)."""
    applied = _append(
        args.ledger,
        {"key": ctx.idempotency_key, "op": "undo", "item": args.item},
        unless_key=ctx.idempotency_key,
    )
    return LedgerOutput(ledger=args.ledger, item=args.item, applied=applied)


class FlakyInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    counter: str = Field(description="A file counting the calls (per test).")
    fail_times: int = Field(ge=0, description="Fail this many calls, then succeed.")
    retryable: bool = True


class FlakyOutput(BaseModel):
    calls: int


@actor(name="testing.flaky", effect="read")
def flaky(args: FlakyInput) -> FlakyOutput:
    """Fail the first `fail_times` calls (counted in a file), then succeed."""
    path = Path(args.counter)
    with _LOCK:
        calls = int(path.read_text() or 0) + 1 if path.exists() else 1
        path.write_text(str(calls))
    if calls <= args.fail_times:
        raise ActorError(
            f"call {calls} of {args.fail_times} planned failures", retryable=args.retryable
        )
    return FlakyOutput(calls=calls)


class UnexpectedInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = "the world is not as the plan assumed"


class UnexpectedOutput(BaseModel):
    ok: bool = True


@actor(name="testing.unexpected", effect="read")
def unexpected(args: UnexpectedInput) -> UnexpectedOutput:
    """Always raise UnexpectedState (a precondition that does not hold)."""
    raise UnexpectedState(args.message)


class WaitInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(description="The file whose appearance lets the step finish.")
    timeout_s: float = Field(default=60.0, gt=0, le=3600)


class WaitOutput(BaseModel):
    waited_s: float


@actor(name="testing.wait_for_file", effect="read")
def wait_for_file(args: WaitInput) -> WaitOutput:
    """Block until a file exists: a test holds a run mid-step for as long as it needs."""
    start = time.monotonic()
    while not Path(args.path).exists():
        if time.monotonic() - start > args.timeout_s:
            raise ActorError(f"{args.path} did not appear within {args.timeout_s} s")
        time.sleep(0.02)
    return WaitOutput(waited_s=time.monotonic() - start)


def catalog() -> Catalog:
    """The built-in packs plus the testing actors."""
    from planactor.actors import core, graph

    return Catalog(
        [
            core.echo,
            core.sleep,
            graph.shortest_path,
            ledger_write,
            ledger_write_once,
            ledger_undo,
            flaky,
            unexpected,
            wait_for_file,
        ],
        pack="testing",
    )


def ledger_entries(path: str | Path) -> list[dict[str, Any]]:
    """Every entry of a ledger file, in order ([] if it does not exist yet)."""
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]


def applied_counts(path: str | Path) -> Counter[str]:
    """How many times each idempotency key was applied (compensations not counted)."""
    return Counter(e["key"] for e in ledger_entries(path) if e["op"] == "apply")
