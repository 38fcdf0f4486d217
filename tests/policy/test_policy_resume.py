"""`planactor.policy.reauthorize`: the authorization a resume runs under, judged again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from approver_keys import KEYS, trust_store
from planactor import ApprovalRequired, Catalog, Plan, actor, entity
from planactor.actors.core import echo
from planactor.policy import PolicyDoc, RulePolicy, reauthorize, sign

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


class HostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = entity("host")


class Done(BaseModel):
    ok: bool = True


@actor(name="ops.tune", effect="write", compensate="ops.tune")
def tune(args: HostIn) -> Done:
    """Tune a host (and back)."""
    return Done()


CATALOG = Catalog([echo, tune], pack="ops")
POLICY = RulePolicy(doc=PolicyDoc.model_validate({"version": 1, "name": "t", "rules": []}))
PLAN = Plan.model_validate(
    {
        "api_version": "planactor/v1",
        "intent": "tune",
        "requested_by": "alice",
        "steps": [{"id": "t", "actor": "ops.tune", "args": {"host": "h1"}}],
    }
)


def _recorded(
    *approvers: str, at: datetime = NOW, valid_for: timedelta = 4 * HOUR
) -> dict[str, Any]:
    approvals = [
        sign(PLAN, identity=a, key=KEYS[a], now=at, valid_for=valid_for).model_dump(mode="json")
        for a in approvers
    ]
    return {
        "checked_at": at.isoformat(timespec="seconds"),
        "approvals": [{**a, "verdict": "valid"} for a in approvals],
    }


def _reauthorize(recorded: dict[str, Any] | None, *, now: datetime = NOW, **kw: Any) -> Any:
    return reauthorize(
        PLAN,
        run_id="r1",
        plan_hash=PLAN.hash,
        recorded=recorded,
        dry_run=kw.pop("dry_run", False),
        catalog=CATALOG,
        policy=kw.pop("policy", POLICY),
        trusted=kw.pop("trusted", trust_store("carol", "dave")),
        now=now,
    )


def test_a_dry_run_needs_no_authorization() -> None:
    """A dry run changes nothing: no authorization is needed or returned."""
    assert _reauthorize(None, dry_run=True) is None


def test_writes_without_a_recorded_authorization_are_refused() -> None:
    """A run with write steps and no authorization in its record was never approved: exit 3."""
    with pytest.raises(ApprovalRequired, match="no recorded authorization") as info:
        _reauthorize(None)
    assert info.value.exit_code == 3


def test_a_valid_recorded_approval_is_accepted_and_re_verified() -> None:
    """A real approval of this plan by a trusted approver lets the resume go on."""
    auth = _reauthorize(_recorded("carol"), now=NOW + HOUR)
    assert auth is not None
    assert auth.approvals.approvers == ("carol",)


def test_approvals_are_judged_when_the_run_was_authorized() -> None:
    """A run authorized while its approval was valid may resume after the approval lapsed."""
    auth = _reauthorize(_recorded("carol"), now=NOW + 2 * 24 * HOUR)
    assert auth is not None


def test_a_key_no_longer_trusted_stops_the_resume() -> None:
    """An approver whose key was removed from the trust store since no longer counts."""
    with pytest.raises(ApprovalRequired, match="may not resume run r1"):
        _reauthorize(_recorded("carol"), trusted=trust_store("dave"))


def test_an_authorization_claimed_in_the_future_is_refused() -> None:
    """A forged record may not date the check after now to stretch an approval's validity."""
    with pytest.raises(ApprovalRequired, match="after now"):
        _reauthorize(_recorded("carol", at=NOW + 24 * HOUR), now=NOW)


def test_an_unreadable_record_is_refused_not_a_traceback() -> None:
    """Approvals that are not approvals, or a missing check time, are refusals (exit 3)."""
    with pytest.raises(ApprovalRequired, match="cannot be read"):
        _reauthorize({"checked_at": NOW.isoformat(), "approvals": [{"identity": "carol"}]})
    with pytest.raises(ApprovalRequired, match="checked_at"):
        _reauthorize({"approvals": []})
    with pytest.raises(ApprovalRequired, match="not a list"):
        _reauthorize({"checked_at": NOW.isoformat(), "approvals": "carol"})
