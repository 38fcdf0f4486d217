"""`planactor.policy` novel plans: only a plan whose hashed origin reproduces its routine's
expansion counts as routine-made; every other plan needs `approvals.novel` approvers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from planactor import ApprovalRequired, Catalog, Plan, actor, entity
from planactor.catalog import origin_problem, parse_routine
from planactor.policy import PolicyDoc, RulePolicy, authorize, default_policy_text, parse_policy
from planactor.validate import validate_plan

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class HostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = entity("host")


class ArrayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    array: str = entity("array")


class Seen(BaseModel):
    ok: bool = True


@actor(name="ops.look", effect="read")
def look(args: HostIn) -> Seen:
    """Look at a host."""
    return Seen()


@actor(name="ops.count", effect="read")
def count(args: ArrayIn) -> Seen:
    """Count an array's LUNs."""
    return Seen()


# A read-only routine with a parameter and a fact it loops over.
SURVEY = """\
name: ops.survey
description: Look at every host of an array.
intent: "Survey {array}"
params:
  array: {type: string, entity: array, description: the array}
facts:
  hosts: "arrays.{array}.hosts"
steps:
  - id: count
    actor: ops.count
    args: {array: {$param: array}}
  - id: look
    actor: ops.look
    for_each: {$fact: hosts}
    args: {host: {$item: true}}
    after: [count]
"""
FACTS = {"arrays": {"a1": {"hosts": ["h1", "h2"]}, "a2": {"hosts": ["h9"]}}}


def _catalog() -> Catalog:
    cat = Catalog([look, count], pack="ops")
    cat.add_routine(parse_routine(SURVEY, source="survey.yaml"), pack="ops")
    return cat


CATALOG = _catalog()
DEFAULT = parse_policy(default_policy_text(), source="default policy")


def _made() -> Plan:
    """What the routine makes for array a1 (two hosts), as the planners produce it."""
    return CATALOG.routine("ops.survey").expand({"array": "a1"}, facts=FACTS, requested_by="sam")


def _edit(plan: Plan, **update: Any) -> Plan:
    """`plan` with fields replaced, parsed again as a plan file would be."""
    return Plan.model_validate({**plan.to_document(), **update})


def _required(plan: Plan, policy: RulePolicy = DEFAULT) -> tuple[int, str]:
    report = policy.evaluate(plan, catalog=CATALOG)
    return report.approvers_required, report.approvers_reason


def test_a_routine_records_its_origin_inside_the_hash() -> None:
    """Expansion stamps routine, bound parameters and the facts read; all are hashed."""
    plan = _made()
    assert plan.origin is not None
    assert plan.origin.to_document() == {
        "routine": "ops.survey",
        "params": {"array": "a1"},
        "facts": {"hosts": ["h1", "h2"]},
    }
    assert plan.content()["origin"] == plan.origin.to_document()


def test_a_read_only_plan_a_routine_made_needs_no_approval() -> None:
    """Its origin reproduces its steps: routine-made, and the reads count (0) applies."""
    plan = _made()
    assert origin_problem(plan, CATALOG.routines) is None
    report = DEFAULT.evaluate(plan, catalog=CATALOG)
    assert (report.approvers_required, report.routine, report.novel) == (0, "ops.survey", None)
    authorize(validate_plan(plan, catalog=CATALOG), catalog=CATALOG, policy=DEFAULT,
              trusted={}, now=NOW)  # fmt: skip


def test_stripping_the_origin_makes_the_plan_novel() -> None:
    """The attack of issue 17 item 9: delete the line that made the plan look tested. The
    hash changes (approvals of the original no longer apply) and the plan needs one."""
    plan = _made()
    doc = plan.to_document()
    del doc["origin"]
    stripped = Plan.model_validate(doc)
    assert stripped.hash != plan.hash
    need, why = _required(stripped)
    assert need == 1
    assert "a plan no routine made (novel) needs 1; it records no routine origin" in why
    with pytest.raises(ApprovalRequired, match="novel") as e:
        authorize(validate_plan(stripped, catalog=CATALOG), catalog=CATALOG, policy=DEFAULT,
                  trusted={}, now=NOW)  # fmt: skip
    assert e.value.exit_code == 3


def test_planner_metadata_no_longer_decides_novelty() -> None:
    """`planner.novel: false` on a hand-written plan (outside the hash) changes nothing."""
    plan = _edit(_made(), origin=None, planner={"backend": "routine", "novel": False})
    assert _required(plan)[0] == 1


@pytest.mark.parametrize(
    ("origin", "said"),
    [
        ({"routine": "ops.other", "params": {"array": "a1"}}, "routine ops.other, which is not"),
        ({"routine": "ops.survey", "params": {"array": "a2"}, "facts": {"hosts": ["h1", "h2"]}},
         "its step 1 (count) is not what routine ops.survey makes"),
        ({"routine": "ops.survey", "params": {"array": "a1"}, "facts": {"hosts": ["h1"]}},
         "it has 3 steps where routine ops.survey makes 2"),
        ({"routine": "ops.survey", "params": {"array": "a1"}, "facts": {}},
         "its recorded facts (none) are not the ones routine ops.survey reads (hosts)"),
        ({"routine": "ops.survey", "params": {"array": "a1", "x": 1},
          "facts": {"hosts": ["h1", "h2"]}}, "x: not a parameter of ops.survey"),
        ({"routine": "ops.survey", "params": {"array": "a1"}, "facts": {"hosts": "h1"}},
         "cannot be expanded with the recorded values: routine ops.survey: step look: for_each"),
    ],
    ids=["unknown-routine", "other-params", "other-facts", "facts-missing", "extra-param",
         "bad-fact"],
)  # fmt: skip
def test_an_edited_origin_makes_the_plan_novel(origin: dict[str, Any], said: str) -> None:
    """An origin that does not reproduce the plan's steps vouches for nothing."""
    plan = _edit(_made(), origin=origin)
    problem = origin_problem(plan, CATALOG.routines)
    assert problem is not None
    assert said in problem
    assert _required(plan)[0] == 1


def test_editing_a_step_under_a_genuine_origin_makes_the_plan_novel() -> None:
    """Steps added, removed or changed after expansion are not the routine's."""
    doc: dict[str, Any] = _made().to_document()
    doc["steps"][1]["args"]["host"] = "h9"
    changed = Plan.model_validate(doc)
    assert "its step 2 (look-h1) is not what routine ops.survey makes" in _required(changed)[1]
    fewer: dict[str, Any] = _made().to_document()
    fewer["steps"].pop()
    assert (
        "it has 2 steps where routine ops.survey makes 3" in _required(_edit(_made(), **fewer))[1]
    )
    assert "declares inputs" in _required(_edit(_made(), inputs={"extra": 1}))[1]


def test_the_novel_count_is_a_policy_knob() -> None:
    """`approvals.novel` sets the count (0 lets hand-written read-only plans run as before);
    it never lowers what writes or rules ask."""
    plan = _edit(_made(), origin=None)
    relaxed = RulePolicy(doc=PolicyDoc.model_validate({"name": "t", "approvals": {"novel": 0}}))
    assert _required(plan, relaxed)[0] == 0
    strict = RulePolicy(doc=PolicyDoc.model_validate({"name": "t", "approvals": {"novel": 2}}))
    assert _required(plan, strict)[0] == 2
    assert _required(_made(), strict)[0] == 0


def test_the_default_policy_names_the_novel_count() -> None:
    """The shipped policy says `novel: 1`, so a reader of it sees the rule."""
    assert DEFAULT.doc.approvals.novel == 1
    assert "novel: 1" in default_policy_text()
