"""`planactor policy check|show`: which rules apply to a plan, why, and what they need."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from planactor._errors import InputError
from planactor._files import load_plan
from planactor.cli._app import app, catalog, out
from planactor.cli._approve import PolicyOption
from planactor.policy import KeyStore, default_policy_text, load_policy, policy_path, review
from planactor.policy._load import read_policy_text

policy_app = typer.Typer(
    name="policy",
    help="The policy a plan must meet before it runs.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(policy_app)

_STATUS = {"met": "green", "unmet": "red", "at-run": "yellow"}


def _moment(at: str | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"--at {at!r} is not an ISO 8601 time", hint="e.g. 2026-11-28T23:00Z"
        ) from None
    if moment.tzinfo is None:
        raise InputError(f"--at {at!r} has no time zone", hint="e.g. 2026-11-28T23:00Z")
    return moment


@policy_app.command("check")
def policy_check(
    plan: str = typer.Argument(..., help="Plan file (JSON), or - for standard input."),
    policy_file: Path | None = PolicyOption,
    at: str | None = typer.Option(None, "--at", help="Judge time rules at this moment."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Explain which rules apply to the plan and why; exit 3 if it may not run now."""
    policy = load_policy(policy_file)
    validated = load_plan(plan, catalog=catalog(), policy=policy)
    auth = review(
        validated,
        catalog=catalog(),
        policy=policy,
        trusted=KeyStore().trusted(),
        now=_moment(at),
    )
    rep, approvals = auth.report, auth.approvals
    enough = len(approvals.approvers) >= rep.approvers_required
    ok = enough and not rep.unmet
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "plan_hash": auth.plan_hash,
                    "policy": {"name": policy.name, "hash": policy.hash, "source": policy.source},
                    "may_run": ok,
                    "approvers_required": rep.approvers_required,
                    "approvers_reason": rep.approvers_reason,
                    "approvals": [
                        {"identity": v.approval.identity, "verdict": v.code, "message": v.message}
                        for v in approvals.verdicts
                    ],
                    "ticket": rep.ticket,
                    "rules": [
                        {
                            "name": o.rule.name,
                            "description": o.rule.description,
                            "applies": o.applies,
                            "why": o.why,
                            "steps": list(o.steps),
                            "requirements": [
                                {"kind": r.kind, "status": r.status, "detail": r.detail}
                                for r in o.requirements
                            ],
                        }
                        for o in rep.outcomes
                    ],
                }
            )
        )
        raise typer.Exit(0 if ok else 3)
    out.print(f"plan {auth.plan_hash} under policy {policy.name} ({policy.source})", markup=False)
    table = Table(show_header=True, title_justify="left")
    for col in ("rule", "applies", "why", "requires"):
        table.add_column(col, no_wrap=col == "rule")
    for o in rep.outcomes:
        needs = Text()
        for r in o.requirements:
            needs.append(f"{r.text}: ", style="bold")
            needs.append(f"{r.status}", style=_STATUS[r.status])
            needs.append(f" ({r.detail})\n")
        table.add_row(
            o.rule.name,
            Text("yes" if o.applies else "no", style="bold" if o.applies else "dim"),
            o.why,
            needs or Text("-", style="dim"),
        )
    out.print(table)
    style = "green" if enough else "red"
    out.print(
        Text(f"approvals: {len(approvals.approvers)} of {rep.approvers_required}", style=style),
        f"({rep.approvers_reason})",
        markup=False,
    )
    for v in approvals.verdicts:
        mark = "✓" if v.valid else "✗"
        out.print(f"  {mark} {v.message}", style=None if v.valid else "red", markup=False)
    out.print(
        Text("may run now", style="bold green") if ok else Text("may not run yet", style="bold red")
    )
    raise typer.Exit(0 if ok else 3)


@policy_app.command("show")
def policy_show(policy_file: Path | None = PolicyOption) -> None:
    """Print the policy in force (a starting point for your own)."""
    path = policy_path(policy_file)
    load_policy(policy_file)  # refuse a broken file here, with its problems named
    text = default_policy_text() if path is None else read_policy_text(path)
    typer.echo(f"# source: {path or 'built-in default'}")
    typer.echo(text, nl=False)
