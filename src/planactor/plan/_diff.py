"""Semantic plan diff: what a re-planned change does differently, for a quick re-review.

Steps are matched by id. Values are compared as canonical JSON, the form the plan hash
covers, so the diff is empty exactly when the two hashes are equal (1 and 1.0 differ, key
order does not). Planner metadata is outside the hash: a change of planner backend or model
is reported beside the diff, as information, and never makes two plans differ.

Paths name places the way the validator does (`inputs.version`, `args.hosts[2]`), except
that reference keys keep the dotted form reviewers know from plans: `args.target.$ref`.
Inside a list, an added or changed element is named by its index in the new list and a
removed one by its index in the old list.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

from planactor.plan._canonical import canonical_json, content_hash
from planactor.plan._model import Plan

__all__ = ["ChangeKind", "PlanDiff", "StepChange", "StepEntry", "ValueChange", "diff_plans"]

ChangeKind = Literal["added", "removed", "changed"]
Location = tuple[str | int, ...]

# A step's settings are every key of Step.to_document() but these (listed first when
# present), so a field added to the format later is diffed without a change here.
_STEP_BODY = ("id", "actor", "args", "after")
_SETTINGS = ("retry", "timeout_s", "on_failure", "when")


def _format_path(location: Location) -> str:
    """`args.hosts[2]`, `when.$ref`, `inputs["a b"]`: a location as reviewers write it."""
    out = ""
    for part in location:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier() or (part[:1] == "$" and part[1:].isidentifier()):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out or "$"


@dataclass(frozen=True, kw_only=True, slots=True)
class ValueChange:
    """One value added, removed or changed at `location`. `old` is None when added, `new`
    when removed: `kind` says which of them is meaningful (null is a JSON value too)."""

    location: Location
    kind: ChangeKind
    old: Any = None
    new: Any = None

    @property
    def path(self) -> str:
        return _format_path(self.location)

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"path": self.path, "kind": self.kind}
        if self.kind != "added":
            doc["old"] = self.old
        if self.kind != "removed":
            doc["new"] = self.new
        return doc


@dataclass(frozen=True, kw_only=True, slots=True)
class StepEntry:
    """A step that only one of the plans has; `index` is its position in that plan."""

    id: str
    actor: str
    index: int

    def to_document(self) -> dict[str, Any]:
        return {"id": self.id, "actor": self.actor, "index": self.index}


@dataclass(frozen=True, kw_only=True, slots=True)
class StepChange:
    """What changed in a step both plans have. `args` locations start with `args`;
    `settings` covers retry, timeout_s, on_failure and when, plus `after` when only the
    order of its entries changed (the hash covers that order)."""

    id: str
    old_actor: str
    new_actor: str
    args: tuple[ValueChange, ...] = ()
    after_added: tuple[str, ...] = ()
    after_removed: tuple[str, ...] = ()
    settings: tuple[ValueChange, ...] = ()

    @property
    def actor_changed(self) -> bool:
        return self.old_actor != self.new_actor

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "actor": {"old": self.old_actor, "new": self.new_actor} if self.actor_changed else None,
            "args": [c.to_document() for c in self.args],
            "after_added": list(self.after_added),
            "after_removed": list(self.after_removed),
            "settings": [c.to_document() for c in self.settings],
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanDiff:
    """The behavioural difference between two plans, plus informational planner changes.

    Order is stable: header fields in document order; steps in the new plan's order, then
    removed steps in the old plan's order; `moved` in the new plan's order.
    """

    old_hash: str
    new_hash: str
    header: tuple[ValueChange, ...] = ()
    steps_added: tuple[StepEntry, ...] = ()
    steps_removed: tuple[StepEntry, ...] = ()
    steps_changed: tuple[StepChange, ...] = ()
    moved: tuple[str, ...] = ()
    planner: tuple[ValueChange, ...] = ()  # not behaviour: outside the hash

    @property
    def same(self) -> bool:
        """Identical in behaviour: the hashes are equal (planner metadata may differ)."""
        return self.old_hash == self.new_hash

    def summary(self) -> str:
        """One line: `1 header change, 2 steps added, 1 removed, 3 changed, 1 moved`."""
        if self.same:
            return "no behaviour change"
        parts = []
        if self.header:
            parts.append(_count(len(self.header), "header change"))
        step_counts = [
            (len(self.steps_added), "added"),
            (len(self.steps_removed), "removed"),
            (len(self.steps_changed), "changed"),
            (len(self.moved), "moved"),
        ]
        first = True
        for n, what in step_counts:
            if n:
                parts.append(f"{_count(n, 'step')} {what}" if first else f"{n} {what}")
                first = False
        return ", ".join(parts)

    def to_document(self) -> dict[str, Any]:
        """A JSON-able dict; documented in docs/cli.md (`planactor diff --json`)."""
        return {
            "old_hash": self.old_hash,
            "new_hash": self.new_hash,
            "same": self.same,
            "summary": {
                "header": len(self.header),
                "added": len(self.steps_added),
                "removed": len(self.steps_removed),
                "changed": len(self.steps_changed),
                "moved": len(self.moved),
            },
            "header": [c.to_document() for c in self.header],
            "steps_added": [s.to_document() for s in self.steps_added],
            "steps_removed": [s.to_document() for s in self.steps_removed],
            "steps_changed": [s.to_document() for s in self.steps_changed],
            "moved": list(self.moved),
            "planner": [c.to_document() for c in self.planner],
        }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def diff_plans(old: Plan, new: Plan) -> PlanDiff:
    """What changed from `old` to `new`. Both must have unique step ids (validation ensures
    it); a duplicate raises ValueError because matching by id would be ambiguous."""
    # One content document per plan serves both the hash and the comparison.
    a, b = old.content(), new.content()
    old_hash, new_hash = content_hash(a), content_hash(b)
    old_steps, new_steps = _by_id(a, "old"), _by_id(b, "new")
    planner = tuple(_planner_changes(old, new))
    if old_hash == new_hash:  # identical content: nothing behavioural to look for
        return PlanDiff(old_hash=old_hash, new_hash=new_hash, planner=planner)

    header: list[ValueChange] = []
    for key in _keys(a, b, skip=("steps",)):
        # A null header field (change_ticket) is an absent one: the document leaves it out.
        header += _diff_values(
            a.get(key),
            b.get(key),
            (key,),
            old_present=a.get(key) is not None,
            new_present=b.get(key) is not None,
        )
    added = [
        StepEntry(id=sid, actor=doc["actor"], index=i)
        for i, (sid, doc) in enumerate(new_steps.items())
        if sid not in old_steps
    ]
    removed = [
        StepEntry(id=sid, actor=doc["actor"], index=i)
        for i, (sid, doc) in enumerate(old_steps.items())
        if sid not in new_steps
    ]
    changed = [
        change
        for sid, doc in new_steps.items()
        if sid in old_steps and (change := _step_change(old_steps[sid], doc)) is not None
    ]
    return PlanDiff(
        old_hash=old_hash,
        new_hash=new_hash,
        header=tuple(header),
        steps_added=tuple(added),
        steps_removed=tuple(removed),
        steps_changed=tuple(changed),
        moved=_moved(
            [sid for sid in old_steps if sid in new_steps],
            [sid for sid in new_steps if sid in old_steps],
        ),
        planner=planner,
    )


def _by_id(content: dict[str, Any], which: str) -> dict[str, dict[str, Any]]:
    """Step documents by id, in plan order (dicts keep insertion order)."""
    steps: dict[str, dict[str, Any]] = {}
    for doc in content["steps"]:
        if doc["id"] in steps:
            raise ValueError(f"the {which} plan has two steps with id {doc['id']!r}")
        steps[doc["id"]] = doc
    return steps


def _keys(
    a: dict[str, Any], b: dict[str, Any], *, skip: tuple[str, ...], first: tuple[str, ...] = ()
) -> list[str]:
    """The keys of two documents to compare: `first`, then the rest in document order."""
    rest = [k for k in dict.fromkeys([*a, *b]) if k not in skip and k not in first]
    return [*first, *rest]


def _planner_changes(old: Plan, new: Plan) -> list[ValueChange]:
    out: list[ValueChange] = []
    for name in ("backend", "model"):
        a = getattr(old.planner, name) if old.planner is not None else None
        b = getattr(new.planner, name) if new.planner is not None else None
        out += _diff_values(
            a, b, ("planner", name), old_present=a is not None, new_present=b is not None
        )
    return out


def _step_change(a: dict[str, Any], b: dict[str, Any]) -> StepChange | None:
    """The changes between two documents (Step.to_document) of the same step, if any."""
    if canonical_json(a) == canonical_json(b):
        return None
    settings: list[ValueChange] = []
    for key in _keys(a, b, skip=_STEP_BODY, first=_SETTINGS):
        settings += _diff_values(
            a.get(key), b.get(key), (key,), old_present=key in a, new_present=key in b
        )
    old_after, new_after = a["after"], b["after"]
    old_set, new_set = set(old_after), set(new_after)
    after_added = tuple(dict.fromkeys(d for d in new_after if d not in old_set))
    after_removed = tuple(dict.fromkeys(d for d in old_after if d not in new_set))
    if not after_added and not after_removed and old_after != new_after:
        # Same dependencies, other order (or repeats): no behaviour change, but a hash change.
        settings.insert(
            0, ValueChange(location=("after",), kind="changed", old=old_after, new=new_after)
        )
    return StepChange(
        id=b["id"],
        old_actor=a["actor"],
        new_actor=b["actor"],
        args=tuple(_diff_values(a["args"], b["args"], ("args",))),
        after_added=after_added,
        after_removed=after_removed,
        settings=tuple(settings),
    )


def _diff_values(
    old: Any,
    new: Any,
    location: Location = (),
    *,
    old_present: bool = True,
    new_present: bool = True,
) -> list[ValueChange]:
    """Every difference between two JSON values, each named by its location.

    Objects are compared key by key (new order, then removed keys in old order); lists
    are aligned on their equal elements (difflib), so an insertion is one `added`, not a
    change of every later index. Anything else is compared as canonical JSON.
    Iterative, so deeply nested values cannot exhaust the Python stack.
    """
    out: list[ValueChange] = []
    # (location, old, new, old_present, new_present); popped LIFO, pushed in reverse.
    stack: list[tuple[Location, Any, Any, bool, bool]] = [
        (location, old, new, old_present, new_present)
    ]
    while stack:
        loc, a, b, has_a, has_b = stack.pop()
        if not has_a:
            if has_b:
                out.append(ValueChange(location=loc, kind="added", new=b))
            continue
        if not has_b:
            out.append(ValueChange(location=loc, kind="removed", old=a))
            continue
        if type(a) is dict and type(b) is dict:
            keys = [*b, *(k for k in a if k not in b)]
            stack.extend(((*loc, k), a.get(k), b.get(k), k in a, k in b) for k in reversed(keys))
        elif type(a) is list and type(b) is list:
            stack.extend(reversed(_align(loc, a, b)))
        elif canonical_json(a) != canonical_json(b):
            out.append(ValueChange(location=loc, kind="changed", old=a, new=b))
    return out


def _align(
    loc: Location, a: list[Any], b: list[Any]
) -> list[tuple[Location, Any, Any, bool, bool]]:
    """Pairs of list elements to compare, in new-list order; equal runs are left out."""
    matcher = SequenceMatcher(
        None, [canonical_json(v) for v in a], [canonical_json(v) for v in b], autojunk=False
    )
    work: list[tuple[Location, Any, Any, bool, bool]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1)  # a replaced run: compare element by element
        work += [((*loc, j1 + k), a[i1 + k], b[j1 + k], True, True) for k in range(paired)]
        work += [((*loc, j), None, b[j], False, True) for j in range(j1 + paired, j2)]
        work += [((*loc, i), a[i], None, True, False) for i in range(i1 + paired, i2)]
    return work


def _moved(old_order: list[str], new_order: list[str]) -> tuple[str, ...]:
    """The common steps outside one longest common subsequence of the two orders.

    Both lists hold the same ids, so the LCS is the longest increasing run of new
    positions taken in old order (patience sorting, O(n log n)). The steps outside it are
    the fewest that must move to turn one order into the other. Returned in new order.
    """
    position = {sid: i for i, sid in enumerate(new_order)}
    seq = [position[sid] for sid in old_order]
    tails: list[int] = []  # tails[k]: smallest last value of an increasing run of k+1
    tail_at: list[int] = []  # tail_at[k]: where in seq that value is
    back = [-1] * len(seq)
    for i, p in enumerate(seq):
        k = bisect_left(tails, p)
        if k > 0:
            back[i] = tail_at[k - 1]
        if k == len(tails):
            tails.append(p)
            tail_at.append(i)
        else:
            tails[k], tail_at[k] = p, i
    kept: set[int] = set()
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        kept.add(seq[i])
        i = back[i]
    return tuple(sid for j, sid in enumerate(new_order) if j not in kept)
