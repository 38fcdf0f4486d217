"""`planactor eval planner`: a labelled set planned against a fresh default storage lab, a
summary and the failures printed, exit 0 whatever the score; a bad set exits 2."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from planactor.cli import main

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
THREE = """
version: 1
cases:
  - id: upgrade
    intent: Upgrade the firmware on array-01 to 5.2.1
    expect: {routine: storage.firmware_upgrade, params: {array: array-01, version: "5.2.1"}}
    tags: [canonical]
  - id: bump
    intent: bump firmware on array-02 to 5.3.0
    expect: {routine: storage.firmware_upgrade, params: {array: array-02, version: "5.3.0"}}
    tags: [paraphrase]
  - id: wrong-on-purpose
    intent: check the health of array-03
    expect: {routine: storage.health_check, params: {array: array-01}}
    tags: [distractor]
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `planactor ARGV` in this process; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    captured = capsys.readouterr()
    assert isinstance(exc.value.code, int)
    return exc.value.code, captured.out, captured.err


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Own PLANACTOR_HOME, a known PLANACTOR_LAB, no model or keys from the outside."""
    monkeypatch.setenv("PLANACTOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PLANACTOR_LAB", str(tmp_path / "the-users-lab.json"))
    for name in ("PLANACTOR_MODEL", "PLANACTOR_POLICY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


@pytest.fixture
def three(tmp_path: Path) -> Path:
    path = tmp_path / "three.yaml"
    path.write_text(THREE)
    return path


def summary(out: str) -> dict[str, Any]:
    doc = json.loads(out)
    assert isinstance(doc, dict)
    return doc


def test_the_routine_planner_eval_prints_failures_and_a_summary_and_exits_0(
    capsys: pytest.CaptureFixture[str], three: Path
) -> None:
    """Two of three right: 66.7%, the wrong case listed with what was expected and got,
    validity over the three plans, no model calls; exit 0 although not every case passed."""
    code, out, err = run(capsys, "eval", "planner", "--planner", "routine", "--set", str(three))
    assert code == 0, err
    assert "exact match 66.7% (2/3)" in out
    assert "validity 100.0% (3/3 plans)" in out
    assert "model calls 0" in out
    assert "wrong-on-purpose" in out
    assert "upgrade " not in out.split("failure(s)")[1].split("set ")[0]


def test_the_json_report_has_the_summary_and_every_case(
    capsys: pytest.CaptureFixture[str], three: Path
) -> None:
    """--json gives the summary figures, the failing ids and each case with its scores."""
    code, out, _ = run(
        capsys, "eval", "planner", "--planner", "routine", "--set", str(three), "--json"
    )
    assert code == 0
    doc = summary(out)
    assert (doc["planner"], doc["summary"]["cases"], doc["summary"]["matched"]) == ("routine", 3, 2)
    assert doc["failures"] == ["wrong-on-purpose"]
    bump = doc["cases"][1]
    assert bump["params"] == {"array": "array-02", "version": "5.3.0"}
    assert (bump["valid"], bump["ungrounded"], bump["calls"]) == (True, [], 0)


def test_the_eval_leaves_the_users_lab_setting_alone(
    capsys: pytest.CaptureFixture[str], three: Path, tmp_path: Path
) -> None:
    """Planning against its own throwaway lab does not repoint PLANACTOR_LAB."""
    run(capsys, "eval", "planner", "--planner", "routine", "--set", str(three))
    assert os.environ["PLANACTOR_LAB"] == str(tmp_path / "the-users-lab.json")


def test_the_default_local_model_runs_the_first_cases_of_a_set(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without --planner the shipped local model plans; --limit 2 plans two cases; a
    version said only as "the latest" is asked of the model (and refused, as the intent
    does not contain it), and its tokens are counted."""
    cases = THREE.replace(
        "intent: bump firmware on array-02 to 5.3.0",
        "intent: upgrade array-02 to the latest firmware",
    ).replace(
        'expect: {routine: storage.firmware_upgrade, params: {array: array-02, version: "5.3.0"}}',
        "expect: {routine: null}",
    )
    latest = tmp_path / "latest.yaml"
    latest.write_text(cases)
    code, out, err = run(capsys, "eval", "planner", "--set", str(latest), "--limit", "2", "--json")
    assert code == 0, err
    doc = summary(out)
    assert (doc["planner"], doc["model"]) == ("local", MODEL_FILE)
    assert [c["id"] for c in doc["cases"]] == ["upgrade", "bump"]
    assert doc["cases"][0]["match"]
    assert doc["cases"][0]["calls"] == 0
    assert doc["cases"][1]["calls"] >= 1
    assert doc["summary"]["tokens_in"] > 0
    assert doc["summary"]["cases_with_calls"] == 1
    assert doc["summary"]["median_tokens_in_with_calls"] == doc["cases"][1]["tokens_in"]
    assert doc["summary"]["validity"] == 1.0


def test_without_a_set_here_the_shipped_set_is_used(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside a checkout (no ./evals/planner.yaml) the copy shipped in the package runs."""
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "eval", "planner", "--planner", "routine", "--limit", "1", "--json")
    assert code == 0
    doc = summary(out)
    assert doc["set"].endswith("(shipped)")
    assert doc["summary"]["cases"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "0"], "--limit must be at least 1"),
        (["--set", "missing.yaml"], "no such eval set"),
    ],
)
def test_bad_options_exit_2_with_a_message(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """A missing set or a limit below 1 is bad input: exit 2, the reason, no traceback."""
    code, _, err = run(capsys, "eval", "planner", "--planner", "routine", *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_a_malformed_set_exits_2_naming_the_case_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A case with an unknown tag is refused before anything is planned."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(THREE.replace("tags: [distractor]", "tags: [distraction]"))
    code, out, err = run(capsys, "eval", "planner", "--planner", "routine", "--set", str(bad))
    assert code == 2
    assert "case 'wrong-on-purpose' (#3): tags: unknown tag(s) distraction" in err
    assert out == ""
