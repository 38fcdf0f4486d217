"""The engine: runs plans deterministically against a catalog, recording them in a journal.

`Engine` is the entry point: `run` a validated plan, `resume` a paused or interrupted run
from its journal, `replay` a run to check that the journal is what the engine decides.
The parts, each its own module: the pure scheduler (`_scheduler`), the codec between its
commands and events and the journal's records (`_codec`, over the event vocabulary in
`planactor.journal`), one run's I/O loop (`_runner`) and its worker threads (`_pool`), and
the rebuilding of a run from its records (`_replay`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from planactor._errors import JournalError
from planactor.catalog import Catalog
from planactor.engine._codec import append_resumed, describe_command, finished_steps
from planactor.engine._replay import Divergence, rebuild, recorded_scheduler
from planactor.engine._results import RecordedRun, ReplayReport, ResumeGate, RunResult, StepOutcome
from planactor.engine._runner import OnEvent, Runner
from planactor.engine._scheduler import (
    Command,
    Resumed,
    Scheduler,
    StartCompensation,
    StartStep,
    StepSpec,
)
from planactor.journal import EventKind, Journal
from planactor.plan import Plan, RetryPolicy
from planactor.validate import ValidatedPlan, validate_plan

__all__ = [
    "Engine",
    "OnEvent",
    "RecordedRun",
    "ReplayReport",
    "ResumeGate",
    "RunResult",
    "StepOutcome",
    "specs_for",
]


def specs_for(catalog: Catalog, plan: Plan) -> dict[str, StepSpec]:
    """The scheduler's view of each actor the plan calls."""
    specs = {}
    for name in {s.actor for s in plan.steps}:
        a = catalog.get(name)
        specs[name] = StepSpec(
            effect=a.effect,
            idempotent=a.idempotent,
            compensate=a.compensate,
            retry=a.retry or RetryPolicy(),
            timeout_s=a.timeout_s,
        )
    return specs


class Engine:
    """Runs plans deterministically against a catalog, recording everything in a journal."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        journal: Journal,
        on_event: OnEvent | None = None,
        sleep: Callable[[float], None] = time.sleep,
        resources: Mapping[str, object] | None = None,
    ) -> None:
        """`resources`: what the actors may use, by name (`{"lab": Lab(path)}`); each call's
        `ActorContext.resource(name, type)` hands them out. Nothing reaches actors through
        process-global state, so engines in one process can drive different worlds.

        `on_event(kind, step, data)` is told of each event once it is journaled (a progress
        display, a test's fault injection); a `step.started` brings `{"attempt": n}`."""
        self.catalog = catalog
        self.journal = journal
        self._on_event = on_event
        self._sleep = sleep
        # One read-only view shared by every context: no copy per step.
        self._resources: Mapping[str, object] = MappingProxyType(dict(resources or {}))

    # -- entry points -------------------------------------------------------------------------

    def run(
        self,
        plan: ValidatedPlan | Plan,
        *,
        dry_run: bool = False,
        parallel: int = 1,
        run_id: str | None = None,
        authorization: Mapping[str, Any] | None = None,
        read_only: bool = False,
        labels: Mapping[str, Any] | None = None,
    ) -> RunResult:
        """Run a validated plan to its end, or until it pauses.

        `plan` is what `validate_plan` or `load_plan` returned: the journal records the hash
        it carries, computed when the plan was validated, so the run is bound to the plan
        that was checked (and approved). A bare `Plan` is validated here first, against this
        engine's catalog; so is a validated plan whose catalog is another one.

        `authorization` (approvals and policy, see `planactor.policy.authorize`) is recorded
        in the run's first event, under the hash chain, for the audit.

        `read_only` makes every step whose actor writes fail, final and before its actor is
        called (`ReadOnlyViolation`, journaled), whatever the plan says: what an adaptive
        loop (`planactor ask`) runs can look but never touch. It is recorded in the first
        event, so a resume keeps it. `labels` (e.g. `{"kind": "ask", "question": ...}`) are
        recorded there too, under the hash chain.
        """
        if isinstance(plan, Plan):
            plan = validate_plan(plan, catalog=self.catalog)
        elif plan.catalog is not self.catalog:
            plan = validate_plan(plan.plan, catalog=self.catalog)
        if parallel < 1:
            raise ValueError("parallel must be at least 1")
        # The hash was computed once, by validation: a canonical serialisation of the plan.
        checked, plan_hash = plan.plan, plan.hash
        if len(checked.steps) != plan.report.step_count:  # cheap; catches a plan edited in place
            raise ValueError("the validated plan was changed after validation; validate it again")
        run_id = run_id or _new_run_id()
        sched = Scheduler(
            plan=checked,
            specs=specs_for(self.catalog, checked),
            max_parallel=parallel,
            dry_run=dry_run,
        )
        runner = self._runner(run_id, checked, plan_hash, sched, parallel, read_only)
        self.journal.begin_run(
            run_id=run_id,
            plan=checked,
            dry_run=dry_run,
            plan_hash=plan_hash,
            data={
                "dry_run": dry_run,
                "parallel": parallel,
                "steps": len(checked.steps),
                **({"authorization": dict(authorization)} if authorization is not None else {}),
                **(dict(labels) if labels else {}),
                **({"read_only": True} if read_only else {}),
                # A remediation's link to the paused run it recovers (hashed in the plan too).
                **({"recovers": checked.recovers} if checked.recovers is not None else {}),
                # Planner metadata is outside the plan hash: chain it here for the audit.
                **(
                    {"planner": checked.planner.model_dump(mode="json")}
                    if checked.planner is not None
                    else {}
                ),
            },
        )
        self._emit(EventKind.RUN_STARTED, None, {"run_id": run_id, "plan_hash": plan_hash})
        return runner.drive(sched.start())

    async def run_async(
        self,
        plan: ValidatedPlan | Plan,
        *,
        dry_run: bool = False,
        parallel: int = 1,
        run_id: str | None = None,
        authorization: Mapping[str, Any] | None = None,
        read_only: bool = False,
        labels: Mapping[str, Any] | None = None,
    ) -> RunResult:
        """`run` without blocking the event loop (the engine itself runs on a thread)."""
        return await asyncio.to_thread(
            self.run,
            plan,
            dry_run=dry_run,
            parallel=parallel,
            run_id=run_id,
            authorization=authorization,
            read_only=read_only,
            labels=labels,
        )

    def resume(
        self,
        run_id: str,
        *,
        retry: Iterable[str] = (),
        abort: bool = False,
        parallel: int = 1,
        take_over: bool = False,
        gate: ResumeGate | None = None,
    ) -> RunResult:
        """Continue a paused or interrupted run from its journal.

        The run's lease is taken first (RunBusy if a live process drives it; `take_over`
        for one held on another host), so the record rebuilt below is one nobody else is
        extending. `gate`, given the verified record, raises to refuse the resume or
        returns the authorization to chain into the `run.resumed` event: the engine
        judges no signatures itself (`planactor resume` passes the policy's gate).
        """
        self.journal.claim(run_id, take_over=take_over)
        record = self.journal.run(run_id)
        if record.status in ("succeeded", "failed", "compensated"):
            raise JournalError(
                f"run {run_id} already ended ({record.status}); nothing to resume",
                hint=f"`planactor audit {run_id}` shows what it did",
            )
        chain = self.journal.verify(run_id)
        if not chain.ok:
            raise JournalError(
                f"run {run_id}: the journal fails verification at event #{chain.first_bad_seq} "
                f"({chain.reason}); refusing to resume a run whose record was altered"
            )
        events = self.journal.events(run_id)
        plan = record.plan
        stored_hash = plan.hash  # a canonical serialisation of the whole plan: once
        started_hash = events[0].data.get("plan_hash")
        if stored_hash != record.plan_hash or stored_hash != started_hash:
            raise JournalError(
                f"run {run_id}: the stored plan's hash {stored_hash} is not the one the run "
                f"started with ({started_hash}); a run never executes a different plan"
            )
        retry = tuple(retry)
        unknown = [r for r in retry if r not in {s.id for s in plan.steps}]
        if unknown:
            raise JournalError(f"--retry names no step of run {run_id}: {', '.join(unknown)}")
        try:
            # Rebuild with the parallelism the run had, not the one asked for now.
            sched = recorded_scheduler(plan, specs_for(self.catalog, plan), events[0])
            leftover = rebuild(sched, events)
        except Divergence as d:
            raise JournalError(
                f"run {run_id}: the journal does not match what the engine decides at event "
                f"#{d.seq} (expected {d.expected}, found {d.found}); refusing to resume",
                hint="`planactor replay` shows the divergence; did the catalog change?",
            ) from None
        authorization = None
        if gate is not None:
            authorization = gate(
                RecordedRun(
                    run_id=run_id,
                    plan=plan,
                    plan_hash=record.plan_hash,
                    started=events[0].data,
                    done=finished_steps(events),
                    abort=abort,
                )
            )
        read_only = events[0].data.get("read_only") is True
        runner = self._runner(run_id, plan, record.plan_hash, sched, parallel, read_only)
        # Decisions computed before the interruption but never recorded carry no effect:
        # record them now, and withdraw starts that never reached an actor.
        pending: list[Command] = []
        for cmd in leftover:
            if isinstance(cmd, StartStep | StartCompensation):
                sched.withdraw(cmd)
            else:
                pending.append(cmd)
        if pending:
            finished = runner.journal_commands(pending, [])
            if finished is not None:
                self.journal.flush()
                return runner.result(finished)
        sched.max_parallel = parallel
        resumed = Resumed(retry=retry, abort=abort)
        append_resumed(
            self.journal, run_id, resumed, parallel=parallel, authorization=authorization
        )
        self.journal.set_status(run_id, "running")
        self._emit(EventKind.RUN_RESUMED, None, {"run_id": run_id})
        return runner.drive(sched.handle(resumed))

    def replay(self, run_id: str, *, plan: ValidatedPlan | Plan | None = None) -> ReplayReport:
        """Feed the recorded results to a fresh scheduler and compare its commands.

        Given `plan`, also check that it is the plan this run executed.
        """
        record = self.journal.run(run_id)
        events = self.journal.events(run_id)
        stored = record.plan
        given_hash = None if plan is None else plan.hash
        plan_matches = given_hash is None or given_hash == record.plan_hash
        if stored.hash != events[0].data.get("plan_hash"):
            return ReplayReport(
                run_id=run_id,
                ok=False,
                events=len(events),
                first_divergence=0,
                note="the stored plan's hash is not the one the run started with",
            )
        try:
            sched = recorded_scheduler(stored, specs_for(self.catalog, stored), events[0])
            leftover = rebuild(sched, events)
        except Divergence as d:
            return ReplayReport(
                run_id=run_id,
                ok=False,
                events=len(events),
                plan_matches=plan_matches,
                first_divergence=d.seq,
                expected=d.expected,
                found=d.found,
            )
        note = None
        if not plan_matches:
            note = (
                f"the plan given ({given_hash}) is not the plan this run "
                f"executed ({record.plan_hash})"
            )
        elif leftover:
            note = f"the run was interrupted; next: {describe_command(leftover[0])}"
        return ReplayReport(
            run_id=run_id, ok=plan_matches, events=len(events), plan_matches=plan_matches, note=note
        )

    # -- helpers ------------------------------------------------------------------------------

    def _runner(
        self,
        run_id: str,
        plan: Plan,
        plan_hash: str,
        sched: Scheduler,
        parallel: int,
        read_only: bool = False,
    ) -> Runner:
        return Runner(
            catalog=self.catalog,
            journal=self.journal,
            on_event=self._on_event,
            sleep=self._sleep,
            resources=self._resources,
            run_id=run_id,
            plan=plan,
            plan_hash=plan_hash,
            scheduler=sched,
            parallel=parallel,
            read_only=read_only,
        )

    def _emit(self, kind: EventKind, step: str | None, data: Mapping[str, Any]) -> None:
        if self._on_event is not None:
            self._on_event(kind, step, data)


def _new_run_id() -> str:
    return "run-" + uuid.uuid4().hex[:12]
