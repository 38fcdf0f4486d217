"""Audit records of runs: who asked, what was approved and by whom, what ran, and whether
the record still holds.

`build_audit` is the pure core: a function of the run's record, its events, the chain report
and the re-judged approvals. `audit_run` and `verify_run` are the edge that reads them from a
journal. Checks, in the order they are reported:

    chain     the hash chain recomputes, the run's recorded head is its last event, and each
              anchor (a head kept outside the journal) still names the same hash
    plan      the stored plan hashes to the hash the run started with (event #0)
    record    the run's row (status, intent, dry run) agrees with its events
    approval  every approval that authorized the run (recorded `valid`) still verifies:
              signature, trusted key, plan hash, and expiry judged at the recorded check time
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from planactor._errors import InputError, JournalError
from planactor.journal._journal import ChainReport, Journal, JournalEvent, RunRecord
from planactor.plan import Approval, Plan, dependencies

if TYPE_CHECKING:
    from planactor.policy import PublicKey

__all__ = [
    "ANCHOR_FORMAT",
    "AUDIT_FORMAT",
    "Anchor",
    "ApprovalAudit",
    "AttemptAudit",
    "AuditRecord",
    "CompensationAudit",
    "EventAudit",
    "Finding",
    "RunEventAudit",
    "StepAudit",
    "Verification",
    "audit_run",
    "build_audit",
    "check_run",
    "recheck_approvals",
    "run_ids",
    "verify_run",
]

AUDIT_FORMAT = "planactor-audit/v1"
ANCHOR_FORMAT = "RUN_ID@SEQ:HASH"
_ANCHOR = re.compile(r"^(?P<run>.+)@(?P<seq>[0-9]+):(?P<hash>[0-9a-f]{64})$")

Check = Literal["chain", "plan", "record", "approval"]


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

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "seq": self.seq, "message": self.message}


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    """The outcome of `audit verify` for one run: the chain report and every finding."""

    run_id: str
    chain: ChainReport
    findings: tuple[Finding, ...]
    anchors: tuple[Anchor, ...] = ()
    approvals_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def head(self) -> Anchor | None:
        """The chain's head as an anchor, when the chain verifies."""
        return _head(self.run_id, self.chain)

    def to_json(self) -> dict[str, Any]:
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
            "findings": [f.to_json() for f in self.findings],
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

    def to_json(self) -> dict[str, Any]:
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

    def to_json(self) -> dict[str, Any]:
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

    def to_json(self) -> dict[str, Any]:
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

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "actor": self.actor,
            "after": list(self.after),
            "on_failure": self.on_failure,
            "args": self.args,
            "state": self.state,
            "output": self.output,
            "skipped": self.skipped,
            "attempts": [a.to_json() for a in self.attempts],
            "compensations": [c.to_json() for c in self.compensations],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEventAudit:
    """A pause or a resume of the run."""

    kind: Literal["paused", "resumed"]
    seq: int
    at: str
    step: str | None
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
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

    def to_json(self) -> dict[str, Any]:
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
        )

    def to_json(self) -> dict[str, Any]:
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
            "approvals": [a.to_json() for a in self.approvals],
            "steps": [s.to_json() for s in self.steps],
            "interruptions": [i.to_json() for i in self.interruptions],
            "events": [e.to_json() for e in self.events],
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
                "findings": [f.to_json() for f in self.findings],
            },
        }


# -- the pure core -------------------------------------------------------------------------------


def recheck_approvals(
    authorization: Mapping[str, Any] | None,
    *,
    plan: Plan,
    plan_hash: str,
    trusted: Mapping[str, PublicKey],
) -> tuple[ApprovalAudit, ...]:
    """Judge each recorded approval again, at the moment the run recorded its check."""
    # Imported here: reading a journal needs no policy stack (keys, YAML, rules).
    from planactor.policy import check_approvals

    if not authorization:
        return ()
    raw_docs = authorization.get("approvals")
    docs = (
        [d if isinstance(d, dict) else {} for d in raw_docs] if isinstance(raw_docs, list) else []
    )
    checked_at = _parse_time(authorization.get("checked_at"))
    parsed: list[tuple[dict[str, Any], Approval | None, str]] = []
    for raw in docs:
        doc = {k: v for k, v in raw.items() if k != "verdict"}
        try:
            parsed.append((doc, Approval.model_validate(doc), ""))
        except ValidationError as e:
            parsed.append((doc, None, f"not an approval record ({e.error_count()} problem(s))"))
    # One call, so a person who approved twice counts once, exactly as at run start.
    good = [a for _, a, _ in parsed if a is not None]
    verdicts = iter(
        check_approvals(
            plan, trusted=trusted, now=checked_at, plan_hash=plan_hash, approvals=good
        ).verdicts
        if checked_at is not None
        else ()
    )
    out = []
    for i, ((doc, approval, problem), raw) in enumerate(zip(parsed, docs, strict=True)):
        if approval is None:
            code, message = "malformed", problem
        elif checked_at is None:
            code, message = "unreadable", "the recorded check time (checked_at) is not a time"
        else:
            v = next(verdicts)
            code, message = v.code, v.message
        out.append(
            ApprovalAudit(
                index=i,
                document=doc,
                identity=str(doc.get("identity", "?")),
                recorded=str(raw.get("verdict", "")),
                verdict=code,
                message=message,
            )
        )
    return tuple(out)


def check_run(
    record: RunRecord,
    events: Sequence[JournalEvent],
    chain: ChainReport,
    approvals: Sequence[ApprovalAudit],
) -> tuple[Finding, ...]:
    """Every finding about one run, the chain's first."""
    findings: list[Finding] = []
    if not chain.ok:
        findings.append(
            Finding(check="chain", seq=chain.first_bad_seq, message=chain.reason or "broken")
        )
    if not events:
        return tuple(findings)
    started = events[0]
    started_hash = started.data.get("plan_hash")
    stored_hash = record.plan.hash
    if stored_hash != started_hash:
        findings.append(
            Finding(
                check="plan",
                seq=started.seq,
                message=f"the stored plan hashes to {stored_hash}, but the run started with "
                f"plan {started_hash}: the stored plan was altered",
            )
        )
    if record.plan_hash != started_hash:
        findings.append(
            Finding(
                check="plan",
                seq=started.seq,
                message=f"the run's row names plan {record.plan_hash}, but the run started "
                f"with plan {started_hash}",
            )
        )
    if record.intent != record.plan.intent:
        findings.append(
            Finding(
                check="record",
                seq=None,
                message="the run's row shows another intent than its plan's",
            )
        )
    if "dry_run" in started.data and bool(started.data["dry_run"]) != record.dry_run:
        findings.append(
            Finding(
                check="record",
                seq=started.seq,
                message=f"the run's row says dry run {record.dry_run}, its first event says "
                f"{bool(started.data['dry_run'])}",
            )
        )
    derived = _status_of(events)
    if derived is not None and derived[0] != record.status:
        findings.append(
            Finding(
                check="record",
                seq=derived[1],
                message=f"the run's row says {record.status!r}, but its events end "
                f"{derived[0]!r} (event #{derived[1]})",
            )
        )
    for a in approvals:
        if not a.ok:
            findings.append(
                Finding(
                    check="approval",
                    seq=started.seq,
                    message=f"approval {a.index + 1} ({a.identity}) was recorded valid but is "
                    f"{a.verdict} now: {a.message}",
                )
            )
    auth = started.data.get("authorization")
    if isinstance(auth, dict):
        required = auth.get("approvers_required")
        # The record must claim enough approvers by itself; each claim is re-checked above.
        claimed = {a.identity for a in approvals if a.recorded == "valid"}
        if isinstance(required, int) and len(claimed) < required:
            findings.append(
                Finding(
                    check="approval",
                    seq=started.seq,
                    message=f"the run needed {required} approver(s) but its record holds "
                    f"{len(claimed)} valid one(s)",
                )
            )
    return tuple(findings)


def build_audit(
    record: RunRecord,
    events: Sequence[JournalEvent],
    chain: ChainReport,
    approvals: Sequence[ApprovalAudit],
    *,
    anchors: Sequence[Anchor] = (),
) -> AuditRecord:
    """The audit record of one run: a pure function of what the journal holds."""
    started = events[0] if events else None
    auth = started.data.get("authorization") if started else None
    authorization = (
        {k: v for k, v in auth.items() if k != "approvals"} if isinstance(auth, dict) else None
    )
    steps = _steps(record.plan, events)
    interruptions = tuple(
        RunEventAudit(
            kind="paused" if e.type == "run.paused" else "resumed",
            seq=e.seq,
            at=e.at,
            step=e.step,
            detail=dict(e.data),
        )
        for e in events
        if e.type in ("run.paused", "run.resumed")
    )
    derived = _status_of(events)
    status = derived[0] if derived else record.status
    reason = None
    for e in reversed(events):
        if e.type in ("run.succeeded", "run.failed", "run.paused"):
            reason = e.data.get("reason")
            break
        if e.type == "run.resumed":
            break
    ended = status in ("succeeded", "failed", "compensated")
    started_at = started.at if started else None
    ended_at = events[-1].at if ended and events else None
    parallel = started.data.get("parallel") if started else None
    return AuditRecord(
        run_id=record.run_id,
        plan=record.plan,
        plan_hash=str(started.data.get("plan_hash")) if started else record.plan_hash,
        dry_run=bool(started.data.get("dry_run", record.dry_run)) if started else record.dry_run,
        parallel=parallel if isinstance(parallel, int) else None,
        status=status,
        stored_status=record.status,
        reason=reason if isinstance(reason, str) else None,
        created_at=record.created_at,
        started_at=started_at,
        ended_at=ended_at,
        duration_s=_seconds(started_at, ended_at),
        authorization=authorization,
        recorded_planner=_recorded_planner(events),
        approvals=tuple(approvals),
        steps=steps,
        interruptions=interruptions,
        events=tuple(
            EventAudit(
                seq=e.seq,
                at=e.at,
                type=e.type,
                step=e.step,
                attempt=e.attempt,
                data=e.data,
                hash=e.hash,
            )
            for e in events
        ),
        chain=chain,
        anchors=tuple(anchors),
        findings=check_run(record, events, chain, approvals),
    )


_RUN_END = {"run.succeeded": "succeeded", "run.paused": "paused", "run.resumed": "running"}


def _status_of(events: Sequence[JournalEvent]) -> tuple[str, int] | None:
    """The run's status as its last run-level event says, and that event's number."""
    for e in reversed(events):
        if e.type == "run.failed":
            status = e.data.get("status")
            return (status if isinstance(status, str) else "failed"), e.seq
        if e.type in _RUN_END:
            return _RUN_END[e.type], e.seq
        if e.type == "run.started":
            return "running", e.seq
        if e.type.startswith("run."):
            return None  # an event this version does not know: no claim about the status
    return None


def _steps(plan: Plan, events: Sequence[JournalEvent]) -> tuple[StepAudit, ...]:
    attempts: dict[str, list[dict[str, Any]]] = {s.id: [] for s in plan.steps}
    comps: dict[str, list[dict[str, Any]]] = {s.id: [] for s in plan.steps}
    state: dict[str, str] = {}
    skipped: dict[str, str] = {}
    delays: dict[tuple[str, int | None], float] = {}
    for e in events:
        sid = e.step
        if sid is None or sid not in attempts:
            continue
        if e.type == "step.retrying":
            delay = e.data.get("delay_s")
            if isinstance(delay, int | float):
                delays[(sid, e.attempt)] = float(delay)
        elif e.type == "step.started":
            attempts[sid].append(
                {
                    "attempt": e.attempt or len(attempts[sid]) + 1,
                    "started_seq": e.seq,
                    "started_at": e.at,
                    "inputs": e.data.get("args"),
                    "idempotency_key": e.data.get("idempotency_key"),
                    "retry_delay_s": delays.pop((sid, e.attempt), None),
                }
            )
            state[sid] = "running"
        elif e.type in ("step.succeeded", "step.failed"):
            outcome = "succeeded" if e.type == "step.succeeded" else "failed"
            target = _open(attempts[sid], e.attempt)
            if target is None:  # a result without its start: keep it, visibly
                target = {
                    "attempt": e.attempt or 0,
                    "started_seq": e.seq,
                    "started_at": e.at,
                    "inputs": None,
                    "idempotency_key": None,
                }
                attempts[sid].append(target)
            target.update(
                outcome=outcome,
                ended_seq=e.seq,
                ended_at=e.at,
                duration_s=_seconds(target["started_at"], e.at),
                output=e.data.get("output"),
                error=e.data.get("error"),
                note=e.data.get("note"),
            )
            state[sid] = outcome
        elif e.type == "step.skipped":
            reason = e.data.get("reason")
            skipped[sid] = reason if isinstance(reason, str) else "skipped"
            state[sid] = "skipped"
        elif e.type == "compensation.started":
            comps[sid].append(
                {"actor": e.data.get("actor"), "started_seq": e.seq, "started_at": e.at}
            )
            state[sid] = "compensating"
        elif e.type in ("compensation.succeeded", "compensation.failed"):
            outcome = "succeeded" if e.type == "compensation.succeeded" else "failed"
            open_comps = [c for c in comps[sid] if "outcome" not in c]
            if open_comps:
                target = open_comps[-1]
            else:
                target = {"actor": None, "started_seq": e.seq, "started_at": e.at}
                comps[sid].append(target)
            target.update(
                outcome=outcome,
                ended_seq=e.seq,
                ended_at=e.at,
                duration_s=_seconds(target["started_at"], e.at),
                error=e.data.get("error"),
            )
            state[sid] = "compensated" if outcome == "succeeded" else "compensation failed"
    out = []
    for s in plan.steps:
        tries = tuple(AttemptAudit(**a) for a in attempts[s.id])
        final = state.get(s.id, "not run")
        if final == "running":
            final = "unknown"  # started, no result recorded: the run was interrupted
        elif final == "compensating":
            final = "compensation unknown"
        output = next((a.output for a in reversed(tries) if a.outcome == "succeeded"), None)
        out.append(
            StepAudit(
                id=s.id,
                actor=s.actor,
                after=dependencies(s),
                on_failure=s.on_failure,
                args=s.args,
                state=final,
                attempts=tries,
                output=output,
                skipped=skipped.get(s.id),
                compensations=tuple(CompensationAudit(**c) for c in comps[s.id]),
            )
        )
    return tuple(out)


def _open(attempts: list[dict[str, Any]], number: int | None) -> dict[str, Any] | None:
    """The latest attempt without a result, preferring the one with this number."""
    pending = [a for a in attempts if "outcome" not in a]
    same = [a for a in pending if a["attempt"] == number]
    found = same or pending
    return found[-1] if found else None


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _seconds(start: str | None, end: str | None) -> float | None:
    a, b = _parse_time(start), _parse_time(end)
    if a is None or b is None:
        return None
    return round((b - a).total_seconds(), 6)


# -- the edge: reading a journal -----------------------------------------------------------------


@dataclass(slots=True)
class _Gathered:
    chain: ChainReport
    record: RunRecord | None = None
    events: list[JournalEvent] | None = None
    approvals: tuple[ApprovalAudit, ...] = ()
    unreadable: list[Finding] = field(default_factory=list)


def _chain(journal: Journal, run_id: str, anchors: Iterable[Anchor]) -> ChainReport:
    """The chain checked alone, then against each anchor: the first failure, or ok."""
    report = journal.verify(run_id)
    for a in anchors:
        if not report.ok:
            break
        report = journal.verify(run_id, anchor=(a.seq, a.hash))
    return report


def _gather(
    journal: Journal, run_id: str, trusted: Mapping[str, PublicKey], anchors: Sequence[Anchor]
) -> _Gathered:
    try:
        record: RunRecord | None = journal.run(run_id)  # unknown run: InputError, with a hint
        problem = None
    except JournalError as e:  # the row exists but its stored plan cannot be read
        record, problem = None, Finding(check="plan", seq=None, message=e.message)
    got = _Gathered(chain=_chain(journal, run_id, anchors), record=record)
    if problem is not None:
        got.unreadable.append(problem)
    try:
        got.events = journal.events(run_id)
    except JournalError as e:
        if got.chain.ok:  # otherwise the chain already names the event
            got.unreadable.append(Finding(check="chain", seq=None, message=e.message))
    if got.record is not None and got.events:
        auth = got.events[0].data.get("authorization")
        got.approvals = recheck_approvals(
            auth if isinstance(auth, dict) else None,
            plan=got.record.plan,
            plan_hash=str(got.events[0].data.get("plan_hash")),
            trusted=trusted,
        )
    return got


def _recorded_planner(events: Sequence[JournalEvent]) -> dict[str, Any] | None:
    planner = events[0].data.get("planner") if events else None
    return planner if isinstance(planner, dict) else None


def run_ids(journal: Journal) -> list[str]:
    """Every run's id, oldest first, without parsing stored plans (one may be altered)."""
    return journal.run_ids()


def verify_run(
    journal: Journal,
    run_id: str,
    *,
    trusted: Mapping[str, PublicKey],
    anchors: Sequence[Anchor] = (),
) -> Verification:
    """Check one run's chain (against its anchors), stored plan, row and approvals."""
    got = _gather(journal, run_id, trusted, anchors)
    if got.record is not None and got.events is not None:
        findings = check_run(got.record, got.events, got.chain, got.approvals)
    else:
        chain_finding = (
            (Finding(check="chain", seq=got.chain.first_bad_seq, message=got.chain.reason or ""),)
            if not got.chain.ok
            else ()
        )
        findings = chain_finding
    return Verification(
        run_id=run_id,
        chain=got.chain,
        findings=(*findings, *got.unreadable),
        anchors=tuple(anchors),
        approvals_checked=len(got.approvals),
    )


def audit_run(
    journal: Journal,
    run_id: str,
    *,
    trusted: Mapping[str, PublicKey],
    anchors: Sequence[Anchor] = (),
) -> AuditRecord:
    """The audit record of one run; JournalError when the journal cannot even be read."""
    got = _gather(journal, run_id, trusted, anchors)
    if got.record is None or got.events is None:
        first = got.unreadable[0] if got.unreadable else None
        bad = got.chain.first_bad_seq if not got.chain.ok else None
        raise JournalError(
            f"run {run_id}: no report can be made: "
            + (first.message if first else f"event #{bad} cannot be read"),
            hint=f"`planactor audit verify {run_id}` names what was altered",
        )
    return build_audit(got.record, got.events, got.chain, got.approvals, anchors=anchors)
