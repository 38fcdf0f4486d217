"""planactor.plan._basis: the basis digest, its place in the plan hash, and fact changes."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import strategies
from planactor.plan import (
    Basis,
    Plan,
    basis_changes,
    basis_digest,
    canonical_json,
    make_basis,
    plan_names,
)

_FACTS = st.dictionaries(
    st.text(min_size=1, max_size=12),
    st.dictionaries(st.text(min_size=1, max_size=8), strategies.json_values(), max_size=4),
    min_size=1,
    max_size=4,
)


def _reordered(value: Any) -> Any:
    """The same JSON value with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


@settings(max_examples=150, deadline=None)
@given(facts=_FACTS)
def test_the_digest_ignores_key_order(facts: dict[str, dict[str, Any]]) -> None:
    """Two readings of the same facts give one digest, whatever order their keys come in."""
    assert basis_digest(lab="storage", facts=facts) == basis_digest(
        lab="storage", facts=_reordered(facts)
    )


@settings(max_examples=150, deadline=None)
@given(facts=_FACTS, data=st.data())
def test_the_digest_changes_when_any_recorded_value_changes(
    facts: dict[str, dict[str, Any]], data: st.DataObject
) -> None:
    """Replacing any one value anywhere in the facts (at any depth) changes the digest."""
    paths = [
        (entity, *p)
        for entity, fields in facts.items()
        for p in strategies.json_paths(fields)
        if p  # the fields object itself is not a recorded value
    ]
    if not paths:
        return
    path = data.draw(st.sampled_from(paths))
    changed = copy.deepcopy(facts)
    node: Any = changed
    for part in path[:-1]:
        node = node[part]
    old = canonical_json(node[path[-1]])
    node[path[-1]] = data.draw(strategies.json_values().filter(lambda v: canonical_json(v) != old))
    assert basis_digest(lab="storage", facts=changed) != basis_digest(lab="storage", facts=facts)


def test_a_basis_whose_digest_does_not_match_its_facts_is_refused() -> None:
    """An edited fact with the old digest is a validation error that says how to fix it."""
    doc = make_basis(lab="storage", facts={"host/esx-01": {"responsive": True}}).to_document()
    doc["facts"] = {"host/esx-01": {"responsive": False}}
    with pytest.raises(ValidationError, match="not the digest of its facts"):
        Basis.model_validate(doc)


_PLAN: dict[str, Any] = {
    "api_version": "planactor/v1",
    "intent": "move esx-01",
    "requested_by": "alice",
    "steps": [
        {
            "id": "move",
            "actor": "storage.move_paths",
            "args": {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"},
        }
    ],
}


def test_the_basis_is_hashed_only_when_present() -> None:
    """A plan without a basis hashes as before; adding one, or changing one, changes the hash."""
    bare = Plan.model_validate(_PLAN)
    assert "basis" not in bare.content()
    one = make_basis(lab="storage", facts={"host/esx-01": {"active": {"array-01": "array-01-a"}}})
    two = make_basis(lab="storage", facts={"host/esx-01": {"active": {"array-01": "array-01-b"}}})
    with_one = Plan.model_validate({**_PLAN, "basis": one.to_document()})
    with_two = Plan.model_validate({**_PLAN, "basis": two.to_document()})
    assert len({bare.hash, with_one.hash, with_two.hash}) == 3
    assert Plan.model_validate(with_one.to_document()) == with_one  # round trip


def test_plan_names_collects_the_strings_of_args_inputs_and_origin_params() -> None:
    """Entity candidates come from step arguments (nested too), inputs and origin params."""
    doc = {
        **_PLAN,
        "inputs": {"who": "esx-02"},
        "origin": {"routine": "storage.x", "params": {"array": "array-03"}, "facts": {}},
    }
    doc["steps"] = [{**doc["steps"][0], "args": {"paths": {"esx-04": "array-01-a"}, "n": 3}}]
    assert plan_names(doc) == {"array-01-a", "esx-02", "array-03"}


def test_changes_name_the_leaf_that_changed_from_what_to_what() -> None:
    """A nested field reads as dotted leaves; an absent entity or field reads as None."""
    recorded = make_basis(
        lab="storage",
        facts={
            "host/esx-01": {"active": {"array-01": "array-01-a"}, "responsive": True},
            "controller/array-01-a": {"firmware": "5.1.0"},
        },
    )
    now = {"host/esx-01": {"active": {"array-01": "array-01-b"}, "responsive": True}}
    changes = basis_changes(recorded, lab="storage", now=now)
    assert [c.describe() for c in changes] == [
        'controller/array-01-a firmware: "5.1.0" -> (absent)',
        'host/esx-01 active.array-01: "array-01-a" -> "array-01-b"',
    ]


def test_excused_patterns_leave_out_what_was_changed_on_purpose() -> None:
    """Facts matching an (entity, field) glob are not changes; others still are."""
    recorded = make_basis(
        lab="storage",
        facts={
            "host/esx-01": {"active": {"array-01": "a"}, "paths": {"a": "up"}},
            "host/esx-02": {"active": {"array-01": "a"}},
        },
    )
    now = {
        "host/esx-01": {"active": {"array-01": "b"}, "paths": {"a": "down"}},
        "host/esx-02": {"active": {"array-01": "b"}},
    }
    left = basis_changes(recorded, lab="storage", now=now, excused=[("host/*", "active.array-01")])
    assert [(c.entity, c.field) for c in left] == [("host/esx-01", "paths.a")]


def test_another_kind_of_lab_is_one_change_of_the_lab_itself() -> None:
    """A plan made from a storage lab, checked against a network lab, is stale as a whole."""
    recorded = make_basis(lab="storage", facts={"array/array-01": {"mode": "alua"}})
    (change,) = basis_changes(recorded, lab="network", now={})
    assert (change.entity, change.before, change.after) == ("lab", "storage", "network")
