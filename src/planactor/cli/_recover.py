"""`planactor recover RUN_ID`: a remediation plan for a paused run, and what to do with the run.

Playbooks first, the model second (`--model-only` forces it). The remediation is a plan:
validated with the lab's safety check, its policy verdict shown, written with `-o` (shown
otherwise), never run here. Exit codes (docs/cli.md): 0 a remediation plan was proposed, or
the run may be resumed now; 4 no plan of ours can help and the run needs a person's decision
(repair, then resume; or abort); 1 nothing could be proposed (no playbook matched and the
model could not compose a valid plan); 2 bad input (an unknown run, a run that is not paused).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from planactor._errors import InputError
from planactor._files import save_plan
from planactor.cli._app import EXIT_FAILED, EXIT_OK, EXIT_PAUSED, app, catalog, kind_of, out
from planactor.cli._approve import PolicyOption
from planactor.cli._lab_context import LabOption, lab_context
from planactor.cli._layout import print_plan
from planactor.cli._model_options import BaseUrlOption, ModelOption
from planactor.cli._plan import PlannerName, requester
from planactor.cli._recover_look import Looked, look
from planactor.cli._run import DbOption, JsonOption, _journal
from planactor.harness import DEFAULT_MAX_STEPS, Recovery, gather, recover
from planactor.planner import Backend, get_backend
from planactor.policy import KeyStore, load_policy

__all__ = ["exit_code_of", "recovery_document"]


def exit_code_of(rec: Recovery) -> int:
    """0: a plan, or resume now; 4: a person must decide; 1: nothing could be proposed."""
    p = rec.proposal
    if p is None:
        return EXIT_FAILED
    if p.plan is None and p.then != "resume":
        return EXIT_PAUSED
    return EXIT_OK


def recovery_document(rec: Recovery, written_to: Path | None) -> dict[str, Any]:
    ctx, p = rec.context, rec.proposal
    f = ctx.failure
    verdict = rec.verdict
    return {
        "run_id": ctx.run_id,
        "failure": {
            "step": f.step,
            "actor": f.actor,
            "args": dict(f.args),
            "error_kind": f.error_kind,
            "message": f.message,
            "hint": f.hint,
            "reason": f.reason,
        },
        "journal_tail": list(ctx.tail),
        "diagnostics": list(rec.diagnostics),
        "fix_runs": [{"run_id": r, "status": s} for r, s in ctx.fixes],
        "source": p.source if p else None,
        "why": p.why if p else None,
        "plan": rec.validated.plan.to_document() if rec.validated else None,
        "plan_hash": rec.validated.hash if rec.validated else None,
        "approvals_required": verdict.report.approvers_required if verdict else None,
        "then": p.then if p else None,
        "then_why": p.then_why if p else None,
        "notes": list(rec.notes),
        "written_to": str(written_to) if written_to else None,
        "latency_s": rec.latency_s,
        "exit_code": exit_code_of(rec),
    }


@app.command("recover")
def recover_cmd(
    run_id: str = typer.Argument(..., help="The paused run (see `planactor runs`)."),
    lab: Path | None = LabOption,
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write the remediation plan here (else it is printed)."
    ),
    planner: PlannerName = typer.Option(
        PlannerName.local,
        "--planner",
        help="The model asked when no playbook answers: local, openai, anthropic; routine: "
        "no model (playbooks only).",
    ),
    model: str | None = ModelOption,
    base_url: str | None = BaseUrlOption,
    diagnose_run: bool = typer.Option(
        False,
        "--diagnose",
        help="First let the model look around, read-only (an `ask` loop about the failure, "
        "journaled and linked to the run); its findings join the diagnostics.",
    ),
    max_steps: int = typer.Option(
        DEFAULT_MAX_STEPS, "--max-steps", help="--diagnose: the loop's step budget."
    ),
    with_ticket: bool = typer.Option(
        False,
        "--ticket",
        help="Summarize the paused run for its change ticket (the core.summarize_run "
        "skill: a journaled read-only run).",
    ),
    model_only: bool = typer.Option(
        False, "--model-only", help="Skip the playbooks: let the model compose the remediation."
    ),
    requested_by: str | None = typer.Option(
        None, "--requested-by", help="Requester (default: $PLANACTOR_USER or your login)."
    ),
    db: Path | None = DbOption,
    policy_file: Path | None = PolicyOption,
    as_json: bool = JsonOption,
) -> None:
    """Propose a remediation plan for a paused run (playbooks first, model second); never run it."""
    cat = catalog()
    policy = load_policy(policy_file)
    ctx_lab = lab_context(lab)
    backend: Callable[[], Backend] | None = None
    if planner is not PlannerName.routine:  # made only if the model is needed
        backend = partial(get_backend, planner.value, model=model, base_url=base_url)

    if (diagnose_run or with_ticket) and backend is None:
        raise InputError(
            "--diagnose and --ticket ask a model, and --planner routine names none",
            hint="choose --planner local (the default), openai or anthropic",
        )
    looked = Looked()
    with _journal(db) as journal:
        ctx, found = gather(
            journal,
            run_id,
            catalog=cat,
            lab=ctx_lab.lab if ctx_lab else None,
            requested_by=requested_by or requester(),
        )
        if backend is not None and (diagnose_run or with_ticket):
            looked = look(
                ctx,
                backend=backend(),
                journal=journal,
                resources=ctx_lab.resources if ctx_lab else None,
                run_diagnosis=diagnose_run,
                run_ticket=with_ticket,
                max_steps=max_steps,
            )
            found = (*found, *looked.findings())
    rec = recover(
        ctx,
        diagnostics=found,
        backend=backend,
        policy=policy,
        safety=ctx_lab.safety if ctx_lab else None,
        trusted=KeyStore().trusted(),
        now=datetime.now(UTC),
        model_only=model_only,
    )
    if rec.validated is not None and output is not None:
        save_plan(rec.validated.plan, output)
    if as_json:
        out.print_json(json.dumps({**recovery_document(rec, output), **looked.to_document()}))
    else:
        _print(rec, output, ctx_lab.path if ctx_lab else None)
        looked.print(out)
    raise typer.Exit(exit_code_of(rec))


def _print(rec: Recovery, output: Path | None, lab: Path | None) -> None:
    ctx, p = rec.context, rec.proposal
    f = ctx.failure
    args = " ".join(f"{k}={v}" for k, v in sorted(f.args.items()))
    out.print(
        Text.assemble(
            (f"run {ctx.run_id} paused", "bold yellow"),
            f" at step {f.step!r} ({f.actor} {args}): {f.text}",
        )
    )
    if f.hint:
        out.print(f"  hint: {f.hint}", markup=False)
    out.print("journal tail:", markup=False)
    for line in ctx.tail:
        out.print(f"  {line}", markup=False, style="dim")
    out.print("the lab now (read-only):", markup=False)
    for line in rec.diagnostics:
        out.print(f"  - {line}", markup=False)
    for rid, status in ctx.fixes:
        out.print(f"fix run {rid} (recovers {ctx.run_id}): {status}", markup=False)
    for note in rec.notes:
        out.print(Text(f"note: {note}", style="yellow"))
    if p is None:
        out.print(
            Text("no remediation could be proposed", style="bold red"),
            "; inspect the lab, then `planactor resume "
            f"{ctx.run_id}` or `planactor resume {ctx.run_id} --abort`",
        )
        return
    out.print(Text.assemble(("proposal", "bold"), f" ({p.source}): {p.why}"))
    lab_opt = f" --lab {lab}" if lab else ""
    if rec.validated is not None:
        plan = rec.validated.plan
        print_plan(
            out,
            plan,
            kind_of,
            title=f"remediation: {plan.intent}",
            more="full arguments: -o FIX.json, then `planactor show FIX.json --wide`",
        )
        need = rec.verdict.report.approvers_required if rec.verdict else 0
        out.print(
            f"validated (catalog, policy{', lab safety' if lab else ''}); plan hash "
            f"{rec.validated.hash}; recovers {ctx.run_id}; policy wants {need} approval(s)",
            markup=False,
        )
        target = str(output) if output else "FIX.json"
        if output is not None:
            out.print(f"written to {output}", markup=False)
        else:
            out.print_json(json.dumps(plan.to_document()))
            out.print(f"(write it with -o {target})", markup=False)
        out.print("next (recover never runs it):", markup=False)
        out.print(f"  planactor approve {target} --as NAME --ticket CHG-...", markup=False)
        out.print(
            f"  planactor run {target}{lab_opt}   # a new run, linked: recovers {ctx.run_id}",
            markup=False,
        )
        out.print(f"  then {p.then}: {p.then_why}", markup=False)
    else:
        style = "bold green" if p.then == "resume" else "bold yellow"
        out.print(Text.assemble(("next: ", style), f"{p.then}: {p.then_why}"))
    out.print(f"recover took {rec.latency_s} s", markup=False, style="dim")
