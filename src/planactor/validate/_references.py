"""References and the dependency graph: step ids, `after`, `$ref`/`$input`, cycles, order.

Codes: `duplicate-step-id`, `after-unknown-step`, `ref-malformed`, `ref-unknown-step`,
`ref-unknown-field`, `ref-type-mismatch`, `input-undeclared`, `input-unused`, `cycle`,
`ref-later-step` and `after-later-step` (a plan is written in dependency order).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from planactor.plan import (
    BadReference,
    InputRef,
    OutputRef,
    Step,
    find_cycle,
    format_location,
    parse_output_ref,
)
from planactor.validate._checker import Checker, Loc, close
from planactor.validate._schema import types_compatible

__all__ = [
    "StepGraph",
    "check_after",
    "check_order",
    "check_reference",
    "check_unused_inputs",
    "check_when",
]


@dataclass(slots=True)
class StepGraph:
    """The steps by id and position, and the dependency edges found while checking them."""

    position: Mapping[str, int]  # every id in the document, parsed or not: its first index
    inputs: Mapping[str, Any] | None  # the declared inputs, None when they did not parse
    by_id: dict[str, tuple[int, Step]] = field(default_factory=dict)
    # Dependency edges, with where each was declared, for cycle and order checks.
    edges: dict[str, dict[str, tuple[str, Loc]]] = field(default_factory=dict)
    used_inputs: set[str] = field(default_factory=set)

    @classmethod
    def of(
        cls,
        checker: Checker,
        steps: list[tuple[int, Step]],
        position: Mapping[str, int],
        inputs: Mapping[str, Any] | None,
    ) -> StepGraph:
        """The graph's nodes; a `duplicate-step-id` for each id used again."""
        graph = cls(position=position, inputs=inputs)
        by_id = graph.by_id
        for i, step in steps:
            if step.id in by_id:
                first = by_id[step.id][0]
                checker.add(
                    "duplicate-step-id",
                    ("steps", i, "id"),
                    f"step id {step.id!r} is already used by steps[{first}]",
                    "give every step a unique id",
                    step=step.id,
                )
                continue
            by_id[step.id] = (i, step)
        graph.edges = {sid: {} for sid in by_id}
        return graph


def check_after(checker: Checker, step: Step, base: Loc, graph: StepGraph) -> None:
    """Each `after` entry names a step of the plan; it becomes an edge."""
    for j, dep in enumerate(step.after):
        loc = (*base, "after", j)
        if dep not in graph.position:
            checker.add(
                "after-unknown-step",
                loc,
                f"'after' names unknown step {dep!r}",
                close(dep, graph.position),
                step=step.id,
            )
        else:
            graph.edges[step.id].setdefault(dep, ("after", loc))


def check_when(checker: Checker, step: Step, base: Loc, graph: StepGraph) -> None:
    """A `when` condition's operand is a reference like any other."""
    assert step.when is not None
    wloc: Loc = (*base, "when")
    if step.when.ref is not None:
        check_reference(checker, parse_output_ref(step.when.ref, (*wloc, "$ref")), step, graph)
    else:
        assert step.when.input is not None
        check_reference(
            checker, InputRef(name=step.when.input, location=(*wloc, "$input")), step, graph
        )


def check_reference(
    checker: Checker, ref: OutputRef | InputRef | BadReference, step: Step, graph: StepGraph
) -> None:
    """One reference: well formed, naming a declared input or an existing step's output of
    the type the consuming argument accepts; an output reference becomes an edge."""
    if isinstance(ref, BadReference):
        checker.add("ref-malformed", ref.location, ref.reason, ref.hint, step=step.id)
    elif isinstance(ref, InputRef):
        graph.used_inputs.add(ref.name)
        inputs = graph.inputs
        if inputs is not None and ref.name not in inputs:
            checker.add(
                "input-undeclared",
                ref.location,
                f"input {ref.name!r} is not declared in 'inputs'",
                close(ref.name, inputs) or f"add {ref.name!r} to the plan's inputs",
                step=step.id,
            )
    elif ref.step not in graph.position:
        checker.add(
            "ref-unknown-step",
            ref.location,
            f"reference {ref.text!r} names unknown step {ref.step!r}",
            close(ref.step, graph.position),
            step=step.id,
        )
    else:
        graph.edges[step.id].setdefault(ref.step, ("ref", ref.location))
        target = graph.by_id.get(ref.step)
        producer = None if target is None else checker.lookup(target[1].actor)
        if producer is None:
            return  # reported elsewhere; nothing more to check here
        produced, have = checker.types_at(producer, True, ref.path)
        if produced is None:
            fields = sorted(producer.output_model.model_fields)
            checker.add(
                "ref-unknown-field",
                ref.location,
                f"{ref.text!r}: actor {producer.name!r} has no output "
                f"{format_location(ref.path)!r}",
                f"its output fields are: {', '.join(fields)}",
                step=step.id,
            )
            return
        consumer = checker.lookup(step.actor)
        if ref.location[2:3] != ("args",) or consumer is None:
            return  # a `when` operand is compared, not typed
        accepted, want = checker.types_at(consumer, False, ref.location[3:])
        if accepted and not types_compatible(have, want):
            checker.add(
                "ref-type-mismatch",
                ref.location,
                f"{ref.text!r} is {'/'.join(sorted(have or ()))} but "
                f"{step.actor} expects {'/'.join(sorted(want or ()))} here",
                "reference a field of the right type",
                step=step.id,
            )


def check_unused_inputs(checker: Checker, graph: StepGraph) -> None:
    """A declared input no step references is a warning."""
    if graph.inputs is None:
        return
    for name in graph.inputs:
        if name not in graph.used_inputs:
            checker.add(
                "input-unused",
                ("inputs", name),
                f"input {name!r} is declared but no step uses it",
                'remove it, or reference it with {"$input": "' + name + '"}',
                severity="warning",
            )


def check_order(checker: Checker, graph: StepGraph) -> None:
    """No cycle, and every dependency listed before the step that depends on it."""
    edges, position = graph.edges, graph.position
    forward = [
        (sid, dep) for sid, ds in edges.items() for dep in ds if position[dep] >= position[sid]
    ]
    if not forward:
        return  # every edge points back up the list: no cycle is possible
    deps = {sid: list(d) for sid, d in edges.items()}
    in_cycle: set[tuple[str, str]] = set()
    while (cycle := find_cycle(deps)) is not None:
        head = cycle[0]
        checker.add(
            "cycle",
            ("steps", position[head]),
            "dependency cycle: " + " -> ".join(cycle),
            "a step cannot (indirectly) depend on itself: remove one of these edges",
            step=head,
        )
        in_cycle.update(itertools.pairwise(cycle))
        for sid in cycle:
            deps[sid] = []
    for sid, dep in forward:
        if (sid, dep) not in in_cycle:
            kind, loc = edges[sid][dep]
            checker.add(
                f"{kind}-later-step",
                loc,
                f"step {sid!r} depends on {dep!r}, which is listed later (steps[{position[dep]}])",
                f"list {dep!r} before {sid!r}: a plan is written in dependency order",
                step=sid,
            )
