"""`planactor actor-run NAME --args JSON --key RUN_ID/STEP_ID`: one actor, called once.

What an exported plan's steps run on Argo Workflows or Step Functions (docs/exports.md).
Prints the actor's output as JSON. Exit codes: 0 done (or skipped, as the engine would
skip the step), 1 the actor failed for good, 2 bad input, 4 a person must decide (the
actor found an unexpected state, or a write that is not idempotent timed out), 75 it failed
and another attempt may succeed (EX_TEMPFAIL: what an exported retry policy retries on).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from planactor._errors import InputError
from planactor.cli._app import app, catalog, err
from planactor.cli._lab_context import LabOption, lab_context
from planactor.plan import JsonSyntaxError, parse_json


@app.command("actor-run")
def actor_run_cmd(
    name: str = typer.Argument(..., help="The actor, e.g. core.echo."),
    args: str = typer.Option(
        ...,
        "--args",
        metavar="JSON",
        help='Its arguments: a JSON object, as a plan step writes them ({"$ref": ...} and '
        '{"$input": ...} are resolved from --ref and --inputs).',
    ),
    key: str = typer.Option(
        ...,
        "--key",
        metavar="RUN_ID/STEP_ID",
        help="The idempotency key: the same key is the same call (a retry, a resumed run).",
    ),
    ref: list[str] = typer.Option(
        [],
        "--ref",
        metavar="STEP=JSON",
        help="The output of a step the arguments or --when read. Repeatable.",
    ),
    inputs: str | None = typer.Option(
        None, "--inputs", metavar="JSON", help="The plan inputs the arguments read (an object)."
    ),
    when: str | None = typer.Option(
        None, "--when", metavar="JSON", help="The step's condition: skip unless it holds."
    ),
    timeout: float | None = typer.Option(
        None,
        "--timeout",
        min=0.001,
        help="Seconds before the call is abandoned (default: the actor's own timeout).",
    ),
    compensate: str | None = typer.Option(
        None,
        "--compensate",
        metavar="OUTPUT_JSON",
        help="Run the actor's compensation instead, for the step that returned this output.",
    ),
    output_file: Path | None = typer.Option(
        None, "--output-file", help="Also write the output JSON to this file (Argo reads it)."
    ),
    lab: Path | None = LabOption,
) -> None:
    """Run one actor once with its idempotency key and print its output as JSON."""
    from planactor.export import run_actor_once

    ctx = lab_context(lab)
    result = run_actor_once(
        catalog=catalog(),
        actor=name,
        args=_object(args, "--args"),
        key=key,
        refs=_refs(ref),
        inputs=_object(inputs, "--inputs") if inputs is not None else None,
        when=_object(when, "--when") if when is not None else None,
        timeout_s=timeout,
        compensate_output=_object(compensate, "--compensate") if compensate is not None else None,
        resources=ctx.resources if ctx is not None else None,
    )
    if result.output is not None:
        text = json.dumps(result.output, ensure_ascii=False)
        if output_file is not None:
            output_file.parent.mkdir(parents=True, exist_ok=True)
            output_file.write_text(text + "\n", encoding="utf-8")
        typer.echo(text)
    if result.message is not None:
        err.print(f"error: {result.message}", markup=False)
        if result.hint:
            err.print(f"  hint: {result.hint}", markup=False)
    raise typer.Exit(result.exit_code)


def _value(text: str, option: str) -> Any:
    try:
        return parse_json(text)
    except JsonSyntaxError as e:
        raise InputError(
            f"{option} is not JSON: {e}", hint="quote it for the shell: --args '{\"x\": 1}'"
        ) from None


def _object(text: str, option: str) -> dict[str, Any]:
    value = _value(text, option)
    if not isinstance(value, dict):
        raise InputError(
            f"{option} must be a JSON object, not {type(value).__name__}",
            hint=f'e.g. {option} \'{{"message": "hi"}}\'',
        )
    return value


def _refs(items: list[str]) -> dict[str, Any]:
    refs: dict[str, Any] = {}
    for item in items:
        step, sep, text = item.partition("=")
        if not sep or not step:
            raise InputError(
                f"--ref {item!r} is not STEP=JSON", hint="e.g. --ref check='{\"healthy\": true}'"
            )
        if step in refs:
            raise InputError(f"--ref names step {step!r} twice")
        refs[step] = _value(text, f"--ref {step}")
    return refs
