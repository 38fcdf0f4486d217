"""A storage lab, a journal and approver keys for recovery tests: a firmware upgrade paused
by an injected fault, `recover`, the fix approved and run, the original resumed.

`scenario(...)` plays the whole loop the way an operator following `recover` would, and
reports how it ended; tests/harness/test_harness_recovery_scenarios.py counts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from planactor import lab as lablib
from planactor.catalog import Catalog
from planactor.engine import Engine, RunResult, resume_gate
from planactor.harness import Recovery, gather, recover
from planactor.journal import EventKind, Journal
from planactor.plan import Plan
from planactor.planner import Backend
from planactor.policy import (
    KeyStore,
    RulePolicy,
    authorize,
    default_policy_text,
    parse_policy,
    sign,
)
from planactor.validate import ValidatedPlan, validate_plan

REQUESTER = "sam"
APPROVERS = ("alice", "carol")


@dataclass
class World:
    lab: lablib.Lab
    journal: Journal
    store: KeyStore
    catalog: Catalog
    policy: RulePolicy

    def safety(self) -> Any:
        doc = self.lab.read()
        return lablib.kinds()[doc.kind].safety(doc.state)

    def du(self) -> int:
        return sum(1 for v in self.lab.read().violations if v.get("kind") == "DU")

    def engine(self, on_event: Any = None) -> Engine:
        return Engine(
            catalog=self.catalog,
            journal=self.journal,
            resources=lablib.lab_resources(self.lab),
            on_event=on_event,
        )


_CATALOG: list[Catalog] = []


def world(tmp: Path) -> World:
    """A fresh default storage lab, its journal, and trusted keys for alice and carol."""
    if not _CATALOG:
        _CATALOG.append(Catalog.discover())
    lab = lablib.create_lab(tmp / "lab.json", kind="storage", scenario="default", overwrite=True)
    store = KeyStore(directory=tmp / "keys")
    for who in APPROVERS:
        store.new(who)
    return World(
        lab=lab,
        journal=Journal(tmp / "journal.db", create=True),
        store=store,
        catalog=_CATALOG[0],
        policy=parse_policy(default_policy_text(), source="default policy"),
    )


def approve(w: World, plan: Plan, who: tuple[str, ...] = APPROVERS) -> ValidatedPlan:
    """The plan signed by `who` (ticket CHG-1), validated."""
    now = datetime.now(UTC)
    approvals = [
        sign(
            plan,
            identity=x,
            key=w.store.private(x),
            now=now,
            valid_for=timedelta(hours=1),
            ticket="CHG-1",
        )
        for x in who
    ]
    return validate_plan(plan.model_copy(update={"approvals": approvals}), catalog=w.catalog)


def run(w: World, plan: ValidatedPlan, on_event: Any = None) -> RunResult:
    """Authorize against the trusted keys and run, as `planactor run` does."""
    auth = authorize(
        plan, catalog=w.catalog, policy=w.policy, trusted=w.store.trusted(), now=datetime.now(UTC)
    )
    return w.engine(on_event).run(plan, authorization=auth.to_document())


def upgrade(w: World, array: str, *, after: str = "", fault: Mapping[str, Any]) -> RunResult:
    """Upgrade `array` to 5.2.1, injecting `fault` once a step whose id starts with `after`
    has succeeded (at the start when `after` is empty)."""
    facts = lablib.facts(lablib.storage_state(w.lab.read()))
    plan = w.catalog.routines["storage.firmware_upgrade"].expand(
        {"array": array, "version": "5.2.1"}, facts=facts, requested_by=REQUESTER
    )
    fired: list[str] = []
    if not after:
        w.lab.inject_fault(dict(fault))
        fired.append("start")

    def inject(kind: str, step: str | None, _data: Mapping[str, Any]) -> None:
        if kind == EventKind.STEP_SUCCEEDED and (step or "").startswith(after) and not fired:
            w.lab.inject_fault(dict(fault))
            fired.append(step or "")

    return run(w, approve(w, plan), on_event=inject)


def recover_now(
    w: World, run_id: str, *, backend: Backend | None = None, model_only: bool = False
) -> Recovery:
    ctx, found = gather(w.journal, run_id, catalog=w.catalog, lab=w.lab, requested_by=REQUESTER)
    return recover(
        ctx,
        diagnostics=found,
        backend=backend,
        policy=w.policy,
        safety=w.safety(),
        trusted=w.store.trusted(),
        now=datetime.now(UTC),
        model_only=model_only,
    )


def resume(w: World, run_id: str, *, abort: bool = False) -> RunResult:
    gate = resume_gate(
        catalog=w.catalog,
        policy=w.policy,
        now=datetime.now(UTC),
        trusted=w.store.trusted(),
        safety=w.safety(),
    )
    return w.engine().resume(run_id, abort=abort, gate=gate)


@dataclass
class Outcome:
    """How one scenario ended."""

    paused: bool  # the fault paused the upgrade (else recovery had nothing to do)
    status: str  # the original run's last status
    du: int
    fixes: list[str] = field(default_factory=list)  # fix runs' statuses
    sources: list[str] = field(default_factory=list)  # what proposed each step
    repaired: bool = False  # a person repaired the lab (cleared the faults), as advised
    latency_s: list[float] = field(default_factory=list)

    @property
    def recovered(self) -> bool:
        return self.paused and self.status == "succeeded" and self.du == 0


def scenario(
    w: World, array: str, after: str, fault: Mapping[str, Any], *, rounds: int = 4
) -> Outcome:
    """The fault pauses the upgrade; follow `recover` until the run ends or it gives up."""
    first = upgrade(w, array, after=after, fault=fault)
    out = Outcome(paused=first.status == "paused", status=first.status, du=w.du())
    rid = first.run_id
    for _ in range(rounds):
        if out.status != "paused":
            break
        rec = recover_now(w, rid)
        out.latency_s.append(rec.latency_s)
        p = rec.proposal
        if p is None:
            break
        out.sources.append(p.source)
        if rec.validated is not None:
            fixed = run(w, approve(w, rec.validated.plan, who=("alice",)))
            out.fixes.append(fixed.status)
            if fixed.status != "succeeded":
                break
            continue  # recover again: it says what to do now
        if p.then == "repair-then-resume":
            w.lab.clear_faults()  # the technician repairs the path / the host, as advised
            out.repaired = True
            continue
        result = resume(w, rid, abort=p.then == "abort")
        out.status = result.status
    out.du = w.du()
    return out
