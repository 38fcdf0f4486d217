"""The `storage` pack: dual-controller arrays, multipath hosts, firmware, in the lab.

Read actors: `storage.inventory`, `storage.list_paths`, `storage.host_health`,
`storage.controller_status`, `storage.preflight`. Write actors: `storage.move_paths`
(compensated by moving back), `storage.upgrade_firmware` (irreversible), `storage.reboot_controller`
(irreversible), `storage.fail_back` and `storage.rebalance` (compensated by
`storage.restore_paths`, which puts every host back where it was).

Every actor works on the lab the run was given (`Engine(resources={"lab": Lab(F)})`, or
`planactor run --lab F`; see `planactor.lab.actor_lab`). A write sends one
operation to the lab with the call's idempotency key; the lab applies it atomically and logs
it, so a retried or resumed call of a write that already applied returns the recorded result
and applies nothing. The dangerous writes check their preconditions inside that same atomic
operation: a controller is never upgraded or rebooted while it carries host I/O or while
some host lacks a working path through the other controller (UnexpectedState: the run
pauses). `force=True` skips those checks, as a vendor CLI's `--force` would; the lab's
invariant monitor then records any data unavailability it causes.

`StorageSafety` is the validation-time counterpart: a Policy that simulates a plan's writes
over the lab's state and refuses a plan whose order would make data unavailable. It lives
with the lab (`planactor.lab.storage`, which never imports this pack) and is re-exported
here; `WRITE_ACTORS` names this pack's writes and the lab operation each performs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from planactor._errors import ActorError
from planactor.catalog import ActorContext, actor, entity
from planactor.plan import RetryPolicy

# The lab is imported when an actor runs, not when the catalog loads the pack: loading
# the catalog (every `planactor validate`) must not pay for the simulators.
if TYPE_CHECKING:
    from planactor.lab.storage import WRITE_ACTORS, StorageSafety, StorageState

__all__ = [
    "WRITE_ACTORS",
    "ArrayInfo",
    "ControllerInfo",
    "ControllerStatusOutput",
    "HostHealthOutput",
    "HostInfo",
    "InventoryOutput",
    "LunHealth",
    "MovePathsOutput",
    "PathInfo",
    "PathMove",
    "PathMovesOutput",
    "PathsOutput",
    "PreflightOutput",
    "RebootOutput",
    "StorageChange",
    "StorageSafety",
    "UpgradeOutput",
    "controller_status",
    "fail_back",
    "host_health",
    "inventory",
    "list_paths",
    "move_paths",
    "preflight_check",
    "rebalance",
    "reboot_controller",
    "restore_paths",
    "upgrade_firmware",
]

_TAGS = ("storage",)
_VERSION = r"^\d+\.\d+\.\d+$"


# -- talking to the lab ---------------------------------------------------------------------------


def __getattr__(name: str) -> Any:
    # The re-exports from the lab, imported on first use (see the imports above).
    if name in ("WRITE_ACTORS", "StorageSafety"):
        from planactor.lab import storage

        return getattr(storage, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _observe(ctx: ActorContext) -> StorageState:
    """Read the lab's state, taking the lab's latency as a real read would."""
    from planactor.lab import actor_observe
    from planactor.lab.storage import state_from_doc

    doc = actor_observe("storage", ctx)
    try:
        return state_from_doc(doc.state)
    except ValueError as e:
        raise ActorError(f"the lab's state is malformed: {e}", retryable=False) from None


def _write(op: str, args: BaseModel, ctx: ActorContext) -> dict[str, Any]:
    """Send one write to the lab under the call's idempotency key; map refusals to errors."""
    from planactor.lab import actor_operate

    # An unresponsive host or a timeout may pass; invalid arguments or a failed flash cannot.
    receipt = actor_operate(
        "storage",
        op,
        args.model_dump(mode="json"),
        ctx,
        retryable={"unresponsive", "timeout"},
        violation="DU",
    )
    return receipt.result


class StorageChange(BaseModel):
    """What a dry run reports a storage write would do (nothing is changed)."""

    operation: str
    already_applied: bool = Field(description="This idempotency key has applied already.")
    outcome: str = Field(description="applied, unchanged, refused or failed")
    changes: list[str] = Field(default_factory=list)
    refused: str | None = Field(default=None, description="Why it would be refused.")
    data_unavailable: list[str] = Field(
        default_factory=list, description="DU events it would cause."
    )


def _check(op: str) -> Callable[[BaseModel, ActorContext], StorageChange]:
    def check(args: BaseModel, ctx: ActorContext) -> StorageChange:
        from planactor.lab import actor_preview

        seen = actor_preview("storage", op, args.model_dump(mode="json"), ctx)
        return StorageChange(
            operation=op,
            already_applied=seen.already_applied,
            outcome=seen.outcome,
            changes=list(seen.changes),
            refused=seen.refused,
            data_unavailable=list(seen.violations),
        )

    check.__name__ = f"check_{op}"
    return check


# -- read actors -------------------------------------------------------------------------------


class InventoryInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    array: str | None = entity("array", default=None, description="Only this array.")


class ControllerInfo(BaseModel):
    name: str
    array: str
    firmware: str
    state: Literal["online", "offline", "failed"]
    role: Literal["active", "passive"] = Field(
        description="active: carries the most host I/O of its array"
    )
    carries_io: list[str] = Field(description="Hosts whose I/O flows through it now.")


class ArrayInfo(BaseModel):
    name: str
    mode: Literal["active-passive", "alua"]
    controllers: list[ControllerInfo]
    hosts: list[str]
    luns: list[str]


class HostInfo(BaseModel):
    name: str
    responsive: bool
    arrays: list[str]
    luns: list[str]


class InventoryOutput(BaseModel):
    arrays: list[ArrayInfo]
    hosts: list[HostInfo]


def _controllers(state: StorageState, array: str) -> list[ControllerInfo]:
    from planactor.lab.storage import carries_io, facts

    f = facts(state)["arrays"][array]
    return [
        ControllerInfo(
            name=c,
            array=array,
            firmware=state.controllers[c].firmware,
            state=state.controllers[c].state,
            role="active" if c == f["active"] else "passive",
            carries_io=carries_io(state, c),
        )
        for c in state.arrays[array].controllers
    ]


def _known_array(state: StorageState, array: str) -> None:
    if array not in state.arrays:
        raise ActorError(
            f"no array named {array!r} in the lab",
            hint="known: " + ", ".join(sorted(state.arrays)),
            retryable=False,
        )


@actor(name="storage.inventory", effect="read", timeout_s=60, tags=_TAGS)
def inventory(args: InventoryInput, ctx: ActorContext) -> InventoryOutput:
    """List arrays (mode, controllers, firmware, state), their hosts and LUNs."""
    from planactor.lab.storage import facts

    state = _observe(ctx)
    f = facts(state)
    names = sorted(f["arrays"])
    if args.array is not None:
        _known_array(state, args.array)
        names = [args.array]
    arrays = [
        ArrayInfo(
            name=a,
            mode=state.arrays[a].mode,
            controllers=_controllers(state, a),
            hosts=f["arrays"][a]["hosts"],
            luns=f["arrays"][a]["luns"],
        )
        for a in names
    ]
    wanted = {h for a in arrays for h in a.hosts}
    hosts = [
        HostInfo(name=h, responsive=d["responsive"], arrays=d["arrays"], luns=d["luns"])
        for h, d in f["hosts"].items()
        if args.array is None or h in wanted
    ]
    return InventoryOutput(arrays=arrays, hosts=hosts)


class ListPathsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    array: str | None = entity("array", default=None, description="Only paths to this array.")
    host: str | None = entity("host", default=None, description="Only this host's paths.")


class PathInfo(BaseModel):
    host: str
    array: str
    controller: str
    state: Literal["up", "down"]
    role: str = Field(description="active/passive, or active-optimized/active-non-optimized")
    working: bool = Field(description="Up, through a controller that is online.")
    carries_io: bool = Field(description="The host's I/O to the array flows through it now.")
    luns: list[str]


class PathsOutput(BaseModel):
    paths: list[PathInfo]


@actor(name="storage.list_paths", effect="read", timeout_s=60, tags=_TAGS)
def list_paths(args: ListPathsInput, ctx: ActorContext) -> PathsOutput:
    """List host-to-controller paths: state, ALUA or active/passive role, who carries I/O."""
    from planactor.lab.storage import path_views

    state = _observe(ctx)
    if args.array is not None:
        _known_array(state, args.array)
    views = path_views(state, array=args.array, host=args.host)
    return PathsOutput(
        paths=[
            PathInfo(
                host=v.host,
                array=v.array,
                controller=v.controller,
                state=v.state,
                role=v.role,
                working=v.working,
                carries_io=v.carries_io,
                luns=list(v.luns),
            )
            for v in views
        ]
    )


class HostInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = entity("host", description="The host whose multipath health to report.")


class LunHealth(BaseModel):
    lun: str
    array: str
    paths: int
    working_paths: int
    io_controller: str | None = Field(description="Where its I/O flows now; null: nowhere.")
    status: Literal["optimal", "degraded", "unavailable"]


class HostHealthOutput(BaseModel):
    host: str
    responsive: bool
    healthy: bool = Field(description="Responsive, and every LUN optimal.")
    luns: list[LunHealth]


@actor(name="storage.host_health", effect="read", timeout_s=60, tags=_TAGS)
def host_health(args: HostInput, ctx: ActorContext) -> HostHealthOutput:
    """Report a host's multipath health: per LUN its paths, working paths and status."""
    from planactor.lab.storage import facts, io_controller, path_works

    state = _observe(ctx)
    host = state.hosts.get(args.host)
    if host is None:
        raise ActorError(f"no host named {args.host!r} in the lab", retryable=False)
    luns = []
    for name in facts(state)["hosts"][host.name]["luns"]:
        array = state.luns[name].array
        ctrls = state.arrays[array].controllers
        paths = [c for c in ctrls if (host.name, c) in state.paths]
        working = [c for c in paths if path_works(state, host.name, c)]
        io = io_controller(state, host.name, array)
        status: Literal["optimal", "degraded", "unavailable"] = (
            "unavailable" if io is None else "optimal" if len(working) == len(paths) else "degraded"
        )
        luns.append(
            LunHealth(
                lun=name,
                array=array,
                paths=len(paths),
                working_paths=len(working),
                io_controller=io,
                status=status,
            )
        )
    return HostHealthOutput(
        host=host.name,
        responsive=host.responsive,
        healthy=host.responsive and all(lun.status == "optimal" for lun in luns),
        luns=luns,
    )


class ControllerStatusInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    array: str = entity("array")
    controller: str | None = entity("controller", default=None, description="Only this one.")


class ControllerStatusOutput(BaseModel):
    array: str
    mode: Literal["active-passive", "alua"]
    controllers: list[ControllerInfo]


@actor(name="storage.controller_status", effect="read", timeout_s=60, tags=_TAGS)
def controller_status(args: ControllerStatusInput, ctx: ActorContext) -> ControllerStatusOutput:
    """Report an array's controllers: firmware, state, role and the hosts they carry."""
    state = _observe(ctx)
    _known_array(state, args.array)
    ctrls = _controllers(state, args.array)
    if args.controller is not None:
        ctrls = [c for c in ctrls if c.name == args.controller]
        if not ctrls:
            raise ActorError(
                f"{args.controller!r} is not a controller of {args.array}", retryable=False
            )
    return ControllerStatusOutput(
        array=args.array, mode=state.arrays[args.array].mode, controllers=ctrls
    )


class PreflightInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    array: str = entity("array")
    controller: str | None = entity(
        "controller",
        default=None,
        description="The controller to be taken offline; default: check both.",
    )


class PreflightOutput(BaseModel):
    array: str
    ok: bool
    problems: list[str]
    hosts: list[str] = Field(description="The hosts checked: those with a LUN on the array.")


@actor(name="storage.preflight", effect="read", timeout_s=120, tags=_TAGS)
def preflight_check(args: PreflightInput, ctx: ActorContext) -> PreflightOutput:
    """Check that every host of an array has a working path through each controller."""
    from planactor.lab.storage import hosts_on, preflight

    state = _observe(ctx)
    _known_array(state, args.array)
    if args.controller is not None and args.controller not in state.arrays[args.array].controllers:
        raise ActorError(
            f"{args.controller!r} is not a controller of {args.array}", retryable=False
        )
    problems = preflight(state, args.array, args.controller)
    return PreflightOutput(
        array=args.array, ok=not problems, problems=problems, hosts=hosts_on(state, args.array)
    )


# -- write actors ------------------------------------------------------------------------------


class MovePathsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    array: str = entity("array", description="The array whose paths move.")
    host: str = entity("host")
    to_controller: str = entity("controller", description="Where the host's I/O goes.")


class MovePathsOutput(BaseModel):
    array: str
    host: str
    from_controller: str
    to_controller: str
    moved: bool = Field(description="False when the host's I/O already went there.")


@actor(
    name="storage.move_paths",
    effect="write",
    idempotent=True,
    compensate="storage.move_paths",
    compensate_args=lambda inp, out: {
        "array": inp.array,
        "host": inp.host,
        "to_controller": out.from_controller,
    },
    check=_check("move_paths"),
    timeout_s=120,
    retry=RetryPolicy(attempts=3, backoff_s=2.0),
    tags=_TAGS,
)
def move_paths(args: MovePathsInput, ctx: ActorContext) -> MovePathsOutput:
    """Move a host's I/O to an array's other controller (undo: move it back)."""
    return MovePathsOutput.model_validate(_write("move_paths", args, ctx))


class UpgradeInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    array: str = entity("array")
    controller: str = entity("controller", description="The controller to flash.")
    version: str = Field(pattern=_VERSION, description="Target firmware, e.g. 5.2.0.")
    force: bool = Field(
        default=False,
        description="Skip the safety preconditions (host I/O, surviving paths). Dangerous.",
    )


class UpgradeOutput(BaseModel):
    array: str
    controller: str
    from_version: str
    to_version: str
    upgraded: bool = Field(description="False when it already ran the target version.")


@actor(
    name="storage.upgrade_firmware",
    effect="write",
    idempotent=True,
    irreversible=True,
    check=_check("upgrade_firmware"),
    timeout_s=1800,
    retry=RetryPolicy(attempts=3, backoff_s=5.0),
    tags=_TAGS,
)
def upgrade_firmware(args: UpgradeInput, ctx: ActorContext) -> UpgradeOutput:
    """Flash a controller's firmware (offline meanwhile; refused while it carries host I/O)."""
    return UpgradeOutput.model_validate(_write("upgrade_firmware", args, ctx))


class RebootInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    array: str = entity("array")
    controller: str = entity("controller", description="The controller to reboot.")
    force: bool = Field(
        default=False,
        description="Skip the safety preconditions (host I/O, surviving paths). Dangerous.",
    )


class RebootOutput(BaseModel):
    array: str
    controller: str
    firmware: str
    was: str = Field(description="Its state before the reboot (a failed one comes back).")


@actor(
    name="storage.reboot_controller",
    effect="write",
    idempotent=True,
    irreversible=True,
    check=_check("reboot_controller"),
    timeout_s=900,
    retry=RetryPolicy(attempts=2, backoff_s=5.0),
    tags=_TAGS,
)
def reboot_controller(args: RebootInput, ctx: ActorContext) -> RebootOutput:
    """Reboot a controller (offline meanwhile; brings a failed one back on its firmware)."""
    return RebootOutput.model_validate(_write("reboot_controller", args, ctx))


class ArrayInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    array: str = entity("array")


class PathMove(BaseModel):
    host: str
    from_controller: str
    to_controller: str


class PathMovesOutput(BaseModel):
    array: str
    moved: list[PathMove]
    previous: dict[str, str] = Field(description="Where each moved host's I/O went before.")
    skipped: list[str] = Field(default_factory=list, description="Hosts that could not move.")


def _undo_moves(inp: Any, out: Any) -> dict[str, Any]:
    return {"array": inp.array, "paths": dict(out.previous)}


@actor(
    name="storage.fail_back",
    effect="write",
    idempotent=True,
    compensate="storage.restore_paths",
    compensate_args=_undo_moves,
    check=_check("fail_back"),
    timeout_s=300,
    retry=RetryPolicy(attempts=3, backoff_s=2.0),
    tags=_TAGS,
)
def fail_back(args: ArrayInput, ctx: ActorContext) -> PathMovesOutput:
    """Return every host's I/O on an array to its preferred controller."""
    return PathMovesOutput.model_validate(_write("fail_back", args, ctx))


@actor(
    name="storage.rebalance",
    effect="write",
    idempotent=True,
    compensate="storage.restore_paths",
    compensate_args=_undo_moves,
    check=_check("rebalance"),
    timeout_s=300,
    retry=RetryPolicy(attempts=3, backoff_s=2.0),
    tags=_TAGS,
)
def rebalance(args: ArrayInput, ctx: ActorContext) -> PathMovesOutput:
    """Even out host I/O between an array's controllers, moving as few hosts as possible."""
    return PathMovesOutput.model_validate(_write("rebalance", args, ctx))


class RestorePathsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    array: str = entity("array")
    paths: dict[str, str] = Field(description="host -> the controller its I/O should go through")


@actor(
    name="storage.restore_paths",
    effect="write",
    idempotent=True,
    compensate="storage.restore_paths",
    compensate_args=_undo_moves,
    check=_check("restore_paths"),
    timeout_s=300,
    retry=RetryPolicy(attempts=3, backoff_s=2.0),
    tags=_TAGS,
)
def restore_paths(args: RestorePathsInput, ctx: ActorContext) -> PathMovesOutput:
    """Route each named host's I/O through the given controller (undoes fail_back, rebalance)."""
    return PathMovesOutput.model_validate(_write("restore_paths", args, ctx))
