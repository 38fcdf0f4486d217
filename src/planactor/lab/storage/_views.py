"""The storage state held by a lab, and what the planner and validator see of it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planactor._errors import InputError
from planactor.lab._store import Lab, LabDocument
from planactor.lab.storage._documents import state_from_doc
from planactor.lab.storage._model import StorageState
from planactor.lab.storage._queries import facts as _facts
from planactor.lab.storage._queries import inventory_entities
from planactor.plan import Inventory

__all__ = ["StateLike", "facts", "inventory", "storage_state"]

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
    return Inventory.from_mapping(inventory_entities(storage_state(state)))
