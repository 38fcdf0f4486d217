"""The `pack.yaml` of a declarative pack: actors without Python, as pydantic models.

A declarative pack is a folder holding `pack.yaml` (and, beside it, the playbooks, scripts
and `routines/*.yaml` it names). Each actor declares what a Python actor's decorator does
(effect, idempotency, compensation, timeout, retry), its input and output as JSON Schema or
a short field list, and one implementation kind: `ansible`, `http` or `command`. Pure:
reading the file and binding the kinds happen in `_pack`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from planactor.plan import RetryPolicy

__all__ = [
    "KINDS",
    "PACK_API_VERSION",
    "RESERVED_OUTPUT",
    "ActorDecl",
    "AnsibleSpec",
    "CommandSpec",
    "HttpRequest",
    "HttpSpec",
    "Kind",
    "PackDoc",
    "SecretRef",
    "placeholders",
]

PACK_API_VERSION: Literal["planactor/pack/v1"] = "planactor/pack/v1"
Kind = Literal["ansible", "http", "command"]
KINDS: tuple[Kind, ...] = ("ansible", "http", "command")

# What each kind puts in every output beside the declared fields; a declared output field
# of the same name would be overwritten, so the loader refuses it.
RESERVED_OUTPUT: dict[str, dict[str, dict[str, Any]]] = {
    "ansible": {
        "changed": {"type": "integer", "description": "Tasks that changed something, all hosts."},
        "hosts": {
            "type": "object",
            "description": "The play recap: per host ok, changed, failed, unreachable, skipped.",
        },
        "artifacts": {"type": "string", "description": "ansible-runner's folder for this call."},
    },
    "http": {"status": {"type": "integer", "description": "The response's HTTP status."}},
    "command": {
        "exit_code": {"type": "integer", "description": "The command's exit code."},
        "stdout": {"type": "string", "description": "Its output (text output only)."},
    },
}

# `{name}` is an argument, `{secret.NAME}` a secret the pack declares, `{planactor.KEY}` the
# call's idempotency_key, run_id or step_id. `{{` and `}}` are literal braces.
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_PLACEHOLDER_NAME = re.compile(r"^(?:(secret|planactor)\.)?([A-Za-z_][A-Za-z0-9_]*)$")
CONTEXT_VALUES = ("idempotency_key", "run_id", "step_id")


def placeholders(template: str) -> list[tuple[str | None, str]]:
    """The (namespace, name) of each placeholder in `template`; ValueError if malformed."""
    found: list[tuple[str | None, str]] = []
    for m in _PLACEHOLDER.finditer(template):
        if m.group(1) is None:
            continue  # an escaped brace
        name = _PLACEHOLDER_NAME.match(m.group(1).strip())
        if name is None:
            raise ValueError(
                f"{m.group(0)!r} in {template!r} is not a placeholder: write {{argument}}, "
                "{secret.NAME} or {planactor.idempotency_key}, and {{ }} for literal braces"
            )
        found.append((name.group(1), name.group(2)))
    stray = _PLACEHOLDER.sub("", template)
    if "{" in stray or "}" in stray:
        raise ValueError(f"unbalanced brace in {template!r}: write {{{{ or }}}} for a literal one")
    return found


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(_Strict):
    """Where a credential comes from: an environment variable or a file (never the plan)."""

    env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    file: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret names exactly one of `env` (a variable) or `file` (a path)")
        return self


EnvValue = str | SecretRef


class AnsibleSpec(_Strict):
    """Run a playbook of the pack through ansible-runner."""

    playbook: str = Field(min_length=1, description="Path inside the pack folder.")
    inventory: str = Field(
        default="localhost ansible_connection=local",
        min_length=1,
        description="An inventory file inside the pack, or inline INI inventory text.",
    )
    check_mode: bool = Field(
        default=True, description="A dry run runs the playbook with --check --diff."
    )
    task_failure: Literal["final", "retryable"] = Field(
        default="final", description="Whether a failed task may be retried (unreachable may)."
    )
    env: dict[str, EnvValue] = Field(default_factory=dict)


class HttpRequest(_Strict):
    """One request: method, path and query (templates), headers, JSON body template."""

    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str = Field(default="/", pattern=r"^/", description="Appended to the base URL.")
    query: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None


class HttpSpec(HttpRequest):
    """Call an HTTP API: one request per call, the idempotency key as `Idempotency-Key`."""

    base_url: str | None = Field(default=None, pattern=r"^https?://[^/{}]+(/[^{}]*)?$")
    base_url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    check: HttpRequest | None = Field(
        default=None, description="A read (or the API's own check) request for dry runs."
    )
    retryable_status: list[int] = Field(
        default_factory=lambda: [408, 425, 429, 500, 502, 503, 504],
        description="Statuses another attempt may cure; other non-2xx statuses are final.",
    )
    timeout_s: float = Field(default=30.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _one_base(self) -> HttpSpec:
        if (self.base_url is None) == (self.base_url_env is None):
            raise ValueError("give exactly one of `base_url` or `base_url_env`")
        return self


class CommandSpec(_Strict):
    """Run a program without a shell: each argv item one template, one argument."""

    argv: list[str] = Field(min_length=1)
    check_argv: list[str] | None = Field(
        default=None, min_length=1, description="What a dry run runs instead, if anything."
    )
    env: dict[str, EnvValue] = Field(default_factory=dict)
    cwd: str = Field(default=".", description="Working directory, inside the pack folder.")
    output: Literal["json", "text"] = "text"
    retryable_exit_codes: list[int] = Field(default_factory=list)
    max_output_bytes: int = Field(default=1 << 20, ge=1, le=64 << 20)


Fields = dict[str, str | dict[str, Any]]


class ActorDecl(_Strict):
    """One actor of a declarative pack."""

    name: str = Field(min_length=1)
    description: str = ""
    kind: Kind
    effect: Literal["read", "write"]
    idempotent: bool | None = None
    irreversible: bool = False
    compensate: str | None = None
    compensate_args: dict[str, str] | None = Field(
        default=None,
        description="The compensation's arguments: name -> 'input.FIELD' or 'output.FIELD'.",
    )
    timeout_s: float | None = Field(default=None, gt=0, le=86400)
    retry: int | RetryPolicy | None = None
    tags: list[str] = Field(default_factory=list)
    input: Fields | None = None
    input_schema: dict[str, Any] | None = None
    output: Fields | None = None
    output_schema: dict[str, Any] | None = None
    ansible: AnsibleSpec | None = None
    http: HttpSpec | None = None
    command: CommandSpec | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ActorDecl:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if given != [self.kind]:
            others = [k for k in given if k != self.kind]
            if others:
                raise ValueError(
                    f"kind is {self.kind!r} but the actor also has a {others[0]!r} section"
                )
            raise ValueError(f"kind {self.kind!r} needs a `{self.kind}:` section")
        if self.input is not None and self.input_schema is not None:
            raise ValueError("give `input` (a field list) or `input_schema`, not both")
        if self.output is not None and self.output_schema is not None:
            raise ValueError("give `output` (a field list) or `output_schema`, not both")
        if isinstance(self.retry, int) and not 1 <= self.retry <= 100:
            raise ValueError("retry (attempts) must be between 1 and 100")
        return self

    @property
    def spec(self) -> AnsibleSpec | HttpSpec | CommandSpec:
        found = getattr(self, self.kind)
        assert isinstance(found, AnsibleSpec | HttpSpec | CommandSpec)
        return found


class PackDoc(_Strict):
    """The whole `pack.yaml`."""

    api_version: Literal["planactor/pack/v1"] = PACK_API_VERSION
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", description="The pack's name.")
    description: str = ""
    actors: list[ActorDecl] = Field(default_factory=list)
