"""A plan's basis: the lab facts its planning and safety check read, hashed into the plan.

A plan is approved against what the planner saw. The basis records exactly that, entity by
entity (`host/esx-01` -> the fields read about it), with the digest of those facts; it is
part of the plan's hash, so an approval covers it. `planactor run` and `resume` read the
same facts again and refuse the plan when one of them changed (`basis_changes`). Because
only the entities the plan names are recorded (and of those only the fields it depends
on), drift elsewhere in the lab never makes a plan stale. Pure: the lab kinds read facts.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from planactor.plan._canonical import canonical_text, content_hash

__all__ = [
    "Basis",
    "BasisReader",
    "FactChange",
    "basis_changes",
    "basis_digest",
    "make_basis",
    "plan_names",
]


def basis_digest(*, lab: str, facts: Mapping[str, Mapping[str, Any]]) -> str:
    """`sha256:<hex>` of the canonical JSON of the lab kind and facts (key order ignored)."""
    return content_hash({"lab": lab, "facts": facts})


class Basis(BaseModel):
    """What the plan was made from: `facts` read from a lab of kind `lab`, and their digest."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    lab: str = Field(min_length=1, description="The kind of lab the facts come from.")
    facts: dict[str, dict[str, JsonValue]] = Field(
        description="Entity (KIND/NAME) -> the fields the plan depends on, as read."
    )
    digest: str = Field(description="sha256 of the canonical JSON of `lab` and `facts`.")

    @model_validator(mode="after")
    def _digest_matches(self) -> Basis:
        want = basis_digest(lab=self.lab, facts=self.facts)
        if self.digest != want:
            raise ValueError(
                f"basis.digest {self.digest!r} is not the digest of its facts ({want}): "
                "the facts were edited; plan again (`planactor plan ... --lab F`)"
            )
        return self

    def to_document(self) -> dict[str, JsonValue]:
        return {"lab": self.lab, "facts": dict(self.facts), "digest": self.digest}


def make_basis(*, lab: str, facts: Mapping[str, Mapping[str, Any]]) -> Basis:
    """A basis with its digest computed."""
    plain = {entity: dict(fields) for entity, fields in facts.items()}
    return Basis(lab=lab, facts=plain, digest=basis_digest(lab=lab, facts=plain))


# What a planner calls to record the basis of the plan it made, given the plan document.
BasisReader = Callable[[Mapping[str, Any]], Basis | None]


def plan_names(plan: Mapping[str, Any]) -> set[str]:
    """Every string the plan document's steps, inputs and origin parameters hold: the
    candidates for entity names, which a lab kind filters against what it has."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, Mapping):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for step in plan.get("steps") or ():
        if isinstance(step, Mapping):
            walk(step.get("args"))
    walk(plan.get("inputs"))
    origin = plan.get("origin")
    if isinstance(origin, Mapping):
        walk(origin.get("params"))
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class FactChange:
    """One recorded fact that reads differently now; `None` stands for "absent"."""

    entity: str
    field: str
    before: Any
    after: Any

    def describe(self) -> str:
        return f"{self.entity} {self.field}: {_show(self.before)} -> {_show(self.after)}"

    def to_document(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "field": self.field,
            "before": self.before,
            "after": self.after,
        }


def _show(value: Any) -> str:
    return "(absent)" if value is None else canonical_text(value)


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Dotted paths to the scalars and lists inside a field's value (objects are walked)."""
    if isinstance(value, Mapping) and value:
        for k in sorted(value):
            yield from _leaves(value[k], f"{path}.{k}")
    else:
        yield path, value


def basis_changes(
    recorded: Basis,
    *,
    lab: str,
    now: Mapping[str, Mapping[str, Any]],
    excused: Collection[tuple[str, str]] = (),
) -> list[FactChange]:
    """The recorded facts that read differently in `now` (the same entities read again).

    `excused` holds (entity, field) glob patterns (`host/*`, `active.*`) of facts changed
    on purpose, e.g. by the run's own writes when it resumes: a fact matching one is not
    a change. An entity or field gone from `now` reads as absent; an entity `now` holds
    that the basis does not is not one the plan depends on.
    """
    if lab != recorded.lab:
        return [FactChange(entity="lab", field="kind", before=recorded.lab, after=lab)]
    changes: list[FactChange] = []
    for entity in sorted(recorded.facts):
        before_fields = recorded.facts[entity]
        after_fields = now.get(entity, {})
        for name in sorted(before_fields):
            before = dict(_leaves(before_fields[name], name))
            after = dict(_leaves(after_fields[name], name)) if name in after_fields else {}
            for path in sorted(before.keys() | after.keys()):
                b, a = before.get(path), after.get(path)
                if canonical_text(b) == canonical_text(a):
                    continue
                if any(
                    fnmatch.fnmatchcase(entity, e) and fnmatch.fnmatchcase(path, f)
                    for e, f in excused
                ):
                    continue
                changes.append(FactChange(entity=entity, field=path, before=b, after=a))
    return changes
