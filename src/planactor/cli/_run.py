"""`planactor run`, `resume`, `runs` and `replay`: the engine from the command line."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from planactor._errors import ApprovalRequired, InputError
from planactor._files import load_plan, read_plan_text
from planactor._home import default_journal
from planactor.cli._app import app, catalog, err, out
from planactor.cli._approve import PolicyOption
from planactor.cli._lab_context import LabContext, LabOption, lab_context
from planactor.cli._layout import print_lines, result_lines, runs_lines
from planactor.cli._model_options import (
    BaseUrlOption,
    LLMName,
    LLMOption,
    ModelOption,
    SkillModel,
)
from planactor.cli._run_resources import run_resources
from planactor.cli._run_temporal import (
    EngineName,
    EngineOption,
    resume_on_temporal,
    run_on_temporal,
    temporal_record,
)
from planactor.cli._worker import AddressOption, NamespaceOption, TaskQueueOption
from planactor.cli._wrap import prose_lines
from planactor.engine import Engine, RecordedRun, RunResult, resume_gate
from planactor.journal import EventKind, Journal
from planactor.plan import JsonSyntaxError, Plan, parse_json
from planactor.policy import Authorization, KeyStore, authorize, load_policy
from planactor.validate import AllOf, validate_plan

_STATUS_STYLE = {
    "succeeded": "bold green",
    "paused": "bold yellow",
    "failed": "bold red",
    "compensated": "bold yellow",
    "running": "cyan",
}


class Sync(StrEnum):
    FULL = "FULL"
    NORMAL = "NORMAL"


DbOption = typer.Option(None, "--db", help="Journal file (default: $PLANACTOR_HOME/journal.db).")
SyncOption = typer.Option(
    Sync.FULL, "--sync", help="FULL survives power loss; NORMAL only process crashes, ~100x faster."
)
JsonOption = typer.Option(False, "--json", help="Print the result as JSON.")
ParallelOption = typer.Option(
    1, "--parallel", "-p", min=1, max=256, help="Run up to N independent steps at once."
)


def _journal(db: Path | None, sync: Sync = Sync.FULL, *, create: bool = False) -> Journal:
    # Only `run` creates a journal: a command that reads one never makes a file, and a
    # journal named with --db that does not exist is bad input (exit 2).
    return Journal(db or default_journal(), synchronous=sync.value, create=create)


_COMPENSATION: dict[str, str] = {
    EventKind.COMPENSATION_STARTED: "started",
    EventKind.COMPENSATION_SUCCEEDED: "succeeded",
    EventKind.COMPENSATION_FAILED: "failed",
}


class _Progress:
    """A progress bar over the plan's steps, with one line per step as it finishes."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not enabled,
        )
        self.task = self.bar.add_task("running", total=total)

    def __call__(self, kind: str, step: str | None, data: Mapping[str, Any]) -> None:
        # `kind` is an EventKind (a str: callers that pass the engine's events on may say str).
        if not self.enabled:
            return
        if kind == EventKind.STEP_STARTED:
            attempt = data.get("attempt", 1)
            self.bar.update(
                self.task, description=f"{step}" + (f" (try {attempt})" if attempt > 1 else "")
            )
        elif kind in (EventKind.STEP_SUCCEEDED, EventKind.STEP_SKIPPED):
            self.bar.advance(self.task)
            mark = "✓" if kind == EventKind.STEP_SUCCEEDED else "–"
            self.bar.console.print(f"  {mark} {step}", style="dim" if mark == "–" else None)
        elif kind == EventKind.STEP_FAILED:
            # Wrapped between words: the terminal would cut the message anywhere.
            said = f"✗ {step}: {data['error']['message']}"
            lines = prose_lines(said, self.bar.console.width, indent="  ")
            self.bar.console.print(Text("\n".join(lines), style="red"), soft_wrap=True)
        elif kind in _COMPENSATION:
            self.bar.console.print(
                f"  ↺ {_COMPENSATION[kind]} compensation of {step}", style="yellow"
            )


def _print_result(result: RunResult, as_json: bool) -> None:
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "run_id": result.run_id,
                    "status": result.status,
                    "plan_hash": result.plan_hash,
                    "dry_run": result.dry_run,
                    "reason": result.reason,
                    "exit_code": result.exit_code,
                    "steps": {
                        sid: {
                            "state": o.state,
                            "attempts": o.attempts,
                            "output": o.output,
                            "note": o.note,
                        }
                        for sid, o in result.steps.items()
                    },
                }
            )
        )
        return
    out.print(Text(f"run {result.run_id}" + (" (dry run)" if result.dry_run else ""), "bold"))
    print_lines(out, result_lines(result, width=out.width))
    out.print(
        Text(result.status.upper(), style=_STATUS_STYLE[result.status]),
        f"· plan {result.plan_hash[:19]}…",
        markup=False,
    )
    if result.reason:
        out.print(f"reason: {result.reason}", markup=False)
    if result.status == "paused":
        out.print(
            f"next: inspect, then `planactor resume {result.run_id}` "
            f"(or --retry STEP, or --abort to compensate)",
            markup=False,
        )


def _confirm_writes(writes: list[str], yes: bool, auth: Authorization) -> None:
    """A last look for a person at a terminal; approvals, not this prompt, are the gate."""
    if yes or not writes or not sys.stdin.isatty():
        return
    who = ", ".join(auth.approvals.approvers) or "nobody (policy requires none)"
    if not typer.confirm(f"Run {len(writes)} write step(s) approved by {who}?"):
        raise ApprovalRequired("not confirmed", hint="nothing ran")


def _refuse_if_stale(data: bytes, ctx: LabContext, source: str) -> None:
    """StalePlan (exit 2) if the lab facts the plan records as its basis changed.

    Checked on the raw document before validation: the lab's safety check would otherwise
    judge a stale plan against a state it was not made for and name a symptom, not the
    cause. A plan that does not parse has no basis to check; validation reports it.
    """
    from planactor.lab import stale_facts, stale_plan_error

    try:
        doc = parse_json(data)
        if not isinstance(doc, dict) or doc.get("basis") is None:
            return
        plan = Plan.model_validate(doc)
    except (JsonSyntaxError, ValueError):
        return
    changes = stale_facts(plan, ctx.lab.read())
    if changes:
        output = None if source == "<stdin>" else source
        raise stale_plan_error(plan, changes, lab=ctx.path, output=output)


def _basis_check(ctx: LabContext, journal: Journal) -> Callable[[RecordedRun], None]:
    """The resume gate's basis check: what changed apart from the writes of the run itself
    and of the runs that recover it (their plans say `recovers: RUN`)."""
    from planactor.lab import stale_facts, stale_plan_error

    def check(run: RecordedRun) -> None:
        if run.plan.basis is None:
            return
        runs = {run.run_id} | {r.run_id for r in journal.runs() if r.plan.recovers == run.run_id}
        changes = stale_facts(run.plan, ctx.lab.read(), runs=runs)
        if changes:
            raise stale_plan_error(run.plan, changes, lab=ctx.path, run_id=run.run_id)

    return check


@app.command("run")
def run_cmd(
    plan: str = typer.Argument(..., help="Plan file (JSON), or - for standard input."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Run reads; writes only report what they would change."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    parallel: int = ParallelOption,
    db: Path | None = DbOption,
    sync: Sync = SyncOption,
    policy_file: Path | None = PolicyOption,
    lab: Path | None = LabOption,
    as_json: bool = JsonOption,
    llm: LLMName = LLMOption,
    model: str | None = ModelOption,
    base_url: str | None = BaseUrlOption,
    engine_name: EngineName = EngineOption,
    address: str = AddressOption,
    namespace: str = NamespaceOption,
    task_queue: str = TaskQueueOption,
) -> None:
    """Validate, check approvals and policy, and run a plan, journaling every event."""
    if db is not None and str(db) in (":memory:", "") and not dry_run:
        # Writes with no record: nothing to audit, resume or compensate from afterwards.
        raise InputError(
            f"--db {str(db) or repr('')} keeps no journal after the process ends, and a run "
            "that writes must leave its record",
            hint="give a journal file (or none: $PLANACTOR_HOME/journal.db); "
            "a journal in memory is for --dry-run only",
        )
    cat = catalog()
    policy = load_policy(policy_file)
    ctx = lab_context(lab)
    checks = AllOf(policy, ctx.safety if ctx else None)
    data, source = read_plan_text(plan)
    if ctx is not None:  # before the first effect: the facts it was made from still hold?
        _refuse_if_stale(data, ctx, source)
    validated = validate_plan(data, catalog=cat, policy=checks, source=source)
    if ctx is None and validated.plan.basis is not None:
        err.print(
            f"note: the plan was made from a {validated.plan.basis.lab} lab's facts, but no "
            "lab is given (--lab): whether they still hold is not checked",
            markup=False,
        )
    steps = validated.plan.steps
    auth = None
    if not dry_run:  # a dry run changes nothing, so it needs no approval
        auth = authorize(
            validated,
            catalog=cat,
            policy=policy,
            trusted=KeyStore().trusted(),
            now=datetime.now(UTC),
        )
        _confirm_writes([s.id for s in steps if cat.get(s.actor).effect == "write"], yes, auth)
    progress = _Progress(len(steps), enabled=not as_json and err.is_terminal)
    with (
        _journal(db, sync, create=True) as journal,
        contextlib.ExitStack() as stack,
        progress.bar,
    ):
        resources = run_resources(
            stack,
            plan=validated.plan,
            catalog=cat,
            journal=journal,
            lab=ctx,
            skills=SkillModel(llm, model, base_url),
        )
        if engine_name is EngineName.temporal:  # the workers hold the actors' resources
            result = run_on_temporal(
                validated,
                catalog=cat,
                journal=journal,
                authorization=auth.to_document() if auth is not None else None,
                address=address,
                namespace=namespace,
                task_queue=task_queue,
                parallel=parallel,
                dry_run=dry_run,
            )
        else:
            engine = Engine(catalog=cat, journal=journal, on_event=progress, resources=resources)
            result = engine.run(
                validated,  # validated against this catalog once, and bound to its hash
                dry_run=dry_run,
                parallel=parallel,
                authorization=auth.to_document() if auth is not None else None,
            )
    _print_result(result, as_json)
    raise typer.Exit(result.exit_code)


@app.command("resume")
def resume_cmd(
    run_id: str = typer.Argument(..., help="The run to continue (see `planactor runs`)."),
    retry: list[str] = typer.Option(
        [], "--retry", help="A step whose outcome is unknown that is safe to run again."
    ),
    abort: bool = typer.Option(False, "--abort", help="Compensate completed writes and stop."),
    parallel: int = ParallelOption,
    db: Path | None = DbOption,
    policy_file: Path | None = PolicyOption,
    lab: Path | None = LabOption,
    take_over: bool = typer.Option(
        False,
        "--take-over",
        help="Take the run over from a process on another host that no longer drives it.",
    ),
    as_json: bool = JsonOption,
    llm: LLMName = LLMOption,
    model: str | None = ModelOption,
    base_url: str | None = BaseUrlOption,
    as_name: str | None = typer.Option(
        None, "--as", help="A Temporal run: sign the decision as NAME (a trusted approver)."
    ),
) -> None:
    """Continue a paused or interrupted run, re-checking everything `run` checks."""
    cat = catalog()
    policy = load_policy(policy_file)
    ctx = lab_context(lab)  # handed to the actors as the run's `lab` resource
    with _journal(db) as journal, contextlib.ExitStack() as stack:
        # Basis, approvals, policy, validity and the lab's safety are established again: the
        # journal the run is rebuilt from is a file, its chain one anyone can recompute.
        gate = resume_gate(
            catalog=cat,
            policy=policy,
            now=datetime.now(UTC),
            safety=ctx.safety if ctx else None,
            basis=_basis_check(ctx, journal) if ctx else None,
        )
        if temporal_record(journal, run_id) is not None:  # its workflow waits for a decision
            result = resume_on_temporal(
                journal=journal,
                catalog=cat,
                run_id=run_id,
                retry=retry,
                abort=abort,
                gate=gate,
                identity=as_name,
            )
        else:
            resources = run_resources(
                stack,
                plan=journal.run(run_id).plan,
                catalog=cat,
                journal=journal,
                lab=ctx,
                skills=SkillModel(llm, model, base_url),
            )
            engine = Engine(catalog=cat, journal=journal, resources=resources)
            result = engine.resume(
                run_id, retry=retry, abort=abort, parallel=parallel, take_over=take_over, gate=gate
            )
    _print_result(result, as_json)
    raise typer.Exit(result.exit_code)


@app.command("runs")
def runs_cmd(db: Path | None = DbOption, as_json: bool = JsonOption) -> None:
    """List the runs in the journal, oldest first."""
    path = db or default_journal()
    if db is None and not path.exists():  # no journal yet; a named one must exist
        records = []
    else:
        with _journal(path) as journal:
            records = journal.runs()
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "run_id": r.run_id,
                        "status": r.status,
                        "plan_hash": r.plan_hash,
                        "intent": r.intent,
                        "dry_run": r.dry_run,
                        "created_at": r.created_at,
                        "updated_at": r.updated_at,
                    }
                    for r in records
                ]
            )
        )
        return
    if not records:
        out.print(f"no runs in {path}", markup=False)
        return
    out.print(f"{len(records)} run(s) in {path}", markup=False)
    print_lines(out, runs_lines(records, width=out.width))


@app.command("replay")
def replay_cmd(
    run_id: str = typer.Argument(..., help="The run to check."),
    plan: str | None = typer.Option(
        None, "--plan", help="Also check that this plan file is the one that ran."
    ),
    db: Path | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Check determinism: re-derive the run's decisions from its recorded results."""
    cat = catalog()
    given = load_plan(plan, catalog=cat) if plan else None
    with _journal(db) as journal:
        journal.run(run_id)  # an unknown run is bad input (exit 2), named with a hint
        chain = journal.verify(run_id)
        report = Engine(catalog=cat, journal=journal).replay(run_id, plan=given)
    ok = report.ok and chain.ok
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "run_id": run_id,
                    "ok": ok,
                    "events": report.events,
                    "chain_ok": chain.ok,
                    "plan_matches": report.plan_matches,
                    "first_divergence": report.first_divergence,
                    "expected": report.expected,
                    "found": report.found,
                    "note": report.note,
                }
            )
        )
    else:
        if not chain.ok:
            out.print(
                f"[red]journal chain broken[/] at event #{chain.first_bad_seq}: {chain.reason}",
                markup=True,
            )
        if report.first_divergence is not None:
            out.print(
                f"[red]diverges[/] at event #{report.first_divergence}: expected "
                f"{report.expected}, the journal has {report.found}",
                markup=True,
            )
        elif report.ok:
            out.print(
                f"[green]deterministic[/]: {report.events} events replayed, every decision matches",
                markup=True,
            )
        if report.note:
            out.print(report.note, markup=False)
    raise typer.Exit(0 if ok else 1)
