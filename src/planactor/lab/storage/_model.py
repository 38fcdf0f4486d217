"""The storage lab's data: arrays, controllers, LUNs, hosts, paths, faults and violations.

Frozen dataclasses; what they mean (working paths, carrying I/O, the DU invariant) is told
in `planactor.lab.storage`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from planactor.lab import _common
from planactor.lab._common import times_text

__all__ = [
    "ADMIN_OPERATIONS",
    "CONTROLLER_STATES",
    "FAULT_KINDS",
    "MODES",
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
    "StorageState",
    "Violation",
]

Mode = Literal["active-passive", "alua"]
ControllerState = Literal["online", "offline", "failed"]
PathState = Literal["up", "down"]
FaultKind = Literal["path-down", "upgrade-fails", "host-down", "timeout"]

FAULT_KINDS: tuple[FaultKind, ...] = ("path-down", "upgrade-fails", "host-down", "timeout")
# Operations the storage actors call (each logged with its idempotency key) ...
WRITE_OPERATIONS = (
    "move_paths",
    "upgrade_firmware",
    "reboot_controller",
    "fail_back",
    "rebalance",
    "restore_paths",
)
# ... and what the lab's operator does (not part of the operation log).
ADMIN_OPERATIONS = ("inject_fault", "clear_faults")
MODES = ("active-passive", "alua")
CONTROLLER_STATES = ("online", "offline", "failed")

# -- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Controller:
    name: str
    array: str
    firmware: str
    # `offline` exists only inside an operation (flashing, rebooting); `failed` persists.
    state: ControllerState = "online"


@dataclass(frozen=True, slots=True, kw_only=True)
class Array:
    name: str
    mode: Mode
    controllers: tuple[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Lun:
    name: str
    array: str
    hosts: tuple[str, ...]
    size_gb: int = 512


@dataclass(frozen=True, slots=True, kw_only=True)
class Host:
    """A host; `active` and `preferred` map each array it uses to a controller."""

    name: str
    active: Mapping[str, str]
    preferred: Mapping[str, str]
    responsive: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Path:
    """One host's path to one controller (it carries every LUN of that host on the array)."""

    host: str
    controller: str
    state: PathState = "up"


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageState:
    arrays: Mapping[str, Array]
    controllers: Mapping[str, Controller]
    luns: Mapping[str, Lun]
    hosts: Mapping[str, Host]
    paths: Mapping[tuple[str, str], Path]  # (host, controller)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """An injected fault. `times` counts the firings left of a one-shot fault."""

    kind: FaultKind
    host: str | None = None
    controller: str | None = None
    operation: str | None = None
    times: int | None = None
    applied: bool = True  # timeout: the operation took effect before the call timed out

    def describe(self) -> str:
        match self.kind:
            case "path-down":
                return f"path {self.host} -> {self.controller} is down"
            case "host-down":
                return f"{self.host} does not respond"
            case "upgrade-fails":
                return f"the next {times_text(self.times)} upgrade(s) of {self.controller} fail"
            case _:
                when = "after applying" if self.applied else "before applying"
                return f"the next {times_text(self.times)} {self.operation} call(s) time out {when}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """A broken invariant: `host` lost its last working path to `lun`."""

    kind: Literal["DU"]
    host: str
    lun: str
    array: str
    cause: str
    invariant: str = "every host keeps a working path to each of its LUNs"

    def to_document(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "invariant": self.invariant,
            "host": self.host,
            "lun": self.lun,
            "array": self.array,
            "cause": self.cause,
        }


# What an operation did. `refused` changes no state (the faults may have fired).
# At run time the plain class: calling a subscripted alias of a frozen slotted dataclass fails.
if TYPE_CHECKING:
    Outcome: TypeAlias = _common.Outcome[StorageState, Fault, Violation]
else:
    Outcome = _common.Outcome
