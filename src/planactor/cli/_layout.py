"""Terminal output that fits: plan tables, run summaries and run lists laid out for the
console's width, one line per row, never a cell wrapped into slivers.

The width is the console's: the terminal's, `COLUMNS` when set, and 80 when the output
is captured or piped (rich's fallback), so a log reads like an 80-column terminal. Each
table has one flexible column (a plan's arguments, a run's note, a run's intent) that takes
the room the others leave and is cut with an ellipsis; optional columns are dropped, least
useful first, before it gets too narrow. Step ids, actor names and run ids are never cut
while they fit the screen at all: reviewers copy and grep them. `wide=True` lays every
column out at full length instead (lines then run past the width, as `--wide` asks).

Effects are badges: `R` read, `W` write, `W!` irreversible write, `?` unknown actor, with a
legend under each plan table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from planactor.engine import RunResult
    from planactor.journal import RunRecord
    from planactor.plan import Plan, Step, StepKind
    from planactor.plan._kinds import KindOf

__all__ = [
    "BADGES",
    "STATE_STYLES",
    "STATUS_STYLES",
    "Column",
    "Laid",
    "args_summary",
    "fit",
    "fit_text",
    "lay_out",
    "legend",
    "plan_lines",
    "print_lines",
    "print_plan",
    "result_lines",
    "runs_lines",
]

ELLIPSIS = "…"
GAP = 2  # spaces between columns
MIN_FLEX = 16  # the flexible column's narrowest useful width; columns drop before it

BADGES: dict[str, tuple[str, str]] = {
    "read": ("R", "green"),
    "write": ("W", "yellow"),
    "irreversible": ("W!", "bold red"),
    "unknown": ("?", "magenta"),
}
_MEANINGS = {
    "read": "read",
    "write": "write",
    "irreversible": "irreversible write (no undo)",
    "unknown": "unknown actor",
}


def fit(text: str, width: int, *, words: bool = False) -> str:
    """`text` in at most `width` terminal cells, ending in '…' when it was cut; with
    `words`, cut after a whole word when that keeps most of the room used."""
    if cell_len(text) <= width:
        return text
    if width <= 0:
        return ""
    kept, used = [], 0
    for ch in text:
        w = cell_len(ch)
        if used + w > width - 1:
            break
        kept.append(ch)
        used += w
    cut = "".join(kept)
    if words:
        space = cut.rfind(" ")
        if space >= (width * 3) // 5:
            return cut[: space + 1] + ELLIPSIS
    return cut + ELLIPSIS


def _pad(text: str, width: int, justify: Literal["left", "right"]) -> str:
    space = " " * max(width - cell_len(text), 0)
    return space + text if justify == "right" else text + space


@dataclass(slots=True)
class Column:
    """One column: header, one cell per row (text and style), and how it may give way.

    `flex` marks the column that takes the remaining width; `drop` orders the optional
    columns (lowest dropped first, None never dropped); `cap` bounds an optional column's
    width (its cells are cut beyond it). For the flexible column, `least` is its narrowest
    useful width (optional columns give way before it gets narrower) and `whole` whether
    optional columns also give way when that lets it show whole.
    """

    header: str
    cells: list[tuple[str, str]]
    justify: Literal["left", "right"] = "left"
    flex: bool = False
    drop: int | None = None
    cap: int | None = None
    style: str = ""
    least: int = MIN_FLEX  # flex only: the width below which optional columns give way
    whole: bool = True  # flex only: optional columns give way so that it shows whole
    width: int = field(default=0, init=False)

    def natural(self, wide: bool) -> int:
        longest = max([cell_len(self.header), *(cell_len(t) for t, _ in self.cells)])
        return longest if wide or self.cap is None else min(longest, self.cap)


def _widths(columns: list[Column], width: int) -> list[Column]:
    """The columns that fit `width`, each with its width set."""
    shown = list(columns)
    for c in shown:
        c.width = c.natural(wide=True)
    if sum(c.width for c in shown) + GAP * (len(shown) - 1) <= width:
        return shown  # everything whole: no cap needed
    for c in shown:
        c.width = c.natural(wide=False)
    flex = next((c for c in shown if c.flex), None)

    def rest() -> int:
        others = sum(c.width for c in shown if c is not flex)
        return width - others - GAP * (len(shown) - 1)

    if flex is not None:
        droppable = sorted((c for c in shown if c.drop is not None), key=lambda c: c.drop or 0)
        need = flex.natural(wide=False)
        # The fewest optional columns whose going lets the flexible one show whole; when no
        # number of them does, only as many as it needs to stay readable (MIN_FLEX).
        for k in range(len(droppable) + 1 if flex.whole else 0):
            spared = sum(c.width + GAP for c in droppable[:k])
            if rest() + spared >= need:
                for c in droppable[:k]:
                    shown.remove(c)
                break
        else:
            while rest() < min(flex.least, need) and droppable:
                shown.remove(droppable.pop(0))
        flex.width = min(flex.natural(wide=False), max(rest(), 0))
        if flex.width < 4:  # nothing readable left for it: say so below instead
            shown.remove(flex)
    # Last resort (ids longer than the screen): cut the widest columns, never past the width.
    while sum(c.width for c in shown) + GAP * (len(shown) - 1) > width and shown:
        widest = max(shown, key=lambda c: c.width)
        widest.width -= 1
        if widest.width < 1:
            shown.remove(widest)
    return shown


@dataclass(frozen=True, slots=True)
class Laid:
    """Laid-out lines, and whether anything was left out to fit (a column or a cell's end)."""

    lines: list[Text]
    cut: bool


def lay_out(columns: Sequence[Column], width: int, *, wide: bool = False) -> Laid:
    """A header, a rule and one line per row; no line wider than `width` unless `wide`."""
    cols = list(columns)
    if wide:
        for c in cols:
            c.width = c.natural(wide=True)
    else:
        cols = _widths(cols, width)
    cut = len(cols) < len(columns) or any(cell_len(t) > c.width for c in cols for t, _ in c.cells)
    if not cols:
        return Laid([], cut=True)
    last = len(cols) - 1

    def cell(i: int, c: Column, text: str) -> str:
        shown = fit(text, c.width, words=c.flex)
        return shown if i == last and c.justify == "left" else _pad(shown, c.width, c.justify)

    header = Text(style="bold")
    for i, c in enumerate(cols):
        header.append(cell(i, c, c.header) + ("" if i == last else " " * GAP))
    used = sum(c.width for c in cols) + GAP * last
    lines = [header, Text("─" * (used if wide else min(width, used)), "dim")]
    for r in range(len(cols[0].cells)):
        line = Text()
        for i, c in enumerate(cols):
            value, style = c.cells[r]
            line.append(cell(i, c, value), style=style or c.style)
            if i != last:
                line.append(" " * GAP)
        line.rstrip()
        lines.append(line)
    header.rstrip()
    return Laid(lines, cut=cut)


def print_lines(console: Console, lines: Iterable[Text]) -> None:
    """Print laid-out lines as they are: never wrapped, never cut again."""
    for line in lines:
        console.print(line, soft_wrap=True)


# -- plans ----------------------------------------------------------------------------------

_BARE = re.compile(r"[A-Za-z0-9_./:@+-]+")


def _value(value: object) -> str:
    """A value as a reviewer reads it: references as arrows, plain words bare, else JSON."""
    from planactor.plan import reference_arrow

    arrow = reference_arrow(value)
    if arrow is not None:
        return arrow
    if isinstance(value, str) and _BARE.fullmatch(value) and not _json_scalar(value):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _json_scalar(text: str) -> bool:
    """Whether a bare `text` would read as a number, boolean or null (so it needs quotes)."""
    try:
        return not isinstance(json.loads(text), str)
    except ValueError:
        return False


def args_summary(args: Mapping[str, Any]) -> str:
    """A step's arguments on one line: `key=value ...`."""
    return " ".join(f"{k}={_value(v)}" for k, v in args.items())


def _policy(step: Step) -> str:
    extra = []
    if step.when is not None:
        extra.append("when")
    if step.retry is not None and step.retry.attempts > 1:
        extra.append(f"retry×{step.retry.attempts}")
    if step.timeout_s is not None:
        extra.append(f"timeout {step.timeout_s:g}s")
    return " ".join([step.on_failure, *extra])


def legend(kinds: Iterable[StepKind]) -> Text:
    """The badges used, with their meaning: `effect: R read · W write · W! ...`."""
    used = set(kinds)
    line = Text("effect: ", style="dim")
    first = True
    for kind in ("read", "write", "irreversible", "unknown"):
        if kind not in used:
            continue
        badge, style = BADGES[kind]
        if not first:
            line.append(" · ", style="dim")
        line.append(badge, style=style)
        line.append(f" {_MEANINGS[kind]}", style="dim")
        first = False
    return line


def plan_lines(
    plan: Plan, kind_of: KindOf, *, width: int, wide: bool = False, more: str | None = None
) -> list[Text]:
    """A plan's steps, one line each, fitted to `width`, then the legend; `more` is the
    hint printed when arguments or columns had to be cut (how to see them in full)."""
    steps = plan.steps
    kinds = [kind_of(s.actor) for s in steps]
    laid = lay_out(_plan_columns(plan, kinds, common={}), width, wide=wide)
    common = {} if wide or not laid.cut else _common_args(plan)
    head: list[Text] = []
    if common:
        # What every step is given is said once above the table: the room goes to what differs.
        laid = lay_out(_plan_columns(plan, kinds, common=common), width)
        head = [fit_text(Text(f"every step: {args_summary(common)}"), width, wide=False)]
    lines = [*head, *laid.lines, fit_text(legend(kinds), width, wide=wide)]
    if laid.cut and more:
        lines.append(fit_text(Text(more, style="dim"), width, wide=False))
    return lines


def _common_args(plan: Plan) -> dict[str, Any]:
    """The arguments every step of a plan of two or more steps is given, with equal values."""
    if len(plan.steps) < 2:
        return {}
    first, *others = plan.steps
    return {
        k: v for k, v in first.args.items() if all(k in s.args and s.args[k] == v for s in others)
    }


def _plan_columns(plan: Plan, kinds: list[StepKind], *, common: Mapping[str, Any]) -> list[Column]:
    from planactor.plan import dependencies

    steps = plan.steps

    def args(step: Step) -> str:
        return args_summary({k: v for k, v in step.args.items() if k not in common})

    return [
        Column("#", [(str(i), "") for i in range(len(steps))], "right", drop=1, style="dim"),
        Column("step", [(s.id, "bold") for s in steps]),
        Column("actor", [(s.actor, "") for s in steps]),
        Column("eff", [BADGES.get(k, BADGES["unknown"]) for k in kinds]),
        Column("after", [(", ".join(dependencies(s)) or "-", "") for s in steps], drop=2, cap=24),
        Column("args", [(args(s), "") for s in steps], flex=True),
        Column("on failure", [(_policy(s), "") for s in steps], drop=0, cap=22),
    ]


def fit_text(text: Text, width: int, *, wide: bool) -> Text:
    """A styled line cut to `width` cells with an ellipsis (unless `wide`)."""
    if wide or cell_len(text.plain) <= width:
        return text
    cut = text.copy()
    cut.truncate(width, overflow="ellipsis")
    return cut


def print_plan(
    console: Console,
    plan: Plan,
    kind_of: KindOf,
    *,
    title: str | None = None,
    meta: str | None = None,
    before: Sequence[Text] = (),
    wide: bool = False,
    more: str | None = "full arguments: --wide, or --format json",
) -> None:
    """Print a plan's table for review at the console's width (see the module docstring):
    the title (the intent) and `meta` wrap between words; `before` lines print as they are
    (an identifier is never cut); `more` says how to see what the table had to cut."""
    if title:
        console.print(Text(title, style="bold"), soft_wrap=False)
    if meta:
        console.print(Text(meta), soft_wrap=wide)
    print_lines(console, before)
    print_lines(console, plan_lines(plan, kind_of, width=console.width, wide=wide, more=more))


# -- runs -----------------------------------------------------------------------------------

STATE_STYLES = {
    "succeeded": "green",
    "skipped": "dim",
    "failed": "red",
    "compensated": "yellow",
    "unknown": "magenta",
    "running": "cyan",
    "pending": "dim",
}
STATUS_STYLES = {
    "succeeded": "bold green",
    "paused": "bold yellow",
    "failed": "bold red",
    "compensated": "bold yellow",
    "running": "cyan",
}


def result_lines(result: RunResult, *, width: int) -> list[Text]:
    """A run's steps, one line each: id, state, tries, and its note or output cut to fit
    (`--json` gives them whole)."""
    steps = list(result.steps.values())
    details = [
        o.note or (json.dumps(o.output, ensure_ascii=False) if o.output else "") for o in steps
    ]
    columns = [
        Column("step", [(o.step, "") for o in steps]),
        Column("state", [(o.state, STATE_STYLES.get(o.state, "")) for o in steps]),
        Column("tries", [(str(o.attempts) if o.attempts else "-", "") for o in steps], "right"),
        Column("note / output", [(d, "") for d in details], flex=True),
    ]
    return lay_out(columns, width).lines


def runs_lines(records: Sequence[RunRecord], *, width: int) -> list[Text]:
    """The journal's runs, one line each: id, status, start, and the intent cut to fit."""
    columns = [
        Column("run", [(r.run_id, "") for r in records]),
        Column(
            "status",
            [
                (r.status + (" (dry run)" if r.dry_run else ""), STATUS_STYLES.get(r.status, ""))
                for r in records
            ],
        ),
        Column("started", [(r.created_at[:19].replace("T", " "), "") for r in records], drop=0),
        Column("intent", [(r.intent, "") for r in records], flex=True, least=32, whole=False),
    ]
    return lay_out(columns, width).lines
