"""Policy: rules over a plan's steps, judged statically (validate) and at run start (time).

A rule matches steps (by actor name, pack, effect, irreversibility, tags), optionally only
when the matched writes reach more than N distinct targets (the blast radius), and then
requires something: a change ticket, a number of approvers, a maintenance window, or
denies the plan outright. Pure: the clock and the approvals are passed in.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from planactor.catalog import ENTITY_KEY, Actor, Catalog, origin_problem
from planactor.plan import Plan, Step, content_hash
from planactor.validate import Inventory, Problem

if TYPE_CHECKING:
    from planactor.policy._approvals import ApprovalCheck

__all__ = [
    "Approvals",
    "LLMSkills",
    "Match",
    "PolicyDoc",
    "PolicyReport",
    "Requirement",
    "RequirementOutcome",
    "Rule",
    "RuleOutcome",
    "RulePolicy",
    "Window",
    "blast_radius",
]

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Status = Literal["met", "unmet", "at-run"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Match(_Strict):
    """Which steps a rule is about. Every field given must hold; a list means any of."""

    actor: list[str] | None = Field(default=None, description="Glob(s), e.g. storage.*")
    pack: list[str] | None = None
    effect: Literal["read", "write"] | None = None
    irreversible: bool | None = None
    tags: list[str] | None = Field(default=None, description="Any of these tags.")

    _lists = field_validator("actor", "pack", "tags", mode="before")(_listify)

    def matches(self, step: Step, actor: Actor, pack: str | None) -> bool:
        if self.actor is not None and not any(
            fnmatch.fnmatchcase(step.actor, g) for g in self.actor
        ):
            return False
        if self.pack is not None and pack not in self.pack:
            return False
        if self.effect is not None and actor.effect != self.effect:
            return False
        if self.irreversible is not None and actor.irreversible != self.irreversible:
            return False
        return self.tags is None or bool(set(self.tags) & set(actor.tags))

    def describe(self) -> str:
        parts: list[str] = []
        if self.effect:
            parts.append(self.effect)
        if self.irreversible is not None:
            parts.append("irreversible" if self.irreversible else "reversible")
        if self.actor:
            parts.append("actor " + " or ".join(self.actor))
        if self.pack:
            parts.append("pack " + " or ".join(self.pack))
        if self.tags:
            parts.append("tagged " + " or ".join(self.tags))
        return "; ".join(parts) or "any step"


class Window(_Strict):
    """A weekly maintenance window: `days` name the day it opens; `end` before `start`
    means it closes the next day (22:00-04:00)."""

    days: list[Day] = Field(default_factory=lambda: list(_DAYS), min_length=1)
    start: time
    end: time
    timezone: str = "UTC"

    @field_validator("days", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        value = _listify(value)
        return [d.lower()[:3] if isinstance(d, str) else d for d in value]

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        # "9:30" is as clear as "09:30"; a zone belongs in `timezone`, not in the time.
        if isinstance(value, str) and re.fullmatch(r"\d:\d\d(:\d\d)?", value.strip()):
            return "0" + value.strip()
        return value

    @field_validator("start", "end")
    @classmethod
    def _naive(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("give the time without a zone; set the window's `timezone` instead")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as UTC or Europe/Paris"
            ) from None
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Window:
        if self.start == self.end:
            raise ValueError("start and end are equal: the window would be empty")
        return self

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone))
        t = local.time().replace(tzinfo=None)
        today = _DAYS[local.weekday()]
        yesterday = _DAYS[(local.weekday() - 1) % 7]
        if self.start < self.end:
            return today in self.days and self.start <= t < self.end
        # Crosses midnight: open from `start` on a listed day until `end` the next day.
        return (today in self.days and t >= self.start) or (yesterday in self.days and t < self.end)

    def next_opening(self, moment: datetime) -> datetime:
        local = moment.astimezone(ZoneInfo(self.timezone))
        for ahead in range(8):
            day = local.date() + timedelta(days=ahead)
            if _DAYS[day.weekday()] not in self.days:
                continue
            opening = datetime.combine(day, self.start, tzinfo=ZoneInfo(self.timezone))
            if opening > local:
                return opening
        raise AssertionError("a window with at least one day opens within a week")

    def describe(self) -> str:
        days = "every day" if len(self.days) == 7 else ",".join(self.days)
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M} {self.timezone}"


class Requirement(_Strict):
    ticket: bool = Field(default=False, description="A change ticket must be recorded.")
    approvers: int | None = Field(default=None, ge=1, le=10, description="Distinct approvers.")
    window: Window | None = Field(default=None, description="Only inside this window.")
    deny: str | None = Field(default=None, min_length=1, description="Refused, with this reason.")

    @model_validator(mode="after")
    def _something(self) -> Requirement:
        if not (self.ticket or self.approvers or self.window or self.deny):
            raise ValueError("a rule must require something: ticket, approvers, window or deny")
        return self


class When(_Strict):
    blast_radius_over: int = Field(ge=0, description="More distinct targets written than this.")


class Rule(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$")
    description: str = Field(min_length=1)
    match: Match = Field(default_factory=Match)
    when: When | None = None
    require: Requirement


class Approvals(_Strict):
    writes: int = Field(default=1, ge=0, le=10, description="For a plan with a write step.")
    reads: int = Field(default=0, ge=0, le=10, description="For a read-only plan.")
    novel: int = Field(
        default=1,
        ge=0,
        le=10,
        description="At least this many for a plan no routine vouches for (composed, "
        "hand-written, or edited after a routine made it), even a read-only one.",
    )


class LLMSkills(_Strict):
    allow_writes: list[str] = Field(
        default_factory=list,
        description="Write LLM skills plans may call, by name; any other is refused.",
    )


class PolicyDoc(_Strict):
    version: Literal[1] = 1
    name: str = Field(min_length=1)
    description: str | None = None
    approvals: Approvals = Field(default_factory=Approvals)
    rules: list[Rule] = Field(default_factory=list)
    llm_skills: LLMSkills | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> PolicyDoc:
        seen: set[str] = set()
        for r in self.rules:
            if r.name in seen:
                raise ValueError(f"two rules are named {r.name!r}")
            seen.add(r.name)
        return self


def blast_radius(steps: Iterable[Step], catalog: Catalog) -> set[str]:
    """Distinct targets the given write steps change: their entity-valued arguments.

    A write step with no entity argument counts as one target of its own; an entity given
    by reference is not known before the run and counts as a target per step (the
    conservative reading).
    """
    targets: set[str] = set()
    for step in steps:
        actor = catalog.get(step.actor)
        if actor.effect != "write":
            continue
        found = False
        for name, prop in actor.input_schema.get("properties", {}).items():
            kind = prop.get(ENTITY_KEY) if isinstance(prop, dict) else None
            if kind is None or name not in step.args:
                continue
            found = True
            value = step.args[name]
            many = isinstance(value, list)
            for i, v in enumerate(value if many else [value]):
                if isinstance(v, str):
                    targets.add(f"{kind}:{v}")
                else:  # a reference: resolved only at run time, one target each
                    targets.add(f"{kind}:?{step.id}.{name}" + (f"[{i}]" if many else ""))
        if not found:
            targets.add(f"step:{step.id}")
    return targets


@dataclass(frozen=True, slots=True, kw_only=True)
class RequirementOutcome:
    kind: Literal["ticket", "approvers", "window", "deny"]
    text: str
    status: Status
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleOutcome:
    rule: Rule
    applies: bool
    why: str
    steps: tuple[str, ...] = ()
    requirements: tuple[RequirementOutcome, ...] = ()

    @property
    def unmet(self) -> tuple[RequirementOutcome, ...]:
        return tuple(r for r in self.requirements if r.status == "unmet")


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyReport:
    """What the policy asks of one plan, and what is met so far."""

    policy: str
    policy_hash: str
    writes: bool
    approvers_required: int
    approvers_reason: str
    ticket: str | None
    outcomes: tuple[RuleOutcome, ...] = field(default=())
    # Which routine vouches for the plan (its hashed origin reproduced), or why none does.
    routine: str | None = None
    novel: str | None = None

    @property
    def applied(self) -> tuple[RuleOutcome, ...]:
        return tuple(o for o in self.outcomes if o.applies)

    @property
    def unmet(self) -> tuple[tuple[RuleOutcome, RequirementOutcome], ...]:
        return tuple((o, r) for o in self.applied for r in o.unmet)


class RulePolicy:
    """A loaded policy document, usable as the validator's `Policy` and at run start."""

    def __init__(self, *, doc: PolicyDoc, source: str = "<policy>") -> None:
        self.doc = doc
        self.source = source
        dumped = doc.model_dump(mode="json")
        if doc.llm_skills is None:  # absent: the hash of a policy that predates the field
            del dumped["llm_skills"]
        self.hash = content_hash(dumped)

    @property
    def name(self) -> str:
        return self.doc.name

    def evaluate(
        self,
        plan: Plan,
        *,
        catalog: Catalog,
        approvals: ApprovalCheck | None = None,
        now: datetime | None = None,
    ) -> PolicyReport:
        """Judge every rule. Without `approvals` and `now`, approver counts and windows are
        left for the run (`at-run`); a ticket may come from the plan or an approval."""
        actors = {s.actor: catalog.get(s.actor) for s in plan.steps}
        writes = any(a.effect == "write" for a in actors.values())
        base = self.doc.approvals.writes if writes else self.doc.approvals.reads
        required, reason = (
            base,
            (
                f"policy {self.name}: plans with write steps need {base}"
                if writes
                else f"policy {self.name}: read-only plans need {base}"
            ),
        )
        # Read from the plan's hashed origin, checked against the routine itself: planner
        # metadata is outside the hash, and anyone could delete a line of it.
        novel = origin_problem(plan, catalog.routines)
        least = self.doc.approvals.novel
        if novel is not None and required < least:
            # No tested routine vouches for this plan as a whole: a person looks at it.
            required, reason = (
                least,
                f"policy {self.name}: a plan no routine made (novel) needs {least}; {novel}",
            )
        ticket = plan.change_ticket or (
            approvals.tickets[0] if approvals and approvals.tickets else None
        )
        outcomes = []
        for rule in self.doc.rules:
            outcome = self._rule(rule, plan, catalog, actors, approvals, now, ticket)
            outcomes.append(outcome)
            wanted = rule.require.approvers
            if outcome.applies and wanted is not None and wanted > required:
                required, reason = wanted, f"rule {rule.name}: {rule.description}"
        return PolicyReport(
            policy=self.name,
            policy_hash=self.hash,
            writes=writes,
            approvers_required=required,
            approvers_reason=reason,
            ticket=ticket,
            outcomes=tuple(outcomes),
            routine=plan.origin.routine if novel is None and plan.origin is not None else None,
            novel=novel,
        )

    def _rule(
        self,
        rule: Rule,
        plan: Plan,
        catalog: Catalog,
        actors: dict[str, Actor],
        approvals: ApprovalCheck | None,
        now: datetime | None,
        ticket: str | None,
    ) -> RuleOutcome:
        matched = [
            s
            for s in plan.steps
            if rule.match.matches(s, actors[s.actor], catalog.pack_of(s.actor))
        ]
        if not matched:
            return RuleOutcome(
                rule=rule, applies=False, why=f"no step matches ({rule.match.describe()})"
            )
        ids = tuple(s.id for s in matched)
        why = f"{len(ids)} step(s) match ({rule.match.describe()}): {_names(ids)}"
        if rule.when is not None:
            targets = blast_radius(matched, catalog)
            limit = rule.when.blast_radius_over
            if len(targets) <= limit:
                return RuleOutcome(
                    rule=rule,
                    applies=False,
                    why=f"{why}; they write {len(targets)} target(s), not more than {limit}",
                    steps=ids,
                )
            why += f"; they write {len(targets)} targets (more than {limit})"
        return RuleOutcome(
            rule=rule,
            applies=True,
            why=why,
            steps=ids,
            requirements=tuple(_requirements(rule.require, approvals, now, ticket)),
        )

    # -- the validator's Policy protocol ---------------------------------------------------

    def check(
        self, plan: Plan, *, catalog: Catalog, inventory: Inventory | None
    ) -> Iterator[Problem]:
        """Static findings: denied steps are errors; a missing ticket is a warning, since
        an approval may still bring one."""
        del inventory  # the rules read the catalog; the inventory is the validator's
        index = {s.id: i for i, s in enumerate(plan.steps)}
        allowed = set(self.doc.llm_skills.allow_writes) if self.doc.llm_skills else set()
        for i, step in enumerate(plan.steps):
            a = catalog.get(step.actor) if step.actor in catalog else None
            if a is not None and a.probabilistic and a.effect == "write" and a.name not in allowed:
                yield Problem(
                    code="policy-llm-write",
                    location=f"steps[{i}]",
                    message=f"{a.name} is an LLM skill that writes: a model would decide a change",
                    hint="list it under llm_skills.allow_writes in the policy to allow it",
                    step=step.id,
                )
        for outcome in self.evaluate(plan, catalog=catalog).applied:
            for req in outcome.requirements:
                first = outcome.steps[0]
                where = f"steps[{index[first]}]"
                if req.kind == "deny":
                    yield Problem(
                        code="policy-denied",
                        location=where,
                        message=f"policy rule {outcome.rule.name}: {req.detail}",
                        hint=f"{outcome.why}; remove these steps or change the policy",
                        step=first,
                    )
                elif req.kind == "ticket" and req.status == "unmet":
                    yield Problem(
                        code="policy-ticket",
                        location="change_ticket",
                        message=f"policy rule {outcome.rule.name}: {outcome.rule.description}",
                        hint="set change_ticket in the plan, or approve with --ticket",
                        severity="warning",
                        step=first,
                    )


def _requirements(
    req: Requirement, approvals: ApprovalCheck | None, now: datetime | None, ticket: str | None
) -> Iterator[RequirementOutcome]:
    if req.deny is not None:
        yield RequirementOutcome(kind="deny", text="refused", status="unmet", detail=req.deny)
    if req.ticket:
        yield RequirementOutcome(
            kind="ticket",
            text="a change ticket",
            status="met" if ticket else "unmet",
            detail=f"ticket {ticket}" if ticket else "the plan has none and no approval gives one",
        )
    if req.approvers is not None:
        if approvals is None:
            status: Status = "at-run"
            detail = "counted when the run starts"
        else:
            have = len(approvals.approvers)
            status = "met" if have >= req.approvers else "unmet"
            detail = f"{have} valid: {', '.join(approvals.approvers) or 'none'}"
        yield RequirementOutcome(
            kind="approvers", text=f"{req.approvers} approvers", status=status, detail=detail
        )
    if req.window is not None:
        text = f"inside {req.window.describe()}"
        if now is None:
            yield RequirementOutcome(
                kind="window", text=text, status="at-run", detail="checked when the run starts"
            )
        elif req.window.contains(now):
            yield RequirementOutcome(kind="window", text=text, status="met", detail="open now")
        else:
            opens = req.window.next_opening(now)
            yield RequirementOutcome(
                kind="window",
                text=text,
                status="unmet",
                detail=f"closed now; it next opens {opens.isoformat(timespec='minutes')}",
            )


def _names(ids: tuple[str, ...]) -> str:
    return ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
