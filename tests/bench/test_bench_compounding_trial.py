"""planactor.bench._compounding_trial: the sized labs, their workflow length, the faults and
the success check."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from planactor.bench._compounding_trial import (
    ROUTINE,
    fault_for,
    make_setup,
    outcome,
    workflow_length,
    write_lab,
)
from planactor.catalog import Catalog
from planactor.lab import kinds, storage_state
from planactor.lab.storage import Host

CATALOG = Catalog.discover()


def test_routine_length_is_two_per_host_plus_five(tmp_path: Path) -> None:
    """The upgrade routine expands to 2 x hosts + 5 steps on the bench's labs."""
    storage = kinds()["storage"]
    for hosts in (1, 3, 8):
        setup = make_setup(hosts, 0)
        doc = write_lab(tmp_path / f"{hosts}.json", setup, fault=None).read()
        plan = CATALOG.routines[ROUTINE].expand(
            {"array": setup.array, "version": setup.version},
            facts=storage.facts(doc.state),
            requested_by="test",
        )
        assert len(plan.steps) == workflow_length(hosts) == 2 * hosts + 5


def test_setups_are_seeded_and_differ_between_trials() -> None:
    """The same (hosts, trial) draws the same names; trials draw different labs."""
    assert make_setup(4, 1) == make_setup(4, 1)
    drawn = {(s.array, s.host_names, s.version) for s in (make_setup(4, t) for t in range(6))}
    assert len(drawn) > 1
    setup = make_setup(4, 1)
    assert len(set(setup.host_names)) == 4
    assert setup.task == f"upgrade {setup.array} to firmware {setup.version}"


def test_a_fresh_lab_is_healthy_and_not_yet_upgraded(tmp_path: Path) -> None:
    """Fresh: every host on its preferred controller, firmware not the target, no DU."""
    setup = make_setup(3, 0)
    doc = write_lab(tmp_path / "lab.json", setup, fault=None).read()
    assert doc.violations == []
    assert outcome(storage_state(doc), setup) == (False, True)


def test_outcome_needs_both_firmware_and_preferred_paths() -> None:
    """Both controllers on the target and online, and every host back: success; a host left
    on the other controller is not."""
    setup = make_setup(2, 0)
    state = setup.state()
    a, b = setup.controllers
    upgraded = replace(
        state,
        controllers={
            c: replace(ctl, firmware=setup.version) for c, ctl in state.controllers.items()
        },
    )
    assert outcome(upgraded, setup) == (True, True)
    h = setup.host_names[0]
    moved = replace(
        upgraded,
        hosts={
            **upgraded.hosts,
            h: Host(name=h, active={setup.array: b}, preferred={setup.array: a}),
        },
    )
    assert outcome(moved, setup) == (True, False)


def test_faults_alternate_and_are_injected(tmp_path: Path) -> None:
    """Even trials: the first upgrade fails; odd: the first host's path to -b is down."""
    even, odd = make_setup(2, 0), make_setup(2, 1)
    assert fault_for(even)["kind"] == "upgrade-fails"
    assert fault_for(odd) == {
        "kind": "path-down",
        "host": odd.host_names[0],
        "controller": odd.controllers[1],
    }
    doc = write_lab(tmp_path / "lab.json", odd, fault=fault_for(odd)).read()
    assert [f["kind"] for f in doc.faults] == ["path-down"]
