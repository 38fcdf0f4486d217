"""planactor._speed: each trick does what its plain spelling does (equivalence tests)."""

from __future__ import annotations

import dataclasses
import gc
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from planactor import _speed
from planactor._speed import c_json_encoder, cyclic_gc_paused, model_json, quick_init
from planactor.engine import StartStep, StepFailed, StepSucceeded

# -- quick_init -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Plain:
    step: str
    attempt: int
    output: dict[str, Any] | None
    delay_s: float = 0.0
    note: str | None = None


@quick_init
@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Quick:
    step: str
    attempt: int
    output: dict[str, Any] | None
    delay_s: float = 0.0
    note: str | None = None


_FIELDS = st.fixed_dictionaries(
    {
        "step": st.text(max_size=8),
        "attempt": st.integers(),
        "output": st.none() | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    },
    optional={"delay_s": st.floats(allow_nan=False), "note": st.none() | st.text(max_size=5)},
)


@settings(max_examples=200)
@given(_FIELDS)
def test_quick_init_builds_what_the_dataclass_init_builds(kw: dict[str, Any]) -> None:
    """Same fields, defaults, equality and repr as the generated `__init__`."""
    plain, quick = _Plain(**kw), _Quick(**kw)
    assert dataclasses.astuple(quick) == dataclasses.astuple(plain)
    assert repr(quick).replace("_Quick", "_Plain") == repr(plain)
    assert _Quick(**kw) == quick


def test_quick_init_keeps_the_signature_rules_and_frozenness() -> None:
    """Keyword-only, required fields required, unknown ones refused, instances frozen."""
    with pytest.raises(TypeError):
        _Quick("s", 1, None)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _Quick(step="s", attempt=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _Quick(step="s", attempt=1, output=None, nope=1)  # type: ignore[call-arg]
    q = _Quick(step="s", attempt=1, output=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.attempt = 2  # type: ignore[misc]
    assert _Quick.__init__.__qualname__ == "_Quick.__init__"


def test_quick_init_refuses_default_factories() -> None:
    """A field with a default_factory would share one value: quick_init refuses it by name."""

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Listy:
        items: list[int] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match=r"Listy\.items"):
        quick_init(Listy)


def test_the_scheduler_records_built_by_quick_init_compare_as_values() -> None:
    """The engine's per-step records (built through quick_init) keep value semantics."""
    assert StartStep(step="a", attempt=1, args={}) == StartStep(step="a", attempt=1, args={})
    assert StartStep(step="a", attempt=1, args={}).delay_s == 0.0
    assert StepSucceeded(step="a", attempt=1, output=None) != StepSucceeded(
        step="a", attempt=2, output=None
    )
    for cls in (StartStep, StepSucceeded, StepFailed):  # built by exec, not by dataclasses
        assert cls.__init__.__code__.co_filename == "<string>"
        assert cls.__init__.__qualname__ == f"{cls.__name__}.__init__"


# -- model_json -------------------------------------------------------------------------------


class _Color(StrEnum):
    RED = "red"
    BLUE = "blue"


class _Inner(BaseModel):
    at: datetime
    color: _Color


class _Out(BaseModel):
    name: str
    count: int = Field(alias="n")
    ratio: float
    tags: list[str]
    inner: _Inner | None
    extra: dict[str, Any]


class _Overridden(BaseModel):
    secret: str

    def model_dump(self, **kw: Any) -> dict[str, Any]:
        return {"secret": "***"}


@settings(max_examples=150)
@given(
    name=st.text(),
    count=st.integers(),
    ratio=st.floats(allow_nan=False, allow_infinity=False),
    tags=st.lists(st.text(max_size=4), max_size=3),
    inner=st.none()
    | st.builds(
        _Inner,
        at=st.datetimes(timezones=st.just(UTC)),
        color=st.sampled_from(_Color),
    ),
    extra=st.dictionaries(st.text(max_size=4), st.integers() | st.text(max_size=4), max_size=3),
)
def test_model_json_is_model_dump_in_json_mode(**kw: Any) -> None:
    """model_json gives exactly `model_dump(mode="json")`: aliases, datetimes, enums, nesting."""
    model = _Out.model_validate({**kw, "n": kw.pop("count")})
    assert model_json(model) == model.model_dump(mode="json")
    assert json.dumps(model_json(model), sort_keys=True) == json.dumps(
        model.model_dump(mode="json"), sort_keys=True
    )


def test_model_json_respects_an_overridden_model_dump() -> None:
    """A model that overrides model_dump is dumped by its own method."""
    assert model_json(_Overridden(secret="x")) == {"secret": "***"}


# -- c_json_encoder ---------------------------------------------------------------------------

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


@pytest.mark.parametrize(
    "options",
    [
        {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False, "allow_nan": False},
        {"sort_keys": False, "separators": (", ", ": "), "ensure_ascii": True, "allow_nan": True},
    ],
)
@settings(max_examples=200)
@given(value=_ANY_JSON)
def test_the_c_encoder_writes_what_the_encoder_writes(options: dict[str, Any], value: Any) -> None:
    """`"".join(c_json_encoder(e)(v, 0))` is `e.encode(v)` byte for byte, errors too."""
    encoder = json.JSONEncoder(**options)
    fast = c_json_encoder(encoder)
    assert fast is not None
    if isinstance(value, str):  # encode() takes a shortcut for a bare string
        return
    assert _outcome(lambda v: "".join(fast(v, 0)), value) == _outcome(encoder.encode, value)


def test_the_c_encoder_ends_a_cycle_in_recursion_error() -> None:
    """It has no circular-reference check: a cycle raises RecursionError for the caller."""
    fast = c_json_encoder(json.JSONEncoder())
    assert fast is not None
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(RecursionError):
        fast(loop, 0)


def test_without_the_c_accelerator_there_is_no_c_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where json has no C encoder, c_json_encoder says so (callers keep the plain path)."""
    monkeypatch.setattr(_speed, "c_make_encoder", None)
    assert c_json_encoder(json.JSONEncoder()) is None


# -- cyclic_gc_paused -------------------------------------------------------------------------


@pytest.fixture
def gc_state() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.parametrize("enabled", [True, False])
def test_the_gc_pause_restores_the_collectors_state(gc_state: None, enabled: bool) -> None:
    """Off inside; afterwards as it was before, also when the body raises."""
    gc.enable() if enabled else gc.disable()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled() is enabled
    with pytest.raises(KeyError), cyclic_gc_paused():
        raise KeyError("x")
    assert gc.isenabled() is enabled
