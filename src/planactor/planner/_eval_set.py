"""The planner eval's labelled set: cases of an intent, what should come of it, tags and
a split, read from YAML with every problem named by case and field (`evals/planner.yaml`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from planactor._errors import InputError
from planactor.catalog import Catalog
from planactor.plan import Inventory

__all__ = [
    "LABS",
    "SPLITS",
    "TAGS",
    "EvalCase",
    "EvalSet",
    "check_eval_set",
    "load_eval_set",
    "parse_eval_set",
]

TAGS: Mapping[str, str] = {
    "canonical": "worded like the routine's own examples",
    "paraphrase": "other verbs and nouns for the same job",
    "typo": "misspelt words or names",
    "distractor": "extra entities, versions or numbers; unknown or second entities",
    "number-words": "numbers spelt out",
    "derived": "a value the engineer works out from the intent",
    "casing": "capitals, mixed case, trailing punctuation",
    "network": "fabric design",
    "read-only": "health questions that change nothing",
    "underspecified": "a routine fits but a required value is missing",
    "no-routine": "nothing in the catalog does it",
    "injection": "text that tries to steer the planner past its rules",
    "possessive": "a possessive or compound noun around the entity (array-02's controllers)",
    "synonym": "other words for firmware and upgrade (controller code, release, bring up to)",
    "excluded": "a second entity named only to exclude it (leave array-01 alone)",
    "history": "a second entity or action mentioned as history or state",
    "key-value": "parameters as key=value or key: value",
    "forward-to": "a version said with forward to",
    "negation": "says what not to do: no write plan",
    "question": "asks rather than requests",
    "multi-clause": "several requests in one intent: the plan covers one, reports the rest",
    "fresh-2026-12-05": "a dev batch written from the intents before any planner ran on it",
    "fresh-2026-12-05b": "a second blind dev batch, written before any planner ran on it",
    "fresh-2026-12-05c": "a third blind dev batch, written before any planner ran on it",
    "fresh-2026-12-05d": "a fourth blind dev batch, written before any planner ran on it",
    "heldout-2026-12-05": "a blind held-out batch (split: heldout), reported by totals only",
    "heldout-2026-12-05b": "a second blind held-out batch (split: heldout), totals only",
}
SPLITS = ("dev", "heldout")
# The lab a case is planned against: storage (the default) or network, whose facts a
# routine such as network.deploy_fabric reads (a storage lab cannot serve it).
LABS = ("storage", "network")

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_CASE_KEYS = frozenset({"id", "intent", "expect", "tags", "note", "split", "lab"})
_EXPECT_KEYS = frozenset({"routine", "params", "uncovered"})
_SET_HINT = "each case is {id, intent, expect: {routine: NAME or null, params: {...}}, tags: [...]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalCase:
    id: str
    intent: str
    routine: str | None  # None: no routine plan may come out
    params: Mapping[str, Any]
    tags: tuple[str, ...]
    note: str | None = None
    split: str = "dev"  # dev: may be tuned on; heldout: never looked at while tuning
    # Substrings of the clauses the planner must report as not planned (None: not checked).
    uncovered: tuple[str, ...] | None = None
    lab: str = "storage"  # the kind of lab it is planned against (LABS)


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalSet:
    source: str
    cases: tuple[EvalCase, ...]

    @property
    def tags(self) -> set[str]:
        return {t for c in self.cases for t in c.tags}


def load_eval_set(path: Path) -> EvalSet:
    """The set in the YAML file at `path`; InputError naming the case and field if malformed."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise InputError(
            f"{path}: no such eval set", hint="check the path given to --set"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read the eval set: {e}") from None
    return parse_eval_set(text, source=str(path))


def parse_eval_set(text: str, *, source: str) -> EvalSet:
    """The set in YAML `text`; every problem is an InputError saying where (`source`, case)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise InputError(f"{source}: not valid YAML{where}", hint="fix the YAML syntax") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
        raise InputError(f"{source}: an eval set is a mapping with a `cases` list", hint=_SET_HINT)
    if doc.get("version", 1) != 1:
        raise InputError(
            f"{source}: version {doc.get('version')!r} is not supported",
            hint="this planactor reads version 1",
        )
    unknown = sorted(set(doc) - {"version", "cases"}, key=str)
    if unknown:
        raise InputError(
            f"{source}: unknown top-level key(s) {', '.join(map(repr, unknown))}",
            hint="an eval set has `version` and `cases`",
        )
    if not doc["cases"]:
        raise InputError(f"{source}: the set has no cases", hint=_SET_HINT)
    cases: list[EvalCase] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(doc["cases"], start=1):
        case = _parse_case(raw, i, source)
        if case.id in seen:
            raise InputError(
                f"{source}: case {case.id!r} (#{i}): id: also used by case #{seen[case.id]}",
                hint="give every case its own id",
            )
        seen[case.id] = i
        cases.append(case)
    return EvalSet(source=source, cases=tuple(cases))


def _parse_case(raw: Any, number: int, source: str) -> EvalCase:
    label = f"case #{number}"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        label = f"case {raw['id']!r} (#{number})"

    def bad(field_name: str, problem: str) -> InputError:
        return InputError(f"{source}: {label}: {field_name}: {problem}", hint=_SET_HINT)

    if not isinstance(raw, dict):
        raise bad("case", f"expected a mapping, got {type(raw).__name__}")
    for key in sorted(set(raw) - _CASE_KEYS, key=str):
        raise bad(str(key), f"unknown field (a case has {', '.join(sorted(_CASE_KEYS))})")
    case_id = raw.get("id")
    if not isinstance(case_id, str) or not _ID.match(case_id):
        raise bad("id", f"expected lower-case words joined by dashes, got {case_id!r}")
    intent = raw.get("intent")
    if not isinstance(intent, str) or not intent.strip():
        raise bad("intent", f"expected a non-empty string, got {intent!r}")
    expect = raw.get("expect")
    if not isinstance(expect, dict):
        raise bad("expect", f"expected a mapping {{routine, params}}, got {expect!r}")
    for key in sorted(set(expect) - _EXPECT_KEYS, key=str):
        raise bad(f"expect.{key}", "unknown field (expect has routine and params)")
    if "routine" not in expect:
        raise bad("expect.routine", "missing (a routine name, or null when none should plan it)")
    routine = expect["routine"]
    if routine is not None and (not isinstance(routine, str) or not routine):
        raise bad("expect.routine", f"expected a routine name or null, got {routine!r}")
    params = expect.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise bad("expect.params", f"expected a mapping of parameter names, got {params!r}")
    if routine is None and params:
        raise bad("expect.params", "given, but expect.routine is null")
    tags = raw.get("tags")
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
        raise bad("tags", f"expected a non-empty list of tags, got {tags!r}")
    unknown = [t for t in tags if t not in TAGS]
    if unknown:
        raise bad("tags", f"unknown tag(s) {', '.join(unknown)} (known: {', '.join(TAGS)})")
    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        raise bad("note", f"expected a string, got {note!r}")
    split = raw.get("split", "dev")
    if split not in SPLITS:
        raise bad("split", f"expected one of {', '.join(SPLITS)}, got {split!r}")
    lab = raw.get("lab", "storage")
    if lab not in LABS:
        raise bad("lab", f"expected one of {', '.join(LABS)}, got {lab!r}")
    uncovered = expect.get("uncovered")
    if uncovered is not None and (
        not isinstance(uncovered, list) or not all(isinstance(u, str) and u for u in uncovered)
    ):
        raise bad("expect.uncovered", f"expected a list of clause texts, got {uncovered!r}")
    return EvalCase(
        id=case_id,
        intent=intent,
        routine=routine,
        params=dict(params),
        tags=tuple(dict.fromkeys(tags)),
        note=note,
        split=split,
        uncovered=tuple(uncovered) if uncovered is not None else None,
        lab=lab,
    )


def check_eval_set(
    eval_set: EvalSet | Iterable[EvalCase], catalog: Catalog, inventory: Inventory | None
) -> None:
    """InputError, naming the case, if an expected routine is not in `catalog` or its
    expected parameters fail the routine's own `bind` against `inventory`."""
    cases = eval_set.cases if isinstance(eval_set, EvalSet) else tuple(eval_set)
    for case in cases:
        if case.routine is None:
            continue
        routine = catalog.routines.get(case.routine)
        if routine is None:
            raise InputError(
                f"case {case.id!r}: expect.routine: no routine {case.routine!r} in the catalog",
                hint="`planactor routines` lists the routines installed",
            )
        try:
            routine.bind(case.params, inventory=inventory)
        except InputError as e:
            raise InputError(f"case {case.id!r}: expect.params: {e.message}", hint=e.hint) from None
