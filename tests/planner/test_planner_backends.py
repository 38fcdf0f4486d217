"""planactor.planner._backends and _prices: the LLM backends, for real where they can run.

The local backend runs the shipped SmolLM2-135M GGUF in-process; the openai backend talks to
llama.cpp's own server started by the `llama_server` fixture; failures and the Anthropic
Messages API are played by stdlib HTTP servers on 127.0.0.1 (real SDK calls, real HTTP).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llm_fakes import FakeServer, Reply, Request, Responder

from planactor._errors import InputError
from planactor.plan import PlannerInfo
from planactor.planner._backends import (
    AnthropicBackend,
    Backend,
    BackendError,
    LocalBackend,
    OpenAIBackend,
    get_backend,
    prompt_hash,
)
from planactor.planner._prices import PRICES, estimate_cost, price_for

StartServer = Callable[[Responder], FakeServer]

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "action": {"enum": ["start", "stop", "restart"]},
        "target": {"type": "string", "maxLength": 40},
    },
    "required": ["action", "target"],
}
MESSAGES = [
    {"role": "system", "content": "Answer with JSON only."},
    {"role": "user", "content": "Restart the web server nginx-01."},
]
FAST = {"retries": 2, "backoff_s": 0.01}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the configuration it sets itself."""
    for name in (
        "PLANACTOR_MODEL",
        "PLANACTOR_OPENAI_MODEL",
        "PLANACTOR_ANTHROPIC_MODEL",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def _check_answer(text: str) -> dict[str, Any]:
    value = json.loads(text)
    assert isinstance(value, dict)
    assert value["action"] in ("start", "stop", "restart")
    assert isinstance(value["target"], str)
    return value


def _chat_completion(content: str, *, finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


# -- local -----------------------------------------------------------------------------------


def test_local_backend_returns_json_valid_against_the_schema() -> None:
    """The shipped model, grammar-constrained, answers with the schema's enum and string."""
    backend = get_backend("local")
    assert isinstance(backend, Backend)
    c = backend.complete(MESSAGES, schema=SCHEMA, max_tokens=64)
    _check_answer(c.text)
    assert (c.backend, c.model) == ("local", "SmolLM2-135M-Instruct.Q4_1.gguf")
    assert c.tokens_in > 0
    assert c.tokens_out > 0
    assert c.latency_s > 0
    assert c.cost_usd == 0.0
    assert c.cost_note is None
    assert c.prompt_hash == prompt_hash(MESSAGES, SCHEMA)


def test_local_backend_is_deterministic() -> None:
    """Temperature 0 and a fixed seed: two calls, even through two backends, answer the same."""
    first = LocalBackend().complete(MESSAGES, schema=SCHEMA, max_tokens=64)
    second = LocalBackend().complete(MESSAGES, schema=SCHEMA, max_tokens=64)
    assert first.text == second.text
    assert (first.tokens_in, first.tokens_out) == (second.tokens_in, second.tokens_out)


def test_local_backend_without_schema_returns_free_text() -> None:
    """No schema, no grammar: the text comes back as the model wrote it."""
    c = LocalBackend().complete([{"role": "user", "content": "Say hi."}], max_tokens=8)
    assert isinstance(c.text, str)
    assert 0 < c.tokens_out <= 8


def test_local_backend_stops_at_its_deadline() -> None:
    """A deadline that has passed stops generation at the next token: a BackendError."""
    with pytest.raises(BackendError, match="did not finish within") as e:
        LocalBackend().complete(MESSAGES, schema=SCHEMA, timeout_s=1e-9)
    assert e.value.exit_code == 1


def test_local_backend_reports_json_cut_off_by_max_tokens() -> None:
    """Too few tokens for the JSON to close gives an error that says to raise max_tokens."""
    with pytest.raises(BackendError, match="max_tokens") as e:
        LocalBackend().complete(MESSAGES, schema=SCHEMA, max_tokens=3)
    assert e.value.hint is not None
    assert "max_tokens" in e.value.hint


def test_missing_model_file_names_the_path_and_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """PLANACTOR_MODEL pointing at nothing is bad input naming the path and the variable."""
    missing = tmp_path / "nope.gguf"
    monkeypatch.setenv("PLANACTOR_MODEL", str(missing))
    with pytest.raises(InputError, match="does not exist") as e:
        get_backend("local")
    assert str(missing) in e.value.message
    assert "PLANACTOR_MODEL" in e.value.message
    assert e.value.exit_code == 2


def test_text_file_is_not_a_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A file without the GGUF magic is refused before llama.cpp sees it."""
    text = tmp_path / "model.gguf"
    text.write_text("this is not a model\n")
    monkeypatch.setenv("PLANACTOR_MODEL", str(text))
    with pytest.raises(InputError, match="not a GGUF file") as e:
        LocalBackend()
    assert str(text) in e.value.message
    assert e.value.hint is not None
    assert "--model" in e.value.hint


def test_corrupt_gguf_is_input_error_at_first_call(tmp_path: Path) -> None:
    """A file with the GGUF magic but no model in it is refused when llama.cpp loads it."""
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 64)
    backend = LocalBackend(model_path=broken)
    with pytest.raises(InputError, match="not a usable GGUF model") as e:
        backend.complete(MESSAGES, schema=SCHEMA)
    assert str(broken) in e.value.message


def test_model_argument_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--model PATH (the model argument) is used even when PLANACTOR_MODEL is set."""
    monkeypatch.setenv("PLANACTOR_MODEL", str(tmp_path / "env.gguf"))
    with pytest.raises(InputError, match="--model") as e:
        get_backend("local", model=str(tmp_path / "flag.gguf"))
    assert "flag.gguf" in e.value.message


def test_a_directory_is_not_a_model(tmp_path: Path) -> None:
    """A directory given as the model is bad input naming it."""
    with pytest.raises(InputError, match="is a directory"):
        LocalBackend(model_path=tmp_path)


# -- shared ----------------------------------------------------------------------------------


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
    info = PlannerInfo.model_validate(c.metadata())
    assert info.backend == "local"
    assert info.prompt_hash == c.prompt_hash
    assert (info.tokens_in, info.tokens_out) == (c.tokens_in, c.tokens_out)
    assert info.model_dump()["cost_usd"] == 0.0


# -- openai ----------------------------------------------------------------------------------


def test_openai_backend_against_llama_cpp_server(llama_server: str) -> None:
    """The openai SDK against llama.cpp's server returns schema-shaped JSON and token counts."""
    backend = get_backend("openai", base_url=llama_server)
    c = backend.complete(MESSAGES, schema=SCHEMA, max_tokens=64, timeout_s=60)
    _check_answer(c.text)
    assert c.backend == "openai"
    assert c.model.endswith(".gguf")  # no model configured: the one the server lists
    assert c.tokens_in > 0
    assert c.tokens_out > 0
    assert c.cost_usd == 0.0
    assert c.cost_note is not None
    assert "self-served" in c.cost_note
    # llama-cpp-python's server refuses response_format json_schema (HTTP 500).
    assert isinstance(backend, OpenAIBackend)
    assert backend.schema_mode == "json_object"


def test_openai_closed_port_fails_after_bounded_retries() -> None:
    """Nothing listening: three attempts, then a BackendError saying where and what to check."""
    backend = OpenAIBackend(base_url="http://127.0.0.1:9/v1", model="m", **FAST)
    with pytest.raises(BackendError, match="cannot connect") as e:
        backend.complete(MESSAGES, schema=SCHEMA, timeout_s=2)
    assert "after 3 attempts" in e.value.message
    assert "127.0.0.1:9" in e.value.message
    assert e.value.retryable


def test_openai_timeout_is_retried_then_reported(fake_server: StartServer) -> None:
    """A server slower than the timeout is tried three times, then reported as timed out."""
    server = fake_server(lambda req, n: Reply(body=_chat_completion("{}"), delay_s=2.0))
    backend = OpenAIBackend(base_url=server.url + "/v1", model="m", **FAST)
    with pytest.raises(BackendError, match="timed out"):
        backend.complete(MESSAGES, timeout_s=0.2)
    assert len(server.requests) == 3


def test_openai_garbage_body_is_a_backend_error(fake_server: StartServer) -> None:
    """An HTML page where a chat completion should be is retried, then a BackendError."""
    server = fake_server(
        lambda req, n: Reply(body=b"<html>502 Bad Gateway</html>", content_type="text/html")
    )
    backend = OpenAIBackend(base_url=server.url + "/v1", model="m", **FAST)
    with pytest.raises(BackendError, match="not a chat completion"):
        backend.complete(MESSAGES, schema=SCHEMA)
    assert len(server.requests) == 3


def test_openai_json_garbage_body_is_a_backend_error(fake_server: StartServer) -> None:
    """A JSON body that is no chat completion is a BackendError too."""
    server = fake_server(lambda req, n: Reply(body={"hello": "world"}))
    backend = OpenAIBackend(base_url=server.url + "/v1", model="m", **FAST)
    with pytest.raises(BackendError, match="not a chat completion"):
        backend.complete(MESSAGES, schema=SCHEMA)


def test_openai_content_that_is_not_json_is_not_retried(fake_server: StartServer) -> None:
    """A well-formed answer whose text is not JSON fails at once: temperature 0 would repeat it."""
    server = fake_server(lambda req, n: Reply(body=_chat_completion("Sure! Restarting nginx.")))
    backend = OpenAIBackend(base_url=server.url + "/v1", model="m", **FAST)
    with pytest.raises(BackendError, match=r"not JSON: 'Sure! Restarting nginx\.'"):
        backend.complete(MESSAGES, schema=SCHEMA)
    assert len(server.requests) == 1


def test_openai_server_errors_are_retried_until_one_succeeds(fake_server: StartServer) -> None:
    """Two 503s and then an answer: the call succeeds on its third attempt."""

    def respond(req: Request, n: int) -> Reply:
        if n < 2:
            return Reply(status=503, body={"error": {"message": "overloaded"}})
        return Reply(body=_chat_completion('{"action": "stop", "target": "db"}'))

    server = fake_server(respond)
    backend = OpenAIBackend(base_url=server.url + "/v1", model="m", **FAST)
    c = backend.complete(MESSAGES, schema=SCHEMA)
    assert json.loads(c.text) == {"action": "stop", "target": "db"}
    assert (c.tokens_in, c.tokens_out) == (11, 7)
    assert len(server.requests) == 3


def test_openai_client_errors_are_not_retried(fake_server: StartServer) -> None:
    """A 404 (unknown model) is reported at once, with a hint to set the model."""
    server = fake_server(
        lambda req, n: Reply(status=404, body={"error": {"message": "model 'm' not found"}})
    )
    backend = OpenAIBackend(base_url=server.url + "/v1", model="m", **FAST)
    with pytest.raises(BackendError, match="answered 404") as e:
        backend.complete(MESSAGES)
    assert not e.value.retryable
    assert e.value.hint is not None
    assert "PLANACTOR_OPENAI_MODEL" in e.value.hint
    assert len(server.requests) == 1


def test_openai_falls_back_to_json_object(fake_server: StartServer) -> None:
    """A server that refuses json_schema gets json_object with the schema beside it."""

    def respond(req: Request, n: int) -> Reply:
        if req.body["response_format"]["type"] == "json_schema":
            return Reply(status=400, body={"error": {"message": "json_schema unsupported"}})
        return Reply(body=_chat_completion('{"action": "start", "target": "web"}'))

    server = fake_server(respond)
    backend = OpenAIBackend(base_url=server.url + "/v1", model="m", **FAST)
    backend.complete(MESSAGES, schema=SCHEMA)
    backend.complete(MESSAGES, schema=SCHEMA)
    sent = [r.body["response_format"] for r in server.requests]
    assert sent[0] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": SCHEMA, "strict": False},
    }
    # The refusal is remembered: later calls go straight to json_object.
    assert sent[1:] == [{"type": "json_object", "schema": SCHEMA}] * 2


def test_openai_hosted_model_is_priced(fake_server: StartServer) -> None:
    """A hosted OpenAI model's cost comes from the price table."""
    server = fake_server(lambda req, n: Reply(body=_chat_completion("hi")))
    backend = OpenAIBackend(base_url=server.url + "/v1", model="gpt-4o-mini", **FAST)
    backend.hosted = True  # as if server.url were api.openai.com
    c = backend.complete(MESSAGES, max_tokens=50)
    assert math.isclose(c.cost_usd, (11 * 0.15 + 7 * 0.60) / 1e6)
    assert c.cost_note is None
    # OpenAI's own API gets the newer name for the output limit.
    assert server.requests[0].body["max_completion_tokens"] == 50


def test_openai_without_a_key_names_the_variable() -> None:
    """OpenAI itself without OPENAI_API_KEY is bad input naming the variable; no network."""
    with pytest.raises(InputError, match="OPENAI_API_KEY") as e:
        get_backend("openai")
    assert e.value.hint is not None
    assert "OPENAI_BASE_URL" in e.value.hint


# -- anthropic -------------------------------------------------------------------------------


def test_anthropic_without_a_key_names_the_variable() -> None:
    """No ANTHROPIC_API_KEY: an InputError naming it, before any network."""
    with pytest.raises(InputError, match="ANTHROPIC_API_KEY") as e:
        get_backend("anthropic", base_url="http://127.0.0.1:9")
    assert e.value.exit_code == 2


def _tool_use_message(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-5-5",
        "content": [{"type": "tool_use", "id": "toolu_01", "name": "answer", "input": value}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 1000, "output_tokens": 100},
    }


def test_anthropic_tool_input_comes_back_as_the_text(
    monkeypatch: pytest.MonkeyPatch, fake_server: StartServer
) -> None:
    """Against an imitation Messages API, the forced tool's input is the JSON text, priced."""
    answer = {"action": "restart", "target": "nginx-01"}
    server = fake_server(lambda req, n: Reply(body=_tool_use_message(answer)))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    c = get_backend("anthropic", base_url=server.url).complete(MESSAGES, schema=SCHEMA)
    assert json.loads(c.text) == answer
    assert (c.backend, c.model) == ("anthropic", "claude-sonnet-5-5")
    assert (c.tokens_in, c.tokens_out) == (1000, 100)
    assert math.isclose(c.cost_usd, (1000 * 2.0 + 100 * 10.0) / 1e6)
    [request] = server.requests
    assert request.path == "/v1/messages"
    assert request.body["system"] == "Answer with JSON only."
    assert request.body["messages"] == MESSAGES[1:]
    assert request.body["tools"][0]["input_schema"] == SCHEMA
    assert request.body["tool_choice"] == {"type": "tool", "name": "answer"}


def test_anthropic_overload_is_retried(fake_server: StartServer) -> None:
    """A 529 (overloaded) is transient: the next attempt's answer is returned."""

    def respond(req: Request, n: int) -> Reply:
        if n == 0:
            return Reply(status=529, body={"type": "error", "error": {"type": "overloaded_error"}})
        return Reply(body=_tool_use_message({"action": "stop", "target": "x"}))

    server = fake_server(respond)
    backend = AnthropicBackend(api_key="k", base_url=server.url, **FAST)
    assert json.loads(backend.complete(MESSAGES, schema=SCHEMA).text)["action"] == "stop"
    assert len(server.requests) == 2


def test_anthropic_bad_key_is_input_error(fake_server: StartServer) -> None:
    """A 401 is a configuration problem: an InputError naming ANTHROPIC_API_KEY."""
    server = fake_server(
        lambda req, n: Reply(
            status=401, body={"type": "error", "error": {"type": "authentication_error"}}
        )
    )
    backend = AnthropicBackend(api_key="wrong", base_url=server.url, **FAST)
    with pytest.raises(InputError, match="refused the API key") as e:
        backend.complete(MESSAGES, schema=SCHEMA)
    assert e.value.hint == "check ANTHROPIC_API_KEY"
    assert len(server.requests) == 1


# -- prices ----------------------------------------------------------------------------------


def test_price_table_prices_a_known_hosted_model() -> None:
    """A dated model id uses its family's price; a million tokens each way costs in + out."""
    cost, note = estimate_cost("gpt-4o-mini-2024-07-18", 1_000_000, 1_000_000)
    assert math.isclose(cost, 0.15 + 0.60)
    assert note is None
    assert price_for("claude-sonnet-4-5-20250929") == PRICES["claude-sonnet-4-5"]
    assert price_for("gpt-4o-2024-08-06") == PRICES["gpt-4o"]
    assert price_for("gpt-5.4-mini-2026-03-17") == PRICES["gpt-5.4-mini"]
    assert price_for("gpt-5-mini") != price_for("gpt-5")


def test_unknown_model_costs_nothing_and_says_so() -> None:
    """A model the table lacks costs 0 with a note naming it; local models cost 0 silently."""
    cost, note = estimate_cost("my-finetune", 10, 10)
    assert cost == 0.0
    assert note is not None
    assert "my-finetune" in note
    assert estimate_cost("gpt-4o", 10, 10, priced=False) == (0.0, None)
    assert price_for("gpt-4ox") is None


@settings(max_examples=100, deadline=None)
@given(
    model=st.sampled_from(sorted(PRICES)),
    tokens_in=st.integers(0, 10**7),
    tokens_out=st.integers(0, 10**7),
)
def test_cost_is_linear_in_tokens(model: str, tokens_in: int, tokens_out: int) -> None:
    """Cost is non-negative and adds up: two calls cost what one call with both counts costs."""
    one, _ = estimate_cost(model, tokens_in, tokens_out)
    half_in, half_out = tokens_in // 2, tokens_out // 2
    a, _ = estimate_cost(model, half_in, half_out)
    b, _ = estimate_cost(model, tokens_in - half_in, tokens_out - half_out)
    assert one >= 0
    assert math.isclose(a + b, one, rel_tol=1e-9, abs_tol=1e-12)
