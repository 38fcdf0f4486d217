"""Arguments: each step's `args` against its actor's input model.

Codes: `args-unknown` (with a did-you-mean), `args-missing`, `args-invalid`. `$input`
references are replaced by the declared values first; a `$ref` is only known at run time,
so the place it stands is left unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from planactor.catalog import Actor
from planactor.plan import OutputRef, Reference, Step, format_location
from planactor.validate._checker import Checker, Loc, close
from planactor.validate._structure import data_loc

__all__ = ["check_args"]


def _arg_names(checker: Checker, actor: Actor) -> set[str] | None:
    """The argument names (and aliases) the actor takes; None when it takes any."""
    try:
        return checker.arg_names[actor.name]
    except KeyError:
        model = actor.input_model
        fields = model.model_fields
        names = checker.arg_names[actor.name] = (
            {f.alias or n for n, f in fields.items()} | set(fields)
            if model.model_config.get("extra") != "allow"
            else None
        )
        return names


def check_args(
    checker: Checker,
    step: Step,
    actor: Actor,
    base: Loc,
    inputs: Mapping[str, Any] | None,
    refs: list[Reference],
) -> dict[str, Any]:
    """Check the step's arguments; return them with `$input` values substituted."""
    loc: Loc = (*base, "args")
    model = actor.input_model
    names = _arg_names(checker, actor)
    if names is not None:
        for key in step.args:
            if key not in names:
                fields = model.model_fields
                checker.add(
                    "args-unknown",
                    (*loc, key),
                    f"{actor.name} takes no argument {key!r}",
                    close(key, names) or f"it takes: {', '.join(sorted(fields))}",
                    step=step.id,
                )
    opaque: list[Loc] = []  # locations whose value is only known at run time
    value: dict[str, Any] = step.args
    if refs and all(type(r) is OutputRef for r in refs):
        # Nothing to substitute: each output reference leaves a hole where it stands.
        n = len(loc)
        opaque = [r.location[n:] for r in refs]
    elif refs:
        value = _substitute(step.args, inputs, opaque, ())
    errors: list[tuple[Loc, Any]] = []
    if not opaque:
        try:
            model.model_validate(value)
        except ValidationError as e:
            errors = [((), err) for err in e.errors(include_url=False, include_input=False)]
    else:
        # Some arguments are only known at run time: check the others field by field
        # rather than have pydantic raise (and us filter) an error for every reference.
        for key, (adapter, required) in actor.field_adapters.items():
            if key not in value:
                if required:
                    errors.append(((), {"type": "missing", "loc": (key,), "msg": ""}))
            elif (key,) not in opaque:
                try:
                    adapter.validate_python(value[key])
                except ValidationError as e:
                    errors.extend(
                        ((key,), err) for err in e.errors(include_url=False, include_input=False)
                    )
    for prefix, err in errors:
        eloc: Loc = data_loc(value, (*prefix, *err["loc"]))
        if any(eloc[: len(o)] == o for o in opaque):
            continue
        if err["type"] == "extra_forbidden" and len(eloc) == 1:
            continue  # already reported as args-unknown
        where = (*loc, *eloc)
        if err["type"] == "missing":
            fields = model.model_fields  # a costly class property: only on errors
            desc = (
                fields[str(eloc[0])].description
                if len(eloc) == 1 and str(eloc[0]) in fields
                else None
            )
            checker.add(
                "args-missing",
                where,
                f"{actor.name} needs argument {format_location(eloc)!r}",
                desc,
                step=step.id,
            )
        else:
            checker.add(
                "args-invalid",
                where,
                err["msg"],
                f"see `planactor actors show {actor.name}`",
                step=step.id,
            )
    return value


def _substitute(value: Any, inputs: Mapping[str, Any] | None, opaque: list[Loc], loc: Loc) -> Any:
    """Replace `$input` references by their values; record where `$ref`s leave a hole."""
    if isinstance(value, dict):
        keys = [k for k in value if isinstance(k, str) and k.startswith("$")]
        if keys:
            if len(value) == 1 and keys[0] == "$input" and inputs is not None:
                name = value["$input"]
                if isinstance(name, str) and name in inputs:
                    return inputs[name]
            opaque.append(loc)
            return value
        return {k: _substitute(v, inputs, opaque, (*loc, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, inputs, opaque, (*loc, i)) for i, v in enumerate(value)]
    return value
