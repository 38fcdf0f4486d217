"""`planactor export PLAN --to argo`: an Argo Workflows `Workflow`, built with hera.

One DAG template, one task per step, each task a container running
`planactor actor-run ACTOR --key {{workflow.uid}}/STEP ...`. A step's output is the task's
output parameter `output`; a step that reads it gets it as an input parameter (`--ref`).
Retries map onto the template's `retryStrategy`, gated on actor-run's exit code 75 (a
retryable failure) so a final failure or a decision is never retried. A DAG stops starting
tasks after one fails and lets the running ones finish, as the engine does before it
pauses; `argo retry` resumes the workflow with the same uid, hence the same idempotency keys.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hera.workflows import DAG, Container, Parameter, RetryStrategy, Task, Workflow
from hera.workflows import models as m

from planactor.catalog import Catalog
from planactor.export._actor_run import EXIT_CODES
from planactor.export._common import (
    Refusal,
    StepView,
    common_refusals,
    plan_annotations,
    refuse,
    step_views,
    unique_names,
)
from planactor.validate import ValidatedPlan

__all__ = ["DEFAULT_IMAGE", "OUTPUT_FILE", "to_argo"]

DEFAULT_IMAGE = "planactor:latest"
OUTPUT_FILE = "/tmp/planactor/output.json"  # inside the step's own container
_DAG_NAME = "plan"
# Argo's rule for template and task names (workflow/validate/validate.go).
_FIELD = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
_SEPARATORS = (",", ":")


def to_argo(
    validated: ValidatedPlan,
    *,
    catalog: Catalog,
    image: str = DEFAULT_IMAGE,
    generate_name: str = "planactor-",
) -> dict[str, Any]:
    """The plan as an Argo `Workflow` manifest (a JSON-ready dict).

    Raises InputError (exit 2) naming every step whose semantics Argo cannot express.
    """
    views = step_views(validated, catalog)
    refuse("Argo Workflows", common_refusals(views) + _refusals(views, validated.plan.inputs))
    names = _task_names(views)
    containers = [_container(v, names, image, validated.plan.inputs) for v in views]
    tasks: list[Task | m.DAGTask] = [
        Task(
            name=names[v.id],
            template=containers[v.index],
            depends=" && ".join(names[d] for d in v.deps) or None,
            arguments=[
                Parameter(
                    name=_ref_param(names[d]),
                    value=f"{{{{tasks.{names[d]}.outputs.parameters.output}}}}",
                )
                for d in v.reads
            ]
            or None,
        )
        for v in views
    ]
    workflow = Workflow(
        generate_name=generate_name,
        entrypoint=_DAG_NAME,
        annotations=plan_annotations(validated),
        labels={"planactor.io/plan": validated.hash.removeprefix("sha256:")[:63]},
        # Argo's DAG fails fast by default: after a failure no new task starts and the
        # running ones finish, which is what the engine does before it pauses. (hera's
        # fail_fast would also set the template-level flag, which means something else.)
        templates=[DAG(name=_DAG_NAME, tasks=tasks), *containers],
    )
    doc: dict[str, Any] = workflow.to_dict()
    return doc


def _refusals(views: list[StepView], inputs: dict[str, Any]) -> list[Refusal]:
    problems = []
    compensable = [v.id for v in views if v.is_write and v.compensable]
    for v in views:
        if v.step.on_failure == "compensate" and compensable:
            problems.append(
                Refusal(
                    step=v.id,
                    reason="on_failure 'compensate': Argo has no saga rollback (compensate "
                    f"{', '.join(map(repr, compensable))} in reverse plan order once the "
                    "running steps have finished)",
                    hint="export with --to stepfunctions, run with `planactor run` (or "
                    "--engine temporal), or set on_failure to 'pause'",
                )
            )
        elif v.step.on_failure == "continue" and not v.is_write:
            problems.append(
                Refusal(
                    step=v.id,
                    reason="on_failure 'continue': going on past a failed task, its readers "
                    "skipping and the run still ending failed is not mapped to Argo",
                    hint="export with --to stepfunctions, or set on_failure to 'pause'",
                )
            )
        retry = v.retry
        if retry.attempts >= 3 and not float(retry.multiplier).is_integer():
            problems.append(
                Refusal(
                    step=v.id,
                    reason=f"retry multiplier {retry.multiplier:g}: Argo's backoff factor "
                    "is a whole number",
                    hint="use a whole multiplier (1, 2, 3...) for this step's retry",
                )
            )
        for what, value in (
            ("args", v.step.args),
            ("when", v.step.when.to_document() if v.step.when else None),
            ("inputs", {name: inputs[name] for name in v.inputs} or None),
        ):
            if value is not None and "{{" in json.dumps(value, ensure_ascii=False):
                problems.append(
                    Refusal(
                        step=v.id,
                        reason=f"its {what} contain '{{{{', which Argo would read as a "
                        "template expression and replace",
                        hint="remove '{{' from the step's values",
                    )
                )
    return problems


def _task_names(views: list[StepView]) -> dict[str, str]:
    """Step id -> an Argo task name: letters, digits and '-' (underscores become '-'),
    unique, and never the DAG template's name."""
    return unique_names(
        (v.id for v in views),
        base=lambda sid: sid.replace("_", "-"),
        valid=_FIELD,
        sep="-",
        taken={_DAG_NAME},
        cut=120,
    )


def _ref_param(task: str) -> str:
    return f"ref-{task}"


def _container(v: StepView, names: dict[str, str], image: str, inputs: dict[str, Any]) -> Container:
    args = [
        "actor-run",
        v.actor.name,
        "--key",
        f"{{{{workflow.uid}}}}/{v.id}",
        "--args",
        json.dumps(v.step.args, separators=_SEPARATORS, ensure_ascii=False),
    ]
    for d in v.reads:
        # Argo puts the producing task's output (JSON text) in place of the parameter.
        args += ["--ref", f"{d}={{{{inputs.parameters.{_ref_param(names[d])}}}}}"]
    if v.inputs:
        # Only what the step reads: the container's command stays short.
        read = {name: inputs[name] for name in v.inputs}
        args += ["--inputs", json.dumps(read, separators=_SEPARATORS, ensure_ascii=False)]
    if v.step.when is not None:
        args += ["--when", json.dumps(v.step.when.to_document(), separators=_SEPARATORS)]
    if v.timeout_s is not None:
        args += ["--timeout", f"{v.timeout_s:g}"]
    args += ["--output-file", OUTPUT_FILE]
    return Container(
        name=names[v.id],
        image=image,
        command=["planactor"],
        args=args,
        inputs=[Parameter(name=_ref_param(names[d])) for d in v.reads] or None,
        outputs=[Parameter(name="output", value_from=m.ValueFrom(path=OUTPUT_FILE))],
        retry_strategy=_retry(v),
    )


def _retry(v: StepView) -> RetryStrategy | None:
    policy = v.retry
    if policy.attempts <= 1:
        return None
    backoff = None
    if policy.backoff_s > 0:
        backoff = m.Backoff(
            duration=_duration(policy.backoff_s),
            factor=m.IntOrString(root=str(int(policy.multiplier))),
            cap=_duration(policy.max_backoff_s),
        )
    return RetryStrategy(
        limit=str(policy.attempts - 1),
        # A failed container (not a node error: an evicted pod is a crash, whose outcome
        # the engine also leaves to a person), and only when actor-run said "retryable".
        retry_policy="OnFailure",
        expression=f"asInt(lastRetry.exitCode) == {EXIT_CODES['retry']}",
        backoff=backoff,
    )


def _duration(seconds: float) -> str:
    """A Go duration Argo parses: whole seconds, else milliseconds (never an exponent)."""
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{max(1, round(seconds * 1000))}ms"
