"""Summaries of the compounding trials: per controller and size, CSV, chart and table.

summarize    one `SummaryRow` per (controller, hosts): end-to-end successes with their
             95% Wilson interval, DU events, steps, wall time, tokens; for the pure-LLM
             executor its per-step accuracy p (pooled over the size's trials) and p^n
step_accuracy  p pooled over any set of trials (actions on the reference / all actions)
write_chart  measured success against workflow length n, beside p^n for p = 0.95, 0.99
             and the measured p
"""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from planactor.bench._compounding_trial import CONTROLLERS, Trial
from planactor.bench._sp_score import wilson

__all__ = [
    "ANALYTIC_P",
    "SummaryRow",
    "render",
    "step_accuracy",
    "summarize",
    "write_chart",
    "write_csv",
]

ANALYTIC_P = (0.95, 0.99)


def step_accuracy(trials: Sequence[Trial]) -> float | None:
    """Actions that were a ready step of the routine's plan, over all actions taken."""
    steps = sum(t.steps for t in trials)
    return sum(t.on_reference for t in trials) / steps if steps else None


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryRow:
    """One controller at one size; token and $ figures are means per trial."""

    controller: str
    hosts: int
    length: int  # n: the routine's steps for this size
    trials: int
    successes: int
    success_rate: float
    success_low: float
    success_high: float
    du_events: int
    du_trials: int
    median_wall_s: float
    mean_steps: float
    step_accuracy: float | None
    predicted: float | None  # step_accuracy ** length
    tokens_in: float
    tokens_out: float
    usd: float
    ended: str  # how the trials ended, e.g. "stalled:3 done:1"

    def to_document(self) -> dict[str, Any]:
        return asdict(self)


def summarize(trials: Sequence[Trial]) -> list[SummaryRow]:
    groups: dict[tuple[str, int], list[Trial]] = {}
    for t in trials:
        groups.setdefault((t.controller, t.hosts), []).append(t)
    order = {c: i for i, c in enumerate(CONTROLLERS)}
    rows = []
    for (controller, hosts), ts in sorted(
        groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])
    ):
        n = len(ts)
        wins = sum(t.success for t in ts)
        low, high = wilson(wins, n)
        p = step_accuracy(ts) if controller == "react" else None
        length = ts[0].length
        ended = Counter(t.ended for t in ts)
        rows.append(
            SummaryRow(
                controller=controller,
                hosts=hosts,
                length=length,
                trials=n,
                successes=wins,
                success_rate=wins / n,
                success_low=low,
                success_high=high,
                du_events=sum(t.du for t in ts),
                du_trials=sum(t.du > 0 for t in ts),
                median_wall_s=statistics.median(t.wall_s for t in ts),
                mean_steps=statistics.fmean(t.steps for t in ts),
                step_accuracy=p,
                predicted=p**length if p is not None else None,
                tokens_in=statistics.fmean(t.tokens_in for t in ts),
                tokens_out=statistics.fmean(t.tokens_out for t in ts),
                usd=statistics.fmean(t.usd for t in ts),
                ended=" ".join(f"{k}:{v}" for k, v in sorted(ended.items())),
            )
        )
    return rows


def write_csv(rows: Sequence[SummaryRow], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(SummaryRow.__dataclass_fields__))
        writer.writeheader()
        for r in rows:
            writer.writerow(r.to_document())


def _pooled_p(rows: Sequence[SummaryRow]) -> float | None:
    """The react rows' per-step accuracy pooled over sizes (weighted by steps taken)."""
    react = [r for r in rows if r.controller == "react" and r.step_accuracy is not None]
    steps = sum(r.mean_steps * r.trials for r in react)
    if not steps:
        return None
    return sum((r.step_accuracy or 0.0) * r.mean_steps * r.trials for r in react) / steps


def write_chart(rows: Sequence[SummaryRow], path: Path, *, title: str) -> None:
    """Success (%, Wilson whiskers) per controller against n, with the p^n curves."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.2))
    top = max([r.length for r in rows] + [10]) + 2
    ns = list(range(1, top + 1))
    p_hat = _pooled_p(rows)
    curves = [(p, f"p^n, p = {p:g}", "--") for p in ANALYTIC_P]
    if p_hat is not None:
        curves.append((p_hat, f"p^n, measured p = {p_hat:.2f} (pure LLM)", ":"))
    for p, label, style in curves:
        ax.plot(ns, [100 * p**n for n in ns], style, label=label, linewidth=1)
    for marker, controller in zip("os", CONTROLLERS, strict=True):
        mine = sorted((r for r in rows if r.controller == controller), key=lambda r: r.length)
        if not mine:
            continue
        xs = [r.length for r in mine]
        ys = [100 * r.success_rate for r in mine]
        low = [max(0.0, r.success_rate - r.success_low) * 100 for r in mine]
        high = [max(0.0, r.success_high - r.success_rate) * 100 for r in mine]
        ax.errorbar(xs, ys, yerr=[low, high], fmt=marker + "-", capsize=3, label=controller)
    ax.set_xlabel("workflow length n (steps of the upgrade routine)")
    ax.set_ylabel("end-to-end success, % (95% Wilson interval)")
    ax.set_ylim(-3, 105)
    ax.set_xlim(0, top)
    # Below the axes: inside, it would hide the points at 0% and 100%.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize="small")
    ax.set_title(title, fontsize="medium")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _pct(rate: float, low: float, high: float) -> str:
    return f"{rate * 100:.0f}% [{low * 100:.0f}-{high * 100:.0f}]"


def _opt(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def render(console: Console, rows: Sequence[SummaryRow]) -> None:
    table = Table(title="compounding: firmware upgrade per controller and size (95% Wilson)")
    heads = (
        *("controller", "hosts", "n", "trials", "success", "DU (trials)", "steps"),
        *("step acc p", "p^n", "median wall", "tok in", "tok out", "$/trial", "ended"),
    )
    for h in heads:
        left = h in ("controller", "ended")
        table.add_column(h, justify="left" if left else "right", no_wrap=left)
    for r in rows:
        table.add_row(
            r.controller,
            str(r.hosts),
            str(r.length),
            str(r.trials),
            _pct(r.success_rate, r.success_low, r.success_high),
            f"{r.du_events} ({r.du_trials})",
            f"{r.mean_steps:.1f}",
            _opt(r.step_accuracy, ".2f"),
            _opt(r.predicted, ".3f"),
            f"{r.median_wall_s:.2f} s",
            f"{r.tokens_in:,.0f}",
            f"{r.tokens_out:,.0f}",
            f"{r.usd:.4f}",
            r.ended,
        )
    console.print(table)
    console.print(
        "analytic p^n at these lengths: "
        + ", ".join(
            f"n={n}: " + " / ".join(f"{p**n:.2f}" for p in ANALYTIC_P)
            for n in sorted({r.length for r in rows})
        )
        + f" (p = {' / '.join(f'{p:g}' for p in ANALYTIC_P)})"
    )
