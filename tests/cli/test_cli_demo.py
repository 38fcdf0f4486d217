"""`planactor demo`: the end-to-end story on a storage lab, in its own folder."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from clitools import run
from planactor import load_plan
from planactor.cli._app import app
from planactor.journal import Journal
from planactor.lab import current_lab, facts, storage_state
from planactor.testing import OUTSIDE_ENV

Demo = tuple[Path, "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="module")
def script_demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The installed script's demo, run once with --yes, its output piped as into a log: no
    terminal (not even stdin) and no COLUMNS, so rich lays it out for 80 columns."""
    tmp = tmp_path_factory.mktemp("script-demo")
    # Nothing of the user's: no lab, policy or model, no forced width or colour.
    forced = ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
    env = {k: v for k, v in os.environ.items() if k not in OUTSIDE_ENV and k not in forced}
    env["PLANACTOR_HOME"] = str(tmp / "user-home")
    script = Path(sys.executable).with_name("planactor")
    demo = subprocess.run(
        [str(script), "demo", "--dir", str(tmp / "d"), "--yes"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    return tmp, demo


def test_demo_runs_both_acts_without_data_unavailability(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """--yes: act 1 upgrades array-01 (DU 0), act 2 pauses on a failed controller (DU 0)."""
    workdir = tmp_path / "demo"
    code, out, err = run(capsys, "demo", "--dir", str(workdir), "--yes")
    assert code == 0, err
    assert out.count("DU events: 0") == 3
    assert "SUCCEEDED" in out
    assert "PAUSED" in out
    assert "fault injected" in out
    assert "planactor resume" in out
    # Act 2 ends with recover: the playbook's fix, approved and run linked, then the resume.
    assert "planactor recover" in out
    assert "playbook storage.controller-failed-upgrade" in out
    assert "(recovers run-" in out
    # Act 1's tie: the model decides one phrasing above its bar, and the other is asked.
    said = " ".join(out.split())  # narration wraps at the width
    decided = re.search(r"margin (\d+\.\d\d) >= bar 1\.5: chose storage\.health_check", said)
    assert decided is not None, said
    assert float(decided[1]) > 2.0  # 2.57 here: not a borderline decision
    assert "exit 2: several routines fit 'status of esx-03 on array-02' equally well" in said
    # The approved plan file is valid and carries two approvals by people other than sam.
    plan = load_plan(workdir / "upgrade-array-01.json").plan
    assert plan.requested_by == "sam"
    assert sorted(a.identity for a in plan.approvals) == ["alice", "carol"]
    # The lab really changed, and its monitor recorded no violation.
    doc = current_lab(workdir / "lab.json").read()
    firmware = facts(storage_state(doc))["arrays"]["array-01"]["firmware"]
    assert set(firmware.values()) == {"5.2.1"}
    assert doc.violations == []
    # Every run's journal verifies; the demo left the user's home untouched.
    with Journal(workdir / "home" / "journal.db") as journal:
        runs = journal.runs()
        assert [r.status for r in runs] == ["succeeded", "succeeded", "succeeded", "succeeded"]
        assert runs[3].plan.recovers == runs[2].run_id  # the fix run, linked to act 2's run
        assert all(journal.verify(r.run_id).ok for r in runs)
    assert not home.exists()


def test_demo_without_approval_runs_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without --yes and no terminal to ask, the demo stops at approval with exit 3."""
    workdir = tmp_path / "demo"
    code, _, err = run(capsys, "demo", "--dir", str(workdir))
    assert code == 3
    assert "--yes" in err
    doc = current_lab(workdir / "lab.json").read()
    assert doc.operations == []


def test_console_script_demo(script_demo: Demo) -> None:
    """The installed script runs the demo end to end and leaves an auditable journal."""
    tmp_path, demo = script_demo
    assert demo.returncode == 0, demo.stderr
    env = {k: v for k, v in os.environ.items() if k not in OUTSIDE_ENV}
    env["PLANACTOR_HOME"] = str(tmp_path / "d" / "home")
    script = Path(sys.executable).with_name("planactor")
    verify = subprocess.run(
        [str(script), "audit", "verify", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)


def test_demo_output_fits_80_columns_and_its_commands_paste_whole(script_demo: Demo) -> None:
    """Piped, every demo line fits 80 columns, and each command shown parses whole."""
    tmp_path, demo = script_demo
    assert demo.returncode == 0, demo.stderr
    lines = demo.stdout.splitlines()
    too_long = [line for line in lines if len(line) > 80]
    assert not too_long, "\n".join(too_long)
    commands = _shown_commands(lines)
    # Every step of the story shows its command; long ones had to break to fit.
    verbs = [argv[1] for argv in commands]
    for verb in ("lab", "plan", "approve", "run", "audit", "recover", "resume", "show", "runs"):
        assert verb in verbs, verbs
    assert any(line.endswith(" \\") for line in lines)
    for argv in commands:
        _parse(argv[1:])
    # The paths in them are the demo's real files, whole.
    shown = {arg for argv in commands for arg in argv if arg.startswith(str(tmp_path))}
    assert {Path(p).name for p in shown} >= {"lab.json", "upgrade-array-01.json"}
    assert all(Path(p).exists() for p in shown)


def _shown_commands(lines: list[str]) -> list[list[str]]:
    """The commands shown (`$ ` lines) as a shell reads them: each ` \\` and line break
    removed, then split into words; leading VAR=value assignments dropped."""
    commands: list[list[str]] = []
    block: list[str] = []
    for line in lines:
        if block or line.startswith("$ "):
            block.append(line)
            if not line.endswith("\\"):
                text = "\n".join(block)[2:].replace("\\\n", "")
                words = shlex.split(text)
                while words and re.fullmatch(r"[A-Z_]+=.+", words[0]):
                    words.pop(0)
                assert words[:1] == ["planactor"], text
                commands.append(words)
                block = []
    assert not block, block  # a continuation with no line after it
    return commands


def _parse(args: list[str]) -> None:
    """Parse `planactor ARGS` with the real command line, stopping short of running it: an
    unknown command or option, a missing value or argument raise click's usage errors."""
    name, command = "planactor", typer.main.get_command(app)
    parent = None
    while isinstance(command, TyperGroup):
        parent = command.context_class(command, info_name=name, parent=parent)
        name, *args = args
        sub = command.get_command(parent, name)
        assert sub is not None, f"planactor has no command {name!r}"
        command = sub
    command.make_context(name, args, parent=parent)
