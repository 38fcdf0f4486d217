"""How long static validation takes for large plans, next to parsing the same bytes.

Two shapes, 100, 1,000 and 10,000 steps each:

- chain: every `core.echo` step takes the previous step's `output.message` through a `$ref`;
- fan-out: one root step, every other step runs `after` it and takes `root.output.value`.

For each plan, measured on the bytes of its JSON document in the same run: the full
`validate(...)`, `Plan.model_validate_json(...)` alone (structure only, the peer), and
`json.loads` for scale. Median of N repeats after one warm-up.

    planactor bench validate [--json]

Target: 10,000 steps validated in under 200 ms, for each shape.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from planactor import Catalog, Limits, Plan, validate
from planactor.bench._timing import median_ms

__all__ = ["Result", "chain_plan", "fan_out_plan", "main", "measure", "run"]

SIZES = (100, 1_000, 10_000)
TARGET_STEPS = 10_000
TARGET_MS = 200.0


def _repeats(steps: int) -> int:
    return 15 if steps <= 1_000 else 7


def _envelope(steps: list[dict[str, Any]], shape: str) -> dict[str, Any]:
    return {
        "api_version": "planactor/v1",
        "intent": f"benchmark: {shape} of {len(steps)} steps",
        "requested_by": "benchmarks/validate.py",
        "steps": steps,
    }


def chain_plan(n: int) -> dict[str, Any]:
    """`s0 -> s1 -> ...`: each echo step takes the message of the one before it."""
    steps: list[dict[str, Any]] = [{"id": "s0", "actor": "core.echo", "args": {"message": "go"}}]
    steps += [
        {
            "id": f"s{i}",
            "actor": "core.echo",
            "args": {"message": {"$ref": f"s{i - 1}.output.message"}},
        }
        for i in range(1, n)
    ]
    return _envelope(steps, "chain")


def fan_out_plan(n: int) -> dict[str, Any]:
    """One root; every other step runs after it and takes the root's output value."""
    steps: list[dict[str, Any]] = [
        {"id": "root", "actor": "core.echo", "args": {"message": "root", "value": 1}}
    ]
    steps += [
        {
            "id": f"s{i}",
            "actor": "core.echo",
            "args": {"message": "leaf", "value": {"$ref": "root.output.value"}},
            "after": ["root"],
        }
        for i in range(1, n)
    ]
    return _envelope(steps, "fan-out")


SHAPES: dict[str, Callable[[int], dict[str, Any]]] = {"chain": chain_plan, "fan-out": fan_out_plan}


@dataclass(frozen=True, slots=True)
class Result:
    shape: str
    steps: int
    bytes: int
    repeats: int
    validate_ms: float
    parse_ms: float
    json_loads_ms: float

    @property
    def ratio(self) -> float:
        return self.validate_ms / self.parse_ms

    @property
    def per_step_us(self) -> float:
        return self.validate_ms * 1000 / self.steps

    def to_document(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "per_step_us": self.per_step_us}


def measure(shape: str, steps: int, catalog: Catalog, repeats: int | None = None) -> Result:
    """Time validate, the structure-only parse and json.loads on one generated plan."""
    data = json.dumps(SHAPES[shape](steps), separators=(",", ":")).encode()
    # Large enough for the biggest plan: a plan over the limit would be refused early and
    # time nothing but the size check.
    limits = Limits(max_steps=max(steps, Limits().max_steps), max_bytes=max(len(data), 1 << 20))
    report = validate(data, catalog=catalog, limits=limits)
    if not report.ok or report.step_count != steps:
        raise RuntimeError(f"{shape}/{steps}: the benchmark plan is not valid: {report.codes()}")
    n = repeats or _repeats(steps)
    return Result(
        shape=shape,
        steps=steps,
        bytes=len(data),
        repeats=n,
        validate_ms=median_ms(lambda: validate(data, catalog=catalog, limits=limits), n),
        parse_ms=median_ms(lambda: Plan.model_validate_json(data), n),
        json_loads_ms=median_ms(lambda: json.loads(data), n),
    )


def run(sizes: tuple[int, ...] = SIZES, repeats: int | None = None) -> list[Result]:
    catalog = Catalog.discover()
    return [measure(shape, n, catalog, repeats) for shape in SHAPES for n in sizes]


def _verdicts(results: list[Result]) -> list[tuple[str, float, bool]]:
    return [
        (r.shape, r.validate_ms, r.validate_ms < TARGET_MS)
        for r in results
        if r.steps == TARGET_STEPS
    ]


def _table(results: list[Result]) -> str:
    head = (
        f"{'shape':<8} {'steps':>7} {'KiB':>7} {'validate ms':>12} {'parse ms':>9} "
        f"{'ratio':>6} {'µs/step':>8} {'json.loads ms':>14}"
    )
    rows = [head, "-" * len(head)]
    rows += [
        f"{r.shape:<8} {r.steps:>7,} {r.bytes / 1024:>7.0f} {r.validate_ms:>12.2f} "
        f"{r.parse_ms:>9.2f} {r.ratio:>6.2f} {r.per_step_us:>8.2f} {r.json_loads_ms:>14.2f}"
        for r in results
    ]
    default = Limits()
    for r in results:
        if r.bytes > default.max_bytes or r.steps > default.max_steps:
            rows.append(
                f"note: {r.shape}/{r.steps:,} is {r.bytes / 1024:,.0f} KiB, over the default "
                f"limit of {default.max_bytes / 1024:,.0f} KiB: measured with the limit raised"
            )
    for shape, ms, ok in _verdicts(results):
        rows.append(
            f"{'PASS' if ok else 'MISS'}: {shape}: {TARGET_STEPS:,} steps validated in "
            f"{ms:.1f} ms (target < {TARGET_MS:.0f} ms)"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = run()
    if args.json:
        doc = {
            "python": sys.version.split()[0],
            "target": {"steps": TARGET_STEPS, "ms": TARGET_MS},
            "default_limits": asdict(Limits()),
            "results": [r.to_document() for r in results],
            "verdicts": [{"shape": s, "ms": ms, "pass": ok} for s, ms, ok in _verdicts(results)],
        }
        print(json.dumps(doc, indent=2))
    else:
        print(_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
