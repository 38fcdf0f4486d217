"""What the three kinds share: templates, secrets and their redaction, the call's folder.

Templates fill `{name}` from the step's arguments, `{planactor.idempotency_key}` (also
run_id, step_id) from the call, `{secret.NAME}` from a secret the pack declares; `{{` and
`}}` are literal braces. Secrets are read when a call needs them, from an environment
variable or a file, and every string that leaves the call (its output, its error) has
their values replaced by `***`, so they never reach the journal or an audit report.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from planactor._errors import ActorError
from planactor._home import home
from planactor._reader import read_text
from planactor.catalog import ActorContext
from planactor.catalog._pack_schema import SecretRef

__all__ = [
    "ARTIFACTS_RESOURCE",
    "Redactor",
    "call_folder",
    "context_values",
    "fill",
    "fill_value",
    "make_output",
    "read_secret",
]

# `Engine(resources={"artifacts": Path(...)})` puts the calls' folders there; by default
# they go to $PLANACTOR_HOME/runs/RUN_ID/STEP_ID/.
ARTIFACTS_RESOURCE = "artifacts"
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
SECRET_MAX_BYTES = 64 << 10


def context_values(ctx: ActorContext) -> dict[str, str]:
    return {"idempotency_key": ctx.idempotency_key, "run_id": ctx.run_id, "step_id": ctx.step_id}


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def fill(
    template: str,
    args: Mapping[str, Any],
    ctx: Mapping[str, str],
    secrets: Mapping[str, str] | None = None,
    *,
    encode: Callable[[str], str] | None = None,
) -> str:
    """`template` with each placeholder replaced by its value's text (`encode`d if given).

    The loader checked every placeholder, so a missing one is a bug; it says so.
    """

    def one(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = m.group(1).strip()
        if name.startswith("planactor."):
            text = ctx[name.removeprefix("planactor.")]
        elif name.startswith("secret."):
            text = (secrets or {})[name.removeprefix("secret.")]
        else:
            if name not in args:
                raise ActorError(f"argument {name!r} has no value", retryable=False)
            text = _text(args[name])
        return encode(text) if encode is not None else text

    return _TOKEN.sub(one, template)


def fill_value(
    value: Any, args: Mapping[str, Any], ctx: Mapping[str, str], secrets: Mapping[str, str]
) -> Any:
    """A JSON template: a string that is exactly `{name}` takes the argument's value as is
    (a number stays a number); other strings are filled as text."""
    if isinstance(value, str):
        bare = _TOKEN.fullmatch(value)
        if bare is not None and bare.group(1) is not None:
            name = bare.group(1).strip()
            if "." not in name:
                if name not in args:
                    raise ActorError(f"argument {name!r} has no value", retryable=False)
                return args[name]
        return fill(value, args, ctx, secrets)
    if isinstance(value, dict):
        return {k: fill_value(v, args, ctx, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_value(v, args, ctx, secrets) for v in value]
    return value


def read_secret(name: str, ref: SecretRef, folder: Path) -> str:
    """A secret's value from its variable or file; a final ActorError naming where (never
    the value) when it is missing."""
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if not value:
            raise ActorError(
                f"secret {name!r}: the environment variable {ref.env} is not set",
                hint=f"export {ref.env} where planactor runs (it never goes in a plan)",
                retryable=False,
            )
        return value
    assert ref.file is not None
    path = Path(ref.file).expanduser()
    path = path if path.is_absolute() else folder / path
    try:
        text = read_text(path, what="secret", max_bytes=SECRET_MAX_BYTES)
    except Exception as e:  # the reader's InputError names the file and the reason
        raise ActorError(f"secret {name!r}: {e}", retryable=False) from None
    value = text.rstrip("\r\n")
    if not value:
        raise ActorError(f"secret {name!r}: the file {path} is empty", retryable=False)
    return value


class Redactor:
    """Replaces every known secret value by `***` in strings and JSON values."""

    def __init__(self, secrets: Mapping[str, str] | None = None) -> None:
        # Longest first, so a secret that contains another is hidden whole.
        self._values = sorted({v for v in (secrets or {}).values() if v}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._values:
            value = value.replace(secret, "***")
        return value

    def value(self, value: Any) -> Any:
        if not self._values:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value


def call_folder(ctx: ActorContext, mode: str) -> Path:
    """A new folder for this call under the run's: RUN_ID/STEP_ID/ATTEMPT-MODE[-N]."""
    given = ctx.resources.get(ARTIFACTS_RESOURCE)
    root = Path(given) if isinstance(given, str | os.PathLike) else home() / "runs"
    base = root / _UNSAFE.sub("_", ctx.run_id) / _UNSAFE.sub("_", ctx.step_id)
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    stem = f"{ctx.attempt}-{mode}"
    n = 1
    while True:
        folder = base / (stem if n == 1 else f"{stem}-{n}")
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            n += 1  # a resumed call: keep the killed call's folder as evidence
            continue
        return folder


def make_output(model: type[BaseModel], data: Mapping[str, Any], *, who: str) -> BaseModel:
    """The declared output; a final ActorError when the result does not fit its schema."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as e:
        first = e.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "$"
        raise ActorError(
            f"{who}: the result does not match the declared output: {where}: {first['msg']}",
            hint="fix the output schema in pack.yaml, or what the implementation returns",
            retryable=False,
        ) from None
