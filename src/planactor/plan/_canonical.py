"""Canonical JSON and content hashes: the identity of a plan."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from planactor._speed import c_json_encoder

__all__ = ["canonical_json", "canonical_text", "content_hash"]

# Built once: json.dumps with options builds a new encoder on every call.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
# And the C encoder that `_ENCODER.encode` builds on every call, once too (the journal
# encodes two events per step); a cycle ends in RecursionError there, reported below.
_FAST = c_json_encoder(_ENCODER)


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
