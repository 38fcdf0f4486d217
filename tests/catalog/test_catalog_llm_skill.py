"""planactor.catalog._llm_skill: actors written by a model, journaled, replayed as recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from planactor import UnexpectedState
from planactor._errors import CatalogError
from planactor.actors import core
from planactor.catalog import ActorContext, Catalog, actor, actor_of, llm_skill
from planactor.engine import Engine
from planactor.journal import EventKind, Journal
from planactor.plan import Plan
from planactor.policy import PolicyDoc, RulePolicy
from planactor.testing import ScriptedBackend
from planactor.validate import validate


class NoteInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


class Verdict(BaseModel):
    label: str


@llm_skill(name="t.classify", effect="read", prompt="Classify: {text}", output=Verdict)
def classify(args: NoteInput, ctx: ActorContext) -> dict[str, str]:
    """Label a text (a model decides)."""
    return {"text": args.text}


@llm_skill(
    name="t.decide", effect="write", prompt="Decide: {text}", output=Verdict, irreversible=True
)
def decide(args: NoteInput, ctx: ActorContext) -> dict[str, str]:
    """A change a model would decide."""
    return {"text": args.text}


GATE = {"closed": True}


class GateOutput(BaseModel):
    passed: bool


@actor(name="t.gate", effect="read")
def gate(args: NoteInput) -> GateOutput:
    """Pause the run while the gate is closed."""
    if GATE["closed"]:
        raise UnexpectedState("the gate is closed")
    return GateOutput(passed=True)


class Refusing:
    """A backend that fails the test if anything asks it."""

    name = "refusing"
    model = "none"

    def complete(
        self,
        messages: Sequence[dict[str, str]],
        *,
        schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        timeout_s: float = 120.0,
    ) -> Any:
        raise AssertionError("the model was called again")


def _plan(*steps: dict[str, Any]) -> Plan:
    return Plan.model_validate(
        {"api_version": "planactor/v1", "intent": "t", "requested_by": "me", "steps": list(steps)}
    )


CLASSIFY = {"id": "s1", "actor": "t.classify", "args": {"text": "disk full"}}


def test_an_llm_skill_is_a_probabilistic_actor_of_its_effect() -> None:
    """The decorator registers an actor marked probabilistic, with its prompt and output."""
    a = actor_of(classify)
    assert a is not None
    assert (a.probabilistic, a.effect, a.output_model) == (True, "read", Verdict)
    assert a.llm is not None
    assert a.llm.prompt == "Classify: {text}"
    assert actor_of(gate) is not None
    assert not actor_of(gate).probabilistic


def test_the_skill_calls_the_run_s_model_and_the_journal_records_the_call() -> None:
    """Prompt, model, parameters and raw output are journaled as step.llm_call before the result."""
    backend = ScriptedBackend({"label": "capacity"})
    journal = Journal()
    engine = Engine(catalog=Catalog([classify]), journal=journal, resources={"llm": backend})
    result = engine.run(_plan(CLASSIFY))
    assert result.status == "succeeded"
    assert result.steps["s1"].output == {"label": "capacity"}
    types = [e.type for e in journal.events(result.run_id)]
    assert types.index("step.llm_call") == types.index("step.succeeded") - 1
    call = next(e for e in journal.events(result.run_id) if e.type == EventKind.LLM_CALL)
    assert call.data["prompt"] == "Classify: disk full"
    assert call.data["raw"] == '{"label": "capacity"}'
    assert call.data["model"] == "script-1"
    assert call.data["parameters"]["max_tokens"] == 256
    assert journal.verify(result.run_id).ok


def test_replay_of_a_run_with_a_skill_never_calls_the_model() -> None:
    """Replay uses the recorded output: it succeeds with a backend that raises if called."""
    journal = Journal()
    run = Engine(
        catalog=Catalog([classify]),
        journal=journal,
        resources={"llm": ScriptedBackend({"label": "x"})},
    ).run(_plan(CLASSIFY))
    report = Engine(catalog=Catalog([classify]), journal=journal, resources={"llm": Refusing()})
    assert report.replay(run.run_id).ok


def test_resume_after_a_skill_keeps_its_recorded_output_and_never_asks_again() -> None:
    """A paused run resumed later goes on from the skill's recorded output, no model call."""
    GATE["closed"] = True
    journal = Journal()
    cat = Catalog([classify, gate])
    plan = _plan(CLASSIFY, {"id": "s2", "actor": "t.gate", "args": {"text": "x"}, "after": ["s1"]})
    first = Engine(
        catalog=cat, journal=journal, resources={"llm": ScriptedBackend({"label": "first"})}
    ).run(plan)
    assert first.status == "paused"
    GATE["closed"] = False
    try:
        resumed = Engine(catalog=cat, journal=journal, resources={"llm": Refusing()}).resume(
            first.run_id, retry=["s2"]
        )
    finally:
        GATE["closed"] = True
    assert resumed.status == "succeeded"
    assert resumed.steps["s1"].output == {"label": "first"}
    assert [e.type for e in journal.events(first.run_id)].count("step.llm_call") == 1


def test_an_answer_that_does_not_fit_the_output_fails_the_step_and_is_still_journaled() -> None:
    """A model answer that is not the output model fails, final; its raw text is kept."""
    journal = Journal()
    engine = Engine(
        catalog=Catalog([classify]),
        journal=journal,
        resources={"llm": ScriptedBackend({"verdict": 1})},
    )
    result = engine.run(_plan({**CLASSIFY, "on_failure": "compensate"}))
    assert result.status == "compensated"
    events = journal.events(result.run_id)
    failed = next(e for e in events if e.type == EventKind.STEP_FAILED)
    assert "not a Verdict" in failed.data["error"]["message"]
    assert failed.data["error"]["retryable"] is False
    assert any(e.type == EventKind.LLM_CALL and '"verdict"' in e.data["raw"] for e in events)


def test_a_skill_without_a_model_fails_with_how_to_give_one() -> None:
    """No `llm` resource: a final error naming the resource."""
    journal = Journal()
    result = Engine(catalog=Catalog([classify]), journal=journal).run(
        _plan({**CLASSIFY, "on_failure": "compensate"})
    )
    failed = next(e for e in journal.events(result.run_id) if e.type == EventKind.STEP_FAILED)
    assert "'llm'" in failed.data["error"]["message"]


def test_a_write_skill_is_refused_by_policy_unless_opted_in_by_name() -> None:
    """Validation with a policy refuses a write LLM skill until llm_skills.allow_writes names it."""
    cat = Catalog([classify, decide])
    plan = _plan({"id": "s1", "actor": "t.decide", "args": {"text": "go"}})
    strict = RulePolicy(doc=PolicyDoc(name="p"))
    report = validate(plan, catalog=cat, policy=strict)
    assert [p.code for p in report.errors] == ["policy-llm-write"]
    assert "allow_writes" in (report.errors[0].hint or "")
    opted = RulePolicy(
        doc=PolicyDoc.model_validate({"name": "p", "llm_skills": {"allow_writes": ["t.decide"]}})
    )
    assert validate(plan, catalog=cat, policy=opted).ok
    assert validate(_plan(CLASSIFY), catalog=cat, policy=strict).ok  # a read skill passes


def test_the_policy_hash_is_unchanged_for_a_policy_without_llm_skills() -> None:
    """Adding the field did not change the hash of existing policies (their approvals hold)."""
    bare = RulePolicy(doc=PolicyDoc(name="p"))
    assert (
        bare.hash != RulePolicy(doc=PolicyDoc.model_validate({"name": "p", "llm_skills": {}})).hash
    )


def test_a_skill_whose_function_takes_no_input_model_is_refused() -> None:
    """A malformed skill is a CatalogError with the shape it should have."""
    with pytest.raises(CatalogError, match="LLM skill"):

        @llm_skill(name="t.bad", effect="read", prompt="{x}", output=Verdict)
        def bad(x: int) -> dict[str, str]:
            return {}


def test_summarize_run_compresses_a_journal_into_a_ticket_summary() -> None:
    """core.summarize_run gives the model the run's intent, status and steps; the answer is
    the summary, and the facts it was given are in the journaled prompt."""
    journal = Journal()
    cat = Catalog.discover()
    done = Engine(catalog=cat, journal=journal).run(
        _plan({"id": "hello", "actor": "core.echo", "args": {"message": "hi"}})
    )
    journal.flush()
    backend = ScriptedBackend({"title": "echo ran", "summary": "core.echo succeeded."})
    engine = Engine(catalog=cat, journal=journal, resources={"llm": backend, "journal": journal})
    result = engine.run(
        _plan({"id": "sum", "actor": "core.summarize_run", "args": {"run_id": done.run_id}})
    )
    assert result.steps["sum"].output == {"title": "echo ran", "summary": "core.echo succeeded."}
    prompt = backend.prompts[0][1]["content"]
    assert f"Run {done.run_id}" in prompt
    assert "- hello core.echo: succeeded" in prompt
    assert backend.schemas[0] == core.TicketSummary.model_json_schema()
