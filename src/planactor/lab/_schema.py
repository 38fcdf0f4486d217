"""The lab file's schema, checked once when a lab is read: a file that loads works everywhere.

Two layers. Pydantic models give the shape of the document and of each built-in kind's
`state` and `faults` (types and ranges), so every mistake is named with its JSON path
(`state.arrays[0].controllers`). Then the kind's own parser checks the rest, with the words
each field allows kept in one place (the kind's model), and what a schema cannot see (a
host's controller belongs to the array, a cable's rack holds its server).
Either failing is an InputError (exit 2) naming the file, the place and how to recover.
A kind registered by a third party gets the document's shape and its own parser, through
`inventory` and `facts`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planactor._errors import InputError
from planactor.lab._kinds import kinds
from planactor.plan import format_location

__all__ = ["check_lab_document"]

_INT = Annotated[int, Field(ge=0, le=2**32)]
_NAME = Annotated[str, Field(min_length=1, max_length=256)]
_MAX_LATENCY_MS = 600_000  # ten minutes: beyond that an operation holds the lab's lock forever


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Open(BaseModel):
    # Entries of the logs may gain fields; the ones the store reads must be right.
    model_config = ConfigDict(extra="allow", strict=True)


class _Operation(_Open):
    seq: _INT
    op: str
    status: str
    idempotency_key: str | None = None
    args: dict[str, Any] = {}
    result: dict[str, Any] = {}
    changes: list[str] = []
    at: str = ""


class _Document(BaseModel):
    """The lab file around any kind's state."""

    model_config = ConfigDict(extra="forbid", strict=True)

    format: str
    kind: _NAME
    scenario: str
    latency_ms: Annotated[int, Field(ge=0, le=_MAX_LATENCY_MS)] = 0
    seq: _INT = 0
    created_at: str = ""
    updated_at: str = ""
    state: dict[str, Any]
    faults: list[dict[str, Any]] = []
    operations: list[_Operation] = []
    violations: list[dict[str, Any]] = []


# -- storage -----------------------------------------------------------------------------------


class _Controller(_Strict):
    name: _NAME
    firmware: str
    state: str = "online"


class _Lun(_Strict):
    name: _NAME
    hosts: list[_NAME]
    size_gb: _INT = 512


class _Array(_Strict):
    name: _NAME
    mode: str
    controllers: list[_Controller]  # exactly two: the kind's parser says so, by array name
    luns: list[_Lun] = []


class _StoragePath(_Strict):
    controller: _NAME
    state: str = "up"


class _Host(_Strict):
    name: _NAME
    responsive: bool = True
    active: dict[str, str]
    preferred: dict[str, str] | None = None
    paths: list[_StoragePath] = []


class _StorageState(_Strict):
    arrays: list[_Array]
    hosts: list[_Host]


class _StorageFault(_Strict):
    kind: str
    host: str | None = None
    controller: str | None = None
    operation: str | None = None
    times: Annotated[int, Field(ge=1, le=2**31)] | None = None
    applied: bool = True


# -- network -----------------------------------------------------------------------------------


class _Rack(_Strict):
    name: _NAME
    servers: list[_NAME]


class _Site(_Strict):
    racks: list[_Rack]


class _Switch(_Strict):
    name: _NAME
    role: str
    index: _INT
    pod: _INT | None = None
    asn: _INT
    loopback: str
    port_count: _INT
    servers: _INT = 0
    state: str = "up"
    failed: bool = False
    set_by: str | None = None


class _End(_Strict):
    switch: _NAME
    port: str
    address: str


class _Link(_Strict):
    a: _End
    b: _End
    speed_gbps: _INT
    state: str = "up"
    failed: bool = False
    set_by: str | None = None


class _Cable(_Strict):
    server: _NAME
    rack: _NAME
    switch: _NAME
    port: str


class _Fabric(_Strict):
    fingerprint: str
    kind: str
    applied_by: str | None = None
    spec: dict[str, Any]
    switches: list[_Switch]
    links: list[_Link]
    cabling: list[_Cable]


class _NetworkState(_Strict):
    site: _Site
    fabric: _Fabric | None = None


class _NetworkFault(_Strict):
    kind: str
    a: str | None = None
    b: str | None = None
    switch: str | None = None
    times: Annotated[int, Field(ge=1, le=2**31)] | None = None


def _storage_parsers() -> tuple[Callable[[Any], object], Callable[[Any], object]]:
    from planactor.lab.storage._documents import faults_from_doc, state_from_doc

    return state_from_doc, faults_from_doc


def _network_parsers() -> tuple[Callable[[Any], object], Callable[[Any], object]]:
    from planactor.lab.network._documents import faults_from_doc, state_from_doc

    return state_from_doc, faults_from_doc


_SCHEMAS: dict[
    str,
    tuple[
        type[BaseModel],
        type[BaseModel],
        Callable[[], tuple[Callable[[Any], object], Callable[[Any], object]]],
    ],
] = {
    "storage": (_StorageState, _StorageFault, _storage_parsers),
    "network": (_NetworkState, _NetworkFault, _network_parsers),
}


def _problems(e: ValidationError, prefix: tuple[str | int, ...]) -> list[str]:
    out = []
    for err in e.errors(include_url=False)[:10]:
        value = err.get("input")
        got = "" if isinstance(value, dict | list) else f" (got {_short(value)})"
        out.append(f"{format_location((*prefix, *err['loc']))}: {err['msg']}{got}")
    if e.error_count() > 10:
        out.append(f"... and {e.error_count() - 10} more")
    return out


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_lab_document(doc: dict[str, Any], *, source: str) -> None:
    """Refuse a lab document that any command would trip over; InputError names the file,
    the JSON path of each problem and how to recover."""
    hint = "recreate it with `planactor lab init KIND --force` (or restore a backup)"
    try:
        top = _Document.model_validate(doc)
    except ValidationError as e:
        raise InputError(
            f"{source}: malformed lab file:\n  " + "\n  ".join(_problems(e, ())), hint=hint
        ) from None
    known = kinds()
    lab_kind = known.get(top.kind)
    if lab_kind is None:
        raise InputError(
            f"{source}: this planactor has no {top.kind!r} lab",
            hint="kinds: " + ", ".join(sorted(known)),
        )
    hint = f"recreate it with `planactor lab init {top.kind} --force` (or restore a backup)"
    problems: list[str] = []
    schema = _SCHEMAS.get(top.kind)
    if schema is not None:
        state_model, fault_model, _ = schema
        try:
            state_model.model_validate(top.state)
        except ValidationError as e:
            problems += _problems(e, ("state",))
        for i, fault in enumerate(top.faults):
            try:
                fault_model.model_validate(fault)
            except ValidationError as e:
                problems += _problems(e, ("faults", i))
    if problems:
        raise InputError(
            f"{source}: malformed {top.kind} lab:\n  " + "\n  ".join(problems[:10]), hint=hint
        )
    try:
        if schema is not None:
            state_from_doc, faults_from_doc = schema[2]()
            state_from_doc(top.state)
            faults_from_doc(top.faults)
        else:
            lab_kind.inventory(top.state)
            lab_kind.facts(top.state)
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as e:
        raise InputError(f"{source}: malformed {top.kind} lab: {e}", hint=hint) from None
