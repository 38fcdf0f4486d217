"""Child program of the crash test: runs or resumes one plan whose writes record themselves.

Run as `python tests/engine/crash_child.py DB LEDGER run|resume [options]` (it is not a test
module). It prints `ready` when it is about to run or resume (imports done, journal open),
then one JSON line when the run ends or pauses: status, reason, whether a resume had to
start the run afresh (the killed run never became durable) or found it already ended, the
engine events this process emitted, and the time the run took.

`--stop-after-events K` makes the process SIGKILL itself when the engine emits its K-th
event: `on_event` is called after the event is appended to the journal, possibly before it
is committed, so the kill lands exactly on an event boundary.

Plans (their write steps use the ledger at LEDGER):
- `short`: 6 steps (write, read, write, write, read, write) linked by `$ref`s; the two
  middle writes are independent, so `--parallel` runs them together;
- `long`: 24 steps, 12 of them writes, with fan-outs for `--parallel` and short sleeps;
- `once`: a write, a non-idempotent write (`testing.ledger_write_once`), a read.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from typing import Any

from planactor import Plan, testing
from planactor.engine import Engine
from planactor.journal import Journal

RUN_ID = "crash-run"


def _write(sid: str, ledger: str, item: Any, *after: str) -> dict[str, Any]:
    return {
        "id": sid,
        "actor": "testing.ledger_write",
        "args": {"ledger": ledger, "item": item},
        "after": list(after),
    }


def _echo(sid: str, message: Any, value: Any = None, *after: str) -> dict[str, Any]:
    return {
        "id": sid,
        "actor": "core.echo",
        "args": {"message": message, "value": value},
        "after": list(after),
    }


def _sleep(sid: str, seconds: float, *after: str) -> dict[str, Any]:
    return {"id": sid, "actor": "core.sleep", "args": {"seconds": seconds}, "after": list(after)}


def _ref(step: str, field: str = "item") -> dict[str, str]:
    return {"$ref": f"{step}.output.{field}"}


def short_steps(ledger: str) -> list[dict[str, Any]]:
    """Write, read, write, write, read, write; w3 and w4 both wait for r2 only."""
    return [
        _write("w1", ledger, "one"),
        _echo("r2", _ref("w1")),
        _write("w3", ledger, _ref("r2", "message")),
        _write("w4", ledger, "four", "r2"),
        _echo("r5", _ref("w4"), [_ref("w3"), _ref("w4")]),
        _write("w6", ledger, _ref("r5", "message")),
    ]


def long_steps(ledger: str) -> list[dict[str, Any]]:
    """24 steps, 12 writes; three fan-outs of up to three branches; sleeps between writes."""
    writes = ["w01", "w04", "w05", "w06", "w10", "w11", "w12", "w15", "w17", "w19", "w21", "w23"]
    return [
        _write("w01", ledger, "w01"),
        _echo("e02", _ref("w01")),
        _sleep("z03", 0.005, "e02"),
        _write("w04", ledger, "w04", "z03"),
        _write("w05", ledger, "w05", "z03"),
        _write("w06", ledger, "w06", "z03"),
        _echo("e07", _ref("w04")),
        _echo("e08", _ref("w05")),
        _sleep("z09", 0.005, "w06"),
        _write("w10", ledger, _ref("e07", "message")),
        _write("w11", ledger, _ref("e08", "message")),
        _write("w12", ledger, "w12", "z09"),
        _echo("e13", "join", [_ref("w10"), _ref("w11"), _ref("w12")]),
        _sleep("z14", 0.01, "e13"),
        _write("w15", ledger, "w15", "z14"),
        _echo("e16", _ref("w15")),
        _write("w17", ledger, _ref("e16", "message")),
        _sleep("z18", 0.005, "e16"),
        _write("w19", ledger, "w19", "z18"),
        _echo("e20", "pair", [_ref("w17"), _ref("w19")]),
        _write("w21", ledger, "w21", "e20"),
        _sleep("z22", 0.005, "w21"),
        _write("w23", ledger, "w23", "z22"),
        _echo("e24", "done", [_ref(w) for w in writes]),
    ]


def once_steps(ledger: str) -> list[dict[str, Any]]:
    """A write, then a write that is not idempotent, then a read of its output."""
    return [
        _write("w1", ledger, "one"),
        {
            "id": "o2",
            "actor": "testing.ledger_write_once",
            "args": {"ledger": ledger, "item": "two"},
            "after": ["w1"],
        },
        _echo("r3", _ref("o2")),
    ]


PLANS = {"short": short_steps, "long": long_steps, "once": once_steps}


def build_plan(name: str, ledger: str) -> Plan:
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": f"crash test: {name} plan",
            "requested_by": "tests/engine/crash_child.py",
            "steps": PLANS[name](ledger),
        }
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db")
    parser.add_argument("ledger")
    parser.add_argument("mode", choices=["run", "resume"])
    parser.add_argument("--plan", choices=sorted(PLANS), default="long")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--stop-after-events", type=int, default=0)
    parser.add_argument("--retry", action="append", default=[])
    args = parser.parse_args(argv)

    emitted: list[tuple[str, str | None]] = []

    def on_event(kind: str, step: str | None, data: object) -> None:
        emitted.append((kind, step))
        if len(emitted) == args.stop_after_events:
            os.kill(os.getpid(), signal.SIGKILL)

    plan = build_plan(args.plan, args.ledger)
    out: dict[str, Any] = {"restarted": False, "ended_before": False}
    with Journal(args.db, synchronous="FULL") as journal:
        engine = Engine(catalog=testing.catalog(), journal=journal, on_event=on_event)
        status = {r.run_id: r.status for r in journal.runs()}.get(RUN_ID)
        print("ready", flush=True)  # the parent's kill clock starts here
        start = time.monotonic()
        if args.mode == "run" or status is None:
            # A resume finds no trace of a run killed before its first commit: start it.
            out["restarted"] = args.mode == "resume"
            result = engine.run(plan, run_id=RUN_ID, parallel=args.parallel)
        elif status in ("succeeded", "failed", "compensated"):
            # Killed after the run had ended: there is nothing left to resume.
            print(json.dumps({**out, "status": status, "ended_before": True}), flush=True)
            return 0
        else:
            result = engine.resume(RUN_ID, retry=args.retry, parallel=args.parallel)
        out["elapsed"] = time.monotonic() - start
    out.update(status=result.status, reason=result.reason, events=emitted)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
