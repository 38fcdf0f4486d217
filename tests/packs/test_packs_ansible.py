"""Kind `ansible` with real ansible-core on localhost (`connection: local`): the example pack
examples/tls-rotate end to end through the command line (plan, approve, dry run, run, run
again, a failing step that pauses or compensates), recaps, retryable unreachable hosts."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clitools import approve, new_keys, run, write_plan
from planactor import ActorError, Catalog
from planactor.catalog import PACKS_ENV, ActorContext
from planactor.cli._app import catalog as cli_catalog

pytest.importorskip("ansible_runner")

MakePack = Callable[..., Path]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tls-rotate"
OLD = "-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----\n"
NEW = "-----BEGIN CERTIFICATE-----\nNEW\n-----END CERTIFICATE-----\n"
NEWER = "-----BEGIN CERTIFICATE-----\nNEWER\n-----END CERTIFICATE-----\n"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / "web.pem").write_text(OLD)
    return folder


@pytest.fixture
def tls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example pack, as PLANACTOR_PACKS names it, for the command line."""
    monkeypatch.setenv(PACKS_ENV, str(EXAMPLE))
    cli_catalog.cache_clear()


def _steps(certs: Path, certificate: str, fingerprint: str, on_failure: str) -> list[Any]:
    where = {"cert_dir": str(certs), "service": "web"}
    return [
        {
            "id": "rotate",
            "actor": "tls.rotate_certificate",
            "args": {**where, "certificate": certificate},
            "on_failure": "compensate",
        },
        {
            "id": "check",
            "actor": "tls.check_certificate",
            "args": {**where, "fingerprint": fingerprint},
            "after": ["rotate"],
            "on_failure": on_failure,
        },
    ]


def _run(capsys: pytest.CaptureFixture[str], plan: Path, db: Path, *extra: str) -> dict[str, Any]:
    code, out, err = run(capsys, "run", str(plan), "--db", str(db), "--json", *extra)
    doc: dict[str, Any] = json.loads(out)
    assert doc["exit_code"] == code, err
    return doc


def test_rotate_end_to_end_through_the_cli(
    tls: None, certs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """validate, approve; dry run reports the diff and changes nothing; run applies it;
    running again changes nothing; `actors` names the pack.yaml as the source."""
    db = tmp_path / "journal.db"
    # The rotation alone: a dry run's reads see the world unchanged, so a check after it
    # would fail there (the failing-step test below runs the check).
    plan = write_plan(tmp_path, _steps(certs, NEW, _sha(NEW), "compensate")[:1])
    code, out, err = run(capsys, "validate", str(plan))
    assert code == 0, err
    new_keys(capsys, "carol")
    approve(capsys, plan, "carol")

    dry = _run(capsys, plan, db, "--dry-run")
    assert dry["status"] == "succeeded"
    note = dry["steps"]["rotate"]["note"]
    assert note.startswith("would change: ")
    assert "-OLD" in note
    assert "+NEW" in note
    assert (certs / "web.pem").read_text() == OLD  # check mode: nothing changed on disk
    assert not (certs / "web.pem.previous").exists()

    first = _run(capsys, plan, db)
    assert first["status"] == "succeeded", first
    out1 = first["steps"]["rotate"]["output"]
    assert out1["changed"] == 2  # the backup and the new certificate
    assert out1["hosts"] == {
        "localhost": {"ok": 4, "changed": 2, "failed": 0, "unreachable": 0, "skipped": 0}
    }
    assert out1["fingerprint"] == _sha(NEW)
    assert Path(out1["artifacts"]).is_dir()  # the call's folder, under the run's
    assert first["run_id"] in out1["artifacts"]
    assert (certs / "web.pem").read_text() == NEW
    assert (certs / "web.pem.previous").read_text() == OLD

    second = _run(capsys, plan, db)
    assert second["status"] == "succeeded"
    assert second["steps"]["rotate"]["output"]["changed"] == 0
    assert (certs / "web.pem.previous").read_text() == OLD

    code, out, _ = run(capsys, "actors", "--json")
    assert code == 0
    sources = {a["name"]: a["source"] for a in json.loads(out)}
    assert sources["tls.rotate_certificate"] == f"ansible: {EXAMPLE / 'pack.yaml'}"


@pytest.mark.parametrize(
    ("on_failure", "status", "left"),
    [
        ("compensate", "compensated", NEW),
        ("pause", "paused", NEWER),
    ],
)
def test_a_failing_task_compensates_or_pauses_as_the_step_says(
    tls: None,
    certs: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    on_failure: str,
    status: str,
    left: str,
) -> None:
    """The check's assert fails: on_failure=compensate runs tls.restore_certificate (the
    previous certificate is back), on_failure=pause leaves the run paused (exit 4)."""
    (certs / "web.pem").write_text(NEW)
    (certs / "web.pem.previous").write_text(OLD)
    db = tmp_path / "journal.db"
    plan = write_plan(tmp_path, _steps(certs, NEWER, "0" * 64, on_failure))
    new_keys(capsys, "carol")
    approve(capsys, plan, "carol")
    doc = _run(capsys, plan, db)
    assert doc["status"] == status
    assert doc["exit_code"] == (1 if on_failure == "compensate" else 4)
    assert "is not the expected certificate" in doc["reason"]
    assert doc["steps"]["check"]["attempts"] == 1  # a failed task is final: not retried
    assert (certs / "web.pem").read_text() == left


def test_a_check_mode_diff_names_host_task_and_file(certs: Path) -> None:
    """The dry-run check returns the recap and a unified diff per changed task."""
    cat = Catalog.discover(packs=[EXAMPLE])
    rotate = cat.get("tls.rotate_certificate")
    assert rotate.check is not None
    ctx = ActorContext.for_step(run_id="r1", step_id="rotate", dry_run=True)
    found = rotate.check(
        rotate.parse_input({"cert_dir": str(certs), "service": "web", "certificate": NEW}), ctx
    )
    assert found["changed"] == 2
    assert found["tasks"] == [
        "localhost: Keep the current certificate as .previous",
        "localhost: Install the new certificate",
    ]
    assert f"+++ {certs}/web.pem" in found["diff"]
    assert "# localhost: Install the new certificate" in found["diff"]
    assert (certs / "web.pem").read_text() == OLD


UNREACHABLE = """\
    name: far
    actors:
      - name: far.ping
        kind: ansible
        effect: read
        timeout_s: 60
        ansible:
          playbook: ping.yml
          inventory: hosts.ini
      - name: far.fail
        kind: ansible
        effect: read
        ansible:
          playbook: fail.yml
          task_failure: retryable
    """


def test_unreachable_is_retryable_and_failures_follow_the_pack(make_pack: MakePack) -> None:
    """An unreachable host is a retryable error; a failed task is final unless the pack
    says task_failure: retryable."""
    if shutil.which("ssh") is None:
        pytest.skip("no ssh client: cannot make a host unreachable")
    folder = make_pack(
        UNREACHABLE,
        {
            # TEST-NET-1 (RFC 5737): an address nothing answers on.
            "hosts.ini": (
                "nohost.invalid ansible_host=192.0.2.1 ansible_connection=ssh"
                " ansible_ssh_common_args='-o ConnectTimeout=1'\n"
            ),
            "ping.yml": (
                "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n"
            ),
            "fail.yml": (
                "- hosts: all\n  gather_facts: false\n  tasks:\n"
                "    - ansible.builtin.fail: {msg: broken on purpose}\n"
            ),
        },
    )
    cat = Catalog.discover(packs=[folder])
    ctx = ActorContext.for_step(run_id="r1", step_id="s")
    with pytest.raises(ActorError) as exc:
        cat.get("far.ping").call({}, ctx)
    assert exc.value.retryable
    assert "unreachable" in exc.value.message
    with pytest.raises(ActorError) as exc:
        cat.get("far.fail").call({}, ctx)
    assert exc.value.retryable
    assert "broken on purpose" in exc.value.message
