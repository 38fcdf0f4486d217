"""Rebuilding a run from its journal: the recorded results fed to a fresh scheduler.

The scheduler is deterministic, so fed the results a run recorded it issues the commands
the run recorded, in the same order. `rebuild` checks that, record by record, and stops at
the first one that differs: a command other than the one re-derived, or a record the run
could not have produced there (a SchedulerError from the codec or the scheduler).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from planactor.engine._codec import (
    describe_command,
    describe_event,
    is_command,
    matches,
    result_of,
    started_settings,
)
from planactor.engine._scheduler import (
    Command,
    Resumed,
    Scheduler,
    SchedulerError,
    StartCompensation,
    StartStep,
    StepSpec,
)
from planactor.journal import JournalEvent
from planactor.plan import Plan

__all__ = ["Divergence", "rebuild", "recorded_scheduler"]


class Divergence(Exception):
    """Where a journal departs from what the engine decides (`seq`: the first such event)."""

    def __init__(self, seq: int, expected: str, found: str) -> None:
        super().__init__(f"event #{seq}: expected {expected}, found {found}")
        self.seq, self.expected, self.found = seq, expected, found


def recorded_scheduler(plan: Plan, specs: dict[str, StepSpec], started: JournalEvent) -> Scheduler:
    """A fresh scheduler set up as the run's `run.started` event recorded it.

    Divergence at that event if it is not a well-formed `run.started`.
    """
    try:
        parallel, dry_run = started_settings(started)
    except SchedulerError as e:
        raise Divergence(
            started.seq, f"a run.started event ({e})", describe_event(started)
        ) from None
    return Scheduler(plan=plan, specs=specs, max_parallel=parallel, dry_run=dry_run)


def rebuild(sched: Scheduler, events: Sequence[JournalEvent]) -> list[Command]:
    """Feed recorded results to `sched`, checking each recorded command against it.

    Returns the commands the scheduler issued that the journal does not show yet; raises
    Divergence at the first record that does not follow.
    """
    expected: deque[Command] = deque(sched.start())
    for ev in events[1:]:
        try:
            feed = result_of(ev)
            if isinstance(feed, Resumed):
                # As `resume` did: starts decided but never recorded were withdrawn, and
                # the run went on with the parallelism asked for then.
                while expected:
                    cmd = expected.popleft()
                    if not isinstance(cmd, StartStep | StartCompensation):
                        raise Divergence(ev.seq, describe_command(cmd), describe_event(ev))
                    sched.withdraw(cmd)
                sched.max_parallel = int(ev.data["parallel"])
            if feed is not None:
                expected.extend(sched.handle(feed))
                continue
        except SchedulerError as e:
            # A record the run could not have produced here (e.g. of a step not running).
            found = describe_event(ev)
            raise Divergence(ev.seq, f"an event the run can produce ({e})", found) from None
        if not is_command(ev):
            continue  # beside the run (a retry's delay): the start that follows is compared
        if not expected:
            raise Divergence(ev.seq, "nothing", describe_event(ev))
        cmd = expected.popleft()
        if not matches(cmd, ev):
            raise Divergence(ev.seq, describe_command(cmd), describe_event(ev))
    return list(expected)
