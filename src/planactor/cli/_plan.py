"""`planactor plan "INTENT"`: intent in, a validated, grounded, reviewable plan out."""

from __future__ import annotations

import getpass
import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from planactor._errors import InputError
from planactor._files import save_plan
from planactor.cli._app import app, catalog, kind_of, out, print_problems
from planactor.cli._approve import PolicyOption
from planactor.cli._lab_context import LabOption, lab_context
from planactor.cli._validate import load_inventory
from planactor.plan import render_table
from planactor.planner import PlanResult, RoutinePlanner, ungrounded_values
from planactor.policy import load_policy
from planactor.validate import AllOf, Inventory

_SOURCE_STYLE = {"intent": "green", "default": "dim", "fuzzy": "yellow"}


class PlannerName(StrEnum):
    routine = "routine"


def requester() -> str:
    """Who is asking: $PLANACTOR_USER, else the login name."""
    name = os.environ.get("PLANACTOR_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """`--param NAME=VALUE`: VALUE as JSON when it parses (numbers, lists), else a string."""
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(
                f"--param {pair!r} is not NAME=VALUE", hint="e.g. --param version=5.2.1"
            )
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        params[name.strip()] = value
    return params


def ungrounded(result: PlanResult, inventory: Inventory | None) -> list[tuple[str, str, Any]]:
    """(step, path, value) for every argument value that comes from nowhere we trust: not
    the intent, not the inventory, not the routine's own text or defaults."""
    routine = result.chosen.routine
    trusted: list[Any] = [p.default for p in routine.params.values() if p.default is not None]
    trusted += [n.value for n in result.chosen.grounding.notes if n.value is not None]

    def literals(value: Any) -> None:  # values written in the tested routine itself
        if isinstance(value, dict):
            if not (len(value) == 1 and next(iter(value)).startswith("$")):
                for v in value.values():
                    literals(v)
        elif isinstance(value, list):
            for v in value:
                literals(v)
        else:
            trusted.append(value)

    for t in routine.steps:
        literals(t.args)
    return [
        (step.id, f"args.{where}", value)
        for step in result.plan.steps
        for where, value in ungrounded_values(step.args, result.plan.intent, inventory, trusted)
    ]


@app.command("plan")
def plan_cmd(
    intent: str = typer.Argument(..., help='What you want done, e.g. "upgrade array-01 to 5.2.1".'),
    planner: PlannerName = typer.Option(
        PlannerName.routine, "--planner", help="routine: tested templates, grounded by code."
    ),
    lab: Path | None = LabOption,
    inventory: Path | None = typer.Option(
        None, "--inventory", help="JSON file: entity kind -> names (when there is no lab)."
    ),
    routine: str | None = typer.Option(None, "--routine", help="Use this routine."),
    param: list[str] = typer.Option([], "--param", help="NAME=VALUE, overriding grounding."),
    requested_by: str | None = typer.Option(
        None, "--requested-by", help="Requester (default: $PLANACTOR_USER or your login)."
    ),
    ticket: str | None = typer.Option(None, "--ticket", help="Change ticket, e.g. CHG-123."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the plan here."),
    policy_file: Path | None = PolicyOption,
    as_json: bool = typer.Option(False, "--json", help="Print the plan and notes as JSON."),
) -> None:
    """Compile an intent into a plan: choose a routine, ground it, expand it, validate it."""
    del planner  # one planner so far; the option is the stable interface for the others
    ctx = lab_context(lab)
    inv = load_inventory(inventory) if inventory is not None else (ctx.inventory if ctx else None)
    facts = ctx.facts if ctx else None
    policy = AllOf(load_policy(policy_file), ctx.safety if ctx else None)
    result = RoutinePlanner(catalog=catalog(), inventory=inv, facts=facts, policy=policy).plan(
        intent,
        requested_by=requested_by or requester(),
        change_ticket=ticket,
        routine=routine,
        params=parse_params(param),
    )
    flagged = ungrounded(result, inv)
    if output is not None:
        save_plan(result.plan, output)
    notes = result.chosen.grounding.notes
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "plan_hash": result.report.plan_hash,
                    "routine": result.chosen.routine.name,
                    "plan": result.plan.to_document(),
                    "grounding": [
                        {"param": n.param, "value": n.value, "source": n.source, "detail": n.detail}
                        for n in notes
                    ],
                    "ungrounded": [{"step": s, "path": p, "value": v} for s, p, v in flagged],
                    "warnings": [w.to_dict() for w in result.report.warnings],
                    "written_to": str(output) if output else None,
                }
            )
        )
        return
    out.print(render_table(result.plan, kind_of, title=result.plan.intent))
    out.print(f"plan hash {result.report.plan_hash}", markup=False)
    out.print(
        f"routine {result.chosen.routine.name} (planner: routine, no model; "
        f"{len(result.plan.steps)} steps)",
        markup=False,
    )
    for n in notes:
        line = Text(f"  {n.param} = {json.dumps(n.value)}  ")
        line.append(f"[{n.source}] {n.detail}", style=_SOURCE_STYLE.get(n.source, ""))
        out.print(line)
    if flagged:
        out.print(Text("ungrounded values (check them in review):", style="bold yellow"))
        for s, p, v in flagged:
            out.print(f"  {s}.{p} = {json.dumps(v)}", markup=False)
    print_problems(result.report.warnings)
    if output is not None:
        out.print(
            f"written to {output}; next: `planactor approve {output} --as NAME`", markup=False
        )
