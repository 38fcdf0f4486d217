"""Runs as the console shows them, and starting one.

A run is started as `planactor run PLAN --yes --json` in a child process: the same gate as
at the command line (validation, the lab's basis and safety, approvals and policy), and a
run that outlives a page. The console learns the run's id from the journal, where the run
appears with the plan's hash once the gate let it start; live status is read from the
journal too, so a run started elsewhere shows the same way.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from planactor._errors import LaunchRefused, PlanactorError
from planactor._home import home
from planactor.journal import EventKind, Journal, JournalEvent, RunRecord
from planactor.plan import StepKind

__all__ = [
    "Launcher",
    "RunView",
    "StepStatus",
    "list_runs",
    "open_journal",
    "run_view",
]

_MAIN = "import sys; from planactor.cli import main; main(sys.argv[1:])"
_STEP_STATE = {
    EventKind.STEP_STARTED: "running",
    EventKind.STEP_RETRYING: "retrying",
    EventKind.STEP_SUCCEEDED: "succeeded",
    EventKind.STEP_FAILED: "failed",
    EventKind.STEP_SKIPPED: "skipped",
    EventKind.COMPENSATION_STARTED: "compensating",
    EventKind.COMPENSATION_SUCCEEDED: "compensated",
    EventKind.COMPENSATION_FAILED: "failed",
}
TERMINAL = frozenset({"succeeded", "failed", "compensated", "paused"})


def open_journal(path: Path) -> Journal | None:
    """The journal for reading, or None while no run has made it yet."""
    if not path.exists():
        return None
    return Journal(path, create=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class StepStatus:
    id: str
    actor: str
    kind: StepKind
    state: str = "pending"
    attempts: int = 0
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunView:
    record: RunRecord
    status: str
    steps: tuple[StepStatus, ...]
    reason: str | None = None
    recovered_by: tuple[str, ...] = field(default=())

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def to_document(self) -> dict[str, object]:
        return {
            "run_id": self.record.run_id,
            "status": self.status,
            "done": self.done,
            "reason": self.reason,
            "steps": [
                {"id": s.id, "state": s.state, "attempts": s.attempts, "note": s.note}
                for s in self.steps
            ],
        }


def _note(event: JournalEvent) -> str:
    data = event.data
    error = data.get("error")
    if isinstance(error, dict):
        return str(error.get("message", ""))
    reason = data.get("reason")
    return str(reason) if reason else ""


def run_view(
    journal: Journal, run_id: str, *, kind_of: Callable[[str], StepKind], runs: Sequence[RunRecord]
) -> RunView:
    """The run's status and each step's state, from its events."""
    record = journal.run(run_id)
    states: dict[str, StepStatus] = {
        s.id: StepStatus(id=s.id, actor=s.actor, kind=kind_of(s.actor)) for s in record.plan.steps
    }
    status, reason = "running", None
    for e in journal.events(run_id):
        if e.type in (EventKind.RUN_STARTED, EventKind.RUN_RESUMED):
            status, reason = "running", None
        elif e.type == EventKind.RUN_PAUSED:
            status, reason = "paused", str(e.data.get("reason", ""))
        elif e.type in (EventKind.RUN_SUCCEEDED, EventKind.RUN_FAILED):
            status = str(e.data.get("status", "succeeded" if "succeeded" in e.type else "failed"))
            reason = e.data.get("reason") or None
        elif e.step in states and e.type in _STEP_STATE:
            old = states[e.step]
            attempts = e.attempt or old.attempts
            states[e.step] = StepStatus(
                id=old.id,
                actor=old.actor,
                kind=old.kind,
                state=_STEP_STATE[EventKind(e.type)],
                attempts=attempts,
                note=_note(e),
            )
    if status == "running" and record.status in TERMINAL and record.status != "paused":
        status = record.status  # the row is ahead of an event we could not read yet
    recovered_by = tuple(r.run_id for r in runs if r.plan.recovers == run_id)
    return RunView(
        record=record,
        status=status,
        steps=tuple(states.values()),
        reason=reason,
        recovered_by=recovered_by,
    )


def list_runs(journal_path: Path) -> list[RunRecord]:
    journal = open_journal(journal_path)
    if journal is None:
        return []
    with journal:
        return list(reversed(journal.runs()))  # newest first


class Launcher:
    """Starts `planactor run` in child processes and keeps each one's output."""

    def __init__(
        self,
        *,
        journal: Path,
        policy: Path | None = None,
        lab: Path | None = None,
        wait_s: float = 60.0,
    ) -> None:
        self.journal = journal
        self.policy = policy
        self.lab = lab
        self.wait_s = wait_s
        self._children: list[subprocess.Popen[bytes]] = []

    def command(self, plan: Path, *, dry_run: bool = False) -> list[str]:
        cmd = [sys.executable, "-c", _MAIN, "run", str(plan), "--yes", "--json"]
        if dry_run:
            cmd.append("--dry-run")
        cmd += ["--db", str(self.journal)]
        if self.policy is not None:
            cmd += ["--policy", str(self.policy)]
        if self.lab is not None:
            cmd += ["--lab", str(self.lab)]
        return cmd

    def start(self, plan: Path, *, plan_hash: str, dry_run: bool = False) -> str:
        """The id of the run the child started; LaunchRefused with its message otherwise."""
        before = set(self._run_ids())
        logs = home() / "console" / "launches"
        logs.mkdir(parents=True, exist_ok=True)
        stem = logs / uuid.uuid4().hex
        with (
            stem.with_suffix(".out").open("wb") as out,
            stem.with_suffix(".err").open("wb") as err,
        ):
            # A session of its own: Ctrl-C on the console does not interrupt its runs.
            child = subprocess.Popen(
                self.command(plan, dry_run=dry_run),
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._children.append(child)
        threading.Thread(target=child.wait, daemon=True).start()  # reaped when it ends
        deadline = time.monotonic() + self.wait_s
        while time.monotonic() < deadline:
            found = self._new_run(before, plan_hash)
            if found is not None:
                return found
            if child.poll() is not None:
                found = self._new_run(before, plan_hash)  # it may have ended at once
                if found is not None:
                    return found
                message = stem.with_suffix(".err").read_text("utf-8", "replace").strip()
                raise LaunchRefused(
                    f"the run did not start (planactor run exited {child.returncode}): "
                    + (message or "no message"),
                    hint="fix what it names, then start the run again",
                )
            time.sleep(0.1)
        raise LaunchRefused(
            f"no run of {plan_hash[:19]}… appeared in {self.journal} within {self.wait_s:.0f} s",
            hint=f"the child is still going: see {stem}.err",
        )

    def _run_ids(self) -> list[str]:
        try:
            journal = open_journal(self.journal)
            if journal is None:
                return []
            with journal:
                return journal.run_ids()
        except (PlanactorError, sqlite3.DatabaseError):
            return []

    def _new_run(self, before: set[str], plan_hash: str) -> str | None:
        try:
            journal = open_journal(self.journal)
            if journal is None:
                return None
            with journal:
                for run_id in journal.run_ids():
                    if run_id not in before and journal.run(run_id).plan_hash == plan_hash:
                        return run_id
        except (PlanactorError, sqlite3.DatabaseError):
            return None  # being created by the child right now: ask again
        return None

    def close(self) -> None:
        """Wait for the children still running: a run is never cut off by the console."""
        for child in self._children:
            child.wait()
