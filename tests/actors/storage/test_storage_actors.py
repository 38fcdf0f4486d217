"""The storage pack's actors against a lab file: reads, writes, preconditions, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planactor import ActorContext, ActorError, Catalog, UnexpectedState
from planactor.actors import storage
from planactor.catalog import ENTITY_KEY, actor_of
from planactor.lab import Lab, create_lab
from planactor.lab import _actor_access as lab_access

ACTORS = [
    storage.inventory,
    storage.list_paths,
    storage.host_health,
    storage.controller_status,
    storage.preflight_check,
    storage.move_paths,
    storage.upgrade_firmware,
    storage.reboot_controller,
    storage.fail_back,
    storage.rebalance,
    storage.restore_paths,
]
HOSTS = [f"esx-0{i}" for i in range(1, 9)]


# What the engine would hand the actors called directly here: the lab a fixture made last.
RESOURCES: dict[str, object] = {}


@pytest.fixture
def make_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Lab]:
    def make(scenario: str = "default", **kw: Any) -> Lab:
        lab = create_lab(tmp_path / f"{scenario}.json", scenario=scenario, overwrite=True, **kw)
        monkeypatch.setitem(RESOURCES, "lab", lab)
        return lab

    return make


@pytest.fixture
def lab(make_lab: Callable[..., Lab]) -> Lab:
    return make_lab()


def ctx(step: str, run: str = "run-1") -> ActorContext:
    return ActorContext.for_step(run_id=run, step_id=step, resources=RESOURCES)


def call(fn: Any, args: dict[str, Any], step: str = "s", run: str = "run-1") -> Any:
    spec = actor_of(fn)
    assert spec is not None
    return spec.call(args, ctx(step, run))


def drain(array: str = "array-01", to: str = "b", run: str = "run-1") -> None:
    for i, h in enumerate(HOSTS if array == "array-01" else HOSTS[:6]):
        call(
            storage.move_paths,
            {"array": array, "host": h, "to_controller": f"{array}-{to}"},
            f"move-{to}-{i}",
            run,
        )


def active(lab: Lab, host: str, array: str = "array-01") -> str:
    return next(h for h in lab.read().state["hosts"] if h["name"] == host)["active"][array]


# -- the pack ---------------------------------------------------------------------------------


def test_the_pack_loads_as_a_catalog() -> None:
    """Every actor passes the catalog's rules: writes compensated or irreversible, links fed."""
    cat = Catalog(ACTORS, pack="storage")
    assert sorted(a.name for a in cat) == sorted(
        [
            "storage.inventory",
            "storage.list_paths",
            "storage.host_health",
            "storage.controller_status",
            "storage.preflight",
            "storage.move_paths",
            "storage.upgrade_firmware",
            "storage.reboot_controller",
            "storage.fail_back",
            "storage.rebalance",
            "storage.restore_paths",
        ]
    )
    kinds = {a.name: a.kind for a in cat}
    assert kinds["storage.upgrade_firmware"] == "irreversible"
    assert kinds["storage.reboot_controller"] == "irreversible"
    assert kinds["storage.move_paths"] == "write"
    assert cat.get("storage.move_paths").compensate == "storage.move_paths"
    assert cat.get("storage.fail_back").compensate == "storage.restore_paths"
    assert set(storage.WRITE_ACTORS) == {a.name for a in cat if a.effect == "write"}
    assert all(a.idempotent and a.check is not None for a in cat if a.effect == "write")


def test_inputs_name_inventory_entities() -> None:
    """Array, host and controller fields are marked as entities for the validator."""
    schema = storage.MovePathsInput.model_json_schema()["properties"]
    assert [schema[f][ENTITY_KEY] for f in ("array", "host", "to_controller")] == [
        "array",
        "host",
        "controller",
    ]
    up = storage.UpgradeInput.model_json_schema()["properties"]
    assert up["controller"][ENTITY_KEY] == "controller"


def test_a_missing_lab_is_a_final_actor_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a lab, actors fail for good with a hint to create one."""
    monkeypatch.setitem(RESOURCES, "lab", Lab(tmp_path / "none.json"))
    for fn, args in [
        (storage.inventory, {}),
        (storage.move_paths, {"array": "array-01", "host": "esx-01", "to_controller": "x"}),
    ]:
        with pytest.raises(ActorError) as e:
            call(fn, args)
        assert e.value.retryable is False
        assert "planactor lab init storage" in (e.value.hint or "")


def test_a_lab_of_another_kind_is_refused(lab: Lab) -> None:
    """A lab file of another kind is not a storage lab."""
    # A real network lab: a storage state labelled "network" is refused as malformed at load.
    create_lab(lab.path, kind="network", overwrite=True)
    with pytest.raises(ActorError, match="network lab, not a storage lab"):
        call(storage.inventory, {})
    with pytest.raises(ActorError, match="network lab, not a storage lab"):
        call(storage.fail_back, {"array": "array-01"})


# -- read actors ----------------------------------------------------------------------------------


def test_inventory(lab: Lab) -> None:
    """The inventory lists arrays with controllers, firmware, roles and hosts; or one array."""
    out = call(storage.inventory, {})
    assert [a.name for a in out.arrays] == ["array-01", "array-02", "array-03"]
    a1 = out.arrays[0]
    assert a1.mode == "active-passive"
    assert [(c.name, c.firmware, c.state, c.role) for c in a1.controllers] == [
        ("array-01-a", "5.1.0", "online", "active"),
        ("array-01-b", "5.1.0", "online", "passive"),
    ]
    assert a1.controllers[0].carries_io == HOSTS
    assert len(out.hosts) == 8
    only = call(storage.inventory, {"array": "array-03"})
    assert [a.name for a in only.arrays] == ["array-03"]
    assert [h.name for h in only.hosts] == HOSTS[2:]
    with pytest.raises(ActorError, match="no array named 'array-09'"):
        call(storage.inventory, {"array": "array-09"})


def test_list_paths(lab: Lab) -> None:
    """Paths filter by array and host and tell their role and whether they carry I/O."""
    out = call(storage.list_paths, {"array": "array-01", "host": "esx-03"})
    assert [
        (p.controller, p.state, p.role, p.working, p.carries_io, p.luns) for p in out.paths
    ] == [
        ("array-01-a", "up", "active", True, True, ["lun-3"]),
        ("array-01-b", "up", "passive", True, False, ["lun-3"]),
    ]
    assert len(call(storage.list_paths, {}).paths) == 2 * (8 + 6 + 6)
    alua = call(storage.list_paths, {"array": "array-03", "host": "esx-03"}).paths
    assert [p.role for p in alua] == ["active-optimized", "active-non-optimized"]


def test_host_health_states(lab: Lab) -> None:
    """A host's LUNs are optimal, degraded (a path lost) or unavailable (no I/O path)."""
    healthy = call(storage.host_health, {"host": "esx-03"})
    assert healthy.healthy
    assert [lun.status for lun in healthy.luns] == ["optimal"] * 3
    lab.inject_fault({"kind": "path-down", "host": "esx-03", "controller": "array-01-b"})
    lab.inject_fault({"kind": "path-down", "host": "esx-03", "controller": "array-02-a"})
    out = call(storage.host_health, {"host": "esx-03"})
    by_lun = {lun.lun: (lun.status, lun.working_paths, lun.io_controller) for lun in out.luns}
    assert by_lun == {
        "lun-3": ("degraded", 1, "array-01-a"),
        "lun-11": ("unavailable", 1, None),
        "lun-15": ("optimal", 2, "array-03-a"),
    }
    assert not out.healthy
    with pytest.raises(ActorError, match="no host named"):
        call(storage.host_health, {"host": "esx-99"})


def test_host_health_of_a_mute_host(make_lab: Callable[..., Lab]) -> None:
    """A host that does not respond is reported unhealthy, with the array's view of its LUNs."""
    make_lab("host-unresponsive")
    out = call(storage.host_health, {"host": "esx-05"})
    assert (out.responsive, out.healthy) == (False, False)
    assert {lun.status for lun in out.luns} == {"optimal"}


def test_controller_status(lab: Lab) -> None:
    """Controller status reports firmware, state, role and carried hosts; one or both."""
    drain()
    out = call(storage.controller_status, {"array": "array-01"})
    assert out.mode == "active-passive"
    assert [(c.name, c.role, len(c.carries_io)) for c in out.controllers] == [
        ("array-01-a", "passive", 0),
        ("array-01-b", "active", 8),
    ]
    one = call(storage.controller_status, {"array": "array-01", "controller": "array-01-b"})
    assert [c.name for c in one.controllers] == ["array-01-b"]
    with pytest.raises(ActorError, match="not a controller of array-01"):
        call(storage.controller_status, {"array": "array-01", "controller": "array-02-a"})


def test_preflight(make_lab: Callable[..., Lab]) -> None:
    """Preflight passes on the default lab and names the down path in path-down."""
    make_lab()
    ok = call(storage.preflight_check, {"array": "array-01"})
    assert (ok.ok, ok.problems, ok.hosts) == (True, [], HOSTS)
    make_lab("path-down")
    bad = call(storage.preflight_check, {"array": "array-01"})
    assert not bad.ok
    assert bad.problems == ["esx-03's path through array-01-b is down"]
    only_b = call(storage.preflight_check, {"array": "array-01", "controller": "array-01-b"})
    assert only_b.ok
    with pytest.raises(ActorError):
        call(storage.preflight_check, {"array": "array-01", "controller": "array-02-b"})


def test_reads_take_the_lab_latency(make_lab: Callable[..., Lab], monkeypatch: Any) -> None:
    """A read actor sleeps the lab's latency, as a real call would take time."""
    make_lab(latency_ms=30)
    slept: list[float] = []
    # The sleep happens where every lab pack's actors read their lab.
    monkeypatch.setattr(lab_access.time, "sleep", slept.append)
    call(storage.inventory, {})
    assert slept == [0.03]


# -- move_paths --------------------------------------------------------------------------------


def test_move_paths_moves_and_applies_once_per_key(lab: Lab) -> None:
    """The same idempotency key applies once and returns the same output."""
    args = {"array": "array-01", "host": "esx-03", "to_controller": "array-01-b"}
    first = call(storage.move_paths, args, "m")
    assert (first.from_controller, first.to_controller, first.moved) == (
        "array-01-a",
        "array-01-b",
        True,
    )
    assert active(lab, "esx-03") == "array-01-b"
    again = call(storage.move_paths, args, "m")
    assert again == first
    assert lab.read().applied_counts() == {"run-1/m": 1}


def test_move_paths_compensation_moves_back(lab: Lab) -> None:
    """The compensation input built from the output moves the host back."""
    spec = actor_of(storage.move_paths)
    assert spec is not None
    inp = spec.parse_input({"array": "array-01", "host": "esx-03", "to_controller": "array-01-b"})
    out = spec.call(inp, ctx("m"))
    comp_inp = spec.compensation_input(spec, inp, out)
    assert comp_inp.model_dump() == {
        "array": "array-01",
        "host": "esx-03",
        "to_controller": "array-01-a",
    }
    spec.call(
        comp_inp,
        ActorContext(
            run_id="run-1",
            step_id="m",
            idempotency_key="run-1/m/compensate",
            resources=RESOURCES,
        ),
    )
    assert active(lab, "esx-03") == "array-01-a"
    assert lab.read().applied_counts() == {"run-1/m": 1, "run-1/m/compensate": 1}


def test_move_paths_onto_a_down_path_is_unexpected(make_lab: Callable[..., Lab]) -> None:
    """Moving onto a path that is down raises UnexpectedState and changes nothing."""
    lab = make_lab("path-down")
    with pytest.raises(UnexpectedState, match="path through array-01-b is down"):
        call(
            storage.move_paths,
            {"array": "array-01", "host": "esx-03", "to_controller": "array-01-b"},
        )
    assert lab.read().seq == 0


def test_move_paths_of_a_mute_host_is_retryable(make_lab: Callable[..., Lab]) -> None:
    """A host that does not answer is a retryable failure."""
    make_lab("host-unresponsive")
    with pytest.raises(ActorError) as e:
        call(
            storage.move_paths,
            {"array": "array-01", "host": "esx-05", "to_controller": "array-01-b"},
        )
    assert e.value.retryable
    assert not isinstance(e.value, UnexpectedState)


def test_move_paths_with_bad_names_fails_for_good(lab: Lab) -> None:
    """A controller of another array is a final failure, not a pause."""
    with pytest.raises(ActorError) as e:
        call(
            storage.move_paths,
            {"array": "array-01", "host": "esx-05", "to_controller": "array-02-b"},
        )
    assert not e.value.retryable
    assert not isinstance(e.value, UnexpectedState)


# -- upgrade_firmware and reboot_controller -----------------------------------------------------

UPGRADE_A = {"array": "array-01", "controller": "array-01-a", "version": "5.2.0"}


def test_upgrade_refused_while_carrying_io(lab: Lab) -> None:
    """Upgrading a controller that carries host I/O raises UnexpectedState; nothing changes."""
    with pytest.raises(UnexpectedState, match="still carries host I/O") as e:
        call(storage.upgrade_firmware, UPGRADE_A, "up")
    assert "storage.move_paths" in (e.value.hint or "")
    assert lab.read().seq == 0


def test_upgrade_refused_without_a_surviving_path(make_lab: Callable[..., Lab]) -> None:
    """With esx-03 unable to reach -b, -a cannot go offline even with the others moved."""
    make_lab("path-down")
    for i, h in enumerate(HOSTS):
        if h != "esx-03":
            call(
                storage.move_paths,
                {"array": "array-01", "host": h, "to_controller": "array-01-b"},
                f"m{i}",
            )
    with pytest.raises(UnexpectedState, match="esx-03"):
        call(storage.upgrade_firmware, UPGRADE_A, "up")


def test_upgrade_after_draining_applies_once(lab: Lab) -> None:
    """Drained, the controller flashes; the same key again does not flash twice."""
    drain()
    out = call(storage.upgrade_firmware, UPGRADE_A, "up")
    assert (out.from_version, out.to_version, out.upgraded) == ("5.1.0", "5.2.0", True)
    assert call(storage.upgrade_firmware, UPGRADE_A, "up") == out
    doc = lab.read()
    assert doc.applied_counts()["run-1/up"] == 1
    assert doc.violations == []


def test_upgrade_is_idempotent_on_the_target_version(lab: Lab) -> None:
    """A new call for the version it already runs reports upgraded=False."""
    drain()
    call(storage.upgrade_firmware, UPGRADE_A, "up")
    out = call(storage.upgrade_firmware, UPGRADE_A, "up", run="run-2")
    assert out.upgraded is False
    assert lab.read().applied_counts()["run-2/up"] == 0


def test_failed_upgrade_then_reboot_and_retry(make_lab: Callable[..., Lab]) -> None:
    """A failing flash is a final error; a reboot brings the controller back for a retry."""
    lab = make_lab("upgrade-fails")
    drain()
    with pytest.raises(ActorError, match=r"halted on 5\.1\.0") as e:
        call(storage.upgrade_firmware, UPGRADE_A, "up")
    assert not e.value.retryable
    assert "storage.reboot_controller" in (e.value.hint or "")
    back = call(storage.reboot_controller, {"array": "array-01", "controller": "array-01-a"}, "rb")
    assert back.was == "failed"
    assert call(storage.upgrade_firmware, UPGRADE_A, "up").upgraded
    assert lab.read().applied_counts()["run-1/up"] == 1


def test_a_timed_out_upgrade_is_not_applied_twice(make_lab: Callable[..., Lab]) -> None:
    """The slow scenario's upgrade applies, then times out; the retry replays the result."""
    lab = make_lab("slow", latency_ms=0)
    drain()
    with pytest.raises(ActorError, match="timed out") as e:
        call(storage.upgrade_firmware, UPGRADE_A, "up")
    assert e.value.retryable
    out = call(storage.upgrade_firmware, UPGRADE_A, "up")
    assert out.upgraded
    assert lab.read().applied_counts()["run-1/up"] == 1


def test_forced_upgrade_records_du(lab: Lab) -> None:
    """force skips the preconditions; the lab's monitor records the DU it causes."""
    out = call(storage.upgrade_firmware, {**UPGRADE_A, "force": True}, "up")
    assert out.upgraded
    doc = lab.read()
    assert [v["host"] for v in doc.violations] == HOSTS
    assert {v["kind"] for v in doc.violations} == {"DU"}


def test_reboot_controller(lab: Lab) -> None:
    """A reboot is refused while carrying I/O, and goes through once drained."""
    args = {"array": "array-02", "controller": "array-02-a"}
    with pytest.raises(UnexpectedState):
        call(storage.reboot_controller, args, "rb")
    drain("array-02")
    out = call(storage.reboot_controller, args, "rb")
    assert (out.controller, out.firmware, out.was) == ("array-02-a", "5.1.0", "online")
    assert lab.read().violations == []


# -- fail_back, rebalance, restore_paths --------------------------------------------------------


def test_fail_back_and_its_compensation(lab: Lab) -> None:
    """fail_back returns hosts to -a; restore_paths with its output puts them back on -b."""
    drain()
    spec = actor_of(storage.fail_back)
    assert spec is not None
    inp = spec.parse_input({"array": "array-01"})
    out = spec.call(inp, ctx("fb"))
    assert [m.host for m in out.moved] == HOSTS
    assert active(lab, "esx-05") == "array-01-a"
    comp = actor_of(storage.restore_paths)
    assert comp is not None
    comp.call(spec.compensation_input(comp, inp, out), ctx("fb-undo"))
    assert {active(lab, h) for h in HOSTS} == {"array-01-b"}


def test_rebalance_and_its_compensation(lab: Lab) -> None:
    """rebalance splits 4/4; its compensation restores the previous routing."""
    spec = actor_of(storage.rebalance)
    comp = actor_of(storage.restore_paths)
    assert spec is not None
    assert comp is not None
    inp = spec.parse_input({"array": "array-01"})
    out = spec.call(inp, ctx("rb"))
    assert [m.host for m in out.moved] == HOSTS[4:]
    undo_inp = spec.compensation_input(comp, inp, out)
    undo = comp.call(undo_inp, ctx("rb-undo"))
    assert {active(lab, h) for h in HOSTS} == {"array-01-a"}
    # The compensation of the compensation would redo the rebalance.
    assert comp.compensation_input(comp, undo_inp, undo).model_dump()["paths"] == dict.fromkeys(
        HOSTS[4:], "array-01-b"
    )


def test_fail_back_onto_a_down_path_is_unexpected(lab: Lab) -> None:
    """fail_back refuses (UnexpectedState) if a host's preferred path is down."""
    drain()
    lab.inject_fault({"kind": "path-down", "host": "esx-02", "controller": "array-01-a"})
    with pytest.raises(UnexpectedState, match="esx-02"):
        call(storage.fail_back, {"array": "array-01"}, "fb")


# -- dry run (check) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "args", "outcome"),
    [
        (
            storage.move_paths,
            {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"},
            "applied",
        ),
        (storage.upgrade_firmware, UPGRADE_A, "refused"),
        (storage.reboot_controller, {"array": "array-01", "controller": "array-01-a"}, "refused"),
        (storage.fail_back, {"array": "array-01"}, "unchanged"),
        (storage.rebalance, {"array": "array-01"}, "applied"),
        (
            storage.restore_paths,
            {"array": "array-01", "paths": {"esx-01": "array-01-b"}},
            "applied",
        ),
    ],
)
def test_check_changes_nothing(lab: Lab, fn: Any, args: dict[str, Any], outcome: str) -> None:
    """A dry run reports what the write would do and leaves the lab file untouched."""
    spec = actor_of(fn)
    assert spec is not None
    assert spec.check is not None
    before = lab.path.read_bytes()
    change = spec.check(spec.parse_input(args), ctx("dry"))
    assert isinstance(change, storage.StorageChange)
    assert change.outcome == outcome
    assert lab.path.read_bytes() == before
    if outcome == "applied":
        assert change.changes
    if outcome == "refused":
        assert change.refused


def test_check_foresees_du_and_prior_application(lab: Lab) -> None:
    """A dry run shows the DUs a forced upgrade would cause, and keys already applied."""
    spec = actor_of(storage.upgrade_firmware)
    assert spec is not None
    assert spec.check is not None
    change = spec.check(spec.parse_input({**UPGRADE_A, "force": True}), ctx("dry"))
    assert len(change.data_unavailable) == 8
    assert lab.read().violations == []
    move = actor_of(storage.move_paths)
    assert move is not None
    assert move.check is not None
    args = move.parse_input({"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"})
    move.call(args, ctx("m"))
    assert move.check(args, ctx("m")).already_applied
