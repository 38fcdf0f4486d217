"""The lab: simulated infrastructure with teeth, persisted in a file that actors change.

A lab file (`planactor lab init storage|network`) holds a state, the faults injected into
it, a log of every write applied (keyed by idempotency key) and the invariant violations
recorded. `Lab.operate` changes it atomically, safely across threads and processes;
`current_lab()` finds the default one (`PLANACTOR_LAB`, else `$PLANACTOR_HOME/lab.json`),
which is how the CLI chooses the lab it hands to a run. Actors get their lab from the run
(`ActorContext.resource("lab", Lab)`, see `actor_lab`), never from the environment.

What is simulated lives in one public subpackage per kind, each pure code behind a
`LabKind` (scenarios, operations, inventory, facts, safety):

- `planactor.lab.storage`: arrays with two controllers, hosts with multipath, the DU
  monitor, and `StorageSafety`, the validation-time DU check;
- `planactor.lab.network`: racks of servers and the fabric applied to them, the partition
  monitor and guard; fabric designs come from `planactor.fabric`.

The lab never imports the actor packs that drive it. `facts`, `inventory` and
`storage_state` here are the storage kind's (`planactor.lab.storage`). See docs/lab.md.
"""

from __future__ import annotations

from planactor.lab import network, storage
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
from planactor.lab._basis import (
    BasisCheck,
    basis_reader,
    replan_command,
    stale_facts,
    stale_plan_error,
)
from planactor.lab._common import OpError
from planactor.lab._kinds import Built, KindOutcome, LabKind, kinds, register_kind
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
from planactor.lab.network import NetworkKind
from planactor.lab.storage import StorageKind, facts, inventory, storage_state

__all__ = [
    "ENV_VAR",
    "FORMAT",
    "RESOURCE",
    "BasisCheck",
    "Built",
    "KindOutcome",
    "Lab",
    "LabDocument",
    "LabKind",
    "NetworkKind",
    "OpError",
    "Preview",
    "Receipt",
    "StorageKind",
    "actor_document",
    "actor_lab",
    "actor_observe",
    "actor_operate",
    "actor_preview",
    "basis_reader",
    "create_lab",
    "current_lab",
    "facts",
    "inventory",
    "kinds",
    "lab_path",
    "lab_resources",
    "network",
    "register_kind",
    "replan_command",
    "stale_facts",
    "stale_plan_error",
    "storage",
    "storage_state",
]

# The built-in kinds, registered here rather than on import of their modules: explicit, and
# without a cycle (the kinds need the store's types; the store looks kinds up by name).
register_kind(StorageKind())
register_kind(NetworkKind())
