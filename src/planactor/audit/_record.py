"""What an audit holds: anchors, findings, the verification of a run, and the audit record of
one run with its parts (approvals judged again, steps and their tries, compensations, pauses,
events). Plain frozen dataclasses, each with its JSON form."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from planactor._errors import InputError
from planactor.journal import ChainReport
from planactor.plan import Plan, StepKind

__all__ = [
    "ANCHOR_FORMAT",
    "AUDIT_FORMAT",
    "Anchor",
    "ApprovalAudit",
    "AttemptAudit",
    "AuditRecord",
    "Check",
    "CompensationAudit",
    "EventAudit",
    "Finding",
    "KindOf",
    "PolicyInForce",
    "RunEventAudit",
    "StepAudit",
    "Verification",
    "notes_of",
]

AUDIT_FORMAT = "planactor-audit/v1"
ANCHOR_FORMAT = "RUN_ID@SEQ:HASH"
# What the catalog says an actor does; "unknown" for an actor it does not hold.
KindOf = Callable[[str], StepKind]

_ANCHOR = re.compile(r"^(?P<run>.+)@(?P<seq>[0-9]+):(?P<hash>[0-9a-f]{64})$")

Check = Literal["chain", "sequence", "plan", "record", "approval", "unauthorized"]


# -- anchors and findings ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Anchor:
    """A run's head kept outside the journal (a ticket, a log system): `RUN_ID@SEQ:HASH`."""

    run_id: str
    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        m = _ANCHOR.match(text.strip())
        if m is None:
            raise InputError(
                f"{text!r} is not an anchor; expected {ANCHOR_FORMAT} "
                "(SEQ a number, HASH 64 lower-case hex digits)",
                hint="`planactor audit head RUN_ID` prints a run's anchor in this format",
            )
        return cls(run_id=m["run"], seq=int(m["seq"]), hash=m["hash"])

    def __str__(self) -> str:
        return f"{self.run_id}@{self.seq}:{self.hash}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One way the run's record does not hold. `seq` is the first bad event, if one is."""

    check: Check
    seq: int | None
    message: str

    @property
    def where(self) -> str:
        return f"event #{self.seq}" if self.seq is not None else "the run's stored record"

    def to_document(self) -> dict[str, Any]:
        return {"check": self.check, "seq": self.seq, "message": self.message}


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyInForce:
    """The policy a run recorded at its start, compared with the default this planactor ships.

    A policy's name is whatever its file says; only the hash tells whether it is the shipped
    default. `shipped_hash` is None when the shipped default could not be read.
    """

    name: str | None
    hash: str | None
    source: str | None
    shipped_hash: str | None

    @property
    def is_shipped_default(self) -> bool | None:
        if self.hash is None or self.shipped_hash is None:
            return None
        return self.hash == self.shipped_hash

    @property
    def note(self) -> str | None:
        """What a reader must be told: the policy in force is not the shipped default."""
        if self.is_shipped_default is not False:
            return None
        recorded, shipped = _short(self.hash), _short(self.shipped_hash)
        if self.name == "default":
            return (
                f"the policy in force calls itself 'default' but is not the shipped default "
                f"(its hash {recorded}, the shipped default's {shipped}; from {self.source})"
            )
        return (
            f"the policy in force ({self.name!r}, from {self.source}) is not the shipped "
            f"default (its hash {recorded}, the shipped default's {shipped})"
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "hash": self.hash,
            "source": self.source,
            "shipped_default_hash": self.shipped_hash,
            "is_shipped_default": self.is_shipped_default,
        }


def _short(digest: str | None) -> str:
    return "?" if digest is None else f"{digest[:19]}…"


_OUTSIDE = {
    "planner": "planner metadata is kept only with the stored plan (the run's first event does "
    "not record it): outside the chain, unverified",
    "plan.approvals": "the stored plan's approvals were not checked when the run started (no "
    "authorization recorded): outside the chain, unverified",
}


def notes_of(policy: PolicyInForce | None, outside_chain: Sequence[str]) -> tuple[str, ...]:
    """What the reader must know besides the findings: they do not fail the record."""
    notes = [_OUTSIDE.get(name, f"{name}: outside the chain") for name in outside_chain]
    if policy is not None and policy.note is not None:
        notes.insert(0, policy.note)
    return tuple(notes)


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    """The outcome of `audit verify` for one run: the chain report, every finding, and the
    notes (the policy in force, fields outside the chain) that do not fail it."""

    run_id: str
    chain: ChainReport
    findings: tuple[Finding, ...]
    anchors: tuple[Anchor, ...] = ()
    approvals_checked: int = 0
    policy: PolicyInForce | None = None
    outside_chain: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def notes(self) -> tuple[str, ...]:
        return notes_of(self.policy, self.outside_chain)

    @property
    def head(self) -> Anchor | None:
        """The chain's head as an anchor, when the chain verifies."""
        return _head(self.run_id, self.chain)

    def to_document(self) -> dict[str, Any]:
        first = self.findings[0] if self.findings else None
        head = self.head
        return {
            "run_id": self.run_id,
            "ok": self.ok,
            "events": self.chain.events,
            "head": str(head) if head else None,
            "first_bad_seq": first.seq if first else None,
            "reason": first.message if first else None,
            "anchors": [str(a) for a in self.anchors],
            "approvals_checked": self.approvals_checked,
            "findings": [f.to_document() for f in self.findings],
            "policy": self.policy.to_document() if self.policy else None,
            "outside_chain": list(self.outside_chain),
            "notes": list(self.notes),
        }


def _head(run_id: str, chain: ChainReport) -> Anchor | None:
    if not chain.ok or chain.events == 0:
        return None
    return Anchor(run_id=run_id, seq=chain.events - 1, hash=chain.head)


# -- the parts of a record -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalAudit:
    """A recorded approval, judged again: `recorded` at run start, `verdict` now.

    `verdict` is judged at the recorded `checked_at`, so an approval that has expired since
    the run still verifies. It fails when it authorized the run but no longer holds.
    """

    index: int
    document: dict[str, Any]
    identity: str
    recorded: str
    verdict: str
    message: str

    @property
    def ok(self) -> bool:
        return self.recorded != "valid" or self.verdict == "valid"

    def to_document(self) -> dict[str, Any]:
        return {
            **self.document,
            "recorded_verdict": self.recorded,
            "verdict": self.verdict,
            "message": self.message,
            "ok": self.ok,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptAudit:
    """One try of a step: the inputs it was called with, what came back, how long it took."""

    attempt: int
    started_seq: int
    started_at: str
    inputs: Any
    idempotency_key: str | None
    retry_delay_s: float | None = None
    outcome: Literal["succeeded", "failed", "unknown"] = "unknown"
    ended_seq: int | None = None
    ended_at: str | None = None
    duration_s: float | None = None
    output: Any = None
    error: dict[str, Any] | None = None
    note: str | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "outcome": self.outcome,
            "started_seq": self.started_seq,
            "started_at": self.started_at,
            "ended_seq": self.ended_seq,
            "ended_at": self.ended_at,
            "duration_s": self.duration_s,
            "retry_delay_s": self.retry_delay_s,
            "idempotency_key": self.idempotency_key,
            "inputs": self.inputs,
            "output": self.output,
            "error": self.error,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CompensationAudit:
    """The saga undo of a completed step, by its compensating actor."""

    actor: str | None
    started_seq: int
    started_at: str
    outcome: Literal["succeeded", "failed", "unknown"] = "unknown"
    ended_seq: int | None = None
    ended_at: str | None = None
    duration_s: float | None = None
    error: dict[str, Any] | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "outcome": self.outcome,
            "started_seq": self.started_seq,
            "started_at": self.started_at,
            "ended_seq": self.ended_seq,
            "ended_at": self.ended_at,
            "duration_s": self.duration_s,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class StepAudit:
    """A plan step as planned and as it ran."""

    id: str
    actor: str
    after: tuple[str, ...]
    on_failure: str
    args: dict[str, Any]
    state: str
    attempts: tuple[AttemptAudit, ...] = ()
    output: Any = None
    skipped: str | None = None
    compensations: tuple[CompensationAudit, ...] = ()

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "actor": self.actor,
            "after": list(self.after),
            "on_failure": self.on_failure,
            "args": self.args,
            "state": self.state,
            "output": self.output,
            "skipped": self.skipped,
            "attempts": [a.to_document() for a in self.attempts],
            "compensations": [c.to_document() for c in self.compensations],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEventAudit:
    """A pause or a resume of the run."""

    kind: Literal["paused", "resumed"]
    seq: int
    at: str
    step: str | None
    detail: dict[str, Any]

    def to_document(self) -> dict[str, Any]:
        return {"kind": self.kind, "seq": self.seq, "at": self.at, "step": self.step, **self.detail}


@dataclass(frozen=True, slots=True, kw_only=True)
class EventAudit:
    """One journal event, with everything its hash covers (so the report re-verifies)."""

    seq: int
    at: str
    type: str
    step: str | None
    attempt: int | None
    data: dict[str, Any]
    hash: str

    def to_document(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "type": self.type,
            "step": self.step,
            "attempt": self.attempt,
            "data": self.data,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """Everything an auditor asks about one run, with the verification of its record."""

    run_id: str
    plan: Plan
    plan_hash: str
    dry_run: bool
    parallel: int | None
    status: str
    stored_status: str
    reason: str | None
    created_at: str
    started_at: str | None
    ended_at: str | None
    duration_s: float | None
    authorization: dict[str, Any] | None
    approvals: tuple[ApprovalAudit, ...]
    steps: tuple[StepAudit, ...]
    interruptions: tuple[RunEventAudit, ...]
    events: tuple[EventAudit, ...]
    chain: ChainReport
    anchors: tuple[Anchor, ...] = ()
    findings: tuple[Finding, ...] = field(default=())
    recorded_planner: dict[str, Any] | None = None
    policy: PolicyInForce | None = None
    outside_chain: tuple[str, ...] = ()

    @property
    def intent(self) -> str:
        return self.plan.intent

    @property
    def requested_by(self) -> str:
        return self.plan.requested_by

    @property
    def ticket(self) -> str | None:
        """The change ticket: the plan's, else the one the policy check recorded."""
        if self.plan.change_ticket:
            return self.plan.change_ticket
        recorded = (self.authorization or {}).get("ticket")
        return recorded if isinstance(recorded, str) else None

    @property
    def planner(self) -> dict[str, Any] | None:
        """How the plan was made: as recorded under the chain at run start, when it was."""
        if self.recorded_planner is not None:
            return self.recorded_planner
        return None if self.plan.planner is None else self.plan.planner.model_dump(mode="json")

    @property
    def planner_chained(self) -> bool:
        return self.recorded_planner is not None

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def notes(self) -> tuple[str, ...]:
        return notes_of(self.policy, self.outside_chain)

    @property
    def head(self) -> Anchor | None:
        return _head(self.run_id, self.chain)

    @property
    def verification(self) -> Verification:
        return Verification(
            run_id=self.run_id,
            chain=self.chain,
            findings=self.findings,
            anchors=self.anchors,
            approvals_checked=len(self.approvals),
            policy=self.policy,
            outside_chain=self.outside_chain,
        )

    def to_document(self) -> dict[str, Any]:
        head = self.head
        return {
            "format": AUDIT_FORMAT,
            "run_id": self.run_id,
            "intent": self.intent,
            "requested_by": self.requested_by,
            "change_ticket": self.ticket,
            "plan_hash": self.plan_hash,
            "plan": self.plan.to_document(),
            "planner": self.planner,
            "status": self.status,
            "stored_status": self.stored_status,
            "reason": self.reason,
            "dry_run": self.dry_run,
            "parallel": self.parallel,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_s": self.duration_s,
            "authorization": self.authorization,
            "policy": self.policy.to_document() if self.policy else None,
            "approvals": [a.to_document() for a in self.approvals],
            "steps": [s.to_document() for s in self.steps],
            "interruptions": [i.to_document() for i in self.interruptions],
            "events": [e.to_document() for e in self.events],
            "integrity": {
                "ok": self.ok,
                "chain": {
                    "ok": self.chain.ok,
                    "events": self.chain.events,
                    "head": self.chain.head,
                    "first_bad_seq": self.chain.first_bad_seq,
                    "reason": self.chain.reason,
                },
                "head": str(head) if head else None,
                "anchors": [str(a) for a in self.anchors],
                "findings": [f.to_document() for f in self.findings],
                "outside_chain": list(self.outside_chain),
                "notes": list(self.notes),
            },
        }
