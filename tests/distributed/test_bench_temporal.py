"""`planactor bench engine --engine temporal` on the session's dev server, at a small size."""

from __future__ import annotations

import json

import pytest

from planactor.bench._engine import main
from planactor.distributed._bench import run


def test_every_system_runs_both_shapes(temporal: str) -> None:
    """Local engine, planactor workflow and hand-written workflow each run chain and fan-out."""
    rows = run(5, address=temporal)
    assert sorted((r.system, r.shape) for r in rows) == sorted(
        (system, shape)
        for system in ("local engine", "planactor on temporal", "hand-written temporal")
        for shape in ("chain", "fan-out")
    )
    assert all(r.seconds > 0 for r in rows)


def test_bench_engine_dispatches_to_temporal(
    temporal: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`bench engine --engine temporal --json` prints the rows and both ratios."""
    assert main(["--engine", "temporal", "--steps", "3", "--json", "--address", temporal]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [q["shape"] for q in doc["ratios"]] == ["chain", "fan-out"]
    assert len(doc["results"]) == 6
