"""Actors and the catalog that holds them."""

from typing import TYPE_CHECKING, Any

from planactor.catalog._actor import (
    ENTITY_KEY,
    Actor,
    ActorContext,
    Effect,
    LlmLog,
    LLMSkill,
    actor,
    actor_of,
    entity,
)
from planactor.catalog._catalog import (
    BUILTIN_PACKS,
    ENTRY_POINT_GROUP,
    PACKS_ENV,
    Catalog,
    pack_folders,
)
from planactor.catalog._llm_skill import LLM_RESOURCE, LLMClient, llm_skill
from planactor.catalog._routine import (
    Derivation,
    Param,
    Routine,
    RoutineStep,
    origin_problem,
    parse_routine,
)

if TYPE_CHECKING:
    from planactor.catalog._pack import PACK_FILE, LoadedPack, load_pack

__all__ = [
    "BUILTIN_PACKS",
    "ENTITY_KEY",
    "ENTRY_POINT_GROUP",
    "LLM_RESOURCE",
    "PACKS_ENV",
    "PACK_FILE",
    "Actor",
    "ActorContext",
    "Catalog",
    "Derivation",
    "Effect",
    "LLMClient",
    "LLMSkill",
    "LlmLog",
    "LoadedPack",
    "Param",
    "Routine",
    "RoutineStep",
    "actor",
    "actor_of",
    "entity",
    "llm_skill",
    "load_pack",
    "origin_problem",
    "pack_folders",
    "parse_routine",
]


def __getattr__(name: str) -> Any:
    # The declarative-pack loader (and its schema models) is imported when a pack.yaml is
    # loaded, not by every command that loads the catalog.
    if name in ("PACK_FILE", "LoadedPack", "load_pack"):
        from planactor.catalog import _pack

        return getattr(_pack, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
