"""Properties of `validate`: anything in, a structured report out; `ok` means runnable."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import strategies
from planactor import Catalog, Plan, Problem, ValidationReport, validate
from planactor.plan import topological_order

CATALOG = Catalog.discover()
SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = strategies.json_values(max_text=20, max_key=12, max_size=5, max_leaves=25)

EDGES = [
    {"source": "a", "target": "b", "weight": 1.0},
    {"source": "b", "target": "c", "weight": 2.5},
    {"source": "a", "target": "c", "weight": 5},
    {"source": "c", "target": "d"},
]
BASE: dict[str, Any] = {
    "api_version": "planactor/v1",
    "intent": "find a route from a to d and report it",
    "requested_by": "alice",
    "change_ticket": "CHG-7",
    "inputs": {"fabric": EDGES, "pause": 0.01, "greeting": "hello"},
    "steps": [
        {"id": "hello", "actor": "core.echo", "args": {"message": {"$input": "greeting"}}},
        {
            "id": "route",
            "actor": "graph.shortest_path",
            "args": {"edges": {"$input": "fabric"}, "source": "a", "target": "d"},
            "retry": {"attempts": 2, "backoff_s": 0.5},
            "timeout_s": 5,
        },
        {
            "id": "wait",
            "actor": "core.sleep",
            "args": {"seconds": {"$input": "pause"}},
            "after": ["hello"],
        },
        {
            "id": "first",
            "actor": "core.echo",
            "args": {
                "message": {"$ref": "route.output.path.0"},
                "value": {"$ref": "route.output.distance"},
            },
            "when": {"$ref": "route.output.reachable"},
        },
        {
            "id": "hops",
            "actor": "core.echo",
            "args": {
                "message": {"$ref": "hello.output.message"},
                "value": {"$ref": "route.output.hops"},
            },
            "after": ["wait"],
            "on_failure": "continue",
        },
        {
            "id": "done",
            "actor": "core.echo",
            "args": {
                "message": "done",
                "value": [{"$ref": "first.output"}, {"$ref": "hops.output.value"}],
            },
            "after": ["first", "hops"],
        },
    ],
}
STEP_IDS = [s["id"] for s in BASE["steps"]]
ACTORS = ["core.echo", "core.sleep", "graph.shortest_path", "core.ecko", "graph", "x.y"]
FIELDS = ["message", "value", "path", "path.0", "distance", "hops", "reachable", "slept_s", "x"]


def assert_structured(report: ValidationReport) -> None:
    assert isinstance(report, ValidationReport)
    for p in report.problems:
        assert isinstance(p, Problem)
        assert isinstance(p.code, str)
        assert p.code
        assert isinstance(p.location, str)
        assert p.location
        assert isinstance(p.message, str)
        assert p.message
        assert p.severity in ("error", "warning")
    json.dumps(report.to_document())
    if report.ok:
        assert report.plan_hash is not None


# -- (a) anything in, a structured report out -----------------------------------------------


@SETTINGS
@given(json_values)
def test_any_json_value_gets_a_structured_report(value: Any) -> None:
    """Any JSON value, as a Python value or as text, gets a report and never an exception."""
    report = validate(value, catalog=CATALOG)
    assert_structured(report)
    if not isinstance(value, str):  # a str is read as JSON text, not as a JSON string
        assert validate(json.dumps(value), catalog=CATALOG) == report


plan_like = st.fixed_dictionaries(
    {},
    optional={
        "api_version": st.just("planactor/v1") | json_values,
        "intent": st.text(max_size=5) | json_values,
        "requested_by": st.just("alice") | json_values,
        "inputs": st.dictionaries(st.sampled_from(["a", "b", "$x", ""]), json_values) | json_values,
        "steps": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "id": st.sampled_from(STEP_IDS) | json_values,
                    "actor": st.sampled_from(ACTORS) | json_values,
                    "args": st.dictionaries(st.sampled_from(FIELDS), json_values) | json_values,
                    "after": st.lists(st.sampled_from(STEP_IDS)) | json_values,
                    "when": json_values,
                    "retry": json_values,
                    "on_failure": st.sampled_from(["pause", "continue", "retry"]) | json_values,
                },
            )
            | json_values,
            max_size=4,
        )
        | json_values,
        "stpes": json_values,
    },
)


@SETTINGS
@given(plan_like)
def test_any_plan_shaped_object_gets_a_structured_report(doc: dict[str, Any]) -> None:
    """Objects with plan-like keys and arbitrary values get a structured report."""
    assert_structured(validate(doc, catalog=CATALOG))


@SETTINGS
@given(st.text(st.characters(exclude_categories=[])) | st.text(min_size=1).map(json.dumps))
def test_any_text_gets_a_structured_report(text: str) -> None:
    """Any text, lone surrogates included, gets a report and never an exception."""
    assert_structured(validate(text, catalog=CATALOG))


@SETTINGS
@given(st.binary())
def test_any_bytes_get_a_structured_report(data: bytes) -> None:
    """Any bytes get a report and never an exception."""
    assert_structured(validate(data, catalog=CATALOG))


# -- (b) mutations of a valid plan ----------------------------------------------------------


def test_the_base_plan_is_valid() -> None:
    """The plan the mutations start from is valid, so every problem comes from a mutation."""
    report = validate(BASE, catalog=CATALOG)
    assert report.problems == ()


_paths = strategies.json_paths


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


def _steps(doc: dict[str, Any]) -> list[Any] | None:
    steps = doc.get("steps")
    return steps if isinstance(steps, list) and steps else None


ref_texts = st.builds(
    lambda s, f: f"{s}.output" + (f".{f}" if f else ""),
    st.sampled_from([*STEP_IDS, "zz", ""]),
    st.sampled_from(["", *FIELDS]),
) | st.text(max_size=15)
ref_objects = st.builds(lambda t: {"$ref": t}, ref_texts) | st.builds(
    lambda t: {"$input": t}, st.sampled_from(["fabric", "pause", "greeting", "nope"]) | st.text()
)


KINDS = [
    "delete",
    "replace",
    "rename",
    "duplicate",
    "shuffle",
    "reference",
    "actor",
    "leaf",
    "leaf",
]
# Leaves that name things: changing them is not a data edit.
NAMING = {"id", "actor", "$ref", "$input", "api_version", "on_failure", "op", "after"}
SAME_TYPE = {
    str: st.text(max_size=8),
    int: st.integers(-3, 10**6),
    float: st.floats(-1e6, 1e6, allow_nan=False),
    bool: st.booleans(),
}


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """BASE after one to three random edits: most break it, some (`leaf`) often do not."""
    doc: dict[str, Any] = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(KINDS))
        paths = [p for p in _paths(doc) if p]
        steps = _steps(doc)
        if kind == "delete":
            keyed = [p for p in paths if isinstance(_parent(doc, p), dict)]
            if keyed:
                path = draw(st.sampled_from(keyed))
                del _parent(doc, path)[path[-1]]
        elif kind == "replace" and paths:
            path = draw(st.sampled_from(paths))
            _parent(doc, path)[path[-1]] = draw(json_values)
        elif kind == "leaf":
            # The same JSON type at a leaf: an edit that may well keep the plan valid.
            leaves = [
                p
                for p in paths
                if type(_parent(doc, p)[p[-1]]) in SAME_TYPE and not NAMING & set(p[-2:])
            ]
            if leaves:
                path = draw(st.sampled_from(leaves))
                old = _parent(doc, path)[path[-1]]
                _parent(doc, path)[path[-1]] = draw(SAME_TYPE[type(old)])
        elif kind == "reference" and paths:
            path = draw(st.sampled_from(paths))
            _parent(doc, path)[path[-1]] = draw(ref_objects)
        elif steps is not None:
            i = draw(st.integers(0, len(steps) - 1))
            if kind == "shuffle":
                doc["steps"] = draw(st.permutations(steps))
            elif kind == "duplicate":
                steps.insert(draw(st.integers(0, len(steps))), copy.deepcopy(steps[i]))
            elif isinstance(steps[i], dict) and kind == "rename":
                steps[i]["id"] = draw(st.sampled_from(STEP_IDS) | st.text(max_size=5))
            elif isinstance(steps[i], dict) and kind == "actor":
                steps[i]["actor"] = draw(st.sampled_from(ACTORS) | st.text(max_size=12))
    note(json.dumps(doc))
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_plans_get_a_structured_report_and_ok_means_runnable(doc: dict[str, Any]) -> None:
    """For any mutation of a valid plan: a structured report; if ok, the plan parses and orders."""
    report = validate(doc, catalog=CATALOG)
    assert_structured(report)
    assert validate(json.dumps(doc), catalog=CATALOG) == report
    if report.ok:
        plan = Plan.model_validate(doc)
        assert report.plan_hash == plan.hash
        order = topological_order(plan)
        assert sorted(order) == sorted(s.id for s in plan.steps)
