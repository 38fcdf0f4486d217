"""Scoring an answer to the shortest-path task, and the statistics of a set of them.

last_path_object   the last JSON object in a text that holds a "path" (the answer)
score_answer       valid (source to target over real edges) and optimal (its recomputed
                   weight equals Dijkstra's: weight, not path identity, so ties count)
wilson             the 95% Wilson score interval of a success rate
percentile         nearest-rank percentile (p90 latency)
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

from planactor.bench._sp_graphs import SpGraph

__all__ = ["Score", "last_path_object", "percentile", "score_answer", "wilson"]

Z95 = 1.959963984540054  # the two-sided 95% quantile of the standard normal


def last_path_object(text: str) -> dict[str, Any] | None:
    """The last JSON object in `text` that has a "path" key; None when there is none.

    Models wrap JSON in prose or code fences and a chain of thought may quote several
    candidates: every `{` is tried as the start of an object and the last one that parses
    and holds "path" wins (nested objects count, so `{"answer": {"path": ...}}` is found).
    """
    decoder = json.JSONDecoder()
    found: dict[str, Any] | None = None
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            value = None
        if isinstance(value, dict) and "path" in value:
            found = value
        start = text.find("{", start + 1)
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class Score:
    """What one answer earned; `reason` says why it is not optimal (None when it is)."""

    parsed: bool
    valid: bool
    optimal: bool
    path: list[str] | None
    weight: int | None  # the path's weight recomputed from the graph, never the model's claim
    claimed_weight: float | None
    reason: str | None


def _claimed(answer: dict[str, Any]) -> float | None:
    value = answer.get("total_weight")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def score_answer(graph: SpGraph, text: str) -> Score:
    """Score the answer in `text` against `graph` (its last JSON object holding "path")."""
    answer = last_path_object(text)
    if answer is None:
        return Score(
            parsed=False,
            valid=False,
            optimal=False,
            path=None,
            weight=None,
            claimed_weight=None,
            reason="no JSON object with a path",
        )
    raw = answer["path"]
    claimed = _claimed(answer)
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        return Score(
            parsed=False,
            valid=False,
            optimal=False,
            path=None,
            weight=None,
            claimed_weight=claimed,
            reason="path is not a list of node names",
        )
    path = [n.strip() for n in raw]

    def invalid(reason: str) -> Score:
        return Score(
            parsed=True,
            valid=False,
            optimal=False,
            path=path,
            weight=None,
            claimed_weight=claimed,
            reason=reason,
        )

    if not path:
        return invalid("the path is empty")
    if path[0] != graph.source:
        return invalid(f"starts at {path[0]}, not {graph.source}")
    if path[-1] != graph.target:
        return invalid(f"ends at {path[-1]}, not {graph.target}")
    weight = graph.path_weight(path)
    if weight is None:
        hop = next(
            f"{u} -- {v}"
            for u, v in itertools.pairwise(path)
            if u == v or frozenset((u, v)) not in graph.weights
        )
        return invalid(f"{hop} is not an edge")
    optimal = weight == graph.optimum
    return Score(
        parsed=True,
        valid=True,
        optimal=optimal,
        path=path,
        weight=weight,
        claimed_weight=claimed,
        reason=None if optimal else f"weight {weight}, optimum {graph.optimum}",
    )


def wilson(successes: int, trials: int, *, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval (95% by default) of `successes` out of `trials`.

    Unlike the normal approximation it stays inside [0, 1] and is not empty at 0 or n
    successes, which matters here: small models score 0 out of 20 often.
    """
    if trials <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    # At 0 or n successes the bound is exactly 0 or 1; rounding would leave it a hair inside
    # (0.9999999999999999 at 10 of 10), below the rate itself.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return (low, high)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank `q`-th percentile (0 < q <= 100) of `values`; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
