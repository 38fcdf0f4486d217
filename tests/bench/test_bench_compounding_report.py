"""planactor.bench._compounding_report: the summary's counts, the pooled per-step accuracy
and p^n, the CSV and the chart."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from planactor.bench._compounding_report import step_accuracy, summarize, write_chart, write_csv
from planactor.bench._compounding_trial import Trial


def _trial(controller: str, hosts: int, t: int, **kw: object) -> Trial:
    base = Trial(
        controller=controller,
        hosts=hosts,
        trial=t,
        length=2 * hosts + 5,
        backend="scripted",
        model="m",
    )
    for k, v in kw.items():
        setattr(base, k, v)
    return base


TRIALS = [
    _trial("react", 1, 0, steps=8, on_reference=6, success=False, du=2, ended="budget"),
    _trial("react", 1, 1, steps=7, on_reference=7, success=True, ended="done", wall_s=2.0),
    _trial("planner-actor", 1, 0, steps=7, success=True, ended="succeeded"),
    _trial("planner-actor", 1, 1, steps=7, success=True, ended="succeeded"),
]


def test_step_accuracy_is_pooled_over_actions() -> None:
    """13 of 15 actions on the reference; no actions at all has no accuracy."""
    assert step_accuracy(TRIALS[:2]) == pytest.approx(13 / 15)
    assert step_accuracy([_trial("react", 1, 0)]) is None


def test_summary_counts_and_prediction() -> None:
    """One row per controller and size, react first; successes, DU and p^n as measured."""
    rows = summarize(TRIALS)
    assert [(r.controller, r.trials, r.successes) for r in rows] == [
        ("react", 2, 1),
        ("planner-actor", 2, 2),
    ]
    react, planner = rows
    assert (react.du_events, react.du_trials, react.length) == (2, 1, 7)
    assert react.predicted == pytest.approx((13 / 15) ** 7)
    assert react.ended == "budget:1 done:1"
    assert planner.step_accuracy is None
    assert planner.predicted is None
    assert planner.success_low < 1.0 == planner.success_rate == planner.success_high


def test_csv_and_chart_are_written(tmp_path: Path) -> None:
    """The CSV has one line per row; the chart is a PNG."""
    rows = summarize(TRIALS)
    write_csv(rows, tmp_path / "s.csv")
    with (tmp_path / "s.csv").open(newline="") as f:
        assert [r["controller"] for r in csv.DictReader(f)] == ["react", "planner-actor"]
    write_chart(rows, tmp_path / "s.png", title="t")
    assert (tmp_path / "s.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
