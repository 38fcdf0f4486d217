"""planactor.planner._backend_anthropic: the anthropic SDK against a stdlib HTTP server playing
the Messages API (real SDK calls, real HTTP on 127.0.0.1).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pytest
from backend_cases import FAST, MESSAGES, SCHEMA, clear_backend_env, tool_use_message
from llm_fakes import FakeServer, Reply, Request, Responder

from planactor import InputError
from planactor.planner import AnthropicBackend, get_backend

StartServer = Callable[[Responder], FakeServer]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees only the configuration it sets itself."""
    clear_backend_env(monkeypatch)


def test_anthropic_without_a_key_names_the_variable() -> None:
    """No ANTHROPIC_API_KEY: an InputError naming it, before any network."""
    with pytest.raises(InputError, match="ANTHROPIC_API_KEY") as e:
        get_backend("anthropic", base_url="http://127.0.0.1:9")
    assert e.value.exit_code == 2


def test_anthropic_tool_input_comes_back_as_the_text(
    monkeypatch: pytest.MonkeyPatch, fake_server: StartServer
) -> None:
    """Against an imitation Messages API, the forced tool's input is the JSON text, priced."""
    answer = {"action": "restart", "target": "nginx-01"}
    server = fake_server(lambda req, n: Reply(body=tool_use_message(answer)))
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
        return Reply(body=tool_use_message({"action": "stop", "target": "x"}))

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
