"""planactor.cli's lazy command table and planactor's lazy namespace: start-up imports
only what the command needs (measured by `planactor bench startup`)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from clitools import run
from planactor.cli import COMMANDS, app

HEAVY = (
    "pydantic",
    "networkx",
    "igraph",
    "cryptography",
    "llama_cpp",
    "planactor.audit",
    "planactor.catalog",
    "planactor.engine",
)


def _loaded_after(*argv: str) -> set[str]:
    """The modules a fresh interpreter holds after `planactor ARGV`."""
    code = (
        "import json, sys\n"
        "from planactor.cli import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("argv", [("--version",), ("--help",)])
def test_version_and_help_import_no_command_and_nothing_heavy(argv: tuple[str, ...]) -> None:
    """--version and --help load typer and rich only: no command module, no pydantic,
    graph library, cryptography, model, audit, catalog or engine."""
    loaded = _loaded_after(*argv)
    commands = {f"planactor.cli.{module}" for module, _ in COMMANDS.values()}
    assert not loaded & commands
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY}
    assert not [m for m in loaded if m.startswith(HEAVY)]


def test_a_command_imports_only_its_own_module() -> None:
    """`validate` loads its module (and what it imports), not `run`, `audit` or `demo`."""
    loaded = _loaded_after("validate", "--help")
    assert "planactor.cli._validate" in loaded
    assert not {"planactor.cli._run", "planactor.cli._audit", "planactor.cli._demo"} & loaded


def test_help_lists_every_command_from_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    """`planactor --help` lists each command of the table with its one-line help."""
    code, text, _ = run(capsys, "--help")
    assert code == 0
    for name, (_, summary) in COMMANDS.items():
        assert f"  {name} " in text
        assert summary.split()[0] in text


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_table_entry_names_a_module_that_registers_it(name: str) -> None:
    """Importing an entry's module registers a command or group of that name on `app`."""
    importlib.import_module(f"planactor.cli.{COMMANDS[name][0]}")
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    for group in app.registered_groups:
        given = group.name or (group.typer_instance.info.name if group.typer_instance else None)
        names.add(str(given))
    assert name in names


def test_every_command_a_module_registers_is_in_the_table() -> None:
    """A command registered by a module of planactor.cli but missing from the table would
    exist only when some other command had imported its module: none is missing."""
    import pkgutil

    import planactor.cli

    for info in pkgutil.iter_modules(planactor.cli.__path__):
        importlib.import_module(f"planactor.cli.{info.name}")
    names = {c.name for c in app.registered_commands}
    names |= {
        g.name or (g.typer_instance.info.name if g.typer_instance else None)
        for g in app.registered_groups
    }
    assert names - set(COMMANDS) == set()


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A name in no table is refused with exit 2, as before the table."""
    code, _, err = run(capsys, "no-such-command")
    assert code == 2
    assert "No such command" in err


def test_import_planactor_is_light_and_validate_stays_the_function() -> None:
    """`import planactor` loads no pydantic; `planactor.validate` is the function even
    after the `planactor.validate` subpackage was imported."""
    code = (
        "import sys, planactor\n"
        "assert 'pydantic' not in sys.modules, 'pydantic loaded'\n"
        "import planactor.validate._validate\n"
        "from planactor import validate, Plan\n"
        "assert callable(validate) and validate.__module__.startswith('planactor.validate')\n"
        "assert planactor.validate is validate and Plan.__name__ == 'Plan'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
