"""The implementation kinds of declarative packs: `ansible`, `http`, `command`.

The catalog's pack loader (`planactor.catalog._pack`) checks a pack.yaml and then calls
`bind` here, by module name, for each actor: the kinds run processes and open sockets, so
they sit above the catalog with the other packs. docs/packs.md describes each kind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from planactor.actors.kinds import _ansible, _command, _http
from planactor.actors.kinds._common import ARTIFACTS_RESOURCE, Redactor, fill, fill_value
from planactor.catalog import ActorContext
from planactor.catalog._pack_schema import ActorDecl

__all__ = ["ARTIFACTS_RESOURCE", "Redactor", "bind", "fill", "fill_value"]

_BINDERS = {"ansible": _ansible.bind, "http": _http.bind, "command": _command.bind}


def bind(
    *,
    decl: ActorDecl,
    folder: Path,
    input_model: type[BaseModel],  # noqa: ARG001 - the actor validates its input before the call
    output_model: type[BaseModel],
) -> tuple[Callable[[BaseModel, ActorContext], BaseModel], Callable[..., Any] | None]:
    """The function that implements `decl` and its dry-run check (None: not simulated)."""
    return _BINDERS[decl.kind](decl=decl, folder=folder, output_model=output_model)
