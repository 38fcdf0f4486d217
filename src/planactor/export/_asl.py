"""`planactor export PLAN --to stepfunctions`: the plan in Amazon States Language.

Each step is a Task state whose resource (a parameter: `--resource`) runs
`planactor actor-run` with the payload `{actor, key, args, refs, inputs, when, timeout_s}`
and fails with the error names in `ERROR_NAMES`. The state carries `outputs` (step -> its
output), `failed` (steps that failed and were continued past) and `not_compensated`.

- `Retry` comes from the step's policy; a final failure or a decision is never retried, and
  a write that is not idempotent is retried only when the actor itself said so.
- `on_failure: pause` leaves the error uncaught: the execution fails at that state, and a
  redrive (same execution name, hence the same idempotency keys) resumes it.
- `on_failure: continue` (reads) catches the failure, records it and goes on; readers of
  the missing output skip, and the execution fails at the end, as the engine's run does.
- `on_failure: compensate` catches the failure and enters the rollback: the compensation
  of every write that completed, in reverse plan order, each once; then a Fail state.
- Independent branches become `Parallel` states, unless a rollback may run or a write is
  not idempotent: a Parallel state stops its other branches when one fails, so outputs the
  rollback needs would be lost and a write in flight left undecided. Those plans run as
  one sequence in the engine's canonical order, which is what `planactor run` does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from planactor.catalog import Catalog
from planactor.export._actor_run import ERROR_NAMES
from planactor.export._common import (
    FAILED_KEY,
    Refusal,
    StepView,
    common_refusals,
    plan_annotations,
    refuse,
    step_views,
    unique_names,
)
from planactor.plan import topological_order
from planactor.validate import ValidatedPlan

__all__ = ["DEFAULT_RESOURCE", "to_stepfunctions"]

# An ARN-shaped placeholder (statelint wants a URI); `--resource` names the real one, e.g.
# "${ActorRun}" for a CloudFormation/SAM definition substitution.
DEFAULT_RESOURCE = "arn:aws:lambda:REGION:ACCOUNT:function:planactor-actor-run"
_MAX_ID = 64  # state names are at most 80 characters, with a prefix such as "undo: "
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FINAL = [ERROR_NAMES["decide"], ERROR_NAMES["failed"], ERROR_NAMES["invalid"]]
_BRANCHES = 256  # per Parallel state: its merge nests log2(256) = 8 intrinsics
_NESTING = 50  # deeper series-parallel nesting runs as a sequence (a valid order too)


def to_stepfunctions(
    validated: ValidatedPlan, *, catalog: Catalog, resource: str = DEFAULT_RESOURCE
) -> dict[str, Any]:
    """The plan as an ASL state machine definition (a JSON-ready dict).

    Raises InputError (exit 2) naming every step whose semantics ASL cannot express.
    """
    views = step_views(validated, catalog)
    refuse("Step Functions", common_refusals(views) + _refusals(views))
    plan = validated.plan
    b = _Builder(views=views, resource=resource, keys=_keys(views), inputs=plan.inputs)
    order = topological_order(plan)
    sequential = any(v.step.on_failure == "compensate" for v in views) or any(
        v.is_write and not v.actor.idempotent for v in views
    )
    shape: _Node = (
        _Seq([_Leaf(s) for s in order])
        if sequential
        else _shape(order, {v.id: set(v.deps) for v in views})
    )
    if any(v.step.on_failure == "compensate" for v in views):
        b.rollback = b.render_rollback()
    finish = b.render_finish()
    b.number(shape)
    entry = b.render(shape, b.states, finish)
    states = {
        "run: start": {
            "Type": "Pass",
            "Comment": "the run's state: each step's output, what failed, what was not undone",
            "Result": {"outputs": {}, "failed": {}, "not_compensated": {}},
            "ResultPath": "$",
            "Next": entry,
        },
        **b.states,
    }
    notes = plan_annotations(validated)
    comment = "planactor plan; " + "; ".join(f"{k}={v}" for k, v in notes.items())
    return {"Comment": comment, "StartAt": "run: start", "States": _in_order(states, "run: start")}


def _refusals(views: list[StepView]) -> list[Refusal]:
    problems = []
    for v in views:
        if len(v.id) > _MAX_ID:
            problems.append(
                Refusal(
                    step=v.id,
                    reason=f"its id is longer than {_MAX_ID} characters, too long for the "
                    "names of its states (Step Functions allows 80)",
                    hint="shorten the step id",
                )
            )
        bad = next(_dollar_keys(v.step.args), None)
        if bad is not None:
            problems.append(
                Refusal(
                    step=v.id,
                    reason=f"its args have a key {bad!r} ending in '.$', which Step Functions "
                    "would read as a path to substitute",
                    hint="rename that key",
                )
            )
    return problems


def _dollar_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k.endswith(".$"):
                yield k
            yield from _dollar_keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from _dollar_keys(v)


def _keys(views: list[StepView]) -> dict[str, str]:
    """Step id -> its key under `$.outputs`: a name JSONPath's dot notation takes."""
    return unique_names(
        (v.id for v in views), base=lambda sid: sid.replace("-", "_"), valid=_KEY, sep="_"
    )


# -- shape: series-parallel decomposition ----------------------------------------------------


@dataclass
class _Leaf:
    step: str


@dataclass
class _Seq:
    items: list[_Node]


@dataclass
class _Par:
    branches: list[_Node]


_Node = _Leaf | _Seq | _Par


def _shape(ids: list[str], deps: dict[str, set[str]], depth: int = 0) -> _Node:
    """Steps (in topological order) as sequences and parallel branches. Every edge between
    them is kept; where the graph is not series-parallel, some parallelism is given up
    (an extra ordering, never a missing one)."""
    if len(ids) == 1:
        return _Leaf(ids[0])
    if depth > _NESTING:
        return _Seq([_Leaf(s) for s in ids])
    inside = set(ids)
    local = {s: deps[s] & inside for s in ids}
    parts = _components(ids, local)
    if len(parts) > 1:
        branches = [_shape(p, deps, depth + 1) for p in parts]
        # The merge of a Parallel state's results nests one intrinsic per halving, and ASL
        # nests at most 10: more branches go into Parallel states inside Parallel states.
        while len(branches) > _BRANCHES:
            branches = [
                _Par(branches[i : i + _BRANCHES]) for i in range(0, len(branches), _BRANCHES)
            ]
        return _Par(branches)
    cuts = _bottlenecks(ids, local)
    items: list[_Node] = []
    if cuts:
        segment: list[str] = []
        for s in ids:
            if s in cuts:
                if segment:
                    items.append(_shape(segment, deps, depth + 1))
                    segment = []
                items.append(_Leaf(s))
            else:
                segment.append(s)
        if segment:
            items.append(_shape(segment, deps, depth + 1))
    else:
        # Not series-parallel here: the steps that wait for none of these first.
        first = [s for s in ids if not local[s]]
        rest = [s for s in ids if local[s]]
        items = [_shape(first, deps, depth + 1), _shape(rest, deps, depth + 1)]
    flat: list[_Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, _Seq) else [item])
    return _Seq(flat)


def _components(ids: list[str], local: dict[str, set[str]]) -> list[list[str]]:
    """Weakly connected components, each in the given order, ordered by first member."""
    parent = {s: s for s in ids}

    def root(s: str) -> str:
        while parent[s] != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    for s in ids:
        for d in local[s]:
            parent[root(s)] = root(d)
    groups: dict[str, list[str]] = {}
    for s in ids:
        groups.setdefault(root(s), []).append(s)
    return list(groups.values())


def _bottlenecks(ids: list[str], local: dict[str, set[str]]) -> set[str]:
    """Steps every other step of `ids` (connected, in topological order) comes before or
    after: no edge passes over one, everything before leads on, everything after is led to."""
    index = {s: i for i, s in enumerate(ids)}
    out_degree = dict.fromkeys(ids, 0)
    last_use = dict.fromkeys(ids, -1)  # the latest position that depends on each step
    for s in ids:
        for d in local[s]:
            out_degree[d] += 1
            last_use[d] = max(last_use[d], index[s])
    n = len(ids)
    suffix_led = [True] * (n + 1)  # every step after i has an edge in
    for i in range(n - 1, -1, -1):
        suffix_led[i] = suffix_led[i + 1] and bool(local[ids[i]])
    cuts = set()
    reach = -1  # the furthest position an edge from before i reaches
    prefix_leads = True  # every step before i has an edge out
    for i, s in enumerate(ids):
        if reach <= i and prefix_leads and suffix_led[i + 1]:
            cuts.add(s)
        reach = max(reach, last_use[s])
        prefix_leads = prefix_leads and out_degree[s] > 0
    return cuts


# -- rendering ---------------------------------------------------------------------------------


@dataclass
class _Builder:
    views: list[StepView]
    resource: str
    keys: dict[str, str]
    inputs: dict[str, Any]
    states: dict[str, Any] = field(default_factory=dict)
    rollback: str | None = None
    parallels: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {v.id: v for v in self.views}

    def number(self, node: _Node) -> None:
        """Name the Parallel states in the order they run (rendering goes backwards)."""
        if isinstance(node, _Par):
            self.parallels[id(node)] = f"parallel {len(self.parallels) + 1}"
        for child in node.items if isinstance(node, _Seq) else getattr(node, "branches", []):
            self.number(child)

    def render(self, node: _Node, states: dict[str, Any], next_state: str | None) -> str:
        """Add the node's states to `states`, each ending in `next_state` (None: the end of
        a branch); return the name of its first state."""
        if isinstance(node, _Leaf):
            return self._task(self.by_id[node.step], states, next_state)
        if isinstance(node, _Seq):
            for item in reversed(node.items):
                next_state = self.render(item, states, next_state)
            assert next_state is not None
            return next_state
        name = self.parallels[id(node)]
        branches = []
        for branch in node.branches:
            inner: dict[str, Any] = {}
            start = self.render(branch, inner, None)
            branches.append({"StartAt": start, "States": _in_order(inner, start)})
        n = len(branches)
        states[name] = {
            "Type": "Parallel",
            "Branches": branches,
            # Each branch returns the whole state with its own steps added: merge them.
            "ResultSelector": {
                f"{part}.$": _merge([f"$[{i}].{part}" for i in range(n)])
                for part in ("outputs", "failed", "not_compensated")
            },
            "ResultPath": "$",
            **_then(next_state),
        }
        return name

    def _task(self, v: StepView, states: dict[str, Any], next_state: str | None) -> str:
        key = self.keys[v.id]
        state: dict[str, Any] = {
            "Type": "Task",
            "Comment": f"{v.actor.name} ({v.actor.kind}"
            + (", idempotent" if v.actor.idempotent else "")
            + f"; on failure: {v.step.on_failure})",
            "Resource": self.resource,
            "Parameters": self._payload(v),
            "ResultPath": f"$.outputs.{key}",
            **_then(next_state),
        }
        retry = self._retry(v)
        if retry:
            state["Retry"] = retry
        if v.step.on_failure in ("continue", "compensate"):
            decide = f"decide: {v.id}"
            states[decide] = {
                "Type": "Fail",
                "Comment": "needs a person: check the step, then redrive the execution",
                "Error": "planactor.Paused",
                "CausePath": "$.failure.Cause",
            }
            after = self._after_failure(v, states, next_state)
            if v.is_write and not v.actor.idempotent:
                # Failed in a way the actor did not report (a timeout, a crash of the runner):
                # it may have applied, so a person decides, as in the engine.
                ours = [ERROR_NAMES[x] for x in ("failed", "invalid", "retry")]
                catchers = [_catch(ours, after), _catch(["States.ALL"], decide)]
            else:
                catchers = [_catch([ERROR_NAMES["decide"]], decide), _catch(["States.ALL"], after)]
            state["Catch"] = catchers
        states[v.id] = state
        return v.id

    def _after_failure(self, v: StepView, states: dict[str, Any], next_state: str | None) -> str:
        if v.step.on_failure == "compensate":
            assert self.rollback is not None
            return self.rollback
        # continue: record the failure, leave the step's output missing for its readers.
        name = f"failed: {v.id}"
        states[name] = {
            "Type": "Pass",
            "Comment": "on_failure continue: the run goes on and ends failed",
            "Parameters": {"error.$": "$.failure.Error", "cause.$": "$.failure.Cause"},
            "ResultPath": f"$.failed.{self.keys[v.id]}",
            "Next": f"no output: {v.id}",
        }
        states[f"no output: {v.id}"] = {
            "Type": "Pass",
            "Result": {FAILED_KEY: "failed (continued)"},
            "ResultPath": f"$.outputs.{self.keys[v.id]}",
            **_then(next_state),
        }
        return name

    def _payload(self, v: StepView, *, compensate: bool = False) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "actor": v.actor.name,
            "key.$": f"States.Format('{{}}/{v.id}', $$.Execution.Name)",
            "args": v.step.args,
        }
        if v.reads:
            payload["refs"] = {f"{d}.$": f"$.outputs.{self.keys[d]}" for d in v.reads}
        if v.inputs:
            payload["inputs"] = {name: self.inputs[name] for name in v.inputs}
        if v.step.when is not None and not compensate:
            payload["when"] = v.step.when.to_document()
        if v.timeout_s is not None and not compensate:
            payload["timeout_s"] = v.timeout_s
        if compensate:
            payload["compensate_output.$"] = f"$.outputs.{self.keys[v.id]}"
        return payload

    def _retry(self, v: StepView) -> list[dict[str, Any]]:
        policy = v.retry
        if policy.attempts <= 1:
            return []
        # Whole seconds, at least one: what ASL takes (rounded up, never shorter).
        timing = {
            "IntervalSeconds": max(1, math.ceil(policy.backoff_s)),
            "BackoffRate": policy.multiplier,
            "MaxAttempts": policy.attempts - 1,
            "MaxDelaySeconds": max(1, math.ceil(policy.max_backoff_s)),
        }
        if v.is_write and not v.actor.idempotent:
            return [{"ErrorEquals": [ERROR_NAMES["retry"]], **timing}]
        return [
            {"ErrorEquals": list(_FINAL), "MaxAttempts": 0},
            {"ErrorEquals": ["States.ALL"], **timing},
        ]

    def render_rollback(self) -> str:
        """The compensation chain: every write in reverse plan order, each undone if it
        completed; returns its first state."""
        end = "rollback: done?"
        self.states[end] = {
            "Type": "Pass",
            "Parameters": {"left.$": "States.JsonToString($.not_compensated)"},
            "ResultPath": "$.check",
            "Next": "rollback: result",
        }
        self.states["rollback: result"] = {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.check.left", "StringEquals": "{}", "Next": "rollback: compensated"}
            ],
            "Default": "rollback: not compensated",
        }
        self.states["rollback: compensated"] = {
            "Type": "Fail",
            "Error": "planactor.Compensated",
            "CausePath": "$.failure.Cause",
        }
        self.states["rollback: not compensated"] = {
            "Type": "Fail",
            "Error": "planactor.NotCompensated",
            "CausePath": "States.Format('{}; not compensated: {}', $.failure.Cause, $.check.left)",
        }
        next_state = end
        for v in self.views:  # plan order; each prepends, so the chain runs in reverse
            if not v.is_write:
                continue
            key = self.keys[v.id]
            if v.compensable:
                undo = f"undo: {v.id}"
                self.states[undo] = {
                    "Type": "Task",
                    "Comment": f"compensation of {v.actor.name}: {v.actor.compensate}",
                    "Resource": self.resource,
                    "Parameters": self._payload(v, compensate=True),
                    "ResultPath": None,
                    "Catch": [
                        {
                            "ErrorEquals": ["States.ALL"],
                            "ResultPath": f"$.not_compensated.{key}",
                            "Next": next_state,
                        }
                    ],
                    "Next": next_state,
                }
                target = undo
            else:
                target = f"kept: {v.id}"
                self.states[target] = {
                    "Type": "Pass",
                    "Comment": "irreversible: nothing can undo it",
                    "Result": {"Error": "irreversible", "Cause": f"{v.actor.name} is irreversible"},
                    "ResultPath": f"$.not_compensated.{key}",
                    "Next": next_state,
                }
            ran = f"ran: {v.id}?"
            self.states[ran] = {
                "Type": "Choice",
                "Choices": [{"Variable": f"$.outputs.{key}", "IsPresent": True, "Next": target}],
                "Default": next_state,
            }
            next_state = ran
        return next_state

    def render_finish(self) -> str:
        self.states["run: done"] = {"Type": "Succeed"}
        if not any(v.step.on_failure == "continue" for v in self.views):
            return "run: done"
        self.states["continued?"] = {
            "Type": "Pass",
            "Parameters": {"failed.$": "States.JsonToString($.failed)"},
            "ResultPath": "$.check",
            "Next": "continued: result",
        }
        self.states["continued: result"] = {
            "Type": "Choice",
            "Choices": [{"Variable": "$.check.failed", "StringEquals": "{}", "Next": "run: done"}],
            "Default": "failed (continued)",
        }
        self.states["failed (continued)"] = {
            "Type": "Fail",
            "Error": "planactor.Failed",
            "CausePath": "States.Format('steps failed and the run continued: {}', $.check.failed)",
        }
        return "continued?"


def _in_order(states: dict[str, Any], start: str) -> dict[str, Any]:
    """The states in the order a reader follows them (breadth first from `start`)."""
    seen = [start]
    for name in seen:
        state = states[name]
        targets = [state.get("Next"), state.get("Default")]
        targets += [c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])]
        for t in targets:
            if t is not None and t not in seen:
                seen.append(t)
    return {name: states[name] for name in seen} | states


def _then(next_state: str | None) -> dict[str, Any]:
    return {"Next": next_state} if next_state is not None else {"End": True}


def _catch(errors: list[str], next_state: str) -> dict[str, Any]:
    return {"ErrorEquals": errors, "ResultPath": "$.failure", "Next": next_state}


def _merge(paths: list[str]) -> str:
    """One intrinsic merging the objects at `paths`, as a balanced tree (ASL limits how
    deep intrinsics nest)."""
    if len(paths) == 1:
        return paths[0]
    half = len(paths) // 2
    return f"States.JsonMerge({_merge(paths[:half])}, {_merge(paths[half:])}, false)"
