"""Finding and reading policy files: the I/O edge around the pure rules."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from planactor._errors import InputError
from planactor._home import home
from planactor.plan import format_location
from planactor.policy._rules import PolicyDoc, RulePolicy

__all__ = ["default_policy_text", "load_policy", "policy_path"]


def default_policy_text() -> str:
    return resources.files("planactor.policy").joinpath("default.yaml").read_text("utf-8")


def policy_path(explicit: Path | None = None) -> Path | None:
    """Where the policy comes from: `--policy`, `PLANACTOR_POLICY`, `$PLANACTOR_HOME/policy.yaml`,
    or None for the shipped default."""
    if explicit is not None:
        return explicit
    env = os.environ.get("PLANACTOR_POLICY")
    if env:
        return Path(env)
    local = home() / "policy.yaml"
    return local if local.is_file() else None


def load_policy(explicit: Path | None = None) -> RulePolicy:
    path = policy_path(explicit)
    if path is None:
        return parse_policy(default_policy_text(), source="default policy")
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such policy file", hint="check the path") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read the policy: {e}") from None
    return parse_policy(text, source=str(path))


def parse_policy(text: str, *, source: str) -> RulePolicy:
    """A policy from YAML text; every mistake is named with its place in the file."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise InputError(
            f"{source}{where}: not valid YAML: {problem}", hint="check the indentation and quotes"
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            f"{source}: a policy is a YAML mapping (version, name, approvals, rules)",
            hint="start from `planactor policy show`",
        )
    try:
        doc = PolicyDoc.model_validate(data)
    except ValidationError as e:
        lines = [
            f"  {format_location(tuple(err['loc']))}: {err['msg']}"
            for err in e.errors(include_url=False)
        ]
        raise InputError(
            f"{source}: invalid policy ({e.error_count()} problem(s)):\n" + "\n".join(lines),
            hint="see docs/policy.md for the rule format",
        ) from None
    return RulePolicy(doc=doc, source=source)
