"""A planner backend that replays canned answers: what a real model cannot be made to say on
purpose (a garbled plan, a timeout, the same mistake three times) played through the same
`Backend.complete` as the real backends."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from planactor._errors import BackendError
from planactor.planner._backend_base import Completion, Message, check_call, prompt_hash

__all__ = ["ScriptedBackend"]

Answer = str | Mapping[str, Any] | BackendError


class ScriptedBackend:
    """A Backend answering from a script, in order: a text as it is, a mapping as its JSON,
    a BackendError raised. It checks every call as the real backends do, records what it was
    asked (`prompts`, `schemas`, `answers`), and fails the test when asked more often than
    scripted."""

    name = "scripted"

    def __init__(
        self,
        *script: Answer,
        model: str = "script-1",
        tokens_in: int = 10,
        tokens_out: int = 5,
        latency_s: float = 0.01,
        cost_usd: float = 0.0,
    ) -> None:
        self.script: tuple[Answer, ...] = script
        self.model = model
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out
        self.latency_s = latency_s
        self.cost_usd = cost_usd
        self.prompts: list[list[Message]] = []
        self.schemas: list[Mapping[str, Any] | None] = []
        self.answers: list[Completion] = []  # what it answered (raised errors not included)

    @property
    def calls(self) -> int:
        """How many times `complete` was called."""
        return len(self.prompts)

    @property
    def unused(self) -> tuple[Answer, ...]:
        """The scripted answers nobody asked for (assert it is empty to check the whole
        script was played)."""
        return self.script[self.calls :]

    def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any] | None = None,
        max_tokens: int = 512,
        timeout_s: float = 120.0,
    ) -> Completion:
        """The next scripted answer, as a Completion; raises a scripted BackendError."""
        check_call(messages, max_tokens, timeout_s)
        self.prompts.append([dict(m) for m in messages])
        self.schemas.append(schema)
        if self.calls > len(self.script):
            # A test failure, not a planactor error: the code under test asked once too often.
            raise AssertionError(
                f"{self.name} backend asked {self.calls} times, scripted for {len(self.script)}"
            )
        answer = self.script[self.calls - 1]
        if isinstance(answer, BackendError):
            raise answer
        text = answer if isinstance(answer, str) else json.dumps(answer)
        completion = Completion(
            text=text,
            backend=self.name,
            model=self.model,
            prompt_hash=prompt_hash(messages, schema),
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            latency_s=self.latency_s,
            cost_usd=self.cost_usd,
        )
        self.answers.append(completion)
        return completion
