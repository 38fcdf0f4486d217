"""planactor.bench._compounding: the sweep end to end with the embedded SmolLM2-135M, its
files, the counts adding up, --faults and --resume."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from planactor.bench import run_benchmark
from planactor.bench._compounding import run_sweep
from planactor.planner import LocalBackend

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
STEM = "compounding_local_SmolLM2-135M-Instruct-Q4_1"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _check_consistent(rows: list[dict[str, Any]], trials: list[dict[str, Any]]) -> None:
    """Each row's counts are its trials' sums; rates and accuracies lie in [0, 1]."""
    assert sum(int(r["trials"]) for r in rows) == len(trials)
    for r in rows:
        mine = [
            t
            for t in trials
            if t["controller"] == r["controller"] and t["hosts"] == int(r["hosts"])
        ]
        assert len(mine) == int(r["trials"])
        assert int(r["successes"]) == sum(t["success"] for t in mine)
        assert int(r["du_events"]) == sum(t["du"] for t in mine)
        assert int(r["length"]) == 2 * int(r["hosts"]) + 5
        low, rate, high = (float(r[k]) for k in ("success_low", "success_rate", "success_high"))
        assert 0 <= low <= rate <= high <= 1
        for t in mine:
            assert t["success"] == (t["firmware_ok"] and t["paths_ok"])
            assert 0 <= t["on_reference"] <= t["steps"]
        if r["controller"] == "react":
            p = float(r["step_accuracy"])
            assert 0 <= p <= 1
            assert float(r["predicted"]) == pytest.approx(p ** int(r["length"]))
            budget = 2 * int(r["length"])
            assert all(t["steps"] <= budget for t in mine)


def test_tiny_sweep_with_the_embedded_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """2 labs of 1 host, both controllers, SmolLM2-135M: JSON rows on stdout, JSONL, CSV and
    chart written, counts consistent; planner-actor upgrades both labs without a DU."""
    code = run_benchmark(
        "compounding", ["--sizes", "1", "--trials", "2", "--out", str(tmp_path), "--json"]
    )
    assert code == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert [(r["controller"], r["hosts"], r["trials"]) for r in rows] == [
        ("react", 1, 2),
        ("planner-actor", 1, 2),
    ]
    stem = tmp_path / STEM
    assert f"results: {stem}.jsonl" in " ".join(err.split())
    trials = _jsonl(stem.with_suffix(".jsonl"))
    _check_consistent(rows, trials)
    with stem.with_suffix(".csv").open(newline="") as f:
        _check_consistent(list(csv.DictReader(f)), trials)
    assert stem.with_suffix(".png").read_bytes().startswith(PNG_MAGIC)
    planner = next(r for r in rows if r["controller"] == "planner-actor")
    assert (planner["successes"], planner["du_events"]) == (2, 0)
    react = [t for t in trials if t["controller"] == "react"]
    assert all(t["tokens_in"] > 0 and t["calls"] >= 1 for t in react)


def test_faults_pause_planner_actor_without_a_du(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--faults: a failing upgrade pauses the run, a path down is refused before it starts;
    neither succeeds and neither causes a DU."""
    code = run_benchmark(
        "compounding",
        [
            *("--controllers", "planner-actor", "--faults", "--sizes", "2", "--trials", "2"),
            *("--out", str(tmp_path), "--json"),
        ],
    )
    assert code == 0
    trials = _jsonl(tmp_path / f"compounding-faults_{STEM.split('_', 1)[1]}.jsonl")
    assert [(t["ended"], t["success"], t["du"], t["faults"]) for t in trials] == [
        ("paused", False, 0, True),
        ("refused", False, 0, True),
    ]
    rows = json.loads(capsys.readouterr().out)
    _check_consistent(rows, trials)


def test_resume_runs_only_the_missing_trials(tmp_path: Path) -> None:
    """--resume keeps recorded trials, drops a line cut short, and runs only what is missing."""
    jsonl = tmp_path / "t.jsonl"

    def sweep(trials: int, resume: bool) -> list[Any]:
        return run_sweep(
            controllers=("planner-actor",),
            sizes=(1,),
            trials=trials,
            backend=LocalBackend(),
            jsonl=jsonl,
            resume=resume,
            console=Console(quiet=True),
        )

    sweep(2, False)
    first = jsonl.read_text()
    jsonl.write_text(first + '{"controller": "planner-actor", "ho')
    got = sweep(3, True)
    assert [t.trial for t in got] == [0, 1, 2]
    lines = jsonl.read_text().splitlines()
    assert lines[:2] == first.splitlines()
    assert len(lines) == 3


def test_bad_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown controller or a size of 0 hosts is a usage error naming the choices."""
    for argv in (["--controllers", "react,oracle"], ["--sizes", "0"]):
        with pytest.raises(SystemExit) as e:
            run_benchmark("compounding", argv)
        assert e.value.code == 2
    err = capsys.readouterr().err
    assert "choose from react, planner-actor" in err
    assert "1 to 64 hosts" in err


def test_openai_backend_against_llama_cpp_server(
    llama_server: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--planner openai --base-url: the pure-LLM executor through the hosted path, for real."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PLANACTOR_OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    argv = ["--controllers", "react", "--sizes", "1", "--trials", "1", "--planner", "openai"]
    argv += ["--base-url", llama_server, "--budget-factor", "1", "--out", str(tmp_path), "--json"]
    assert run_benchmark("compounding", argv) == 0
    rows = json.loads(capsys.readouterr().out)
    (jsonl,) = tmp_path.glob("compounding_openai_*.jsonl")
    trials = _jsonl(jsonl)
    assert [(t["controller"], t["backend"]) for t in trials] == [("react", "openai")]
    assert trials[0]["model"].endswith(".gguf")
    assert trials[0]["tokens_in"] > 0
    assert trials[0]["usd"] == 0.0
    assert trials[0]["steps"] <= 7  # the budget: one workflow length
    _check_consistent(rows, trials)
