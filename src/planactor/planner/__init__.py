"""Planners: intent (+ inventory) in, a validated plan out.

The routine planner picks a tested routine and grounds its parameters deterministically;
LLM backends build on the same grounding.
"""

from planactor.planner._grounding import (
    Grounding,
    GroundingNote,
    ground,
    tokens,
    ungrounded_values,
)
from planactor.planner._routine_planner import Candidate, PlanResult, RoutinePlanner, rank

__all__ = [
    "Candidate",
    "Grounding",
    "GroundingNote",
    "PlanResult",
    "RoutinePlanner",
    "ground",
    "rank",
    "tokens",
    "ungrounded_values",
]
