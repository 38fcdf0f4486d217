"""Recovery scenarios: each lab fault kind at different steps of a firmware upgrade,
followed the way `recover` advises; how many end with the upgrade succeeded and no DU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recovery_lab import scenario, world


def _flash(controller: str) -> dict[str, Any]:
    return {"kind": "upgrade-fails", "controller": controller, "times": 1}


def _path(host: str, controller: str) -> dict[str, Any]:
    return {"kind": "path-down", "host": host, "controller": controller}


def _host(host: str) -> dict[str, Any]:
    return {"kind": "host-down", "host": host}


def _slow(operation: str, times: int, *, applied: bool) -> dict[str, Any]:
    return {"kind": "timeout", "operation": operation, "times": times, "applied": applied}


# (array, inject after the step whose id starts with this, fault, expected outcome).
# recovered: the upgrade ended succeeded with no DU through plans alone; repaired: the
# advice included a person's repair (clearing the lab's faults), for what no actor can fix.
SCENARIOS: list[tuple[str, str, dict[str, Any], str]] = [
    ("array-02", "", _flash("array-02-a"), "recovered"),
    ("array-01", "drain-first", _flash("array-01-a"), "recovered"),
    ("array-03", "drain-first", _flash("array-03-a"), "recovered"),
    ("array-02", "upgrade-first", _flash("array-02-b"), "recovered"),
    ("array-03", "drain-second", _flash("array-03-b"), "recovered"),
    ("array-02", "", _path("esx-03", "array-02-b"), "repaired"),
    ("array-02", "upgrade-first", _path("esx-03", "array-02-a"), "repaired"),
    ("array-03", "drain-first", _path("esx-03", "array-03-b"), "repaired"),
    ("array-03", "drain-second", _path("esx-03", "array-03-a"), "repaired"),
    # esx-03's only working path fails under it: the lab records the DU as the fault fires.
    ("array-02", "drain-first-esx-03", _path("esx-03", "array-02-b"), "du"),
    ("array-02", "upgrade-first", _host("esx-03"), "repaired"),
    # A host that does not answer before its paths move: the engine compensates, no pause.
    ("array-03", "drain-first", _host("esx-04"), "not paused"),
    ("array-02", "drain-first", _slow("upgrade_firmware", 9, applied=False), "repaired"),
    # One timeout is absorbed by the actor's retry: nothing pauses.
    ("array-01", "", _slow("move_paths", 1, applied=True), "not paused"),
]


@pytest.mark.parametrize(("array", "after", "fault", "expected"), SCENARIOS)
def test_recovery_scenario(
    tmp_path: Path, array: str, after: str, fault: dict[str, Any], expected: str
) -> None:
    """Each scenario ends as expected: recovered by plans alone, after a repair, or not."""
    w = world(tmp_path)
    try:
        o = scenario(w, array, after, fault)
    finally:
        w.journal.close()
    if expected == "not paused":
        assert not o.paused
        assert o.du == 0
        return
    assert o.paused
    assert o.status == "succeeded"
    assert all(s.startswith("playbook ") for s in o.sources)  # no model needed
    assert all(f == "succeeded" for f in o.fixes)
    assert o.repaired == (expected in ("repaired", "du"))
    assert o.du == (1 if expected == "du" else 0)
    assert o.recovered == (expected != "du")


def test_the_count() -> None:
    """At least 10 scenarios, covering every storage fault kind."""
    kinds = {f["kind"] for _, _, f, _ in SCENARIOS}
    assert kinds == {"upgrade-fails", "path-down", "host-down", "timeout"}
    paused = [s for s in SCENARIOS if s[3] != "not paused"]
    assert len(paused) >= 10
