"""The storage kind of lab: what the store, the planner and the validator get from it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from planactor.lab._common import Built, KindOutcome, kind_outcome
from planactor.lab.storage._basis import basis_facts, footprint
from planactor.lab.storage._documents import (
    faults_from_doc,
    faults_to_doc,
    state_from_doc,
    state_to_doc,
)
from planactor.lab.storage._model import WRITE_OPERATIONS, Violation
from planactor.lab.storage._operations import apply
from planactor.lab.storage._queries import facts, inventory_entities, unavailable
from planactor.lab.storage._safety import StorageSafety
from planactor.lab.storage._scenarios import SCENARIOS, scenario
from planactor.plan import Inventory

__all__ = ["StorageKind"]


class StorageKind:
    """The storage lab: `planactor lab init storage`. Every method takes documents."""

    name = "storage"

    def scenarios(self) -> dict[str, str]:
        return {name: make().description for name, make in SCENARIOS.items()}

    def build(self, scenario_name: str) -> Built:
        sc = scenario(scenario_name)
        broken = unavailable(sc.state)
        return Built(
            state=state_to_doc(sc.state),
            faults=faults_to_doc(sc.faults),
            latency_ms=sc.latency_ms,
            violations=[
                Violation(
                    kind="DU",
                    host=h,
                    lun=lun,
                    array=arr,
                    cause=f"scenario {scenario_name!r} starts without a working path",
                ).to_document()
                for (h, lun), arr in sorted(broken.items())
            ],
        )

    def apply(
        self, state: Mapping[str, Any], faults: list[Any], op: str, args: Mapping[str, Any]
    ) -> KindOutcome:
        out = apply(state_from_doc(state), faults_from_doc(faults), op, args)
        return kind_outcome(
            out, op, state_doc=state_to_doc, faults_doc=faults_to_doc, writes=WRITE_OPERATIONS
        )

    def inventory(self, state: Mapping[str, Any]) -> Inventory:
        """The validator's inventory: `array`, `controller`, `host` and `lun`."""
        return Inventory.from_mapping(inventory_entities(state_from_doc(state)))

    def facts(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """What routines read: per array its mode, controllers, firmware, hosts... (`facts`)."""
        return facts(state_from_doc(state))

    def safety(self, state: Mapping[str, Any]) -> StorageSafety:
        """A Policy that refuses plans whose order of storage writes would cause a DU."""
        return StorageSafety(state=state_from_doc(state))

    def basis(self, state: Mapping[str, Any], names: Collection[str]) -> dict[str, Any]:
        """The facts a plan naming `names` depends on (`basis_facts`)."""
        return basis_facts(state_from_doc(state), names)

    def footprint(self, op: str, args: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The basis facts `op` changes on purpose (`footprint`)."""
        return footprint(op, args)
