"""`planactor policy check|show`, and `run` under policies: reads, blast radius, windows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clitools import echo_plan, install_pack, ledger_write, run, sign_as, uninstall_pack, write_plan
from planactor.policy import default_policy_text, load_policy
from routine_texts import send_report


def _writes(tmp_path: Path, n: int = 2) -> Path:
    """A plan of `n` ledger writes: no entity arguments, so each is a target of its own."""
    ledger = tmp_path / "ledger.jsonl"
    return write_plan(tmp_path, [ledger_write(ledger, f"w{i}", str(i)) for i in range(n)])


def _policy(tmp_path: Path, body: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text("version: 1\nname: custom\n" + body)
    return path


def _window_rule(start: datetime, end: datetime, match: str = "{effect: write}") -> str:
    return (
        "rules:\n"
        "  - name: in-window\n"
        "    description: Writes only in the window.\n"
        f"    match: {match}\n"
        f"    require: {{window: {{start: '{start:%H:%M}', end: '{end:%H:%M}'}}}}\n"
    )


TWO_FOR_WIDE = """\
rules:
  - name: two-for-wide
    description: Writes to more than one target need two approvers.
    match: {effect: write}
    when: {blast_radius_over: 1}
    require: {approvers: 2}
"""
# The echo plans below are written by hand, so novel; novelty is not what these test.
WEEKEND = """\
approvals: {novel: 0}
rules:
  - name: weekend-nights
    description: Echoes only on weekend nights.
    match: {actor: "core.*"}
    require: {window: {days: [sat, sun], start: 22:00, end: 04:00, timezone: UTC}}
"""


# -- read-only plans ------------------------------------------------------------------------


def test_a_hand_written_read_only_plan_needs_one_approval_by_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Under the default policy a read-only plan no routine made is novel: exit 3 saying so;
    approved by another person, it runs."""
    plan = echo_plan(tmp_path)
    code, _, err = run(capsys, "run", str(plan))
    assert code == 3
    assert "needs 1 approval(s) and has none valid; policy default: a plan no routine made" in err
    assert "it records no routine origin" in err
    sign_as(capsys, plan, "carol")
    code, out, err = run(capsys, "run", str(plan))
    assert code == 0, err
    assert "SUCCEEDED" in out


def test_a_read_only_plan_runs_without_approval_when_novel_plans_need_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """With `approvals: {novel: 0}` a plan that only reads needs nobody's approval."""
    policy = _policy(tmp_path, "approvals: {novel: 0}\n")
    code, out, err = run(capsys, "run", str(echo_plan(tmp_path)), "--policy", str(policy))
    assert code == 0, err
    assert "SUCCEEDED" in out


@pytest.fixture
def report_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A third-party pack shipping the read-only routine plantest.send_report."""
    package = "planactor_policy_testpack"
    files = {
        f"{package}/__init__.py": '"""A routine for the policy tests."""\n',
        f"{package}/routines/send_report.yaml": send_report("plantest"),
    }
    site = install_pack(tmp_path, monkeypatch, "plantest", package, files=files)
    yield
    uninstall_pack(site)


@pytest.mark.usefixtures("report_pack")
def test_stripping_a_routine_plans_origin_makes_it_need_an_approval(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 17 item 9: a read-only plan the routine planner made runs unapproved; the same
    file with its `origin` deleted (or edited) is novel and refused (exit 3) until approved."""
    plan = tmp_path / "plan.json"
    code, _, err = run(
        capsys, "plan", "send the status report fast", "--planner", "routine", "-o", str(plan)
    )
    assert code == 0, err
    doc = json.loads(plan.read_text())
    assert doc["origin"] == {
        "routine": "plantest.send_report",
        "params": {"speed": "fast"},
        "facts": {},
    }
    code, out, err = run(capsys, "run", str(plan))
    assert code == 0, err
    assert "SUCCEEDED" in out
    stripped = tmp_path / "stripped.json"
    stripped.write_text(json.dumps({k: v for k, v in doc.items() if k != "origin"}))
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**doc, "origin": {**doc["origin"], "params": {"speed": "slow"}}}))
    for path, why in [
        (stripped, "it records no routine origin"),
        (edited, "its step 1 (send) is not what routine plantest.send_report makes"),
    ]:
        code, _, err = run(capsys, "run", str(path))
        assert code == 3
        assert "policy default: a plan no routine made (novel) needs 1" in err
        assert why in err


@pytest.mark.parametrize("how", ["option", "environment", "home"])
def test_a_policy_can_require_approval_of_reads(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """`approvals: {reads: 1}` from --policy, PLANACTOR_POLICY or home refuses reads (exit 3)."""
    policy = _policy(tmp_path, "approvals: {reads: 1}\n")
    plan = echo_plan(tmp_path)
    args = ["run", str(plan)]
    if how == "option":
        args += ["--policy", str(policy)]
    elif how == "environment":
        monkeypatch.setenv("PLANACTOR_POLICY", str(policy))
    else:
        home.mkdir(parents=True, exist_ok=True)
        policy.rename(home / "policy.yaml")
    code, _, err = run(capsys, *args)
    assert code == 3
    assert "needs 1 approval(s) and has none valid; policy custom: read-only plans need 1" in err
    sign_as(capsys, plan, "carol")
    code, _, err = run(capsys, *args)
    assert code == 0, err


# -- blast radius ---------------------------------------------------------------------------


@pytest.mark.usefixtures("testing_pack")
def test_a_blast_radius_rule_needs_two_approvers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Two writes (two targets) over a limit of 1 need two approvers: one is refused."""
    policy = _policy(tmp_path, TWO_FOR_WIDE)
    plan = _writes(tmp_path, 2)
    sign_as(capsys, plan, "carol")
    code, _, err = run(capsys, "run", str(plan), "--policy", str(policy), "--yes")
    assert code == 3
    assert "needs 2 approval(s) and has 1 valid (carol); rule two-for-wide" in err
    assert not (tmp_path / "ledger.jsonl").exists()
    code, out, _ = run(capsys, "policy", "check", str(plan), "--policy", str(policy), "--json")
    assert code == 3
    (rule,) = json.loads(out)["rules"]
    assert rule["why"] == ("2 step(s) match (write): w0, w1; they write 2 targets (more than 1)")
    sign_as(capsys, plan, "dave")
    code, _, err = run(capsys, "run", str(plan), "--policy", str(policy), "--yes")
    assert code == 0, err


@pytest.mark.usefixtures("testing_pack")
def test_a_narrow_change_needs_one_approver_under_the_same_rule(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """One write is one target: the blast-radius rule does not apply."""
    policy = _policy(tmp_path, TWO_FOR_WIDE)
    plan = _writes(tmp_path, 1)
    sign_as(capsys, plan, "carol")
    code, _, err = run(capsys, "run", str(plan), "--policy", str(policy), "--yes")
    assert code == 0, err


# -- windows --------------------------------------------------------------------------------


@pytest.mark.usefixtures("testing_pack")
def test_run_refuses_outside_the_window(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A window that opens in two hours refuses the run now (exit 3) and says when it opens."""
    now = datetime.now(UTC)
    policy = _policy(tmp_path, _window_rule(now + timedelta(hours=2), now + timedelta(hours=3)))
    plan = _writes(tmp_path)
    sign_as(capsys, plan, "carol")
    code, _, err = run(capsys, "run", str(plan), "--policy", str(policy), "--yes")
    assert code == 3
    assert "rule in-window (Writes only in the window.)" in err
    assert "closed now; it next opens" in err
    assert "run it inside the maintenance window" in err
    assert not (tmp_path / "ledger.jsonl").exists()


@pytest.mark.usefixtures("testing_pack")
def test_run_proceeds_inside_the_window(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A window open from an hour ago to an hour from now lets an approved plan run."""
    now = datetime.now(UTC)
    policy = _policy(tmp_path, _window_rule(now - timedelta(hours=1), now + timedelta(hours=1)))
    plan = _writes(tmp_path)
    sign_as(capsys, plan, "carol")
    code, _, err = run(capsys, "run", str(plan), "--policy", str(policy), "--yes")
    assert code == 0, err


def test_policy_check_at_explains_a_closed_window(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`policy check --at` on a Wednesday: the weekend rule applies, closed; exit 3."""
    policy = _policy(tmp_path, WEEKEND)
    code, out, _ = run(
        capsys,
        "policy",
        "check",
        str(echo_plan(tmp_path)),
        "--policy",
        str(policy),
        "--at",
        "2026-11-25T12:00Z",
    )
    assert code == 3
    assert f"under policy custom ({policy})" in out
    assert "weekend-nights" in out
    assert "unmet" in out
    assert "may not run yet" in out


@pytest.mark.parametrize("at", ["2026-11-28T23:00Z", "2026-11-30T03:59Z", "2026-11-29T00:30+02:00"])
def test_policy_check_at_allows_inside_the_window(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, at: str
) -> None:
    """Saturday night, and Monday early morning (Sunday's window), are inside: exit 0."""
    policy = _policy(tmp_path, WEEKEND)
    code, out, _ = run(
        capsys, "policy", "check", str(echo_plan(tmp_path)), "--policy", str(policy), "--at", at
    )
    assert code == 0
    assert "may run now" in out
    code, out, _ = run(
        capsys,
        "policy",
        "check",
        str(echo_plan(tmp_path)),
        "--policy",
        str(policy),
        "--at",
        at,
        "--json",
    )
    (rule,) = json.loads(out)["rules"]
    assert rule["requirements"] == [{"kind": "window", "status": "met", "detail": "open now"}]


def test_policy_check_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`policy check --json` gives the same verdict for scripts."""
    policy = _policy(tmp_path, WEEKEND)
    plan = echo_plan(tmp_path)
    code, out, _ = run(
        capsys,
        "policy",
        "check",
        str(plan),
        "--policy",
        str(policy),
        "--at",
        "2026-11-25T12:00Z",
        "--json",
    )
    assert code == 3
    doc = json.loads(out)
    assert doc["may_run"] is False
    assert doc["policy"] == {
        "name": "custom",
        "hash": load_policy(policy).hash,
        "source": str(policy),
    }
    assert doc["approvers_required"] == 0
    (rule,) = doc["rules"]
    assert (rule["name"], rule["applies"], rule["steps"]) == ("weekend-nights", True, ["e"])
    assert rule["why"] == "1 step(s) match (actor core.*): e"
    assert rule["requirements"] == [
        {
            "kind": "window",
            "status": "unmet",
            "detail": "closed now; it next opens 2026-11-28T22:00+00:00",
        }
    ]
    code, out, _ = run(
        capsys,
        "policy",
        "check",
        str(plan),
        "--policy",
        str(policy),
        "--at",
        "2026-11-28T23:00Z",
        "--json",
    )
    assert (code, json.loads(out)["may_run"]) == (0, True)


@pytest.mark.parametrize(
    ("at", "reason"),
    [("tomorrow", "not an ISO 8601 time"), ("2026-11-28T23:00", "has no time zone")],
)
def test_policy_check_refuses_a_bad_moment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, at: str, reason: str
) -> None:
    """--at needs an ISO time with a zone: anything else exits 2."""
    code, _, err = run(capsys, "policy", "check", str(echo_plan(tmp_path)), "--at", at)
    assert code == 2
    assert reason in err


# -- policy check: approvals and other rules ------------------------------------------------


@pytest.mark.usefixtures("testing_pack")
def test_policy_check_counts_approvals_and_explains_rejections(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path
) -> None:
    """Unapproved: 0 of 1, exit 3; approved: 1 of 1, exit 0; a rejected approval is shown."""
    plan = _writes(tmp_path, 1)
    code, out, _ = run(capsys, "policy", "check", str(plan))
    assert code == 3
    assert "under policy default (default policy)" in out
    assert "approvals: 0 of 1 (policy default: plans with write steps need 1)" in out
    sign_as(capsys, plan, "carol")
    code, out, _ = run(capsys, "policy", "check", str(plan))
    assert code == 0
    assert "approvals: 1 of 1" in out
    assert "✓ carol approved" in out
    (home / "keys" / "carol.pub").unlink()
    code, out, _ = run(capsys, "policy", "check", str(plan))
    assert code == 3
    assert "✗ carol is not a trusted approver (no carol.pub)" in out


@pytest.mark.usefixtures("testing_pack")
def test_policy_check_of_a_denied_plan_is_a_validation_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A plan a deny rule matches is invalid (exit 2), the step named."""
    policy = _policy(
        tmp_path,
        "rules:\n  - name: no-ledgers\n    description: d\n"
        "    match: {actor: 'testing.ledger_*'}\n    require: {deny: ledgers are frozen}\n",
    )
    code, _, err = run(capsys, "policy", "check", str(_writes(tmp_path)), "--policy", str(policy))
    assert code == 2
    assert "policy-denied" in err
    assert "steps[0]" in err
    assert "ledgers are frozen" in err


def test_policy_check_of_a_broken_policy_names_the_place(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A policy file with a mistake exits 2, naming the file and the field."""
    policy = _policy(tmp_path, "approvals: {writes: many}\n")
    code, _, err = run(capsys, "policy", "check", str(echo_plan(tmp_path)), "--policy", str(policy))
    assert code == 2
    assert str(policy) in err
    assert "approvals.writes" in err


# -- policy show ----------------------------------------------------------------------------


def test_policy_show_prints_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a policy file, `policy show` prints the shipped default."""
    code, out, _ = run(capsys, "policy", "show")
    assert code == 0
    assert out == "# source: built-in default\n" + default_policy_text()


def test_policy_show_prints_a_custom_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --policy or PLANACTOR_POLICY, `policy show` prints that file as written."""
    policy = _policy(tmp_path, WEEKEND)
    code, out, _ = run(capsys, "policy", "show", "--policy", str(policy))
    assert code == 0
    assert out == f"# source: {policy}\n" + policy.read_text()
    monkeypatch.setenv("PLANACTOR_POLICY", str(policy))
    assert run(capsys, "policy", "show")[1] == out


def test_policy_show_refuses_a_broken_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A broken policy is not printed as if it were in force: exit 2 with its line."""
    policy = tmp_path / "broken.yaml"
    policy.write_text("version: 1\nname: [x\n")
    code, out, err = run(capsys, "policy", "show", "--policy", str(policy))
    assert code == 2
    assert out == ""
    assert "not valid YAML" in err
    assert "line 3" in err


def test_a_policy_with_a_duplicate_key_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 17 item 6: `writes: 1` then `writes: 0` is refused by every command that reads
    the policy (exit 2), naming the file, the key path and both lines."""
    policy = _policy(tmp_path, "approvals:\n  writes: 1\n  writes: 0\n")
    said = f"{policy}: line 5: duplicate key approvals.writes (first given on line 4)"
    for argv in (
        ["policy", "show", "--policy", str(policy)],
        ["policy", "check", str(echo_plan(tmp_path)), "--policy", str(policy)],
        ["run", str(echo_plan(tmp_path)), "--policy", str(policy)],
    ):
        code, out, err = run(capsys, *argv)
        assert code == 2
        assert said in err
        assert "Traceback" not in out + err
