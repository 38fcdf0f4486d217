"""What the lab's models (`lab.storage`, `lab.network`) share: outcomes, errors, faults, and
the documents a kind hands to the store. Pure code.

Each model keeps its own state, faults and violations; this module holds the pieces that do
not depend on what is modelled, so both models report, refuse and parse in the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeAlias, TypeVar

__all__ = [
    "Built",
    "ErrorKind",
    "FaultLike",
    "KindOutcome",
    "OpError",
    "Operation",
    "Outcome",
    "Refused",
    "Status",
    "fault_doc",
    "fault_injected",
    "fault_kind",
    "fault_times",
    "faults_cleared",
    "kind_outcome",
    "list_names",
    "natural",
    "one_fault",
    "one_of",
    "parse_state",
    "refused",
    "run",
    "take",
    "text_arg",
    "times_text",
]

Status = Literal["applied", "unchanged", "failed", "refused"]
# Every kind either model uses; the network model never reports `unresponsive` or `timeout`.
ErrorKind = Literal["invalid", "precondition", "unresponsive", "timeout", "failed"]


class FaultLike(Protocol):
    """A model's fault dataclass: `times` counts the firings left (None: it never runs out)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def kind(self) -> str: ...

    @property
    def times(self) -> int | None: ...

    def describe(self) -> str: ...


StateT = TypeVar("StateT")
FaultT = TypeVar("FaultT", bound=FaultLike)
ViolationT = TypeVar("ViolationT")


@dataclass(frozen=True, slots=True, kw_only=True)
class OpError:
    """Why an operation did not (fully) succeed; the actors map `kind` to an error class."""

    kind: ErrorKind
    message: str
    hint: str | None = None

    def to_document(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "hint": self.hint}


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome(Generic[StateT, FaultT, ViolationT]):
    """What an operation did. `refused` changes no state (a one-shot fault may have fired)."""

    state: StateT
    faults: tuple[FaultT, ...]
    status: Status
    result: dict[str, Any] = field(default_factory=dict)
    changes: tuple[str, ...] = ()
    violations: tuple[ViolationT, ...] = ()
    error: OpError | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    """A scenario's starting point. `violations`: invariants it breaks from the start."""

    state: dict[str, Any]
    faults: list[dict[str, Any]]
    latency_ms: int
    violations: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class KindOutcome:
    """An operation's outcome as documents. `logged`: it goes into the operation log."""

    state: dict[str, Any]
    faults: list[dict[str, Any]]
    status: str
    result: dict[str, Any]
    changes: list[str]
    violations: list[dict[str, Any]]
    error: dict[str, Any] | None
    logged: bool


class _Documented(Protocol):
    def to_document(self) -> dict[str, Any]: ...


DocViolationT = TypeVar("DocViolationT", bound=_Documented)


def kind_outcome(
    out: Outcome[StateT, FaultT, DocViolationT],
    op: str,
    *,
    state_doc: Callable[[StateT], dict[str, Any]],
    faults_doc: Callable[[Iterable[FaultT]], list[dict[str, Any]]],
    writes: tuple[str, ...],
) -> KindOutcome:
    """A model's outcome as the store keeps it; the `writes` that applied are logged."""
    return KindOutcome(
        state=state_doc(out.state),
        faults=faults_doc(out.faults),
        status=out.status,
        result=out.result,
        changes=list(out.changes),
        violations=[v.to_document() for v in out.violations],
        error=out.error.to_document() if out.error else None,
        logged=op in writes and out.status != "refused",
    )


def parse_state(parse: Callable[[Any], StateT], doc: Any, *, lab: str) -> StateT:
    """Parse and check a state document; ValueError says what is wrong and where."""
    try:
        return parse(doc)
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"malformed {lab} state: {type(e).__name__}: {e}") from None


# An operation: (state, pending faults, arguments) -> what it did.
Operation: TypeAlias = Callable[
    [StateT, tuple[FaultT, ...], Mapping[str, Any]], Outcome[StateT, FaultT, ViolationT]
]


class Refused(Exception):
    """Raised inside an operation to refuse it; `run` turns it into a `refused` outcome."""

    def __init__(self, kind: ErrorKind, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.hint = kind, message, hint


def refused(
    state: StateT, faults: tuple[FaultT, ...], kind: ErrorKind, msg: str, hint: str | None
) -> Outcome[StateT, FaultT, ViolationT]:
    return Outcome(
        state=state,
        faults=faults,
        status="refused",
        error=OpError(kind=kind, message=msg, hint=hint),
    )


def run(
    operations: Mapping[str, Operation[StateT, FaultT, ViolationT]],
    state: StateT,
    faults: Iterable[FaultT],
    op: str,
    args: Mapping[str, Any],
    *,
    lab: str,
    known: str,
) -> Outcome[StateT, FaultT, ViolationT]:
    """Run operation `op` of a `lab` model; never raises for bad arguments (`invalid`)."""
    pending = tuple(faults)
    fn = operations.get(op)
    if fn is None:
        return refused(state, pending, "invalid", f"unknown {lab} operation {op!r}", known)
    try:
        return fn(state, pending, args)
    except Refused as r:
        return refused(state, pending, r.kind, r.message, r.hint)


def one_fault(
    parse: Callable[[Iterable[Any]], tuple[FaultT, ...]], doc: Mapping[str, Any]
) -> FaultT:
    """The fault an `inject_fault` call describes; refused as `invalid` if it does not parse."""
    try:
        return parse([dict(doc)])[0]
    except ValueError as e:
        raise Refused("invalid", str(e)) from None


def fault_injected(
    after: StateT,
    kept: tuple[FaultT, ...],
    fault: FaultT,
    doc: dict[str, Any],
    violations: tuple[ViolationT, ...],
) -> Outcome[StateT, FaultT, ViolationT]:
    """`inject_fault` applied: `fault` (as `doc`) joins the `kept` faults; the state is `after`."""
    return Outcome(
        state=after,
        faults=(*kept, fault),
        status="applied",
        result={"fault": doc},
        changes=(f"fault: {fault.describe()}",),
        violations=violations,
    )


def faults_cleared(after: StateT, faults: tuple[FaultT, ...]) -> Outcome[StateT, FaultT, Any]:
    """`clear_faults` applied: every fault lifted. Lifting faults only brings things back, so
    it cannot break an invariant: no violations."""
    return Outcome(
        state=after,
        faults=(),
        status="applied",
        result={"cleared": len(faults)},
        changes=tuple(f"cleared: {f.describe()}" for f in faults),
    )


def take(
    faults: tuple[FaultT, ...], match: Callable[[FaultT], bool]
) -> tuple[FaultT | None, tuple[FaultT, ...]]:
    """Fire the first matching fault: one firing fewer, gone when none are left."""
    for i, f in enumerate(faults):
        if match(f):
            if f.times is None:
                return f, faults
            left = f.times - 1
            rest = faults[:i] + ((replace(f, times=left),) if left > 0 else ()) + faults[i + 1 :]
            return f, rest
    return None, faults


def text_arg(args: Mapping[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str) or not value:
        raise Refused("invalid", f"argument {name!r} must be a non-empty string, not {value!r}")
    return value


def natural(name: str) -> tuple[Any, ...]:
    """Sort `rack-2` before `rack-10` (digit runs compare as numbers)."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name))


def list_names(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def one_of(value: Any, options: tuple[str, ...], where: str) -> Any:
    if value not in options:
        raise ValueError(f"{where}: {value!r} is not one of {', '.join(options)}")
    return value


def fault_doc(fault: FaultLike, keys: tuple[str, ...]) -> dict[str, Any]:
    """A fault's document: its kind and those of `keys` that are set."""
    doc: dict[str, Any] = {"kind": fault.kind}
    for key in keys:
        if getattr(fault, key) is not None:
            doc[key] = getattr(fault, key)
    return doc


def fault_times(
    doc: Mapping[str, Any], kind: str, *, counted: tuple[str, ...], only_counted: bool
) -> int | None:
    """A fault's `times`: how often it fires (None: until cleared), 1 by default for the
    `counted` kinds. With `only_counted`, other kinds refuse a count. ValueError for
    anything but a positive integer (`true` is not a count, although Python says 1)."""
    times = doc.get("times", 1 if kind in counted else None)
    if times is None:
        return None
    if (
        (only_counted and kind not in counted)
        or not isinstance(times, int)
        or isinstance(times, bool)
        or times < 1
    ):
        which = f" ({', '.join(counted)} only)" if only_counted else ""
        raise ValueError(f"fault 'times' must be a positive integer{which}, not {times!r}")
    return times


def times_text(times: int | None) -> str:
    """How a fault's count reads in a sentence: `every`, or the number of firings left."""
    return "every" if times is None else str(times)


def fault_kind(doc: Any, kinds: tuple[str, ...], fields: Mapping[str, tuple[str, ...]]) -> str:
    """Check a fault document's kind and the fields that kind needs; ValueError if not."""
    if not isinstance(doc, Mapping):
        raise ValueError(f"a fault is an object, not {doc!r}")
    kind: str = one_of(doc.get("kind"), kinds, "fault kind")
    for key in fields[kind]:
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise ValueError(f"a {kind} fault needs {' and '.join(fields[kind])}")
    return kind
