"""The edge of the audit: reading a run from a journal, checking its chain against anchors,
and judging its approvals with today's trusted keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from planactor._errors import JournalError
from planactor.audit._build import build_audit
from planactor.audit._record import Anchor, ApprovalAudit, AuditRecord, Finding, Verification
from planactor.audit._verify import check_run, recheck_approvals
from planactor.journal import ChainReport, Journal, JournalEvent, RunRecord

if TYPE_CHECKING:
    from planactor.policy import PublicKey

__all__ = ["audit_run", "run_ids", "verify_run"]


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
