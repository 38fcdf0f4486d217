"""The typer application, its consoles, and the one place where errors become exit codes."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_group_from_info

from planactor import __version__
from planactor._errors import InputError, PlanactorError, PlanInvalid

if TYPE_CHECKING:
    from planactor.catalog import Catalog
    from planactor.plan import StepKind

__all__ = ["app", "catalog", "err", "kind_of", "lazy_commands", "main", "out", "print_problems"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_APPROVAL, EXIT_PAUSED = 0, 1, 2, 3, 4


class _LazyGroup(TyperGroup):
    """The root group: a command's module is imported when that command runs (or its
    `--help` is asked), not at start-up; `planactor --help` lists the commands from the
    table in `planactor.cli` without importing any of them."""

    def list_commands(self, _ctx: Any) -> list[str]:
        return sorted(set(self.commands) | set(_LAZY))

    def get_command(self, _ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in _LAZY:
            importlib.import_module(f"planactor.cli.{_LAZY[cmd_name][0]}")
            self._adopt()
        return self.commands.get(cmd_name)

    def _adopt(self) -> None:
        """Turn the commands that imported modules registered on `app` into click commands."""
        settings = {
            "pretty_exceptions_short": app.pretty_exceptions_short,
            "rich_markup_mode": app.rich_markup_mode,
        }
        for info in app.registered_commands:
            name = info.name or (info.callback.__name__.replace("_", "-") if info.callback else "")
            if name not in self.commands:
                command = get_command_from_info(info, **settings)  # type: ignore[arg-type]
                self.commands[command.name or name] = command
        for group_info in app.registered_groups:
            group = get_group_from_info(
                group_info,
                suggest_commands=app.suggest_commands,
                **settings,  # type: ignore[arg-type]
            )
            if not group.name:  # `add_typer` without a name: its commands join the root
                for name, command in group.commands.items():
                    self.commands.setdefault(name, command)
            elif group.name not in self.commands:
                self.commands[group.name] = group

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            loaded = self.commands.get(name)
            if loaded is not None:
                if loaded.hidden:
                    continue
                rows.append((name, loaded.get_short_help_str(formatter.width - 16)))
            else:
                rows.append((name, _LAZY[name][1]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


# Command name -> (module under planactor.cli, one-line help); filled by `lazy_commands`.
_LAZY: dict[str, tuple[str, str]] = {}


def lazy_commands(table: Mapping[str, tuple[str, str]]) -> None:
    """Register commands by name: each module is imported when its command is used."""
    _LAZY.update(table)


app = typer.Typer(
    cls=_LazyGroup,
    name="planactor",
    help="Planner-actor for infrastructure: plan with an LLM, check, act deterministically.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _Console(Console):
    """Rich exits 1 when its reader left (`on_broken_pipe`); `main` decides the code instead."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


out = _Console(highlight=False, soft_wrap=True)
err = _Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"planactor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(  # noqa: ARG001 - its eager callback does the work
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    packs: list[Path] = typer.Option(
        [],
        "--pack",
        metavar="DIR",
        help="Also load the declarative pack in DIR (its pack.yaml); repeatable.",
    ),
) -> None:
    """planactor: an LLM compiles intent into a checked plan; a deterministic engine runs it."""
    if packs:
        _add_packs(packs)


def _add_packs(folders: Sequence[Path]) -> None:
    # Exported, like --lab: whatever loads a catalog in this process (or a child) sees them.
    from planactor.catalog import PACKS_ENV

    given = [str(p.expanduser().resolve()) for p in folders]
    before = os.environ.get(PACKS_ENV, "")
    os.environ[PACKS_ENV] = os.pathsep.join([*given, *([before] if before else [])])
    catalog.cache_clear()


@cache
def catalog() -> Catalog:
    """The built-in packs plus installed third-party packs, loaded once per process."""
    from planactor.catalog import Catalog

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
        code = e.exit_code
        _safely(_report_error, e)
    except typer.Abort:
        code = 130
        _safely(err.print, "aborted")
    except typer.TyperException as e:  # usage errors: unknown command, bad option value...
        code = EXIT_BAD_INPUT
        _safely(_report_usage, e)
    except KeyboardInterrupt:
        code = 130
        _safely(err.print, "interrupted")
    except BrokenPipeError:
        # `planactor schema plan | head`: the reader left; that is not our failure.
        code = EXIT_OK
        _silence()
    except sqlite3.DatabaseError as e:
        # Opening checks the journal (journal/_open.py); damage deeper in the file shows
        # only when a page is read.
        code = EXIT_BAD_INPUT
        _safely(
            _report_error,
            InputError(
                f"the journal's database failed: {e}",
                hint="`sqlite3 FILE 'PRAGMA quick_check'` says where; keep a copy, then "
                "restore the journal from a backup or move it aside",
            ),
        )
    except Exception as e:
        code = EXIT_FAILED
        _safely(_report_bug, e)
    # Flushed here, not at interpreter exit, where a reader that left turns any code into 120.
    _safely(sys.stdout.flush)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _report_usage(e: typer.TyperException) -> None:
    show = getattr(e, "show", None)
    if callable(show):
        show()
    else:
        err.print(f"error: {e}", markup=False)


def _report_bug(e: Exception) -> None:
    err.print(f"internal error: {type(e).__name__}: {e}", markup=False)
    if os.environ.get("PLANACTOR_DEBUG"):
        traceback.print_exc()
    else:
        err.print("this is a bug in planactor; PLANACTOR_DEBUG=1 shows the traceback", markup=False)


def _safely(write: Callable[..., object], *args: object) -> None:
    """Print the answer; a reader that left (`2>&1 | head -1`) must not change the exit code."""
    try:
        write(*args)
    except BrokenPipeError:
        _silence()


def _silence() -> None:
    """Point stdout and stderr at /dev/null: what is still buffered for a closed pipe would
    fail again when Python flushes it at exit (the documented way, Python's signal docs)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            # Not a real file (a test's capture): nothing will flush into a pipe then.
            with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
                os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)
