"""`planactor.policy` rules: matching, blast radius, requirements, windows, static checks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError

from planactor import Catalog, Plan, actor, entity, validate
from planactor.policy import (
    Match,
    PolicyDoc,
    PublicKey,
    Requirement,
    Rule,
    RulePolicy,
    Window,
    blast_radius,
    check_approvals,
    key_id_of,
    parse_policy,
    sign,
)

PROPERTY = settings(max_examples=200, deadline=None)
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# -- a small catalog with entity fields -----------------------------------------------------


class VolumeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    array: str = entity("array")
    volume: str


class VolumeOut(BaseModel):
    array: str
    volume: str


class HostsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hosts: list[str] = entity("host")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


class Done(BaseModel):
    ok: bool = True


@actor(name="store.inspect", effect="read", tags=["storage"])
def inspect(args: VolumeIn) -> VolumeOut:
    """Read a volume."""
    return VolumeOut(array=args.array, volume=args.volume)


@actor(name="store.resize", effect="write", compensate="store.resize", tags=["storage"])
def resize(args: VolumeIn) -> Done:
    """Resize a volume (and back)."""
    return Done()


@actor(name="store.wipe", effect="write", irreversible=True, tags=["storage", "destructive"])
def wipe(args: VolumeIn) -> Done:
    """Erase a volume for good."""
    return Done()


@actor(name="net.patch", effect="write", irreversible=True, tags=["network"])
def patch(args: HostsIn) -> Done:
    """Patch hosts."""
    return Done()


@actor(name="desk.note", effect="write", compensate="desk.note")
def note(args: NoteIn) -> Done:
    """Write a note (no entity argument)."""
    return Done()


ACTORS = [inspect, resize, wipe, patch, note]
CATALOG = Catalog(ACTORS, pack="lab")


def _step(sid: str, actor_name: str, **args: Any) -> dict[str, Any]:
    return {"id": sid, "actor": actor_name, "args": args}


def _plan(*steps: dict[str, Any], ticket: str | None = None) -> Plan:
    doc: dict[str, Any] = {
        "api_version": "planactor/v1",
        "intent": "change things",
        "requested_by": "alice",
        "steps": list(steps),
    }
    if ticket is not None:
        doc["change_ticket"] = ticket
    return Plan.model_validate(doc)


EVERY_KIND = _plan(
    _step("look", "store.inspect", array="a1", volume="v1"),
    _step("grow", "store.resize", array="a1", volume="v1"),
    _step("erase", "store.wipe", array="a2", volume="v9"),
    _step("fix", "net.patch", hosts=["h1", "h2"]),
    _step("jot", "desk.note", text="done"),
)


def _policy(*rules: dict[str, Any], **top: Any) -> RulePolicy:
    doc = PolicyDoc.model_validate({"name": "test", "rules": list(rules), **top})
    return RulePolicy(doc=doc, source="test")


def _rule(name: str = "r", require: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"rule {name}",
        "require": require or {"ticket": True},
        **fields,
    }


# -- matching -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("match", "steps"),
    [
        ({}, ("look", "grow", "erase", "fix", "jot")),
        ({"actor": "store.*"}, ("look", "grow", "erase")),
        ({"actor": "Store.*"}, ()),
        ({"actor": ["net.*", "store.wipe"]}, ("erase", "fix")),
        ({"actor": "*.note"}, ("jot",)),
        ({"pack": "lab"}, ("look", "grow", "erase", "fix", "jot")),
        ({"pack": ["core", "graph"]}, ()),
        ({"effect": "read"}, ("look",)),
        ({"effect": "write"}, ("grow", "erase", "fix", "jot")),
        ({"irreversible": True}, ("erase", "fix")),
        ({"irreversible": False}, ("look", "grow", "jot")),
        ({"tags": "storage"}, ("look", "grow", "erase")),
        ({"tags": ["destructive", "network"]}, ("erase", "fix")),
        ({"tags": "nothing-has-this"}, ()),
        ({"effect": "write", "tags": "storage"}, ("grow", "erase")),
        ({"actor": "store.*", "irreversible": False, "effect": "write"}, ("grow",)),
    ],
)
def test_a_rule_matches_steps_by_actor_pack_effect_irreversibility_and_tags(
    match: dict[str, Any], steps: tuple[str, ...]
) -> None:
    """Every field of `match` must hold; a list means any of; a glob matches actor names."""
    report = _policy(_rule(match=match)).evaluate(EVERY_KIND, catalog=CATALOG)
    (outcome,) = report.outcomes
    assert outcome.steps == steps
    assert outcome.applies == bool(steps)
    if not steps:
        assert outcome.why.startswith("no step matches")


def test_pack_matching_follows_the_catalog_the_actor_came_from() -> None:
    """The same actor matches `pack: lab` only where it was loaded as pack lab."""
    policy = _policy(_rule(match={"pack": "lab"}))
    other = Catalog(ACTORS, pack="other")
    assert policy.evaluate(EVERY_KIND, catalog=CATALOG).outcomes[0].applies
    assert not policy.evaluate(EVERY_KIND, catalog=other).outcomes[0].applies


def test_match_describes_itself_for_explanations() -> None:
    """describe() says in words what a rule is about."""
    assert Match().describe() == "any step"
    text = Match(effect="write", irreversible=True, actor="store.*", tags=["a", "b"]).describe()
    assert text == "write; irreversible; actor store.*; tagged a or b"


# -- blast radius ---------------------------------------------------------------------------


def _targets(*steps: dict[str, Any]) -> set[str]:
    return blast_radius(_plan(*steps).steps, CATALOG)


def test_blast_radius_counts_distinct_entities_written() -> None:
    """Two writes to one array are one target; writes to two arrays are two."""
    same = _targets(
        _step("a", "store.resize", array="a1", volume="v1"),
        _step("b", "store.wipe", array="a1", volume="v2"),
    )
    assert same == {"array:a1"}
    two = _targets(
        _step("a", "store.resize", array="a1", volume="v1"),
        _step("b", "store.resize", array="a2", volume="v1"),
    )
    assert two == {"array:a1", "array:a2"}


def test_blast_radius_counts_each_entity_of_a_list() -> None:
    """A list of hosts is that many targets; overlapping lists are counted once."""
    targets = _targets(
        _step("a", "net.patch", hosts=["h1", "h2", "h3"]),
        _step("b", "net.patch", hosts=["h3", "h4"]),
    )
    assert targets == {"host:h1", "host:h2", "host:h3", "host:h4"}


def test_blast_radius_keeps_entity_kinds_apart() -> None:
    """An array and a host with the same name are two targets."""
    targets = _targets(
        _step("a", "store.resize", array="x", volume="v"), _step("b", "net.patch", hosts=["x"])
    )
    assert targets == {"array:x", "host:x"}


def test_blast_radius_ignores_reads() -> None:
    """Reads change nothing: they are no target."""
    assert _targets(_step("a", "store.inspect", array="a1", volume="v")) == set()


def test_blast_radius_counts_a_reference_once_per_step() -> None:
    """An entity known only at run time counts as its own target in each step."""
    ref = {"$ref": "look.output.array"}
    targets = _targets(
        _step("look", "store.inspect", array="a1", volume="v"),
        _step("a", "store.resize", array=ref, volume="v"),
        _step("b", "store.wipe", array=ref, volume="v"),
        _step("c", "net.patch", hosts=["h1", {"$ref": "look.output.array"}]),
    )
    assert targets == {"array:?a.array", "array:?b.array", "host:h1", "host:?c.hosts[1]"}


def test_blast_radius_counts_each_write_without_entity_arguments() -> None:
    """A write naming no entity is a target of its own: three notes are three targets."""
    targets = _targets(*(_step(f"n{i}", "desk.note", text="same") for i in range(3)))
    assert targets == {"step:n0", "step:n1", "step:n2"}


def test_a_blast_radius_rule_applies_only_above_its_limit() -> None:
    """`when: blast_radius_over: N` applies to more than N distinct targets, not N."""
    rule = _rule(match={"effect": "write"}, when={"blast_radius_over": 3}, require={"approvers": 2})
    policy = _policy(rule)
    three = _plan(_step("a", "net.patch", hosts=["h1", "h2", "h3"]))
    four = _plan(_step("a", "net.patch", hosts=["h1", "h2", "h3", "h4"]))
    below = policy.evaluate(three, catalog=CATALOG)
    assert not below.outcomes[0].applies
    assert "3 target(s), not more than 3" in below.outcomes[0].why
    assert below.approvers_required == 1
    above = policy.evaluate(four, catalog=CATALOG)
    assert above.outcomes[0].applies
    assert "4 targets (more than 3)" in above.outcomes[0].why
    assert above.approvers_required == 2


def test_wide_changes_need_two_approvers_under_the_default_policy() -> None:
    """The shipped default asks two approvers for writes to more than 10 hosts."""
    from planactor.policy import load_policy

    policy = load_policy()
    ten = _plan(_step("a", "net.patch", hosts=[f"h{i}" for i in range(10)]), ticket="CHG-1")
    eleven = _plan(_step("a", "net.patch", hosts=[f"h{i}" for i in range(11)]), ticket="CHG-1")
    assert policy.evaluate(ten, catalog=CATALOG).approvers_required == 1
    report = policy.evaluate(eleven, catalog=CATALOG)
    assert report.approvers_required == 2
    assert "wide-changes-need-two-approvers" in report.approvers_reason


# -- approvers and tickets ------------------------------------------------------------------


def test_an_approvers_rule_raises_the_count_but_never_lowers_it() -> None:
    """The largest requirement of the rules that apply wins, with its reason."""
    writes = _plan(_step("a", "desk.note", text="x"))
    policy = _policy(
        _rule("three", match={"effect": "write"}, require={"approvers": 3}),
        _rule("one", match={"effect": "write"}, require={"approvers": 1}),
        _rule("unused", match={"actor": "net.*"}, require={"approvers": 5}),
        approvals={"writes": 2},
    )
    report = policy.evaluate(writes, catalog=CATALOG)
    assert report.approvers_required == 3
    assert report.approvers_reason == "rule three: rule three"
    low = _policy(
        _rule("one", match={"effect": "write"}, require={"approvers": 1}), approvals={"writes": 2}
    )
    report = low.evaluate(writes, catalog=CATALOG)
    assert report.approvers_required == 2
    assert "plans with write steps need 2" in report.approvers_reason


def test_read_only_plans_use_the_reads_count() -> None:
    """A plan with no write step needs `approvals.reads` approvers (0 by default; `novel: 0`
    here, since a hand-written plan is novel and novel plans have their own count)."""
    reads = _plan(_step("a", "store.inspect", array="a1", volume="v"))
    assert _policy(approvals={"novel": 0}).evaluate(reads, catalog=CATALOG).approvers_required == 0
    report = _policy(approvals={"reads": 1}).evaluate(reads, catalog=CATALOG)
    assert (report.writes, report.approvers_required) == (False, 1)
    assert "read-only plans need 1" in report.approvers_reason


def test_statically_time_and_approver_requirements_wait_for_the_run() -> None:
    """Without approvals and a clock, approver counts and windows are `at-run`."""
    policy = _policy(
        _rule(
            match={"effect": "write"},
            require={"approvers": 2, "window": {"start": "22:00", "end": "04:00"}},
        )
    )
    report = policy.evaluate(EVERY_KIND, catalog=CATALOG)
    assert [(r.kind, r.status) for r in report.outcomes[0].requirements] == [
        ("approvers", "at-run"),
        ("window", "at-run"),
    ]
    assert report.unmet == ()


KEY = Ed25519PrivateKey.generate()
TRUSTED = {
    "carol": PublicKey(
        identity="carol", key_id=key_id_of(KEY.public_key()), key=KEY.public_key(), path=Path()
    )
}


def _approved(plan: Plan, *, now: datetime = NOW, ticket: str | None = None) -> Plan:
    a = sign(plan, identity="carol", key=KEY, now=now, valid_for=timedelta(hours=1), ticket=ticket)
    return plan.model_copy(update={"approvals": [a]})


def test_approvers_are_counted_when_approvals_are_given() -> None:
    """With approvals judged, an approvers requirement is met or unmet, naming who."""
    policy = _policy(_rule(match={"effect": "write"}, require={"approvers": 1}))
    plan = _approved(EVERY_KIND)
    met = policy.evaluate(
        plan, catalog=CATALOG, approvals=check_approvals(plan, trusted=TRUSTED, now=NOW), now=NOW
    )
    (req,) = met.outcomes[0].requirements
    assert (req.status, req.detail) == ("met", "1 valid: carol")
    late = NOW + timedelta(hours=2)
    unmet = policy.evaluate(
        plan, catalog=CATALOG, approvals=check_approvals(plan, trusted=TRUSTED, now=late), now=late
    )
    (req,) = unmet.outcomes[0].requirements
    assert (req.status, req.detail) == ("unmet", "0 valid: none")


def test_a_ticket_is_met_by_the_plans_change_ticket() -> None:
    """`ticket: true` is met by the plan's change_ticket."""
    policy = _policy(_rule(match={"irreversible": True}))
    without = policy.evaluate(EVERY_KIND, catalog=CATALOG)
    assert [r.status for o, r in without.unmet] == ["unmet"]
    assert without.ticket is None
    with_ticket = _plan(*(s.to_document() for s in EVERY_KIND.steps), ticket="CHG-42")
    report = policy.evaluate(with_ticket, catalog=CATALOG)
    assert report.unmet == ()
    assert report.ticket == "CHG-42"
    assert report.outcomes[0].requirements[0].detail == "ticket CHG-42"


def test_a_ticket_is_met_by_a_valid_approvals_ticket_only() -> None:
    """An approval's --ticket counts while the approval is valid, not after it expires."""
    policy = _policy(_rule(match={"irreversible": True}))
    plan = _approved(EVERY_KIND, ticket="CHG-9")
    valid = check_approvals(plan, trusted=TRUSTED, now=NOW)
    report = policy.evaluate(plan, catalog=CATALOG, approvals=valid, now=NOW)
    assert report.ticket == "CHG-9"
    assert report.unmet == ()
    late = NOW + timedelta(hours=2)
    expired = check_approvals(plan, trusted=TRUSTED, now=late)
    report = policy.evaluate(plan, catalog=CATALOG, approvals=expired, now=late)
    assert report.ticket is None
    assert len(report.unmet) == 1


# -- static findings (the validator's policy hook) ------------------------------------------


def test_a_deny_rule_is_a_validation_error_at_the_first_matching_step() -> None:
    """deny → `policy-denied` error located at the first step the rule matches."""
    policy = _policy(
        _rule("no-wipes", match={"actor": "store.wipe"}, require={"deny": "wiping is done by hand"})
    )
    report = validate(EVERY_KIND, catalog=CATALOG, policy=policy)
    assert not report.ok
    (problem,) = report.errors
    assert problem.code == "policy-denied"
    assert problem.location == "steps[2]"
    assert problem.step == "erase"
    assert "no-wipes" in problem.message
    assert "wiping is done by hand" in problem.message
    assert problem.hint is not None
    assert "erase" in problem.hint


def test_a_deny_rule_that_matches_nothing_is_silent() -> None:
    """A plan without the denied steps validates cleanly."""
    policy = _policy(_rule(match={"actor": "store.wipe"}, require={"deny": "no"}))
    plan = _plan(_step("a", "desk.note", text="x"))
    assert validate(plan, catalog=CATALOG, policy=policy).problems == ()


def test_a_missing_ticket_is_a_warning_not_an_error() -> None:
    """ticket missing → `policy-ticket` warning: an approval may still bring one."""
    policy = _policy(_rule("ticket-please", match={"irreversible": True}))
    report = validate(EVERY_KIND, catalog=CATALOG, policy=policy)
    assert report.ok
    (warning,) = report.warnings
    assert (warning.code, warning.location, warning.step) == (
        "policy-ticket",
        "change_ticket",
        "erase",
    )
    assert "ticket-please" in warning.message
    with_ticket = _plan(*(s.to_document() for s in EVERY_KIND.steps), ticket="CHG-1")
    assert validate(with_ticket, catalog=CATALOG, policy=policy).problems == ()


def test_time_and_approver_rules_add_no_static_problem() -> None:
    """Windows and approver counts are judged when the run starts, not by the validator."""
    policy = _policy(
        _rule(
            match={"effect": "write"},
            require={"approvers": 3, "window": {"start": "22:00", "end": "04:00"}},
        )
    )
    assert validate(EVERY_KIND, catalog=CATALOG, policy=policy).problems == ()


def test_policy_hash_changes_with_the_document_only() -> None:
    """The policy hash, recorded with each run, identifies the rules in force."""
    a = _policy(_rule())
    assert a.hash == _policy(_rule()).hash
    assert a.hash != _policy(_rule(require={"approvers": 2})).hash
    assert a.hash.startswith("sha256:")


# -- model checks ---------------------------------------------------------------------------


def test_a_requirement_must_require_something() -> None:
    """A rule that requires nothing is a mistake, refused."""
    with pytest.raises(ValidationError, match="must require something"):
        Requirement()


@pytest.mark.parametrize("name", ["Bad", "has space", "-x", ""])
def test_a_rule_name_is_a_slug(name: str) -> None:
    """Rule names are lower-case slugs, so messages can name them."""
    with pytest.raises(ValidationError):
        Rule.model_validate(_rule(name))


# -- windows --------------------------------------------------------------------------------


def _at(day: int, hh: int, mm: int = 0, tz: str = "UTC") -> datetime:
    """Moment on 2026-11-(23+day) (23 is a Monday) at hh:mm in `tz`."""
    return datetime(2026, 11, 23 + day, hh, mm, tzinfo=ZoneInfo(tz))


def test_a_window_within_a_day() -> None:
    """09:00-17:00 on weekdays: open from start, closed at end, closed at weekends."""
    w = Window(days=["mon", "tue", "wed", "thu", "fri"], start=time(9), end=time(17))
    assert w.contains(_at(1, 9))
    assert w.contains(_at(1, 16, 59))
    assert not w.contains(_at(1, 17))
    assert not w.contains(_at(1, 8, 59))
    assert not w.contains(_at(5, 12))  # Saturday


def test_a_window_crossing_midnight_closes_the_next_day() -> None:
    """fri 22:00-04:00 is open Friday night and early Saturday, not Saturday night."""
    w = Window(days=["fri"], start=time(22), end=time(4))
    assert not w.contains(_at(4, 21, 59))
    assert w.contains(_at(4, 22))
    assert w.contains(_at(4, 23, 59))
    assert w.contains(_at(5, 0))
    assert w.contains(_at(5, 3, 59))
    assert not w.contains(_at(5, 4))
    assert not w.contains(_at(5, 22, 30))  # Saturday is not listed
    assert not w.contains(_at(3, 1))  # Friday early morning belongs to Thursday


def test_a_window_is_read_in_its_own_time_zone() -> None:
    """A Paris window is open at 22:30 Paris time, which is 21:30 UTC in winter."""
    w = Window(days=["tue"], start=time(22), end=time(23), timezone="Europe/Paris")
    assert w.contains(datetime(2026, 11, 24, 21, 30, tzinfo=UTC))
    assert not w.contains(datetime(2026, 11, 24, 22, 30, tzinfo=UTC))
    # The weekday is Paris's too: Tuesday 23:30 UTC is already Wednesday in Paris.
    late = Window(days=["wed"], start=time(0), end=time(1), timezone="Europe/Paris")
    assert late.contains(datetime(2026, 11, 24, 23, 30, tzinfo=UTC))


def test_next_opening_is_the_next_start_on_a_listed_day() -> None:
    """Closed on Tuesday, a sat/sun 22:00 window next opens on Saturday at 22:00."""
    w = Window(days=["sat", "sun"], start=time(22), end=time(4))
    assert w.next_opening(_at(1, 12)) == datetime(2026, 11, 28, 22, 0, tzinfo=ZoneInfo("UTC"))
    # Sunday 04:30, just closed: next is Sunday 22:00.
    assert w.next_opening(_at(6, 4, 30)) == datetime(2026, 11, 29, 22, 0, tzinfo=ZoneInfo("UTC"))
    # Saturday 22:00 exactly is open, so the next opening is the next day's.
    assert w.next_opening(_at(5, 22)) == datetime(2026, 11, 29, 22, 0, tzinfo=ZoneInfo("UTC"))


def test_next_opening_of_a_weekly_window_can_be_a_week_ahead() -> None:
    """A Tuesday-only window, just after it opened, next opens a week later."""
    w = Window(days=["tue"], start=time(9), end=time(10))
    assert w.next_opening(_at(1, 9, 30)) == datetime(2026, 12, 1, 9, tzinfo=ZoneInfo("UTC"))


def test_days_are_normalised_and_checked() -> None:
    """Day names are read case-insensitively and by their first three letters."""
    assert Window(days=["Saturday", "SUN"], start=time(1), end=time(2)).days == ["sat", "sun"]
    assert Window(days="fri", start=time(1), end=time(2)).days == ["fri"]
    with pytest.raises(ValidationError):
        Window(days=["someday"], start=time(1), end=time(2))
    with pytest.raises(ValidationError):
        Window(days=[], start=time(1), end=time(2))


def test_an_empty_window_is_refused() -> None:
    """start equal to end would never be open: refused."""
    with pytest.raises(ValidationError, match="equal"):
        Window(start=time(4), end=time(4))


def _window_policy(start: str, end: str) -> Window:
    policy = parse_policy(
        "version: 1\nname: w\nrules:\n  - name: in-window\n    description: d\n"
        f"    require: {{window: {{start: {start}, end: {end}}}}}\n",
        source="w.yaml",
    )
    window = policy.doc.rules[0].require.window
    assert window is not None
    return window


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("22:00", "04:00", (time(22), time(4))),
        ("'22:00'", "'04:00'", (time(22), time(4))),
        ("9:30", "17:45", (time(9, 30), time(17, 45))),
        ('"09:30"', "00:15", (time(9, 30), time(0, 15))),
    ],
)
def test_unquoted_yaml_times_are_read_as_times(
    start: str, end: str, expected: tuple[time, time]
) -> None:
    """YAML 1.1 reads unquoted 22:00 as the number 1320; the policy reads it as 22:00."""
    window = _window_policy(start, end)
    assert (window.start, window.end) == expected


def test_an_unquoted_time_with_seconds_is_a_plain_time() -> None:
    """start: 22:00:00 (unquoted) means 22:00, and the window works with it."""
    window = _window_policy("22:00:00", "'04:00'")
    assert window.contains(_at(1, 23))
    assert not window.contains(_at(1, 12))


def _brute_force_open(w: Window, moment: datetime) -> bool:
    """Open iff the local wall-clock minute lies within a listed day's start..end span."""
    local = moment.astimezone(ZoneInfo(w.timezone))
    start = w.start.hour * 60 + w.start.minute
    end = w.end.hour * 60 + w.end.minute
    length = (end - start) % (24 * 60)
    here = (local.weekday(), local.hour * 60 + local.minute)
    for day in w.days:
        d = DAYS.index(day)
        for k in range(length):
            minute = start + k
            if ((d + minute // 1440) % 7, minute % 1440) == here:
                return True
    return False


ZONES = [
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
]
minutes = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@st.composite
def _windows(draw: st.DrawFn) -> Window:
    start = draw(minutes)
    end = draw(minutes.filter(lambda t: t != start))
    return Window(
        days=draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True)),
        start=start,
        end=end,
        timezone=draw(st.sampled_from(ZONES)),
    )


@PROPERTY
@given(window=_windows(), moment=moments)
def test_window_contains_agrees_with_a_minute_by_minute_definition(
    window: Window, moment: datetime
) -> None:
    """contains() is exactly the set of wall-clock minutes from each listed day's start."""
    assert window.contains(moment) == _brute_force_open(window, moment)


@PROPERTY
@given(window=_windows(), moment=moments)
def test_next_opening_is_a_start_on_a_listed_day_within_a_week(
    window: Window, moment: datetime
) -> None:
    """next_opening() is later than the moment, at most a week on, at a listed day's start."""
    opening = window.next_opening(moment)
    # A week of wall-clock time, plus at most an hour of daylight saving time.
    assert moment < opening <= moment + timedelta(days=7, hours=1)
    assert opening.tzinfo == ZoneInfo(window.timezone)
    assert DAYS[opening.weekday()] in window.days
    assert opening.time() == window.start
