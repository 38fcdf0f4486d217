"""Recovery playbooks: the registry, signatures, and the storage pack's playbooks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from planactor._errors import InputError
from planactor.harness import (
    STORAGE_PLAYBOOKS,
    Failure,
    Playbook,
    Proposal,
    RecoveryContext,
    playbooks,
    propose_by_playbook,
    register_playbook,
)
from planactor.plan import Plan
from recovery_lab import World, approve, recover_now, run, upgrade, world


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    lab = world(tmp_path)
    yield lab
    lab.journal.close()


def _ctx(
    w: World, *, actor: str, message: str, faults: tuple[dict[str, str], ...] = ()
) -> RecoveryContext:
    plan = Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "x",
            "requested_by": "sam",
            "steps": [{"id": "s", "actor": actor, "args": {}}],
        }
    )
    return RecoveryContext(
        run_id="run-1",
        plan=plan,
        failure=Failure(run_id="run-1", reason=message, step="s", actor=actor, message=message),
        tail=(),
        catalog=w.catalog,
        requested_by="sam",
        faults=faults,
    )


def _none(_ctx: RecoveryContext) -> Proposal | None:
    return None


def test_the_storage_playbooks_are_registered_in_order() -> None:
    """Importing the harness registers the storage pack's playbooks, in their order."""
    names = [p.name for p in playbooks()]
    assert [p.name for p in STORAGE_PLAYBOOKS] == [n for n in names if n.startswith("storage.")]
    assert names.index("storage.controller-failed-upgrade") < names.index("storage.host-lost-path")


def test_a_name_is_registered_once_and_a_bad_pattern_refused() -> None:
    """A second playbook of the same name, or an error pattern that is no regex: InputError."""
    with pytest.raises(InputError, match="registered already"):
        register_playbook(STORAGE_PLAYBOOKS[0])
    with pytest.raises(InputError, match="bad error pattern"):
        register_playbook(
            Playbook(name="x.bad", pack="x", description="d", propose=_none, error="(")
        )


def test_a_signature_matches_actor_error_and_fault(w: World) -> None:
    """Actor, error pattern and pending fault kind must all match."""
    pb = Playbook(
        name="t.sig",
        pack="storage",
        description="d",
        propose=_none,
        actors=("storage.move_paths",),
        error=r"path .* down",
        fault="path-down",
    )
    hit = _ctx(
        w, actor="storage.move_paths", message="its path x is down", faults=({"kind": "path-down"},)
    )
    assert pb.matches(hit)
    assert not pb.matches(
        _ctx(
            w,
            actor="storage.fail_back",
            message="its path x is down",
            faults=({"kind": "path-down"},),
        )
    )
    assert not pb.matches(
        _ctx(w, actor="storage.move_paths", message="timed out", faults=({"kind": "path-down"},))
    )
    assert not pb.matches(_ctx(w, actor="storage.move_paths", message="its path x is down"))


def test_only_playbooks_of_the_plans_packs_are_tried(w: World) -> None:
    """A core-only plan's failure is never given to the storage playbooks."""
    ctx = _ctx(w, actor="core.echo", message="upgrade of array-02-a to 5.2.1 failed")
    assert propose_by_playbook(ctx) is None


def test_a_host_without_a_working_path_is_moved_to_the_healthy_controller(w: World) -> None:
    """esx-03's only working path goes down mid-upgrade (the lab records the DU): the
    playbook proposes moving it to the controller whose path works, which validates."""
    first = upgrade(
        w,
        "array-02",
        after="drain-first-esx-03",
        fault={"kind": "path-down", "host": "esx-03", "controller": "array-02-b"},
    )
    assert first.status == "paused"
    rec = recover_now(w, first.run_id)
    assert rec.proposal is not None
    assert rec.validated is not None
    assert rec.proposal.source == "playbook storage.host-lost-path"
    assert rec.proposal.then == "repair-then-resume"
    move = rec.validated.plan.step("move")
    assert move.args == {"array": "array-02", "host": "esx-03", "to_controller": "array-02-a"}
    fixed = run(w, approve(w, rec.validated.plan, who=("alice",)))
    assert fixed.status == "succeeded"
    # Moved where a path works, the host reaches its LUN again; the repair is a person's.
    w.lab.clear_faults()
    after = recover_now(w, first.run_id)
    assert after.proposal is not None
    assert after.proposal.source == "playbook storage.controller-carries-io"


def test_a_lost_path_that_blocks_the_run_asks_for_a_repair(w: World) -> None:
    """esx-03 cannot move to array-02-b (its path is down): no write helps; repair, then
    resume; once repaired, recover says resume."""
    first = upgrade(
        w, "array-02", fault={"kind": "path-down", "host": "esx-03", "controller": "array-02-b"}
    )
    assert first.status == "paused"
    rec = recover_now(w, first.run_id)
    assert rec.proposal is not None
    assert rec.proposal.plan is None
    assert rec.proposal.then == "repair-then-resume"
    assert "planactor lab clear-faults" in rec.proposal.then_why
    w.lab.clear_faults()
    again = recover_now(w, first.run_id)
    assert again.proposal is not None
    assert again.proposal.then == "resume"


def test_a_pending_fault_that_fails_every_upgrade_advises_abort(w: World) -> None:
    """If the lab will fail the retried upgrade again, recover says abort, not resume."""
    first = upgrade(
        w,
        "array-02",
        after="drain-first",
        fault={"kind": "upgrade-fails", "controller": "array-02-a", "times": 2},
    )
    assert first.status == "paused"
    rec = recover_now(w, first.run_id)
    assert rec.proposal is not None
    assert rec.proposal.then == "abort"
    assert "pending fault" in rec.proposal.then_why
