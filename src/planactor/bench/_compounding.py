"""Compounding error: a pure-LLM executor next to planner-actor on the storage firmware upgrade.

    planactor bench compounding [--controllers react,planner-actor] [--trials 20]
        [--sizes 1,2,4,8] [--faults] [--planner local|openai|anthropic] [--model M]
        [--base-url URL] [--budget-factor 2] [--json] [--out DIR] [--resume]

Each size is a number of hosts on the upgraded array; the routine's workflow is
2 x hosts + 5 steps long. Per size, `--trials` fresh labs (`_compounding_trial`) are
upgraded by each controller. The per-step accuracy p of the pure-LLM executor (its actions
that were a ready step of the routine's plan, over all its actions) gives the analytic
end-to-end success p^n; the chart puts the measured success rates beside p^n for p = 0.95,
0.99 and the measured p. Trials are appended to `<out>/compounding_<planner>_<model>.jsonl`
as they finish (`--resume` continues), the summary goes to the `.csv`, the chart to the `.png`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from planactor._errors import InputError
from planactor.bench._compounding_report import render, summarize, write_chart, write_csv
from planactor.bench._compounding_trial import (
    BASE_SEED,
    CONTROLLERS,
    Trial,
    make_setup,
    run_trial,
)
from planactor.bench._sweep_files import choices, drop_partial_line, positive, read_records, slug
from planactor.catalog import Catalog
from planactor.planner import BACKENDS, Backend, get_backend

__all__ = ["DEFAULT_SIZES", "DEFAULT_TRIALS", "main", "run_sweep"]

DEFAULT_SIZES = (1, 2, 4, 8)
DEFAULT_TRIALS = 20
DEFAULT_OUT = Path("bench-results")


def _controllers(text: str) -> tuple[str, ...]:
    return choices(text, CONTROLLERS, "controller")


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"sizes are host counts like 1,2,4: not {text!r}"
        ) from None
    if any(not 1 <= s <= 64 for s in sizes):
        raise argparse.ArgumentTypeError("every size is 1 to 64 hosts")
    return tuple(dict.fromkeys(sizes))


def run_sweep(
    *,
    controllers: Sequence[str],
    sizes: Sequence[int],
    trials: int,
    backend: Backend,
    jsonl: Path,
    resume: bool,
    console: Console,
    faults: bool = False,
    budget_factor: int = 2,
    timeout_s: float = 300.0,
    base_seed: int = BASE_SEED,
) -> list[Trial]:
    """Every (size, trial, controller), skipping what the JSONL has when resuming; the
    controllers take turns on each lab setup, so passing load falls on both alike."""
    plan = [(h, t, c) for h in sizes for t in range(trials) for c in controllers]
    done: dict[tuple[str, int, int], Trial] = {}
    if resume:
        drop_partial_line(jsonl)
        for tr in read_records(jsonl, Trial.from_document):
            if (tr.controller, tr.hosts, tr.trial) in {(c, h, t) for h, t, c in plan}:
                if tr.backend != backend.name or tr.faults != faults:
                    raise InputError(
                        f"{jsonl} holds {tr.backend} trials with faults={tr.faults}; this run"
                        f" asks {backend.name} with faults={faults}",
                        hint="resume with the same options, or use another --out",
                    )
                done[tr.key] = tr
    jsonl.parent.mkdir(parents=True, exist_ok=True)
    catalog = Catalog.discover()
    todo = [(h, t, c) for h, t, c in plan if (c, h, t) not in done]
    with (
        tempfile.TemporaryDirectory(prefix="planactor-compounding-") as work,
        jsonl.open("a" if resume else "w", encoding="utf-8") as sink,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
        ) as progress,
    ):
        task = progress.add_task("trials", total=len(plan), completed=len(done))
        for hosts, t, controller in todo:
            progress.update(task, description=f"{controller} hosts={hosts} trial={t}")
            trial = run_trial(
                controller,
                make_setup(hosts, t, base_seed),
                backend=backend,
                catalog=catalog,
                workdir=Path(work),
                faults=faults,
                budget_factor=budget_factor,
                timeout_s=timeout_s,
            )
            sink.write(json.dumps(trial.to_document()) + "\n")
            sink.flush()
            done[trial.key] = trial
            progress.advance(task)
        progress.update(task, description="trials")
    return [done[(c, h, t)] for h, t, c in plan]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="planactor bench compounding", description=(__doc__ or "").split("\n\n", 1)[0]
    )
    p.add_argument(
        "--controllers",
        type=_controllers,
        default=CONTROLLERS,
        help=f"comma list of {', '.join(CONTROLLERS)} (both)",
    )
    p.add_argument(
        "--sizes", type=_sizes, default=DEFAULT_SIZES, help="hosts on the array (1,2,4,8)"
    )
    p.add_argument("--trials", type=positive, default=DEFAULT_TRIALS, help="labs per size (20)")
    p.add_argument("--faults", action="store_true", help="inject a lab fault in every trial")
    p.add_argument("--planner", choices=BACKENDS, default="local", help="LLM backend (local)")
    p.add_argument("--model", default=None, help="GGUF path (local) or model id (hosted)")
    p.add_argument("--base-url", default=None, help="an OpenAI-compatible server's URL")
    p.add_argument(
        "--budget-factor",
        type=positive,
        default=2,
        help="the pure-LLM executor's step budget, in workflow lengths (2)",
    )
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per model call (300)")
    p.add_argument("--json", action="store_true", help="print the summary rows as JSON")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder (bench-results)")
    p.add_argument("--resume", action="store_true", help="continue the sweep its JSONL records")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(argv) if argv is not None else None)
    if not args.timeout > 0:
        raise InputError("--timeout must be positive")
    backend = get_backend(args.planner, model=args.model, base_url=args.base_url)
    stem = args.out / (
        f"compounding{'-faults' if args.faults else ''}_{args.planner}_"
        f"{slug(backend.model or args.model or 'default')}"
    )
    jsonl, csv_path, png = (stem.with_suffix(s) for s in (".jsonl", ".csv", ".png"))
    out = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 150)
    err = Console(file=sys.stderr, width=None if sys.stderr.isatty() else 150)
    trials = run_sweep(
        controllers=args.controllers,
        sizes=args.sizes,
        trials=args.trials,
        backend=backend,
        jsonl=jsonl,
        resume=args.resume,
        console=err,
        faults=args.faults,
        budget_factor=args.budget_factor,
        timeout_s=args.timeout,
    )
    rows = summarize(trials)
    write_csv(rows, csv_path)
    write_chart(
        rows,
        png,
        title=f"compounding: {args.trials} labs per size, {backend.name} {backend.model}"
        + (", faults injected" if args.faults else ""),
    )
    if args.json:
        print(json.dumps([r.to_document() for r in rows], indent=2))
    else:
        render(out, rows)
    (err if args.json else out).print(f"results: {jsonl}, {csv_path}, {png}")
    return 0
