"""The activities: one actor call (or one compensation) of one step, on a worker.

An actor runs on a thread while the activity heartbeats, so a worker that dies mid-call is
noticed after the workflow's heartbeat timeout and the call goes to another worker (with
the same idempotency key, `RUN_ID/STEP_ID`). An actor's failure becomes a non-retryable
ApplicationError whose detail is our StepError: the scheduler in the workflow decides.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from planactor._speed import model_json
from planactor.catalog import ActorContext, Catalog
from planactor.distributed._protocol import (
    ACTOR_ACTIVITY,
    COMPENSATION_ACTIVITY,
    ActorCall,
    ActorResult,
    CompensationCall,
)
from planactor.engine._codec import error_data, idempotency_key
from planactor.engine._runner import step_error

__all__ = ["Activities"]


class Activities:
    """The catalog's actors as Temporal activities, with the resources this worker holds."""

    def __init__(self, *, catalog: Catalog, resources: Mapping[str, object] | None = None) -> None:
        self.catalog = catalog
        self._resources: Mapping[str, object] = MappingProxyType(dict(resources or {}))

    def _context(
        self, run_id: str, step: str, attempt: int, suffix: str = "", *, dry_run: bool = False
    ) -> ActorContext:
        return ActorContext(
            run_id=run_id,
            step_id=step,
            idempotency_key=idempotency_key(run_id, step, suffix),
            dry_run=dry_run,
            attempt=attempt,
            resources=self._resources,
        )

    @activity.defn(name=ACTOR_ACTIVITY)
    async def call_actor(self, call: ActorCall) -> ActorResult:
        result: ActorResult = await _heartbeating(self._call, call)
        return result

    @activity.defn(name=COMPENSATION_ACTIVITY)
    async def compensate(self, call: CompensationCall) -> None:
        await _heartbeating(self._compensate, call)

    # -- on the actor's thread ----------------------------------------------------------------

    def _call(self, call: ActorCall) -> ActorResult:
        try:
            actor = self.catalog.get(call.actor)
            ctx = self._context(call.run_id, call.step, call.attempt, dry_run=call.dry_run)
            if call.dry_run and actor.effect == "write":
                inp = actor.parse_input(call.args)
                if actor.check is None:
                    return ActorResult(output=None, note="not simulated: the actor has no check")
                found = actor.check(inp, ctx)
                shown = found.model_dump(mode="json") if isinstance(found, BaseModel) else found
                return ActorResult(output=None, note=f"would change: {shown}")
            return ActorResult(output=model_json(actor.call(call.args, ctx)))
        except Exception as e:
            raise _final(e) from None

    def _compensate(self, call: CompensationCall) -> None:
        try:
            actor = self.catalog.get(call.actor)
            comp = self.catalog.get(call.compensate)
            inp = actor.compensation_input(
                comp, actor.parse_input(call.args), actor.output_model.model_validate(call.output)
            )
            comp.call(inp, self._context(call.run_id, call.step, 1, "/compensate"))
        except Exception as e:
            raise _final(e) from None


def _final(e: Exception) -> ApplicationError:
    """The actor's failure for the workflow: our StepError, never retried by Temporal."""
    err = step_error(e)
    return ApplicationError(err.message, error_data(err), type=err.kind, non_retryable=True)


async def _heartbeating(fn: Any, call: Any) -> Any:
    """Run `fn(call)` on a thread, heartbeating until it returns."""
    task = asyncio.ensure_future(asyncio.to_thread(fn, call))
    info = activity.info()
    every = 1.0
    if info.heartbeat_timeout is not None:
        every = max(0.05, min(1.0, info.heartbeat_timeout.total_seconds() / 3))
    while True:
        done, _ = await asyncio.wait({task}, timeout=every)
        if done:
            return task.result()
        activity.heartbeat()
