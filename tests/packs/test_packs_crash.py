"""SIGKILL while a playbook runs, then resume: the playbook runs again with the same
idempotency key and its effect is applied once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from planactor.journal import EventKind, Journal

pytest.importorskip("ansible_runner")

MakePack = Callable[..., Path]
CHILD = Path(__file__).with_name("pack_crash_child.py")
TIMEOUT_S = 120.0

PACK = """\
    name: crash
    actors:
      - name: crash.apply
        kind: ansible
        effect: write
        idempotent: true
        irreversible: true
        input: {ledger: string, marker: string}
        ansible: {playbook: apply.yml}
    """

# Idempotent by key: the line is added once per idempotency key, however often it runs.
PLAYBOOK = """\
    - hosts: all
      gather_facts: false
      tasks:
        - name: Say the playbook is running
          ansible.builtin.copy:
            dest: "{{ marker }}"
            content: "running\\n"
            mode: "0644"
        - name: Take a while (the test kills us here)
          ansible.builtin.wait_for:
            timeout: 3
        - name: Apply the effect once per key
          ansible.builtin.lineinfile:
            path: "{{ ledger }}"
            line: "applied {{ planactor_idempotency_key }}"
            create: true
            mode: "0644"
    """


def _child(tmp_path: Path, pack: Path, mode: str) -> subprocess.Popen[str]:
    argv = [
        sys.executable,
        str(CHILD),
        str(tmp_path / "journal.db"),
        str(pack),
        str(tmp_path / "ledger.txt"),
        str(tmp_path / "marker"),
        mode,
    ]
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def test_a_playbook_killed_midway_is_applied_once_after_resume(
    make_pack: MakePack, tmp_path: Path
) -> None:
    """Kill the run (its whole process group) while the playbook waits; resume re-runs the
    idempotent playbook with the same key; the ledger holds the effect once; the journal
    shows two starts of the step with one key, and verifies."""
    pack = make_pack(PACK, {"apply.yml": PLAYBOOK})
    marker = tmp_path / "marker"
    proc = _child(tmp_path, pack, "run")
    deadline = time.monotonic() + TIMEOUT_S
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the playbook never started"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "ledger.txt").exists()  # killed before the effect

    marker.unlink()
    resumed = _child(tmp_path, pack, "resume")
    out, err = resumed.communicate(timeout=TIMEOUT_S)
    assert resumed.returncode == 0, err
    report = json.loads(out.splitlines()[-1])
    assert report["status"] == "succeeded"
    assert report["output"]["changed"] == 2  # the marker and the ledger line
    # Let a playbook the kill orphaned finish, if one survived, before counting.
    time.sleep(4)
    lines = (tmp_path / "ledger.txt").read_text().splitlines()
    assert lines == ["applied crash-run/apply"]
    with Journal(tmp_path / "journal.db") as journal:
        starts = [
            e
            for e in journal.events("crash-run")
            if e.type == EventKind.STEP_STARTED.value and e.step == "apply"
        ]
        assert len(starts) == 2
        assert {e.data.get("idempotency_key") for e in starts} == {"crash-run/apply"}
        assert journal.verify("crash-run").ok
