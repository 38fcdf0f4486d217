"""Structure: the document parsed into the plan's models, every shape problem located.

Codes: `api-version`, `missing-field`, `unknown-field` (with a did-you-mean), `wrong-type`,
`invalid-value`, and `steps` missing or not a list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from planactor.plan import (
    API_VERSION,
    JSON_CHECKED,
    Condition,
    Plan,
    RetryPolicy,
    Step,
    format_location,
)
from planactor.validate._checker import Checker, Loc, close

__all__ = ["check_structure", "data_loc"]


def check_structure(
    checker: Checker, doc: dict[str, Any], *, from_text: bool
) -> tuple[Plan | None, list[tuple[int, Step]], bool]:
    """Parse into models. Returns the plan if whole, the steps that parsed, inputs_ok.

    A document parsed from text by the strict parser is JSON by construction, so the
    models skip their JSON-only walk; a mapping from Python code gets it.
    """
    ctx = _JSON_CHECKED if from_text else None
    try:
        plan = Plan.model_validate(doc, context=ctx)
    except ValidationError:
        pass
    else:
        return plan, list(enumerate(plan.steps)), True
    # Slow path: find every structural problem, keeping what did parse.
    top = {k: v for k, v in doc.items() if k != "steps"}
    top["steps"] = []
    inputs_ok = True
    try:
        Plan.model_validate(top, context=ctx)
    except ValidationError as e:
        for err in e.errors():
            if err["loc"] and err["loc"][0] == "inputs":
                inputs_ok = False
            _pydantic(checker, {**err, "loc": data_loc(top, err["loc"])}, (), None)
    steps_raw = doc.get("steps")
    good: list[tuple[int, Step]] = []
    if "steps" not in doc:
        checker.add("missing-field", ("steps",), "the plan has no 'steps'", "add a list of steps")
    elif not isinstance(steps_raw, list):
        checker.add("wrong-type", ("steps",), "'steps' must be a list of step objects")
    else:
        for i, raw in enumerate(steps_raw):
            try:
                good.append((i, Step.model_validate(raw, context=ctx)))
            except ValidationError as e:
                sid = raw.get("id") if isinstance(raw, dict) else None
                for err in e.errors():
                    err = {**err, "loc": data_loc(raw, err["loc"])}
                    _pydantic(checker, err, ("steps", i), sid if isinstance(sid, str) else None)
    return None, good, inputs_ok


def _pydantic(checker: Checker, err: Any, prefix: Loc, step: str | None) -> None:
    loc: Loc = (*prefix, *err["loc"])
    kind = err["type"]
    if loc == ("api_version",) and kind != "missing":
        checker.add(
            "api-version",
            loc,
            f"unsupported api_version {err.get('input')!r}",
            f"this planactor reads {API_VERSION!r}",
        )
    elif kind == "missing":
        checker.add(
            "missing-field",
            loc,
            f"required field {format_location(loc)!r} is missing",
            step=step,
        )
    elif kind == "extra_forbidden":
        checker.add(
            "unknown-field",
            loc,
            f"unknown field {str(loc[-1])!r}",
            close(str(loc[-1]), _known_fields(loc[:-1])),
            step=step,
        )
    elif kind.endswith("_type") or kind in ("model_type", "dict_type", "list_type"):
        checker.add("wrong-type", loc, err["msg"], step=step)
    else:
        checker.add("invalid-value", loc, err["msg"], step=step)


def data_loc(data: Any, loc: Iterable[str | int]) -> Loc:
    """A pydantic error location as a JSON path into `data`.

    pydantic puts the member of a union it tried into the location (`x.int`, `x.str`,
    `value.list[...]`); those are not in the document, so they are dropped. A last part
    that is not in the data is kept: it names a missing or unexpected key.
    """
    parts = list(loc)
    out: list[str | int] = []
    current = data
    for n, part in enumerate(parts):
        is_key = isinstance(current, dict) and isinstance(part, str)
        is_index = isinstance(current, list) and isinstance(part, int)
        if (is_key and part in current) or (is_index and 0 <= int(part) < len(current)):
            current = current[part]
        elif n < len(parts) - 1 or not (is_key or is_index):
            continue  # a union tag, not a place in the document
        out.append(part)
    return tuple(out)


def _field_names(model: type[Plan | Step | RetryPolicy | Condition]) -> frozenset[str]:
    return frozenset(f.alias or n for n, f in model.model_fields.items())


# For documents from parse_json: strict JSON by construction (see check_structure).
_JSON_CHECKED = {JSON_CHECKED: True}
_PLAN_FIELDS = _field_names(Plan)
_STEP_FIELDS = _field_names(Step)
_RETRY_FIELDS = _field_names(RetryPolicy)
_CONDITION_FIELDS = _field_names(Condition)


def _known_fields(parent: Loc) -> frozenset[str]:
    """The fields of the object at `parent`, for a did-you-mean on an unknown one."""
    if not parent:
        return _PLAN_FIELDS
    if len(parent) == 2 and parent[0] == "steps":
        return _STEP_FIELDS
    if len(parent) == 3 and parent[0] == "steps":
        return {"retry": _RETRY_FIELDS, "when": _CONDITION_FIELDS}.get(str(parent[2]), frozenset())
    return frozenset()
