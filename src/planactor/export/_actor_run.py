"""One call of one actor, as a step of an exported plan makes it (`planactor actor-run`).

The other orchestrator decides order, retries and what happens after a failure; this call
does what the engine does for one attempt of one step, with the engine's own code: resolve
the step's references from the outputs it was handed, skip it as the scheduler would (a
`when` that is false, an output it reads that is missing), call the actor with the
idempotency key `RUN_ID/STEP_ID`, and judge a failure as the engine judges it (retryable,
final, or a decision for a person). A compensation is called with `RUN_ID/STEP_ID/compensate`
and an input built from the step's input and output, as the engine builds it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from planactor._errors import ActorError, InputError, UnexpectedState
from planactor._speed import model_json
from planactor.catalog import Actor, ActorContext, Catalog
from planactor.export._common import FAILED_KEY, SKIPPED_KEY
from planactor.plan import STEP_ID_PATTERN, Condition, OutputRef, iter_references, resolve

__all__ = [
    "ERROR_NAMES",
    "EXIT_CODES",
    "ActorRun",
    "Verdict",
    "parse_key",
    "run_actor_once",
]

# How a call ended, in the terms an orchestrator acts on.
Verdict = Literal["succeeded", "skipped", "retry", "failed", "invalid", "decide"]

# `planactor actor-run` exits with these; Argo's retry expression reads 75 (EX_TEMPFAIL).
EXIT_CODES: dict[Verdict, int] = {
    "succeeded": 0,
    "skipped": 0,
    "failed": 1,
    "invalid": 2,
    "decide": 4,
    "retry": 75,
}
# A Step Functions task that runs the call fails with these error names (`Retry`/`Catch`).
ERROR_NAMES: dict[Verdict, str] = {
    "failed": "planactor.Failed",
    "invalid": "planactor.InvalidInput",
    "decide": "planactor.NeedsDecision",
    "retry": "planactor.Retryable",
}

_STEP_ID = re.compile(STEP_ID_PATTERN)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorRun:
    """What one call did. `output` is the actor's output as JSON, or `{"$skipped": why}`
    when the step was skipped; `message` says why it did not succeed."""

    verdict: Verdict
    output: dict[str, Any] | None = None
    message: str | None = None
    hint: str | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def error_name(self) -> str | None:
        return ERROR_NAMES.get(self.verdict)


def parse_key(key: str) -> tuple[str, str]:
    """`RUN_ID/STEP_ID` -> (run id, step id); InputError (exit 2) if it is not one."""
    run_id, sep, step_id = key.rpartition("/")
    if not sep or not run_id or not _STEP_ID.match(step_id):
        raise InputError(
            f"--key {key!r} is not RUN_ID/STEP_ID",
            hint="e.g. --key run-42/fail-over: the run's id, a slash, the step's id "
            "(letters, digits, _ and -; it starts with a letter)",
        )
    return run_id, step_id


def run_actor_once(
    *,
    catalog: Catalog,
    actor: str,
    args: Mapping[str, Any],
    key: str,
    refs: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
    when: Mapping[str, Any] | None = None,
    timeout_s: float | None = None,
    compensate_output: Mapping[str, Any] | None = None,
    resources: Mapping[str, object] | None = None,
) -> ActorRun:
    """Call `actor` once for the step `key` names, as the engine would call it.

    `args` are the step's arguments as the plan writes them: `{"$ref": ...}` and
    `{"$input": ...}` are resolved from `refs` (step id -> that step's output, as this call
    printed it) and `inputs` (the plan's inputs). `when` is the step's condition. With
    `compensate_output` (the step's output), the actor's compensation runs instead.

    Raises InputError for what the caller got wrong before any actor is involved (unknown
    actor, malformed key or condition); everything after is an `ActorRun` verdict.
    """
    spec = catalog.get(actor)  # UnknownActor: exit 2 with suggestions
    run_id, step_id = parse_key(key)
    refs, inputs = dict(refs or {}), dict(inputs or {})
    condition = _condition(when) if when is not None else None

    if compensate_output is not None:
        return _compensate(
            catalog, spec, args, refs, inputs, dict(compensate_output), run_id, step_id, resources
        )

    # The scheduler's order: a missing output first, then the condition, then the call.
    reads = [r.step for r in iter_references(args) if isinstance(r, OutputRef)]
    if condition is not None and condition.ref is not None:
        reads.append(condition.ref.split(".", 1)[0])
    for dep in dict.fromkeys(reads):
        why = _missing(refs, dep)
        if why is not None:
            return ActorRun(verdict="skipped", output={SKIPPED_KEY: why})
    try:
        if condition is not None and not _holds(condition, refs, inputs):
            return ActorRun(verdict="skipped", output={SKIPPED_KEY: "condition `when` is false"})
        resolved = resolve(dict(args), outputs=refs, inputs=inputs)
    except KeyError as e:
        return ActorRun(
            verdict="invalid",
            message=f"a reference does not resolve: {e.args[0]}",
            hint="hand in the output of every step the arguments name (--ref STEP=JSON) "
            "and every plan input they read (--inputs)",
        )
    ctx = ActorContext.for_step(run_id=run_id, step_id=step_id, resources=resources)
    timeout = timeout_s if timeout_s is not None else spec.timeout_s
    return _call(spec, resolved, ctx, timeout)


def _condition(doc: Mapping[str, Any]) -> Condition:
    try:
        return Condition.model_validate(dict(doc))
    except ValidationError as e:
        first = e.errors()[0]
        raise InputError(
            f"--when is not a condition: {first['msg']}",
            hint='e.g. {"$ref": "check.output.healthy", "op": "truthy"}',
        ) from None


def _missing(refs: Mapping[str, Any], dep: str) -> str | None:
    """Why the output of `dep` is not there (the scheduler's words), or None."""
    out = refs.get(dep)
    if isinstance(out, dict) and SKIPPED_KEY in out:
        return f"needs the output of step {dep!r}, which skipped"
    if isinstance(out, dict) and FAILED_KEY in out:
        return f"needs the output of step {dep!r}, which failed"
    # Present, or not passed at all: the latter is the caller's mistake, which resolving
    # the arguments reports.
    return None


def _holds(condition: Condition, refs: Mapping[str, Any], inputs: Mapping[str, Any]) -> bool:
    if condition.ref is not None:
        subject = resolve({"$ref": condition.ref}, outputs=refs, inputs=inputs)
    else:
        subject = inputs.get(condition.input or "")
    return condition.holds(subject)


def _call(
    spec: Actor, args: dict[str, Any], ctx: ActorContext, timeout_s: float | None
) -> ActorRun:
    try:
        inp = spec.parse_input(args)
    except ValidationError as e:
        return ActorRun(
            verdict="invalid",
            message=f"the arguments do not fit {spec.name}'s input: {_first(e)}",
            hint=f"`planactor actors show {spec.name}` lists its input fields",
        )
    if timeout_s is None:
        return _judge(spec, lambda: spec.call(inp, ctx))
    # As the engine: the call runs on a thread of its own and is abandoned at its deadline
    # (the process that abandons it exits soon after, ending it).
    box: list[ActorRun] = []
    worker = threading.Thread(
        target=lambda: box.append(_judge(spec, lambda: spec.call(inp, ctx))),
        name=f"planactor-{ctx.step_id}",
        daemon=True,
    )
    worker.start()
    worker.join(timeout_s)
    if box:
        return box[0]
    if spec.effect == "write" and not spec.idempotent:
        return ActorRun(
            verdict="decide",
            message=f"timed out after {timeout_s:g} s and {spec.name} is not idempotent: "
            "its outcome is unknown",
            hint="check what it did, then run the step again (same key) or roll back",
        )
    return ActorRun(verdict="retry", message=f"timed out after {timeout_s:g} s")


def _judge(spec: Actor, call: Any) -> ActorRun:
    """The engine's `step_error`, as a verdict."""
    try:
        out = call()
    except UnexpectedState as e:
        return ActorRun(verdict="decide", message=e.message, hint=e.hint)
    except ActorError as e:
        return ActorRun(
            verdict="retry" if e.retryable else "failed", message=e.message, hint=e.hint
        )
    except ValidationError as e:  # a model validator of the input, run by the call
        return ActorRun(
            verdict="invalid", message=f"the arguments do not fit {spec.name}'s input: {_first(e)}"
        )
    except Exception as e:  # as the engine: anything else may pass on another attempt
        return ActorRun(verdict="retry", message=f"{type(e).__name__}: {e}")
    output: dict[str, Any] = model_json(out) if isinstance(out, BaseModel) else {}
    return ActorRun(verdict="succeeded", output=output)


def _compensate(
    catalog: Catalog,
    spec: Actor,
    args: Mapping[str, Any],
    refs: dict[str, Any],
    inputs: dict[str, Any],
    output: dict[str, Any],
    run_id: str,
    step_id: str,
    resources: Mapping[str, object] | None,
) -> ActorRun:
    if spec.compensate is None:
        raise InputError(
            f"{spec.name} declares no compensation"
            + (" (it is irreversible)" if spec.irreversible else ""),
            hint="only a write actor declared with compensate=... can be compensated",
        )
    if SKIPPED_KEY in output or FAILED_KEY in output:
        # The step did not apply: there is nothing to undo.
        return ActorRun(verdict="skipped", output={SKIPPED_KEY: "the step did not run"})
    comp = catalog.get(spec.compensate)
    try:
        resolved = resolve(dict(args), outputs=refs, inputs=inputs)
        inp = spec.compensation_input(
            comp, spec.parse_input(resolved), spec.output_model.model_validate(output)
        )
    except KeyError as e:
        return ActorRun(verdict="invalid", message=f"a reference does not resolve: {e.args[0]}")
    except ValidationError as e:
        return ActorRun(verdict="invalid", message=f"cannot build {comp.name}'s input: {_first(e)}")
    ctx = ActorContext(
        run_id=run_id,
        step_id=step_id,
        idempotency_key=f"{run_id}/{step_id}/compensate",  # as the engine's runner
        resources=ActorContext.for_step(
            run_id=run_id, step_id=step_id, resources=resources
        ).resources,
    )
    return _judge(comp, lambda: comp.call(inp, ctx))


def _first(e: ValidationError) -> str:
    first = e.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(the whole input)"
    more = len(e.errors()) - 1
    return f"{where}: {first['msg']}" + (f" (and {more} more)" if more else "")
