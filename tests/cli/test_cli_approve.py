"""`planactor keys ...`, `planactor approve`, and `run` refusing plans not validly approved."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from clitools import approve, echo_plan, ledger_write, new_keys, run, write_plan
from forgery import forge_approval
from planactor import Plan, save_plan
from planactor.journal import Journal
from planactor.plan import Approval
from planactor.policy import KeyStore, load_policy, sign


def _writes(tmp_path: Path, name: str = "plan.json", item: str = "a", **extra: Any) -> Path:
    """A plan of one write to a ledger (testing.ledger_write) in tmp_path."""
    step = ledger_write(tmp_path / "ledger.jsonl", item=item)
    return write_plan(tmp_path, [step], name, **extra)


def _load(path: Path) -> Plan:
    return Plan.model_validate_json(path.read_text())


def _approvals(path: Path) -> list[Approval]:
    return _load(path).approvals


# -- keys -----------------------------------------------------------------------------------


def test_keys_new_creates_a_key_pair_under_home(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    """`keys new --name alice` writes alice.key (0600) and alice.pub and prints the key id."""
    code, out, _ = run(capsys, "keys", "new", "--name", "alice")
    assert code == 0
    key_id = KeyStore().trusted()["alice"].key_id
    assert key_id in out
    assert stat.S_IMODE((home / "keys" / "alice.key").stat().st_mode) == 0o600
    assert (home / "keys" / "alice.pub").exists()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("planner", "reserved for machines"),
        ("llm-x", "reserved for machines"),
        ("ai", "reserved for machines"),
        ("bot", "reserved for machines"),
        ("Alice", "not a valid approver name"),
    ],
)
def test_keys_new_refuses_machine_and_bad_names(
    capsys: pytest.CaptureFixture[str], home: Path, name: str, reason: str
) -> None:
    """Machine names and malformed names exit 2 with the reason, creating nothing."""
    code, _, err = run(capsys, "keys", "new", "--name", name)
    assert code == 2
    assert reason in err
    assert "Traceback" not in err
    assert not (home / "keys").exists()


def test_keys_new_refuses_to_overwrite(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    """Creating a key twice under one name exits 2 and keeps the first key."""
    new_keys(capsys, "carol")
    before = (home / "keys" / "carol.key").read_bytes()
    code, _, err = run(capsys, "keys", "new", "--name", "carol")
    assert code == 2
    assert "already exists" in err
    assert (home / "keys" / "carol.key").read_bytes() == before


def test_keys_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`keys list --json` lists every trusted approver, its key id and whether we hold it."""
    code, out, _ = run(capsys, "keys", "list", "--json")
    assert (code, json.loads(out)) == (0, [])
    code, out, _ = run(capsys, "keys", "list")
    assert "no trusted approvers" in out
    assert "keys new" in out
    new_keys(capsys, "carol", "bob")
    code, out, _ = run(capsys, "keys", "list", "--json")
    trusted = KeyStore().trusted()
    assert json.loads(out) == [
        {"identity": n, "key_id": trusted[n].key_id, "private_key_here": True}
        for n in ("bob", "carol")
    ]
    code, out, _ = run(capsys, "keys", "list")
    assert code == 0
    assert "carol" in out
    assert "bob" in out


def test_keys_export_and_import_round_trip(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key exported on one machine and imported on another is trusted with the same id."""
    new_keys(capsys, "carol")
    code, pem, _ = run(capsys, "keys", "export", "carol")
    assert code == 0
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    key_id = KeyStore().trusted()["carol"].key_id
    exported = tmp_path / "carol.pem"
    exported.write_text(pem)
    monkeypatch.setenv("PLANACTOR_HOME", str(tmp_path / "runner"))
    code, out, _ = run(capsys, "keys", "import", "carol", str(exported))
    assert code == 0
    assert key_id in out
    code, out, _ = run(capsys, "keys", "list", "--json")
    assert json.loads(out) == [{"identity": "carol", "key_id": key_id, "private_key_here": False}]


def test_keys_import_refuses_another_key_under_a_trusted_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """Importing a different key as an already trusted name exits 2 and keeps the old one."""
    new_keys(capsys, "carol")
    before = (home / "keys" / "carol.pub").read_bytes()
    other = KeyStore(directory=tmp_path / "other").new("carol")
    code, _, err = run(capsys, "keys", "import", "carol", str(other.path))
    assert code == 2
    assert "already trusted with a different key" in err
    assert (home / "keys" / "carol.pub").read_bytes() == before


def test_keys_import_and_export_refuse_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Garbage to import or an unknown name to export exits 2 without a traceback."""
    junk = tmp_path / "junk.pub"
    junk.write_text("hello")
    code, _, err = run(capsys, "keys", "import", "dave", str(junk))
    assert code == 2
    assert "not a PEM public key" in err
    code, _, err = run(capsys, "keys", "export", "nobody")
    assert code == 2
    assert "no trusted key named 'nobody'" in err


def test_keys_import_refuses_a_trusted_key_under_another_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """`keys import erin alice.pub` (issue 17 item 2): one key would be two approvers; exit 2."""
    new_keys(capsys, "alice")
    code, pem, _ = run(capsys, "keys", "export", "alice")
    exported = tmp_path / "alice.pub"
    exported.write_text(pem)
    code, _, err = run(capsys, "keys", "import", "erin", str(exported))
    assert code == 2
    assert f"{exported} holds the key already trusted as 'alice'" in err
    assert "one key is one approver" in err
    assert not (home / "keys" / "erin.pub").exists()


@pytest.mark.parametrize("name", ["alice\n", "alice\u200b", "\u0430lice", "\uff41lice"])
def test_keys_new_refuses_a_name_that_only_reads_as_one(
    capsys: pytest.CaptureFixture[str], home: Path, name: str
) -> None:
    """`keys new --name $'alice\\n'` (issue 17 item 3) and other look-alikes: exit 2."""
    code, _, err = run(capsys, "keys", "new", "--name", name)
    assert code == 2
    assert "not a valid approver name" in err
    assert "plain ASCII" in err
    assert not (home / "keys").exists()


# -- approve --------------------------------------------------------------------------------


@pytest.mark.usefixtures("testing_pack")
def test_approve_writes_the_approval_into_the_plan_in_place(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The signed approval is added to the plan file; the plan hash does not change."""
    plan = _writes(tmp_path)
    before = _load(plan).hash
    new_keys(capsys, "carol")
    out = approve(capsys, plan, "carol", "--ticket", "CHG-123", "--comment", "checked the ledger")
    assert f"approved {before} as carol" in out
    assert "(ticket CHG-123)" in out
    (a,) = _approvals(plan)
    assert (a.identity, a.plan_hash, a.ticket, a.comment) == (
        "carol",
        before,
        "CHG-123",
        "checked the ledger",
    )
    assert a.key_id == KeyStore().trusted()["carol"].key_id
    assert _load(plan).hash == before


@pytest.mark.usefixtures("testing_pack")
def test_approve_with_output_leaves_the_original_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`-o FILE` writes the approved plan there; the input file is untouched."""
    plan = _writes(tmp_path)
    original = plan.read_bytes()
    new_keys(capsys, "carol")
    out = approve(capsys, plan, "carol", "-o", str(tmp_path / "approved.json"))
    assert "approved.json (1 approval(s))" in out
    assert plan.read_bytes() == original
    assert [a.identity for a in _approvals(tmp_path / "approved.json")] == ["carol"]


@pytest.mark.usefixtures("testing_pack")
def test_approving_again_replaces_the_same_persons_approval(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A second approval by one person replaces the first; other people's stay."""
    plan = _writes(tmp_path)
    new_keys(capsys, "carol", "dave")
    approve(capsys, plan, "carol", "--ticket", "CHG-1")
    approve(capsys, plan, "dave")
    approve(capsys, plan, "carol", "--ticket", "CHG-2")
    approvals = _approvals(plan)
    assert [(a.identity, a.ticket) for a in approvals] == [("dave", None), ("carol", "CHG-2")]


@pytest.mark.usefixtures("testing_pack")
def test_approve_refuses_the_requester(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The plan's requester cannot approve it: exit 2, and the file is unchanged."""
    plan = _writes(tmp_path)
    original = plan.read_bytes()
    new_keys(capsys, "alice")
    code, _, err = run(capsys, "approve", str(plan), "--as", "alice")
    assert code == 2
    assert "separation of duties" in err
    assert plan.read_bytes() == original


def test_approve_without_a_key_says_how_to_make_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Approving as someone with no private key here exits 2, pointing at `keys new`."""
    code, _, err = run(capsys, "approve", str(echo_plan(tmp_path)), "--as", "carol")
    assert code == 2
    assert "keys new --name carol" in err


def test_approve_with_an_explicit_key_notes_it_is_not_trusted_here(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`--key FILE` signs with that file; a key not trusted here is pointed out."""
    elsewhere = KeyStore(directory=tmp_path / "laptop")
    elsewhere.new("carol")
    plan = echo_plan(tmp_path)
    out = approve(capsys, plan, "carol", "--key", str(tmp_path / "laptop" / "carol.key"))
    assert "not trusted here as carol" in out
    assert "keys import carol" in out
    assert _approvals(plan)[0].key_id == elsewhere.trusted()["carol"].key_id


def test_approve_refuses_a_key_that_is_not_the_one_trusted_under_that_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """carol is trusted here with one key; `--key` with another key as carol is refused
    (exit 3), naming the trusted key file, and the plan file is left as it was."""
    new_keys(capsys, "carol")
    KeyStore(directory=tmp_path / "laptop").new("carol")
    plan = echo_plan(tmp_path)
    before = plan.read_bytes()
    code, _, err = run(
        capsys, "approve", str(plan), "--as", "carol", "--key",
        str(tmp_path / "laptop" / "carol.key"),
    )  # fmt: skip
    assert code == 3
    assert "is not the key trusted here as 'carol'" in err
    assert "carol.pub" in err
    assert plan.read_bytes() == before


def test_approve_refuses_an_invalid_plan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Only a valid plan can be approved."""
    new_keys(capsys, "carol")
    plan = write_plan(tmp_path, [{"id": "x", "actor": "core.ecoh", "args": {}}])
    code, _, err = run(capsys, "approve", str(plan), "--as", "carol")
    assert code == 2
    assert "unknown-actor" in err


@pytest.mark.parametrize(
    ("expires", "valid_for"),
    [
        ("4h", timedelta(hours=4)),
        ("30m", timedelta(minutes=30)),
        ("2d", timedelta(days=2)),
        ("90s", timedelta(seconds=90)),
        (" 4H ", timedelta(hours=4)),
    ],
)
def test_approve_expires_takes_durations(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, expires: str, valid_for: timedelta
) -> None:
    """--expires 4h, 30m, 2d, 90s set the validity from the moment of approval."""
    plan = echo_plan(tmp_path)
    new_keys(capsys, "carol")
    approve(capsys, plan, "carol", "--expires", expires)
    (a,) = _approvals(plan)
    assert a.expires_at - a.approved_at == valid_for


def test_approve_expires_defaults_to_a_day(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without --expires an approval is valid for 24 hours."""
    plan = echo_plan(tmp_path)
    new_keys(capsys, "carol")
    approve(capsys, plan, "carol")
    (a,) = _approvals(plan)
    assert a.expires_at - a.approved_at == timedelta(hours=24)


def _iso_in(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def test_approve_expires_takes_an_iso_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--expires with an ISO 8601 time and zone makes the approval expire then."""
    plan = echo_plan(tmp_path)
    new_keys(capsys, "carol")
    until = _iso_in(timedelta(days=3))
    approve(capsys, plan, "carol", "--expires", until)
    (a,) = _approvals(plan)
    assert abs(a.expires_at - datetime.fromisoformat(until)) < timedelta(seconds=1)


def test_approve_expires_at_exactly_the_iso_time_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--expires TIME records exactly TIME as expires_at, not a fraction of a second before."""
    plan = echo_plan(tmp_path)
    new_keys(capsys, "carol")
    until = _iso_in(timedelta(days=3))
    approve(capsys, plan, "carol", "--expires", until)
    assert _approvals(plan)[0].expires_at == datetime.fromisoformat(until)


@pytest.mark.parametrize(
    ("expires", "reason"),
    [
        ("soon", "neither a duration nor a time"),
        ("4 hours", "neither a duration nor a time"),
        ("4w", "neither a duration nor a time"),
        ("", "neither a duration nor a time"),
        ("2026-11-25T18:00:00", "has no time zone"),
        ("0h", "more than 0"),
        ("31d", "at most 30 days"),
        ("2020-01-01T00:00:00Z", "more than 0"),
    ],
)
def test_approve_refuses_a_bad_expiry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, expires: str, reason: str
) -> None:
    """Garbage, a time without zone, zero, the past or over 30 days exits 2, writing nothing."""
    plan = echo_plan(tmp_path)
    original = plan.read_bytes()
    new_keys(capsys, "carol")
    code, _, err = run(capsys, "approve", str(plan), "--as", "carol", "--expires", expires)
    assert code == 2
    assert reason in err
    assert "Traceback" not in err
    assert plan.read_bytes() == original


def test_approve_refuses_an_overlong_ticket_as_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A ticket over 128 characters is bad input (exit 2), not an internal error."""
    plan = echo_plan(tmp_path)
    new_keys(capsys, "carol")
    code, _, err = run(capsys, "approve", str(plan), "--as", "carol", "--ticket", "X" * 200)
    assert (code, "internal error" in err) == (2, False)


# -- run refuses what is not validly approved -----------------------------------------------


def _forge(plan: Plan, identity: str, key_name: str) -> Approval:
    """An approval signed as sign() does, without its refusal of the requester."""
    now = datetime.now(UTC).replace(microsecond=0)
    return forge_approval(plan, identity, KeyStore().private(key_name), now=now)


def _with(path: Path, *approvals: Approval) -> None:
    plan = _load(path)
    save_plan(plan.model_copy(update={"approvals": [*plan.approvals, *approvals]}), path)


def _none(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    return _writes(tmp_path)


def _copied(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    """Plan A is approved; its approvals are pasted into plan B, which differs by one item."""
    a = _writes(tmp_path, "a.json", item="a")
    b = _writes(tmp_path, "b.json", item="b")
    new_keys(capsys, "carol")
    approve(capsys, a)
    doc = json.loads(b.read_text())
    doc["approvals"] = json.loads(a.read_text())["approvals"]
    b.write_text(json.dumps(doc))
    return b


def _expired(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    plan = _writes(tmp_path)
    new_keys(capsys, "carol")
    old = sign(
        _load(plan),
        identity="carol",
        key=KeyStore().private("carol"),
        now=datetime.now(UTC) - timedelta(days=2),
        valid_for=timedelta(hours=1),
    )
    _with(plan, old)
    return plan


def _self_made(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    plan = _writes(tmp_path)
    new_keys(capsys, "alice")
    _with(plan, _forge(_load(plan), "alice", "alice"))
    return plan


def _unknown_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    plan = _writes(tmp_path)
    new_keys(capsys, "carol")
    approve(capsys, plan)
    (KeyStore().directory / "carol.pub").unlink()
    return plan


def _planner_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    """A key named after the plan's own planner model signs it (`approve` itself refuses)."""
    plan = _writes(tmp_path, planner={"backend": "local", "model": "smollm2"})
    new_keys(capsys, "smollm2")
    code, _, err = run(capsys, "approve", str(plan), "--as", "smollm2")
    assert code == 2
    assert "planner never approves" in err
    _with(plan, _forge(_load(plan), "smollm2", "smollm2"))
    return plan


def _machine_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    """A colleague's key copied in as llm-agent.pub signs as llm-agent."""
    plan = _writes(tmp_path)
    new_keys(capsys, "carol")
    keys = KeyStore().directory
    (keys / "llm-agent.pub").write_bytes((keys / "carol.pub").read_bytes())
    _with(plan, _forge(_load(plan), "llm-agent", "carol"))
    return plan


def _another_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    """carol is trusted, but the approval was signed with a key made elsewhere (`approve`
    refuses that key, so it is signed here through the library)."""
    plan = _writes(tmp_path)
    new_keys(capsys, "carol")
    laptop = KeyStore(directory=tmp_path / "laptop")
    laptop.new("carol")
    doc = Plan.model_validate_json(plan.read_bytes())
    approval = sign(
        doc,
        identity="carol",
        key=laptop.private("carol"),
        now=datetime.now(UTC).replace(microsecond=0),
        valid_for=timedelta(hours=1),
    )
    save_plan(doc.model_copy(update={"approvals": [approval]}), plan)
    return plan


REFUSALS: list[tuple[Callable[[pytest.CaptureFixture[str], Path], Path], str]] = [
    (_none, "needs 1 approval(s) and has none valid"),
    (_copied, "an approval covers one exact plan"),
    (_expired, "carol's approval expired at"),
    (_self_made, "alice requested this plan and cannot also approve it"),
    (_unknown_key, "carol is not a trusted approver (no carol.pub)"),
    (_planner_model, "'smollm2' is a planner or machine identity"),
    (_machine_name, "'llm-agent' is a planner or machine identity"),
    (_another_key, "not carol's trusted key"),
]


@pytest.mark.usefixtures("testing_pack")
@pytest.mark.parametrize(("spoil", "reason"), REFUSALS, ids=[f.__name__[1:] for f, _ in REFUSALS])
def test_run_refuses_a_plan_without_a_valid_approval_with_exit_3(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    spoil: Callable[[pytest.CaptureFixture[str], Path], Path],
    reason: str,
) -> None:
    """No, copied, expired, self-made, unknown-key or machine approvals: exit 3, saying why."""
    plan = spoil(capsys, tmp_path)
    code, _, err = run(capsys, "run", str(plan), "--yes")
    assert code == 3
    assert reason in err
    assert "Traceback" not in err
    assert not (tmp_path / "ledger.jsonl").exists()
    # Each refusal names its own reason and no other's.
    specific = [r for f, r in REFUSALS if f is not _none]
    assert [r for r in specific if r in err] == ([] if spoil is _none else [reason])


@pytest.mark.usefixtures("testing_pack")
def test_run_records_approvals_and_policy_in_the_journal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """run.started records every approval with its verdict, and the policy's hash."""
    plan = _expired(capsys, tmp_path)
    new_keys(capsys, "dave")
    approve(capsys, plan, "dave", "--ticket", "CHG-77")
    code, out, err = run(capsys, "run", str(plan), "--yes", "--json")
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    with Journal(home / "journal.db") as journal:
        started = journal.events(run_id)[0]
    assert started.type == "run.started"
    auth = started.data["authorization"]
    assert [(a["identity"], a["verdict"]) for a in auth["approvals"]] == [
        ("carol", "expired"),
        ("dave", "valid"),
    ]
    assert auth["approvals"][1]["ticket"] == "CHG-77"
    assert auth["approvals"][1]["signature"] == _approvals(plan)[1].signature
    default = load_policy()
    assert auth["policy"] == {"name": "default", "hash": default.hash, "source": "default policy"}
    assert auth["approvers_required"] == 1
    assert auth["ticket"] == "CHG-77"


def test_a_dry_run_records_no_authorization(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """A dry run needs no approval, so its run.started event carries none."""
    code, out, _ = run(capsys, "run", str(echo_plan(tmp_path)), "--dry-run", "--json")
    assert code == 0
    with Journal(home / "journal.db") as journal:
        started = journal.events(json.loads(out)["run_id"])[0]
    assert "authorization" not in started.data


# -- issue 17: one key, readable requesters, possible validity ------------------------------


@pytest.mark.usefixtures("testing_pack")
def test_a_pub_file_copied_under_another_name_is_refused_before_counting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """alice.pub copied to dave.pub and alice signing as both: the two-approver policy is not
    met by alice alone; the keys folder is refused (exit 2) naming both files, nothing runs."""
    policy = tmp_path / "two.yaml"
    policy.write_text("version: 1\nname: two\napprovals: {writes: 2}\n")
    plan = _writes(tmp_path, requested_by="bob")
    new_keys(capsys, "alice")
    approve(capsys, plan, "alice")
    keys = home / "keys"
    (keys / "dave.pub").write_bytes((keys / "alice.pub").read_bytes())
    both = f"{keys / 'alice.pub'} and {keys / 'dave.pub'} hold the same public key"
    code, _, err = run(
        capsys, "approve", str(plan), "--as", "dave", "--key", str(keys / "alice.key")
    )
    assert code == 2
    assert both in err
    # Signed outside planactor, as alice holding the key could: still not two approvers.
    alice = KeyStore().private("alice", path=keys / "alice.key")
    as_dave = sign(
        _load(plan), identity="dave", key=alice, now=datetime.now(UTC), valid_for=timedelta(hours=1)
    )
    _with(plan, as_dave)
    assert [a.identity for a in _approvals(plan)] == ["alice", "dave"]
    code, _, err = run(capsys, "run", str(plan), "--yes", "--policy", str(policy))
    assert code == 2
    assert both in err
    assert "one key would count as two approvers, alice and dave" in err
    assert not (tmp_path / "ledger.jsonl").exists()
    code, _, err = run(capsys, "keys", "list")
    assert code == 2
    assert "hold the same public key" in err


@pytest.mark.parametrize(
    ("requester", "said"),
    [
        ("\u0430lice", "spells 'alice' with look-alike letters (U+0430 CYRILLIC SMALL LETTER A)"),
        ("\uff41lice", "U+FF41 FULLWIDTH LATIN SMALL LETTER A; it reads as 'alice'"),
        ("alice ", "starts or ends with a space"),
        ("alice\u200b", "invisible or control character U+200B ZERO WIDTH SPACE"),
    ],
    ids=["cyrillic", "fullwidth", "trailing-space", "zero-width"],
)
def test_a_plan_whose_requester_imitates_a_name_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, requester: str, said: str
) -> None:
    """Issue 17 item 3: alice cannot approve a plan requested by `аlice`, `ａlice`, `alice `
    or `alice\\u200b`: the plan itself is refused (exit 2), naming requested_by."""
    plan = echo_plan(tmp_path, requested_by=requester)
    new_keys(capsys, "alice")
    for argv in (["approve", str(plan), "--as", "alice"], ["validate", str(plan)]):
        code, out, err = run(capsys, *argv)
        assert code == 2
        assert "requested_by" in out + err
        assert said in out + err
        assert "Traceback" not in out + err
    assert "approvals" not in json.loads(plan.read_text())


@pytest.mark.usefixtures("testing_pack")
@pytest.mark.parametrize(
    ("approved", "expires", "said"),
    [
        (datetime(2020, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC), "28855 days"),
        (None, -1, "none (it expires before it was made)"),
    ],
    ids=["2020-to-2099", "expires-before-made"],
)
def test_run_refuses_an_approval_with_an_impossible_validity(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    approved: datetime | None,
    expires: datetime | int,
    said: str,
) -> None:
    """Issue 17 item 5: hand-signed approvals valid 2020-2099, or expiring before they were
    made, verify but are judged bad-validity: run exits 3 saying so, nothing runs."""
    plan = _writes(tmp_path)
    new_keys(capsys, "carol")
    now = approved or datetime.now(UTC).replace(microsecond=0)
    until = expires if isinstance(expires, datetime) else now + timedelta(hours=expires)
    key = KeyStore().private("carol")
    _with(plan, forge_approval(_load(plan), "carol", key, now=now, valid_for=until - now))
    code, _, err = run(capsys, "run", str(plan), "--yes")
    assert code == 3
    assert f"carol's approval claims a validity of {said}" in err
    assert "at most 30 days" in err
    assert not (tmp_path / "ledger.jsonl").exists()
