"""The openai backend: the openai SDK against OpenAI or any OpenAI-compatible server.

Structured output is `response_format` json_schema; a server that refuses it (vLLM, Ollama,
llama.cpp's server differ) gets json_object with the schema beside it, which llama.cpp's
server turns into a grammar. The model is resolved on the first call when none is configured
for a self-served server; hosted answers are priced, self-served ones are not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from planactor._errors import InputError
from planactor.planner._backend_base import (
    BACKOFF_S,
    RETRIES,
    SEED,
    TOOL_NAME,
    BackendError,
    Message,
    SdkBackend,
    grammar_safe,
    with_retries,
)

__all__ = ["DEFAULT_OPENAI_MODEL", "OpenAIBackend"]

DEFAULT_OPENAI_MODEL = "gpt-4.1-mini"


class OpenAIBackend(SdkBackend):
    """The openai SDK against OpenAI (default) or any OpenAI-compatible server.

    Configuration: `base_url` or `OPENAI_BASE_URL`; `api_key` or `OPENAI_API_KEY` (optional
    for a self-served base URL); `model` or `PLANACTOR_OPENAI_MODEL`, else gpt-4.1-mini on
    OpenAI, else the first model the server lists at `/models` (looked up on the first call).
    """

    name = "openai"
    default_host = "api.openai.com"
    connect_hint = "is the server running? check OPENAI_BASE_URL / --base-url"
    key_var = "OPENAI_API_KEY"
    model_var = "PLANACTOR_OPENAI_MODEL"
    answer_kind = "a chat completion"

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        retries: int = RETRIES,
        backoff_s: float = BACKOFF_S,
    ) -> None:
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        hosted = base_url is None or urlsplit(base_url).hostname == "api.openai.com"
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if hosted:
                raise InputError(
                    "the openai backend needs an API key: OPENAI_API_KEY is not set",
                    hint="export OPENAI_API_KEY=..., or set OPENAI_BASE_URL to a self-served"
                    " OpenAI-compatible server (vLLM, Ollama, llama.cpp)",
                )
            key = "not-needed"  # self-served servers ignore it, but the SDK requires one
        model = model or os.environ.get("PLANACTOR_OPENAI_MODEL") or ""
        if not model and hosted:
            model = DEFAULT_OPENAI_MODEL
        super().__init__(
            model=model, base_url=base_url, api_key=key, retries=retries, backoff_s=backoff_s
        )
        self.hosted = hosted
        # Servers that refuse response_format json_schema get json_object (+ schema) instead.
        self.schema_mode = "json_schema"

    def _sdk_module(self) -> Any:
        import openai

        return openai

    def _new_client(self) -> Any:
        # Retries are ours (bounded, only transient), so the SDK makes none.
        return self._sdk_module().OpenAI(
            api_key=self._api_key, base_url=self.base_url, max_retries=0
        )

    def _prepare(self, timeout_s: float) -> None:
        """With no model configured (a self-served server), ask the server for its first."""
        if self.model:
            return

        def first_model() -> str:
            openai = self._sdk_module()
            try:
                models = self._sdk().models.list(timeout=timeout_s)
                ids = [m.id for m in models.data]
            except (openai.OpenAIError, ValueError, AttributeError, TypeError) as e:
                raise self._translate(e) from None
            if not ids:
                raise BackendError(
                    f"{self._where()} lists no models",
                    backend=self.name,
                    hint="set PLANACTOR_OPENAI_MODEL or --model",
                )
            return str(ids[0])

        self.model = with_retries(
            first_model, backend=self.name, retries=self.retries, backoff_s=self.backoff_s
        )

    def _cost(self, tokens_in: int, tokens_out: int) -> tuple[float, str | None]:
        if self.hosted:
            return super()._cost(tokens_in, tokens_out)
        return 0.0, f"self-served at {self.base_url}: not priced"

    def _request(
        self,
        messages: Sequence[Message],
        schema: Mapping[str, Any] | None,
        max_tokens: int,
        timeout_s: float,
    ) -> tuple[str, str | None, int, int]:
        openai = self._sdk_module()
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "temperature": 0,
            "seed": SEED,
            "timeout": timeout_s,
        }
        # OpenAI's newer models take only max_completion_tokens; self-served servers know
        # max_tokens (llama-cpp-python's ignores the newer name).
        kwargs["max_completion_tokens" if self.hosted else "max_tokens"] = max_tokens
        while True:
            if schema is not None and self.schema_mode == "json_schema":
                # strict=False: strict mode refuses schemas with optional fields; the
                # planner validates what comes back anyway.
                kwargs["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": TOOL_NAME, "schema": dict(schema), "strict": False},
                }
            elif schema is not None:
                # "schema" beside json_object is the llama-cpp-python server's extension
                # (grammar-constrained); other servers ignore it and give plain JSON mode.
                kwargs["response_format"] = {
                    "type": "json_object",
                    "schema": grammar_safe(schema),  # the server builds a llama.cpp grammar
                }
            try:
                r = self._sdk().chat.completions.create(**kwargs)
            except openai.APIStatusError as e:
                if schema is not None and self.schema_mode == "json_schema" and _refuses(e):
                    self.schema_mode = "json_object"
                    continue
                raise self._translate(e) from None
            except (openai.OpenAIError, ValueError) as e:
                # ValueError: a body that is not JSON at all.
                raise self._translate(e) from None
            try:
                choice = r.choices[0]
                text = choice.message.content or ""
                usage = r.usage
                return (
                    text,
                    choice.finish_reason,
                    int(usage.prompt_tokens) if usage else 0,
                    int(usage.completion_tokens) if usage else 0,
                )
            except (AttributeError, IndexError, TypeError, ValueError) as e:
                raise self._translate(e) from None


def _refuses(e: Any) -> bool:
    """Whether a status error says the server does not take response_format json_schema."""
    status = int(e.status_code)
    if status in (400, 422):
        return True
    # llama-cpp-python's server answers a request it cannot validate with 500.
    return status == 500 and "response_format" in str(e.message)
