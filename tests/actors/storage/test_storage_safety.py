"""StorageSafety: plans whose order would cause a DU are refused before they run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planactor import Catalog, Plan, Policy, validate
from planactor.actors import storage
from planactor.actors.storage import StorageSafety
from planactor.catalog import actor_of
from planactor.engine import Engine
from planactor.journal import Journal
from planactor.lab import Lab, create_lab, inventory, lab_resources
from planactor.lab.storage import apply, default_state, scenario

HOSTS = [f"esx-0{i}" for i in range(1, 9)]
CATALOG = Catalog(
    [v for v in vars(storage).values() if actor_of(v) is not None and callable(v)],
    pack="storage",
)


def plan(*steps: dict[str, Any], **kw: Any) -> Plan:
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "upgrade array-01 to 5.2.0",
            "requested_by": "tests",
            "steps": list(steps),
            **kw,
        }
    )


def move(sid: str, host: str, to: str, *after: str) -> dict[str, Any]:
    return {
        "id": sid,
        "actor": "storage.move_paths",
        "args": {"array": "array-01", "host": host, "to_controller": f"array-01-{to}"},
        "after": list(after),
    }


def upgrade(sid: str, ctrl: str, *after: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": sid,
        "actor": "storage.upgrade_firmware",
        "args": {
            "array": "array-01",
            "controller": f"array-01-{ctrl}",
            "version": "5.2.0",
            **extra,
        },
        "after": list(after),
    }


def safe_plan() -> Plan:
    """Move every host to -b, flash -a, move them back, flash -b, fail back."""
    to_b = [move(f"to-b-{h}", h, "b") for h in HOSTS]
    to_a = [move(f"to-a-{h}", h, "a", "upgrade-a") for h in HOSTS]
    return plan(
        *to_b,
        upgrade("upgrade-a", "a", *(s["id"] for s in to_b)),
        *to_a,
        upgrade("upgrade-b", "b", *(s["id"] for s in to_a)),
        {
            "id": "fail-back",
            "actor": "storage.fail_back",
            "args": {"array": "array-01"},
            "after": ["upgrade-b"],
        },
    )


def unsafe_plan(**extra: Any) -> Plan:
    """The same, but the active controller is flashed before any host is moved."""
    to_b = [move(f"to-b-{h}", h, "b", "upgrade-a") for h in HOSTS]
    return plan(upgrade("upgrade-a", "a", **extra), *to_b)


def check(p: Plan, state: Any = None) -> list[Any]:
    safety = StorageSafety(state=state or default_state())
    return list(safety.check(p, catalog=CATALOG, inventory=None))


def codes(problems: list[Any]) -> list[tuple[str, str, str]]:
    return [(p.code, p.severity, p.location) for p in problems]


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return create_lab(tmp_path / "lab.json")


@pytest.fixture
def engine(lab: Lab) -> Iterator[Engine]:
    journal = Journal(":memory:")
    yield Engine(
        catalog=CATALOG, journal=journal, sleep=lambda s: None, resources=lab_resources(lab)
    )
    journal.close()


def test_storage_safety_is_a_policy() -> None:
    """StorageSafety satisfies the validator's Policy protocol."""
    assert isinstance(StorageSafety(state=default_state()), Policy)


def test_the_safe_order_passes(lab: Lab) -> None:
    """Moving the hosts before each flash passes validation with the lab's inventory."""
    report = validate(
        safe_plan(), catalog=CATALOG, inventory=inventory(lab), policy=StorageSafety.from_lab(lab)
    )
    assert report.ok, [str(p) for p in report.problems]
    assert report.problems == ()


def test_the_unsafe_order_is_rejected_naming_step_and_host(lab: Lab) -> None:
    """Flashing the active controller first is a storage-du error at that step, naming the host."""
    report = validate(
        unsafe_plan(), catalog=CATALOG, inventory=inventory(lab), policy=StorageSafety.from_lab(lab)
    )
    assert not report.ok
    [problem] = report.errors
    assert (problem.code, problem.location, problem.step) == ("storage-du", "steps[0]", "upgrade-a")
    assert "upgrading array-01-a takes it offline while esx-01 still reaches lun-1" in (
        problem.message
    )
    assert "8 host/LUN pairs" in problem.message
    assert "precondition would refuse it" in problem.message
    assert problem.hint is not None
    assert "esx-01" in problem.hint
    assert "array-01-b" in problem.hint


def test_the_unsafe_order_pauses_at_run_time_without_force(lab: Lab, engine: Engine) -> None:
    """Run anyway, unforced, the actor's precondition pauses the run: no flash, no DU."""
    result = engine.run(unsafe_plan())
    assert result.status == "paused"
    assert "still carries host I/O" in (result.reason or "")
    doc = lab.read()
    assert doc.violations == []
    assert doc.state["arrays"][0]["controllers"][0]["firmware"] == "5.1.0"


def test_the_unsafe_order_forced_through_records_a_du(lab: Lab, engine: Engine) -> None:
    """Rejected by validation, then forced through the engine: the lab's monitor records DUs."""
    unsafe = unsafe_plan(force=True)
    report = validate(
        unsafe, catalog=CATALOG, inventory=inventory(lab), policy=StorageSafety.from_lab(lab)
    )
    assert [p.code for p in report.errors] == ["storage-du"]
    assert "storage-force" in [p.code for p in report.warnings]
    # Engine.run validates against the catalog only: the policy is bypassed.
    result = engine.run(unsafe)
    assert result.status == "succeeded"
    doc = lab.read()
    assert [(v["kind"], v["host"], v["idempotency_key"]) for v in doc.violations] == [
        ("DU", h, f"{result.run_id}/upgrade-a") for h in HOSTS
    ]
    assert all("upgrading array-01-a takes it offline" in v["cause"] for v in doc.violations)


def test_the_safe_plan_runs_without_violations(lab: Lab, engine: Engine) -> None:
    """The validated order runs through the engine with no DU and both controllers flashed."""
    result = engine.run(safe_plan())
    assert result.status == "succeeded", result.reason
    doc = lab.read()
    assert doc.violations == []
    assert {c["firmware"] for c in doc.state["arrays"][0]["controllers"]} == {"5.2.0"}
    assert sum(doc.applied_counts().values()) == 2 + 2 * 8


def test_alua_precondition_without_du() -> None:
    """Flashing an ALUA controller that carries I/O breaks no path but would pause the run."""
    p = plan(
        {
            "id": "up",
            "actor": "storage.upgrade_firmware",
            "args": {"array": "array-03", "controller": "array-03-a", "version": "5.2.0"},
        }
    )
    problems = check(p)
    assert codes(problems) == [("storage-precondition", "error", "steps[0]")]
    assert "still carries host I/O" in problems[0].message


def test_a_move_onto_a_down_path_then_the_flash() -> None:
    """In path-down, moving esx-03 is refused, and the flash would cut esx-03 off."""
    problems = check(safe_plan(), scenario("path-down").state)
    assert codes(problems) == [
        ("storage-precondition", "error", "steps[2]"),
        ("storage-du", "error", "steps[8]"),
    ]
    assert "esx-03" in problems[0].message
    assert "esx-03 still reaches lun-3" in problems[1].message
    assert "esx-03 has no working path through array-01-b" in (problems[1].hint or "")


def test_a_mute_host_is_a_warning_then_a_du() -> None:
    """A host that does not respond now is warned about; the flash would then cut it off."""
    problems = check(safe_plan(), scenario("host-unresponsive").state)
    assert codes(problems) == [
        ("storage-unresponsive", "warning", "steps[4]"),
        ("storage-du", "error", "steps[8]"),
    ]


def test_references_are_skipped_with_a_warning_and_inputs_resolved() -> None:
    """$ref arguments cannot be simulated (a warning); $input ones come from the plan's inputs."""
    p = plan(
        {"id": "inv", "actor": "storage.inventory", "args": {}},
        {
            "id": "up",
            "actor": "storage.upgrade_firmware",
            "args": {
                "array": "array-01",
                "controller": {"$input": "ctrl"},
                "version": {"$ref": "inv.output.arrays.0.controllers.0.firmware"},
            },
        },
        {
            "id": "up2",
            "actor": "storage.upgrade_firmware",
            "args": {"array": "array-01", "controller": {"$input": "ctrl"}, "version": "5.2.0"},
        },
        inputs={"ctrl": "array-01-a"},
    )
    problems = check(p)
    assert codes(problems) == [
        ("storage-unresolved", "warning", "steps[1]"),
        ("storage-du", "error", "steps[2]"),
    ]


def test_conditional_steps_are_simulated_with_a_warning() -> None:
    """A step with `when` is assumed to run, and said so."""
    step = move("m", "esx-01", "b")
    step["when"] = {"$input": "go", "op": "truthy"}
    problems = check(plan(step, inputs={"go": True}))
    assert codes(problems) == [("storage-conditional", "warning", "steps[0].when")]


def test_invalid_names_are_errors() -> None:
    """A controller of another array is reported as storage-invalid."""
    p = plan(
        {
            "id": "m",
            "actor": "storage.move_paths",
            "args": {"array": "array-01", "host": "esx-01", "to_controller": "array-02-b"},
        }
    )
    assert codes(check(p)) == [("storage-invalid", "error", "steps[0]")]


def test_unordered_flash_is_a_warning() -> None:
    """A flash listed after the moves but not depending on them may start first: a warning."""
    to_b = [move(f"to-b-{h}", h, "b") for h in HOSTS]
    problems = check(plan(*to_b, upgrade("upgrade-a", "a", *[s["id"] for s in to_b[:4]])))
    assert codes(problems) == [("storage-order", "warning", "steps[8]")]
    assert "'to-b-esx-05'" in problems[0].message
    assert "after" in (problems[0].hint or "")


def test_other_actors_are_ignored() -> None:
    """Steps of other packs, and storage reads, are not the safety check's business."""
    p = plan(
        {"id": "inv", "actor": "storage.inventory", "args": {}},
        {"id": "pre", "actor": "storage.preflight", "args": {"array": "array-01"}},
    )
    assert check(p) == []


# -- property: the check's verdict matches what the lab model does --------------------------------

_WRITES = st.one_of(
    st.builds(
        lambda h, c: ("storage.move_paths", {"array": "array-01", "host": h, "to_controller": c}),
        st.sampled_from(HOSTS),
        st.sampled_from(["array-01-a", "array-01-b"]),
    ),
    st.builds(
        lambda c, v: (
            "storage.upgrade_firmware",
            {"array": "array-01", "controller": c, "version": v},
        ),
        st.sampled_from(["array-01-a", "array-01-b"]),
        st.sampled_from(["5.1.0", "5.2.0"]),
    ),
    st.builds(
        lambda c: ("storage.reboot_controller", {"array": "array-01", "controller": c}),
        st.sampled_from(["array-01-a", "array-01-b"]),
    ),
    st.just(("storage.fail_back", {"array": "array-01"})),
    st.just(("storage.rebalance", {"array": "array-01"})),
)


@settings(max_examples=120, deadline=None)
@given(st.lists(_WRITES, min_size=1, max_size=12))
def test_a_plan_without_errors_runs_without_du_or_refusal(
    writes: list[tuple[str, dict[str, Any]]],
) -> None:
    """If the safety check finds no error, running the steps in order breaks nothing and no
    step is refused; if it reports storage-du, forcing the steps through does break a path."""
    p = plan(*({"id": f"s{i}", "actor": a, "args": args} for i, (a, args) in enumerate(writes)))
    problems = check(p)
    errors = [x for x in problems if x.severity == "error"]
    state = default_state()
    broke = refused = False
    for name, args in writes:
        op = storage.WRITE_ACTORS[name]
        out = apply(state, (), op, {**args, "force": True} if op in _OFFLINE else args)
        honest = apply(state, (), op, args)
        refused = refused or honest.status == "refused"
        if out.violations:
            broke = True
            break
        if out.status != "refused":
            state = out.state
    if not errors:
        assert not broke
        assert not refused
    if any(e.code == "storage-du" for e in errors):
        assert broke


_OFFLINE = ("upgrade_firmware", "reboot_controller")
