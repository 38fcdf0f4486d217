"""What the backend tests share: a prompt, its schema, fast retries, canned answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

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
BACKEND_ENV = (
    "PLANACTOR_MODEL",
    "PLANACTOR_OPENAI_MODEL",
    "PLANACTOR_ANTHROPIC_MODEL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
)


def clear_backend_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every variable a backend reads, so a test sees only what it sets itself."""
    for name in BACKEND_ENV:
        monkeypatch.delenv(name, raising=False)


def check_answer(text: str) -> dict[str, Any]:
    value = json.loads(text)
    assert isinstance(value, dict)
    assert value["action"] in ("start", "stop", "restart")
    assert isinstance(value["target"], str)
    return value


def chat_completion(content: str, *, finish: str = "stop") -> dict[str, Any]:
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


def tool_use_message(value: dict[str, Any]) -> dict[str, Any]:
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
