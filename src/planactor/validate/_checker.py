"""What the checks of one validation share: the problems found so far and the run's memos.

Each concern has its module (`_structure`, `_references`, `_arguments`, `_grounding`);
`_validate` reads the document and drives them over the steps.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from planactor.catalog import Actor, Catalog
from planactor.plan import Inventory, Step, format_location
from planactor.validate._report import Problem
from planactor.validate._schema import json_types, schema_at

__all__ = ["Checker", "Loc", "TypesAt", "close"]

Loc = tuple[str | int, ...]
# What a schema says about one position: its schemas (None: cannot exist) and JSON types.
TypesAt = tuple[list[dict[str, Any]] | None, set[str] | None]


def close(word: str, options: Iterable[str]) -> str | None:
    """A did-you-mean naming up to three close options, or None."""
    found = difflib.get_close_matches(word, list(options), n=3, cutoff=0.6)
    return f"did you mean {', '.join(repr(c) for c in found)}?" if found else None


@dataclass
class Checker:
    catalog: Catalog
    inventory: Inventory | None
    problems: list[Problem] = field(default_factory=list)
    # Memos for one run: plans repeat the same actors, references and argument positions.
    types: dict[tuple[str, bool, Loc], TypesAt] = field(default_factory=dict)
    arg_names: dict[str, set[str] | None] = field(default_factory=dict)  # None: extra allowed
    actors: dict[str, Actor | None] = field(default_factory=dict)

    def add(
        self,
        code: str,
        loc: Loc,
        message: str,
        hint: str | None = None,
        *,
        step: str | None = None,
        severity: str = "error",
    ) -> None:
        self.problems.append(
            Problem(
                code=code,
                location=format_location(loc),
                message=message,
                hint=hint,
                step=step,
                severity="warning" if severity == "warning" else "error",
            )
        )

    def lookup(self, name: str) -> Actor | None:
        """The catalog's actor of that name, or None; remembered for the run."""
        try:
            return self.actors[name]
        except KeyError:
            found = self.actors[name] = self.catalog.get(name) if name in self.catalog else None
            return found

    def actor(self, step: Step, base: Loc) -> Actor | None:
        """The step's actor; an `unknown-actor` problem (and None) when the catalog lacks it."""
        found = self.lookup(step.actor)
        if found is not None:
            return found
        suggestions = self.catalog.suggest(step.actor)
        hint = (
            f"did you mean {', '.join(repr(c) for c in suggestions)}?"
            if suggestions
            else "run `planactor actors` to list the catalog"
        )
        self.add(
            "unknown-actor", (*base, "actor"), f"unknown actor {step.actor!r}", hint, step=step.id
        )
        return None

    def types_at(self, actor: Actor, output: bool, path: Loc) -> TypesAt:
        """The schemas at `path` in the actor's output (or input), and their JSON types."""
        key = (actor.name, output, path)
        hit = self.types.get(key)
        if hit is None:
            at = schema_at(actor.output_schema if output else actor.input_schema, path)
            hit = self.types[key] = (at, json_types(at or []))
        return hit
