"""The edge of the audit: reading a run from a journal, checking its chain against anchors,
and judging its approvals with today's trusted keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from planactor._errors import InputError, JournalError
from planactor.audit._build import build_audit
from planactor.audit._record import (
    Anchor,
    ApprovalAudit,
    AuditRecord,
    Finding,
    KindOf,
    Verification,
)
from planactor.audit._verify import (
    check_run,
    outside_chain,
    policy_in_force,
    recheck_approvals,
    recheck_resumes,
)
from planactor.catalog import Catalog
from planactor.journal import ChainReport, Journal, JournalEvent, RunRecord
from planactor.plan import StepKind
from planactor.policy import PublicKey, default_policy_text, parse_policy

__all__ = ["audit_run", "run_ids", "verify_run"]


@dataclass(slots=True)
class _Gathered:
    chain: ChainReport
    record: RunRecord | None = None
    events: list[JournalEvent] | None = None
    approvals: tuple[ApprovalAudit, ...] = ()
    resumed: dict[int, tuple[ApprovalAudit, ...]] = field(default_factory=dict)
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
        got.resumed = recheck_resumes(got.events, plan=got.record.plan, trusted=trusted)
    return got


def shipped_policy_hash() -> str | None:
    """The hash of the default policy this planactor ships, read now (the file may change
    between versions), or None when it cannot be read."""
    try:
        return _policy_hash(default_policy_text())
    except (OSError, InputError):
        return None


@cache
def _policy_hash(text: str) -> str:
    # What load_policy(None) loads when no --policy, PLANACTOR_POLICY or home policy is set;
    # the hash covers the parsed rules, not the file's comments or the source name.
    return parse_policy(text, source="default policy").hash


class _InstalledKinds:
    """Each actor's effect from the installed catalog, discovered on first use (an audit
    of authorized runs never needs it)."""

    def __init__(self) -> None:
        self._catalog: Catalog | None = None

    def __call__(self, name: str) -> StepKind:
        if self._catalog is None:
            self._catalog = Catalog.discover()
        return self._catalog.get(name).kind if name in self._catalog else "unknown"


def run_ids(journal: Journal) -> list[str]:
    """Every run's id, oldest first, without parsing stored plans (one may be altered)."""
    return journal.run_ids()


def verify_run(
    journal: Journal,
    run_id: str,
    *,
    trusted: Mapping[str, PublicKey],
    anchors: Sequence[Anchor] = (),
    kind_of: KindOf | None = None,
) -> Verification:
    """Check one run's chain (against its anchors), event order, stored plan, row, approvals
    and authorization. `kind_of` gives actors' effects; by default the installed catalog's."""
    got = _gather(journal, run_id, trusted, anchors)
    policy = None
    outside: tuple[str, ...] = ()
    if got.record is not None and got.events is not None:
        findings = check_run(
            got.record,
            got.events,
            got.chain,
            got.approvals,
            kind_of=kind_of or _InstalledKinds(),
            resumed=got.resumed,
        )
        policy = policy_in_force(got.events, shipped_hash=shipped_policy_hash())
        outside = outside_chain(got.record, got.events)
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
        approvals_checked=len(got.approvals) + sum(len(a) for a in got.resumed.values()),
        policy=policy,
        outside_chain=outside,
    )


def audit_run(
    journal: Journal,
    run_id: str,
    *,
    trusted: Mapping[str, PublicKey],
    anchors: Sequence[Anchor] = (),
    kind_of: KindOf | None = None,
) -> AuditRecord:
    """The audit record of one run; JournalError when the journal cannot even be read.
    `kind_of` gives actors' effects; by default the installed catalog's."""
    got = _gather(journal, run_id, trusted, anchors)
    if got.record is None or got.events is None:
        first = got.unreadable[0] if got.unreadable else None
        bad = got.chain.first_bad_seq if not got.chain.ok else None
        raise JournalError(
            f"run {run_id}: no report can be made: "
            + (first.message if first else f"event #{bad} cannot be read"),
            hint=f"`planactor audit verify {run_id}` names what was altered",
        )
    return build_audit(
        got.record,
        got.events,
        got.chain,
        got.approvals,
        anchors=anchors,
        kind_of=kind_of or _InstalledKinds(),
        shipped_policy_hash=shipped_policy_hash(),
        resumed=got.resumed,
    )
