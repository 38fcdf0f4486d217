"""Two processes never drive one run (issue 17 item 4), with real `planactor` processes: a
resume while another drives the run is refused naming the driver, and racing `resume` and
`resume --abort` leave each write applied at most once and a journal that tells the truth."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clitools import ledger_write, run, sign_as, write_plan
from planactor import testing

pytestmark = pytest.mark.usefixtures("testing_pack")

TIMEOUT_S = 60.0


def _env(home: Path, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANACTOR_")}
    env["PLANACTOR_HOME"] = str(home)
    # The testing pack the fixture installed, for the child processes too.
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site"), *sys.path])
    return env


def _planactor(*argv: str) -> list[str]:
    return [sys.executable, "-c", "from planactor.cli import main; main()", *argv]


def _paused(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> tuple[str, Path]:
    """An approved run paused after its first write; what is left waits for NAME.go (the test
    says when), then writes."""
    ledger = tmp_path / f"{name}.jsonl"
    steps = [
        ledger_write(ledger, "w1", "a"),
        {
            "id": "f",
            "actor": "testing.flaky",
            "args": {
                "counter": str(tmp_path / f"{name}.calls"),
                "fail_times": 1,
                "retryable": False,
            },
            "after": ["w1"],
        },
        {
            "id": "s",
            "actor": "testing.wait_for_file",
            "args": {"path": str(tmp_path / f"{name}.go")},
            "after": ["f"],
        },
        ledger_write(ledger, "w2", "b", after=["s"]),
    ]
    plan = write_plan(tmp_path, steps, name=f"{name}.json")
    sign_as(capsys, plan, "carol")
    code, out, err = run(capsys, "run", str(plan), "--yes", "--json")
    assert code == 4, out + err
    return str(json.loads(out)["run_id"]), ledger


def _events(home: Path, run_id: str) -> list[str]:
    conn = sqlite3.connect(home / "journal.db")
    rows = conn.execute("SELECT type FROM events WHERE run_id = ? ORDER BY seq", (run_id,))
    types = [str(r[0]) for r in rows]
    conn.close()
    return types


def _wait_for(home: Path, run_id: str, kind: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while kind not in _events(home, run_id):
        assert time.monotonic() < deadline, f"no {kind} in {run_id}: {_events(home, run_id)}"
        time.sleep(0.05)


def _check_truthful(
    capsys: pytest.CaptureFixture[str], home: Path, run_id: str, ledger: Path, why: str = ""
) -> str:
    """Each write applied at most once; the chain verifies; replay agrees; the recorded status
    matches the ledger. Returns the status."""
    counts = testing.applied_counts(ledger)
    assert all(n == 1 for n in counts.values()), counts
    assert run(capsys, "replay", run_id)[0] == 0
    code, out, err = run(capsys, "audit", "verify", run_id)
    assert code == 0, out + err
    code, out, _ = run(capsys, "runs", "--json")
    status = next(r["status"] for r in json.loads(out) if r["run_id"] == run_id)
    undone = [e for e in testing.ledger_entries(ledger) if e["op"] == "undo"]
    if status == "succeeded":
        assert set(counts) == {f"{run_id}/w1", f"{run_id}/w2"}
        assert undone == []
    else:
        assert status == "compensated", f"{status}; events {_events(home, run_id)}; {why}"
        assert f"{run_id}/w2" not in counts
        assert len(undone) == 1
    return status


def test_resume_while_another_process_drives_the_run_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """`resume --abort` started while a `resume` is running exits 1 naming the driving process;
    the first finishes alone and each write lands once."""
    run_id, ledger = _paused(capsys, tmp_path, "live")
    env = _env(home, tmp_path)
    first = subprocess.Popen(
        _planactor("resume", run_id), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _wait_for(home, run_id, "run.resumed")
        second = subprocess.run(
            _planactor("resume", run_id, "--abort"),
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    finally:
        (tmp_path / "live.go").touch()  # the first may finish now
        _, err = first.communicate(timeout=TIMEOUT_S)
    assert first.returncode == 0, err.decode()
    assert second.returncode == 1, second.stderr
    assert f"run {run_id} is being driven by process {first.pid} on " in second.stderr
    assert "UNIQUE constraint" not in second.stderr
    assert _check_truthful(capsys, home, run_id, ledger) == "succeeded"


@pytest.mark.parametrize("trial", range(3))
def test_racing_resume_and_abort_leave_a_truthful_record(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path, trial: int
) -> None:
    """`resume` and `resume --abort` started together: one drives the run, the other is refused
    (or finds it ended); no write is applied twice and the journal says what happened."""
    run_id, ledger = _paused(capsys, tmp_path, f"race{trial}")
    (tmp_path / f"race{trial}.go").touch()  # a race: nothing holds the winner back
    env = _env(home, tmp_path)
    procs = [
        subprocess.Popen(
            _planactor("resume", run_id, *extra),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for extra in ((), ("--abort",))
    ]
    results = [p.communicate(timeout=TIMEOUT_S) for p in procs]
    errors = [err for _, err in results]
    # What each process said, for a failure to be read from the log alone.
    said = "; ".join(
        f"{p.args[-1]} exited {p.returncode}: {err!r}"
        for p, (_, err) in zip(procs, results, strict=True)
    )
    refused = [e for e in errors if "is being driven by process" in e or "already ended" in e]
    assert len(refused) == 1, errors
    assert all("Traceback" not in e for e in errors), errors
    _check_truthful(capsys, home, run_id, ledger, said)
