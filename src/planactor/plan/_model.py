"""The plan format, `planactor/v1`: pydantic models and their normalised document form."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationInfo,
    field_validator,
    model_validator,
)

from planactor.plan._approval import Approval
from planactor.plan._basis import Basis
from planactor.plan._identity import requester_problem
from planactor.plan._json import format_location

__all__ = [
    "ACTOR_NAME_PATTERN",
    "API_VERSION",
    "STEP_ID_PATTERN",
    "Condition",
    "OnFailure",
    "Origin",
    "Plan",
    "PlannerInfo",
    "RetryPolicy",
    "Step",
]

API_VERSION = "planactor/v1"
# No dots in step ids: a reference is written `STEP_ID.output.FIELD`.
STEP_ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{0,127}$"
ACTOR_NAME_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
INPUT_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"

OnFailure = Literal["compensate", "pause", "continue"]
ConditionOp = Literal["eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "truthy", "falsy"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)


# Validation context key: the caller has already proven the document is JSON (a strict
# parse, or a canonical serialisation), so the walk below would find nothing.
JSON_CHECKED = "planactor.json_checked"


def _json_only(value: Any, info: ValidationInfo) -> Any:
    """Refuse anything that has no canonical JSON: NaN, infinities, non-JSON types.

    One walk in Python does what pydantic's `JsonValue` does with a Python callback per
    value (a third of model validation for large plans), and also reaches inside values
    read from JSON text, where `allow_inf_nan=False` does not apply.
    """
    if info.context and info.context.get(JSON_CHECKED):
        return value
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is dict:
            if not all(type(k) is str for k in item):
                raise ValueError(f"object keys must be strings{_where(value, item)}")
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is float:
            if not math.isfinite(item):
                raise ValueError(f"NaN and infinities are not JSON numbers{_where(value, item)}")
        elif not isinstance(item, str | int):  # str and int subclasses (enums) are fine
            raise ValueError(f"{kind.__name__} is not a JSON value{_where(value, item)}")
    return value


def _where(root: Any, target: Any) -> str:
    """` at PATH` of `target` inside `root`, found again only when there is an error."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        item, path = stack.pop()
        if item is target:
            return f" at {format_location(path)}" if path else ""
        if type(item) is dict:
            stack.extend((v, (*path, k)) for k, v in item.items())
        elif type(item) is list:
            stack.extend((v, (*path, i)) for i, v in enumerate(item))
    return ""


class RetryPolicy(_Strict):
    """How often a step is tried and how long to wait in between (no jitter: deterministic)."""

    attempts: int = Field(default=1, ge=1, le=100, description="Total tries, the first included.")
    backoff_s: float = Field(default=1.0, ge=0, le=3600, description="Wait before the 2nd try.")
    multiplier: float = Field(default=2.0, ge=1, le=10, description="Growth of the wait per try.")
    max_backoff_s: float = Field(default=300.0, ge=0, le=86400, description="Cap on one wait.")

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before try number `attempt` (2 is the first retry)."""
        if attempt <= 1:
            return 0.0
        return float(min(self.backoff_s * self.multiplier ** (attempt - 2), self.max_backoff_s))


class Condition(_Strict):
    """`when`: run the step only if a value (a step output or a plan input) passes a test."""

    ref: str | None = Field(default=None, alias="$ref", description="STEP_ID.output.FIELD...")
    input: str | None = Field(default=None, alias="$input", description="A declared input.")
    op: ConditionOp = "truthy"
    value: JsonValue = Field(default=None, description="The operand of eq/ne/in/not_in/lt/...")

    _json_value = field_validator("value")(_json_only)

    @model_validator(mode="after")
    def _one_operand(self) -> Condition:
        if (self.ref is None) == (self.input is None):
            raise ValueError("a condition needs exactly one of '$ref' or '$input'")
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} needs 'value' to be a list")
        return self

    def holds(self, subject: Any) -> bool:
        """Evaluate the test on the resolved subject; an incomparable pair is False."""
        v = self.value
        match self.op:
            case "truthy":
                return bool(subject)
            case "falsy":
                return not subject
            case "eq":
                return bool(subject == v)
            case "ne":
                return bool(subject != v)
            case "in":
                return isinstance(v, list) and subject in v
            case "not_in":
                return isinstance(v, list) and subject not in v
        try:
            match self.op:
                case "lt":
                    return bool(subject < v)
                case "le":
                    return bool(subject <= v)
                case "gt":
                    return bool(subject > v)
                case _:
                    return bool(subject >= v)
        except TypeError:
            return False

    def to_document(self) -> dict[str, JsonValue]:
        doc: dict[str, JsonValue] = {}
        if self.ref is not None:
            doc["$ref"] = self.ref
        if self.input is not None:
            doc["$input"] = self.input
        doc["op"] = self.op
        if self.value is not None:
            doc["value"] = self.value
        return doc


class Step(_Strict):
    """One call of one actor. Dependencies are `after` plus every step its references name."""

    id: str = Field(pattern=STEP_ID_PATTERN, description="Unique within the plan; no dots.")
    actor: str = Field(min_length=1, max_length=200, description="A catalog actor, e.g. core.echo")
    args: dict[str, Any] = Field(
        default_factory=dict,
        description='The actor input; a value may be {"$ref": ...} or {"$input": ...}.',
    )
    after: list[str] = Field(default_factory=list, description="Steps that must finish first.")
    retry: RetryPolicy | None = Field(default=None, description="Overrides the actor's policy.")
    timeout_s: float | None = Field(default=None, gt=0, le=7 * 86400)
    on_failure: OnFailure = Field(
        default="pause",
        description="After retries are spent: compensate (saga rollback), pause, or continue.",
    )
    when: Condition | None = Field(default=None, description="Skip the step unless this holds.")

    _json_args = field_validator("args")(_json_only)

    def to_document(self) -> dict[str, JsonValue]:
        doc: dict[str, JsonValue] = {
            "id": self.id,
            "actor": self.actor,
            "args": self.args,
            "after": list(self.after),
            "on_failure": self.on_failure,
        }
        if self.retry is not None:
            doc["retry"] = self.retry.model_dump(mode="json")
        if self.timeout_s is not None:
            doc["timeout_s"] = self.timeout_s
        if self.when is not None:
            doc["when"] = self.when.to_document()
        return doc


class PlannerInfo(BaseModel):
    """How the plan was made. Metadata only: it never changes the plan hash."""

    # A newer planner may record more than this version knows; keep it rather than refuse.
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    backend: str
    model: str | None = None
    prompt_hash: str | None = None
    attempts: int = Field(default=1, ge=0)
    tokens_in: int = Field(default=0, ge=0)
    tokens_out: int = Field(default=0, ge=0)
    latency_s: float = Field(default=0.0, ge=0)


class Origin(_Strict):
    """Which routine made the plan, with what: hashed, so policy may rely on it.

    Policy counts a plan as routine-made only when expanding `routine` with these `params`
    and `facts` gives exactly the plan's steps (`planactor.catalog.routine_origin`); an
    origin that was edited, or steps edited after it, make the plan novel.
    """

    routine: str = Field(pattern=ACTOR_NAME_PATTERN, description="The routine's name.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Its parameters, defaults filled in."
    )
    facts: dict[str, Any] = Field(
        default_factory=dict, description="The inventory facts it read, by the routine's name."
    )

    _json_values = field_validator("params", "facts")(_json_only)

    def to_document(self) -> dict[str, JsonValue]:
        return {"routine": self.routine, "params": self.params, "facts": self.facts}


class Plan(_Strict):
    """A typed DAG of actor calls plus who asked for it and why."""

    api_version: Literal["planactor/v1"] = Field(description="Always 'planactor/v1'.")
    intent: str = Field(min_length=1, description="What the requester asked for, in words.")
    requested_by: str = Field(min_length=1, description="Who asked (a person or a system).")
    change_ticket: str | None = Field(default=None, description="e.g. CHG-1234")
    inputs: dict[str, Any] = Field(
        default_factory=dict, description='Named values that steps read with {"$input": NAME}.'
    )
    steps: list[Step] = Field(description="Listed in dependency order.")
    origin: Origin | None = Field(
        default=None, description="The routine that made the plan; hashed (absent: none)."
    )
    basis: Basis | None = Field(
        default=None,
        description="The lab facts the plan was made from, with their digest; hashed, so "
        "approvals cover it; `run` and `resume` refuse the plan once they changed.",
    )
    recovers: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
        description="The paused run this plan remediates (`planactor recover`); hashed, so "
        "approvals cover the link.",
    )
    planner: PlannerInfo | None = Field(default=None, description="Not part of the hash.")
    approvals: list[Approval] = Field(
        default_factory=list,
        description="Signed approvals of this plan's hash (`planactor approve`); not hashed.",
    )

    _json_inputs = field_validator("inputs")(_json_only)

    @field_validator("requested_by")
    @classmethod
    def _readable_requester(cls, value: str) -> str:
        # Separation of duties compares this with approver names: it must read as what it is.
        problem = requester_problem(value)
        if problem is not None:
            raise ValueError(f"{value!r} {problem}")
        return value

    def content(self) -> dict[str, JsonValue]:
        """Everything that defines behaviour or that policy relies on: what the hash covers."""
        doc: dict[str, JsonValue] = {
            "api_version": self.api_version,
            "intent": self.intent,
            "requested_by": self.requested_by,
            "change_ticket": self.change_ticket,
            "inputs": self.inputs,
            "steps": [s.to_document() for s in self.steps],
        }
        # Only when present, so the hash of every plan without one is what it always was.
        if self.origin is not None:
            doc["origin"] = self.origin.to_document()
        if self.basis is not None:
            doc["basis"] = self.basis.to_document()
        if self.recovers is not None:
            doc["recovers"] = self.recovers
        return doc

    def to_document(self) -> dict[str, JsonValue]:
        """The normalised JSON form that `save` writes; parsing it back gives an equal plan."""
        doc = self.content()
        if doc["change_ticket"] is None:
            del doc["change_ticket"]
        if self.planner is not None:
            doc["planner"] = self.planner.model_dump(mode="json")
        if self.approvals:
            doc["approvals"] = [a.model_dump(mode="json") for a in self.approvals]
        return doc

    @property
    def hash(self) -> str:
        """`sha256:<hex>` of the canonical JSON of `content()`."""
        from planactor.plan._canonical import content_hash

        return content_hash(self.content())

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)
