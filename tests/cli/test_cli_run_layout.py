"""`run` summaries and the `runs` list laid out by planactor.cli._layout: one line per step
or run, fitting 60, 80 and 160 columns and captured output (80)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clitools import run, write_plan
from planactor.cli._app import out

WIDTHS = (60, 80, 160)
LONG = "a message long enough to be cut at every width we test " * 3


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    steps = [
        {"id": "first-echo-with-a-long-id", "actor": "core.echo", "args": {"message": LONG}},
        {
            "id": "second",
            "actor": "core.echo",
            "args": {"message": "short"},
            "after": ["first-echo-with-a-long-id"],
        },
    ]
    return write_plan(tmp_path, steps, intent="Echo twice, once at length: " + LONG)


@pytest.mark.parametrize("width", [*WIDTHS, None])
def test_run_summary_is_one_line_per_step_within_the_width(
    width: int | None,
    plan_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each step's line holds its whole id and state; its output is cut to fit with '…';
    --json keeps the output whole."""
    if width is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(width))
    # The console reads COLUMNS unless a width was set on it (a test that patched `width`
    # leaves one behind): cleared for this test, put back after.
    monkeypatch.setattr(out, "_width", None)
    code, text, _ = run(capsys, "run", str(plan_file), "--dry-run", "--db", ":memory:")
    assert code == 0
    lines = text.splitlines()
    assert all(len(line) <= (width or 80) for line in lines), lines
    (first,) = [line for line in lines if line.startswith("first-echo-with-a-long-id ")]
    assert " succeeded " in first
    assert first.endswith("…")
    assert any(line.startswith("second ") and " succeeded " in line for line in lines)
    code, text, _ = run(capsys, "run", str(plan_file), "--dry-run", "--db", ":memory:", "--json")
    assert LONG.strip() in json.dumps(json.loads(text))


@pytest.mark.parametrize("width", WIDTHS)
def test_runs_lists_one_line_per_run_within_the_width(
    width: int,
    plan_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`runs` shows each run id whole on its own line and cuts the intent to fit."""
    db = str(tmp_path / "journal.db")
    assert run(capsys, "run", str(plan_file), "--dry-run", "--db", db)[0] == 0
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setattr(out, "_width", None)  # as above
    code, text, _ = run(capsys, "runs", "--db", db)
    assert code == 0
    lines = text.splitlines()
    rows = [line for line in lines if line.startswith("run-")]
    assert len(rows) == 1
    assert all(len(line) <= width for line in lines[1:]), lines  # [0] names the file
    assert "Echo twice" in rows[0]
    assert rows[0].rstrip().endswith("…")
