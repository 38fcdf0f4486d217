"""The `core` pack: core.echo and core.sleep."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from planactor import Catalog
from planactor.actors.core import EchoInput, EchoOutput, SleepInput, SleepOutput, echo, sleep
from planactor.catalog import ActorContext, actor_of

CTX = ActorContext.for_step(run_id="run-1", step_id="step-1")


@pytest.mark.parametrize(
    "value",
    [None, 0, -1.5, "text", True, [1, "two", None], {"nested": {"list": [1, 2], "ok": False}}],
    ids=repr,
)
def test_echo_returns_what_it_got(value: object) -> None:
    """core.echo returns the message and any JSON value unchanged."""
    out = echo(EchoInput(message="hello", value=value), CTX)
    assert out == EchoOutput(message="hello", value=value)


def test_echo_through_the_catalog() -> None:
    """core.echo called through the catalog validates its input and returns its output."""
    spec = Catalog.discover().get("core.echo")
    out = spec.call({"message": "m", "value": {"a": [1]}}, CTX)
    assert out.model_dump() == {"message": "m", "value": {"a": [1]}}


@pytest.mark.parametrize(
    "args",
    [{}, {"message": 42}, {"message": "m", "colour": "red"}],
    ids=["missing", "wrong-type", "unknown-field"],
)
def test_echo_refuses_bad_input(args: dict[str, object]) -> None:
    """core.echo refuses a missing or non-string message and unknown fields."""
    with pytest.raises(ValidationError):
        Catalog.discover().get("core.echo").call(args, CTX)


def test_core_actors_are_idempotent_reads() -> None:
    """Both core actors are read actors, idempotent, with a description."""
    for fn in (echo, sleep):
        spec = actor_of(fn)
        assert spec is not None
        assert (spec.effect, spec.idempotent, spec.kind) == ("read", True, "read")
        assert spec.description


def test_sleep_sleeps_about_the_requested_time() -> None:
    """core.sleep waits at least the requested time, and reports what it measured."""
    start = time.monotonic()
    out = sleep(SleepInput(seconds=0.05))
    elapsed = time.monotonic() - start
    assert isinstance(out, SleepOutput)
    assert out.slept_s >= 0.05
    assert elapsed >= 0.05
    assert out.slept_s <= elapsed
    assert elapsed < 1.0


def test_sleep_zero_returns_at_once() -> None:
    """core.sleep of 0 seconds returns immediately."""
    assert sleep(SleepInput(seconds=0)).slept_s < 0.05


@pytest.mark.parametrize("seconds", [-0.1, 3601, "soon"])
def test_sleep_refuses_out_of_range_durations(seconds: object) -> None:
    """core.sleep accepts 0 to 3600 seconds only."""
    with pytest.raises(ValidationError):
        Catalog.discover().get("core.sleep").call({"seconds": seconds}, CTX)


def test_sleep_through_the_catalog_takes_no_context() -> None:
    """core.sleep is declared without a context and is called through the catalog."""
    spec = Catalog.discover().get("core.sleep")
    assert spec.takes_context is False
    out = spec.call({"seconds": 0.01}, CTX)
    assert isinstance(out, SleepOutput)
    assert out.slept_s >= 0.01
