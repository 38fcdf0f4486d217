"""planactor.bench._react_executor: the pure-LLM executor's grammar, its reference tracking,
and a scripted model acting on a real storage lab (the perfect operator, and a reckless one)."""

from __future__ import annotations

from pathlib import Path

from planactor.bench._compounding_trial import ROUTINE, LabSetup, make_setup, outcome, write_lab
from planactor.bench._react_executor import (
    STALL,
    Reference,
    lab_actors,
    react_schema,
    run_react,
)
from planactor.catalog import Catalog
from planactor.lab import Lab, kinds, storage_state
from planactor.lab.storage import inventory_entities
from planactor.plan import Inventory, Plan
from planactor.testing import ScriptedBackend

CATALOG = Catalog.discover()
STORAGE = kinds()["storage"]


def _reference_plan(tmp_path: Path, hosts: int = 2) -> tuple[Plan, tuple[LabSetup, Lab]]:
    setup = make_setup(hosts, 0)
    lab = write_lab(tmp_path / "lab.json", setup, fault=None)
    doc = lab.read()
    plan = CATALOG.routines[ROUTINE].expand(
        {"array": setup.array, "version": setup.version},
        facts=STORAGE.facts(doc.state),
        requested_by="test",
    )
    return plan, (setup, lab)


def test_offered_actors_are_the_storage_packs_reads_and_writes() -> None:
    """Every storage actor is offered, writes included; no network or graph actor; the
    grammar has one branch per actor and `done`."""
    setup = make_setup(2, 0)
    inv = Inventory.from_mapping(inventory_entities(setup.state()))
    names = [a.name for a in lab_actors(CATALOG, inv)]
    assert "storage.upgrade_firmware" in names
    assert "storage.preflight" in names
    assert all(n.startswith("storage.") for n in names)
    schema = react_schema(lab_actors(CATALOG, inv), inv, setup.task)
    assert len(schema["anyOf"]) == len(names) + 1
    assert schema["anyOf"][-1]["required"] == ["done"]


def test_reference_accepts_only_ready_steps(tmp_path: Path) -> None:
    """An upgrade before the drains is off the reference; the drains, in any order, are on it."""
    plan, _ = _reference_plan(tmp_path)
    ref = Reference(plan, CATALOG)
    upgrade = next(s for s in plan.steps if s.id == "upgrade-first")
    assert ref.match(upgrade.actor, upgrade.args) is None
    assert ref.match("storage.preflight", plan.steps[0].args) == "preflight"
    drains = [s for s in plan.steps if s.id.startswith("drain-first")]
    for s in reversed(drains):
        assert ref.match(s.actor, s.args) == s.id
    # A default argument spelled out is the same action.
    assert ref.match(upgrade.actor, {**upgrade.args, "force": False}) == "upgrade-first"
    assert ref.match("no.such_actor", {}) is None
    assert not ref.complete


def test_a_perfect_script_upgrades_the_lab_with_accuracy_one(tmp_path: Path) -> None:
    """Playing the routine's steps in order then done: success, every step on the reference."""
    plan, (setup, lab) = _reference_plan(tmp_path)
    script = [{"actor": s.actor, "args": s.args} for s in plan.steps] + [{"done": True}]
    backend = ScriptedBackend(*script)
    doc = lab.read()
    got = run_react(
        setup.task,
        guidance="",
        backend=backend,
        catalog=CATALOG,
        lab=lab,
        inventory=STORAGE.inventory(doc.state),
        reference=Reference(plan, CATALOG),
        max_steps=2 * len(plan.steps),
    )
    assert got.ended == "done"
    assert len(got.actions) == len(plan.steps)
    assert all(s.on_reference and s.status == "succeeded" and s.du == 0 for s in got.actions)
    assert got.reference_complete
    assert outcome(storage_state(lab.read()), setup) == (True, True)
    assert got.tokens_in == 10 * backend.calls


def test_a_forced_upgrade_under_io_records_a_du_and_a_repeat_stalls(tmp_path: Path) -> None:
    """Forcing the upgrade of the controller carrying I/O: the lab records DU on that step;
    the same action STALL times in a row ends the run."""
    plan, (setup, lab) = _reference_plan(tmp_path)
    a, _ = setup.controllers
    forced = {
        "actor": "storage.upgrade_firmware",
        "args": {"array": setup.array, "controller": a, "version": setup.version, "force": True},
    }
    doc = lab.read()
    got = run_react(
        setup.task,
        guidance="",
        backend=ScriptedBackend(*[forced] * STALL),
        catalog=CATALOG,
        lab=lab,
        inventory=STORAGE.inventory(doc.state),
        reference=Reference(plan, CATALOG),
        max_steps=20,
    )
    assert got.ended == "stalled"
    assert got.actions[0].du > 0
    assert not got.actions[0].on_reference
    assert sum(v["kind"] == "DU" for v in lab.read().violations) == sum(s.du for s in got.actions)


def test_invalid_replies_and_the_budget(tmp_path: Path) -> None:
    """A reply that is not JSON is a step that went wrong: it counts against the budget and
    is never on the reference."""
    plan, (setup, lab) = _reference_plan(tmp_path)
    read = {"actor": "storage.inventory", "args": {}}
    doc = lab.read()
    got = run_react(
        setup.task,
        guidance="",
        backend=ScriptedBackend("not json", read),
        catalog=CATALOG,
        lab=lab,
        inventory=STORAGE.inventory(doc.state),
        reference=Reference(plan, CATALOG),
        max_steps=2,
    )
    assert got.ended == "budget"
    assert [s.choice for s in got.steps] == ["invalid", "action"]
    assert [s.on_reference for s in got.actions] == [False, False]
