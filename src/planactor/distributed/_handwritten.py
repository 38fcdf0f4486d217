"""A hand-written Temporal workflow, the baseline of `planactor bench engine --engine temporal`.

What a Temporal user would write for a chain or a fan-out of the same actor calls: no plan,
no scheduler, no records; the same activity (`planactor.actor`) with the same options.
The interpreter's overhead is the difference between the two.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from planactor.distributed._protocol import ACTOR_ACTIVITY, ActorCall, ActorResult

__all__ = ["HandWritten"]


@workflow.defn(name="planactor.bench.handwritten")
class HandWritten:
    @workflow.run
    async def run(self, shape: str, steps: int) -> int:
        def call(i: int) -> ActorCall:
            return ActorCall(
                run_id="hand", step=f"s{i}", actor="core.echo", attempt=1, args={"message": "noop"}
            )

        async def one(i: int) -> ActorResult:
            result: ActorResult = await workflow.execute_activity(
                ACTOR_ACTIVITY,
                call(i),
                result_type=ActorResult,
                start_to_close_timeout=timedelta(hours=24),
                heartbeat_timeout=timedelta(seconds=5),
                retry_policy=RetryPolicy(maximum_attempts=10),
            )
            return result

        await one(0)
        if shape == "chain":
            for i in range(1, steps):
                await one(i)
        else:
            await asyncio.gather(*(one(i) for i in range(1, steps)))
        return steps
