"""`planactor worker`: host the plan workflow and the catalog's actors on a Temporal queue."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from planactor.cli._app import app, catalog, err
from planactor.cli._lab_context import LabOption, lab_context

__all__ = ["AddressOption", "NamespaceOption", "TaskQueueOption"]

AddressOption = typer.Option("localhost:7233", "--address", help="Temporal frontend HOST:PORT.")
NamespaceOption = typer.Option("default", "--namespace", help="Temporal namespace.")
TaskQueueOption = typer.Option(
    "planactor", "--task-queue", help="Temporal task queue the workers of this plan serve."
)


@app.command("worker")
def worker_cmd(
    task_queue: str = TaskQueueOption,
    address: str = AddressOption,
    namespace: str = NamespaceOption,
    lab: Path | None = LabOption,
    max_activities: int = typer.Option(
        32, "--max-activities", min=1, max=1024, help="Actor calls this worker runs at once."
    ),
) -> None:
    """Serve plan runs (`planactor run --engine temporal`) on a Temporal task queue."""
    from planactor.distributed import connect, make_worker

    cat = catalog()
    ctx = lab_context(lab)  # this worker's lab: the actors it runs get it as `lab`
    resources: dict[str, object] = dict(ctx.resources) if ctx is not None else {}

    async def serve() -> None:
        client = await connect(address, namespace=namespace)
        worker = make_worker(
            client,
            task_queue=task_queue,
            catalog=cat,
            resources=resources,
            max_concurrent_activities=max_activities,
        )
        lab_note = f", lab {ctx.path}" if ctx is not None else ""
        err.print(f"worker ready: {address} {namespace}/{task_queue}{lab_note}", markup=False)
        await worker.run()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        err.print("worker stopped", markup=False)
