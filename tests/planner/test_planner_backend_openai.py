"""planactor.planner._backend_openai: the openai SDK against llama.cpp's own server (started by
the `llama_server` fixture) and against stdlib HTTP servers playing failures (real SDK calls,
real HTTP on 127.0.0.1).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pytest
from backend_cases import FAST, MESSAGES, SCHEMA, chat_completion, check_answer, clear_backend_env
from llm_fakes import FakeServer, Reply, Request, Responder

from planactor import InputError
from planactor.planner import BackendError, OpenAIBackend, get_backend

StartServer = Callable[[Responder], FakeServer]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the configuration it sets itself."""
    clear_backend_env(monkeypatch)


def test_openai_backend_against_llama_cpp_server(llama_server: str) -> None:
    """The openai SDK against llama.cpp's server returns schema-shaped JSON and token counts."""
    backend = get_backend("openai", base_url=llama_server)
    c = backend.complete(MESSAGES, schema=SCHEMA, max_tokens=64, timeout_s=60)
    check_answer(c.text)
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
    server = fake_server(lambda req, n: Reply(body=chat_completion("{}"), delay_s=2.0))
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
    server = fake_server(lambda req, n: Reply(body=chat_completion("Sure! Restarting nginx.")))
    backend = OpenAIBackend(base_url=server.url + "/v1", model="m", **FAST)
    with pytest.raises(BackendError, match=r"not JSON: 'Sure! Restarting nginx\.'"):
        backend.complete(MESSAGES, schema=SCHEMA)
    assert len(server.requests) == 1


def test_openai_server_errors_are_retried_until_one_succeeds(fake_server: StartServer) -> None:
    """Two 503s and then an answer: the call succeeds on its third attempt."""

    def respond(req: Request, n: int) -> Reply:
        if n < 2:
            return Reply(status=503, body={"error": {"message": "overloaded"}})
        return Reply(body=chat_completion('{"action": "stop", "target": "db"}'))

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
        return Reply(body=chat_completion('{"action": "start", "target": "web"}'))

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
    server = fake_server(lambda req, n: Reply(body=chat_completion("hi")))
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
