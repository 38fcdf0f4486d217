"""Plans and the lab facts they were made from: record them (planning), check them (run).

`basis_reader` gives a planner the function that records a plan's basis from a lab
document; `stale_facts` reads the same facts again from the lab as it is now and returns
those that changed; `stale_plan_error` words the refusal. The kind says which facts a
plan depends on (`LabKind.basis`) and which ones an operation changes on purpose
(`LabKind.footprint`): when a run resumes, what its own logged writes changed is expected.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planactor._errors import StalePlan
from planactor.lab._kinds import kinds
from planactor.lab._store import LabDocument
from planactor.plan import (
    Basis,
    BasisReader,
    FactChange,
    Plan,
    basis_changes,
    make_basis,
    plan_names,
)
from planactor.validate import Problem

if TYPE_CHECKING:
    from planactor.catalog import Catalog
    from planactor.plan import Inventory

__all__ = ["BasisCheck", "basis_reader", "replan_command", "stale_facts", "stale_plan_error"]


def basis_reader(doc: LabDocument) -> BasisReader | None:
    """What a planner calls to record the basis of a plan document made against `doc`;
    None when the lab's kind cannot say what a plan depends on."""
    kind = kinds().get(doc.kind)
    read = getattr(kind, "basis", None)
    if read is None:
        return None

    def basis(plan: Mapping[str, Any]) -> Basis | None:
        facts = read(doc.state, plan_names(plan))
        return make_basis(lab=doc.kind, facts=facts) if facts else None

    return basis


def _run_of(key: Any) -> str | None:
    """The run an idempotency key (`RUN/STEP[suffix]`) belongs to."""
    return key.split("/", 1)[0] if isinstance(key, str) and "/" in key else None


def stale_facts(plan: Plan, doc: LabDocument, *, runs: Collection[str] = ()) -> list[FactChange]:
    """The facts of `plan.basis` that read differently in `doc` now ([] without a basis).

    `runs`: runs whose logged writes count as intended (a resumed run and the runs that
    recover it), so the facts those writes change (`LabKind.footprint`) are not changes.
    """
    if plan.basis is None:
        return []
    kind = kinds().get(doc.kind)
    read = getattr(kind, "basis", None)
    if kind is None or read is None:
        return basis_changes(plan.basis, lab=doc.kind, now={})
    excused: list[tuple[str, str]] = []
    footprint = getattr(kind, "footprint", None)
    if runs and footprint is not None:
        for entry in doc.operations:
            if _run_of(entry.get("idempotency_key")) in runs:
                excused += footprint(str(entry.get("op")), entry.get("args") or {})
    now = read(doc.state, plan_names(plan.to_document()))
    return basis_changes(plan.basis, lab=doc.kind, now=now, excused=excused)


def replan_command(plan: Plan, *, lab: Path | None = None, output: str | None = None) -> str:
    """The `planactor plan ...` command that makes this plan again from the lab as it is."""
    words = ["planactor", "plan", plan.intent]
    if plan.origin is not None:
        words += ["--routine", plan.origin.routine]
        for name, value in plan.origin.params.items():
            text = value if isinstance(value, str) else json.dumps(value)
            words += ["--param", f"{name}={text}"]
    if plan.change_ticket:
        words += ["--ticket", plan.change_ticket]
    if lab is not None:
        words += ["--lab", str(lab)]
    if output is not None and output != "-":
        words += ["-o", output]
    return shlex.join(words)


def stale_plan_error(
    plan: Plan,
    changes: list[FactChange],
    *,
    lab: Path,
    output: str | None = None,
    run_id: str | None = None,
) -> StalePlan:
    """The refusal: which facts changed, from what to what, and how to plan again."""
    shown = [c.describe() for c in changes[:12]]
    if len(changes) > 12:
        shown.append(f"... and {len(changes) - 12} more")
    n = len(changes)
    what = f"run {run_id} may not resume: its plan is stale" if run_id else "plan is stale"
    return StalePlan(
        f"{what}: {n} fact{'s' if n != 1 else ''} it was made from changed in {lab} "
        f"since it was planned and approved:\n  " + "\n  ".join(shown),
        changes=tuple(changes),
        hint=f"plan again against the lab as it is now, then approve the new plan: "
        f"`{replan_command(plan, lab=lab, output=output)}`"
        + (f" (and `planactor resume {run_id} --abort` to compensate what ran)" if run_id else ""),
    )


class BasisCheck:
    """A validation Policy (warnings only) judging a plan's basis against a lab.

    - `no-basis`: the plan names things of this lab but records no basis (written by hand,
      or made without `--lab`): `run` cannot tell whether it is stale;
    - `stale-basis`: facts it was made from changed since; `run` will refuse it.
    """

    def __init__(self, *, doc: LabDocument, path: Path) -> None:
        self.doc = doc
        self.path = path

    def check(
        self,
        plan: Plan,
        *,
        catalog: Catalog,  # noqa: ARG002 (the Policy protocol)
        inventory: Inventory | None,  # noqa: ARG002
    ) -> list[Problem]:
        if plan.basis is not None:
            changes = stale_facts(plan, self.doc)
            if not changes:
                return []
            shown = "; ".join(c.describe() for c in changes[:5])
            more = f" and {len(changes) - 5} more" if len(changes) > 5 else ""
            return [
                Problem(
                    code="stale-basis",
                    location="basis",
                    severity="warning",
                    message=f"the plan is stale: facts it was made from changed in {self.path}: "
                    f"{shown}{more}; `run` will refuse it",
                    hint=f"plan again: `{replan_command(plan, lab=self.path)}`",
                )
            ]
        read = basis_reader(self.doc)
        if read is None or read(plan.to_document()) is None:
            return []  # it names nothing of this lab: nothing it could be stale about
        return [
            Problem(
                code="no-basis",
                location="basis",
                severity="warning",
                message="the plan records no basis (the lab facts it was made from), so "
                "`run` cannot tell whether the lab changed since it was written and approved",
                hint=f"make it with `planactor plan ... --lab {self.path}` to record one",
            )
        ]
