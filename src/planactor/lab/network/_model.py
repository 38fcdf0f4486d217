"""The network lab's data: racks, switches, links, cables, the applied fabric, faults and
violations.

Frozen dataclasses; what they mean (working links, reachability, the partition invariant)
is told in `planactor.lab.network`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from planactor.lab import _common
from planactor.lab._common import times_text

__all__ = [
    "ADMIN_OPERATIONS",
    "FAULT_KINDS",
    "INVARIANT",
    "LINK_STATES",
    "SWITCH_STATES",
    "WRITE_OPERATIONS",
    "AppliedFabric",
    "Cable",
    "End",
    "Fault",
    "FaultKind",
    "Link",
    "LinkState",
    "NetworkState",
    "Outcome",
    "Rack",
    "Switch",
    "SwitchState",
    "Violation",
]

SwitchState = Literal["up", "drained"]
LinkState = Literal["up", "down"]
FaultKind = Literal["link-down", "switch-down", "apply-fails"]

FAULT_KINDS: tuple[FaultKind, ...] = ("link-down", "switch-down", "apply-fails")
# Operations the network actors call (each logged with its idempotency key) ...
WRITE_OPERATIONS = ("apply_fabric", "remove_fabric", "set_link", "set_switch")
# ... and what the lab's operator does (not part of the operation log).
ADMIN_OPERATIONS = ("inject_fault", "clear_faults")
INVARIANT = "every pair of servers in different racks stays reachable"
SWITCH_STATES = ("up", "drained")
LINK_STATES = ("up", "down")

# -- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Rack:
    name: str
    servers: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Switch:
    """A switch as designed, plus its state. `servers`: server ports the design gives it."""

    name: str
    role: str
    index: int
    pod: int | None = None
    asn: int
    loopback: str
    port_count: int
    servers: int = 0
    state: SwitchState = "up"
    failed: bool = False
    set_by: str | None = None  # the idempotency key that last changed `state`

    @property
    def working(self) -> bool:
        return self.state == "up" and not self.failed


@dataclass(frozen=True, slots=True, kw_only=True)
class End:
    switch: str
    port: str
    address: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """A designed link (`a` the upper-tier end) and its state."""

    a: End
    b: End
    speed_gbps: int
    state: LinkState = "up"
    failed: bool = False
    set_by: str | None = None

    def joins(self, x: str, y: str) -> bool:
        return {self.a.switch, self.b.switch} == {x, y}

    def other(self, switch: str) -> str:
        return self.b.switch if self.a.switch == switch else self.a.switch


@dataclass(frozen=True, slots=True, kw_only=True)
class Cable:
    """A server's cable to its access switch's port."""

    server: str
    rack: str
    switch: str
    port: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AppliedFabric:
    """The fabric applied to the site. `fingerprint`: content hash of the design."""

    fingerprint: str
    kind: str
    spec: Mapping[str, Any]
    switches: Mapping[str, Switch]  # in design order
    links: tuple[Link, ...]
    cabling: tuple[Cable, ...]
    applied_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkState:
    racks: tuple[Rack, ...]
    fabric: AppliedFabric | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """An injected fault. `times`: firings left of a one-shot fault (`apply-fails`)."""

    kind: FaultKind
    a: str | None = None
    b: str | None = None
    switch: str | None = None
    times: int | None = None

    def describe(self) -> str:
        match self.kind:
            case "link-down":
                return f"link {self.a} -- {self.b} has failed"
            case "switch-down":
                return f"{self.switch} has failed"
            case _:
                return f"the next {times_text(self.times)} fabric apply(s) fail"


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """A broken invariant: server pairs in different racks that stopped reaching each other."""

    rack_pairs: tuple[tuple[str, str], ...]
    servers: tuple[str, ...]
    pairs: int
    cause: str
    kind: Literal["partition"] = "partition"
    invariant: str = INVARIANT

    def to_document(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "invariant": self.invariant,
            "racks": [list(p) for p in self.rack_pairs],
            "servers": list(self.servers),
            "pairs": self.pairs,
            "cause": self.cause,
        }


# What an operation did. `refused` changes no state (a one-shot fault may have fired).
# At run time the plain class: calling a subscripted alias of a frozen slotted dataclass fails.
if TYPE_CHECKING:
    Outcome: TypeAlias = _common.Outcome[NetworkState, Fault, Violation]
else:
    Outcome = _common.Outcome
