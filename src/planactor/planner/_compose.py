"""Composition: when no routine fits, the model writes a small sequence of catalog actors
under a grammar fitted to the inventory and a token budget; validated, bounded repair."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from planactor._errors import InputError, PlanInvalid
from planactor.catalog import Catalog
from planactor.plan import Plan
from planactor.planner._backends import BackendError, Completion, Message
from planactor.planner._grammar import fit_compose, sequence
from planactor.planner._grounding import tokens
from planactor.planner._llm_result import (
    LLMPlanResult,
    json_object,
    planner_info,
    problems_text,
)
from planactor.validate import ValidationReport, validate

if TYPE_CHECKING:
    from planactor.planner._llm_planner import LLMPlanner

__all__ = ["COMPOSE_TOKENS", "MAX_COMPOSED_STEPS", "compose", "relevant_actors"]

MAX_COMPOSED_STEPS = 8
COMPOSE_TOKENS = 2048  # the composed answer's budget: its grammar is fitted to it


def compose(
    planner: LLMPlanner,
    intent: str,
    requested_by: str,
    ticket: str | None,
    *,
    warnings: Sequence[str],
) -> LLMPlanResult:
    try:
        # Each actor its own arguments, entities from the inventory, lengths bounded:
        # the answer fits its token budget and names only what exists.
        fitted = fit_compose(
            relevant_actors(planner.catalog, intent),
            planner.inventory,
            intent,
            max_steps=MAX_COMPOSED_STEPS,
            budget=COMPOSE_TOKENS,
        )
    except ValueError as e:
        raise InputError(
            f"cannot compose a plan for this request: {e}",
            hint="use a routine (planactor routines), or write the plan by hand",
        ) from None
    actors = [a for a in relevant_actors(planner.catalog, intent) if a.name not in fitted.left_out]
    listing = "\n".join(
        f"- {a.name} ({a.effect}): {a.description} args: "
        + json.dumps(_arg_summary(a.input_schema), sort_keys=True)
        for a in actors
    )
    schema = fitted.schema
    calls: list[Completion] = []
    feedback = ""
    report: ValidationReport | None = None
    for attempt in range(1, planner.max_attempts + 1):
        text = (
            f"Request: {intent}\nActors you may call (and nothing else):\n{listing}\n"
            "Write the steps in the order they must run: each an actor and its args. Use "
            "only names that appear in the request or in the inventory. At most "
            f"{fitted.max_steps} steps."
        )
        if planner.inventory is not None:
            text += "\nInventory: " + json.dumps(
                {k: sorted(v)[:20] for k, v in planner.inventory.entities.items()},
                sort_keys=True,
            )
        if feedback:
            text += f"\nYour previous plan was refused:\n{feedback}\nFix every problem."
        messages: list[Message] = [
            {
                "role": "system",
                "content": "You compose an infrastructure change as a small DAG of actor "
                "calls. Answer only JSON.",
            },
            {"role": "user", "content": text},
        ]
        try:
            call = planner.backend.complete(messages, schema=schema, max_tokens=fitted.max_tokens)
        except BackendError as e:
            # Cut off: a bounded second chance with a shorter brief.
            if attempt >= planner.max_attempts:
                raise
            feedback = f"{e.message}; answer with at most {fitted.max_steps} short steps"
            continue
        calls.append(call)  # recorded even when its text turns out unusable
        try:
            steps = json_object(call).get("steps")
        except BackendError as e:
            if attempt >= planner.max_attempts:
                raise
            feedback = f"{e.message}; answer with JSON only"
            continue
        document: dict[str, Any] = {
            "api_version": "planactor/v1",
            "intent": intent,
            "requested_by": requested_by,
            "change_ticket": ticket,
            "steps": sequence(steps),
        }
        basis = planner.basis(document) if planner.basis is not None else None
        if basis is not None:
            document["basis"] = basis.to_document()
        report = validate(
            document, catalog=planner.catalog, inventory=planner.inventory, policy=planner.policy
        )
        if report.ok:
            info = {"path": "compose", "novel": True}
            plan = Plan.model_validate(
                {**document, "planner": planner_info(planner.backend, calls, attempt, info)}
            )
            return LLMPlanResult(
                plan=plan,
                report=report,
                path="compose",
                routine=None,
                grounding=None,
                calls=tuple(calls),
                attempts=attempt,
                warnings=tuple(warnings),
            )
        feedback = problems_text(report)
    assert report is not None
    raise PlanInvalid(report, source=f"composed plan after {planner.max_attempts} attempts")


def relevant_actors(catalog: Catalog, intent: str) -> list[Any]:
    said = set(tokens(intent))
    scored = []
    for a in catalog:
        words = set(tokens(f"{a.name.replace('.', ' ').replace('_', ' ')} {a.description}"))
        scored.append((-len(said & words), a.name, a))
    return [a for _, _, a in sorted(scored)[:12]]


# -- calls, cache, metadata ---------------------------------------------------------------


def _arg_summary(schema: Mapping[str, Any]) -> dict[str, str]:
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    out = {}
    for name, prop in props.items():
        kind = prop.get("type", "any") if isinstance(prop, dict) else "any"
        out[name] = f"{kind}{'' if name in required else '?'}"
    return out
