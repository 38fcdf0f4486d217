"""How actors reach their lab: the run's `lab` resource, never the process environment."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from planactor import ActorContext, ActorError, Catalog, Plan
from planactor.actors import storage
from planactor.catalog import actor_of
from planactor.engine import Engine, RunResult
from planactor.journal import Journal
from planactor.lab import RESOURCE, Lab, actor_lab, create_lab, lab_resources

CATALOG = Catalog(
    [v for v in vars(storage).values() if actor_of(v) is not None and callable(v)],
    pack="storage",
)


def moves(hosts: list[str]) -> Plan:
    """Move each host's I/O on array-01 to array-01-b, one step after another."""
    steps = [
        {
            "id": f"move-{h}",
            "actor": "storage.move_paths",
            "args": {"array": "array-01", "host": h, "to_controller": "array-01-b"},
            "after": [f"move-{hosts[i - 1]}"] if i else [],
        }
        for i, h in enumerate(hosts)
    ]
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "move hosts",
            "requested_by": "tests",
            "steps": steps,
        }
    )


def active(lab: Lab) -> dict[str, str]:
    return {h["name"]: h["active"]["array-01"] for h in lab.read().state["hosts"]}


def test_lab_resources_name_the_lab() -> None:
    """`lab_resources` gives the engine the lab under the name actors look for."""
    lab = Lab("x.json")
    assert lab_resources(lab) == {RESOURCE: lab}
    assert lab_resources(None) == {}


def test_a_run_without_a_lab_fails_for_good_with_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PLANACTOR_LAB is not read by actors: without a `lab` resource they fail, saying how."""
    lab = create_lab(tmp_path / "lab.json")
    monkeypatch.setenv("PLANACTOR_LAB", str(lab.path))
    ctx = ActorContext.for_step(run_id="r", step_id="s")
    with pytest.raises(ActorError) as e:
        actor_lab(ctx)
    assert e.value.retryable is False
    assert "no 'lab' resource" in e.value.message
    assert "--lab" in (e.value.hint or "")
    wrong = ActorContext.for_step(run_id="r", step_id="s", resources={"lab": str(lab.path)})
    with pytest.raises(ActorError, match="'lab' resource is a str, not a Lab"):
        actor_lab(wrong)


def test_two_engines_drive_two_labs_at_once(tmp_path: Path) -> None:
    """Two engines in two threads of one process, each given its own lab: every write lands
    in its own lab, and the runs overlap in time."""
    labs = {
        name: create_lab(tmp_path / f"{name}.json", latency_ms=20, overwrite=True)
        for name in ("left", "right")
    }
    hosts = {"left": ["esx-01", "esx-02", "esx-03"], "right": ["esx-06", "esx-07", "esx-08"]}
    start = threading.Barrier(2)
    results: dict[str, RunResult] = {}
    spans: dict[str, tuple[float, float]] = {}
    errors: list[BaseException] = []

    def drive(name: str) -> None:
        try:
            with Journal(":memory:") as journal:
                engine = Engine(
                    catalog=CATALOG, journal=journal, resources=lab_resources(labs[name])
                )
                start.wait()
                began = time.monotonic()
                results[name] = engine.run(moves(hosts[name]))
                spans[name] = (began, time.monotonic())
        except BaseException as e:  # surfaced in the main thread
            errors.append(e)

    threads = [threading.Thread(target=drive, args=(n,)) for n in labs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    (a0, a1), (b0, b1) = spans["left"], spans["right"]
    # They ran at the same time: each started before the other finished.
    assert a0 < b1
    assert b0 < a1
    for name, lab in labs.items():
        result = results[name]
        assert result.status == "succeeded", result.reason
        doc = lab.read()
        keys: list[Any] = [op["idempotency_key"] for op in doc.operations]
        assert keys == [f"{result.run_id}/move-{h}" for h in hosts[name]]
        moved = {h for h, c in active(lab).items() if c == "array-01-b"}
        assert moved == set(hosts[name])
