"""What the LLM planner returns: the plan, its report, and how it was made."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from planactor.catalog import Routine
from planactor.plan import Plan, PlannerInfo
from planactor.planner._backends import Backend, BackendError, Completion
from planactor.planner._clauses import NotPlanned
from planactor.planner._grounding import Grounding, GroundingNote
from planactor.validate import ValidationReport

__all__ = ["LLMPlanResult", "json_object", "note_document", "planner_info", "problems_text"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LLMPlanResult:
    plan: Plan
    report: ValidationReport
    path: str  # "routine" or "compose"
    routine: Routine | None
    grounding: Grounding | None
    calls: tuple[Completion, ...] = ()
    attempts: int = 1
    cached: bool = False
    warnings: tuple[str, ...] = field(default=())
    not_planned: tuple[NotPlanned, ...] = field(default=())


def note_document(n: GroundingNote) -> dict[str, Any]:
    """A grounding note as the plan's metadata and the plan cache record it."""
    return {"param": n.param, "value": n.value, "source": n.source, "detail": n.detail}


def planner_info(
    backend: Backend, calls: Sequence[Completion], attempts: int, extra: Mapping[str, Any]
) -> PlannerInfo:
    """The plan's planner metadata: the backend, the calls made and what `extra` adds."""
    return PlannerInfo(
        backend=backend.name,
        model=backend.model,
        prompt_hash=calls[-1].prompt_hash if calls else None,
        attempts=attempts,
        tokens_in=sum(c.tokens_in for c in calls),
        tokens_out=sum(c.tokens_out for c in calls),
        latency_s=round(sum(c.latency_s for c in calls), 4),
        cost_usd=round(sum(c.cost_usd for c in calls), 6),
        llm_calls=[c.to_document() for c in calls],
        **extra,
    )


def json_object(call: Completion) -> dict[str, Any]:
    try:
        value = json.loads(call.text)
    except ValueError:
        raise BackendError(
            f"{call.backend} ({call.model}) answered with text that is not JSON: "
            f"{call.text[:120]!r}",
            backend=call.backend,
        ) from None
    if not isinstance(value, dict):
        raise BackendError(
            f"{call.backend} ({call.model}) answered {type(value).__name__}, not a JSON object",
            backend=call.backend,
        )
    return value


def problems_text(report: ValidationReport) -> str:
    """A report's first errors, one line each: what goes back to the model."""
    return "\n".join(f"- {p.location}: {p.message}" for p in report.errors[:10])
