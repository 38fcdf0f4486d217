"""planactor: an LLM compiles intent into a checked plan; a deterministic engine runs it.

The public API is this flat namespace; modules with a leading underscore are private.
Names load on first use (PEP 562): `planactor --version` must not pay for pydantic and the
catalog, and `import planactor` stays cheap for a tool that needs one name.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

# The exception tree is small and imports nothing heavy: loaded eagerly.
from planactor._errors import (
    ActorError,
    AmbiguousRoutine,
    ApprovalRequired,
    BackendError,
    CatalogError,
    InputError,
    JournalError,
    LaunchRefused,
    PlanactorError,
    PlanChanged,
    PlanInvalid,
    PlanLoadError,
    RunBusy,
    StalePlan,
    UnexpectedState,
    UnknownActor,
)

if TYPE_CHECKING:
    from planactor._files import load_plan, read_plan_text, save_plan
    from planactor.catalog import Actor, ActorContext, Catalog, actor, entity
    from planactor.plan import Condition, Plan, PlannerInfo, RetryPolicy, Step, canonical_json
    from planactor.validate import (
        Inventory,
        Limits,
        Policy,
        Problem,
        ValidationReport,
        validate,
    )

__version__ = "0.1.0"

__all__ = [
    "Actor",
    "ActorContext",
    "ActorError",
    "AmbiguousRoutine",
    "ApprovalRequired",
    "BackendError",
    "Catalog",
    "CatalogError",
    "Condition",
    "InputError",
    "Inventory",
    "JournalError",
    "LaunchRefused",
    "Limits",
    "Plan",
    "PlanChanged",
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

# Public name -> the module that defines it.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("load_plan", "read_plan_text", "save_plan"), "planactor._files"),
    **dict.fromkeys(("Actor", "ActorContext", "Catalog", "actor", "entity"), "planactor.catalog"),
    **dict.fromkeys(
        ("Condition", "Plan", "PlannerInfo", "RetryPolicy", "Step", "canonical_json"),
        "planactor.plan",
    ),
    **dict.fromkeys(
        ("Inventory", "Limits", "Policy", "Problem", "ValidationReport"), "planactor.validate"
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'planactor' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """`planactor.validate` names the function, as it did when it was imported eagerly.

    The subpackage of the same name would otherwise take the attribute the first time
    anything imports it (the import system sets it on the parent); the setter keeps the
    function, and `sys.modules` still holds the subpackage for every import of it.
    """

    @property
    def validate(self) -> Callable[..., Any]:
        from planactor.validate import validate as function

        return function

    @validate.setter
    def validate(self, _module: object) -> None:
        pass


sys.modules[__name__].__class__ = _Package
