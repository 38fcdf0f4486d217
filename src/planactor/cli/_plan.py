"""`planactor plan "INTENT"`: intent in, a validated, grounded, reviewable plan out."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from planactor._errors import AmbiguousRoutine, InputError
from planactor._files import save_plan
from planactor._home import home
from planactor.catalog import Routine
from planactor.cli._app import app, catalog, err, kind_of, out
from planactor.cli._approve import PolicyOption
from planactor.cli._clarify import Answer, ask, interactive, question_for
from planactor.cli._lab_context import LabOption, lab_context
from planactor.cli._layout import print_plan
from planactor.cli._validate import load_inventory
from planactor.plan import Inventory, Plan
from planactor.planner import (
    GroundingNote,
    LLMPlanner,
    NotPlanned,
    Question,
    RoutinePlanner,
    get_backend,
    ungrounded_values,
    which_routine,
)
from planactor.policy import load_policy
from planactor.validate import AllOf

_SOURCE_STYLE = {"intent": "green", "default": "dim", "fuzzy": "yellow"}


class PlannerName(StrEnum):
    local = "local"
    openai = "openai"
    anthropic = "anthropic"
    routine = "routine"


def requester() -> str:
    """Who is asking: $PLANACTOR_USER, else the login name."""
    name = os.environ.get("PLANACTOR_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """`--param NAME=VALUE`: VALUE as JSON when it parses (numbers, lists), else a string."""
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(
                f"--param {pair!r} is not NAME=VALUE", hint="e.g. --param version=5.2.1"
            )
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        params[name.strip()] = value
    return params


def ungrounded(
    plan: Plan,
    routine: Routine,
    notes: Sequence[GroundingNote],
    inventory: Inventory | None,
    facts: Mapping[str, Any] | None = None,
) -> list[tuple[str, str, Any]]:
    """(step, path, value) for every argument value that comes from nowhere we trust: not
    the intent, not the inventory or the lab's facts, not the routine's text or defaults."""
    trusted: list[Any] = [p.default for p in routine.params.values() if p.default is not None]
    trusted += _leaves(facts or {})
    trusted += [n.value for n in notes if n.value is not None and n.source != "model"]

    def literals(value: Any) -> None:  # values written in the tested routine itself
        if isinstance(value, dict):
            if not (len(value) == 1 and next(iter(value)).startswith("$")):
                for v in value.values():
                    literals(v)
        elif isinstance(value, list):
            for v in value:
                literals(v)
        else:
            trusted.append(value)

    for t in routine.steps:
        literals(t.args)
    return [
        (step.id, f"args.{where}", value)
        for step in plan.steps
        for where, value in ungrounded_values(step.args, plan.intent, inventory, trusted)
    ]


def _leaves(value: Any) -> list[Any]:
    """Every scalar inside a facts document (sizes, names, versions the lab reports)."""
    if isinstance(value, Mapping):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


def composed_ungrounded(plan: Plan, inventory: Inventory | None) -> list[tuple[str, str, Any]]:
    """In a composed plan, only the intent and the inventory ground a value."""
    return [
        (step.id, f"args.{where}", value)
        for step in plan.steps
        for where, value in ungrounded_values(step.args, plan.intent, inventory, [])
    ]


@app.command("plan")
def plan_cmd(
    intent: str = typer.Argument(..., help='What you want done, e.g. "upgrade array-01 to 5.2.1".'),
    planner: PlannerName = typer.Option(
        PlannerName.local,
        "--planner",
        help="local (offline llama.cpp), openai (any compatible server), anthropic, or "
        "routine (no model: tested templates grounded by code).",
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        help="local: a GGUF file, smollm2 or gemma3-270m ($PLANACTOR_MODEL); hosted: model id.",
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", help="openai/anthropic: the server (e.g. vLLM, Ollama, llama.cpp)."
    ),
    compose: bool = typer.Option(
        False, "--compose", help="Compose from actors instead of using a routine (novel plan)."
    ),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Plan afresh; do not reuse a cached plan."
    ),
    lab: Path | None = LabOption,
    inventory: Path | None = typer.Option(
        None, "--inventory", help="JSON file: entity kind -> names (when there is no lab)."
    ),
    routine: str | None = typer.Option(None, "--routine", help="Use this routine."),
    param: list[str] = typer.Option([], "--param", help="NAME=VALUE, overriding grounding."),
    requested_by: str | None = typer.Option(
        None, "--requested-by", help="Requester (default: $PLANACTOR_USER or your login)."
    ),
    ticket: str | None = typer.Option(None, "--ticket", help="Change ticket, e.g. CHG-123."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the plan here."),
    policy_file: Path | None = PolicyOption,
    as_json: bool = typer.Option(False, "--json", help="Print the plan and notes as JSON."),
    wide: bool = typer.Option(
        False, "--wide", "-w", help="Every argument in full, however wide the lines."
    ),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="Refuse (exit 2) when the plan would not cover every clause of the intent.",
    ),
) -> None:
    """Compile an intent into a plan: choose a routine, ground it, expand it, validate it.

    A clause the plan does not cover is reported as `not planned: "..."` with the reason;
    with --strict it is a refusal instead. With --json, an intent one value away from a plan
    exits 2 with the question and its candidates on stdout."""
    again = dict(locals())  # this command's arguments, to plan again once a question is answered
    ctx = lab_context(lab)
    inv = load_inventory(inventory) if inventory is not None else (ctx.inventory if ctx else None)
    facts = ctx.facts if ctx else None
    policy = AllOf(load_policy(policy_file), ctx.safety if ctx else None)
    who = requested_by or requester()
    # A plan made from a lab records the facts it relied on, so `run` can tell it is stale.
    basis = ctx.basis if ctx else None
    if planner is PlannerName.routine or routine is not None or param:
        if compose:
            raise InputError("--compose needs a model", hint="use --planner local (the default)")
        try:
            result = RoutinePlanner(
                catalog=catalog(), inventory=inv, facts=facts, policy=policy, basis=basis
            ).plan(
                intent,
                requested_by=who,
                change_ticket=ticket,
                routine=routine,
                params=parse_params(param),
            )
        except InputError as e:
            if routine is None and not param:
                answer = _clarify(intent, inv, facts, e, as_json=as_json)
                if answer is not None:  # planned again, the answer grounded and validated
                    plan_cmd(**{**again, "routine": answer.routine, "param": answer.params})
                    return
            raise
        _strict(strict, result.not_planned)
        _report(
            plan=result.plan,
            plan_hash=result.report.plan_hash,
            routine=result.chosen.routine,
            notes=result.chosen.grounding.notes,
            warnings=[p.to_document() for p in result.report.warnings],
            extra_warnings=[],
            flagged=ungrounded(
                result.plan, result.chosen.routine, result.chosen.grounding.notes, inv
            ),
            output=output,
            as_json=as_json,
            cached=False,
            not_planned=result.not_planned,
            wide=wide,
        )
        return
    llm = LLMPlanner(
        catalog=catalog(),
        backend=get_backend(planner.value, model=model, base_url=base_url),
        inventory=inv,
        facts=facts,
        policy=policy,
        cache_dir=None if no_cache else home() / "cache" / "plans",
        basis=basis,
    )
    try:
        got = llm.plan(intent, requested_by=who, change_ticket=ticket, compose=compose)
    except InputError as e:
        if not compose:
            answer = _clarify(intent, inv, facts, e, as_json=as_json)
            if answer is not None:  # the routine planner takes it from here: nothing is left
                plan_cmd(  # for the model to decide
                    **{**again, "planner": PlannerName.routine, "routine": answer.routine,
                       "param": answer.params}
                )  # fmt: skip
                return
        raise
    _strict(strict, got.not_planned)
    notes = got.grounding.notes if got.grounding is not None else ()
    flagged = (
        ungrounded(got.plan, got.routine, notes, inv, facts)
        if got.routine is not None
        else composed_ungrounded(got.plan, inv)
    )
    _report(
        plan=got.plan,
        plan_hash=got.report.plan_hash,
        routine=got.routine,
        notes=notes,
        warnings=[p.to_document() for p in got.report.warnings],
        extra_warnings=list(got.warnings),
        flagged=flagged,
        output=output,
        as_json=as_json,
        cached=got.cached,
        not_planned=got.not_planned,
        wide=wide,
    )


def _clarify(
    intent: str,
    inv: Inventory | None,
    facts: Mapping[str, Any] | None,
    error: InputError,
    *,
    as_json: bool,
) -> Answer | None:
    """An intent one value away from a plan: the question, asked at a terminal (the answer,
    or None when it was not given), or printed as JSON for a program (then None: the error
    follows on stderr, with exit 2)."""
    if isinstance(error, AmbiguousRoutine):  # which routine: the one thing left to say
        question: Question | None = which_routine(catalog().routines, error.routines)
    else:
        question = question_for(intent, inv, facts)
    if question is None:
        return None
    if interactive(as_json):
        err.print(f"{error.message}", markup=False, style="yellow")
        return ask(question)
    if as_json:
        out.print_json(json.dumps({"error": error.message, **question.to_document()}))
    return None


def _strict(strict: bool, not_planned: Sequence[NotPlanned]) -> None:
    if strict and not_planned:
        raise InputError(
            "the plan would not cover every part of the intent (--strict):\n  "
            + "\n  ".join(f'not planned: "{n.clause}": {n.reason}' for n in not_planned),
            hint="plan each part separately, or drop --strict to plan the part that is covered",
        )


_MORE = "full arguments: --wide, --json, or `planactor show PLAN --format json`"


def _report(
    *,
    plan: Plan,
    plan_hash: str | None,
    routine: Routine | None,
    notes: Sequence[GroundingNote],
    warnings: list[dict[str, Any]],
    extra_warnings: list[str],
    flagged: list[tuple[str, str, Any]],
    output: Path | None,
    as_json: bool,
    cached: bool,
    not_planned: Sequence[NotPlanned] = (),
    wide: bool = False,
) -> None:
    if output is not None:
        save_plan(plan, output)
    info = plan.planner.model_dump(mode="json") if plan.planner else None
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "plan_hash": plan_hash,
                    "routine": routine.name if routine else None,
                    "novel": routine is None,
                    "cached": cached,
                    "plan": plan.to_document(),
                    "planner": info,
                    "grounding": [
                        {"param": n.param, "value": n.value, "source": n.source, "detail": n.detail}
                        for n in notes
                    ],
                    "ungrounded": [{"step": s, "path": p, "value": v} for s, p, v in flagged],
                    "warnings": [*warnings, *({"message": w} for w in extra_warnings)],
                    "not_planned": [n.to_document() for n in not_planned],
                    "written_to": str(output) if output else None,
                }
            )
        )
        return
    print_plan(out, plan, kind_of, title=plan.intent, wide=wide, more=_MORE)
    out.print(f"plan hash {plan_hash}", markup=False)
    if routine is not None:
        out.print(f"routine {routine.name}, {len(plan.steps)} steps", markup=False)
    else:
        out.print(
            Text(
                f"composed from actors ({len(plan.steps)} steps): NOVEL, needs approval",
                style="bold yellow",
            )
        )
    if info is not None:
        model = f" {info.get('model')}" if info.get("model") else ""
        out.print(
            f"planner {info['backend']}{model}: {info.get('tokens_in', 0)} tokens in, "
            f"{info.get('tokens_out', 0)} out, {info.get('latency_s', 0)} s, "
            f"${info.get('cost_usd', 0)}, attempts {info.get('attempts', 1)}"
            + (" (cached)" if cached else ""),
            markup=False,
        )
    for n in notes:
        line = Text(f"  {n.param} = {json.dumps(n.value)}  ")
        line.append(f"[{n.source}] {n.detail}", style=_SOURCE_STYLE.get(n.source, ""))
        out.print(line)
    if flagged:
        out.print(Text("ungrounded values (check them in review):", style="bold yellow"))
        for s, p, v in flagged:
            out.print(f"  {s}.{p} = {json.dumps(v)}", markup=False)
    for skipped in not_planned:
        line = Text(f'not planned: "{skipped.clause}"', style="bold yellow")
        line.append(f" ({skipped.reason})", style="yellow")
        out.print(line)
    for text in extra_warnings:
        out.print(Text(f"warning: {text}", style="yellow"))
    for problem in warnings:
        out.print(
            Text(
                f"warning {problem.get('location', '')}: {problem.get('message', '')}",
                style="yellow",
            )
        )
    if output is not None:
        out.print(
            f"written to {output}; next: `planactor approve {output} --as NAME`", markup=False
        )
