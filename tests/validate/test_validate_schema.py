"""`planactor.validate._schema`: following JSON Schema far enough to type a reference."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, JsonValue

from planactor.validate._schema import UNKNOWN, json_types, schema_at, types_compatible


class Port(BaseModel):
    name: str
    speed_gbps: int


class Node(BaseModel):
    name: str
    children: list[Node] = []


class Switch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    ports: list[Port]
    uplink: Port | None = None
    mode: Literal["access", "trunk"] = "access"
    vlan: int | str = 1
    pair: tuple[int, str] = (0, "")
    counters: dict[str, int] = {}
    labels: dict[str, Port] = {}
    anything: Any = None
    payload: JsonValue = None
    tree: Node | None = None


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str


SWITCH = Switch.model_json_schema(mode="serialization")
LOOSE = Loose.model_json_schema()


def types(root: dict[str, Any], *path: str | int) -> set[str] | None:
    schemas = schema_at(root, path)
    assert schemas is not None, f"{path} should exist"
    return json_types(schemas)


# -- schema_at ------------------------------------------------------------------------------


def test_empty_path_is_the_root() -> None:
    """The value at the empty path is the whole object."""
    assert types(SWITCH) == {"object"}


def test_walks_properties() -> None:
    """A property name leads to that property's schema."""
    assert types(SWITCH, "name") == {"string"}


def test_follows_defs_references() -> None:
    """A `$ref` into `$defs` is followed, at any depth."""
    assert types(SWITCH, "ports", 0, "speed_gbps") == {"integer", "number"}
    assert types(SWITCH, "ports", 0) == {"object"}


def test_optional_is_an_any_of_with_null() -> None:
    """`Port | None` offers both alternatives, and fields of the non-null one are found."""
    assert types(SWITCH, "uplink") == {"object", "null"}
    assert types(SWITCH, "uplink", "name") == {"string"}


def test_union_collects_every_alternative() -> None:
    """`int | str` allows integer, number (an integer is one) and string."""
    assert types(SWITCH, "vlan") == {"integer", "number", "string"}


def test_array_items() -> None:
    """Any index of a list has the item schema."""
    assert types(SWITCH, "ports", 41, "name") == {"string"}


def test_prefix_items() -> None:
    """A tuple's positions each have their own schema."""
    assert types(SWITCH, "pair", 0) == {"integer", "number"}
    assert types(SWITCH, "pair", 1) == {"string"}


def test_prefix_items_then_items() -> None:
    """Past the prefix, `items` gives the schema of the remaining positions."""
    root = {"type": "array", "prefixItems": [{"type": "boolean"}], "items": {"type": "string"}}
    assert types(root, 0) == {"boolean"}
    assert types(root, 5) == {"string"}


def test_additional_properties_schema() -> None:
    """Any key of a map has the schema of `additionalProperties`."""
    assert types(SWITCH, "counters", "rx") == {"integer", "number"}
    assert types(SWITCH, "labels", "eth0", "speed_gbps") == {"integer", "number"}


def test_digit_keys_of_a_map() -> None:
    """A digit-only segment (parsed as an index) still names a key of an object."""
    assert types(SWITCH, "counters", 2024) == {"integer", "number"}


def test_recursive_model() -> None:
    """A self-referencing model can be followed as deep as the path goes."""
    assert types(SWITCH, "tree", "children", 0, "children", 3, "name") == {"string"}


def test_extra_allow_makes_unknown_keys_unknown() -> None:
    """With `additionalProperties: true`, an undeclared key may hold anything."""
    assert schema_at(LOOSE, ("whatever",)) is UNKNOWN
    assert types(LOOSE, "name") == {"string"}


def test_object_without_properties_is_open() -> None:
    """A bare object schema (any keys allowed) says nothing about its values."""
    assert schema_at({"type": "object"}, ("k", "deeper")) == UNKNOWN


def test_any_is_unknown_below() -> None:
    """`Any` and `JsonValue` allow every type, and nothing is known beneath them."""
    assert types(SWITCH, "anything") is None
    assert types(SWITCH, "payload") is None
    assert schema_at(SWITCH, ("anything", "x", 0)) == UNKNOWN
    assert schema_at(SWITCH, ("payload", 3, "y")) == UNKNOWN
    assert schema_at({}, ("a",)) == UNKNOWN


@pytest.mark.parametrize(
    "path",
    [
        ("nope",),
        ("name", "first"),
        ("name", 0),
        ("ports", "first"),
        ("ports", 0, "nope"),
        ("mode", "x"),
        ("uplink", "nope"),
        ("counters", "rx", "deeper"),
    ],
)
def test_impossible_paths_are_none(path: tuple[str | int, ...]) -> None:
    """A key the object lacks, or stepping into a string or number, cannot exist: None."""
    assert schema_at(SWITCH, path) is None


def test_external_refs_are_not_followed() -> None:
    """A `$ref` outside `$defs` is treated as unknown rather than an error."""
    root = {"type": "object", "properties": {"x": {"$ref": "https://example.com/s.json"}}}
    assert types(root, "x") is None
    assert schema_at(root, ("x", "y")) == UNKNOWN


def test_a_ref_loop_terminates() -> None:
    """`$ref` chains that loop back are cut off instead of spinning forever."""
    root = {"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"}
    assert types(root) is None
    assert schema_at(root, ("x",)) == UNKNOWN


def test_single_all_of_is_unwrapped() -> None:
    """`allOf` with one member (older pydantic) is read as that member."""
    root = {
        "$defs": {"P": {"type": "object", "properties": {"n": {"type": "string"}}}},
        "type": "object",
        "properties": {"p": {"allOf": [{"$ref": "#/$defs/P"}]}},
    }
    assert types(root, "p", "n") == {"string"}


# -- json_types -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schemas", "expected"),
    [
        ([{"type": "string"}], {"string"}),
        ([{"type": "integer"}], {"integer", "number"}),
        ([{"type": "number"}], {"number"}),
        ([{"type": ["string", "null"]}], {"string", "null"}),
        ([{"const": True}], {"boolean"}),
        ([{"const": None}], {"null"}),
        ([{"enum": ["a", 1, 2.5]}], {"string", "integer", "number"}),
        ([{"enum": [[1], {"a": 1}]}], {"array", "object"}),
        ([{"type": "boolean"}, {"type": "null"}], {"boolean", "null"}),
        ([{"type": "string"}, {}], None),
        ([{"title": "only a title"}], None),
        (UNKNOWN, None),
    ],
)
def test_json_types(schemas: list[dict[str, Any]], expected: set[str] | None) -> None:
    """The JSON types a set of schemas allows; None where any of them allows anything."""
    assert json_types(schemas) == expected


def test_literal_field_types_come_from_its_values() -> None:
    """A Literal field has the type of its values."""
    assert types(SWITCH, "mode") == {"string"}


# -- types_compatible -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("produced", "accepted", "fits"),
    [
        (None, {"string"}, True),
        ({"string"}, None, True),
        (None, None, True),
        ({"string"}, {"string"}, True),
        ({"integer", "number"}, {"number"}, True),
        ({"string"}, {"number"}, False),
        ({"number"}, {"string"}, False),
        ({"boolean"}, {"string"}, False),
        ({"object"}, {"array"}, False),
        ({"number", "null"}, {"number"}, True),
        ({"string", "null"}, {"number"}, False),
        ({"null"}, {"string"}, False),
        ({"null"}, {"string", "null"}, True),
        ({"string", "integer", "number"}, {"integer", "number"}, True),
    ],
)
def test_types_compatible(produced: set[str] | None, accepted: set[str] | None, fits: bool) -> None:
    """A value fits when some non-null produced type is accepted; unknown fits everything."""
    assert types_compatible(produced, accepted) is fits
