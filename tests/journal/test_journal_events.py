"""planactor.journal._events: the vocabulary of run events and the check of a recorded one."""

from __future__ import annotations

from typing import Any

import pytest
from typing_extensions import is_typeddict

from planactor.journal import KINDS, EventKind, event_problem, kind_of


def test_the_stored_names_are_the_ones_old_journals_hold() -> None:
    """Renaming a kind would orphan every journal written so far: the names are fixed."""
    assert sorted(k.value for k in EventKind) == [
        "ask.answer",
        "ask.observation",
        "ask.turn",
        "compensation.failed",
        "compensation.started",
        "compensation.succeeded",
        "run.failed",
        "run.paused",
        "run.resumed",
        "run.started",
        "run.succeeded",
        "step.failed",
        "step.llm_call",
        "step.retrying",
        "step.skipped",
        "step.started",
        "step.succeeded",
    ]


def test_every_kind_says_what_it_holds() -> None:
    """Each kind has its spec: a TypedDict of its data and its replay role."""
    assert set(KINDS) == set(EventKind)
    for kind, spec in KINDS.items():
        assert is_typeddict(spec.data), kind
        assert spec.replay in ("header", "command", "result", "info")
        assert (spec.step == "required") == kind.startswith(("step.", "compensation.")), kind
    assert [k for k, s in KINDS.items() if s.replay == "header"] == [EventKind.RUN_STARTED]


def test_kind_of_reads_a_stored_type() -> None:
    """A stored type gives its kind; a type this version does not know gives None."""
    assert kind_of("step.started") is EventKind.STEP_STARTED
    assert kind_of("step.exploded") is None
    stored: str = EventKind.STEP_STARTED
    assert stored == "step.started"  # a str: stored and compared as before


WELL_FORMED: list[tuple[str, str | None, int | None, dict[str, Any]]] = [
    (
        "run.started",
        None,
        None,
        {"plan_hash": "sha256:x", "dry_run": False, "parallel": 1, "steps": 2},
    ),
    ("run.resumed", None, None, {"retry": ["a"], "abort": False, "parallel": 4}),
    ("run.paused", None, None, {"reason": "stop"}),
    ("run.paused", "a", None, {"reason": "stop"}),
    ("run.failed", None, None, {"status": "compensated", "reason": "x"}),
    ("run.succeeded", None, None, {"status": "succeeded", "reason": None}),
    ("step.started", "a", 1, {"args": {}, "idempotency_key": "r/a"}),
    ("step.retrying", "a", 2, {"delay_s": 0}),
    ("step.succeeded", "a", 1, {"output": None, "note": "would change: {}"}),
    ("step.failed", "a", 3, {"error": {"kind": "timeout", "message": "timed out"}}),
    ("step.skipped", "a", None, {"reason": "condition `when` is false"}),
    ("compensation.started", "a", None, {"actor": "x.undo"}),
    ("compensation.succeeded", "a", None, {}),
    (
        "compensation.failed",
        "a",
        None,
        {"error": {"kind": "E", "message": "m", "retryable": False}},
    ),
    # A field a later version adds is tolerated.
    ("step.succeeded", "a", 1, {"output": {"v": 1}, "llm": {"model": "m"}}),
]


@pytest.mark.parametrize("event", WELL_FORMED)
def test_well_formed_events_pass(event: tuple[str, str | None, int | None, Any]) -> None:
    """Every kind's documented shape is accepted."""
    assert event_problem(*event) is None


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        (("step.exploded", "a", 1, {}), "unknown type 'step.exploded'"),
        (("step.started", None, 1, {"args": {}, "idempotency_key": "k"}), "names no step"),
        (("step.started", "a", None, {"args": {}, "idempotency_key": "k"}), "has no attempt"),
        (("step.skipped", "a", 1, {"reason": "r"}), "has an attempt"),
        (("run.succeeded", "a", None, {"status": "succeeded", "reason": None}), "names step"),
        (("step.started", "a", True, {"args": {}, "idempotency_key": "k"}), "not a number"),
        (("step.started", "a", 0, {"args": {}, "idempotency_key": "k"}), "not a number from 1"),
        (("step.started", "a", 1, {"idempotency_key": "k"}), "data.args: field required"),
        (("step.succeeded", "a", 1, {"output": [1]}), "data.output"),
        (("step.failed", "a", 1, {"error": "boom"}), "data.error"),
        (("run.resumed", None, None, {"retry": [], "abort": 0, "parallel": 1}), "data.abort"),
        (
            (
                "run.started",
                None,
                None,
                {"plan_hash": "h", "dry_run": False, "parallel": "2", "steps": 1},
            ),
            "data.parallel",
        ),
        (("run.failed", None, None, {"status": "exploded", "reason": None}), "data.status"),
        (("compensation.succeeded", "a", None, []), "data: input should be a valid dictionary"),
    ],
)
def test_malformed_events_are_named(event: tuple[Any, ...], problem: str) -> None:
    """A record that is not an event of its kind gets one sentence saying what is wrong."""
    found = event_problem(*event)
    assert found is not None
    assert problem in found
