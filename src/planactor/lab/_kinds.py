"""Kinds of lab (`storage`, later `network`): what the generic lab file delegates to.

A kind builds a scenario's initial state and applies operations to a state, both as JSON
documents, so the store stays ignorant of what it stores. `register_kind` adds one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from planactor.lab import _storage as storage
from planactor.lab._scenarios import SCENARIOS, scenario

__all__ = ["Built", "KindOutcome", "LabKind", "StorageKind", "kinds", "register_kind"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    """A scenario's starting point. `violations`: invariants it breaks from the start."""

    state: dict[str, Any]
    faults: list[dict[str, Any]]
    latency_ms: int
    violations: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class KindOutcome:
    """An operation's outcome as documents. `logged`: it goes into the operation log."""

    state: dict[str, Any]
    faults: list[dict[str, Any]]
    status: str
    result: dict[str, Any]
    changes: list[str]
    violations: list[dict[str, Any]]
    error: dict[str, Any] | None
    logged: bool


class LabKind(Protocol):
    """What a kind of lab provides to the store."""

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
        """Apply one operation; ValueError if the state document is malformed."""
        ...


class StorageKind:
    """The storage lab (`planactor.lab._storage`)."""

    name = "storage"

    def scenarios(self) -> dict[str, str]:
        return {name: make().description for name, make in SCENARIOS.items()}

    def build(self, scenario_name: str) -> Built:
        sc = scenario(scenario_name)
        broken = storage.unavailable(sc.state)
        return Built(
            state=storage.state_to_doc(sc.state),
            faults=storage.faults_to_doc(sc.faults),
            latency_ms=sc.latency_ms,
            violations=[
                storage.Violation(
                    kind="DU",
                    host=h,
                    lun=lun,
                    array=arr,
                    cause=f"scenario {scenario_name!r} starts without a working path",
                ).to_doc()
                for (h, lun), arr in sorted(broken.items())
            ],
        )

    def apply(
        self, state: Mapping[str, Any], faults: list[Any], op: str, args: Mapping[str, Any]
    ) -> KindOutcome:
        out = storage.apply(
            storage.state_from_doc(state), storage.faults_from_doc(faults), op, args
        )
        return KindOutcome(
            state=storage.state_to_doc(out.state),
            faults=storage.faults_to_doc(out.faults),
            status=out.status,
            result=out.result,
            changes=list(out.changes),
            violations=[v.to_doc() for v in out.violations],
            error=out.error.to_doc() if out.error else None,
            logged=op in storage.WRITE_OPERATIONS and out.status != "refused",
        )


_KINDS: dict[str, LabKind] = {"storage": StorageKind()}


def register_kind(kind: LabKind) -> None:
    """Make a kind of lab available to `planactor lab init KIND` and the store."""
    _KINDS[kind.name] = kind


def kinds() -> dict[str, LabKind]:
    return dict(_KINDS)
