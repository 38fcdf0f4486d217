"""`do`: the compiled path in one command, and the rule that chooses how a plan may run.

The path is chosen by the **effect of the plan's actors**, as the catalog declares them,
never by the words of the intent: a plan whose every actor reads may run without an
approval where policy asks for none (`approvals.reads`, default 0); a plan with a single
write step always passes the gate: enough valid approvals of its exact hash (policy), and
a person's confirmation at the terminal or `--yes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from planactor._errors import ApprovalRequired
from planactor.catalog import Catalog
from planactor.plan import Plan
from planactor.policy import Authorization, PublicKey, RulePolicy, enforce, review
from planactor.validate import ValidatedPlan

__all__ = ["Effect", "Gate", "gate", "plan_effect"]

Effect = Literal["read", "write"]


def plan_effect(plan: Plan, catalog: Catalog) -> Effect:
    """`write` if any step's actor writes (by the catalog), else `read`."""
    return "write" if any(catalog.get(s.actor).effect == "write" for s in plan.steps) else "read"


@dataclass(frozen=True, slots=True, kw_only=True)
class Gate:
    """The policy's verdict on a plan and what `do` must still obtain before running it."""

    effect: Effect
    writes: tuple[str, ...]  # the ids of the write steps
    verdict: Authorization
    refusal: str | None  # why policy does not let it run yet (None: policy is satisfied)

    @property
    def required(self) -> int:
        return self.verdict.report.approvers_required

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(self.verdict.approvals.approvers)

    @property
    def needs_confirmation(self) -> bool:
        """A write always needs a person's explicit go, whatever policy counts."""
        return self.effect == "write"

    @property
    def runs_unattended(self) -> bool:
        """Read-only, and policy lets it run as it is: no approval, no prompt."""
        return self.effect == "read" and self.refusal is None


def gate(
    plan: ValidatedPlan,
    *,
    catalog: Catalog,
    policy: RulePolicy,
    trusted: Mapping[str, PublicKey],
    now: datetime,
) -> Gate:
    """Judge the plan's approvals and policy now, without raising."""
    verdict = review(plan, catalog=catalog, policy=policy, trusted=trusted, now=now)
    try:
        enforce(verdict)
        refusal = None
    except ApprovalRequired as e:
        refusal = e.message
    writes = tuple(s.id for s in plan.plan.steps if catalog.get(s.actor).effect == "write")
    return Gate(
        effect="write" if writes else "read", writes=writes, verdict=verdict, refusal=refusal
    )
