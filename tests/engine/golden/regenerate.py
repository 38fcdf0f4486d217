"""Record the golden journals: one small run per scenario, exported as the journal's rows.

    .venv/bin/python tests/engine/golden/regenerate.py

Run it only when a journal format change is intended (and say so in the commit): the
files are what *this* version wrote, and `tests/engine/test_engine_golden.py` replays them
in every build, so a change that breaks old journals fails there. Each file holds the run's
row and its events' rows exactly as stored (`body` is the hashed text), so loading them
into an empty journal gives back the run byte for byte.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from planactor import testing
from planactor.engine import Engine, RunResult
from planactor.journal import Journal
from planactor.plan import Plan

HERE = Path(__file__).parent
FORMAT = "planactor-golden-journal/1"


def _plan(intent: str, *steps: dict[str, Any]) -> Plan:
    return Plan.model_validate(
        {"api_version": "planactor/v1", "intent": intent, "requested_by": "golden", "steps": steps}
    )


def _echo(sid: str, **kw: Any) -> dict[str, Any]:
    return {"id": sid, "actor": "core.echo", "args": {"message": sid}, **kw}


def _write(sid: str, **kw: Any) -> dict[str, Any]:
    return {
        "id": sid,
        "actor": "testing.ledger_write",
        "args": {"ledger": "ledger", "item": sid},
        **kw,
    }


def _flaky(sid: str, counter: str, fail_times: int, **kw: Any) -> dict[str, Any]:
    args = {"counter": counter, "fail_times": fail_times}
    return {"id": sid, "actor": "testing.flaky", "args": args, **kw}


def succeeded(engine: Engine) -> RunResult:
    """Three steps, one reading another's output."""
    plan = _plan(
        "golden: a run that succeeds",
        _echo("a"),
        _write("w", after=["a"]),
        {
            "id": "b",
            "actor": "core.echo",
            "args": {"message": "b", "value": {"$ref": "a.output.message"}},
        },
    )
    return engine.run(plan, run_id="golden-succeeded")


def retry(engine: Engine) -> RunResult:
    """A step that fails twice and succeeds on its third attempt."""
    plan = _plan(
        "golden: a step retried",
        _flaky("f", "retry-counter", 2, retry={"attempts": 3, "backoff_s": 0.01}),
        _echo("b", after=["f"]),
    )
    return engine.run(plan, run_id="golden-retry")


def paused_resumed(engine: Engine) -> RunResult:
    """A failure pauses the run; a person resumes it and the step then succeeds."""
    plan = _plan(
        "golden: paused, then resumed",
        _write("w"),
        _flaky("f", "pause-counter", 1, after=["w"]),
        _echo("c", after=["f"]),
    )
    paused = engine.run(plan, run_id="golden-paused-resumed")
    assert paused.status == "paused", paused
    return engine.resume(paused.run_id)


def compensated(engine: Engine) -> RunResult:
    """A failing step whose policy is to compensate: the completed write is undone."""
    plan = _plan(
        "golden: compensated",
        _write("w1"),
        _write("w2", after=["w1"]),
        _flaky("f", "comp-counter", 5, after=["w2"], on_failure="compensate"),
    )
    return engine.run(plan, run_id="golden-compensated")


def parallel(engine: Engine) -> RunResult:
    """A fan-out run with up to three steps at once, and a skipped step."""
    plan = Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "golden: a parallel run",
            "requested_by": "golden",
            "inputs": {"go": False},
            "steps": [
                _echo("root"),
                *(_echo(f"leaf{i}", after=["root"]) for i in range(5)),
                _echo("skipped", after=["leaf0"], when={"input": "go", "op": "truthy"}),
                _echo("join", after=[f"leaf{i}" for i in range(5)]),
            ],
        }
    )
    return engine.run(plan, parallel=3, run_id="golden-parallel")


SCENARIOS: dict[str, tuple[Callable[[Engine], RunResult], str]] = {
    "succeeded": (succeeded, "succeeded"),
    "retry": (retry, "succeeded"),
    "paused-resumed": (paused_resumed, "succeeded"),
    "compensated": (compensated, "compensated"),
    "parallel": (parallel, "succeeded"),
}


def _rows(db: sqlite3.Connection, table: str, run_id: str, order: str) -> list[dict[str, Any]]:
    cur = db.execute(f"SELECT * FROM {table} WHERE run_id = ? ORDER BY {order}", (run_id,))
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def record(name: str, out: Path) -> Path:
    """Run scenario `name` in a scratch directory and write its rows to `out/NAME.json`."""
    scenario, status = SCENARIOS[name]
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path.cwd()
        os.chdir(tmp)  # the actors' files (ledger, counters) are relative: no paths recorded
        try:
            with Journal(Path(tmp) / "j.db") as journal:
                engine = Engine(catalog=testing.catalog(), journal=journal, sleep=lambda _: None)
                result = scenario(engine)
            assert result.status == status, (name, result)
            db = sqlite3.connect(Path(tmp) / "j.db")
            doc = {
                "format": FORMAT,
                "recorded_by": f"planactor {metadata.version('planactor')}",
                "scenario": name,
                "description": (scenario.__doc__ or "").strip(),
                "status": status,
                "runs": _rows(db, "runs", result.run_id, "run_id"),
                "events": _rows(db, "events", result.run_id, "seq"),
            }
            db.close()
        finally:
            os.chdir(cwd)
    path = out / f"{name}.json"
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main() -> None:
    for name in SCENARIOS:
        print(record(name, HERE))


if __name__ == "__main__":
    main()
