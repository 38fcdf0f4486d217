"""planactor.plan._json: strict JSON parsing with positions, no NaN, no duplicate keys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies
from planactor.plan import JsonSyntaxError, canonical_json, format_location, parse_json
from planactor.plan._json import MAX_DEPTH

PROPERTY = settings(max_examples=150, deadline=None)

TEXT = strategies.UNICODE  # lone surrogates are refused (tested below)
json_values = strategies.json_values()
containers = st.lists(json_values, max_size=4) | st.dictionaries(
    st.text(TEXT, max_size=6), json_values, max_size=4
)
indents = st.sampled_from([None, 0, 2])
BOM = b"\xef\xbb\xbf"


def _same_json(a: Any, b: Any) -> bool:
    """Equal as JSON: unlike ==, tells true from 1 and 1 from 1.0."""
    return canonical_json(a) == canonical_json(b)


def _position(text: str, line: int, column: int) -> int:
    """The string index that a 1-based line and column point at."""
    lines = text.split("\n")
    assert 1 <= line <= len(lines)
    assert 1 <= column <= len(lines[line - 1]) + 1
    return sum(len(ln) + 1 for ln in lines[: line - 1]) + column - 1


# --- valid JSON -----------------------------------------------------------------------------


@PROPERTY
@given(value=json_values, indent=indents, ascii_only=st.booleans())
def test_parses_whatever_json_dumps_writes(
    value: Any, indent: int | None, ascii_only: bool
) -> None:
    """For any JSON value v, parse_json(json.dumps(v)) is v, types included."""
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    parsed = parse_json(text)
    assert parsed == value
    assert _same_json(parsed, value)


@PROPERTY
@given(value=json_values)
def test_bytes_are_read_as_utf8(value: Any) -> None:
    """UTF-8 bytes parse like the text they encode."""
    data = json.dumps(value, ensure_ascii=False).encode("utf-8")
    assert _same_json(parse_json(data), value)


@PROPERTY
@given(value=json_values)
def test_a_leading_bom_is_refused(value: Any) -> None:
    """A byte-order mark is refused (bytes or text), as the Plan model's parser refuses it."""
    data = json.dumps(value, ensure_ascii=False)
    with pytest.raises(JsonSyntaxError, match="byte-order mark"):
        parse_json(BOM + data.encode("utf-8"))
    with pytest.raises(JsonSyntaxError, match="byte-order mark"):
        parse_json("\ufeff" + data)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 300, 100_000])
def test_nesting_deeper_than_the_limit_is_refused(depth: int) -> None:
    """Arrays nested deeper than MAX_DEPTH are refused as "nesting too deep"."""
    with pytest.raises(JsonSyntaxError, match="nesting too deep"):
        parse_json("[" * depth + "]" * depth)


def test_nesting_at_the_limit_parses() -> None:
    """Exactly MAX_DEPTH levels of objects and arrays still parse."""
    text = '{"a":' * (MAX_DEPTH // 2) + "[" * (MAX_DEPTH // 2) + "]" * (MAX_DEPTH // 2)
    text += "}" * (MAX_DEPTH // 2)
    assert parse_json(text) is not None


def test_parsed_objects_are_plain_dicts() -> None:
    """Objects come back as plain dicts (nested ones too), so they compare and copy normally."""
    parsed = parse_json('{"a": [{"b": {}}]}')
    assert type(parsed) is dict
    assert type(parsed["a"][0]) is dict
    assert type(parsed["a"][0]["b"]) is dict


def test_surrogate_pairs_are_accepted() -> None:
    """An escaped surrogate pair is one character outside the BMP, and is fine."""
    assert parse_json('{"e": "\\ud83d\\ude00"}') == {"e": "\U0001f600"}


# --- duplicate keys -------------------------------------------------------------------------


_object_paths = strategies.object_paths


def _dumps_with_duplicate(
    value: Any, target: tuple[str | int, ...], key: str, path: tuple[str | int, ...] = ()
) -> str:
    """JSON text for `value` in which the object at `target` has `key` twice."""
    if isinstance(value, dict):
        items = [
            f"{json.dumps(k)}: {_dumps_with_duplicate(v, target, key, (*path, k))}"
            for k, v in value.items()
        ]
        if path == target:
            items += [f"{json.dumps(key)}: 0"] * (1 if key in value else 2)
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        parts = (_dumps_with_duplicate(v, target, key, (*path, i)) for i, v in enumerate(value))
        return "[" + ", ".join(parts) + "]"
    return json.dumps(value)


@PROPERTY
@given(value=json_values, data=st.data())
def test_duplicate_key_anywhere_is_refused_with_its_location(
    value: Any, data: st.DataObject
) -> None:
    """A key repeated in any object raises JsonSyntaxError whose location names that key."""
    if not _object_paths(value):
        value = {"wrapped": value}
    target = data.draw(st.sampled_from(_object_paths(value)), label="object")
    obj = value
    for part in target:
        obj = obj[part]
    keys = st.sampled_from(list(obj)) | st.text(TEXT, max_size=4) if obj else st.text(TEXT)
    key = data.draw(keys, label="key")
    text = _dumps_with_duplicate(value, target, key)
    with pytest.raises(JsonSyntaxError) as caught:
        parse_json(text)
    assert caught.value.location == (*target, key)
    assert "duplicate key" in str(caught.value)


def test_duplicate_key_message_says_where() -> None:
    """The message of a duplicate key names the key and the object's JSON path."""
    text = '{"steps": [{"id": "a", "args": {"x": 1, "x": 2}}]}'
    with pytest.raises(JsonSyntaxError) as caught:
        parse_json(text)
    assert caught.value.location == ("steps", 0, "args", "x")
    assert str(caught.value) == "duplicate key 'x' in object at steps[0].args"


# --- malformed text -------------------------------------------------------------------------


@PROPERTY
@given(
    items=st.lists(json_values, max_size=4),
    junk=st.sampled_from(["@", "tru", "'x'", "-", "}", "nul"]),
    indent=indents,
    as_bytes=st.booleans(),
)
def test_syntax_error_points_at_the_bad_token(
    items: list[Any], junk: str, indent: int | None, as_bytes: bool
) -> None:
    """A stray token gives a JsonSyntaxError whose line and column are where the token is."""
    mark = "\x00MARK"
    good = json.dumps([*items, mark], indent=indent, ensure_ascii=False)
    quoted = json.dumps(mark)
    at = good.rindex(quoted)
    text = good[:at] + junk + good[at + len(quoted) :]
    with pytest.raises(JsonSyntaxError) as caught:
        parse_json(text.encode() if as_bytes else text)
    err = caught.value
    assert err.line is not None
    assert err.column is not None
    assert _position(text, err.line, err.column) == at
    assert str(err).startswith(f"line {err.line}, column {err.column}: ")


@PROPERTY
@given(value=containers, indent=indents, data=st.data())
def test_truncated_text_gives_a_position_inside_it(
    value: Any, indent: int | None, data: st.DataObject
) -> None:
    """Any cut-off JSON object or array is refused with a line and column within the text."""
    text = json.dumps(value, indent=indent)
    cut = data.draw(st.integers(0, len(text) - 1), label="cut")
    with pytest.raises(JsonSyntaxError) as caught:
        parse_json(text[:cut])
    err = caught.value
    assert err.line is not None
    assert err.column is not None
    assert _position(text[:cut], err.line, err.column) <= cut


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("", 1, 1),
        ('{"a": 1,}', 1, 9),
        ('{\n  "a": 1\n  "b": 2\n}', 3, 3),
        ("[1, 2]\n[3]", 2, 1),
        ("{'a': 1}", 1, 2),
    ],
)
def test_syntax_error_examples(text: str, line: int, column: int) -> None:
    """Trailing commas, missing commas, extra data and single quotes are located exactly."""
    with pytest.raises(JsonSyntaxError) as caught:
        parse_json(text)
    assert (caught.value.line, caught.value.column) == (line, column)


@pytest.mark.parametrize(
    "text", ["NaN", "[1, NaN]", '{"a": {"b": Infinity}}', "[-Infinity]", '{"x": [0, -Infinity]}']
)
def test_nan_and_infinity_literals_are_refused(text: str) -> None:
    """The NaN, Infinity and -Infinity extensions that Python's json accepts are refused."""
    with pytest.raises(JsonSyntaxError, match="not valid JSON"):
        parse_json(text)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": "\xff"}',
        b'{"a": "caf\xe9"}',  # Latin-1
        b'["\xc3\x28"]',  # a broken two-byte sequence
        b'["\xed\xa0\x80"]',  # an encoded surrogate (CESU-8)
        '{"a": 1}'.encode("utf-16"),
    ],
)
def test_bytes_that_are_not_utf8_are_refused(data: bytes) -> None:
    """Undecodable bytes give a JsonSyntaxError, not a UnicodeDecodeError."""
    with pytest.raises(JsonSyntaxError, match="not UTF-8"):
        parse_json(data)


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ('"\\ud800"', ()),
        ('{"a": ["ok", "x\\udfffy"]}', ("a", 1)),
        ('{"a": {"\\udc00": 1}}', ("a",)),
        ('["\\ude00\\ud83d"]', (0,)),  # a pair in the wrong order
        ('{"a": "\ud800"}', ("a",)),  # a raw surrogate in a Python str
    ],
)
def test_lone_surrogates_are_refused_with_their_location(
    text: str, location: tuple[str | int, ...]
) -> None:
    """A string or key holding a lone surrogate is refused: it is not text and cannot be hashed."""
    with pytest.raises(JsonSyntaxError, match="lone surrogate") as caught:
        parse_json(text)
    assert caught.value.location == location


def _nested(open_: str, close: str, depth: int) -> str:
    return open_ * depth + "0" + close * depth


def _unnest(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = value[0] if isinstance(value, list) else value["a"]
    return value


NESTINGS = pytest.mark.parametrize(("open_", "close"), [("[", "]"), ('{"a":', "}")])


@NESTINGS
def test_moderate_nesting_parses(open_: str, close: str) -> None:
    """Text nested a few hundred levels deep parses normally."""
    assert _unnest(parse_json(_nested(open_, close, 200)), 200) == 0


@NESTINGS
@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_deep_nesting_is_a_syntax_error(depth: int, open_: str, close: str) -> None:
    """Nesting past the interpreter's recursion limit is a JsonSyntaxError, not RecursionError."""
    with pytest.raises(JsonSyntaxError, match="nesting too deep"):
        parse_json(_nested(open_, close, depth))


@NESTINGS
@pytest.mark.parametrize("depth", range(380, 1040, 40))
def test_nesting_near_the_limit_never_escapes_as_recursion_error(
    depth: int, open_: str, close: str
) -> None:
    """Around the recursion limit (parser or conversion may fail first) the error is clean."""
    try:
        outcome = _unnest(parse_json(_nested(open_, close, depth)), depth)
    except JsonSyntaxError as e:
        outcome = str(e)
    assert outcome in (0, "nesting too deep")


# --- format_location ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ((), "$"),
        (("steps", 3, "args", "array"), "steps[3].args.array"),
        ((0,), "[0]"),
        ((0, "a"), "[0].a"),
        (("args", "a b"), 'args["a b"]'),
        (("args", "0"), 'args["0"]'),
        (("args", 'say "hi"'), 'args["say \\"hi\\""]'),
        (("args", "é"), "args.é"),
        (("$ref",), '["$ref"]'),
        (("",), '[""]'),
    ],
)
def test_format_location(path: tuple[str | int, ...], expected: str) -> None:
    """Identifier keys join with dots, indices and other keys go in brackets, root is `$`."""
    assert format_location(path) == expected
