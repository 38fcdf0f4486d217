"""validate(): read the plan, apply the size limits, run every check, then the policy.

`validate` never raises for bad input: whatever it is given (text, a mapping, a Plan),
it returns a report with every problem it can find at once. The checks live by concern:
`_structure` (shape), `_references` (ids, references, the dependency graph), `_arguments`
(arguments against the actor's input model), `_grounding` (entity names against the
inventory); this module reads the document and walks the steps through them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planactor._speed import cyclic_gc_paused
from planactor.catalog import Catalog
from planactor.plan import (
    Inventory,
    JsonSyntaxError,
    Plan,
    Reference,
    Step,
    canonical_json,
    format_location,
    iter_references,
    parse_json,
)
from planactor.validate._arguments import check_args
from planactor.validate._checker import Checker, Loc
from planactor.validate._grounding import check_entities
from planactor.validate._policy import Policy
from planactor.validate._references import (
    StepGraph,
    check_after,
    check_order,
    check_reference,
    check_unused_inputs,
    check_when,
)
from planactor.validate._report import Limits, Problem, ValidationReport
from planactor.validate._structure import check_structure

__all__ = ["validate"]


def _check_steps(
    checker: Checker,
    steps: list[tuple[int, Step]],
    all_ids: dict[str, int],
    inputs: Mapping[str, Any] | None,
) -> None:
    """Every check that needs the parsed steps, step by step, then the graph as a whole."""
    graph = StepGraph.of(checker, steps, all_ids, inputs)
    by_id = graph.by_id
    for i, step in steps:
        if by_id.get(step.id, (None,))[0] != i:
            continue  # a duplicate id, already reported
        base: Loc = ("steps", i)
        actor = checker.actor(step, base)
        if actor is not None and actor.effect == "write" and step.on_failure == "continue":
            checker.add(
                "write-continue",
                (*base, "on_failure"),
                f"write step {step.id!r} ({step.actor}) cannot use on_failure: continue",
                "a failed write must compensate or pause, never be ignored",
                step=step.id,
            )
        check_after(checker, step, base, graph)
        # Only a dict or a list can hold a reference (or `args` itself be one): most
        # arguments are plain values, and walking them would find nothing.
        refs: list[Reference] = []
        if any(k[:1] == "$" or isinstance(v, dict | list) for k, v in step.args.items()):
            refs = list(iter_references(step.args, (*base, "args")))
        for ref in refs:
            check_reference(checker, ref, step, graph)
        if step.when is not None:
            check_when(checker, step, base, graph)
        if actor is not None:
            value = check_args(checker, step, actor, base, inputs, refs)
            if checker.inventory is not None:
                check_entities(checker, step, actor, (*base, "args"), value)
    check_order(checker, graph)
    check_unused_inputs(checker, graph)


def _json_problem(e: JsonSyntaxError) -> Problem:
    # A JSON path also comes with other errors found after parsing (a lone surrogate).
    dup = e.location != () and e.message.startswith("duplicate key")
    return Problem(
        code="json-duplicate-key" if dup else "json-syntax",
        location=format_location(e.location),
        message=e.message if dup else f"not valid JSON: {e.message}",
        hint="keep one of the two keys" if dup else "fix the JSON syntax at that position",
        line=e.line,
        column=e.column,
    )


def validate(
    plan: Plan | Mapping[str, Any] | str | bytes,
    *,
    catalog: Catalog,
    inventory: Inventory | None = None,
    policy: Policy | None = None,
    limits: Limits | None = None,
) -> ValidationReport:
    """Check a plan; return every problem found. Never raises for bad input.

    `plan` may be JSON text, a parsed JSON object or a Plan. The report is ok when it
    holds no error (warnings do not fail a plan).
    """
    # Validation builds a tree proportional to the plan and no reference cycles: the
    # collections its growth would trigger only rescan that tree.
    with cyclic_gc_paused():
        return _validate(plan, catalog, inventory, policy, limits or Limits())


def _validate(
    plan: Plan | Mapping[str, Any] | str | bytes,
    catalog: Catalog,
    inventory: Inventory | None,
    policy: Policy | None,
    limits: Limits,
) -> ValidationReport:
    if isinstance(plan, str | bytes):
        # surrogatepass: a lone surrogate is counted here and refused by the parser.
        size = len(plan.encode("utf-8", "surrogatepass") if isinstance(plan, str) else plan)
        if size > limits.max_bytes:
            return ValidationReport(problems=(_too_large(size, limits),))
        try:
            doc: Any = parse_json(plan)
        except JsonSyntaxError as e:
            return ValidationReport(problems=(_json_problem(e),))
    elif isinstance(plan, Plan):
        doc = plan.to_document()
    else:
        doc = plan
    if not isinstance(doc, Mapping):
        return ValidationReport(
            problems=(
                Problem(
                    code="not-an-object",
                    location="$",
                    message=f"a plan is a JSON object, not {type(doc).__name__}",
                    hint='start from `{"api_version": "planactor/v1", "steps": [...]}`',
                ),
            )
        )
    doc = dict(doc)
    if not isinstance(plan, str | bytes):
        try:
            size = len(canonical_json(doc))
        except (TypeError, ValueError, RecursionError) as e:
            return ValidationReport(
                problems=(
                    Problem(
                        code="not-json", location="$", message=f"the plan is not JSON data: {e}"
                    ),
                )
            )
        if size > limits.max_bytes:
            return ValidationReport(problems=(_too_large(size, limits),))
    steps_raw = doc.get("steps")
    if isinstance(steps_raw, list) and len(steps_raw) > limits.max_steps:
        return ValidationReport(
            problems=(
                Problem(
                    code="too-many-steps",
                    location="steps",
                    message=f"the plan has {len(steps_raw):,} steps; "
                    f"the limit is {limits.max_steps:,}",
                    hint="split the change into smaller plans, or raise --max-steps",
                ),
            )
        )

    checker = Checker(catalog=catalog, inventory=inventory)
    parsed, steps, inputs_ok = check_structure(
        checker, doc, from_text=isinstance(plan, str | bytes)
    )
    if isinstance(steps_raw, list) and not steps_raw:
        checker.add("empty-plan", ("steps",), "the plan has no steps", "add at least one step")
    all_ids: dict[str, int] = {}
    if isinstance(steps_raw, list):
        for i, raw in enumerate(steps_raw):
            sid = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(sid, str):
                all_ids.setdefault(sid, i)
    raw_inputs = doc.get("inputs", {})
    inputs = raw_inputs if inputs_ok and isinstance(raw_inputs, dict) else None
    _check_steps(checker, steps, all_ids, inputs)

    if (
        parsed is not None
        and policy is not None
        and not any(p.severity == "error" for p in checker.problems)
    ):
        try:
            checker.problems.extend(policy.check(parsed, catalog=catalog, inventory=inventory))
        except Exception as e:  # a broken policy must not look like a passing plan
            checker.add("policy-error", (), f"policy {type(policy).__name__} failed: {e}")
    problems = tuple(checker.problems)
    return ValidationReport(
        problems=problems,
        plan_hash=parsed.hash if parsed is not None else None,
        step_count=len(steps_raw) if isinstance(steps_raw, list) else 0,
    )


def _too_large(size: int, limits: Limits) -> Problem:
    return Problem(
        code="too-large",
        location="$",
        message=f"the plan is {size:,} bytes; the limit is {limits.max_bytes:,}",
        hint="split the change into smaller plans, or raise --max-bytes",
    )
