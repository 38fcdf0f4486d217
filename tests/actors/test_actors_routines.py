"""The routines the storage and network packs ship: they load, expand, validate, run, rank."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import planactor.actors
from planactor import Catalog, InputError, Plan, validate
from planactor.actors.storage import StorageSafety
from planactor.catalog import parse_routine
from planactor.engine import Engine, RunResult
from planactor.journal import Journal
from planactor.lab import (
    Lab,
    LabDocument,
    create_lab,
    current_lab,
    facts,
    inventory,
    lab_resources,
    storage_state,
)
from planactor.lab.storage import StorageState, apply, default_state
from planactor.planner import RoutinePlanner, rank
from planactor.validate import ValidationReport

CATALOG = Catalog.discover()
PACKS = Path(planactor.actors.__file__).parent

# Each shipped routine, with the parameters each of its examples asks for (in order).
EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "storage.firmware_upgrade": [
        {"array": "array-01", "version": "5.2.1"},
        {"array": "array-02", "version": "5.3.0"},
        {"array": "array-03", "version": "5.2.1"},
        {"array": "array-01", "version": "5.2.1"},  # "update storage array firmware"
    ],
    "storage.health_check": [
        {"array": "array-01"},
        {"array": "array-02"},
        {"array": "array-03"},
        {"array": "array-01"},
        {"array": "array-02"},
    ],
    "storage.host_health_check": [
        {"host": "esx-03"},
        {"host": "esx-05"},
        {"host": "esx-01"},
        {"host": "esx-07"},
        {"host": "esx-02"},
    ],
    "storage.rebalance_array": [
        {"array": "array-01"},
        {"array": "array-02"},
        {"array": "array-03"},
        {"array": "array-01"},
        {"array": "array-02"},
    ],
    "storage.fail_back_array": [
        {"array": "array-01"},
        {"array": "array-02"},
        {"array": "array-03"},
        {"array": "array-01"},
        {"array": "array-02"},
    ],
    "storage.reboot_controller_safely": [
        {"array": "array-01", "controller": "array-01-a"},
        {"array": "array-02", "controller": "array-02-a"},
        {"array": "array-03", "controller": "array-03-a"},
        {"array": "array-01", "controller": "array-01-b"},
        {"array": "array-02", "controller": "array-02-b"},
    ],
    "storage.move_host_paths": [
        {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"},
        {"array": "array-02", "host": "esx-04", "to_controller": "array-02-b"},
        {"array": "array-03", "host": "esx-06", "to_controller": "array-03-b"},
        {"array": "array-01", "host": "esx-02", "to_controller": "array-01-b"},
        {"array": "array-02", "host": "esx-03", "to_controller": "array-02-b"},
    ],
    "network.build_fabric": [
        {"leaves": 8, "spines": 4},
        {"leaves": 16, "spines": 4, "servers_per_leaf": 48},
        {"leaves": 32, "spines": 4},
        {"leaves": 12, "spines": 2, "servers_per_leaf": 40, "uplinks_per_spine": 3},
        {"leaves": 24, "spines": 4},
    ],
    "network.build_fat_tree": [{"k": 4}, {"k": 8}, {"k": 6}, {"k": 16}, {"k": 12}],
}
STORAGE_WRITES = {
    "storage.firmware_upgrade",
    "storage.rebalance_array",
    "storage.fail_back_array",
    "storage.reboot_controller_safely",
    "storage.move_host_paths",
}
# Examples that leave a required parameter out on purpose (they still must rank first).
UNGROUNDED = {"update storage array firmware"}
CASES = [(name, params) for name, seq in EXAMPLES.items() for params in seq]
EXAMPLE_INTENTS = [(name, text) for name in EXAMPLES for text in CATALOG.routine(name).examples]
DEFAULT = default_state()
ARRAYS = sorted(DEFAULT.arrays)
HOSTS = sorted(DEFAULT.hosts)


def case_id(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(str(v) for v in value.values())
    return str(value)


def expand(name: str, params: Mapping[str, Any], state: StorageState) -> Plan:
    return CATALOG.routine(name).expand(
        params, facts=facts(state), inventory=inventory(state), requested_by="tests"
    )


def check(plan: Plan, state: StorageState) -> ValidationReport:
    return validate(
        plan.to_document(),
        catalog=CATALOG,
        inventory=inventory(state),
        policy=StorageSafety(state=state),
    )


def planner_info(plan: Plan) -> dict[str, Any]:
    """The plan's planner metadata, extra fields included."""
    assert plan.planner is not None
    return plan.planner.model_dump(mode="json")


def host_paths(doc: LabDocument) -> dict[str, dict[str, str]]:
    """Each host's I/O controller per array."""
    return {h["name"]: dict(h["active"]) for h in doc.state["hosts"]}


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return create_lab(tmp_path / "lab.json", kind="storage", scenario="default", overwrite=True)


@pytest.fixture
def engine(lab: Lab) -> Iterator[Engine]:
    journal = Journal(":memory:")
    yield Engine(
        catalog=CATALOG, journal=journal, sleep=lambda s: None, resources=lab_resources(lab)
    )
    journal.close()


def run(name: str, params: Mapping[str, Any], lab: Lab, engine: Engine) -> RunResult:
    """Expand against the lab as it is now, validate with StorageSafety, then run."""
    state = storage_state(lab)
    plan = expand(name, params, state)
    report = check(plan, state)
    assert report.ok, [str(p) for p in report.problems]
    return engine.run(plan)


# -- loading ------------------------------------------------------------------------------------


def test_every_shipped_routine_loads_through_discovery() -> None:
    """Every routine file the packs ship is in Catalog.discover(), and covered here."""
    files = sorted(PACKS.glob("*/routines/*.yaml"))
    shipped = {parse_routine(f.read_text(), source=f.name).name for f in files}
    # network.deploy_fabric reads a network lab's facts: it is run end to end in
    # tests/actors/network/test_network_lab_actors.py.
    assert shipped - {"network.deploy_fabric"} == set(EXAMPLES)
    assert shipped <= set(CATALOG.routines)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_routine_has_examples_and_one_parameter_set_per_example(name: str) -> None:
    """A routine shows four or more examples, and this file knows the parameters of each."""
    r = CATALOG.routine(name)
    assert len(r.examples) >= 4
    assert len(EXAMPLES[name]) == len(r.examples)
    assert all(p.description for p in r.params.values())


# -- expansion and validation ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "params"), CASES, ids=case_id)
def test_examples_expand_to_plans_the_validator_accepts(name: str, params: dict[str, Any]) -> None:
    """Expanded against the default lab's facts, each example's plan passes StorageSafety."""
    plan = expand(name, params, DEFAULT)
    report = check(plan, DEFAULT)
    assert report.ok, [str(p) for p in report.problems]
    assert not report.warnings, [str(p) for p in report.warnings]
    assert planner_info(plan)["routine"] == name


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_defaults_are_valid_for_their_parameters(name: str) -> None:
    """Every default satisfies its own parameter's type, enum and bounds."""
    r = CATALOG.routine(name)
    defaults = {n: p.default for n, p in r.params.items() if p.default is not None}
    bound = r.bind({**EXAMPLES[name][0], **defaults}, inventory=inventory(DEFAULT))
    assert bound.keys() == r.params.keys()


def test_a_reboot_drains_exactly_the_hosts_the_controller_carries() -> None:
    """Rebooting array-01-a moves its eight hosts to -b first and back after; nothing else."""
    plan = expand(
        "storage.reboot_controller_safely",
        {"array": "array-01", "controller": "array-01-a"},
        DEFAULT,
    )
    steps = {s.id: s for s in plan.steps}
    hosts = [f"esx-0{i}" for i in range(1, 9)]
    assert [s.id for s in plan.steps] == [
        "preflight",
        *(f"drain-{h}" for h in hosts),
        "reboot",
        *(f"restore-{h}" for h in hosts),
        "verify",
    ]
    assert {steps[f"drain-{h}"].args["to_controller"] for h in hosts} == {"array-01-b"}
    assert {steps[f"restore-{h}"].args["to_controller"] for h in hosts} == {"array-01-a"}
    assert set(steps["reboot"].after) == {"preflight", *(f"drain-{h}" for h in hosts)}
    assert steps["verify"].after == ["reboot", *(f"restore-{h}" for h in hosts)]


def test_rebooting_an_idle_controller_moves_no_host() -> None:
    """Array-01-b carries no I/O in the default lab: the plan is preflight, reboot, verify."""
    plan = expand(
        "storage.reboot_controller_safely",
        {"array": "array-01", "controller": "array-01-b"},
        DEFAULT,
    )
    assert [(s.id, s.after) for s in plan.steps] == [
        ("preflight", []),
        ("reboot", ["preflight"]),
        ("verify", ["reboot"]),
    ]


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("storage.reboot_controller_safely", {"array": "array-01", "controller": "array-02-a"}),
        (
            "storage.move_host_paths",
            {"array": "array-01", "host": "esx-01", "to_controller": "array-03-b"},
        ),
    ],
    ids=["reboot", "move"],
)
def test_a_controller_of_another_array_is_refused_at_expansion(
    name: str, params: dict[str, Any]
) -> None:
    """Naming another array's controller is an InputError listing the array's own."""
    with pytest.raises(InputError) as e:
        expand(name, params, DEFAULT)
    assert "array-01-a, array-01-b" in e.value.message


# -- running against the lab -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "params"), CASES, ids=case_id)
def test_examples_run_to_success_without_violations(
    name: str, params: dict[str, Any], lab: Lab, engine: Engine
) -> None:
    """Each example's plan runs through the engine on a fresh lab, and no DU is recorded."""
    result = run(name, params, lab, engine)
    assert result.status == "succeeded", result.reason
    assert current_lab(lab.path).read().violations == []


def test_a_reboot_puts_every_host_back_where_it_was(lab: Lab, engine: Engine) -> None:
    """After a rebalance, rebooting the active controller ends with the same paths as before."""
    lab.operate("rebalance", {"array": "array-01"}, key="setup", kind="storage")
    before = lab.read()
    active = facts(storage_state(before))["arrays"]["array-01"]["active"]
    result = run(
        "storage.reboot_controller_safely",
        {"array": "array-01", "controller": active},
        lab,
        engine,
    )
    assert result.status == "succeeded", result.reason
    after = lab.read()
    assert after.violations == []
    assert host_paths(after) == host_paths(before)
    reboots = [e for e in after.operations if e.get("op") == "reboot_controller"]
    assert [e["status"] for e in reboots] == ["applied"]
    assert result.steps["reboot"].output == {
        "array": "array-01",
        "controller": active,
        "firmware": "5.1.0",
        "was": "online",
    }


def test_rebooting_the_lighter_controller_while_it_carries_io_moves_its_hosts_to_its_partner(
    lab: Lab, engine: Engine
) -> None:
    """After a rebalance both controllers carry I/O: rebooting either drains it to its partner."""
    lab.operate("rebalance", {"array": "array-01"}, key="setup", kind="storage")
    state = storage_state(lab)
    passive = facts(state)["arrays"]["array-01"]["passive"]
    plan = expand(
        "storage.reboot_controller_safely", {"array": "array-01", "controller": passive}, state
    )
    assert check(plan, state).errors == ()
    result = run(
        "storage.reboot_controller_safely",
        {"array": "array-01", "controller": passive},
        lab,
        engine,
    )
    assert result.status == "succeeded", result.reason
    assert lab.read().violations == []


def test_fail_back_returns_moved_hosts_home(lab: Lab, engine: Engine) -> None:
    """After two hosts are moved off their preferred controller, fail-back brings both home."""
    for host in ("esx-02", "esx-05"):
        lab.operate(
            "move_paths",
            {"array": "array-02", "host": host, "to_controller": "array-02-b"},
            key=f"setup-{host}",
            kind="storage",
        )
    result = run("storage.fail_back_array", {"array": "array-02"}, lab, engine)
    assert result.status == "succeeded", result.reason
    output = result.steps["fail-back"].output
    assert output is not None
    assert output["previous"] == {"esx-02": "array-02-b", "esx-05": "array-02-b"}
    assert {h: m["array-02"] for h, m in host_paths(lab.read()).items() if "array-02" in m} == {
        f"esx-0{i}": "array-02-a" for i in range(1, 7)
    }


def test_rebalance_splits_the_hosts_between_the_controllers(lab: Lab, engine: Engine) -> None:
    """Array-01's eight hosts, all on -a, end four on each controller."""
    result = run("storage.rebalance_array", {"array": "array-01"}, lab, engine)
    assert result.status == "succeeded", result.reason
    io = facts(storage_state(lab))["arrays"]["array-01"]["io"]
    assert sorted(len(hosts) for hosts in io.values()) == [4, 4]


def test_move_host_moves_only_that_host(lab: Lab, engine: Engine) -> None:
    """Moving esx-04 on array-02 changes that one host's I/O controller and nothing else."""
    before = host_paths(lab.read())
    result = run(
        "storage.move_host_paths",
        {"array": "array-02", "host": "esx-04", "to_controller": "array-02-b"},
        lab,
        engine,
    )
    assert result.status == "succeeded", result.reason
    expected = {**before, "esx-04": {**before["esx-04"], "array-02": "array-02-b"}}
    assert host_paths(lab.read()) == expected


@pytest.mark.parametrize(
    ("name", "params"),
    [(n, p) for n in ("network.build_fabric", "network.build_fat_tree") for p in EXAMPLES[n]],
    ids=case_id,
)
def test_the_validation_step_reads_the_designed_fabric(
    name: str, params: dict[str, Any], engine: Engine
) -> None:
    """The fabric routines validate the design they made: the report is clean and agrees."""
    plan = CATALOG.routine(name).expand(params, requested_by="tests")
    result = engine.run(plan)
    assert result.status == "succeeded", result.reason
    design, checked = result.steps["design"].output, result.steps["validate"].output
    assert design is not None
    assert checked is not None
    assert checked["ok"] is True
    assert checked == design["report"]


@pytest.mark.parametrize(
    ("name", "params", "says"),
    [
        ("network.build_fabric", {"leaves": 96}, "spine"),
        ("network.build_fat_tree", {"k": 5}, "even"),
        ("network.build_fat_tree", {"k": 32}, "asn_base"),
    ],
    ids=["ports", "odd-k", "asns"],
)
def test_an_impossible_fabric_is_refused_by_validation(
    name: str, params: dict[str, Any], says: str
) -> None:
    """What the routine's bounds cannot rule out, the actor's input model refuses, with why."""
    plan = CATALOG.routine(name).expand(params, requested_by="tests")
    report = validate(plan.to_document(), catalog=CATALOG)
    assert [p.code for p in report.errors] == ["args-invalid"]
    assert says in report.errors[0].message


# -- ranking and planning ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "example"), EXAMPLE_INTENTS, ids=case_id)
def test_each_example_ranks_its_routine_first(name: str, example: str) -> None:
    """The routine planner's ranking puts a routine first for each of its own examples."""
    ranked = rank(CATALOG.routines, example, inventory(DEFAULT))
    assert ranked[0].routine.name == name, [(c.routine.name, c.score) for c in ranked[:3]]
    assert ranked[0].score > ranked[1].score


@pytest.mark.parametrize(
    ("name", "example", "params"),
    [
        (name, text, params)
        for name in EXAMPLES
        for text, params in zip(CATALOG.routine(name).examples, EXAMPLES[name], strict=True)
        if text not in UNGROUNDED
    ],
    ids=case_id,
)
def test_the_routine_planner_fills_each_example_from_its_words(
    name: str, example: str, params: dict[str, Any]
) -> None:
    """Planned from the example's text alone, the plan uses the routine and these values."""
    planner = RoutinePlanner(
        catalog=CATALOG,
        inventory=inventory(DEFAULT),
        facts=facts(DEFAULT),
        policy=StorageSafety(state=DEFAULT),
    )
    result = planner.plan(example, requested_by="tests")
    assert result.chosen.routine.name == name
    assert result.report.ok
    assert params.items() <= planner_info(result.plan)["params"].items()


# -- the safety property -------------------------------------------------------------------------


@st.composite
def lab_states(draw: st.DrawFn) -> StorageState:
    """The default lab after some hosts' I/O was moved (all paths stay up)."""
    state = DEFAULT
    for _ in range(draw(st.integers(0, 6))):
        host = draw(st.sampled_from(HOSTS))
        array = draw(st.sampled_from(sorted(state.hosts[host].active)))
        to = draw(st.sampled_from(state.arrays[array].controllers))
        out = apply(state, (), "move_paths", {"array": array, "host": host, "to_controller": to})
        state = out.state
    return state


@st.composite
def write_cases(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A storage write routine with parameters drawn from the default lab's entities."""
    name = draw(st.sampled_from(sorted(STORAGE_WRITES)))
    array = draw(st.sampled_from(ARRAYS))
    controller = draw(st.sampled_from(DEFAULT.arrays[array].controllers))
    params: dict[str, Any] = {"array": array}
    if name == "storage.firmware_upgrade":
        params["version"] = draw(st.sampled_from(["5.1.0", "5.2.0", "6.0.1"]))
    elif name == "storage.reboot_controller_safely":
        params["controller"] = controller
    elif name == "storage.move_host_paths":
        params["host"] = draw(st.sampled_from(HOSTS))
        params["to_controller"] = controller
    return name, params


@settings(max_examples=150, deadline=None)
@given(case=write_cases(), state=lab_states())
def test_storage_write_routines_never_make_data_unavailable(
    case: tuple[str, dict[str, Any]], state: StorageState
) -> None:
    """Over the default lab's arrays and hosts, with some paths moved first, no write
    routine expands to a plan that would make data unavailable."""
    name, params = case
    plan = expand(name, params, state)
    report = check(plan, state)
    assert "storage-du" not in [p.code for p in report.problems]
    host = params.get("host")
    if host is not None and params["array"] not in state.hosts[host].active:
        assert [p.code for p in report.errors] == ["storage-invalid"]
    else:
        assert report.ok, [str(p) for p in report.problems]
