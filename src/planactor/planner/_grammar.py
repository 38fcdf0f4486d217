"""Grammars for what a model writes: every entity a name from the inventory, every length bound.

A small model under a loose grammar writes what the prompt showed it: asked for
`{"array": "string"}`, it answers `"array": "string"`. So the grammar gives each actor its own
branch with its own input schema, and each entity field (`x-planactor-entity`) the
inventory's names of its kind as an enum. Free strings get a maximum length and arrays a
maximum count, so that `max_chars` can bound the whole answer: a call whose `max_tokens` is at
least that bound cannot be cut off mid-JSON (a token is at least one character).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from planactor.catalog import ENTITY_KEY, Actor
from planactor.plan import Inventory

__all__ = [
    "STRING_CHARS",
    "Fitted",
    "compose_schema",
    "fit_compose",
    "grounded",
    "max_chars",
    "sequence",
]

STRING_CHARS = 64  # a free string argument: a name, a version, a reason
_LIST_ITEMS = 8  # an array argument without its own bound
_SPACE = 1  # whitespace between tokens: compact JSON and a separator
_NUMBER_CHARS = 20


def grounded(schema: Any, inventory: Inventory | None, said: str = "") -> Any:
    """`schema` with every entity field limited to the inventory's names of its kind: those
    `said` names when it names some (a small model otherwise picks any), else all."""
    if isinstance(schema, Mapping):
        out = {k: grounded(v, inventory, said) for k, v in schema.items() if k != "title"}
        kind = schema.get(ENTITY_KEY)
        names = inventory.names(kind) if isinstance(kind, str) and inventory is not None else None
        if names:
            # pydantic marks the field; an optional one keeps its string inside `anyOf`.
            for branch in [out, *out.get("anyOf", [])]:
                if branch.get("type") == "string":
                    named = sorted(n for n in names if n in said)
                    branch["enum"] = named or sorted(names)
        return out
    if isinstance(schema, list):
        return [grounded(v, inventory, said) for v in schema]
    return schema


def _bounded(schema: Any) -> Any:
    """`schema` with a length on every free string and a count on every array; an optional
    field with no bound (any JSON value) is left out: the model cannot set it, and it keeps
    its default."""
    if isinstance(schema, Mapping):
        out = {k: _bounded(v) for k, v in schema.items()}
        props = out.get("properties")
        if isinstance(props, dict):
            required = set(out.get("required", []))
            out["properties"] = {k: v for k, v in props.items() if k in required or _has_bound(v)}
        if out.get("type") == "string" and "enum" not in out and "const" not in out:
            out["maxLength"] = min(int(out.get("maxLength", STRING_CHARS)), STRING_CHARS)
        if out.get("type") == "array":
            out["maxItems"] = min(int(out.get("maxItems", _LIST_ITEMS)), _LIST_ITEMS)
        if out.get("type") == "object" and "additionalProperties" not in out:
            out["additionalProperties"] = False  # only the declared fields: a bound exists
        return out
    if isinstance(schema, list):
        return [_bounded(v) for v in schema]
    return schema


def _has_bound(schema: Any) -> bool:
    try:
        max_chars(schema)
    except ValueError:
        return False
    return True


def compose_schema(
    actors: Sequence[Actor], inventory: Inventory | None, said: str, *, max_steps: int
) -> dict[str, Any]:
    """The grammar of a composed plan: up to `max_steps` steps, in the order they run, each
    one actor's branch with that actor's own arguments, entities grounded in the inventory,
    every length bounded. Ids and order are not the model's to write (`sequence`)."""
    branches = [
        {
            "type": "object",
            "properties": {
                "actor": {"type": "string", "enum": [a.name]},
                "args": _bounded(grounded(a.input_schema, inventory, said)),
            },
            "required": ["actor", "args"],
            "additionalProperties": False,
        }
        for a in actors
    ]
    return {
        "type": "object",
        "properties": {
            "steps": {
                "type": "array",
                "minItems": 1,
                "maxItems": max_steps,
                "items": {"anyOf": branches},
            }
        },
        "required": ["steps"],
        "additionalProperties": False,
    }


def sequence(steps: object) -> list[Any]:
    """The model's steps as plan steps: ids s1..sN, each after the one before it.

    A small model asked for ids and `after` lists writes entity names and steps that do not
    exist; a composed plan is a sequence, which is also what a reviewer reads best. Anything
    that is not a list of objects is left for validation to refuse, as written."""
    if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
        return steps if isinstance(steps, list) else []
    out: list[Any] = []
    for i, step in enumerate(steps, start=1):
        extra = {"after": [f"s{i - 1}"]} if i > 1 else {}
        out.append({"id": f"s{i}", "actor": step.get("actor"), "args": step.get("args"), **extra})
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Fitted:
    """A composition grammar that fits a token budget, and what had to give way."""

    schema: dict[str, Any]
    max_tokens: int  # the answer's bound: a call with this many tokens is not cut off
    max_steps: int
    left_out: tuple[str, ...]  # actors whose arguments have no bound (a document, any JSON)


def fit_compose(
    actors: Sequence[Actor], inventory: Inventory | None, said: str, *, max_steps: int, budget: int
) -> Fitted:
    """The composition grammar with as many steps (up to `max_steps`) as `budget` tokens
    can always hold, over the actors whose arguments are bounded. ValueError when not even
    one step fits, or no actor is left."""
    usable, left_out = [], []
    for a in actors:
        try:
            max_chars(_bounded(grounded(a.input_schema, inventory, said)))
            usable.append(a)
        except ValueError:
            left_out.append(a.name)
    if not usable:
        raise ValueError("no actor among those offered has bounded arguments")
    for steps in range(max_steps, 0, -1):
        schema = compose_schema(usable, inventory, said, max_steps=steps)
        bound = max_chars(schema)
        if bound <= budget:
            return Fitted(
                schema=schema, max_tokens=bound, max_steps=steps, left_out=tuple(left_out)
            )
    raise ValueError(f"not even one step of these actors fits in {budget} tokens")


def max_chars(schema: Any) -> int:
    """An upper bound of the characters of any JSON value `schema` admits, written compactly
    (one separator between tokens, no escapes: what a model at temperature 0 writes; the
    grammar would allow more blank space, and a cut-off is then reported as such by the
    backend); ValueError when it has no bound."""
    if not isinstance(schema, Mapping):
        raise ValueError(f"no bound for schema {schema!r}")
    if "enum" in schema:
        return max(len(_json(v)) for v in schema["enum"]) + _SPACE
    if "const" in schema:
        return len(_json(schema["const"])) + _SPACE
    if "anyOf" in schema:
        return max(max_chars(b) for b in schema["anyOf"])
    kind = schema.get("type")
    if kind == "string":
        if "maxLength" in schema:
            return int(schema["maxLength"]) + 2 + _SPACE
        raise ValueError("a string without maxLength or pattern has no bound")
    if kind in ("integer", "number"):
        return _NUMBER_CHARS + _SPACE
    if kind == "boolean":
        return 5 + _SPACE
    if kind == "null":
        return 4 + _SPACE
    if kind == "array":
        if "maxItems" not in schema:
            raise ValueError("an array without maxItems has no bound")
        return int(schema["maxItems"]) * (max_chars(schema.get("items", {})) + 1) + 2 + _SPACE
    if kind == "object":
        if schema.get("additionalProperties", True) is not False:
            raise ValueError("an object open to more properties has no bound")
        props: Mapping[str, Any] = schema.get("properties", {})
        return 2 + _SPACE + sum(len(k) + 4 + _SPACE + max_chars(v) for k, v in props.items())
    raise ValueError(f"no bound for schema type {kind!r}")


def _json(value: object) -> str:
    return json.dumps(value)
