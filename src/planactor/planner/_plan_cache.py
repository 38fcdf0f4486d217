"""The plan cache: the same request, against the same catalog, inventory, facts and model,
gets the same plan without asking the model again; an entry is re-validated on every use."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from planactor.catalog import Catalog, origin_problem
from planactor.plan import BasisReader, Inventory, Plan, canonical_json
from planactor.planner._backends import Backend
from planactor.planner._clauses import NotPlanned
from planactor.planner._grounding import Grounding, GroundingNote
from planactor.planner._llm_result import LLMPlanResult, note_document
from planactor.validate import Policy, validate

__all__ = ["PlanCache", "plan_cache_key"]


def plan_cache_key(**parts: Any) -> str:
    return hashlib.sha256(canonical_json(parts)).hexdigest()


class PlanCache:
    """Entries under `directory` (None: no cache), for one planner's catalog, inventory,
    facts, policy, basis and backend."""

    def __init__(
        self,
        *,
        directory: Path | None,
        catalog: Catalog,
        inventory: Inventory | None,
        facts: Mapping[str, Any] | None,
        policy: Policy | None,
        basis: BasisReader | None,
        backend: Backend,
    ) -> None:
        self.directory = directory
        self.catalog = catalog
        self.inventory = inventory
        self.facts = facts
        self.policy = policy
        self.basis = basis
        self.backend = backend

    def key(self, intent: str, requested_by: str, ticket: str | None, compose: bool) -> str:
        """The entry of one request, under everything that could change its plan."""
        return plan_cache_key(
            intent=intent,
            requested_by=requested_by,
            ticket=ticket,
            compose=compose,
            catalog=self.catalog.fingerprint,
            routines=sorted(
                (n, r.model_dump(mode="json")) for n, r in self.catalog.routines.items()
            ),
            inventory=self.inventory.fingerprint if self.inventory is not None else None,
            facts=self.facts,
            backend=self.backend.name,
            model=self.backend.model,
        )

    def _usable(self) -> bool:
        # A server's default model is known only after a call: without a name, plans from
        # two different models would share entries.
        return self.directory is not None and bool(self.backend.model)

    def get(self, key: str) -> LLMPlanResult | None:
        """The stored result, checked again against today's catalog, policy and lab; None
        when there is none, it is damaged, or it no longer holds."""
        if self.directory is None or not self._usable():
            return None
        path = self.directory / f"{key}.json"
        try:
            doc = json.loads(path.read_text("utf-8"))
            plan = Plan.model_validate(doc["plan"])
            notes_ok = doc.get("grounding") is None or all(
                isinstance(n, dict) and set(n) == {"param", "value", "source", "detail"}
                for n in doc["grounding"]
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # no entry, or a damaged one: plan afresh
        if not notes_ok:
            return None
        if self.basis is not None and plan.basis != self.basis(plan.to_document()):
            return None  # made from facts the lab no longer holds: plan afresh
        # The catalog or policy may have changed how it validates: check again, always.
        report = validate(
            plan.to_document(), catalog=self.catalog, inventory=self.inventory, policy=self.policy
        )
        if not report.ok:
            return None
        info = plan.planner
        if info is not None:
            plan = plan.model_copy(update={"planner": info.model_copy(update={"cache": "hit"})})
        routine = self.catalog.routines.get(str(doc.get("routine"))) if doc.get("routine") else None
        if doc.get("routine") and origin_problem(plan, self.catalog.routines) is not None:
            # An entry from before plans recorded their origin, or edited since: a routine
            # plan policy would not recognise as the routine's. Plan afresh.
            return None
        grounding = None
        if routine is not None and isinstance(doc.get("grounding"), list):
            notes = tuple(GroundingNote(**n) for n in doc["grounding"])
            values = {n.param: n.value for n in notes if n.value is not None}
            grounding = Grounding(routine=routine.name, values=values, notes=notes)
        return LLMPlanResult(
            plan=plan,
            report=report,
            path=str(doc.get("path", "routine")),
            routine=routine,
            grounding=grounding,
            attempts=int(doc.get("attempts", 1)),
            cached=True,
            warnings=tuple(doc.get("warnings", ())),
            not_planned=tuple(
                NotPlanned(clause=str(n["clause"]), reason=str(n["reason"]))
                for n in doc.get("not_planned", ())
            ),
        )

    def put(self, key: str, result: LLMPlanResult) -> None:
        """Store `result` (atomically: a reader never sees half an entry)."""
        if self.directory is None or not self._usable():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{key}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "plan": result.plan.to_document(),
                    "path": result.path,
                    "routine": result.routine.name if result.routine else None,
                    "attempts": result.attempts,
                    "warnings": list(result.warnings),
                    "not_planned": [n.to_document() for n in result.not_planned],
                    "grounding": [note_document(n) for n in result.grounding.notes]
                    if result.grounding is not None
                    else None,
                }
            ),
            "utf-8",
        )
        tmp.replace(path)
