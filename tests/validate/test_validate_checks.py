"""`planactor.validate.validate`: every check, each with its code, location and hint."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from planactor import Catalog, Inventory, Limits, Plan, Problem, ValidationReport, actor, entity
from planactor.actors.core import echo
from planactor.actors.graph import shortest_path
from planactor.catalog import ActorContext
from planactor.validate import Policy, validate

# -- a small storage catalog ----------------------------------------------------------------


class Controller(BaseModel):
    name: str
    online: bool
    ports: list[str]


class ArrayRef(BaseModel):
    # No `extra` setting: pydantic ignores unknown keys, the validator must not.
    array: str = entity("array")


class ArrayInfo(BaseModel):
    name: str
    capacity_gb: float
    free_gb: int
    online: bool
    controllers: list[Controller]
    latency_ms: float | None = None
    labels: dict[str, str] = Field(default_factory=dict)


@actor(name="store.describe_array", effect="read")
def describe_array(args: ArrayRef) -> ArrayInfo:
    """Describe one storage array."""
    return ArrayInfo(name=args.array, capacity_gb=100.0, free_gb=40, online=True, controllers=[])


class VolumeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    replicas: int = Field(ge=1)
    thin: bool = True
    tier: str = "gold"


class CreateVolumeInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    array: str = entity("array")
    name: str = Field(description="Volume name, unique on the array.")
    size_gb: float = Field(gt=0)
    spec: VolumeSpec
    hosts: list[str] = Field(default_factory=list)


class Volume(BaseModel):
    volume_id: str
    wwn: str
    size_gb: float


@actor(name="store.create_volume", effect="write", compensate="store.delete_volume")
def create_volume(args: CreateVolumeInput, ctx: ActorContext) -> Volume:
    """Create a volume (undone by store.delete_volume)."""
    return Volume(volume_id=f"{args.array}/{args.name}", wwn="wwn", size_gb=args.size_gb)


class DeleteVolumeInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    array: str = entity("array")
    volume_id: str


class Deleted(BaseModel):
    deleted: bool


@actor(name="store.delete_volume", effect="write", irreversible=True)
def delete_volume(args: DeleteVolumeInput) -> Deleted:
    """Delete a volume and its data: cannot be undone."""
    return Deleted(deleted=True)


class CostInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size_gb: float
    replicas: int = 1
    thin: bool = True
    tier: str = "gold"


class Cost(BaseModel):
    monthly: float
    currency: str


@actor(name="store.estimate_cost", effect="read")
def estimate_cost(args: CostInput) -> Cost:
    """Estimate what a volume costs per month."""
    return Cost(monthly=args.size_gb * 0.1, currency="EUR")


class AuditInput(BaseModel):
    model_config = ConfigDict(extra="allow")
    arrays: list[str] = entity("array")


class Findings(BaseModel):
    findings: list[str]


@actor(name="store.audit", effect="read")
def audit(args: AuditInput) -> Findings:
    """Audit several arrays; takes extra options as given."""
    return Findings(findings=[])


CATALOG = Catalog(
    [describe_array, create_volume, delete_volume, estimate_cost, audit, echo, shortest_path]
)
INVENTORY = Inventory.from_mapping({"array": ["array-01", "array-02"], "host": ["esx-1"]})
ARRAY_FIELDS = "capacity_gb, controllers, free_gb, labels, latency_ms, name, online"

# -- helpers --------------------------------------------------------------------------------


def step(
    sid: str, actor_name: str, args: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    return {"id": sid, "actor": actor_name, "args": args or {}, **kw}


def plan(*steps: dict[str, Any], **top: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "api_version": "planactor/v1",
        "intent": "add a volume for the ledger database",
        "requested_by": "alice",
        "steps": list(steps),
    }
    doc.update(top)
    return doc


def describe(sid: str = "describe", array: Any = "array-01") -> dict[str, Any]:
    return step(sid, "store.describe_array", {"array": array})


def create_args(**override: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "array": "array-01",
        "name": "ledger",
        "size_gb": 50,
        "spec": {"replicas": 2},
    }
    args.update(override)
    return args


def ref(text: str) -> dict[str, str]:
    return {"$ref": text}


def check(doc: Any, **kw: Any) -> ValidationReport:
    return validate(doc, catalog=CATALOG, **kw)


def only(report: ValidationReport, code: str) -> Problem:
    found = [p for p in report.problems if p.code == code]
    assert len(found) == 1, [str(p) for p in report.problems]
    return found[0]


def where(report: ValidationReport) -> list[tuple[str, str]]:
    return [(p.code, p.location) for p in report.problems]


def valid_plan() -> dict[str, Any]:
    return plan(
        describe(),
        step(
            "create",
            "store.create_volume",
            create_args(size_gb=ref("describe.output.free_gb"), hosts=["esx-1"]),
            on_failure="compensate",
        ),
        step(
            "cost",
            "store.estimate_cost",
            {"size_gb": ref("create.output.size_gb"), "replicas": {"$input": "replicas"}},
            when={"$ref": "describe.output.online"},
        ),
        step("report", "core.echo", {"message": ref("create.output.volume_id")}, after=["cost"]),
        inputs={"replicas": 2},
    )


# -- the document: syntax, shape, limits ----------------------------------------------------


def test_a_valid_plan_has_no_problems() -> None:
    """A plan using refs, inputs, `when` and `after` correctly yields an empty, ok report."""
    report = check(valid_plan(), inventory=INVENTORY)
    assert report.problems == ()
    assert report.ok
    assert report.step_count == 4


def test_valid_plan_hash_is_the_plan_hash() -> None:
    """The report of a valid plan carries `Plan.hash` of the same document."""
    doc = valid_plan()
    assert check(doc).plan_hash == Plan.model_validate(doc).hash


def test_structurally_broken_plan_has_no_hash() -> None:
    """A plan that does not parse as a whole has no hash in its report."""
    report = check(plan(step("a.b", "core.echo", {"message": "hi"})))
    assert not report.ok
    assert report.plan_hash is None


def _forms(doc: dict[str, Any]) -> list[Any]:
    text = json.dumps(doc)
    return [text, text.encode(), doc, Plan.model_validate(doc)]


@pytest.mark.parametrize(
    "doc",
    [
        valid_plan(),
        plan(
            describe(),
            step("echo", "core.echo", {"message": ref("describe.output.nme")}, after=["zz"]),
            step("echo", "store.nope", {}),
        ),
    ],
    ids=["valid", "invalid"],
)
def test_text_bytes_mapping_and_plan_give_the_same_report(doc: dict[str, Any]) -> None:
    """validate accepts str, bytes, a dict and a Plan, and answers the same for each."""
    reports = [check(form) for form in _forms(doc)]
    assert all(r == reports[0] for r in reports)
    assert reports[0].plan_hash is not None


def test_validate_does_not_modify_the_mapping() -> None:
    """The mapping passed in is left exactly as it was."""
    doc = valid_plan()
    doc["steps"].append(step("bad", "core.echo", {"message": 5, "x": {"$input": "nope"}}))
    before = copy.deepcopy(doc)
    check(doc, inventory=INVENTORY)
    assert doc == before


def test_json_syntax_error_gives_line_and_column() -> None:
    """Text that is not JSON is one json-syntax problem with its line and column."""
    text = '{\n  "api_version": "planactor/v1",\n  "intent": ,\n  "steps": []\n}'
    report = check(text)
    problem = only(report, "json-syntax")
    assert (problem.location, problem.line, problem.column) == ("$", 3, 13)
    assert problem.hint
    assert report.codes() == ["json-syntax"]
    assert report.plan_hash is None


def test_bytes_that_are_not_utf8_are_a_syntax_error() -> None:
    """Bytes that do not decode as UTF-8 are reported, not raised."""
    problem = only(check(b'{"intent": "\xff"}'), "json-syntax")
    assert "UTF-8" in problem.message


def test_json_duplicate_key_names_its_path() -> None:
    """The same key twice in one object is refused with the JSON path of that key."""
    text = json.dumps(plan(step("a", "core.echo", {"message": "hi"})))
    text = text.replace('"id": "a"', '"id": "a", "id": "b"')
    problem = only(check(text), "json-duplicate-key")
    assert problem.location == "steps[0].id"
    assert problem.hint


def test_lone_surrogate_is_a_syntax_error_not_a_duplicate_key() -> None:
    """A lone surrogate escape is refused as json-syntax at its path, never as a duplicate."""
    text = json.dumps(plan(step("a", "core.echo", {"message": "hi"}))).replace(
        "add a volume", "\\ud800 volume"
    )
    report = check(text)
    assert where(report) == [("json-syntax", "intent")]
    assert "surrogate" in report.problems[0].message


def test_text_with_a_raw_lone_surrogate_is_reported_not_raised() -> None:
    """A Python str holding an unencodable surrogate is an answer, not a UnicodeError."""
    text = json.dumps(plan(step("a", "core.echo", {"message": "hi"})), ensure_ascii=False)
    report = check(text.replace("alice", "ali\ud800ce"))
    assert report.codes() == ["json-syntax"]


@pytest.mark.parametrize(
    ("value", "kind"),
    [("[]", "list"), ("[1, 2]", "list"), ("42", "int"), ("4.5", "float"), ("null", "NoneType")],
)
def test_a_document_that_is_not_an_object_is_refused(value: str, kind: str) -> None:
    """Arrays, numbers and null are not plans: one not-an-object problem at `$`."""
    for form in (value, json.loads(value)):
        report = check(form)
        problem = only(report, "not-an-object")
        assert problem.location == "$"
        assert kind in problem.message
        assert problem.hint
        assert report.codes() == ["not-an-object"]


@pytest.mark.parametrize(
    "bad",
    [{1, 2}, float("nan"), float("inf"), object()],
    ids=["set", "nan", "inf", "object"],
)
def test_a_mapping_holding_non_json_values_is_not_json(bad: Any) -> None:
    """A dict with values JSON cannot hold is one not-json problem, not an exception."""
    doc = plan(step("a", "core.echo", {"message": "hi", "value": bad}))
    report = check(doc)
    assert where(report) == [("not-json", "$")]


def test_a_mapping_nested_too_deep_for_json_is_not_json() -> None:
    """A dict nested deeper than the JSON encoder goes is reported instead of recursing out."""
    deep: Any = 1
    for _ in range(5_000):
        deep = [deep]
    report = check(plan(step("a", "core.echo", {"message": "hi", "value": deep})))
    assert report.codes() == ["not-json"]


@pytest.mark.parametrize("form", ["str", "bytes", "mapping"])
def test_too_large(form: str) -> None:
    """A plan over max_bytes is refused with too-large, whether text, bytes or a mapping."""
    doc = plan(step("a", "core.echo", {"message": "x" * 300}))
    value = {"str": json.dumps(doc), "bytes": json.dumps(doc).encode(), "mapping": doc}[form]
    report = check(value, limits=Limits(max_bytes=200))
    problem = only(report, "too-large")
    assert problem.location == "$"
    assert "200" in problem.message
    assert problem.hint
    assert report.codes() == ["too-large"]
    assert check(value, limits=Limits(max_bytes=10_000)).ok


def test_too_large_counts_utf8_bytes_of_text() -> None:
    """The size of a str is its UTF-8 length: 'é' counts twice."""
    text = json.dumps(plan(step("a", "core.echo", {"message": "é" * 400})), ensure_ascii=False)
    limit = len(text) + 100  # more characters than the text has, fewer bytes
    assert check(text, limits=Limits(max_bytes=limit)).codes() == ["too-large"]


def test_too_large_is_checked_before_syntax() -> None:
    """Limits come first: oversized garbage is too-large, not a syntax error."""
    assert check("{" * 500, limits=Limits(max_bytes=100)).codes() == ["too-large"]


def test_too_many_steps_with_custom_limits() -> None:
    """More steps than Limits.max_steps is one too-many-steps problem at `steps`."""
    steps = [step(f"s{i}", "core.echo", {"message": "hi"}) for i in range(4)]
    report = check(plan(*steps), limits=Limits(max_steps=3))
    problem = only(report, "too-many-steps")
    assert problem.location == "steps"
    assert "4 steps" in problem.message
    assert "3" in problem.message
    assert problem.hint
    assert report.codes() == ["too-many-steps"]
    assert check(plan(*steps[:3]), limits=Limits(max_steps=3)).ok


def test_too_many_steps_comes_before_step_errors() -> None:
    """Over the step limit, the steps themselves are not examined."""
    steps = [step("s", "nope.nope", {}) for _ in range(5)]
    assert check(plan(*steps), limits=Limits(max_steps=2)).codes() == ["too-many-steps"]


# -- the plan's own structure ---------------------------------------------------------------


def test_api_version() -> None:
    """Another api_version is api-version at `api_version`, naming the supported one."""
    report = check(plan(step("a", "core.echo", {"message": "hi"}), api_version="planactor/v2"))
    problem = only(report, "api-version")
    assert problem.location == "api_version"
    assert "planactor/v2" in problem.message
    assert problem.hint is not None
    assert "planactor/v1" in problem.hint


def test_missing_api_version_is_a_missing_field() -> None:
    """Without api_version the problem says the field is missing, not 'unsupported {...}'."""
    doc = plan(step("a", "core.echo", {"message": "hi"}))
    del doc["api_version"]
    report = check(doc)
    problem = only(report, "missing-field")
    assert problem.location == "api_version"
    assert "api-version" not in report.codes()


def test_missing_top_level_field() -> None:
    """A missing required top-level field is missing-field at its name."""
    doc = plan(step("a", "core.echo", {"message": "hi"}))
    del doc["requested_by"]
    assert where(check(doc)) == [("missing-field", "requested_by")]


def test_missing_step_field_names_the_step() -> None:
    """A step without `actor` is missing-field at `steps[i].actor`, tagged with the step id."""
    report = check(plan(step("a", "core.echo", {"message": "hi"}), {"id": "b", "args": {}}))
    problem = only(report, "missing-field")
    assert problem.location == "steps[1].actor"
    assert problem.step == "b"


def test_missing_steps() -> None:
    """A plan without `steps` is missing-field at `steps`, with a hint."""
    doc = plan()
    del doc["steps"]
    problem = only(check(doc), "missing-field")
    assert problem.location == "steps"
    assert problem.hint


def test_unknown_top_level_field_suggests_the_right_one() -> None:
    """`stpes` is unknown-field with a did-you-mean 'steps' (and steps is missing)."""
    doc = plan(stpes=[step("a", "core.echo", {"message": "hi"})])
    del doc["steps"]
    report = check(doc)
    problem = only(report, "unknown-field")
    assert problem.location == "stpes"
    assert problem.hint == "did you mean 'steps'?"
    assert ("missing-field", "steps") in where(report)


def test_unknown_step_field_suggests_a_step_field() -> None:
    """An unknown key in a step is unknown-field at its path, suggesting the step's fields."""
    report = check(plan(step("a", "core.echo", {"message": "hi"}, aftr=[])))
    problem = only(report, "unknown-field")
    assert problem.location == "steps[0].aftr"
    assert problem.hint is not None
    assert problem.hint.startswith("did you mean 'after'")
    assert problem.step == "a"


def test_unknown_retry_field_suggests_a_retry_field() -> None:
    """A typo inside `retry` is matched against the retry policy's fields, not the plan's."""
    report = check(plan(step("a", "core.echo", {"message": "hi"}, retry={"attemps": 2})))
    problem = only(report, "unknown-field")
    assert problem.location == "steps[0].retry.attemps"
    assert problem.hint == "did you mean 'attempts'?"


def test_unknown_condition_field_suggests_a_condition_field() -> None:
    """A typo inside `when` is matched against the condition's keys, `$ref` included."""
    doc = plan(describe(), step("b", "core.echo", {"message": "hi"}, when={"$reff": "x.output"}))
    problem = only(check(doc), "unknown-field")
    assert problem.location == 'steps[1].when["$reff"]'
    assert problem.hint == "did you mean '$ref'?"


@pytest.mark.parametrize(
    ("doc", "location"),
    [
        (plan(intent=["a", "list"]), "intent"),
        ({**plan(), "steps": "all of them"}, "steps"),
        (plan(step("a", "core.echo", {"message": "hi"}, after="b")), "steps[0].after"),
        (plan(step("a", "core.echo", "message")), "steps[0].args"),
        (plan(["a", "core.echo"]), "steps[0]"),
        (plan(step("a", "core.echo", {"message": "hi"}, timeout_s=[5])), "steps[0].timeout_s"),
    ],
    ids=["intent", "steps", "after", "args", "step", "timeout"],
)
def test_wrong_type(doc: dict[str, Any], location: str) -> None:
    """A field of the wrong JSON type is wrong-type at its path."""
    report = check(doc)
    assert ("wrong-type", location) in where(report)
    assert not report.ok


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "has.dot"), ("on_failure", "retry"), ("timeout_s", -1), ("retry", {"attempts": 0})],
)
def test_invalid_value(field: str, value: Any) -> None:
    """A value of the right type but outside what the format allows is invalid-value."""
    bad = step("a", "core.echo", {"message": "hi"})
    bad[field] = value
    report = check(plan(step("ok", "core.echo", {"message": "hi"}), bad))
    location = "steps[1].retry.attempts" if field == "retry" else f"steps[1].{field}"
    assert where(report) == [("invalid-value", location)]


def test_structure_errors_do_not_hide_other_steps() -> None:
    """One malformed step is reported and the others are still checked in full."""
    report = check(
        plan(
            step("a", "core.echo", {"message": "hi"}, on_failure="sometimes"),
            step("b", "core.ecco", {"message": "hi"}),
        )
    )
    assert where(report) == [
        ("invalid-value", "steps[0].on_failure"),
        ("unknown-actor", "steps[1].actor"),
    ]


def test_references_to_a_malformed_step_are_not_unknown() -> None:
    """A step that fails to parse still exists: refs and `after` to it are not unknown-step."""
    report = check(
        plan(
            step("a", "core.echo", {"message": "hi"}, on_failure="sometimes"),
            step("b", "core.echo", {"message": ref("a.output.message")}, after=["a"]),
        )
    )
    assert report.codes() == ["invalid-value"]


def test_empty_plan() -> None:
    """A plan with no steps is empty-plan at `steps`, with a hint."""
    report = check(plan())
    problem = only(report, "empty-plan")
    assert problem.location == "steps"
    assert problem.hint
    assert report.codes() == ["empty-plan"]


def test_duplicate_step_id() -> None:
    """The second use of an id is duplicate-step-id at its `id`, naming the first."""
    report = check(
        plan(
            step("a", "core.echo", {"message": "hi"}),
            step("b", "core.echo", {"message": "hi"}),
            step("a", "core.echo", {"message": "again"}),
        )
    )
    problem = only(report, "duplicate-step-id")
    assert problem.location == "steps[2].id"
    assert "steps[0]" in problem.message
    assert problem.hint
    assert problem.step == "a"


# -- actors and arguments -------------------------------------------------------------------


def test_unknown_actor_suggests_close_names() -> None:
    """An actor not in the catalog is unknown-actor at `steps[i].actor`, with a did-you-mean."""
    report = check(plan(step("d", "store.describe_aray", {"array": "array-01"})))
    problem = only(report, "unknown-actor")
    assert problem.location == "steps[0].actor"
    assert problem.hint == "did you mean 'store.describe_array'?"
    assert problem.step == "d"
    assert report.codes() == ["unknown-actor"]


def test_unknown_actor_without_close_name_points_to_the_catalog() -> None:
    """With nothing close, the hint tells how to list the catalog."""
    problem = only(check(plan(step("d", "zzz.qqq", {}))), "unknown-actor")
    assert problem.hint is not None
    assert "planactor actors" in problem.hint


def test_args_missing_uses_the_field_description_as_hint() -> None:
    """A required argument left out is args-missing at its path; the hint describes it."""
    args = create_args()
    del args["name"]
    problem = only(check(plan(step("c", "store.create_volume", args))), "args-missing")
    assert problem.location == "steps[0].args.name"
    assert problem.hint == "Volume name, unique on the array."
    assert "'name'" in problem.message


def test_args_missing_inside_a_nested_model() -> None:
    """A required field of a nested argument is args-missing at its nested path."""
    report = check(plan(step("c", "store.create_volume", create_args(spec={"thin": False}))))
    problem = only(report, "args-missing")
    assert problem.location == "steps[0].args.spec.replicas"
    assert "spec.replicas" in problem.message


def test_args_unknown_suggests_a_close_argument() -> None:
    """An argument the input model does not have is args-unknown, once, with a did-you-mean."""
    report = check(plan(step("c", "store.create_volume", create_args(sise_gb=5))))
    problem = only(report, "args-unknown")
    assert problem.location == "steps[0].args.sise_gb"
    assert problem.hint == "did you mean 'size_gb'?"
    assert report.codes() == ["args-unknown"]


def test_args_unknown_even_when_the_model_ignores_extras() -> None:
    """A model that silently drops extra keys still gets them reported as args-unknown."""
    report = check(plan(step("d", "store.describe_array", {"array": "array-01", "verbose": 1})))
    problem = only(report, "args-unknown")
    assert problem.location == "steps[0].args.verbose"
    assert problem.hint == "it takes: array"


def test_extra_arguments_pass_when_the_model_allows_them() -> None:
    """An input model with extra='allow' takes any extra argument."""
    assert check(plan(step("a", "store.audit", {"arrays": ["array-01"], "deep": True}))).ok


@pytest.mark.parametrize(
    ("args", "location"),
    [
        (create_args(size_gb="big"), "steps[0].args.size_gb"),
        (create_args(size_gb=0), "steps[0].args.size_gb"),
        (create_args(spec={"replicas": "many"}), "steps[0].args.spec.replicas"),
        (create_args(spec={"replicas": 1, "tier": 3}), "steps[0].args.spec.tier"),
        (create_args(hosts=["esx-1", 7]), "steps[0].args.hosts[1]"),
        (create_args(hosts="esx-1"), "steps[0].args.hosts"),
        (create_args(spec={"replicas": 1, "mirror": True}), "steps[0].args.spec.mirror"),
    ],
    ids=["str-for-float", "range", "nested-int", "nested-str", "list-item", "list", "nested-extra"],
)
def test_args_invalid(args: dict[str, Any], location: str) -> None:
    """An argument of the wrong type or range is args-invalid at its path, with a hint."""
    report = check(plan(step("c", "store.create_volume", args)))
    problem = only(report, "args-invalid")
    assert problem.location == location
    assert problem.hint == "see `planactor actors show store.create_volume`"
    assert report.codes() == ["args-invalid"]


def test_args_of_an_unknown_actor_are_not_checked() -> None:
    """Without an actor there is no input model: only unknown-actor is reported."""
    assert check(plan(step("x", "store.nope", {"anything": 1}))).codes() == ["unknown-actor"]


# -- references -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        ref("describe.outputs.name"),
        ref("describe"),
        ref(".output.name"),
        ref("describe.output..name"),
        ref("describe.output.name."),
        {"$ref": 5},
        {"$ref": "describe.output.name", "note": "x"},
        {"$refs": "describe.output.name"},
        {"$input": ""},
        {"$input": 3},
    ],
    ids=[
        "outputs",
        "no-output",
        "no-step",
        "double-dot",
        "trailing-dot",
        "not-str",
        "extra-key",
        "unknown-kind",
        "empty-input",
        "input-not-str",
    ],
)
def test_ref_malformed(value: dict[str, Any]) -> None:
    """Something shaped like a reference that is not one is ref-malformed where it stands."""
    report = check(plan(describe(), step("e", "core.echo", {"message": "m", "value": value})))
    problem = only(report, "ref-malformed")
    assert problem.location == "steps[1].args.value"
    assert problem.hint
    assert problem.step == "e"


def test_ref_unknown_step_suggests_a_close_id() -> None:
    """A reference to a step that does not exist is ref-unknown-step, with a did-you-mean."""
    report = check(plan(describe(), step("e", "core.echo", {"message": ref("discribe.output")})))
    problem = only(report, "ref-unknown-step")
    assert problem.location == "steps[1].args.message"
    assert problem.hint == "did you mean 'describe'?"
    assert report.codes() == ["ref-unknown-step"]


def test_ref_unknown_field_lists_the_output_fields() -> None:
    """A reference to an output field the actor lacks names the fields it has."""
    report = check(
        plan(describe(), step("e", "core.echo", {"message": ref("describe.output.nme")}))
    )
    problem = only(report, "ref-unknown-field")
    assert problem.location == "steps[1].args.message"
    assert problem.hint == f"its output fields are: {ARRAY_FIELDS}"
    assert "'nme'" in problem.message


@pytest.mark.parametrize(
    "path",
    ["controllers.x", "controllers.0.nope", "name.0", "free_gb.x", "controllers.0.ports.first"],
)
def test_ref_unknown_field_deep_in_the_output(path: str) -> None:
    """A path that cannot exist in the output's schema, at any depth, is ref-unknown-field."""
    doc = plan(
        describe(),
        step("e", "core.echo", {"message": "m", "value": ref(f"describe.output.{path}")}),
    )
    problem = only(check(doc), "ref-unknown-field")
    assert problem.location == "steps[1].args.value"


@pytest.mark.parametrize(
    "path",
    ["name", "controllers.0.name", "controllers.3.ports.0", "labels.site", "labels.2024"],
)
def test_ref_into_nested_fields_lists_and_maps(path: str) -> None:
    """References may walk into nested models, list indices and map keys (digit keys too)."""
    doc = plan(describe(), step("e", "core.echo", {"message": ref(f"describe.output.{path}")}))
    assert check(doc).problems == ()


def route() -> dict[str, Any]:
    edges = [{"source": "a", "target": "b"}, {"source": "b", "target": "c", "weight": 2}]
    return step("route", "graph.shortest_path", {"edges": edges, "source": "a", "target": "c"})


def test_ref_into_a_list_index_of_an_output() -> None:
    """`route.output.path.0` is an item of a list of strings: fine for a string argument."""
    doc = plan(route(), step("first", "core.echo", {"message": ref("route.output.path.0")}))
    assert check(doc).problems == ()


def test_ref_into_a_list_index_is_type_checked() -> None:
    """The item type of a list output is checked: a path node is no number."""
    doc = plan(
        route(), step("cost", "store.estimate_cost", {"size_gb": ref("route.output.path.0")})
    )
    problem = only(check(doc), "ref-type-mismatch")
    assert problem.location == "steps[1].args.size_gb"


def test_ref_type_mismatch_string_into_number() -> None:
    """A string output feeding a number argument is ref-type-mismatch naming both types."""
    doc = plan(
        describe(), step("cost", "store.estimate_cost", {"size_gb": ref("describe.output.name")})
    )
    report = check(doc)
    problem = only(report, "ref-type-mismatch")
    assert problem.location == "steps[1].args.size_gb"
    assert "string" in problem.message
    assert "number" in problem.message
    assert problem.hint
    assert report.codes() == ["ref-type-mismatch"]


@pytest.mark.parametrize(
    ("arg", "path"),
    [("size_gb", "free_gb"), ("replicas", "free_gb"), ("size_gb", "latency_ms"), ("tier", "name")],
    ids=["integer-into-number", "integer-into-integer", "nullable-into-number", "str-into-str"],
)
def test_compatible_refs_pass(arg: str, path: str) -> None:
    """Integer into number, nullable into non-null and same-type references are accepted."""
    args = {"size_gb": 1, arg: ref(f"describe.output.{path}")}
    doc = plan(describe(), step("cost", "store.estimate_cost", args))
    assert check(doc).problems == ()


@pytest.mark.parametrize(
    ("arg", "path"),
    [("tier", "online"), ("thin", "free_gb"), ("tier", ""), ("replicas", "controllers")],
    ids=["bool-into-str", "int-into-bool", "object-into-str", "array-into-int"],
)
def test_incompatible_refs_are_refused(arg: str, path: str) -> None:
    """Booleans, objects and arrays do not fit string, boolean or integer arguments."""
    text = "describe.output" + (f".{path}" if path else "")
    doc = plan(describe(), step("cost", "store.estimate_cost", {"size_gb": 1, arg: ref(text)}))
    problem = only(check(doc), "ref-type-mismatch")
    assert problem.location == f"steps[1].args.{arg}"


def test_ref_type_is_checked_at_nested_and_list_argument_positions() -> None:
    """A reference deep in the arguments is checked against the schema at that position."""
    args = create_args(
        spec={"replicas": ref("describe.output.name")}, hosts=[ref("describe.output.free_gb")]
    )
    report = check(plan(describe(), step("c", "store.create_volume", args)))
    assert where(report) == [
        ("ref-type-mismatch", "steps[1].args.spec.replicas"),
        ("ref-type-mismatch", "steps[1].args.hosts[0]"),
    ]


def test_ref_into_an_any_argument_is_accepted() -> None:
    """A reference into an argument of any JSON type (echo's value) accepts every output."""
    doc = plan(
        describe(), step("e", "core.echo", {"message": "m", "value": ref("describe.output")})
    )
    assert check(doc).ok


# -- inputs ---------------------------------------------------------------------------------


def test_input_undeclared_suggests_a_declared_input() -> None:
    """`$input` naming an undeclared input is input-undeclared, with a did-you-mean."""
    doc = plan(
        step("cost", "store.estimate_cost", {"size_gb": {"$input": "sise"}}), inputs={"size": 10}
    )
    problem = only(check(doc), "input-undeclared")
    assert problem.location == "steps[0].args.size_gb"
    assert problem.hint == "did you mean 'size'?"


def test_input_undeclared_without_inputs_says_to_declare_it() -> None:
    """With no inputs at all, the hint says to add the input."""
    doc = plan(step("cost", "store.estimate_cost", {"size_gb": {"$input": "size"}}))
    problem = only(check(doc), "input-undeclared")
    assert problem.hint == "add 'size' to the plan's inputs"


def test_input_unused_is_a_warning() -> None:
    """A declared input no step uses is a warning at `inputs.NAME`; the plan stays ok."""
    doc = plan(
        step("cost", "store.estimate_cost", {"size_gb": {"$input": "size"}}),
        inputs={"size": 10, "spare": 1},
    )
    report = check(doc)
    problem = only(report, "input-unused")
    assert problem.location == "inputs.spare"
    assert problem.severity == "warning"
    assert problem.hint
    assert report.ok
    assert report.errors == ()
    assert report.plan_hash == Plan.model_validate(doc).hash


def test_input_values_are_type_checked_against_the_actor() -> None:
    """A declared input of the wrong type for the argument it feeds is args-invalid there."""
    doc = plan(
        step("cost", "store.estimate_cost", {"size_gb": {"$input": "size"}}),
        inputs={"size": "ten"},
    )
    problem = only(check(doc), "args-invalid")
    assert problem.location == "steps[0].args.size_gb"


def test_input_values_fill_nested_arguments() -> None:
    """An input holding a whole nested argument is validated like a literal one."""
    args = create_args(spec={"$input": "spec"})
    good = plan(step("c", "store.create_volume", args), inputs={"spec": {"replicas": 3}})
    bad = plan(step("c", "store.create_volume", args), inputs={"spec": {"replicas": 0}})
    assert check(good).ok
    assert where(check(bad)) == [("args-invalid", "steps[0].args.spec.replicas")]


# -- dependencies ---------------------------------------------------------------------------


def test_after_unknown_step_suggests_a_close_id() -> None:
    """`after` naming a missing step is after-unknown-step at `after[j]`, with a did-you-mean."""
    report = check(plan(describe(), step("e", "core.echo", {"message": "hi"}, after=["describ"])))
    problem = only(report, "after-unknown-step")
    assert problem.location == "steps[1].after[0]"
    assert problem.hint == "did you mean 'describe'?"


def test_after_later_step() -> None:
    """`after` naming a step listed later is after-later-step, with a hint to reorder."""
    report = check(
        plan(
            step("a", "core.echo", {"message": "hi"}, after=["b"]),
            step("b", "core.echo", {"message": "hi"}),
        )
    )
    problem = only(report, "after-later-step")
    assert problem.location == "steps[0].after[0]"
    assert "steps[1]" in problem.message
    assert problem.hint
    assert report.codes() == ["after-later-step"]


def test_ref_later_step() -> None:
    """A reference to a step listed later is ref-later-step at the reference."""
    report = check(
        plan(step("e", "core.echo", {"message": ref("describe.output.name")}), describe())
    )
    problem = only(report, "ref-later-step")
    assert problem.location == "steps[0].args.message"
    assert problem.hint


def test_self_loop_is_a_cycle() -> None:
    """A step that waits for itself is one cycle problem, named 'a -> a'."""
    report = check(plan(step("a", "core.echo", {"message": "hi"}, after=["a"])))
    problem = only(report, "cycle")
    assert problem.location == "steps[0]"
    assert problem.message == "dependency cycle: a -> a"
    assert problem.hint
    assert report.codes() == ["cycle"]


def test_two_step_cycle_is_named_once() -> None:
    """Two steps waiting for each other are one cycle 'a -> b -> a', not a later-step too."""
    report = check(
        plan(
            step("a", "core.echo", {"message": ref("b.output.message")}),
            step("b", "core.echo", {"message": "hi"}, after=["a"]),
        )
    )
    problem = only(report, "cycle")
    assert problem.message == "dependency cycle: a -> b -> a"
    assert problem.location == "steps[0]"
    assert report.codes() == ["cycle"]


def test_three_step_cycle() -> None:
    """A three-step loop is named in full."""
    report = check(
        plan(
            step("a", "core.echo", {"message": "hi"}, after=["c"]),
            step("b", "core.echo", {"message": "hi"}, after=["a"]),
            step("c", "core.echo", {"message": ref("b.output.message")}),
        )
    )
    assert where(report) == [("cycle", "steps[0]")]
    assert report.problems[0].message == "dependency cycle: a -> c -> b -> a"


def test_two_separate_cycles_are_both_reported() -> None:
    """Independent cycles are each reported, each naming its own steps."""
    report = check(
        plan(
            step("a", "core.echo", {"message": "hi"}, after=["b"]),
            step("b", "core.echo", {"message": "hi"}, after=["a"]),
            step("c", "core.echo", {"message": "hi"}),
            step("x", "core.echo", {"message": "hi"}, after=["y", "c"]),
            step("y", "core.echo", {"message": "hi"}, after=["x"]),
        )
    )
    messages = sorted(p.message for p in report.problems if p.code == "cycle")
    assert messages == ["dependency cycle: a -> b -> a", "dependency cycle: x -> y -> x"]
    assert report.codes() == ["cycle", "cycle"]


def test_a_later_step_outside_a_cycle_is_still_reported() -> None:
    """Next to a cycle, an ordinary dependency on a later step is still refused."""
    report = check(
        plan(
            step("a", "core.echo", {"message": "hi"}, after=["a", "z"]),
            step("z", "core.echo", {"message": "hi"}),
        )
    )
    assert sorted(report.codes()) == ["after-later-step", "cycle"]


# -- effects, inventory, conditions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("actor_name", "args"),
    [
        ("store.create_volume", create_args()),
        ("store.delete_volume", {"array": "array-01", "volume_id": "v1"}),
    ],
    ids=["compensated", "irreversible"],
)
def test_write_continue(actor_name: str, args: dict[str, Any]) -> None:
    """A write step (compensated or irreversible) may not use on_failure: continue."""
    report = check(plan(step("w", actor_name, args, on_failure="continue")))
    problem = only(report, "write-continue")
    assert problem.location == "steps[0].on_failure"
    assert problem.hint
    assert problem.step == "w"
    assert report.codes() == ["write-continue"]


def test_read_step_may_continue() -> None:
    """on_failure: continue is fine for a read step."""
    assert check(plan(describe() | {"on_failure": "continue"})).ok


def test_unknown_entity_with_an_inventory() -> None:
    """With an inventory, an entity argument naming no known entity is unknown-entity."""
    report = check(plan(describe(array="array-09")), inventory=INVENTORY)
    problem = only(report, "unknown-entity")
    assert problem.location == "steps[0].args.array"
    # Equally close names come in a fixed order (difflib breaks ties by the name).
    assert problem.hint == "did you mean 'array-02', 'array-01'?"
    assert "array-09" in problem.message


def test_unknown_entity_in_a_list_points_at_the_item() -> None:
    """Each name in a list-of-entities argument is checked, located by its index."""
    report = check(
        plan(step("a", "store.audit", {"arrays": ["array-01", "zz"]})), inventory=INVENTORY
    )
    problem = only(report, "unknown-entity")
    assert problem.location == "steps[0].args.arrays[1]"
    assert problem.hint == "known: array-01, array-02"


def test_unknown_entity_through_an_input() -> None:
    """An entity given through `$input` is checked with the value of that input."""
    args = {"array": {"$input": "target"}}
    doc = plan(step("d", "store.describe_array", args), inputs={"target": "array-77"})
    assert where(check(doc, inventory=INVENTORY)) == [("unknown-entity", "steps[0].args.array")]


def test_entities_are_not_checked_without_knowledge() -> None:
    """No inventory, or an inventory without that kind, means no unknown-entity."""
    doc = plan(describe(array="array-09"))
    assert check(doc).ok
    assert check(doc, inventory=Inventory.from_mapping({"host": ["esx-1"]})).ok
    assert not check(doc, inventory=INVENTORY).ok


def test_entity_from_a_reference_is_not_checked() -> None:
    """A reference is only known at run time: it is not looked up in the inventory."""
    doc = plan(describe(), describe("again", array=ref("describe.output.name")))
    assert check(doc, inventory=INVENTORY).ok


def test_when_refs_are_checked() -> None:
    """References in `when` are checked for unknown steps, fields and inputs."""
    report = check(
        plan(
            describe(),
            step("b", "core.echo", {"message": "hi"}, when={"$ref": "zz.output.online"}),
            step("c", "core.echo", {"message": "hi"}, when={"$ref": "describe.output.onlin"}),
            step("d", "core.echo", {"message": "hi"}, when={"$input": "go"}),
            step("e", "core.echo", {"message": "hi"}, when={"$ref": "describe"}),
        )
    )
    assert where(report) == [
        ("ref-unknown-step", 'steps[1].when["$ref"]'),
        ("ref-unknown-field", 'steps[2].when["$ref"]'),
        ("input-undeclared", 'steps[3].when["$input"]'),
        ("ref-malformed", 'steps[4].when["$ref"]'),
    ]


def test_when_ref_to_a_later_step() -> None:
    """A `when` on a later step's output is a dependency on a later step."""
    doc = plan(
        step("b", "core.echo", {"message": "hi"}, when={"$ref": "describe.output.online"}),
        describe(),
    )
    assert where(check(doc)) == [("ref-later-step", 'steps[0].when["$ref"]')]


def test_when_operands_are_not_type_checked() -> None:
    """A `when` operand is compared, not passed on: any output type is fine."""
    doc = plan(
        describe(),
        step(
            "b",
            "core.echo",
            {"message": "hi"},
            when={"$ref": "describe.output.name", "op": "eq", "value": 3},
        ),
    )
    assert check(doc).ok


def test_when_input_counts_as_used() -> None:
    """An input read only by a `when` is used: no input-unused warning."""
    doc = plan(
        step("b", "core.echo", {"message": "hi"}, when={"$input": "go"}), inputs={"go": True}
    )
    assert check(doc).problems == ()


# -- policy ---------------------------------------------------------------------------------


class NeedsTicket:
    """A policy that wants a change ticket on every plan with a write step."""

    def __init__(self) -> None:
        self.seen: list[tuple[Plan, Catalog, Inventory | None]] = []

    def check(
        self, plan: Plan, *, catalog: Catalog, inventory: Inventory | None
    ) -> Iterable[Problem]:
        self.seen.append((plan, catalog, inventory))
        writes = [s for s in plan.steps if catalog.get(s.actor).effect == "write"]
        if writes and plan.change_ticket is None:
            yield Problem(
                code="policy-ticket",
                location="change_ticket",
                message="a plan that writes needs a change ticket",
                hint="add change_ticket",
            )


class Broken:
    def check(
        self, plan: Plan, *, catalog: Catalog, inventory: Inventory | None
    ) -> Iterable[Problem]:
        raise RuntimeError("rules file is corrupt")


def test_policy_problems_are_added_to_a_valid_plan() -> None:
    """A policy sees the parsed plan, catalog and inventory; its problems join the report."""
    policy = NeedsTicket()
    assert isinstance(policy, Policy)
    report = check(valid_plan(), inventory=INVENTORY, policy=policy)
    assert where(report) == [("policy-ticket", "change_ticket")]
    assert not report.ok
    [(seen_plan, seen_catalog, seen_inventory)] = policy.seen
    assert seen_plan.hash == report.plan_hash
    assert (seen_catalog, seen_inventory) == (CATALOG, INVENTORY)
    assert check(valid_plan() | {"change_ticket": "CHG-1"}, policy=policy).ok


def test_policy_is_not_consulted_when_there_are_errors() -> None:
    """A plan with errors is not shown to the policy: only its own errors are reported."""
    policy = NeedsTicket()
    doc = valid_plan()
    doc["steps"][0]["actor"] = "store.describe_aray"
    report = check(doc, policy=policy)
    assert policy.seen == []
    assert "policy-ticket" not in report.codes()


def test_policy_runs_despite_warnings() -> None:
    """Warnings do not stop the policy."""
    policy = NeedsTicket()
    doc = valid_plan()
    doc["inputs"]["unused"] = 1
    assert check(doc, policy=policy).codes() == ["input-unused", "policy-ticket"]


def test_a_policy_that_raises_is_a_policy_error() -> None:
    """A policy that raises becomes a policy-error problem: the plan does not pass."""
    report = check(valid_plan(), policy=Broken())
    problem = only(report, "policy-error")
    assert problem.location == "$"
    assert "Broken" in problem.message
    assert "rules file is corrupt" in problem.message
    assert not report.ok


# -- everything at once ---------------------------------------------------------------------


def test_all_problems_are_reported_at_once() -> None:
    """Five different mistakes in one plan give five problems, each at its own place."""
    report = check(
        plan(
            describe(array="array-09"),
            step("typo", "store.describe_aray", {"array": "array-01"}),
            step("c", "store.create_volume", create_args(size_gb="big"), on_failure="continue"),
            step("e", "core.echo", {"message": ref("describe.output.nme")}, after=["ghost"]),
        ),
        inventory=INVENTORY,
    )
    assert where(report) == [
        ("unknown-entity", "steps[0].args.array"),
        ("unknown-actor", "steps[1].actor"),
        ("write-continue", "steps[2].on_failure"),
        ("args-invalid", "steps[2].args.size_gb"),
        ("after-unknown-step", "steps[3].after[0]"),
        ("ref-unknown-field", "steps[3].args.message"),
    ]
    assert len(report.errors) == 6


def test_every_problem_is_complete() -> None:
    """Each problem found carries a code, a location, a message and its step when it has one."""
    report = check(
        plan(
            describe(),
            step("e", "core.echo", {"message": ref("describe.output.nme")}, after=["ghost"]),
            step("e", "core.echo", {"message": 1}),
        ),
        inventory=INVENTORY,
    )
    assert sorted(report.codes()) == [
        "after-unknown-step",
        "duplicate-step-id",
        "ref-unknown-field",
    ]
    for problem in report.problems:
        assert problem.code
        assert problem.location
        assert problem.message
        assert problem.step == "e"


class _UnionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: int | list[int]


class _UnionOutput(BaseModel):
    y: int = 0


@actor(name="union.take", effect="read")
def _union_take(args: _UnionInput) -> _UnionOutput:
    return _UnionOutput()


@pytest.mark.parametrize(
    ("value", "locations"),
    [("zz", {"steps[0].args.x"}), ([1, "q"], {"steps[0].args.x", "steps[0].args.x[1]"})],
)
def test_union_members_do_not_leak_into_locations(value: Any, locations: set[str]) -> None:
    """A union argument's errors point at places in the document, not at pydantic's tags."""
    doc = {
        "api_version": "planactor/v1",
        "intent": "i",
        "requested_by": "r",
        "steps": [{"id": "a", "actor": "union.take", "args": {"x": value}}],
    }
    report = validate(doc, catalog=Catalog([_union_take]))
    assert {p.location for p in report.errors} == locations
    assert {p.code for p in report.errors} == {"args-invalid"}


def test_structure_errors_inside_args_point_at_the_value() -> None:
    """A non-JSON value nested in args is reported at the step's args, without type tags."""
    doc = {
        "api_version": "planactor/v1",
        "intent": "i",
        "requested_by": "r",
        "steps": [{"id": "a", "actor": "core.echo", "args": {"message": "m", "value": {1, 2}}}],
    }
    report = validate(doc, catalog=Catalog([echo]))
    assert report.codes() == ["not-json"]


@pytest.mark.parametrize("value", [(1, 2), {"nested": {1: "int key"}}])
def test_python_mappings_still_refuse_values_json_would_rewrite(value: Any) -> None:
    """A tuple or an int key from Python code is refused, though json.dumps would coerce it."""
    doc = {
        "api_version": "planactor/v1",
        "intent": "i",
        "requested_by": "r",
        "steps": [{"id": "a", "actor": "core.echo", "args": {"message": "m", "value": value}}],
    }
    report = validate(doc, catalog=Catalog([echo]))
    assert not report.ok
    assert any(p.location.startswith("steps[0].args") for p in report.errors)
