"""A worker SIGKILLed mid-plan: another worker finishes the run, every write applied once.

Real processes: `planactor worker --lab F` hosts the storage actors; `planactor run PLAN
--engine temporal` starts the workflow and keeps the journal. The lab takes 1.5 s per
operation, so the kill lands inside the second write; the lab's operation log, keyed by
idempotency key, is the witness that nothing was applied twice or lost.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from clitools import approve, new_keys, run, write_plan
from planactor.journal import Journal
from planactor.lab import Lab
from planactor.testing import OUTSIDE_ENV

TIMEOUT_S = 120.0


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PLANACTOR_HOME of this test's own (keys, journal), no outside settings."""
    monkeypatch.setenv("PLANACTOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PLANACTOR_LAB", "unset")
    for name in OUTSIDE_ENV:
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def _cli(*argv: str) -> list[str]:
    return [sys.executable, "-c", "from planactor.cli import main; main()", *argv]


def _worker(address: str, queue: str, lab: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """A `planactor worker` process, once it says it is about to poll (its log is a file, so
    that a full pipe can never block it)."""
    log = lab.with_name(f"worker-{time.monotonic_ns()}.log")
    with log.open("w") as f:
        proc = subprocess.Popen(
            _cli("worker", "--address", address, "--task-queue", queue, "--lab", str(lab)),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=f,
            text=True,
        )
    deadline = time.monotonic() + TIMEOUT_S
    while "worker ready" not in log.read_text():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the worker never got ready"
        time.sleep(0.05)
    return proc


def _move(sid: str, host: str, *after: str) -> dict[str, Any]:
    return {
        "id": sid,
        "actor": "storage.move_paths",
        "args": {"array": "array-01", "host": host, "to_controller": "array-01-b"},
        "after": list(after),
    }


def _started(db: Path, step: str) -> bool:
    if not db.exists():
        return False
    with Journal(db) as journal:
        return any(
            e.type == "step.started" and e.step == step
            for r in journal.runs()
            for e in journal.events(r.run_id)
        )


def test_a_killed_worker_is_replaced_and_each_write_applies_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path, temporal: str
) -> None:
    """Kill the worker inside the second of three writes, start another: the run succeeds,
    the lab logs each idempotency key applied exactly once, and the journal verifies."""
    lab = tmp_path / "lab.json"
    code, _, err = run(capsys, "lab", "init", "storage", "--path", str(lab), "--latency-ms", "1500")
    assert code == 0, err
    new_keys(capsys, "carol", "dave")
    plan = write_plan(
        tmp_path,
        [_move("m1", "esx-01"), _move("m2", "esx-02", "m1"), _move("m3", "esx-03", "m2")],
        change_ticket="CHG-7",
    )
    approve(capsys, plan, "carol")
    approve(capsys, plan, "dave")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANACTOR_")}
    env["PLANACTOR_HOME"] = str(home)
    queue, db = f"crash-{os.getpid()}", tmp_path / "journal.db"
    first = _worker(temporal, queue, lab, env)
    second = None
    starter = subprocess.Popen(
        _cli("run", str(plan), "--engine", "temporal", "--address", temporal,
             "--task-queue", queue, "--yes", "--json", "--lab", str(lab), "--db", str(db)),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not _started(db, "m2"):
            assert starter.poll() is None, starter.communicate()
            assert time.monotonic() < deadline, "m2 never started"
            time.sleep(0.05)
        time.sleep(0.5)  # inside m2's 1.5 s operation
        first.send_signal(signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
        second = _worker(temporal, queue, lab, env)
        out, err = starter.communicate(timeout=TIMEOUT_S)
    finally:
        for proc in (first, second, starter):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert starter.returncode == 0, err
    result = json.loads(out)
    assert result["status"] == "succeeded"
    run_id = result["run_id"]
    assert Lab(lab).read().applied_counts() == {f"{run_id}/m{i}": 1 for i in (1, 2, 3)}
    code, out, err = run(capsys, "audit", "verify", run_id, "--db", str(db))
    assert code == 0, out + err
