"""planactor.cli._layout: plan tables that fit 60, 80 and 160 columns and captured output."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from clitools import run
from planactor.cli._app import out
from planactor.cli._layout import args_summary, fit, print_plan
from planactor.plan import Plan, StepKind

KINDS: dict[str, StepKind] = {
    "storage.preflight": "read",
    "storage.move_paths": "write",
    "storage.reboot_controller": "irreversible",
}
WIDTHS = (60, 80, 160)


def kind_of(actor: str) -> StepKind:
    return KINDS.get(actor, "unknown")


def _plan() -> Plan:
    steps: list[dict[str, Any]] = [
        {"id": "preflight", "actor": "storage.preflight", "args": {"array": "array-01"}}
    ]
    for n in range(1, 4):
        steps.append(
            {
                "id": f"drain-first-esx-0{n}",
                "actor": "storage.move_paths",
                "args": {"array": "array-01", "host": f"esx-0{n}", "to_controller": "array-01-b"},
                "after": ["preflight"],
                "on_failure": "compensate",
            }
        )
    steps.append(
        {
            "id": "reboot",
            "actor": "storage.reboot_controller",
            "args": {"array": "array-01", "note": "a long free-text reason " * 4, "n": "1"},
            "after": [f"drain-first-esx-0{n}" for n in range(1, 4)],
        }
    )
    steps.append({"id": "notify", "actor": "chat.post", "args": {"text": "done ✓ 完了"}})
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "Upgrade the firmware on array-01 to 5.2.1",
            "requested_by": "sam",
            "steps": steps,
        }
    )


def _render(plan: Plan, width: int, **kw: Any) -> list[str]:
    buf = io.StringIO()
    console = Console(file=buf, width=width, highlight=False, soft_wrap=True)
    print_plan(console, plan, kind_of, title=plan.intent, **kw)
    return buf.getvalue().splitlines()


def _step_lines(lines: list[str], plan: Plan) -> dict[str, str]:
    """The one line of each step, found by its id as a whole word after the rule."""
    rule = next(i for i, line in enumerate(lines) if line.startswith("─"))
    rows = lines[rule + 1 : rule + 1 + len(plan.steps)]
    found = {}
    for step, row in zip(plan.steps, rows, strict=True):
        assert f" {step.id} " in f" {row} ", f"step {step.id!r} not whole on its line: {row!r}"
        found[step.id] = row
    return found


@pytest.mark.parametrize("width", WIDTHS)
def test_no_line_exceeds_the_width(width: int) -> None:
    """Every line of the table, the title, the legend and the hint fits the width."""
    lines = _render(_plan(), width)
    assert lines
    assert max(len(line) + sum(1 for ch in line if ch == "完") for line in lines) <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_one_line_per_step_with_ids_and_actors_whole(width: int) -> None:
    """Each step is one line holding its id and its actor name whole, never split."""
    plan = _plan()
    rows = _step_lines(_render(plan, width), plan)
    for step in plan.steps:
        assert f" {step.actor} " in f" {rows[step.id]} "


@pytest.mark.parametrize("width", WIDTHS)
def test_arguments_are_a_prefix_cut_with_an_ellipsis(width: int) -> None:
    """The arguments shown are the start of `key=value ...`, ending in '…' when cut."""
    plan = _plan()
    rows = _step_lines(_render(plan, width), plan)
    for step in plan.steps:
        full = args_summary(step.args)
        row = rows[step.id]
        start = row.index(f" {next(iter(step.args))}=") + 1
        shown = row[start:].split("  ")[0]  # the next column, if any, is two spaces on
        if shown.endswith("…"):
            assert full.startswith(shown[:-1].rstrip()), (shown, full)
        else:
            assert shown == full


def test_badges_and_their_legend() -> None:
    """Effects show as R, W, W! and ?, with a legend naming only the badges used."""
    lines = _render(_plan(), 80)
    legend = next(line for line in lines if line.startswith("effect: "))
    assert legend == (
        "effect: R read · W write · W! irreversible write (no undo) · ? unknown actor"
    )
    rows = _step_lines(lines, _plan())
    assert "  W!  " in rows["reboot"]
    assert "  ?  " in rows["notify"]


def test_narrow_drops_columns_before_the_arguments() -> None:
    """At 60 columns 'on failure', '#' and 'after' go before the arguments get too narrow;
    at 160 every column is shown and nothing is cut."""
    narrow = _render(_plan(), 60)
    header = narrow[1]
    assert header.split() == ["step", "actor", "eff", "args"]
    assert narrow[-1] == "full arguments: --wide, or --format json"
    wide = _render(_plan(), 160)
    assert wide[1].split() == ["#", "step", "actor", "eff", "after", "args", "on", "failure"]


def test_wide_shows_every_argument_in_full() -> None:
    """`wide` lays every column out at full length, whatever the width."""
    plan = _plan()
    rows = _step_lines(_render(plan, 60, wide=True), plan)
    for step in plan.steps:
        assert args_summary(step.args) in rows[step.id]


def test_args_summary_reads_like_key_value() -> None:
    """Plain words are bare, other strings and numbers-as-strings quoted, refs arrows."""
    summary = args_summary(
        {"a": "array-01", "b": "two words", "c": "1", "d": 1, "e": {"$ref": "x.output.y"}}
    )
    assert summary == 'a=array-01 b="two words" c="1" d=1 e=←x.output.y'


def test_fit_cuts_by_terminal_cells() -> None:
    """fit keeps text that fits, cuts longer text to the width with '…', counts wide
    characters as two cells, and can cut after a whole word."""
    assert fit("abc", 3) == "abc"
    assert fit("abcdef", 4) == "abc…"
    assert fit("完了完了", 5) == "完了…"
    assert fit("host=esx-01 to_controller=a", 16, words=True) == "host=esx-01 …"
    assert fit("host=esx-01 to_controller=a", 20, words=True) == "host=esx-01 to_cont…"
    assert fit("abc", 0) == ""


# -- through the command line ------------------------------------------------------------------


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(_plan().model_dump_json(), encoding="utf-8")
    return path


@pytest.mark.parametrize("width", [*WIDTHS, None])
def test_show_fits_the_terminal_and_captured_output(
    width: int | None,
    plan_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`show` fits COLUMNS, and 80 columns when captured; only the hash line, an
    identifier never cut, may be longer."""
    if width is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(width))
    # The console reads COLUMNS unless a width was set on it (a test that patched `width`
    # leaves one behind): cleared for this test, put back after.
    monkeypatch.setattr(out, "_width", None)
    expected = width or 80
    assert out.width == expected  # rich: COLUMNS, else 80 when not a terminal
    code, text, _ = run(capsys, "show", str(plan_file))
    assert code == 0
    digest = _plan().hash
    too_long = [line for line in text.splitlines() if len(line) > expected]
    assert all(line.endswith(digest) for line in too_long), too_long
    assert any(line.endswith(digest) for line in text.splitlines())
    assert "drain-first-esx-02" in text
    assert "storage.reboot_controller" in text


def test_show_wide_prints_every_argument(
    plan_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`show --wide` prints each step's arguments in full, even in 60 columns."""
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setattr(out, "_width", None)
    code, text, _ = run(capsys, "show", "--wide", str(plan_file))
    assert code == 0
    for step in _plan().steps:
        assert args_summary(step.args) in text


def test_shared_arguments_are_said_once_and_optional_columns_give_way() -> None:
    """When the table must cut, an argument every step is given with the same value is
    printed once above it and left out of the rows, and optional columns go when that lets
    every argument show whole; with room enough, rows keep everything and nothing is cut."""
    doc = _plan().model_dump(mode="json")
    doc["steps"] = [s for s in doc["steps"] if s["id"] != "notify"]  # all others name array-01
    doc["steps"][-1]["args"].pop("note")  # the reboot's long note: now every argument is short
    plan = Plan.model_validate(doc)
    narrow = _render(plan, 100)
    assert narrow[1] == "every step: array=array-01"
    assert narrow[2].split() == ["step", "actor", "eff", "args"]  # on failure, #, after went
    rows = _step_lines(narrow, plan)
    for step in plan.steps:
        rest = {k: v for k, v in step.args.items() if k != "array"}
        assert rows[step.id].rstrip().endswith(args_summary(rest))
        assert "array=array-01" not in rows[step.id]
    roomy = _render(plan, 300)
    assert not any(line.startswith(("every step", "full arguments")) for line in roomy)
    assert "array=array-01 host=esx-01" in _step_lines(roomy, plan)["drain-first-esx-01"]
