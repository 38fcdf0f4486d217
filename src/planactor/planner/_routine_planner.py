"""The routine planner: pick the routine an intent asks for, ground its parameters, expand.

No model involved: routine choice is by keyword overlap with each routine's name,
description and example intents (tolerating typos), and parameters come from grounding.
It is the planner's first and cheapest path; an LLM planner falls back to it or builds on
its ranking.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from planactor._errors import InputError, PlanInvalid
from planactor.catalog import Catalog, Routine
from planactor.plan import Inventory, Plan, PlannerInfo
from planactor.planner._grounding import Grounding, ground, tokens
from planactor.validate import Policy, ValidationReport, validate

__all__ = ["Candidate", "PlanResult", "RoutinePlanner", "applicable", "rank"]

# Words that say nothing about which routine is meant.
_STOP = frozenset(
    {
        "a",
        "an",
        "the",
        "to",
        "on",
        "of",
        "for",
        "in",
        "at",
        "and",
        "or",
        "with",
        "from",
        "by",
        "please",
        "me",
        "my",
        "our",
        "we",
        "i",
        "it",
        "is",
        "be",
        "all",
        "this",
        "that",
        "these",
        "those",
        "into",
        "onto",
        "up",
        "do",
        "make",
        "run",
        "set",
        "get",
        "its",
        "their",
        "every",
        "each",
        "any",
        "some",
        "now",
        "then",
        "can",
        "you",
        "via",
    }
)
MIN_SCORE = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    routine: Routine
    score: float
    grounding: Grounding
    matched: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanResult:
    plan: Plan
    report: ValidationReport
    chosen: Candidate
    candidates: tuple[Candidate, ...]


def _vocabulary(r: Routine) -> set[str]:
    words = set(tokens(r.name.replace("_", " ").replace(".", " ")))
    words |= set(tokens(r.description))
    for e in r.examples:
        words |= set(tokens(e))
    return words - _STOP


def applicable(
    routines: Mapping[str, Routine], facts: Mapping[str, Any] | None
) -> dict[str, Routine]:
    """The routines this inventory can serve: those whose facts it has (a network routine
    reads `site.*`, which a storage lab does not hold). Without facts, all of them."""
    if facts is None:
        return dict(routines)
    return {
        name: r
        for name, r in routines.items()
        if all(path.split(".", 1)[0] in facts for path in r.facts.values())
    }


def rank(
    routines: Mapping[str, Routine], intent: str, inventory: Inventory | None
) -> list[Candidate]:
    """Routines by how well the intent matches them, best first (ties: by name)."""
    # Kind words (array, host...) name what a routine acts on, not what it does: every
    # routine of a pack shares them, so they cannot tell routines apart.
    kinds = set(inventory.entities) if inventory is not None else set()
    kinds |= {f"{k}s" for k in kinds}
    # The words inside entity names (esx, array) say which system, not what to do with it.
    if inventory is not None:
        kinds |= {t for names in inventory.entities.values() for n in names for t in tokens(n)}
    said = [
        t
        for t in tokens(intent)
        if len(t) > 1 and t not in _STOP and t not in kinds and not t.isdigit()
    ]
    out = []
    for r in routines.values():
        vocab = _vocabulary(r)
        matched = []
        for t in said:
            if t in vocab or (len(t) > 4 and difflib.get_close_matches(t, vocab, n=1, cutoff=0.8)):
                matched.append(t)
        g = ground(r, intent, inventory)
        grounded = sum(1 for n in g.notes if n.source in ("intent", "fuzzy"))
        # Keywords choose the routine; grounded parameters break ties between close ones.
        score = len(set(matched)) + 0.5 * grounded if matched else 0.0
        out.append(Candidate(routine=r, score=score, grounding=g, matched=tuple(matched)))
    return sorted(out, key=lambda c: (-c.score, c.routine.name))


class RoutinePlanner:
    """Intent -> routine -> grounded parameters -> plan -> validation."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        inventory: Inventory | None = None,
        facts: Mapping[str, Any] | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.catalog = catalog
        self.inventory = inventory
        self.facts = facts
        self.policy = policy

    def plan(
        self,
        intent: str,
        *,
        requested_by: str,
        change_ticket: str | None = None,
        routine: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> PlanResult:
        """A validated plan for `intent`, or InputError / PlanInvalid saying why not.

        `routine` and `params` override the choice and the grounding (explicit is better).
        """
        started = time.perf_counter()
        intent = intent.strip()
        if not intent:
            raise InputError("the intent is empty", hint='say what you want, e.g. "upgrade ..."')
        routines = self.catalog.routines
        if not routines:
            raise InputError("no routines are installed", hint="install a pack that ships routines")
        candidates = rank(applicable(routines, self.facts), intent, self.inventory)
        if routine is not None:
            chosen = next(
                (c for c in candidates if c.routine.name == routine), None
            ) or self._forced(routine, intent)
        else:
            chosen = candidates[0]
            if chosen.score < MIN_SCORE:
                raise InputError(
                    f"no routine matches {intent!r}",
                    hint="`planactor routines` lists what exists; compose a plan by hand, or "
                    "use --routine NAME with --param",
                )
        values = {**chosen.grounding.values, **(params or {})}
        missing = [
            n
            for n in chosen.grounding.notes
            if n.param not in values and n.source in ("missing", "ambiguous")
        ]
        if missing:
            raise InputError(
                f"routine {chosen.routine.name} fits, but the intent does not say:\n  "
                + "\n  ".join(f"{n.param}: {n.detail}" for n in missing),
                hint="name it in the intent, or pass --param NAME=VALUE",
            )
        plan = chosen.routine.expand(
            values,
            facts=self.facts,
            inventory=self.inventory,
            requested_by=requested_by,
            change_ticket=change_ticket,
        )
        plan = plan.model_copy(
            update={
                "intent": intent,
                "planner": PlannerInfo(
                    backend="routine",
                    routine=chosen.routine.name,
                    params=values,
                    grounding=[
                        {"param": n.param, "value": n.value, "source": n.source, "detail": n.detail}
                        for n in chosen.grounding.notes
                    ],
                    latency_s=round(time.perf_counter() - started, 6),
                    cost_usd=0.0,
                ),
            }
        )
        report = validate(
            plan.to_document(), catalog=self.catalog, inventory=self.inventory, policy=self.policy
        )
        if not report.ok:
            raise PlanInvalid(report, source=f"routine {chosen.routine.name}")
        return PlanResult(plan=plan, report=report, chosen=chosen, candidates=tuple(candidates))

    def _forced(self, name: str, intent: str) -> Candidate:
        r = self.catalog.routine(name)  # unknown: InputError with did-you-mean
        return Candidate(
            routine=r, score=0.0, grounding=ground(r, intent, self.inventory), matched=()
        )
