"""`planactor eval planner`: run a planner over a labelled set of intents and report how it did.

The eval reports; it does not gate: it exits 0 whatever the score (2 for a bad set or
option, 1 if the backend cannot be used at all). Every case is planned against a fresh
default storage lab (its inventory, facts and safety check, with the shipped default
policy: never the user's lab or policy, so runs compare) and without the plan cache.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from planactor._reader import LIMITS, load_yaml, read_text
from planactor.catalog import Routine
from planactor.cli._app import app, catalog, err, out
from planactor.cli._lab_context import lab_context
from planactor.cli._plan import PlannerName, composed_ungrounded, ungrounded
from planactor.lab import create_lab
from planactor.plan import Inventory, Plan
from planactor.planner import GroundingNote, get_backend
from planactor.planner._eval import (
    SPLITS,
    CaseResult,
    EvalContext,
    EvalResult,
    EvalSet,
    parse_eval_set,
    run_eval,
)
from planactor.policy import default_policy_text, parse_policy
from planactor.validate import AllOf

__all__ = ["DEFAULT_SET", "check_ungrounded", "default_eval_set", "storage_eval_context"]

DEFAULT_SET = Path("evals") / "planner.yaml"

eval_app = typer.Typer(
    name="eval",
    help="Measure a planner against a labelled set of intents (reports; never gates).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(eval_app)


def check_ungrounded(
    plan: Plan, routine: Routine | None, notes: Sequence[GroundingNote], inventory: Inventory | None
) -> list[tuple[str, str, Any]]:
    """The values `planactor plan` flags as ungrounded, for a routine or a composed plan."""
    if routine is not None:
        return ungrounded(plan, routine, notes, inventory)
    return composed_ungrounded(plan, inventory)


def storage_eval_context(directory: Path, *, kind: str = "storage") -> EvalContext:
    """A fresh default lab of `kind` in `directory` (storage unless a case says `lab:
    network`): its inventory and facts, and the shipped default policy joined with the
    lab's safety check."""
    path = directory / f"{kind}-lab.json"
    create_lab(path, kind=kind, scenario="default", latency_ms=0, overwrite=True)
    ctx = lab_context(path, required=True)
    assert ctx is not None  # required=True: a lab or an InputError
    policy = parse_policy(default_policy_text(), source="default policy")
    return EvalContext(
        catalog=catalog(),
        inventory=ctx.inventory,
        facts=ctx.facts,
        policy=AllOf(policy, ctx.safety),
    )


def _read_eval_set(path: Path) -> EvalSet:
    """An eval set file through the bounded, strict reader (planactor._reader)."""
    text = read_text(
        path,
        what="eval set",
        max_bytes=LIMITS.eval_set,
        label="cannot read the eval set",
        missing="no such eval set",
    )
    load_yaml(text, source=str(path), what="eval set")  # no tags, deep nesting or alias bombs
    return parse_eval_set(text, source=str(path))


def default_eval_set() -> EvalSet:
    """`evals/planner.yaml` under the current directory if there is one, else the shipped copy."""
    if DEFAULT_SET.is_file():
        return _read_eval_set(DEFAULT_SET)
    shipped = files("planactor._evals").joinpath("planner.yaml")
    return parse_eval_set(shipped.read_text("utf-8"), source=f"{shipped} (shipped)")


@eval_app.command("planner")
def eval_planner(
    planner: PlannerName = typer.Option(
        PlannerName.local,
        "--planner",
        help="local (offline llama.cpp), openai, anthropic, or routine (no model).",
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        help="local: a GGUF file, smollm2 or gemma3-270m ($PLANACTOR_MODEL); hosted: model id.",
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", help="openai/anthropic: the server (e.g. vLLM, Ollama, llama.cpp)."
    ),
    set_file: Path | None = typer.Option(
        None,
        "--set",
        help="The labelled set (default: ./evals/planner.yaml, else the copy planactor ships).",
    ),
    limit: int | None = typer.Option(None, "--limit", help="Only the first N cases."),
    as_json: bool = typer.Option(False, "--json", help="Print every case and the summary."),
) -> None:
    """Plan every intent of a labelled set; report exact match, validity, ungrounded values,
    latency and tokens, and list the failures."""
    eval_set = _read_eval_set(set_file) if set_file is not None else default_eval_set()
    backend = (
        None
        if planner is PlannerName.routine
        else get_backend(planner.value, model=model, base_url=base_url)
    )
    n = min(limit, len(eval_set.cases)) if limit is not None and limit > 0 else len(eval_set.cases)
    with (
        tempfile.TemporaryDirectory(prefix="planactor-eval-") as tmp,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=True,
            disable=as_json or not err.is_terminal,
        ) as progress,
    ):
        task = progress.add_task(f"eval {planner.value}", total=n)

        def advance(result: CaseResult) -> None:
            progress.update(task, advance=1, description=f"eval {planner.value}: {result.case.id}")

        kinds = {c.lab for c in eval_set.cases} - {"storage"}
        result = run_eval(
            eval_set,
            context=storage_eval_context(Path(tmp)),
            labs={k: storage_eval_context(Path(tmp), kind=k) for k in sorted(kinds)},
            backend=backend,
            check_ungrounded=check_ungrounded,
            limit=limit,
            on_case=advance,
        )
    if as_json:
        out.print_json(data=result.to_document())
        return
    _print(result)


def _print(result: EvalResult) -> None:
    failures = result.failures
    if failures:
        table = Table(title=f"{len(failures)} failure(s)", title_justify="left")
        for col in ("case", "split", "intent", "expected", "got"):
            table.add_column(col, overflow="fold", no_wrap=col in ("case", "split"))
        for c in failures:
            got = ("WRONG PLAN: " if c.wrong_plan else "") + c.got
            table.add_row(c.case.id, c.case.split, c.case.intent, c.expected, got)
        out.print(table)
    planner = result.planner + (f" ({result.model})" if result.model else "")
    validity = (
        f"{result.validity:.1%} ({result.valid}/{result.produced} plans)"
        if result.validity is not None
        else "n/a (no plans)"
    )
    out.print(f"set {result.source}: {result.total} cases, planner {planner}", markup=False)
    score = Text(f"exact match {result.exact_match:.1%} ({result.matched}/{result.total})")
    score.stylize("bold green" if result.matched == result.total else "bold yellow")
    out.print(score)
    wrong = Text(f"wrong plans {result.wrong_plans}")
    wrong.stylize("bold green" if result.wrong_plans == 0 else "bold red")
    out.print(wrong)
    for name in SPLITS:
        part = result.split(name)
        if part.total:
            out.print(
                f"  {name}: exact match {part.exact_match:.1%} ({part.matched}/{part.total}), "
                f"wrong plans {part.wrong_plans}",
                markup=False,
            )
    out.print(f"validity {validity}", markup=False)
    out.print(
        f"ungrounded values {result.ungrounded} in {result.plans_with_ungrounded} plan(s)",
        markup=False,
    )
    out.print(
        f"median latency {result.median_latency_s * 1000:.1f} ms; median tokens "
        f"{result.median_tokens_in:g} in, {result.median_tokens_out:g} out; total "
        f"{result.tokens_in} in, {result.tokens_out} out; model calls {result.calls}"
        + (f" ({result.failed_calls} failed)" if result.failed_calls else ""),
        markup=False,
    )
    model_cases = result.with_calls
    if model_cases:
        out.print(
            f"the {len(model_cases)} case(s) that asked the model: median latency "
            f"{statistics.median(c.latency_s for c in model_cases) * 1000:.1f} ms, median "
            f"tokens {statistics.median(c.tokens_in for c in model_cases):g} in, "
            f"{statistics.median(c.tokens_out for c in model_cases):g} out",
            markup=False,
        )
    tags = ", ".join(f"{t} {hit}/{n}" for t, (hit, n) in result.by_tag().items())
    out.print(f"by tag: {tags}", markup=False)
    wrong_tags = result.wrong_by_tag()
    if wrong_tags:
        out.print(
            "wrong plans by tag: " + ", ".join(f"{t} {n}" for t, n in wrong_tags.items()),
            markup=False,
        )
