"""Routines: tested workflow templates with typed parameters, expanded into plans.

A routine is YAML shipped by a pack (`<pack>/routines/*.yaml`). Expanding it fills its
parameters, reads the facts it needs from the inventory's facts (which hosts are on an
array, which controller is active), unrolls `for_each` steps and yields an ordinary plan,
which is then validated like any other. Pure: the facts are passed in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from planactor._errors import CatalogError, InputError
from planactor._reader import load_yaml
from planactor.plan import (
    ACTOR_NAME_PATTERN,
    STEP_ID_PATTERN,
    Inventory,
    OnFailure,
    Plan,
    PlannerInfo,
    RetryPolicy,
    Step,
    canonical_json,
    format_location,
)

__all__ = ["Param", "Routine", "RoutineStep", "origin_problem", "parse_routine"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Param(_Strict):
    """A typed routine parameter. `entity` values must exist in the inventory."""

    type: Literal["string", "integer", "number", "boolean", "list"] = "string"
    description: str = Field(min_length=1)
    entity: str | None = Field(default=None, description="Inventory kind, e.g. array.")
    pattern: str | None = None
    enum: list[Any] | None = None
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as e:
                raise ValueError(f"not a regular expression: {e}") from None
        return value

    def json_schema(self) -> dict[str, Any]:
        """This parameter as JSON Schema (what a planner's constrained decoding obeys)."""
        kind = {"list": "array"}.get(self.type, self.type)
        schema: dict[str, Any] = {"type": kind, "description": self.description}
        if self.type == "list":
            schema["items"] = {"type": "string"}
        if self.pattern:
            # JSON Schema searches; bind() matches the whole value: anchor it to agree.
            schema["pattern"] = f"^(?:{self.pattern})$"
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


class RoutineStep(_Strict):
    id: str = Field(pattern=STEP_ID_PATTERN)
    actor: str = Field(pattern=ACTOR_NAME_PATTERN)
    args: dict[str, Any] = Field(default_factory=dict)
    after: list[str] = Field(default_factory=list)
    for_each: Any = Field(default=None, description="A list value: one step per item.")
    description: str | None = Field(default=None, description="For readers of the YAML.")
    on_failure: OnFailure | None = None
    retry: RetryPolicy | None = None
    timeout_s: float | None = Field(default=None, gt=0)


class Derivation(_Strict):
    """A parameter worked out from a quantity the intent gives: "for 96 servers" gives
    `leaves = ceil(servers / servers_per_leaf)`. The planner evaluates `formula` (arithmetic
    over `given` and the other parameters) and shows it in the grounding notes."""

    param: str
    given: str = Field(min_length=1, description="The word of the quantity said: servers.")
    formula: str = Field(min_length=1, description="e.g. ceil(servers / servers_per_leaf)")


class Routine(_Strict):
    """A workflow template; `expand` turns parameters and facts into a plan."""

    name: str = Field(pattern=ACTOR_NAME_PATTERN)
    description: str = Field(min_length=1)
    intent: str = Field(min_length=1, description="The plan's intent, with {param} holes.")
    params: dict[str, Param] = Field(default_factory=dict)
    facts: dict[str, str] = Field(
        default_factory=dict, description="name: dotted path into the facts, with {param} holes"
    )
    steps: list[RoutineStep] = Field(min_length=1)
    examples: list[str] = Field(default_factory=list, description="Intents it answers.")
    actions: list[str] = Field(
        default_factory=list,
        description="Words and phrases that ask for what it does (upgrade, flash, bring up "
        "to): the planner chooses it only when one of them is said as an action.",
    )
    derive: list[Derivation] = Field(
        default_factory=list, description="Parameters worked out from quantities said."
    )

    def params_schema(self) -> dict[str, Any]:
        required = sorted(n for n, p in self.params.items() if p.default is None)
        return {
            "type": "object",
            "properties": {n: p.json_schema() for n, p in self.params.items()},
            "required": required,
            "additionalProperties": False,
        }

    def actors(self) -> set[str]:
        return {s.actor for s in self.steps}

    # -- expansion -------------------------------------------------------------------------

    def bind(
        self, given: Mapping[str, Any], *, inventory: Inventory | None = None
    ) -> dict[str, Any]:
        """Check and complete the parameters; every mistake named at once."""
        problems: list[str] = []
        values: dict[str, Any] = {}
        for name in given:
            if name not in self.params:
                known = ", ".join(self.params) or "none"
                problems.append(f"{name}: not a parameter of {self.name} (it takes {known})")
        for name, p in self.params.items():
            if name not in given or given[name] is None:
                if p.default is None:
                    problems.append(f"{name}: missing ({p.description})")
                else:
                    values[name] = p.default
                continue
            value = given[name]
            problem = _check_value(name, p, value, inventory)
            if problem:
                problems.append(problem)
            else:
                values[name] = value
        if problems:
            raise InputError(
                f"routine {self.name}: bad parameters:\n  " + "\n  ".join(problems),
                hint=f"`planactor routines` shows {self.name}'s parameters",
            )
        return values

    def expand(
        self,
        params: Mapping[str, Any],
        *,
        facts: Mapping[str, Any] | None = None,
        inventory: Inventory | None = None,
        requested_by: str,
        change_ticket: str | None = None,
    ) -> Plan:
        """The plan this routine makes for these parameters and facts."""
        values = self.bind(params, inventory=inventory)
        known = {n: self._fact(n, path, values, facts or {}) for n, path in self.facts.items()}
        steps = self._steps(values, known)
        document = {
            "api_version": "planactor/v1",
            "intent": _fill(self.intent, values),
            "requested_by": requested_by,
            "change_ticket": change_ticket,
            "steps": steps,
            # Hashed: what lets policy treat the plan as this routine's (routine_origin).
            "origin": {"routine": self.name, "params": values, "facts": known},
            "planner": PlannerInfo(backend="routine", routine=self.name, params=values).model_dump(
                mode="json"
            ),
        }
        try:
            return Plan.model_validate(document)
        except ValidationError as e:
            first = e.errors(include_url=False)[0]
            raise InputError(
                f"routine {self.name}: the expanded plan is malformed at "
                f"{format_location(tuple(first['loc']))}: {first['msg']}",
                hint="check the parameter values and the facts the routine loops over",
            ) from None

    def _steps(self, values: Mapping[str, Any], known: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The plan's step documents for bound parameters and resolved facts."""
        groups: dict[str, list[str]] = {}
        steps: list[dict[str, Any]] = []
        for t in self.steps:
            if t.for_each is None:
                items: list[tuple[str, Any]] = [(t.id, None)]
            else:
                seq = _substitute(t.for_each, values, known, None, f"{t.id}.for_each")
                if not isinstance(seq, list):
                    raise InputError(
                        f"routine {self.name}: step {t.id}: for_each is not a list ({seq!r})"
                    )
                items = [(f"{t.id}-{_ID_UNSAFE.sub('-', str(item))}", item) for item in seq]
            # What this step waits for, with loop groups expanded to their members; an empty
            # loop stands for what it waited for, so the order still holds through it.
            after = list(dict.fromkeys(x for dep in t.after for x in groups.get(dep, [dep])))
            groups[t.id] = [sid for sid, _ in items] or after
            for sid, item in items:
                doc: dict[str, Any] = {
                    "id": sid,
                    "actor": t.actor,
                    "args": _substitute(t.args, values, known, item, f"{t.id}.args"),
                }
                if after:
                    doc["after"] = after
                if t.on_failure:
                    doc["on_failure"] = t.on_failure
                if t.retry:
                    doc["retry"] = t.retry.model_dump(mode="json")
                if t.timeout_s:
                    doc["timeout_s"] = t.timeout_s
                steps.append(doc)
        return steps

    def _fact(
        self, name: str, path: str, values: Mapping[str, Any], facts: Mapping[str, Any]
    ) -> Any:
        node: Any = facts
        walked: list[str] = []
        for part in _fill(path, values).split("."):
            if not isinstance(node, Mapping) or part not in node:
                where = ".".join(walked) or "the facts"
                options = (
                    ", ".join(sorted(map(str, node))[:10]) if isinstance(node, Mapping) else ""
                )
                raise InputError(
                    f"routine {self.name}: fact {name}: no {part!r} in {where}"
                    + (f" (known: {options})" if options else ""),
                    hint="check the parameters against the inventory (`planactor lab show`)",
                )
            node = node[part]
            walked.append(part)
        return node


def origin_problem(plan: Plan, routines: Mapping[str, Routine]) -> str | None:
    """None when `plan` is what its recorded routine makes; otherwise why it is not.

    The plan's hashed `origin` names a routine, its parameters and the facts it read;
    expanding that routine with them must give exactly the plan's steps (compared as
    canonical JSON, as the hash compares them) and no inputs of its own. Anything else
    (no origin, an unknown routine, parameters it refuses, a step added, removed or
    edited) is a plan no routine vouches for: policy calls it novel.
    """
    origin = plan.origin
    if origin is None:
        return "it records no routine origin (composed from actors or written by hand)"
    routine = routines.get(origin.routine)
    if routine is None:
        return f"its origin names routine {origin.routine}, which is not installed here"
    try:
        values = routine.bind(origin.params)
    except InputError as e:
        return f"its recorded parameters do not fit routine {routine.name}: {e.message}"
    if set(origin.facts) != set(routine.facts):
        return (
            f"its recorded facts ({', '.join(sorted(origin.facts)) or 'none'}) are not the "
            f"ones routine {routine.name} reads ({', '.join(sorted(routine.facts)) or 'none'})"
        )
    try:
        made = [Step.model_validate(d).to_document() for d in routine._steps(values, origin.facts)]
    except (InputError, ValidationError, KeyError, TypeError) as e:
        why = e.message if isinstance(e, InputError) else type(e).__name__
        return f"routine {routine.name} cannot be expanded with the recorded values: {why}"
    if plan.inputs:
        return f"it declares inputs, which plans of routine {routine.name} never have"
    have = [s.to_document() for s in plan.steps]
    if canonical_json(made) == canonical_json(have):
        return None
    for i, (want, got) in enumerate(zip(made, have, strict=False)):
        if canonical_json(want) != canonical_json(got):
            return (
                f"its step {i + 1} ({got['id']}) is not what routine {routine.name} makes "
                "with the recorded parameters and facts"
            )
    return (
        f"it has {len(have)} steps where routine {routine.name} makes {len(made)} with the "
        "recorded parameters and facts"
    )


def _check_value(name: str, p: Param, value: Any, inventory: Inventory | None) -> str | None:
    expected: dict[str, Any] = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "list": list,
    }
    if not isinstance(value, expected[p.type]) or (
        p.type in ("integer", "number") and isinstance(value, bool)
    ):
        return f"{name}: expected {p.type}, got {value!r}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{name}: {value!r} is not a finite number"
    if p.enum is not None and value not in p.enum:
        return f"{name}: {value!r} is not one of {', '.join(map(str, p.enum))}"
    if p.pattern is not None and isinstance(value, str) and not re.fullmatch(p.pattern, value):
        return f"{name}: {value!r} does not match {p.pattern}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if p.minimum is not None and value < p.minimum:
            return f"{name}: {value} is below {p.minimum}"
        if p.maximum is not None and value > p.maximum:
            return f"{name}: {value} is above {p.maximum}"
    if p.entity is not None and inventory is not None:
        known = inventory.names(p.entity)
        if known is not None:
            missing = [v for v in (value if isinstance(value, list) else [value]) if v not in known]
            if missing:
                return (
                    f"{name}: no {p.entity} named {', '.join(map(repr, missing))} "
                    f"(known: {', '.join(sorted(known)[:10])})"
                )
    return None


def _fill(template: str, values: Mapping[str, Any]) -> str:
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)


def _substitute(
    value: Any, params: Mapping[str, Any], facts: Mapping[str, Any], item: Any, where: str
) -> Any:
    """Replace `{"$param": N}`, `{"$fact": N}` and `{"$item": true}` anywhere in a value."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "$param":
                return params[arg]
            if key == "$fact":
                return facts[arg]
            if key == "$item":
                return item
        return {k: _substitute(v, params, facts, item, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, params, facts, item, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _check_template(r: Routine) -> list[str]:
    """Mistakes a routine author can make that the model cannot see on its own."""
    problems: list[str] = []
    ids: set[str] = set()

    def walk(value: Any, where: str, in_loop: bool) -> None:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, arg),) = value.items()
                if key in ("$param", "$fact") and not isinstance(arg, str):
                    problems.append(f"{where}: {key} names a {key[1:]} by a string, not {arg!r}")
                elif key == "$param" and arg not in r.params:
                    problems.append(f"{where}: unknown parameter {arg!r}")
                elif key == "$fact" and arg not in r.facts:
                    problems.append(f"{where}: unknown fact {arg!r}")
                elif key == "$item" and not in_loop:
                    problems.append(f"{where}: $item outside a for_each step")
            for k, v in value.items():
                walk(v, f"{where}.{k}", in_loop)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]", in_loop)

    for name in r.params:
        if not name.isidentifier():
            problems.append(f"params.{name}: a parameter name must be an identifier")
    for i, d in enumerate(r.derive):
        if d.param not in r.params:
            problems.append(f"derive[{i}].param: unknown parameter {d.param!r}")
    for i, s in enumerate(r.steps):
        where = f"steps[{i}]"
        if s.id in ids:
            problems.append(f"{where}.id: {s.id!r} is used twice")
        for dep in s.after:
            if dep not in ids:
                problems.append(f"{where}.after: {dep!r} is not an earlier step")
        ids.add(s.id)
        walk(s.args, f"{where}.args", s.for_each is not None)
        if s.for_each is not None:
            walk(s.for_each, f"{where}.for_each", False)
    for name, path in r.facts.items():
        for hole in _PLACEHOLDER.findall(path):
            if hole not in r.params:
                problems.append(f"facts.{name}: {{{hole}}} is not a parameter")
    for hole in _PLACEHOLDER.findall(r.intent):
        if hole not in r.params:
            problems.append(f"intent: {{{hole}}} is not a parameter")
    # "be on {version}": a value in an action phrase is recognised by its parameter's pattern.
    for i, action in enumerate(r.actions):
        for hole in _PLACEHOLDER.findall(action):
            p = r.params.get(hole)
            if p is None:
                problems.append(f"actions[{i}]: {{{hole}}} is not a parameter")
            elif p.pattern is None or any(c.isspace() for c in p.pattern):
                problems.append(
                    f"actions[{i}]: {{{hole}}} needs a parameter with a pattern (and no "
                    "spaces in it), by which its value is recognised in the request"
                )
        if _PLACEHOLDER.sub("", action).strip() == "":
            problems.append(f"actions[{i}]: an action needs a word besides its value")
    return problems


def parse_routine(text: str, *, source: str, packaged: bool = False) -> Routine:
    """A routine from YAML text; any mistake is a CatalogError naming the file and place.

    `packaged`: the file ships in an installed Python pack, parsed at every catalog load;
    libyaml parses it then (same checks, same messages; see `planactor._reader.load_yaml`).
    """
    # No tags, bounded depth and aliases, no duplicate keys (planactor._reader).
    data = load_yaml(
        text, source=f"routine {source}", what="routine", error=CatalogError, packaged=packaged
    )
    if not isinstance(data, dict):
        raise CatalogError(f"routine {source}: a routine is a YAML mapping")
    try:
        routine = Routine.model_validate(data)
    except ValidationError as e:
        lines = [
            f"{format_location(tuple(err['loc']))}: {err['msg']}"
            for err in e.errors(include_url=False)
        ]
        raise CatalogError(f"routine {source}: invalid:\n  " + "\n  ".join(lines)) from None
    problems = _check_template(routine)
    if problems:
        raise CatalogError(f"routine {source}: invalid:\n  " + "\n  ".join(problems))
    return routine
