"""planactor.bench._sp_llm: the sweep, its files, --resume and --json; end to end with the
embedded SmolLM2-135M and with the openai backend against llama.cpp's own server."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from planactor._errors import InputError
from planactor.bench import run_benchmark
from planactor.bench._energy import EnergyMeter
from planactor.bench._sp_llm import run_sweep
from planactor.bench._sp_methods import METHODS, MethodLimits, Trial
from planactor.cli import main
from planactor.planner import LocalBackend

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _check_consistent(rows: list[dict[str, Any]], trials: list[dict[str, Any]]) -> None:
    """Counts add up: each row's trials are the JSONL's, optimal <= valid <= trials."""
    assert sum(int(r["trials"]) for r in rows) == len(trials)
    for r in rows:
        mine = [t for t in trials if t["method"] == r["method"] and t["size"] == int(r["size"])]
        assert len(mine) == int(r["trials"])
        assert int(r["valid"]) == sum(t["valid"] for t in mine)
        assert int(r["optimal"]) == sum(t["optimal"] for t in mine)
        assert int(r["optimal"]) <= int(r["valid"]) <= int(r["trials"])
        assert float(r["optimal_low"]) <= float(r["optimal_rate"]) <= float(r["optimal_high"])


def test_algorithm_sweep_writes_jsonl_csv_chart_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Algorithm only: every answer optimal; the JSON rows on stdout; the files beside."""
    code = run_benchmark(
        "shortest-path",
        [
            "--methods",
            "algorithm",
            "--sizes",
            "5,20",
            "--graphs",
            "3",
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert code == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert [(r["method"], r["size"], r["trials"], r["optimal"]) for r in rows] == [
        ("algorithm", 5, 3, 3),
        ("algorithm", 20, 3, 3),
    ]
    wanted = {"method", "size", "trials", "valid", "optimal", "median_latency_s", "p90_latency_s"}
    wanted |= {"tokens_in", "tokens_out", "usd", "joules", "joules_source"}
    assert wanted <= set(rows[0])
    assert rows[0]["joules_source"] in ("rapl", "estimate")
    stem = tmp_path / "shortest-path_algorithm"
    assert f"results: {stem}.jsonl" in " ".join(err.split())
    trials = _jsonl(stem.with_suffix(".jsonl"))
    assert [t["seed"] for t in trials] == [42, 43, 44, 42, 43, 44]
    _check_consistent(_csv(stem.with_suffix(".csv")), trials)
    assert stem.with_suffix(".png").read_bytes().startswith(PNG_MAGIC)


def test_table_output_names_the_energy_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --json: the rich table and where the joules come from (here: an estimate)."""
    run_benchmark(
        "shortest-path",
        ["--methods", "algorithm", "--sizes", "5", "--graphs", "1", "--out", str(tmp_path)],
    )
    out = " ".join(capsys.readouterr().out.split())
    assert "per method and size" in out
    assert "energy: ESTIMATE" in out or "energy: RAPL" in out


def _sweep(
    tmp_path: Path,
    graphs: int,
    *,
    resume: bool,
    backend: Any = None,
    methods: tuple[str, ...] = ("algorithm",),
) -> list[Trial]:
    return run_sweep(
        methods=methods,
        sizes=(5,),
        graphs=graphs,
        backend=backend,
        meter=EnergyMeter(),
        limits=MethodLimits(),
        jsonl=tmp_path / "t.jsonl",
        resume=resume,
        console=Console(quiet=True),
    )


def test_resume_runs_only_the_missing_trials(tmp_path: Path) -> None:
    """--resume keeps recorded trials, skips a line cut short, and adds only what is missing."""
    _sweep(tmp_path, 2, resume=False)
    jsonl = tmp_path / "t.jsonl"
    first = jsonl.read_text()
    jsonl.write_text(first + '{"method": "algorithm", "size": 5, "se')  # interrupted write
    trials = _sweep(tmp_path, 4, resume=True)
    assert [t.seed for t in trials] == [42, 43, 44, 45]
    lines = jsonl.read_text().splitlines()
    assert lines[:2] == first.splitlines()  # the recorded trials were not run again
    assert len(_jsonl_lines_ok(lines)) == 4


def _jsonl_lines_ok(lines: list[str]) -> list[dict[str, Any]]:
    ok = []
    for line in lines:
        try:
            ok.append(json.loads(line))
        except ValueError:
            continue
    return ok


def test_without_resume_the_file_starts_afresh(tmp_path: Path) -> None:
    """A new sweep replaces the old records."""
    _sweep(tmp_path, 3, resume=False)
    _sweep(tmp_path, 1, resume=False)
    assert len((tmp_path / "t.jsonl").read_text().splitlines()) == 1


def test_resume_refuses_another_backends_records(tmp_path: Path) -> None:
    """Resuming a local sweep from a file of anthropic answers is refused before any call."""
    other = Trial(method="llm", size=5, seed=42, backend="anthropic", model="claude-x")
    (tmp_path / "t.jsonl").write_text(json.dumps(other.to_document()) + "\n")
    with pytest.raises(InputError, match="holds anthropic trials"):
        _sweep(tmp_path, 1, resume=True, backend=LocalBackend(), methods=("llm",))


def test_garbage_in_the_middle_of_the_jsonl_is_refused(tmp_path: Path) -> None:
    """A damaged record that is not the last line is an error naming the line."""
    (tmp_path / "t.jsonl").write_text("not json\n{}\n")
    with pytest.raises(InputError, match=r"t.jsonl:1 is not a trial record"):
        _sweep(tmp_path, 1, resume=True)


@pytest.mark.parametrize(
    "argv",
    [
        ["--methods", "algorithm,oracle"],
        ["--methods", ""],
        ["--methods", "algorithm", "--sizes", "1"],
        ["--methods", "algorithm", "--graphs", "0"],
        ["--methods", "llm", "--planner", "nope"],
    ],
)
def test_bad_options_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown methods, too-small sizes, no graphs, an unknown planner: exit 2 with a message."""
    with pytest.raises(SystemExit) as e:
        run_benchmark("shortest-path", argv)
    assert e.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_embedded_model_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every method on 2 graphs of 5 nodes with the shipped SmolLM2-135M: files, chart, sums."""
    argv = ["--methods", ",".join(METHODS), "--sizes", "5", "--graphs", "2", "--out", str(tmp_path)]
    # Short limits keep the test quick; a cut-off answer is a trial without an answer.
    assert (
        run_benchmark("shortest-path", [*argv, "--max-tokens", "96", "--cot-max-tokens", "96"]) == 0
    )
    out = " ".join(capsys.readouterr().out.split())
    assert "algorithm vs LLM" in out
    stem = tmp_path / "shortest-path_local_SmolLM2-135M-Instruct-Q4_1"
    trials = _jsonl(stem.with_suffix(".jsonl"))
    assert len(trials) == 2 * len(METHODS)
    rows = _csv(stem.with_suffix(".csv"))
    assert [r["method"] for r in rows] == list(METHODS)
    _check_consistent(rows, trials)
    assert stem.with_suffix(".png").read_bytes().startswith(PNG_MAGIC)
    llm = [t for t in trials if t["method"] != "algorithm"]
    assert all(t["backend"] == "local" and t["calls"] >= 1 and t["usd"] == 0.0 for t in llm)
    assert all(t["tokens_in"] > 0 for t in llm if t["error"] is None)
    assert all(t["called_tool"] is not None for t in llm if t["method"] == "llm-tool")
    algorithm = [t for t in trials if t["method"] == "algorithm"]
    assert all(t["optimal"] for t in algorithm)


def test_openai_backend_against_llama_cpp_server(
    llama_server: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--planner openai --base-url: the hosted path, for real, against llama.cpp's server."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PLANACTOR_OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    argv = ["--methods", "algorithm,llm,llm-tool", "--sizes", "5", "--graphs", "1"]
    argv += ["--planner", "openai", "--base-url", llama_server, "--out", str(tmp_path), "--json"]
    assert run_benchmark("shortest-path", [*argv, "--max-tokens", "96"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["method"] for r in rows] == ["algorithm", "llm", "llm-tool"]
    (jsonl,) = tmp_path.glob("shortest-path_openai_*.jsonl")
    trials = _jsonl(jsonl)
    llm = [t for t in trials if t["method"] != "algorithm"]
    assert all(t["backend"] == "openai" and t["model"].endswith(".gguf") for t in llm)
    assert all(t["tokens_in"] > 0 and t["usd"] == 0.0 for t in llm if t["error"] is None)
    _check_consistent(rows, trials)


def test_cli_passes_options_straight_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`planactor bench shortest-path --methods ...`: no `--` needed before the options."""
    argv = ["bench", "shortest-path", "--methods", "algorithm", "--sizes", "5", "--graphs", "1"]
    with pytest.raises(SystemExit) as e:
        main([*argv, "--out", str(tmp_path), "--json"])
    assert e.value.code == 0
    assert json.loads(capsys.readouterr().out)[0]["method"] == "algorithm"
