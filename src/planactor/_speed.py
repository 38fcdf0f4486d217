"""Where planactor reaches below the public APIs of CPython and pydantic, for speed.

Each function here does exactly what a plain spelling (in its docstring) does, only faster,
and `tests/test_speed.py` checks it against that spelling; the domain modules call them by
name, so a reader meets the domain first and the tricks only here. Should a Python or
pydantic upgrade break one, its plain spelling is the fallback.

- `quick_init`: a frozen, slotted dataclass's `__init__`, built with `exec` (as dataclasses
  itself builds it) to fill the slots directly (the scheduler's per-step records).
- `model_json`: `model.model_dump(mode="json")` through pydantic's serializer object
  (actor outputs, once per step).
- `c_json_encoder`: the C encoder behind `json.JSONEncoder`, built once instead of per
  call (canonical JSON: the plan hash and every journal event).
- `cyclic_gc_paused`: the cyclic garbage collector off while a large acyclic tree is built
  (validation of large plans).

The journal keeps two more of its own, next to the format they must reproduce byte for
byte (and tested there): event envelopes written out by hand, and timestamps formatted once
a second.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import MISSING, fields
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["CEncoder", "c_json_encoder", "cyclic_gc_paused", "model_json", "quick_init"]

_T = TypeVar("_T")

# What `c_make_encoder(...)` returns: called as `encoder(value, 0)`, it gives the chunks.
CEncoder = Callable[[Any, int], "list[str] | tuple[str, ...]"]


def quick_init(cls: type[_T]) -> type[_T]:
    """Give a frozen, slotted dataclass an `__init__` that fills its slots directly.

    Plain spelling: the `__init__` that `@dataclass(frozen=True, slots=True, kw_only=True)`
    generates, which calls `object.__setattr__` per field to get past the frozen check; the
    slots' own setters cost about a third less. Same keyword-only signature and defaults;
    instances stay frozen. Plain defaults only (no `default_factory`).
    """
    params, body, names = [], [], {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.default_factory is not MISSING:
            raise TypeError(f"quick_init takes plain defaults only ({cls.__name__}.{f.name})")
        names[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is MISSING:
            params.append(f.name)
        else:
            names[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        body.append(f"    _set_{f.name}(self, {f.name})")
    src = f"def __init__(self, *, {', '.join(params)}):\n" + "\n".join(body or ["    pass"])
    exec(src, names)  # as dataclasses itself builds `__init__`
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    type.__setattr__(cls, "__init__", init)
    return cls


def model_json(model: BaseModel) -> dict[str, Any]:
    """`model.model_dump(mode="json")`, calling pydantic's serializer directly (half the time).

    A model class that overrides `model_dump` gets its own method, so the override holds.
    """
    cls = type(model)
    if cls.model_dump is not BaseModel.model_dump:
        return model.model_dump(mode="json")
    dumped: dict[str, Any] = cls.__pydantic_serializer__.to_python(model, mode="json")
    return dumped


def c_json_encoder(encoder: json.JSONEncoder) -> CEncoder | None:
    """The C encoder that `encoder.encode` builds on every call, built once; None without C.

    Plain spelling: `encoder.encode(value)` is `"".join(c_json_encoder(encoder)(value, 0))`
    for the values it accepts. It has no circular-reference check (that check's marker dict
    would be shared between threads and left dirty by an error): a cycle ends in
    RecursionError, and the caller falls back to `encoder.encode` to report it as json does.
    Floats are written with `float.__repr__`, as `encoder` writes finite ones.
    """
    if c_make_encoder is None:
        return None
    item_separator, key_separator = encoder.item_separator, encoder.key_separator
    make: Callable[..., CEncoder] = c_make_encoder
    return make(
        None,  # markers: no circular-reference check (see above)
        encoder.default,
        encode_basestring if not encoder.ensure_ascii else json.encoder.encode_basestring_ascii,
        None,  # indent
        key_separator,
        item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, restoring its previous state afterwards.

    Plain spelling: nothing (the collector left on). For code that builds a tree of objects
    proportional to its input and creates no reference cycles: collections triggered while
    it grows only rescan that tree (a quarter of validation's time at 10,000 steps).
    Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
