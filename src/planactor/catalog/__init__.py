"""Actors and the catalog that holds them."""

from planactor.catalog._actor import (
    ENTITY_KEY,
    Actor,
    ActorContext,
    Effect,
    actor,
    actor_of,
    entity,
)
from planactor.catalog._catalog import BUILTIN_PACKS, ENTRY_POINT_GROUP, Catalog
from planactor.catalog._routine import (
    Param,
    Routine,
    RoutineStep,
    origin_problem,
    parse_routine,
)

__all__ = [
    "BUILTIN_PACKS",
    "ENTITY_KEY",
    "ENTRY_POINT_GROUP",
    "Actor",
    "ActorContext",
    "Catalog",
    "Effect",
    "Param",
    "Routine",
    "RoutineStep",
    "actor",
    "actor_of",
    "entity",
    "origin_problem",
    "parse_routine",
]
