"""Two `planactor run`s of different plans against one storage lab and one journal at once, as
real processes (issue 18): both succeed, every write lands once, no host loses a path, and both
runs verify."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from clitools import approve, new_keys, run
from planactor.lab import Lab

TIMEOUT_S = 300.0


def _upgrade(array: str) -> list[str]:
    return [
        "plan",
        f"Upgrade the firmware on {array} to 5.2.1",
        "--planner",
        "routine",
        "--routine",
        "storage.firmware_upgrade",
        "--param",
        f"array={array}",
        "--param",
        "version=5.2.1",
        "--ticket",
        "CHG-1",
    ]


def test_two_runs_on_one_lab_and_one_journal_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """Upgrades of array-01 and array-03 started together both succeed; the lab logs each write
    once, records no DU, and each run's chain verifies in the shared journal."""
    lab_file = tmp_path / "lab.json"
    assert run(capsys, "lab", "init", "storage", "--path", str(lab_file))[0] == 0
    new_keys(capsys, "carol", "dave")
    plans = []
    for array in ("array-01", "array-03"):
        plan = tmp_path / f"{array}.json"
        code, _, err = run(capsys, *_upgrade(array), "--lab", str(lab_file), "-o", str(plan))
        assert code == 0, err
        approve(capsys, plan, "carol")
        approve(capsys, plan, "dave")
        plans.append(plan)
    db = tmp_path / "journal.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANACTOR_")}
    env["PLANACTOR_HOME"] = str(home)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from planactor.cli import main; main()",
                "run",
                str(plan),
                "--yes",
                "--json",
                "--lab",
                str(lab_file),
                "--db",
                str(db),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for plan in plans
    ]
    outputs = [p.communicate(timeout=TIMEOUT_S) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-2000:]
    run_ids = [json.loads(out)["run_id"] for out, _ in outputs]
    doc = Lab(lab_file).read()
    keys = Counter(o["idempotency_key"] for o in doc.operations if o.get("idempotency_key"))
    assert keys, "the runs wrote nothing"
    assert all(n == 1 for n in keys.values()), keys
    assert {k.split("/")[0] for k in keys} == set(run_ids)
    assert doc.violations == []
    for run_id in run_ids:
        code, out, err = run(capsys, "audit", "verify", run_id, "--db", str(db))
        assert code == 0, out + err
