"""References inside step arguments: `{"$ref": "STEP.output.FIELD"}` and `{"$input": "NAME"}`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BadReference",
    "InputRef",
    "OutputRef",
    "Reference",
    "iter_references",
    "parse_output_ref",
    "resolve",
]

Location = tuple[str | int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputRef:
    """The output of an earlier step, or a field inside it (`path` may be empty)."""

    step: str
    path: tuple[str | int, ...]
    text: str
    location: Location = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class InputRef:
    """A value declared in the plan's `inputs`."""

    name: str
    location: Location = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class BadReference:
    """Something shaped like a reference that is not a valid one."""

    reason: str
    hint: str
    location: Location = ()


Reference = OutputRef | InputRef | BadReference


def parse_output_ref(text: str, location: Location = ()) -> OutputRef | BadReference:
    """Parse `STEP_ID.output[.FIELD...]`; digit-only segments index into lists."""
    parts = text.split(".")
    if len(parts) < 2 or parts[1] != "output" or not parts[0]:
        return BadReference(
            reason=f"malformed reference {text!r}",
            hint='write {"$ref": "STEP_ID.output.FIELD"}',
            location=location,
        )
    if "" in parts:
        return BadReference(
            reason=f"malformed reference {text!r}: empty field name",
            hint="remove the doubled or trailing dot",
            location=location,
        )
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    path = tuple(int(p) if p.isdecimal() else p for p in parts[2:]) if len(parts) > 2 else ()
    return OutputRef(step=parts[0], path=path, text=text, location=location)


def _as_reference(value: Mapping[str, Any], location: Location) -> Reference | None:
    if len(value) == 1:
        # The common case first: a well-formed single-key reference, or plain data.
        ((key, target),) = value.items()
        if key == "$ref" and type(target) is str:
            return parse_output_ref(target, location)
        if key[:1] != "$":
            return None
    dollar = [k for k in value if k[:1] == "$"]
    if not dollar:
        return None
    if len(value) != 1:
        return BadReference(
            reason=f"a reference object must hold only its {dollar[0]!r} key",
            hint="move the other keys out, or drop the '$' if this is data",
            location=location,
        )
    key, target = next(iter(value.items()))
    if key == "$ref":
        if not isinstance(target, str):
            return BadReference(
                reason="'$ref' must be a string", hint="STEP_ID.output.FIELD", location=location
            )
        return parse_output_ref(target, location)
    if key == "$input":
        if not isinstance(target, str) or not target:
            return BadReference(
                reason="'$input' must name an input", hint="a key of `inputs`", location=location
            )
        return InputRef(name=target, location=location)
    return BadReference(
        reason=f"unknown reference kind {key!r}",
        hint="use '$ref' (a step output) or '$input' (a plan input)",
        location=location,
    )


def iter_references(value: Any, location: Location = ()) -> Iterator[Reference]:
    """Every reference inside a JSON value, with its location relative to `value`."""
    stack: list[tuple[Any, Location]] = [(value, location)]
    while stack:
        item, loc = stack.pop()
        if isinstance(item, dict):
            ref = _as_reference(item, loc)
            if ref is not None:
                yield ref
                continue
            # Scalars hold no reference: push only containers.
            stack.extend(
                (v, (*loc, k)) for k, v in reversed(item.items()) if isinstance(v, dict | list)
            )
        elif isinstance(item, list):
            stack.extend(
                (v, (*loc, i))
                for i, v in reversed(list(enumerate(item)))
                if isinstance(v, dict | list)
            )


def _follow(value: Any, path: tuple[str | int, ...], text: str) -> Any:
    for part in path:
        if isinstance(part, int) and isinstance(value, list) and part < len(value):
            value = value[part]
        elif isinstance(value, dict) and str(part) in value:
            value = value[str(part)]
        else:
            raise KeyError(f"{text}: no {part!r} in the step's output")
    return value


def resolve(value: Any, *, outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> Any:
    """Replace every reference in `value` by what it points at.

    `outputs` maps step ids to their outputs as JSON values. Raises KeyError for a
    reference that does not resolve; the validator rules that out before a run.
    """
    if isinstance(value, dict):
        ref = _as_reference(value, ())
        if isinstance(ref, OutputRef):
            if ref.step not in outputs:
                raise KeyError(f"{ref.text}: step {ref.step!r} has no output")
            return _follow(outputs[ref.step], ref.path, ref.text)
        if isinstance(ref, InputRef):
            if ref.name not in inputs:
                raise KeyError(f"input {ref.name!r} is not declared")
            return inputs[ref.name]
        if isinstance(ref, BadReference):
            raise KeyError(ref.reason)
        return {k: resolve(v, outputs=outputs, inputs=inputs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, outputs=outputs, inputs=inputs) for v in value]
    return value
