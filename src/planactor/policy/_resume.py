"""The gate before a resume: everything `run` established, established again.

A journal is a file anyone with write access can extend, and its hash chain is plain
SHA-256 that anyone can recompute; a `run.started` event proves nothing by itself. So a
resume trusts only what it can check again now: the approvals' signatures against today's
trusted keys and the plan hash, and the policy in force today. What the record adds is
*when* the run was authorized: approvals are judged at that moment (a run approved
yesterday may resume after its approval lapsed), never later than now.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from planactor._errors import ApprovalRequired
from planactor.catalog import Catalog
from planactor.plan import Approval, Plan
from planactor.policy._approvals import check_approvals
from planactor.policy._authorize import Authorization, enforce
from planactor.policy._keys import PublicKey
from planactor.policy._rules import RulePolicy

__all__ = ["reauthorize"]

# A recorded authorization may not claim a check made after now (beyond clock skew).
_SKEW = timedelta(minutes=5)


def _refuse(run_id: str, why: str, hint: str) -> ApprovalRequired:
    return ApprovalRequired(f"run {run_id} may not resume: {why}", hint=hint)


def _recorded_approvals(run_id: str, recorded: Mapping[str, Any]) -> list[Approval]:
    raw = recorded.get("approvals", [])
    if not isinstance(raw, list):
        raise _refuse(run_id, "its recorded approvals are not a list", _FRESH)
    out = []
    for i, doc in enumerate(raw):
        if not isinstance(doc, dict):
            raise _refuse(run_id, f"recorded approval #{i} is not an object", _FRESH)
        try:
            out.append(Approval.model_validate({k: v for k, v in doc.items() if k != "verdict"}))
        except ValidationError as e:
            raise _refuse(
                run_id, f"recorded approval #{i} cannot be read ({e.error_count()} errors)", _FRESH
            ) from None
    return out


def _checked_at(run_id: str, recorded: Mapping[str, Any], now: datetime) -> datetime:
    text = recorded.get("checked_at")
    try:
        at = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise _refuse(run_id, "its recorded authorization has no valid checked_at time", _FRESH)
    if at > now + _SKEW:
        raise _refuse(
            run_id,
            f"its recorded authorization claims a check at {text}, after now",
            _FRESH,
        )
    return at


_FRESH = "the journal's record of this run was altered or is incomplete; run the plan anew"


def reauthorize(
    plan: Plan,
    *,
    run_id: str,
    plan_hash: str,
    recorded: Mapping[str, Any] | None,
    dry_run: bool,
    catalog: Catalog,
    policy: RulePolicy,
    trusted: Mapping[str, PublicKey],
    now: datetime,
) -> Authorization | None:
    """The authorization a resume runs under, or ApprovalRequired (exit 3) saying why not.

    `recorded` is the `authorization` of the run's `run.started` event (None if it has
    none); `dry_run` what that event recorded. A dry run changes nothing and needs none.
    """
    if dry_run:
        return None
    writes = [s.id for s in plan.steps if catalog.get(s.actor).effect == "write"]
    if recorded is None:
        if writes:
            raise _refuse(
                run_id,
                f"it has {len(writes)} write step(s) ({', '.join(writes[:5])}"
                f"{', ...' if len(writes) > 5 else ''}) and no recorded authorization: "
                "it was never approved to run",
                "approve the plan and start it with `planactor run PLAN`",
            )
        recorded = {}
    approvals = _recorded_approvals(run_id, recorded)
    checked_at = _checked_at(run_id, recorded, now) if recorded else now
    judged = check_approvals(
        plan, trusted=trusted, now=checked_at, plan_hash=plan_hash, approvals=approvals
    )
    # Windows and the rules themselves are today's: the writes still to come happen now.
    report = policy.evaluate(plan, catalog=catalog, approvals=judged, now=now)
    auth = Authorization(
        plan_hash=plan_hash, checked_at=now, policy=policy, report=report, approvals=judged
    )
    return enforce(auth, what=f"may not resume run {run_id}")
