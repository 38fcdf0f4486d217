"""planactor.bench._startup: process start-to-exit timing of --version, --help, validate."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from planactor.bench._startup import CASES, _environment, main, run, small_plan
from planactor.cli._app import catalog
from planactor.validate import validate


def test_the_small_plan_is_valid() -> None:
    """The plan `validate` is timed on is valid, so the benchmark times a success."""
    report = validate(small_plan(), catalog=catalog())
    assert report.ok, report.problems


def test_one_round_times_every_case_next_to_python() -> None:
    """One run per case gives a median per case and ratios to `python -c pass` (1.0)."""
    results = run(repeats=1)
    assert [r.case for r in results] == list(CASES)
    assert results[0].ratio == 1.0
    assert all(r.median_ms > 0 and r.repeats == 1 for r in results)
    assert {r.case for r in results if r.target_ms} == {
        "planactor --version",
        "planactor --help",
        "planactor validate PLAN",
    }


def test_main_refuses_zero_repeats() -> None:
    """--repeats 0 is a usage error (argparse exit 2), not a division by zero."""
    with pytest.raises(SystemExit) as exc:
        main(["--repeats", "0"])
    assert exc.value.code == 2


def test_the_commands_run_with_their_pyc_written_and_no_lab(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """PYTHONDONTWRITEBYTECODE (every run would compile each edited module again) and a
    user's lab or policy are not passed on; the home is the benchmark's own."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("PLANACTOR_LAB", str(tmp_path / "lab.json"))
    monkeypatch.setenv("PLANACTOR_POLICY", str(tmp_path / "policy.yaml"))
    env = _environment(tmp_path / "home")
    assert not {"PYTHONDONTWRITEBYTECODE", "PLANACTOR_LAB", "PLANACTOR_POLICY"} & set(env)
    assert env["PLANACTOR_HOME"] == str(tmp_path / "home")
    assert env["PATH"] == os.environ["PATH"]
