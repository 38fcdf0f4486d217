"""The plan's DAG as server-side SVG: Graphviz when `dot` is installed, else a layered layout
of our own (each step one row below its deepest dependency). Every text is escaped here,
since the SVG goes into the page as markup."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from html import escape

from planactor.plan import Plan, StepKind, dependency_map, render_dot

__all__ = ["dag_svg", "layered_svg"]

_W, _H = 200, 46  # a node's box
_GAP_X, _GAP_Y = 28, 40
_PAD = 12
KindOf = Callable[[str], StepKind]
_BADGE = {"read": "R", "write": "W", "irreversible": "W!", "unknown": "?"}


def dag_svg(plan: Plan, kind_of: KindOf, *, graphviz: bool = True) -> str:
    """The DAG as one `<svg>` element; Graphviz's drawing if `dot` works, else ours."""
    dot = shutil.which("dot") if graphviz else None
    if dot is not None:
        drawn = _graphviz(dot, render_dot(plan, kind_of))
        if drawn is not None:
            return drawn
    return layered_svg(plan, kind_of)


def _graphviz(dot: str, source: str) -> str | None:
    try:
        done = subprocess.run(
            [dot, "-Tsvg"], input=source.encode(), capture_output=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None  # a broken Graphviz must not cost the reviewer the page
    text = done.stdout.decode("utf-8", "replace")
    start = text.find("<svg")
    return text[start:] if start >= 0 else None


def _layers(plan: Plan) -> dict[str, int]:
    """Each step's row: 0 without dependencies, else one below its deepest dependency."""
    deps = dependency_map(plan.steps)
    layer: dict[str, int] = {}
    for s in plan.steps:  # validated plans list steps in dependency order
        layer[s.id] = 1 + max((layer.get(d, 0) for d in deps[s.id]), default=-1)
    return layer


def layered_svg(plan: Plan, kind_of: KindOf) -> str:
    """Our own layout: rows by depth, steps in plan order within a row, edges as curves."""
    layer = _layers(plan)
    rows: dict[int, list[str]] = {}
    for s in plan.steps:
        rows.setdefault(layer[s.id], []).append(s.id)
    widest = max((len(r) for r in rows.values()), default=1)
    width = _PAD * 2 + widest * _W + (widest - 1) * _GAP_X
    height = _PAD * 2 + len(rows) * _H + max(len(rows) - 1, 0) * _GAP_Y
    where: dict[str, tuple[float, float]] = {}
    for depth, ids in rows.items():
        row_width = len(ids) * _W + (len(ids) - 1) * _GAP_X
        left = (width - row_width) / 2
        for i, sid in enumerate(ids):
            where[sid] = (left + i * (_W + _GAP_X), _PAD + depth * (_H + _GAP_Y))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="dag" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}">',
        "<title>plan steps and their dependencies</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#667"/></marker></defs>',
    ]
    deps = dependency_map(plan.steps)
    for s in plan.steps:
        x2, y2 = where[s.id]
        for d in deps[s.id]:
            if d not in where:
                continue
            x1, y1 = where[d]
            ax, ay, bx, by = x1 + _W / 2, y1 + _H, x2 + _W / 2, y2
            mid = (ay + by) / 2
            parts.append(
                f'<path class="edge" d="M{ax:.0f},{ay:.0f} C{ax:.0f},{mid:.0f} {bx:.0f},'
                f'{mid:.0f} {bx:.0f},{by - 2:.0f}" fill="none" stroke="#667" '
                'stroke-width="1.4" marker-end="url(#arrow)"/>'
            )
    for s in plan.steps:
        x, y = where[s.id]
        kind = kind_of(s.actor)
        sid, actor = escape(s.id), escape(_cut(s.actor, 30))
        parts.append(
            f'<g class="node kind-{kind}" data-step="{sid}" data-state="pending">'
            f"<title>{sid}: {escape(s.actor)} ({kind})</title>"
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{_W}" height="{_H}" rx="6" ry="6" '
            'stroke="#445" stroke-width="1.2" fill="#fff"/>'
            f'<text x="{x + 10:.0f}" y="{y + 19:.0f}" class="sid" font-size="13" '
            f'font-family="sans-serif" font-weight="bold">{escape(_cut(s.id, 22))}</text>'
            f'<text x="{x + 10:.0f}" y="{y + 36:.0f}" class="actor" font-size="11" '
            f'font-family="monospace" fill="#445">{actor}</text>'
            f'<text x="{x + _W - 10:.0f}" y="{y + 19:.0f}" text-anchor="end" '
            f'class="badge" font-size="12" font-family="sans-serif" font-weight="bold">'
            f"{_BADGE[kind]}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
