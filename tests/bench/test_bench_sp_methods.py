"""planactor.bench._sp_methods: one trial per method; the tool dialogue's rules.

The embedded model never calls the tool (tests/bench/test_bench_sp_llm.py runs it for real),
so the dialogue's branches are driven by a scripted backend that answers what a test says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from planactor._errors import BackendError
from planactor.bench._energy import EnergyMeter
from planactor.bench._sp_graphs import make_sp_graph
from planactor.bench._sp_methods import MAX_TOOL_TURNS, MethodLimits, run_trial
from planactor.planner import Completion, Message

GRAPH = make_sp_graph(5, 42)  # N0 -- N4 (weight 7) is the optimum


class Scripted:
    """A backend that replies with its script, one entry per call, and keeps what it was asked."""

    name = "scripted"
    model = "script-1"

    def __init__(self, *replies: str | BackendError) -> None:
        self.replies = list(replies)
        self.asked: list[list[Message]] = []

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        timeout_s: float = 120.0,
    ) -> Completion:
        self.asked.append(list(messages))
        reply = self.replies.pop(0)
        if isinstance(reply, BackendError):
            raise reply
        return Completion(
            text=reply,
            backend=self.name,
            model=self.model,
            prompt_hash="sha256:0",
            tokens_in=10,
            tokens_out=5,
            latency_s=0.01,
            cost_usd=0.001,
        )


def _meter(tmp_path: Path) -> EnergyMeter:
    return EnergyMeter(root=tmp_path / "no-rapl")


def _trial(method: str, backend: Scripted | None, tmp_path: Path) -> Any:
    return run_trial(method, GRAPH, backend=backend, meter=_meter(tmp_path), limits=MethodLimits())


def test_algorithm_is_scored_like_any_answer(tmp_path: Path) -> None:
    """The graph actor's answer goes through the same scorer: valid, optimal, no tokens."""
    t = _trial("algorithm", None, tmp_path)
    assert (t.valid, t.optimal, t.path, t.weight, t.optimum) == (True, True, ["N0", "N4"], 7, 7)
    assert (t.backend, t.model, t.calls, t.tokens_in, t.usd) == (
        "planactor",
        "graph.shortest_path",
        0,
        0,
        0.0,
    )
    assert t.latency_s > 0
    assert t.joules_source == "estimate"


def test_llm_prompt_holds_the_edge_list_and_tokens_are_summed(tmp_path: Path) -> None:
    """llm: the edge list is in the prompt; the answer is scored; tokens and $ recorded."""
    backend = Scripted('{"path": ["N0", "N3", "N2", "N4"], "total_weight": 41}')
    t = _trial("llm", backend, tmp_path)
    assert "N3 -- N2  (weight 4)" in backend.asked[0][-1]["content"]
    assert (t.valid, t.optimal, t.weight, t.claimed_weight) == (True, False, 41, 41.0)
    assert (t.calls, t.tokens_in, t.tokens_out, t.usd) == (1, 10, 5, 0.001)
    assert (t.backend, t.model) == ("scripted", "script-1")


def test_cot_answer_after_prose_is_found(tmp_path: Path) -> None:
    """llm-cot: the JSON at the end of the reasoning is the answer."""
    backend = Scripted(
        'N0 -- N4 costs 7, the rest more.\n{"path": ["N0", "N4"], "total_weight": 7}'
    )
    t = _trial("llm-cot", backend, tmp_path)
    assert "step by step" in backend.asked[0][-1]["content"]
    assert t.optimal


def test_tool_call_is_answered_by_the_graph_actor_and_final_answer_scored(tmp_path: Path) -> None:
    """llm-tool: no edge list; the tool's result comes back; the model's final answer counts."""
    backend = Scripted(
        '{"action": "call", "source": "N0", "target": "N4"}',
        '{"action": "answer", "path": ["N0", "N4"], "total_weight": 7}',
    )
    t = _trial("llm-tool", backend, tmp_path)
    assert not any("(weight" in m["content"] for m in backend.asked[0])  # the graph is hidden
    result = backend.asked[1][-1]["content"]
    assert result.startswith("shortest_path returned: ")
    assert json.loads(result.split(": ", 1)[1]) == {"path": ["N0", "N4"], "total_weight": 7}
    assert (t.called_tool, t.optimal, t.calls, t.tokens_in) == (True, True, 2, 20)


def test_tool_path_relayed_wrongly_is_not_optimal(tmp_path: Path) -> None:
    """A model that calls the tool but answers something else is scored on what it answered."""
    backend = Scripted(
        '{"action": "call", "source": "N0", "target": "N4"}',
        '{"action": "answer", "path": ["N0", "N3", "N4"], "total_weight": 7}',
    )
    t = _trial("llm-tool", backend, tmp_path)
    assert t.called_tool
    assert (t.valid, t.reason) == (False, "N3 -- N4 is not an edge")


def test_answer_without_calling_the_tool_is_recorded(tmp_path: Path) -> None:
    """Answering at once is allowed, and recorded as not having called the tool."""
    t = _trial("llm-tool", Scripted('{"action": "answer", "path": ["N0", "N4"]}'), tmp_path)
    assert (t.called_tool, t.optimal) == (False, True)


def test_tool_errors_go_back_to_the_model(tmp_path: Path) -> None:
    """An unknown node or a call without names: the tool's error is the next message."""
    backend = Scripted(
        '{"action": "call", "source": "N0", "target": "N44"}',
        '{"action": "call"}',
        '{"action": "answer", "path": []}',
    )
    t = _trial("llm-tool", backend, tmp_path)
    assert "error" in json.loads(backend.asked[1][-1]["content"].split(": ", 1)[1])
    assert "needs a source and a target" in backend.asked[2][-1]["content"]
    assert (t.valid, t.reason) == (False, "the path is empty")


def test_tool_dialogue_stops_after_five_turns(tmp_path: Path) -> None:
    """A model that only ever calls the tool gets 5 calls, then no final answer."""
    call = '{"action": "call", "source": "N0", "target": "N4"}'
    backend = Scripted(*[call] * (MAX_TOOL_TURNS + 1))
    t = _trial("llm-tool", backend, tmp_path)
    assert t.calls == MAX_TOOL_TURNS
    assert (t.called_tool, t.parsed, t.valid) == (True, False, False)
    assert t.reason == f"no final answer in {MAX_TOOL_TURNS} turns"


def test_backend_failure_is_a_trial_without_an_answer(tmp_path: Path) -> None:
    """A timeout or cut-off answer is recorded as the trial's error, not raised."""
    t = _trial("llm", Scripted(BackendError("cut off", backend="scripted")), tmp_path)
    assert (t.error, t.reason, t.valid, t.calls) == ("cut off", "cut off", False, 1)


def test_llm_method_without_a_backend_is_refused(tmp_path: Path) -> None:
    """Only the algorithm runs without a backend."""
    with pytest.raises(ValueError, match="needs an LLM backend"):
        _trial("llm", None, tmp_path)
    with pytest.raises(ValueError, match="unknown method"):
        _trial("oracle", None, tmp_path)
