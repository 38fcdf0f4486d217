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

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planactor._errors import InputError, PlanInvalid
from planactor.catalog import Catalog, Routine, origin_problem
from planactor.plan import BasisReader, Inventory, Plan, PlannerInfo, canonical_json
from planactor.planner._backends import Backend, BackendError, Completion, Message
from planactor.planner._clauses import NotPlanned, read_intent, stem
from planactor.planner._grammar import fit_compose, sequence
from planactor.planner._grounding import (
    Grounding,
    GroundingNote,
    number_mentions,
    spoken_numbers,
    tokens,
)
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
    applicable,
    entity_options,
    refuse_selection,
    select,
    writes,
)
from planactor.validate import Policy, ValidationReport, validate

__all__ = ["LLMPlanResult", "LLMPlanner", "plan_cache_key"]

# The ranker is trusted alone when its best routine leads clearly; else the model decides.
CLEAR_LEAD = 1.0
MAX_CANDIDATES = 4
MAX_COMPOSED_STEPS = 8
COMPOSE_TOKENS = 2048  # the composed answer's budget: its grammar is fitted to it


@dataclass(frozen=True, slots=True, kw_only=True)
class LLMPlanResult:
    plan: Plan
    report: ValidationReport
    path: str  # "routine" or "compose"
    routine: Routine | None
    grounding: Grounding | None
    calls: tuple[Completion, ...] = ()
    attempts: int = 1
    cached: bool = False
    warnings: tuple[str, ...] = field(default=())
    not_planned: tuple[NotPlanned, ...] = field(default=())


def _scorer_of(backend: Backend) -> Scorer | None:
    return backend if isinstance(backend, Scorer) else None


def plan_cache_key(**parts: Any) -> str:
    return hashlib.sha256(canonical_json(parts)).hexdigest()


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
        key = self._cache_key(intent, requested_by, change_ticket, compose)
        cached = self._cached(key)
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
            result = self._compose(intent, requested_by, change_ticket, warnings=())
        else:
            result = self._routine(intent, requested_by, change_ticket)
        result = self._finish(result, started)
        self._store(key, result)
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
                raise refuse_selection(selection)
            return self._compose(
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
                raise InputError(
                    f"several routines fit {asked!r} equally well: "
                    + ", ".join(c.routine.name for c in fitting)
                    + f" (the model leans to {ranking.best} by {ranking.margin:.2f}, below"
                    f" its margin {margin})",
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
                invented = {
                    k: v for k, v in filled.items() if not _traceable(v, routine.params[k], asked)
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
            feedback = _problems(report)
        info = {
            "path": "routine",
            "routine": routine.name,
            "routine_chosen_by": how,
            "params": values,
            "grounding": [_note(n) for n in notes],
            "candidates": [
                {"routine": c.routine.name, "score": c.score} for c in candidates[:MAX_CANDIDATES]
            ],
        }
        if rankings:  # what the model decided and how sure it was (metadata, not hashed)
            info["model_ranking"] = [r.to_document() for r in rankings]
        if selection.not_planned:  # in the file, for whoever reviews it (not hashed)
            info["not_planned"] = [n.to_document() for n in selection.not_planned]
        return LLMPlanResult(
            plan=plan.model_copy(update={"planner": _info(self.backend, calls, attempts, info)}),
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
        call = self._call(messages, schema, max_tokens=48)
        picked = _json_object(call)["routine"]
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
        call = self._call(messages, schema, max_tokens=128)
        answer = _json_object(call)
        return {k: answer[k] for k in wanted if k in answer}, call

    # -- composition second -------------------------------------------------------------------

    def _compose(
        self, intent: str, requested_by: str, ticket: str | None, *, warnings: Sequence[str]
    ) -> LLMPlanResult:
        try:
            # Each actor its own arguments, entities from the inventory, lengths bounded:
            # the answer fits its token budget and names only what exists.
            fitted = fit_compose(
                self._relevant_actors(intent),
                self.inventory,
                intent,
                max_steps=MAX_COMPOSED_STEPS,
                budget=COMPOSE_TOKENS,
            )
        except ValueError as e:
            raise InputError(
                f"cannot compose a plan for this request: {e}",
                hint="use a routine (planactor routines), or write the plan by hand",
            ) from None
        actors = [a for a in self._relevant_actors(intent) if a.name not in fitted.left_out]
        listing = "\n".join(
            f"- {a.name} ({a.effect}): {a.description} args: "
            + json.dumps(_arg_summary(a.input_schema), sort_keys=True)
            for a in actors
        )
        schema = fitted.schema
        calls: list[Completion] = []
        feedback = ""
        report: ValidationReport | None = None
        for attempt in range(1, self.max_attempts + 1):
            text = (
                f"Request: {intent}\nActors you may call (and nothing else):\n{listing}\n"
                "Write the steps in the order they must run: each an actor and its args. Use "
                "only names that appear in the request or in the inventory. At most "
                f"{fitted.max_steps} steps."
            )
            if self.inventory is not None:
                text += "\nInventory: " + json.dumps(
                    {k: sorted(v)[:20] for k, v in self.inventory.entities.items()},
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
                call = self._call(messages, schema, max_tokens=fitted.max_tokens)
            except BackendError as e:
                # Cut off: a bounded second chance with a shorter brief.
                if attempt >= self.max_attempts:
                    raise
                feedback = f"{e.message}; answer with at most {fitted.max_steps} short steps"
                continue
            calls.append(call)  # recorded even when its text turns out unusable
            try:
                steps = _json_object(call).get("steps")
            except BackendError as e:
                if attempt >= self.max_attempts:
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
            basis = self.basis(document) if self.basis is not None else None
            if basis is not None:
                document["basis"] = basis.to_document()
            report = validate(
                document, catalog=self.catalog, inventory=self.inventory, policy=self.policy
            )
            if report.ok:
                info = {"path": "compose", "novel": True}
                plan = Plan.model_validate(
                    {**document, "planner": _info(self.backend, calls, attempt, info)}
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
            feedback = _problems(report)
        assert report is not None
        raise PlanInvalid(report, source=f"composed plan after {self.max_attempts} attempts")

    def _relevant_actors(self, intent: str) -> list[Any]:
        said = set(tokens(intent))
        scored = []
        for a in self.catalog:
            words = set(tokens(f"{a.name.replace('.', ' ').replace('_', ' ')} {a.description}"))
            scored.append((-len(said & words), a.name, a))
        return [a for _, _, a in sorted(scored)[:12]]

    # -- calls, cache, metadata ---------------------------------------------------------------

    def _call(
        self, messages: list[Message], schema: Mapping[str, Any], *, max_tokens: int
    ) -> Completion:
        try:
            return self.backend.complete(messages, schema=schema, max_tokens=max_tokens)
        except BackendError:
            raise
        except InputError:
            raise

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

    def _cache_key(self, intent: str, requested_by: str, ticket: str | None, compose: bool) -> str:
        return plan_cache_key(
            intent=intent,
            requested_by=requested_by,
            ticket=ticket,
            compose=compose,
            catalog=self.catalog.fingerprint,
            routines=sorted(
                (n, r.model_dump(mode="json")) for n, r in self.catalog.routines.items()
            ),
            inventory=self.inventory.fingerprint if self.inventory is not None else None,
            facts=self.facts,
            backend=self.backend.name,
            model=self.backend.model,
        )

    def _cacheable(self) -> bool:
        # A server's default model is known only after a call: without a name, plans from
        # two different models would share entries.
        return self.cache_dir is not None and bool(self.backend.model)

    def _cached(self, key: str) -> LLMPlanResult | None:
        if self.cache_dir is None or not self._cacheable():
            return None
        path = self.cache_dir / f"{key}.json"
        try:
            doc = json.loads(path.read_text("utf-8"))
            plan = Plan.model_validate(doc["plan"])
            notes_ok = doc.get("grounding") is None or all(
                isinstance(n, dict) and set(n) == {"param", "value", "source", "detail"}
                for n in doc["grounding"]
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # no entry, or a damaged one: plan afresh
        if not notes_ok:
            return None
        if self.basis is not None and plan.basis != self.basis(plan.to_document()):
            return None  # made from facts the lab no longer holds: plan afresh
        # The catalog or policy may have changed how it validates: check again, always.
        report = validate(
            plan.to_document(), catalog=self.catalog, inventory=self.inventory, policy=self.policy
        )
        if not report.ok:
            return None
        info = plan.planner
        if info is not None:
            plan = plan.model_copy(update={"planner": info.model_copy(update={"cache": "hit"})})
        routine = self.catalog.routines.get(str(doc.get("routine"))) if doc.get("routine") else None
        if doc.get("routine") and origin_problem(plan, self.catalog.routines) is not None:
            # An entry from before plans recorded their origin, or edited since: a routine
            # plan policy would not recognise as the routine's. Plan afresh.
            return None
        grounding = None
        if routine is not None and isinstance(doc.get("grounding"), list):
            notes = tuple(GroundingNote(**n) for n in doc["grounding"])
            values = {n.param: n.value for n in notes if n.value is not None}
            grounding = Grounding(routine=routine.name, values=values, notes=notes)
        return LLMPlanResult(
            plan=plan,
            report=report,
            path=str(doc.get("path", "routine")),
            routine=routine,
            grounding=grounding,
            attempts=int(doc.get("attempts", 1)),
            cached=True,
            warnings=tuple(doc.get("warnings", ())),
            not_planned=tuple(
                NotPlanned(clause=str(n["clause"]), reason=str(n["reason"]))
                for n in doc.get("not_planned", ())
            ),
        )

    def _store(self, key: str, result: LLMPlanResult) -> None:
        if self.cache_dir is None or not self._cacheable():
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path = self.cache_dir / f"{key}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "plan": result.plan.to_document(),
                    "path": result.path,
                    "routine": result.routine.name if result.routine else None,
                    "attempts": result.attempts,
                    "warnings": list(result.warnings),
                    "not_planned": [n.to_document() for n in result.not_planned],
                    "grounding": [_note(n) for n in result.grounding.notes]
                    if result.grounding is not None
                    else None,
                }
            ),
            "utf-8",
        )
        tmp.replace(path)


def _info(
    backend: Backend, calls: Sequence[Completion], attempts: int, extra: Mapping[str, Any]
) -> PlannerInfo:
    return PlannerInfo(
        backend=backend.name,
        model=backend.model,
        prompt_hash=calls[-1].prompt_hash if calls else None,
        attempts=attempts,
        tokens_in=sum(c.tokens_in for c in calls),
        tokens_out=sum(c.tokens_out for c in calls),
        latency_s=round(sum(c.latency_s for c in calls), 4),
        cost_usd=round(sum(c.cost_usd for c in calls), 6),
        llm_calls=[c.to_document() for c in calls],
        **extra,
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


def _traceable(value: Any, param: Any, intent: str) -> bool:
    """Whether a model-filled value can be found in the intent: numbers as digits or words,
    strings (versions) as written or spoken. Enum choices are bounded by the schema."""
    if param.enum is not None or isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return any(m.value == value for m in number_mentions(intent))
    if isinstance(value, str):
        text = value.lower()
        return text in intent.lower() or text in spoken_numbers(intent).lower()
    return False


def _note(n: GroundingNote) -> dict[str, Any]:
    return {"param": n.param, "value": n.value, "source": n.source, "detail": n.detail}


def _problems(report: ValidationReport) -> str:
    return "\n".join(f"- {p.location}: {p.message}" for p in report.errors[:10])


def _json_object(call: Completion) -> dict[str, Any]:
    try:
        value = json.loads(call.text)
    except ValueError:
        raise BackendError(
            f"{call.backend} ({call.model}) answered with text that is not JSON: "
            f"{call.text[:120]!r}",
            backend=call.backend,
        ) from None
    if not isinstance(value, dict):
        raise BackendError(
            f"{call.backend} ({call.model}) answered {type(value).__name__}, not a JSON object",
            backend=call.backend,
        )
    return value


def _arg_summary(schema: Mapping[str, Any]) -> dict[str, str]:
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    out = {}
    for name, prop in props.items():
        kind = prop.get("type", "any") if isinstance(prop, dict) else "any"
        out[name] = f"{kind}{'' if name in required else '?'}"
    return out
