"""`planactor diff OLD NEW`: what a re-planned change does differently; exit codes as diff(1)."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.text import Text

from planactor._errors import InputError
from planactor._files import load_plan
from planactor.cli._app import EXIT_FAILED, app, catalog, out
from planactor.plan import Plan, PlanDiff, StepChange, ValueChange, diff_plans

_MARK = {"added": ("+", "green"), "removed": ("-", "red"), "changed": ("~", "yellow")}
_WIDTH = 100  # longest value shown before it is cut; --json has the whole value


def _source(path: str) -> str:
    return "<stdin>" if path == "-" else path


@app.command("diff")
def diff_cmd(
    old: str = typer.Argument(
        ..., metavar="OLD", help="The plan as reviewed before (JSON), or - for stdin."
    ),
    new: str = typer.Argument(
        ..., metavar="NEW", help="The re-planned version (JSON), or - for stdin."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the diff as JSON."),
) -> None:
    """Show what changed between two plans: steps added, removed, changed or moved, argument
    by argument. Exit 0 when they behave the same (same hash), 1 when they differ."""
    if old == "-" and new == "-":
        raise InputError(
            "OLD and NEW cannot both be standard input", hint="give at least one of them as a file"
        )
    cat = catalog()
    old_plan = load_plan(old, catalog=cat).plan
    new_plan = load_plan(new, catalog=cat).plan
    result = diff_plans(old_plan, new_plan)
    if as_json:
        doc = {"old_source": _source(old), "new_source": _source(new), **result.to_document()}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_diff(result, new_plan, _source(old), _source(new))
    if not result.same:
        raise typer.Exit(EXIT_FAILED)


def _short(plan_hash: str) -> str:
    algo, _, hexdigest = plan_hash.partition(":")
    return f"{algo}:{hexdigest[:12]}"


def _value(value: Any) -> str:
    """Compact JSON on one line (control characters escaped), cut to a readable width."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= _WIDTH else text[: _WIDTH - 1] + "…"


def _line(indent: int, mark: str, colour: str, *parts: str | tuple[str, str]) -> Text:
    """A Text, never markup: ids, paths and values come from the plan files."""
    return Text.assemble(" " * indent, (f"{mark} ", colour), *parts)


def _change(c: ValueChange, indent: int) -> Text:
    mark, colour = _MARK[c.kind]
    if c.kind == "added":
        shown = _value(c.new)
    elif c.kind == "removed":
        shown = _value(c.old)
    else:
        shown = f"{_value(c.old)} → {_value(c.new)}"
    return _line(indent, mark, colour, (c.path, "bold"), "  ", shown)


def _step_lines(change: StepChange) -> list[Text]:
    lines = [_line(2, "~", "yellow", (change.id, "bold"), "  ", (change.new_actor, "dim"))]
    if change.actor_changed:
        lines.append(
            _line(6, "~", "yellow", ("actor", "bold"), f"  {change.old_actor} → {change.new_actor}")
        )
    lines += [_change(c, 6) for c in change.args]
    lines += [_line(6, "+", "green", ("after", "bold"), f"  {d}") for d in change.after_added]
    lines += [_line(6, "-", "red", ("after", "bold"), f"  {d}") for d in change.after_removed]
    lines += [_change(c, 6) for c in change.settings]
    return lines


def _print_diff(result: PlanDiff, new_plan: Plan, old_name: str, new_name: str) -> None:
    out.print(Text.assemble(("--- ", "red"), old_name, "  ", (_short(result.old_hash), "dim")))
    out.print(Text.assemble(("+++ ", "green"), new_name, "  ", (_short(result.new_hash), "dim")))
    out.print(Text(result.summary() + (" (same hash)" if result.same else ""), style="bold"))
    if result.header:
        out.print()
        out.print(Text("header", style="bold underline"))
        for c in result.header:
            out.print(_change(c, 2))
    if result.steps_added or result.steps_removed or result.steps_changed:
        out.print()
        out.print(Text("steps", style="bold underline"))
        # Added and changed steps as they stand in the new plan, then the removed ones.
        position = {s.id: i for i, s in enumerate(new_plan.steps)}
        rows: list[tuple[int, list[Text]]] = [
            (
                s.index,
                [
                    _line(
                        2,
                        "+",
                        "green",
                        (s.id, "bold"),
                        "  ",
                        (s.actor, "dim"),
                        f"  (new step {s.index + 1})",
                    )
                ],
            )
            for s in result.steps_added
        ]
        rows += [(position[c.id], _step_lines(c)) for c in result.steps_changed]
        for _, lines in sorted(rows, key=lambda row: row[0]):
            for text in lines:
                out.print(text)
        for s in result.steps_removed:
            out.print(
                _line(
                    2,
                    "-",
                    "red",
                    (s.id, "bold"),
                    "  ",
                    (s.actor, "dim"),
                    f"  (was step {s.index + 1})",
                )
            )
    if result.moved:
        out.print()
        out.print(Text("order", style="bold underline"))
        added = {a.id for a in result.steps_added}
        common = [s.id for s in new_plan.steps if s.id not in added]
        at = {sid: k for k, sid in enumerate(common)}
        for sid in result.moved:
            k = at[sid]
            where = f"now after {common[k - 1]}" if k else "now first"
            out.print(_line(2, "~", "yellow", (sid, "bold"), f"  moved: {where}"))
    if result.planner:
        out.print()
        out.print(Text("planner (informational: not part of the hash)", style="dim underline"))
        for c in result.planner:
            out.print(_change(c, 2))
