"""planactor.plan._canonical: canonical JSON bytes and content hashes."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies
from planactor.plan import Plan, canonical_json, content_hash

PROPERTY = settings(max_examples=150, deadline=None)

json_values = strategies.json_values()


def _reordered(value: Any, data: st.DataObject) -> Any:
    """The same JSON value with the keys of every object in a drawn order."""
    if isinstance(value, dict):
        keys = data.draw(st.permutations(list(value)))
        return {k: _reordered(value[k], data) for k in keys}
    if isinstance(value, list):
        return [_reordered(v, data) for v in value]
    return value


_paths = strategies.json_paths


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], tuple(rest), new)
    return copy


@PROPERTY
@given(value=json_values, data=st.data())
def test_key_order_does_not_matter(value: Any, data: st.DataObject) -> None:
    """Objects with the same members give the same bytes and hash, whatever their key order."""
    shuffled = _reordered(value, data)
    assert canonical_json(shuffled) == canonical_json(value)
    assert content_hash(shuffled) == content_hash(value)


@PROPERTY
@given(value=json_values)
def test_canonical_json_is_deterministic_and_parses_back(value: Any) -> None:
    """The bytes are UTF-8 JSON for an equal value, and re-canonicalising them changes nothing."""
    out = canonical_json(value)
    assert out == canonical_json(value)
    parsed = json.loads(out.decode("utf-8"))
    assert parsed == value
    assert canonical_json(parsed) == out


@PROPERTY
@given(value=json_values)
def test_canonical_json_has_no_insignificant_whitespace(value: Any) -> None:
    """Re-indenting the JSON text and canonicalising it again gives the same, shortest bytes."""
    pretty = json.dumps(value, indent=3, ensure_ascii=True)
    out = canonical_json(json.loads(pretty))
    assert out == canonical_json(value)
    assert len(out) <= len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def test_canonical_json_sorts_keys_and_drops_spaces() -> None:
    """Nested objects come out with sorted keys and no space after ':' or ','."""
    assert canonical_json({"b": [1, {"d": None, "c": True}], "a": 1.5}) == (
        b'{"a":1.5,"b":[1,{"c":true,"d":null}]}'
    )


def test_canonical_json_writes_non_ascii_as_utf8() -> None:
    """Text outside ASCII is written as UTF-8 bytes, not \\u escapes."""
    assert canonical_json({"k": "héllo ⚠"}) == '{"k":"héllo ⚠"}'.encode()


@PROPERTY
@given(value=json_values, bad=st.sampled_from([math.nan, math.inf, -math.inf]), data=st.data())
def test_canonical_json_refuses_non_finite_numbers(
    value: Any, bad: float, data: st.DataObject
) -> None:
    """A NaN or an infinity anywhere in the value is an error, not `NaN` in the output."""
    where = data.draw(st.sampled_from(_paths(value)), label="where")
    broken = _replace(value, where, bad)
    with pytest.raises(ValueError, match="JSON"):
        canonical_json(broken)
    with pytest.raises(ValueError, match="JSON"):
        content_hash(broken)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, 1.0),
        (1, True),
        (0, False),
        (None, False),
        ("1", 1),
        ([1, 2], [2, 1]),
        ({"a": 1}, {"a": 1, "b": None}),
        (0.0, -0.0),
    ],
)
def test_content_hash_tells_json_types_apart(a: Any, b: Any) -> None:
    """Values that Python may call equal but JSON writes differently hash differently."""
    assert content_hash(a) != content_hash(b)
    assert content_hash({"v": a}) != content_hash({"v": b})


def test_plan_hash_covers_exactly_the_documented_content() -> None:
    """A plan's hash is that of its content: defaults written out, planner left out."""
    plan = Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "Say hi",
            "requested_by": "ops",
            "steps": [{"id": "hello", "actor": "core.echo", "args": {"message": "hé"}}],
            "planner": {"backend": "offline", "tokens_in": 12},
        }
    )
    # Written by hand from the plan-format rules, not produced by the code under test.
    content = (
        '{"api_version":"planactor/v1","change_ticket":null,"inputs":{},"intent":"Say hi",'
        '"requested_by":"ops","steps":[{"actor":"core.echo","after":[],'
        '"args":{"message":"hé"},"id":"hello","on_failure":"pause"}]}'
    )
    assert canonical_json(plan.content()) == content.encode()
    assert plan.hash == "sha256:" + hashlib.sha256(content.encode()).hexdigest()


_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda c: st.lists(c) | st.dictionaries(st.text() | st.integers() | st.booleans(), c),
    max_leaves=30,
)


def _outcome(f: Any, value: Any) -> tuple[str, Any]:
    try:
        return ("ok", f(value))
    except Exception as e:  # the same error as the reference, not just "an error"
        return (type(e).__name__, str(e))


@settings(max_examples=300)
@given(_ANY_JSON)
def test_the_fast_encoder_writes_what_the_json_module_writes(value: Any) -> None:
    """canonical_json is byte for byte json.dumps(sort_keys, compact, no NaN), errors too."""
    reference = json.JSONEncoder(
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    assert _outcome(canonical_json, value) == _outcome(
        lambda v: reference.encode(v).encode("utf-8"), value
    )
