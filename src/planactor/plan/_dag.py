"""Dependency graph of a plan: edges, cycles and a stable topological order."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence

from planactor.plan._model import Plan, Step
from planactor.plan._refs import OutputRef, iter_references

__all__ = ["dependencies", "dependency_map", "find_cycle", "topological_order"]


def dependencies(step: Step) -> tuple[str, ...]:
    """`after` first, then each step named by a reference in `args` or `when`, no repeats."""
    seen: dict[str, None] = dict.fromkeys(step.after)
    for ref in iter_references(step.args):
        if isinstance(ref, OutputRef):
            seen.setdefault(ref.step, None)
    if step.when is not None and step.when.ref is not None:
        head = step.when.ref.split(".", 1)[0]
        seen.setdefault(head, None)
    return tuple(seen)


def dependency_map(steps: Iterable[Step]) -> dict[str, tuple[str, ...]]:
    return {s.id: dependencies(s) for s in steps}


def find_cycle(deps: Mapping[str, Sequence[str]]) -> list[str] | None:
    """One cycle as `[a, b, ..., a]` (a depends on b ...), or None. Unknown ids are ignored.

    Iterative depth-first search, so a 10,000-step chain does not hit the recursion limit.
    """
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(deps, white)
    for root in deps:
        if colour[root] != white:
            continue
        path: list[str] = [root]
        iters = [iter(deps[root])]
        colour[root] = grey
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                colour[path.pop()] = black
                iters.pop()
                continue
            c = colour.get(nxt)
            if c is None or c == black:
                continue
            if c == grey:
                return [*path[path.index(nxt) :], nxt]
            colour[nxt] = grey
            path.append(nxt)
            iters.append(iter(deps[nxt]))
    return None


def topological_order(plan: Plan) -> list[str]:
    """Kahn's algorithm with plan order as the tie-break: the engine's canonical order.

    Raises ValueError on a cycle or an unknown dependency (the validator reports those).
    """
    deps = dependency_map(plan.steps)
    position = {s.id: i for i, s in enumerate(plan.steps)}
    waiting = {sid: len(d) for sid, d in deps.items()}
    dependents: dict[str, list[str]] = {sid: [] for sid in deps}
    for sid, ds in deps.items():
        for d in ds:
            if d not in dependents:
                raise ValueError(f"step {sid!r} depends on unknown step {d!r}")
            dependents[d].append(sid)
    ready = [position[s] for s, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        sid = plan.steps[heapq.heappop(ready)].id
        order.append(sid)
        for nxt in dependents[sid]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                heapq.heappush(ready, position[nxt])
    if len(order) != len(deps):
        raise ValueError("the plan's dependencies form a cycle")
    return order
