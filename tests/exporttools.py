"""Helpers for the export tests: plans, a catalog with an irreversible write, and two small
executors of exported documents, so that tests check what an export *does*, not only that
its target's validator accepts it.

`run_asl` interprets the subset of Amazon States Language the Step Functions export emits
(Pass, Task, Choice, Parallel, Fail, Succeed; Retry, Catch; ResultPath, ResultSelector;
the intrinsics States.Format, States.JsonMerge, States.JsonToString) and calls
`run_actor_once` for each Task, as a Lambda behind the Task's resource would.

`run_argo` walks an exported Workflow's DAG the way Argo does (a task starts when its
`depends` succeeded; after a failure no new task starts; `retryStrategy` by exit code) and
runs each container's argv through the real `planactor` command line, in this process.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from planactor import testing
from planactor.catalog import ActorContext, Catalog, actor
from planactor.export import run_actor_once
from planactor.testing._ledger import _append

__all__ = [
    "ArgoRun",
    "AslRun",
    "export_catalog",
    "plan",
    "run_argo",
    "run_asl",
]


class BurnInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ledger: str
    item: str


class BurnOutput(BaseModel):
    item: str


@actor(name="exporttest.burn", effect="write", irreversible=True)
def burn(args: BurnInput, ctx: ActorContext) -> BurnOutput:
    """An irreversible write, recorded in a ledger under its idempotency key."""
    _append(args.ledger, {"key": ctx.idempotency_key, "op": "apply", "item": args.item})
    return BurnOutput(item=args.item)


class HangInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str


class HangOutput(BaseModel):
    waited: bool


@actor(name="exporttest.hang", effect="write", irreversible=True)
def hang(args: HangInput) -> HangOutput:
    """A write that is not idempotent and waits until a file exists (for timeouts)."""
    while not Path(args.path).exists():
        time.sleep(0.01)
    return HangOutput(waited=True)


def export_catalog() -> Catalog:
    """The testing catalog plus two irreversible writes and an LLM skill."""
    from planactor.actors import core

    return Catalog([*testing.catalog(), burn, hang, core.summarize_run])


def plan(steps: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """A plan document around `steps`."""
    return {
        "api_version": "planactor/v1",
        "intent": "export test",
        "requested_by": "alice",
        "steps": steps,
        **fields,
    }


# -- Step Functions ----------------------------------------------------------------------------


class TaskError(Exception):
    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


@dataclass
class AslRun:
    """How an interpreted execution ended, and every Task call it made, in order."""

    status: str  # "SUCCEEDED" or "FAILED"
    error: str | None
    cause: str | None
    state: Any
    calls: list[dict[str, Any]] = field(default_factory=list)

    def called(self) -> list[str]:
        """Each call as `key` (a compensation as `key/compensate`)."""
        return [c["key"] + ("/compensate" if "compensate_output" in c else "") for c in self.calls]


def run_asl(
    definition: Mapping[str, Any],
    *,
    catalog: Catalog,
    execution: str = "exec-1",
    resources: Mapping[str, object] | None = None,
) -> AslRun:
    """Run an exported state machine, each Task through `run_actor_once`."""
    calls: list[dict[str, Any]] = []

    def handler(payload: dict[str, Any]) -> Any:
        calls.append(payload)
        result = run_actor_once(
            catalog=catalog,
            actor=payload["actor"],
            args=payload["args"],
            key=payload["key"],
            refs=payload.get("refs"),
            inputs=payload.get("inputs"),
            when=payload.get("when"),
            timeout_s=payload.get("timeout_s"),
            compensate_output=payload.get("compensate_output"),
            resources=resources,
        )
        if result.error_name is not None:
            raise TaskError(result.error_name, result.message or "")
        return result.output

    machine = _Machine(handler=handler, context={"Execution": {"Name": execution}})
    try:
        state = machine.run(definition, {})
    except TaskError as e:
        return AslRun(status="FAILED", error=e.error, cause=e.cause, state=None, calls=calls)
    return AslRun(status="SUCCEEDED", error=None, cause=None, state=state, calls=calls)


@dataclass
class _Machine:
    handler: Callable[[dict[str, Any]], Any]
    context: dict[str, Any]

    def run(self, machine: Mapping[str, Any], data: Any) -> Any:
        name = machine["StartAt"]
        states = machine["States"]
        while True:
            state = states[name]
            kind = state["Type"]
            if kind == "Succeed":
                return data
            if kind == "Fail":
                cause = state.get("Cause")
                if "CausePath" in state:
                    cause = self.value(state["CausePath"], data)
                raise TaskError(state["Error"], str(cause))
            if kind == "Choice":
                name = self.choose(state, data)
                continue
            if kind == "Pass":
                result = (
                    self.payload(state["Parameters"], data)
                    if "Parameters" in state
                    else state.get("Result", data)
                )
                data = _put(data, state.get("ResultPath", "$"), result)
            elif kind == "Task":
                outcome = self.task(state, data)
                if isinstance(outcome, str):  # caught: go there
                    data, name = self.caught_data, outcome
                    continue
                data = outcome
            elif kind == "Parallel":
                results = [
                    self.run(branch, json.loads(json.dumps(data))) for branch in state["Branches"]
                ]
                selected = (
                    self.payload(state["ResultSelector"], results)
                    if "ResultSelector" in state
                    else results
                )
                data = _put(data, state.get("ResultPath", "$"), selected)
            else:
                raise AssertionError(f"state type {kind} is not emitted by the export")
            if state.get("End"):
                return data
            name = state["Next"]

    caught_data: Any = None

    def task(self, state: Mapping[str, Any], data: Any) -> Any:
        payload = self.payload(state["Parameters"], data)
        used: dict[int, int] = {}
        while True:
            try:
                result = self.handler(payload)
                return _put(data, state.get("ResultPath", "$"), result)
            except TaskError as e:
                retry = _match(state.get("Retry", []), e.error)
                if retry is not None:
                    i, retrier = retry
                    if used.get(i, 0) < retrier.get("MaxAttempts", 3):
                        used[i] = used.get(i, 0) + 1
                        continue
                caught = _match(state.get("Catch", []), e.error)
                if caught is None:
                    raise
                catcher = caught[1]
                self.caught_data = _put(
                    data, catcher.get("ResultPath", "$"), {"Error": e.error, "Cause": e.cause}
                )
                return str(catcher["Next"])

    def choose(self, state: Mapping[str, Any], data: Any) -> str:
        for rule in state["Choices"]:
            try:
                value = self.value(rule["Variable"], data)
                present = True
            except KeyError:
                value, present = None, False
            if "IsPresent" in rule and present == rule["IsPresent"]:
                return str(rule["Next"])
            if "StringEquals" in rule and present and value == rule["StringEquals"]:
                return str(rule["Next"])
        return str(state["Default"])

    def payload(self, template: Any, data: Any) -> Any:
        if isinstance(template, dict):
            out = {}
            for k, v in template.items():
                if k.endswith(".$"):
                    out[k[:-2]] = self.value(v, data)
                else:
                    out[k] = self.payload(v, data)
            return out
        return template

    def value(self, expr: str, data: Any) -> Any:
        expr = expr.strip()
        if expr.startswith("States."):
            fn, args = _call(expr)
            values = [self.value(a, data) if a[:1] in "$S" else _literal(a) for a in args]
            if fn == "States.Format":
                template, *rest = values
                for r in rest:
                    template = template.replace("{}", str(r), 1)
                return template
            if fn == "States.JsonMerge":
                return {**values[0], **values[1]}
            if fn == "States.JsonToString":
                return json.dumps(values[0], separators=(",", ":"))
            raise AssertionError(f"intrinsic {fn} is not emitted by the export")
        if expr.startswith("$$."):
            return _follow(self.context, expr[3:])
        assert expr.startswith("$"), expr
        return _follow(data, expr[1:].lstrip("."))


def _match(handlers: list[dict[str, Any]], error: str) -> tuple[int, dict[str, Any]] | None:
    for i, h in enumerate(handlers):
        names = h["ErrorEquals"]
        if error in names or "States.ALL" in names:
            return i, h
        if "States.TaskFailed" in names and error != "States.Timeout":
            return i, h
    return None


_SEGMENT = re.compile(r"\[(\d+)\]|([A-Za-z_][A-Za-z0-9_]*)|\.")


def _follow(data: Any, path: str) -> Any:
    for index, name in _SEGMENT.findall(path):
        if index:
            data = data[int(index)]
        elif name:
            if not isinstance(data, dict) or name not in data:
                raise KeyError(name)
            data = data[name]
    return data


def _put(data: Any, path: str | None, value: Any) -> Any:
    if path is None:
        return data
    if path == "$":
        return value
    data = json.loads(json.dumps(data))
    names = path[2:].split(".")
    target = data
    for n in names[:-1]:
        target = target.setdefault(n, {})
    target[names[-1]] = value
    return data


def _call(expr: str) -> tuple[str, list[str]]:
    name, rest = expr.split("(", 1)
    inner = rest[: rest.rindex(")")]
    args, depth, quoted, current = [], 0, False, ""
    for ch in inner:
        if ch == "'" and depth == 0:
            quoted = not quoted
        if ch == "(" and not quoted:
            depth += 1
        if ch == ")" and not quoted:
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            args.append(current.strip())
            current = ""
            continue
        current += ch
    args.append(current.strip())
    return name, args


def _literal(text: str) -> Any:
    if text.startswith("'"):
        return text[1:-1]
    return json.loads(text)


# -- Argo Workflows ----------------------------------------------------------------------------


@dataclass
class ArgoRun:
    """Each task's phase (Succeeded, Failed, or absent: never started), its output, and
    the argv of every attempt."""

    phases: dict[str, str]
    outputs: dict[str, Any]
    attempts: list[list[str]]
    exit_codes: dict[str, int]


def run_argo(
    workflow: Mapping[str, Any],
    *,
    home: Path,
    uid: str = "uid-1",
    env: Mapping[str, str] | None = None,
) -> ArgoRun:
    """Walk the Workflow's DAG, running each task's container argv through `planactor`."""
    from planactor.export import OUTPUT_FILE
    from planactor.testing import CliRunner

    runner = CliRunner(home=home, env=dict(env or {}))
    spec = workflow["spec"]
    templates = {t["name"]: t for t in spec["templates"]}
    dag = templates[spec["entrypoint"]]["dag"]["tasks"]
    phases: dict[str, str] = {}
    outputs: dict[str, Any] = {}
    attempts: list[list[str]] = []
    codes: dict[str, int] = {}
    pending = list(dag)
    while pending and "Failed" not in phases.values():  # failFast: nothing new starts
        ready = [t for t in pending if all(phases.get(d) == "Succeeded" for d in _depends(t))]
        assert ready, "the DAG waits on nothing"
        task = ready[0]
        pending.remove(task)
        template = templates[task["template"]]
        params = {
            p["name"]: _substitute(p["value"], uid=uid, outputs=outputs, params={})
            for p in task.get("arguments", {}).get("parameters", [])
        }
        out_file = home / "argo" / task["name"] / "output.json"
        argv = [
            _substitute(a, uid=uid, outputs=outputs, params=params).replace(
                OUTPUT_FILE, str(out_file)
            )
            for a in template["container"]["args"]
        ]
        retry = template.get("retryStrategy", {})
        limit = int(retry.get("limit", 0))
        tries = 0
        while True:
            tries += 1
            attempts.append(argv)
            result = runner.run(*argv)
            codes[task["name"]] = result.exit_code
            retryable = result.exit_code == 75 and "exitCode) == 75" in retry.get("expression", "")
            if result.exit_code == 0 or not retryable or tries > limit:
                break
        if result.exit_code == 0:
            phases[task["name"]] = "Succeeded"
            outputs[task["name"]] = out_file.read_text().strip()
        else:
            phases[task["name"]] = "Failed"
    return ArgoRun(
        phases=phases,
        outputs={k: json.loads(v) for k, v in outputs.items()},
        attempts=attempts,
        exit_codes=codes,
    )


def _depends(task: Mapping[str, Any]) -> list[str]:
    text = task.get("depends") or ""
    return [d.strip() for d in text.split("&&") if d.strip()]


def _substitute(
    text: str, *, uid: str, outputs: Mapping[str, str], params: Mapping[str, str]
) -> str:
    def one(m: re.Match[str]) -> str:
        expr = m.group(1)
        if expr == "workflow.uid":
            return uid
        if expr.startswith("inputs.parameters."):
            return params[expr.removeprefix("inputs.parameters.")]
        task = re.fullmatch(r"tasks\.([-a-zA-Z0-9]+)\.outputs\.parameters\.output", expr)
        assert task is not None, f"an expression the export does not emit: {expr}"
        return outputs[task.group(1)]

    return re.sub(r"\{\{([^}]*)\}\}", one, text)
