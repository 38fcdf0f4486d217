"""How the lab packs' actors reach their lab: lab problems become non-retryable ActorErrors."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any

from planactor._errors import ActorError, InputError, UnexpectedState
from planactor.catalog import ActorContext
from planactor.lab._store import Lab, LabDocument, Receipt, current_lab

__all__ = ["actor_document", "actor_lab", "actor_observe", "actor_operate"]


def actor_lab() -> Lab:
    """The lab `current_lab()` finds; an ActorError (not retryable) when there is none."""
    try:
        return current_lab()
    except InputError as e:
        raise ActorError(e.message, hint=e.hint, retryable=False) from None


def actor_document(lab: Lab, kind: str) -> LabDocument:
    """The lab's document, which must be a `kind` lab; an ActorError (not retryable) if not."""
    try:
        doc = lab.read()
    except InputError as e:
        raise ActorError(e.message, hint=e.hint, retryable=False) from None
    if doc.kind != kind:
        raise ActorError(
            f"{lab.path} is a {doc.kind} lab, not a {kind} lab",
            hint=f"`planactor lab init {kind} --path F` creates one; PLANACTOR_LAB points at it",
            retryable=False,
        )
    return doc


def actor_observe(kind: str) -> LabDocument:
    """The `kind` lab's document, taking the lab's latency as a real read would."""
    doc = actor_document(actor_lab(), kind)
    if doc.latency_ms:
        time.sleep(doc.latency_ms / 1000)
    return doc


def actor_operate(
    kind: str,
    op: str,
    args: Mapping[str, Any],
    ctx: ActorContext,
    *,
    retryable: Collection[str],
    violation: str,
) -> Receipt:
    """Send one write to the `kind` lab under the call's idempotency key.

    A refused precondition becomes UnexpectedState (the run pauses); error kinds in
    `retryable` a retryable ActorError; any other a final one. Recorded invariant violations
    are logged as `violation` (DU, partition).
    """
    try:
        receipt = actor_lab().operate(op, args, key=ctx.idempotency_key, kind=kind)
    except InputError as e:
        raise ActorError(e.message, hint=e.hint, retryable=False) from None
    if receipt.replayed:
        ctx.logger.info("%s: key %s already applied; returning its result", op, receipt.key)
    for v in receipt.violations:
        ctx.logger.warning("%s: %s: %s", op, violation, v["cause"])
    err = receipt.error
    if err is not None:
        message, hint = str(err["message"]), err.get("hint")
        if err["kind"] == "precondition":
            raise UnexpectedState(message, hint=hint)
        raise ActorError(message, hint=hint, retryable=err["kind"] in retryable)
    return receipt
