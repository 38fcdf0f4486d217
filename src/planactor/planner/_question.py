"""The question that lets an intent be planned: the one value a routine that fits needs
and the intent does not give (or gives several of), with the answers that would ground it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from planactor.catalog import Routine
from planactor.plan import Inventory
from planactor.planner._grounding import GroundingNote, mentions
from planactor.planner._routine_planner import select

__all__ = ["ROUTINE", "Question", "clarify", "entity_options", "which_routine"]

ROUTINE = "routine"  # the `param` of a question that asks which routine is meant


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    """The one value a routine that fits needs and the intent does not give: what to ask,
    and the answers that would ground (empty when any value of `format` would do)."""

    routine: str | None  # None when the question is which routine (param ROUTINE)
    param: str
    text: str
    candidates: tuple[Any, ...]
    format: str | None = None  # a pattern the answer must match
    labels: tuple[str, ...] = ()  # what each candidate is, when its name alone may not say

    def to_document(self) -> dict[str, Any]:
        doc = {
            "routine": self.routine,
            "param": self.param,
            "question": self.text,
            "candidates": list(self.candidates),
            "format": self.format,
        }
        if self.labels:
            doc["labels"] = list(self.labels)
        return doc


def which_routine(routines: Mapping[str, Routine], tied: Sequence[str]) -> Question:
    """The question for routines that fit an intent equally well: which one is meant, each
    shown with its description (the answer is planned with that routine, as --routine)."""
    known = [name for name in tied if name in routines]
    return Question(
        routine=None,
        param=ROUTINE,
        text="Which routine is meant? (they fit the request equally well)",
        candidates=tuple(known),
        labels=tuple(_first_sentence(routines[name].description) for name in known),
    )


def _first_sentence(text: str) -> str:
    """What a routine is, in a line: its description up to the first colon or full stop."""
    head = " ".join(text.split()).split(". ", 1)[0].split(": ", 1)[0]
    return head.rstrip(".")


def clarify(
    routines: Mapping[str, Routine],
    intent: str,
    inventory: Inventory | None,
    *,
    is_write: Callable[[Routine], bool],
) -> Question | None:
    """The question that would let `intent` be planned: a routine says the clause's action
    and exactly one required value is missing or ambiguous. None when the intent is not
    one value away from a plan (nothing fits, or several values are missing)."""
    selection = select(routines, intent, inventory, is_write=is_write)
    if selection.clause is None or not selection.candidates:
        return None
    chosen = selection.candidates[0]
    missing = [n for n in chosen.grounding.notes if n.source in ("missing", "ambiguous")]
    if len(missing) != 1:
        return None
    (note,) = missing
    p = chosen.routine.params[note.param]
    if p.entity is not None:
        named_or_said = entity_options(selection.clause.text, note, p.entity, inventory)
        known = sorted(inventory.names(p.entity) or ()) if inventory is not None else []
        options: tuple[Any, ...] = named_or_said or tuple(known)
        text = f"Which {p.entity}? ({p.description})"
    elif p.enum is not None:
        options, text = tuple(p.enum), f"Which {note.param}? ({p.description})"
    elif note.source == "ambiguous" and isinstance(note.value, list):
        options, text = tuple(note.value), f"Which {note.param}? ({p.description})"
    else:
        options, text = (), f"What {note.param}? ({p.description})"
    return Question(
        routine=chosen.routine.name,
        param=note.param,
        text=text,
        candidates=options,
        format=p.pattern,
    )


def entity_options(
    clause: str, note: GroundingNote, entity: str, inventory: Inventory | None
) -> tuple[str, ...]:
    """The entities the clause itself points at for an open value: the names it gives when
    several match ("array-01 or array-02"), else the names under an entity it names ("the
    controller of array-02" -> array-02-a, array-02-b). Empty when it points at none."""
    if note.source == "ambiguous" and isinstance(note.value, list):
        return tuple(str(v) for v in note.value)
    known = sorted(inventory.names(entity) or ()) if inventory is not None else []
    if note.source == "missing" and isinstance(note.value, list) and note.value:
        # Named only as what to move away from: the others under the same owner.
        away = {str(v) for v in note.value}
        owners = {_owners(a)[0] for a in away if _owners(a)}
        siblings = tuple(
            k for k in known if k not in away and _owners(k) and _owners(k)[0] in owners
        )
        if siblings:
            return siblings
    return tuple(k for k in known if any(mentions(clause, o) for o in _owners(k)))


def _owners(name: str) -> list[str]:
    """array-02 for array-02-a: the names a name extends, longest first."""
    parts = name.split("-")
    return ["-".join(parts[:i]) for i in range(len(parts) - 1, 1, -1)]
