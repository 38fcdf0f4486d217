"""`Plan.recovers`: the paused run a remediation plan is for, inside the hash."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from planactor.plan import Plan


def _plan(**top: Any) -> Plan:
    doc = {"api_version": "planactor/v1", "intent": "fix it", "requested_by": "ops", **top}
    return Plan.model_validate({**doc, "steps": [{"id": "a", "actor": "core.echo"}]})


def test_a_plan_without_recovers_hashes_as_before() -> None:
    """`recovers` enters the hashed content only when present: other plans keep their hash."""
    plan = _plan()
    assert "recovers" not in plan.content()
    assert "recovers" not in plan.to_document()


def test_recovers_is_hashed_and_written() -> None:
    """The link is part of the content and the document; another run id changes the hash."""
    plan = _plan(recovers="run-0123456789ab")
    assert plan.content()["recovers"] == plan.to_document()["recovers"] == "run-0123456789ab"
    assert plan.hash != _plan(recovers="run-ba9876543210").hash
    assert plan.hash != _plan().hash
    assert Plan.model_validate(plan.to_document()) == plan


def test_recovers_must_read_as_a_run_id() -> None:
    """A value with spaces or slashes is refused when the plan is parsed."""
    with pytest.raises(ValidationError):
        _plan(recovers="run 1/../x")
