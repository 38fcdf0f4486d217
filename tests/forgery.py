"""Test helpers that forge what planactor records, the way a careful forger would: a journal
file tampered with and its chain rehashed, an approval signed without sign()'s checks.

They are public now, in planactor.testing; this module names them for the tests that import
them from here."""

from __future__ import annotations

from planactor.testing import forge_approval, rewrite_chain, sql

__all__ = ["forge_approval", "rewrite_chain", "sql"]
