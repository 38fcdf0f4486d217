"""Where a run's actor calls go when they do not run inline: worker threads and deadlines.

A sequential run without timeouts calls its actors inline. Otherwise each call goes to the
run's worker pool (or to a thread of its own when it has a timeout), and its result comes
back through a queue; `wait` takes at least one result (or declares a call timed out) and
drains the others already there, so results that finish together are committed together.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from planactor.engine._scheduler import (
    CompensationFailed,
    CompensationSucceeded,
    StepError,
    StepFailed,
    StepSucceeded,
)

__all__ = ["Call", "CallKey", "Outcome", "Pool", "Results", "wait"]

CallKey = tuple[str, int, bool]  # (step, attempt, compensation)
# What an actor call comes to: the scheduler events the runner feeds back.
Outcome = StepSucceeded | StepFailed | CompensationSucceeded | CompensationFailed


@dataclass(slots=True)
class Call:
    """An actor call in flight on a thread; `deadline` is a monotonic time or None."""

    step: str
    attempt: int
    compensation: bool
    deadline: float | None

    @property
    def key(self) -> CallKey:
        return (self.step, self.attempt, self.compensation)


Results = queue.SimpleQueue[tuple[Call, Outcome]]


class Pool:
    """A run's worker threads for calls without a timeout: a hand-off per call, not a start.

    A thread is started only when no worker is free, up to `size` (the run's parallelism
    bounds the calls in flight), so a job never waits behind a busy worker. A call with a
    timeout gets a thread of its own instead: one that hangs past its deadline must not
    hold a worker the run still needs.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._free = 0  # workers done with their job and not yet promised another

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._free:
                self._free -= 1
                start = False
            else:
                start = self._threads < self._size
                self._threads += start
        if start:
            name = f"planactor-worker-{self._threads}"
            threading.Thread(target=self._work, name=name, daemon=True).start()
        self._jobs.put(job)

    def close(self) -> None:
        """Let the workers end once the jobs already submitted are done."""
        for _ in range(self._threads):
            self._jobs.put(None)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()
            with self._lock:
                self._free += 1


def wait(inflight: dict[CallKey, Call], results: Results) -> list[tuple[Call, Outcome]]:
    """At least one finished (or timed-out) call, plus any others already finished."""
    out: list[tuple[Call, Outcome]] = []
    while not out:
        deadlines = [c.deadline for c in inflight.values() if c.deadline is not None]
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        with contextlib.suppress(queue.Empty):
            out.append(results.get(timeout=timeout))
        while True:  # drain what else has finished: committed together
            try:
                out.append(results.get_nowait())
            except queue.Empty:
                break
        # Results of calls already given up on (timed out) are dropped.
        out = [(c, e) for c, e in out if inflight.get(c.key) is c]
        for c, _ in out:
            del inflight[c.key]
        now = time.monotonic()
        for c in [c for c in inflight.values() if c.deadline is not None and c.deadline <= now]:
            del inflight[c.key]
            err = StepError(kind="timeout", message="timed out", retryable=True)
            ev: Outcome = (
                CompensationFailed(step=c.step, error=err)
                if c.compensation
                else StepFailed(step=c.step, attempt=c.attempt, error=err)
            )
            out.append((c, ev))
    return out
