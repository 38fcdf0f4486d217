"""The model options every command that may ask a model shares, and the backend they name.

`plan`, `recover` and `ask` choose a planner; `run` and `resume` choose the model an LLM
skill step calls. One declaration each, so the flags read the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from planactor.planner import Backend

__all__ = ["BaseUrlOption", "LLMName", "LLMOption", "ModelOption", "SkillModel"]


class LLMName(StrEnum):
    """The backends an LLM skill can call (no `routine`: a skill is a model call)."""

    local = "local"
    openai = "openai"
    anthropic = "anthropic"


ModelOption = typer.Option(
    None,
    "--model",
    help="local: a GGUF file, smollm2 or gemma3-270m ($PLANACTOR_MODEL); hosted: model id.",
)
BaseUrlOption = typer.Option(
    None, "--base-url", help="openai/anthropic: the server (e.g. vLLM, Ollama, llama.cpp)."
)
LLMOption = typer.Option(
    LLMName.local,
    "--llm",
    help="The model LLM skill steps call: local (offline llama.cpp), openai, anthropic. "
    "Only a plan with a skill step loads one.",
)


@dataclass(frozen=True, slots=True)
class SkillModel:
    """The model `--llm/--model/--base-url` name for LLM skill steps."""

    name: LLMName
    model: str | None
    base_url: str | None

    def backend(self) -> Backend:
        """The backend (checked now, loaded on its first call)."""
        from planactor.planner import get_backend

        return get_backend(self.name.value, model=self.model, base_url=self.base_url)
