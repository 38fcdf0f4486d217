"""Which parameter a number of an intent belongs to: the words next to it name it ("20
leaves", "k=8", "40 per leaf"), and a total a routine's formula reads ("96 servers") is
given, not a count of anything. Pure functions over the numbers `_numbers` finds."""

from __future__ import annotations

import re
from collections.abc import Iterable, Set
from dataclasses import replace

from planactor.catalog import Derivation, Routine
from planactor.planner._clauses import transposed
from planactor.planner._numbers import NumberMention

__all__ = ["bind_by_name", "is_given"]


def _singular(word: str) -> str:
    if word.endswith("ves"):
        return word[:-3] + "f"
    if word.endswith(("ches", "shes", "xes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _param_word(name: str) -> str:
    """The word that names a parameter in a sentence: leaves -> leaf, servers_per_leaf ->
    server, uplink_gbps -> uplink."""
    return _singular(name.split("_")[0].lower())


# Words that name the same thing in a sentence.
# A rack's top-of-rack switch is its leaf: "48 per rack" is servers per leaf.
_SYNONYMS = {"server": {"host"}, "host": {"server"}, "leaf": {"tor", "rack"}}


_RATE = ("per", "each", "a", "every")


def _names_param(m: NumberMention, name: str, *, after: bool) -> bool:
    """Whether the words right after (or, with after=False, right before) the number name
    the parameter: "20 leaves", "100G uplinks", "oversubscription at most 2"."""
    word = _param_word(name)
    is_speed = name.endswith("gbps")
    if is_speed != (m.unit == "gbps"):
        return False
    if len(word) == 1:  # k=8, k of 8: only right before the number
        return not after and bool(m.before) and m.before[-1] == word
    names = {word, *_SYNONYMS.get(word, ())}
    near = m.after[:3] if after else m.before[-3:]
    if "_per_" in name and after:
        unit = _singular(name.rsplit("_per_", 1)[1])
        units = {unit, *_SYNONYMS.get(unit, ())}
        if near[:1] and near[0] in _RATE and near[1:2] and _singular(near[1]) in units:
            return True  # "40 per leaf" gives servers_per_leaf, the servers said elsewhere
        if not any(t in _RATE for t in near):
            return False  # "96 servers" is a total; "48 servers per leaf" is per leaf
    elif after:
        # "40 per leaf", "48 servers per leaf": the word after "per" is a rate's unit, not
        # what the number counts.
        near = near[: next((i for i, w in enumerate(near) if w in _RATE), len(near))]
    # "4 spiens": two letters swapped still name the parameter.
    # "oversub max 2": a word of five letters or more cut from a long parameter word.
    return any(
        _singular(t) in names
        or any(len(n) >= 4 and transposed(_singular(t), n) for n in names)
        or any(len(n) >= 8 and len(t) >= 5 and n.startswith(t) for n in names)
        for t in near
    )


def bind_by_name(
    routine: Routine,
    numbers: list[NumberMention],
    reserved: Set[int] = frozenset(),
    *,
    intent: str = "",
) -> dict[str, NumberMention]:
    """Each numeric parameter's number, when a word next to it names the parameter: words
    after the number first ("4 spines"), then words before it ("k=8"); last, a speed
    ("400G") goes to the one speed parameter whose word its phrase says ("two uplinks to
    each spine at 400G", "25G down to the hosts")."""
    bound: dict[str, NumberMention] = {}
    taken: set[int] = set()
    numeric = [
        name
        for name, p in routine.params.items()
        if p.entity is None
        and p.pattern is None
        and p.enum is None
        and p.type in ("integer", "number")
    ]
    # A parameter named as a key ("leaves=24", "uplink_gbps: 400") takes its number; keyed
    # twice with other values ("k=8, but actually make it k=6"), it takes both, offered.
    for name in numeric:
        keyed = [
            m
            for m in numbers
            if m.key is not None
            and m.start not in taken
            and (m.key == name or _singular(m.key) == _singular(name))
        ]
        if keyed:
            values = tuple(dict.fromkeys(m.value for m in keyed))
            bound[name] = keyed[0] if len(values) == 1 else replace(keyed[0], alternatives=values)
            taken.update(m.start for m in keyed)
    # "k=8" is the strongest sign, then a word after the number, then one before it.
    passes = [
        ([n for n in numeric if len(_param_word(n)) == 1], False),
        (numeric, True),
        (numeric, False),
    ]
    for names, after in passes:
        for name in names:
            if name in bound:
                continue
            p = routine.params[name]
            for m in numbers:
                fits = (p.minimum is None or m.value >= p.minimum) and (
                    p.maximum is None or m.value <= p.maximum
                )
                weak = not after and m.start in reserved  # "leaf-spine for 96 servers"
                if (
                    m.start not in taken
                    and fits
                    and not weak
                    and _names_param(m, name, after=after)
                ):
                    bound[name] = m
                    taken.add(m.start)
                    break
    speeds = [n for n in numeric if n.endswith("gbps") and n not in bound]
    for m in numbers:
        if m.unit != "gbps" or m.start in taken or not intent:
            continue
        phrase = _phrase_around(intent, m.start)
        said = [n for n in speeds if _says_word(phrase, _param_word(n))]
        if len(said) == 1:
            bound[said[0]] = m
            taken.add(m.start)
            speeds.remove(said[0])
    return bound


def _phrase_around(intent: str, at: int) -> str:
    """The text between the commas or semicolons around position `at`."""
    start = max(intent.rfind(",", 0, at), intent.rfind(";", 0, at)) + 1
    ends = [i for i in (intent.find(",", at), intent.find(";", at)) if i >= 0]
    return intent[start : min(ends) if ends else len(intent)]


def _says_word(phrase: str, word: str) -> bool:
    names = {word, *_SYNONYMS.get(word, ())}
    return any(_singular(t) in names for t in re.findall(r"[a-z]+", phrase.lower()))


def is_given(derivations: Iterable[Derivation], m: NumberMention) -> bool:
    """Whether the number is said with the word one of the formulas reads, as a total:
    "96 servers", not "48 servers per leaf", nor a speed ("10G server links")."""
    if m.unit is not None:
        return False
    after = m.after
    for d in derivations:
        word = _singular(d.given.lower())
        if (m.key is not None and _singular(m.key) == word) or any(
            _singular(t) in {word, *_SYNONYMS.get(word, ())}
            and after[j + 1 : j + 2] not in (("per",), ("each",), ("every",))
            for j, t in enumerate(after[:2])
        ):
            return True
    return False
