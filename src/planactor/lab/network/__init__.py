"""The network lab: a site's racks of servers and the fabric applied to it. Pure code.

Every operation is a function from a state (and the pending faults) to an `Outcome`, as in
the storage model; `planactor.lab.Lab` adds the file, the lock, the clock and the latency.

The model:

- a *site* is racks of servers (`rack-1` holds `srv-1-01`...). Until a fabric is applied the
  servers reach nothing;
- `apply_fabric` takes a fabric document (what `network.design_fabric` returns), refuses it
  if its validation report has errors or its access switches (leaves, or fat-tree edges)
  cannot host the racks, and cables rack N's servers to the Nth access switch's first ports
  (server K on `EthernetK`), as the design lays them out. Switches, links, ports and
  addresses are kept as designed;
- a switch is `up` or `drained` (administratively out of service) and may have *failed*
  (an injected fault); it *works* when up and not failed. A link is `up` or `down`
  (administratively) and may have failed; it *works* when up, not failed and both its
  switches work. Every link of an access switch is an uplink;
- two servers *reach* each other when their access switches work and are joined by working
  links. Servers hang off one access switch each, with cables that do not fail.

The invariant: once a fabric is applied, every pair of servers in different racks stays
reachable. An operation that breaks it records one `partition` violation naming the rack
pairs and servers it cut off and the cause. Taking something down (`set_link` down,
`set_switch` drained) is refused unless forced when it would cut off a rack, take the last
working uplink of an access switch that serves servers, or otherwise partition the racks.
Faults are not refused: they happen, and the monitor records what they break.

Each write remembers the idempotency key that made it (`applied_by`, `set_by`): a
compensation passes its own step's key (`if_applied_by`, `if_set_by`) and so undoes only
what that step did, never a change someone else made before.

Modules: `_model` (the data), `_queries` (what works, what reaches what, the planner's
views), `_monitor` (the invariant monitor and the guard), `_operations`, `_documents` (the
JSON form), `_scenarios`, `_kind` (`NetworkKind`). Fabric designs come from
`planactor.fabric`, which the network pack uses too; the lab never imports the pack.
"""

from __future__ import annotations

from planactor.lab.network._documents import (
    faults_from_doc,
    faults_to_doc,
    state_from_doc,
    state_to_doc,
)
from planactor.lab.network._kind import (
    NetworkKind,
)
from planactor.lab.network._model import (
    ADMIN_OPERATIONS,
    FAULT_KINDS,
    INVARIANT,
    LINK_STATES,
    SWITCH_STATES,
    WRITE_OPERATIONS,
    AppliedFabric,
    Cable,
    End,
    Fault,
    FaultKind,
    Link,
    LinkState,
    NetworkState,
    Outcome,
    Rack,
    Switch,
    SwitchState,
    Violation,
)
from planactor.lab.network._operations import (
    apply,
)
from planactor.lab.network._queries import (
    cut_racks,
    cut_server_pairs,
    facts,
    graph_edges,
    has_working_uplink,
    inventory_entities,
    link_status,
    link_works,
    rack_of,
    rack_switches,
    site,
    switch_status,
    uplinks,
)
from planactor.lab.network._scenarios import (
    NETWORK_SCENARIOS,
    NetworkScenario,
    network_scenario,
)

__all__ = [
    "ADMIN_OPERATIONS",
    "FAULT_KINDS",
    "INVARIANT",
    "LINK_STATES",
    "NETWORK_SCENARIOS",
    "SWITCH_STATES",
    "WRITE_OPERATIONS",
    "AppliedFabric",
    "Cable",
    "End",
    "Fault",
    "FaultKind",
    "Link",
    "LinkState",
    "NetworkKind",
    "NetworkScenario",
    "NetworkState",
    "Outcome",
    "Rack",
    "Switch",
    "SwitchState",
    "Violation",
    "apply",
    "cut_racks",
    "cut_server_pairs",
    "facts",
    "faults_from_doc",
    "faults_to_doc",
    "graph_edges",
    "has_working_uplink",
    "inventory_entities",
    "link_status",
    "link_works",
    "network_scenario",
    "rack_of",
    "rack_switches",
    "site",
    "state_from_doc",
    "state_to_doc",
    "switch_status",
    "uplinks",
]
