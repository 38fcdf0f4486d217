"""`planactor show PLAN`: the plan as a table, Mermaid, Graphviz DOT or normalised JSON."""

from __future__ import annotations

import json
import sys
from enum import StrEnum

import typer
from pydantic import ValidationError
from rich.text import Text

from planactor._errors import PlanInvalid
from planactor._files import read_plan_text
from planactor.cli._app import app, catalog, err, kind_of, out
from planactor.cli._layout import print_plan
from planactor.plan import Plan, render_dot, render_mermaid
from planactor.validate import validate


class Format(StrEnum):
    table = "table"
    mermaid = "mermaid"
    dot = "dot"
    json = "json"


@app.command("show")
def show_cmd(
    plan: str = typer.Argument(..., help="Plan file (JSON), or - for standard input."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="How to render it."),
    wide: bool = typer.Option(
        False, "--wide", "-w", help="Table: every argument in full, however wide the lines."
    ),
) -> None:
    """Render a plan for review. Invalid plans are still shown if their structure parses."""
    data, source = read_plan_text(plan)
    report = validate(data, catalog=catalog())
    try:
        parsed = Plan.model_validate_json(data)
    except ValidationError:
        raise PlanInvalid(report, source=source) from None
    if fmt is Format.mermaid:
        sys.stdout.write(render_mermaid(parsed, kind_of))
    elif fmt is Format.dot:
        sys.stdout.write(render_dot(parsed, kind_of))
    elif fmt is Format.json:
        sys.stdout.write(json.dumps(parsed.to_document(), indent=2, ensure_ascii=False) + "\n")
    else:
        meta = f"requested by {parsed.requested_by}"
        if parsed.change_ticket:
            meta += f" · ticket {parsed.change_ticket}"
        meta += f" · {len(parsed.steps)} steps"
        print_plan(
            out,
            parsed,
            kind_of,
            title=parsed.intent,
            wide=wide,
            meta=meta,
            before=[
                # Whole, on a line of its own: the hash is what approvals bind, copied and compared.
                Text(f"hash {parsed.hash}" if out.width >= len(parsed.hash) + 5 else parsed.hash)
            ],
        )
        if parsed.planner is not None:
            p = parsed.planner
            out.print(
                f"planner: {p.backend}"
                + (f" {p.model}" if p.model else "")
                + f" · {p.attempts} attempt(s) · {p.tokens_in}+{p.tokens_out} tokens"
                + f" · {p.latency_s:.2f}s",
                markup=False,
                style="dim",
            )
            # What the request asked that this plan does not do: a reviewer must see it.
            for n in (p.model_extra or {}).get("not_planned", []):
                if isinstance(n, dict):
                    out.print(
                        f'not planned: "{n.get("clause")}": {n.get("reason")}',
                        markup=False,
                        style="yellow",
                    )
    if not report.ok:
        err.print(
            f"[yellow]warning:[/] {source} has {len(report.errors)} validation error(s); "
            f"run `planactor validate {plan}`",
            markup=True,
        )
