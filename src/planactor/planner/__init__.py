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
from planactor.planner._grounding import (
    Grounding,
    GroundingNote,
    ground,
    tokens,
    ungrounded_values,
)
from planactor.planner._llm_planner import LLMPlanner, LLMPlanResult, plan_cache_key
from planactor.planner._prices import PRICES, Price, estimate_cost
from planactor.planner._routine_planner import (
    Candidate,
    PlanResult,
    Question,
    RoutinePlanner,
    Selection,
    clarify,
    rank,
    select,
)

__all__ = [
    "BACKENDS",
    "PRICES",
    "AnthropicBackend",
    "Backend",
    "BackendError",
    "Candidate",
    "Clause",
    "Completion",
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
    "Reading",
    "RoutinePlanner",
    "Selection",
    "clarify",
    "estimate_cost",
    "get_backend",
    "ground",
    "plan_cache_key",
    "prompt_hash",
    "rank",
    "read_intent",
    "select",
    "shipped_model_path",
    "tokens",
    "ungrounded_values",
]
