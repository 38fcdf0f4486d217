"""`planactor.validate._report`: problems, the report and limits as plain data."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from planactor import Catalog, Limits, Problem, ValidationReport, validate

ERROR = Problem(
    code="unknown-actor",
    location="steps[1].actor",
    message="unknown actor 'core.ecko'",
    hint="did you mean 'core.echo'?",
    step="b",
)
WARNING = Problem(
    code="input-unused",
    location="inputs.spare",
    message="input 'spare' is declared but no step uses it",
    severity="warning",
)
SYNTAX = Problem(
    code="json-syntax",
    location="$",
    message="not valid JSON: Expecting value",
    line=3,
    column=13,
)


def test_problem_defaults_to_an_error_without_extras() -> None:
    """A problem is an error unless told otherwise, with no hint, step or position."""
    p = Problem(code="c", location="$", message="m")
    assert (p.severity, p.hint, p.step, p.line, p.column) == ("error", None, None, None, None)


def test_problem_is_frozen_and_keyword_only() -> None:
    """Problems are immutable values built with keywords."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        ERROR.code = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Problem("c", "$", "m")  # type: ignore[misc]


def test_problem_to_dict_leaves_out_what_is_unset() -> None:
    """to_dict keeps the set fields (severity always) and drops the None ones."""
    assert ERROR.to_document() == {
        "code": "unknown-actor",
        "location": "steps[1].actor",
        "message": "unknown actor 'core.ecko'",
        "hint": "did you mean 'core.echo'?",
        "severity": "error",
        "step": "b",
    }
    assert SYNTAX.to_document()["line"] == 3
    assert SYNTAX.to_document()["column"] == 13
    assert "hint" not in WARNING.to_document()


def test_problem_str_shows_severity_location_message_code_and_hint() -> None:
    """str(problem) is one line 'severity: location: message [code]' plus a hint line."""
    assert str(ERROR) == (
        "error: steps[1].actor: unknown actor 'core.ecko' [unknown-actor]\n"
        "  hint: did you mean 'core.echo'?"
    )
    assert str(WARNING) == (
        "warning: inputs.spare: input 'spare' is declared but no step uses it [input-unused]"
    )


def test_problem_str_shows_line_and_column() -> None:
    """A problem with a text position shows it after the location."""
    assert str(SYNTAX).startswith("error: $ (line 3, column 13): not valid JSON")


def test_empty_report_is_ok() -> None:
    """A report with no problems is ok, with nothing in errors or warnings."""
    report = ValidationReport()
    assert report.ok
    assert report.errors == report.warnings == ()
    assert report.codes() == []


def test_warnings_alone_keep_a_report_ok() -> None:
    """Only errors make a report not ok."""
    assert ValidationReport(problems=(WARNING,)).ok
    assert not ValidationReport(problems=(WARNING, ERROR)).ok


def test_errors_and_warnings_partition_the_problems_in_order() -> None:
    """errors and warnings split the problems by severity, keeping document order."""
    report = ValidationReport(problems=(SYNTAX, WARNING, ERROR))
    assert report.errors == (SYNTAX, ERROR)
    assert report.warnings == (WARNING,)
    assert report.codes() == ["json-syntax", "input-unused", "unknown-actor"]


def test_report_to_dict_summarises_and_lists() -> None:
    """to_dict gives ok, hash, step count, error and warning counts and every problem."""
    report = ValidationReport(problems=(WARNING, ERROR), plan_hash=None, step_count=2)
    assert report.to_document() == {
        "ok": False,
        "plan_hash": None,
        "steps": 2,
        "errors": 1,
        "warnings": 1,
        "problems": [WARNING.to_document(), ERROR.to_document()],
    }


@pytest.mark.parametrize(
    "plan",
    [
        '{\n  "api_version": "planactor/v1",\n  "intent": \n}',
        {
            "api_version": "planactor/v1",
            "intent": "say hi",
            "requested_by": "bob",
            "inputs": {"spare": 1},
            "steps": [
                {"id": "a", "actor": "core.echo", "args": {"message": "hi"}},
                {"id": "b", "actor": "core.ecko", "args": {}},
            ],
        },
        {
            "api_version": "planactor/v1",
            "intent": "say hi",
            "requested_by": "bob",
            "steps": [{"id": "a", "actor": "core.echo", "args": {"message": "hi"}}],
        },
    ],
    ids=["syntax", "mixed", "valid"],
)
def test_report_to_dict_is_json(plan: Any) -> None:
    """The dict form of a real report survives json.dumps/json.loads unchanged."""
    report = validate(plan, catalog=Catalog.discover())
    data = report.to_document()
    assert json.loads(json.dumps(data)) == data
    assert data["ok"] is report.ok
    assert len(data["problems"]) == len(report.problems)


def test_limit_defaults() -> None:
    """By default a plan may have 10,000 steps and 1 MiB of JSON, as documented."""
    assert Limits() == Limits(max_steps=10_000, max_bytes=1_048_576)


def test_limits_are_frozen() -> None:
    """Limits cannot be changed after they are made."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        Limits().max_steps = 5  # type: ignore[misc]
