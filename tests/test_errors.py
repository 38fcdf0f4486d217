"""The exception hierarchy: the drawing in its docstring, exports, exit codes, retryability,
hints."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator

import pytest

import planactor
from planactor import (
    ActorError,
    ApprovalRequired,
    BackendError,
    CatalogError,
    InputError,
    JournalError,
    PlanactorError,
    PlanInvalid,
    PlanLoadError,
    Problem,
    RunBusy,
    UnexpectedState,
    UnknownActor,
    ValidationReport,
)
from planactor import _errors as errors_module

# One node of the drawing: its branch prefix ("│   ├── "...), class name and exit code.
_NODE = re.compile(r"^(?P<prefix>(?:[│ ]   )*(?:[├└]── )?)(?P<name>[A-Z]\w*)\s+exit (?P<code>\d)\b")


def parse_tree(doc: str) -> dict[str, tuple[str | None, int]]:
    """The drawing's classes: name -> (parent name or None for the root, exit code)."""
    nodes: dict[str, tuple[str | None, int]] = {}
    parents: list[str] = []  # parents[d] is the last class drawn at depth d
    lines = doc.splitlines()
    # The drawing is indented as a block; its first node (the root) sets the margin.
    drawn = [x for x in lines if _NODE.match(x.lstrip(" "))]
    margin = min((len(x) - len(x.lstrip(" ")) for x in drawn), default=0)
    for line in lines:
        m = _NODE.match(line[margin:])
        if m is None:
            continue
        depth = len(m["prefix"]) // 4
        assert depth <= len(parents), f"{m['name']} is drawn deeper than any parent: {line!r}"
        del parents[depth:]
        assert m["name"] not in nodes, f"{m['name']} is drawn twice"
        nodes[m["name"]] = (parents[-1] if parents else None, int(m["code"]))
        parents.append(m["name"])
    return nodes


def mismatches(
    drawing: dict[str, tuple[str | None, int]], classes: dict[str, type[BaseException]]
) -> list[str]:
    """Every way the drawing and the classes disagree (names, parents, exit codes)."""
    problems = [f"{n} is a class but not drawn" for n in sorted(classes.keys() - drawing.keys())]
    problems += [f"{n} is drawn but not a class" for n in sorted(drawing.keys() - classes.keys())]
    for name in sorted(drawing.keys() & classes.keys()):
        parent, code = drawing[name]
        cls = classes[name]
        base = cls.__base__
        real_parent = base.__name__ if base is not None and base in classes.values() else None
        if parent != real_parent:
            problems.append(f"{name} is drawn under {parent}, its base is {real_parent}")
        real_code = getattr(cls, "exit_code", None)
        if code != real_code:
            problems.append(f"{name} is drawn with exit {code}, its class says {real_code}")
    return problems


def _defined_in_errors() -> dict[str, type[BaseException]]:
    return {
        name: cls
        for name, cls in vars(errors_module).items()
        if isinstance(cls, type)
        and issubclass(cls, BaseException)
        and cls.__module__ == errors_module.__name__
    }


def _subclasses(cls: type[BaseException]) -> Iterator[type[BaseException]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_the_drawing_matches_the_classes_and_their_exit_codes() -> None:
    """The tree in the _errors docstring names every class, its base and its exit code."""
    assert errors_module.__doc__ is not None
    drawing = parse_tree(errors_module.__doc__)
    assert mismatches(drawing, _defined_in_errors()) == []
    assert drawing["PlanactorError"] == (None, 1)


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        (
            """
            PlanactorError  exit 1  base
            ├── InputError  exit 2  bad input
            └── ActorError  exit 1  failed
                └── UnexpectedState  exit 1  paused
            """,
            "UnexpectedState is drawn with exit 1, its class says 4",
        ),
        (
            """
            PlanactorError  exit 1  base
            ├── InputError  exit 2  bad input
            │   └── UnexpectedState  exit 4  paused
            └── ActorError  exit 1  failed
            """,
            "UnexpectedState is drawn under InputError, its base is ActorError",
        ),
        (
            """
            PlanactorError  exit 1  base
            └── ActorError  exit 1  failed
                └── UnexpectedState  exit 4  paused
            """,
            "InputError is a class but not drawn",
        ),
    ],
    ids=["exit-code", "parent", "missing"],
)
def test_a_wrong_drawing_is_caught(doc: str, problem: str) -> None:
    """A drawing with a wrong exit code, a wrong parent or a missing class is reported."""
    classes: dict[str, type[BaseException]] = {
        "PlanactorError": PlanactorError,
        "InputError": InputError,
        "ActorError": ActorError,
        "UnexpectedState": UnexpectedState,
    }
    assert mismatches(parse_tree(doc), classes) == [problem]


def test_every_error_class_is_exported_from_planactor() -> None:
    """Each class of the hierarchy is in `planactor.__all__`, as the same object."""
    for name, cls in _defined_in_errors().items():
        assert name in planactor.__all__, f"{name} is not exported from planactor"
        assert getattr(planactor, name) is cls


def test_no_planactor_error_is_defined_outside_the_one_tree() -> None:
    """Every PlanactorError subclass in planactor lives in _errors, except packs' own errors
    (subclasses of ActorError under planactor.actors)."""
    for info in pkgutil.walk_packages(planactor.__path__, "planactor."):
        importlib.import_module(info.name)
    elsewhere = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _subclasses(PlanactorError)
        if cls.__module__.startswith("planactor.")
        and cls.__module__ != errors_module.__name__
        and not (cls.__module__.startswith("planactor.actors.") and issubclass(cls, ActorError))
    ]
    assert elsewhere == []


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
        (ApprovalRequired, 3),
        (BackendError, 1),
        (JournalError, 1),
        (RunBusy, 1),
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
