"""The network kind of lab: what the store, the planner and the validator get from it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from planactor.lab._common import Built, KindOutcome, kind_outcome
from planactor.lab.network._basis import basis_facts, footprint
from planactor.lab.network._documents import (
    faults_from_doc,
    faults_to_doc,
    state_from_doc,
    state_to_doc,
)
from planactor.lab.network._model import WRITE_OPERATIONS
from planactor.lab.network._operations import apply
from planactor.lab.network._queries import facts, inventory_entities
from planactor.lab.network._scenarios import NETWORK_SCENARIOS, network_scenario
from planactor.plan import Inventory
from planactor.validate import Policy

__all__ = ["NetworkKind"]


class NetworkKind:
    """The network lab: `planactor lab init network`. Every method takes documents."""

    name = "network"

    def scenarios(self) -> dict[str, str]:
        return {name: make().description for name, make in NETWORK_SCENARIOS.items()}

    def build(self, scenario_name: str) -> Built:
        sc = network_scenario(scenario_name)
        return Built(
            state=state_to_doc(sc.state),
            faults=faults_to_doc(sc.faults),
            latency_ms=sc.latency_ms,
        )

    def apply(
        self, state: Mapping[str, Any], faults: list[Any], op: str, args: Mapping[str, Any]
    ) -> KindOutcome:
        out = apply(state_from_doc(state), faults_from_doc(faults), op, args)
        return kind_outcome(
            out, op, state_doc=state_to_doc, faults_doc=faults_to_doc, writes=WRITE_OPERATIONS
        )

    def inventory(self, state: Mapping[str, Any]) -> Inventory:
        """The validator's inventory: `rack`, `server` and (with a fabric) `switch`."""
        return Inventory.from_mapping(inventory_entities(state_from_doc(state)))

    def facts(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """What routines read: `site.racks`, `site.servers_per_rack`... (see `facts`)."""
        return facts(state_from_doc(state))

    def safety(self, state: Mapping[str, Any]) -> Policy | None:  # noqa: ARG002
        """None: the network lab's guard refuses unsafe changes at run time, and no
        validation-time check simulates network plans yet."""
        return None

    def basis(self, state: Mapping[str, Any], names: Collection[str]) -> dict[str, Any]:
        """The facts a plan naming `names` depends on (`basis_facts`)."""
        return basis_facts(state_from_doc(state), names)

    def footprint(self, op: str, args: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The basis facts `op` changes on purpose (`footprint`)."""
        return footprint(op, args)
