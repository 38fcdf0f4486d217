"""What every LLM backend shares: the interface, the call checks, retries and JSON parsing.

    Backend, Message, Completion   the interface and its answer
    BackendError                   the backend did not answer usably (exit 1)
    check_call                     refuse a malformed call before any work
    with_retries                   bounded retries of transient failures, with backoff
    json_text                      the answer if it parses as JSON, else why it may not
    grammar_safe                   a schema whose patterns llama.cpp's grammar converter takes
    SdkBackend                     the HTTP backends' common body (openai, anthropic): lazy
                                   SDK client, SDK errors translated, one `complete` whose
                                   vendor rules (model resolution, cut-off, price) are hooks

The vendors live in `_backend_local`, `_backend_openai` and `_backend_anthropic`;
`_backends.get_backend` picks one by name.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from planactor._errors import BackendError, InputError
from planactor.plan import content_hash
from planactor.planner._prices import estimate_cost

__all__ = [
    "BACKOFF_S",
    "RETRIES",
    "SEED",
    "TOOL_NAME",
    "Backend",
    "BackendError",
    "Completion",
    "Message",
    "SdkBackend",
    "check_call",
    "grammar_safe",
    "json_text",
    "prompt_hash",
    "with_retries",
]

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}

SEED = 20240229  # fixed, so a sampling configuration other than greedy stays reproducible
RETRIES = 2
BACKOFF_S = 0.25
TOOL_NAME = "answer"  # the name of the structured answer (openai schema, anthropic tool)


@dataclass(frozen=True, slots=True, kw_only=True)
class Completion:
    """One answer of one backend call, with what the plan's planner metadata records."""

    text: str
    backend: str
    model: str
    prompt_hash: str  # sha256: of the canonical JSON of messages + schema
    tokens_in: int
    tokens_out: int
    latency_s: float
    cost_usd: float
    cost_note: str | None = None  # why cost_usd is 0 for a model the price table lacks

    def to_document(self) -> dict[str, Any]:
        """Everything but the text, for the plan's planner metadata (`PlannerInfo`)."""
        record: dict[str, Any] = {
            "backend": self.backend,
            "model": self.model,
            "prompt_hash": self.prompt_hash,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "latency_s": self.latency_s,
            "cost_usd": self.cost_usd,
        }
        if self.cost_note is not None:
            record["cost_note"] = self.cost_note
        return record


@runtime_checkable
class Backend(Protocol):
    name: str
    model: str

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        timeout_s: float = 120.0,
    ) -> Completion: ...


def prompt_hash(messages: Sequence[Message], schema: Mapping[str, Any] | None) -> str:
    """`sha256:<hex>` of the canonical JSON of the messages and the schema."""
    return content_hash({"messages": [dict(m) for m in messages], "schema": schema})


def check_call(messages: Sequence[Message], max_tokens: int, timeout_s: float) -> None:
    """An InputError for a call no backend should attempt: no or malformed messages, bad limits."""
    if not messages:
        raise InputError("an LLM call needs at least one message")
    for i, m in enumerate(messages):
        if m.get("role") not in ("system", "user", "assistant") or not isinstance(
            m.get("content"), str
        ):
            raise InputError(
                f"message {i} is not a chat message: {m!r}",
                hint='each message is {"role": "system"|"user"|"assistant", "content": TEXT}',
            )
    if max_tokens < 1:
        raise InputError(f"max_tokens must be at least 1, not {max_tokens}")
    if not timeout_s > 0:
        raise InputError(f"timeout_s must be positive, not {timeout_s}")


_T = TypeVar("_T")


def with_retries(call: Callable[[], _T], *, backend: str, retries: int, backoff_s: float) -> _T:
    """`call()` retried on retryable BackendErrors: at most `retries` more attempts."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except BackendError as e:
            if not e.retryable or attempt > retries:
                if e.retryable:
                    raise BackendError(
                        f"{e.message} (gave up after {attempt} attempts)",
                        backend=backend,
                        hint=e.hint,
                        retryable=True,
                    ) from e
                raise
            time.sleep(backoff_s * 2 ** (attempt - 1))


def json_text(text: str, *, backend: str, model: str, finish_reason: str | None) -> str:
    """`text` if it parses as JSON; otherwise a BackendError that says why it might not."""
    try:
        json.loads(text)
    except ValueError:
        head = text if len(text) <= 200 else text[:200] + "..."
        if finish_reason in ("length", "max_tokens"):
            raise BackendError(
                f"{backend} model {model!r} was cut off at max_tokens before its JSON ended:"
                f" {head!r}",
                backend=backend,
                hint="raise max_tokens, or ask for a shorter answer",
            ) from None
        raise BackendError(
            f"{backend} model {model!r} returned text that is not JSON: {head!r}",
            backend=backend,
            hint=_NOT_JSON_HINTS.get(backend, _NOT_JSON_HINTS["openai"]),
        ) from None
    return text


# Why an answer that should have been JSON was not, by backend: no server is involved for
# `local`, so the advice differs.
_NOT_JSON_HINTS = {
    "local": "llama.cpp samples under a grammar built from the schema, so this means the "
    "schema held a construct its converter left out; report it, or use --planner openai "
    "with a larger model",
    "openai": "the server may not honour response_format (JSON schema); vLLM, Ollama and "
    "llama.cpp's server do: try another server or model",
    "anthropic": "the model answered outside its tool call; try again or another model",
}


# What llama.cpp's schema-to-grammar converter handles in a `pattern`: literals, classes,
# groups, alternation and quantifiers. `\d` crashes it (an invalid grammar escape) and `(?:`
# makes it give up on the whole schema, so both are rewritten; anything else unusual drops
# the pattern from the grammar (the validator still checks it after the answer). Shared by
# the local backend and the openai backend's json_object mode (llama.cpp's server).
_GRAMMAR_PATTERN = re.compile(r"^[\^$A-Za-z0-9_\-.\[\]()|+*?{},: ]*$")


def _grammar_pattern(pattern: str) -> str | None:
    # `\.` becomes the literal "\." in GBNF, an invalid escape that crashes llama.cpp: `[.]`.
    text = pattern.replace("(?:", "(").replace("\\d", "[0-9]").replace("\\.", "[.]")
    if "\\" in text or not _GRAMMAR_PATTERN.match(text):
        return None
    return text


def grammar_safe(schema: Mapping[str, Any]) -> dict[str, Any]:
    """`schema` with every `pattern` in the form llama.cpp's grammar converter accepts."""

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                if k == "pattern" and isinstance(v, str):
                    safe = _grammar_pattern(v)
                    if safe is not None:
                        out[k] = safe
                else:
                    out[k] = walk(v)
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    result: dict[str, Any] = walk(schema)
    return result


# -- the HTTP backends' common body ------------------------------------------------------------


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _transient_status(status: int) -> bool:
    return status in (408, 409, 429) or status >= 500


class SdkBackend:
    """A backend behind a vendor SDK (openai, anthropic): what their calls have in common.

    A subclass names its SDK and words (class attributes), builds its client, makes one
    request (`_request`) and may add a rule at three points of `complete`: before the first
    request (`_prepare`), on the stop reason (`_check_stop`) and for the price (`_cost`).
    """

    name: str
    # Words for errors: the default host, where to look when the connection fails, the
    # variables that hold the key and the model, and what a good answer is called.
    default_host: ClassVar[str]
    connect_hint: ClassVar[str]
    key_var: ClassVar[str]
    model_var: ClassVar[str]
    answer_kind: ClassVar[str]

    def __init__(
        self, *, model: str, base_url: str | None, api_key: str, retries: int, backoff_s: float
    ) -> None:
        self.model = model
        self.base_url = base_url
        self._api_key = api_key
        self.retries = retries
        self.backoff_s = backoff_s
        self._client: Any = None

    # -- what a vendor provides -------------------------------------------------------------

    def _sdk_module(self) -> Any:
        """The SDK module, imported on first use so importing the planner stays cheap."""
        raise NotImplementedError

    def _new_client(self) -> Any:
        raise NotImplementedError

    def _request(
        self,
        messages: Sequence[Message],
        schema: Mapping[str, Any] | None,
        max_tokens: int,
        timeout_s: float,
    ) -> tuple[str, str | None, int, int]:
        """One attempt: (text, stop reason, tokens in, tokens out), SDK errors translated."""
        raise NotImplementedError

    def _prepare(self, timeout_s: float) -> None:
        """Anything to settle before the first request (e.g. which model to ask)."""

    def _check_stop(
        self, stop: str | None, *, schema: Mapping[str, Any] | None, max_tokens: int
    ) -> None:
        """A BackendError for an answer that parses but must not be trusted."""

    def _cost(self, tokens_in: int, tokens_out: int) -> tuple[float, str | None]:
        return estimate_cost(self.model, tokens_in, tokens_out)

    # -- shared -----------------------------------------------------------------------------

    def _sdk(self) -> Any:
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def _where(self) -> str:
        return self.base_url or self.default_host

    def _translate(self, e: Exception) -> Exception:
        """An SDK exception (openai and anthropic share the class names) as our error."""
        sdk, backend, where = self._sdk_module(), self.name, self._where()
        if isinstance(e, sdk.APITimeoutError):
            return BackendError(
                f"{backend} backend at {where} timed out",
                backend=backend,
                hint="raise the timeout or check the server's load",
                retryable=True,
            )
        if isinstance(e, sdk.APIConnectionError):
            return BackendError(
                f"{backend} backend cannot connect to {where}: {e.__cause__ or e}",
                backend=backend,
                hint=self.connect_hint,
                retryable=True,
            )
        if isinstance(e, sdk.AuthenticationError | sdk.PermissionDeniedError):
            return InputError(
                f"{where} refused the API key ({e.status_code})", hint=f"check {self.key_var}"
            )
        if isinstance(e, sdk.APIStatusError):
            return BackendError(
                f"{backend} backend at {where} answered {e.status_code}: {_short(e.message)}",
                backend=backend,
                hint=f"check the model name ({self.model_var})" if e.status_code == 404 else None,
                retryable=_transient_status(e.status_code),
            )
        # A response validation error, a body that is not JSON, one without the expected parts.
        return BackendError(
            f"{backend} backend at {where} sent a response that is not {self.answer_kind}:"
            f" {_short(str(e))}",
            backend=backend,
            retryable=True,
        )

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        timeout_s: float = 120.0,
    ) -> Completion:
        check_call(messages, max_tokens, timeout_s)
        start = time.perf_counter()
        self._prepare(timeout_s)
        text, stop, tokens_in, tokens_out = with_retries(
            lambda: self._request(messages, schema, max_tokens, timeout_s),
            backend=self.name,
            retries=self.retries,
            backoff_s=self.backoff_s,
        )
        latency = time.perf_counter() - start
        self._check_stop(stop, schema=schema, max_tokens=max_tokens)
        if schema is not None:
            text = json_text(text, backend=self.name, model=self.model, finish_reason=stop)
        cost, note = self._cost(tokens_in, tokens_out)
        return Completion(
            text=text,
            backend=self.name,
            model=self.model,
            prompt_hash=prompt_hash(messages, schema),
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_s=latency,
            cost_usd=cost,
            cost_note=note,
        )
