"""The LLM planner: routines first, composition second, always validated, bounded repair.

What code can decide, code decides: the routine ranking and the grounding of parameters
(entity names that exist, versions, counts) come first. The model is asked only what they
leave open, and always under a JSON schema that narrows it to the catalog and the inventory,
or by ranking what code found (a backend that can score: `planner/_rank.py`):
which of the close routines is meant, the value of a parameter the intent words in a way
grounding cannot read, or, when no routine fits, a composed DAG of catalog actors. Every
candidate goes through the validator; its errors go back to the model at most
`max_attempts` times.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from planactor._errors import AmbiguousRoutine, InputError, PlanInvalid
from planactor.catalog import Catalog, Routine
from planactor.plan import BasisReader, Inventory
from planactor.planner._backends import Backend, Completion, Message
from planactor.planner._clauses import action_matches, read_intent, stem
from planactor.planner._compose import compose as compose_plan
from planactor.planner._grounding import Grounding, GroundingNote, said_as_target, tokens
from planactor.planner._llm_result import (
    LLMPlanResult,
    json_object,
    note_document,
    planner_info,
    problems_text,
)
from planactor.planner._numbers import number_mentions
from planactor.planner._plan_cache import PlanCache, plan_cache_key
from planactor.planner._question import entity_options
from planactor.planner._rank import (
    ENTITY_MARGIN,
    Ranking,
    Scorer,
    rank_by_model,
    routine_margin,
)
from planactor.planner._routine_planner import (
    MIN_SCORE,
    Candidate,
    Selection,
    actions_of,
    applicable,
    refuse_selection,
    select,
    unserved,
    writes,
)
from planactor.validate import Policy, validate

__all__ = ["LLMPlanResult", "LLMPlanner", "plan_cache_key"]

# The ranker is trusted alone when its best routine leads clearly; else the model decides.
CLEAR_LEAD = 1.0
MAX_CANDIDATES = 4


def _scorer_of(backend: Backend) -> Scorer | None:
    return backend if isinstance(backend, Scorer) else None


class LLMPlanner:
    """Intent -> plan with a model where the model is needed, and only there."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        backend: Backend,
        inventory: Inventory | None = None,
        facts: Mapping[str, Any] | None = None,
        policy: Policy | None = None,
        cache_dir: Path | None = None,
        max_attempts: int = 3,
        basis: BasisReader | None = None,
        scorer: Scorer | None = None,
    ) -> None:
        self.catalog = catalog
        self.backend = backend
        self.inventory = inventory
        self.facts = facts
        self.policy = policy
        self.cache_dir = cache_dir
        self.max_attempts = max_attempts
        self.basis = basis  # records the lab facts a plan is made from (`Plan.basis`)
        # Ranking where code cannot decide: the backend itself when it can score (local).
        self.scorer = scorer if scorer is not None else _scorer_of(backend)
        self.cache = PlanCache(
            directory=cache_dir,
            catalog=catalog,
            inventory=inventory,
            facts=facts,
            policy=policy,
            basis=basis,
            backend=backend,
        )

    # -- entry point --------------------------------------------------------------------------

    def plan(
        self,
        intent: str,
        *,
        requested_by: str,
        change_ticket: str | None = None,
        compose: bool = False,
    ) -> LLMPlanResult:
        intent = intent.strip()
        if not intent:
            raise InputError("the intent is empty", hint='say what you want, e.g. "upgrade ..."')
        key = self.cache.key(intent, requested_by, change_ticket, compose)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        started = time.perf_counter()
        if compose:
            steering = read_intent(intent, actions=()).injected
            if steering:
                raise InputError(
                    f"not composing {intent!r}: it carries {', '.join(steering)}",
                    hint="say the request plainly; text that steers the planner is refused",
                )
            result = compose_plan(self, intent, requested_by, change_ticket, warnings=())
        else:
            result = self._routine(intent, requested_by, change_ticket)
        result = self._finish(result, started)
        self.cache.put(key, result)
        return result

    # -- routines first -----------------------------------------------------------------------

    def _routine(self, intent: str, requested_by: str, ticket: str | None) -> LLMPlanResult:
        selection = select(
            applicable(self.catalog.routines, self.facts),
            intent,
            self.inventory,
            is_write=lambda r: writes(r, self._effect),
        )
        calls: list[Completion] = []
        if selection.clause is None:
            if not self._may_compose(selection):
                raise refuse_selection(selection, unserved(self.catalog.routines, self.facts))
            return compose_plan(
                self,
                intent,
                requested_by,
                ticket,
                warnings=(
                    "no routine fits this intent: the plan was composed from actors, is "
                    "marked novel, and needs review and approval like any other",
                ),
            )
        # The model sees the clause being planned, not text cut out or excluded around it.
        asked = selection.clause.text
        candidates = list(selection.candidates)
        fitting = [c for c in candidates if c.score >= MIN_SCORE][:MAX_CANDIDATES] or [
            candidates[0]
        ]
        # Entities are never left to a model: a routine whose entity the clause does not
        # name cannot be planned, so it is no choice to put to the model.
        fitting = [c for c in fitting if not _entity_missing(c)] or fitting[:1]
        chosen, how = fitting[0], "grounding"
        rankings: list[Ranking] = []
        close = len(fitting) > 1 and fitting[0].score - fitting[1].score < CLEAR_LEAD
        if close and self.scorer is not None:
            margin = routine_margin(self.backend.model)
            # Ranking, not generation: each eligible routine said as a sentence, scored.
            ranking = rank_by_model(
                self.scorer,
                prompt=_ask_prompt(asked),
                options={c.routine.name: _say_routine(c) for c in fitting},
                decides="routine",
                threshold=margin,
                baseline=_ask_prompt(""),
            )
            rankings.append(ranking)
            if ranking.chosen is not None:
                chosen = next(c for c in fitting if c.routine.name == ranking.chosen)
                how = f"model ranking (margin {ranking.margin:.2f})"
            elif fitting[0].score > fitting[1].score:
                how = f"ranker (the model's margin {ranking.margin:.2f} is below {margin})"
            else:
                raise AmbiguousRoutine(
                    f"several routines fit {asked!r} equally well: "
                    + ", ".join(c.routine.name for c in fitting)
                    + f" (the model leans to {ranking.best} by {ranking.margin:.2f}, below"
                    f" its margin {margin})",
                    routines=tuple(c.routine.name for c in fitting),
                    hint="say which, or use --routine NAME",
                )
        elif close:
            picked, call = self._choose(asked, fitting)
            calls.append(call)
            # "none" from the model, when the ranker found close routines, is not a reason to
            # compose something untested: the ranker's best stands, and says so.
            chosen, how = (
                (picked, "model")
                if picked is not None
                else (fitting[0], "ranker (the model answered none)")
            )
        routine = chosen.routine
        grounding = chosen.grounding
        values = dict(grounding.values)
        unresolved = [n for n in grounding.notes if n.param not in values]
        # Entities are left to a model only among those the clause itself points at
        # ("array-02's a controller": array-02-a or array-02-b), and only above a margin.
        blocked = [n for n in unresolved if routine.params[n.param].entity is not None]
        if len(blocked) == 1 and self.scorer is not None:
            picked_note, entity_ranking = self._rank_entity(asked, routine, blocked[0])
            if entity_ranking is not None:
                rankings.append(entity_ranking)
            if picked_note is not None:
                values[picked_note.param] = picked_note.value
                grounding = Grounding(
                    routine=routine.name,
                    values=values,
                    notes=tuple(
                        picked_note if n.param == picked_note.param else n for n in grounding.notes
                    ),
                )
                unresolved = [n for n in grounding.notes if n.param not in values]
                blocked = []
        # Values offered as alternatives ("to 5.2.1 or 5.3.0") are the requester's to pick.
        blocked += [
            n
            for n in unresolved
            if n.source == "ambiguous" and routine.params[n.param].entity is None
        ]
        if blocked:
            raise InputError(
                f"routine {routine.name} fits, but the intent does not say:\n  "
                + "\n  ".join(f"{n.param}: {n.detail}" for n in blocked),
                hint="name it in the intent; the planner never picks an entity for you",
            )
        notes = list(grounding.notes)
        attempts, feedback = 0, ""
        while True:
            attempts += 1
            if unresolved:
                filled, call = self._fill(asked, routine, unresolved, values, feedback)
                calls.append(call)
                # A number the intent gives for another parameter ("4 spines") is theirs.
                taken = [
                    n.value
                    for n in grounding.notes
                    if n.source == "intent" and isinstance(n.value, int | float)
                ]
                invented = {
                    k: v
                    for k, v in filled.items()
                    if not _traceable(v, routine.params[k], asked, taken=taken)
                }
                if invented:
                    # A count or a version the intent does not contain is made up: the
                    # requester must say it, not the model.
                    raise InputError(
                        f"routine {routine.name} fits, but the intent does not say:\n  "
                        + "\n  ".join(
                            f"{k}: {routine.params[k].description} (the model proposed "
                            f"{v!r}, which the intent does not contain)"
                            for k, v in invented.items()
                        ),
                        hint="say it in the intent",
                    )
                values.update(filled)
                notes = [
                    GroundingNote(
                        param=n.param,
                        value=filled[n.param],
                        source="model",
                        detail="filled by the model under the parameter's schema",
                    )
                    if n.param in filled
                    else n
                    for n in notes
                ]
            try:
                plan = routine.expand(
                    values,
                    facts=self.facts,
                    inventory=self.inventory,
                    requested_by=requested_by,
                    change_ticket=ticket,
                )
            except InputError as e:
                if not unresolved or attempts >= self.max_attempts:
                    raise
                feedback = e.message
                continue
            plan = plan.model_copy(update={"intent": intent})
            if self.basis is not None:  # hashed: approvals cover the facts it relied on
                plan = plan.model_copy(update={"basis": self.basis(plan.to_document())})
            report = validate(
                plan.to_document(),
                catalog=self.catalog,
                inventory=self.inventory,
                policy=self.policy,
            )
            if report.ok:
                break
            if not unresolved or attempts >= self.max_attempts:
                raise PlanInvalid(report, source=f"routine {routine.name}")
            feedback = problems_text(report)
        info = {
            "path": "routine",
            "routine": routine.name,
            "routine_chosen_by": how,
            "params": values,
            "grounding": [note_document(n) for n in notes],
            "candidates": [
                {"routine": c.routine.name, "score": c.score} for c in candidates[:MAX_CANDIDATES]
            ],
        }
        if rankings:  # what the model decided and how sure it was (metadata, not hashed)
            info["model_ranking"] = [r.to_document() for r in rankings]
        if selection.not_planned:  # in the file, for whoever reviews it (not hashed)
            info["not_planned"] = [n.to_document() for n in selection.not_planned]
        return LLMPlanResult(
            plan=plan.model_copy(
                update={"planner": planner_info(self.backend, calls, attempts, info)}
            ),
            report=report,
            path="routine",
            routine=routine,
            grounding=Grounding(routine=routine.name, values=values, notes=tuple(notes)),
            calls=tuple(calls),
            attempts=attempts,
            not_planned=selection.not_planned,
        )

    def _effect(self, actor: str) -> str:
        return self.catalog.get(actor).effect if actor in self.catalog else "write"

    def _may_compose(self, selection: Selection) -> bool:
        """Compose from actors only for a plain request whose verb names an actor ("echo
        the message"): never for a question, a negation, steered text, or a verb no actor
        has ("delete all LUNs")."""
        reading = selection.reading
        if reading.injected or any(c.kind in ("negated", "question") for c in reading.clauses):
            return False
        # An action a routine declares is done by that routine or not at all: when it refused
        # ("upgrade esx-04": the upgrade acts on arrays, not hosts), a composed plan would be
        # an untested way around its refusal.
        declared = [a for r in self.catalog.routines.values() for a in actions_of(r)]
        if any(action_matches(a, c.text) for c in reading.clauses for a in declared):
            return False
        verbs = {stem(a.name.rsplit(".", 1)[-1].split("_")[0]) for a in self.catalog}
        return any((words := tokens(c.text)) and stem(words[0]) in verbs for c in reading.clauses)

    def _rank_entity(
        self, asked: str, routine: Routine, note: GroundingNote
    ) -> tuple[GroundingNote | None, Ranking | None]:
        """The entity the model ranks first among those the clause points at, as a grounding
        note, when it leads by ENTITY_MARGIN; (None, ranking) below it; (None, None) when
        the clause points at fewer than two (then there is nothing to rank)."""
        assert self.scorer is not None
        entity = routine.params[note.param].entity
        assert entity is not None
        # Several names said ("array-01 and array-02") are the intent's gap, not a choice.
        options = entity_options(asked, note, entity, self.inventory)
        if note.source != "missing" or len(options) < 2:
            return None, None
        ranking = rank_by_model(
            self.scorer,
            prompt=_entity_prompt(asked, entity),
            options={o: f" {o}" for o in options},
            decides=note.param,
            threshold=ENTITY_MARGIN,
            baseline=_entity_prompt("", entity),
        )
        if ranking.chosen is None:
            return None, ranking
        return (
            GroundingNote(
                param=note.param,
                value=ranking.chosen,
                source="model",
                detail=f"ranked first by the model among {', '.join(options)} "
                f"(margin {ranking.margin:.2f})",
            ),
            ranking,
        )

    def _choose(
        self, intent: str, fitting: Sequence[Candidate]
    ) -> tuple[Candidate | None, Completion]:
        names = [c.routine.name for c in fitting]
        listing = "\n".join(
            f"- {c.routine.name}: {c.routine.description}"
            + (f' (e.g. "{c.routine.examples[0]}")' if c.routine.examples else "")
            for c in fitting
        )
        messages: list[Message] = [
            {
                "role": "system",
                "content": "You map an infrastructure request to the one workflow that does it. "
                'Answer only JSON: {"routine": NAME}, or {"routine": "none"} if none fits.',
            },
            {"role": "user", "content": f"Workflows:\n{listing}\n\nRequest: {intent}"},
        ]
        schema = {
            "type": "object",
            "properties": {"routine": {"type": "string", "enum": [*names, "none"]}},
            "required": ["routine"],
            "additionalProperties": False,
        }
        call = self.backend.complete(messages, schema=schema, max_tokens=48)
        picked = json_object(call)["routine"]
        chosen = next((c for c in fitting if c.routine.name == picked), None)
        return chosen, call

    def _fill(
        self,
        intent: str,
        routine: Routine,
        open_params: Sequence[GroundingNote],
        known: Mapping[str, Any],
        feedback: str,
    ) -> tuple[dict[str, Any], Completion]:
        full = routine.params_schema()["properties"]
        wanted = {n.param: full[n.param] for n in open_params}
        schema = {
            "type": "object",
            "properties": wanted,
            "required": sorted(wanted),
            "additionalProperties": False,
        }
        described = "\n".join(f"- {name}: {routine.params[name].description}" for name in wanted)
        text = (
            f"Request: {intent}\nWorkflow: {routine.name} ({routine.description})\n"
            f"Already known: {json.dumps(dict(known), sort_keys=True)}\n"
            f"Give the values the request means for:\n{described}"
        )
        if feedback:
            text += f"\nYour previous answer was refused: {feedback}\nCorrect it."
        messages: list[Message] = [
            {
                "role": "system",
                "content": "You fill workflow parameters from a request. Use only what the "
                "request says. Answer only JSON.",
            },
            {"role": "user", "content": text},
        ]
        call = self.backend.complete(messages, schema=schema, max_tokens=128)
        answer = json_object(call)
        return {k: answer[k] for k in wanted if k in answer}, call

    # -- metadata (composition: _compose; the plan cache: _plan_cache) ------------------------

    def _finish(self, result: LLMPlanResult, started: float) -> LLMPlanResult:
        info = result.plan.planner
        assert info is not None
        updated = info.model_copy(update={"latency_s": round(time.perf_counter() - started, 4)})
        return LLMPlanResult(
            plan=result.plan.model_copy(update={"planner": updated}),
            report=result.report,
            path=result.path,
            routine=result.routine,
            grounding=result.grounding,
            calls=result.calls,
            attempts=result.attempts,
            warnings=result.warnings,
            not_planned=result.not_planned,
        )


def _ask_prompt(asked: str) -> str:
    return f'An engineer asked: "{asked}"\nThat is a request to'


def _entity_prompt(asked: str, entity: str) -> str:
    return f'An engineer asked: "{asked}"\nThe {entity} they mean is'


def _say_routine(c: Candidate) -> str:
    """The routine's intent sentence with the values grounding read ("check the health of
    array-02"); a value it did not read stays a placeholder word ("host")."""
    values = {p: c.grounding.values.get(p, p) for p in c.routine.params}
    try:
        text = c.routine.intent.format(**values)
    except (KeyError, IndexError, ValueError):
        text = c.routine.description
    return f" {text[:1].lower()}{text[1:].rstrip('.')}."


def _entity_missing(c: Candidate) -> bool:
    return any(c.routine.params[p].entity is not None for p in c.grounding.missing)


def _traceable(value: Any, param: Any, intent: str, *, taken: Sequence[Any] = ()) -> bool:
    """Whether a model-filled value can be found in the intent: numbers as digits or words,
    not already given to another parameter (`taken`); strings (versions) as written or
    spoken, as a whole ("5.2.1" is not in "5.2.1.4") and not as a start or a bound ("from
    5.1.0", "at least 5.2.1"). Enum choices are bounded by the schema."""
    if param.enum is not None or isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        said = sum(1 for m in number_mentions(intent) if m.value == value)
        return said > sum(1 for v in taken if v == value)
    if isinstance(value, str):
        return said_as_target(value, intent)
    return False
