"""The gate before a run: enough valid approvals of this exact plan, and the policy met now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from planactor._errors import ApprovalRequired
from planactor.catalog import Catalog
from planactor.policy._approvals import ApprovalCheck, check_approvals
from planactor.policy._keys import PublicKey
from planactor.policy._rules import PolicyReport, RulePolicy
from planactor.validate import ValidatedPlan

__all__ = ["Authorization", "authorize", "enforce", "review"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Authorization:
    """Why a run may start: recorded in its `run.started` event, so the audit can show it."""

    plan_hash: str
    checked_at: datetime
    policy: RulePolicy
    report: PolicyReport
    approvals: ApprovalCheck

    def to_document(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "policy": {
                "name": self.policy.name,
                "hash": self.policy.hash,
                "source": self.policy.source,
            },
            "approvers_required": self.report.approvers_required,
            "ticket": self.report.ticket,
            "approvals": [
                {**v.approval.model_dump(mode="json"), "verdict": v.code}
                for v in self.approvals.verdicts
            ],
            "rules": [o.rule.name for o in self.report.applied],
        }


def review(
    plan: ValidatedPlan,
    *,
    catalog: Catalog,
    policy: RulePolicy,
    trusted: Mapping[str, PublicKey],
    now: datetime,
) -> Authorization:
    """Judge approvals and policy without deciding: what `policy check` shows.

    `plan` comes from `validate_plan` or `load_plan`: its approvals are judged against the
    hash validation computed for it, so they cannot be checked against another plan's.
    """
    plan_hash = plan.hash
    approvals = check_approvals(plan.plan, trusted=trusted, now=now, plan_hash=plan_hash)
    report = policy.evaluate(plan.plan, catalog=catalog, approvals=approvals, now=now)
    return Authorization(
        plan_hash=plan_hash, checked_at=now, policy=policy, report=report, approvals=approvals
    )


def authorize(
    plan: ValidatedPlan,
    *,
    catalog: Catalog,
    policy: RulePolicy,
    trusted: Mapping[str, PublicKey],
    now: datetime,
) -> Authorization:
    """The run may start, or ApprovalRequired (exit 3) says every reason it may not."""
    return enforce(review(plan, catalog=catalog, policy=policy, trusted=trusted, now=now))


def enforce(auth: Authorization, *, what: str = "may not run") -> Authorization:
    """`auth` if it lets the plan run; otherwise ApprovalRequired naming every reason."""
    report, approvals = auth.report, auth.approvals
    reasons: list[str] = []
    have, need = len(approvals.approvers), report.approvers_required
    if have < need:
        got = f"{have} valid ({', '.join(approvals.approvers)})" if have else "none valid"
        reasons.append(f"it needs {need} approval(s) and has {got}; {report.approvers_reason}")
        reasons.extend(f"  {v.message}" for v in approvals.rejected)
    for outcome, req in report.unmet:
        if req.kind == "approvers":
            continue  # counted above, against the largest requirement
        reasons.append(f"rule {outcome.rule.name} ({outcome.rule.description}): {req.detail}")
    if reasons:
        raise ApprovalRequired(
            f"plan {auth.plan_hash[:19]}… {what}:\n  " + "\n  ".join(reasons),
            hint=_hint(auth),
        )
    return auth


def _hint(auth: Authorization) -> str:
    kinds = {req.kind for _, req in auth.report.unmet}
    if "window" in kinds:
        return "run it inside the maintenance window"
    if "ticket" in kinds:
        return "approve with --ticket CHG-..., or set change_ticket and approve again"
    if auth.approvals.rejected:
        return "get a fresh approval: `planactor approve PLAN --as NAME`"
    return "ask an approver: `planactor approve PLAN --as NAME` (`planactor policy check PLAN`)"
