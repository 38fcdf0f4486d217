"""The audit record of one run, built from what the journal holds: a pure function of the
run's row, its events, the chain report and the approvals judged again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from planactor.audit._record import (
    Anchor,
    ApprovalAudit,
    AttemptAudit,
    AuditRecord,
    CompensationAudit,
    EventAudit,
    KindOf,
    RunEventAudit,
    StepAudit,
)
from planactor.audit._verify import (
    check_run,
    outside_chain,
    parse_time,
    policy_in_force,
    status_of,
)
from planactor.journal import ChainReport, EventKind, JournalEvent, RunRecord
from planactor.plan import Plan, dependencies

__all__ = ["build_audit"]


def build_audit(
    record: RunRecord,
    events: Sequence[JournalEvent],
    chain: ChainReport,
    approvals: Sequence[ApprovalAudit],
    *,
    anchors: Sequence[Anchor] = (),
    kind_of: KindOf | None = None,
    shipped_policy_hash: str | None = None,
    resumed: Mapping[int, Sequence[ApprovalAudit]] | None = None,
) -> AuditRecord:
    """The audit record of one run: a pure function of what the journal holds.

    `kind_of` gives each actor's effect (for the `unauthorized` check); `shipped_policy_hash`
    is the hash of the default policy this planactor ships, to say whether the policy in
    force was that one; `resumed` the approvals each resume recorded, judged again.
    """
    started = events[0] if events else None
    auth = started.data.get("authorization") if started else None
    authorization = (
        {k: v for k, v in auth.items() if k != "approvals"} if isinstance(auth, dict) else None
    )
    steps = _steps(record.plan, events)
    interruptions = tuple(
        RunEventAudit(
            kind="paused" if e.type == EventKind.RUN_PAUSED else "resumed",
            seq=e.seq,
            at=e.at,
            step=e.step,
            detail=dict(e.data),
        )
        for e in events
        if e.type in (EventKind.RUN_PAUSED, EventKind.RUN_RESUMED)
    )
    derived = status_of(events)
    status = derived[0] if derived else record.status
    reason = None
    for e in reversed(events):
        if e.type in (EventKind.RUN_SUCCEEDED, EventKind.RUN_FAILED, EventKind.RUN_PAUSED):
            reason = e.data.get("reason")
            break
        if e.type == EventKind.RUN_RESUMED:
            break
    ended = status in ("succeeded", "failed", "compensated")
    started_at = started.at if started else None
    # The end event's time, not the last event's: nothing may follow it, and if something
    # does, it is a finding, not the end.
    ended_at = next((e.at for e in events if derived and e.seq == derived[1]), None)
    ended_at = ended_at if ended else None
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
        findings=check_run(record, events, chain, approvals, kind_of=kind_of, resumed=resumed),
        policy=policy_in_force(events, shipped_hash=shipped_policy_hash),
        outside_chain=outside_chain(record, events),
    )


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
        if e.type == EventKind.STEP_RETRYING:
            delay = e.data.get("delay_s")
            if isinstance(delay, int | float):
                delays[(sid, e.attempt)] = float(delay)
        elif e.type == EventKind.STEP_STARTED:
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
        elif e.type in (EventKind.STEP_SUCCEEDED, EventKind.STEP_FAILED):
            outcome = "succeeded" if e.type == EventKind.STEP_SUCCEEDED else "failed"
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
        elif e.type == EventKind.STEP_SKIPPED:
            reason = e.data.get("reason")
            skipped[sid] = reason if isinstance(reason, str) else "skipped"
            state[sid] = "skipped"
        elif e.type == EventKind.COMPENSATION_STARTED:
            comps[sid].append(
                {"actor": e.data.get("actor"), "started_seq": e.seq, "started_at": e.at}
            )
            state[sid] = "compensating"
        elif e.type in (EventKind.COMPENSATION_SUCCEEDED, EventKind.COMPENSATION_FAILED):
            outcome = "succeeded" if e.type == EventKind.COMPENSATION_SUCCEEDED else "failed"
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


def _seconds(start: str | None, end: str | None) -> float | None:
    a, b = parse_time(start), parse_time(end)
    if a is None or b is None:
        return None
    return round((b - a).total_seconds(), 6)


def _recorded_planner(events: Sequence[JournalEvent]) -> dict[str, Any] | None:
    planner = events[0].data.get("planner") if events else None
    return planner if isinstance(planner, dict) else None
