"""Planners: intent (+ inventory) in, a validated plan out.

The routine planner picks a tested routine and grounds its parameters deterministically;
LLM backends build on the same grounding.
"""

from planactor.planner._backends import (
    BACKENDS,
    AnthropicBackend,
    Backend,
    BackendError,
    Completion,
    LocalBackend,
    Message,
    OpenAIBackend,
    get_backend,
    prompt_hash,
    shipped_model_path,
)
from planactor.planner._clauses import Clause, NotPlanned, Reading, read_intent
from planactor.planner._grammar import Fitted, compose_schema, fit_compose, grounded, max_chars
from planactor.planner._grounding import (
    Grounding,
    GroundingNote,
    ground,
    tokens,
    ungrounded_values,
)
from planactor.planner._llm_planner import LLMPlanner, LLMPlanResult, plan_cache_key
from planactor.planner._prices import PRICES, Price, estimate_cost
from planactor.planner._question import ROUTINE, Question, clarify, which_routine
from planactor.planner._rank import Ranking, Scorer, rank_by_model, routine_margin
from planactor.planner._routine_planner import (
    Candidate,
    PlanResult,
    RoutinePlanner,
    Selection,
    rank,
    select,
)

__all__ = [
    "BACKENDS",
    "PRICES",
    "ROUTINE",
    "AnthropicBackend",
    "Backend",
    "BackendError",
    "Candidate",
    "Clause",
    "Completion",
    "Fitted",
    "Grounding",
    "GroundingNote",
    "LLMPlanResult",
    "LLMPlanner",
    "LocalBackend",
    "Message",
    "NotPlanned",
    "OpenAIBackend",
    "PlanResult",
    "Price",
    "Question",
    "Ranking",
    "Reading",
    "RoutinePlanner",
    "Scorer",
    "Selection",
    "clarify",
    "compose_schema",
    "estimate_cost",
    "fit_compose",
    "get_backend",
    "ground",
    "grounded",
    "max_chars",
    "plan_cache_key",
    "prompt_hash",
    "rank",
    "rank_by_model",
    "read_intent",
    "routine_margin",
    "select",
    "shipped_model_path",
    "tokens",
    "ungrounded_values",
    "which_routine",
]
