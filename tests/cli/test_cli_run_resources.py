"""`planactor run` and `resume` hand actors the journal, and a model only to plans with skills."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clitools import approve, echo_plan, run, sign_as, write_plan


def _first_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    plan = echo_plan(tmp_path, "echo.json")
    sign_as(capsys, plan, "carol")
    code, out, err = run(capsys, "run", str(plan), "--json")
    assert code == 0, err
    return str(json.loads(out)["run_id"])


def _summary_plan(tmp_path: Path, run_id: str) -> Path:
    return write_plan(
        tmp_path,
        [{"id": "ticket", "actor": "core.summarize_run", "args": {"run_id": run_id}}],
        "summary.json",
    )


@pytest.mark.usefixtures("home")
def test_summarize_run_runs_from_the_cli_with_the_embedded_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A plan with core.summarize_run runs through `planactor run`: the skill reads the
    journal and asks the embedded model, and its output is a ticket title and summary."""
    first = _first_run(capsys, tmp_path)
    plan = _summary_plan(tmp_path, first)
    approve(capsys, plan, "carol")
    code, out, err = run(capsys, "run", str(plan), "--json")
    assert code == 0, err
    output = json.loads(out)["steps"]["ticket"]["output"]
    assert set(output) == {"title", "summary"}
    assert all(isinstance(v, str) for v in output.values())


@pytest.mark.usefixtures("home")
def test_a_plan_without_skills_never_builds_a_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--llm anthropic` with no API key: a plan of ordinary actors runs (no model is
    built), while a plan with a skill step is refused before anything runs, saying why."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    first = _first_run(capsys, tmp_path)
    plan = echo_plan(tmp_path, "again.json")
    approve(capsys, plan, "carol")
    code, _, err = run(capsys, "run", str(plan), "--llm", "anthropic")
    assert code == 0, err
    skill = _summary_plan(tmp_path, first)
    approve(capsys, skill, "carol")
    code, _, err = run(capsys, "run", str(skill), "--llm", "anthropic", "--json")
    assert code == 2
    assert "ANTHROPIC_API_KEY" in err
    code, out, _ = run(capsys, "runs", "--json")
    assert len(json.loads(out)) == 2  # the refused plan left no run behind


@pytest.mark.usefixtures("home")
def test_a_skill_step_is_refused_on_temporal_before_anything_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`--engine temporal` with an LLM skill step: exit 2 naming the step, no run recorded
    (its model call could not be journaled for replay there), nothing contacted."""
    first = _first_run(capsys, tmp_path)
    skill = _summary_plan(tmp_path, first)
    approve(capsys, skill, "carol")
    code, _, err = run(
        capsys, "run", str(skill), "--engine", "temporal", "--address", "127.0.0.1:9"
    )
    assert code == 2
    assert "step(s) ticket call an LLM skill" in err
    code, out, _ = run(capsys, "runs", "--json")
    assert len(json.loads(out)) == 1
