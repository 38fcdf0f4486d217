"""`planactor.policy` authorize/review: the gate before a run, its reasons and its record."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from approver_keys import KEYS, trust_store, trusted_key
from forgery import forge_approval
from planactor import ApprovalRequired, Catalog, Plan, actor, entity
from planactor.actors.core import echo
from planactor.policy import Authorization, PolicyDoc, RulePolicy, authorize, review, sign
from planactor.validate import validate_plan

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday
HOUR = timedelta(hours=1)
TRUSTED = trust_store("alice", "carol", "dave")


class HostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = entity("host")


class Done(BaseModel):
    ok: bool = True


@actor(name="ops.tune", effect="write", compensate="ops.tune")
def tune(args: HostIn) -> Done:
    """Tune a host (and back)."""
    return Done()


@actor(name="ops.reimage", effect="write", irreversible=True)
def reimage(args: HostIn) -> Done:
    """Reimage a host."""
    return Done()


CATALOG = Catalog([echo, tune, reimage], pack="ops")


def _plan(*actors: str, ticket: str | None = None, hosts: int = 1) -> Plan:
    steps = [
        {"id": f"s{i}", "actor": name, "args": {"host": f"h{i % hosts}"}}
        if name.startswith("ops.")
        else {"id": f"s{i}", "actor": name, "args": {"message": "hi"}}
        for i, name in enumerate(actors)
    ]
    doc: dict[str, Any] = {
        "api_version": "planactor/v1",
        "intent": "tune",
        "requested_by": "alice",
        "steps": steps,
    }
    if ticket:
        doc["change_ticket"] = ticket
    return Plan.model_validate(doc)


def _policy(*rules: dict[str, Any], **top: Any) -> RulePolicy:
    return RulePolicy(
        doc=PolicyDoc.model_validate({"name": "test", "rules": list(rules), **top}),
        source="test.yaml",
    )


def _approve(plan: Plan, *who: str, now: datetime = NOW, **kw: Any) -> Plan:
    approvals = [sign(plan, identity=w, key=KEYS[w], now=now, valid_for=HOUR, **kw) for w in who]
    return plan.model_copy(update={"approvals": [*plan.approvals, *approvals]})


def _gate(plan: Plan, policy: RulePolicy | None = None, *, now: datetime = NOW) -> Authorization:
    return authorize(
        validate_plan(plan, catalog=CATALOG),
        catalog=CATALOG,
        policy=policy or _policy(),
        trusted=TRUSTED,
        now=now,
    )


def _refused(
    plan: Plan, policy: RulePolicy | None = None, *, now: datetime = NOW
) -> ApprovalRequired:
    with pytest.raises(ApprovalRequired) as exc:
        _gate(plan, policy, now=now)
    assert exc.value.exit_code == 3
    assert exc.value.hint
    return exc.value


# -- enough, or not -------------------------------------------------------------------------


def test_an_approved_write_plan_is_authorized() -> None:
    """One valid approval of the exact plan lets a write plan run under the default counts."""
    auth = _gate(_approve(_plan("ops.tune"), "carol"))
    assert auth.approvals.approvers == ("carol",)
    assert auth.report.approvers_required == 1


def test_an_unapproved_write_plan_is_refused() -> None:
    """No approval: refused (exit 3), saying how many are needed and how to get one."""
    e = _refused(_plan("ops.tune"))
    assert "needs 1 approval(s) and has none valid" in e.message
    assert "policy test: plans with write steps need 1" in e.message
    assert e.hint is not None
    assert "planactor approve" in e.hint


def test_a_read_only_plan_needs_no_approval_unless_policy_says_so() -> None:
    """Under `novel: 0` a read-only plan runs unapproved; with `reads: 1` it needs one."""
    reads = _plan("core.echo")
    assert _gate(reads, _policy(approvals={"novel": 0})).approvals.verdicts == ()
    e = _refused(reads, _policy(approvals={"reads": 1}))
    assert "read-only plans need 1" in e.message
    assert _gate(_approve(reads, "carol"), _policy(approvals={"reads": 1})).approvals.approvers


def _reused(plan: Plan) -> Plan:
    other = _approve(_plan("ops.tune", "ops.tune"), "carol")
    return plan.model_copy(update={"approvals": other.approvals})


def _expired(plan: Plan) -> Plan:
    return _approve(plan, "carol", now=NOW - 2 * HOUR)


def _forged(plan: Plan, identity: str, key: str) -> Plan:
    """`plan` approved as `identity` with KEYS[key], signed without sign()'s refusals."""
    forged = forge_approval(plan, identity, KEYS[key], now=NOW)
    return plan.model_copy(update={"approvals": [forged]})


def _self_made(plan: Plan) -> Plan:
    return _forged(plan, "alice", "alice")


def _unknown(plan: Plan) -> Plan:
    return _approve(plan, "mallory")


def _machine(plan: Plan) -> Plan:
    return _forged(plan, "llm-x", "carol")


def _altered(plan: Plan) -> Plan:
    a = _approve(plan, "carol").approvals[0]
    return plan.model_copy(update={"approvals": [a.model_copy(update={"ticket": "CHG-1"})]})


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (_reused, "an approval covers one exact plan"),
        (_expired, "carol's approval expired at 2026-11-24T09:00:00+00:00"),
        (_self_made, "alice requested this plan and cannot also approve it"),
        (_unknown, "mallory is not a trusted approver (no mallory.pub)"),
        (_machine, "'llm-x' is a planner or machine identity"),
        (_altered, "carol's signature does not verify: the record was altered"),
    ],
)
def test_each_invalid_approval_is_refused_with_its_own_reason(spoil: Any, reason: str) -> None:
    """Reused, expired, self-made, unknown-key, machine or altered: refused, saying which."""
    e = _refused(spoil(_plan("ops.tune")))
    assert "needs 1 approval(s) and has none valid" in e.message
    assert reason in e.message
    assert e.hint is not None
    assert "fresh approval" in e.hint


def test_one_valid_approval_is_enough_beside_invalid_ones() -> None:
    """Invalid approvals do not block a plan that has enough valid ones; all are recorded."""
    plan = _approve(_expired(_plan("ops.tune")), "dave")
    auth = _gate(plan)
    assert [v["verdict"] for v in auth.to_document()["approvals"]] == ["expired", "valid"]


def test_the_hash_given_is_the_one_approvals_must_match() -> None:
    """The validated plan's hash (as computed by the validator) is what approvals must match."""
    approved = _approve(_plan("ops.tune"), "carol")
    other = _plan("ops.reimage").model_copy(update={"approvals": approved.approvals})
    validated = validate_plan(other, catalog=CATALOG)
    auth = review(validated, catalog=CATALOG, policy=_policy(), trusted=TRUSTED, now=NOW)
    assert [v.code for v in auth.approvals.verdicts] == ["wrong-plan"]
    assert auth.plan_hash == validated.hash != approved.hash


# -- rules at run start ---------------------------------------------------------------------


def test_a_blast_radius_rule_asks_for_a_second_approver() -> None:
    """More targets than the limit: one approval is not enough, two are."""
    policy = _policy(
        {
            "name": "wide",
            "description": "Wide changes need two.",
            "match": {"effect": "write"},
            "when": {"blast_radius_over": 2},
            "require": {"approvers": 2},
        }
    )
    plan = _plan("ops.tune", "ops.tune", "ops.tune", hosts=3)
    e = _refused(_approve(plan, "carol"), policy)
    assert "needs 2 approval(s) and has 1 valid (carol); rule wide: Wide changes need two." in (
        e.message
    )
    assert _gate(_approve(plan, "carol", "dave"), policy).approvals.approvers == ("carol", "dave")
    narrow = _plan("ops.tune", "ops.tune", "ops.tune", hosts=2)
    assert _gate(_approve(narrow, "carol"), policy).report.approvers_required == 1


def test_one_key_under_two_names_does_not_meet_a_two_approver_rule() -> None:
    """Issue 17 item 2: carol's key also trusted as erin; carol approving as both is one
    approver, so a rule asking for two is unmet (exit 3), naming the duplicate."""
    policy = _policy(
        {
            "name": "wide",
            "description": "Wide changes need two.",
            "match": {"effect": "write"},
            "when": {"blast_radius_over": 2},
            "require": {"approvers": 2},
        }
    )
    plan = _plan("ops.tune", "ops.tune", "ops.tune", hosts=3)
    twice = _approve(plan, "carol")
    as_erin = sign(plan, identity="erin", key=KEYS["carol"], now=NOW, valid_for=HOUR)
    twice = twice.model_copy(update={"approvals": [*twice.approvals, as_erin]})
    trusted = {**TRUSTED, "erin": trusted_key("erin", KEYS["carol"])}
    with pytest.raises(ApprovalRequired) as e:
        authorize(validate_plan(twice, catalog=CATALOG), catalog=CATALOG, policy=policy,
                  trusted=trusted, now=NOW)  # fmt: skip
    assert e.value.exit_code == 3
    assert "needs 2 approval(s) and has 1 valid (carol)" in e.value.message
    assert "erin's key" in e.value.message
    assert "already approved as carol; one approver (one key) counts once" in e.value.message


TICKET_RULE = {
    "name": "irreversible-needs-ticket",
    "description": "Irreversible steps need a change ticket.",
    "match": {"irreversible": True},
    "require": {"ticket": True},
}


def test_a_ticket_rule_is_met_by_an_approvals_ticket() -> None:
    """Irreversible steps without a ticket are refused; an approval's --ticket meets it."""
    policy = _policy(TICKET_RULE)
    plan = _plan("ops.reimage")
    e = _refused(_approve(plan, "carol"), policy)
    assert "rule irreversible-needs-ticket (Irreversible steps need a change ticket.)" in e.message
    assert "the plan has none and no approval gives one" in e.message
    assert e.hint is not None
    assert "--ticket" in e.hint
    auth = _gate(_approve(plan, "carol", ticket="CHG-5"), policy)
    assert auth.to_document()["ticket"] == "CHG-5"
    assert _gate(_approve(_plan("ops.reimage", ticket="CHG-6"), "carol"), policy).report.ticket


WINDOW_RULE = {
    "name": "weekend-only",
    "description": "Writes only at the weekend.",
    "match": {"effect": "write"},
    "require": {"window": {"days": ["sat", "sun"], "start": time(0), "end": time(23, 59)}},
}


def test_a_window_rule_refuses_outside_and_allows_inside() -> None:
    """Outside the window the run is refused with the next opening; inside it runs."""
    policy = _policy(WINDOW_RULE)
    plan = _approve(_plan("ops.tune"), "carol", now=NOW)
    e = _refused(plan, policy)
    assert "rule weekend-only (Writes only at the weekend.)" in e.message
    assert "closed now; it next opens 2026-11-28T00:00+00:00" in e.message
    assert e.hint == "run it inside the maintenance window"
    saturday = datetime(2026, 11, 28, 12, tzinfo=UTC)
    approved = _approve(_plan("ops.tune"), "carol", now=saturday)
    assert _gate(approved, policy, now=saturday).report.unmet == ()


def test_a_deny_rule_refuses_even_an_approved_plan() -> None:
    """A denied plan that skipped validation is still stopped at the gate."""
    policy = _policy(
        {
            "name": "no-reimage",
            "description": "Never.",
            "match": {"actor": "ops.reimage"},
            "require": {"deny": "by hand only"},
        }
    )
    e = _refused(_approve(_plan("ops.reimage"), "carol", "dave"), policy)
    assert "rule no-reimage (Never.): by hand only" in e.message


def test_every_reason_is_given_at_once() -> None:
    """Missing approvals, ticket and window are all listed in one refusal."""
    policy = _policy(TICKET_RULE, WINDOW_RULE)
    e = _refused(_plan("ops.reimage"), policy)
    assert "needs 1 approval(s)" in e.message
    assert "irreversible-needs-ticket" in e.message
    assert "weekend-only" in e.message


# -- the record ----------------------------------------------------------------------------


def test_the_record_says_who_approved_under_which_policy() -> None:
    """record() holds every approval with its verdict, the policy hash and applied rules."""
    policy = _policy(TICKET_RULE, WINDOW_RULE | {"name": "unused", "match": {"actor": "x.*"}})
    plan = _unknown(_approve(_plan("ops.reimage"), "carol", ticket="CHG-8"))
    record = _gate(plan, policy).to_document()
    assert record["checked_at"] == "2026-11-24T10:00:00+00:00"
    assert record["policy"] == {"name": "test", "hash": policy.hash, "source": "test.yaml"}
    assert record["approvers_required"] == 1
    assert record["ticket"] == "CHG-8"
    assert record["rules"] == ["irreversible-needs-ticket"]
    carol, mallory = record["approvals"]
    assert (carol["identity"], carol["verdict"], carol["ticket"]) == ("carol", "valid", "CHG-8")
    assert (mallory["identity"], mallory["verdict"]) == ("mallory", "unknown-key")
    assert carol["signature"] == plan.approvals[0].signature
    assert carol["plan_hash"] == plan.hash


def test_review_judges_without_refusing() -> None:
    """review() explains a plan that may not run, without raising."""
    auth = review(
        validate_plan(_plan("ops.tune"), catalog=CATALOG),
        catalog=CATALOG,
        policy=_policy(WINDOW_RULE),
        trusted=TRUSTED,
        now=NOW,
    )
    assert auth.approvals.approvers == ()
    assert [(o.rule.name, r.kind) for o, r in auth.report.unmet] == [("weekend-only", "window")]
