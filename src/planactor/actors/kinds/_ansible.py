"""Kind `ansible`: run a playbook of the pack through ansible-runner's Python API.

Each call gets a private data dir of its own under the run's folder (`call_folder`), with
HOME and ansible's temporary folders inside it, so calls never share state and the
artifacts (events, stdout) stay as evidence; the output names that folder, the journal
keeps the reference. Extra vars are the step's arguments plus `planactor_idempotency_key`,
`planactor_run_id` and `planactor_step_id`. The output is the play recap per host and the
facts the playbook set with `set_stats`. A dry run is `--check --diff`: the diff is what the
step would change. An unreachable host is a retryable error; a failed task is final unless
the pack says `task_failure: retryable`.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from planactor._errors import ActorError
from planactor.actors.kinds._common import Redactor, call_folder, make_output, read_secret
from planactor.catalog import ActorContext
from planactor.catalog._pack import declared_values, inside
from planactor.catalog._pack_schema import ActorDecl, AnsibleSpec, SecretRef

__all__ = ["bind", "render_diff"]

MAX_DIFF_CHARS = 20_000
_RECAP = (("ok", "ok"), ("changed", "changed"), ("failures", "failed"), ("dark", "unreachable"))


def render_diff(events: Iterable[Mapping[str, Any]]) -> str:
    """The unified diff of every changed task's `diff` result, as `ansible --diff` shows."""
    chunks: list[str] = []
    for event in events:
        data = event.get("event_data", {})
        res = data.get("res") or {}
        diffs = res.get("diff")
        if not res.get("changed") or not diffs:
            continue
        for d in diffs if isinstance(diffs, list) else [diffs]:
            if "before" not in d and "after" not in d:
                continue
            before, after = str(d.get("before", "")), str(d.get("after", ""))
            header = f"{data.get('host', '?')}: {data.get('task', '?')}"
            chunks.append(
                f"# {header}\n"
                + "".join(
                    difflib.unified_diff(
                        before.splitlines(keepends=True),
                        after.splitlines(keepends=True),
                        fromfile=str(d.get("before_header", "before")),
                        tofile=str(d.get("after_header", "after")),
                    )
                )
            )
    text = "".join(chunks)
    return text if len(text) <= MAX_DIFF_CHARS else text[:MAX_DIFF_CHARS] + "\n[diff cut]\n"


def _changed_tasks(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """`HOST: TASK` for every task that changed (or, in check mode, would change)."""
    found = []
    for event in events:
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_ok" and (data.get("res") or {}).get("changed"):
            found.append(f"{data.get('host', '?')}: {data.get('task', '?')}")
    return found


def _recap(stats: Mapping[str, Any] | None) -> tuple[dict[str, dict[str, int]], int]:
    stats = stats or {}
    hosts: set[str] = set()
    for key in ("processed", "ok", "changed", "failures", "dark", "skipped"):
        hosts |= set(stats.get(key) or {})
    recap = {
        host: {
            **{label: int((stats.get(key) or {}).get(host, 0)) for key, label in _RECAP},
            "skipped": int((stats.get("skipped") or {}).get(host, 0)),
        }
        for host in sorted(hosts)
    }
    return recap, sum(r["changed"] for r in recap.values())


def _first(events: Iterable[Mapping[str, Any]], kind: str) -> str:
    for event in events:
        if event.get("event") == kind:
            data = event.get("event_data", {})
            res = data.get("res") or {}
            msg = res.get("msg") or res.get("stderr") or res.get("module_stderr") or ""
            return f"{data.get('host', '?')}: task {data.get('task', '?')!r}: {str(msg)[:500]}"
    return ""


def _env(spec: AnsibleSpec, folder: Path, private: Path) -> tuple[dict[str, str], Redactor]:
    venv_bin = str(Path(sys.executable).parent)  # where ansible-playbook is installed with us
    secrets: dict[str, str] = {}
    env = {
        "HOME": str(private / "home"),
        "ANSIBLE_LOCAL_TEMP": str(private / "tmp"),
        "ANSIBLE_REMOTE_TEMP": str(private / "tmp-remote"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PATH": os.pathsep.join([venv_bin, os.environ.get("PATH", os.defpath)]),
    }
    for name, value in spec.env.items():
        if isinstance(value, SecretRef):
            env[name] = secrets[name] = read_secret(name, value, folder)
        else:
            env[name] = value
    (private / "home").mkdir()
    (private / "tmp").mkdir()
    return env, Redactor(secrets)


def _play(
    decl: ActorDecl, spec: AnsibleSpec, folder: Path, inp: BaseModel, ctx: ActorContext, mode: str
) -> tuple[Any, Path, Redactor]:
    try:
        import ansible_runner  # type: ignore[import-untyped]
    except ImportError:
        raise ActorError(
            f"{decl.name}: ansible-runner is not installed",
            hint="pip install 'planactor[ansible]'",
            retryable=False,
        ) from None
    private = call_folder(ctx, mode)
    env, redact = _env(spec, folder, private)
    extravars = {
        **declared_values(inp),
        "planactor_idempotency_key": ctx.idempotency_key,
        "planactor_run_id": ctx.run_id,
        "planactor_step_id": ctx.step_id,
    }
    inventory: str = spec.inventory
    if "\n" not in inventory and inventory.endswith((".ini", ".yml", ".yaml", ".cfg")):
        inventory = str(inside(folder, inventory, what="inventory"))
    elif "ansible_python_interpreter" not in inventory:
        # A local connection runs modules with planactor's Python, which has ansible.
        inventory = "\n".join(
            f"{line} ansible_python_interpreter={sys.executable}"
            if line.strip() and "ansible_connection=local" in line
            else line
            for line in inventory.splitlines()
        )
    result = ansible_runner.run(
        private_data_dir=str(private),
        project_dir=str(folder),
        playbook=str(inside(folder, spec.playbook, what="playbook")),
        inventory=inventory,
        extravars=extravars,
        envvars=env,
        cmdline="--check --diff" if mode == "check" else None,
        timeout=max(1, round(decl.timeout_s)) if decl.timeout_s else None,
        quiet=True,
        suppress_env_files=True,
    )
    return result, private, redact


def _outcome(
    decl: ActorDecl, spec: AnsibleSpec, result: Any, private: Path, redact: Redactor
) -> tuple[list[Mapping[str, Any]], dict[str, dict[str, int]], int]:
    """The events and recap of a finished call; an ActorError if it did not succeed."""
    events = list(result.events)
    recap, changed = _recap(result.stats)
    if result.status == "successful":
        return events, recap, changed
    where = f"(artifacts: {private})"
    if result.status == "timeout":
        raise ActorError(f"{decl.name}: the playbook timed out {where}", retryable=True)
    if any(r["unreachable"] for r in recap.values()):
        raise ActorError(
            redact.text(f"{decl.name}: unreachable {_first(events, 'runner_on_unreachable')}"),
            hint=f"the host may come back; another attempt runs the playbook again {where}",
            retryable=True,
        )
    if any(r["failed"] for r in recap.values()):
        raise ActorError(
            redact.text(f"{decl.name}: failed {_first(events, 'runner_on_failed')}"),
            hint=f"see the playbook's output {where}",
            retryable=spec.task_failure == "retryable",
        )
    tail = ""
    stdout = getattr(result, "stdout", None)
    if stdout is not None:
        tail = stdout.read()[-1000:]
    raise ActorError(
        redact.text(
            f"{decl.name}: ansible-playbook ended {result.status} (rc {result.rc}): {tail}"
        ),
        hint=f"a syntax error or a missing module? {where}",
        retryable=False,
    )


def _stats(events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    for event in events:
        if event.get("event") == "playbook_on_stats":
            data = event.get("event_data", {}).get("artifact_data") or {}
            return dict(data) if isinstance(data, dict) else {}
    return {}


def bind(
    *, decl: ActorDecl, folder: Path, output_model: type[BaseModel]
) -> tuple[Callable[[BaseModel, ActorContext], BaseModel], Callable[..., Any] | None]:
    """The actor's function and its dry-run check (None when `check_mode: false`)."""
    spec = decl.spec
    assert isinstance(spec, AnsibleSpec)

    def call(inp: BaseModel, ctx: ActorContext) -> BaseModel:
        mode = "compensate" if ctx.idempotency_key.endswith("/compensate") else "run"
        result, private, redact = _play(decl, spec, folder, inp, ctx, mode)
        events, recap, changed = _outcome(decl, spec, result, private, redact)
        data = {
            **redact.value(_stats(events)),
            "changed": changed,
            "hosts": recap,
            "artifacts": str(private),
        }
        return make_output(output_model, data, who=decl.name)

    if not spec.check_mode:
        return call, None

    def check(inp: BaseModel, ctx: ActorContext) -> dict[str, Any]:
        result, private, redact = _play(decl, spec, folder, inp, ctx, "check")
        events, recap, changed = _outcome(decl, spec, result, private, redact)
        # Most telling first: a one-line note shows the count and the tasks.
        return {
            "changed": changed,
            "tasks": _changed_tasks(events),
            "diff": redact.text(render_diff(events)),
            "hosts": recap,
            "artifacts": str(private),
        }

    return call, check
