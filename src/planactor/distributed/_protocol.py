"""What crosses Temporal's wire: the workflow's input, the activities' calls, the run's records.

Plain dataclasses of JSON values (Temporal's default converter carries them), no Temporal
import: the workflow, the worker and the starter share this module, and the workflow
sandbox imports it passed through.

A run's *records* are the scheduler's commands and events as the workflow saw them, in
order, one small JSON object each (`encode`/`decode`). The starter reads them (a query) and
journals each through the engine's codec, so a Temporal run's journal holds the same
hash-chained events as a local run's and `planactor audit verify` and `replay` read both.

A resume decision is signed (Ed25519) over the run id, the plan hash and the decision
itself; the workflow's update validator checks it before the update enters history.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from planactor.engine._scheduler import (
    Command,
    CompensationFailed,
    CompensationSucceeded,
    Event,
    FinishRun,
    PauseRun,
    Resumed,
    SkipStep,
    StartCompensation,
    StartStep,
    StepError,
    StepFailed,
    StepSpec,
    StepSucceeded,
)
from planactor.plan import RetryPolicy

__all__ = [
    "ActorCall",
    "ActorResult",
    "CompensationCall",
    "Decision",
    "Progress",
    "RunInput",
    "TrustedKey",
    "decision_payload",
    "decode",
    "encode",
    "sign_decision",
    "spec_from",
    "spec_to",
    "step_error",
    "trusted_key",
    "verify_decision",
    "workflow_id",
]

WORKFLOW_NAME = "planactor.plan"
ACTOR_ACTIVITY = "planactor.actor"
COMPENSATION_ACTIVITY = "planactor.compensation"
RESUME_UPDATE = "resume"
PROGRESS_QUERY = "progress"


def workflow_id(run_id: str) -> str:
    """The Temporal workflow id of a planactor run: one workflow per run, found by its id."""
    return f"planactor-{run_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustedKey:
    """An approver's public key as the workflow's input carries it (raw Ed25519, base64)."""

    identity: str
    key_id: str
    public: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInput:
    """The workflow's input: the plan and its authorization land in Temporal's history."""

    run_id: str
    plan: str  # the plan's canonical JSON document
    plan_hash: str
    specs: dict[str, dict[str, Any]]  # actor -> StepSpec as JSON (`spec_to`)
    parallel: int = 1
    dry_run: bool = False
    authorization: dict[str, Any] | None = None
    trusted: list[TrustedKey] = field(default_factory=list)  # who may sign a resume
    heartbeat_s: float = 5.0  # a worker lost mid-call is noticed after this long


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorCall:
    """One attempt of one step: the actor, its resolved arguments, its idempotency key parts."""

    run_id: str
    step: str
    actor: str
    attempt: int
    args: dict[str, Any]
    dry_run: bool = False
    timeout_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CompensationCall:
    run_id: str
    step: str
    actor: str  # the step's actor
    compensate: str  # the actor that undoes it
    args: dict[str, Any]
    output: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorResult:
    output: dict[str, Any] | None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """A person's decision on a paused run, signed over the plan hash (`sign_decision`)."""

    retry: list[str] = field(default_factory=list)
    abort: bool = False
    identity: str = ""
    key_id: str = ""
    signature: str = ""
    authorization: dict[str, Any] | None = None  # the resume gate's record, for the journal


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """The `progress` query's answer: the records from `since` on, and the run's status."""

    status: str
    records: list[dict[str, Any]]
    total: int


# -- step specs -------------------------------------------------------------------------------


def spec_to(spec: StepSpec) -> dict[str, Any]:
    return {
        "effect": spec.effect,
        "idempotent": spec.idempotent,
        "compensate": spec.compensate,
        "retry": spec.retry.model_dump(mode="json"),
        "timeout_s": spec.timeout_s,
    }


def spec_from(doc: dict[str, Any]) -> StepSpec:
    return StepSpec(
        effect=doc["effect"],
        idempotent=doc["idempotent"],
        compensate=doc["compensate"],
        retry=RetryPolicy.model_validate(doc["retry"]),
        timeout_s=doc["timeout_s"],
    )


# -- records ----------------------------------------------------------------------------------


def _error(err: StepError) -> dict[str, Any]:
    return {
        "kind": err.kind,
        "message": err.message,
        "retryable": err.retryable,
        "unexpected": err.unexpected,
    }


def step_error(doc: dict[str, Any]) -> StepError:
    return StepError(
        kind=doc["kind"],
        message=doc["message"],
        retryable=doc.get("retryable", True),
        unexpected=doc.get("unexpected", False),
    )


def encode(item: Command | Event, *, note: str | None = None) -> dict[str, Any]:
    """One record. A compensation's start keeps only its actor: the journal needs no more."""
    if isinstance(item, StartStep):
        return {
            "t": "start",
            "step": item.step,
            "attempt": item.attempt,
            "args": item.args,
            "delay_s": item.delay_s,
        }
    if isinstance(item, SkipStep):
        return {"t": "skip", "step": item.step, "reason": item.reason}
    if isinstance(item, StartCompensation):
        return {"t": "comp", "step": item.step, "actor": item.actor}
    if isinstance(item, PauseRun):
        return {"t": "pause", "step": item.step, "reason": item.reason}
    if isinstance(item, FinishRun):
        return {"t": "finish", "status": item.status, "reason": item.reason}
    if isinstance(item, StepSucceeded):
        return {
            "t": "ok",
            "step": item.step,
            "attempt": item.attempt,
            "output": item.output,
            "note": note,
        }
    if isinstance(item, StepFailed):
        return {
            "t": "fail",
            "step": item.step,
            "attempt": item.attempt,
            "error": _error(item.error),
        }
    if isinstance(item, CompensationSucceeded):
        return {"t": "comp_ok", "step": item.step}
    if isinstance(item, CompensationFailed):
        return {"t": "comp_fail", "step": item.step, "error": _error(item.error)}
    return {"t": "resumed", "retry": list(item.retry), "abort": item.abort}


def decode(rec: dict[str, Any]) -> Command | Event:
    t = rec["t"]
    if t == "start":
        return StartStep(
            step=rec["step"], attempt=rec["attempt"], args=rec["args"], delay_s=rec["delay_s"]
        )
    if t == "skip":
        return SkipStep(step=rec["step"], reason=rec["reason"])
    if t == "comp":
        return StartCompensation(step=rec["step"], actor=rec["actor"], args={}, output={})
    if t == "pause":
        return PauseRun(reason=rec["reason"], step=rec["step"])
    if t == "finish":
        return FinishRun(status=rec["status"], reason=rec["reason"])
    if t == "ok":
        return StepSucceeded(step=rec["step"], attempt=rec["attempt"], output=rec["output"])
    if t == "fail":
        return StepFailed(step=rec["step"], attempt=rec["attempt"], error=step_error(rec["error"]))
    if t == "comp_ok":
        return CompensationSucceeded(step=rec["step"])
    if t == "comp_fail":
        return CompensationFailed(step=rec["step"], error=step_error(rec["error"]))
    if t == "resumed":
        return Resumed(retry=tuple(rec["retry"]), abort=rec["abort"])
    raise ValueError(f"not a run record: {t!r}")


# -- signed decisions -------------------------------------------------------------------------


def decision_payload(*, run_id: str, plan_hash: str, retry: list[str], abort: bool) -> bytes:
    """What a resume decision's signature covers: this run of exactly this plan, and the
    decision, so a signature cannot be replayed onto another run, plan or choice."""
    doc = {
        "kind": "planactor.resume/1",
        "run_id": run_id,
        "plan_hash": plan_hash,
        "retry": sorted(retry),
        "abort": abort,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")


def trusted_key(identity: str, key_id: str, public: Ed25519PublicKey) -> TrustedKey:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return TrustedKey(identity=identity, key_id=key_id, public=base64.b64encode(raw).decode())


def sign_decision(
    *,
    run_id: str,
    plan_hash: str,
    identity: str,
    key_id: str,
    key: Ed25519PrivateKey,
    retry: list[str] | tuple[str, ...] = (),
    abort: bool = False,
    authorization: dict[str, Any] | None = None,
) -> Decision:
    retry = list(retry)
    payload = decision_payload(run_id=run_id, plan_hash=plan_hash, retry=retry, abort=abort)
    return Decision(
        retry=retry,
        abort=abort,
        identity=identity,
        key_id=key_id,
        signature=base64.b64encode(key.sign(payload)).decode("ascii"),
        authorization=authorization,
    )


def verify_decision(
    decision: Decision, *, run_id: str, plan_hash: str, trusted: list[TrustedKey]
) -> str | None:
    """Why the decision may not be applied, or None when its signature holds."""
    key = next(
        (k for k in trusted if k.key_id == decision.key_id and k.identity == decision.identity),
        None,
    )
    if key is None:
        return f"{decision.identity or 'nobody'} ({decision.key_id or 'no key'}) is not trusted"
    payload = decision_payload(
        run_id=run_id, plan_hash=plan_hash, retry=decision.retry, abort=decision.abort
    )
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public))
        public.verify(base64.b64decode(decision.signature), payload)
    except (InvalidSignature, ValueError):
        return f"the signature of {decision.identity} does not verify for plan {plan_hash}"
    return None
