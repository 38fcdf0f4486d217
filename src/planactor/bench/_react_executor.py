"""A pure-LLM executor (ReAct): the model picks every next action and it runs at once.

This is the contender `bench compounding` measures planner-actor against: no plan, no
validation of the whole, no engine deciding the order. Each turn the model sees the task,
every catalog actor that can act on the lab (reads and writes: the storage pack's, since
network and graph actors cannot touch a storage lab and would only lengthen the prompt),
the inventory and the last observations, and answers under the planner's own grammar for
one composed step (`planner.compose_schema`: one actor and its arguments, entity fields
limited to the inventory's names, free strings bounded) or `{"done": true}`. The chosen action runs
at once as a one-step run of the engine against the lab (its actor's own checks apply;
the whole-plan DU check of validation does not, because there is no whole plan), and its
output or error is the next observation. It ends when the model says done, when the step
budget is spent, when it repeats one action `STALL` times in a row (nothing new can come
of it: the writes are idempotent), or when the model fails.

Per step it records whether the action was *on the reference*: a step of the tested
routine's plan for the same task whose predecessors are all done (same actor, same
arguments once defaults are dropped). That is the per-step accuracy the benchmark reports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from planactor._errors import BackendError, PlanInvalid
from planactor.catalog import Actor, Catalog
from planactor.engine import Engine
from planactor.journal import EventKind, Journal
from planactor.lab import Lab, lab_resources
from planactor.plan import Inventory, Plan
from planactor.planner import Backend, Message, compose_schema
from planactor.validate import validate_plan

__all__ = [
    "STALL",
    "ReactResult",
    "ReactStep",
    "Reference",
    "lab_actors",
    "react_messages",
    "react_schema",
    "run_react",
]

STALL = 3  # the same action this many turns in a row ends the run
TURN_TOKENS = 160  # one action and its arguments
KEEP = 6  # observations shown back to the model (a small context must hold the prompt)
OBSERVATION_CHARS = 400

Choice = Literal["action", "done", "invalid"]


def _entity_kinds(schema: Any) -> set[str]:
    if isinstance(schema, Mapping):
        found = {schema["x-planactor-entity"]} if "x-planactor-entity" in schema else set()
        for v in schema.values():
            found |= _entity_kinds(v)
        return found
    if isinstance(schema, list):
        return {k for v in schema for k in _entity_kinds(v)}
    return set()


def lab_actors(catalog: Catalog, inventory: Inventory) -> list[Actor]:
    """Every actor, read or write, whose entities are all kinds this inventory has."""
    known = set(inventory.entities)
    return [
        a
        for a in sorted(catalog, key=lambda a: a.name)
        if not a.probabilistic and (kinds := _entity_kinds(a.input_schema)) and kinds <= known
    ]


def react_schema(actors: Sequence[Actor], inventory: Inventory, task: str) -> dict[str, Any]:
    """One turn's grammar: `{"actor", "args"}` for an offered actor, its entity arguments
    limited to the inventory's names and its free strings bounded, or `{"done": true}`."""
    # The planner's composition grammar for one step: the same narrowing the planner gets.
    steps = compose_schema(actors, inventory, task, max_steps=1)["properties"]["steps"]
    options = list(steps["items"]["anyOf"])
    done = {
        "type": "object",
        "properties": {"done": {"type": "boolean", "enum": [True]}},
        "required": ["done"],
        "additionalProperties": False,
    }
    return {"anyOf": [*options, done]}


class Reference:
    """The tested routine's plan for the task: which of its steps are ready to run now."""

    def __init__(self, plan: Plan, catalog: Catalog) -> None:
        self.catalog = catalog
        self.steps = {s.id: s for s in plan.steps}
        self.done: set[str] = set()

    def _normal(self, actor: str, args: Mapping[str, Any]) -> dict[str, Any]:
        props = self.catalog.get(actor).input_schema.get("properties", {})
        return {
            k: v
            for k, v in args.items()
            if not ("default" in props.get(k, {}) and props[k]["default"] == v)
        }

    def ready(self) -> list[str]:
        return [
            sid
            for sid, s in self.steps.items()
            if sid not in self.done and set(s.after) <= self.done
        ]

    def match(self, actor: str, args: Mapping[str, Any]) -> str | None:
        """The ready step `actor(args)` is, marked done; None when it is none of them."""
        if actor not in self.catalog:
            return None
        mine = self._normal(actor, args)
        for sid in self.ready():
            s = self.steps[sid]
            if s.actor == actor and self._normal(s.actor, s.args) == mine:
                self.done.add(sid)
                return sid
        return None

    @property
    def complete(self) -> bool:
        return self.done == set(self.steps)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactStep:
    """One model turn and what its action did."""

    turn: int
    choice: Choice
    raw: str
    action: str | None = None
    args: dict[str, Any] | None = None
    status: str | None = None  # succeeded, failed, refused (invalid arguments: never ran)
    error: str | None = None
    observed: str | None = None  # the output, clipped, as the model sees it next
    reference: str | None = None  # the reference step it was, if it was one that was ready
    du: int = 0  # DU violations the lab recorded while it ran
    tokens_in: int = 0
    tokens_out: int = 0

    @property
    def on_reference(self) -> bool:
        return self.reference is not None


@dataclass(kw_only=True)
class ReactResult:
    """How the executor ended and every step it took."""

    ended: str  # done, budget, stalled, model-failed
    steps: list[ReactStep] = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    usd: float = 0.0
    calls: int = 0
    reference_complete: bool = False
    error: str | None = None

    @property
    def actions(self) -> list[ReactStep]:
        """The turns that tried a step: an action, or a reply that is not one (a step gone
        wrong). A `done` turn is not a step of the workflow."""
        return [s for s in self.steps if s.choice != "done"]

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["steps"] = [asdict(s) for s in self.steps]
        return doc


def _arguments(actor: Actor) -> str:
    props = actor.input_schema.get("properties", {})
    required = set(actor.input_schema.get("required", []))
    return "{" + ", ".join(f"{n}{'' if n in required else '?'}" for n in props) + "}"


def _clip(value: Any, limit: int) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def react_messages(
    task: str,
    guidance: str,
    actors: Sequence[Actor],
    inventory: Inventory,
    steps: Sequence[ReactStep],
) -> list[Message]:
    """The prompt of one turn: a stable head (task, tools, inventory), then the last steps."""
    lines = [f"Task: {task}", guidance, "Tools (reads and writes; each call acts at once):"]
    lines += [f"- {a.name}: {a.description} args {_arguments(a)}" for a in actors]
    lines.append(
        "Inventory: "
        + json.dumps({k: sorted(v) for k, v in sorted(inventory.entities.items())}, sort_keys=True)
    )
    acted = [s for s in steps if s.choice == "action"]
    if acted:
        lines.append(f"Your last actions ({len(acted)} so far) and what they returned:")
        for s in acted[-KEEP:]:
            seen = f"{s.status}: {s.error}" if s.error else f"{s.status}: {s.observed}"
            lines.append(f"[{s.turn}] {s.action} {_clip(s.args, 160)} -> {seen}")
    if steps and steps[-1].choice == "invalid":
        lines.append(f"Your last reply was refused: {steps[-1].error}.")
    lines.append(
        'Reply with the next action as JSON {"actor": NAME, "args": {...}}, '
        'or {"done": true} when the task is complete.'
    )
    return [
        {
            "role": "system",
            "content": "You are an operator carrying out a change on live infrastructure by "
            "calling tools, one per turn. Answer only JSON.",
        },
        {"role": "user", "content": "\n".join(lines)},
    ]


def _parse(text: str) -> tuple[Choice, str | None, dict[str, Any] | None, str | None]:
    try:
        value = json.loads(text)
    except ValueError:
        return "invalid", None, None, "the output is not JSON"
    if not isinstance(value, dict):
        return "invalid", None, None, "the output is not a JSON object"
    if value.get("done") is True:
        return "done", None, None, None
    action, args = value.get("actor"), value.get("args", {})
    if not isinstance(action, str) or not isinstance(args, dict):
        return "invalid", None, None, "neither an action with args nor done"
    return "action", action, args, None


def _du(lab: Lab) -> int:
    return sum(1 for v in lab.read().violations if v.get("kind") == "DU")


def _act(
    engine: Engine,
    catalog: Catalog,
    inventory: Inventory,
    turn: int,
    actor: str,
    args: dict[str, Any],
) -> tuple[str, str | None, dict[str, Any] | None]:
    """Run one action as a one-step engine run: (status, error, output)."""
    # A failed read just ends its run; a failed write ends it `compensated` (nothing else ran,
    # so nothing is undone): either way the model sees the error and chooses again.
    known = catalog.get(actor) if actor in catalog else None
    on_failure = "continue" if known is not None and known.effect == "read" else "compensate"
    document = {
        "api_version": "planactor/v1",
        "intent": f"react turn {turn}",
        "requested_by": "bench-react",
        "steps": [{"id": f"t{turn}", "actor": actor, "args": args, "on_failure": on_failure}],
    }
    try:
        checked = validate_plan(document, catalog=catalog, inventory=inventory)
    except PlanInvalid as e:
        return "refused", "; ".join(f"{p.location}: {p.message}" for p in e.report.errors), None
    run_id = f"react-{turn}"
    result = engine.run(checked, run_id=run_id)
    step = result.steps[f"t{turn}"]
    if step.state == "succeeded":
        return "succeeded", None, step.output
    failed = [e for e in engine.journal.events(run_id) if e.type == EventKind.STEP_FAILED.value]
    error = (
        f"{failed[-1].data['error']['kind']}: {failed[-1].data['error']['message']}"
        if failed
        else result.reason or step.state
    )
    return "failed", error, None


def run_react(
    task: str,
    *,
    guidance: str,
    backend: Backend,
    catalog: Catalog,
    lab: Lab,
    inventory: Inventory,
    reference: Reference,
    max_steps: int,
    timeout_s: float = 300.0,
) -> ReactResult:
    """Let the model carry out `task` on `lab`, one chosen action at a time."""
    actors = lab_actors(catalog, inventory)
    schema = react_schema(actors, inventory, task)
    engine = Engine(catalog=catalog, journal=Journal(), resources=lab_resources(lab))
    out = ReactResult(ended="budget")
    repeats = 0
    last: tuple[str, str] | None = None
    turn = 0
    while len(out.actions) < max_steps:
        turn += 1
        messages = react_messages(task, guidance, actors, inventory, out.steps)
        try:
            call = backend.complete(
                messages, schema=schema, max_tokens=TURN_TOKENS, timeout_s=timeout_s
            )
        except BackendError as e:
            out.ended, out.error = "model-failed", e.message
            break
        out.calls += 1
        out.tokens_in += call.tokens_in
        out.tokens_out += call.tokens_out
        out.usd += call.cost_usd
        choice, action, args, problem = _parse(call.text)
        base: dict[str, Any] = {
            "turn": turn,
            "raw": call.text[-500:],
            "tokens_in": call.tokens_in,
            "tokens_out": call.tokens_out,
        }
        if choice == "done":
            out.steps.append(ReactStep(choice="done", **base))
            out.ended = "done"
            break
        if choice == "invalid" or action is None or args is None:
            out.steps.append(ReactStep(choice="invalid", error=problem, **base))
            continue
        before = _du(lab)
        status, error, output = _act(engine, catalog, inventory, turn, action, args)
        matched = reference.match(action, args) if status == "succeeded" else None
        out.steps.append(
            ReactStep(
                choice="action",
                action=action,
                args=args,
                status=status,
                error=error,
                observed=_clip(output, OBSERVATION_CHARS) if output is not None else None,
                reference=matched,
                du=_du(lab) - before,
                **base,
            )
        )
        key = (action, json.dumps(args, sort_keys=True))
        repeats = repeats + 1 if key == last else 1
        last = key
        if repeats >= STALL:
            out.ended = "stalled"
            break
    out.reference_complete = reference.complete
    return out
