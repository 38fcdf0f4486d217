"""remaining_plan: what is left of a plan once some steps finished, as resume re-checks it."""

from __future__ import annotations

from typing import Any

from planactor.plan import Plan, remaining_plan


def _plan(*steps: dict[str, Any]) -> Plan:
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "t",
            "requested_by": "alice",
            "steps": list(steps),
        }
    )


def _echo(sid: str, message: Any = "m", **extra: Any) -> dict[str, Any]:
    return {"id": sid, "actor": "core.echo", "args": {"message": message}, **extra}


def test_finished_steps_leave_and_so_do_their_after_edges() -> None:
    """Succeeded or skipped steps are gone, and no remaining step waits for them."""
    plan = _plan(_echo("a"), _echo("b", after=["a"]), _echo("c", after=["a", "b"]))
    rest = remaining_plan(plan, done={"a": {"message": "m"}})
    assert [s.id for s in rest.steps] == ["b", "c"]
    assert rest.steps[0].after == []
    assert rest.steps[1].after == ["b"]


def test_references_to_finished_steps_become_their_recorded_outputs() -> None:
    """A `$ref` to a finished step's output is replaced by the recorded value, nested or not;
    one to an unfinished step stays a reference."""
    plan = _plan(
        _echo("a"),
        _echo("b"),
        _echo(
            "c",
            {"x": {"$ref": "a.output.message"}, "y": [{"$ref": "b.output.message"}]},
            after=["a", "b"],
        ),
    )
    rest = remaining_plan(plan, done={"a": {"message": "from-a"}})
    c = rest.steps[-1]
    assert c.args["message"] == {"x": "from-a", "y": [{"$ref": "b.output.message"}]}


def test_a_when_on_a_finished_step_is_decided_now() -> None:
    """A step whose `when` fails on a finished step's output is left out; one whose `when`
    holds keeps running unconditionally; an undecidable one is kept, as if it runs."""
    cond = {"$ref": "a.output.message", "op": "eq", "value": "go"}
    plan = _plan(
        _echo("a"),
        _echo("b", when=cond, after=["a"]),
        _echo("c", when={"$ref": "a.output.missing"}, after=["a"]),
    )
    assert [s.id for s in remaining_plan(plan, done={"a": {"message": "stop"}}).steps] == ["c"]
    rest = remaining_plan(plan, done={"a": {"message": "go"}})
    assert [(s.id, s.when) for s in rest.steps] == [("b", None), ("c", None)]


def test_the_original_plan_is_not_changed() -> None:
    """The stored plan, whose hash the run is bound to, stays as it was."""
    plan = _plan(_echo("a"), _echo("b", {"$ref": "a.output.message"}, after=["a"]))
    before = plan.hash
    remaining_plan(plan, done={"a": {"message": "x"}})
    assert plan.hash == before
    assert plan.steps[1].args == {"message": {"$ref": "a.output.message"}}
