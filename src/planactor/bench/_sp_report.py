"""Summaries of the shortest-path trials: per method and size, the ratios, CSV, chart, tables.

summarize    one `SummaryRow` per (method, size): valid and optimal counts and rates with
             95% Wilson intervals, median and p90 latency, tokens, $ and joules per query
ratios       algorithm vs each LLM method, per size: latency, energy, cost, correctness
write_csv    the summary as CSV
write_chart  a PNG: median latency per method and size (log axis), optimal rate with
             its Wilson interval as error bars (matplotlib, headless)
render       the rich tables
"""

from __future__ import annotations

import csv
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from planactor.bench._sp_methods import METHODS, Trial
from planactor.bench._sp_score import percentile, wilson

__all__ = ["RatioRow", "SummaryRow", "ratios", "render", "summarize", "write_chart", "write_csv"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryRow:
    """One method at one size; token, $ and joule figures are means per query."""

    method: str
    size: int
    trials: int
    valid: int
    optimal: int
    valid_rate: float
    valid_low: float
    valid_high: float
    optimal_rate: float
    optimal_low: float
    optimal_high: float
    median_latency_s: float
    p90_latency_s: float
    tokens_in: float
    tokens_out: float
    usd: float
    joules: float
    joules_source: str
    errors: int
    called_tool: int | None  # llm-tool: trials in which the model called the tool

    def to_document(self) -> dict[str, Any]:
        return asdict(self)


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def summarize(trials: Sequence[Trial]) -> list[SummaryRow]:
    """One row per (method, size) present, methods in their usual order, sizes ascending."""
    groups: dict[tuple[str, int], list[Trial]] = {}
    for t in trials:
        groups.setdefault((t.method, t.size), []).append(t)
    order = {m: i for i, m in enumerate(METHODS)}
    rows = []
    for (method, size), ts in sorted(
        groups.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1])
    ):
        n = len(ts)
        valid = sum(t.valid for t in ts)
        optimal = sum(t.optimal for t in ts)
        v_low, v_high = wilson(valid, n)
        o_low, o_high = wilson(optimal, n)
        latencies = [t.latency_s for t in ts]
        sources = {t.joules_source for t in ts}
        rows.append(
            SummaryRow(
                method=method,
                size=size,
                trials=n,
                valid=valid,
                optimal=optimal,
                valid_rate=valid / n,
                valid_low=v_low,
                valid_high=v_high,
                optimal_rate=optimal / n,
                optimal_low=o_low,
                optimal_high=o_high,
                median_latency_s=statistics.median(latencies),
                p90_latency_s=percentile(latencies, 90),
                tokens_in=_mean([t.tokens_in for t in ts]),
                tokens_out=_mean([t.tokens_out for t in ts]),
                usd=_mean([t.usd for t in ts]),
                joules=_mean([t.joules for t in ts]),
                joules_source="rapl" if sources == {"rapl"} else "estimate",
                errors=sum(t.error is not None for t in ts),
                called_tool=sum(bool(t.called_tool) for t in ts) if method == "llm-tool" else None,
            )
        )
    return rows


@dataclass(frozen=True, slots=True, kw_only=True)
class RatioRow:
    """The algorithm against one LLM method at one size (ratios: LLM / algorithm)."""

    method: str
    size: int
    latency_ratio: float
    energy_ratio: float
    llm_usd: float
    algorithm_optimal_rate: float
    llm_optimal_rate: float

    def to_document(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.inf


def ratios(rows: Sequence[SummaryRow]) -> list[RatioRow]:
    """Algorithm vs each LLM method at each size both were measured at."""
    algorithm = {r.size: r for r in rows if r.method == "algorithm"}
    return [
        RatioRow(
            method=r.method,
            size=r.size,
            latency_ratio=_ratio(r.median_latency_s, algorithm[r.size].median_latency_s),
            energy_ratio=_ratio(r.joules, algorithm[r.size].joules),
            llm_usd=r.usd,
            algorithm_optimal_rate=algorithm[r.size].optimal_rate,
            llm_optimal_rate=r.optimal_rate,
        )
        for r in rows
        if r.method != "algorithm" and r.size in algorithm
    ]


def write_csv(rows: Sequence[SummaryRow], path: Path) -> None:
    fields = list(SummaryRow.__dataclass_fields__)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for r in rows:
            writer.writerow(r.to_document())


def write_chart(rows: Sequence[SummaryRow], path: Path, *, title: str) -> None:
    """Two panels: median latency (log axis, p90 as the bar's whisker) and optimal rate with
    its 95% Wilson interval, one group of bars per size, one bar per method."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    methods = [m for m in METHODS if any(r.method == m for r in rows)]
    sizes = sorted({r.size for r in rows})
    by = {(r.method, r.size): r for r in rows}
    width = 0.8 / max(1, len(methods))
    fig, (ax_lat, ax_opt) = plt.subplots(1, 2, figsize=(12, 4.5))
    for i, method in enumerate(methods):
        xs, lat, p90, opt, low, high = [], [], [], [], [], []
        for j, size in enumerate(sizes):
            r = by.get((method, size))
            if r is None:
                continue
            xs.append(j + (i - (len(methods) - 1) / 2) * width)
            lat.append(max(r.median_latency_s, 1e-7))
            p90.append(max(r.p90_latency_s - r.median_latency_s, 0.0))
            opt.append(r.optimal_rate * 100)
            # matplotlib refuses negative error bars, so rounding must not make one.
            low.append(max(0.0, r.optimal_rate - r.optimal_low) * 100)
            high.append(max(0.0, r.optimal_high - r.optimal_rate) * 100)
        ax_lat.bar(xs, lat, width, label=method, yerr=[[0.0] * len(p90), p90], capsize=2)
        ax_opt.bar(xs, opt, width, label=method, yerr=[low, high], capsize=3)
    for ax in (ax_lat, ax_opt):
        ax.set_xticks(range(len(sizes)), [str(s) for s in sizes])
        ax.set_xlabel("nodes")
    ax_lat.set_yscale("log")
    ax_lat.set_ylabel("median latency per query, s (log; whisker: p90)")
    ax_opt.set_ylabel("optimal answers, % (95% Wilson interval)")
    ax_opt.set_ylim(0, 105)
    ax_opt.legend(loc="upper right", fontsize="small")
    fig.suptitle(title, fontsize="medium")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _pct(rate: float, low: float, high: float) -> str:
    return f"{rate * 100:.0f}% [{low * 100:.0f}-{high * 100:.0f}]"


def _seconds(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def _times(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:,.0f}x"


def render(
    console: Console,
    rows: Sequence[SummaryRow],
    ratio_rows: Sequence[RatioRow],
    *,
    energy_note: str,
) -> None:
    """The summary and the ratio table, with where the joules come from."""
    table = Table(title="shortest path: per method and size (95% Wilson intervals)")
    for name in ("method", "nodes", "trials", "valid", "optimal", "median", "p90"):
        table.add_column(name, justify="left" if name == "method" else "right")
    for name in ("tok in", "tok out", "$/query", "J/query", "errors", "tool called"):
        table.add_column(name, justify="right")
    for r in rows:
        table.add_row(
            r.method,
            str(r.size),
            str(r.trials),
            _pct(r.valid_rate, r.valid_low, r.valid_high),
            _pct(r.optimal_rate, r.optimal_low, r.optimal_high),
            _seconds(r.median_latency_s),
            _seconds(r.p90_latency_s),
            f"{r.tokens_in:,.0f}",
            f"{r.tokens_out:,.0f}",
            f"{r.usd:.6f}",
            f"{r.joules:.3g}",
            str(r.errors),
            "-" if r.called_tool is None else f"{r.called_tool}/{r.trials}",
        )
    console.print(table)
    if ratio_rows:
        ratio = Table(title="algorithm vs LLM (ratios: LLM / algorithm)")
        for name in (
            "method",
            "nodes",
            "latency",
            "energy",
            "LLM $/query",
            "optimal: algo",
            "optimal: LLM",
        ):
            ratio.add_column(name, justify="left" if name == "method" else "right")
        for q in ratio_rows:
            ratio.add_row(
                q.method,
                str(q.size),
                _times(q.latency_ratio),
                _times(q.energy_ratio),
                f"{q.llm_usd:.6f}",
                f"{q.algorithm_optimal_rate * 100:.0f}%",
                f"{q.llm_optimal_rate * 100:.0f}%",
            )
        console.print(ratio)
    console.print(f"energy: {energy_note}")
