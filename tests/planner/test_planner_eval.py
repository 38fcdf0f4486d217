"""The planner eval: a labelled set is loaded strictly, every case is planned once and scored
(routine + parameters, validity over produced plans, ungrounded values, tokens and calls),
and the shipped set is large, covers every tag and agrees with the catalog."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from planactor import InputError
from planactor.actors import core
from planactor.catalog import Catalog, parse_routine
from planactor.cli._app import catalog as cli_catalog
from planactor.cli._eval import check_ungrounded, storage_eval_context
from planactor.planner import BackendError, Completion, Message, prompt_hash
from planactor.planner._eval import (
    TAGS,
    EvalContext,
    EvalSet,
    check_eval_set,
    load_eval_set,
    parse_eval_set,
    run_eval,
)
from planactor.validate import Inventory

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "src" / "planactor" / "_evals" / "planner.yaml"
SOURCE = REPO / "evals" / "planner.yaml"

PING_ARRAY = """
name: test.ping_array
description: Ping an array to see that it answers.
intent: "Ping {array}"
examples: ["ping array-01"]
params:
  array: {type: string, entity: array, description: the array to ping}
steps:
  - id: ping
    actor: core.echo
    args: {message: {$param: array}}
"""
SEND_REPORT = """
name: test.send_report
description: Send the status report at a chosen speed.
intent: "Send the report {speed}"
examples: ["send the status report fast", "send the report slowly"]
params:
  speed: {type: string, enum: [slow, fast], description: how fast to send the report}
  copies: {type: integer, minimum: 1, maximum: 9, default: 1, description: how many copies}
steps:
  - id: send
    actor: core.echo
    args: {message: {$param: speed}}
"""
TINY = """
version: 1
cases:
  - id: ping-one
    intent: ping array-01
    expect: {routine: test.ping_array, params: {array: array-01}}
    tags: [canonical]
  - id: ping-wrong-expectation
    intent: ping array-02
    expect: {routine: test.ping_array, params: {array: array-01}}
    tags: [distractor]
  - id: ping-nothing
    intent: ping the array
    expect: {routine: null}
    tags: [underspecified]
  - id: weather
    intent: what is the weather in Paris
    expect: {routine: null}
    tags: [no-routine]
  - id: ping-unknown-refused
    intent: ping array-09
    expect: {routine: test.ping_array, params: {array: array-01}}
    tags: [distractor]
"""
ECHO_PLAN = json.dumps(
    {"steps": [{"id": "say", "actor": "core.echo", "args": {"message": "hello"}}]}
)
BAD_PLAN = json.dumps({"steps": [{"id": "say", "actor": "core.nope", "args": {}}]})


class Scripted:
    """A Backend that answers `answers` in order (a BackendError is raised), 10 tokens in
    and 5 out per call, and refuses to be asked more often than scripted."""

    name = "scripted"

    def __init__(self, *answers: str | BackendError, model: str = "script-1") -> None:
        self.answers = list(answers)
        self.model = model
        self.asked = 0

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        timeout_s: float = 120.0,
    ) -> Completion:
        self.asked += 1
        assert self.asked <= len(self.answers), f"asked {self.asked} times, scripted for fewer"
        answer = self.answers[self.asked - 1]
        if isinstance(answer, BackendError):
            raise answer
        return Completion(
            text=answer,
            backend=self.name,
            model=self.model,
            prompt_hash=prompt_hash(messages, schema),
            tokens_in=10,
            tokens_out=5,
            latency_s=0.01,
            cost_usd=0.0,
        )


def tiny_context() -> EvalContext:
    """The core pack's actors, two test routines, and three arrays."""
    cat = Catalog([core.echo, core.sleep], pack="core")
    for text in (PING_ARRAY, SEND_REPORT):
        cat.add_routine(parse_routine(text, source="test"), pack="test")
    inventory = Inventory.from_mapping({"array": ["array-01", "array-02", "array-03"]})
    return EvalContext(catalog=cat, inventory=inventory)


def one_case(intent: str, routine: str | None, params: Mapping[str, Any] | None = None) -> EvalSet:
    expect: dict[str, Any] = {"routine": routine}
    if params:
        expect["params"] = dict(params)
    doc = {"cases": [{"id": "only", "intent": intent, "expect": expect, "tags": ["canonical"]}]}
    return parse_eval_set(yaml.safe_dump(doc), source="one")


# -- loading -----------------------------------------------------------------------------------


def test_a_well_formed_set_loads_with_every_field() -> None:
    """Cases keep their id, intent, expectation, tags and note; params default to none."""
    s = parse_eval_set(TINY, source="tiny")
    assert [c.id for c in s.cases][:3] == ["ping-one", "ping-wrong-expectation", "ping-nothing"]
    first, nothing = s.cases[0], s.cases[2]
    assert (first.intent, first.routine, dict(first.params), first.tags) == (
        "ping array-01",
        "test.ping_array",
        {"array": "array-01"},
        ("canonical",),
    )
    assert (nothing.routine, dict(nothing.params), nothing.note) == (None, {}, None)
    assert s.tags == {"canonical", "distractor", "underspecified", "no-routine"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cases: [", "not valid YAML (line 1"),
        ("- 1\n- 2\n", "a mapping with a `cases` list"),
        ("cases: []\n", "no cases"),
        ("version: 2\ncases: [{id: a}]\n", "version 2"),
        ("cases: [{id: a, intent: x, expect: {routine: null}, tags: [typo]}]\nextra: 1\n", "extra"),
        ("cases: [3]\n", "case #1: case: expected a mapping"),
        ("cases: [{id: Bad Id, intent: x, expect: {routine: null}, tags: [typo]}]", "#1): id:"),
        (
            "cases: [{id: a, intent: ' ', expect: {routine: null}, tags: [typo]}]",
            "'a' (#1): intent",
        ),
        ("cases: [{id: a, intent: x, tags: [typo]}]", "'a' (#1): expect:"),
        (
            "cases: [{id: a, intent: x, expect: {params: {}}, tags: [typo]}]",
            "expect.routine: missing",
        ),
        ("cases: [{id: a, intent: x, expect: {routine: 3}, tags: [typo]}]", "expect.routine:"),
        (
            "cases: [{id: a, intent: x, expect: {routine: r, params: [1]}, tags: [typo]}]",
            "expect.params",
        ),
        (
            "cases: [{id: a, intent: x, expect: {routine: null, params: {v: 1}}, tags: [typo]}]",
            "expect.params: given, but expect.routine is null",
        ),
        ("cases: [{id: a, intent: x, expect: {routine: r, why: 1}, tags: [typo]}]", "expect.why"),
        ("cases: [{id: a, intent: x, expect: {routine: null}, tags: []}]", "'a' (#1): tags"),
        (
            "cases: [{id: a, intent: x, expect: {routine: null}, tags: [fancy]}]",
            "unknown tag(s) fancy",
        ),
        (
            "cases: [{id: a, intent: x, expect: {routine: null}, tags: [typo], oops: 1}]",
            "oops: unknown",
        ),
        ("cases: [{id: a, intent: x, expect: {routine: null}, tags: [typo], note: [1]}]", "note:"),
        (
            "cases:\n  - {id: a, intent: x, expect: {routine: null}, tags: [typo]}\n"
            "  - {id: a, intent: y, expect: {routine: null}, tags: [typo]}\n",
            "case 'a' (#2): id: also used by case #1",
        ),
    ],
)
def test_a_malformed_set_is_an_input_error_naming_the_case_and_field(
    text: str, expected: str
) -> None:
    """Every malformation is an InputError that says where: the source, the case, the field."""
    with pytest.raises(InputError) as e:
        parse_eval_set(text, source="bad.yaml")
    assert e.value.message.startswith("bad.yaml:")
    assert expected in e.value.message


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
_case = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["a", "b-2", "Bad", ""]) | _json,
        "intent": st.sampled_from(["ping array-01", "", "  "]) | _json,
        "expect": st.fixed_dictionaries(
            {},
            optional={
                "routine": st.sampled_from([None, "test.ping_array"]) | _json,
                "params": st.just({"array": "array-01"}) | _json,
            },
        )
        | _json,
        "tags": st.lists(st.sampled_from([*TAGS, "nope"]), max_size=3) | _json,
        "note": _json,
    },
)


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({"cases": st.lists(_case | _json, max_size=4)}) | _json)
def test_any_document_loads_or_is_refused_with_an_input_error(doc: Any) -> None:
    """Whatever the YAML holds, loading yields a set of well-typed cases or an InputError."""
    refusal: InputError | None = None
    try:
        s = parse_eval_set(yaml.safe_dump(doc), source="fuzz")
    except InputError as e:
        refusal = e
    if refusal is not None:
        assert refusal.message.startswith("fuzz:")
        return
    assert s.cases
    for c in s.cases:
        assert isinstance(c.intent, str)
        assert c.intent.strip()
        assert c.routine is None or isinstance(c.routine, str)
        assert set(c.tags) <= set(TAGS)


def test_a_missing_set_file_is_an_input_error(tmp_path: Path) -> None:
    """--set pointing nowhere says which file is missing."""
    with pytest.raises(InputError, match=r"no such eval set"):
        load_eval_set(tmp_path / "nope.yaml")


def test_an_expectation_the_catalog_cannot_meet_names_the_case() -> None:
    """An unknown routine, or parameters its own bind refuses, is an InputError for that case."""
    ctx = tiny_context()
    unknown = one_case("ping array-01", "test.no_such_routine")
    with pytest.raises(InputError, match=r"case 'only': expect.routine: no routine"):
        check_eval_set(unknown, ctx.catalog, ctx.inventory)
    wrong = one_case("ping array-01", "test.ping_array", {"array": "array-09"})
    with pytest.raises(InputError, match=r"(?s)case 'only': expect.params: .*no array named"):
        run_eval(wrong, context=ctx, backend=None, check_ungrounded=check_ungrounded)


# -- scoring -----------------------------------------------------------------------------------


def test_the_routine_planner_is_scored_case_by_case() -> None:
    """A right plan matches; a plan other than expected does not; refusing a no-routine case
    matches; refusing a case that has a routine does not; validity counts produced plans."""
    result = run_eval(
        parse_eval_set(TINY, source="tiny"),
        context=tiny_context(),
        backend=None,
        check_ungrounded=check_ungrounded,
    )
    by_id = {c.case.id: c for c in result.cases}
    assert {k: (c.outcome, c.match) for k, c in by_id.items()} == {
        "ping-one": ("plan", True),
        "ping-wrong-expectation": ("plan", False),
        "ping-nothing": ("refused", True),
        "weather": ("refused", True),
        "ping-unknown-refused": ("refused", False),
    }
    assert by_id["ping-one"].params == {"array": "array-01"}
    assert "no array" in (by_id["ping-unknown-refused"].error or "")
    assert (result.matched, result.total, result.produced, result.valid) == (3, 5, 2, 2)
    assert result.exact_match == pytest.approx(0.6)
    assert result.validity == 1.0
    assert [c.case.id for c in result.failures] == [
        "ping-wrong-expectation",
        "ping-unknown-refused",
    ]
    assert (result.planner, result.model, result.calls, result.tokens_in) == ("routine", None, 0, 0)
    assert result.by_tag()["distractor"] == (0, 2)


def test_defaults_fill_both_sides_before_parameters_are_compared() -> None:
    """An expectation that leaves a defaulted parameter out equals a plan with its default,
    and differs from a plan with another value."""
    ctx = tiny_context()
    same = run_eval(
        one_case("send the status report fast", "test.send_report", {"speed": "fast"}),
        context=ctx,
        backend=None,
        check_ungrounded=check_ungrounded,
    )
    assert same.cases[0].match
    assert same.cases[0].params == {"speed": "fast", "copies": 1}
    other = run_eval(
        one_case("send the status report fast, 3 copies", "test.send_report", {"speed": "fast"}),
        context=ctx,
        backend=None,
        check_ungrounded=check_ungrounded,
    )
    assert not other.cases[0].match
    assert other.cases[0].read_params == {"speed": "fast", "copies": 3}


def test_a_composed_plan_that_validates_meets_a_no_routine_case_and_its_tokens_count() -> None:
    """The model composes a valid novel plan for a no-routine intent: a match, one call,
    its tokens counted, and the plan's values the intent does not give are flagged."""
    backend = Scripted(ECHO_PLAN)
    result = run_eval(
        one_case("echo the weather in Paris", None),
        context=tiny_context(),
        backend=backend,
        check_ungrounded=check_ungrounded,
    )
    (case,) = result.cases
    assert (case.outcome, case.path, case.routine, case.valid, case.match) == (
        "plan",
        "compose",
        None,
        True,
        True,
    )
    assert (case.calls, case.tokens_in, case.tokens_out) == (1, 10, 5)
    assert result.with_calls == (case,)
    assert case.ungrounded == (("s1", "args.message", "hello"),)  # ids are the planner's
    assert (result.planner, result.model, result.ungrounded, result.plans_with_ungrounded) == (
        "scripted",
        "script-1",
        1,
        1,
    )


def test_a_composed_plan_for_a_routine_case_is_a_failure_but_a_valid_plan() -> None:
    """When a routine fits, a novel plan instead of it does not match, though it validates."""
    result = run_eval(
        one_case("echo the weather in Paris", "test.ping_array", {"array": "array-01"}),
        context=tiny_context(),
        backend=Scripted(ECHO_PLAN),
        check_ungrounded=check_ungrounded,
    )
    assert (result.matched, result.produced, result.valid) == (0, 1, 1)
    assert result.cases[0].got == "composed (novel) plan"


def test_a_composition_that_never_validates_is_a_refusal_with_every_call_counted() -> None:
    """Three invalid compositions end in PlanInvalid: a refusal (a match for a no-routine
    case), with all three calls and their tokens counted although no plan came out."""
    result = run_eval(
        one_case("echo the weather in Paris", None),
        context=tiny_context(),
        backend=Scripted(BAD_PLAN, BAD_PLAN, BAD_PLAN),
        check_ungrounded=check_ungrounded,
    )
    (case,) = result.cases
    assert (case.outcome, case.match, case.valid, case.calls, case.tokens_in) == (
        "refused",
        True,
        None,
        3,
        30,
    )
    assert result.validity is None
    assert "plan is invalid" in (case.error or "")
    assert "core.nope" in (case.error or "")  # the validator's reason, not just a count


def test_a_backend_failure_never_counts_as_a_refusal() -> None:
    """A backend that cannot answer is an error, not a decision: no match even when no
    routine was expected; its failed calls count, without tokens."""
    result = run_eval(
        one_case("echo the weather in Paris", None),
        context=tiny_context(),
        backend=Scripted(*[BackendError("server down", backend="scripted")] * 3),
        check_ungrounded=check_ungrounded,
    )
    (case,) = result.cases
    assert (case.outcome, case.match, case.error) == ("error", False, "server down")
    assert case.got == "error: server down"
    assert (case.calls, case.failed_calls, case.tokens_in) == (3, 3, 0)


def test_a_value_the_model_fills_is_scored_and_flagged_ungrounded() -> None:
    """A parameter only the model can read is compared like any other, and shows as
    ungrounded; the call that filled it is counted."""
    intent = "send the status report quickly"
    right = run_eval(
        one_case(intent, "test.send_report", {"speed": "fast"}),
        context=tiny_context(),
        backend=Scripted('{"speed": "fast"}'),
        check_ungrounded=check_ungrounded,
    )
    (case,) = right.cases
    assert (case.match, case.calls, case.ungrounded) == (
        True,
        1,
        (("send", "args.message", "fast"),),
    )
    wrong = run_eval(
        one_case(intent, "test.send_report", {"speed": "fast"}),
        context=tiny_context(),
        backend=Scripted('{"speed": "slow"}'),
        check_ungrounded=check_ungrounded,
    )
    assert not wrong.cases[0].match
    assert wrong.cases[0].got == "test.send_report {speed=slow}"


def test_limit_plans_only_the_first_cases_and_must_be_positive() -> None:
    """--limit N plans the first N cases; below 1 it is an InputError."""
    tiny = parse_eval_set(TINY, source="tiny")
    result = run_eval(
        tiny, context=tiny_context(), backend=None, check_ungrounded=check_ungrounded, limit=2
    )
    assert [c.case.id for c in result.cases] == ["ping-one", "ping-wrong-expectation"]
    with pytest.raises(InputError, match="at least 1"):
        run_eval(
            tiny, context=tiny_context(), backend=None, check_ungrounded=check_ungrounded, limit=0
        )


def test_the_result_as_json_carries_the_summary_and_every_case() -> None:
    """to_json() is plain JSON with the summary figures, the failures and each case."""
    result = run_eval(
        parse_eval_set(TINY, source="tiny"),
        context=tiny_context(),
        backend=None,
        check_ungrounded=check_ungrounded,
    )
    doc = json.loads(json.dumps(result.to_document()))
    assert doc["summary"]["cases"] == 5
    assert doc["summary"]["exact_match"] == 0.6
    assert doc["summary"]["validity"] == 1.0
    assert doc["failures"] == ["ping-wrong-expectation", "ping-unknown-refused"]
    assert doc["cases"][0]["expected"] == {
        "routine": "test.ping_array",
        "params": {"array": "array-01"},
    }
    assert set(doc["summary"]) >= {
        "median_latency_s",
        "median_tokens_in",
        "median_tokens_out",
        "model_calls",
        "ungrounded_values",
    }


# -- the shipped set ---------------------------------------------------------------------------


def test_the_shipped_set_is_the_source_set_byte_for_byte() -> None:
    """src/planactor/_evals/planner.yaml is a copy of evals/planner.yaml."""
    assert SHIPPED.read_bytes() == SOURCE.read_bytes()


def test_the_shipped_set_is_large_and_covers_every_tag() -> None:
    """At least 60 cases; every tag is used; routine and no-routine cases both appear."""
    s = load_eval_set(SHIPPED)
    assert len(s.cases) >= 60
    assert s.tags == set(TAGS)
    assert any(c.routine is None for c in s.cases)
    assert len({c.routine for c in s.cases if c.routine}) >= 9


def test_every_expectation_of_the_shipped_set_binds_against_the_default_lab(
    tmp_path: Path,
) -> None:
    """Each expected routine exists and its own bind accepts the expected parameters
    against the inventory of the default lab of the case's kind (storage unless `lab:`)."""
    cli_catalog.cache_clear()
    s = load_eval_set(SHIPPED)
    for kind in ("storage", "network"):
        ctx = storage_eval_context(tmp_path, kind=kind)
        cases = [c for c in s.cases if c.lab == kind]
        check_eval_set(cases, ctx.catalog, ctx.inventory)
        for c in cases:
            if c.routine is not None:
                ctx.catalog.routines[c.routine].bind(c.params, inventory=ctx.inventory)


def test_a_case_with_lab_network_is_planned_against_a_network_lab(tmp_path: Path) -> None:
    """`lab: network` plans "deploy the fabric" against a default network lab, where
    network.deploy_fabric is served; on the storage lab the same intent is refused, naming
    the routine and the facts the lab lacks."""
    cli_catalog.cache_clear()
    doc = {
        "version": 1,
        "cases": [
            {
                "id": f"deploy-{kind}",
                "intent": "deploy fabric spines=4 uplink_gbps=400",
                "expect": {
                    "routine": "network.deploy_fabric",
                    "params": {"spines": 4, "uplink_gbps": 400},
                },
                "tags": ["key-value"],
                **({"lab": "network"} if kind == "network" else {}),
            }
            for kind in ("network", "storage")
        ],
    }
    result = run_eval(
        parse_eval_set(yaml.safe_dump(doc), source="labs"),
        context=storage_eval_context(tmp_path),
        labs={"network": storage_eval_context(tmp_path, kind="network")},
        backend=None,
        check_ungrounded=check_ungrounded,
    )
    by_id = {c.case.id: c for c in result.cases}
    assert by_id["deploy-network"].match
    assert not by_id["deploy-storage"].match
    assert "network.deploy_fabric would do it" in (by_id["deploy-storage"].error or "")
    assert "(site)" in (by_id["deploy-storage"].error or "")


# -- wrong plans, splits, coverage ---------------------------------------------------------------

WRONG = """
version: 1
cases:
  - id: right
    intent: ping array-01
    expect: {routine: test.ping_array, params: {array: array-01}}
    tags: [canonical]
  - id: other-params
    intent: ping array-02
    expect: {routine: test.ping_array, params: {array: array-03}}
    tags: [distractor]
    split: heldout
  - id: plan-where-none
    intent: ping array-01
    expect: {routine: null}
    tags: [no-routine]
    split: heldout
  - id: refused
    intent: ping the array
    expect: {routine: test.ping_array, params: {array: array-01}}
    tags: [underspecified]
  - id: dropped-clause
    intent: ping array-01; also delete array-02
    expect: {routine: test.ping_array, params: {array: array-01}, uncovered: [delete array-02]}
    tags: [multi-clause]
"""


def test_a_plan_other_than_the_label_is_a_wrong_plan_and_a_refusal_is_not() -> None:
    """Other parameters, or a routine plan where none should come out, count as wrong
    plans; a refusal is a miss but never a wrong plan; the counts split dev / heldout."""
    result = run_eval(
        parse_eval_set(WRONG, source="wrong"),
        context=tiny_context(),
        backend=None,
        check_ungrounded=check_ungrounded,
    )
    wrong = {c.case.id: c.wrong_plan for c in result.cases}
    assert wrong == {
        "right": False,
        "other-params": True,
        "plan-where-none": True,
        "refused": False,
        "dropped-clause": False,
    }
    assert result.wrong_plans == 2
    assert (result.split("heldout").total, result.split("heldout").wrong_plans) == (2, 2)
    assert (result.split("dev").matched, result.split("dev").wrong_plans) == (2, 0)
    doc = result.to_document()["summary"]
    assert doc["wrong_plans"] == 2
    assert doc["splits"]["heldout"] == {
        "cases": 2,
        "matched": 0,
        "exact_match": 0.0,
        "wrong_plans": 2,
    }
    assert doc["wrong_by_tag"] == {"distractor": 1, "no-routine": 1}


def test_a_case_expecting_a_reported_clause_needs_that_report() -> None:
    """expect.uncovered: the plan matches only when the planner reports that clause as not
    planned; the report is shown with what the planner did."""
    result = run_eval(
        parse_eval_set(WRONG, source="wrong"),
        context=tiny_context(),
        backend=None,
        check_ungrounded=check_ungrounded,
    )
    case = next(c for c in result.cases if c.case.id == "dropped-clause")
    assert case.match
    assert case.not_planned == ("delete array-02",)
    assert 'not planned: "delete array-02"' in case.got


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("split", "train", "split: expected one of dev, heldout"),
        ("uncovered", "reboot", "expect.uncovered: expected a list of clause texts"),
        ("lab", "compute", "lab: expected one of storage, network"),
    ],
)
def test_a_bad_split_or_uncovered_names_the_case_and_field(
    field: str, value: str, problem: str
) -> None:
    """A split other than dev/heldout, or uncovered that is not a list: InputError naming
    the case and the field."""
    case: dict[str, Any] = {
        "id": "c1",
        "intent": "ping array-01",
        "expect": {"routine": "test.ping_array", "params": {"array": "array-01"}},
        "tags": ["canonical"],
    }
    if field in ("split", "lab"):
        case[field] = value
    else:
        case["expect"]["uncovered"] = value
    with pytest.raises(InputError, match=problem):
        parse_eval_set(yaml.safe_dump({"cases": [case]}), source="s")


def test_the_shipped_set_has_a_held_out_split_and_the_new_classes() -> None:
    """At least 250 cases; a held-out split of at least 30% of the cases added with it;
    negations, questions and injections are there, none of them expecting a write routine."""
    s = load_eval_set(SHIPPED)
    assert len(s.cases) >= 250
    heldout = [c for c in s.cases if c.split == "heldout"]
    assert len(heldout) >= 0.3 * (len(s.cases) - 106)
    for tag in ("negation", "question", "injection", "multi-clause", "key-value"):
        assert any(tag in c.tags for c in s.cases), tag
    for c in s.cases:
        if "negation" in c.tags and "multi-clause" not in c.tags and "excluded" not in c.tags:
            assert c.routine is None or c.routine.endswith("health_check"), c.id
