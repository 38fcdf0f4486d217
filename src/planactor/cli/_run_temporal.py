"""`planactor run PLAN --engine temporal`: the same approved plan, run as a Temporal workflow.

`run` has checked the plan, its approvals and the policy before this is called; here the
workflow starts (its id derived from the run id), and this process journals the run's
events as the workflow reports them, so `runs`, `audit` and `audit verify` read it as any
other run. Workers (`planactor worker --task-queue Q`) carry out the steps.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import typer

from planactor.catalog import Catalog
from planactor.engine import RunResult
from planactor.journal import Journal
from planactor.validate import ValidatedPlan

__all__ = ["EngineName", "EngineOption", "run_on_temporal"]


class EngineName(StrEnum):
    local = "local"
    temporal = "temporal"


EngineOption = typer.Option(
    EngineName.local,
    "--engine",
    help="local: this process runs the plan; temporal: a Temporal workflow does "
    "(workers: `planactor worker`). See docs/distributed.md.",
)


def run_on_temporal(
    validated: ValidatedPlan,
    *,
    catalog: Catalog,
    journal: Journal,
    authorization: Mapping[str, Any] | None,
    address: str,
    namespace: str,
    task_queue: str,
    parallel: int,
    dry_run: bool,
) -> RunResult:
    """Start the plan's workflow and follow it to its end or pause, journaling its events."""
    from planactor.distributed import connect, start_run, trusted_key
    from planactor.policy import KeyStore

    # Who may sign a later decision on this run (resume, retry, abort): the trusted approvers
    # now; their keys travel in the workflow's input, so the update validator can check.
    trusted = [trusted_key(k.identity, k.key_id, k.key) for k in KeyStore().trusted().values()]

    async def go() -> RunResult:
        client = await connect(address, namespace=namespace)
        return await start_run(
            client,
            journal=journal,
            plan=validated,
            catalog=catalog,
            task_queue=task_queue,
            run_id="run-" + uuid.uuid4().hex[:12],
            parallel=parallel,
            dry_run=dry_run,
            authorization=authorization,
            trusted=trusted,
        )

    return asyncio.run(go())
