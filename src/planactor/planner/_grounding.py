"""Grounding: deterministic extraction of parameter values from an intent and an inventory.

The LLM compresses; it does not invent names. Whatever can be read off the intent (entity
names that exist, versions, counts) is read here, by code, and narrows what a model may
choose. Pure functions: the intent, the routine and the inventory go in, values come out.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from planactor.catalog import Param, Routine
from planactor.validate import Inventory

__all__ = ["Grounding", "GroundingNote", "ground", "tokens", "ungrounded_values"]

_WORD = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"(?<![\w.-])\d+(?:\.\d+)?(?![\w.-])")


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass(frozen=True, slots=True, kw_only=True)
class GroundingNote:
    param: str
    value: Any
    source: str  # intent | inventory | default | fuzzy | missing | ambiguous
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Grounding:
    """The values found for a routine's parameters, and how each was found."""

    routine: str
    values: dict[str, Any]
    notes: tuple[GroundingNote, ...] = field(default=())

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(n.param for n in self.notes if n.source in ("missing", "ambiguous"))

    @property
    def complete(self) -> bool:
        return not self.missing


def _bounds(p: Param) -> str:
    low = "-inf" if p.minimum is None else f"{p.minimum:g}"
    high = "inf" if p.maximum is None else f"{p.maximum:g}"
    return f"[{low}, {high}]"


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(d) for d in re.findall(r"\d+", text))


def _mentions(intent: str, name: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", intent.lower()) is not None


def _search_pattern(pattern: str) -> re.Pattern[str]:
    """A parameter's full-match pattern turned into one that finds it inside a sentence."""
    core = pattern.removeprefix("^").removesuffix("$")
    # Not inside a longer token, but a sentence's full stop may follow ("to 5.2.1.").
    return re.compile(rf"(?<![\w.])(?:{core})(?![\w]|\.\w)")


def _entity(
    name: str, p: Param, intent: str, inventory: Inventory | None
) -> tuple[Any, GroundingNote]:
    assert p.entity is not None
    known = sorted(inventory.names(p.entity) or ()) if inventory is not None else []
    if not known:
        return None, GroundingNote(
            param=name,
            value=None,
            source="missing",
            detail=f"no inventory of {p.entity}s to choose from",
        )
    found = [k for k in known if _mentions(intent, k)]
    if p.type == "list":
        if found:
            return found, GroundingNote(
                param=name, value=found, source="intent", detail=f"{p.entity}s named in the intent"
            )
    elif len(found) == 1:
        return found[0], GroundingNote(
            param=name, value=found[0], source="intent", detail=f"the {p.entity} named"
        )
    elif len(found) > 1:
        return None, GroundingNote(
            param=name,
            value=found,
            source="ambiguous",
            detail=f"the intent names several {p.entity}s: {', '.join(found)}",
        )
    words = re.findall(r"[\w-]+", intent.lower())
    exact = (
        {n.lower() for names in inventory.entities.values() for n in names} if inventory else set()
    )
    # A name inside another entity's name the intent gives: the array of controller array-01-a.
    containing = sorted(
        {k for k in known for w in words if w in exact and w.startswith(k.lower() + "-")}
    )
    if len(containing) == 1 and p.type != "list":
        k = containing[0]
        return k, GroundingNote(
            param=name,
            value=k,
            source="intent",
            detail=f"the {p.entity} in a name the intent gives",
        )
    # A typo (arary-01, array-1): the closest inventory name, flagged as such. Names that
    # differ in their numbers are different things (array-09 is not array-03): never a typo,
    # and a word that is exactly some entity's name (array-01-b) is not a typo of another.
    for w in words:
        if w in exact:
            continue
        same_numbers = [k.lower() for k in known if _numbers(k) == _numbers(w)]
        close = difflib.get_close_matches(w, same_numbers, n=1, cutoff=0.75)
        if close:
            match = next(k for k in known if k.lower() == close[0])
            value: Any = [match] if p.type == "list" else match
            return value, GroundingNote(
                param=name,
                value=value,
                source="fuzzy",
                detail=f"{w!r} in the intent is closest to the {p.entity} {match!r}",
            )
    if p.default is not None:
        return p.default, GroundingNote(
            param=name, value=p.default, source="default", detail="the routine's default"
        )
    return None, GroundingNote(
        param=name,
        value=None,
        source="missing",
        detail=f"the intent names no {p.entity} (known: {', '.join(known[:8])})",
    )


def ground(routine: Routine, intent: str, inventory: Inventory | None) -> Grounding:
    """Every parameter value of `routine` that the intent and inventory determine."""
    values: dict[str, Any] = {}
    notes: list[GroundingNote] = []
    used_numbers: set[str] = set()
    for name, p in routine.params.items():
        value: Any = None
        note: GroundingNote | None = None
        if p.entity is not None:
            value, note = _entity(name, p, intent, inventory)
        elif p.pattern is not None:
            hits = _search_pattern(p.pattern).findall(intent)
            hits = [h if isinstance(h, str) else "".join(h) for h in hits]
            if hits:
                value = hits[0]
                used_numbers.add(value)
                note = GroundingNote(
                    param=name, value=value, source="intent", detail=f"matches {p.pattern}"
                )
        elif p.enum is not None:
            named = [v for v in p.enum if isinstance(v, str) and _mentions(intent, v)]
            if len(named) == 1:
                value = named[0]
                note = GroundingNote(param=name, value=value, source="intent", detail="named")
        elif p.type in ("integer", "number"):
            rejected: list[str] = []
            for raw in _NUMBER.findall(intent):
                if raw in used_numbers:
                    continue
                number: int | float = float(raw) if "." in raw else int(raw)
                if p.type == "integer" and isinstance(number, float):
                    continue
                if (p.minimum is None or number >= p.minimum) and (
                    p.maximum is None or number <= p.maximum
                ):
                    value = number
                    used_numbers.add(raw)
                    note = GroundingNote(
                        param=name, value=value, source="intent", detail="a number in the intent"
                    )
                    break
                rejected.append(f"{raw} is outside {_bounds(p)}")
            if note is None and rejected and p.default is None:
                note = GroundingNote(
                    param=name,
                    value=None,
                    source="missing",
                    detail=f"{p.description}: {'; '.join(rejected)}",
                )
        if note is None:
            if p.default is not None:
                value = p.default
                note = GroundingNote(
                    param=name, value=value, source="default", detail="the routine's default"
                )
            else:
                note = GroundingNote(param=name, value=None, source="missing", detail=p.description)
        if value is not None:
            values[name] = value
        notes.append(note)
    return Grounding(routine=routine.name, values=values, notes=tuple(notes))


def ungrounded_values(
    args: Mapping[str, Any], intent: str, inventory: Inventory | None, defaults: Iterable[Any]
) -> list[tuple[str, Any]]:
    """Argument values that neither appear in the intent, nor name an inventory entity, nor
    are a routine default: the ones a reviewer must look at ("ungrounded")."""
    known: set[str] = set()
    if inventory is not None:
        for names in inventory.entities.values():
            known |= set(names)
    allowed = {str(d) for d in defaults}
    out: list[tuple[str, Any]] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            if "$ref" in value or "$input" in value:
                return
            for k, v in value.items():
                walk(v, f"{where}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")
        elif isinstance(value, bool) or value is None:
            return
        else:
            text = str(value)
            if text in allowed or text in known or _mentions(intent, text):
                return
            out.append((where, value))

    for k, v in args.items():
        walk(v, k)
    return out
