"""The journal: SQLite, append-only, hash-chained; verification of the chain.

Audit reports, which also judge signatures, live above it in `planactor.audit`."""

from planactor.journal._journal import (
    GENESIS,
    ChainReport,
    Journal,
    JournalEvent,
    RunRecord,
    Synchronous,
)

__all__ = [
    "GENESIS",
    "ChainReport",
    "Journal",
    "JournalEvent",
    "RunRecord",
    "Synchronous",
]
