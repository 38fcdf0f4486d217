"""What the engine returns: how a run ended, how a replay compared, what a resume gate sees."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from planactor._speed import quick_init
from planactor.engine._scheduler import RunStatus, StepState
from planactor.plan import Plan

__all__ = [
    "EXIT_FOR_STATUS",
    "RecordedRun",
    "ReplayReport",
    "ResumeGate",
    "RunResult",
    "StepOutcome",
]

EXIT_FOR_STATUS: dict[str, int] = {
    "succeeded": 0,
    "failed": 1,
    "compensated": 1,
    "paused": 4,
    "running": 1,
}


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class StepOutcome:
    step: str
    state: StepState
    attempts: int
    output: dict[str, Any] | None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """How a run ended (or paused). `exit_code` follows docs/cli.md."""

    run_id: str
    status: RunStatus
    plan_hash: str
    dry_run: bool
    reason: str | None
    steps: dict[str, StepOutcome]
    commits: int = 0

    @property
    def exit_code(self) -> int:
        return EXIT_FOR_STATUS[self.status]

    def logical_record(self) -> dict[str, Any]:
        """What ran with which inputs and outputs: equal for sequential and parallel runs."""
        return {
            "status": self.status,
            "steps": {
                sid: {"state": o.state, "attempts": o.attempts, "output": o.output}
                for sid, o in sorted(self.steps.items())
            },
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedRun:
    """What a resume gate judges: the run as its verified journal records it."""

    run_id: str
    plan: Plan
    plan_hash: str
    started: Mapping[str, Any]  # the data of the run's `run.started` event
    done: Mapping[str, Any]  # finished steps (succeeded or skipped) -> recorded output
    abort: bool


ResumeGate = Callable[[RecordedRun], Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayReport:
    """Whether the scheduler, fed the recorded results, issues the recorded commands."""

    run_id: str
    ok: bool
    events: int
    plan_matches: bool = True
    first_divergence: int | None = None
    expected: str | None = None
    found: str | None = None
    note: str | None = None
