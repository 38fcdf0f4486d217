"""planactor.testing.ScriptedBackend: canned answers through the real Backend interface."""

from __future__ import annotations

import json

import pytest

from planactor import BackendError, InputError
from planactor.actors import core
from planactor.catalog import Catalog
from planactor.planner import Backend, LLMPlanner, prompt_hash
from planactor.testing import ScriptedBackend

ASK = [{"role": "user", "content": "say hi"}]
SCHEMA = {"type": "object"}


def test_answers_are_played_in_order_and_every_call_is_recorded() -> None:
    """Texts come back as written, mappings as their JSON; prompts and schemas are kept."""
    backend = ScriptedBackend("first", {"steps": []}, model="m-2")
    one = backend.complete(ASK, schema=SCHEMA)
    two = backend.complete([*ASK, {"role": "assistant", "content": "again"}])
    assert (one.text, json.loads(two.text)) == ("first", {"steps": []})
    assert (one.backend, one.model) == ("scripted", "m-2")
    assert one.prompt_hash == prompt_hash(ASK, SCHEMA)
    assert backend.calls == 2
    assert backend.prompts[1][-1] == {"role": "assistant", "content": "again"}
    assert backend.schemas == [SCHEMA, None]
    assert backend.answers == [one, two]
    assert backend.unused == ()


def test_a_scripted_backend_error_is_raised_as_given() -> None:
    """A BackendError in the script is raised on its turn; the call still counts."""
    timeout = BackendError("timed out", backend="scripted", retryable=True)
    backend = ScriptedBackend(timeout, "after")
    with pytest.raises(BackendError) as e:
        backend.complete(ASK)
    assert e.value is timeout
    assert backend.complete(ASK).text == "after"
    assert backend.calls == 2
    assert len(backend.answers) == 1


def test_one_call_too_many_fails_the_test() -> None:
    """Asked more often than scripted: an AssertionError that counts both."""
    backend = ScriptedBackend("only")
    backend.complete(ASK)
    with pytest.raises(AssertionError, match="asked 2 times, scripted for 1"):
        backend.complete(ASK)


def test_unused_lists_what_nobody_asked_for() -> None:
    """`unused` holds the answers after the last call, so a test can demand the whole script."""
    backend = ScriptedBackend("a", "b", "c")
    backend.complete(ASK)
    assert backend.unused == ("b", "c")


@pytest.mark.parametrize(
    ("messages", "options"),
    [
        ([], {}),
        ([{"role": "robot", "content": "x"}], {}),
        (ASK, {"max_tokens": 0}),
        (ASK, {"timeout_s": 0.0}),
    ],
    ids=["no-messages", "bad-role", "no-tokens", "no-time"],
)
def test_a_call_no_real_backend_accepts_is_refused(
    messages: list[dict[str, str]], options: dict[str, float]
) -> None:
    """A malformed call is an InputError as with the real backends, and is not recorded."""
    backend = ScriptedBackend("never")
    with pytest.raises(InputError):
        backend.complete(messages, **options)  # type: ignore[arg-type]
    assert backend.calls == 0


def test_it_is_a_backend_the_llm_planner_drives() -> None:
    """The LLM planner composes a plan from a scripted answer, repairing a bad first one."""
    backend = ScriptedBackend(
        {"steps": [{"id": "say", "actor": "core.echo", "args": {}}]},
        {"steps": [{"id": "say", "actor": "core.echo", "args": {"message": "hi"}}]},
    )
    assert isinstance(backend, Backend)
    planner = LLMPlanner(catalog=Catalog([core.echo, core.sleep], pack="core"), backend=backend)
    result = planner.plan("say hi", requested_by="sam", compose=True)
    assert result.report.ok
    assert [s.args for s in result.plan.steps] == [{"message": "hi"}]
    assert "core.echo needs argument 'message'" in backend.prompts[1][-1]["content"]
    assert backend.unused == ()
