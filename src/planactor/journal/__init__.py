"""The journal: SQLite, append-only, hash-chained; verification of the chain; the vocabulary
of run events (`EventKind`, the fields of each, `event_problem`).

Audit reports, which also judge signatures, live above it in `planactor.audit`."""

from planactor.journal._events import (
    KINDS,
    CompensationFailedData,
    CompensationStartedData,
    CompensationSucceededData,
    ErrorData,
    EventKind,
    KindSpec,
    Replay,
    RunEndedData,
    RunPausedData,
    RunResumedData,
    RunStartedData,
    StepFailedData,
    StepRetryingData,
    StepSkippedData,
    StepStartedData,
    StepSucceededData,
    event_problem,
    kind_of,
)
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
    "KINDS",
    "ChainReport",
    "CompensationFailedData",
    "CompensationStartedData",
    "CompensationSucceededData",
    "ErrorData",
    "EventKind",
    "Journal",
    "JournalEvent",
    "KindSpec",
    "Replay",
    "RunEndedData",
    "RunPausedData",
    "RunRecord",
    "RunResumedData",
    "RunStartedData",
    "StepFailedData",
    "StepRetryingData",
    "StepSkippedData",
    "StepStartedData",
    "StepSucceededData",
    "Synchronous",
    "event_problem",
    "kind_of",
]
