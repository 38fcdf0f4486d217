"""The four ways of answering a shortest-path query, each one trial at a time.

    algorithm   the graph pack's actor (`graph.shortest_path`: igraph's Dijkstra), handed the
                edge list; its graph cache is cleared first, so it pays the conversion too
    llm         the edge list in the prompt; the answer as JSON {"path", "total_weight"}
                (structured output: the backend's JSON schema, as the planner uses it)
    llm-cot     the same, but told to think step by step, enumerate and compare paths, then
                end with the JSON; no schema, so the model may write before its answer
    llm-tool    no edge list; one tool, shortest_path(source, target), answered by the graph
                actor on the hidden graph; up to 5 model calls; scored on the model's FINAL
                answer (did it relay the tool's path?) and on whether it called the tool

The backends have no tool-calling interface in common, so llm-tool speaks JSON: each reply
is `{"action": "call", "source", "target"}` or `{"action": "answer", "path",
"total_weight"}` under a schema, and a tool result comes back as the next user message.
Every trial is one `Trial` row; a backend failure (timeout, an answer cut off at max_tokens)
is a trial without an answer, not a crash.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from planactor._errors import ActorError, BackendError
from planactor.actors.graph import Edge, ShortestPathInput, default_cache, shortest_path
from planactor.bench._energy import EnergyMeter
from planactor.bench._sp_graphs import SpGraph
from planactor.bench._sp_score import score_answer
from planactor.planner import Backend, Message

__all__ = ["LLM_METHODS", "METHODS", "MethodLimits", "Trial", "run_trial"]

METHODS = ("algorithm", "llm", "llm-cot", "llm-tool")
LLM_METHODS = METHODS[1:]
MAX_TOOL_TURNS = 5
_KEEP_TEXT = 4000  # characters of the model's last reply kept in the trial row

SYSTEM = "You are a careful assistant who answers questions about weighted graphs."

ANSWER_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "path": {"type": "array", "items": {"type": "string"}},
        "total_weight": {"type": "number"},
    },
    "required": ["path", "total_weight"],
}

TOOL_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "action": {"type": "string", "enum": ["call", "answer"]},
        "source": {"type": "string"},
        "target": {"type": "string"},
        "path": {"type": "array", "items": {"type": "string"}},
        "total_weight": {"type": "number"},
    },
    "required": ["action"],
}


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodLimits:
    """Per-call limits; a chain of thought needs room to think."""

    max_tokens: int = 256
    cot_max_tokens: int = 1024
    timeout_s: float = 300.0


@dataclass(kw_only=True)
class Trial:
    """One method asked one graph once: the score, the cost and the energy."""

    method: str
    size: int
    seed: int
    backend: str
    model: str
    parsed: bool = False
    valid: bool = False
    optimal: bool = False
    path: list[str] | None = None
    weight: int | None = None
    optimum: int = 0
    claimed_weight: float | None = None
    reason: str | None = None
    latency_s: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    usd: float = 0.0
    joules: float = 0.0
    joules_source: str = "estimate"
    calls: int = 0
    called_tool: bool | None = None  # llm-tool only
    error: str | None = None
    answer: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.method, self.size, self.seed)

    def to_document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Trial:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in doc.items() if k in known})


def _question(graph: SpGraph) -> str:
    return f"What is the path from {graph.source} to {graph.target} with the smallest total weight?"


def _json_form(graph: SpGraph) -> str:
    return f'{{"path": ["{graph.source}", ..., "{graph.target}"], "total_weight": W}}'


def direct_messages(graph: SpGraph) -> list[Message]:
    user = (
        f"An undirected graph, one weighted edge per line:\n\n{graph.text()}\n\n"
        f"{_question(graph)} Answer with JSON only, in exactly this form and nothing else: "
        f"{_json_form(graph)}"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def cot_messages(graph: SpGraph) -> list[Message]:
    user = (
        f"An undirected graph, one weighted edge per line:\n\n{graph.text()}\n\n"
        f"{_question(graph)} Think step by step: enumerate the plausible paths from "
        f"{graph.source} to {graph.target}, add up the weights of each, and compare them. "
        f"Then end your answer with the best path as JSON in exactly this form: "
        f"{_json_form(graph)}"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def tool_messages(graph: SpGraph) -> list[Message]:
    system = (
        f"{SYSTEM} The graph is hidden from you, but you can call one tool: "
        "shortest_path(source, target) returns the path between two nodes with the smallest "
        'total weight, and that weight. To call it, reply with JSON {"action": "call", '
        '"source": NODE, "target": NODE}; its result comes back in the next message. When '
        'you know the answer, reply with JSON {"action": "answer", "path": [NODES], '
        '"total_weight": W}. Reply with one JSON object and nothing else.'
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": _question(graph)}]


def _edges(graph: SpGraph) -> list[Edge]:
    return [Edge(source=u, target=v, weight=float(w)) for u, v, w in graph.edges]


def _tool_result(graph: SpGraph, call: Mapping[str, Any]) -> str:
    """What the tool says to a call: the graph actor's answer, or the error it raised."""
    source, target = call.get("source"), call.get("target")
    if not isinstance(source, str) or not isinstance(target, str) or not source or not target:
        return json.dumps({"error": "shortest_path needs a source and a target node name"})
    try:
        out = shortest_path(ShortestPathInput(edges=_edges(graph), source=source, target=target))
    except ActorError as e:
        return json.dumps({"error": str(e)})
    if not out.reachable:
        return json.dumps({"error": f"{target} is not reachable from {source}"})
    weight = out.distance
    return json.dumps(
        {"path": out.path, "total_weight": round(weight) if weight is not None else None}
    )


class _Calls:
    """Sums what the backend calls of one trial cost."""

    def __init__(self, backend: Backend, limits: MethodLimits) -> None:
        self.backend, self.limits = backend, limits
        self.calls = self.tokens_in = self.tokens_out = 0
        self.usd = 0.0

    def ask(
        self, messages: list[Message], schema: Mapping[str, Any] | None, max_tokens: int
    ) -> str:
        self.calls += 1
        c = self.backend.complete(
            messages, schema=schema, max_tokens=max_tokens, timeout_s=self.limits.timeout_s
        )
        self.tokens_in += c.tokens_in
        self.tokens_out += c.tokens_out
        self.usd += c.cost_usd
        return c.text


def _run_tool_dialogue(graph: SpGraph, calls: _Calls, trial: Trial) -> str:
    """Up to MAX_TOOL_TURNS model calls; the final answer's text ("" when none came)."""
    messages = tool_messages(graph)
    trial.called_tool = False
    for _ in range(MAX_TOOL_TURNS):
        text = calls.ask(messages, TOOL_SCHEMA, calls.limits.max_tokens)
        try:
            reply = json.loads(text)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            trial.notes.append("a reply that is not a JSON object")
            return text
        if reply.get("action") == "answer":
            return text
        trial.called_tool = True
        messages = [
            *messages,
            {"role": "assistant", "content": text},
            {"role": "user", "content": f"shortest_path returned: {_tool_result(graph, reply)}"},
        ]
    trial.notes.append(f"no final answer in {MAX_TOOL_TURNS} turns")
    return ""


def _answer_algorithm(graph: SpGraph) -> str:
    default_cache().clear()  # the conversion is part of the algorithm's cost here
    out = shortest_path(
        ShortestPathInput(edges=_edges(graph), source=graph.source, target=graph.target)
    )
    return json.dumps({"path": out.path, "total_weight": out.distance})


def run_trial(
    method: str,
    graph: SpGraph,
    *,
    backend: Backend | None,
    meter: EnergyMeter,
    limits: MethodLimits,
    clock: Callable[[], float] = time.perf_counter,
) -> Trial:
    """Ask `graph`'s query once by `method`; `backend` is needed for every LLM method."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    trial = Trial(
        method=method,
        size=graph.nodes,
        seed=graph.seed,
        backend="planactor" if method == "algorithm" or backend is None else backend.name,
        model="graph.shortest_path" if method == "algorithm" or backend is None else backend.model,
        optimum=graph.optimum,
        joules_source=meter.source,
    )
    calls = _Calls(backend, limits) if backend is not None else None
    token = meter.start()
    start = clock()
    text = ""
    try:
        if method == "algorithm":
            text = _answer_algorithm(graph)
        elif calls is None:
            raise ValueError(f"method {method} needs an LLM backend")
        elif method == "llm":
            text = calls.ask(direct_messages(graph), ANSWER_SCHEMA, limits.max_tokens)
        elif method == "llm-cot":
            text = calls.ask(cot_messages(graph), None, limits.cot_max_tokens)
        else:
            text = _run_tool_dialogue(graph, calls, trial)
    except BackendError as e:
        trial.error = e.message
    trial.latency_s = clock() - start
    energy = meter.stop(token)
    trial.joules, trial.joules_source = energy.joules, energy.source
    if calls is not None:
        trial.calls, trial.usd = calls.calls, calls.usd
        trial.tokens_in, trial.tokens_out = calls.tokens_in, calls.tokens_out
    if backend is not None and method != "algorithm":
        trial.model = backend.model  # a self-served server's model is resolved on first call
    score = score_answer(graph, text)
    trial.parsed, trial.valid, trial.optimal = score.parsed, score.valid, score.optimal
    trial.path, trial.weight, trial.claimed_weight = score.path, score.weight, score.claimed_weight
    if trial.error is not None:
        trial.reason = trial.error
    elif not text and trial.notes:
        trial.reason = trial.notes[-1]
    else:
        trial.reason = score.reason
    trial.answer = text[-_KEEP_TEXT:]
    return trial
