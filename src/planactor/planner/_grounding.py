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

from planactor._errors import InputError
from planactor.catalog import Param, Routine
from planactor.plan import Inventory
from planactor.planner._binding import bind_by_name, is_given
from planactor.planner._derive import evaluate, names_in
from planactor.planner._numbers import NumberMention, number_mentions, spoken_numbers

__all__ = [
    "Grounding",
    "GroundingNote",
    "ground",
    "mentions",
    "said_as_target",
    "tokens",
    "ungrounded_values",
    "without_names",
]

_WORD = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"(?<![\w.-])\d+(?:\.\d+)?(?![\w.-])")


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass(frozen=True, slots=True, kw_only=True)
class GroundingNote:
    param: str
    value: Any
    source: str  # intent | inventory | default | fuzzy | derived | missing | ambiguous
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


def _spoken_name(intent: str, name: str) -> bool:
    """`array 2` or `array2` for array-02: a name's word and number, said apart."""
    m = re.fullmatch(r"([a-z]+)-0*(\d+)", name.lower())
    if m is None:
        return False
    word, number = m.groups()
    return re.search(rf"(?<![\w-]){word}\s?0*{number}(?![\w-])", intent.lower()) is not None


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(d) for d in re.findall(r"\d+", text))


def mentions(intent: str, name: str) -> bool:
    """Whether `intent` says `name` as a whole word (array-01, not inside array-01-a)."""
    return re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", intent.lower()) is not None


def _search_pattern(pattern: str) -> re.Pattern[str]:
    """A parameter's full-match pattern turned into one that finds it inside a sentence."""
    core = pattern.removeprefix("^").removesuffix("$")
    # Not inside a longer token ("v5.3.0" is fine, "6.0.0-rc1" is not 6.0.0), and a
    # sentence's full stop may follow.
    return re.compile(rf"(?<![\w.])[vV]?(?P<value>{core})(?![\w]|[.-]\w)")


# "5.2.1 or 5.3.0", "5.2.1/5.3.0", "either ...": a value offered as one of several.
_ALTERNATIVE = re.compile(
    r"(?:\bor(?:\s+(?:maybe|perhaps|possibly))?|/|\beither)\s*[vV]?$", re.IGNORECASE
)


# "still on 5.1.0", "running 5.1.0": the version now; "be on 5.2.2", "be running 5.2.2":
# where it should be.
_NOT_TARGET = re.compile(
    r"\b(?:from|past|beyond|above|below|than|least|most|of|not|except|(?<!\bbe\s)running|"
    r"currently|(?<!\bbe\s)on)\s*$",
    re.IGNORECASE,
)


def said_as_target(value: str, intent: str) -> bool:
    """Whether `value` is in the intent as a whole (not the 5.2.1 of 5.2.1.4) at least once
    where it is not a start or a bound ("from 5.1.0", "at least 5.2.1"), written or spoken."""
    whole = re.compile(rf"(?<![\w.]){re.escape(value.lower())}(?![\w]|[.-]\w)")
    return any(
        not _NOT_TARGET.search(text[: m.start()])
        for text in (intent.lower(), spoken_numbers(intent).lower())
        for m in whole.finditer(text)
    )


def _pattern_value(pattern: str, intent: str) -> str | None:
    """The one value of a pattern parameter the intent gives. Of several, the one after
    "to" ("from 5.1.0 to 5.2.1"); several and none after "to", or several offered as
    alternatives ("5.2.1 or 5.3.0"): none (ambiguous)."""
    for text in (intent, spoken_numbers(intent)):
        found = list(_search_pattern(pattern).finditer(text))
        # "from 5.1.0", "past 5.2.1", "at least 5.2.1", "instead of 5.2.1": not a target.
        hits = [h for h in found if not _NOT_TARGET.search(text[: h.start()])]
        if found and not hits:
            return None
        values = list(dict.fromkeys(h.group("value") for h in hits))
        if len(values) == 1:
            return values[0]
        if any(_ALTERNATIVE.search(text[: h.start()]) for h in hits):
            return None
        if values:
            after_to = [
                h.group("value")
                for h in hits
                # "5.1.0 -> 5.2.2" in a change title: the arrow says "to".
                if re.search(r"(?:\bto|->|→|=>)\s*$", text[: h.start()], re.IGNORECASE)
            ]
            return after_to[-1] if len(set(after_to)) == 1 else None
    return None


def _alternatives(pattern: str, intent: str) -> list[str]:
    """The values of a pattern parameter the intent offers as alternatives ("5.2.1 or
    5.3.0"), in order; empty when it offers none."""
    hits = list(_search_pattern(pattern).finditer(intent))
    if not any(_ALTERNATIVE.search(intent[: h.start()]) for h in hits):
        return []
    return list(dict.fromkeys(h.group("value") for h in hits))


_AWAY = r"(?:off(?:\s+of)?|away\s+from|out\s+of|from)"


def _moved_away_from(intent: str, name: str) -> bool:
    """`name` follows "off", "away from", "out of" or "from" (a noun such as "controller" or
    "the" between them allowed)."""
    pattern = rf"\b{_AWAY}\s+(?:the\s+)?(?:[a-z]+\s+)?{re.escape(name)}(?![\w-])"
    return re.search(pattern, intent, re.IGNORECASE) is not None


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
    found = [k for k in known if mentions(intent, k) or _spoken_name(intent, k)]
    if name.startswith("to_"):
        # A destination is never the name the intent moves away from ("move esx-01 off
        # array-01-a"): that name is the source, and the destination is asked for.
        away = [k for k in found if _moved_away_from(intent, k)]
        found = [k for k in found if k not in away]
        sibling = _the_other(intent, away, known, _OTHER) if away and not found else None
        if sibling is not None:  # "move esx-04 off array-03-a onto the other controller"
            return sibling, GroundingNote(
                param=name,
                value=sibling,
                source="intent",
                detail=f"the other {p.entity} than {away[0]}, which the intent moves away from",
            )
        if away and not found:
            return None, GroundingNote(
                param=name,
                value=away,  # what it is not: the question offers their siblings
                source="missing",
                detail=f"the intent names {', '.join(away)} only as what to move away from",
            )
    partner = _the_other(intent, found, known, _PARTNER) if len(found) == 1 else None
    if partner is not None and p.type != "list":  # "array-01-a ...; now do its partner"
        return partner, GroundingNote(
            param=name,
            value=partner,
            source="intent",
            detail=f"the partner of {found[0]}, the {p.entity} named",
        )
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
    lettered = _by_letter(intent, known, inventory)
    if lettered is not None and p.type != "list":
        return lettered, GroundingNote(
            param=name,
            value=lettered,
            source="intent",
            detail=f"the {p.entity} named by its letter on the {p.entity}'s owner named",
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
        same_numbers = [
            k.lower() for k in known if _numbers(k) == _numbers(w) and not _other_suffix(w, k)
        ]
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


_OTHER = re.compile(
    r"\b(?:the|its|their)\s+other\s+(?:controller|sp|node|side|one|storage\s+processor)\b",
    re.IGNORECASE,
)


# "its partner", "the peer controller", "its other half": the sibling of the one named.
_PARTNER = re.compile(
    r"(?:\b(?:its|their|the)\s+|'s\s+)(?:partner|peer|twin|sibling|other\s+(?:controller|sp|"
    r"node|side|one|half))\b|\b(?:partner|peer)\s+(?:controller|sp|node)\b",
    re.IGNORECASE,
)


def _the_other(intent: str, away: list[str], known: list[str], said: re.Pattern[str]) -> str | None:
    """ "off array-03-a onto the other controller", "array-01-a ...; do its partner":
    array-03-b, array-01-b, when `said` is in the intent and the one name has exactly one
    sibling: the same name but a one-letter last part (controllers, not arrays)."""
    if len(away) != 1 or not said.search(intent):
        return None
    head, sep, last = away[0].rpartition("-")
    if len(last) != 1 or not last.isalpha():
        return None
    siblings = [
        k
        for k in known
        if sep
        and k != away[0]
        and k.rpartition("-")[0] == head
        and k.count("-") == away[0].count("-")
    ]
    return siblings[0] if len(siblings) == 1 else None


_ORDINAL = {"first": "a", "second": "b", "third": "c", "fourth": "d", "1st": "a", "2nd": "b"}


def _other_suffix(word: str, name: str) -> bool:
    """ "array-02-c" beside array-02-b: the same shape with another short letter part is
    another entity, not a typo; typos are in the longer words (arary). Numbers are compared
    by value elsewhere (esx-2 is esx-02, array-09 is not array-03)."""
    a, b = word.lower().split("-"), name.lower().split("-")
    return len(a) == len(b) and any(
        x != y and max(len(x), len(y)) <= 2 and not (x.isdigit() and y.isdigit())
        for x, y in zip(a, b, strict=True)
    )


def _by_letter(intent: str, known: list[str], inventory: Inventory | None) -> str | None:
    """ "controller b of array-01", "array-02's b controller": array-01-b, when exactly one
    entity the intent names owns such a name. A lone "a" before the noun is an article."""
    text = intent.lower()
    letters = {
        m.group(1) for m in re.finditer(r"\b(?:controller|sp|node|side)\s+([a-z])\b(?![-'])", text)
    }
    # A lone "a" is an article, unless after a possessive or written as a capital letter
    # ("array-03's A controller").
    letters |= {
        m.group(3)
        for m in re.finditer(
            r"(?:\b(the|its|their)\s+|('s)\s+|^|\s)(?<![\w'])([a-z])\s+(?:controller|sp|side)\b",
            text,
        )
        if m.group(3) != "a" or m.group(1) or m.group(2) or intent[m.start(3)] == "A"
    }
    # "the first controller", "array-02's second controller": controllers are lettered in
    # order, a first.
    letters |= {
        _ORDINAL[m.group(1)]
        for m in re.finditer(
            rf"\b({'|'.join(_ORDINAL)})\s+(?:storage\s+)?(?:controller|sp|node|side)\b", text
        )
    }
    if len(letters) != 1 or inventory is None:
        return None
    (letter,) = letters
    owners = {n for names in inventory.entities.values() for n in names if mentions(intent, n)}
    hits = [k for k in known if any(k.lower() == f"{o.lower()}-{letter}" for o in owners)]
    return hits[0] if len(hits) == 1 else None


def _number(
    name: str,
    p: Param,
    numbers: list[NumberMention],
    claimed: set[int],
    named: NumberMention | None,
) -> tuple[Any, GroundingNote | None]:
    """A number the intent gives for this parameter: the one next to its name, else the only
    number nobody else claims, when the parameter has no default to fall back on."""
    candidates = (
        [named]
        if named is not None
        else (
            [
                m
                for m in numbers
                if m.start not in claimed
                and m.unit is None
                and not m.compound
                and m.after[:1] not in (("per",), ("each",), ("every",))  # "48 per rack": a rate
            ]
            if p.default is None
            else []
        )
    )
    if named is None and len(candidates) != 1:
        return None, None
    m = candidates[0]
    if m.alternatives:
        offered = " or ".join(f"{v:g}" for v in m.alternatives)
        return None, GroundingNote(
            param=name,
            value=list(m.alternatives),
            source="ambiguous",
            detail=f"the intent offers several: {offered}",
        )
    number = m.value
    if p.type == "integer" and isinstance(number, float):
        if not number.is_integer():
            return None, None
        number = int(number)
    if (p.minimum is not None and number < p.minimum) or (
        p.maximum is not None and number > p.maximum
    ):
        if p.default is not None:
            return None, None
        return None, GroundingNote(
            param=name,
            value=None,
            source="missing",
            detail=f"{p.description}: {number:g} is outside {_bounds(p)}",
        )
    claimed.add(m.start)
    how = "next to its name" if named is not None else "the only number in the intent"
    return number, GroundingNote(param=name, value=number, source="intent", detail=how)


def ground(routine: Routine, intent: str, inventory: Inventory | None) -> Grounding:
    """Every parameter value of `routine` that the intent and inventory determine."""
    values: dict[str, Any] = {}
    notes: list[GroundingNote] = []
    numbers = number_mentions(intent)
    claimed: set[int] = set()  # positions of numbers a parameter has taken
    # Versions and other patterns first: their digits are not counts.
    for p in routine.params.values():
        if p.entity is None and p.pattern is not None:
            for hit in _search_pattern(p.pattern).finditer(intent):
                claimed.update(m.start for m in numbers if hit.start() <= m.start < hit.end())
    # A quantity a formula reads ("96 servers") is not the count of another parameter.
    reserved = {m.start for m in numbers if m.start not in claimed and is_given(routine.derive, m)}
    # Numbers next to a word naming their parameter ("20 leaves", "k=8") are theirs.
    claimed_by_name = bind_by_name(routine, numbers, reserved, intent=intent)
    claimed.update(m.start for m in claimed_by_name.values())
    claimed |= reserved
    for name, p in routine.params.items():
        value: Any = None
        note: GroundingNote | None = None
        if p.entity is not None:
            value, note = _entity(name, p, intent, inventory)
        elif p.pattern is not None:
            found = _pattern_value(p.pattern, intent)
            if found is not None:
                value = found
                note = GroundingNote(
                    param=name, value=value, source="intent", detail=f"matches {p.pattern}"
                )
            elif offered := _alternatives(p.pattern, intent):
                note = GroundingNote(
                    param=name,
                    value=offered,
                    source="ambiguous",
                    detail=f"the intent offers several: {' or '.join(offered)}",
                )
        elif p.enum is not None:
            named = [v for v in p.enum if isinstance(v, str) and mentions(intent, v)]
            if len(named) == 1:
                value = named[0]
                note = GroundingNote(param=name, value=value, source="intent", detail="named")
        elif p.type in ("integer", "number"):
            value, note = _number(name, p, numbers, claimed, claimed_by_name.get(name))
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
    _derive(routine, numbers, claimed - reserved, values, notes)
    return Grounding(routine=routine.name, values=values, notes=tuple(notes))


def _derive(
    routine: Routine,
    numbers: list[NumberMention],
    claimed: set[int],
    values: dict[str, Any],
    notes: list[GroundingNote],
) -> None:
    """Missing parameters the routine's formulas work out from a quantity the intent says
    ("for 96 servers": leaves = ceil(servers / servers_per_leaf) = 2), shown with the
    formula and the values it used."""
    for d in routine.derive:
        p = routine.params[d.param]
        if d.param in values and _note_of(notes, d.param).source != "default":
            continue
        said = [m for m in numbers if m.start not in claimed and is_given([d], m)]
        if len(said) != 1:
            continue
        m = said[0]
        names = {k: v for k, v in values.items() if isinstance(v, int | float)}
        names[d.given] = m.value
        try:
            result = evaluate(d.formula, names)
        except InputError:
            continue
        number: int | float = int(result) if p.type == "integer" and result.is_integer() else result
        if (p.type == "integer" and not float(number).is_integer()) or not (
            (p.minimum is None or number >= p.minimum)
            and (p.maximum is None or number <= p.maximum)
        ):
            continue
        used = ", ".join(f"{k} = {names[k]:g}" for k in sorted(names_in(d.formula)) if k in names)
        claimed.add(m.start)
        values[d.param] = number
        i = next(j for j, n in enumerate(notes) if n.param == d.param)
        notes[i] = GroundingNote(
            param=d.param,
            value=number,
            source="derived",
            detail=f"{d.param} = {d.formula} with {used}",
        )


def _note_of(notes: list[GroundingNote], param: str) -> GroundingNote:
    return next(n for n in notes if n.param == param)


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
            if text in allowed or text in known or mentions(intent, text):
                return
            out.append((where, value))

    for k, v in args.items():
        walk(v, k)
    return out


def without_names(text: str, inventory: Inventory | None) -> str:
    """`text` with every inventory name in it cut out."""
    names = sorted(
        (n for ns in (inventory.entities.values() if inventory else ()) for n in ns),
        key=len,
        reverse=True,
    )
    for n in names:
        text = re.sub(rf"(?<![\w-]){re.escape(n)}(?![\w-])", " ", text, flags=re.IGNORECASE)
    return " ".join(text.split())
