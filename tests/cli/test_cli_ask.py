"""`planactor ask`: the read-only loop from the command line, and its transcript in the audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clitools import run
from planactor.lab import create_lab


@pytest.fixture
def lab_file(tmp_path: Path) -> Path:
    """A storage lab where esx-03 lost a path."""
    path = tmp_path / "lab.json"
    create_lab(path, kind="storage", scenario="path-down", latency_ms=0)
    return path


def test_an_empty_question_is_bad_input(capsys: pytest.CaptureFixture[str], lab_file: Path) -> None:
    """A blank question exits 2 with a hint, before any model call."""
    code, _, err = run(capsys, "ask", "   ", "--lab", str(lab_file))
    assert code == 2
    assert "the question is empty" in err


def test_ask_with_the_embedded_model_prints_a_transcript_the_audit_shows(
    capsys: pytest.CaptureFixture[str], lab_file: Path
) -> None:
    """One read, then an answer turn: the JSON transcript names its run, whose audit shows it."""
    before = lab_file.read_text()
    code, out, _ = run(
        capsys,
        "ask",
        "is any host of array-01 down to one path?",
        "--lab",
        str(lab_file),
        "--max-steps",
        "1",
        "--json",
    )
    doc = json.loads(out)
    assert code == (0 if doc["verdict"] == "supported" else 1)
    assert doc["observations"][0]["status"] == "succeeded"
    assert doc["observations"][0]["actor"].startswith("storage.")
    assert len(doc["turns"]) <= 3
    code, report, _ = run(capsys, "audit", doc["run_id"])
    assert code == 0
    assert "Transcript (ask: read-only)" in report
    assert lab_file.read_text() == before
