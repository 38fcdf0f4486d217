"""Hypothesis strategies and helpers shared by the property tests (on pytest's pythonpath)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

__all__ = ["UNICODE", "json_paths", "json_values", "object_paths"]

# JSON text is Unicode: a lone surrogate is not (the parser refuses it, tested on its own).
UNICODE = st.characters(exclude_categories=("Cs",))


def json_values(
    *,
    chars: st.SearchStrategy[str] = UNICODE,
    max_text: int = 10,
    max_key: int = 6,
    max_size: int = 4,
    max_leaves: int = 20,
    data_keys: bool = False,
) -> st.SearchStrategy[Any]:
    """Any JSON value. `data_keys` leaves out keys starting with `$` (reference syntax)."""
    keys = st.text(chars, max_size=max_key)
    if data_keys:
        keys = keys.filter(lambda k: not k.startswith("$"))
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(chars, max_size=max_text)
    )
    return st.recursive(
        scalars,
        lambda kids: (
            st.lists(kids, max_size=max_size) | st.dictionaries(keys, kids, max_size=max_size)
        ),
        max_leaves=max_leaves,
    )


def json_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside a JSON value that holds a value (the root included)."""
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += json_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += json_paths(v, (*path, i))
    return out


def object_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The places inside a JSON value that hold an object."""
    return [p for p in json_paths(value, path) if isinstance(_at(value, p[len(path) :]), dict)]


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value
