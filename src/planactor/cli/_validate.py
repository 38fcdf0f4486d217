"""`planactor validate PLAN`: every problem at once; exit 0 when valid, 2 when not."""

from __future__ import annotations

import atexit
import gc
import json
from functools import cache
from pathlib import Path

import typer
from rich.markup import escape

from planactor._errors import InputError, PlanInvalid, PlanLoadError
from planactor._files import read_plan_text
from planactor._reader import LIMITS, read_document
from planactor.cli._app import EXIT_BAD_INPUT, app, catalog, out, print_problems
from planactor.cli._lab_context import LabOption, lab_context
from planactor.plan import Inventory, JsonSyntaxError, parse_json
from planactor.validate import Limits, Problem, ValidationReport, validate_plan


def load_inventory(path: Path) -> Inventory:
    """An inventory file: a JSON object mapping an entity kind to a list of names."""
    raw = read_document(
        path, what="inventory", max_bytes=LIMITS.inventory, label="cannot read inventory"
    )
    try:
        data = parse_json(raw)
    except (JsonSyntaxError, ValueError) as e:
        # JsonSyntaxError is not a ValueError: left uncaught it escaped as an internal error.
        raise InputError(f"{path}: inventory is not valid JSON: {e}") from None
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(n, str) for n in v) for v in data.values()
    ):
        raise InputError(
            f"{path}: an inventory maps each entity kind to a list of names",
            hint='e.g. {"array": ["array-01", "array-02"], "host": ["esx-01"]}',
        )
    return Inventory.from_mapping(data)


@cache
def _no_collection_at_exit() -> None:
    """Freeze every object as the interpreter exits, so that its final collections skip
    them: a tenth of the command's time, spent freeing the classes, schemas and validators
    of every pack (their reference cycles) just before the process returns the memory
    anyway. Sound here: validation opens no file or connection that a finalizer would
    have to close. Registered once per process; atexit runs before those collections."""
    atexit.register(gc.freeze)


@app.command("validate")
def validate_cmd(
    plan: str = typer.Argument(..., help="Plan file (JSON), or - for standard input."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    inventory: Path | None = typer.Option(
        None, "--inventory", help="JSON file: entity kind -> names; checks entity arguments."
    ),
    lab: Path | None = LabOption,
    max_steps: int = typer.Option(
        10_000, min=1, max=10_000_000, help="Refuse plans with more steps."
    ),
    max_bytes: int = typer.Option(
        1 << 20, min=1, max=1 << 30, help="Refuse plans larger than this (at most 1 GiB)."
    ),
) -> None:
    """Check a plan against the catalog (and an inventory); list every problem found."""
    _no_collection_at_exit()
    limits = Limits(max_steps=max_steps, max_bytes=max_bytes)
    try:
        data, source = read_plan_text(plan, limits=limits)
    except PlanLoadError as e:
        if not as_json:
            raise
        report = ValidationReport(
            problems=(Problem(code="unreadable", location="$", message=e.message, hint=e.hint),)
        )
        source = plan
    else:
        inv = load_inventory(inventory) if inventory is not None else None
        ctx = lab_context(lab)  # with a lab: warn of a missing or stale basis
        basis = None
        if ctx is not None:
            from planactor.lab import BasisCheck

            basis = BasisCheck(doc=ctx.lab.read(), path=ctx.path)
        try:  # the hash shown is the one `run` and `approve` bind the plan to
            report = validate_plan(
                data, catalog=catalog(), inventory=inv, limits=limits, policy=basis
            ).report
        except PlanInvalid as e:
            report = e.report
    if as_json:
        out.print_json(json.dumps({"source": source, **report.to_document()}))
    elif report.ok:
        warn = f", {len(report.warnings)} warning(s)" if report.warnings else ""
        # The file's name as it is: no markup or emoji codes in it (and rich's emoji table,
        # a few ms of start-up, stays unloaded).
        out.print(
            f"[green]valid[/] {escape(source)}: {report.step_count} steps{warn}",
            markup=True,
            emoji=False,
        )
        out.print(f"plan hash {report.plan_hash}", markup=False, emoji=False)
        print_problems(report.warnings)
    else:
        n_err, n_warn = len(report.errors), len(report.warnings)
        out.print(
            f"[red]invalid[/] {escape(source)}: {n_err} error(s)"
            + (f", {n_warn} warning(s)" if n_warn else ""),
            markup=True,
            emoji=False,
        )
        print_problems(report.problems)
    if not report.ok:
        raise typer.Exit(EXIT_BAD_INPUT)
