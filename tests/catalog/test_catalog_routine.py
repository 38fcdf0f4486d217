"""Routines: parsing the YAML, binding parameters, expanding into plans, and the catalog."""

from __future__ import annotations

import importlib
import json
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from planactor import Catalog, CatalogError, InputError, Inventory, Plan, RetryPolicy, validate
from planactor.catalog import (
    BUILTIN_PACKS,
    ENTRY_POINT_GROUP,
    Param,
    Routine,
    RoutineStep,
    parse_routine,
)
from planactor.catalog import _catalog as catalog_module

CATALOG = Catalog.discover()
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Every key a routine may use, every parameter type, both kinds of for_each, a fact path
# with a {param} hole, and `after` naming a for_each group.
DRAIN = """
name: demo.drain
description: Drain an array's hosts, then check the array.
intent: drain {array} for {reason}
examples:
  - drain array-01 before maintenance
params:
  array: {type: string, description: The array to drain., entity: array}
  reason: {type: string, description: Why it is drained.}
  mode: {type: string, description: How hard., enum: [soft, hard], default: soft}
  ticket: {type: string, description: The change., pattern: "CHG-[0-9]{4}", default: CHG-0000}
  batch: {type: integer, description: Hosts at once., minimum: 1, maximum: 8, default: 2}
  ratio: {type: number, description: Share kept., minimum: 0, maximum: 1, default: 0.5}
  force: {type: boolean, description: Skip the checks., default: false}
  extra: {type: list, description: More hosts to drain., default: []}
facts:
  hosts: "arrays.{array}.hosts"
  active: "arrays.{array}.controller"
steps:
  - id: check
    actor: core.echo
    description: Look before draining.
    args:
      message: {$param: array}
      value: {controller: {$fact: active}, mode: {$param: mode}}
  - id: drain
    actor: core.echo
    for_each: {$fact: hosts}
    after: [check]
    on_failure: continue
    retry: {attempts: 3, backoff_s: 0.5}
    timeout_s: 30
    args:
      message: {$item: true}
      value: [{$param: batch}, {nested: [{$param: ratio}, {$fact: active}]}]
  - id: more
    actor: core.echo
    for_each: {$param: extra}
    after: [check]
    args: {message: {$item: true}}
  - id: verify
    actor: core.echo
    after: [drain, more]
    args:
      message: done
      value: {force: {$param: force}, ticket: {$param: ticket}}
"""

FACTS: dict[str, Any] = {
    "arrays": {
        "array-01": {"controller": "ctrl-a", "hosts": ["host-1", "host.2"]},
        "array-02": {"controller": "ctrl-b", "hosts": []},
    }
}
INVENTORY = Inventory.from_mapping({"array": ["array-01", "array-02"], "host": ["h1", "h2"]})
GIVEN: dict[str, Any] = {"array": "array-01", "reason": "maintenance"}
DEFAULTS: dict[str, Any] = {
    "mode": "soft",
    "ticket": "CHG-0000",
    "batch": 2,
    "ratio": 0.5,
    "force": False,
    "extra": [],
}


def drain() -> Routine:
    return parse_routine(DRAIN, source="drain.yaml")


def edited(edit: Callable[[dict[str, Any]], object]) -> str:
    """DRAIN as YAML after `edit` changed its parsed form in place."""
    doc = yaml.safe_load(DRAIN)
    edit(doc)
    return yaml.safe_dump(doc, sort_keys=False)


def refused(text: str) -> str:
    """The message of the CatalogError that parsing `text` raises."""
    with pytest.raises(CatalogError) as exc:
        parse_routine(text, source="x.yaml")
    assert exc.value.exit_code == 2
    return str(exc.value)


def bind_problems(given: dict[str, Any], inventory: Inventory | None = None) -> str:
    with pytest.raises(InputError) as exc:
        drain().bind(given, inventory=inventory)
    assert exc.value.exit_code == 2
    return str(exc.value)


def expand(**params: Any) -> Plan:
    return drain().expand(
        {**GIVEN, **params}, facts=FACTS, inventory=INVENTORY, requested_by="alice"
    )


def ancestors(plan: Plan, step_id: str) -> set[str]:
    """Every step `step_id` waits for, directly or through others (`after` only)."""
    seen: set[str] = set()
    todo = list(plan.step(step_id).after)
    while todo:
        s = todo.pop()
        if s not in seen:
            seen.add(s)
            todo.extend(plan.step(s).after)
    return seen


# -- parsing -------------------------------------------------------------------------------


def test_parse_reads_every_key_of_a_complete_routine() -> None:
    """A valid routine parses into typed params, steps and metadata."""
    r = drain()
    assert r.name == "demo.drain"
    assert r.intent == "drain {array} for {reason}"
    assert r.examples == ["drain array-01 before maintenance"]
    assert [s.id for s in r.steps] == ["check", "drain", "more", "verify"]
    assert r.actors() == {"core.echo"}
    assert r.facts == {"hosts": "arrays.{array}.hosts", "active": "arrays.{array}.controller"}
    assert r.params["array"] == Param(
        type="string", description="The array to drain.", entity="array"
    )
    assert (r.params["batch"].minimum, r.params["batch"].maximum) == (1, 8)
    assert r.params["mode"].enum == ["soft", "hard"]
    step = r.steps[1]
    assert isinstance(step, RoutineStep)
    assert step.for_each == {"$fact": "hosts"}
    assert step.on_failure == "continue"
    assert step.retry == RetryPolicy(attempts=3, backoff_s=0.5)
    assert step.timeout_s == 30


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name: a.b\ndescription: x\nsteps: [\n  {id: a\n", "(line 5, column 1)"),
        ("name: a.b\n  bad: : x\n", "(line 2, column 6)"),
    ],
)
def test_yaml_syntax_error_names_the_file_line_and_column(text: str, where: str) -> None:
    """Broken YAML is a CatalogError with the source, line and column, never a traceback."""
    message = refused(text)
    assert message.startswith(f"routine x.yaml {where}: not valid YAML")


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_a_routine_must_be_a_mapping(text: str) -> None:
    """Empty files, lists and scalars are refused as not a routine."""
    assert "a routine is a YAML mapping" in refused(text)


@pytest.mark.parametrize(
    ("edit", "location"),
    [
        (lambda d: d.update(owner="me"), "owner"),
        (lambda d: d["params"]["batch"].update(default_value=1), "params.batch.default_value"),
        (lambda d: d["steps"][1].update(depends_on=["check"]), "steps[1].depends_on"),
    ],
)
def test_unknown_keys_are_refused_with_their_location(
    edit: Callable[[dict[str, Any]], object], location: str
) -> None:
    """A misspelt key anywhere (routine, parameter, step) is refused, not ignored."""
    message = refused(edited(edit))
    assert f"{location}: Extra inputs are not permitted" in message


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d.pop("description"), "description: Field required"),
        (lambda d: d.update(steps=[]), "steps: List should have at least 1 item"),
        (lambda d: d.update(name="Drain"), "name: String should match pattern"),
        (lambda d: d["steps"][0].update(id="1st"), "steps[0].id: String should match pattern"),
        (lambda d: d["params"]["batch"].update(type="int"), "params.batch.type: Input should be"),
        (lambda d: d["params"]["array"].pop("description"), "params.array.description"),
        (lambda d: d["steps"][1].update(timeout_s=0), "steps[1].timeout_s"),
    ],
)
def test_malformed_values_are_refused_with_their_location(
    edit: Callable[[dict[str, Any]], object], problem: str
) -> None:
    """Missing fields, bad names, types and limits are named where they are."""
    assert problem in refused(edited(edit))


def test_a_pattern_that_is_not_a_regular_expression_is_refused() -> None:
    """A parameter pattern must compile."""
    message = refused(edited(lambda d: d["params"]["ticket"].update(pattern="CHG-[0-9")))
    assert "params.ticket.pattern" in message
    assert "not a regular expression" in message


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            lambda d: d["steps"][0]["args"].update(message={"$param": "arrray"}),
            "steps[0].args.message: unknown parameter 'arrray'",
        ),
        (
            lambda d: d["steps"][1].update(for_each={"$param": "hosts"}),
            "steps[1].for_each: unknown parameter 'hosts'",
        ),
        (
            lambda d: d["steps"][0]["args"]["value"].update(controller={"$fact": "ctrl"}),
            "steps[0].args.value.controller: unknown fact 'ctrl'",
        ),
        (
            lambda d: d["steps"][3]["args"].update(value=[{"$item": True}]),
            "steps[3].args.value[0]: $item outside a for_each step",
        ),
        (
            lambda d: d["steps"][1].update(for_each={"$item": True}),
            "steps[1].for_each: $item outside a for_each step",
        ),
        (
            lambda d: d["steps"][0].update(after=["verify"]),
            "steps[0].after: 'verify' is not an earlier step",
        ),
        (
            lambda d: d["steps"][1].update(after=["chek"]),
            "steps[1].after: 'chek' is not an earlier step",
        ),
        (
            lambda d: d["steps"][0].update(after=["check"]),
            "steps[0].after: 'check' is not an earlier step",
        ),
        (
            lambda d: d["steps"][2].update(id="drain"),
            "steps[2].id: 'drain' is used twice",
        ),
        (
            lambda d: d.update(intent="drain {array} at {when}"),
            "intent: {when} is not a parameter",
        ),
        (
            lambda d: d["facts"].update(hosts="arrays.{arrays}.hosts"),
            "facts.hosts: {arrays} is not a parameter",
        ),
        (
            lambda d: d.update(actions=["drain", "file under {tiket}"]),
            "actions[1]: {tiket} is not a parameter",
        ),
        (  # a value in an action is recognised by its pattern: `reason` has none
            lambda d: d.update(actions=["drain for {reason}"]),
            "actions[0]: {reason} needs a parameter with a pattern",
        ),
        (
            lambda d: d.update(actions=["{ticket}"]),
            "actions[0]: an action needs a word besides its value",
        ),
    ],
)
def test_template_mistakes_are_refused_with_their_location(
    edit: Callable[[dict[str, Any]], object], problem: str
) -> None:
    """References, `after`, ids and {holes} are checked against the routine itself."""
    message = refused(edited(edit))
    assert message.startswith("routine x.yaml: invalid:")
    assert problem in message


def test_every_template_mistake_is_reported_at_once() -> None:
    """Several mistakes give one CatalogError listing all of them."""

    def edit(d: dict[str, Any]) -> None:
        d["steps"][0]["args"]["message"] = {"$param": "nope"}
        d["steps"][2]["id"] = "drain"
        d["intent"] = "{later}"

    message = refused(edited(edit))
    assert "unknown parameter 'nope'" in message
    assert "'drain' is used twice" in message
    assert "{later} is not a parameter" in message


# -- bind ----------------------------------------------------------------------------------


def test_bind_applies_the_defaults() -> None:
    """Parameters left out (or given as None) take their defaults."""
    assert drain().bind(GIVEN) == {**GIVEN, **DEFAULTS}
    assert drain().bind({**GIVEN, "batch": None}) == {**GIVEN, **DEFAULTS}
    assert drain().bind({**GIVEN, "batch": 8, "force": True})["batch"] == 8


def test_bind_names_a_missing_required_parameter() -> None:
    """A parameter without a default must be given; the message says what it is."""
    assert "reason: missing (Why it is drained.)" in bind_problems({"array": "array-01"})


def test_bind_names_an_unknown_parameter_and_lists_the_known_ones() -> None:
    """A parameter the routine does not take is refused, listing the ones it does."""
    message = bind_problems({**GIVEN, "colour": "red"})
    assert "colour: not a parameter of demo.drain" in message
    assert "(it takes array, reason, mode, ticket, batch, ratio, force, extra)" in message


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("batch", "2", "integer"),
        ("batch", 2.5, "integer"),
        ("batch", True, "integer"),
        ("ratio", False, "number"),
        ("ratio", "0.5", "number"),
        ("force", 1, "boolean"),
        ("force", "yes", "boolean"),
        ("extra", "host-9", "list"),
        ("array", 1, "string"),
        ("array", ["array-01"], "string"),
    ],
)
def test_bind_refuses_a_value_of_the_wrong_type(name: str, value: Any, expected: str) -> None:
    """Types are exact: a bool is not an integer or number, a string not a list."""
    message = bind_problems({**GIVEN, name: value})
    assert f"{name}: expected {expected}, got {value!r}" in message


def test_bind_accepts_an_integer_for_a_number() -> None:
    """An integer is a number (but not the other way round)."""
    assert drain().bind({**GIVEN, "ratio": 1})["ratio"] == 1


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("mode", "gentle", "mode: 'gentle' is not one of soft, hard"),
        ("ticket", "CHG-12", "ticket: 'CHG-12' does not match CHG-[0-9]{4}"),
        ("ticket", "CHG-12345", "ticket: 'CHG-12345' does not match CHG-[0-9]{4}"),
        ("ticket", "x CHG-1234", "ticket: 'x CHG-1234' does not match CHG-[0-9]{4}"),
        ("batch", 0, "batch: 0 is below 1"),
        ("batch", 9, "batch: 9 is above 8"),
        ("ratio", -0.1, "ratio: -0.1 is below 0"),
        ("ratio", 1.5, "ratio: 1.5 is above 1"),
    ],
)
def test_bind_checks_enum_pattern_and_bounds(name: str, value: Any, problem: str) -> None:
    """enum, pattern (matched against the whole value), minimum and maximum are enforced."""
    assert problem in bind_problems({**GIVEN, name: value})


@pytest.mark.parametrize(("name", "value"), [("batch", 1), ("batch", 8), ("ratio", 0)])
def test_bind_bounds_are_inclusive(name: str, value: Any) -> None:
    """minimum and maximum themselves are allowed."""
    assert drain().bind({**GIVEN, name: value})[name] == value


def test_bind_refuses_an_entity_the_inventory_lacks_and_lists_the_known_ones() -> None:
    """An entity parameter must name something in the inventory (grounding)."""
    message = bind_problems({**GIVEN, "array": "array-09"}, INVENTORY)
    assert "array: no array named 'array-09' (known: array-01, array-02)" in message
    assert drain().bind(GIVEN, inventory=INVENTORY)["array"] == "array-01"


def test_bind_checks_entities_only_where_the_inventory_knows_the_kind() -> None:
    """Without an inventory, or without that kind in it, entity names are not checked."""
    assert drain().bind({**GIVEN, "array": "array-09"})["array"] == "array-09"
    hosts_only = Inventory.from_mapping({"host": ["h1"]})
    assert drain().bind({**GIVEN, "array": "array-09"}, inventory=hosts_only)


def test_bind_checks_each_item_of_an_entity_list() -> None:
    """A list parameter of entities names every item the inventory lacks."""
    text = edited(lambda d: d["params"]["extra"].update(entity="host"))
    r = parse_routine(text, source="x.yaml")
    assert r.bind({**GIVEN, "extra": ["h1", "h2"]}, inventory=INVENTORY)["extra"] == ["h1", "h2"]
    with pytest.raises(InputError, match=r"extra: no host named 'h3', 'h9' \(known: h1, h2\)"):
        r.bind({**GIVEN, "extra": ["h1", "h3", "h9"]}, inventory=INVENTORY)


def test_bind_reports_every_problem_in_one_error() -> None:
    """All mistakes come back together in one InputError with a hint."""
    with pytest.raises(InputError) as exc:
        drain().bind(
            {"array": "array-09", "batch": True, "mode": "gentle", "colour": 1},
            inventory=INVENTORY,
        )
    lines = str(exc.value).splitlines()
    assert lines[0] == "routine demo.drain: bad parameters:"
    assert sorted(line.split(":")[0].strip() for line in lines[1:]) == [
        "array",
        "batch",
        "colour",
        "mode",
        "reason",
    ]
    assert "planactor routines" in str(exc.value.hint)


# -- expand --------------------------------------------------------------------------------


def test_expand_fills_the_intent_and_records_the_routine() -> None:
    """The plan's intent has the holes filled; planner metadata names the routine and params."""
    plan = drain().expand(GIVEN, facts=FACTS, requested_by="alice", change_ticket="CHG-7")
    assert plan.intent == "drain array-01 for maintenance"
    assert plan.requested_by == "alice"
    assert plan.change_ticket == "CHG-7"
    assert plan.planner is not None
    meta = plan.planner.model_dump()
    assert meta["backend"] == "routine"
    assert meta["routine"] == "demo.drain"
    assert meta["params"] == {**GIVEN, **DEFAULTS}


def test_for_each_over_a_fact_makes_one_step_per_item() -> None:
    """Each item gets a step `<id>-<item>` (unsafe characters become '-') with $item filled."""
    plan = expand()
    members = [s for s in plan.steps if s.id.startswith("drain-")]
    assert [s.id for s in members] == ["drain-host-1", "drain-host-2"]
    assert [s.args["message"] for s in members] == ["host-1", "host.2"]
    assert all(s.after == ["check"] for s in members)
    assert all(s.on_failure == "continue" and s.timeout_s == 30 for s in members)
    assert all(s.retry is not None and s.retry.attempts == 3 for s in members)


def test_for_each_over_a_list_parameter_makes_one_step_per_item() -> None:
    """A list parameter drives a for_each like a fact does."""
    plan = expand(extra=["db/1", "web 2"])
    members = [s for s in plan.steps if s.id.startswith("more-")]
    assert [(s.id, s.args) for s in members] == [
        ("more-db-1", {"message": "db/1"}),
        ("more-web-2", {"message": "web 2"}),
    ]


def test_after_a_for_each_group_means_after_every_member() -> None:
    """`after: [drain, more]` becomes every member of both groups, in order."""
    plan = expand(extra=["x"])
    assert plan.step("verify").after == ["drain-host-1", "drain-host-2", "more-x"]


def test_an_empty_for_each_drops_the_group_and_waits_for_what_it_waited_for() -> None:
    """With nothing to loop over the group vanishes; its dependents wait for its own `after`."""
    plan = expand(array="array-02")
    assert [s.id for s in plan.steps] == ["check", "verify"]
    assert plan.step("verify").after == ["check"]
    assert validate(plan.to_document(), catalog=CATALOG).ok


def test_an_empty_for_each_keeps_the_order_it_stood_for() -> None:
    """A step after an empty group still waits for what the group waited for."""
    plan = expand(array="array-02")
    assert "check" in ancestors(plan, "verify")


def test_substitution_reaches_inside_nested_lists_and_dicts() -> None:
    """$param, $fact and $item are replaced at any depth of the arguments."""
    plan = expand(batch=4, ratio=0.25, force=True, ticket="CHG-1234")
    assert plan.step("check").args == {
        "message": "array-01",
        "value": {"controller": "ctrl-a", "mode": "soft"},
    }
    assert plan.step("drain-host-1").args["value"] == [4, {"nested": [0.25, "ctrl-a"]}]
    assert plan.step("verify").args["value"] == {"force": True, "ticket": "CHG-1234"}


def test_a_fact_path_is_filled_from_the_parameters() -> None:
    """`arrays.{array}.hosts` reads the hosts of the array given."""
    other = {"arrays": {**FACTS["arrays"], "array-02": {"controller": "c", "hosts": ["z"]}}}
    plan = drain().expand({**GIVEN, "array": "array-02"}, facts=other, requested_by="alice")
    assert [s.id for s in plan.steps] == ["check", "drain-z", "verify"]


@pytest.mark.parametrize(
    ("facts", "problem"),
    [
        ({}, "fact hosts: no 'arrays' in the facts"),
        (FACTS | {"arrays": {"array-02": {}}}, "no 'array-01' in arrays (known: array-02)"),
        (
            {"arrays": {"array-01": {"controller": "a"}}},
            "no 'hosts' in arrays.array-01 (known: controller)",
        ),
        ({"arrays": ["array-01"]}, "fact hosts: no 'array-01' in arrays"),
    ],
)
def test_a_missing_fact_names_the_path_walked_and_the_known_keys(
    facts: dict[str, Any], problem: str
) -> None:
    """A fact that is not there is an InputError saying how far the path got."""
    with pytest.raises(InputError) as exc:
        drain().expand(GIVEN, facts=facts, requested_by="alice")
    assert str(exc.value).startswith("routine demo.drain: fact ")
    assert problem in str(exc.value)
    assert exc.value.hint is not None


def test_a_for_each_that_is_not_a_list_is_an_input_error() -> None:
    """for_each must resolve to a list; anything else is named."""
    facts = {"arrays": {"array-01": {"controller": "a", "hosts": "host-1"}}}
    with pytest.raises(InputError, match=r"step drain: for_each is not a list \('host-1'\)"):
        drain().expand(GIVEN, facts=facts, requested_by="alice")


def test_expand_checks_the_parameters_first() -> None:
    """Expansion binds the parameters, so every bad value is reported before any fact."""
    with pytest.raises(InputError, match="bad parameters"):
        drain().expand({"array": "array-09"}, facts={}, inventory=INVENTORY, requested_by="a")


def test_the_expanded_plan_validates_against_the_catalog() -> None:
    """The plan a routine makes passes the ordinary validator."""
    for params in ({}, {"extra": ["a", "b.c"]}, {"array": "array-02", "extra": ["z"]}):
        plan = expand(**params)
        report = validate(plan.to_document(), catalog=CATALOG, inventory=INVENTORY)
        assert report.ok, [str(p) for p in report.problems]


def test_expansion_is_deterministic() -> None:
    """Same routine, parameters and facts: the same plan, byte for byte."""
    a, b = (
        expand(extra=["x"]),
        drain().expand(
            {"extra": ["x"], **GIVEN}, facts=FACTS, inventory=INVENTORY, requested_by="alice"
        ),
    )
    assert a.hash == b.hash
    assert a.to_document() == b.to_document()
    assert expand(extra=["y"]).hash != a.hash


def test_plan_references_pass_through_and_literal_lists_loop() -> None:
    """$ref and $input are left for the engine; a literal for_each list may hold markers."""
    text = """
name: demo.refs
description: d
intent: greet {who}
params:
  who: {type: string, description: Who.}
steps:
  - id: hello
    actor: core.echo
    args: {message: {$param: who}}
  - id: again
    actor: core.echo
    for_each: [{$param: who}, second]
    args: {message: {$ref: hello.output.message}, value: {$item: true}}
"""
    plan = parse_routine(text, source="refs.yaml").expand({"who": "ops"}, requested_by="alice")
    assert [(s.id, s.args) for s in plan.steps] == [
        ("hello", {"message": "ops"}),
        ("again-ops", {"message": {"$ref": "hello.output.message"}, "value": "ops"}),
        ("again-second", {"message": {"$ref": "hello.output.message"}, "value": "second"}),
    ]
    assert validate(plan.to_document(), catalog=CATALOG).ok


def test_the_example_in_the_docs_expands_as_shown() -> None:
    """docs/routines.md: its routine parses and expands to the steps it prints."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "routines.md").read_text()
    (text,) = [b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if "steps:" in b]
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", doc, re.S)]
    (given,) = [b for b in blocks if isinstance(b, dict) and "facts" in b]
    (shown,) = [b for b in blocks if isinstance(b, list)]
    r = parse_routine(text, source="docs/routines.md")
    plan = r.expand(given["params"], facts=given["facts"], requested_by="docs")
    assert plan.intent == "fail over array-01 to ctrl-b (maintenance)"
    steps = [s.to_document() for s in plan.steps]
    assert [s["id"] for s in steps] == [s["id"] for s in shown]
    assert [{k: full[k] for k in part} for full, part in zip(steps, shown, strict=True)] == shown


def test_an_item_too_long_for_a_step_id_is_never_a_raw_validation_error() -> None:
    """Expansion gives a valid plan or an InputError, whatever the items are."""
    try:
        plan = expand(extra=["h" * 200])
    except InputError:
        return
    assert validate(plan.to_document(), catalog=CATALOG).ok


# -- properties ----------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
PATTERNS = ["[a-z]{1,8}", "ctrl-[ab]", "vol-[0-9]{2,4}", "[A-Z][a-z0-9_]*"]
TEXT = st.text(st.characters(categories=("L", "N", "P", "Zs")), max_size=10)
# Loop items: distinct once sanitized for step ids, and short enough for one.
ITEMS = st.lists(
    st.text("ab1._/- ", max_size=8), max_size=4, unique_by=lambda s: _UNSAFE.sub("-", s)
)


def values_for(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that satisfy one generated parameter spec."""
    kind = spec["type"]
    if "enum" in spec:
        return st.sampled_from(spec["enum"])
    if kind == "string":
        if "pattern" in spec:
            return st.from_regex(spec["pattern"], fullmatch=True)
        return TEXT
    if kind == "integer":
        return st.integers(spec.get("minimum", -(10**9)), spec.get("maximum", 10**9))
    if kind == "number":
        return st.floats(
            spec.get("minimum"), spec.get("maximum"), allow_nan=False, allow_infinity=False
        )
    if kind == "boolean":
        return st.booleans()
    return ITEMS


@st.composite
def param_specs(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """A random parameter block: every type, optional constraints and defaults."""
    names = draw(
        st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), max_size=6, unique=True)
    )
    specs: dict[str, dict[str, Any]] = {}
    for name in names:
        kind = draw(st.sampled_from(["string", "integer", "number", "boolean", "list"]))
        spec: dict[str, Any] = {"type": kind, "description": f"the {name}"}
        if kind == "string":
            constraint = draw(st.sampled_from(["none", "pattern", "enum"]))
            if constraint == "pattern":
                spec["pattern"] = draw(st.sampled_from(PATTERNS))
            elif constraint == "enum":
                spec["enum"] = draw(st.lists(TEXT, min_size=1, max_size=4, unique=True))
        elif kind in ("integer", "number"):
            low = draw(st.none() | st.integers(-100, 100))
            high = draw(st.none() | st.integers(-100 if low is None else low, 100))
            if low is not None:
                spec["minimum"] = low
            if high is not None:
                spec["maximum"] = high
        if draw(st.booleans()):
            spec["default"] = draw(values_for(spec))
        specs[name] = spec
    return specs


def conforms(schema: dict[str, Any], value: Any) -> bool:
    """Does `value` satisfy one property schema (the JSON Schema keywords params_schema uses)?"""
    types: dict[str, Callable[[Any], bool]] = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    }
    if not types[schema["type"]](value):
        return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        return False
    if "minimum" in schema and value < schema["minimum"]:
        return False
    return not ("maximum" in schema and value > schema["maximum"])


@PROPERTY
@given(st.data())
def test_bind_accepts_valid_values_and_expand_always_gives_a_valid_plan(
    data: st.DataObject,
) -> None:
    """For any routine and values within its schema: bind accepts, expand validates, and the
    plan has one step per plain step plus one per loop item, with unique ids."""
    specs = data.draw(param_specs(), label="params")
    fact_lists = data.draw(st.dictionaries(st.sampled_from(["f1", "f2"]), ITEMS), label="facts")
    loops = [("$param", n) for n, s in specs.items() if s["type"] == "list"]
    loops += [("$fact", f) for f in fact_lists]
    steps: list[dict[str, Any]] = []
    for i in range(data.draw(st.integers(1, 5), label="steps")):
        loop = data.draw(st.none() | st.sampled_from(loops)) if loops else None
        used = data.draw(st.lists(st.sampled_from(sorted(specs)), unique=True)) if specs else []
        value: dict[str, Any] = {"params": [{"$param": n} for n in used]}
        step: dict[str, Any] = {"id": f"s{i}", "actor": "core.echo"}
        if loop is not None:
            step["for_each"] = {loop[0]: loop[1]}
            value["item"] = {"$item": True}
        if steps:
            step["after"] = data.draw(
                st.lists(st.sampled_from([s["id"] for s in steps]), unique=True)
            )
        step["args"] = {"message": f"step {i}", "value": value}
        steps.append(step)
    doc = {
        "name": "prop.routine",
        "description": "generated",
        "intent": " ".join(["do", *(f"{{{n}}}" for n in specs)]),
        "params": specs,
        "facts": {f: f"lists.{f}" for f in fact_lists},
        "steps": steps,
    }
    text = yaml.safe_dump(doc, sort_keys=False)
    note(text)
    r = parse_routine(text, source="generated.yaml")
    given = {}
    for name, spec in specs.items():
        if "default" not in spec or data.draw(st.booleans(), label=f"give {name}"):
            given[name] = data.draw(values_for(spec), label=name)
    expected = {n: given.get(n, s.get("default")) for n, s in specs.items()}
    schema = r.params_schema()
    assert all(conforms(schema["properties"][n], v) for n, v in expected.items())
    assert set(schema["required"]) <= set(given)

    assert r.bind(given) == expected
    lists = {("$param", n): v for n, v in expected.items() if specs[n]["type"] == "list"}
    lists |= {("$fact", f): v for f, v in fact_lists.items()}
    # (step, item) for every step the plan should hold, in order.
    members = [
        (step, item)
        for step in steps
        for item in (
            [None] if "for_each" not in step else lists[next(iter(step["for_each"].items()))]
        )
    ]
    want = len(members)
    if want == 0:
        # Every step looped over nothing. The plan is empty, which the validator refuses as
        # such (`empty-plan`, exit 2); expansion may also refuse it itself.
        try:
            empty = r.expand(given, facts={"lists": fact_lists}, requested_by="prop")
        except InputError:
            return
        assert empty.steps == []
        codes = {p.code for p in validate(empty.to_document(), catalog=CATALOG).errors}
        assert codes == {"empty-plan"}
        return
    plan = r.expand(given, facts={"lists": fact_lists}, requested_by="prop")
    ids = [s.id for s in plan.steps]
    assert len(ids) == want
    assert len(set(ids)) == len(ids)
    for made, (step, item) in zip(plan.steps, members, strict=True):
        assert made.id.split("-")[0] == step["id"]
        params = [expected[ref["$param"]] for ref in step["args"]["value"]["params"]]
        want_value = {"params": params} | ({} if item is None else {"item": item})
        assert made.args == {"message": step["args"]["message"], "value": want_value}
    report = validate(plan.to_document(), catalog=CATALOG)
    assert report.ok, [str(p) for p in report.problems]
    assert plan.intent == " ".join(["do", *(str(v) for v in expected.values())])


@PROPERTY
@given(param_specs())
def test_params_schema_is_a_json_schema_requiring_the_parameters_without_defaults(
    specs: dict[str, dict[str, Any]],
) -> None:
    """params_schema is a closed JSON Schema object; `required` is exactly the parameters
    without a default; each property carries the parameter's type and constraints."""
    doc = {
        "name": "prop.schema",
        "description": "generated",
        "intent": "do it",
        "params": specs,
        "steps": [{"id": "a", "actor": "core.echo", "args": {"message": "m"}}],
    }
    schema = parse_routine(yaml.safe_dump(doc), source="g.yaml").params_schema()
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(specs)
    assert schema["required"] == sorted(n for n, s in specs.items() if "default" not in s)
    keywords = {"type", "description", "items", "pattern", "enum", "minimum", "maximum"}
    for name, prop in schema["properties"].items():
        spec = specs[name]
        assert set(prop) <= keywords
        assert prop["type"] == {"list": "array"}.get(spec["type"], spec["type"])
        assert prop["description"] == spec["description"]
        if spec["type"] == "list":
            assert prop["items"] == {"type": "string"}
        for key in ("enum", "minimum", "maximum"):
            assert prop.get(key) == spec.get(key)
        # Anchored, because JSON Schema searches and bind() matches the whole value.
        expected = f"^(?:{spec['pattern']})$" if "pattern" in spec else None
        assert prop.get("pattern") == expected


def test_params_schema_and_bind_agree_on_patterns() -> None:
    """A value is accepted by bind exactly when params_schema admits it."""
    text = edited(lambda d: d["params"]["ticket"].update(pattern="[0-9]+"))
    r = parse_routine(text, source="x.yaml")
    prop = r.params_schema()["properties"]["ticket"]
    disagree = []
    for value in ["12", "vol-12", "12a", "a", ""]:
        try:
            r.bind({**GIVEN, "ticket": value})
            accepted = True
        except InputError:
            accepted = False
        if accepted != conforms(prop, value):
            disagree.append(value)
    assert disagree == []


# -- the catalog ---------------------------------------------------------------------------

Installer = Callable[..., None]

PACK = '''
from pydantic import BaseModel

from planactor.catalog import actor


class PingIn(BaseModel):
    host: str


class PingOut(BaseModel):
    host: str
    up: bool


@actor(name="{prefix}.ping", effect="read")
def ping(args: PingIn) -> PingOut:
    """Check that a host answers."""
    return PingOut(host=args.host, up=True)
'''

ROUTINE = """
name: {name}
description: Ping some hosts.
intent: ping {{hosts}}
params:
  hosts: {{type: list, description: The hosts., entity: host}}
steps:
  - id: hello
    actor: core.echo
    args: {{message: hello}}
  - id: ping
    actor: {actor}
    for_each: {{$param: hosts}}
    after: [hello]
    args: {{host: {{$item: true}}}}
"""


def routine_text(name: str, actor: str) -> str:
    return ROUTINE.format(name=name, actor=actor)


def _write_pack(site: Path, package: str, prefix: str, routines: dict[str, str]) -> None:
    """The package's module (PACK's actors under `prefix`) and its routines/ files."""
    folder = site / package / "routines"
    folder.mkdir(parents=True)
    (site / package / "__init__.py").write_text(textwrap.dedent(PACK).replace("{prefix}", prefix))
    for name, text in routines.items():
        (folder / name).write_text(text)


@pytest.fixture
def install_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installer]:
    """Install a pack package (actors + routines/) with a planactor.actors entry point."""
    packages: list[str] = []

    def install(package: str, prefix: str, routines: dict[str, str]) -> None:
        site = tmp_path / "site"
        _write_pack(site, package, prefix, routines)
        info = site / f"{package}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{prefix} = {package}\n")
        monkeypatch.syspath_prepend(str(site))
        importlib.invalidate_caches()
        packages.append(package)

    yield install
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            del sys.modules[name]


def test_discover_loads_a_packs_routines(install_pack: Installer) -> None:
    """`<pack>/routines/*.yaml` and `*.yml` are loaded; other files there are ignored."""
    install_pack(
        "rtpack_a",
        "rta",
        {
            "ping.yaml": routine_text("rta.ping_hosts", "rta.ping"),
            "again.yml": routine_text("rta.ping_again", "rta.ping"),
            "README.md": "not a routine",
        },
    )
    catalog = Catalog.discover()
    assert {"rta.ping_again", "rta.ping_hosts"} <= set(catalog.routines)
    r = catalog.routine("rta.ping_hosts")
    assert r.actors() == {"core.echo", "rta.ping"}
    plan = r.expand({"hosts": ["h1", "h2"]}, inventory=INVENTORY, requested_by="alice")
    assert [s.id for s in plan.steps] == ["hello", "ping-h1", "ping-h2"]
    assert validate(plan.to_document(), catalog=catalog, inventory=INVENTORY).ok


def test_discover_refuses_a_routine_calling_an_actor_not_in_the_catalog(
    install_pack: Installer,
) -> None:
    """A routine whose actor is missing stops the catalog, naming routine, pack and actor."""
    install_pack("rtpack_b", "rtb", {"ping.yaml": routine_text("rtb.ping_hosts", "rtb.pong")})
    with pytest.raises(CatalogError) as exc:
        Catalog.discover()
    assert str(exc.value) == (
        "routine 'rtb.ping_hosts' (pack 'rtb') calls actors that are not in the catalog: rtb.pong"
    )


def test_discover_names_the_file_of_a_broken_routine(install_pack: Installer) -> None:
    """A routine file that does not parse is a CatalogError naming the pack's file."""
    install_pack("rtpack_c", "rtc", {"bad.yaml": "name: rtc.bad\nsteps: [\n"})
    with pytest.raises(CatalogError, match=r"routine rtpack_c/routines/bad\.yaml \(line 3"):
        Catalog.discover()


@pytest.fixture
def builtin_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installer]:
    """Add a package to the built-in packs (BUILTIN_PACKS), as planactor's own packs are."""
    packages: list[str] = []

    def install(package: str, prefix: str, routines: dict[str, str]) -> None:
        site = tmp_path / "builtin"
        _write_pack(site, package, prefix, routines)
        monkeypatch.syspath_prepend(str(site))
        monkeypatch.setitem(BUILTIN_PACKS, prefix, package)
        importlib.invalidate_caches()
        packages.append(package)

    yield install
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            del sys.modules[name]


def _no_parsing(*_args: Any, **_kw: Any) -> Routine:
    raise AssertionError("a routine was parsed")


def test_validating_a_plan_parses_no_built_in_routine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in packs' routines are parsed on first use of the routines, not when the
    catalog loads: checking a plan (`planactor validate`) reads none of them."""
    monkeypatch.setattr(catalog_module, "parse_routine", _no_parsing)
    catalog = Catalog.discover(entry_point_group="planactor.tests.no_such_group", packs=[])
    plan = {
        "api_version": "planactor/v1",
        "intent": "say hello",
        "requested_by": "alice",
        "steps": [{"id": "hello", "actor": "core.echo", "args": {"message": "hi"}}],
    }
    assert validate(plan, catalog=catalog).ok
    with pytest.raises(AssertionError, match="a routine was parsed"):
        catalog.routines  # noqa: B018
    monkeypatch.undo()
    assert set(catalog.routines) == set(CATALOG.routines)
    assert catalog.routine("storage.firmware_upgrade") == CATALOG.routine(
        "storage.firmware_upgrade"
    )


def test_a_broken_built_in_routine_is_reported_at_first_use(builtin_pack: Installer) -> None:
    """A built-in routine file that does not parse is the same CatalogError (file, line) as
    at load before, raised by the first use of the routines and by each use after it."""
    builtin_pack("rtbuiltin_a", "rba", {"bad.yaml": "name: rba.bad\nsteps: [\n"})
    catalog = Catalog.discover()  # the actors load; the routines wait
    assert "rba.ping" in catalog
    for use in (lambda: catalog.routines, lambda: catalog.routine("storage.firmware_upgrade")):
        with pytest.raises(CatalogError, match=r"routine rtbuiltin_a/routines/bad\.yaml \(line 3"):
            use()


def test_a_built_in_routine_calling_a_missing_actor_is_reported_at_first_use(
    builtin_pack: Installer,
) -> None:
    """A built-in routine whose actor is missing is the same CatalogError as at load before."""
    builtin_pack("rtbuiltin_b", "rbb", {"ping.yaml": routine_text("rbb.ping_hosts", "rbb.pong")})
    catalog = Catalog.discover()
    with pytest.raises(CatalogError) as exc:
        catalog.routines  # noqa: B018
    assert str(exc.value) == (
        "routine 'rbb.ping_hosts' (pack 'rbb') calls actors that are not in the catalog: rbb.pong"
    )


def test_a_pack_routine_named_as_a_built_in_one_is_refused_at_load(
    install_pack: Installer,
) -> None:
    """An installed pack's routine with a built-in routine's name is refused by discover,
    naming the built-in pack, as when the built-in routines were read at load."""
    install_pack(
        "rtpack_d", "rtd", {"fw.yaml": routine_text("storage.firmware_upgrade", "rtd.ping")}
    )
    with pytest.raises(CatalogError, match="name already registered by pack 'storage'"):
        Catalog.discover()


def test_add_routine_refuses_a_duplicate_name() -> None:
    """Routine names are global: a second one with the same name names both packs."""
    catalog = Catalog()
    catalog.add_routine(drain(), pack="first")
    with pytest.raises(CatalogError) as exc:
        catalog.add_routine(drain(), pack="second")
    assert "routine 'demo.drain' (pack 'second'): name already registered by pack 'first'" in str(
        exc.value
    )


def test_routines_are_listed_sorted_and_looked_up_by_name() -> None:
    """`routines` is sorted by name; `routine(name)` finds one or suggests close names."""
    catalog = Catalog()
    for name in ("demo.zeta", "demo.drain", "demo.alpha"):
        catalog.add_routine(drain().model_copy(update={"name": name}))
    assert list(catalog.routines) == ["demo.alpha", "demo.drain", "demo.zeta"]
    assert catalog.routine("demo.drain").name == "demo.drain"
    with pytest.raises(InputError) as exc:
        catalog.routine("demo.drian")
    assert str(exc.value) == "unknown routine 'demo.drian'"
    assert exc.value.hint is not None
    assert exc.value.hint.startswith("did you mean 'demo.drain'")
    with pytest.raises(InputError) as exc:
        catalog.routine("nothing.like")
    assert exc.value.hint == "`planactor routines` lists them"
