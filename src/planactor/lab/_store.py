"""The lab file: one JSON document that actors read and change, safely, from any process.

Every change is one operation: take an exclusive `flock` on the sidecar lock file
(`lab.json.lock`), load the document, apply the operation (the kind's pure code), sleep the
lab's `latency_ms`, then write the new document atomically (temporary file, fsync,
`os.replace`, fsync of the directory). The effect, its entry in the operation log and any
invariant violation land in one write, so a process killed mid-operation leaves the
previous document or the next one, never a torn file, and never an effect without its log
entry. Readers need no lock: `os.replace` swaps whole files.

The document:

    {"format": "planactor-lab/v1", "kind": "storage", "scenario": "default",
     "latency_ms": 0, "seq": 12, "created_at": ..., "updated_at": ...,
     "state": {...}, "faults": [...], "operations": [...], "violations": [...]}

`operations` holds each write an actor made, with its `idempotency_key`: an operation
called again with a key already applied returns the recorded result and changes nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from planactor._errors import InputError
from planactor._home import home
from planactor._reader import LIMITS, read_document
from planactor.lab._kinds import kinds
from planactor.plan import JsonSyntaxError, parse_json

__all__ = [
    "ENV_VAR",
    "FORMAT",
    "Lab",
    "LabDocument",
    "Receipt",
    "create_lab",
    "current_lab",
    "lab_path",
]

FORMAT = "planactor-lab/v1"
ENV_VAR = "PLANACTOR_LAB"
_INIT_HINT = "create one with `planactor lab init storage` (or point PLANACTOR_LAB at a lab file)"


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class LabDocument:
    """A lab file's content."""

    kind: str
    scenario: str
    latency_ms: int
    state: dict[str, Any]
    faults: list[dict[str, Any]] = field(default_factory=list)
    operations: list[dict[str, Any]] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0
    created_at: str = ""
    updated_at: str = ""

    def to_document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "kind": self.kind,
            "scenario": self.scenario,
            "latency_ms": self.latency_ms,
            "seq": self.seq,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "state": self.state,
            "faults": self.faults,
            "operations": self.operations,
            "violations": self.violations,
        }

    @classmethod
    def from_json(cls, doc: Any, *, source: str = "lab file") -> LabDocument:
        hint = "recreate it with `planactor lab init storage --force`"
        from planactor.lab._schema import check_lab_document  # it imports the kinds

        if not isinstance(doc, dict):
            raise InputError(f"{source}: a lab file holds a JSON object", hint=hint)
        if doc.get("format") != FORMAT:
            raise InputError(
                f"{source}: not a planactor lab (format {doc.get('format')!r}, "
                f"expected {FORMAT!r})",
                hint=hint,
            )
        # The shape and the kind's own checks, once here: a lab that loads works everywhere.
        check_lab_document(doc, source=source)
        try:
            return cls(
                kind=str(doc["kind"]),
                scenario=str(doc["scenario"]),
                latency_ms=int(doc.get("latency_ms", 0)),
                state=dict(doc["state"]),
                faults=list(doc.get("faults", [])),
                operations=list(doc.get("operations", [])),
                violations=list(doc.get("violations", [])),
                seq=int(doc.get("seq", 0)),
                created_at=str(doc.get("created_at", "")),
                updated_at=str(doc.get("updated_at", "")),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(
                f"{source}: malformed lab file ({type(e).__name__}: {e})", hint=hint
            ) from None

    def recorded(self, key: str) -> dict[str, Any] | None:
        """The operation that applied `key` (applied or found nothing to do), if any."""
        for entry in reversed(self.operations):
            if entry.get("idempotency_key") == key and entry.get("status") in (
                "applied",
                "unchanged",
            ):
                return dict(entry)
        return None

    def applied_counts(self) -> Counter[str]:
        """How many times each idempotency key really changed the lab."""
        return Counter(
            e["idempotency_key"]
            for e in self.operations
            if e.get("status") == "applied" and e.get("idempotency_key") is not None
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """What one operation did. `replayed`: the key had applied before; nothing changed now."""

    op: str
    key: str | None
    status: str
    seq: int
    result: dict[str, Any] = field(default_factory=dict)
    changes: tuple[str, ...] = ()
    violations: tuple[dict[str, Any], ...] = ()
    error: dict[str, Any] | None = None
    replayed: bool = False


class Lab:
    """A lab file and its lock. Safe across the threads of a run and across processes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], str] = _utc_now,
    ) -> None:
        self.path = Path(path)
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"Lab({str(self.path)!r})"

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def exists(self) -> bool:
        return self.path.exists()

    # -- reading --------------------------------------------------------------------------------

    def read(self) -> LabDocument:
        """The current document (no lock: writes replace the whole file atomically)."""
        if not os.path.lexists(self.path):
            raise InputError(f"no lab at {self.path}", hint=_INIT_HINT)
        # Bounded, regular files only (a FIFO or /dev/zero is refused), strict UTF-8 JSON.
        data = read_document(
            self.path, what="lab", max_bytes=LIMITS.lab, label="cannot read the lab"
        )
        try:
            doc = parse_json(data)
        except JsonSyntaxError as e:
            raise InputError(
                f"{self.path}: not JSON ({e})",
                hint="recreate it with `planactor lab init storage --force`",
            ) from None
        return LabDocument.from_json(doc, source=str(self.path))

    # -- changing -------------------------------------------------------------------------------

    def operate(
        self,
        op: str,
        args: Mapping[str, Any],
        *,
        key: str | None = None,
        kind: str | None = None,
    ) -> Receipt:
        """Apply one operation atomically; with a `key` already applied, replay its result.

        `kind` (e.g. "storage") refuses a lab of another kind with an InputError.
        """
        with self._locked():
            doc = self.read()
            if kind is not None and doc.kind != kind:
                raise InputError(
                    f"{self.path} is a {doc.kind} lab, not a {kind} lab",
                    hint=f"`planactor lab init {kind}` creates one",
                )
            if key is not None:
                seen = doc.recorded(key)
                if seen is not None:
                    return Receipt(
                        op=op,
                        key=key,
                        status=str(seen["status"]),
                        seq=int(seen["seq"]),
                        result=dict(seen.get("result", {})),
                        changes=tuple(seen.get("changes", ())),
                        replayed=True,
                    )
            lab_kind = kinds().get(doc.kind)
            if lab_kind is None:
                raise InputError(f"{self.path}: this planactor has no {doc.kind!r} lab")
            try:
                out = lab_kind.apply(doc.state, doc.faults, op, args)
            except ValueError as e:
                raise InputError(
                    f"{self.path}: {e}", hint="recreate it with `planactor lab init --force`"
                ) from None
            if doc.latency_ms:
                # Inside the lock, before the write: a kill now leaves the previous state.
                self._sleep(doc.latency_ms / 1000)
            if out.status == "refused" and out.faults == doc.faults:
                return Receipt(op=op, key=key, status=out.status, seq=doc.seq, error=out.error)
            seq = doc.seq + 1
            now = self._clock()
            ops = doc.operations
            if out.logged:
                ops = [
                    *ops,
                    {
                        "seq": seq,
                        "at": now,
                        "op": op,
                        "args": dict(args),
                        "idempotency_key": key,
                        "status": out.status,
                        "result": out.result,
                        "changes": out.changes,
                    },
                ]
            stamped = [
                {"seq": seq, "at": now, "operation": op, "idempotency_key": key, **v}
                for v in out.violations
            ]
            self._write(
                replace(
                    doc,
                    state=out.state,
                    faults=out.faults,
                    operations=ops,
                    violations=[*doc.violations, *stamped],
                    seq=seq,
                    updated_at=now,
                )
            )
            return Receipt(
                op=op,
                key=key,
                status=out.status,
                seq=seq,
                result=out.result,
                changes=tuple(out.changes),
                violations=tuple(stamped),
                error=out.error,
            )

    def inject_fault(self, fault: Mapping[str, Any]) -> Receipt:
        """Inject a fault (`{"kind": "path-down", "host": ..., "controller": ...}` ...)."""
        return self.operate("inject_fault", fault)

    def clear_faults(self) -> Receipt:
        return self.operate("clear_faults", {})

    # -- files ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # A fresh open file per operation: flock then excludes other threads of this
        # process as well as other processes; the kernel drops it if the process dies.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, doc: LabDocument) -> None:
        text = json.dumps(doc.to_document(), indent=1, ensure_ascii=False) + "\n"
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def lab_path() -> Path:
    """`PLANACTOR_LAB`, else `$PLANACTOR_HOME/lab.json`."""
    return Path(os.environ.get(ENV_VAR) or home() / "lab.json")


def current_lab(path: str | os.PathLike[str] | None = None) -> Lab:
    """The lab at `path`, else the one `lab_path()` names; InputError if there is none."""
    lab = Lab(path if path is not None else lab_path())
    if not lab.exists():
        raise InputError(f"no lab at {lab.path}", hint=_INIT_HINT)
    return lab


def create_lab(
    path: str | os.PathLike[str] | None = None,
    *,
    kind: str = "storage",
    scenario: str = "default",
    latency_ms: int | None = None,
    overwrite: bool = False,
) -> Lab:
    """Write a fresh lab file for `kind` and `scenario`; refuse to replace one unless told."""
    known = kinds()
    if kind not in known:
        raise InputError(f"unknown kind of lab {kind!r}", hint="kinds: " + ", ".join(sorted(known)))
    lab_kind = known[kind]
    scenarios = lab_kind.scenarios()
    if scenario not in scenarios:
        raise InputError(
            f"the {kind} lab has no scenario {scenario!r}",
            hint="scenarios: " + ", ".join(scenarios),
        )
    if latency_ms is not None and latency_ms < 0:
        raise InputError(f"--latency-ms must be 0 or more, not {latency_ms}")
    lab = Lab(path if path is not None else lab_path())
    built = lab_kind.build(scenario)
    with lab._locked():
        if lab.exists() and not overwrite:
            raise InputError(
                f"a lab already exists at {lab.path}", hint="pass --force to replace it"
            )
        now = _utc_now()
        lab._write(
            LabDocument(
                kind=kind,
                scenario=scenario,
                latency_ms=built.latency_ms if latency_ms is None else latency_ms,
                state=built.state,
                faults=built.faults,
                violations=[
                    {"seq": 0, "at": now, "operation": "init", "idempotency_key": None, **v}
                    for v in built.violations
                ],
                created_at=now,
                updated_at=now,
            )
        )
    return lab
