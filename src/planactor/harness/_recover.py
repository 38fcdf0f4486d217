"""The recovery agent: for a paused run, a remediation plan, playbooks first, the model second.

`gather` reads what a person would look at: the pause reason, the failed step's actor,
arguments and error, the journal's last events, the plan, the lab as it is now (read-only:
its state, pending faults and a few findings), and the runs already made to fix this one.
`recover` asks the registered playbooks (`_playbooks`), and only when none answers (or when
told to) the LLM planner's composition path, with the failure in the intent. The proposal
is a plan like any other: validated here (with the lab's safety check), its policy verdict
reviewed; it never runs here. It carries `recovers: RUN_ID` inside its hash, so the run it
becomes is linked to the paused one, and the proposal says what to do with that run
afterwards (resume or abort) and why.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from planactor._errors import BackendError, InputError, PlanInvalid
from planactor.catalog import Catalog
from planactor.harness._playbooks import Failure, Proposal, RecoveryContext, propose_by_playbook
from planactor.harness._storage_playbooks import storage_diagnostics
from planactor.journal import EventKind, Journal, JournalEvent
from planactor.lab import Lab, basis_reader, kinds
from planactor.plan import Plan
from planactor.planner import Backend, LLMPlanner
from planactor.policy import Authorization, PublicKey, RulePolicy, review
from planactor.validate import AllOf, Policy, ValidatedPlan, validate_plan

__all__ = ["Recovery", "fix_runs", "gather", "propose_by_model", "recover"]

TAIL = 8  # journal events shown to a person and to the model


@dataclass(frozen=True, slots=True, kw_only=True)
class Recovery:
    """What `recover` found and proposes. `plan` is validated; `verdict` is the policy's."""

    context: RecoveryContext
    diagnostics: tuple[str, ...]
    proposal: Proposal | None
    validated: ValidatedPlan | None = None
    verdict: Authorization | None = None
    notes: tuple[str, ...] = ()  # what was tried and did not give a plan (a playbook's
    # plan refused by validation, the model's failure), in words
    latency_s: float = 0.0

    @property
    def model_failed(self) -> bool:
        return self.proposal is None and any(n.startswith("model:") for n in self.notes)


def fix_runs(journal: Journal, run_id: str) -> tuple[tuple[str, str], ...]:
    """(run id, status) of each run whose plan says it `recovers` this one, oldest first."""
    return tuple((r.run_id, r.status) for r in journal.runs() if r.plan.recovers == run_id)


def _line(e: JournalEvent) -> str:
    data = {k: v for k, v in e.data.items() if k not in ("authorization", "planner")}
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return f"#{e.seq} {e.type}" + (f" {e.step}" if e.step else "") + f" {text[:160]}"


def _failure(run_id: str, events: list[JournalEvent]) -> Failure:
    paused = next(e for e in reversed(events) if e.type == EventKind.RUN_PAUSED)
    step = paused.step
    failed = next(
        (
            e
            for e in reversed(events)
            if e.type == EventKind.STEP_FAILED and (step is None or e.step == step)
        ),
        None,
    )
    step = step or (failed.step if failed else None)
    started = next(
        (e for e in reversed(events) if e.type == EventKind.STEP_STARTED and e.step == step),
        None,
    )
    error: Mapping[str, Any] = failed.data.get("error", {}) if failed else {}
    return Failure(
        run_id=run_id,
        reason=str(paused.data.get("reason", "")),
        step=step,
        args=dict(started.data.get("args", {})) if started else {},
        error_kind=error.get("kind"),
        message=str(error.get("message", "")),
        hint=error.get("hint"),
    )


def gather(
    journal: Journal,
    run_id: str,
    *,
    catalog: Catalog,
    lab: Lab | None,
    requested_by: str,
) -> tuple[RecoveryContext, tuple[str, ...]]:
    """The recovery context of a paused run, and read-only findings about the lab now."""
    record = journal.run(run_id)  # an unknown run: InputError naming it
    if record.status != "paused":
        hint = (
            f"`planactor resume {run_id}` continues an interrupted run"
            if record.status == "running"
            else "`planactor runs` lists the runs and their status"
        )
        raise InputError(
            f"run {run_id} is {record.status}, not paused: there is nothing to recover", hint=hint
        )
    events = journal.events(run_id)
    failure = _failure(run_id, events)
    if failure.step is not None and failure.step in {s.id for s in record.plan.steps}:
        actor = record.plan.step(failure.step).actor
        failure = replace(failure, actor=actor)
    ctx = RecoveryContext(
        run_id=run_id,
        plan=record.plan,
        failure=failure,
        tail=tuple(_line(e) for e in events[-TAIL:]),
        catalog=catalog,
        requested_by=requested_by,
        fixes=fix_runs(journal, run_id),
    )
    if lab is None:
        return ctx, ("no lab given: no fresh diagnostics",)
    doc = lab.read()
    kind = kinds().get(doc.kind)
    if kind is None:
        return ctx, (f"lab {lab.path} is of kind {doc.kind!r}, which this planactor lacks",)
    ctx = replace(
        ctx,
        lab_kind=doc.kind,
        lab_state=doc.state,
        facts=kind.facts(doc.state),
        inventory=kind.inventory(doc.state),
        faults=tuple(doc.faults),
        basis=basis_reader(doc),
    )
    found = storage_diagnostics(doc.state) if doc.kind == "storage" else []
    found += [f"pending fault: {json.dumps(f, sort_keys=True)}" for f in doc.faults]
    du = sum(1 for v in doc.violations if v.get("kind") == "DU")
    found.append(f"data-unavailability events recorded by the lab: {du}")
    return ctx, tuple(found)


def _model_intent(ctx: RecoveryContext) -> str:
    f = ctx.failure
    args = " ".join(f"{k}={v}" for k, v in sorted(f.args.items()) if isinstance(v, str | int))
    text = f"Remediate paused run {ctx.run_id}: step {f.step} ({f.actor} {args}) failed: {f.text}."
    if f.hint:
        text += f" Hint: {f.hint}."
    return text + " Compose the steps that repair this safely so that the run can resume."


def propose_by_model(ctx: RecoveryContext, *, backend: Backend, checks: Policy | None) -> Proposal:
    """The LLM planner's composition path, with the failure in the intent; validated."""
    result = LLMPlanner(
        catalog=ctx.catalog,
        backend=backend,
        inventory=ctx.inventory,
        facts=ctx.facts,
        policy=checks,
    ).plan(
        _model_intent(ctx),
        requested_by=ctx.requested_by,
        change_ticket=ctx.plan.change_ticket,
        compose=True,
    )
    plan = ctx.link(result.plan)
    return Proposal(
        source="model",
        why=f"the model composed {len(plan.steps)} step(s) from catalog actors (a novel "
        "plan: review it)",
        plan=plan,
        then="resume",
        then_why=f"once the fix run succeeded, `planactor recover {ctx.run_id}` again re-reads "
        f"the lab; if the failure is gone, `planactor resume {ctx.run_id}`",
    )


def _after_fixes(ctx: RecoveryContext) -> Proposal | None:
    """When runs already tried to fix this one and no playbook judged the lab: their word."""
    if not ctx.fixes:
        return None
    rid, status = ctx.fixes[-1]
    if status == "succeeded":
        return Proposal(
            source=f"fix run {rid}",
            why=f"fix run {rid} succeeded",
            plan=None,
            then="resume",
            then_why=f"`planactor resume {ctx.run_id}` retries step {ctx.failure.step!r}; if "
            "it fails again, recover again",
        )
    return None


def recover(
    ctx: RecoveryContext,
    *,
    diagnostics: tuple[str, ...] = (),
    backend: Backend | Callable[[], Backend] | None,
    policy: RulePolicy,
    safety: Policy | None,
    trusted: Mapping[str, PublicKey],
    now: datetime,
    model_only: bool = False,
) -> Recovery:
    """Propose a remediation: playbooks first, the model second (or only, `model_only`).

    `backend` may be a factory, called only when the model is needed. Nothing runs here:
    the proposal's plan is validated (with `safety`, the lab's check) and its policy
    verdict reviewed against `trusted` keys at `now`."""
    started = time.perf_counter()
    checks = AllOf(policy, safety)
    notes: list[str] = []
    proposal = None if model_only else propose_by_playbook(ctx)
    validated = None
    if proposal is not None and proposal.plan is not None:
        try:
            validated = _validate(ctx, proposal.plan, checks)
        except PlanInvalid as e:
            notes.append(f"{proposal.source}: its plan was refused: {_first(e)}")
            proposal = None
    if proposal is None and not model_only:
        proposal = _after_fixes(ctx)
    if proposal is None and backend is not None:
        try:
            # A factory is called only now: the playbook path never loads a model.
            model = backend if isinstance(backend, Backend) else backend()
            proposal = propose_by_model(ctx, backend=model, checks=checks)
            assert proposal.plan is not None
            validated = _validate(ctx, proposal.plan, checks)
        except (PlanInvalid, BackendError) as e:
            notes.append(f"model: could not compose a valid remediation: {_first(e)}")
            proposal = None
    elif proposal is None:
        notes.append("no playbook matched and no model was given")
    verdict = None
    if validated is not None:
        verdict = review(validated, catalog=ctx.catalog, policy=policy, trusted=trusted, now=now)
    return Recovery(
        context=ctx,
        diagnostics=diagnostics,
        proposal=proposal,
        validated=validated,
        verdict=verdict,
        notes=tuple(notes),
        latency_s=round(time.perf_counter() - started, 4),
    )


def _validate(ctx: RecoveryContext, plan: Plan, checks: Policy) -> ValidatedPlan:
    return validate_plan(
        plan, catalog=ctx.catalog, inventory=ctx.inventory, policy=checks, source="remediation"
    )


def _first(e: PlanInvalid | BackendError) -> str:
    if isinstance(e, PlanInvalid):
        errors = e.report.errors
        if errors:
            return f"{errors[0].location}: {errors[0].message}"
    return e.message
