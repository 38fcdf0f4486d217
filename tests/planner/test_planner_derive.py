"""Routine-level formulas: a parameter worked out by code from a quantity the intent says,
shown in the grounding notes with the formula used; the derived fabric always validates."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planactor import InputError, PlanInvalid
from planactor.catalog import Catalog
from planactor.planner import RoutinePlanner
from planactor.planner._derive import evaluate, names_in

PLANNER = RoutinePlanner(catalog=Catalog.discover())


@pytest.mark.parametrize(
    ("formula", "names", "value"),
    [
        ("ceil(servers / servers_per_leaf)", {"servers": 96, "servers_per_leaf": 48}, 2),
        ("ceil(servers / servers_per_leaf)", {"servers": 97, "servers_per_leaf": 48}, 3),
        ("even_ceil(cbrt(4 * hosts))", {"hosts": 128}, 8),
        ("even_ceil(cbrt(4 * hosts))", {"hosts": 129}, 10),
        ("even_ceil(pods)", {"pods": 5}, 6),
        ("2 ** k // 4 - -1", {"k": 4}, 5),
    ],
)
def test_a_formula_is_evaluated_as_arithmetic(
    formula: str, names: dict[str, float], value: float
) -> None:
    """Numbers, names, operators and the listed functions; exact at cube-root boundaries."""
    assert evaluate(formula, names) == value


@pytest.mark.parametrize(
    ("formula", "problem"),
    [
        ("__import__('os').system('true')", "is not allowed"),
        ("hosts.real", "is not allowed"),
        ("[hosts]", "is not allowed"),
        ("hosts +", "is not an arithmetic expression"),
        ("missing * 2", "no value for 'missing'"),
        ("hosts / 0", "divides by zero"),
    ],
)
def test_anything_but_arithmetic_is_refused(formula: str, problem: str) -> None:
    """Calls outside the list, attributes, literals other than numbers, syntax errors,
    unknown names and division by zero: InputError saying which."""
    with pytest.raises(InputError, match=problem):
        evaluate(formula, {"hosts": 8})


def test_names_in_a_formula_leave_out_its_functions() -> None:
    """The names a formula reads, for the grounding note."""
    assert names_in("even_ceil(cbrt(4 * hosts))") == {"hosts"}


def test_the_derived_value_is_noted_with_its_formula() -> None:
    """'fat tree for 128 hosts': k = 8, source `derived`, the formula and its input shown."""
    result = PLANNER.plan("fat tree for 128 hosts", requested_by="sam")
    (note,) = [n for n in result.chosen.grounding.notes if n.param == "k"]
    assert (note.value, note.source) == (8, "derived")
    assert note.detail == "k = even_ceil(cbrt(4 * hosts)) with hosts = 128"


def test_a_count_said_per_leaf_is_not_a_total() -> None:
    """'48 servers per leaf' sets servers_per_leaf; 'for 96 servers' derives leaves."""
    per_leaf = PLANNER.plan("leaf-spine with 4 leaves, 40 servers per leaf", requested_by="sam")
    assert per_leaf.chosen.grounding.values["servers_per_leaf"] == 40
    total = PLANNER.plan("leaf-spine for 96 servers", requested_by="sam")
    assert total.chosen.grounding.values["leaves"] == 2


@settings(max_examples=40, deadline=None)
@given(hosts=st.integers(min_value=1, max_value=8192))
def test_a_fat_tree_derived_from_hosts_always_validates_and_fits(hosts: int) -> None:
    """For any host count up to k=32: the smallest even k whose k^3/4 hosts fit, and the
    plan validates; above what a routine may build, a refusal, never a wrong k."""
    try:
        result = PLANNER.plan(f"fat tree for {hosts} hosts", requested_by="sam")
    except (InputError, PlanInvalid):
        assert hosts > 30**3 // 4  # k=32 needs asn_base 4200000000: refused, not bent
        return
    k = result.chosen.grounding.values["k"]
    assert k % 2 == 0
    assert k**3 / 4 >= hosts
    assert k == 2 or (k - 2) ** 3 / 4 < hosts
    assert result.report.ok


@settings(max_examples=40, deadline=None)
@given(servers=st.integers(min_value=1, max_value=5000))
def test_a_leaf_spine_derived_from_servers_always_validates(servers: int) -> None:
    """For any server count: ceil(servers / 48) leaves and a valid plan, or a refusal when
    the spines' 64 ports cannot take that many leaves."""
    if math.ceil(servers / 48) > 64:
        with pytest.raises(PlanInvalid) as refused:
            PLANNER.plan(f"leaf-spine for {servers} servers", requested_by="sam")
        assert "spine_ports" in refused.value.report.errors[0].message
        return
    result = PLANNER.plan(f"leaf-spine for {servers} servers", requested_by="sam")
    assert result.chosen.grounding.values["leaves"] == math.ceil(servers / 48)
    assert result.report.ok
