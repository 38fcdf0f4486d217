"""`planactor ask "QUESTION"`: a read-only diagnosis loop over the catalog's read actors."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer
from rich.text import Text

from planactor._home import default_journal
from planactor.cli._app import app, catalog, out
from planactor.cli._lab_context import LabOption, lab_context
from planactor.harness import DEFAULT_MAX_STEPS, DEFAULT_MAX_TOKENS, AskResult, ask
from planactor.journal import Journal
from planactor.planner import get_backend

_VERDICT_STYLE = {"supported": "bold green", "unsupported": "bold yellow", "undecided": "bold red"}


class AskPlanner(StrEnum):
    local = "local"
    openai = "openai"
    anthropic = "anthropic"


@app.command("ask")
def ask_cmd(
    question: str = typer.Argument(..., help='e.g. "is any host of array-02 down to one path?"'),
    planner: AskPlanner = typer.Option(
        AskPlanner.local, "--planner", help="local (offline llama.cpp), openai, or anthropic."
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        help="local: a GGUF file, smollm2 or gemma3-270m ($PLANACTOR_MODEL); hosted: model id.",
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", help="openai/anthropic: the server (e.g. vLLM, Ollama, llama.cpp)."
    ),
    lab: Path | None = LabOption,
    max_steps: int = typer.Option(
        DEFAULT_MAX_STEPS, "--max-steps", min=1, max=50, help="At most this many reads."
    ),
    max_tokens: int = typer.Option(
        DEFAULT_MAX_TOKENS, "--max-tokens", min=1, help="Token budget of all model turns."
    ),
    db: Path | None = typer.Option(
        None, "--db", help="Journal file (default: $PLANACTOR_HOME/journal.db)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the transcript as JSON."),
) -> None:
    """Answer a question from read-only observations (never changes anything).

    Exit 0 when the answer cites the observations it rests on; 1 when it cites none
    (unsupported) or no answer was reached (undecided).
    """
    ctx = lab_context(lab)
    backend = get_backend(planner.value, model=model, base_url=base_url)
    with Journal(db or default_journal()) as journal:
        result = ask(
            question,
            backend=backend,
            catalog=catalog(),
            journal=journal,
            inventory=ctx.inventory if ctx else None,
            resources=ctx.resources if ctx else None,
            max_steps=max_steps,
            max_tokens=max_tokens,
        )
    if as_json:
        out.print_json(json.dumps(result.to_document()))
    else:
        _print(result)
    raise typer.Exit(result.exit_code)


def _print(r: AskResult) -> None:
    out.print(Text(f"question: {r.question}", style="bold"))
    observed = {o.id: o for o in r.observations}
    by_turn = iter(r.observations)
    for t in r.turns:
        if t.choice == "action":
            o = next(by_turn, None)
            line = Text(f"  {t.turn}. {t.action} {json.dumps(t.args, sort_keys=True)}")
            if o is not None:
                style = "green" if o.status == "succeeded" else "red"
                line.append(f"  -> [{o.id}] {o.status}", style=style)
                if o.error:
                    line.append(f": {o.error}", style="dim")
            out.print(line)
        elif t.choice == "invalid":
            out.print(Text(f"  {t.turn}. invalid output: {t.problem}", style="yellow"))
    out.print(Text(f"{r.verdict}: ", style=_VERDICT_STYLE[r.verdict]), end="")
    out.print(r.answer if r.answer is not None else "(no answer)", markup=False)
    for c in r.cites:
        o = observed[c]
        out.print(f"  cites [{c}] {o.actor} {json.dumps(o.args, sort_keys=True)}", markup=False)
    if r.reason:
        out.print(Text(f"  {r.reason}", style="dim"))
    out.print(
        f"{r.backend} {r.model}: {len(r.turns)} turns, {r.tokens_in} tokens in, "
        f"{r.tokens_out} out, {r.latency_s:.1f} s; transcript: planactor audit {r.run_id}",
        markup=False,
    )
