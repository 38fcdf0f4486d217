"""The engine: a pure scheduler state machine driven by an I/O shell.

`Scheduler` decides (no I/O, no clock, no threads); `Engine` journals and acts.
"""

from planactor.engine._engine import (
    Engine,
    OnEvent,
    RecordedRun,
    ReplayReport,
    ResumeGate,
    RunResult,
    StepOutcome,
    specs_for,
)
from planactor.engine._resume_gate import resume_gate
from planactor.engine._scheduler import (
    Command,
    CompensationFailed,
    CompensationSucceeded,
    Event,
    FinishRun,
    PauseRun,
    Resumed,
    RunStatus,
    Scheduler,
    SchedulerError,
    SkipStep,
    StartCompensation,
    StartStep,
    StepError,
    StepFailed,
    StepSpec,
    StepState,
    StepSucceeded,
)

__all__ = [
    "Command",
    "CompensationFailed",
    "CompensationSucceeded",
    "Engine",
    "Event",
    "FinishRun",
    "OnEvent",
    "PauseRun",
    "RecordedRun",
    "ReplayReport",
    "ResumeGate",
    "Resumed",
    "RunResult",
    "RunStatus",
    "Scheduler",
    "SchedulerError",
    "SkipStep",
    "StartCompensation",
    "StartStep",
    "StepError",
    "StepFailed",
    "StepOutcome",
    "StepSpec",
    "StepState",
    "StepSucceeded",
    "resume_gate",
    "specs_for",
]
