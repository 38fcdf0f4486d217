"""`planactor plan` asks its one question at a terminal, in a real pseudo-terminal."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from clitools import run
from planactor import load_plan

PLANACTOR = str(Path(sys.executable).with_name("planactor"))
INTENT = "upgrade the firmware to 5.2.1"


@pytest.fixture
def lab(capsys: pytest.CaptureFixture[str], home: Path) -> Path:
    path = home / "lab.json"
    code, _, err = run(capsys, "lab", "init", "storage", "--path", str(path))
    assert code == 0, err
    return path


def _spawn(lab: Path, out: Path, *extra: str, intent: str = INTENT) -> pexpect.spawn:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    argv = ["plan", intent, "--lab", str(lab), "-o", str(out), *extra]
    return pexpect.spawn(PLANACTOR, argv, env=env, encoding="utf-8", timeout=120)


@pytest.mark.parametrize("planner", ["routine", "local"])
def test_the_question_lists_the_choices_and_the_answer_is_planned(
    lab: Path, tmp_path: Path, planner: str
) -> None:
    """No array named: the terminal shows "Which array?" with the inventory's arrays; a
    wrong answer is asked again; "2" picks array-02, which is grounded, validated and
    written (with the model too: the routine planner takes the answer)."""
    out = tmp_path / "plan.json"
    child = _spawn(lab, out, "--planner", planner)
    child.expect_exact("Which array?")
    child.expect_exact("3. array-03")
    child.expect_exact("array (number or name)")
    child.sendline("array-09")
    child.expect_exact("not one of the 3 choices")
    child.sendline("2")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    plan = load_plan(out).plan
    assert plan.origin is not None
    assert {s.args.get("array") for s in plan.steps} == {"array-02"}


def test_end_of_input_aborts_and_writes_nothing(lab: Path, tmp_path: Path) -> None:
    """Ctrl-D at the question: exit 130, no plan file."""
    out = tmp_path / "plan.json"
    child = _spawn(lab, out, "--planner", "routine")
    child.expect_exact("array (number or name)")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert not out.exists()


def test_with_json_the_question_is_printed_not_asked(lab: Path, tmp_path: Path) -> None:
    """--json at a terminal still prints the question (for a program) and exits 2."""
    child = _spawn(lab, tmp_path / "plan.json", "--planner", "routine", "--json")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    text = re.sub(r"\x1b\[[0-9;]*m", "", child.before)  # a terminal gets colours
    doc = json.loads(text[text.index("{") : text.rindex("}") + 1])
    assert doc["candidates"] == ["array-01", "array-02", "array-03"]


# Code reads this as a tie between the array's and the host's health check, and the model's
# lean (to the array's) is below its bar: which routine is meant is the question.
TIE = "status of esx-03 on array-02"


@pytest.mark.parametrize("planner", ["routine", "local"])
def test_a_tie_between_routines_asks_which_and_plans_the_answer(
    lab: Path, tmp_path: Path, planner: str
) -> None:
    """Two routines fit equally well: the terminal lists both with what each does, a name
    that is not one of them is asked again, and "2" plans the host's check for esx-03."""
    out = tmp_path / "plan.json"
    child = _spawn(lab, out, "--planner", planner, intent=TIE)
    child.expect_exact("Which routine is meant?")
    child.expect_exact("1. storage.health_check: Read-only health check of a storage array")
    child.expect_exact("2. storage.host_health_check: ")
    child.expect_exact("routine (number or name)")
    child.sendline("storage.firmware_upgrade")
    child.expect_exact("not one of the 2 choices")
    child.sendline("2")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    plan = load_plan(out).plan
    assert plan.origin is not None
    assert plan.origin.routine == "storage.host_health_check"
    assert plan.origin.params["host"] == "esx-03"


def test_a_tie_with_json_prints_the_routines_to_choose_from(
    capsys: pytest.CaptureFixture[str], lab: Path
) -> None:
    """--json: the tie is a question document (routine null, param "routine", the two
    routines and a label for each) on stdout, and exit 2."""
    code, out, _ = run(capsys, "plan", TIE, "--lab", str(lab), "--planner", "routine", "--json")
    assert code == 2
    doc = json.loads(out)
    assert doc["routine"] is None
    assert doc["param"] == "routine"
    assert doc["candidates"] == ["storage.health_check", "storage.host_health_check"]
    assert len(doc["labels"]) == 2
