"""Recovery playbooks: deterministic remediations, registered per pack and failure signature.

A playbook is tried before any model: it declares what it answers (the pack, the actors
whose failure it handles, a pattern on the error message, optionally a lab fault kind that
must be pending) and a function from the recovery context to a `Proposal`: a remediation
plan (or none, when no change of ours can help) and what a person should do with the paused
run afterwards (resume or abort, and why). `register_playbook` adds one; the storage pack's
playbooks are registered when this package is imported (`_storage_playbooks`), and an
installed distribution adds its own through the `planactor.playbooks` entry point group
(loaded once, on first use; see docs/harness.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, Literal

from planactor._errors import InputError
from planactor.catalog import Catalog
from planactor.plan import BasisReader, Inventory, Plan

__all__ = [
    "PLAYBOOK_GROUP",
    "Failure",
    "Next",
    "Playbook",
    "Proposal",
    "RecoveryContext",
    "load_playbooks",
    "playbooks",
    "propose_by_playbook",
    "register_playbook",
]

# What the paused run should get once the remediation (if any) has run.
Next = Literal["resume", "abort", "repair-then-resume"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """Why the run paused, from its journal: the pause reason and the failed step's error."""

    run_id: str
    reason: str  # the run.paused reason
    step: str | None = None
    actor: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)
    error_kind: str | None = None  # the error's class name (ActorError, UnexpectedState...)
    message: str = ""
    hint: str | None = None  # when the journal recorded one

    @property
    def text(self) -> str:
        """What a signature's pattern is matched against: the error, else the pause reason."""
        return self.message or self.reason


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryContext:
    """Everything a playbook (or the model) may read; nothing here can change the world."""

    run_id: str
    plan: Plan  # the paused run's plan
    failure: Failure
    tail: tuple[str, ...]  # the journal's last events, one line each
    catalog: Catalog
    requested_by: str  # who asks for the remediation
    lab_kind: str | None = None
    lab_state: Mapping[str, Any] | None = None  # fresh: read from the lab now
    facts: Mapping[str, Any] | None = None
    inventory: Inventory | None = None
    faults: tuple[Mapping[str, Any], ...] = ()  # the lab's pending faults
    fixes: tuple[tuple[str, str], ...] = ()  # (run id, status) of runs that recover this one
    basis: BasisReader | None = None  # records the lab facts a remediation is made from

    def link(self, plan: Plan) -> Plan:
        """`plan` as a remediation of this run: `recovers` and the lab basis, both hashed."""
        doc = {**plan.to_document(), "recovers": self.run_id}
        basis = self.basis(doc) if self.basis is not None else None
        if basis is not None:
            doc["basis"] = basis.to_document()
        return Plan.model_validate(doc)


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal:
    """A remediation (`plan`, None when no change can help) and the advice for the run."""

    source: str  # "playbook NAME" or "model"
    why: str
    plan: Plan | None
    then: Next
    then_why: str


Propose = Callable[[RecoveryContext], Proposal | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Playbook:
    """`(pack, actors, error pattern, fault kind) -> propose(context)`."""

    name: str
    pack: str
    description: str
    propose: Propose
    actors: tuple[str, ...] = ()  # the failed step's actor is one of these (empty: any)
    error: str = ""  # a regular expression searched in the failure's text (empty: any)
    fault: str | None = None  # a lab fault of this kind is pending

    def matches(self, ctx: RecoveryContext) -> bool:
        f = ctx.failure
        if self.actors and f.actor not in self.actors:
            return False
        if self.error and re.search(self.error, f.text) is None:
            return False
        return self.fault is None or any(x.get("kind") == self.fault for x in ctx.faults)


_REGISTRY: dict[str, Playbook] = {}


def register_playbook(playbook: Playbook, *, replace: bool = False) -> Playbook:
    """Add a playbook; tried in the order registered. A name is registered once."""
    if playbook.name in _REGISTRY and not replace:
        raise InputError(
            f"a recovery playbook named {playbook.name!r} is registered already",
            hint="choose another name, or pass replace=True",
        )
    try:
        re.compile(playbook.error)
    except re.error as e:
        raise InputError(f"playbook {playbook.name}: bad error pattern: {e}") from None
    _REGISTRY[playbook.name] = playbook
    return playbook


PLAYBOOK_GROUP = "planactor.playbooks"
_LOADED: set[str] = set()  # entry points loaded already (name = value)


def _offered(obj: object) -> Iterable[object]:
    if isinstance(obj, ModuleType):  # importing it registered what it registers itself
        return tuple(getattr(obj, "PLAYBOOKS", ()))
    if isinstance(obj, Playbook):
        return (obj,)
    if isinstance(obj, list | tuple):
        return tuple(obj)
    return (obj,)


def load_playbooks(*, group: str = PLAYBOOK_GROUP) -> tuple[str, ...]:
    """Register the playbooks of installed distributions (entry point group `group`).

    An entry point names a module (importing it may call `register_playbook`; a module
    attribute `PLAYBOOKS` lists more), a `Playbook`, or a list of them. Each is loaded once
    per process; the names of those loaded now are returned. One that fails to import, or
    offers something that is not a playbook, is bad input naming the entry point (exit 2).
    """
    loaded = []
    for ep in entry_points(group=group):
        key = f"{ep.name} = {ep.value}"
        if key in _LOADED:
            continue
        where = f"recovery playbooks {ep.name!r} ({ep.value}, entry point group {group})"
        try:
            obj = ep.load()
        except Exception as e:  # whatever a third-party import raises
            raise InputError(
                f"{where} failed to load: {type(e).__name__}: {e}",
                hint="fix or uninstall the distribution that declares it",
            ) from None
        for pb in _offered(obj):
            if not isinstance(pb, Playbook):
                raise InputError(
                    f"{where} offers a {type(pb).__name__}, not a Playbook",
                    hint="point the entry point at a module, a Playbook or a list of them",
                )
            if _REGISTRY.get(pb.name) is not pb:
                register_playbook(pb)
        _LOADED.add(key)
        loaded.append(ep.name)
    return tuple(loaded)


def playbooks() -> tuple[Playbook, ...]:
    """The registered playbooks (installed ones loaded first), in the order they are tried."""
    load_playbooks()
    return tuple(_REGISTRY.values())


def propose_by_playbook(ctx: RecoveryContext) -> Proposal | None:
    """The first proposal of a matching playbook (of a pack the paused plan uses), or None."""
    packs = {ctx.catalog.pack_of(s.actor) for s in ctx.plan.steps if s.actor in ctx.catalog}
    for pb in playbooks():
        if pb.pack in packs and pb.matches(ctx):
            proposal = pb.propose(ctx)
            if proposal is not None:
                return proposal
    return None
