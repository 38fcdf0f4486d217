"""Finding and reading policy files: the I/O edge around the pure rules."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from planactor._errors import InputError
from planactor._home import home
from planactor._reader import LIMITS, StrictLoader, load_yaml, read_text
from planactor.plan import format_location
from planactor.policy._rules import PolicyDoc, RulePolicy

__all__ = ["default_policy_text", "load_policy", "policy_path", "read_policy_text"]


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
    return parse_policy(read_policy_text(path), source=str(path))


def read_policy_text(path: Path) -> str:
    """A policy file's text: a bounded, regular, UTF-8 file (planactor._reader)."""
    return read_text(
        path,
        what="policy",
        max_bytes=LIMITS.policy,
        label="cannot read the policy",
        missing="no such policy file",
    )


class _PolicyLoader(StrictLoader):
    """YAML without base-60 integers: `start: 22:00` stays the time 22:00, not 1320."""


_PolicyLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag != "tag:yaml.org,2002:int" or not regexp.match("22:00")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PolicyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(
        r"""^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$""",
        re.X,
    ),
    list("-+0123456789"),
)


def parse_policy(text: str, *, source: str) -> RulePolicy:
    """A policy from YAML text; every mistake is named with its place in the file."""
    # No tags, bounded depth and aliases, no duplicate keys (planactor._reader).
    data = load_yaml(text, source=source, what="policy", loader=_PolicyLoader)
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
