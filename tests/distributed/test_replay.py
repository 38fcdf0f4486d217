"""Determinism: Temporal's Replayer replays recorded histories against the interpreter.

The histories in `histories/` were recorded by `histories/record.py` (a chain with a
reference, a fan-out, a retry with its backoff timer, a compensation). A change of the
workflow that would make running workflows fail on replay fails here; so does, as the
last test shows, a change as small as one extra timer.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from temporal_helpers import plan_of, plans, run_temporal
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from planactor.distributed import PlanWorkflow, RunInput, connect, workflow_id, workflow_runner
from planactor.journal import Journal

HISTORIES = sorted(Path(__file__).with_name("histories").glob("*.json"))


def _history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(workflow_id(path.stem), path.read_text())


def _replay(history: WorkflowHistory, *workflows: type) -> None:
    replayer = Replayer(
        workflows=list(workflows or [PlanWorkflow]), workflow_runner=workflow_runner()
    )
    asyncio.run(replayer.replay_workflow(history))


def test_histories_were_recorded() -> None:
    """The recorded histories are there to replay (a missing directory would pass vacuously)."""
    assert {p.stem for p in HISTORIES} >= {"chain", "fan-out", "retry", "compensated"}


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
def test_recorded_history_replays(path: Path) -> None:
    """Each recorded history replays against today's interpreter without a divergence."""
    _replay(_history(path))


def test_a_fresh_history_replays(temporal: str, tmp_path: Path) -> None:
    """A run made now (retries, compensation) replays too."""
    plan = plan_of(plans(tmp_path)["compensated"])
    with Journal(tmp_path / "j.db", create=True) as journal:
        run_temporal(temporal, plan, journal, "fresh-replay")

    async def fetch() -> WorkflowHistory:
        client = await connect(temporal)
        return await client.get_workflow_handle(workflow_id("fresh-replay")).fetch_history()

    _replay(asyncio.run(fetch()))


@workflow.defn(name="planactor.plan")
class _OneTimerMore(PlanWorkflow):
    """The interpreter with one extra timer before the plan: a non-deterministic change."""

    @workflow.run
    async def run(self, inp: RunInput) -> str:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(inp)


def test_a_changed_interpreter_fails_replay() -> None:
    """The replay check has teeth: the interpreter with one extra timer diverges."""
    with pytest.raises(NondeterminismError):
        _replay(_history(HISTORIES[0]), _OneTimerMore)
