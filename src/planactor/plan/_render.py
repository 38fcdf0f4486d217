"""Renderings of a plan for review: a rich table, Mermaid and Graphviz DOT."""

from __future__ import annotations

import json

from rich.table import Table
from rich.text import Text

from planactor.plan._dag import dependencies
from planactor.plan._kinds import KindOf, StepKind
from planactor.plan._model import Plan, Step
from planactor.plan._refs import InputRef, OutputRef, iter_references

__all__ = ["reference_arrow", "render_dot", "render_mermaid", "render_table"]

_BADGE: dict[StepKind, tuple[str, str]] = {
    "read": ("read", "green"),
    "write": ("write", "yellow"),
    "irreversible": ("write ⚠ irreversible", "bold red"),
    "unknown": ("? unknown actor", "magenta"),
}
_COLOURS: dict[StepKind, tuple[str, str]] = {  # fill, stroke
    "read": ("#e8f5e9", "#2e7d32"),
    "write": ("#fff8e1", "#f9a825"),
    "irreversible": ("#ffebee", "#c62828"),
    "unknown": ("#f3e5f5", "#6a1b9a"),
}


def reference_arrow(value: object) -> str | None:
    """An argument that is one whole reference, as a reviewer reads it (`←step.output.x`,
    `←inputs.name`); None for any other value."""
    if isinstance(value, dict):
        refs = list(iter_references(value))
        if len(refs) == 1 and refs[0].location == ():
            ref = refs[0]
            if isinstance(ref, OutputRef):
                return f"←{ref.text}"
            if isinstance(ref, InputRef):
                return f"←inputs.{ref.name}"
    return None


def _arg_summary(step: Step, width: int = 60) -> str:
    """Arguments on one line with references shown as arrows, cut to `width`."""

    def show(value: object) -> str:
        arrow = reference_arrow(value)
        return arrow or json.dumps(value, ensure_ascii=False, sort_keys=True)

    text = " ".join(f"{k}={show(v)}" for k, v in step.args.items())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_table(plan: Plan, kind_of: KindOf, *, title: str | None = None) -> Table:
    """One row per step: effect badge, actor, dependencies, arguments, failure policy."""
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("#", justify="right", style="dim")
    # Ids and actor names are what reviewers copy and grep: never cut them short.
    longest_id = max((len(s.id) for s in plan.steps), default=4)
    longest_actor = max((len(s.actor) for s in plan.steps), default=5)
    table.add_column("step", style="bold", no_wrap=True, min_width=longest_id)
    table.add_column("actor", no_wrap=True, min_width=longest_actor)
    table.add_column("effect")
    table.add_column("after")
    table.add_column("args", overflow="fold")
    table.add_column("on failure")
    for i, step in enumerate(plan.steps):
        label, style = _BADGE[kind_of(step.actor)]
        extra = []
        if step.when is not None:
            extra.append("when")
        if step.retry is not None and step.retry.attempts > 1:
            extra.append(f"retry×{step.retry.attempts}")
        if step.timeout_s is not None:
            extra.append(f"timeout {step.timeout_s:g}s")
        # Plain Text cells: rich must not read `[bold]` in an argument as markup.
        table.add_row(
            Text(str(i)),
            Text(step.id),
            Text(step.actor),
            Text(f"[{label}]", style=style),
            Text(", ".join(dependencies(step)) or "-"),
            Text(_arg_summary(step)),
            Text(" ".join([step.on_failure, *extra])),
        )
    return table


def _mermaid_label(text: str) -> str:
    # `#` first: Mermaid reads `#name;` as an entity, and the escapes below use it.
    text = text.replace("#", "#35;").replace('"', "#quot;")
    return text.replace("<", "#lt;").replace(">", "#gt;").replace("\n", " ")


def render_mermaid(plan: Plan, kind_of: KindOf) -> str:
    """A `flowchart TD`; nodes are numbered so any step id is safe, and styled by effect."""
    index = {s.id: i for i, s in enumerate(plan.steps)}
    lines = ["flowchart TD"]
    used: set[StepKind] = set()
    for i, step in enumerate(plan.steps):
        kind = kind_of(step.actor)
        used.add(kind)
        badge = _BADGE[kind][0]
        label = "<br/>".join(_mermaid_label(t) for t in (step.id, step.actor, f"[{badge}]"))
        lines.append(f'    n{i}["{label}"]:::{kind}')
    for step in plan.steps:
        for dep in dependencies(step):
            if dep in index:
                lines.append(f"    n{index[dep]} --> n{index[step.id]}")
    for kind in sorted(used):
        fill, stroke = _COLOURS[kind]
        lines.append(f"    classDef {kind} fill:{fill},stroke:{stroke}")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_dot(plan: Plan, kind_of: KindOf) -> str:
    """A Graphviz digraph, left to right, with the same colours as the Mermaid rendering."""
    index = {s.id: i for i, s in enumerate(plan.steps)}
    lines = [
        "digraph plan {",
        "    rankdir=LR;",
        '    node [shape=box, style="rounded,filled", fontname="Helvetica"];',
        f"    label={_dot_quote(plan.intent)}; labelloc=t;",
    ]
    for i, step in enumerate(plan.steps):
        kind = kind_of(step.actor)
        fill, stroke = _COLOURS[kind]
        label = _dot_quote(f"{step.id}\n{step.actor}\n[{_BADGE[kind][0]}]")
        lines.append(f'    n{i} [label={label}, fillcolor="{fill}", color="{stroke}"];')
    for step in plan.steps:
        for dep in dependencies(step):
            if dep in index:
                lines.append(f"    n{index[dep]} -> n{index[step.id]};")
    lines.append("}")
    return "\n".join(lines) + "\n"
