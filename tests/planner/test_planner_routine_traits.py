"""What a routine says about itself: the words that ask for it, whether it writes, and
whether a lab's facts can serve it."""

from __future__ import annotations

from planactor.catalog import Catalog
from planactor.planner._routine_traits import actions_of, applicable, unserved, writes

CATALOG = Catalog.discover()
ROUTINES = CATALOG.routines


def test_a_value_in_an_action_becomes_its_parameters_pattern() -> None:
    """ "be on {version}" is asked for as "be on" right before a version (the pattern)."""
    upgrade = ROUTINES["storage.firmware_upgrade"]
    assert "upgrade" in actions_of(upgrade)
    assert r"be on {re:\d+\.\d+\.\d+}" in actions_of(upgrade)


def test_a_lab_without_a_routines_facts_does_not_serve_it() -> None:
    """Storage facts serve the storage routines and the pure network designs, not the
    fabric deployment (it reads `site`); without facts, every routine is served."""
    storage_facts = {"arrays": {}, "hosts": {}}
    served = applicable(ROUTINES, storage_facts)
    assert "storage.firmware_upgrade" in served
    assert "network.build_fabric" in served
    assert list(unserved(ROUTINES, storage_facts)) == ["network.deploy_fabric"]
    assert unserved(ROUTINES, None) == {}


def test_a_routine_writes_when_one_of_its_actors_does() -> None:
    """The upgrade writes; the health check only reads."""

    def effect(actor: str) -> str:
        return CATALOG.get(actor).effect

    assert writes(ROUTINES["storage.firmware_upgrade"], effect)
    assert not writes(ROUTINES["storage.health_check"], effect)
