"""`planactor.policy` approvals: signing, and each verdict an approval can get."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from approver_keys import KEYS, trust_store, trusted_key
from forgery import forge_approval
from planactor import InputError, Plan, load_plan, save_plan
from planactor.plan import Approval
from planactor.policy import PublicKey, check_approvals, judge, key_id_of, sign

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
PROPERTY = settings(max_examples=100, deadline=None)

TRUSTED = trust_store("alice", "carol", "dave")


def _plan(message: str = "hello", **extra: Any) -> Plan:
    return Plan.model_validate(
        {
            "api_version": "planactor/v1",
            "intent": "say hello",
            "requested_by": "alice",
            "steps": [{"id": "a", "actor": "core.echo", "args": {"message": message}}],
            **extra,
        }
    )


def _sign(
    plan: Plan, who: str = "carol", *, now: datetime = NOW, valid_for: timedelta = HOUR, **kw: Any
) -> Approval:
    return sign(plan, identity=who, key=KEYS[who], now=now, valid_for=valid_for, **kw)


def _verdict(
    approval: Approval,
    plan: Plan,
    *,
    trusted: dict[str, PublicKey] = TRUSTED,
    now: datetime = NOW,
    plan_hash: str | None = None,
) -> tuple[str, str]:
    v = judge(approval, plan=plan, plan_hash=plan_hash or plan.hash, trusted=trusted, now=now)
    return v.code, v.message


# -- signing --------------------------------------------------------------------------------


def test_sign_binds_the_plan_hash_identity_times_and_ticket() -> None:
    """A signed approval records the exact plan hash, who, when, until when and the ticket."""
    plan = _plan()
    a = _sign(plan, ticket="CHG-1", comment="looks fine", valid_for=4 * HOUR)
    assert a.plan_hash == plan.hash
    assert a.identity == "carol"
    assert a.key_id == key_id_of(KEYS["carol"].public_key())
    assert a.approved_at == NOW
    assert a.expires_at == NOW + 4 * HOUR
    assert (a.ticket, a.comment) == ("CHG-1", "looks fine")


def test_sign_drops_sub_second_precision() -> None:
    """Times are recorded to the second, so the JSON form is short and stable."""
    a = _sign(_plan(), now=NOW.replace(microsecond=123456))
    assert a.approved_at == NOW


def test_sign_refuses_the_requester() -> None:
    """Separation of duties: whoever requested a plan cannot approve it."""
    with pytest.raises(InputError, match="separation of duties"):
        _sign(_plan(), "alice")


@pytest.mark.parametrize("valid_for", [timedelta(0), -HOUR, timedelta(days=30, seconds=1)])
def test_sign_refuses_a_validity_out_of_range(valid_for: timedelta) -> None:
    """An approval is valid for more than nothing and at most 30 days."""
    with pytest.raises(InputError, match="at most 30 days"):
        _sign(_plan(), valid_for=valid_for)


def test_sign_accepts_the_longest_validity() -> None:
    """Exactly 30 days is allowed."""
    assert _sign(_plan(), valid_for=timedelta(days=30)).expires_at == NOW + timedelta(days=30)


@pytest.mark.parametrize("who", ["planner", "llm-x", "bot", "Carol"])
def test_sign_refuses_machine_and_malformed_identities(who: str) -> None:
    """No approval can be made under a machine's name or a malformed one."""
    with pytest.raises(InputError):
        sign(_plan(), identity=who, key=KEYS["carol"], now=NOW, valid_for=HOUR)


@pytest.mark.parametrize("field", ["ticket", "comment"])
def test_sign_refuses_an_overlong_ticket_or_comment_as_bad_input(field: str) -> None:
    """A ticket over 128 or a comment over 2000 characters is an InputError, not a crash."""
    too_long: dict[str, Any] = {field: "X" * 3000}
    with pytest.raises(InputError):
        _sign(_plan(), **too_long)


def test_approval_survives_save_and_load_without_changing_the_hash(tmp_path: Path) -> None:
    """An approval travels inside the plan file; the plan hash ignores it."""
    plan = _plan()
    a = _sign(plan, ticket="CHG-7")
    approved = plan.model_copy(update={"approvals": [a]})
    assert approved.hash == plan.hash
    path = tmp_path / "plan.json"
    save_plan(approved, path)
    got = load_plan(path)
    loaded, report = got.plan, got.report
    assert loaded.approvals == [a]
    assert loaded.hash == report.plan_hash == plan.hash
    assert _verdict(loaded.approvals[0], loaded)[0] == "valid"


def test_approval_refuses_a_naive_time() -> None:
    """approved_at and expires_at must carry a time zone."""
    doc = _sign(_plan()).model_dump(mode="json")
    doc["expires_at"] = "2026-11-24T12:00:00"
    with pytest.raises(ValueError, match="needs a time zone"):
        Approval.model_validate(doc)


# -- verdicts -------------------------------------------------------------------------------


def test_a_fresh_approval_by_a_trusted_colleague_is_valid() -> None:
    """valid: right plan, trusted key, good signature, another person, within its time."""
    plan = _plan()
    code, message = _verdict(_sign(plan), plan)
    assert code == "valid"
    assert "carol approved" in message


def test_an_approval_of_another_plan_is_wrong_plan() -> None:
    """wrong-plan: an approval of plan A does not cover plan B, however similar."""
    a, b = _plan("hello"), _plan("hello!")
    code, message = _verdict(_sign(a), b)
    assert code == "wrong-plan"
    assert a.hash[:19] in message
    assert b.hash[:19] in message


def test_an_approval_of_the_same_plan_with_other_metadata_is_still_valid() -> None:
    """The hash covers behaviour, not planner metadata: the approval still applies."""
    plan = _plan()
    relabelled = _plan(planner={"backend": "routine"})
    assert _verdict(_sign(plan), relabelled)[0] == "valid"


@pytest.mark.parametrize("who", ["planner", "llm-x", "ai", "bot", "agent.smith"])
def test_an_approval_by_a_machine_identity_is_refused(who: str) -> None:
    """machine-identity: even a well-signed approval by a reserved name never counts."""
    plan = _plan()
    key = KEYS["mallory"]
    trusted = {who: trusted_key(who, key, Path())}
    code, message = _verdict(forge_approval(plan, who, key, now=NOW), plan, trusted=trusted)
    assert code == "machine-identity"
    assert who in message


@pytest.mark.parametrize(
    ("planner", "who"),
    [
        ({"backend": "local", "model": "smollm2-135m"}, "smollm2-135m"),
        ({"backend": "local", "model": "SmolLM2-135M"}, "smollm2-135m"),
        ({"backend": "anthropic", "model": "claude-x"}, "anthropic"),
        ({"backend": "local", "identity": "deploy-helper"}, "deploy-helper"),
    ],
)
def test_the_plans_own_planner_cannot_approve_it(planner: dict[str, str], who: str) -> None:
    """machine-identity: a key named after the plan's planner backend or model is refused."""
    plan = _plan(planner=planner)
    key = KEYS["mallory"]
    trusted = {who: trusted_key(who, key, Path())}
    # sign() refuses these names for this plan; a forged record is refused when judged.
    with pytest.raises(InputError, match="planner"):
        sign(plan, identity=who, key=key, now=NOW, valid_for=HOUR)
    approval = forge_approval(plan, who, key, now=NOW)
    assert _verdict(approval, plan, trusted=trusted)[0] == "machine-identity"
    assert _verdict(approval, _plan(), trusted=trusted)[0] == "valid"


def test_an_approval_by_an_untrusted_name_is_unknown_key() -> None:
    """unknown-key: a signer with no trusted .pub here is not an approver."""
    plan = _plan()
    code, message = _verdict(_sign(plan, "mallory"), plan)
    assert code == "unknown-key"
    assert "not a trusted approver" in message
    assert "mallory.pub" in message


def test_an_approval_made_with_another_key_than_the_trusted_one_is_unknown_key() -> None:
    """unknown-key: a trusted name signing with a key that is not its trusted key."""
    plan = _plan()
    approval = sign(plan, identity="carol", key=KEYS["mallory"], now=NOW, valid_for=HOUR)
    code, message = _verdict(approval, plan)
    assert code == "unknown-key"
    assert "not carol's trusted key" in message


SIGNED_CHANGES: dict[str, st.SearchStrategy[Any]] = {
    "ticket": st.one_of(st.none(), st.text(max_size=20)),
    "comment": st.one_of(st.none(), st.text(max_size=40)),
    "expires_at": st.integers(1, 10**7).map(lambda s: NOW + timedelta(seconds=s)),
    "approved_at": st.integers(-(10**5), 200).map(lambda s: NOW + timedelta(seconds=s)),
    "identity": st.just("dave"),
    "plan_hash": st.binary(min_size=32, max_size=32).map(lambda b: "sha256:" + b.hex()),
}


@PROPERTY
@given(data=st.data(), field=st.sampled_from(sorted(SIGNED_CHANGES)))
def test_altering_any_signed_field_breaks_the_signature(data: st.DataObject, field: str) -> None:
    """bad-signature: a change to any signed field after signing is detected."""
    plan = _plan()
    original = _sign(plan, ticket="CHG-1", comment="ok", valid_for=timedelta(days=2))
    value = data.draw(SIGNED_CHANGES[field].filter(lambda v: v != getattr(original, field)))
    altered = original.model_copy(update={field: value})
    # dave trusts carol's key, and the plan hash judged is the altered one: only the
    # signature can tell the difference.
    same_key = {**TRUSTED, "dave": TRUSTED["carol"]}
    code, _ = _verdict(altered, plan, trusted=same_key, plan_hash=altered.plan_hash)
    assert code == "bad-signature"
    # Judged against the real plan and keys, it never counts either.
    assert _verdict(altered, plan)[0] != "valid"


def test_a_garbled_signature_is_bad_signature() -> None:
    """bad-signature: a signature that is not the key's, even well-formed, is refused."""
    plan = _plan()
    a = _sign(plan)
    other = _sign(_plan("other")).signature
    code, message = _verdict(a.model_copy(update={"signature": other}), plan)
    assert code == "bad-signature"
    assert "altered" in message


def test_an_approval_by_the_requester_is_self_approval() -> None:
    """self-approval: the requester's own signature never counts (separation of duties)."""
    plan = _plan()
    code, message = _verdict(forge_approval(plan, "alice", KEYS["alice"], now=NOW), plan)
    assert code == "self-approval"
    assert "requested this plan" in message


def test_self_approval_is_refused_whatever_the_case_of_the_requester() -> None:
    """A requester written 'Alice' is the approver 'alice': still self-approval."""
    plan = _plan(requested_by="Alice")
    forged = forge_approval(plan, "alice", KEYS["alice"], now=NOW)
    assert _verdict(forged, plan)[0] == "self-approval"


def test_an_approval_dated_in_the_future_is_not_yet_valid() -> None:
    """not-yet-valid: beyond a few minutes of clock skew, a future approval waits."""
    plan = _plan()
    ahead = _sign(plan, now=NOW + timedelta(minutes=10))
    code, message = _verdict(ahead, plan)
    assert code == "not-yet-valid"
    assert "future" in message
    assert _verdict(_sign(plan, now=NOW + timedelta(minutes=4)), plan)[0] == "valid"


def test_an_approval_past_its_expiry_is_expired() -> None:
    """expired: an approval counts until, not at, its expiry."""
    plan = _plan()
    a = _sign(plan, valid_for=HOUR)
    assert _verdict(a, plan, now=NOW + HOUR - timedelta(seconds=1))[0] == "valid"
    code, message = _verdict(a, plan, now=NOW + HOUR)
    assert code == "expired"
    assert "expired at" in message
    assert a.expires_at.isoformat() in message


def test_two_approvals_by_one_person_count_once() -> None:
    """duplicate: a person approving twice is one approver."""
    plan = _plan()
    first = _sign(plan)
    second = _sign(plan, now=NOW + timedelta(minutes=1))
    check = check_approvals(
        plan,
        trusted=TRUSTED,
        now=NOW + timedelta(minutes=2),
        approvals=[first, second, _sign(plan, "dave")],
    )
    assert [v.code for v in check.verdicts] == ["valid", "duplicate", "valid"]
    assert check.approvers == ("carol", "dave")
    assert [v.code for v in check.rejected] == ["duplicate"]


def test_an_invalid_approval_does_not_shadow_a_later_valid_one() -> None:
    """A person's expired approval followed by a fresh one still counts them."""
    plan = _plan()
    old = _sign(plan, now=NOW - 3 * HOUR, valid_for=HOUR)
    fresh = _sign(plan)
    check = check_approvals(plan, trusted=TRUSTED, now=NOW, approvals=[old, fresh])
    assert [v.code for v in check.verdicts] == ["expired", "valid"]
    assert check.approvers == ("carol",)


def test_check_approvals_reads_the_plans_own_approvals_and_tickets() -> None:
    """Without `approvals`, the plan's are judged; only valid approvals give a ticket."""
    plan = _plan()
    expired = _sign(plan, "dave", now=NOW - 3 * HOUR, ticket="CHG-OLD")
    good = _sign(plan, ticket="CHG-2")
    approved = plan.model_copy(update={"approvals": [expired, good]})
    check = check_approvals(approved, trusted=TRUSTED, now=NOW)
    assert check.approvers == ("carol",)
    assert check.tickets == ("CHG-2",)


# -- issue 17: one key one approver, names that only look alike, impossible validity -------


def test_one_key_trusted_under_two_names_counts_once() -> None:
    """duplicate: alice's key trusted as alice and as erin (as `keys import erin alice.pub`
    did) approves twice but is one approver; the second says whose key it is."""
    plan = _plan(requested_by="bob")
    trusted = {**TRUSTED, "erin": trusted_key("erin", KEYS["alice"])}
    as_alice = _sign(plan, "alice")
    as_erin = sign(plan, identity="erin", key=KEYS["alice"], now=NOW, valid_for=HOUR)
    check = check_approvals(plan, trusted=trusted, now=NOW, approvals=[as_alice, as_erin])
    assert [v.code for v in check.verdicts] == ["valid", "duplicate"]
    assert check.approvers == ("alice",)
    assert "erin's key" in check.verdicts[1].message
    assert "already approved as alice" in check.verdicts[1].message


@pytest.mark.parametrize("requester", ["Alice", "ALICE", "a1ice", "\uff41lice"])
def test_sign_refuses_a_requester_that_reads_as_the_approver(requester: str) -> None:
    """Separation of duties compares names as read: case, fullwidth, confusable digits."""
    plan = Plan.model_construct(**{**_plan().__dict__, "requested_by": requester})
    with pytest.raises(InputError, match="separation of duties"):
        _sign(plan, "alice")


@pytest.mark.parametrize(
    "requester", ["\u0430lice", "\uff41lice", "alice ", "alice\u200b", "alice\n", "ALICE"]
)
def test_self_approval_is_caught_through_look_alike_requesters(requester: str) -> None:
    """self-approval: a requester the plan model would refuse (a plan from an older journal,
    or built without validation) still cannot be approved by the person it imitates."""
    plan = Plan.model_construct(**{**_plan().__dict__, "requested_by": requester})
    code, message = _verdict(forge_approval(plan, "alice", KEYS["alice"], now=NOW), plan)
    assert code == "self-approval"
    assert f"alice requested this plan (as {requester!r})" in message


@pytest.mark.parametrize("identity", ["alice\n", "alice\u200b", "\u0430lice", "Alice"])
def test_an_approval_record_names_a_plain_approver(identity: str) -> None:
    """An approval whose identity is not a whole plain name is refused when read."""
    doc = _sign(_plan(), "carol").model_dump(mode="json")
    with pytest.raises(ValueError, match="not a valid approver name"):
        Approval.model_validate({**doc, "identity": identity})


@pytest.mark.parametrize(
    ("approved", "expires", "said"),
    [
        (datetime(2020, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC), "28855 days"),
        (NOW, NOW - HOUR, "none (it expires before it was made)"),
        (NOW, NOW, "none"),
        (NOW - timedelta(days=31), NOW + HOUR, "31 days"),
    ],
    ids=["2020-to-2099", "expires-before-made", "zero", "31-days"],
)
def test_an_approval_valid_for_no_time_or_too_long_is_bad_validity(
    approved: datetime, expires: datetime, said: str
) -> None:
    """bad-validity: a hand-signed approval must still be valid for more than 0 and at most
    30 days, as sign() makes them; otherwise it does not count, however well signed."""
    plan = _plan()
    forged = forge_approval(
        plan, "carol", KEYS["carol"], now=approved, valid_for=expires - approved
    )
    code, message = _verdict(forged, plan)
    assert code == "bad-validity"
    assert f"claims a validity of {said}" in message
    assert "at most 30 days" in message


def test_thirty_days_of_validity_is_still_valid() -> None:
    """The limit itself is allowed: exactly 30 days."""
    plan = _plan()
    forged = forge_approval(plan, "carol", KEYS["carol"], now=NOW, valid_for=timedelta(days=30))
    assert _verdict(forged, plan)[0] == "valid"
