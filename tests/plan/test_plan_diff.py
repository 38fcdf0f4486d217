"""planactor.plan._diff: the semantic diff of two plans (header, steps, arguments, order)."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies
from planactor.plan import (
    API_VERSION,
    Plan,
    PlanDiff,
    StepChange,
    ValueChange,
    canonical_json,
    diff_plans,
)

PROPERTY = settings(max_examples=150, deadline=None)


def _doc(*steps: dict[str, Any], **top: Any) -> dict[str, Any]:
    doc = {"api_version": API_VERSION, "intent": "do it", "requested_by": "ops", **top}
    return {**doc, "steps": list(steps)}


def _step(sid: str, actor: str = "core.echo", **fields: Any) -> dict[str, Any]:
    return {"id": sid, "actor": actor, **fields}


def _plan(doc: dict[str, Any]) -> Plan:
    return Plan.model_validate(doc)


def _diff(old: dict[str, Any], new: dict[str, Any]) -> PlanDiff:
    return diff_plans(_plan(old), _plan(new))


def _changes(changes: tuple[ValueChange, ...]) -> list[tuple[str, str, Any, Any]]:
    return [(c.path, c.kind, c.old, c.new) for c in changes]


def _only_change(old: dict[str, Any], new: dict[str, Any]) -> StepChange:
    result = _diff(old, new)
    assert (result.steps_added, result.steps_removed, result.moved, result.header) == ((),) * 4
    (change,) = result.steps_changed
    return change


BASE = _doc(
    _step("fetch", "core.read", args={"hosts": ["h0", "h1", "h2"], "target": "a"}),
    _step("apply", "core.write", args={"source": {"$ref": "fetch.output.data"}}, after=["fetch"]),
    _step("notify", args={"message": "done"}, after=["apply"]),
    inputs={"version": "1.2", "sites": ["x", "y"]},
    change_ticket="CHG-1",
)


def _edit(**top: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    doc.update(top)
    return doc


def _edit_step(sid: str, **fields: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    step = next(s for s in doc["steps"] if s["id"] == sid)
    for key, value in fields.items():
        if value is None:
            step.pop(key, None)
        else:
            step[key] = value
    return doc


# --- identity and metadata ------------------------------------------------------------------


def test_a_plan_against_itself_is_the_same_and_empty() -> None:
    """Diffing a plan with itself reports `same`, no change and a 'no behaviour change' summary."""
    result = _diff(BASE, copy.deepcopy(BASE))
    assert result.same
    assert result == PlanDiff(old_hash=_plan(BASE).hash, new_hash=_plan(BASE).hash)
    assert result.summary() == "no behaviour change"
    assert result.to_document()["same"] is True


def test_planner_change_is_informational_only() -> None:
    """A new planner backend or model is reported as a note and leaves the plans the same."""
    old = _edit(planner={"backend": "local", "model": "smollm2", "tokens_in": 5})
    new = _edit(planner={"backend": "anthropic", "tokens_in": 9})
    result = _diff(old, new)
    assert result.same
    assert _changes(result.planner) == [
        ("planner.backend", "changed", "local", "anthropic"),
        ("planner.model", "removed", "smollm2", None),
    ]
    assert _changes(_diff(BASE, new).planner) == [("planner.backend", "added", None, "anthropic")]


def test_planner_numbers_are_not_noted() -> None:
    """Token counts and latency of the planner are neither behaviour nor a note."""
    old = _edit(planner={"backend": "local", "tokens_in": 5, "latency_s": 1.0})
    new = _edit(planner={"backend": "local", "tokens_in": 50, "latency_s": 2.0})
    assert _diff(old, new) == PlanDiff(old_hash=_plan(old).hash, new_hash=_plan(new).hash)


def test_key_order_is_not_a_change() -> None:
    """Objects written with their keys in another order are the same plan."""
    new = copy.deepcopy(BASE)
    new["inputs"] = dict(reversed(list(new["inputs"].items())))
    new["steps"][0]["args"] = dict(reversed(list(new["steps"][0]["args"].items())))
    assert _diff(BASE, new).same


# --- header -----------------------------------------------------------------------------------


def test_header_fields_changed() -> None:
    """Intent and requester changes are reported with their old and new values."""
    result = _diff(BASE, _edit(intent="do it twice", requested_by="bob"))
    assert _changes(result.header) == [
        ("intent", "changed", "do it", "do it twice"),
        ("requested_by", "changed", "ops", "bob"),
    ]
    assert not result.same


def test_change_ticket_added_removed_changed() -> None:
    """A ticket set, cleared or replaced is an addition, a removal or a change."""
    no_ticket = _edit(change_ticket=None)
    assert _changes(_diff(no_ticket, BASE).header) == [("change_ticket", "added", None, "CHG-1")]
    assert _changes(_diff(BASE, no_ticket).header) == [("change_ticket", "removed", "CHG-1", None)]
    assert _changes(_diff(BASE, _edit(change_ticket="CHG-2")).header) == [
        ("change_ticket", "changed", "CHG-1", "CHG-2")
    ]


def test_inputs_changed_by_path() -> None:
    """Input changes are named by JSON path: changed, added, removed, list elements."""
    new = _edit(inputs={"version": "1.3", "sites": ["x", "z"], "region": "eu"})
    assert _changes(_diff(BASE, new).header) == [
        ("inputs.version", "changed", "1.2", "1.3"),
        ("inputs.sites[1]", "changed", "y", "z"),
        ("inputs.region", "added", None, "eu"),
    ]
    assert _changes(_diff(new, BASE).header)[-1] == ("inputs.region", "removed", "eu", None)


def test_odd_keys_are_quoted_in_paths() -> None:
    """A key that is not an identifier is written in brackets, as JSON."""
    old = _edit(inputs={"a b": 1, "": 2, "$x": 3})
    new = _edit(inputs={"a b": 2, "": 3, "$x": 4})
    assert [c.path for c in _diff(old, new).header] == ['inputs["a b"]', 'inputs[""]', "inputs.$x"]


# --- steps added and removed ---------------------------------------------------------------------


def test_steps_added_and_removed_with_actor_and_position() -> None:
    """Added steps come in new-plan order, removed ones in old-plan order, with actor and index."""
    old = _doc(_step("a"), _step("gone2", "core.sleep"), _step("b"), _step("gone1"))
    new = _doc(_step("new2", "core.write"), _step("a"), _step("b"), _step("new1"))
    result = _diff(old, new)
    assert [(s.id, s.actor, s.index) for s in result.steps_added] == [
        ("new2", "core.write", 0),
        ("new1", "core.echo", 3),
    ]
    assert [(s.id, s.actor, s.index) for s in result.steps_removed] == [
        ("gone2", "core.sleep", 1),
        ("gone1", "core.echo", 3),
    ]
    assert result.steps_changed == ()
    assert result.moved == ()


def test_duplicate_step_ids_are_refused() -> None:
    """Matching by id needs unique ids: a plan with a repeated id raises ValueError."""
    dup = _plan(_doc(_step("a"), _step("a")))
    with pytest.raises(ValueError, match="new plan has two steps with id 'a'"):
        diff_plans(_plan(BASE), dup)


# --- steps changed ----------------------------------------------------------------------------


def test_actor_changed() -> None:
    """A step given another actor reports both names."""
    change = _only_change(BASE, _edit_step("notify", actor="chat.post"))
    assert (change.id, change.old_actor, change.new_actor) == ("notify", "core.echo", "chat.post")
    assert change.actor_changed
    assert change.to_document()["actor"] == {"old": "core.echo", "new": "chat.post"}


def test_list_element_changed_by_index() -> None:
    """One element of a list argument changed is named `args.hosts[2]`."""
    new = _edit_step("fetch", args={"hosts": ["h0", "h1", "h9"], "target": "a"})
    change = _only_change(BASE, new)
    assert _changes(change.args) == [("args.hosts[2]", "changed", "h2", "h9")]
    assert not change.actor_changed
    assert change.to_document()["actor"] is None


def test_list_insertion_is_one_addition() -> None:
    """An element inserted at the front is one addition, not a change of every element."""
    new = _edit_step("fetch", args={"hosts": ["hx", "h0", "h1", "h2"], "target": "a"})
    assert _changes(_only_change(BASE, new).args) == [("args.hosts[0]", "added", None, "hx")]


def test_list_deletion_names_the_old_index() -> None:
    """A removed element is named by its index in the old list."""
    new = _edit_step("fetch", args={"hosts": ["h0", "h2"], "target": "a"})
    assert _changes(_only_change(BASE, new).args) == [("args.hosts[1]", "removed", "h1", None)]
    shifted = _edit_step("fetch", args={"hosts": ["hx", "hy", "h0", "h2"], "target": "a"})
    assert _changes(_only_change(BASE, shifted).args) == [
        ("args.hosts[0]", "added", None, "hx"),
        ("args.hosts[1]", "added", None, "hy"),
        ("args.hosts[1]", "removed", "h1", None),
    ]


def test_reference_changed_by_path() -> None:
    """A reference pointed elsewhere is a change at `args.source.$ref`."""
    new = _edit_step("apply", args={"source": {"$ref": "fetch.output.other"}})
    assert _changes(_only_change(BASE, new).args) == [
        ("args.source.$ref", "changed", "fetch.output.data", "fetch.output.other")
    ]


def test_literal_replaced_by_reference() -> None:
    """A literal argument replaced by a reference is one change of the whole value."""
    new = _edit_step("fetch", args={"hosts": ["h0", "h1", "h2"], "target": {"$input": "version"}})
    assert _changes(_only_change(BASE, new).args) == [
        ("args.target", "changed", "a", {"$input": "version"})
    ]


def test_arguments_added_and_removed() -> None:
    """New arguments come in document order, then removed ones in old order."""
    new = _edit_step("fetch", args={"force": True, "hosts": ["h0", "h1", "h2"], "deep": {"n": 1}})
    assert _changes(_only_change(BASE, new).args) == [
        ("args.force", "added", None, True),
        ("args.deep", "added", None, {"n": 1}),
        ("args.target", "removed", "a", None),
    ]


def test_nested_object_change_is_named_deep() -> None:
    """A change deep inside an object argument is named by its full path."""
    old = _doc(_step("a", args={"spec": {"pool": {"size": 10, "tier": "gold"}}}))
    new = _doc(_step("a", args={"spec": {"pool": {"size": 20, "tier": "gold"}}}))
    assert _changes(_only_change(old, new).args) == [("args.spec.pool.size", "changed", 10, 20)]


@pytest.mark.parametrize(
    ("old", "new"),
    [(1, 1.0), (True, 1), (0.0, -0.0), (None, False), ("1", 1)],
    ids=["int-float", "bool-int", "zero-sign", "null-false", "str-int"],
)
def test_values_compare_as_canonical_json(old: Any, new: Any) -> None:
    """Values equal in Python but not in canonical JSON are changes, as they change the hash."""
    old_doc, new_doc = _doc(_step("a", args={"n": old})), _doc(_step("a", args={"n": new}))
    assert _changes(_only_change(old_doc, new_doc).args) == [("args.n", "changed", old, new)]


def test_after_added_and_removed() -> None:
    """Dependencies gained and lost are listed separately, each once."""
    old = _doc(_step("x"), _step("y"), _step("z"), _step("a", after=["x", "y", "y"]))
    new = _doc(_step("x"), _step("y"), _step("z"), _step("a", after=["z", "x", "z"]))
    change = _only_change(old, new)
    assert (change.after_added, change.after_removed) == (("z",), ("y",))
    assert change.settings == ()


def test_after_reordered_only_is_a_setting_change() -> None:
    """The same dependencies in another order change the hash, so they are reported."""
    old = _doc(_step("x"), _step("y"), _step("a", after=["x", "y"]))
    new = _doc(_step("x"), _step("y"), _step("a", after=["y", "x"]))
    change = _only_change(old, new)
    assert (change.after_added, change.after_removed) == ((), ())
    assert _changes(change.settings) == [("after", "changed", ["x", "y"], ["y", "x"])]


def test_retry_timeout_on_failure_changes() -> None:
    """Retry, timeout and failure policy changes are settings, named by path."""
    old = _doc(_step("a", retry={"attempts": 2}, timeout_s=5))
    new = _doc(_step("a", retry={"attempts": 3}, on_failure="compensate"))
    assert _changes(_only_change(old, new).settings) == [
        ("retry.attempts", "changed", 2, 3),
        ("timeout_s", "removed", 5.0, None),
        ("on_failure", "changed", "pause", "compensate"),
    ]


def test_retry_added_shows_the_whole_policy() -> None:
    """A retry policy added where there was none shows every field (defaults filled in)."""
    change = _only_change(_doc(_step("a")), _doc(_step("a", retry={"attempts": 3})))
    ((path, kind, _, new),) = _changes(change.settings)
    assert (path, kind, new["attempts"], new["backoff_s"]) == ("retry", "added", 3, 1.0)


def test_when_changes() -> None:
    """A condition added, or its reference and value changed, is reported by path."""
    when = {"$ref": "x.output.ok", "op": "eq", "value": 1}
    old = _doc(_step("x"), _step("a"))
    new = _doc(_step("x"), _step("a", when=when))
    assert _changes(_only_change(old, new).settings) == [("when", "added", None, when)]
    newer = _doc(_step("x"), _step("a", when={**when, "$ref": "x.output.go", "value": 2}))
    assert _changes(_only_change(new, newer).settings) == [
        ("when.$ref", "changed", "x.output.ok", "x.output.go"),
        ("when.value", "changed", 1, 2),
    ]


def test_changed_steps_come_in_new_plan_order() -> None:
    """Changed steps are listed in the order of the new plan."""
    old = _doc(_step("a", args={"n": 1}), _step("b", args={"n": 1}))
    new = _doc(_step("b", args={"n": 2}), _step("a", args={"n": 2}))
    assert [c.id for c in _diff(old, new).steps_changed] == ["b", "a"]


# --- order ------------------------------------------------------------------------------------


def _order(*ids: str) -> dict[str, Any]:
    return _doc(*(_step(i) for i in ids))


def test_one_step_moved_names_only_it() -> None:
    """Moving one step to the front names that step, not every step it jumped over."""
    result = _diff(_order("a", "b", "c", "d", "e"), _order("e", "a", "b", "c", "d"))
    assert result.moved == ("e",)
    assert result.steps_changed == ()


def test_reversal_moves_all_but_one() -> None:
    """Reversing n steps moves n - 1 of them (one can stay put)."""
    result = _diff(_order("a", "b", "c", "d"), _order("d", "c", "b", "a"))
    assert len(result.moved) == 3
    assert list(result.moved) == [s for s in ("d", "c", "b", "a") if s in result.moved]


def test_moved_is_minimal_for_every_order_of_five() -> None:
    """For each of the 120 orders of five steps, exactly len - LCS steps are named as moved."""
    ids = ["a", "b", "c", "d", "e"]
    for order in itertools.permutations(ids):
        moved = _diff(_order(*ids), _order(*order)).moved
        assert len(moved) == 5 - _lcs(ids, list(order)), order
        stayed = [i for i in order if i not in moved]
        assert stayed == [i for i in ids if i in stayed], order


def test_added_and_removed_steps_are_not_moves() -> None:
    """Steps shifted by an insertion or a removal keep their relative order: no move."""
    assert _diff(_order("a", "b", "c"), _order("x", "a", "c", "y")).moved == ()


def test_moves_among_added_and_removed() -> None:
    """Only common steps whose relative order changed are named, in new-plan order."""
    result = _diff(_order("a", "b", "gone", "c", "d"), _order("new", "c", "a", "b", "d"))
    assert result.moved == ("c",)


# --- summary and JSON ---------------------------------------------------------------------------


def test_summary_line() -> None:
    """The summary counts each kind of change; the first step count says 'steps'."""
    old = _doc(_step("a"), _step("b"), _step("c"), _step("d"), _step("gone"), intent="x")
    new = _doc(
        _step("d", args={"n": 1}),
        _step("a", args={"n": 1}),
        _step("n1"),
        _step("b", args={"n": 1}),
        _step("c"),
        _step("n2"),
        intent="y",
    )
    result = _diff(old, new)
    assert result.summary() == "1 header change, 2 steps added, 1 removed, 3 changed, 1 moved"
    assert _diff(_order("a", "b"), _order("a")).summary() == "1 step removed"
    assert _diff(_order("a", "b"), _order("b", "a")).summary() == "1 step moved"


def test_to_json_is_json_and_omits_absent_sides() -> None:
    """to_json() serialises; an addition has no `old`, a removal no `new`."""
    new = _edit(change_ticket=None, intent="other", inputs={"version": "1.2", "sites": ["x", "y"]})
    new["steps"][0]["args"]["extra"] = 1
    new["steps"].append(_step("more"))
    doc = json.loads(json.dumps(_diff(BASE, new).to_document()))
    assert doc["summary"] == {"header": 2, "added": 1, "removed": 0, "changed": 1, "moved": 0}
    assert doc["header"] == [
        {"path": "intent", "kind": "changed", "old": "do it", "new": "other"},
        {"path": "change_ticket", "kind": "removed", "old": "CHG-1"},
    ]
    assert doc["steps_added"] == [{"id": "more", "actor": "core.echo", "index": 3}]
    assert doc["steps_changed"][0]["args"] == [{"path": "args.extra", "kind": "added", "new": 1}]
    assert set(doc) >= {"old_hash", "new_hash", "same", "steps_removed", "moved", "planner"}


# --- properties -------------------------------------------------------------------------------

IDS = [f"s{i}" for i in range(8)]
ACTORS = ["core.echo", "core.sleep", "net.ping"]
KEYS = ["a", "b", "c"]
values = strategies.json_values(max_text=3, max_key=2, max_size=3, max_leaves=6, data_keys=True)


def _mutate(draw: st.DrawFn, value: Any) -> Any:
    """A small random edit of a JSON value: keep, edit inside, insert, delete or replace."""
    how = draw(st.sampled_from(["keep", "inside", "insert", "delete", "replace", "number"]))
    if how == "keep":
        return value
    if isinstance(value, dict) and value and how in ("inside", "delete"):
        key = draw(st.sampled_from(sorted(value)))
        if how == "delete":
            return {k: v for k, v in value.items() if k != key}
        return {**value, key: _mutate(draw, value[key])}
    if isinstance(value, dict) and how == "insert":
        return {**value, draw(st.sampled_from(KEYS)): draw(values)}
    if isinstance(value, list) and value and how in ("inside", "delete"):
        i = draw(st.integers(0, len(value) - 1))
        rest = value[i + 1 :]
        return [*value[:i], *([] if how == "delete" else [_mutate(draw, value[i])]), *rest]
    if isinstance(value, list) and how == "insert":
        i = draw(st.integers(0, len(value)))
        return [*value[:i], draw(values), *value[i:]]
    if how == "number" and type(value) is int and abs(value) < 2**53:
        return float(value)  # equal in Python, another canonical form
    return draw(values)


@st.composite
def step_docs(draw: st.DrawFn, sid: str) -> dict[str, Any]:
    step = _step(sid, draw(st.sampled_from(ACTORS)))
    step["args"] = draw(st.dictionaries(st.sampled_from(KEYS), values, max_size=3))
    step["after"] = draw(st.lists(st.sampled_from(IDS), max_size=2))
    if draw(st.booleans()):
        step["retry"] = {"attempts": draw(st.integers(1, 3))}
    if draw(st.booleans()):
        step["timeout_s"] = draw(st.sampled_from([1, 2.5, 30]))
    step["on_failure"] = draw(st.sampled_from(["pause", "compensate", "continue"]))
    if draw(st.booleans()):
        step["when"] = {"$input": draw(st.sampled_from(KEYS)), "op": "eq", "value": draw(values)}
    return step


@st.composite
def plan_docs(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(st.sampled_from(IDS), unique=True, max_size=6))
    doc = _doc(
        *(draw(step_docs(sid)) for sid in ids),
        inputs=draw(st.dictionaries(st.sampled_from(KEYS), values, max_size=2)),
    )
    if draw(st.booleans()):
        doc["change_ticket"] = draw(st.sampled_from(["CHG-1", "CHG-2", ""]))
    if draw(st.booleans()):
        doc["planner"] = {"backend": draw(st.sampled_from(["local", "anthropic"]))}
    return doc


@st.composite
def edited(draw: st.DrawFn, old: dict[str, Any]) -> dict[str, Any]:
    """`old` after random edits: steps dropped, added, edited and reordered, header edited."""
    new = copy.deepcopy(old)
    steps = []
    for step in new["steps"]:
        if draw(st.integers(0, 4)) == 0:
            continue  # removed
        if draw(st.booleans()):
            field = draw(st.sampled_from(["actor", "args", "after", "settings", "when"]))
            if field == "actor":
                step["actor"] = draw(st.sampled_from(ACTORS))
            elif field == "args":
                step["args"] = _mutate(draw, step["args"])
                if not isinstance(step["args"], dict):
                    step["args"] = {}
            elif field == "after":
                step["after"] = draw(st.permutations(step["after"] + [draw(st.sampled_from(IDS))]))
            elif field == "settings":
                step["timeout_s"] = draw(st.sampled_from([1, 2.5, 30]))
                step["retry"] = {"attempts": draw(st.integers(1, 3))}
            elif "when" in step:
                step["when"]["value"] = _mutate(draw, step["when"]["value"])
        steps.append(step)
    old_ids = [s["id"] for s in old["steps"]]
    fresh = [i for i in IDS if i not in old_ids]
    steps += [draw(step_docs(sid)) for sid in draw(st.lists(st.sampled_from(fresh), unique=True))]
    if draw(st.booleans()):
        steps = draw(st.permutations(steps))
    new["steps"] = steps
    if draw(st.booleans()):
        new["inputs"] = _mutate(draw, new["inputs"])
        if not isinstance(new["inputs"], dict):
            new["inputs"] = {}
    if draw(st.booleans()):
        new["change_ticket"] = draw(st.sampled_from([None, "CHG-1", "CHG-3"]))
    if draw(st.booleans()):
        new["planner"] = {"backend": draw(st.sampled_from(["local", "openai"])), "model": "m"}
    return new


plan_pairs = plan_docs().flatmap(lambda old: st.tuples(st.just(old), edited(old)))


def _ids(doc: dict[str, Any]) -> list[str]:
    return [s["id"] for s in doc["steps"]]


def _lcs(a: list[str], b: list[str]) -> int:
    """Length of a longest common subsequence, by the textbook quadratic table."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = (
                table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
            )
    return table[-1][-1]


def _at(value: Any, location: tuple[str | int, ...]) -> Any:
    for part in location:
        value = value[part]
    return value


def _empty(result: PlanDiff) -> bool:
    return not (
        result.header
        or result.steps_added
        or result.steps_removed
        or result.steps_changed
        or result.moved
    )


@PROPERTY
@given(doc=plan_docs())
def test_property_self_diff_is_empty(doc: dict[str, Any]) -> None:
    """Any plan diffed with itself is `same`, with no change and no planner note."""
    plan = _plan(doc)
    result = diff_plans(plan, _plan(copy.deepcopy(doc)))
    assert result.same
    assert _empty(result)
    assert result.planner == ()


@PROPERTY
@given(pair=plan_pairs)
def test_property_ids_follow_the_set_difference(pair: tuple[dict[str, Any], ...]) -> None:
    """Old ids minus removed plus added are the new ids; changed are exactly the edited ones."""
    old, new = pair
    result = _diff(old, new)
    added = {s.id for s in result.steps_added}
    removed = {s.id for s in result.steps_removed}
    assert added == set(_ids(new)) - set(_ids(old))
    assert removed == set(_ids(old)) - set(_ids(new))
    assert (set(_ids(old)) - removed) | added == set(_ids(new))
    old_by_id = {s.id: s for s in _plan(old).steps}
    edited_ids = [
        s.id
        for s in _plan(new).steps
        if s.id in old_by_id
        and canonical_json(s.to_document()) != canonical_json(old_by_id[s.id].to_document())
    ]
    assert [c.id for c in result.steps_changed] == edited_ids
    assert [s.id for s in result.steps_added] == [i for i in _ids(new) if i in added]
    assert [s.id for s in result.steps_removed] == [i for i in _ids(old) if i in removed]


@PROPERTY
@given(pair=plan_pairs)
def test_property_empty_exactly_when_hashes_are_equal(pair: tuple[dict[str, Any], ...]) -> None:
    """The diff reports something if and only if the hashes differ; planner notes never count."""
    old, new = pair
    result = _diff(old, new)
    assert result.same == (_plan(old).hash == _plan(new).hash)
    assert _empty(result) == result.same
    for change in result.steps_changed:
        assert (
            change.actor_changed
            or change.args
            or change.settings
            or change.after_added
            or (change.after_removed)
        )


@PROPERTY
@given(pair=plan_pairs)
def test_property_moved_is_minimal(pair: tuple[dict[str, Any], ...]) -> None:
    """Moved steps are common ones, as few as the LCS allows; the others keep their order."""
    old, new = pair
    result = _diff(old, new)
    common = set(_ids(old)) & set(_ids(new))
    old_common = [i for i in _ids(old) if i in common]
    new_common = [i for i in _ids(new) if i in common]
    assert len(result.moved) == len(common) - _lcs(old_common, new_common)
    assert set(result.moved) <= common
    stayed = set(common) - set(result.moved)
    assert [i for i in old_common if i in stayed] == [i for i in new_common if i in stayed]
    assert list(result.moved) == [i for i in new_common if i in result.moved]


@PROPERTY
@given(pair=plan_pairs)
def test_property_diff_is_antisymmetric(pair: tuple[dict[str, Any], ...]) -> None:
    """Swapping the plans swaps added and removed and the hashes; changed and moved sizes stay."""
    old, new = pair
    forward, backward = _diff(old, new), _diff(new, old)
    assert (forward.old_hash, forward.new_hash) == (backward.new_hash, backward.old_hash)
    assert forward.same == backward.same
    assert forward.steps_added == backward.steps_removed
    assert forward.steps_removed == backward.steps_added
    assert {c.id for c in forward.steps_changed} == {c.id for c in backward.steps_changed}
    assert len(forward.moved) == len(backward.moved)
    flip = {"added": "removed", "removed": "added", "changed": "changed"}
    scalar = [c for c in forward.header if not any(isinstance(p, int) for p in c.location)]
    assert {(c.path, flip[c.kind]) for c in scalar} <= {(c.path, c.kind) for c in backward.header}


@PROPERTY
@given(pair=plan_pairs)
def test_property_changes_name_real_places(pair: tuple[dict[str, Any], ...]) -> None:
    """Each added or changed value is at its path in the new plan, each removed one in the old."""
    old, new = pair
    result = _diff(old, new)
    old_plan, new_plan = _plan(old), _plan(new)
    places = [(c, old_plan.content(), new_plan.content()) for c in result.header]
    for sc in result.steps_changed:
        a, b = old_plan.step(sc.id).to_document(), new_plan.step(sc.id).to_document()
        places += [(c, a, b) for c in (*sc.args, *sc.settings)]
    for change, a, b in places:
        # A changed list element is named by its new index; its old index may differ.
        in_list = any(isinstance(p, int) for p in change.location)
        if change.kind == "removed" or (change.kind == "changed" and not in_list):
            assert canonical_json(_at(a, change.location)) == canonical_json(change.old)
        if change.kind != "removed":
            assert canonical_json(_at(b, change.location)) == canonical_json(change.new)
        if change.kind == "changed":
            assert canonical_json(change.old) != canonical_json(change.new)


@PROPERTY
@given(pair=plan_pairs)
def test_property_deterministic(pair: tuple[dict[str, Any], ...]) -> None:
    """The same two plans give the same diff and the same JSON, every time."""
    old, new = pair
    first = _diff(old, new)
    assert first == _diff(copy.deepcopy(old), copy.deepcopy(new))
    assert canonical_json(first.to_document()) == canonical_json(_diff(old, new).to_document())
