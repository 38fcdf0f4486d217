"""Canonical JSON and content hashes: the identity of a plan."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

__all__ = ["canonical_json", "canonical_text", "content_hash"]

# Built once: json.dumps with options builds a new encoder on every call.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)

# The C encoder that `_ENCODER.encode` builds on every call, built once (the journal encodes
# two events per step). Without its circular-reference check: the check's marker dict would
# be shared between threads and left dirty by an error. A cycle then ends in RecursionError,
# and the slow path below reports it exactly as json does.
_FAST: Callable[[Any, int], list[str] | tuple[str, ...]] | None = (
    c_make_encoder(
        None,
        _ENCODER.default,
        encode_basestring,
        None,  # indent
        ":",
        ",",
        True,  # sort_keys
        False,  # skipkeys
        False,  # allow_nan
    )
    if c_make_encoder is not None
    else None
)


def canonical_text(value: Any) -> str:
    """`canonical_json` before UTF-8 encoding (for callers that splice it into more JSON)."""
    if _FAST is not None and type(value) is not str:
        try:
            return "".join(_FAST(value, 0))
        except RecursionError:
            pass  # a cycle or very deep nesting: let json say which
    return _ENCODER.encode(value)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8, no NaN or Infinity.

    Numbers are written as Python writes them (shortest round-trip repr), so a value
    parsed from canonical JSON re-serialises to the same bytes.
    """
    return canonical_text(value).encode("utf-8")


def content_hash(value: Any) -> str:
    """`sha256:<hex>` of the canonical JSON of `value`."""
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()
