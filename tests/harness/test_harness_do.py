"""`do`'s rule: the path follows the effect of the plan's actors, never the intent's words."""

from __future__ import annotations

from datetime import UTC, datetime

from planactor.catalog import Catalog
from planactor.harness import gate, plan_effect
from planactor.plan import Plan
from planactor.policy import parse_policy
from planactor.validate import validate_plan

CAT = Catalog.discover()
# The default policy asks one approval of any plan no routine made; these plans are hand-made.
ROUTINE_ONLY = parse_policy(
    "version: 1\nname: t\napprovals: {writes: 1, reads: 0, novel: 0}\nrules: []\n", source="t"
)


def _plan(intent: str, *steps: dict[str, object]) -> Plan:
    return Plan.model_validate(
        {"api_version": "planactor/v1", "intent": intent, "requested_by": "sam", "steps": steps}
    )


READ = {"id": "look", "actor": "storage.preflight", "args": {"array": "array-01"}}
WRITE = {
    "id": "move",
    "actor": "storage.move_paths",
    "args": {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"},
}


def test_the_effect_is_the_actors_not_the_words() -> None:
    """An intent that says "reboot" but only reads is read; one that says "check" but
    moves a path is write."""
    assert plan_effect(_plan("reboot everything now", READ), CAT) == "read"
    assert plan_effect(_plan("just check array-01", READ, WRITE), CAT) == "write"


def test_a_read_only_plan_runs_unattended_where_policy_allows() -> None:
    """Policy asks nothing of reads: no approval, no confirmation."""
    g = gate(
        validate_plan(_plan("check", READ), catalog=CAT),
        catalog=CAT,
        policy=ROUTINE_ONLY,
        trusted={},
        now=datetime.now(UTC),
    )
    assert g.effect == "read"
    assert g.refusal is None
    assert g.runs_unattended
    assert not g.needs_confirmation


def test_a_plan_that_writes_always_passes_the_gate() -> None:
    """A write: policy's refusal named (1 approval missing), and a confirmation needed."""
    g = gate(
        validate_plan(_plan("check", READ, WRITE), catalog=CAT),
        catalog=CAT,
        policy=ROUTINE_ONLY,
        trusted={},
        now=datetime.now(UTC),
    )
    assert g.effect == "write"
    assert g.writes == ("move",)
    assert g.needs_confirmation
    assert not g.runs_unattended
    assert g.required == 1
    assert g.refusal is not None
    assert "needs 1 approval" in g.refusal
