"""`--lab F`: point a command at a lab; the planner's inventory and facts come from it, the
lab's safety checks join validation, and a run hands it to its actors as a resource."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from planactor._errors import InputError
from planactor._home import home
from planactor.plan import BasisReader, Inventory
from planactor.validate import Policy

if TYPE_CHECKING:
    from planactor.lab import Lab

__all__ = ["LabContext", "LabOption", "lab_context"]

LabOption = typer.Option(
    None, "--lab", help="Lab file (default: $PLANACTOR_LAB, else $PLANACTOR_HOME/lab.json if any)."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LabContext:
    lab: Lab
    kind: str
    inventory: Inventory
    facts: dict[str, Any]
    safety: Policy | None
    # Records a plan's basis: the facts of this lab (as read here) the plan depends on.
    basis: BasisReader | None = None

    @property
    def path(self) -> Path:
        return self.lab.path

    @property
    def resources(self) -> dict[str, object]:
        """What `Engine(resources=...)` takes so that the lab packs' actors use this lab."""
        from planactor.lab import lab_resources

        return lab_resources(self.lab)


# planactor.lab.ENV_VAR and lab_path(), spelled here so that a command without a lab
# (most `validate`s) decides so without importing the simulators.
_ENV_VAR = "PLANACTOR_LAB"


def _default_lab_path() -> Path:
    return Path(os.environ.get(_ENV_VAR) or home() / "lab.json")


def lab_context(path: Path | None, *, required: bool = False) -> LabContext | None:
    """The lab `--lab` names, else the one PLANACTOR_LAB names, else the default one if it
    exists; None when there is none and none is required."""
    explicit = path is not None or bool(os.environ.get(_ENV_VAR))
    where = path if path is not None else _default_lab_path()
    if not explicit and not where.exists() and not required:
        return None
    from planactor import lab

    # InputError with a hint when missing; resolved, so a change of directory cannot move it.
    handle = lab.Lab(lab.current_lab(where).path.resolve())
    try:
        doc = handle.read()
    except InputError as e:
        if explicit or required:
            raise
        # The default lab nobody asked for: a broken one must not stop plans that never
        # touch it. Say so; an actor that needs a lab then fails for want of one.
        from planactor.cli._app import err

        err.print(f"warning: ignoring the default lab: {e.message}", markup=False)
        return None
    kind = lab.kinds().get(doc.kind)
    if kind is None:
        raise InputError(
            f"{handle.path}: this planactor has no {doc.kind!r} lab",
            hint="kinds: " + ", ".join(sorted(lab.kinds())),
        )
    try:
        return LabContext(
            lab=handle,
            kind=doc.kind,
            inventory=kind.inventory(doc.state),
            facts=kind.facts(doc.state),
            safety=kind.safety(doc.state),
            basis=lab.basis_reader(doc),
        )
    except ValueError as e:
        raise InputError(
            f"{handle.path}: {e}", hint=f"recreate it with `planactor lab init {doc.kind} --force`"
        ) from None
