"""How the lab packs' actors reach their lab: lab problems become non-retryable ActorErrors."""

from __future__ import annotations

from planactor._errors import ActorError, InputError
from planactor.lab._store import Lab, LabDocument, current_lab

__all__ = ["actor_document", "actor_lab"]


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
