"""Inventory grounding: entity arguments name things the inventory knows.

Code: `unknown-entity`. An argument is an entity when its input schema marks it with the
catalog's entity key; a kind the inventory does not list is not checked.
"""

from __future__ import annotations

from typing import Any

from planactor.catalog import ENTITY_KEY, Actor
from planactor.plan import Step
from planactor.validate._checker import Checker, Loc, close

__all__ = ["check_entities"]


def check_entities(
    checker: Checker, step: Step, actor: Actor, loc: Loc, value: dict[str, Any]
) -> None:
    """Each entity name in the step's arguments (`value`, at `loc`) is in the inventory."""
    assert checker.inventory is not None
    for name, prop in actor.input_schema.get("properties", {}).items():
        kind = prop.get(ENTITY_KEY) if isinstance(prop, dict) else None
        if kind is None or name not in value:
            continue
        known = checker.inventory.names(kind)
        if known is None:
            continue
        given = value[name]
        items: list[tuple[Loc, Any]] = []
        if isinstance(given, str):
            items.append(((*loc, name), given))
        elif isinstance(given, list):
            items.extend(((*loc, name, i), v) for i, v in enumerate(given))
        for where, v in items:
            if not isinstance(v, str):
                continue
            if v not in known:
                checker.add(
                    "unknown-entity",
                    where,
                    f"no {kind} named {v!r} in the inventory",
                    close(v, known) or f"known: {', '.join(sorted(known)[:10])}",
                    step=step.id,
                )
