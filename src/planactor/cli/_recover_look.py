"""`recover --diagnose` and `--ticket`: what the model looked at before the fix was proposed.

A model that fails here (not reachable, an answer that does not parse) is reported beside
the proposal, never in its place: the playbooks do not need it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from planactor._errors import PlanactorError
from planactor.harness import AskResult, RecoveryContext, Ticket, diagnose, ticket
from planactor.journal import Journal
from planactor.planner import Backend

__all__ = ["Looked", "look"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Looked:
    """The diagnosis loop's result and the ticket summary, when asked for, and what failed."""

    diagnosis: AskResult | None = None
    ticket: Ticket | None = None
    errors: tuple[str, ...] = field(default=())

    def findings(self) -> tuple[str, ...]:
        """Diagnostic lines: the loop's answer (if it cites observations) and its reads."""
        d = self.diagnosis
        if d is None:
            return ()
        lines = [f"diagnosis run {d.run_id}: {o.actor} -> {o.status}" for o in d.observations]
        if d.verdict == "supported" and d.answer:
            lines.append(f"diagnosis ({', '.join(d.cites)}): {d.answer}")
        else:
            lines.append(f"diagnosis {d.verdict}: {d.reason or 'no supported answer'}")
        return tuple(lines)

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.diagnosis is not None:
            doc["diagnosis"] = self.diagnosis.to_document()
        if self.ticket is not None:
            doc["ticket"] = self.ticket.to_document()
        if self.errors:
            doc["look_errors"] = list(self.errors)
        return doc

    def print(self, console: Console) -> None:
        t = self.ticket
        if t is not None:
            if t.error is None and t.title is not None:
                console.print(f"ticket summary (run {t.run_id}, written by a model):", markup=False)
                console.print(f"  {t.title}", markup=False, style="bold")
                console.print(f"  {t.summary or ''}", markup=False)
            else:
                console.print(f"ticket summary failed (run {t.run_id}): {t.error}", markup=False)
        for e in self.errors:
            console.print(f"note: {e}", markup=False, style="yellow")


def look(
    ctx: RecoveryContext,
    *,
    backend: Backend,
    journal: Journal,
    resources: Mapping[str, object] | None,
    run_diagnosis: bool,
    run_ticket: bool,
    max_steps: int,
) -> Looked:
    """Run the diagnosis loop and/or the ticket summary, each journaled and linked."""
    diagnosis = summary = None
    errors: list[str] = []
    if run_diagnosis:
        try:
            diagnosis = diagnose(
                ctx, backend=backend, journal=journal, resources=resources, max_steps=max_steps
            )
        except PlanactorError as e:
            errors.append(f"diagnosis: {e.message}")
    if run_ticket:
        try:
            summary = ticket(
                ctx.run_id,
                catalog=ctx.catalog,
                journal=journal,
                backend=backend,
                requested_by=ctx.requested_by,
            )
        except PlanactorError as e:
            errors.append(f"ticket summary: {e.message}")
    return Looked(diagnosis=diagnosis, ticket=summary, errors=tuple(errors))
