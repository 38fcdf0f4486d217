"""`ask`: a read-only diagnosis loop (ReAct) over the catalog's read actors.

Each turn the model sees the question, the read actors it may call (name, description,
arguments) and the observations so far, and answers under a JSON-schema grammar built from
those actors: one read actor and its arguments (entity fields limited to the inventory's
names), or an answer citing observation ids. A step budget and a token budget bound it.

Everything is journaled. The ask is a run of its own (`kind: ask`, an empty plan, so replay
holds: it only ever records `ask.*` info events and its end): its `ask.turn` events keep
each model output as it came back and what the harness made of it, its `ask.observation`
events what each read observed, its `ask.answer` how it ended. Each chosen action runs
through the engine as a read-only run of its own (`kind: ask`, `ask: RUN`), and its head
hash is chained into the transcript. The engine refuses, before any call, a step whose
actor writes in such a run, whatever the model emitted: the schema keeps writes out, the
engine makes them impossible.

An answer that cites no observation is marked unsupported; when the budgets are spent or
the model keeps failing, the ask ends undecided and says so: it never invents an answer.
LLM skills are not offered: an observation is a fact read by code, not another model's say.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from planactor._errors import BackendError, InputError, PlanInvalid
from planactor.catalog import ENTITY_KEY, Actor, Catalog
from planactor.engine import Engine
from planactor.journal import EventKind, Journal
from planactor.plan import Inventory, Plan
from planactor.planner import Backend, Message, grounded, tokens
from planactor.validate import validate_plan

__all__ = [
    "DEFAULT_MAX_STEPS",
    "DEFAULT_MAX_TOKENS",
    "AskResult",
    "AskTurn",
    "Observation",
    "ask",
    "ask_schema",
    "read_actors",
]

DEFAULT_MAX_STEPS = 6
DEFAULT_MAX_TOKENS = 24_000  # prompt and answer tokens of every turn together
MAX_OFFERED = 6  # read actors shown to the model: a small model reads a short list better
TURN_TOKENS = 160  # one turn's answer: an action and its arguments, or a short answer
OBSERVATION_CHARS = 700  # how much of each observation goes back into the prompt
ANSWER_CHARS = 300

Verdict = Literal["supported", "unsupported", "undecided"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AskTurn:
    turn: int
    raw: str
    choice: Literal["action", "answer", "invalid"]
    action: str | None = None
    args: dict[str, Any] | None = None
    problem: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "turn": self.turn,
            "raw": self.raw,
            "choice": self.choice,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
        }
        if self.action is not None:
            doc["action"] = self.action
            doc["args"] = self.args or {}
        if self.problem is not None:
            doc["problem"] = self.problem
        return doc


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    id: str  # what answers cite
    actor: str
    args: dict[str, Any]
    status: str  # succeeded, failed, or refused (never reached a run)
    output: dict[str, Any] | None
    error: str | None = None
    run: str | None = None
    run_head: str | None = None

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "actor": self.actor,
            "args": self.args,
            "status": self.status,
            "output": self.output,
        }
        if self.error is not None:
            doc["error"] = self.error
        if self.run is not None:
            doc["run"] = self.run
            doc["run_head"] = self.run_head
        return doc


@dataclass(frozen=True, slots=True, kw_only=True)
class AskResult:
    """How an ask ended, with its whole transcript; `run_id` is its journaled run."""

    run_id: str
    question: str
    verdict: Verdict
    answer: str | None
    cites: tuple[str, ...]
    reason: str | None
    turns: tuple[AskTurn, ...] = ()
    observations: tuple[Observation, ...] = ()
    backend: str = ""
    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0
    offered: tuple[str, ...] = field(default=())

    @property
    def exit_code(self) -> int:
        """0 answered with citations; 1 otherwise (unsupported or undecided)."""
        return 0 if self.verdict == "supported" else 1

    def to_document(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "question": self.question,
            "verdict": self.verdict,
            "answer": self.answer,
            "cites": list(self.cites),
            "reason": self.reason,
            "offered": list(self.offered),
            "turns": [t.to_document() for t in self.turns],
            "observations": [o.to_document() for o in self.observations],
            "backend": self.backend,
            "model": self.model,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "latency_s": round(self.latency_s, 3),
        }


# -- what the model is offered ----------------------------------------------------------------


def _entity_kinds(schema: Any) -> set[str]:
    if isinstance(schema, Mapping):
        found = {schema[ENTITY_KEY]} if isinstance(schema.get(ENTITY_KEY), str) else set()
        for v in schema.values():
            found |= _entity_kinds(v)
        return found
    if isinstance(schema, list):
        return {k for v in schema for k in _entity_kinds(v)}
    return set()


def read_actors(
    catalog: Catalog, question: str, inventory: Inventory | None, *, limit: int = MAX_OFFERED
) -> list[Actor]:
    """The read actors offered for `question`: never a write, never an LLM skill.

    With an inventory, only actors about its kinds of entities (what the lab can answer);
    ranked by the words they share with the question, then by name.
    """
    said = set(tokens(question))
    known = set(inventory.entities) if inventory is not None else None
    scored = []
    for a in catalog:
        if a.effect != "read" or a.probabilistic:
            continue
        kinds = _entity_kinds(a.input_schema)
        if known is not None and not (kinds and kinds <= known):
            continue
        words = set(tokens(f"{a.name.replace('.', ' ').replace('_', ' ')} {a.description}"))
        scored.append((-len(said & words), a.name, a))
    return [a for _, _, a in sorted(scored)[:limit]]


def ask_schema(
    actors: Sequence[Actor],
    inventory: Inventory | None,
    observed: Sequence[str],
    *,
    question: str = "",
    answer_only: bool = False,
) -> dict[str, Any]:
    """The grammar of one turn: `{"action", "args"}` for an offered actor, or an answer."""
    cites: dict[str, Any] = (
        {"type": "array", "items": {"type": "string", "enum": list(observed)}, "maxItems": 4}
        if observed
        else {"type": "array", "maxItems": 0}
    )
    answer = {
        "type": "object",
        "properties": {"answer": {"type": "string", "maxLength": ANSWER_CHARS}, "cites": cites},
        "required": ["answer", "cites"],
        "additionalProperties": False,
    }
    if answer_only:
        return answer
    options: list[dict[str, Any]] = [
        {
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": [a.name]},
                "args": grounded(a.input_schema, inventory, question),
            },
            "required": ["action", "args"],
            "additionalProperties": False,
        }
        for a in actors
    ]
    return {"anyOf": [*options, answer]}


def _arguments(actor: Actor) -> str:
    props = actor.input_schema.get("properties", {})
    required = set(actor.input_schema.get("required", []))
    parts = []
    for name, prop in props.items():
        kinds = _entity_kinds(prop)
        what = f"{next(iter(kinds))} name" if kinds else prop.get("type", "value")
        parts.append(f"{name}{'' if name in required else '?'}: {what}")
    return "{" + ", ".join(parts) + "}"


def _clip(value: Any, limit: int) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _messages(
    question: str,
    actors: Sequence[Actor],
    inventory: Inventory | None,
    observations: Sequence[Observation],
    feedback: str | None,
    answer_only: bool,
) -> list[Message]:
    lines = [f"Question: {question}", "Read-only tools:"]
    lines += [f"- {a.name}: {a.description} args {_arguments(a)}" for a in actors]
    if inventory is not None:
        lines.append(
            "Inventory: "
            + json.dumps({k: sorted(v)[:20] for k, v in inventory.entities.items()}, sort_keys=True)
        )
    if observations:
        lines.append("Observations so far:")
        for o in observations:
            seen = o.output if o.error is None else {"error": o.error}
            lines.append(
                f"[{o.id}] {o.actor} {_clip(o.args, 200)} -> {_clip(seen, OBSERVATION_CHARS)}"
            )
    if feedback:
        lines.append(feedback)
    if answer_only:
        lines.append(
            "Now answer the question in one sentence from the observations, and cite the ids "
            "of the observations you used."
        )
    else:
        lines.append(
            'Call one tool: {"action": NAME, "args": {...}}, or, when the observations answer '
            'the question, answer: {"answer": TEXT, "cites": [the observation ids it rests on]}.'
        )
    return [
        {
            "role": "system",
            "content": "You diagnose infrastructure with read-only tools, one per turn, then "
            "answer from what they observed. Answer only JSON.",
        },
        {"role": "user", "content": "\n".join(lines)},
    ]


# -- the loop ---------------------------------------------------------------------------------


class _Transcript:
    """The ask's own run: an empty plan, so its record is only `ask.*` events and its end."""

    def __init__(self, journal: Journal, run_id: str, plan: Plan, data: Mapping[str, Any]):
        self.journal, self.run_id = journal, run_id
        journal.begin_run(
            run_id=run_id,
            plan=plan,
            dry_run=False,
            data={"dry_run": False, "parallel": 1, "steps": 0, **data},
        )
        journal.flush()

    def add(self, kind: EventKind, data: Mapping[str, Any]) -> None:
        self.journal.append(self.run_id, kind.value, data=data)
        self.journal.flush()

    def end(self) -> None:
        # The run itself succeeded whatever the verdict: the record is whole (replay agrees).
        self.journal.append(
            self.run_id, EventKind.RUN_SUCCEEDED.value, data={"status": "succeeded", "reason": None}
        )
        self.journal.set_status(self.run_id, "succeeded")
        self.journal.flush()


def _parse(text: str) -> tuple[str, dict[str, Any] | None, str | None]:
    """("action", {action, args}) or ("answer", {answer, cites}) or ("invalid", None, why)."""
    try:
        value = json.loads(text)
    except ValueError:
        return "invalid", None, "the output is not JSON"
    if not isinstance(value, dict):
        return "invalid", None, "the output is not a JSON object"
    if isinstance(value.get("action"), str):
        args = value.get("args", {})
        if not isinstance(args, dict):
            return "invalid", None, "args is not an object"
        return "action", {"action": value["action"], "args": args}, None
    if isinstance(value.get("answer"), str):
        cites = value.get("cites", [])
        if not isinstance(cites, list) or not all(isinstance(c, str) for c in cites):
            return "invalid", None, "cites is not a list of observation ids"
        return "answer", {"answer": value["answer"].strip(), "cites": cites}, None
    return "invalid", None, "neither an action nor an answer"


def ask(
    question: str,
    *,
    backend: Backend,
    catalog: Catalog,
    journal: Journal,
    inventory: Inventory | None = None,
    resources: Mapping[str, object] | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    requested_by: str = "ask",
    run_id: str | None = None,
    diagnoses: str | None = None,
) -> AskResult:
    """Answer `question` from read-only observations, or say that it cannot.

    `resources` are what the read actors use (`lab_resources(lab)`); the journal keeps the
    transcript (the returned `run_id`) and every action's read-only run. `diagnoses` links
    the transcript to the paused run it looks at (`recover --diagnose`), in its first event.
    """
    question = question.strip()
    if not question:
        raise InputError(
            "the question is empty", hint='planactor ask "is any host down to one path?"'
        )
    if max_steps < 1:
        raise InputError(f"--max-steps must be at least 1, not {max_steps}")
    if max_tokens < 1:
        raise InputError(f"--max-tokens must be at least 1, not {max_tokens}")
    started = time.perf_counter()
    run_id = run_id or "ask-" + uuid.uuid4().hex[:12]
    actors = read_actors(catalog, question, inventory)
    if not actors:
        raise InputError(
            "no read actor can answer questions about this inventory",
            hint="point --lab at a lab, or install a pack with read actors",
        )
    engine = Engine(catalog=catalog, journal=journal, resources=resources)
    record = _Transcript(
        journal,
        run_id,
        Plan.model_validate(
            {
                "api_version": "planactor/v1",
                "intent": question,
                "requested_by": requested_by,
                "steps": [],
            }
        ),
        {
            "kind": "ask",
            "read_only": True,
            "question": question,
            "max_steps": max_steps,
            "max_tokens": max_tokens,
            "backend": backend.name,
            "model": backend.model,
            "offered": [a.name for a in actors],
            **({"diagnoses": diagnoses} if diagnoses is not None else {}),
        },
    )
    turns: list[AskTurn] = []
    observations: list[Observation] = []
    spent_in = spent_out = 0
    feedback: str | None = None
    stale: set[str] = set()
    verdict: Verdict = "undecided"
    answer: str | None = None
    cites: list[str] = []
    reason: str | None = None
    while True:
        # An actor the model called twice with the same arguments is withdrawn: a small
        # model otherwise repeats itself until the budget is gone.
        offered = [a for a in actors if a.name not in stale]
        answer_only = len(observations) >= max_steps or not offered
        if len(turns) > max_steps + 1:
            reason = f"no answer within {len(turns)} model turns (step budget {max_steps})"
            break
        if spent_in + spent_out >= max_tokens:
            reason = f"the token budget ({max_tokens}) is spent"
            break
        observed = [o.id for o in observations if o.status == "succeeded"]
        schema = ask_schema(
            offered, inventory, observed, question=question, answer_only=answer_only
        )
        messages = _messages(question, offered, inventory, observations, feedback, answer_only)
        number = len(turns) + 1
        try:
            call = backend.complete(messages, schema=schema, max_tokens=TURN_TOKENS)
        except BackendError as e:
            turn = AskTurn(turn=number, raw="", choice="invalid", problem=e.message)
            turns.append(turn)
            record.add(EventKind.ASK_TURN, turn.to_document())
            reason = f"the model failed: {e.message}"
            break
        spent_in += call.tokens_in
        spent_out += call.tokens_out
        choice, value, problem = _parse(call.text)
        base = AskTurn(
            turn=number,
            raw=call.text,
            choice="invalid",
            tokens_in=call.tokens_in,
            tokens_out=call.tokens_out,
        )
        if choice == "invalid" or value is None:
            turn = replace(base, problem=problem)
            turns.append(turn)
            record.add(EventKind.ASK_TURN, turn.to_document())
            feedback = f"Your last output was refused: {problem}."
            continue
        if choice == "answer":
            turn = replace(base, choice="answer")
            turns.append(turn)
            record.add(EventKind.ASK_TURN, turn.to_document())
            answer = value["answer"] or None
            good = {o.id for o in observations if o.status == "succeeded"}
            cites = [c for c in dict.fromkeys(value["cites"]) if c in good]
            unknown = [c for c in value["cites"] if c not in good]
            if answer is None:
                verdict, reason = "undecided", "the model's answer is empty"
            elif cites:
                verdict = "supported"
                reason = f"cites unknown observations {unknown}, ignored" if unknown else None
            else:
                verdict = "unsupported"
                reason = "the answer cites no observation" + (
                    f" (it named {unknown}, which observed nothing)" if unknown else ""
                )
            break
        name, args = str(value["action"]), dict(value["args"])
        turn = replace(base, choice="action", action=name, args=args)
        turns.append(turn)
        record.add(EventKind.ASK_TURN, turn.to_document())
        repeat = next(
            (
                o
                for o in observations
                if o.actor == name and o.args == args and o.status == "succeeded"
            ),
            None,
        )
        if repeat is not None:
            # Looking again sees the same: no new run, and the model is told to move on.
            stale.add(name)
            feedback = (
                f"You already called {name} with these args: see [{repeat.id}]. "
                "Call another tool or answer."
            )
            observations.append(
                Observation(
                    id=f"obs-{len(observations) + 1}",
                    actor=name,
                    args=args,
                    status="refused",
                    output=None,
                    error=f"repeats {repeat.id}",
                )
            )
            record.add(EventKind.ASK_OBSERVATION, observations[-1].to_document())
            continue
        feedback = None
        obs = _observe(
            engine,
            catalog=catalog,
            inventory=inventory,
            question=question,
            requested_by=requested_by,
            ask_run=run_id,
            step_id=f"obs-{len(observations) + 1}",
            actor=name,
            args=args,
        )
        observations.append(obs)
        record.add(EventKind.ASK_OBSERVATION, obs.to_document())
    end: dict[str, Any] = {"verdict": verdict, "answer": answer, "cites": cites}
    if reason is not None:
        end["reason"] = reason
    record.add(EventKind.ASK_ANSWER, end)
    record.end()
    return AskResult(
        run_id=run_id,
        question=question,
        verdict=verdict,
        answer=answer,
        cites=tuple(cites),
        reason=reason,
        turns=tuple(turns),
        observations=tuple(observations),
        backend=backend.name,
        model=backend.model,
        tokens_in=spent_in,
        tokens_out=spent_out,
        latency_s=time.perf_counter() - started,
        offered=tuple(a.name for a in actors),
    )


def _observe(
    engine: Engine,
    *,
    catalog: Catalog,
    inventory: Inventory | None,
    question: str,
    requested_by: str,
    ask_run: str,
    step_id: str,
    actor: str,
    args: dict[str, Any],
) -> Observation:
    """Run one chosen action as a read-only engine run of its own."""
    # A failed read ends its run `failed` rather than pausing it for a person; a write the
    # engine refuses ends it `compensated` (failed, and nothing to undo: it never ran).
    known = catalog.get(actor) if actor in catalog else None
    on_failure = "continue" if known is not None and known.effect == "read" else "compensate"
    document = {
        "api_version": "planactor/v1",
        "intent": question,
        "requested_by": requested_by,
        "steps": [{"id": step_id, "actor": actor, "args": args, "on_failure": on_failure}],
    }
    try:
        checked = validate_plan(document, catalog=catalog, inventory=inventory)
    except PlanInvalid as e:
        problems = "; ".join(f"{p.location}: {p.message}" for p in e.report.errors)
        return Observation(
            id=step_id, actor=actor, args=args, status="refused", output=None, error=problems
        )
    run_id = f"{ask_run}-{step_id}"
    result = engine.run(
        checked,
        run_id=run_id,
        read_only=True,
        labels={"kind": "ask", "question": question, "ask": ask_run},
    )
    step = result.steps[step_id]
    error = None
    if step.state != "succeeded":
        failed = [e for e in engine.journal.events(run_id) if e.type == EventKind.STEP_FAILED.value]
        error = (
            f"{failed[-1].data['error']['kind']}: {failed[-1].data['error']['message']}"
            if failed
            else result.reason or step.state
        )
    return Observation(
        id=step_id,
        actor=actor,
        args=args,
        status="succeeded" if step.state == "succeeded" else "failed",
        output=step.output,
        error=error,
        run=run_id,
        run_head=engine.journal.head(run_id)[1],
    )
