"""planactor.plan._dag: dependencies, cycles and the engine's topological order."""

from __future__ import annotations

import graphlib
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planactor.plan import (
    API_VERSION,
    Plan,
    Step,
    dependencies,
    dependency_map,
    find_cycle,
    topological_order,
)

PROPERTY = settings(max_examples=150, deadline=None)


def _step(sid: str, *after: str, refs: Sequence[str] = (), when: str | None = None) -> Step:
    """A step that runs `after` the given ids and reads the outputs of `refs` in its args."""
    doc: dict[str, Any] = {
        "id": sid,
        "actor": "core.echo",
        "after": list(after),
        "args": {f"in{i}": {"$ref": f"{r}.output.value"} for i, r in enumerate(refs)},
    }
    if when is not None:
        doc["when"] = {"$ref": f"{when}.output.ok"}
    return Step.model_validate(doc)


def _plan(*steps: Step) -> Plan:
    return Plan(api_version=API_VERSION, intent="test", requested_by="tests", steps=list(steps))


def _assert_is_cycle(cycle: list[str], deps: Mapping[str, Sequence[str]]) -> None:
    """`cycle` is [a, b, ..., a], each node depending on the next, with no other repeats."""
    assert len(cycle) >= 2
    assert cycle[0] == cycle[-1]
    assert len(set(cycle[:-1])) == len(cycle) - 1
    for here, there in itertools.pairwise(cycle):
        assert there in deps[here]


def _has_cycle(deps: Mapping[str, Sequence[str]]) -> bool:
    """Independent oracle: the standard library's topological sorter."""
    try:
        tuple(graphlib.TopologicalSorter(deps).static_order())
    except graphlib.CycleError:
        return True
    return False


# --- dependencies ---------------------------------------------------------------------------


def test_dependencies_merge_after_refs_and_when_in_order() -> None:
    """`after` comes first, then steps named by references in args, then the `when` step."""
    step = Step.model_validate(
        {
            "id": "deploy",
            "actor": "core.echo",
            "after": ["lint", "build"],
            "args": {
                "image": {"$ref": "push.output.image"},
                "nested": [{"x": {"$ref": "build.output.tag"}}, {"$ref": "scan.output"}],
                "region": {"$input": "region"},
            },
            "when": {"$ref": "approve.output.ok", "op": "truthy"},
        }
    )
    assert dependencies(step) == ("lint", "build", "push", "scan", "approve")


def test_dependencies_are_listed_once() -> None:
    """A step named by `after`, several references and `when` appears only once."""
    step = _step("b", "a", "a", refs=["a", "c", "a", "c"], when="c")
    assert dependencies(step) == ("a", "c")


def test_dependencies_ignore_inputs_and_malformed_refs() -> None:
    """`$input` references and malformed `$ref`s add no dependency."""
    step = Step.model_validate(
        {
            "id": "b",
            "actor": "core.echo",
            "args": {
                "i": {"$input": "a"},
                "bad": {"$ref": "a.outputs.x"},
                "extra": {"$ref": "a.output", "k": 1},
                "n": {"$ref": 7},
            },
            "when": {"$input": "flag"},
        }
    )
    assert dependencies(step) == ()


def test_a_bare_step_has_no_dependencies() -> None:
    """A step with no `after`, references or condition depends on nothing."""
    assert dependencies(Step(id="a", actor="core.echo")) == ()


ids = st.sampled_from("abcdefgh")


@PROPERTY
@given(
    after=st.lists(ids, max_size=5),
    refs=st.lists(ids, max_size=5),
    when=st.none() | ids,
)
def test_dependencies_is_the_ordered_union(
    after: list[str], refs: list[str], when: str | None
) -> None:
    """Dependencies are after ∪ refs ∪ when, no repeats, `after` first in its own order."""
    named = [*refs, *([when] if when else [])]
    deps = dependencies(_step("z", *after, refs=refs, when=when))
    assert len(deps) == len(set(deps))
    assert set(deps) == {*after, *named}
    head = len(set(after))
    assert deps[:head] == tuple(dict.fromkeys(after))
    assert deps[head:] == tuple(d for d in dict.fromkeys(named) if d not in after)


def test_dependency_map_covers_every_step() -> None:
    """dependency_map maps each step id to its dependencies."""
    steps = [_step("a"), _step("b", "a"), _step("c", refs=["b"], when="a")]
    assert dependency_map(steps) == {"a": (), "b": ("a",), "c": ("b", "a")}


# --- find_cycle -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "deps",
    [
        {"a": ["a"]},
        {"a": ["b"], "b": ["a"]},
        {"a": ["b"], "b": ["c"], "c": ["d"], "d": ["b"]},
        {"x": [], "a": ["x", "b"], "b": ["c"], "c": ["a"], "d": ["a"]},
        {"ok": [], "later": ["ok", "loop"], "loop": ["later"]},
        {"a": ["unknown", "b"], "b": ["b"]},
    ],
    ids=["self-loop", "two-cycle", "cycle-behind-a-tail", "cycle-with-branches", "late", "self-b"],
)
def test_find_cycle_returns_a_real_cycle(deps: dict[str, list[str]]) -> None:
    """A self-loop, a 2-cycle and longer cycles are found and returned as [a, ..., a]."""
    cycle = find_cycle(deps)
    assert cycle is not None
    _assert_is_cycle(cycle, deps)


def test_find_cycle_reports_a_self_loop_as_two_entries() -> None:
    """A step that depends on itself is the cycle [a, a]."""
    assert find_cycle({"ok": [], "a": ["ok", "a"]}) == ["a", "a"]


@pytest.mark.parametrize(
    "deps",
    [
        {},
        {"a": []},
        {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]},
        {"a": ["ghost"], "ghost2": ["a"]},
        {"a": ["b", "b"], "b": []},
    ],
    ids=["empty", "single", "diamond", "unknown-ids", "repeated-edge"],
)
def test_find_cycle_returns_none_for_a_dag(deps: dict[str, list[str]]) -> None:
    """Graphs without a cycle (unknown ids ignored) give None."""
    assert find_cycle(deps) is None


@PROPERTY
@given(
    edges=st.dictionaries(
        st.sampled_from("abcdefg"), st.lists(st.sampled_from("abcdefgxy"), max_size=4)
    )
)
def test_find_cycle_agrees_with_graphlib(edges: dict[str, list[str]]) -> None:
    """A cycle is reported exactly when graphlib finds one, and it is a cycle of the graph."""
    cycle = find_cycle(edges)
    assert (cycle is not None) == _has_cycle(edges)
    if cycle is not None:
        _assert_is_cycle(cycle, edges)


CHAIN = 20_000


def test_find_cycle_walks_a_long_chain_without_recursion() -> None:
    """A 20,000-step chain is searched to the end without RecursionError."""
    deps = {f"s{i}": [f"s{i - 1}"] if i else [] for i in reversed(range(CHAIN))}
    assert find_cycle(deps) is None


def test_find_cycle_finds_a_cycle_through_a_long_chain() -> None:
    """A cycle through all 20,000 steps is found and returned whole."""
    deps = {f"s{i}": [f"s{(i - 1) % CHAIN}"] for i in reversed(range(CHAIN))}
    cycle = find_cycle(deps)
    assert cycle is not None
    assert len(cycle) == CHAIN + 1
    _assert_is_cycle(cycle, deps)


# --- topological_order ----------------------------------------------------------------------


def test_diamond_runs_in_plan_order_not_id_order() -> None:
    """When two steps are ready together, the one listed first runs first, whatever its id."""
    plan = _plan(_step("a"), _step("c", "a"), _step("b", refs=["a"]), _step("d", "b", "c"))
    assert topological_order(plan) == ["a", "c", "b", "d"]


def test_fan_out_runs_in_plan_order_not_id_order() -> None:
    """Dependents of one step run in the order they are listed, not sorted by id."""
    plan = _plan(_step("m"), _step("z", "m"), _step("b", "m"), _step("y", "m"), _step("a", "m"))
    assert topological_order(plan) == ["m", "z", "b", "y", "a"]


def test_a_step_listed_early_runs_as_soon_as_it_is_ready() -> None:
    """A step listed before its dependency runs right after it, ahead of later-listed steps."""
    plan = _plan(_step("b", "a"), _step("c"), _step("a"), _step("d"))
    assert topological_order(plan) == ["c", "a", "b", "d"]


def test_independent_steps_keep_plan_order() -> None:
    """Without dependencies the order is the plan's order."""
    names = ["q", "b", "x", "a"]
    assert topological_order(_plan(*(_step(n) for n in names))) == names


@st.composite
def dag_plans(draw: st.DrawFn) -> Plan:
    """A random DAG (each step may depend on lower-numbered ones), listed in a random order."""
    n = draw(st.integers(1, 9))
    steps = []
    for i in range(n):
        earlier = [f"s{j}" for j in range(i)]
        deps = draw(st.lists(st.sampled_from(earlier), max_size=3)) if earlier else []
        kind = draw(st.sampled_from(["after", "ref", "when"]))
        if kind == "after":
            steps.append(_step(f"s{i}", *deps))
        elif kind == "ref":
            steps.append(_step(f"s{i}", refs=deps))
        else:
            steps.append(_step(f"s{i}", *deps[1:], when=deps[0] if deps else None))
    return _plan(*draw(st.permutations(steps)))


@PROPERTY
@given(plan=dag_plans())
def test_topological_order_is_the_earliest_listed_valid_order(plan: Plan) -> None:
    """Every step runs after its dependencies, and each pick is the first-listed ready step."""
    order = topological_order(plan)
    assert sorted(order) == sorted(s.id for s in plan.steps)
    deps = dependency_map(plan.steps)
    done: set[str] = set()
    for sid in order:
        ready = [s.id for s in plan.steps if s.id not in done and set(deps[s.id]) <= done]
        assert sid == ready[0]
        done.add(sid)


@PROPERTY
@given(plan=dag_plans())
def test_a_plan_in_dependency_order_runs_as_listed(plan: Plan) -> None:
    """Listing steps in a valid order makes that order the run order."""
    listed = _plan(*sorted(plan.steps, key=lambda s: int(s.id[1:])))
    assert topological_order(listed) == [s.id for s in listed.steps]


@pytest.mark.parametrize(
    "steps",
    [
        [_step("a", "a")],
        [_step("a", refs=["a"])],
        [_step("a", "b"), _step("b", "a")],
        [_step("x"), _step("a", refs=["c"]), _step("b", "a"), _step("c", when="b")],
    ],
    ids=["self-after", "self-ref", "two-cycle", "three-cycle"],
)
def test_topological_order_refuses_cycles(steps: list[Step]) -> None:
    """A plan whose dependencies form a cycle raises ValueError."""
    with pytest.raises(ValueError, match="cycle"):
        topological_order(_plan(*steps))


@pytest.mark.parametrize(
    "step",
    [_step("b", "ghost"), _step("b", refs=["ghost"]), _step("b", when="ghost")],
    ids=["after", "ref", "when"],
)
def test_topological_order_refuses_unknown_dependencies(step: Step) -> None:
    """A dependency on a step not in the plan raises ValueError naming both steps."""
    with pytest.raises(ValueError, match="'b' depends on unknown step 'ghost'"):
        topological_order(_plan(_step("a"), step))


def test_topological_order_handles_a_long_chain() -> None:
    """A 20,000-step chain listed backwards comes out front to back."""
    steps = [_step(f"s{i}", f"s{i - 1}") if i else _step("s0") for i in range(CHAIN)]
    order = topological_order(_plan(*reversed(steps)))
    assert order == [f"s{i}" for i in range(CHAIN)]
