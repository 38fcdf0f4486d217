"""`ActorContext.resource`: named resources handed to actors, checked by type."""

from __future__ import annotations

from pathlib import Path

import pytest

from planactor import ActorContext, ActorError


def test_a_resource_is_returned_with_its_type() -> None:
    """The resource given under a name comes back as the type asked for."""
    here = Path("lab.json")
    ctx = ActorContext.for_step(run_id="r", step_id="s", resources={"lab": here})
    found: Path = ctx.resource("lab", Path)
    assert found is here


def test_a_missing_resource_is_a_final_error_naming_what_was_given() -> None:
    """Asking for a resource the run lacks fails for good, listing what it has."""
    ctx = ActorContext.for_step(run_id="r", step_id="s", resources={"db": 1})
    with pytest.raises(ActorError) as e:
        ctx.resource("lab", Path, hint="pass --lab")
    assert e.value.retryable is False
    assert e.value.message == "this run was given no 'lab' resource (resources given: db)"
    assert e.value.hint == "pass --lab"


def test_a_resource_of_the_wrong_type_is_refused() -> None:
    """A resource that is not the type asked for is refused, naming both types."""
    ctx = ActorContext.for_step(run_id="r", step_id="s", resources={"lab": "lab.json"})
    with pytest.raises(ActorError, match="'lab' resource is a str, not a Path"):
        ctx.resource("lab", Path)


def test_resources_are_read_only_and_default_to_none() -> None:
    """Contexts copy their resources into a read-only mapping; by default there are none."""
    given = {"lab": Path("a")}
    ctx = ActorContext.for_step(run_id="r", step_id="s", resources=given)
    given["lab"] = Path("b")
    assert ctx.resource("lab", Path) == Path("a")
    with pytest.raises(TypeError):
        ctx.resources["lab"] = Path("c")  # type: ignore[index]
    assert dict(ActorContext(run_id="r", step_id="s", idempotency_key="r/s").resources) == {}
