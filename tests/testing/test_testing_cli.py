"""planactor.testing.CliRunner: the console script in this process, in a home of its own."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from planactor import __version__
from planactor.testing import OUTSIDE_ENV, CliResult, CliRunner

PLAN = {
    "api_version": "planactor/v1",
    "intent": "say hi",
    "requested_by": "alice",
    "steps": [{"id": "e", "actor": "core.echo", "args": {"message": "hi"}}],
}


def test_a_command_gives_its_exit_code_and_output(tmp_path: Path) -> None:
    """`--version` exits 0 and prints the version on stdout, nothing on stderr."""
    result = CliRunner(home=tmp_path).run("--version")
    assert result == CliResult(exit_code=0, stdout=f"planactor {__version__}\n", stderr="")


def test_bad_input_exits_2_with_the_message_on_stderr(tmp_path: Path) -> None:
    """A missing plan file exits 2 with an error line on stderr, and no traceback."""
    result = CliRunner(home=tmp_path).run("validate", str(tmp_path / "missing.json"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error:")
    assert "missing.json" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_input_is_the_commands_stdin(tmp_path: Path) -> None:
    """`validate -` reads the plan from `input`."""
    cli = CliRunner(home=tmp_path)
    assert cli.run("validate", "-", input=json.dumps(PLAN)).exit_code == 0
    assert cli.run("validate", "-", input="{").exit_code == 2


def test_the_home_is_the_runners_and_the_environment_is_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command writes under `home`, not the caller's home or lab; os.environ is unchanged
    afterwards, even for PLANACTOR_LAB, which the command may set itself."""
    theirs = tmp_path / "theirs"
    monkeypatch.setenv("PLANACTOR_HOME", str(theirs))
    monkeypatch.setenv("PLANACTOR_LAB", str(theirs / "lab.json"))
    before = dict(os.environ)
    home = tmp_path / "home"
    result = CliRunner(home=home).run("lab", "init", "storage")
    assert result.exit_code == 0, result.stderr
    assert (home / "lab.json").exists()
    assert not theirs.exists()
    assert dict(os.environ) == before


def test_outside_variables_are_cleared_unless_set_on_purpose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A policy file named by the caller's environment is ignored; one given through `env`
    (per runner or per command) is used."""
    assert "PLANACTOR_POLICY" in OUTSIDE_ENV
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [")
    monkeypatch.setenv("PLANACTOR_POLICY", str(broken))
    assert CliRunner(home=tmp_path / "h").run("policy", "show").exit_code == 0
    on_purpose = {"PLANACTOR_POLICY": str(broken)}
    assert CliRunner(home=tmp_path / "h", env=on_purpose).run("policy", "show").exit_code == 2
    per_command = CliRunner(home=tmp_path / "h").run("policy", "show", env=on_purpose)
    assert per_command.exit_code == 2
