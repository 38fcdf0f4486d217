"""The planner eval: a labelled set of intents, run through a planner, scored.

A set is YAML (`evals/planner.yaml`): cases of `{id, intent, expect: {routine, params},
tags}`. Each case is planned once, without the plan cache, against the context the caller
gives (the command line gives a fresh default storage lab: its inventory, facts, and the
default policy joined with the lab's safety check). Scoring:

    match        the routine and its parameters are what the case expects, after the
                 routine's defaults fill both sides (`Routine.bind`). A case that expects
                 `routine: null` (nothing should plan it) is met by a refusal (InputError,
                 PlanInvalid) or by a composed plan, marked novel, that validates: both are
                 safe. A routine plan never meets it, nor a backend failure.
    valid        every plan a planner produced passes validation again, here, against the
                 catalog, the inventory and the policy; validity is over produced plans only
    ungrounded   argument values that come from nowhere trusted (the caller's check: the
                 command line's `ungrounded` / `composed_ungrounded`), counted per plan
    cost         wall-clock latency per case; model calls and their tokens, counted at the
                 backend, so calls made before a refusal count too; a call that failed (cut
                 off, timed out) counts as a call and in `failed_calls`, without tokens (the
                 backend reports none for it)

The core here takes its context and its ungrounded check from the caller: the planner does
not depend on the lab or on the command line.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from planactor._errors import InputError, PlanactorError, PlanInvalid
from planactor.catalog import Catalog, Routine
from planactor.plan import Inventory, Plan
from planactor.planner._backends import Backend, BackendError, Completion, Message
from planactor.planner._eval_set import (
    SPLITS,
    TAGS,
    EvalCase,
    EvalSet,
    check_eval_set,
    load_eval_set,
    parse_eval_set,
)
from planactor.planner._grounding import GroundingNote
from planactor.planner._llm_planner import LLMPlanner
from planactor.planner._rank import Scorer
from planactor.planner._routine_planner import RoutinePlanner
from planactor.validate import Policy, validate

__all__ = [
    "SPLITS",
    "TAGS",
    "CaseResult",
    "EvalCase",
    "EvalContext",
    "EvalResult",
    "EvalSet",
    "UngroundedCheck",
    "check_eval_set",
    "load_eval_set",
    "parse_eval_set",
    "run_eval",
]

# (step id, argument path, value) for each value a reviewer must look at.
Flagged = Sequence[tuple[str, str, Any]]
UngroundedCheck = Callable[
    [Plan, Routine | None, Sequence[GroundingNote], Inventory | None], Flagged
]


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalContext:
    """What every case is planned and validated against."""

    catalog: Catalog
    inventory: Inventory | None = None
    facts: Mapping[str, Any] | None = None
    policy: Policy | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseResult:
    case: EvalCase
    outcome: str  # plan | refused | error
    match: bool
    path: str | None = None  # routine | compose, for a plan
    routine: str | None = None
    params: Mapping[str, Any] | None = None  # bound: the routine's defaults filled in
    # What the intent was read as: values other than the defaults, and those the case names.
    read_params: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None  # the refusal's or failure's message
    valid: bool | None = None  # None: no plan to validate
    problems: tuple[str, ...] = ()
    ungrounded: tuple[tuple[str, str, Any], ...] = ()
    latency_s: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0
    failed_calls: int = 0
    writes: bool = False  # the plan produced changes something
    not_planned: tuple[str, ...] = ()  # the clauses the planner reported as not covered

    @property
    def wrong_plan(self) -> bool:
        """A plan came out that is not the one asked for: another routine or other
        parameters, a plan where none should come out that changes something, or a plan
        that silently drops a clause the case says must be reported."""
        if self.outcome != "plan":
            return False
        if self.case.routine is None:
            return self.routine is not None or self.writes
        return not self.match

    @property
    def expected(self) -> str:
        if self.case.routine is None:
            return "no routine (refuse, or a novel plan that validates)"
        return f"{self.case.routine} {_params_text(self.case.params)}"

    @property
    def got(self) -> str:
        if self.outcome == "refused":
            return f"refused: {_one_line(self.error)}"
        if self.outcome == "error":
            return f"error: {_one_line(self.error)}"
        if self.path == "compose":
            return "composed (novel) plan" + ("" if self.valid else ", invalid")
        return (
            f"{self.routine} {_params_text(self.read_params)}"
            + ("" if self.valid else " (invalid plan)")
            + "".join(f'; not planned: "{c}"' for c in self.not_planned)
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.case.id,
            "intent": self.case.intent,
            "tags": list(self.case.tags),
            "split": self.case.split,
            "expected": {
                "routine": self.case.routine,
                "params": dict(self.case.params),
                **(
                    {"uncovered": list(self.case.uncovered)}
                    if self.case.uncovered is not None
                    else {}
                ),
            },
            "outcome": self.outcome,
            "match": self.match,
            "wrong_plan": self.wrong_plan,
            "writes": self.writes,
            "not_planned": list(self.not_planned),
            "path": self.path,
            "routine": self.routine,
            "params": dict(self.params) if self.params is not None else None,
            "read_params": dict(self.read_params),
            "error": self.error,
            "valid": self.valid,
            "problems": list(self.problems),
            "ungrounded": [{"step": s, "path": p, "value": v} for s, p, v in self.ungrounded],
            "latency_s": round(self.latency_s, 4),
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "calls": self.calls,
            "failed_calls": self.failed_calls,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalResult:
    planner: str  # routine, local, openai, anthropic (the backend's name)
    model: str | None
    source: str
    cases: tuple[CaseResult, ...]

    @property
    def total(self) -> int:
        return len(self.cases)

    @property
    def matched(self) -> int:
        return sum(1 for c in self.cases if c.match)

    @property
    def exact_match(self) -> float:
        return self.matched / self.total if self.total else 0.0

    @property
    def wrong_plans(self) -> int:
        return sum(1 for c in self.cases if c.wrong_plan)

    def split(self, name: str) -> EvalResult:
        """The same result over one split's cases only."""
        return replace(self, cases=tuple(c for c in self.cases if c.case.split == name))

    @property
    def produced(self) -> int:
        return sum(1 for c in self.cases if c.outcome == "plan")

    @property
    def valid(self) -> int:
        return sum(1 for c in self.cases if c.valid)

    @property
    def validity(self) -> float | None:
        return self.valid / self.produced if self.produced else None

    @property
    def ungrounded(self) -> int:
        return sum(len(c.ungrounded) for c in self.cases)

    @property
    def plans_with_ungrounded(self) -> int:
        return sum(1 for c in self.cases if c.ungrounded)

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        return tuple(c for c in self.cases if not c.match or c.valid is False)

    @property
    def median_latency_s(self) -> float:
        return _median(c.latency_s for c in self.cases)

    @property
    def median_tokens_in(self) -> float:
        return _median(c.tokens_in for c in self.cases)

    @property
    def median_tokens_out(self) -> float:
        return _median(c.tokens_out for c in self.cases)

    @property
    def with_calls(self) -> tuple[CaseResult, ...]:
        """The cases that asked the model: most cases need no call, so medians over all
        cases hide what a call costs."""
        return tuple(c for c in self.cases if c.calls)

    @property
    def tokens_in(self) -> int:
        return sum(c.tokens_in for c in self.cases)

    @property
    def tokens_out(self) -> int:
        return sum(c.tokens_out for c in self.cases)

    @property
    def calls(self) -> int:
        return sum(c.calls for c in self.cases)

    @property
    def failed_calls(self) -> int:
        return sum(c.failed_calls for c in self.cases)

    def by_tag(self) -> dict[str, tuple[int, int]]:
        """tag -> (cases matched, cases)."""
        out: dict[str, tuple[int, int]] = {}
        for c in self.cases:
            for t in c.case.tags:
                hit, n = out.get(t, (0, 0))
                out[t] = (hit + int(c.match), n + 1)
        return dict(sorted(out.items()))

    def wrong_by_tag(self) -> dict[str, int]:
        """tag -> wrong plans among its cases (tags without any left out)."""
        out: dict[str, int] = {}
        for c in self.cases:
            if c.wrong_plan:
                for t in c.case.tags:
                    out[t] = out.get(t, 0) + 1
        return dict(sorted(out.items()))

    def _summary(self) -> dict[str, Any]:
        return {
            "cases": self.total,
            "matched": self.matched,
            "exact_match": round(self.exact_match, 4),
            "wrong_plans": self.wrong_plans,
        }

    def to_document(self) -> dict[str, Any]:
        return {
            "planner": self.planner,
            "model": self.model,
            "set": self.source,
            "summary": {
                "cases": self.total,
                "matched": self.matched,
                "exact_match": round(self.exact_match, 4),
                "wrong_plans": self.wrong_plans,
                "splits": {name: self.split(name)._summary() for name in SPLITS},
                "wrong_by_tag": self.wrong_by_tag(),
                "plans": self.produced,
                "valid_plans": self.valid,
                "validity": round(self.validity, 4) if self.validity is not None else None,
                "ungrounded_values": self.ungrounded,
                "plans_with_ungrounded": self.plans_with_ungrounded,
                "median_latency_s": round(self.median_latency_s, 4),
                "median_tokens_in": self.median_tokens_in,
                "median_tokens_out": self.median_tokens_out,
                "tokens_in": self.tokens_in,
                "tokens_out": self.tokens_out,
                "model_calls": self.calls,
                "cases_with_calls": len(self.with_calls),
                "median_latency_s_with_calls": round(
                    _median(c.latency_s for c in self.with_calls), 4
                ),
                "median_tokens_in_with_calls": _median(c.tokens_in for c in self.with_calls),
                "median_tokens_out_with_calls": _median(c.tokens_out for c in self.with_calls),
                "failed_model_calls": self.failed_calls,
                "by_tag": {t: {"matched": h, "cases": n} for t, (h, n) in self.by_tag().items()},
            },
            "failures": [c.case.id for c in self.failures],
            "cases": [c.to_document() for c in self.cases],
        }


def _median(values: Iterable[float]) -> float:
    data = list(values)
    return float(statistics.median(data)) if data else 0.0


def _params_text(params: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(params.items())) + "}"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


# -- running ---------------------------------------------------------------------------------


class _Counting:
    """A Backend that passes every call through, counting it and keeping its Completion:
    calls and tokens are counted even when the planner refuses after asking the model."""

    def __init__(self, backend: Backend) -> None:
        self.inner = backend
        self.completions: list[Completion] = []
        self.asked = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @name.setter
    def name(self, value: str) -> None:
        self.inner.name = value

    @property
    def model(self) -> str:
        return self.inner.model

    @model.setter
    def model(self, value: str) -> None:
        self.inner.model = value

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        timeout_s: float = 120.0,
    ) -> Completion:
        self.asked += 1
        answer = self.inner.complete(
            messages, schema=schema, max_tokens=max_tokens, timeout_s=timeout_s
        )
        self.completions.append(answer)
        return answer


@dataclass(slots=True)
class _Attempt:
    """What one planning attempt left behind, before scoring."""

    plan: Plan | None = None
    path: str | None = None
    routine: Routine | None = None
    params: dict[str, Any] | None = None
    notes: Sequence[GroundingNote] = ()
    not_planned: tuple[str, ...] = ()
    outcome: str = "plan"
    error: str | None = None
    completions: list[Completion] = field(default_factory=list)
    asked: int = 0
    latency_s: float = 0.0


def run_eval(
    eval_set: EvalSet,
    *,
    context: EvalContext,
    backend: Backend | None,
    check_ungrounded: UngroundedCheck,
    requested_by: str = "planactor-eval",
    limit: int | None = None,
    on_case: Callable[[CaseResult], None] | None = None,
    labs: Mapping[str, EvalContext] | None = None,
) -> EvalResult:
    """Plan every case (the first `limit`) with `backend` (None: the routine planner, no
    model), without the plan cache, and score it. `on_case` sees each result as it comes.

    A case is planned against `context`, or against `labs[case.lab]` when its lab is another
    kind (a network lab for network.deploy_fabric); a kind neither gives is an InputError."""
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be at least 1, not {limit}")
    cases = eval_set.cases[:limit] if limit is not None else eval_set.cases
    contexts = {**(labs or {}), "storage": context}

    def context_of(case: EvalCase) -> EvalContext:
        if case.lab not in contexts:
            raise InputError(
                f"case {case.id!r}: lab: no {case.lab} lab was given to the eval",
                hint=f"give run_eval labs={{{case.lab!r}: ...}}",
            )
        return contexts[case.lab]

    for kind in dict.fromkeys(c.lab for c in cases):
        given = context_of(next(c for c in cases if c.lab == kind))
        check_eval_set([c for c in cases if c.lab == kind], given.catalog, given.inventory)
    counting = _Counting(backend) if backend is not None else None
    planners: dict[str, tuple[LLMPlanner | None, RoutinePlanner]] = {}

    def planners_of(case: EvalCase) -> tuple[LLMPlanner | None, RoutinePlanner]:
        if case.lab not in planners:
            ctx = context_of(case)
            llm = (
                LLMPlanner(
                    catalog=ctx.catalog,
                    backend=counting,
                    inventory=ctx.inventory,
                    facts=ctx.facts,
                    policy=ctx.policy,
                    cache_dir=None,  # every case planned afresh: a cached plan costs nothing
                    scorer=backend if isinstance(backend, Scorer) else None,  # ranks uncounted
                )
                if counting is not None
                else None
            )
            planners[case.lab] = (
                llm,
                RoutinePlanner(
                    catalog=ctx.catalog, inventory=ctx.inventory, facts=ctx.facts, policy=ctx.policy
                ),
            )
        return planners[case.lab]

    results: list[CaseResult] = []
    for case in cases:
        llm, routine_planner = planners_of(case)
        if counting is not None:
            counting.completions, counting.asked = [], 0
        attempt = _Attempt()
        started = time.perf_counter()
        try:
            if llm is not None:
                got = llm.plan(case.intent, requested_by=requested_by)
                attempt.plan, attempt.path, attempt.routine = got.plan, got.path, got.routine
                attempt.not_planned = tuple(n.clause for n in got.not_planned)
                if got.grounding is not None:
                    attempt.params = dict(got.grounding.values)
                    attempt.notes = got.grounding.notes
            else:
                chosen = routine_planner.plan(case.intent, requested_by=requested_by)
                attempt.plan, attempt.path = chosen.plan, "routine"
                attempt.routine = chosen.chosen.routine
                attempt.params = dict(chosen.chosen.grounding.values)
                attempt.notes = chosen.chosen.grounding.notes
                attempt.not_planned = tuple(n.clause for n in chosen.not_planned)
        except BackendError as e:
            attempt.outcome, attempt.error = "error", e.message
        except PlanInvalid as e:  # the planner refused a plan it could not make valid
            first = "; ".join(f"{p.location}: {p.message}" for p in e.report.errors[:3])
            attempt.outcome, attempt.error = "refused", f"{e.message}: {first}"
        except InputError as e:  # the planner refused the intent
            attempt.outcome, attempt.error = "refused", e.message
        except PlanactorError as e:
            attempt.outcome, attempt.error = "error", e.message
        attempt.latency_s = time.perf_counter() - started
        if counting is not None:
            attempt.completions, attempt.asked = list(counting.completions), counting.asked
        result = _score(case, attempt, context_of(case), check_ungrounded)
        results.append(result)
        if on_case is not None:
            on_case(result)
    if counting is not None:
        name, model = counting.name, counting.model or None
    else:
        name, model = "routine", None
    return EvalResult(planner=name, model=model, source=eval_set.source, cases=tuple(results))


def _score(
    case: EvalCase, attempt: _Attempt, context: EvalContext, check_ungrounded: UngroundedCheck
) -> CaseResult:
    calls = attempt.completions
    cost = CaseResult(
        case=case,
        outcome=attempt.outcome,
        match=False,
        error=attempt.error,
        latency_s=attempt.latency_s,
        tokens_in=sum(c.tokens_in for c in calls),
        tokens_out=sum(c.tokens_out for c in calls),
        calls=max(attempt.asked, len(calls)),
        failed_calls=max(attempt.asked - len(calls), 0),
    )
    if attempt.plan is None:
        # No plan: right only when none should come out, and only as a decision (a refusal),
        # not as a backend that failed to answer.
        return replace(cost, match=case.routine is None and attempt.outcome == "refused")
    # The planner validated its plan already; validate again, independently of it.
    report = validate(
        attempt.plan.to_document(),
        catalog=context.catalog,
        inventory=context.inventory,
        policy=context.policy,
    )
    problems = tuple(f"{p.location}: {p.message}" for p in report.errors)
    flagged = tuple(
        check_ungrounded(attempt.plan, attempt.routine, attempt.notes, context.inventory)
    )
    routine = attempt.routine
    bound = _bound(routine, attempt.params, context.inventory)
    writes = any(
        s.actor not in context.catalog or context.catalog.get(s.actor).effect == "write"
        for s in attempt.plan.steps
    )
    if case.routine is None:
        match = routine is None and report.ok  # a novel plan that validates
    else:
        expected = context.catalog.routines[case.routine]
        match = (
            report.ok
            and routine is not None
            and routine.name == case.routine
            and bound == _bound(expected, case.params, context.inventory)
            and _coverage_met(case.uncovered, attempt.not_planned)
        )
    read = (
        {
            k: v
            for k, v in bound.items()
            if k in case.params or k not in routine.params or routine.params[k].default != v
        }
        if routine is not None and bound is not None
        else {}
    )
    return replace(
        cost,
        outcome="plan",
        match=match,
        path=attempt.path,
        routine=routine.name if routine is not None else None,
        params=bound,
        read_params=read,
        valid=report.ok,
        problems=problems,
        ungrounded=flagged,
        writes=writes,
        not_planned=attempt.not_planned,
    )


def _coverage_met(expected: Sequence[str] | None, reported: Sequence[str]) -> bool:
    """Each expected clause is inside one reported clause, and nothing else is reported."""
    if expected is None:
        return True
    if len(expected) != len(reported):
        return False
    return all(any(e.lower() in r.lower() for r in reported) for e in expected)


def _bound(
    routine: Routine | None, params: Mapping[str, Any] | None, inventory: Inventory | None
) -> dict[str, Any] | None:
    """`params` with the routine's defaults filled in (as given, if they do not bind)."""
    if routine is None or params is None:
        return None
    try:
        return routine.bind(params, inventory=inventory)
    except InputError:
        return dict(params)
