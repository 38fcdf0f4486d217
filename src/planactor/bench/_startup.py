"""How long a `planactor` command takes from process start to exit, next to `python -c pass`.

Every command pays start-up before doing anything: the interpreter, typer, and whatever
the command's modules import. Measured as a user meets it, one new process per run (the
console script's code, `from planactor.cli import main; main()`), in a home of its own:

- `python -c pass`: the interpreter alone, the floor every command stands on;
- `planactor --version` and `planactor --help`: start-up and nothing else;
- `planactor validate PLAN`: a 3-step plan, with the catalog loaded (every pack imported).

The commands take turns, so a burst of load on the machine lands on all of them alike;
medians of N runs each (default 20), with ratios to `python -c pass`.

    planactor bench startup [--repeats N] [--json]

Targets: --version and --help under 150 ms, validate of a small plan under 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["CASES", "Result", "main", "run", "small_plan"]

# label -> arguments after the interpreter; "{plan}" is the small plan's path
_CLI = "from planactor.cli import main; main()"
CASES: dict[str, tuple[str, ...]] = {
    "python -c pass": ("-c", "pass"),
    "planactor --version": ("-c", _CLI, "--version"),
    "planactor --help": ("-c", _CLI, "--help"),
    "planactor validate PLAN": ("-c", _CLI, "validate", "{plan}"),
}
TARGETS_MS: dict[str, float] = {
    "planactor --version": 150.0,
    "planactor --help": 150.0,
    "planactor validate PLAN": 300.0,
}
# What a user's environment could set that changes what a command loads; and
# PYTHONDONTWRITEBYTECODE, under which a module edited since its .pyc was written is
# compiled again by every run, which an installed package never does.
_CLEARED = (
    "PLANACTOR_LAB",
    "PLANACTOR_POLICY",
    "PLANACTOR_MODEL",
    "PYTHONPROFILEIMPORTTIME",
    "PYTHONDONTWRITEBYTECODE",
)


@dataclass(frozen=True, slots=True)
class Result:
    case: str
    repeats: int
    median_ms: float
    min_ms: float
    ratio: float  # median / the median of `python -c pass`
    target_ms: float | None

    @property
    def ok(self) -> bool | None:
        return None if self.target_ms is None else self.median_ms < self.target_ms

    def to_document(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def small_plan() -> dict[str, Any]:
    """Three core steps in a chain: what a reviewer validates before approving."""
    return {
        "api_version": "planactor/v1",
        "intent": "benchmark: a small plan",
        "requested_by": "planactor bench startup",
        "steps": [
            {"id": "hello", "actor": "core.echo", "args": {"message": "hello"}},
            {
                "id": "again",
                "actor": "core.echo",
                "args": {"message": {"$ref": "hello.output.message"}},
            },
            {"id": "last", "actor": "core.echo", "args": {"message": "done"}, "after": ["again"]},
        ],
    }


def _environment(home: Path) -> dict[str, str]:
    """This process's environment for the commands, less what changes what they load or
    compile, with a home of their own."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env["PLANACTOR_HOME"] = str(home)
    return env


def _once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[1:])} exited {done.returncode}: {done.stderr.decode()[-500:]}"
        )
    return elapsed * 1000


def run(repeats: int = 20) -> list[Result]:
    """Median process start-to-exit time of each case, the cases taking turns."""
    with tempfile.TemporaryDirectory(prefix="planactor-bench-startup-") as tmp:
        plan = Path(tmp) / "small-plan.json"
        plan.write_text(json.dumps(small_plan()), encoding="utf-8")
        env = _environment(Path(tmp) / "home")
        argvs = {
            case: [sys.executable, *(a.replace("{plan}", str(plan)) for a in args)]
            for case, args in CASES.items()
        }
        for argv in argvs.values():  # warm-up: the page cache and .pyc files
            _once(argv, env)
        times: dict[str, list[float]] = {case: [] for case in CASES}
        for _ in range(repeats):
            for case, argv in argvs.items():
                times[case].append(_once(argv, env))
    floor = statistics.median(times["python -c pass"])
    return [
        Result(
            case=case,
            repeats=repeats,
            median_ms=statistics.median(ms),
            min_ms=min(ms),
            ratio=statistics.median(ms) / floor,
            target_ms=TARGETS_MS.get(case),
        )
        for case, ms in times.items()
    ]


def _table(results: list[Result]) -> str:
    head = f"{'command':<24} {'median ms':>10} {'min ms':>8} {'x python':>9}  target"
    rows = [head, "-" * len(head)]
    for r in results:
        verdict = "" if r.ok is None else f"{'PASS' if r.ok else 'MISS'} < {r.target_ms:.0f} ms"
        rows.append(
            f"{r.case:<24} {r.median_ms:>10.1f} {r.min_ms:>8.1f} {r.ratio:>9.2f}  {verdict}"
        )
    rows.append(f"median of {results[0].repeats} runs each, process start to exit")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="planactor bench startup", description=__doc__.split("\n", 1)[0]
    )
    parser.add_argument("--repeats", type=int, default=20, help="runs per command (default 20)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    results = run(args.repeats)
    if args.json:
        doc = {"python": sys.version.split()[0], "results": [r.to_document() for r in results]}
        print(json.dumps(doc, indent=2))
    else:
        print(_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
