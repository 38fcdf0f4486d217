"""A validated plan: the plan, its hash and its report, bound together by validation.

What was approved must be exactly what runs. Passing a plan and "its" report (or hash) as
two arguments lets them come from different plans; a `ValidatedPlan` cannot: only
`validate_plan` (and `load_plan`, which calls it) makes one, from the plan it validated,
and it cannot be changed afterwards. The engine, the approval gate and the command line
take it, and read the hash from it instead of hashing the plan again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn, final

from pydantic import ValidationError

from planactor._errors import PlanInvalid, PlanLoadError
from planactor.plan import JSON_CHECKED, Plan

if TYPE_CHECKING:  # through the package: its modules are being rearranged
    from planactor.catalog import Catalog
    from planactor.validate import Inventory, Limits, Policy, ValidationReport

__all__ = ["ValidatedPlan", "validate_plan"]

# Held only by `validate_plan`: the constructor refuses every other caller.
_MINT = object()


@final
class ValidatedPlan:
    """A plan that passed validation, with its hash and report; made by `validate_plan`.

    `plan` is the validator's own copy, not an object the caller still holds, so no later
    change to the caller's plan can separate it from `hash`. `catalog` is the catalog it was
    validated against (the engine validates again against its own if it is another one).
    """

    __slots__ = ("catalog", "hash", "plan", "report")

    plan: Plan
    hash: str
    report: ValidationReport
    catalog: Catalog

    def __init__(
        self, plan: Plan, report: ValidationReport, catalog: Catalog, *, _mint: object = None
    ) -> None:
        if _mint is not _MINT:
            raise TypeError(
                "a ValidatedPlan is made by validate_plan(plan, catalog=...) or load_plan(path), "
                "never built by hand: that is what binds the plan to its hash"
            )
        if not report.ok or report.plan_hash is None:  # validate_plan checks first: our bug
            raise ValueError("a ValidatedPlan needs the passing report of its plan")
        object.__setattr__(self, "plan", plan)
        object.__setattr__(self, "hash", report.plan_hash)
        object.__setattr__(self, "report", report)
        object.__setattr__(self, "catalog", catalog)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"a ValidatedPlan cannot be changed (it set {name!r})")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"a ValidatedPlan cannot be changed (it deleted {name!r})")

    def __copy__(self) -> ValidatedPlan:
        return self  # immutable: a copy would be the same thing

    def __deepcopy__(self, memo: dict[int, object]) -> ValidatedPlan:
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError("a ValidatedPlan is not pickled: send the plan and validate it there")

    def __repr__(self) -> str:
        return f"ValidatedPlan({self.hash}, {len(self.plan.steps)} steps)"


def validate_plan(
    plan: Plan | Mapping[str, Any] | str | bytes,
    *,
    catalog: Catalog,
    inventory: Inventory | None = None,
    policy: Policy | None = None,
    limits: Limits | None = None,
    source: str | None = None,
) -> ValidatedPlan:
    """Validate a plan (JSON text, a parsed JSON object or a Plan) and bind it to its hash.

    Raises PlanInvalid, carrying the whole report, if the plan has errors. `source` names
    the plan in that message (a file name). The plan is parsed or copied once here, so
    the result holds a plan nobody else can change.
    """
    from planactor.validate import validate  # the package imports this module

    report = validate(plan, catalog=catalog, inventory=inventory, policy=policy, limits=limits)
    if not report.ok:
        raise PlanInvalid(report, source=source)
    try:
        if isinstance(plan, str | bytes):
            parsed = Plan.model_validate_json(plan)
        else:
            doc = plan.to_document() if isinstance(plan, Plan) else plan
            # Validation has just proven the document is JSON data: skip that walk.
            parsed = Plan.model_validate(doc, context={JSON_CHECKED: True})
    except ValidationError as e:  # validate() accepted it, so this would be our bug
        where = source or "plan"
        raise PlanLoadError(f"{where}: {e}", source=where) from None
    return ValidatedPlan(parsed, report, catalog, _mint=_MINT)
