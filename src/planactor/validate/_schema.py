"""Just enough JSON Schema to check that a step output fits where a reference puts it."""

from __future__ import annotations

from typing import Any

__all__ = ["UNKNOWN", "json_types", "schema_at", "types_compatible"]

# Returned where the schema says nothing (Any, or a shape we do not follow): accept.
UNKNOWN: list[dict[str, Any]] = []


def _deref(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 32:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            return {}
        schema = root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
        seen += 1
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _deref(schema["allOf"][0], root)
    return schema


def _alternatives(schema: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _deref(schema, root)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            out: list[dict[str, Any]] = []
            for alt in schema[key]:
                out.extend(_alternatives(alt, root))
            return out
    return [schema]


def schema_at(root: dict[str, Any], path: tuple[str | int, ...]) -> list[dict[str, Any]] | None:
    """The schemas a value at `path` may have; None if the path cannot exist.

    `UNKNOWN` (an empty list) means the schema does not say, so anything is accepted.
    """
    current = _alternatives(root, root)
    for part in path:
        nxt: list[dict[str, Any]] = []
        for s in current:
            if not s or ("type" not in s and "properties" not in s and "items" not in s):
                return UNKNOWN  # Any: no knowledge below this point
            key = part
            if isinstance(part, int) and ("properties" in s or s.get("type") == "object"):
                key = str(part)  # `labels.2024`: a digit-only key of an object, as resolve reads it
            if isinstance(key, str) and "properties" in s:
                if key in s["properties"]:
                    nxt.extend(_alternatives(s["properties"][key], root))
                elif isinstance(s.get("additionalProperties"), dict):
                    nxt.extend(_alternatives(s["additionalProperties"], root))
                elif s.get("additionalProperties") is True:
                    return UNKNOWN
            elif isinstance(key, str) and s.get("type") == "object":
                extra = s.get("additionalProperties", True)
                if extra is True or extra == {}:
                    return UNKNOWN
                if isinstance(extra, dict):
                    nxt.extend(_alternatives(extra, root))
            elif isinstance(part, int) and s.get("type") == "array":
                prefix = s.get("prefixItems")
                if isinstance(prefix, list) and part < len(prefix):
                    nxt.extend(_alternatives(prefix[part], root))
                elif isinstance(s.get("items"), dict):
                    nxt.extend(_alternatives(s["items"], root))
                else:
                    return UNKNOWN
        if not nxt:
            return None
        current = nxt
    return current


def json_types(schemas: list[dict[str, Any]]) -> set[str] | None:
    """The JSON types the schemas allow; None when any of them allows anything."""
    types: set[str] = set()
    for s in schemas:
        if "const" in s:
            types.add(_type_of(s["const"]))
        elif "enum" in s:
            types.update(_type_of(v) for v in s["enum"])
        elif isinstance(s.get("type"), str):
            types.add(s["type"])
        elif isinstance(s.get("type"), list):
            types.update(t for t in s["type"] if isinstance(t, str))
        else:
            return None
    if "integer" in types:
        types.add("number")
    return types or None


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def types_compatible(produced: set[str] | None, accepted: set[str] | None) -> bool:
    """Could a value of the produced types be accepted? Unknown on either side: yes."""
    if produced is None or accepted is None:
        return True
    # A nullable output may still fit a non-null input: the value decides at run time.
    non_null = produced - {"null"}
    return bool(non_null & accepted) if non_null else "null" in accepted
