"""The starter: starts (or attaches to) a run's workflow and keeps its journal.

The journal stays the audit record for Temporal runs too. The starter records the run's
`run.started` event (with the Temporal workflow and run ids), then reads the workflow's
records (the `progress` query) and journals each through the engine's codec, exactly the
events a local run journals, hash-chained. A mirror scheduler fed the same records gives
the run's result in the local engine's shape (`RunResult`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from planactor._errors import JournalError
from planactor.catalog import Catalog
from planactor.distributed._protocol import (
    PROGRESS_QUERY,
    RESUME_UPDATE,
    WORKFLOW_NAME,
    Decision,
    Progress,
    RunInput,
    TrustedKey,
    decode,
    spec_from,
    spec_to,
    workflow_id,
)
from planactor.engine import (
    Resumed,
    RunResult,
    Scheduler,
    StepOutcome,
    specs_for,
)
from planactor.engine._codec import append_command, append_result, append_resumed
from planactor.engine._scheduler import (
    CompensationFailed,
    CompensationSucceeded,
    FinishRun,
    PauseRun,
    SkipStep,
    StepFailed,
    StepSucceeded,
)
from planactor.journal import Journal
from planactor.plan import Plan
from planactor.validate import ValidatedPlan

__all__ = ["Follower", "resume_run", "start_run"]

_POLL_S = 0.05
_HEADER_KINDS = ("step.retrying", "step.llm_call")


async def start_run(
    client: Client,
    *,
    journal: Journal,
    plan: ValidatedPlan,
    catalog: Catalog,
    task_queue: str,
    run_id: str,
    parallel: int = 1,
    dry_run: bool = False,
    authorization: Mapping[str, Any] | None = None,
    trusted: list[TrustedKey] | None = None,
    heartbeat_s: float = 5.0,
) -> RunResult:
    """Start the run's workflow, journal it, and follow it until it ends or pauses.

    Approvals and policy are judged before this is called (`planactor run`): the workflow
    receives the plan and the authorization as its input, so both are in its history.
    """
    checked = plan.plan
    specs = specs_for(catalog, checked)
    inp = RunInput(
        run_id=run_id,
        plan=json.dumps(checked.to_document(), ensure_ascii=False),
        plan_hash=plan.hash,
        specs={name: spec_to(s) for name, s in specs.items()},
        parallel=parallel,
        dry_run=dry_run,
        authorization=dict(authorization) if authorization is not None else None,
        trusted=list(trusted or []),
        heartbeat_s=heartbeat_s,
    )
    wid = workflow_id(run_id)
    try:
        handle: WorkflowHandle[Any, Any] = await client.start_workflow(
            WORKFLOW_NAME, inp, id=wid, task_queue=task_queue
        )
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(wid)  # attach: the run id names one workflow
    temporal_run = handle.first_execution_run_id or handle.result_run_id or ""
    journal.begin_run(
        run_id=run_id,
        plan=checked,
        dry_run=dry_run,
        plan_hash=plan.hash,
        data={
            "dry_run": dry_run,
            "parallel": parallel,
            "steps": len(checked.steps),
            **({"authorization": dict(authorization)} if authorization is not None else {}),
            "engine": "temporal",
            "temporal": {
                "workflow_id": wid,
                "run_id": temporal_run,
                "address": client.service_client.config.target_host,
                "namespace": client.namespace,
                "task_queue": task_queue,
            },
        },
    )
    journal.flush()
    follower = Follower(
        journal=journal,
        run_id=run_id,
        plan=checked,
        plan_hash=plan.hash,
        catalog=catalog,
        parallel=parallel,
        dry_run=dry_run,
    )
    return await follower.follow(handle)


async def resume_run(
    client: Client, *, journal: Journal, catalog: Catalog, run_id: str, decision: Decision
) -> RunResult:
    """Send a signed decision to a paused Temporal run, then follow it on."""
    record = journal.run(run_id)
    events = journal.events(run_id)
    started = events[0].data
    if started.get("engine") != "temporal":
        raise JournalError(f"run {run_id} did not run on Temporal", hint="`planactor resume`")
    journal.claim(run_id)
    handle = client.get_workflow_handle(started["temporal"]["workflow_id"])
    await handle.execute_update(RESUME_UPDATE, decision, result_type=str)
    journaled = sum(1 for e in events[1:] if e.type not in _HEADER_KINDS)
    follower = Follower(
        journal=journal,
        run_id=run_id,
        plan=record.plan,
        plan_hash=record.plan_hash,
        catalog=catalog,
        parallel=int(started["parallel"]),
        dry_run=bool(started["dry_run"]),
        skip=journaled,
    )
    return await follower.follow(handle)


class Follower:
    """Reads a run's records from its workflow, journals the new ones, mirrors the state."""

    def __init__(
        self,
        *,
        journal: Journal,
        run_id: str,
        plan: Plan,
        plan_hash: str,
        catalog: Catalog,
        parallel: int,
        dry_run: bool,
        skip: int = 0,
    ) -> None:
        self.journal, self.run_id, self.plan_hash = journal, run_id, plan_hash
        self.dry_run = dry_run
        specs = {k: spec_from(spec_to(v)) for k, v in specs_for(catalog, plan).items()}
        self.mirror = Scheduler(plan=plan, specs=specs, max_parallel=parallel, dry_run=dry_run)
        self.mirror.start()
        self.skip = skip  # records already in the journal (a resume follows a run on)
        self.seen = 0
        self.notes: dict[str, str] = {}
        self.end: PauseRun | FinishRun | None = None

    async def follow(self, handle: WorkflowHandle[Any, Any]) -> RunResult:
        idle = 0
        while True:
            try:
                prog = await handle.query(PROGRESS_QUERY, self.seen, result_type=Progress)
            except RPCError:
                await self._check_open(handle)
                await asyncio.sleep(0.5)  # no worker answers right now: it may be restarting
                continue
            last = None
            for rec in prog.records:
                last = self.take(rec)
            self.journal.flush()
            # A pause counts once it is news: a resume reads the old one again first.
            if self.seen > self.skip and (
                isinstance(last, FinishRun)
                or (isinstance(last, PauseRun) and prog.status == "paused")
            ):
                return self.result()
            idle = 0 if prog.records else idle + 1
            if idle and idle % 40 == 0:  # about every 2 s without news
                await self._check_open(handle)
            await asyncio.sleep(_POLL_S)

    async def _check_open(self, handle: WorkflowHandle[Any, Any]) -> None:
        """JournalError if the workflow ended without finishing the plan (failed, terminated,
        cancelled, timed out): its events stop there, and the journal says so."""
        desc = await handle.describe()
        status = desc.status
        if status is None or status == WorkflowExecutionStatus.RUNNING:
            return
        if status == WorkflowExecutionStatus.COMPLETED:
            return  # its last records are still to be read
        self.journal.set_status(self.run_id, "failed")
        self.journal.flush()
        raise JournalError(
            f"run {self.run_id}: its Temporal workflow {handle.id} ended as {status.name} "
            "before the plan did",
            hint=f"`temporal workflow show --workflow-id {handle.id}` says why",
        )

    def take(self, rec: dict[str, Any]) -> object:
        """Journal one record (unless it already is) and feed it to the mirror."""
        item = decode(rec)
        write = self.seen >= self.skip
        self.seen += 1
        j, run_id = self.journal, self.run_id
        if isinstance(item, Resumed):
            if write:
                auth = {"identity": rec.get("identity"), "decision": rec.get("authorization")}
                append_resumed(
                    j, run_id, item, parallel=int(rec.get("parallel", 1)), authorization=auth
                )
                j.set_status(run_id, "running")
            self.end = None
            self.mirror.handle(item)
            return item
        if isinstance(
            item, StepSucceeded | StepFailed | CompensationSucceeded | CompensationFailed
        ):
            note = rec.get("note")
            if note is not None:
                self.notes[rec["step"]] = note
            if write:
                append_result(j, run_id, item, note)
            self.mirror.handle(item)
            return item
        if write:
            append_command(j, run_id, item)
        if isinstance(item, SkipStep):
            self.notes[item.step] = item.reason
        elif isinstance(item, PauseRun):
            self.end = item
            if write:
                j.set_status(run_id, "paused")
        elif isinstance(item, FinishRun):
            self.end = item
            if write:
                j.set_status(run_id, item.status)
        return item

    def result(self) -> RunResult:
        sched = self.mirror
        return RunResult(
            run_id=self.run_id,
            status=sched.status,
            plan_hash=self.plan_hash,
            dry_run=self.dry_run,
            reason=self.end.reason if self.end is not None else None,
            steps={
                sid: StepOutcome(
                    step=sid, state=st, attempts=n, output=out, note=self.notes.get(sid)
                )
                for sid, st, n, out in sched.outcomes()
            },
            commits=self.journal.commits,
        )
