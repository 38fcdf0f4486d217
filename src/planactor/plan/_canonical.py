"""Canonical JSON and content hashes: the identity of a plan."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["canonical_json", "content_hash"]

# Built once: json.dumps with options builds a new encoder on every call.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8, no NaN or Infinity.

    Numbers are written as Python writes them (shortest round-trip repr), so a value
    parsed from canonical JSON re-serialises to the same bytes.
    """
    return _ENCODER.encode(value).encode("utf-8")


def content_hash(value: Any) -> str:
    """`sha256:<hex>` of the canonical JSON of `value`."""
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()
