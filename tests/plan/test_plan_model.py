"""planactor.plan._model: the plan models, their document form and the plan hash."""

from __future__ import annotations

import copy
import json
import math
import re
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import strategies
from planactor.plan import (
    API_VERSION,
    STEP_ID_PATTERN,
    Condition,
    Plan,
    PlannerInfo,
    RetryPolicy,
    Step,
    canonical_json,
    content_hash,
    parse_json,
    requester_problem,
)

PROPERTY = settings(max_examples=150, deadline=None)
PLAN_PROPERTY = settings(max_examples=100, deadline=None)  # a plan takes ~10 ms to draw

# --- strategies -----------------------------------------------------------------------------

TEXT = st.characters(exclude_categories=("Cs",))  # JSON text is Unicode: no lone surrogates
ON_FAILURE = ("compensate", "pause", "continue")
OPS = ("eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "truthy", "falsy")

data_keys = st.text(TEXT, max_size=8).filter(lambda k: not k.startswith("$"))
json_values = strategies.json_values(max_key=8, max_leaves=5, data_keys=True)
LOWER = string.ascii_lowercase
IDENT = string.ascii_letters + string.digits + "_"


def _names(first: str, rest: str, max_size: int) -> st.SearchStrategy[str]:
    return st.builds(str.__add__, st.sampled_from(first), st.text(rest, max_size=max_size))


# Requesters as people and systems write them: letters, digits, punctuation and symbols,
# minus what requester_problem refuses (look-alikes of ASCII names, compatibility forms).
requesters = st.text(
    st.characters(categories=("L", "N", "P", "S")), min_size=1, max_size=10
).filter(lambda t: requester_problem(t) is None)
step_ids = _names(string.ascii_letters, IDENT + "-", 12)
actor_names = st.lists(_names(LOWER, LOWER + string.digits + "_", 6), min_size=2, max_size=3).map(
    ".".join
)
input_names = _names(string.ascii_letters + "_", IDENT, 10)
field_paths = st.lists(st.text(LOWER + string.digits, min_size=1, max_size=4), max_size=3)
RETRY_FIELDS = {
    "attempts": st.integers(1, 100),
    "backoff_s": st.floats(0, 3600),
    "multiplier": st.floats(1, 10),
    "max_backoff_s": st.floats(0, 86400),
}
retry_policies = st.fixed_dictionaries({}, optional=RETRY_FIELDS)
planner_infos = st.fixed_dictionaries(
    {"backend": st.text(TEXT, max_size=10)},
    optional={
        "model": st.none() | st.text(TEXT, max_size=10),
        "prompt_hash": st.none() | st.text(string.hexdigits, max_size=16),
        "attempts": st.integers(0, 10),
        "tokens_in": st.integers(0, 10**6),
        "tokens_out": st.integers(0, 10**6),
        "latency_s": st.floats(0, 1e6),
        "temperature": st.floats(0, 2),  # a field this version does not know
        "notes": json_values,
    },
)


@st.composite
def operands(draw: st.DrawFn, earlier: list[str], inputs: list[str]) -> dict[str, Any]:
    choices = []
    if earlier:
        choices.append(
            st.builds(
                lambda sid, path: {"$ref": ".".join([sid, "output", *path])},
                st.sampled_from(earlier),
                field_paths,
            )
        )
    names = st.sampled_from(inputs) | input_names if inputs else input_names
    choices.append(st.builds(lambda n: {"$input": n}, names))
    return draw(st.one_of(choices))


@st.composite
def conditions(draw: st.DrawFn, earlier: list[str], inputs: list[str]) -> dict[str, Any]:
    cond = draw(operands(earlier, inputs))
    op = draw(st.sampled_from(OPS))
    value = draw(st.lists(json_values, max_size=3) if op in ("in", "not_in") else json_values)
    cond["op"] = op
    if value is not None or draw(st.booleans()):
        cond["value"] = value
    return cond


@st.composite
def plan_documents(draw: st.DrawFn, min_steps: int = 1) -> dict[str, Any]:
    ids = draw(st.lists(step_ids, min_size=min_steps, max_size=4, unique=True))
    names = draw(st.lists(input_names, max_size=2, unique=True))
    steps = []
    for i, sid in enumerate(ids):
        earlier = ids[:i]
        arg_values = json_values | operands(earlier, names) if earlier or names else json_values
        step: dict[str, Any] = {
            "id": sid,
            "actor": draw(actor_names),
            "args": draw(st.dictionaries(data_keys, arg_values, max_size=3)),
        }
        if earlier and draw(st.booleans()):
            step["after"] = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3))
        if draw(st.booleans()):
            step["retry"] = draw(retry_policies)
        if draw(st.booleans()):
            step["timeout_s"] = draw(st.floats(0, 7 * 86400, exclude_min=True))
        if draw(st.booleans()):
            step["on_failure"] = draw(st.sampled_from(ON_FAILURE))
        if draw(st.booleans()):
            step["when"] = draw(conditions(earlier, names))
        steps.append(step)
    doc: dict[str, Any] = {
        "api_version": API_VERSION,
        "intent": draw(st.text(TEXT, min_size=1, max_size=20)),
        "requested_by": draw(requesters),
        "inputs": {n: draw(json_values) for n in names},
        "steps": steps,
    }
    if draw(st.booleans()):
        doc["change_ticket"] = draw(st.text(TEXT, max_size=10))
    if draw(st.booleans()):
        doc["planner"] = draw(planner_infos)
    if draw(st.booleans()):
        doc["origin"] = {
            "routine": draw(actor_names),
            "params": draw(st.dictionaries(data_keys, json_values, max_size=2)),
            "facts": draw(st.dictionaries(data_keys, json_values, max_size=2)),
        }
    return doc


plans = plan_documents().map(Plan.model_validate)


def _plan(*steps: dict[str, Any], **top: Any) -> Plan:
    doc = {"api_version": API_VERSION, "intent": "do it", "requested_by": "ops", **top}
    return Plan.model_validate({**doc, "steps": list(steps)})


def _same_json(a: Any, b: Any) -> bool:
    """Equal as JSON: unlike ==, tells true from 1 and 1 from 1.0."""
    return canonical_json(a) == canonical_json(b)


# --- RetryPolicy ----------------------------------------------------------------------------


def test_delay_before_follows_backoff_then_cap() -> None:
    """The waits grow by the multiplier from backoff_s and stop growing at max_backoff_s."""
    policy = RetryPolicy(attempts=6, backoff_s=1, multiplier=2, max_backoff_s=5)
    assert [policy.delay_before(n) for n in range(1, 7)] == [0.0, 1.0, 2.0, 4.0, 5.0, 5.0]


@pytest.mark.parametrize("attempt", [-3, 0, 1])
def test_no_delay_before_the_first_try(attempt: int) -> None:
    """The first try (or any attempt number below it) starts without waiting."""
    assert RetryPolicy(backoff_s=30).delay_before(attempt) == 0.0


@PROPERTY
@given(policy=retry_policies.map(RetryPolicy.model_validate))
def test_delay_before_is_deterministic_monotonic_and_capped(policy: RetryPolicy) -> None:
    """For every allowed try, the wait is reproducible, never shrinks and never passes the cap."""
    delays = [policy.delay_before(n) for n in range(1, 101)]
    assert delays == [RetryPolicy(**policy.model_dump()).delay_before(n) for n in range(1, 101)]
    assert all(isinstance(d, float) for d in delays)
    assert all(0.0 <= d <= policy.max_backoff_s for d in delays)
    assert delays == sorted(delays)
    assert delays[1] == min(policy.backoff_s, policy.max_backoff_s)


@pytest.mark.parametrize(
    "fields",
    [
        {"attempts": 0},
        {"attempts": 101},
        {"backoff_s": -1},
        {"multiplier": 0.5},
        {"max_backoff_s": 86401},
        {"backoff_s": math.nan},
        {"max_backoff_s": math.inf},
        {"jitter": 0.1},
    ],
)
def test_retry_policy_refuses_out_of_range_fields(fields: dict[str, Any]) -> None:
    """Retry settings outside their bounds, non-finite numbers and unknown fields are refused."""
    with pytest.raises(ValidationError):
        RetryPolicy.model_validate(fields)


# --- Condition ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        {"op": "truthy"},
        {"$ref": "a.output", "$input": "x"},
        {"$input": "x", "op": "in", "value": "abc"},
        {"$input": "x", "op": "not_in"},
        {"$input": "x", "op": "matches", "value": "a"},
        {"$input": "x", "extra": 1},
    ],
    ids=["no-operand", "two-operands", "in-string", "not_in-null", "unknown-op", "extra"],
)
def test_condition_refuses_malformed_tests(doc: dict[str, Any]) -> None:
    """A condition needs exactly one of $ref/$input, a known op, a list for in/not_in."""
    with pytest.raises(ValidationError):
        Condition.model_validate(doc)


def test_condition_reads_its_operand_from_dollar_keys() -> None:
    """`$ref` and `$input` fill `ref` and `input`, and the document writes them back."""
    by_ref = Condition.model_validate({"$ref": "a.output.x", "op": "eq", "value": 3})
    by_input = Condition.model_validate({"$input": "flag"})
    assert (by_ref.ref, by_ref.input) == ("a.output.x", None)
    assert (by_input.ref, by_input.input, by_input.op) == (None, "flag", "truthy")
    assert by_ref.to_document() == {"$ref": "a.output.x", "op": "eq", "value": 3}
    assert by_input.to_document() == {"$input": "flag", "op": "truthy"}


def _holds(op: str, value: Any, subject: Any) -> bool:
    return Condition.model_validate({"$input": "x", "op": op, "value": value}).holds(subject)


@pytest.mark.parametrize(
    ("op", "value", "subject", "expected"),
    [
        ("truthy", None, "yes", True),
        ("truthy", None, "", False),
        ("truthy", None, [], False),
        ("falsy", None, 0, True),
        ("falsy", None, {"a": 1}, False),
        ("eq", "prod", "prod", True),
        ("eq", "prod", "dev", False),
        ("eq", {"a": [1]}, {"a": [1]}, True),
        ("eq", None, None, True),
        ("ne", "prod", "dev", True),
        ("ne", 3, 3, False),
        ("in", ["a", "b"], "b", True),
        ("in", ["a", "b"], "c", False),
        ("in", [[1], [2]], [2], True),
        ("not_in", ["a", "b"], "c", True),
        ("not_in", ["a", "b"], "a", False),
        ("lt", 10, 3, True),
        ("lt", 3, 3, False),
        ("le", 3, 3, True),
        ("le", 2.5, 3, False),
        ("gt", "abc", "abd", True),
        ("gt", 3, 3, False),
        ("ge", 3, 3, True),
        ("ge", 4, 3, False),
    ],
)
def test_holds_applies_each_operator(op: str, value: Any, subject: Any, expected: bool) -> None:
    """Each operator compares the subject (left) with the value (right) as documented."""
    assert _holds(op, value, subject) is expected


@pytest.mark.parametrize("op", ["lt", "le", "gt", "ge"])
@pytest.mark.parametrize(
    ("value", "subject"),
    [(1, "a"), ("a", 1), (0, None), (None, None), ({"a": 1}, {"a": 1}), (["a"], [1])],
)
def test_ordering_of_incomparable_values_is_false(op: str, value: Any, subject: Any) -> None:
    """lt/le/gt/ge on values that cannot be ordered is False, not an exception."""
    assert _holds(op, value, subject) is False


@PROPERTY
@given(subject=json_values, value=json_values)
def test_negated_operators_are_complements(subject: Any, value: Any) -> None:
    """ne is the negation of eq, falsy of truthy, and not_in of in, for any JSON values."""
    assert _holds("ne", value, subject) is not _holds("eq", value, subject)
    assert _holds("falsy", value, subject) is not _holds("truthy", value, subject)
    assert _holds("not_in", [value], subject) is not _holds("in", [value], subject)


@PROPERTY
@given(
    a=st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    b=st.integers() | st.floats(allow_nan=False, allow_infinity=False),
)
def test_ordering_operators_agree_with_numbers(a: float, b: float) -> None:
    """On numbers, lt/le/gt/ge compare subject against value like arithmetic does."""
    results = [_holds(op, b, a) for op in ("lt", "le", "gt", "ge")]
    assert results == [a < b, a <= b, a > b, a >= b]


# --- Step -----------------------------------------------------------------------------------


@pytest.mark.parametrize("step_id", ["a", "Z", "build-1", "a_b-C9", "x" * 128])
def test_step_accepts_ids_matching_the_pattern(step_id: str) -> None:
    """Ids start with a letter and continue with letters, digits, '_' or '-', up to 128."""
    assert re.fullmatch(STEP_ID_PATTERN, step_id)
    assert Step(id=step_id, actor="core.echo").id == step_id


@pytest.mark.parametrize(
    "step_id", ["", "a.b", "1a", "_a", "-a", "a b", "a\n", "é", "a/b", "x" * 129]
)
def test_step_refuses_ids_off_the_pattern(step_id: str) -> None:
    """Dots (the reference separator), empty ids, bad first characters and overlong ids fail."""
    with pytest.raises(ValidationError):
        Step(id=step_id, actor="core.echo")


@pytest.mark.parametrize(
    "doc",
    [
        {"id": "a", "actor": "core.echo", "depends_on": ["b"]},
        {"id": "a", "actor": ""},
        {"id": "a", "actor": "core.echo", "timeout_s": 0},
        {"id": "a", "actor": "core.echo", "timeout_s": 7 * 86400 + 1},
        {"id": "a", "actor": "core.echo", "on_failure": "retry"},
        {"id": "a", "actor": "core.echo", "retry": {"attempts": 2, "delay": 1}},
    ],
    ids=["extra-field", "empty-actor", "zero-timeout", "long-timeout", "bad-policy", "retry-extra"],
)
def test_step_refuses_bad_fields(doc: dict[str, Any]) -> None:
    """Unknown fields (also nested), an empty actor, bad timeouts and policies are refused."""
    with pytest.raises(ValidationError):
        Step.model_validate(doc)


def test_step_defaults() -> None:
    """A bare step has no args, no `after`, no retry override, no timeout and pauses on failure."""
    step = Step(id="a", actor="core.echo")
    assert (step.args, step.after, step.retry, step.timeout_s, step.when) == (
        {},
        [],
        None,
        None,
        None,
    )
    assert step.on_failure == "pause"


def test_step_document_omits_unset_optionals_but_keeps_nulls_in_args() -> None:
    """retry/timeout_s/when are left out when unset; a null argument value stays."""
    step = Step(id="a", actor="core.echo", args={"message": None, "list": [None]})
    assert step.to_document() == {
        "id": "a",
        "actor": "core.echo",
        "args": {"message": None, "list": [None]},
        "after": [],
        "on_failure": "pause",
    }


def test_step_document_writes_set_optionals() -> None:
    """A retry policy is written in full, and timeout and condition are written when set."""
    step = Step.model_validate(
        {
            "id": "b",
            "actor": "core.echo",
            "after": ["a"],
            "retry": {"attempts": 3},
            "timeout_s": 30,
            "when": {"$input": "go"},
        }
    )
    doc = step.to_document()
    assert doc["retry"] == RetryPolicy(attempts=3).model_dump()
    assert doc["timeout_s"] == 30.0
    assert doc["when"] == {"$input": "go", "op": "truthy"}
    assert doc["after"] == ["a"]


# --- non-finite numbers ---------------------------------------------------------------------

_NON_FINITE_SPOTS = [
    ("steps", 0, "args", "x"),
    ("steps", 0, "args", "x", 1, "deep"),
    ("inputs", "n"),
    ("inputs", "n", 0),
    ("steps", 0, "when", "value"),
    ("steps", 0, "when", "value", 0),
    ("steps", 0, "timeout_s"),
    ("steps", 0, "retry", "backoff_s"),
]


def _doc_with(spot: tuple[str | int, ...], bad: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "api_version": API_VERSION,
        "intent": "i",
        "requested_by": "r",
        "inputs": {"n": [1]},
        "steps": [
            {
                "id": "a",
                "actor": "core.echo",
                "args": {"x": [0, {"deep": 1}]},
                "when": {"$input": "n", "op": "in", "value": [1]},
                "retry": {},
                "timeout_s": 1,
            }
        ],
    }
    target = doc
    for part in spot[:-1]:
        target = target[part]
    target[spot[-1]] = bad
    return doc


@pytest.mark.parametrize("spot", _NON_FINITE_SPOTS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_plan_refuses_non_finite_numbers(spot: tuple[str | int, ...], bad: float) -> None:
    """NaN and infinities are refused anywhere in a plan given as Python data."""
    with pytest.raises(ValidationError):
        Plan.model_validate(_doc_with(spot, bad))


@pytest.mark.parametrize("spot", _NON_FINITE_SPOTS)
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_plan_refuses_non_finite_numbers_in_json_text(
    spot: tuple[str | int, ...], literal: str
) -> None:
    """Parsing JSON text refuses NaN and infinities too, even inside free-form args and inputs."""
    text = json.dumps(_doc_with(spot, "@BAD@")).replace('"@BAD@"', literal)
    with pytest.raises(ValidationError):
        Plan.model_validate_json(text)


# --- Plan -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "top",
    [
        {"api_version": "planactor/v2"},
        {"intent": ""},
        {"requested_by": ""},
        {"steps": None},
        {"inputs": []},
        {"owner": "me"},
    ],
    ids=["api-version", "empty-intent", "empty-requester", "no-steps", "inputs-list", "extra"],
)
def test_plan_refuses_bad_top_level_fields(top: dict[str, Any]) -> None:
    """Only planactor/v1, a non-empty intent and requester, and known fields are accepted."""
    doc = {"api_version": API_VERSION, "intent": "i", "requested_by": "r", "steps": [], **top}
    with pytest.raises(ValidationError):
        Plan.model_validate({k: v for k, v in doc.items() if v is not None})


@pytest.mark.parametrize(
    ("requester", "said"),
    [
        ("\u0430lice", "spells 'alice' with look-alike letters (U+0430 CYRILLIC SMALL LETTER A)"),
        ("\uff41lice", "compatibility character U+FF41 FULLWIDTH LATIN SMALL LETTER A"),
        ("alice ", "starts or ends with a space"),
        (" alice", "starts or ends with a space"),
        ("alice\u200b", "invisible or control character U+200B ZERO WIDTH SPACE"),
        ("alice\n", "invisible or control character U+000A LINE FEED"),
        ("al\u00a0ice", "whitespace character U+00A0 NO-BREAK SPACE"),
        ("\u202eecila", "invisible or control character U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\u0430\u04cf\u0456\u0441\u0435", "spells 'alice' with look-alike letters"),
        ("\u13aalice", "spells 'Alice' with look-alike letters (U+13AA CHEROKEE LETTER GO)"),
        ("Ivan \u0418\u0432\u0430\u043d\u043e\u0432", "mixes Latin letters with Cyrillic ones"),
    ],
    ids=["cyrillic-a", "fullwidth", "trailing", "leading", "zero-width", "newline", "nbsp",
         "bidi", "all-cyrillic", "cherokee", "mixed-scripts"],
)  # fmt: skip
def test_a_requester_that_only_looks_like_a_name_is_refused(requester: str, said: str) -> None:
    """`requested_by` is refused, naming the field and the character, when it would read as a
    name it is not: look-alike letters, Latin mixed with a look-alike script, compatibility
    forms, invisible or control characters, surrounding space (separation of duties compares
    it with approver names)."""
    with pytest.raises(ValidationError) as e:
        _plan(requested_by=requester)
    (error,) = e.value.errors(include_url=False)
    assert error["loc"] == ("requested_by",)
    assert said in error["msg"]


@pytest.mark.parametrize(
    "requester", ["alice", "Alice", "ops team", "tests/engine/crash_child.py", "José", "Иван"]
)
def test_a_requester_may_be_any_readable_name(requester: str) -> None:
    """People and systems keep free-text requesters: capitals, spaces, paths, accents, and
    other scripts that do not imitate an ASCII name."""
    assert _plan(requested_by=requester).requested_by == requester


def test_a_plan_without_origin_hashes_as_before() -> None:
    """`origin` enters the hashed content only when present: older plans keep their hash."""
    plan = _plan({"id": "a", "actor": "core.echo"})
    assert "origin" not in plan.content()
    assert plan.hash == content_hash(
        {
            "api_version": API_VERSION,
            "intent": "do it",
            "requested_by": "ops",
            "change_ticket": None,
            "inputs": {},
            "steps": [plan.steps[0].to_document()],
        }
    )


def test_the_origin_is_hashed_and_written() -> None:
    """A plan's origin is part of its content and document, and changing it changes the hash."""
    origin = {"routine": "storage.move_host", "params": {"host": "h1"}, "facts": {"n": 2}}
    plan = _plan({"id": "a", "actor": "core.echo"}, origin=origin)
    assert plan.content()["origin"] == plan.to_document()["origin"] == origin
    edited = _plan({"id": "a", "actor": "core.echo"}, origin={**origin, "params": {"host": "h2"}})
    stripped = _plan({"id": "a", "actor": "core.echo"})
    assert len({plan.hash, edited.hash, stripped.hash}) == 3
    assert Plan.model_validate(plan.to_document()) == plan


def test_planner_info_keeps_fields_it_does_not_know() -> None:
    """Planner metadata from a newer planner is kept and written back, not refused."""
    plan = _plan(planner={"backend": "llama", "temperature": 0.2})
    assert plan.planner is not None
    assert plan.to_document()["planner"] == {
        **PlannerInfo(backend="llama").model_dump(),
        "temperature": 0.2,
    }


def test_step_lookup_by_id() -> None:
    """Plan.step returns the step with that id and raises KeyError for an unknown one."""
    plan = _plan({"id": "a", "actor": "core.echo"}, {"id": "b", "actor": "core.read"})
    assert plan.step("b") is plan.steps[1]
    assert plan.step("a") is plan.steps[0]
    with pytest.raises(KeyError):
        plan.step("c")


def test_plan_document_omits_unset_optionals() -> None:
    """No change_ticket or planner key when unset; inputs and nulls in them are kept."""
    plan = _plan({"id": "a", "actor": "core.echo"}, inputs={"n": None})
    doc = plan.to_document()
    assert "change_ticket" not in doc
    assert "planner" not in doc
    assert doc["inputs"] == {"n": None}
    assert Plan.model_validate(doc) == plan


def test_hash_content_keeps_an_unset_change_ticket() -> None:
    """content() lists change_ticket even when null, and never lists the planner."""
    plan = _plan({"id": "a", "actor": "core.echo"}, planner={"backend": "b"})
    content = plan.content()
    assert "change_ticket" in content
    assert content["change_ticket"] is None
    assert "planner" not in content


def test_hash_is_a_sha256_digest() -> None:
    """The plan hash reads `sha256:` followed by 64 lowercase hex digits."""
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", _plan({"id": "a", "actor": "core.echo"}).hash)


@PLAN_PROPERTY
@given(plan=plans)
def test_document_round_trips_through_json_text(plan: Plan) -> None:
    """Any valid plan, written as JSON and read back, gives the same document and hash."""
    again = Plan.model_validate_json(json.dumps(plan.to_document(), indent=2))
    assert _same_json(again.to_document(), plan.to_document())
    assert again.hash == plan.hash
    assert again == plan


@PLAN_PROPERTY
@given(plan=plans)
def test_saving_is_a_fixed_point(plan: Plan) -> None:
    """Loading a saved plan and saving it again writes the same bytes and keeps the hash."""

    def save(p: Plan) -> str:
        return json.dumps(p.to_document(), indent=2, ensure_ascii=False) + "\n"

    first = save(plan)
    loaded = Plan.model_validate_json(first.encode())
    assert save(loaded) == first
    assert loaded.hash == plan.hash


@PLAN_PROPERTY
@given(plan=plans)
def test_strict_parser_and_pydantic_parser_agree(plan: Plan) -> None:
    """Reading saved text with parse_json or with pydantic's JSON parser gives one plan."""
    text = json.dumps(plan.to_document(), indent=2, ensure_ascii=False)
    via_parse_json = Plan.model_validate(parse_json(text))
    via_pydantic = Plan.model_validate_json(text)
    assert via_parse_json.hash == via_pydantic.hash == plan.hash
    assert _same_json(via_parse_json.to_document(), via_pydantic.to_document())


@PLAN_PROPERTY
@given(plan=plans, planner=st.none() | planner_infos)
def test_planner_metadata_never_changes_the_hash(plan: Plan, planner: Any) -> None:
    """Replacing, adding or removing planner metadata leaves the hash as it was."""
    doc = plan.to_document()
    doc.pop("planner", None)
    if planner is not None:
        doc["planner"] = planner
    assert Plan.model_validate(doc).hash == plan.hash


def _change(doc: dict[str, Any], what: str, i: int) -> None:
    """Change one behaviour-defining field of a plan document (step `i`) to a new value."""
    step = doc["steps"][i]

    def longer_than(keys: Any) -> str:  # a key no existing key can equal
        return "_" + "".join(keys)

    match what:
        case "intent" | "requested_by":
            doc[what] += "!"
        case "change_ticket":
            doc["change_ticket"] = None if "change_ticket" in doc else "CHG-1"
        case "inputs":
            name = next(iter(doc["inputs"]), None)
            if name is None:
                doc["inputs"][longer_than(doc["inputs"])] = 0
            else:
                doc["inputs"][name] = [doc["inputs"][name]]
        case "args":
            key = next(iter(step["args"]), None)
            if key is None:
                step["args"][longer_than(step["args"])] = 0
            else:
                step["args"][key] = [step["args"][key]]
        case "after":
            if step["after"]:
                step["after"].pop()
            else:
                step["after"].append("z")
        case "on_failure":
            step["on_failure"] = next(o for o in ON_FAILURE if o != step["on_failure"])
        case "actor":
            step["actor"] += "x"
        case "retry":
            attempts = step.get("retry", {}).get("attempts", 1)
            step["retry"] = {"attempts": attempts % 100 + 1}
        case "timeout_s":
            step["timeout_s"] = None if "timeout_s" in step else 1.0
        case "when":
            step["when"] = None if "when" in step else {"$input": "x"}
        case "origin":
            if "origin" in doc:
                doc["origin"]["params"][longer_than(doc["origin"]["params"])] = 0
            else:
                doc["origin"] = {"routine": "some.routine", "params": {}, "facts": {}}
        case "step order":
            doc["steps"].reverse()
        case _:
            raise AssertionError(what)


CHANGES = [
    "intent",
    "requested_by",
    "change_ticket",
    "inputs",
    "args",
    "after",
    "on_failure",
    "actor",
    "retry",
    "timeout_s",
    "when",
    "origin",
]


@PLAN_PROPERTY
@given(plan=plans, data=st.data())
def test_behaviour_fields_change_the_hash(plan: Plan, data: st.DataObject) -> None:
    """Changing the intent, requester, ticket, inputs, origin, any step field or step order:
    new hash."""
    doc = plan.to_document()
    what = data.draw(st.sampled_from(CHANGES + ["step order"] * (len(plan.steps) > 1)))
    i = data.draw(st.integers(0, len(doc["steps"]) - 1), label="step")
    changed = copy.deepcopy(doc)
    _change(changed, what, i)
    assert Plan.model_validate(changed).hash != plan.hash


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_planner_metadata_refuses_non_finite_numbers(bad: float) -> None:
    """Planner metadata with an infinite latency is refused: it could not be saved as JSON."""
    with pytest.raises(ValidationError):
        PlannerInfo(backend="local", latency_s=bad)
