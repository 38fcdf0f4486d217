"""`planactor schema plan`: the JSON Schema of the plan format."""

from __future__ import annotations

import json
import sys

import typer

from planactor.cli._app import app
from planactor.plan import Plan

schema_app = typer.Typer(help="JSON Schemas of planactor's file formats.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")


def plan_schema() -> dict[str, object]:
    schema = Plan.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:planactor:v1:plan",
        **schema,
    }


@schema_app.command("plan")
def schema_plan() -> None:
    """Print the JSON Schema of a plan (draft 2020-12)."""
    sys.stdout.write(json.dumps(plan_schema(), indent=2) + "\n")
