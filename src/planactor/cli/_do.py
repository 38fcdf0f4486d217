"""`planactor do "INTENT"`: plan, validate, show the verdict, approve, run, summarize.

The path is chosen by the effect of the plan's actors (`planactor.harness.plan_effect`),
never by the intent's words: a read-only plan runs without approval where policy asks for
none; a plan that writes always passes the gate. Approval is `planactor approve`'s own
signing (`sign_plan`: separation of duties, no self-approval) by `--as NAME`, a person
holding a key here, after a confirmation at the terminal (or `--yes`); without it, or when
policy wants more approvals than that, `do` saves the plan, prints the exact `approve`
and `run` commands and exits 3.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from planactor._errors import ApprovalRequired, InputError, PlanactorError
from planactor._files import save_plan
from planactor._home import home
from planactor.audit import Anchor
from planactor.cli._app import app, catalog, err, kind_of, out
from planactor.cli._approve import PolicyOption, sign_plan
from planactor.cli._lab_context import LabContext, LabOption, lab_context
from planactor.cli._layout import print_plan
from planactor.cli._plan import PlannerName, requester
from planactor.cli._run import DbOption, JsonOption, _journal, _print_result, _Progress
from planactor.engine import Engine, RunResult
from planactor.harness import Gate, gate
from planactor.plan import Plan
from planactor.planner import LLMPlanner, RoutinePlanner, get_backend
from planactor.policy import KeyStore, RulePolicy, load_policy
from planactor.validate import AllOf, ValidatedPlan, validate_plan

__all__: list[str] = []


def _make_plan(
    intent: str,
    *,
    planner: PlannerName,
    model: str | None,
    base_url: str | None,
    ctx: LabContext | None,
    policy: RulePolicy,
    who: str,
    ticket: str | None,
) -> Plan:
    checks = AllOf(policy, ctx.safety if ctx else None)
    common: dict[str, Any] = {
        "catalog": catalog(),
        "inventory": ctx.inventory if ctx else None,
        "facts": ctx.facts if ctx else None,
        "policy": checks,
        "basis": ctx.basis if ctx else None,
    }
    if planner is PlannerName.routine:
        return RoutinePlanner(**common).plan(intent, requested_by=who, change_ticket=ticket).plan
    backend = get_backend(planner.value, model=model, base_url=base_url)
    return (
        LLMPlanner(backend=backend, **common)
        .plan(intent, requested_by=who, change_ticket=ticket)
        .plan
    )


def _show(validated: ValidatedPlan, g: Gate) -> None:
    plan = validated.plan
    print_plan(
        out, plan, kind_of, title=plan.intent, more="full arguments: `planactor show PLAN --wide`"
    )
    out.print(f"plan hash {validated.hash}", markup=False)
    if g.effect == "read":
        out.print(Text("read-only: every actor reads; nothing changes", style="green"))
    else:
        out.print(
            Text(
                f"writes: {len(g.writes)} write step(s) ({', '.join(g.writes[:5])}"
                + (", ..." if len(g.writes) > 5 else "")
                + "): the plan/approve gate applies",
                style="yellow",
            )
        )
    rules = ", ".join(o.rule.name for o in g.verdict.report.applied) or "none"
    have = ", ".join(g.approvers) or "none"
    out.print(
        f"policy {g.verdict.policy.name}: {g.required} approval(s) required, valid: {have}; "
        f"rules applied: {rules}",
        markup=False,
    )


def _plan_file(output: Path | None, validated: ValidatedPlan) -> Path:
    return output or home() / "plans" / f"{validated.hash.removeprefix('sha256:')[:16]}.json"


def _save(plan: Plan, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_plan(plan, path)


def _refuse(plan: Plan, path: Path, why: str, lab: Path | None) -> ApprovalRequired:
    _save(plan, path)
    lab_opt = f" --lab {lab}" if lab else ""
    return ApprovalRequired(
        f"{why}\n  the plan is saved in {path}",
        hint=f"an approver runs `planactor approve {path} --as NAME`, then "
        f"`planactor run {path}{lab_opt}`",
    )


def _confirm(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    return typer.confirm(question)


def _approve(
    validated: ValidatedPlan,
    g: Gate,
    *,
    identity: str | None,
    yes: bool,
    ticket: str | None,
    path: Path,
    lab: Path | None,
    policy: RulePolicy,
    store: KeyStore,
) -> ValidatedPlan:
    """The plan with the approvals `do` can collect here, or ApprovalRequired (exit 3)."""
    plan = validated.plan
    if g.refusal is None:
        # Policy is met (no approvals asked, or they are in the plan): a write still needs
        # a person's go.
        who = ", ".join(g.approvers) or "nobody (policy requires none)"
        if not _confirm(f"Run {len(g.writes)} write step(s) approved by {who}?", yes):
            raise _refuse(plan, path, "a plan that writes needs a person's go: not confirmed", lab)
        return validated
    if identity is None:
        raise _refuse(plan, path, g.refusal, lab)
    if not _confirm(f"Approve plan {validated.hash[:19]}… as {identity}?", yes):
        raise _refuse(plan, path, f"not approved by {identity}", lab)
    try:
        approved, _, _ = sign_plan(plan, identity=identity, store=store, ticket=ticket)
    except InputError as e:  # self-approval, no key here, a planner's name...
        raise _refuse(plan, path, f"{identity} cannot approve it: {e.message}", lab) from None
    _save(approved, path)
    again = validate_plan(approved, catalog=catalog())
    g2 = gate(
        again, catalog=catalog(), policy=policy, trusted=store.trusted(), now=datetime.now(UTC)
    )
    out.print(f"approved as {identity}; written to {path}", markup=False)
    if g2.refusal is not None:
        raise _refuse(approved, path, g2.refusal, lab)
    return again


@app.command("do")
def do_cmd(
    intent: str = typer.Argument(..., help='What you want done, e.g. "check array-01".'),
    planner: PlannerName = typer.Option(
        PlannerName.local,
        "--planner",
        help="local (offline model), openai, anthropic, or routine (no model).",
    ),
    model: str | None = typer.Option(None, "--model", help="local: a GGUF file; hosted: an id."),
    base_url: str | None = typer.Option(None, "--base-url", help="openai/anthropic: the server."),
    lab: Path | None = LabOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Stop after a dry run."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Confirm without asking."),
    identity: str | None = typer.Option(
        None, "--as", help="Approve as NAME (your key in the key store), as `approve` does."
    ),
    ticket: str | None = typer.Option(None, "--ticket", help="Change ticket, e.g. CHG-123."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Save the plan here (default: $PLANACTOR_HOME/plans/)."
    ),
    requested_by: str | None = typer.Option(
        None, "--requested-by", help="Requester (default: $PLANACTOR_USER or your login)."
    ),
    db: Path | None = DbOption,
    policy_file: Path | None = PolicyOption,
    as_json: bool = JsonOption,
) -> None:
    """Plan, validate, show the verdict, approve, run and summarize in one command."""
    if db is not None and str(db) in (":memory:", "") and not dry_run:
        raise InputError(
            "a run that may write must leave its record; --db :memory: is for --dry-run only"
        )
    cat = catalog()
    policy = load_policy(policy_file)
    ctx = lab_context(lab)
    store = KeyStore()
    who = requested_by or requester()
    plan = _make_plan(
        intent,
        planner=planner,
        model=model,
        base_url=base_url,
        ctx=ctx,
        policy=policy,
        who=who,
        ticket=ticket,
    )
    checks = AllOf(policy, ctx.safety if ctx else None)
    validated = validate_plan(
        plan, catalog=cat, inventory=ctx.inventory if ctx else None, policy=checks
    )
    g = gate(validated, catalog=cat, policy=policy, trusted=store.trusted(), now=datetime.now(UTC))
    if not as_json:
        _show(validated, g)
    labpath = ctx.path if ctx else None
    if not dry_run and not g.runs_unattended:
        validated = _approve(
            validated,
            g,
            identity=identity,
            yes=yes,
            ticket=ticket,
            path=_plan_file(output, validated),
            lab=labpath,
            policy=policy,
            store=store,
        )
    elif output is not None:
        _save(validated.plan, output)
    result, anchor = _execute(validated, ctx, policy, store, db, dry_run, as_json)
    if as_json:
        out.print_json(json.dumps(_document(validated, g, result, anchor)))
    else:
        _print_result(result, False)
        if anchor is not None:
            out.print(f"audit anchor (keep it in the ticket): {anchor}", markup=False)
            out.print(f"  planactor audit {result.run_id}", markup=False)
        if result.status == "paused":
            out.print(f"  planactor recover {result.run_id}   # a remediation plan", markup=False)
    raise typer.Exit(result.exit_code)


def _execute(
    validated: ValidatedPlan,
    ctx: LabContext | None,
    policy: RulePolicy,
    store: KeyStore,
    db: Path | None,
    dry_run: bool,
    as_json: bool,
) -> tuple[RunResult, Anchor | None]:
    from planactor.policy import authorize

    cat = catalog()
    auth = None
    if not dry_run:  # the gate again, as `run` does: what runs is what was authorized
        auth = authorize(
            validated, catalog=cat, policy=policy, trusted=store.trusted(), now=datetime.now(UTC)
        )
    progress = _Progress(len(validated.plan.steps), enabled=not as_json and err.is_terminal)
    with _journal(db, create=True) as journal, progress.bar:
        engine = Engine(
            catalog=cat,
            journal=journal,
            on_event=progress,
            resources=ctx.resources if ctx else None,
        )
        result = engine.run(
            validated,
            dry_run=dry_run,
            authorization=auth.to_document() if auth is not None else None,
        )
        try:
            seq, head = journal.head(result.run_id)
            anchor: Anchor | None = Anchor(run_id=result.run_id, seq=seq, hash=head)
        except PlanactorError:
            anchor = None
    return result, anchor


def _document(
    validated: ValidatedPlan, g: Gate, result: RunResult, anchor: Anchor | None
) -> dict[str, Any]:
    return {
        "plan_hash": validated.hash,
        "plan": validated.plan.to_document(),
        "effect": g.effect,
        "write_steps": list(g.writes),
        "approvals_required": g.required,
        "run_id": result.run_id,
        "status": result.status,
        "dry_run": result.dry_run,
        "reason": result.reason,
        "exit_code": result.exit_code,
        "anchor": str(anchor) if anchor else None,
    }
