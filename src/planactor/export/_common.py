"""What both exports need to know about a plan, and the refusals they share.

An export is a translation: each step becomes one call of `planactor actor-run` on the other
orchestrator, which resolves the step's references and evaluates its `when` with planactor's
own code (`_actor_run`). What the orchestrator itself must express (order, retries,
timeouts, what happens after a failure) is checked here first; a plan whose semantics the
target cannot express is refused, naming each step and why, never exported approximately.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from planactor._errors import InputError
from planactor.catalog import Actor, Catalog
from planactor.plan import InputRef, OutputRef, RetryPolicy, Step, dependencies, iter_references
from planactor.validate import ValidatedPlan

__all__ = [
    "ANNOTATION_PREFIX",
    "FAILED_KEY",
    "SKIPPED_KEY",
    "Refusal",
    "StepView",
    "common_refusals",
    "plan_annotations",
    "refuse",
    "step_views",
    "unique_names",
]

# What `actor-run` prints instead of an output for a step that did not produce one: skipped
# (its `when` was false, or an output it reads is missing) or failed and continued past.
SKIPPED_KEY = "$skipped"
FAILED_KEY = "$failed"
ANNOTATION_PREFIX = "planactor.io/"


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """One reason an export cannot express a plan: the step (None: the whole plan), why,
    and what to do instead."""

    step: str | None
    reason: str
    hint: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StepView:
    """A step with what its actor declares folded in, as the engine's scheduler sees it."""

    step: Step
    actor: Actor
    index: int
    deps: tuple[str, ...]  # `after` plus every step its references and `when` name
    reads: tuple[str, ...]  # the steps whose output it reads (args or `when`)
    inputs: tuple[str, ...]  # the plan inputs it reads (args or `when`)
    retry: RetryPolicy
    timeout_s: float | None

    @property
    def id(self) -> str:
        return self.step.id

    @property
    def is_write(self) -> bool:
        return self.actor.effect == "write"

    @property
    def compensable(self) -> bool:
        return self.actor.compensate is not None


def step_views(validated: ValidatedPlan, catalog: Catalog) -> list[StepView]:
    """Every step in plan order, with its effective retry policy and timeout."""
    views = []
    for i, step in enumerate(validated.plan.steps):
        actor = catalog.get(step.actor)
        refs = list(iter_references(step.args))
        reads = dict.fromkeys(r.step for r in refs if isinstance(r, OutputRef))
        inputs = dict.fromkeys(r.name for r in refs if isinstance(r, InputRef))
        if step.when is not None and step.when.ref is not None:
            reads.setdefault(step.when.ref.split(".", 1)[0], None)
        if step.when is not None and step.when.input is not None:
            inputs.setdefault(step.when.input, None)
        views.append(
            StepView(
                step=step,
                actor=actor,
                index=i,
                deps=dependencies(step),
                reads=tuple(reads),
                inputs=tuple(inputs),
                # As the engine's `specs_for` and scheduler: the step's policy, else the
                # actor's, else one attempt.
                retry=step.retry or actor.retry or RetryPolicy(),
                timeout_s=step.timeout_s or actor.timeout_s,
            )
        )
    return views


def common_refusals(views: Iterable[StepView]) -> list[Refusal]:
    """What neither target can express."""
    problems = []
    for v in views:
        if v.actor.probabilistic:
            problems.append(
                Refusal(
                    step=v.id,
                    reason=f"{v.actor.name} is an LLM skill: the planactor journal records its "
                    "model call so that replay and audit use the recorded output, and the "
                    "other orchestrator keeps no such record",
                    hint="run this plan with `planactor run` (or --engine temporal)",
                )
            )
        if v.step.on_failure == "continue" and v.is_write:
            # The engine pauses here: `continue` is for reads only. Exporting the pause is
            # possible, but a plan saying `continue` on a write is better looked at first.
            problems.append(
                Refusal(
                    step=v.id,
                    reason="on_failure 'continue' on a write step (the engine pauses there "
                    "instead)",
                    hint="set on_failure to 'pause' or 'compensate'",
                )
            )
    return problems


def refuse(target: str, problems: list[Refusal]) -> None:
    """Raise one InputError (exit 2) listing every refusal, if there is any."""
    if not problems:
        return
    lines = [
        f"  step {p.step!r}: {p.reason}" if p.step is not None else f"  the plan: {p.reason}"
        for p in problems
    ]
    hints = list(dict.fromkeys(p.hint for p in problems))
    n = len(problems)
    raise InputError(
        f"cannot export this plan to {target} without changing what it does "
        f"({n} problem{'s' if n != 1 else ''}):\n" + "\n".join(lines),
        hint="; ".join(hints),
    )


def plan_annotations(validated: ValidatedPlan) -> dict[str, str]:
    """What travels with the export so a reviewer on the other side can check it: the plan
    hash (what approvals sign), who asked, the ticket, and the approvals themselves."""
    plan = validated.plan
    notes = {
        f"{ANNOTATION_PREFIX}plan-hash": validated.hash,
        f"{ANNOTATION_PREFIX}intent": plan.intent,
        f"{ANNOTATION_PREFIX}requested-by": plan.requested_by,
    }
    if plan.change_ticket:
        notes[f"{ANNOTATION_PREFIX}change-ticket"] = plan.change_ticket
    if plan.basis is not None:
        # `planactor run` refuses the plan once these facts changed; the other side does not
        # check them, so the reviewer there sees what the plan was made from.
        notes[f"{ANNOTATION_PREFIX}basis"] = f"{plan.basis.lab} lab, {plan.basis.digest}"
    if plan.recovers is not None:
        notes[f"{ANNOTATION_PREFIX}recovers"] = plan.recovers
    approvals: list[Any] = [a.model_dump(mode="json") for a in plan.approvals]
    # Present even when empty: "nobody approved this" is worth saying on the other side.
    notes[f"{ANNOTATION_PREFIX}approvals"] = json.dumps(approvals, separators=(",", ":"))
    return notes


def unique_names(
    ids: Iterable[str],
    *,
    base: Callable[[str], str],
    valid: re.Pattern[str],
    sep: str,
    taken: Iterable[str] = (),
    cut: int | None = None,
) -> dict[str, str]:
    """Step id -> a name the target accepts: `base(id)`, else numbered (`BASE{sep}2`, ...,
    the base cut to `cut` characters first) while it is taken or not `valid`; each distinct,
    and none of `taken`."""
    used = set(taken)
    names = {}
    for sid in ids:
        stem = base(sid)
        name, n = stem, 1
        while name in used or not valid.match(name):
            n += 1
            name = f"{stem[:cut]}{sep}{n}"
        used.add(name)
        names[sid] = name
    return names
