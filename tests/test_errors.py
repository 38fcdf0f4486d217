"""The exception hierarchy: exit codes on the classes, retryability, hints."""

from __future__ import annotations

import pytest

from planactor import (
    ActorError,
    CatalogError,
    InputError,
    PlanactorError,
    PlanInvalid,
    PlanLoadError,
    Problem,
    UnexpectedState,
    UnknownActor,
    ValidationReport,
)


def _report(n_errors: int) -> ValidationReport:
    problems = tuple(
        Problem(code="unknown-actor", location=f"steps[{i}].actor", message="unknown actor")
        for i in range(n_errors)
    )
    return ValidationReport(problems=problems)


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (PlanactorError, 1),
        (InputError, 2),
        (PlanLoadError, 2),
        (PlanInvalid, 2),
        (CatalogError, 2),
        (UnknownActor, 2),
        (ActorError, 1),
        (UnexpectedState, 4),
    ],
)
def test_exit_code_lives_on_the_class(cls: type[PlanactorError], code: int) -> None:
    """Each error class carries the documented exit code (bad input 2, failure 1, paused 4)."""
    assert cls.exit_code == code


@pytest.mark.parametrize(
    "error",
    [
        InputError("bad"),
        PlanLoadError("bad", source="p.json"),
        PlanInvalid(_report(1)),
        CatalogError("bad"),
        UnknownActor("x.y"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_input_error_family_instances_exit_2(error: PlanactorError) -> None:
    """Every instance of the InputError family is an InputError and exits with 2."""
    assert isinstance(error, InputError)
    assert error.exit_code == 2


def test_unexpected_state_is_an_actor_error_with_its_own_exit_code() -> None:
    """UnexpectedState is caught as an ActorError but exits with 4, not 1."""
    e = UnexpectedState("array is degraded")
    assert isinstance(e, ActorError)
    assert e.exit_code == 4
    assert ActorError("x").exit_code == 1


def test_actor_error_is_not_input_error() -> None:
    """An actor failure is not a user-input problem (it must not exit 2)."""
    assert not issubclass(ActorError, InputError)
    assert not issubclass(InputError, ActorError)


def test_retryable_defaults_per_class() -> None:
    """ActorError is retryable by default; UnexpectedState is not."""
    assert ActorError("timeout").retryable is True
    assert UnexpectedState("drifted").retryable is False


@pytest.mark.parametrize(
    ("cls", "override"),
    [(ActorError, False), (UnexpectedState, True)],
)
def test_retryable_can_be_overridden_per_instance(cls: type[ActorError], override: bool) -> None:
    """`retryable=` on one instance wins over the class default, without changing the class."""
    default = cls.retryable
    e = cls("x", retryable=override)
    assert e.retryable is override
    assert cls.retryable is default
    assert cls("y").retryable is default


def test_retryable_none_keeps_the_class_default() -> None:
    """Passing retryable=None is the same as not passing it."""
    assert ActorError("x", retryable=None).retryable is True
    assert UnexpectedState("x", retryable=None).retryable is False


def test_constructor_options_are_keyword_only() -> None:
    """The hint and retryable options cannot be passed positionally."""
    with pytest.raises(TypeError):
        ActorError("x", "a hint")  # type: ignore[misc]
    with pytest.raises(TypeError):
        PlanactorError("x", "a hint")  # type: ignore[misc]


def test_message_and_hint_are_kept_and_str_is_the_message() -> None:
    """str(error) is the message alone; the hint is a separate attribute."""
    e = CatalogError("pack 'x' is broken", hint="reinstall it")
    assert str(e) == "pack 'x' is broken"
    assert e.message == "pack 'x' is broken"
    assert e.hint == "reinstall it"
    assert PlanactorError("m").hint is None


def test_unknown_actor_hint_lists_suggestions() -> None:
    """UnknownActor names the actor and turns its suggestions into a did-you-mean hint."""
    e = UnknownActor("core.ecoh", suggestions=("core.echo", "core.sleep"))
    assert e.name == "core.ecoh"
    assert e.suggestions == ("core.echo", "core.sleep")
    assert str(e) == "unknown actor 'core.ecoh'"
    assert e.hint == "did you mean 'core.echo', 'core.sleep'?"


def test_unknown_actor_without_suggestions_points_to_the_actor_list() -> None:
    """With nothing close, the hint tells the user how to list the catalog."""
    e = UnknownActor("zzz.qqq")
    assert e.suggestions == ()
    assert e.hint == "run `planactor actors`"


def test_plan_load_error_carries_its_position() -> None:
    """PlanLoadError keeps the source name, line and column for messages."""
    e = PlanLoadError("bad JSON", source="plan.json", line=3, column=7, hint="fix it")
    assert (e.source, e.line, e.column, e.hint) == ("plan.json", 3, 7, "fix it")
    bare = PlanLoadError("gone", source="-")
    assert (bare.line, bare.column) == (None, None)


@pytest.mark.parametrize(("n", "text"), [(1, "(1 error)"), (3, "(3 errors)")])
def test_plan_invalid_counts_errors_and_keeps_the_report(n: int, text: str) -> None:
    """PlanInvalid's message names the source and counts the errors; the report is attached."""
    report = _report(n)
    e = PlanInvalid(report, source="plan.json")
    assert str(e) == f"plan.json: plan is invalid {text}"
    assert e.report is report
    assert e.source == "plan.json"


def test_plan_invalid_counts_only_errors_not_warnings() -> None:
    """Warnings in the report do not count towards PlanInvalid's error count."""
    report = ValidationReport(
        problems=(
            Problem(code="cycle", location="steps[0]", message="cycle"),
            Problem(code="input-unused", location="inputs.x", message="u", severity="warning"),
        )
    )
    assert str(PlanInvalid(report)) == "plan is invalid (1 error)"
