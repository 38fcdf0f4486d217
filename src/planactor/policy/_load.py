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


class _PolicyLoader(yaml.SafeLoader):
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


def _duplicate_key(node: yaml.Node, path: tuple[str | int, ...] = ()) -> str | None:
    """The first key given twice in one mapping, with its path and both lines, or None.

    YAML lets the last of two equal keys win silently; a reviewer reading the first one
    would then approve a policy that is not the one in force.
    """
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                line = key.start_mark.line + 1
                if key.value in seen:
                    where = format_location((*path, key.value))
                    return (
                        f"line {line}: duplicate key {where} (first given on line "
                        f"{seen[key.value]}); the last one would silently win"
                    )
                seen[key.value] = line
            below = (*path, key.value) if isinstance(key, yaml.ScalarNode) else path
            found = _duplicate_key(value, below)
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found = _duplicate_key(item, (*path, i))
            if found:
                return found
    return None


def _load_yaml(text: str, source: str) -> object:
    loader = _PolicyLoader(text)  # a SafeLoader: no arbitrary objects
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        duplicate = _duplicate_key(node)
        if duplicate is not None:
            raise InputError(
                f"{source}: {duplicate}",
                hint="keep one of them: each key may appear once in a mapping",
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_policy(text: str, *, source: str) -> RulePolicy:
    """A policy from YAML text; every mistake is named with its place in the file."""
    try:
        data = _load_yaml(text, source)
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
