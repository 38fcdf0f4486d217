"""What the engine costs per step, in memory and durable, next to LangGraph on the same DAG.

Two shapes of N no-op steps (N = 1,000 by default), every step a `core.echo` with a literal
message, so what is timed is the engine, the journal and pydantic's input/output checks:

- chain: `s0 -> s1 -> ...`, each step `after` the one before it;
- fan-out: one root, every other step `after` it.

planactor runs each shape with an in-memory journal and with a journal file under
`synchronous=FULL` (every commit survives a power loss) and `NORMAL`; the fan-out also runs
with `parallel` 8 and 32, where results that finish together share one commit (group
commit). LangGraph runs the same DAG in the same process (a `StateGraph` of no-op nodes),
compiled without a checkpointer and with its in-memory one; its fan-out runs the leaves in
one superstep. Also timed: calling the echo actor directly N times (input and output
validation, no engine), so the engine's own share is visible.

Timed: `Engine.run` given the validated plan (validation, the plan's compile step, runs once
before the timer, as `planactor run` does) and LangGraph's `invoke` (its compile is
reported apart). Median of R repeats after one warm-up (fewer repeats, no warm-up, for FULL:
it is bound by fsync). `commits/step` counts journal transactions, one WAL fsync each
under FULL; bare SQLite commits on the same disk show its fsync rate.

    planactor bench engine [--json] [--steps N] [--dir DIR]   (or python benchmarks/engine.py)

Targets: in memory <= 25 µs per step and >= 20x faster than LangGraph without a
checkpointer; under FULL at most 2 commits (fsyncs) per step of the chain, and the
fan-out with group commit above 2,000 steps/s.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypedDict

from planactor import ActorContext, Catalog, Plan
from planactor.engine import Engine
from planactor.journal import Journal, Synchronous
from planactor.testing import catalog as testing_catalog
from planactor.validate import validate_plan

__all__ = ["Result", "chain_plan", "fan_out_plan", "main", "run", "verdicts"]

STEPS = 1_000
SHAPES = ("chain", "fan-out")
PARALLEL = (1, 8, 32)  # the chain has one ready step at a time: parallel 1 only
MEMORY_REPEATS = 5
NORMAL_REPEATS = 3
FULL_REPEATS = 3  # ~3.5 s per sequential run at ~290 commits/s
SQLITE_COMMITS = 200  # bare commits timed per repeat, for the disk's fsync rate
LANGGRAPH_REPEATS = 5
LANGGRAPH_SAVER_REPEATS = 3

TARGET_US_PER_STEP = 25.0
TARGET_RATIO = 20.0
TARGET_COMMITS_PER_STEP = 2.0
TARGET_GROUP_STEPS_PER_S = 2_000.0


# -- plans ------------------------------------------------------------------------------------


def _envelope(steps: list[dict[str, Any]], shape: str) -> dict[str, Any]:
    return {
        "api_version": "planactor/v1",
        "intent": f"benchmark: {shape} of {len(steps)} no-op steps",
        "requested_by": "benchmarks/engine.py",
        "steps": steps,
    }


def chain_plan(n: int) -> dict[str, Any]:
    """`s0 -> s1 -> ...`: each no-op echo step runs after the one before it."""
    steps = [{"id": "s0", "actor": "core.echo", "args": {"message": "noop"}}]
    steps += [
        {"id": f"s{i}", "actor": "core.echo", "args": {"message": "noop"}, "after": [f"s{i - 1}"]}
        for i in range(1, n)
    ]
    return _envelope(steps, "chain")


def fan_out_plan(n: int) -> dict[str, Any]:
    """One root; every other no-op echo step runs after it."""
    steps = [{"id": "root", "actor": "core.echo", "args": {"message": "noop"}}]
    steps += [
        {"id": f"s{i}", "actor": "core.echo", "args": {"message": "noop"}, "after": ["root"]}
        for i in range(1, n)
    ]
    return _envelope(steps, "fan-out")


PLANS: dict[str, Callable[[int], dict[str, Any]]] = {"chain": chain_plan, "fan-out": fan_out_plan}


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Result:
    """One configuration on one shape. `commits` is journal transactions per run."""

    system: str  # planactor | langgraph | actor | sqlite
    config: str  # memory, FULL, NORMAL; none, InMemorySaver; direct call
    shape: str
    parallel: int
    steps: int
    repeats: int
    median_ms: float
    commits: float | None = None
    setup_ms: float | None = None  # LangGraph: compiling the graph (not in median_ms)

    @property
    def label(self) -> str:
        if self.system == "actor":
            return "core.echo called directly"
        if self.system == "sqlite":
            return f"sqlite commit alone {self.config}"
        if self.system == "langgraph":
            return "langgraph" + ("" if self.config == "none" else f" + {self.config}")
        return f"planactor {self.config}" + (f" p={self.parallel}" if self.parallel > 1 else "")

    @property
    def per_step_us(self) -> float:
        return self.median_ms * 1000 / self.steps

    @property
    def steps_per_s(self) -> float:
        return self.steps / (self.median_ms / 1000)

    @property
    def commits_per_step(self) -> float | None:
        return None if self.commits is None else self.commits / self.steps

    def to_document(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "label": self.label,
            "per_step_us": self.per_step_us,
            "steps_per_s": self.steps_per_s,
            "commits_per_step": self.commits_per_step,
        }


def _median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


# -- planactor --------------------------------------------------------------------------------


def _planactor(
    plan: Plan,
    shape: str,
    catalog: Catalog,
    *,
    config: str,
    parallel: int,
    repeats: int,
    warm_up: bool,
    tmp: Path,
) -> Result:
    """Time `Engine.run` on a fresh journal each repeat; count its commits."""

    def journal() -> Journal:
        if config == "memory":
            return Journal(":memory:")
        sync: Synchronous = "FULL" if config == "FULL" else "NORMAL"
        return Journal(tmp / f"{uuid.uuid4().hex}.db", synchronous=sync)

    # Validation is the plan's compile step (like LangGraph's `compile`, reported apart):
    # `planactor run` validates once when it loads the plan and hands the validated plan over.
    validated = validate_plan(plan, catalog=catalog)

    def once() -> tuple[float, int]:
        j = journal()
        try:
            engine = Engine(catalog=catalog, journal=j)
            start = time.perf_counter()
            result = engine.run(validated, parallel=parallel)
            elapsed = time.perf_counter() - start
            if result.status != "succeeded":
                raise RuntimeError(f"{shape}/{config}: the run ended {result.status}")
            return elapsed, j.commits
        finally:
            j.close()

    if warm_up:
        once()
    runs = [once() for _ in range(repeats)]
    return Result(
        system="planactor",
        config=config,
        shape=shape,
        parallel=parallel,
        steps=len(plan.steps),
        repeats=repeats,
        median_ms=_median_ms([t for t, _ in runs]),
        commits=statistics.median(c for _, c in runs),
    )


def _actor_alone(steps: int, catalog: Catalog, repeats: int) -> Result:
    """`core.echo` called N times with the step's arguments: validation in and out, no engine."""
    echo = catalog.get("core.echo")
    ctx = ActorContext.for_step(run_id="bench", step_id="s0")
    args = {"message": "noop"}

    def once() -> float:
        start = time.perf_counter()
        for _ in range(steps):
            echo.call(args, ctx)
        return time.perf_counter() - start

    once()
    return Result(
        system="actor",
        config="direct call",
        shape="-",
        parallel=1,
        steps=steps,
        repeats=repeats,
        median_ms=_median_ms([once() for _ in range(repeats)]),
    )


def _sqlite_commits(sync: Synchronous, tmp: Path, commits: int, repeats: int) -> Result:
    """Bare SQLite: one-row transactions in WAL mode, for the disk's fsync rate."""

    def once() -> float:
        db = sqlite3.connect(tmp / f"{uuid.uuid4().hex}.db", isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={sync}")
            db.execute("CREATE TABLE t (x INTEGER)")
            start = time.perf_counter()
            for i in range(commits):
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT INTO t VALUES (?)", (i,))
                db.execute("COMMIT")
            return time.perf_counter() - start
        finally:
            db.close()

    once()
    return Result(
        system="sqlite",
        config=sync,
        shape="commit",
        parallel=1,
        steps=commits,
        repeats=repeats,
        median_ms=_median_ms([once() for _ in range(repeats)]),
        commits=commits,
    )


# -- LangGraph --------------------------------------------------------------------------------


class _State(TypedDict, total=False):
    n: int


def _noop(_state: _State) -> dict[str, Any]:
    return {}


def _langgraph_graph(shape: str, n: int) -> Any:
    from langgraph.graph import END, START, StateGraph

    g: Any = StateGraph(_State)
    if shape == "chain":
        for i in range(n):
            g.add_node(f"s{i}", _noop)
        g.add_edge(START, "s0")
        for i in range(1, n):
            g.add_edge(f"s{i - 1}", f"s{i}")
        g.add_edge(f"s{n - 1}", END)
    else:
        g.add_node("root", _noop)
        g.add_edge(START, "root")
        for i in range(1, n):
            g.add_node(f"s{i}", _noop)
            g.add_edge("root", f"s{i}")
            g.add_edge(f"s{i}", END)
    return g


def _langgraph(shape: str, n: int, *, saver: bool, repeats: int) -> Result:
    """Time `invoke` of the compiled graph (a fresh in-memory saver each repeat)."""
    from langgraph.checkpoint.memory import InMemorySaver

    graph = _langgraph_graph(shape, n)
    start = time.perf_counter()
    graph.compile()
    compile_ms = (time.perf_counter() - start) * 1000

    def once() -> float:
        compiled = graph.compile(checkpointer=InMemorySaver() if saver else None)
        config: dict[str, Any] = {"recursion_limit": n + 10}
        if saver:
            config["configurable"] = {"thread_id": uuid.uuid4().hex}
        start = time.perf_counter()
        compiled.invoke({"n": 0}, config)
        return time.perf_counter() - start

    once()
    return Result(
        system="langgraph",
        config="InMemorySaver" if saver else "none",
        shape=shape,
        parallel=1,
        steps=n,
        repeats=repeats,
        median_ms=_median_ms([once() for _ in range(repeats)]),
        setup_ms=compile_ms,
    )


def langgraph_version() -> str | None:
    try:
        return metadata.version("langgraph")
    except metadata.PackageNotFoundError:
        return None


# -- the run ----------------------------------------------------------------------------------


def run(
    steps: int = STEPS,
    *,
    catalog: Catalog | None = None,
    langgraph: bool = True,
    directory: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Result]:
    """Every configuration on both shapes; LangGraph too when asked for and installed.

    Durable journals are written to temporary files under `directory` (the system's
    temporary directory by default): put them on the disk the journal will live on.
    """
    if steps < 2:
        raise ValueError("steps must be at least 2")
    catalog = catalog or testing_catalog()
    say = progress or (lambda _: None)
    plans = {shape: Plan.model_validate(PLANS[shape](steps)) for shape in SHAPES}
    results = [_actor_alone(steps, catalog, MEMORY_REPEATS)]
    with tempfile.TemporaryDirectory(prefix="planactor-bench-", dir=directory) as tmp:
        for sync in ("FULL", "NORMAL"):
            say(f"sqlite {sync}")
            results.append(_sqlite_commits(sync, Path(tmp), SQLITE_COMMITS, NORMAL_REPEATS))
        for config, repeats in (
            ("memory", MEMORY_REPEATS),
            ("NORMAL", NORMAL_REPEATS),
            ("FULL", FULL_REPEATS),
        ):
            for shape in SHAPES:
                for parallel in PARALLEL if shape == "fan-out" else (1,):
                    say(f"planactor {config} {shape} parallel={parallel}")
                    results.append(
                        _planactor(
                            plans[shape],
                            shape,
                            catalog,
                            config=config,
                            parallel=parallel,
                            repeats=repeats,
                            warm_up=config != "FULL",
                            tmp=Path(tmp),
                        )
                    )
    if langgraph and langgraph_version() is not None:
        for shape in SHAPES:
            for saver, repeats in ((False, LANGGRAPH_REPEATS), (True, LANGGRAPH_SAVER_REPEATS)):
                say(f"langgraph {shape} saver={saver}")
                results.append(_langgraph(shape, steps, saver=saver, repeats=repeats))
    return results


# -- verdicts and output ----------------------------------------------------------------------


def _find(results: list[Result], system: str, config: str, shape: str, parallel: int = 1) -> Result:
    for r in results:
        if (r.system, r.config, r.shape, r.parallel) == (system, config, shape, parallel):
            return r
    raise KeyError((system, config, shape, parallel))


def ratios(results: list[Result]) -> list[dict[str, Any]]:
    """LangGraph's time per step over planactor's, per shape (> 1: planactor is faster)."""
    out = []
    pairs = (
        ("none", "memory", "langgraph / planactor in memory"),
        ("InMemorySaver", "FULL", "langgraph + InMemorySaver / planactor FULL (best parallel)"),
    )
    for shape in SHAPES:
        for lg_config, pa_config, what in pairs:
            try:
                lg = _find(results, "langgraph", lg_config, shape)
            except KeyError:
                continue
            candidates = [
                r
                for r in results
                if (r.system, r.config, r.shape) == ("planactor", pa_config, shape)
                and (pa_config == "FULL" or r.parallel == 1)
            ]
            pa = min(candidates, key=lambda r: r.median_ms)
            out.append(
                {
                    "shape": shape,
                    "what": what,
                    "langgraph": lg.label,
                    "planactor": pa.label,
                    "ratio": lg.median_ms / pa.median_ms,
                }
            )
    return out


def verdicts(results: list[Result]) -> list[dict[str, Any]]:
    """One line per target and shape: what was measured and whether it passes."""
    out: list[dict[str, Any]] = []
    for shape in SHAPES:
        r = _find(results, "planactor", "memory", shape)
        out.append(
            {
                "target": f"in memory <= {TARGET_US_PER_STEP:.0f} µs/step ({shape})",
                "value": f"{r.per_step_us:.1f} µs/step",
                "pass": r.per_step_us <= TARGET_US_PER_STEP,
            }
        )
    for shape in SHAPES:
        r = _find(results, "planactor", "memory", shape)
        try:
            lg = _find(results, "langgraph", "none", shape)
        except KeyError:
            out.append(
                {
                    "target": f">= {TARGET_RATIO:.0f}x faster than LangGraph ({shape})",
                    "value": "LangGraph not installed: pip install -e '.[dev]'",
                    "pass": None,
                }
            )
            continue
        ratio = lg.median_ms / r.median_ms
        out.append(
            {
                "target": f">= {TARGET_RATIO:.0f}x faster than LangGraph, no checkpointer "
                f"({shape})",
                "value": f"{ratio:.2f}x ({lg.per_step_us:.1f} vs {r.per_step_us:.1f} µs/step)",
                "pass": ratio >= TARGET_RATIO,
            }
        )
    chain = _find(results, "planactor", "FULL", "chain")
    assert chain.commits_per_step is not None
    out.append(
        {
            "target": f"FULL chain <= {TARGET_COMMITS_PER_STEP:.0f} commits (fsyncs) per step",
            "value": f"{chain.commits_per_step:.3f} commits/step",
            "pass": chain.commits_per_step <= TARGET_COMMITS_PER_STEP,
        }
    )
    group = [
        r
        for r in results
        if (r.system, r.config, r.shape) == ("planactor", "FULL", "fan-out") and r.parallel > 1
    ]
    best = max(group, key=lambda r: r.steps_per_s)
    out.append(
        {
            "target": f"FULL fan-out with group commit > {TARGET_GROUP_STEPS_PER_S:,.0f} steps/s",
            "value": f"{best.steps_per_s:,.0f} steps/s at p={best.parallel} "
            f"({best.commits_per_step:.3f} commits/step)",
            "pass": best.steps_per_s > TARGET_GROUP_STEPS_PER_S,
        }
    )
    return out


def _table(results: list[Result]) -> str:
    head = (
        f"{'config':<30} {'shape':<8} {'steps':>6} {'R':>2} {'median ms':>10} "
        f"{'µs/step':>9} {'steps/s':>9} {'commits/step':>13}"
    )
    rows = [head, "-" * len(head)]
    for r in results:
        cps = "" if r.commits_per_step is None else f"{r.commits_per_step:.3f}"
        rows.append(
            f"{r.label:<30} {r.shape:<8} {r.steps:>6,} {r.repeats:>2} {r.median_ms:>10.1f} "
            f"{r.per_step_us:>9.1f} {r.steps_per_s:>9,.0f} {cps:>13}"
        )
    actor = next(r for r in results if r.system == "actor")
    rows.append("")
    for shape in SHAPES:
        mem = _find(results, "planactor", "memory", shape)
        rows.append(
            f"engine overhead ({shape}, in memory): {mem.per_step_us:.1f} µs/step, of which "
            f"{actor.per_step_us:.1f} calling the actor; {mem.per_step_us - actor.per_step_us:.1f} "
            "engine and journal"
        )
    disk = [r for r in results if r.system == "sqlite"]
    if disk:
        rows.append(
            "disk (bare SQLite commits, WAL): "
            + ", ".join(f"{r.config} {r.steps_per_s:,.0f}/s ({r.per_step_us:.0f} µs)" for r in disk)
        )
    compiled = [r for r in results if r.setup_ms is not None and r.config == "none"]
    if compiled:
        rows.append(
            "langgraph compile (not timed above): "
            + ", ".join(f"{r.shape} {r.setup_ms:.0f} ms" for r in compiled)
        )
    rows.append("")
    rows += [f"{x['what']} ({x['shape']}): {x['ratio']:.2f}x" for x in ratios(results)]
    rows.append("")
    for v in verdicts(results):
        word = {True: "PASS", False: "MISS", None: "SKIP"}[v["pass"]]
        rows.append(f"{word}: {v['target']}: {v['value']}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--steps", type=int, default=STEPS, help="steps per plan (1,000)")
    parser.add_argument("--dir", default=None, help="where durable journals are written")
    parser.add_argument(
        "--engine",
        choices=["local", "temporal"],
        default="local",
        help="temporal: the same plans on Temporal, next to local and a hand-written workflow",
    )
    parser.add_argument("--address", default=None, help="--engine temporal: a Temporal server")
    args = parser.parse_args(argv)
    if args.engine == "temporal":
        from planactor.bench import run_benchmark

        rest = ["--steps", str(args.steps), *(["--json"] if args.json else [])]
        return run_benchmark(
            "engine-temporal", rest + (["--address", args.address] if args.address else [])
        )
    if args.steps < 2:
        parser.error("--steps must be at least 2")
    version = langgraph_version()
    if version is None:
        print("note: LangGraph is not installed (pip install -e '.[dev]')", file=sys.stderr)
    results = run(args.steps, directory=args.dir)
    if args.json:
        doc = {
            "python": sys.version.split()[0],
            "langgraph": version,
            "targets": {
                "us_per_step": TARGET_US_PER_STEP,
                "ratio": TARGET_RATIO,
                "commits_per_step": TARGET_COMMITS_PER_STEP,
                "group_steps_per_s": TARGET_GROUP_STEPS_PER_S,
            },
            "results": [r.to_document() for r in results],
            "ratios": ratios(results),
            "verdicts": verdicts(results),
        }
        print(json.dumps(doc, indent=2))
    else:
        print(f"python {sys.version.split()[0]}, langgraph {version or 'not installed'}")
        print(_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
