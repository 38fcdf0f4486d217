"""Expected conditions are answers with documented codes, not internal errors (issue 18): a
journal named with --db that does not exist, options that overflow, a broken default lab, a
reader that left before the error was printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clitools import run
from planactor._examples import example_plan_bytes


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_bytes(example_plan_bytes())
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ("runs",),
        ("audit", "verify"),
        ("audit", "run-x"),
        ("replay", "run-x"),
        ("resume", "run-x"),
    ],
)
def test_a_named_journal_that_does_not_exist_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: tuple[str, ...]
) -> None:
    """`--db` naming no file is exit 2 (not "no runs", exit 0), and no file is created."""
    missing = tmp_path / "typo" / "journal.db"
    code, _, err = run(capsys, *argv, "--db", str(missing))
    assert code == 2, err
    assert f"{missing}: no such journal" in err
    assert not missing.parent.exists()


def test_without_db_a_missing_default_journal_holds_no_runs(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    """The default journal not existing yet is no runs (exit 0), and it is not created."""
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 0
    assert "no runs" in out
    assert not (home / "journal.db").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ("validate", "{plan}", "--max-bytes", "9223372036854775807"),
        ("validate", "{plan}", "--max-steps", "9223372036854775807"),
        ("approve", "{plan}", "--as", "bob", "--expires", "9999999999999999999d"),
        ("approve", "{plan}", "--as", "bob", "--expires", "5000d"),
    ],
)
def test_options_that_overflow_are_bad_input(
    capsys: pytest.CaptureFixture[str], plan_file: Path, argv: tuple[str, ...]
) -> None:
    """An option value too large for its purpose is exit 2 with a message, not a crash."""
    assert run(capsys, "keys", "new", "--name", "bob")[0] == 0
    code, _, err = run(capsys, *(a.replace("{plan}", str(plan_file)) for a in argv))
    assert code == 2, err
    assert "internal error" not in err
    assert err.strip()
    assert plan_file.read_bytes() == example_plan_bytes()


def test_a_broken_default_lab_does_not_stop_plans_that_never_touch_it(
    capsys: pytest.CaptureFixture[str], home: Path, plan_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A malformed $PLANACTOR_HOME/lab.json is a warning naming it for a plan without lab
    steps (exit 0); a command that uses the lab refuses it (exit 2)."""
    monkeypatch.delenv("PLANACTOR_LAB", raising=False)
    home.mkdir(parents=True, exist_ok=True)
    lab = home / "lab.json"
    lab.write_text(json.dumps({"format": "planactor-lab/v1", "kind": "storage", "state": []}))
    code, _, err = run(capsys, "validate", str(plan_file))
    assert code == 0, err
    assert f"ignoring the default lab: {lab}" in err
    code, _, err = run(capsys, "lab", "show")
    assert code == 2
    assert str(lab) in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"{not json", 2), (example_plan_bytes(), 3)],
    ids=["invalid", "unapproved"],
)
def test_a_reader_that_left_does_not_change_the_exit_code(
    tmp_path: Path, home: Path, content: bytes, expected: int
) -> None:
    """`planactor run PLAN 2>&1 | head -1`: with the pipe closed before anything is printed,
    the exit code is still the command's (2 invalid, 3 unapproved), not 1."""
    plan = tmp_path / "p.json"
    plan.write_bytes(content)
    read, write = os.pipe()
    os.close(read)  # the reader left before the first line: every write is EPIPE
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANACTOR_")}
    env["PLANACTOR_HOME"] = str(home)
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from planactor.cli import main; main()", "run", str(plan)],
            stdout=write,
            stderr=write,
            stdin=subprocess.DEVNULL,
            env=env,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)
    assert done.returncode == expected
