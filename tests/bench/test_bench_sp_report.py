"""planactor.bench._sp_report: the per-method summary, the ratio table, the CSV and the chart."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from planactor.bench._sp_methods import Trial
from planactor.bench._sp_report import ratios, summarize, write_chart, write_csv


def _trial(method: str, size: int, seed: int, **fields: object) -> Trial:
    t = Trial(method=method, size=size, seed=seed, backend="b", model="m")
    for name, value in fields.items():
        setattr(t, name, value)
    return t


TRIALS = [
    _trial("algorithm", 5, 1, valid=True, optimal=True, latency_s=0.0001, joules=0.001),
    _trial("algorithm", 5, 2, valid=True, optimal=True, latency_s=0.0003, joules=0.003),
    _trial(
        "llm-tool",
        5,
        1,
        valid=True,
        optimal=True,
        latency_s=2.0,
        joules=20.0,
        tokens_in=100,
        tokens_out=10,
        usd=0.002,
        called_tool=True,
    ),
    _trial(
        "llm-tool",
        5,
        2,
        valid=True,
        optimal=False,
        latency_s=4.0,
        joules=40.0,
        tokens_in=300,
        tokens_out=30,
        usd=0.004,
        called_tool=False,
    ),
    _trial("llm", 5, 1, latency_s=1.0, joules=5.0, error="timed out"),
    _trial("llm", 5, 2, latency_s=3.0, joules=15.0, valid=True),
]


def test_summary_rows_per_method_and_size_in_method_order() -> None:
    """One row per method and size, methods in the usual order; means per query; counts."""
    rows = summarize(TRIALS)
    assert [(r.method, r.size, r.trials) for r in rows] == [
        ("algorithm", 5, 2),
        ("llm", 5, 2),
        ("llm-tool", 5, 2),
    ]
    llm, tool = rows[1], rows[2]
    assert (llm.valid, llm.optimal, llm.errors, llm.called_tool) == (1, 0, 1, None)
    assert (tool.valid, tool.optimal, tool.called_tool) == (2, 1, 1)
    assert (tool.tokens_in, tool.tokens_out, tool.usd, tool.joules) == (200, 20, 0.003, 30.0)
    assert (tool.median_latency_s, tool.p90_latency_s) == (3.0, 4.0)
    assert tool.optimal_low < 0.5 < tool.optimal_high
    assert rows[0].joules_source == "estimate"


def test_ratios_are_llm_over_algorithm_per_size() -> None:
    """Latency and energy ratios against the algorithm at the same size, with both rates."""
    by = {r.method: r for r in ratios(summarize(TRIALS))}
    assert set(by) == {"llm", "llm-tool"}
    assert by["llm-tool"].latency_ratio == pytest.approx(3.0 / 0.0002)
    assert by["llm-tool"].energy_ratio == pytest.approx(30.0 / 0.002)
    assert (by["llm-tool"].algorithm_optimal_rate, by["llm-tool"].llm_optimal_rate) == (1.0, 0.5)
    assert by["llm"].llm_usd == 0.0


def test_no_algorithm_energy_gives_an_infinite_ratio() -> None:
    """An algorithm too quick to register any energy: the ratio is infinite, not a crash."""
    trials = [_trial("algorithm", 5, 1, latency_s=1e-4), _trial("llm", 5, 1, joules=1.0)]
    (row,) = ratios(summarize(trials))
    assert math.isinf(row.energy_ratio)


def test_csv_and_chart_are_written(tmp_path: Path) -> None:
    """The CSV holds a header and one line per row; the chart is a PNG, gaps and 10/10 allowed."""
    all_optimal = [_trial("llm", 20, s, valid=True, optimal=True) for s in range(10)]
    rows = summarize([*TRIALS, *all_optimal, _trial("llm-cot", 20, 1, latency_s=9.0)])
    write_csv(rows, tmp_path / "s.csv")
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0].startswith("method,size,trials,valid,optimal,")
    assert len(lines) == 1 + len(rows)
    write_chart(rows, tmp_path / "s.png", title="t")
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
