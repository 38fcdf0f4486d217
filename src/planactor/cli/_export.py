"""`planactor export PLAN --to argo|stepfunctions`: the plan for another orchestrator.

The plan is validated first; a plan the target cannot run with the same semantics is
refused (exit 2), naming each step and why. Each step runs `planactor actor-run` there.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer

from planactor._files import load_plan
from planactor.cli._app import app, catalog, err


class Target(StrEnum):
    argo = "argo"
    stepfunctions = "stepfunctions"


@app.command("export")
def export_cmd(
    plan: str = typer.Argument(..., help="Plan file (JSON), or - for standard input."),
    to: Target = typer.Option(..., "--to", help="argo (a Workflow) or stepfunctions (ASL)."),
    output: Path | None = typer.Option(
        None,
        "-o",
        "--output",
        help="Write it here instead of standard output (YAML if it ends in .yaml or .yml).",
    ),
    image: str | None = typer.Option(
        None, "--image", help="argo: the container image with planactor and its packs."
    ),
    resource: str | None = typer.Option(
        None,
        "--resource",
        help="stepfunctions: the Task resource that runs `planactor actor-run` "
        "(an ARN, or e.g. ${ActorRun} for a definition substitution).",
    ),
) -> None:
    """Export a validated plan as an Argo Workflow or a Step Functions state machine."""
    from planactor._errors import InputError
    from planactor.export import DEFAULT_IMAGE, DEFAULT_RESOURCE, to_argo, to_stepfunctions

    cat = catalog()
    validated = load_plan(plan, catalog=cat)
    if to is Target.argo:
        if resource is not None:
            raise InputError("--resource is for --to stepfunctions", hint="use --image for argo")
        doc = to_argo(validated, catalog=cat, image=image or DEFAULT_IMAGE)
    else:
        if image is not None:
            raise InputError("--image is for --to argo", hint="use --resource for stepfunctions")
        doc = to_stepfunctions(validated, catalog=cat, resource=resource or DEFAULT_RESOURCE)
    if output is not None and output.suffix in (".yaml", ".yml"):
        import yaml  # what Argo users keep their manifests in; JSON is YAML too

        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    approvals = len(validated.plan.approvals)
    err.print(
        f"wrote {output} ({to.value}, {len(validated.plan.steps)} steps, {validated.hash}, "
        f"{approvals} approval{'s' if approvals != 1 else ''} recorded)",
        markup=False,
    )
