"""`planactor.validate.ValidatedPlan` and `validate_plan`: a plan bound to its hash and report."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from typing import Any

import pytest

from planactor import PlanInvalid, testing
from planactor.plan import Plan
from planactor.validate import ValidatedPlan, validate, validate_plan


def _doc(*messages: str) -> dict[str, Any]:
    return {
        "api_version": "planactor/v1",
        "intent": "validated plan test",
        "requested_by": "tests",
        "steps": [
            {"id": f"s{i}", "actor": "core.echo", "args": {"message": m}}
            for i, m in enumerate(messages)
        ],
    }


@pytest.mark.parametrize("form", ["plan", "document", "text", "bytes"])
def test_validate_plan_binds_the_plan_to_its_hash_and_report(form: str) -> None:
    """Every input form gives the validator's plan, its hash and its passing report."""
    doc = _doc("a", "b")
    given: Any = {
        "plan": Plan.model_validate(doc),
        "document": doc,
        "text": json.dumps(doc),
        "bytes": json.dumps(doc).encode(),
    }[form]
    got = validate_plan(given, catalog=testing.catalog())
    assert isinstance(got, ValidatedPlan)
    assert got.report.ok
    assert got.hash == got.report.plan_hash == got.plan.hash == Plan.model_validate(doc).hash
    assert got.catalog is not None
    assert [s.id for s in got.plan.steps] == ["s0", "s1"]


def test_the_validated_plan_is_not_the_callers_object() -> None:
    """Changing the plan given afterwards leaves the validated plan and its hash as they were."""
    plan = Plan.model_validate(_doc("a"))
    got = validate_plan(plan, catalog=testing.catalog())
    assert got.plan is not plan
    plan.steps[0].args["message"] = "changed"
    assert got.plan.steps[0].args == {"message": "a"}
    assert got.plan.hash == got.hash != plan.hash


def test_an_invalid_plan_raises_with_the_whole_report() -> None:
    """validate_plan raises PlanInvalid carrying the report, naming the source it was given."""
    doc = _doc("a")
    doc["steps"][0]["actor"] = "core.nope"
    with pytest.raises(PlanInvalid) as exc:
        validate_plan(doc, catalog=testing.catalog(), source="plan.json")
    assert exc.value.report.codes() == ["unknown-actor"]
    assert str(exc.value).startswith("plan.json: plan is invalid")


def test_a_validated_plan_cannot_be_built_by_hand() -> None:
    """Only validation makes one: pairing a plan with another plan's report is refused."""
    a = Plan.model_validate(_doc("a"))
    b = Plan.model_validate(_doc("b"))
    report_a = validate(a, catalog=testing.catalog())
    with pytest.raises(TypeError, match="made by validate_plan"):
        ValidatedPlan(b, report_a, testing.catalog())
    with pytest.raises(TypeError, match="made by validate_plan"):
        ValidatedPlan(b, report_a, testing.catalog(), _mint=object())


def test_a_validated_plan_cannot_be_changed_or_copied_apart() -> None:
    """Its plan, hash and report cannot be replaced; copies are itself; it is not pickled."""
    got = validate_plan(_doc("a"), catalog=testing.catalog())
    other = validate_plan(_doc("b"), catalog=testing.catalog())
    with pytest.raises(AttributeError, match="cannot be changed"):
        got.plan = other.plan
    with pytest.raises(AttributeError, match="cannot be changed"):
        got.hash = other.hash
    with pytest.raises(AttributeError, match="cannot be changed"):
        del got.report
    with pytest.raises(TypeError):
        dataclasses.replace(got, plan=other.plan)  # type: ignore[type-var]
    assert copy.copy(got) is got
    assert copy.deepcopy(got) is got
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(got)
    assert got.plan.steps[0].args == {"message": "a"}
    assert repr(got) == f"ValidatedPlan({got.hash}, 1 steps)"
