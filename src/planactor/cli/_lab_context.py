"""`--lab F`: point a command at a lab; the planner's inventory and facts come from it, and
the lab's safety checks join validation."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from planactor.validate import Inventory, Policy

__all__ = ["LabContext", "LabOption", "lab_context"]

LabOption = typer.Option(
    None, "--lab", help="Lab file (default: $PLANACTOR_LAB, else $PLANACTOR_HOME/lab.json if any)."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LabContext:
    path: Path
    kind: str
    inventory: Inventory
    facts: dict[str, Any]
    safety: Policy | None


def lab_context(path: Path | None, *, required: bool = False) -> LabContext | None:
    """The lab `--lab` names (exported as PLANACTOR_LAB so actors find it), or the default
    one if it exists; None when there is none and none is required."""
    from planactor import lab

    explicit = path is not None or bool(os.environ.get("PLANACTOR_LAB"))
    where = path if path is not None else lab.lab_path()
    if not explicit and not where.exists() and not required:
        return None
    handle = lab.current_lab(where)  # InputError with a hint when missing
    os.environ["PLANACTOR_LAB"] = str(handle.path.resolve())
    doc = handle.read()
    if doc.kind == "storage":
        from planactor.actors.storage import StorageSafety

        return LabContext(
            path=handle.path,
            kind=doc.kind,
            inventory=lab.inventory(doc),
            facts=lab.facts(doc),
            safety=StorageSafety(state=lab.storage_state(doc)),
        )
    context = lab.kinds()[doc.kind]
    inventory = getattr(context, "inventory", None)
    facts = getattr(context, "facts", None)
    return LabContext(
        path=handle.path,
        kind=doc.kind,
        inventory=inventory(doc.state) if callable(inventory) else Inventory(),
        facts=facts(doc.state) if callable(facts) else {},
        safety=None,
    )
