"""Strict JSON parsing for plans: positions for syntax errors, no NaN, no duplicate keys.

A duplicate key is refused because a reviewer reading the file and the engine reading
the parsed value would otherwise see different plans.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["MAX_DEPTH", "JsonSyntaxError", "format_location", "parse_json"]

# Nesting deeper than this is refused by every parser planactor uses, so `validate` and
# the Plan model (whose JSON parser stops near 255 levels) never disagree about a file.
MAX_DEPTH = 200


class JsonSyntaxError(Exception):
    """Text that is not strict JSON; `location` is a JSON path where one applies."""

    def __init__(
        self,
        *,
        message: str,
        line: int | None = None,
        column: int | None = None,
        location: tuple[str | int, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.location = location

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line is not None else ""
        return where + self.message


class _Object(dict[str, Any]):
    """A parsed JSON object that saw a key twice; plain dicts are used otherwise."""

    duplicates: tuple[str, ...] = ()


def _duplicates(pairs: list[tuple[str, Any]]) -> tuple[str, ...]:
    seen: set[str] = set()
    dups: list[str] = []
    for key, _ in pairs:
        if key in seen:
            dups.append(key)
        seen.add(key)
    return tuple(dups)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is out of range for a JSON number")
    return value


_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _may_hold_surrogate(text: str, decoded: bool) -> bool:
    """Cheap tests first: most plans have no `\\u` escape and no surrogate character."""
    if "\\u" in text and _SURROGATE_ESCAPE.search(text) is not None:
        return True
    # Text decoded from UTF-8 cannot hold a surrogate character; a Python str can.
    return not decoded and not text.isascii() and _SURROGATE.search(text) is not None


def _check_text(text: str, what: str, path: tuple[str | int, ...]) -> None:
    """Refuse a lone surrogate (`"\\ud800"`): it is not Unicode text and cannot be hashed."""
    bad = _SURROGATE.search(text)
    if bad is not None:
        code = f"\\u{ord(bad.group()):04x}"
        raise JsonSyntaxError(
            message=f"lone surrogate {code} in {what} at {format_location(path)}",
            location=path,
        )


def _plain(value: Any, path: tuple[str | int, ...]) -> Any:
    """Turn parse results into plain dicts, raising on the first duplicate key or bad string."""
    if isinstance(value, dict):
        dups = getattr(value, "duplicates", ())
        if dups:
            raise JsonSyntaxError(
                message=f"duplicate key {dups[0]!r} in object at {format_location(path)}",
                location=(*path, dups[0]),
            )
        out: dict[str, Any] = {}
        for k, v in value.items():
            _check_text(k, "a key", path)
            out[k] = _plain(v, (*path, k))
        return out
    if isinstance(value, list):
        return [_plain(v, (*path, i)) for i, v in enumerate(value)]
    if isinstance(value, str):
        _check_text(value, "a string", path)
    return value


def parse_json(text: str | bytes) -> Any:
    """Parse strict JSON. Raises JsonSyntaxError with a line and column, or a JSON path."""
    decoded = isinstance(text, bytes)
    if isinstance(text, bytes):
        if text.startswith(b"\xef\xbb\xbf"):
            # Refused, not skipped: the Plan model's parser and other tools reject it.
            raise JsonSyntaxError(
                message="starts with a UTF-8 byte-order mark (BOM); save it without one"
            )
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise JsonSyntaxError(
                message=f"not UTF-8 text (bad byte 0x{text[e.start]:02x} at byte offset {e.start})"
            ) from None
    elif text.startswith("\ufeff"):
        raise JsonSyntaxError(
            message="starts with a byte-order mark (BOM, U+FEFF); save it without one"
        )
    duplicated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicated
        obj = dict(items)
        if len(obj) == len(items):
            return obj
        duplicated = True
        marked = _Object(items)
        marked.duplicates = _duplicates(items)
        return marked

    try:
        raw = json.loads(
            text, object_pairs_hook=pairs, parse_constant=_no_constants, parse_float=_finite_float
        )
    except json.JSONDecodeError as e:
        raise JsonSyntaxError(message=e.msg, line=e.lineno, column=e.colno) from None
    except ValueError as e:  # NaN, Infinity, 1e400
        raise JsonSyntaxError(message=str(e)) from None
    except RecursionError:
        raise JsonSyntaxError(message="nesting too deep") from None
    _check_depth(raw, text)
    if not duplicated and not _may_hold_surrogate(text, decoded):
        return raw  # the common case: nothing to locate, no second walk
    try:
        return _plain(raw, ())
    except RecursionError:
        raise JsonSyntaxError(message="nesting too deep") from None


def _check_depth(value: Any, text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH; walks only when the text could be that deep."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return  # cheap bound: fewer brackets than levels
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise JsonSyntaxError(message="nesting too deep")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))


def format_location(path: tuple[str | int, ...]) -> str:
    """`steps[3].args.array`; keys that are not identifiers are quoted: `args["a b"]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out or "$"
