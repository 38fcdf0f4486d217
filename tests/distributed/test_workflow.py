"""The Temporal workflow against a real dev server: the same run as the local engine's.

Each plan runs twice, once on the local engine and once as a Temporal workflow (a worker in
this process), into one journal: the logical record (each step's inputs, outputs or error,
the compensations in order) and the journal's event sequence are equal, the Temporal run's
chain verifies, and the local engine's replay accepts its journal as its own decisions.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporal_helpers import event_kinds, logical_record, plan_of, plans, run_temporal, write
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from planactor import testing
from planactor.distributed import (
    connect,
    make_worker,
    resume_run,
    sign_decision,
    start_run,
    trusted_key,
    workflow_id,
)
from planactor.engine import Engine
from planactor.journal import Journal
from planactor.policy import key_id_of
from planactor.validate import validate_plan


@pytest.mark.parametrize(
    ("name", "parallel"),
    [("chain", 1), ("fan-out", 3), ("retry", 1), ("compensated", 1), ("continue-and-skip", 1)],
)
def test_temporal_run_records_what_the_local_engine_records(
    temporal: str, tmp_path: Path, name: str, parallel: int
) -> None:
    """The same plan on Temporal and locally: equal logical records and event sequences; the
    Temporal run's chain verifies and local replay agrees with every recorded decision."""
    steps = plans(tmp_path)[name]
    plan = plan_of(steps)
    if name == "continue-and-skip":
        plan = plan.model_copy(update={"inputs": {"go": False}})
    with Journal(tmp_path / "j.db", create=True) as journal:
        local = Engine(catalog=testing.catalog(), journal=journal).run(
            validate_plan(plan, catalog=testing.catalog()), run_id="local", parallel=parallel
        )
        (tmp_path / "counter").unlink(missing_ok=True)  # the flaky actor fails afresh
        remote = run_temporal(temporal, plan, journal, "remote", parallel=parallel)
        assert remote.status == local.status
        assert logical_record(journal, "remote") == logical_record(journal, "local")
        if parallel == 1:  # in parallel, which call ends first is up to the machine
            assert event_kinds(journal, "remote") == event_kinds(journal, "local")
        assert journal.verify("remote").ok
        assert Engine(catalog=testing.catalog(), journal=journal).replay("remote").ok
        started = journal.events("remote")[0].data
        assert started["engine"] == "temporal"
        assert started["temporal"]["workflow_id"] == workflow_id("remote")
        assert started["temporal"]["run_id"]


def test_each_write_of_a_temporal_run_is_applied_once(temporal: str, tmp_path: Path) -> None:
    """The actors receive RUN_ID/STEP_ID as idempotency key: one application per write."""
    plan = plan_of(plans(tmp_path)["fan-out"])
    with Journal(tmp_path / "j.db", create=True) as journal:
        run_temporal(temporal, plan, journal, "once", parallel=5)
    counts = testing.applied_counts(str(tmp_path / "ledger"))
    assert counts == {f"once/w{i}": 1 for i in range(5)}


def _pausing(d: Path) -> list[dict[str, Any]]:
    return [
        write("w1", d / "ledger"),
        {"id": "u", "actor": "testing.unexpected", "args": {}, "after": ["w1"]},
    ]


def test_a_paused_run_takes_only_a_decision_signed_by_a_trusted_key(
    temporal: str, tmp_path: Path
) -> None:
    """A run pauses on UnexpectedState; a decision signed by an untrusted key (or for another
    plan) is refused by the update's validator and leaves no trace in the history; a trusted
    abort compensates the write, journaled with the signer, and the chain verifies."""
    alice, mallory = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    trusted = [trusted_key("alice", key_id_of(alice.public_key()), alice.public_key())]
    cat = testing.catalog()
    plan = validate_plan(plan_of(_pausing(tmp_path)), catalog=cat)
    queue = f"q-{uuid.uuid4().hex[:8]}"

    def decision(key: Ed25519PrivateKey, who: str, plan_hash: str) -> Any:
        return sign_decision(
            run_id="paused",
            plan_hash=plan_hash,
            identity=who,
            key_id=key_id_of(key.public_key()),
            key=key,
            abort=True,
        )

    async def main(journal: Journal) -> tuple[str, str, list[str]]:
        client = await connect(temporal)
        async with make_worker(client, task_queue=queue, catalog=cat):
            first = await start_run(
                client,
                journal=journal,
                plan=plan,
                catalog=cat,
                task_queue=queue,
                run_id="paused",
                trusted=trusted,
            )
            handle = client.get_workflow_handle(workflow_id("paused"))
            refusals = []
            for bad in (
                decision(mallory, "mallory", plan.hash),
                decision(mallory, "alice", plan.hash),
                decision(alice, "alice", "sha256:" + "0" * 64),
            ):
                with pytest.raises((WorkflowUpdateFailedError, RPCError)) as refused:
                    await handle.execute_update("resume", bad, result_type=str)
                refusals.append(str(refused.value.cause or refused.value))
            history = await handle.fetch_history()
            updates = [e for e in history.events if "UPDATE" in str(e.event_type)]
            assert updates == []  # refused before anything was written
            done = await resume_run(
                client,
                journal=journal,
                catalog=cat,
                run_id="paused",
                decision=decision(alice, "alice", plan.hash),
            )
            return first.status, done.status, refusals

    with Journal(tmp_path / "j.db", create=True) as journal:
        first, done, refusals = asyncio.run(main(journal))
        assert (first, done) == ("paused", "compensated")
        assert "not trusted" in refusals[0]
        assert "not trusted" in refusals[1]
        assert "does not verify" in refusals[2]
        resumed = [e for e in journal.events("paused") if e.type == "run.resumed"]
        assert resumed[0].data["authorization"]["identity"] == "alice"
        assert journal.verify("paused").ok
        assert Engine(catalog=cat, journal=journal).replay("paused").ok
    assert testing.applied_counts(str(tmp_path / "ledger")) == {"paused/w1": 1}


def test_a_workflow_given_another_plan_fails_and_the_journal_says_so(
    temporal: str, tmp_path: Path
) -> None:
    """A workflow whose plan is not the one its hash names refuses to run a step; the
    starter's follower reports it (JournalError) and marks the run failed in the journal."""
    from planactor._errors import JournalError
    from planactor.distributed import Follower, RunInput
    from planactor.distributed._protocol import spec_to
    from planactor.engine import specs_for

    cat = testing.catalog()
    plan = validate_plan(plan_of(plans(tmp_path)["chain"]), catalog=cat)
    other = validate_plan(plan_of(plans(tmp_path)["retry"]), catalog=cat)
    queue = f"q-{uuid.uuid4().hex[:8]}"
    inp = RunInput(
        run_id="forged",
        plan=json.dumps(other.plan.to_document()),
        plan_hash=plan.hash,
        specs={k: spec_to(v) for k, v in specs_for(cat, other.plan).items()},
    )

    async def main(journal: Journal) -> None:
        client = await connect(temporal)
        async with make_worker(client, task_queue=queue, catalog=cat):
            handle = await client.start_workflow(
                "planactor.plan", inp, id=workflow_id("forged"), task_queue=queue
            )
            journal.begin_run(
                run_id="forged",
                plan=plan.plan,
                dry_run=False,
                data={"dry_run": False, "parallel": 1, "steps": 3},
            )
            follower = Follower(
                journal=journal,
                run_id="forged",
                plan=plan.plan,
                plan_hash=plan.hash,
                catalog=cat,
                parallel=1,
                dry_run=False,
            )
            await follower.follow(handle)

    with Journal(tmp_path / "j.db", create=True) as journal:
        with pytest.raises(JournalError, match="ended as FAILED"):
            asyncio.run(main(journal))
        assert journal.run("forged").status == "failed"
    assert not (tmp_path / "ledger").exists()  # nothing ran


@pytest.mark.parametrize(
    ("effect", "idempotent", "timeout_s", "attempts"),
    [
        ("read", True, None, 10),  # a lost worker: Temporal retries the call elsewhere
        ("write", True, None, 10),  # same key on the retry: applied once
        ("write", False, None, 1),  # may have applied: the scheduler pauses, outcome unknown
        ("read", True, 2.0, 1),  # the step's timeout is the scheduler's to judge, as locally
    ],
)
def test_activity_options_map_the_actor_spec(
    effect: str, idempotent: bool, timeout_s: float | None, attempts: int
) -> None:
    """Temporal retries only what the actor never saw, never a non-idempotent write, and never
    our final errors; a step's own timeout becomes the call's start-to-close timeout."""
    from planactor.distributed._workflow import _options, non_retryable_types
    from planactor.engine import StepSpec

    spec = StepSpec(effect=effect, idempotent=idempotent, timeout_s=timeout_s)  # type: ignore[arg-type]
    opts = _options(spec, 5.0)
    assert opts["retry_policy"].maximum_attempts == attempts
    assert set(opts["retry_policy"].non_retryable_error_types) == set(non_retryable_types())
    assert {"UnexpectedState", "InvalidInput"} <= set(non_retryable_types())
    assert opts["heartbeat_timeout"].total_seconds() == 5.0
    if timeout_s is not None:
        assert opts["start_to_close_timeout"].total_seconds() == timeout_s
