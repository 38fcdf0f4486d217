"""Composition grammars: entities from the inventory, every length bounded, the bound true."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planactor.catalog import Catalog
from planactor.plan import Inventory
from planactor.planner import compose_schema, fit_compose, grounded, max_chars
from planactor.planner._grammar import sequence

INVENTORY = Inventory(
    entities={
        "array": ["array-01", "array-02"],
        "controller": ["array-01-a", "array-01-b", "array-02-a", "array-02-b"],
        "host": ["esx-01", "esx-02"],
    }
)


@cache
def _catalog() -> Catalog:
    return Catalog.discover()


def _storage() -> list[Any]:
    return [a for a in _catalog() if a.name.startswith("storage.")]


def _bounded_storage() -> dict[str, Any]:
    fitted = fit_compose(_storage(), INVENTORY, "", max_steps=1, budget=100_000)
    return {a.name: a for a in _storage() if a.name not in fitted.left_out}


def test_entity_fields_take_only_inventory_names_and_the_named_ones_first() -> None:
    """An entity field's enum is the inventory's names of its kind, or only those the
    request names when it names some."""
    upgrade = _catalog().get("storage.upgrade_firmware").input_schema
    every = grounded(upgrade, INVENTORY, "")
    assert every["properties"]["array"]["enum"] == ["array-01", "array-02"]
    named = grounded(upgrade, INVENTORY, "upgrade array-02 please")
    assert named["properties"]["array"]["enum"] == ["array-02"]


def test_each_actor_is_its_own_branch_and_unbounded_optional_fields_are_left_out() -> None:
    """The grammar offers each actor with its own arguments; core.echo keeps `message`
    (required, bounded) and loses `value` (optional, any JSON)."""
    cat = _catalog()
    schema = compose_schema([cat.get("core.echo"), cat.get("storage.preflight")], INVENTORY,
                            "", max_steps=3)  # fmt: skip
    echo, preflight = schema["properties"]["steps"]["items"]["anyOf"]
    assert echo["properties"]["actor"]["enum"] == ["core.echo"]
    assert set(echo["properties"]["args"]["properties"]) == {"message"}
    assert echo["properties"]["args"]["properties"]["message"]["maxLength"] == 64
    assert preflight["properties"]["args"]["properties"]["array"]["enum"] == [
        "array-01",
        "array-02",
    ]


def test_fitting_gives_up_steps_before_the_budget_and_names_what_it_left_out() -> None:
    """A small budget holds fewer steps; actors whose required arguments have no bound are
    named; no actor left, or not one step that fits: ValueError."""
    actors = _storage()
    wide = fit_compose(actors, INVENTORY, "", max_steps=8, budget=100_000)
    assert wide.max_steps == 8
    assert "storage.restore_paths" in wide.left_out
    narrow = fit_compose(actors, INVENTORY, "", max_steps=8, budget=wide.max_tokens // 3)
    assert 1 <= narrow.max_steps < 8
    assert narrow.max_tokens <= wide.max_tokens // 3
    with pytest.raises(ValueError, match="not even one step"):
        fit_compose(actors, INVENTORY, "", max_steps=8, budget=10)
    graph = [a for a in _catalog() if a.name.startswith("graph.")]
    with pytest.raises(ValueError, match="no actor"):
        fit_compose(graph, INVENTORY, "", max_steps=8, budget=100_000)


def test_unbounded_schemas_have_no_bound() -> None:
    """A free string, an array without maxItems, an open object: ValueError."""
    for schema in (
        {"type": "string"},
        {"type": "array", "items": {"type": "integer"}},
        {"type": "object", "properties": {}},
        {},
    ):
        with pytest.raises(ValueError, match="no bound"):
            max_chars(schema)


def test_the_model_writes_a_sequence_and_the_planner_numbers_it() -> None:
    """Ids s1..sN and each step after the one before; what is not a list of objects is
    passed on for validation to refuse."""
    steps = sequence([{"actor": "a", "args": {}}, {"actor": "b", "args": {"x": 1}}])
    assert steps == [
        {"id": "s1", "actor": "a", "args": {}},
        {"id": "s2", "actor": "b", "args": {"x": 1}, "after": ["s1"]},
    ]
    assert sequence("nonsense") == []
    assert sequence([1, 2]) == [1, 2]


# -- the bound is a bound --------------------------------------------------------------------


def _instance(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """A value `schema` admits, drawn to reach its limits (longest names, fullest arrays)."""
    if "enum" in schema:
        return draw(st.sampled_from(schema["enum"]))
    if "anyOf" in schema:
        return _instance(draw, draw(st.sampled_from(schema["anyOf"])))
    kind = schema.get("type")
    if kind == "string" and "pattern" in schema:
        limit = schema["maxLength"]
        return draw(st.from_regex(schema["pattern"], fullmatch=True, alphabet="0123456789.")
                    .filter(lambda s: len(s) <= limit))  # fmt: skip
    if kind == "string":
        return draw(st.text(st.characters(codec="ascii", exclude_characters='"\\'),
                            max_size=schema["maxLength"]))  # fmt: skip
    if kind == "integer":
        return draw(st.integers(min_value=-(10**18), max_value=10**18))
    if kind == "number":
        return draw(st.floats(allow_nan=False, allow_infinity=False, width=32))
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "null":
        return None
    if kind == "array":
        n = draw(st.integers(schema.get("minItems", 0), schema["maxItems"]))
        return [_instance(draw, schema["items"]) for _ in range(n)]
    assert kind == "object", schema
    return {k: _instance(draw, v) for k, v in schema.get("properties", {}).items()}


@st.composite
def _answers(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    by_name = _bounded_storage()
    names = draw(st.lists(st.sampled_from(sorted(by_name)), min_size=1, max_size=4, unique=True))
    actors = [by_name[n] for n in names]
    steps = draw(st.integers(1, 4))
    fitted = fit_compose(actors, INVENTORY, "", max_steps=steps, budget=100_000)
    return fitted.schema, _instance(draw, fitted.schema)


@settings(max_examples=60, deadline=None)
@given(_answers())
def test_every_answer_the_grammar_admits_fits_its_bound(case: tuple[dict[str, Any], Any]) -> None:
    """Any answer valid under a composition grammar, written compactly, is no longer than
    max_chars says (so max_tokens = the bound cannot cut it off)."""
    schema, answer = case
    jsonschema.validate(answer, schema)
    assert len(json.dumps(answer, separators=(",", ":"))) <= max_chars(schema)
