"""Run the `planactor` command in this process, in a home of its own, and keep what it said."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["OUTSIDE_ENV", "CliResult", "CliRunner"]

# What a user's environment could set that would change what a command does; a runner
# clears them so that a test sees the defaults unless it sets one on purpose.
OUTSIDE_ENV: tuple[str, ...] = (
    "PLANACTOR_LAB",
    "PLANACTOR_PACKS",
    "PLANACTOR_MODEL",
    "PLANACTOR_POLICY",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "PLANACTOR_OPENAI_MODEL",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CliResult:
    """What one command did: its exit code (docs/cli.md) and what it printed."""

    exit_code: int
    stdout: str
    stderr: str


class CliRunner:
    """Runs `planactor ARGV` as the console script does (same error handling, same exit
    codes), with PLANACTOR_HOME set to `home` and the variables in OUTSIDE_ENV cleared; the
    process environment is restored after each command. `env` sets variables for every
    command of this runner (None removes one)."""

    def __init__(
        self, *, home: str | os.PathLike[str], env: Mapping[str, str | None] | None = None
    ) -> None:
        self.home = Path(home)
        self.env = dict(env or {})

    def run(
        self, *argv: str, input: str | None = None, env: Mapping[str, str | None] | None = None
    ) -> CliResult:
        """Run one command; `input` is its stdin, `env` adds variables for this command."""
        # Imported on use: the engine benchmark (under the CLI) and the CLI's catalog load
        # planactor.testing's actors, which must not pull the whole CLI in, nor in a cycle.
        from click.testing import CliRunner as ClickRunner

        from planactor.cli import main

        overrides: dict[str, str | None] = dict.fromkeys(OUTSIDE_ENV)
        overrides |= {"PLANACTOR_HOME": str(self.home), **self.env, **(env or {})}
        # Isolation swaps stdin/stdout/stderr and restores every variable named in overrides,
        # including one the command sets itself (`--lab` exports PLANACTOR_LAB).
        with ClickRunner().isolation(input=input, env=overrides) as (out, err, _):
            try:
                main(list(argv))
            except SystemExit as e:
                code = e.code
            else:  # main always exits; reaching here would be a bug in main
                raise AssertionError("planactor.cli.main returned without exiting")
            stdout, stderr = _text(out.getvalue()), _text(err.getvalue())
        if not isinstance(code, int):
            raise AssertionError(f"planactor exited with {code!r}, not an exit code")
        return CliResult(exit_code=code, stdout=stdout, stderr=stderr)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "backslashreplace")
