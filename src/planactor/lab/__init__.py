"""The lab: simulated infrastructure with teeth, persisted in a file that actors change.

A lab file (`planactor lab init storage`) holds a state, the faults injected into it, a log
of every write applied (keyed by idempotency key) and the invariant violations recorded.
`current_lab()` finds it (`PLANACTOR_LAB`, else `$PLANACTOR_HOME/lab.json`);
`Lab.operate` changes it atomically, safely across threads and processes.

The storage model (arrays with two controllers, hosts with multipath) is pure code:
`apply(state, faults, op, args)` returns the new state and the violations it caused.
`facts()` and `inventory()` are what the planner and routines see. See docs/lab.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planactor._errors import InputError
from planactor.lab._actor_access import (
    RESOURCE,
    Preview,
    actor_document,
    actor_lab,
    actor_observe,
    actor_operate,
    actor_preview,
    lab_resources,
)
from planactor.lab._kinds import Built, KindOutcome, LabKind, StorageKind, kinds, register_kind
from planactor.lab._scenarios import DEFAULT_FIRMWARE, SCENARIOS, Scenario, default_state, scenario
from planactor.lab._storage import (
    ADMIN_OPERATIONS,
    FAULT_KINDS,
    WRITE_OPERATIONS,
    Array,
    Controller,
    Fault,
    Host,
    Lun,
    OpError,
    Outcome,
    Path,
    PathView,
    StorageState,
    Violation,
    apply,
    carries_io,
    faults_from_doc,
    faults_to_doc,
    hosts_on,
    io_controller,
    other_controller,
    path_role,
    path_views,
    path_works,
    preflight,
    state_from_doc,
    state_to_doc,
    unavailable,
)
from planactor.lab._storage import facts as _facts
from planactor.lab._storage import inventory_entities as _entities
from planactor.lab._store import (
    ENV_VAR,
    FORMAT,
    Lab,
    LabDocument,
    Receipt,
    create_lab,
    current_lab,
    lab_path,
)
from planactor.validate import Inventory

__all__ = [
    "ADMIN_OPERATIONS",
    "DEFAULT_FIRMWARE",
    "ENV_VAR",
    "FAULT_KINDS",
    "FORMAT",
    "RESOURCE",
    "SCENARIOS",
    "WRITE_OPERATIONS",
    "Array",
    "Built",
    "Controller",
    "Fault",
    "Host",
    "KindOutcome",
    "Lab",
    "LabDocument",
    "LabKind",
    "Lun",
    "OpError",
    "Outcome",
    "Path",
    "PathView",
    "Preview",
    "Receipt",
    "Scenario",
    "StorageKind",
    "StorageState",
    "Violation",
    "actor_document",
    "actor_lab",
    "actor_observe",
    "actor_operate",
    "actor_preview",
    "apply",
    "carries_io",
    "create_lab",
    "current_lab",
    "default_state",
    "facts",
    "faults_from_doc",
    "faults_to_doc",
    "hosts_on",
    "inventory",
    "io_controller",
    "kinds",
    "lab_path",
    "lab_resources",
    "other_controller",
    "path_role",
    "path_views",
    "path_works",
    "preflight",
    "register_kind",
    "scenario",
    "state_from_doc",
    "state_to_doc",
    "storage_state",
    "unavailable",
]

StateLike = StorageState | LabDocument | Lab | Mapping[str, Any]


def storage_state(source: StateLike) -> StorageState:
    """The storage state held by a lab, a lab document, a lab file's JSON or a state document.

    Raises InputError for a lab of another kind and ValueError for a malformed state.
    """
    if isinstance(source, StorageState):
        return source
    if isinstance(source, Lab):
        source = source.read()
    if isinstance(source, LabDocument):
        if source.kind != "storage":
            raise InputError(f"this is a {source.kind} lab, not a storage lab")
        return state_from_doc(source.state)
    if "format" in source:  # a whole lab file's JSON
        return storage_state(LabDocument.from_json(dict(source)))
    return state_from_doc(source)


def facts(state: StateLike) -> dict[str, Any]:
    """`{"arrays": {"array-01": {"mode", "controllers", "active", "passive", "firmware",
    "hosts", ...}}, "hosts": {"esx-01": {"arrays": [...], ...}}}`: what routines read."""
    return _facts(storage_state(state))


def inventory(state: StateLike) -> Inventory:
    """The validator's inventory: entities of kinds `array`, `controller`, `host`, `lun`."""
    return Inventory.from_mapping(_entities(storage_state(state)))


# The network lab registers its kind when imported: make every kind available with the lab.
from planactor.lab import _network  # noqa: E402, F401
