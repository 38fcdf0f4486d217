"""Test helpers, part of the public API: what a pack author needs to test a pack.

    catalog(), ledger_*, applied_counts   actors that record each write they really applied
    flaky, unexpected                      actors that fail on purpose (retry, pause)
    ScriptedBackend                        an LLM backend replaying canned answers
    CliRunner, CliResult                   `planactor ...` in this process, in its own home
    sql, rewrite_chain, forge_approval     forgeries an audit must catch

The ledger actors append each write they apply to a JSON-lines file, keyed by the
idempotency key, so a test (or a crash test in another process) can count how many times
each write was applied. Use `catalog()` for the built-in packs plus these actors; installed
as a pack (entry point `testing = planactor.testing`) they are what the CLI can run.
docs/actor-api.md, "Testing your pack", shows each in use.
"""

from planactor.testing._cli import OUTSIDE_ENV, CliResult, CliRunner
from planactor.testing._forgery import forge_approval, rewrite_chain, sql
from planactor.testing._ledger import (
    applied_counts,
    catalog,
    flaky,
    ledger_entries,
    ledger_undo,
    ledger_write,
    ledger_write_once,
    unexpected,
    wait_for_file,
)
from planactor.testing._llm import ScriptedBackend

__all__ = [
    "OUTSIDE_ENV",
    "CliResult",
    "CliRunner",
    "ScriptedBackend",
    "applied_counts",
    "catalog",
    "flaky",
    "forge_approval",
    "ledger_entries",
    "ledger_undo",
    "ledger_write",
    "ledger_write_once",
    "rewrite_chain",
    "sql",
    "unexpected",
    "wait_for_file",
]
