"""Helpers of the Temporal tests: run a plan on Temporal and locally, and compare records."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from planactor import testing
from planactor.distributed import TrustedKey, connect, make_worker, start_run
from planactor.engine import Engine, RunResult
from planactor.journal import Journal
from planactor.plan import Plan
from planactor.validate import validate_plan


def plan_of(steps: list[dict[str, Any]], intent: str = "temporal test") -> Plan:
    return Plan.model_validate(
        {"api_version": "planactor/v1", "intent": intent, "requested_by": "tests", "steps": steps}
    )


def run_local(plan: Plan, journal: Journal, run_id: str) -> RunResult:
    cat = testing.catalog()
    return Engine(catalog=cat, journal=journal).run(validate_plan(plan, catalog=cat), run_id=run_id)


def run_temporal(
    address: str,
    plan: Plan,
    journal: Journal,
    run_id: str,
    *,
    parallel: int = 1,
    trusted: list[TrustedKey] | None = None,
) -> RunResult:
    """Run `plan` on Temporal with a worker in this process; the journal is kept here."""
    cat = testing.catalog()

    async def main() -> RunResult:
        client = await connect(address)
        queue = f"q-{uuid.uuid4().hex[:8]}"
        async with make_worker(client, task_queue=queue, catalog=cat):
            return await start_run(
                client,
                journal=journal,
                plan=validate_plan(plan, catalog=cat),
                catalog=cat,
                task_queue=queue,
                run_id=run_id,
                parallel=parallel,
                trusted=trusted,
            )

    return asyncio.run(main())


def logical_record(journal: Journal, run_id: str) -> dict[str, Any]:
    """What ran: each step's inputs, output (or error kind), and the compensations in order."""
    steps: dict[str, dict[str, Any]] = {}
    compensations: list[str] = []
    for ev in journal.events(run_id):
        if ev.step is None:
            continue
        s = steps.setdefault(ev.step, {})
        if ev.type == "step.started":
            s["args"] = ev.data["args"]
        elif ev.type == "step.succeeded":
            s["output"] = ev.data["output"]
        elif ev.type == "step.failed":
            s["error"] = ev.data["error"]["kind"]
        elif ev.type == "step.skipped":
            s["skipped"] = ev.data["reason"]
        elif ev.type == "compensation.succeeded":
            compensations.append(ev.step)
    return {"status": journal.run(run_id).status, "steps": steps, "compensated": compensations}


def event_kinds(journal: Journal, run_id: str) -> list[tuple[str, str | None, int | None]]:
    return [(e.type, e.step, e.attempt) for e in journal.events(run_id)]


def fresh(path: Path) -> Path:
    path.unlink(missing_ok=True)
    return path


def write(sid: str, ledger: Path, *after: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": sid,
        "actor": "testing.ledger_write",
        "args": {"ledger": str(ledger), "item": sid},
        "after": list(after),
        **extra,
    }


def flaky(sid: str, counter: Path, fails: int, *after: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": sid,
        "actor": "testing.flaky",
        "args": {"counter": str(counter), "fail_times": fails},
        "after": list(after),
        **extra,
    }


def plans(d: Path) -> dict[str, list[dict[str, Any]]]:
    """The plans the Temporal tests run: each is also run locally, or replayed."""
    led, c = d / "ledger", d / "counter"
    return {
        "chain": [
            write("w1", led),
            {"id": "e", "actor": "core.echo", "args": {"message": {"$ref": "w1.output.item"}}},
            write("w2", led, "e"),
        ],
        "fan-out": [
            *(write(f"w{i}", led) for i in range(5)),
            {
                "id": "all",
                "actor": "core.echo",
                "args": {"message": "done"},
                "after": [f"w{i}" for i in range(5)],
            },
        ],
        "retry": [
            write("w1", led),
            flaky("f", c, 2, "w1", retry={"attempts": 3, "backoff_s": 0.01}),
        ],
        "compensated": [
            write("w1", led),
            write("w2", led, "w1"),
            flaky("f", c, 5, "w2", on_failure="compensate"),
        ],
        "continue-and-skip": [
            flaky("r", c, 5, on_failure="continue"),
            {
                "id": "needs",
                "actor": "core.echo",
                "args": {"message": "x", "value": {"$ref": "r.output.calls"}},
            },
            {
                "id": "cond",
                "actor": "core.echo",
                "args": {"message": "no"},
                "when": {"$input": "go", "op": "truthy"},
            },
        ],
    }
