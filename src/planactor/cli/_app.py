"""The typer application, its consoles, and the one place where errors become exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from functools import cache

import typer
from rich.console import Console
from rich.markup import escape

from planactor import __version__
from planactor._errors import PlanactorError, PlanInvalid
from planactor.catalog import Catalog
from planactor.plan import StepKind

__all__ = ["app", "catalog", "err", "kind_of", "main", "out", "print_problems"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_APPROVAL, EXIT_PAUSED = 0, 1, 2, 3, 4

app = typer.Typer(
    name="planactor",
    help="Planner-actor for infrastructure: plan with an LLM, check, act deterministically.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"planactor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """planactor: an LLM compiles intent into a checked plan; a deterministic engine runs it."""


@cache
def catalog() -> Catalog:
    """The built-in packs plus installed third-party packs, loaded once per process."""
    return Catalog.discover()


def kind_of(name: str) -> StepKind:
    cat = catalog()
    return cat.get(name).kind if name in cat else "unknown"


def print_problems(report_problems: Sequence[object], console: Console = out) -> None:
    from planactor.validate import Problem

    for p in report_problems:
        assert isinstance(p, Problem)
        colour = "red" if p.severity == "error" else "yellow"
        pos = f" (line {p.line}, column {p.column})" if p.line is not None else ""
        console.print(
            f"  [{colour}]{p.severity}[/] [bold]{p.location}[/]{pos}: {p.message} "
            f"[dim]\\[{p.code}][/]",
            markup=True,
        )
        if p.hint:
            console.print(f"      hint: {p.hint}", markup=False, style="dim")


def _report_error(e: PlanactorError) -> None:
    # The message is text, not markup: a `[storage-du]` in it must print as written.
    err.print(f"[red]error:[/] {escape(e.message)}", markup=True)
    if isinstance(e, PlanInvalid):
        print_problems(e.report.problems, err)
    if e.hint:
        err.print(f"  hint: {e.hint}", markup=False)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: run a command and exit with the documented code (docs/cli.md)."""
    try:
        code = app(
            args=list(argv) if argv is not None else None,
            prog_name="planactor",
            standalone_mode=False,
        )
    except PlanactorError as e:
        _report_error(e)
        code = e.exit_code
    except typer.Abort:
        err.print("aborted")
        code = 130
    except typer.TyperException as e:  # usage errors: unknown command, bad option value...
        show = getattr(e, "show", None)
        if callable(show):
            show()
        else:
            err.print(f"error: {e}", markup=False)
        code = EXIT_BAD_INPUT
    except KeyboardInterrupt:
        err.print("interrupted")
        code = 130
    except BrokenPipeError:
        # `planactor schema plan | head`: the reader left; that is not our failure.
        sys.stderr.close()
        code = EXIT_OK
    except Exception as e:
        err.print(f"internal error: {type(e).__name__}: {e}", markup=False)
        if os.environ.get("PLANACTOR_DEBUG"):
            traceback.print_exc()
        else:
            err.print(
                "this is a bug in planactor; PLANACTOR_DEBUG=1 shows the traceback", markup=False
            )
        code = EXIT_FAILED
    sys.exit(code if isinstance(code, int) else EXIT_OK)
