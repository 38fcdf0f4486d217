"""Kind `command`: run a program with an argv template, never through a shell.

Each argv item of the template is one item of the command: an argument's value fills its
placeholder as text, so a value with spaces, quotes, `;`, `$(...)` or a newline stays one
item and is never interpreted (there is no shell to interpret it). The arguments were
validated against the input schema before the call. The environment is a small fixed one
(PATH, LANG, HOME) plus what the pack declares and the call's idempotency key.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from planactor._errors import ActorError
from planactor.actors.kinds._common import (
    Redactor,
    context_values,
    fill,
    make_output,
    read_secret,
)
from planactor.catalog import ActorContext
from planactor.catalog._pack import declared_values, inside
from planactor.catalog._pack_schema import ActorDecl, CommandSpec, SecretRef

__all__ = ["bind", "command_argv"]

_TAIL = 2000


def command_argv(
    template: list[str], folder: Path, args: Mapping[str, Any], ctx: Mapping[str, str]
) -> list[str]:
    """The argv: one item per template item; a program named by a path is the pack's."""
    program = template[0]
    if "/" in program:
        program = str(inside(folder, program, what="program"))
    return [program, *(fill(item, args, ctx) for item in template[1:])]


def _env(spec: CommandSpec, folder: Path, ctx: ActorContext, dry_run: bool) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": os.environ.get("HOME", "/"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PLANACTOR_IDEMPOTENCY_KEY": ctx.idempotency_key,
        "PLANACTOR_RUN_ID": ctx.run_id,
        "PLANACTOR_STEP_ID": ctx.step_id,
        "PLANACTOR_DRY_RUN": "1" if dry_run else "0",
    }
    for name, value in spec.env.items():
        env[name] = read_secret(name, value, folder) if isinstance(value, SecretRef) else value
    return env


def _run(
    decl: ActorDecl,
    spec: CommandSpec,
    folder: Path,
    template: list[str],
    inp: BaseModel,
    ctx: ActorContext,
    *,
    dry_run: bool,
) -> tuple[int, str]:
    argv = command_argv(template, folder, declared_values(inp), context_values(ctx))
    env = _env(spec, folder, ctx, dry_run)
    redact = Redactor(
        {k: v for k, v in env.items() if k in spec.env and isinstance(spec.env[k], SecretRef)}
    )
    try:
        proc = subprocess.run(
            argv,
            cwd=inside(folder, spec.cwd, what="working directory"),
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=decl.timeout_s,
            check=False,
        )
    except FileNotFoundError:
        raise ActorError(
            f"{decl.name}: no program {argv[0]!r}",
            hint="install it, or name a program inside the pack",
            retryable=False,
        ) from None
    except ValueError:  # subprocess refuses an embedded NUL: no argv item can hold one
        raise ActorError(
            f"{decl.name}: an argument holds a NUL character, which no argv item can carry",
            retryable=False,
        ) from None
    except subprocess.TimeoutExpired:
        raise ActorError(
            f"{decl.name}: {argv[0]} did not finish within {decl.timeout_s} s (killed)",
            # Killed midway: only an idempotent actor may safely be run again.
            retryable=decl.effect == "read" if decl.idempotent is None else decl.idempotent,
        ) from None
    stdout = proc.stdout[: spec.max_output_bytes].decode("utf-8", "replace")
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", "replace").strip()[-_TAIL:]
        raise ActorError(
            redact.text(f"{decl.name}: {Path(argv[0]).name} exited {proc.returncode}: {stderr}"),
            retryable=proc.returncode in spec.retryable_exit_codes,
        )
    return proc.returncode, redact.text(stdout)


def _result(decl: ActorDecl, spec: CommandSpec, code: int, stdout: str) -> dict[str, Any]:
    if spec.output == "text":
        return {"exit_code": code, "stdout": stdout}
    try:
        data = json.loads(stdout)
    except ValueError as e:
        raise ActorError(
            f"{decl.name}: its output is not JSON ({e}): {stdout[:200]!r}", retryable=False
        ) from None
    if not isinstance(data, dict):
        raise ActorError(f"{decl.name}: its JSON output is not an object", retryable=False)
    return {**data, "exit_code": code}


def bind(
    *, decl: ActorDecl, folder: Path, output_model: type[BaseModel]
) -> tuple[Callable[[BaseModel, ActorContext], BaseModel], Callable[..., Any] | None]:
    """The actor's function and its dry-run check (None without `check_argv`)."""
    spec = decl.spec
    assert isinstance(spec, CommandSpec)

    def call(inp: BaseModel, ctx: ActorContext) -> BaseModel:
        code, stdout = _run(decl, spec, folder, spec.argv, inp, ctx, dry_run=False)
        return make_output(output_model, _result(decl, spec, code, stdout), who=decl.name)

    if spec.check_argv is None:
        return call, None
    check_argv = spec.check_argv

    def check(inp: BaseModel, ctx: ActorContext) -> dict[str, Any]:
        code, stdout = _run(decl, spec, folder, check_argv, inp, ctx, dry_run=True)
        if spec.output == "json":
            return _result(decl, spec, code, stdout)
        return {"exit_code": code, "stdout": stdout}

    return call, check
