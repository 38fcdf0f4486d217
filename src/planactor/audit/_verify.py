"""The checks of `audit verify`, pure: a run's record and events against its chain, its
stored plan, its row and its approvals (judged again). See the package docstring for the
order in which findings are reported."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from planactor.audit._record import ApprovalAudit, Finding
from planactor.journal import ChainReport, JournalEvent, RunRecord
from planactor.plan import Approval, Plan

if TYPE_CHECKING:
    from planactor.policy import PublicKey

__all__ = ["check_run", "parse_time", "recheck_approvals", "status_of"]


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


_RUN_END = {"run.succeeded": "succeeded", "run.paused": "paused", "run.resumed": "running"}


def status_of(events: Sequence[JournalEvent]) -> tuple[str, int] | None:
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


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
