"""The gate `planactor resume` passes to `Engine.resume`: what `run` checks, checked again.

`run` validates the plan (with the policy and the lab's safety simulation), then
authorizes it (approvals, policy). A resume rebuilds its plan from a journal that anyone
with write access can extend, so it establishes all of that again before anything more
happens: the plan's basis (the lab facts it was made from must still hold, apart from
what the run's own writes changed: `basis`), the authorization
(`planactor.policy.reauthorize`), the plan's static validity under today's policy, and the
safety simulation of the steps still to run over the lab as it is now (the finished steps
are already in the lab's state).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from planactor._errors import ApprovalRequired
from planactor.catalog import Catalog
from planactor.engine._engine import RecordedRun, ResumeGate
from planactor.plan import remaining_plan
from planactor.policy import KeyStore, PublicKey, RulePolicy, reauthorize
from planactor.validate import Policy, Problem, validate

__all__ = ["resume_gate"]


def _line(p: Problem) -> str:
    return f"{p.location}: {p.message} [{p.code}]"


def _refusal(run_id: str, what: str, problems: list[str]) -> ApprovalRequired:
    shown = problems[:8] + ([f"... and {len(problems) - 8} more"] if len(problems) > 8 else [])
    return ApprovalRequired(
        f"run {run_id} may not resume: {what}:\n  " + "\n  ".join(shown),
        hint="`planactor resume RUN --abort` compensates what ran; or plan anew",
    )


def resume_gate(
    *,
    catalog: Catalog,
    policy: RulePolicy,
    now: datetime,
    trusted: Mapping[str, PublicKey] | None = None,
    safety: Policy | None = None,
    basis: Callable[[RecordedRun], None] | None = None,
) -> ResumeGate:
    """A gate that refuses (ApprovalRequired, exit 3) what `run` would refuse now.

    `trusted` defaults to the key store's trusted keys; `safety` is the lab's validation
    policy (for the storage lab, its DU simulation), judged on the remaining steps;
    `basis` raises (StalePlan, exit 2) when the facts the plan was made from changed.
    """
    keys = KeyStore().trusted() if trusted is None else trusted

    def gate(run: RecordedRun) -> Mapping[str, Any] | None:
        if basis is not None and not run.abort:  # an abort only compensates what ran
            basis(run)
        recorded = run.started.get("authorization")
        if recorded is not None and not isinstance(recorded, Mapping):
            raise ApprovalRequired(
                f"run {run.run_id} may not resume: its recorded authorization is not an object"
            )
        auth = reauthorize(
            run.plan,
            run_id=run.run_id,
            plan_hash=run.plan_hash,
            recorded=recorded,
            dry_run=bool(run.started.get("dry_run", False)),
            catalog=catalog,
            policy=policy,
            trusted=keys,
            now=now,
        )
        report = validate(run.plan, catalog=catalog, policy=policy)
        if not report.ok:
            problems = [_line(p) for p in report.errors]
            raise _refusal(run.run_id, "its plan fails validation now", problems)
        if safety is not None and not run.abort:  # an abort only compensates what ran
            rest = remaining_plan(run.plan, done=run.done)
            if rest.steps:
                found = [
                    p
                    for p in safety.check(rest, catalog=catalog, inventory=None)
                    if p.severity == "error"
                ]
                if found:
                    raise _refusal(
                        run.run_id,
                        "the steps still to run are unsafe on the lab as it is now",
                        [_line(p) for p in found],
                    )
        return auth.to_document() if auth is not None else None

    return gate
