"""planactor.planner._backend_base and _backends: what every backend shares (call checks,
prompt hash, metadata) and the choice of a backend by name.
"""

from __future__ import annotations

from typing import Any

import pytest
from backend_cases import MESSAGES, SCHEMA, clear_backend_env
from hypothesis import given, settings
from hypothesis import strategies as st

from planactor import InputError
from planactor.plan import PlannerInfo
from planactor.planner import BackendError, LocalBackend, OpenAIBackend, get_backend, prompt_hash
from planactor.planner._backend_base import json_text


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the configuration it sets itself."""
    clear_backend_env(monkeypatch)


def test_unknown_backend_lists_the_choices() -> None:
    """A backend name that does not exist is bad input naming the three that do."""
    with pytest.raises(InputError, match="unknown LLM backend") as e:
        get_backend("gpt")
    assert e.value.hint == "choose one of local, openai, anthropic"


@pytest.mark.parametrize(
    ("messages", "kwargs", "match"),
    [
        ([], {}, "at least one message"),
        ([{"role": "robot", "content": "x"}], {}, "not a chat message"),
        (MESSAGES, {"max_tokens": 0}, "max_tokens"),
        (MESSAGES, {"timeout_s": 0}, "timeout_s"),
    ],
)
def test_bad_calls_are_refused_before_any_work(
    messages: list[dict[str, str]], kwargs: dict[str, Any], match: str
) -> None:
    """Empty or malformed messages and non-positive limits are InputErrors."""
    with pytest.raises(InputError, match=match):
        OpenAIBackend(base_url="http://127.0.0.1:9/v1").complete(messages, **kwargs)


_text = st.text(max_size=20)
_messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["system", "user", "assistant"]), "content": _text}
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=100, deadline=None)
@given(messages=_messages, extra=_text)
def test_prompt_hash_is_stable_and_sensitive(messages: list[dict[str, str]], extra: str) -> None:
    """Equal messages and schema hash equal; any change to a message or the schema shows."""
    h = prompt_hash(messages, SCHEMA)
    assert h.startswith("sha256:")
    assert h == prompt_hash([dict(reversed(m.items())) for m in messages], dict(SCHEMA))
    changed = [*messages[:-1], {**messages[-1], "content": messages[-1]["content"] + "!" + extra}]
    assert prompt_hash(changed, SCHEMA) != h
    assert prompt_hash(messages, None) != h
    assert prompt_hash([*messages, {"role": "user", "content": extra}], SCHEMA) != h


def test_completion_metadata_is_planner_info() -> None:
    """What a call records fits the plan's planner metadata, cost included."""
    c = LocalBackend().complete(MESSAGES, schema=SCHEMA, max_tokens=64)
    info = PlannerInfo.model_validate(c.to_document())
    assert info.backend == "local"
    assert info.prompt_hash == c.prompt_hash
    assert (info.tokens_in, info.tokens_out) == (c.tokens_in, c.tokens_out)
    assert info.model_dump()["cost_usd"] == 0.0


def test_an_answer_that_is_not_json_gets_advice_that_fits_its_backend() -> None:
    """Not JSON from the local model blames no server; from an OpenAI-compatible server it
    points at response_format; cut off at max_tokens says so, for every backend."""
    hints = {}
    for backend in ("local", "openai", "anthropic"):
        with pytest.raises(BackendError, match="not JSON") as e:
            json_text("sure! {", backend=backend, model="m", finish_reason="stop")
        hints[backend] = e.value.hint or ""
        with pytest.raises(BackendError, match="cut off at max_tokens"):
            json_text('{"steps": [', backend=backend, model="m", finish_reason="length")
    assert "server" not in hints["local"]
    assert "grammar" in hints["local"]
    assert "response_format" in hints["openai"]
    assert "tool call" in hints["anthropic"]
