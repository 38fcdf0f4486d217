"""`planactor routines [show NAME] [expand NAME ...]`: the tested workflow templates."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from planactor.catalog import Routine
from planactor.cli._app import app, catalog, out

routines_app = typer.Typer(
    help="List the routines (tested workflow templates), or show one.", no_args_is_help=False
)
app.add_typer(routines_app, name="routines")


def _describe(name: str, r: Routine) -> dict[str, Any]:
    return {
        "name": name,
        "description": r.description,
        "intent": r.intent,
        "params": r.params_schema(),
        "actors": sorted(r.actors()),
        "examples": list(r.examples),
    }


@routines_app.callback(invoke_without_command=True)
def routines_cmd(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print as JSON.")
) -> None:
    """List every routine the installed packs ship."""
    if ctx.invoked_subcommand is not None:
        return
    routines = catalog().routines
    if as_json:
        out.print_json(json.dumps([_describe(n, r) for n, r in routines.items()]))
        return
    if not routines:
        out.print("no routines installed", markup=False)
        return
    table = Table(title=f"{len(routines)} routine(s)", title_justify="left")
    for col in ("routine", "parameters", "description"):
        table.add_column(col, no_wrap=col == "routine")
    for name, r in routines.items():
        params = ", ".join(
            f"{p}" + ("" if spec.default is None else f"={spec.default}")
            for p, spec in r.params.items()
        )
        table.add_row(Text(name), Text(params), Text(r.description))  # never markup
    out.print(table)


@routines_app.command("show")
def routines_show(
    name: str = typer.Argument(..., help="The routine's name."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Show a routine's parameters, the actors it calls and example intents."""
    r = catalog().routine(name)
    doc = _describe(name, r)
    if as_json:
        out.print_json(json.dumps(doc))
        return
    out.print(f"{name}: {r.description}", markup=False)
    out.print(f"intent: {r.intent}", markup=False)
    for p, spec in r.params.items():
        extra = []
        if spec.entity:
            extra.append(f"a {spec.entity} from the inventory")
        if spec.pattern:
            extra.append(f"matching {spec.pattern}")
        if spec.default is not None:
            extra.append(f"default {spec.default}")
        tail = f" ({'; '.join(extra)})" if extra else ""
        out.print(f"  {p}: {spec.type}, {spec.description}{tail}", markup=False)
    out.print(f"actors: {', '.join(sorted(r.actors()))}", markup=False)
    for e in r.examples:
        out.print(f"  e.g. {e}", markup=False)
