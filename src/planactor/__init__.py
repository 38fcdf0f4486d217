"""planactor: an LLM compiles intent into a checked plan; a deterministic engine runs it.

The public API is this flat namespace; modules with a leading underscore are private.
"""

from planactor._errors import (
    ActorError,
    ApprovalRequired,
    BackendError,
    CatalogError,
    InputError,
    JournalError,
    PlanactorError,
    PlanInvalid,
    PlanLoadError,
    RunBusy,
    StalePlan,
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
    "ApprovalRequired",
    "BackendError",
    "Catalog",
    "CatalogError",
    "Condition",
    "InputError",
    "Inventory",
    "JournalError",
    "Limits",
    "Plan",
    "PlanInvalid",
    "PlanLoadError",
    "PlanactorError",
    "PlannerInfo",
    "Policy",
    "Problem",
    "RetryPolicy",
    "RunBusy",
    "StalePlan",
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
