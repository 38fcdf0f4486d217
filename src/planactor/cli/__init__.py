"""The `planactor` command line. Commands live in one module per group; errors map to
exit codes in one place (`_app.main`). The exit codes are documented in docs/cli.md."""

from planactor.cli import (
    _actors,
    _approve,
    _ask,
    _audit,
    _bench,
    _demo,
    _diff,
    _do,
    _eval,
    _lab,
    _plan,
    _policy,
    _recover,
    _routines,
    _run,
    _schema,
    _show,
    _validate,
)
from planactor.cli._app import app, main

__all__ = ["app", "main"]

# Importing the command modules registers their commands on `app`.
del (
    _actors,
    _ask,
    _approve,
    _audit,
    _bench,
    _demo,
    _diff,
    _do,
    _eval,
    _lab,
    _plan,
    _policy,
    _recover,
    _routines,
    _run,
    _schema,
    _show,
    _validate,
)
