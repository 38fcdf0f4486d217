"""The inventory: which entities of each kind exist, as the planner and validator see it.

It sits beside the plan model so that everything above (catalog routines, validation,
planners, policy, the lab) can take one without importing another of those packages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from planactor.plan._canonical import content_hash

__all__ = ["Inventory"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    """Entity names by kind, e.g. `{"array": {"array-01", "array-02"}}`.

    A kind the inventory does not list is not checked: absence of knowledge is not an error.
    """

    entities: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, entities: Mapping[str, Iterable[str]]) -> Inventory:
        return cls(entities={kind: frozenset(names) for kind, names in entities.items()})

    def names(self, kind: str) -> frozenset[str] | None:
        return self.entities.get(kind)

    @property
    def fingerprint(self) -> str:
        return content_hash({k: sorted(v) for k, v in self.entities.items()})
