"""How the lab packs' actors reach their lab: through the run's context, never the environment.

The engine hands the lab to actors as the resource named `lab` (`Engine(resources={"lab":
Lab(path)})`; `planactor run --lab F` does it for the CLI). Lab problems become
non-retryable ActorErrors.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from planactor._errors import ActorError, InputError, UnexpectedState
from planactor.catalog import ActorContext
from planactor.lab._kinds import kinds
from planactor.lab._store import Lab, LabDocument, Receipt

__all__ = [
    "RESOURCE",
    "Preview",
    "actor_document",
    "actor_lab",
    "actor_observe",
    "actor_operate",
    "actor_preview",
    "lab_resources",
]

# The name under which the engine hands the lab to actors.
RESOURCE = "lab"
_NO_LAB_HINT = (
    "give the run a lab: `planactor run PLAN --lab F` (or PLANACTOR_LAB; create one with "
    '`planactor lab init storage`), or Engine(..., resources={"lab": Lab(F)})'
)


def lab_resources(lab: Lab | None) -> dict[str, object]:
    """The engine resources that hand `lab` to the lab packs' actors (none without a lab)."""
    return {} if lab is None else {RESOURCE: lab}


def actor_lab(ctx: ActorContext) -> Lab:
    """The lab this run was given; an ActorError (not retryable) when it was given none."""
    return ctx.resource(RESOURCE, Lab, hint=_NO_LAB_HINT)


def actor_document(lab: Lab, kind: str) -> LabDocument:
    """The lab's document, which must be a `kind` lab; an ActorError (not retryable) if not."""
    try:
        doc = lab.read()
    except InputError as e:
        raise ActorError(e.message, hint=e.hint, retryable=False) from None
    if doc.kind != kind:
        raise ActorError(
            f"{lab.path} is a {doc.kind} lab, not a {kind} lab",
            hint=f"`planactor lab init {kind} --path F` creates one; `--lab F` points a run at it",
            retryable=False,
        )
    return doc


def actor_observe(kind: str, ctx: ActorContext) -> LabDocument:
    """The `kind` lab's document, taking the lab's latency as a real read would."""
    doc = actor_document(actor_lab(ctx), kind)
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
        receipt = actor_lab(ctx).operate(op, args, key=ctx.idempotency_key, kind=kind)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Preview:
    """What a write would do to the lab now (a dry run): nothing is changed.

    `already_applied`: this call's idempotency key has applied before (`outcome` is then the
    recorded status). `violations`: the causes of the invariant violations it would record.
    """

    operation: str
    already_applied: bool
    outcome: str
    changes: tuple[str, ...] = ()
    refused: str | None = None
    violations: tuple[str, ...] = ()


def actor_preview(kind: str, op: str, args: Mapping[str, Any], ctx: ActorContext) -> Preview:
    """Simulate one write on the `kind` lab's state, as the lab would apply it now.

    Faults that fire once (a failing flash or push, a timeout) are surprises, not
    predictions: the simulation leaves them out. Faults that shape the state (a path or
    link down, a host that does not answer) are part of the state it starts from.
    """
    doc = actor_document(actor_lab(ctx), kind)
    seen = doc.recorded(ctx.idempotency_key)
    if seen is not None:
        return Preview(operation=op, already_applied=True, outcome=str(seen["status"]))
    try:
        out = kinds()[kind].apply(doc.state, [], op, args)
    except ValueError as e:
        raise ActorError(f"the lab's state is malformed: {e}", retryable=False) from None
    return Preview(
        operation=op,
        already_applied=False,
        outcome=out.status,
        changes=tuple(out.changes),
        refused=None if out.error is None else str(out.error["message"]),
        violations=tuple(str(v["cause"]) for v in out.violations),
    )
