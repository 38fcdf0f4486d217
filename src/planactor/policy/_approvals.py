"""Signing approvals and judging them: each approval gets one verdict, with its reason."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from planactor._errors import InputError
from planactor.plan import Approval, Plan, identity_key, same_person
from planactor.policy._keys import PublicKey, check_identity, is_machine_identity, key_id_of

__all__ = [
    "ApprovalCheck",
    "Verdict",
    "VerdictCode",
    "check_approvals",
    "judge",
    "machine_identities",
    "sign",
]

VerdictCode = Literal[
    "valid",
    "wrong-plan",
    "machine-identity",
    "unknown-key",
    "bad-signature",
    "self-approval",
    "bad-validity",
    "not-yet-valid",
    "expired",
    "duplicate",
]
# Clocks of approver and runner disagree a little; an approval from further ahead is forged
# or made on a broken clock, and either way not trusted yet.
CLOCK_SKEW = timedelta(minutes=5)
MAX_VALIDITY = timedelta(days=30)


def sign(
    plan: Plan,
    *,
    identity: str,
    key: Ed25519PrivateKey,
    now: datetime,
    valid_for: timedelta,
    ticket: str | None = None,
    comment: str | None = None,
) -> Approval:
    """`identity`'s signed approval of exactly this plan, valid for `valid_for` from `now`."""
    check_identity(identity)
    if valid_for <= timedelta(0) or valid_for > MAX_VALIDITY:
        raise InputError(
            f"an approval must be valid for more than 0 and at most {MAX_VALIDITY.days} days",
            hint="e.g. --expires 4h",
        )
    if identity_key(identity) in machine_identities(plan):
        raise InputError(
            f"{identity!r} is the name of this plan's planner; a planner never approves",
            hint="approvers are people",
        )
    if same_person(identity, plan.requested_by):
        raise InputError(
            f"{identity} requested this plan (as {plan.requested_by!r}) and cannot approve it "
            "(separation of duties)",
            hint="ask another approver",
        )
    now = now.replace(microsecond=0)
    unsigned = Approval.model_construct(
        plan_hash=plan.hash,
        identity=identity,
        key_id=key_id_of(key.public_key()),
        approved_at=now,
        expires_at=now + valid_for,
        ticket=ticket,
        comment=comment,
        signature="",
    )
    signature = base64.b64encode(key.sign(unsigned.payload())).decode("ascii")
    # Validate the finished record, so a bad ticket or comment is refused here, not at run.
    try:
        return Approval.model_validate({**unsigned.model_dump(mode="json"), "signature": signature})
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"cannot approve: {field}: {first['msg']}", hint="shorten the ticket or comment"
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    approval: Approval
    code: VerdictCode
    message: str

    @property
    def valid(self) -> bool:
        return self.code == "valid"


def machine_identities(plan: Plan) -> set[str]:
    """Names under which the plan's own planner could sign, as `identity_key`s: they never
    count as approvers."""
    names: set[str] = set()
    if plan.planner is not None:
        names.add(identity_key(plan.planner.backend))
        if plan.planner.model:
            names.add(identity_key(plan.planner.model))
        extra = plan.planner.model_extra or {}
        for key in ("identity", "agent", "user"):
            value = extra.get(key)
            if isinstance(value, str):
                names.add(identity_key(value))
    return names


def judge(
    approval: Approval,
    *,
    plan: Plan,
    plan_hash: str,
    trusted: Mapping[str, PublicKey],
    now: datetime,
) -> Verdict:
    """One approval's verdict against this plan, these trusted keys and this moment."""
    who = approval.identity

    def verdict(code: VerdictCode, message: str) -> Verdict:
        return Verdict(approval=approval, code=code, message=message)

    if approval.plan_hash != plan_hash:
        return verdict(
            "wrong-plan",
            f"{who} approved plan {approval.plan_hash[:19]}…, not this one ({plan_hash[:19]}…); "
            "an approval covers one exact plan",
        )
    if is_machine_identity(who) or identity_key(who) in machine_identities(plan):
        return verdict("machine-identity", f"{who!r} is a planner or machine identity")
    known = trusted.get(who)
    if known is None:
        return verdict("unknown-key", f"{who} is not a trusted approver (no {who}.pub)")
    if known.key_id != approval.key_id:
        return verdict(
            "unknown-key",
            f"{who}'s approval was signed with key {approval.key_id[:23]}…, "
            f"not {who}'s trusted key {known.key_id[:23]}…",
        )
    try:
        known.key.verify(base64.b64decode(approval.signature), approval.payload())
    except (InvalidSignature, ValueError):
        return verdict(
            "bad-signature", f"{who}'s signature does not verify: the record was altered"
        )
    if same_person(who, plan.requested_by):
        also = "" if who == plan.requested_by else f" (as {plan.requested_by!r})"
        return verdict(
            "self-approval", f"{who} requested this plan{also} and cannot also approve it"
        )
    # sign() never makes these; a record that claims them was made some other way.
    validity = approval.expires_at - approval.approved_at
    if validity <= timedelta(0) or validity > MAX_VALIDITY:
        return verdict(
            "bad-validity",
            f"{who}'s approval claims a validity of {_span(validity)} "
            f"({approval.approved_at.isoformat()} to {approval.expires_at.isoformat()}); "
            f"an approval is valid for more than 0 and at most {MAX_VALIDITY.days} days",
        )
    if approval.approved_at > now + CLOCK_SKEW:
        return verdict("not-yet-valid", f"{who}'s approval is dated in the future")
    if approval.expires_at <= now:
        return verdict("expired", f"{who}'s approval expired at {approval.expires_at.isoformat()}")
    return verdict("valid", f"{who} approved (until {approval.expires_at.isoformat()})")


def _span(delta: timedelta) -> str:
    if delta <= timedelta(0):
        return "none (it expires before it was made)" if delta else "none"
    return f"{delta.days} days" if delta.days else str(delta)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalCheck:
    """Every approval's verdict; the distinct approvers (keys) whose approvals are valid."""

    verdicts: tuple[Verdict, ...]

    @property
    def approvers(self) -> tuple[str, ...]:
        return tuple(v.approval.identity for v in self.verdicts if v.valid)

    @property
    def tickets(self) -> tuple[str, ...]:
        return tuple(v.approval.ticket for v in self.verdicts if v.valid and v.approval.ticket)

    @property
    def rejected(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if not v.valid)


def check_approvals(
    plan: Plan,
    *,
    trusted: Mapping[str, PublicKey],
    now: datetime,
    plan_hash: str | None = None,
    approvals: Iterable[Approval] | None = None,
) -> ApprovalCheck:
    """Judge every approval the plan carries (or `approvals`); an approver counts once.

    An approver is a key, not a name: should one key be trusted under two names (which
    KeyStore refuses, but `trusted` may come from elsewhere), its second approval is a
    duplicate of the first.
    """
    plan_hash = plan_hash or plan.hash
    seen: dict[str, str] = {}  # identity_key(name) and key id -> the name that counted
    verdicts = []
    for a in plan.approvals if approvals is None else approvals:
        v = judge(a, plan=plan, plan_hash=plan_hash, trusted=trusted, now=now)
        if v.valid:
            first = seen.get(identity_key(a.identity)) or seen.get(a.key_id)
            if first is not None:
                what = (
                    f"{a.identity} already approved"
                    if first == a.identity
                    else f"{a.identity}'s key {a.key_id[:23]}… already approved as {first}"
                )
                v = Verdict(
                    approval=a,
                    code="duplicate",
                    message=f"{what}; one approver (one key) counts once",
                )
            else:
                seen[identity_key(a.identity)] = seen[a.key_id] = a.identity
        verdicts.append(v)
    return ApprovalCheck(verdicts=tuple(verdicts))
