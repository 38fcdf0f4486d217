"""planactor: an LLM compiles intent into a checked plan; a deterministic engine runs it.

The public API is this flat namespace; modules with a leading underscore are private.
"""

from planactor._errors import (
    ActorError,
    CatalogError,
    InputError,
    PlanactorError,
    PlanInvalid,
    PlanLoadError,
    UnexpectedState,
    UnknownActor,
)
from planactor._files import load_plan, read_plan_text, save_plan
from planactor.catalog import Actor, ActorContext, Catalog, actor, entity
from planactor.plan import Condition, Plan, PlannerInfo, RetryPolicy, Step, canonical_json
from planactor.validate import Inventory, Limits, Policy, Problem, ValidationReport, validate

__version__ = "0.1.0"

__all__ = [
    "Actor",
    "ActorContext",
    "ActorError",
    "Catalog",
    "CatalogError",
    "Condition",
    "InputError",
    "Inventory",
    "Limits",
    "Plan",
    "PlanInvalid",
    "PlanLoadError",
    "PlanactorError",
    "PlannerInfo",
    "Policy",
    "Problem",
    "RetryPolicy",
    "Step",
    "UnexpectedState",
    "UnknownActor",
    "ValidationReport",
    "__version__",
    "actor",
    "canonical_json",
    "entity",
    "load_plan",
    "read_plan_text",
    "save_plan",
    "validate",
]
