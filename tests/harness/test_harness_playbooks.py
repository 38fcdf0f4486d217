"""Recovery playbooks: the registry, signatures, and the storage pack's playbooks."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from planactor._errors import InputError
from planactor.harness import (
    PLAYBOOK_GROUP,
    STORAGE_PLAYBOOKS,
    Failure,
    Playbook,
    Proposal,
    RecoveryContext,
    _playbooks,
    load_playbooks,
    playbooks,
    propose_by_playbook,
    register_playbook,
)
from planactor.plan import Plan
from recovery_lab import World, approve, recover_now, run, upgrade


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


# -- playbooks of installed distributions ---------------------------------------------------

_ACME = """
from planactor.harness import Playbook, Proposal


def _propose(ctx):
    return Proposal(
        source="playbook acme.echo-failed",
        why=f"acme knows why {ctx.failure.step} failed",
        plan=None,
        then="resume",
        then_why="the echo service came back",
    )


PLAYBOOKS = [
    Playbook(
        name="acme.echo-failed",
        pack="core",
        description="an echo that failed is retried once the service is back",
        propose=_propose,
        actors=("core.echo",),
    )
]
"""


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path where a test installs a distribution with playbook entry points;
    what it registered is dropped afterwards."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = dict(_playbooks._REGISTRY)
    yield site
    _playbooks._REGISTRY.clear()
    _playbooks._REGISTRY.update(before)
    _playbooks._LOADED.clear()
    for name in [m for m in sys.modules if m.startswith("acme_")]:
        del sys.modules[name]


def _install(site: Path, entry: str, files: dict[str, str]) -> None:
    for name, text in files.items():
        (site / name).write_text(text)
    info = site / "acme_recovery-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-recovery\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{PLAYBOOK_GROUP}]\n{entry}\n")
    importlib.invalidate_caches()


def test_an_installed_distribution_adds_its_playbooks(w: World, installed: Path) -> None:
    """A module named in the planactor.playbooks group is loaded once, on first use; its
    PLAYBOOKS are tried like the built-in ones, for failures of its pack's actors."""
    _install(installed, "acme = acme_playbooks", {"acme_playbooks.py": _ACME})
    ctx = _ctx(w, actor="core.echo", message="echo service unreachable")
    proposal = propose_by_playbook(ctx)
    assert proposal is not None
    assert proposal.source == "playbook acme.echo-failed"
    assert proposal.why == "acme knows why s failed"
    assert "acme.echo-failed" in [p.name for p in playbooks()]  # loaded once, not twice
    assert load_playbooks() == ()


def test_a_broken_playbook_distribution_is_named(w: World, installed: Path) -> None:
    """A playbook module that fails to import, or an entry point naming something that is
    not a playbook: bad input naming the entry point, never a traceback."""
    _install(installed, "acme = acme_broken", {"acme_broken.py": "raise RuntimeError('boom')"})
    with pytest.raises(InputError, match=r"'acme' \(acme_broken.*failed to load: RuntimeError"):
        load_playbooks()


def test_an_entry_point_offering_no_playbook_is_refused(installed: Path) -> None:
    """An entry point that names, say, a string: refused, saying what it offers instead."""
    _install(installed, "acme = acme_odd:NAME", {"acme_odd.py": "NAME = 'not a playbook'"})
    with pytest.raises(InputError, match="offers a str, not a Playbook"):
        load_playbooks()
