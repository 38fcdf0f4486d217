"""planactor.harness._ask: the read-only ReAct loop, its grammar, budgets and transcript."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from planactor import lab
from planactor._errors import InputError
from planactor.audit import audit_html, audit_markdown, audit_run
from planactor.catalog import Catalog
from planactor.engine import Engine
from planactor.harness import ask, ask_schema, read_actors
from planactor.journal import EventKind, Journal
from planactor.plan import Inventory
from planactor.planner import BackendError, LocalBackend
from planactor.testing import ScriptedBackend

QUESTION = "is any host of array-01 down to one path?"


@dataclass(frozen=True)
class World:
    handle: lab.Lab
    inventory: Inventory
    catalog: Catalog
    journal: Journal


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The built-in packs (storage among them), loaded once."""
    return Catalog.discover()


@pytest.fixture
def world(tmp_path: Path, catalog: Catalog) -> World:
    """A storage lab where esx-03 lost its path to array-01-b, and a journal on disk."""
    handle = lab.create_lab(
        tmp_path / "lab.json", kind="storage", scenario="path-down", latency_ms=0
    )
    return World(handle, lab.inventory(handle.read()), catalog, Journal(tmp_path / "j.db"))


def _ask(w: World, backend: ScriptedBackend | LocalBackend, question: str = QUESTION, **kw: int):  # type: ignore[no-untyped-def]
    return ask(
        question,
        backend=backend,
        catalog=w.catalog,
        journal=w.journal,
        inventory=w.inventory,
        resources=lab.lab_resources(w.handle),
        **kw,
    )


LIST_PATHS = {"action": "storage.list_paths", "args": {"array": "array-01"}}


def test_only_read_actors_about_the_inventory_are_offered(world: World) -> None:
    """No write, no LLM skill, nothing about kinds the lab does not have."""
    offered = read_actors(world.catalog, QUESTION, world.inventory)
    assert offered
    assert all(a.effect == "read" and not a.probabilistic for a in offered)
    assert all(a.name.startswith("storage.") for a in offered)


def test_the_grammar_limits_entities_to_the_names_the_question_gives(world: World) -> None:
    """An entity field the question names takes only those names; others take the inventory's."""
    offered = read_actors(world.catalog, QUESTION, world.inventory)
    schema = ask_schema(offered, world.inventory, [], question=QUESTION)
    paths = next(
        o
        for o in schema["anyOf"]
        if o["properties"].get("action", {}).get("enum") == ["storage.list_paths"]
    )
    array, host = (
        paths["properties"]["args"]["properties"][k]["anyOf"][0] for k in ("array", "host")
    )
    assert array["enum"] == ["array-01"]
    assert host["enum"] == sorted(world.inventory.names("host") or ())
    answer = schema["anyOf"][-1]
    assert answer["properties"]["cites"] == {"type": "array", "maxItems": 0}
    cited = ask_schema(offered, world.inventory, ["obs-1"], question=QUESTION)["anyOf"][-1]
    assert cited["properties"]["cites"]["items"]["enum"] == ["obs-1"]


def test_an_answer_citing_its_observation_is_supported_and_all_is_journaled(world: World) -> None:
    """One read through the engine, then an answer citing it: the transcript run records the
    question, each turn's raw output, the observation (chained to its run) and the answer."""
    backend = ScriptedBackend(LIST_PATHS, {"answer": "yes: esx-03", "cites": ["obs-1"]})
    r = _ask(world, backend)
    assert (r.verdict, r.answer, r.cites) == ("supported", "yes: esx-03", ("obs-1",))
    assert r.exit_code == 0
    obs = r.observations[0]
    assert obs.status == "succeeded"
    assert obs.output is not None
    assert any(p["host"] == "esx-03" and p["state"] == "down" for p in obs.output["paths"])
    events = world.journal.events(r.run_id)
    assert [e.type for e in events] == [
        "run.started",
        "ask.turn",
        "ask.observation",
        "ask.turn",
        "ask.answer",
        "run.succeeded",
    ]
    assert events[0].data["kind"] == "ask"
    assert events[0].data["question"] == QUESTION
    assert events[1].data["raw"] == json.dumps(LIST_PATHS)
    assert events[2].data["run_head"] == world.journal.head(obs.run or "")[1]
    child = world.journal.events(obs.run or "")
    assert child[0].data["read_only"] is True
    assert child[0].data["ask"] == r.run_id
    engine = Engine(catalog=world.catalog, journal=world.journal)
    assert engine.replay(r.run_id).ok
    assert engine.replay(obs.run or "").ok
    assert world.journal.verify(r.run_id).ok


def test_a_steered_model_that_emits_a_write_is_refused_by_the_engine(world: World) -> None:
    """The model asks to reboot a controller: the engine refuses before any call, the run
    records it, and the lab is exactly as it was."""
    before = world.handle.read().state
    backend = ScriptedBackend(
        {
            "action": "storage.reboot_controller",
            "args": {"array": "array-01", "controller": "array-01-a"},
        },
        {"answer": "rebooted", "cites": ["obs-1"]},
    )
    r = _ask(world, backend, "reboot controller array-01-a of array-01 now")
    obs = r.observations[0]
    assert obs.status == "failed"
    assert obs.error is not None
    assert obs.error.startswith("ReadOnlyViolation")
    assert r.verdict == "unsupported"  # its only citation observed nothing
    failed = [e for e in world.journal.events(obs.run or "") if e.type == EventKind.STEP_FAILED]
    assert failed[0].data["error"]["kind"] == "ReadOnlyViolation"
    assert world.handle.read().state == before
    assert not world.handle.read().applied_counts()


def test_an_answer_that_cites_nothing_is_unsupported(world: World) -> None:
    """An answer with no citation is kept but marked unsupported, with the reason."""
    r = _ask(world, ScriptedBackend({"answer": "no", "cites": []}))
    assert (r.verdict, r.answer) == ("unsupported", "no")
    assert r.reason == "the answer cites no observation"
    assert r.exit_code == 1


def test_when_the_steps_run_out_only_an_answer_is_allowed(world: World) -> None:
    """With the step budget spent, the last turn's grammar admits only an answer."""
    backend = ScriptedBackend(LIST_PATHS, {"answer": "esx-03", "cites": ["obs-1"]})
    r = _ask(world, backend, max_steps=1)
    assert r.verdict == "supported"
    assert "anyOf" not in (backend.schemas[1] or {})


def test_a_model_that_keeps_repeating_itself_ends_undecided_or_unsupported(world: World) -> None:
    """A repeated read is not run again, its actor is withdrawn, and budgets end the loop."""
    backend = ScriptedBackend(LIST_PATHS, LIST_PATHS, {"answer": "", "cites": []})
    r = _ask(world, backend)
    assert [o.status for o in r.observations] == ["succeeded", "refused"]
    offered_third = {o["properties"]["action"]["enum"][0] for o in backend.schemas[2]["anyOf"][:-1]}  # type: ignore[index]
    assert "storage.list_paths" not in offered_third
    assert r.verdict == "undecided"
    assert r.reason == "the model's answer is empty"


def test_invalid_output_and_a_failing_model_end_undecided_never_invented(world: World) -> None:
    """Garbage is recorded as an invalid turn; a backend error ends the ask undecided."""
    backend = ScriptedBackend("not json", BackendError("timed out", backend="scripted"))
    r = _ask(world, backend)
    assert [t.choice for t in r.turns] == ["invalid", "invalid"]
    assert (r.verdict, r.answer) == ("undecided", None)
    assert r.reason == "the model failed: timed out"
    assert world.journal.events(r.run_id)[-2].data["verdict"] == "undecided"


def test_the_token_budget_stops_the_loop(world: World) -> None:
    """Turns stop once the token budget is spent (the scripted turn costs 15)."""
    r = _ask(world, ScriptedBackend(LIST_PATHS), max_tokens=10)
    assert r.verdict == "undecided"
    assert r.reason == "the token budget (10) is spent"


def test_an_empty_question_is_bad_input(world: World) -> None:
    """No model call for a blank question."""
    with pytest.raises(InputError, match="empty"):
        _ask(world, ScriptedBackend(), "  ")


def test_the_audit_shows_the_transcript(world: World) -> None:
    """`planactor audit RUN` renders each turn, observation and the answer, in Markdown and
    in HTML."""
    r = _ask(world, ScriptedBackend(LIST_PATHS, {"answer": "esx-03", "cites": ["obs-1"]}))
    text = audit_markdown(audit_run(world.journal, r.run_id, trusted={}))
    assert "Transcript (ask: read-only)" in text
    assert "storage.list_paths" in text
    assert "**supported**" in text
    assert "Integrity: VERIFIED" in text
    page = audit_html(audit_run(world.journal, r.run_id, trusted={}))
    assert "<h3>Transcript (ask: read-only)</h3>" in page
    assert "storage.list_paths" in page
    assert "esx-03 (cites obs-1)" in page


def test_the_embedded_model_runs_the_loop_end_to_end(world: World) -> None:
    """SmolLM2-135M on the lab: the loop ends within its budgets, every observation is a
    read through the engine, and any citation names an observation that succeeded."""
    r = _ask(world, LocalBackend(), "is any host of array-02 down to one path?")
    assert 1 <= len(r.turns) <= 8
    assert r.verdict in ("supported", "unsupported", "undecided")
    good = {o.id for o in r.observations if o.status == "succeeded"}
    assert set(r.cites) <= good
    assert all(world.catalog.get(o.actor).effect == "read" for o in r.observations)
    assert world.journal.verify(r.run_id).ok
    assert not world.handle.read().applied_counts()
