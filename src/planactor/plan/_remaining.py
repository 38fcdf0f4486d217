"""What is left of a plan once some of its steps have finished (what `resume` re-checks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planactor.plan._model import Plan, Step
from planactor.plan._refs import OutputRef, iter_references, resolve

__all__ = ["remaining_plan"]


def _fill(value: Any, outputs: Mapping[str, Any]) -> Any:
    """`value` with references to finished steps replaced by what those steps returned."""
    if isinstance(value, dict):
        refs = list(iter_references(value))
        if len(refs) == 1 and isinstance(refs[0], OutputRef) and refs[0].location == ():
            if refs[0].step in outputs:
                try:
                    return resolve(value, outputs=outputs, inputs={})
                except KeyError:
                    return value  # left as a reference: checks treat it as unknown
            return value
        return {k: _fill(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, outputs) for v in value]
    return value


def remaining_plan(plan: Plan, *, done: Mapping[str, Any]) -> Plan:
    """The plan's unfinished steps, as a plan the validator's policies can judge.

    `done` maps each finished step (succeeded or skipped) to its recorded output (None when
    it has none). Finished steps leave `after`; references to their outputs become the
    recorded values, so a safety simulation sees what the run will really send. A `when`
    on a finished step's output is decided now: a step it would skip is left out, and one
    that cannot be decided is kept as if it runs (the cautious reading).
    """
    outputs = {sid: out for sid, out in done.items() if out is not None}
    steps: list[Step] = []
    for step in plan.steps:
        if step.id in done:
            continue
        when = step.when
        if when is not None and when.ref is not None:
            target = when.ref.split(".", 1)[0]
            if target in done:
                try:
                    subject = resolve({"$ref": when.ref}, outputs=outputs, inputs={})
                except KeyError:
                    when = None  # undecidable here: judged as if it runs
                else:
                    if not when.holds(subject):
                        continue
                    when = None
        steps.append(
            step.model_copy(
                update={
                    "args": _fill(step.args, outputs),
                    "after": [a for a in step.after if a not in done],
                    "when": when,
                }
            )
        )
    return plan.model_copy(update={"steps": steps})
