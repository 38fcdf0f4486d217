"""planactor.plan._refs: finding, parsing and resolving `$ref` and `$input` references."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies
from planactor.plan import (
    BadReference,
    InputRef,
    OutputRef,
    iter_references,
    parse_output_ref,
    resolve,
)

PROPERTY = settings(max_examples=150, deadline=None)

TEXT = st.characters(exclude_categories=("Cs",))
data_keys = st.text(TEXT, max_size=6).filter(lambda k: not k.startswith("$"))
data_values = strategies.json_values(max_text=8, data_keys=True)


def _leaf_paths(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, (*path, i))]
    return [path]


def _put(value: Any, path: tuple[str | int, ...], new: Any) -> Any:
    if not path:
        return new
    target = value
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return value


# --- iter_references ------------------------------------------------------------------------


def test_finds_references_at_nested_locations() -> None:
    """References inside objects and arrays are found, in document order, with their paths."""
    args = {
        "plain": [1, "two", {"three": None}],
        "a": [1, {"$ref": "build.output.image"}],
        "b": {"c": {"$input": "region"}, "d": [[{"$ref": "scan.output"}]]},
    }
    assert list(iter_references(args)) == [
        OutputRef(step="build", path=("image",), text="build.output.image", location=("a", 1)),
        InputRef(name="region", location=("b", "c")),
        OutputRef(step="scan", path=(), text="scan.output", location=("b", "d", 0, 0)),
    ]


def test_locations_start_from_the_given_prefix() -> None:
    """A location passed in is put in front of every reference's own path."""
    refs = list(iter_references({"x": {"$input": "n"}}, ("steps", 2, "args")))
    assert refs == [InputRef(name="n", location=("steps", 2, "args", "x"))]


def test_a_whole_value_can_be_a_reference() -> None:
    """A reference object at the top has the empty location (or the prefix given)."""
    assert list(iter_references({"$input": "n"})) == [InputRef(name="n", location=())]
    assert list(iter_references([{"$input": "n"}], ("when",))) == [
        InputRef(name="n", location=("when", 0))
    ]


@PROPERTY
@given(value=data_values)
def test_plain_data_has_no_references(value: Any) -> None:
    """A JSON value with no '$' keys yields no references at all."""
    assert list(iter_references(value)) == []


@PROPERTY
@given(
    value=st.lists(data_values, min_size=1, max_size=4) | st.dictionaries(data_keys, data_values),
    data=st.data(),
)
def test_finds_every_planted_reference(value: Any, data: st.DataObject) -> None:
    """References planted at any places in any data are all found, each at its own place."""
    places = _leaf_paths(value)
    chosen = (
        data.draw(st.lists(st.sampled_from(places), unique=True), label="places") if places else []
    )
    planted = {}
    for i, place in enumerate(chosen):
        ref = {"$ref": f"s{i}.output.f"} if i % 2 else {"$input": f"in{i}"}
        value = _put(value, place, ref)
        planted[place] = ref
    found = list(iter_references(value))
    assert {r.location for r in found} == set(planted)
    assert len(found) == len(planted)
    for r in found:
        expected = planted[r.location]
        if isinstance(r, OutputRef):
            assert expected == {"$ref": r.text}
        else:
            assert isinstance(r, InputRef)
            assert expected == {"$input": r.name}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"$ref": "build.outputs.image"}, "malformed reference"),
        ({"$ref": "build"}, "malformed reference"),
        ({"$ref": ""}, "malformed reference"),
        ({"$ref": ".output.x"}, "malformed reference"),
        ({"$ref": "build.output..image"}, "empty field name"),
        ({"$ref": "build.output.image."}, "empty field name"),
        ({"$ref": 42}, "must be a string"),
        ({"$ref": ["build", "output"]}, "must be a string"),
        ({"$input": ""}, "must name an input"),
        ({"$input": None}, "must name an input"),
        ({"$ref": "build.output", "note": "x"}, "only its '$ref' key"),
        ({"$input": "n", "$ref": "a.output"}, "only its"),
        ({"label": "x", "$input": "n"}, "only its '$input' key"),
        ({"$secret": "db"}, "unknown reference kind '$secret'"),
        ({"$": "x"}, "unknown reference kind"),
    ],
)
def test_malformed_references_become_bad_references(value: dict[str, Any], reason: str) -> None:
    """Anything shaped like a reference but invalid is reported where it is, with a hint."""
    refs = list(iter_references({"args": [value]}))
    assert len(refs) == 1
    bad = refs[0]
    assert isinstance(bad, BadReference)
    assert reason in bad.reason
    assert bad.hint
    assert bad.location == ("args", 0)


def test_reference_objects_are_not_searched_inside() -> None:
    """What sits inside a reference object (valid or not) is not reported again."""
    refs = list(iter_references({"a": {"$ref": {"$input": "n"}}, "b": {"$x": [{"$input": "m"}]}}))
    assert [type(r) for r in refs] == [BadReference, BadReference]
    assert [r.location for r in refs] == [("a",), ("b",)]


# --- parse_output_ref -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "step", "path"),
    [
        ("build.output", "build", ()),
        ("build.output.image", "build", ("image",)),
        ("scan.output.items.0.name", "scan", ("items", 0, "name")),
        ("scan.output.12", "scan", (12,)),
        ("scan.output.007", "scan", (7,)),
        ("scan.output.-1", "scan", ("-1",)),
        ("scan.output.1a", "scan", ("1a",)),
        ("scan.output.x y", "scan", ("x y",)),
        ("scan.output.²", "scan", ("²",)),
    ],
)
def test_parse_output_ref_splits_step_and_path(
    text: str, step: str, path: tuple[str | int, ...]
) -> None:
    """The step comes first; decimal segments become list indices, the rest stay field names."""
    ref = parse_output_ref(text, ("loc",))
    assert ref == OutputRef(step=step, path=path, text=text, location=("loc",))


@PROPERTY
@given(
    step=st.text(TEXT, min_size=1).filter(lambda s: "." not in s),
    path=st.lists(st.integers(0, 10**6) | st.from_regex(r"[A-Za-z_][\w-]*", fullmatch=True)),
)
def test_parse_output_ref_reads_what_was_written(step: str, path: list[str | int]) -> None:
    """Joining a step, `output` and fields with dots and parsing gives them back."""
    text = ".".join([step, "output", *map(str, path)])
    assert parse_output_ref(text) == OutputRef(step=step, path=tuple(path), text=text)


@PROPERTY
@given(text=st.text(TEXT))
def test_parse_output_ref_never_raises(text: str) -> None:
    """Any text parses to an OutputRef or a BadReference; nothing raises."""
    assert isinstance(parse_output_ref(text), OutputRef | BadReference)


# --- resolve --------------------------------------------------------------------------------

OUTPUTS = {
    "build": {"image": "web:1.2", "tags": ["a", "b"], "meta": {"size": 10, "0": "zero"}},
    "scan": [{"name": "first"}, {"name": "second"}],
    "empty": None,
}
INPUTS = {"region": "eu-west-1", "count": 3, "nothing": None}


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ({"$ref": "build.output"}, OUTPUTS["build"]),
        ({"$ref": "build.output.image"}, "web:1.2"),
        ({"$ref": "build.output.tags.1"}, "b"),
        ({"$ref": "build.output.meta.size"}, 10),
        ({"$ref": "build.output.meta.0"}, "zero"),
        ({"$ref": "scan.output.1.name"}, "second"),
        ({"$ref": "empty.output"}, None),
        ({"$input": "region"}, "eu-west-1"),
        ({"$input": "nothing"}, None),
    ],
)
def test_resolve_follows_fields_and_indices(ref: dict[str, Any], expected: Any) -> None:
    """A reference becomes the output (or the field, or list element) or input it names."""
    assert resolve(ref, outputs=OUTPUTS, inputs=INPUTS) == expected


def test_resolve_substitutes_at_any_depth() -> None:
    """References nested in objects and arrays are replaced; the other data is kept."""
    args = {
        "image": {"$ref": "build.output.image"},
        "targets": [{"region": {"$input": "region"}, "n": {"$input": "count"}}, "literal"],
        "raw": {"keep": [1, None, True]},
    }
    before = copy.deepcopy(args)
    assert resolve(args, outputs=OUTPUTS, inputs=INPUTS) == {
        "image": "web:1.2",
        "targets": [{"region": "eu-west-1", "n": 3}, "literal"],
        "raw": {"keep": [1, None, True]},
    }
    assert args == before


def test_resolved_values_are_not_resolved_again() -> None:
    """An output that itself looks like a reference is data: it is returned as it is."""
    outputs = {"a": {"text": {"$input": "region"}}}
    assert resolve({"$ref": "a.output.text"}, outputs=outputs, inputs=INPUTS) == {
        "$input": "region"
    }


@PROPERTY
@given(value=data_values)
def test_resolve_leaves_plain_data_alone(value: Any) -> None:
    """A value without references resolves to an equal value."""
    assert resolve(value, outputs={}, inputs={}) == value


@pytest.mark.parametrize(
    "ref",
    [
        {"$ref": "deploy.output"},
        {"$ref": "build.output.missing"},
        {"$ref": "build.output.tags.2"},
        {"$ref": "build.output.tags.first"},
        {"$ref": "build.output.image.0"},
        {"$ref": "build.output.meta.size.unit"},
        {"$ref": "empty.output.x"},
        {"$ref": "scan.output.name"},
        {"$input": "zone"},
        {"$ref": "build.outputs.image"},
        {"$input": "region", "other": 1},
        {"$vault": "secret"},
    ],
)
def test_resolve_raises_key_error_for_what_does_not_resolve(ref: dict[str, Any]) -> None:
    """Unknown steps, fields, indices, inputs, and malformed references raise KeyError."""
    with pytest.raises(KeyError):
        resolve({"deep": [ref]}, outputs=OUTPUTS, inputs=INPUTS)
