"""Kinds of lab (`storage`, `network`): what the generic lab file and the CLI delegate to.

A kind builds a scenario's initial state and applies operations to a state, both as JSON
documents, so the store stays ignorant of what it stores; and it tells the planner and the
validator what a lab of its kind holds (inventory, facts), how to judge a plan against it
(safety) and which of its facts a plan depends on (basis). `planactor.lab` registers the
built-in kinds; `register_kind` adds one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

from planactor.lab._common import Built, KindOutcome
from planactor.plan import Inventory
from planactor.validate import Policy

__all__ = ["Built", "KindOutcome", "LabKind", "kinds", "register_kind"]


class LabKind(Protocol):
    """What a kind of lab provides. Every `state` is a lab document's `state`; a malformed
    one raises ValueError."""

    @property
    def name(self) -> str: ...

    def scenarios(self) -> dict[str, str]:
        """Scenario names and one-line descriptions."""
        ...

    def build(self, scenario: str) -> Built:
        """The scenario's starting point; KeyError for an unknown scenario."""
        ...

    def apply(
        self, state: Mapping[str, Any], faults: list[Any], op: str, args: Mapping[str, Any]
    ) -> KindOutcome:
        """Apply one operation."""
        ...

    def inventory(self, state: Mapping[str, Any]) -> Inventory:
        """The validator's and the planner's inventory: the entities the lab holds."""
        ...

    def facts(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """What routines read about the lab."""
        ...

    def safety(self, state: Mapping[str, Any]) -> Policy | None:
        """A Policy judging plans against the lab's state at validation time, if any."""
        ...

    def basis(self, state: Mapping[str, Any], names: Collection[str]) -> dict[str, Any]:
        """The facts a plan naming `names` depends on: entity (KIND/NAME) -> field -> value.

        Only entities the plan names or reads through them, so drift elsewhere never makes
        the plan stale (see `planactor.plan.Basis`)."""
        ...

    def footprint(self, op: str, args: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(entity, field) glob patterns of the basis facts operation `op` changes on
        purpose: a resumed run's own writes are expected to have changed them."""
        ...


_KINDS: dict[str, LabKind] = {}


def register_kind(kind: LabKind) -> None:
    """Make a kind of lab available to `planactor lab init KIND` and the store."""
    _KINDS[kind.name] = kind


def kinds() -> dict[str, LabKind]:
    return dict(_KINDS)
