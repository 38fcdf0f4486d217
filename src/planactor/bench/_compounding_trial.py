"""One trial of `bench compounding`: a fresh storage lab, one controller, the firmware upgrade.

The lab of a trial is one active-passive array with `hosts` hosts, each with one LUN and a
path per controller, all I/O on the `-a` controller; the tested routine upgrades it in
2 x hosts + 5 steps (preflight, drain each host, upgrade, drain each back, upgrade, fail
back, verify), so more hosts make a longer workflow. Trial t of a size draws, from seed
`BASE_SEED + 1000 * hosts + t`, the array's number, the hosts' numbers and the target
version: a greedy local model would otherwise answer every trial the same way.

    react          the pure-LLM executor (`_react_executor`), with a step budget
    planner-actor  the `plan` path in code: `LLMPlanner` (routine first, the model where it
                   is needed) with the lab's inventory, facts and DU safety, then
                   `validate_plan`, then the engine against the lab. The bench stands in
                   for the approver: approvals are `planactor run`'s gate, not execution.

Success: both controllers online on the target version and every host's I/O back on its
preferred controller. DU: the violations the lab's monitor recorded during the trial.
With faults, trial t injects `FAULTS[t % 2]` before it starts. How a trial ended: the
executor's `done`, `budget`, `stalled`, `model-failed`; planner-actor's run status
(`succeeded`, `paused`, ...) or `refused` (the planner found no valid plan: validation,
the DU check included, refused every candidate) or `invalid`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from planactor._errors import BackendError, InputError, PlanInvalid
from planactor.bench._react_executor import Reference, run_react
from planactor.catalog import Catalog
from planactor.engine import Engine
from planactor.journal import Journal
from planactor.lab import Lab, LabDocument, kinds, lab_resources
from planactor.lab.storage import (
    DEFAULT_FIRMWARE,
    Array,
    Controller,
    Host,
    Lun,
    StorageState,
    state_to_doc,
    storage_state,
)
from planactor.lab.storage import (
    Path as LabPath,
)
from planactor.planner import Backend, LLMPlanner
from planactor.validate import validate_plan

__all__ = [
    "BASE_SEED",
    "CONTROLLERS",
    "FAULTS",
    "LabSetup",
    "Trial",
    "make_setup",
    "outcome",
    "run_trial",
    "workflow_length",
]

BASE_SEED = 42
CONTROLLERS = ("react", "planner-actor")
ROUTINE = "storage.firmware_upgrade"
REQUESTER = "bench"


def workflow_length(hosts: int) -> int:
    """Steps of the tested upgrade routine for an array of `hosts` hosts."""
    return 2 * hosts + 5


@dataclass(frozen=True, slots=True, kw_only=True)
class LabSetup:
    """What trial `trial` of size `hosts` upgrades: names drawn from its seed."""

    hosts: int
    trial: int
    array: str
    host_names: tuple[str, ...]
    version: str

    @property
    def controllers(self) -> tuple[str, str]:
        return (f"{self.array}-a", f"{self.array}-b")

    @property
    def task(self) -> str:
        return f"upgrade {self.array} to firmware {self.version}"

    def state(self) -> StorageState:
        a, b = self.controllers
        luns = {
            f"lun-{i}": Lun(name=f"lun-{i}", array=self.array, hosts=(h,))
            for i, h in enumerate(self.host_names, 1)
        }
        return StorageState(
            arrays={self.array: Array(name=self.array, mode="active-passive", controllers=(a, b))},
            controllers={
                c: Controller(name=c, array=self.array, firmware=DEFAULT_FIRMWARE) for c in (a, b)
            },
            luns=luns,
            hosts={
                h: Host(name=h, active={self.array: a}, preferred={self.array: a})
                for h in self.host_names
            },
            paths={(h, c): LabPath(host=h, controller=c) for h in self.host_names for c in (a, b)},
        )


def make_setup(hosts: int, trial: int, base_seed: int = BASE_SEED) -> LabSetup:
    if hosts < 1:
        raise ValueError("an array needs at least one host")
    rng = random.Random(base_seed + 1000 * hosts + trial)
    numbers = sorted(rng.sample(range(1, 100), hosts))
    return LabSetup(
        hosts=hosts,
        trial=trial,
        array=f"array-{rng.randrange(1, 10):02d}",
        host_names=tuple(f"esx-{n:02d}" for n in numbers),
        version=f"5.{rng.randrange(2, 5)}.{rng.randrange(0, 10)}",
    )


def fault_for(setup: LabSetup) -> dict[str, Any]:
    """Trial t's fault: the first upgrade fails, or a host's path to the second controller
    is down (so draining to it would leave the host no working path)."""
    a, b = setup.controllers
    if setup.trial % 2 == 0:
        return {"kind": "upgrade-fails", "controller": a, "times": 1}
    return {"kind": "path-down", "host": setup.host_names[0], "controller": b}


FAULTS = ("upgrade-fails (first controller, once)", "path-down (first host to -b)")


def write_lab(path: Path, setup: LabSetup, *, fault: Mapping[str, Any] | None) -> Lab:
    """A fresh lab file for `setup` (replacing any), with `fault` injected."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    doc = LabDocument(
        kind="storage",
        scenario="default",
        latency_ms=0,
        state=state_to_doc(setup.state()),
        created_at=now,
        updated_at=now,
    )
    path.write_text(json.dumps(doc.to_document()), encoding="utf-8")
    lab = Lab(path)
    if fault is not None:
        lab.inject_fault(dict(fault))
    return lab


def outcome(state: StorageState, setup: LabSetup) -> tuple[bool, bool]:
    """(both controllers online on the target version, every host on its preferred one)."""
    firmware = all(
        state.controllers[c].firmware == setup.version and state.controllers[c].state == "online"
        for c in setup.controllers
    )
    paths = all(
        state.hosts[h].active.get(setup.array) == state.hosts[h].preferred.get(setup.array)
        for h in setup.host_names
    )
    return firmware, paths


@dataclass(kw_only=True)
class Trial:
    """One controller on one fresh lab: did the upgrade end well, and at what cost."""

    controller: str
    hosts: int
    trial: int
    length: int
    backend: str
    model: str
    faults: bool = False
    success: bool = False
    firmware_ok: bool = False
    paths_ok: bool = False
    du: int = 0
    steps: int = 0
    on_reference: int = 0
    step_accuracy: float | None = None  # react only
    ended: str = ""
    wall_s: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    usd: float = 0.0
    calls: int = 0
    error: str | None = None
    detail: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.controller, self.hosts, self.trial)

    def to_document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Trial:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in doc.items() if k in known})


def _guidance(catalog: Catalog) -> str:
    return f"How: {catalog.routines[ROUTINE].description}"


def _react(trial: Trial, setup: LabSetup, lab: Lab, catalog: Catalog, **kw: Any) -> None:
    doc = lab.read()
    storage = kinds()["storage"]
    inventory = storage.inventory(doc.state)
    plan = catalog.routines[ROUTINE].expand(
        {"array": setup.array, "version": setup.version},
        facts=storage.facts(doc.state),
        requested_by=REQUESTER,
    )
    budget = kw.pop("budget_factor") * trial.length
    got = run_react(
        setup.task,
        guidance=_guidance(catalog),
        catalog=catalog,
        lab=lab,
        inventory=inventory,
        reference=Reference(plan, catalog),
        max_steps=budget,
        **kw,
    )
    actions = got.actions
    trial.ended, trial.error = got.ended, got.error
    trial.steps = len(actions)
    trial.on_reference = sum(s.on_reference for s in actions)
    trial.step_accuracy = trial.on_reference / len(actions) if actions else None
    trial.tokens_in, trial.tokens_out = got.tokens_in, got.tokens_out
    trial.usd, trial.calls = got.usd, got.calls
    trial.detail = [
        {
            "turn": s.turn,
            "choice": s.choice,
            "action": s.action,
            "args": s.args,
            "status": s.status,
            "error": s.error,
            "reference": s.reference,
            "du": s.du,
        }
        for s in got.steps
    ]


def _planner_actor(
    trial: Trial, setup: LabSetup, lab: Lab, catalog: Catalog, *, backend: Backend
) -> None:
    doc = lab.read()
    storage = kinds()["storage"]
    inventory, safety = storage.inventory(doc.state), storage.safety(doc.state)
    planner = LLMPlanner(
        catalog=catalog,
        backend=backend,
        inventory=inventory,
        facts=storage.facts(doc.state),
        policy=safety,
    )
    try:
        got = planner.plan(setup.task, requested_by=REQUESTER)
    except (InputError, PlanInvalid, BackendError) as e:
        trial.ended, trial.error = "refused", e.message
        return
    trial.calls = len(got.calls)
    trial.tokens_in = sum(c.tokens_in for c in got.calls)
    trial.tokens_out = sum(c.tokens_out for c in got.calls)
    trial.usd = sum(c.cost_usd for c in got.calls)
    try:
        checked = validate_plan(got.plan, catalog=catalog, inventory=inventory, policy=safety)
    except PlanInvalid as e:
        trial.ended, trial.error = "invalid", e.message
        return
    result = Engine(catalog=catalog, journal=Journal(), resources=lab_resources(lab)).run(checked)
    trial.ended, trial.error = result.status, result.reason
    ran = [o for o in result.steps.values() if o.state in ("succeeded", "failed")]
    trial.steps = len(ran)
    trial.detail = [
        {"step": sid, "state": o.state, "attempts": o.attempts}
        for sid, o in result.steps.items()
        if o.state != "succeeded"
    ]


def run_trial(
    controller: str,
    setup: LabSetup,
    *,
    backend: Backend,
    catalog: Catalog,
    workdir: Path,
    faults: bool = False,
    budget_factor: int = 2,
    timeout_s: float = 300.0,
) -> Trial:
    """Upgrade a fresh lab for `setup` with `controller`; the lab file lives in `workdir`."""
    if controller not in CONTROLLERS:
        raise ValueError(f"unknown controller {controller!r}")
    lab = write_lab(
        workdir / f"lab-{controller}.json", setup, fault=fault_for(setup) if faults else None
    )
    trial = Trial(
        controller=controller,
        hosts=setup.hosts,
        trial=setup.trial,
        length=workflow_length(setup.hosts),
        backend=backend.name,
        model=backend.model,
        faults=faults,
    )
    start = time.perf_counter()
    if controller == "react":
        _react(
            trial,
            setup,
            lab,
            catalog,
            backend=backend,
            budget_factor=budget_factor,
            timeout_s=timeout_s,
        )
    else:
        _planner_actor(trial, setup, lab, catalog, backend=backend)
    trial.wall_s = time.perf_counter() - start
    trial.model = backend.model  # a self-served model's id is known after the first call
    doc = lab.read()
    trial.firmware_ok, trial.paths_ok = outcome(storage_state(doc), setup)
    trial.success = trial.firmware_ok and trial.paths_ok
    trial.du = sum(1 for v in doc.violations if v.get("kind") == "DU")
    return trial
