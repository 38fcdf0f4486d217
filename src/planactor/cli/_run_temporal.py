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

from planactor._errors import InputError
from planactor.catalog import Catalog
from planactor.engine import RecordedRun, ResumeGate, RunResult
from planactor.engine._codec import finished_steps
from planactor.journal import Journal
from planactor.validate import ValidatedPlan

__all__ = [
    "EngineName",
    "EngineOption",
    "resume_on_temporal",
    "run_on_temporal",
    "temporal_record",
]


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
    skills = [s.id for s in validated.plan.steps if catalog.get(s.actor).probabilistic]
    if skills:
        # A skill's model call is journaled by the engine that makes it (`step.llm_call`), for
        # replay; a worker cannot hand that record back yet, so the run would be less auditable.
        raise InputError(
            f"step(s) {', '.join(skills)} call an LLM skill, which the Temporal engine does not "
            "run yet (its model call could not be journaled for replay)",
            hint="run this plan with the local engine (no --engine), or drop the skill steps",
        )
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


def temporal_record(journal: Journal, run_id: str) -> Mapping[str, Any] | None:
    """Where a run's workflow is (address, namespace, ids), or None for a local run."""
    journal.run(run_id)  # an unknown run is bad input (exit 2), named with a hint
    started = journal.events(run_id, limit=1)[0].data
    found = started.get("temporal") if started.get("engine") == "temporal" else None
    return found if isinstance(found, Mapping) else None


def resume_on_temporal(
    *,
    journal: Journal,
    catalog: Catalog,
    run_id: str,
    retry: list[str],
    abort: bool,
    gate: ResumeGate,
    identity: str | None,
) -> RunResult:
    """Judge the resume as locally (the same gate), sign the decision as `identity`, send it
    to the paused workflow (its validator checks the signature), and follow the run on."""
    from planactor.distributed import connect, resume_run, sign_decision
    from planactor.policy import KeyStore, key_id_of

    if identity is None:
        raise InputError(
            f"run {run_id} runs on Temporal: its workflow takes only a signed decision",
            hint=f"`planactor resume {run_id} --as NAME` signs it with NAME's approver key",
        )
    where = temporal_record(journal, run_id)
    assert where is not None
    record = journal.run(run_id)
    events = journal.events(run_id)
    authorization = gate(
        RecordedRun(
            run_id=run_id,
            plan=record.plan,
            plan_hash=record.plan_hash,
            started=events[0].data,
            done=finished_steps(events),
            abort=abort,
        )
    )
    key = KeyStore().signing_key(identity, trusted_only=True)  # the validator trusts no other
    decision = sign_decision(
        run_id=run_id,
        plan_hash=record.plan_hash,
        identity=identity,
        key_id=key_id_of(key.public_key()),
        key=key,
        retry=retry,
        abort=abort,
        authorization=dict(authorization) if authorization is not None else None,
    )

    async def go() -> RunResult:
        client = await connect(str(where["address"]), namespace=str(where["namespace"]))
        return await resume_run(
            client, journal=journal, catalog=catalog, run_id=run_id, decision=decision
        )

    return asyncio.run(go())
