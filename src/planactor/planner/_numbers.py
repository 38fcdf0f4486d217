"""Numbers in an intent: digits, with a unit (100G) or a key (k=8, leaves: 24), and numbers
spelt in words (ninety six, a hundred and twenty eight), each with the words around it, so
that grounding can tell which parameter a number belongs to. Pure text functions."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

__all__ = ["NumberMention", "number_mentions", "spoken_numbers"]

_UNIT = re.compile(r"^(?:g|gb|gbe|gbps|gig|gigs)$")
_ONES = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {
    w: 10 * (i + 2)
    for i, w in enumerate(
        ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    )
}
_SCALES = {"hundred": 100, "thousand": 1000}


@dataclass(frozen=True, slots=True)
class NumberMention:
    """A number in the intent, as digits or words, with the words around it up to the
    next number on either side (a word beyond another number names that number)."""

    value: int | float
    start: int
    unit: str | None
    before: tuple[str, ...]
    after: tuple[str, ...]
    key: str | None = None  # "leaves" in leaves=24 or leaves: 24
    # "four-pod", "16-leaf": joined to the word after it, which alone may name it; never
    # "the only number" of a parameter ("three-tier", "4-byte" name no count).
    compound: bool = False
    end: int = 0  # where its text ends
    # The values offered with it as alternatives ("k=4 or k=8": 4 and 8), itself included.
    alternatives: tuple[int | float, ...] = ()


def _word_number(words: list[str], i: int) -> tuple[int, int] | None:
    """The number spelt from words[i] on ("ninety six", "a hundred and twenty eight"), and
    how many words it took."""
    total, current, j, seen = 0, 0, i, False
    while j < len(words):
        w = words[j]
        if w in _ONES:
            current += _ONES[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w in _SCALES and (seen or (j > i and words[j - 1] == "a")):
            current = max(current, 1) * _SCALES[w]
            if _SCALES[w] >= 1000:
                total, current = total + current, 0
        elif (
            w == "and"
            and seen
            and j + 1 < len(words)
            and (words[j + 1] in _ONES or words[j + 1] in _TENS)
        ) or (w == "a" and j == i and j + 1 < len(words) and words[j + 1] in _SCALES):
            j += 1
            continue
        else:
            break
        seen = True
        j += 1
    return (total + current, j - i) if seen else None


def number_mentions(intent: str) -> list[NumberMention]:
    """Every number in the intent: digits (with a unit such as 100G), k=8, or words."""
    found: list[NumberMention] = []
    words = [
        (m.group(0).lower(), m.start())
        for m in re.finditer(r"[A-Za-z]+|\d+(?:\.\d+)?[A-Za-z]*|[=:]", intent)
    ]
    texts = [w for w, _ in words]
    i = 0
    while i < len(words):
        w, start = words[i]
        digits = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]*)", w)
        taken = 1
        value: int | float | None = None
        unit: str | None = None
        compound = False
        if digits and (_standalone(intent, start, len(w)) or _joined(intent, start, len(w))):
            raw, suffix = digits.groups()
            if suffix == "x" and raw.isdigit():  # "2x uplinks": a count, said as a multiple
                suffix = ""
            if not suffix or _UNIT.match(suffix):
                value = float(raw) if "." in raw else int(raw)
                unit = "gbps" if suffix else None
                compound = not suffix and _joined(intent, start, len(w))
                ratio = re.match(r":(\d+)(?![\d.:])", intent[start + len(w) :])
                if not suffix and ratio and 0 < int(ratio.group(1)) <= value:
                    # "3:1 oversubscription": one ratio, 3, not a 3 and a 1 (02:00 and
                    # 14:30 are times, left alone).
                    quotient = value / int(ratio.group(1))
                    value = int(quotient) if float(quotient).is_integer() else quotient
                    taken = 3
        elif not digits:
            spelt = _word_number(texts, i)
            if spelt is not None:
                value, taken = spelt
                last = words[i + taken - 1]
                compound = _joined(intent, last[1], len(last[0]))
        if value is not None:
            # A key is a word of its own: "leaf-spine: 16 leaves" keys nothing by "spine".
            keyed = re.search(r"(?<![\w-])([A-Za-z][A-Za-z_]*)\s*[=:]\s*$", intent[:start])
            # A comma or semicolon ends what names a number: "leaves 8, spines 2".
            ahead = words[i + taken - 1 : i + taken + 3]
            cut = next(
                (j for j in range(1, len(ahead)) if _broken(intent, ahead[j - 1], ahead[j])),
                len(ahead),
            )
            after = _upto_number([w for w, _ in ahead[1:cut]])
            if unit is None and after and _UNIT.match(after[0]):
                unit, after = "gbps", after[1:]
            # "leaf-spine with 8": the words of a hyphenated name name no number before it.
            behind = words[max(0, i - 3) : i + 1]
            start_at = max(
                (j for j in range(1, len(behind)) if _broken(intent, behind[j - 1], behind[j])),
                default=0,
            )
            before = [
                t
                for t, s in behind[start_at:-1]
                if t not in ("=", ":") and not _hyphened(intent, s, len(t))
            ]
            before = _upto_number(before[::-1])[::-1]
            last_word, last_start = words[i + taken - 1]
            found.append(
                NumberMention(
                    value=value,
                    start=start,
                    end=last_start + len(last_word),
                    unit=unit,
                    before=() if compound else tuple(before),
                    after=tuple(after[:1] if compound else after),
                    key=keyed.group(1).lower() if keyed else None,
                    compound=compound,
                )
            )
        i += taken
    return _offered_together(intent, found)


# Between two numbers offered as alternatives: "4 or 8", "k=4 or k=8", "8/16".
_OR = re.compile(r"\s*(?:or(?:\s+(?:maybe|perhaps))?|/)\s*(?:[A-Za-z_]+\s*[=:]\s*)?", re.IGNORECASE)


def _offered_together(intent: str, found: list[NumberMention]) -> list[NumberMention]:
    """The mentions, each with the values offered with it as alternatives ("8 or 16")."""
    groups: list[list[int]] = []
    for j, m in enumerate(found):
        if j and _OR.fullmatch(intent[found[j - 1].end : m.start]):
            groups[-1].append(j)
        else:
            groups.append([j])
    out = list(found)
    for g in groups:
        if len(g) > 1:
            offered = tuple(found[j].value for j in g)
            for j in g:
                out[j] = replace(found[j], alternatives=offered)
    return out


def _broken(intent: str, first: tuple[str, int], second: tuple[str, int]) -> bool:
    """Whether a comma or semicolon stands between two words."""
    return any(c in ",;" for c in intent[first[1] + len(first[0]) : second[1]])


def _hyphened(intent: str, start: int, length: int) -> bool:
    """Whether the word at `start` is part of a hyphenated word (leaf-spine, per-spine)."""
    return intent[start - 1 : start] == "-" or intent[start + length : start + length + 1] == "-"


def _upto_number(words: list[str]) -> list[str]:
    """The words up to (not including) the first that is a number."""
    for j, w in enumerate(words):
        if w[:1].isdigit() or w in _ONES or w in _TENS:
            return words[:j]
    return words


def _joined(intent: str, start: int, length: int) -> bool:
    """A number joined by a hyphen to the word after it ("four-pod", "16-leaf"), and not
    itself the end of a name (array-01) or a range (2-4)."""
    before = intent[start - 1] if start > 0 else " "
    if before in "-_." or before.isalnum():
        return False
    return re.match(r"-[A-Za-z]", intent[start + length : start + length + 2]) is not None


def _standalone(intent: str, start: int, length: int) -> bool:
    """Not part of a name or a version: array-01, 5.2.1, esx-08."""
    before = intent[start - 1] if start > 0 else " "
    end = start + length
    after = intent[end : end + 2]
    if before in "-_." or before.isalnum():
        return False
    return not (after[:1] in ("-", "_") or (after[:1] == "." and after[1:2].isdigit()))


def spoken_numbers(intent: str) -> str:
    """The intent with spelt numbers as digits and "point"/"dot" between them as a full stop,
    so that "five point two point one" reads 5.2.1."""
    words = intent.split()
    lowered = [re.sub(r"[^a-z0-9.]", "", w.lower()) for w in words]
    out: list[str] = []
    i = 0
    while i < len(words):
        spelt = _word_number(lowered, i)
        if spelt is not None and not (lowered[i] == "a" and spelt[1] == 1):
            out.append(str(spelt[0]))
            i += spelt[1]
            continue
        out.append(words[i])
        i += 1
    text = " ".join(out)
    return re.sub(r"(?<=\d) (?:point|dot) (?=\d)", ".", text)
