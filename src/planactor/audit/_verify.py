"""The checks of `audit verify`, pure: a run's record and events against its chain, its
stored plan, its row and its approvals (judged again). See the package docstring for the
order in which findings are reported."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from planactor.audit._record import ApprovalAudit, Finding, KindOf, PolicyInForce
from planactor.journal import ChainReport, EventKind, JournalEvent, RunRecord
from planactor.plan import Approval, Plan
from planactor.policy import PublicKey, check_approvals

__all__ = [
    "RUN_ENDS",
    "check_run",
    "outside_chain",
    "parse_time",
    "policy_in_force",
    "recheck_approvals",
    "recheck_resumes",
    "status_of",
]


def recheck_approvals(
    authorization: Mapping[str, Any] | None,
    *,
    plan: Plan,
    plan_hash: str,
    trusted: Mapping[str, PublicKey],
) -> tuple[ApprovalAudit, ...]:
    """Judge each recorded approval again, at the moment the run recorded its check."""
    if not authorization:
        return ()
    raw_docs = authorization.get("approvals")
    docs = (
        [d if isinstance(d, dict) else {} for d in raw_docs] if isinstance(raw_docs, list) else []
    )
    checked_at = parse_time(authorization.get("checked_at"))
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
    *,
    kind_of: KindOf | None = None,
    resumed: Mapping[int, Sequence[ApprovalAudit]] | None = None,
) -> tuple[Finding, ...]:
    """Every finding about one run, the chain's first.

    `kind_of` tells each actor's effect (from the catalog); without it, or for an actor it
    does not know, a step counts as a write: what cannot be shown read-only needed approval.
    `resumed` holds the approvals each resume recorded (by event number), judged again.
    """
    findings: list[Finding] = []
    if not chain.ok:
        findings.append(
            Finding(check="chain", seq=chain.first_bad_seq, message=chain.reason or "broken")
        )
    if not events:
        return tuple(findings)
    started = events[0]
    findings += _sequence(events)
    findings += _stored_plan(record, started)
    findings += _row(record, events)
    findings += _approvals(approvals, started)
    by_seq = {e.seq: e for e in events}
    for seq, again in sorted((resumed or {}).items()):
        if seq in by_seq:
            findings += _approvals(again, by_seq[seq])
    findings += _unauthorized(record, started, kind_of)
    return tuple(findings)


RUN_ENDS = frozenset({EventKind.RUN_SUCCEEDED, EventKind.RUN_FAILED})

# The row's time and its first event's are two readings of the clock in one call; a forger
# moves them by more than this.
_CREATED_SLACK_S = 1.0


def _sequence(events: Sequence[JournalEvent]) -> list[Finding]:
    """A run starts once, with its first event, and nothing follows its end: an event after
    `run.succeeded` or `run.failed` was added later (the engine never writes one)."""
    first = events[0]
    if first.type != EventKind.RUN_STARTED:
        return [
            Finding(
                check="sequence",
                seq=first.seq,
                message=f"the run's first event is {first.type}, not run.started",
            )
        ]
    ended: JournalEvent | None = None
    for e in events[1:]:
        if ended is not None:
            return [
                Finding(
                    check="sequence",
                    seq=e.seq,
                    message=f"event #{e.seq} ({e.type}) comes after the run ended at event "
                    f"#{ended.seq} ({ended.type}): nothing is recorded after a run's end, "
                    "so it was added later",
                )
            ]
        if e.type == EventKind.RUN_STARTED:
            return [
                Finding(
                    check="sequence",
                    seq=e.seq,
                    message=f"event #{e.seq} starts the run again: a run starts once",
                )
            ]
        if e.type in RUN_ENDS:
            ended = e
    return []


def _stored_plan(record: RunRecord, started: JournalEvent) -> list[Finding]:
    """The runs table's plan, outside the chain, against what event #0 chained."""
    findings = []
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
    if "planner" in started.data:
        stored = record.plan.planner
        if (None if stored is None else stored.model_dump(mode="json")) != started.data["planner"]:
            findings.append(
                Finding(
                    check="plan",
                    seq=started.seq,
                    message="the stored plan's planner metadata differs from the one the run "
                    "recorded at its start (data.planner): it was altered",
                )
            )
    auth = started.data.get("authorization")
    if record.plan.approvals and isinstance(auth, dict):
        raw = auth.get("approvals")
        docs = raw if isinstance(raw, list) else []
        recorded = {d.get("signature") for d in docs if isinstance(d, dict)}
        added = [a.identity for a in record.plan.approvals if a.signature not in recorded]
        if added:
            findings.append(
                Finding(
                    check="plan",
                    seq=started.seq,
                    message=f"the stored plan carries approval(s) by {', '.join(added)} that "
                    "the run did not record at its start: they were added later",
                )
            )
    return findings


def _row(record: RunRecord, events: Sequence[JournalEvent]) -> list[Finding]:
    """The run's row (intent, dry run, creation time, status) against its events."""
    findings = []
    started = events[0]
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
    created, began = parse_time(record.created_at), parse_time(started.at)
    if (
        created is None
        or began is None
        or abs((created - began).total_seconds()) > (_CREATED_SLACK_S)
    ):
        findings.append(
            Finding(
                check="record",
                seq=started.seq,
                message=f"the run's row says it was created at {record.created_at}, but its "
                f"first event is dated {started.at}",
            )
        )
    derived = status_of(events)
    if derived is not None and derived[0] != record.status:
        findings.append(
            Finding(
                check="record",
                seq=derived[1],
                message=f"the run's row says {record.status!r}, but its events end "
                f"{derived[0]!r} (event #{derived[1]})",
            )
        )
    return findings


def _approvals(approvals: Sequence[ApprovalAudit], started: JournalEvent) -> list[Finding]:
    """The approvals an event (run.started, or a run.resumed) recorded, judged again."""
    findings = [
        Finding(
            check="approval",
            seq=started.seq,
            message=f"approval {a.index + 1} ({a.identity}) was recorded valid but is "
            f"{a.verdict} now: {a.message}",
        )
        for a in approvals
        if not a.ok
    ]
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
    return findings


def _unauthorized(
    record: RunRecord, started: JournalEvent, kind_of: KindOf | None
) -> list[Finding]:
    """A run that could write must have recorded the gate's decision (`run` always does)."""
    if isinstance(started.data.get("authorization"), dict):
        return []
    if bool(started.data.get("dry_run", record.dry_run)):
        return []
    if started.data.get("read_only") is True:  # the engine refused every write, uncalled
        return []
    writes = []
    for s in record.plan.steps:
        kind = kind_of(s.actor) if kind_of is not None else "unknown"
        if kind == "unknown":
            writes.append(f"{s.id} ({s.actor}: not in this catalog, so it may write)")
        elif kind != "read":
            writes.append(s.id)
    if not writes:
        return []
    return [
        Finding(
            check="unauthorized",
            seq=started.seq,
            message=f"the run has write step(s) {', '.join(writes)} but recorded no "
            "authorization (no policy check, no approvals) and was not a dry run",
        )
    ]


def recheck_resumes(
    events: Sequence[JournalEvent], *, plan: Plan, trusted: Mapping[str, PublicKey]
) -> dict[int, tuple[ApprovalAudit, ...]]:
    """The approvals each `run.resumed` recorded (the resume gate's authorization), judged
    again as those of the start are; keyed by the resume's event number."""
    plan_hash = str(events[0].data.get("plan_hash")) if events else ""
    return {
        e.seq: recheck_approvals(auth, plan=plan, plan_hash=plan_hash, trusted=trusted)
        for e in events
        if e.type == EventKind.RUN_RESUMED and isinstance(auth := e.data.get("authorization"), dict)
    }


def policy_in_force(
    events: Sequence[JournalEvent], *, shipped_hash: str | None
) -> PolicyInForce | None:
    """The policy recorded in event #0's authorization, if any, beside the shipped default."""
    auth = events[0].data.get("authorization") if events else None
    if not isinstance(auth, dict):
        return None
    pol = auth.get("policy")
    pol = pol if isinstance(pol, dict) else {}

    def text(key: str) -> str | None:
        value = pol.get(key)
        return value if isinstance(value, str) else None

    return PolicyInForce(
        name=text("name"), hash=text("hash"), source=text("source"), shipped_hash=shipped_hash
    )


def outside_chain(record: RunRecord, events: Sequence[JournalEvent]) -> tuple[str, ...]:
    """Which stored fields the report shows that nothing under the chain vouches for."""
    started = events[0].data if events else {}
    out = []
    if record.plan.planner is not None and "planner" not in started:
        out.append("planner")  # a run journaled before planner metadata was chained
    if record.plan.approvals and not isinstance(started.get("authorization"), dict):
        out.append("plan.approvals")
    return tuple(out)


_RUN_END: dict[str, str] = {
    EventKind.RUN_SUCCEEDED: "succeeded",
    EventKind.RUN_PAUSED: "paused",
    EventKind.RUN_RESUMED: "running",
}


def status_of(events: Sequence[JournalEvent]) -> tuple[str, int] | None:
    """The run's status as its last run-level event says, and that event's number."""
    for e in reversed(events):
        if e.type == EventKind.RUN_FAILED:
            status = e.data.get("status")
            return (status if isinstance(status, str) else "failed"), e.seq
        if e.type in _RUN_END:
            return _RUN_END[e.type], e.seq
        if e.type == EventKind.RUN_STARTED:
            return "running", e.seq
        if e.type.startswith("run."):
            return None  # an event this version does not know: no claim about the status
    return None


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
