"""The anthropic backend: the anthropic SDK (Messages API).

Structured output by forcing one tool whose `input_schema` is the schema; the tool's input
comes back as the JSON text. A tool input is always an object, so any other schema travels
wrapped as `{"value": schema}` and is unwrapped. An answer cut off at max_tokens is refused
even when it parses, because a truncated tool input is whatever part was complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from planactor._errors import InputError
from planactor.planner._backend_base import (
    BACKOFF_S,
    RETRIES,
    TOOL_NAME,
    BackendError,
    Message,
    SdkBackend,
)

__all__ = ["DEFAULT_ANTHROPIC_MODEL", "AnthropicBackend"]

DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-5-5"


class AnthropicBackend(SdkBackend):
    """The anthropic SDK; structured output by forcing a single tool whose input is the schema.

    Configuration: `api_key` or `ANTHROPIC_API_KEY` (required, checked before any network);
    `model` or `PLANACTOR_ANTHROPIC_MODEL`, else claude-sonnet-5-5; `base_url` or
    `ANTHROPIC_BASE_URL` for a proxy or gateway.
    """

    name = "anthropic"
    default_host = "api.anthropic.com"
    connect_hint = "check the network, or ANTHROPIC_BASE_URL"
    key_var = "ANTHROPIC_API_KEY"
    model_var = "PLANACTOR_ANTHROPIC_MODEL"
    answer_kind = "a message"

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        retries: int = RETRIES,
        backoff_s: float = BACKOFF_S,
    ) -> None:
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise InputError(
                "the anthropic backend needs an API key: ANTHROPIC_API_KEY is not set",
                hint="export ANTHROPIC_API_KEY=... (https://console.anthropic.com), or use"
                " --planner local, which runs offline",
            )
        super().__init__(
            model=model or os.environ.get("PLANACTOR_ANTHROPIC_MODEL") or DEFAULT_ANTHROPIC_MODEL,
            base_url=base_url or os.environ.get("ANTHROPIC_BASE_URL") or None,
            api_key=key,
            retries=retries,
            backoff_s=backoff_s,
        )

    def _sdk_module(self) -> Any:
        import anthropic

        return anthropic

    def _new_client(self) -> Any:
        return self._sdk_module().Anthropic(
            api_key=self._api_key, base_url=self.base_url, max_retries=0
        )

    def _check_stop(
        self, stop: str | None, *, schema: Mapping[str, Any] | None, max_tokens: int
    ) -> None:
        if schema is not None and stop == "max_tokens":
            # A forced tool call cut short still parses: its input is whatever was complete.
            raise BackendError(
                f"anthropic model {self.model!r} was cut off at max_tokens={max_tokens}",
                backend=self.name,
                hint="raise max_tokens, or ask for a shorter answer",
            )

    def _request(
        self,
        messages: Sequence[Message],
        schema: Mapping[str, Any] | None,
        max_tokens: int,
        timeout_s: float,
    ) -> tuple[str, str | None, int, int]:
        anthropic = self._sdk_module()
        # The Messages API takes the system prompt apart from the turns.
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": m["role"], "content": m["content"]}
                for m in messages
                if m["role"] != "system"
            ],
            "max_tokens": max_tokens,
            # No temperature: the anthropic SDK (2.x) takes no sampling parameters.
            "timeout": timeout_s,
        }
        if system:
            kwargs["system"] = system
        wrapped = schema is not None and schema.get("type") != "object"
        if schema is not None:
            # A tool's input is always an object: any other schema travels as its "value".
            input_schema = (
                {"type": "object", "properties": {"value": dict(schema)}, "required": ["value"]}
                if wrapped
                else dict(schema)
            )
            kwargs["tools"] = [
                {
                    "name": TOOL_NAME,
                    "description": "Give the answer, as the input of this tool.",
                    "input_schema": input_schema,
                }
            ]
            kwargs["tool_choice"] = {"type": "tool", "name": TOOL_NAME}
        try:
            r = self._sdk().messages.create(**kwargs)
        except (anthropic.AnthropicError, ValueError) as e:
            # ValueError: a body that is not JSON at all.
            raise self._translate(e) from None
        try:
            blocks = list(r.content)
            if schema is not None:
                uses = [b for b in blocks if b.type == "tool_use" and b.name == TOOL_NAME]
                if not uses:
                    text = "".join(getattr(b, "text", "") for b in blocks)
                else:
                    value = uses[0].input
                    if wrapped and isinstance(value, dict):
                        value = value.get("value")
                    text = json.dumps(value, ensure_ascii=False)
            else:
                text = "".join(b.text for b in blocks if b.type == "text")
            return text, r.stop_reason, int(r.usage.input_tokens), int(r.usage.output_tokens)
        except (AttributeError, TypeError, ValueError) as e:
            raise self._translate(e) from None
