"""The storage lab: arrays, controllers, LUNs, hosts and their paths. Pure code.

Every operation is a function from a state (and the pending faults) to an `Outcome`: the
new state, what the operation reports, and the invariant violations it caused. Nothing here
reads files, sleeps or looks at the clock; `planactor.lab.Lab` adds those at the edge.

Modules: `_model` (the data), `_queries` (where I/O flows, the planner's views),
`_operations` (the operations and the invariant monitor), `_documents` (the JSON form),
`_scenarios`, `_safety` (`StorageSafety`, the validation-time DU check), `_kind`
(`StorageKind`, what the store and the CLI get from a storage lab).

The model:

- an array has two controllers and runs `active-passive` or `alua`;
- a host reaches each array it has LUNs on through one path per controller, and routes its
  I/O to that array through one controller, its *active* one (in ALUA the active-optimized
  one); `preferred` is where that I/O belongs when all is well (`fail_back` returns it);
- a *working path* is a path that is up, through a controller that is online. In
  active-passive mode only the path through the active controller serves I/O: the lab's
  arrays never trespass a LUN on their own (explicit failover, as during managed
  maintenance), so moving I/O is the operator's job, which is the point of a plan. In ALUA
  mode both controllers serve I/O: the non-optimized path takes over when the optimized one
  stops working;
- a controller *carries host I/O* when some host's I/O flows through it now.

The invariant: at every instant every host keeps at least one working path to each of its
LUNs. An operation that breaks it, even for a moment (a controller is offline while it
flashes or reboots), records a DU (data unavailable) violation naming the host, the LUN
and the cause.
"""

from __future__ import annotations

from planactor.lab.storage._documents import (
    faults_from_doc,
    faults_to_doc,
    state_from_doc,
    state_to_doc,
)
from planactor.lab.storage._kind import (
    StorageKind,
)
from planactor.lab.storage._model import (
    ADMIN_OPERATIONS,
    CONTROLLER_STATES,
    FAULT_KINDS,
    MODES,
    WRITE_OPERATIONS,
    Array,
    Controller,
    ControllerState,
    Fault,
    FaultKind,
    Host,
    Lun,
    Mode,
    Outcome,
    Path,
    PathState,
    StorageState,
    Violation,
)
from planactor.lab.storage._operations import (
    apply,
)
from planactor.lab.storage._queries import (
    PathView,
    carries_io,
    hosts_on,
    inventory_entities,
    io_controller,
    luns_of,
    other_controller,
    path_role,
    path_views,
    path_works,
    preflight,
    unavailable,
)
from planactor.lab.storage._safety import (
    WRITE_ACTORS,
    StorageSafety,
)
from planactor.lab.storage._scenarios import (
    DEFAULT_FIRMWARE,
    SCENARIOS,
    Scenario,
    default_state,
    scenario,
)
from planactor.lab.storage._views import (
    StateLike,
    facts,
    inventory,
    storage_state,
)

__all__ = [
    "ADMIN_OPERATIONS",
    "CONTROLLER_STATES",
    "DEFAULT_FIRMWARE",
    "FAULT_KINDS",
    "MODES",
    "SCENARIOS",
    "WRITE_ACTORS",
    "WRITE_OPERATIONS",
    "Array",
    "Controller",
    "ControllerState",
    "Fault",
    "FaultKind",
    "Host",
    "Lun",
    "Mode",
    "Outcome",
    "Path",
    "PathState",
    "PathView",
    "Scenario",
    "StateLike",
    "StorageKind",
    "StorageSafety",
    "StorageState",
    "Violation",
    "apply",
    "carries_io",
    "default_state",
    "facts",
    "faults_from_doc",
    "faults_to_doc",
    "hosts_on",
    "inventory",
    "inventory_entities",
    "io_controller",
    "luns_of",
    "other_controller",
    "path_role",
    "path_views",
    "path_works",
    "preflight",
    "scenario",
    "state_from_doc",
    "state_to_doc",
    "storage_state",
    "unavailable",
]
