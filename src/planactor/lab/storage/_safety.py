"""`StorageSafety`: a validation-time Policy that refuses plans whose order would cause a DU.

It simulates the plan's storage writes, in plan order, over a copy of the lab's state with
the lab's own pure model, and reports:

- `storage-du` (error): the first step that would leave some host without a working path
  to one of its LUNs, naming the step, the host, the LUN and why; the simulation stops
  there, as the state after it means little;
- `storage-precondition` (error): a step that the actor would refuse at run time (pausing
  the run), e.g. upgrading a controller that still carries host I/O in an ALUA array;
- `storage-invalid` (error): a step naming things the lab does not have;
- `storage-unresponsive` (warning): a step moving the paths of a host that does not
  respond now; it will fail unless the host comes back;
- `storage-unresolved` (warning): a step whose arguments come from another step's output
  (`$ref`) or an undeclared input, so it cannot be simulated; it is skipped;
- `storage-conditional` (warning): a step with `when`, simulated as if it runs;
- `storage-force` (warning): a step that skips its actor's safety preconditions;
- `storage-order` (warning): a step that is safe only because earlier-listed steps run
  first, although it does not depend on them: with `--parallel` it may start before them
  (its precondition would then refuse it and pause the run).

Faults that fire once (a failing flash, a timeout) are surprises, not predictions: the
simulation leaves them out; faults that shape the state (a path down, a host that does not
respond) are part of the state it starts from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planactor.lab._store import Lab, current_lab
from planactor.lab.storage._model import Outcome, StorageState, Violation
from planactor.lab.storage._operations import apply
from planactor.lab.storage._queries import other_controller, path_works
from planactor.lab.storage._views import storage_state
from planactor.plan import Plan, Step, dependency_map
from planactor.validate import Problem

if TYPE_CHECKING:
    from planactor.catalog import Catalog
    from planactor.plan import Inventory

__all__ = ["WRITE_ACTORS", "StorageSafety"]

# The storage pack's actors that change the lab (by name: the lab never imports the pack),
# and the lab operation each one performs. The pack's tests hold the two lists together.
WRITE_ACTORS: dict[str, str] = {
    "storage.move_paths": "move_paths",
    "storage.upgrade_firmware": "upgrade_firmware",
    "storage.reboot_controller": "reboot_controller",
    "storage.fail_back": "fail_back",
    "storage.rebalance": "rebalance",
    "storage.restore_paths": "restore_paths",
}
_OFFLINE = ("upgrade_firmware", "reboot_controller")  # take a controller offline


class _Unresolved(Exception):
    pass


def _resolve(value: Any, inputs: Mapping[str, Any]) -> Any:
    """The value with `$input`s filled in; _Unresolved for a `$ref` or an unknown input."""
    if isinstance(value, dict):
        if len(value) == 1 and "$ref" in value:
            raise _Unresolved(f'{{"$ref": "{value["$ref"]}"}}')
        if len(value) == 1 and "$input" in value:
            name = value["$input"]
            if name not in inputs:
                raise _Unresolved(f'{{"$input": "{name}"}}')
            return inputs[name]
        return {k: _resolve(v, inputs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, inputs) for v in value]
    return value


class StorageSafety:
    """A Policy (the validator's protocol) judging storage writes against a lab's state."""

    def __init__(self, *, state: StorageState) -> None:
        self.state = state

    @classmethod
    def from_lab(cls, lab: Lab | str | Path | None = None) -> StorageSafety:
        """From a lab (or its path); by default the one `current_lab()` finds."""
        if not isinstance(lab, Lab):
            lab = current_lab(lab)
        return cls(state=storage_state(lab))

    def check(
        self,
        plan: Plan,
        *,
        catalog: Catalog,  # noqa: ARG002 (the Policy protocol)
        inventory: Inventory | None,  # noqa: ARG002
    ) -> list[Problem]:
        problems: list[Problem] = []
        steps = _simulated(plan, problems)
        state = self.state
        safe_offline: list[tuple[int, Step, str, dict[str, Any]]] = []
        for i, step, op, args in steps:
            out = apply(state, (), op, args)
            refusal = out.error if out.status == "refused" else None
            if refusal is not None and refusal.kind == "precondition" and op in _OFFLINE:
                # Would it also break the invariant, were it forced through?
                forced = apply(state, (), op, {**args, "force": True})
                if forced.violations:
                    problems.append(_du(i, step, op, args, state, forced, refusal.message))
                    return problems
            if out.violations:
                problems.append(_du(i, step, op, args, state, out, None))
                return problems
            if refusal is None:
                state = out.state
                if op in _OFFLINE:
                    safe_offline.append((i, step, op, args))
                continue
            problems.append(_refused(i, step, out))
            if refusal.kind == "precondition" and op in _OFFLINE:
                # Carry on as if it had been done, to find what else is wrong.
                forced = apply(state, (), op, {**args, "force": True})
                if forced.status == "applied":
                    state = forced.state
        problems += self._unordered(plan, steps, safe_offline)
        return problems

    def _unordered(
        self,
        plan: Plan,
        steps: list[tuple[int, Step, str, dict[str, Any]]],
        offline: list[tuple[int, Step, str, dict[str, Any]]],
    ) -> list[Problem]:
        """Offline steps that are safe only thanks to steps they do not wait for."""
        if not offline:
            return []
        deps = dependency_map(plan.steps)
        found = []
        for i, step, op, args in offline:
            before = _ancestors(step.id, deps)
            state = self.state
            for j, other, other_op, other_args in steps:
                if j < i and other.id in before:
                    out = apply(state, (), other_op, other_args)
                    if out.status != "refused":
                        state = out.state
            out = apply(state, (), op, args)
            if out.status != "refused" and not out.violations:
                continue
            loose = [o.id for j, o, _, _ in steps if j < i and o.id not in before]
            found.append(
                Problem(
                    code="storage-order",
                    location=f"steps[{i}]",
                    step=step.id,
                    severity="warning",
                    message=f"step {step.id!r} is safe only if {_names(loose)} run first, "
                    f"but it does not wait for them; with --parallel it may start before them "
                    f"and be refused ({_first(out)})",
                    hint=f"add {_names(loose)} to its `after`",
                )
            )
        return found


def _simulated(plan: Plan, problems: list[Problem]) -> list[tuple[int, Step, str, dict[str, Any]]]:
    """The storage writes that can be simulated, with their arguments resolved."""
    out = []
    for i, step in enumerate(plan.steps):
        op = WRITE_ACTORS.get(step.actor)
        if op is None:
            continue
        loc = f"steps[{i}]"
        try:
            args = _resolve(step.args, plan.inputs)
        except _Unresolved as u:
            problems.append(
                Problem(
                    code="storage-unresolved",
                    location=loc,
                    step=step.id,
                    severity="warning",
                    message=f"step {step.id!r} takes an argument from {u}, known only at run "
                    "time; the storage safety check cannot simulate it and skipped it",
                    hint="give its arguments literally (or as plan inputs) to have it checked",
                )
            )
            continue
        if not isinstance(args, dict):
            continue
        if step.when is not None:
            problems.append(
                Problem(
                    code="storage-conditional",
                    location=f"{loc}.when",
                    step=step.id,
                    severity="warning",
                    message=f"step {step.id!r} runs only when its condition holds; "
                    "the storage safety check assumed it runs",
                )
            )
        if args.get("force") is True:
            problems.append(
                Problem(
                    code="storage-force",
                    location=f"{loc}.args.force",
                    step=step.id,
                    severity="warning",
                    message=f"step {step.id!r} skips the safety preconditions of {step.actor}",
                    hint="drop `force` unless a person has checked the paths by hand",
                )
            )
        out.append((i, step, op, args))
    return out


def _ancestors(step: str, deps: Mapping[str, Iterable[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(deps.get(step, ()))
    while todo:
        s = todo.pop()
        if s not in seen:
            seen.add(s)
            todo.extend(deps.get(s, ()))
    return seen


def _names(ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(s) for s in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _names_plain(names: list[str], limit: int = 8) -> str:
    return ", ".join(names[:limit]) + (
        f" and {len(names) - limit} more" if len(names) > limit else ""
    )


def _first(out: Outcome) -> str:
    if out.error is not None:
        return out.error.message
    return out.violations[0].cause if out.violations else "unsafe"


def _du(
    i: int,
    step: Step,
    op: str,
    args: Mapping[str, Any],
    state: StorageState,
    out: Outcome,
    refusal: str | None,
) -> Problem:
    v: Violation = out.violations[0]
    hosts = sorted({x.host for x in out.violations})
    message = f"step {step.id!r} would make data unavailable: {v.cause}"
    if len(out.violations) > 1:
        message += (
            f"; {len(out.violations)} host/LUN pairs in all would lose their last path "
            f"({', '.join(hosts[:8])}{' ...' if len(hosts) > 8 else ''})"
        )
    if refusal is not None:
        message += f". At run time its precondition would refuse it and pause the run: {refusal}"
    ctrl = args.get("controller")
    if op in _OFFLINE and isinstance(ctrl, str) and ctrl in state.controllers:
        other = other_controller(state, ctrl)
        movable = [h for h in hosts if path_works(state, h, other)]
        stuck = [h for h in hosts if h not in movable]
        parts = []
        if movable:
            parts.append(
                f"first move the paths of {_names_plain(movable)} to {other} "
                "(storage.move_paths, one step per host) and make this step run after them"
            )
        if stuck:
            parts.append(
                f"{_names_plain(stuck)} {'has' if len(stuck) == 1 else 'have'} no working "
                f"path through {other}: repair it before taking {ctrl} offline"
            )
        hint = "; ".join(parts)
    else:
        hint = "move the hosts' paths to a controller that stays online first"
    return Problem(
        code="storage-du",
        location=f"steps[{i}]",
        step=step.id,
        message=message,
        hint=hint,
    )


def _refused(i: int, step: Step, out: Outcome) -> Problem:
    assert out.error is not None
    loc = f"steps[{i}]"
    if out.error.kind == "invalid":
        return Problem(
            code="storage-invalid",
            location=loc,
            step=step.id,
            message=f"step {step.id!r}: {out.error.message}",
            hint=out.error.hint,
        )
    if out.error.kind == "unresponsive":
        return Problem(
            code="storage-unresponsive",
            location=loc,
            step=step.id,
            severity="warning",
            message=f"step {step.id!r}: {out.error.message} now; it fails unless the host "
            "answers by then",
            hint=out.error.hint,
        )
    return Problem(
        code="storage-precondition",
        location=loc,
        step=step.id,
        message=f"step {step.id!r} would be refused at run time, pausing the run: "
        f"{out.error.message}",
        hint=out.error.hint,
    )
