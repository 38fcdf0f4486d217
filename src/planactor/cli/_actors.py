"""`planactor actors [show NAME]`: what the catalog holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.json import JSON
from rich.table import Table
from rich.text import Text

from planactor.catalog import Actor
from planactor.cli._app import app, catalog, out

actors_app = typer.Typer(help="List the catalog's actors, or show one.", no_args_is_help=False)
app.add_typer(actors_app, name="actors")

_STYLE = {"read": "green", "write": "yellow", "irreversible": "bold red"}


def _describe(a: Actor) -> dict[str, Any]:
    return {
        "name": a.name,
        "pack": catalog().pack_of(a.name),
        "source": a.module,  # a Python module, or "KIND: path/to/pack.yaml" (declarative)
        "description": a.description,
        "effect": a.effect,
        "idempotent": a.idempotent,
        "irreversible": a.irreversible,
        "compensate": a.compensate,
        "dry_run_check": a.check is not None,
        "timeout_s": a.timeout_s,
        "retry": a.retry.model_dump() if a.retry else None,
        "tags": list(a.tags),
        # An LLM skill: a model writes the output (journaled, replayed as recorded).
        "probabilistic": a.probabilistic,
        **(
            {"llm": {"prompt": a.llm.prompt, "max_tokens": a.llm.max_tokens}}
            if a.llm is not None
            else {}
        ),
    }


@actors_app.callback(invoke_without_command=True)
def actors_cmd(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List every actor: name, effect, idempotency, compensation, pack, source."""
    if ctx.invoked_subcommand is not None:
        return
    if as_json:
        out.print_json(json.dumps([_describe(a) for a in catalog()]))
    else:
        print_actor_table()


def print_actor_table() -> None:
    cat = catalog()
    table = Table(title=f"{len(cat)} actors", title_justify="left")
    for col in ("actor", "effect", "idempotent", "compensate", "pack", "source", "description"):
        # Never cut a name short: it is what people copy into plans (and grep for).
        table.add_column(col, no_wrap=col in ("actor", "compensate"))
    for a in cat:
        label: str = "write ⚠ irreversible" if a.irreversible else a.effect
        if a.probabilistic:
            label += " (LLM skill: probabilistic)"
        table.add_row(
            a.name,
            Text(label, style=_STYLE[a.kind]),
            "yes" if a.idempotent else "no",
            a.compensate or "-",
            cat.pack_of(a.name),
            Text(_short_source(a.module)),
            Text(a.description),  # a docstring is text, never rich markup
        )
    out.print(table)


def _short_source(module: str) -> str:
    """`KIND: FOLDER/pack.yaml` for a declarative actor, the module for a Python one."""
    kind, sep, path = module.partition(": ")
    if sep and path.endswith("pack.yaml"):
        return f"{kind}: {Path(path).parent.name}/pack.yaml"
    return module.removeprefix("planactor.")


@actors_app.command("show")
def show_actor(
    name: str = typer.Argument(..., help="Dotted actor name, e.g. graph.shortest_path."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """An actor's metadata and its input and output JSON schemas."""
    a = catalog().get(name)
    doc = {**_describe(a), "input_schema": a.input_schema, "output_schema": a.output_schema}
    if as_json:
        out.print_json(json.dumps(doc))
        return
    for key, value in _describe(a).items():
        out.print(f"[bold]{key:>14}[/] {value}", markup=True)
    out.print("[bold]input schema[/]", markup=True)
    out.print(JSON(json.dumps(a.input_schema)))
    out.print("[bold]output schema[/]", markup=True)
    out.print(JSON(json.dumps(a.output_schema)))
