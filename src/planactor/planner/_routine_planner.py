"""The routine planner: pick the routine an intent asks for, ground its parameters, expand.

No model involved: routine choice is by keyword overlap with each routine's name,
description and example intents (tolerating typos), and parameters come from grounding.
It is the planner's first and cheapest path; an LLM planner falls back to it or builds on
its ranking.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from planactor._errors import AmbiguousRoutine, InputError, PlanInvalid
from planactor.catalog import Catalog, Routine
from planactor.plan import BasisReader, Inventory, Plan, PlannerInfo
from planactor.planner._clauses import (
    Clause,
    NotPlanned,
    Reading,
    action_matches,
    asked_for,
    has_pronoun,
    is_again,
    is_remedy,
    leading_verb,
    noun,
    read_intent,
    stem,
    unplannable,
)
from planactor.planner._grounding import Grounding, ground, tokens, without_names
from planactor.planner._routine_traits import actions_of, applicable, unserved, writes
from planactor.planner._scope import (
    cannot_leave_out,
    kind_of,
    object_kind,
    status_check,
    unreported,
)
from planactor.validate import Policy, ValidationReport, validate

__all__ = [
    "Candidate",
    "PlanResult",
    "RoutinePlanner",
    "Selection",
    "actions_of",
    "applicable",
    "rank",
    "select",
    "unserved",
    "writes",
]

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
_STATE = re.compile(r"\b(?:is|are)\b|'s\s", re.IGNORECASE)
_PAST = re.compile(
    r"\b(?:was|were|been|yesterday|last|earlier|ago|until|already|came|went|ran|took|did)\b"
    r"|\b\w+ed\b",
    re.IGNORECASE,
)
# "are unevenly loaded", "is degraded": a participle after is/are describes the state now.
_PRESENT_PARTICIPLE = re.compile(r"\b(?:is|are)\s+(?:\w+ly\s+|not\s+)?\w+ed\b", re.IGNORECASE)


_LOOKS = re.compile(r"\b(?:looks?|seems?|appears?)\b", re.IGNORECASE)  # a state, not a deed


def _says_any(text: str, actions: Sequence[str]) -> bool:
    return any(action_matches(a, text) for a in actions)


def _is_history(text: str) -> bool:
    """Whether a context clause tells what happened before rather than how things are now."""
    return any(
        not (m.group(0).lower().endswith("ed") and _PRESENT_PARTICIPLE.search(text))
        for m in _PAST.finditer(text)
    )


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
    not_planned: tuple[NotPlanned, ...] = field(default=())


def _vocabulary(r: Routine) -> set[str]:
    words = set(tokens(r.name.replace("_", " ").replace(".", " ")))
    words |= set(tokens(r.description))
    for e in r.examples:
        words |= set(tokens(e))
    for a in r.actions:
        words |= set(tokens(a))
    return words - _STOP


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


def _described(r: Routine) -> set[str]:
    """The nouns of `r`'s description: what it reports or acts on."""
    return {noun(w) for w in tokens(r.description) if len(w) > 2}


def _param_nouns(r: Routine) -> set[str]:
    """The nouns that name `r`'s parameters: spine for spines, server for servers_per_leaf."""
    return {noun(name.split("_")[0]) for name in r.params} | {noun(n) for n in r.params}


# "3 times", "every hour", "daily": a plan runs once, when it is run.
@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """Which clause of the intent a plan can cover, by which routines, and what it leaves."""

    reading: Reading
    clause: Clause | None  # the clause the plan covers; None: nothing can be planned
    candidates: tuple[Candidate, ...]  # routines that say the clause's action, best first
    not_planned: tuple[NotPlanned, ...]
    refusal: str | None = None  # why nothing is planned, when clause is None


def select(
    routines: Mapping[str, Routine],
    intent: str,
    inventory: Inventory | None,
    *,
    is_write: Callable[[Routine], bool],
) -> Selection:
    """The clause to plan and the routines that may plan it.

    A routine may plan a clause only when the clause says one of its actions: never the
    best of weak matches. Questions, and any request carrying text that tries to steer the
    planner, may be answered by read-only routines only; negated clauses and context are
    never planned. The first action clause a routine covers is planned; every other action
    clause is reported as not planned, with the reason.
    """
    every = [a for r in routines.values() for a in actions_of(r)]
    reading = read_intent(intent, actions=every)
    steered = bool(reading.injected)
    context = " ".join(c.text for c in reading.clauses if c.kind in ("context", "question"))
    # What was done or asked before ("array-01-a was power cycled yesterday"), which "do the
    # same for ..." repeats; a state ("array-02 looks unbalanced") is no action to repeat.
    repeatable = [
        c.text
        for c in reading.clauses
        if c.kind in ("action", "question")
        or (c.kind == "context" and _is_history(c.text) and not _LOOKS.search(c.text))
    ]
    # A state said now ("maintenance on array-01 is over") names what the request is about;
    # history ("array-01 was done last week") does so only through a pronoun.
    state = " ".join(
        c.text
        for c in reading.clauses
        if c.kind == "context" and _STATE.search(c.text) and not _is_history(c.text)
    )
    read_only = {n: r for n, r in routines.items() if not is_write(r)}
    covered: list[tuple[Clause, list[Candidate]]] = []
    reasons: list[NotPlanned] = []
    for i, clause in enumerate(reading.clauses):
        if clause.kind not in ("action", "question"):
            continue
        previous = reading.clauses[i - 1].text if i else ""
        if (why_not_once := unplannable(clause.text, previous)) is not None:
            reasons.append(NotPlanned(clause=clause.text, reason=why_not_once))
            continue
        # "delete all LUNs": a verb asking for a change picks only routines declaring it,
        # however many of their other words the clause shares.
        lead = leading_verb(clause.text)
        # "array-03 looks unbalanced, fix it": the remedy is what a write routine says the
        # state beside it asks for, and only that.
        remedy = is_remedy(clause.text) and bool(state or context)
        # "...; do the same for array-01-b": the routine is the one the context says, the
        # entity the one this clause names.
        again = is_again(clause.text) and not remedy and not _says_any(clause.text, every)
        before = repeatable[: repeatable.index(clause.text)] if clause.text in repeatable else []
        done = next((t for t in reversed(before) if _says_any(t, every)), None) if again else None
        said = f"{state or context}" if remedy else (done or clause.text)
        saying = {
            n: r
            for n, r in routines.items()
            if (not remedy or is_write(r))
            and any(
                action_matches(a, said) and (lead is None or stem(a.split()[0]) == lead)
                for a in actions_of(r)
            )
        }
        allowed = read_only if (steered or clause.kind == "question") else routines
        eligible = {n: r for n, r in saying.items() if n in allowed}
        if clause.kind == "question":
            wanted = asked_for(clause.text)
            if not eligible and saying and lead is None:
                # "which firmware is array-02 on?": a check that reports what is asked for
                # (its description says firmware) answers it.
                eligible = {
                    n: r for n, r in read_only.items() if wanted & _described(r) - {"is", "are"}
                }
            if not eligible and not saying and lead is None:
                # "is array-03 ok?", "are both of array-03's controllers online?": a yes/no
                # question about how one named thing is, which the one read-only check of
                # that kind of thing answers.
                eligible = status_check(clause.text, read_only, inventory)
            # "how many spines would a 16-leaf clos need?": a routine told the spines
            # cannot answer how many it needs.
            eligible = {n: r for n, r in eligible.items() if not wanted & _param_nouns(r)}
        # "show me the serial numbers of array-02": a check that reports none of it is no
        # answer, however well its verb fits.
        unseen = {n: unreported(r, clause.text, inventory) for n, r in eligible.items()}
        eligible = {n: r for n, r in eligible.items() if is_write(r) or not unseen[n]}
        if not eligible and any(unseen.values()):
            asked = next(w for w in unseen.values() if w)
            why = f"no routine reports what it asks to see ({', '.join(asked)})"
            reasons.append(NotPlanned(clause=clause.text, reason=why))
            continue
        if not eligible:
            if saying and steered:
                why = (
                    f"the request carries {', '.join(reading.injected)}: only read-only "
                    "routines may answer it"
                )
            elif saying:
                why = "a question, not a request to change anything (`planactor ask` answers it)"
            elif clause.kind == "question":
                continue  # a question nothing answers: context, not a request
            else:
                why = "no routine does this (none of their action words is said)"
            reasons.append(NotPlanned(clause=clause.text, reason=why))
            continue
        text = clause.text
        ranked = rank(eligible, text, inventory)
        if done is not None and ranked[0].grounding.missing:
            # "same for array-02 tonight": the values it does not say (the version) are the
            # ones said with the action before; its entities are not ("array-01 went ...").
            ranked = rank(eligible, f"{text} ({without_names(done, inventory)})", inventory)
        if ranked[0].grounding.missing:
            # "bounce it": the entity is in the clause before ("array-02-a is hung").
            around = context if has_pronoun(text) or remedy else state
            if around:
                ranked = rank(eligible, f"{text} ({around})", inventory)
            elif context and not is_write(ranked[0].routine):
                # A check changes nothing: the entity the question or remark beside it
                # names is what to check ("anyone looked at array-02? run a health check").
                looks = {n: r for n, r in eligible.items() if not is_write(r)}
                ranked = rank(looks, f"{text} ({context})", inventory)
        covered.append((clause, ranked))
    # Requests before questions: "esx-01 lost a path? check it" plans the check; but a
    # check that names nothing ("seeing latency alerts") yields to a question that does
    # ("is array-03 ok?").
    covered.sort(
        key=lambda pair: (
            bool(pair[1][0].grounding.missing) and not is_write(pair[1][0].routine),
            pair[0].kind != "action",
            # "Moving to In Progress. upgrade array-01 to 5.3.0": ticket boilerplate that
            # names nothing gives way to the request that does.
            bool(pair[1][0].grounding.missing),
        )
    )
    if not covered:
        negated = reading.of_kind("negated")
        if reasons:
            refusal = "; ".join(f"{n.clause!r}: {n.reason}" for n in reasons)
        elif negated:
            refusal = "the request says what not to do: " + "; ".join(repr(c.text) for c in negated)
        elif steered:
            refusal = f"the request carries {', '.join(reading.injected)} and asks nothing else"
        else:
            refusal = "no routine's action words are said"
        return Selection(
            reading=reading,
            clause=None,
            candidates=(),
            not_planned=tuple(reasons),
            refusal=refusal,
        )
    clause, ranked = covered[0]
    # "leaf-spine with 12 leaves, 2 spines, 40 servers per leaf": a later clause with no verb
    # of its own that the same routine covers goes on with the same request (its values).
    chosen = ranked[0].routine.name
    more = [
        other
        for other, others in covered[1:]
        if other.kind == "action"
        and others[0].routine.name == chosen
        and leading_verb(other.text) is None
        and not is_again(other.text)  # "do array-02 too": the same action, another request
    ]
    if more:
        clause = Clause(text=", ".join([clause.text, *(c.text for c in more)]), kind=clause.kind)
        ranked = rank({c.routine.name: c.routine for c in ranked}, clause.text, inventory)
        covered = [covered[0], *((c, r) for c, r in covered[1:] if c not in more)]
    for other, others in covered[1:]:
        if (
            other.kind == "question"
            and not is_write(others[0].routine)
            and (
                others[0].grounding.missing
                or (
                    others[0].routine.name == ranked[0].routine.name
                    and others[0].grounding.values == ranked[0].grounding.values
                )
            )
        ):
            # Answered alongside ("esx-01 lost a path? check it"), or a question naming
            # nothing of its own. One about another entity ("is array-01 healthy? do
            # array-02 too") is a request the plan leaves out, and is reported.
            continue
        reasons.append(
            NotPlanned(
                clause=other.text,
                reason=f"a second request ({others[0].routine.name} would do it): one plan "
                "covers one request; plan it separately",
            )
        )
    order = {c.text: i for i, c in enumerate(reading.clauses)}
    reasons.sort(key=lambda n: order.get(n.clause, 0))
    top = ranked[0].routine
    kept = cannot_leave_out(top, reading, inventory) if is_write(top) else []
    stranger = object_kind(top, clause.text, inventory) if is_write(top) else None
    why_not: str | None = None
    if stranger is not None:
        why_not = f"{clause.text!r} asks it of {stranger}s, which {top.name} does not act on"
    elif kept:
        why_not = (
            f"the request leaves {', '.join(kept)} out, but {top.name} names no "
            f"{kind_of(kept[0], inventory)} it could leave out"
        )
    if why_not is not None:
        return Selection(
            reading=reading, clause=None, candidates=(), not_planned=tuple(reasons), refusal=why_not
        )
    return Selection(
        reading=reading, clause=clause, candidates=tuple(ranked), not_planned=tuple(reasons)
    )


def _refuse_a_tie(clause: str, candidates: Sequence[Candidate]) -> None:
    """Two routines that fit the clause exactly as well, each with its entities named: the
    order of their names is no reason to choose, so the planner asks which (a model may
    break the tie above its margin, in LLMPlanner)."""
    fit = [c for c in candidates if c.score >= MIN_SCORE and not c.grounding.missing]
    if len(fit) > 1 and fit[0].score == fit[1].score:
        tied = [c.routine.name for c in fit if c.score == fit[0].score]
        raise AmbiguousRoutine(
            f"several routines fit {clause!r} equally well: {', '.join(tied)}",
            routines=tuple(tied),
            hint="say which (the action words of one of them), or use --routine NAME",
        )


def refuse_selection(
    selection: Selection, unserved: Mapping[str, Routine] | None = None
) -> InputError:
    """The refusal for a selection that covers nothing. `unserved`: the routines this lab
    cannot serve (it lacks the facts they read); one that says the request's action is named,
    so "deploy the fabric" on a storage lab does not read as an unknown request."""
    asked = [c.text for c in selection.reading.clauses if c.kind == "action"]
    would = [
        r
        for r in (unserved or {}).values()
        if any(action_matches(a, text) for text in asked for a in actions_of(r))
    ]
    if would:
        needs = sorted({path.split(".", 1)[0] for r in would for path in r.facts.values()})
        return InputError(
            f"no routine matches {selection.reading.intent!r} here: "
            f"{', '.join(r.name for r in would)} would do it, but it reads facts this lab "
            f"does not hold ({', '.join(needs)})",
            hint="plan it against a lab or inventory that has them (e.g. `planactor lab init "
            "network`, then --lab)",
        )
    return InputError(
        f"no routine matches {selection.reading.intent!r}: {selection.refusal}",
        hint="`planactor routines` lists what exists; say the action (upgrade, reboot, "
        "fail back ...) and what it acts on, or use --routine NAME with --param",
    )


class RoutinePlanner:
    """Intent -> routine -> grounded parameters -> plan -> validation."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        inventory: Inventory | None = None,
        facts: Mapping[str, Any] | None = None,
        policy: Policy | None = None,
        basis: BasisReader | None = None,
    ) -> None:
        self.catalog = catalog
        self.inventory = inventory
        self.facts = facts
        self.policy = policy
        self.basis = basis  # records the lab facts a plan is made from (`Plan.basis`)

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
        usable = applicable(routines, self.facts)
        not_planned: tuple[NotPlanned, ...] = ()
        if routine is not None:
            # Explicit is better: the named routine, grounded on the whole intent.
            candidates = rank(usable, intent, self.inventory)
            chosen = next(
                (c for c in candidates if c.routine.name == routine), None
            ) or self._forced(routine, intent)
        else:
            selection = select(usable, intent, self.inventory, is_write=self._writes)
            if selection.clause is None:
                raise refuse_selection(selection, unserved(routines, self.facts))
            candidates = list(selection.candidates)
            chosen = candidates[0]
            _refuse_a_tie(selection.clause.text, candidates)
            not_planned = selection.not_planned
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
                    # What the plan leaves out, in the file, for whoever reviews it.
                    **(
                        {"not_planned": [n.to_document() for n in not_planned]}
                        if not_planned
                        else {}
                    ),
                ),
            }
        )
        if self.basis is not None:  # hashed: approvals cover the facts the plan relied on
            plan = plan.model_copy(update={"basis": self.basis(plan.to_document())})
        report = validate(
            plan.to_document(), catalog=self.catalog, inventory=self.inventory, policy=self.policy
        )
        if not report.ok:
            raise PlanInvalid(report, source=f"routine {chosen.routine.name}")
        return PlanResult(
            plan=plan,
            report=report,
            chosen=chosen,
            candidates=tuple(candidates),
            not_planned=not_planned,
        )

    def _writes(self, r: Routine) -> bool:
        return writes(
            r, lambda name: self.catalog.get(name).effect if name in self.catalog else "write"
        )

    def _forced(self, name: str, intent: str) -> Candidate:
        r = self.catalog.routine(name)  # unknown: InputError with did-you-mean
        return Candidate(
            routine=r, score=0.0, grounding=ground(r, intent, self.inventory), matched=()
        )
