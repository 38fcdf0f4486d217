"""`planactor bench NAME [ARGS...]`: run a benchmark; its own options follow its name."""

from __future__ import annotations

import typer

from planactor.bench import BENCHMARKS, run_benchmark
from planactor.cli._app import app

_LIST = "; ".join(f"{name}: {what}" for name, (_, what) in BENCHMARKS.items())


@app.command(
    "bench",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    help=f"Run a benchmark ({_LIST}). Options after the name go to the benchmark "
    "(`planactor bench engine -- --help`).",
)
def bench_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help=f"One of: {', '.join(BENCHMARKS)}."),
) -> None:
    raise typer.Exit(run_benchmark(name, ctx.args))
