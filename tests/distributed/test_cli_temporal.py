"""`planactor run --engine temporal`, `runs`, `audit verify` and `resume --as` on a real server.

A worker for the testing pack runs on a thread of this process; the commands run in-process.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import approve, install_pack, ledger_write, new_keys, run, uninstall_pack, write_plan
from planactor import testing
from planactor.distributed import connect, make_worker
from planactor.testing import OUTSIDE_ENV


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Its own PLANACTOR_HOME, no outside settings, and the testing pack in the CLI's catalog."""
    monkeypatch.setenv("PLANACTOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PLANACTOR_LAB", "unset")
    for name in OUTSIDE_ENV:
        monkeypatch.delenv(name, raising=False)
    site = install_pack(
        tmp_path, monkeypatch, "testing", "planactor.testing", dist="planactor_testing_pack"
    )
    yield tmp_path / "home"
    uninstall_pack(site)


@pytest.fixture
def queue(temporal: str) -> Iterator[str]:
    """A task queue served by a worker (testing catalog) on a thread, stopped afterwards."""
    name = f"cli-{uuid.uuid4().hex[:8]}"
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: asyncio.Event | None = None

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        client = await connect(temporal)
        async with make_worker(client, task_queue=name, catalog=testing.catalog()):
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(30)
    yield name
    assert stop is not None
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)
    loop.close()


def test_run_pause_and_signed_resume_from_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, temporal: str, queue: str
) -> None:
    """An approved plan runs as a workflow and pauses (exit 4); `runs` lists it; `resume`
    without --as is refused (exit 2); `resume --abort --as carol` compensates (exit 1); the
    chain verifies."""
    new_keys(capsys, "carol", "dave")
    ledger = tmp_path / "ledger"
    plan = write_plan(
        tmp_path,
        [
            ledger_write(ledger),
            {"id": "u", "actor": "testing.unexpected", "args": {}, "after": ["w1"]},
        ],
        change_ticket="CHG-9",
    )
    approve(capsys, plan, "carol")
    approve(capsys, plan, "dave")
    db = str(tmp_path / "j.db")
    where = ["--address", temporal, "--task-queue", queue]
    code, out, err = run(capsys, "run", str(plan), "--engine", "temporal", *where, "--yes",
                         "--json", "--db", db)  # fmt: skip
    assert code == 4, err
    run_id = json.loads(out)["run_id"]
    code, out, _ = run(capsys, "runs", "--json", "--db", db)
    assert [(r["run_id"], r["status"]) for r in json.loads(out)] == [(run_id, "paused")]
    code, _, err = run(capsys, "resume", run_id, "--abort", "--db", db)
    assert code == 2
    assert "--as NAME" in err
    code, out, err = run(capsys, "resume", run_id, "--abort", "--as", "carol", "--json", "--db", db)
    assert code == 1, err
    assert json.loads(out)["status"] == "compensated"
    code, out, err = run(capsys, "audit", "verify", run_id, "--db", db)
    assert code == 0, out + err
    assert testing.applied_counts(str(ledger)) == {f"{run_id}/w1": 1}
