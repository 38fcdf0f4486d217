"""The planner's question, asked: one value a routine needs and the intent does not give.

With a person at a terminal, `planactor plan` lists the choices and reads the answer (a
number or the value itself); the answer is checked against the routine parameter's schema
here, then planned again through the routine planner with `--routine` and `--param`, so it is
grounded and validated like any other value. With `--json`, or no terminal, the question is
printed as JSON instead and the command exits 2 (`plan --json`), for a program to answer.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
import typer

from planactor.catalog import Catalog
from planactor.cli._app import catalog, err
from planactor.plan import Inventory
from planactor.planner import ROUTINE, Question, clarify
from planactor.planner._routine_planner import applicable, writes

__all__ = ["Answer", "ask", "interactive", "question_for"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    routine: str
    param: str
    value: Any

    @property
    def params(self) -> list[str]:
        """As `--param NAME=VALUE` (VALUE in JSON, so that its type survives); none when the
        answer named the routine (then `routine` is all it says)."""
        return [] if self.param == ROUTINE else [f"{self.param}={json.dumps(self.value)}"]


def interactive(as_json: bool) -> bool:
    """A person can answer: no --json, and both standard input and output are a terminal."""
    return not as_json and sys.stdin.isatty() and sys.stdout.isatty()


def question_for(
    intent: str, inventory: Inventory | None, facts: Mapping[str, Any] | None
) -> Question | None:
    """The one value that would let `intent` be planned, if exactly one is missing."""
    cat = catalog()
    return clarify(
        applicable(cat.routines, facts),
        intent,
        inventory,
        # An actor the catalog does not know counts as a write, as for the planners.
        is_write=lambda r: writes(r, lambda a: cat.get(a).effect if a in cat else "write"),
    )


def _typed(raw: str, kind: str) -> Any:
    if kind == "integer":
        return int(raw)
    if kind == "number":
        return float(raw)
    if kind == "boolean":
        if raw.lower() in ("y", "yes", "true"):
            return True
        if raw.lower() in ("n", "no", "false"):
            return False
        raise ValueError("answer yes or no")
    if kind == "list":
        return [x.strip() for x in raw.split(",") if x.strip()]
    return raw


def _read(q: Question, cat: Catalog, raw: str) -> Any:
    """The value `raw` stands for, checked against the parameter; ValueError saying why."""
    choices = list(q.candidates)
    if raw.isdigit() and choices and 1 <= int(raw) <= len(choices):
        return choices[int(raw) - 1]
    if choices:
        for c in choices:
            if str(c) == raw:
                return c
        raise ValueError(f"not one of the {len(choices)} choices: give its number or its name")
    if q.routine is None:  # which routine: there are always choices; nothing else answers
        raise ValueError("give the number or the name of one of the routines")
    param = cat.routines[q.routine].params[q.param]
    value = _typed(raw, param.type)
    if q.format is not None and not re.fullmatch(q.format, str(value)):
        raise ValueError(f"it must match {q.format}")
    try:
        jsonschema.validate(value, param.json_schema())
    except jsonschema.ValidationError as e:
        raise ValueError(e.message) from None
    return value


def ask(q: Question, *, attempts: int = 3) -> Answer | None:
    """Ask `q` on the terminal; the checked answer, or None after `attempts` bad ones.

    End of input (Ctrl-D) or Ctrl-C aborts the command (exit 130) and nothing is written."""
    cat = catalog()
    err.print(f"{q.text}", markup=False, style="bold")
    for i, c in enumerate(q.candidates, start=1):
        label = f": {q.labels[i - 1]}" if i <= len(q.labels) else ""
        err.print(f"  {i}. {c}{label}", markup=False)
    hint = "number or name" if q.candidates else (q.format or "value")
    for _ in range(attempts):
        raw = typer.prompt(f"{q.param} ({hint})", err=True).strip()
        try:
            value = _read(q, cat, raw)
        except ValueError as e:
            err.print(f"  {raw!r}: {e}", markup=False, style="yellow")
            continue
        if q.param == ROUTINE:  # the answer is the routine itself
            return Answer(routine=str(value), param=ROUTINE, value=value)
        assert q.routine is not None  # a value question always names its routine
        return Answer(routine=q.routine, param=q.param, value=value)
    return None
