"""Beyond one machine: approved plans on Temporal, driven by the engine's own scheduler.

    PlanWorkflow      the workflow: the plan interpreter (module `_workflow`, sandbox-safe)
    Activities        the catalog's actors as activities, with a worker's resources
    make_worker       a Temporal worker for a task queue (`planactor worker`)
    start_run         start a run's workflow, journal it, follow it to its end or pause
    resume_run        send a signed decision (resume, retry, abort) to a paused run
    sign_decision     sign a decision over the run id and the plan hash

The names load on first use (PEP 562): the workflow sandbox imports this package's
`_workflow` module afresh for each run, and must not drag the worker's and the starter's
imports in with it; nor does `planactor --version` pay for temporalio.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planactor.distributed._activities import Activities
    from planactor.distributed._protocol import (
        Decision,
        RunInput,
        TrustedKey,
        sign_decision,
        trusted_key,
        verify_decision,
        workflow_id,
    )
    from planactor.distributed._starter import Follower, resume_run, start_run
    from planactor.distributed._worker import (
        connect,
        dev_server_path,
        make_worker,
        workflow_runner,
    )
    from planactor.distributed._workflow import PlanWorkflow

_WHERE = {
    "Activities": "_activities",
    "Decision": "_protocol",
    "RunInput": "_protocol",
    "TrustedKey": "_protocol",
    "sign_decision": "_protocol",
    "trusted_key": "_protocol",
    "verify_decision": "_protocol",
    "workflow_id": "_protocol",
    "Follower": "_starter",
    "resume_run": "_starter",
    "start_run": "_starter",
    "connect": "_worker",
    "dev_server_path": "_worker",
    "make_worker": "_worker",
    "workflow_runner": "_worker",
    "PlanWorkflow": "_workflow",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "Activities",
    "Decision",
    "Follower",
    "PlanWorkflow",
    "RunInput",
    "TrustedKey",
    "connect",
    "dev_server_path",
    "make_worker",
    "resume_run",
    "sign_decision",
    "start_run",
    "trusted_key",
    "verify_decision",
    "workflow_id",
    "workflow_runner",
]
