"""The lab file: creation, lookup, atomic operations, idempotency keys, locks, crashes."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from planactor import InputError
from planactor.lab import FORMAT, Lab, LabDocument, create_lab, current_lab, lab_path

MOVE = {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"}


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return create_lab(tmp_path / "lab.json")


def move(host: str, to: str) -> dict[str, str]:
    return {"array": "array-01", "host": host, "to_controller": f"array-01-{to}"}


# -- creating and finding --------------------------------------------------------------------


def test_create_writes_a_storage_document(lab: Lab) -> None:
    """init writes format, kind, scenario, latency, the state and empty logs."""
    doc = json.loads(lab.path.read_text())
    assert doc["format"] == FORMAT
    assert (doc["kind"], doc["scenario"], doc["latency_ms"], doc["seq"]) == (
        "storage",
        "default",
        0,
        0,
    )
    assert len(doc["state"]["arrays"]) == 3
    assert (doc["operations"], doc["violations"], doc["faults"]) == ([], [], [])


def test_create_takes_the_scenario_latency_unless_told(tmp_path: Path) -> None:
    """The slow scenario brings its latency; --latency-ms overrides it."""
    assert create_lab(tmp_path / "a.json", scenario="slow").read().latency_ms == 200
    assert create_lab(tmp_path / "b.json", scenario="slow", latency_ms=5).read().latency_ms == 5
    doc = create_lab(tmp_path / "c.json", scenario="path-down").read()
    assert doc.faults == [{"kind": "path-down", "host": "esx-03", "controller": "array-01-b"}]


def test_create_refuses_to_replace_unless_told(lab: Lab) -> None:
    """An existing lab is kept unless overwrite is asked for."""
    lab.operate("move_paths", MOVE, key="r/1")
    with pytest.raises(InputError, match="already exists") as e:
        create_lab(lab.path)
    assert e.value.hint is not None
    assert "--force" in e.value.hint
    assert lab.read().seq == 1
    create_lab(lab.path, overwrite=True)
    assert lab.read().seq == 0


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"kind": "quantum"}, "unknown kind of lab 'quantum'"),
        ({"scenario": "apocalypse"}, "no scenario 'apocalypse'"),
        ({"latency_ms": -1}, "--latency-ms must be 0 or more"),
    ],
)
def test_create_refuses_bad_input(tmp_path: Path, kw: dict[str, object], message: str) -> None:
    """Unknown kinds and scenarios and negative latency are InputErrors; no file is written."""
    with pytest.raises(InputError, match=message):
        create_lab(tmp_path / "lab.json", **kw)  # type: ignore[arg-type]
    assert not (tmp_path / "lab.json").exists()


def test_lab_path_and_current_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PLANACTOR_LAB wins; else $PLANACTOR_HOME/lab.json; a missing lab says how to make one."""
    monkeypatch.delenv("PLANACTOR_LAB", raising=False)
    monkeypatch.setenv("PLANACTOR_HOME", str(tmp_path / "home"))
    assert lab_path() == tmp_path / "home" / "lab.json"
    with pytest.raises(InputError, match="no lab at") as e:
        current_lab()
    assert "planactor lab init storage" in (e.value.hint or "")
    create_lab()
    assert current_lab().path == tmp_path / "home" / "lab.json"
    monkeypatch.setenv("PLANACTOR_LAB", str(tmp_path / "other.json"))
    assert lab_path() == tmp_path / "other.json"
    with pytest.raises(InputError):
        current_lab()
    assert current_lab(tmp_path / "home" / "lab.json").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ("[]", "holds a JSON object"),
        ('{"format": "other"}', "not a planactor lab"),
        (json.dumps({"format": FORMAT, "kind": "storage"}), "malformed lab file"),
    ],
)
def test_unreadable_lab_files_are_input_errors(tmp_path: Path, text: str, message: str) -> None:
    """A broken lab file is an InputError naming the file, never a traceback."""
    path = tmp_path / "lab.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        Lab(path).read()


def test_a_malformed_state_is_an_input_error(lab: Lab) -> None:
    """An operation on a lab whose state is damaged reports the file."""
    doc = json.loads(lab.path.read_text())
    doc["state"]["arrays"][0]["mode"] = "active-active"
    lab.path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="active-active"):
        lab.operate("move_paths", MOVE, key="k")


# -- operations ----------------------------------------------------------------------------------


def test_operate_applies_and_logs_with_the_key(lab: Lab) -> None:
    """A write changes the state and logs the key, the arguments and the result."""
    r = lab.operate("move_paths", MOVE, key="run-1/move")
    assert (r.status, r.seq, r.replayed) == ("applied", 1, False)
    doc = lab.read()
    assert doc.seq == 1
    [entry] = doc.operations
    assert entry["idempotency_key"] == "run-1/move"
    assert entry["op"] == "move_paths"
    assert entry["args"] == MOVE
    assert entry["result"]["from_controller"] == "array-01-a"
    assert doc.applied_counts() == {"run-1/move": 1}
    assert doc.created_at <= doc.updated_at


def test_same_key_applies_once(lab: Lab) -> None:
    """Calling again with a key already applied replays its result and changes nothing."""
    first = lab.operate("move_paths", MOVE, key="run-1/move")
    lab.operate("move_paths", move("esx-01", "a"), key="run-1/back")
    again = lab.operate("move_paths", MOVE, key="run-1/move")
    assert again.replayed
    assert again.result == first.result
    doc = lab.read()
    assert doc.applied_counts() == {"run-1/move": 1, "run-1/back": 1}
    assert doc.seq == 2
    # The host stays where the second move put it.
    assert doc.state["hosts"][0]["active"]["array-01"] == "array-01-a"


def test_refused_operations_change_nothing(lab: Lab) -> None:
    """A refused write leaves the file alone and is not logged, so a retry can apply."""
    before = lab.path.read_bytes()
    r = lab.operate(
        "upgrade_firmware",
        {"array": "array-01", "controller": "array-01-a", "version": "5.2.0"},
        key="run-1/upgrade",
    )
    assert r.status == "refused"
    assert r.error is not None
    assert r.error["kind"] == "precondition"
    assert lab.path.read_bytes() == before


def test_unchanged_writes_are_logged_but_not_counted(lab: Lab) -> None:
    """A write that finds nothing to do is logged (its result replays) but not counted."""
    r = lab.operate("move_paths", move("esx-01", "a"), key="k")
    assert r.status == "unchanged"
    doc = lab.read()
    assert [e["status"] for e in doc.operations] == ["unchanged"]
    assert doc.applied_counts() == {}
    assert lab.operate("move_paths", move("esx-01", "a"), key="k").replayed


def test_failed_writes_are_logged_and_retried(tmp_path: Path) -> None:
    """A failed flash is logged as failed; the same key may then try again."""
    lab = create_lab(tmp_path / "lab.json", scenario="upgrade-fails")
    for i in range(1, 9):
        lab.operate("move_paths", move(f"esx-0{i}", "b"), key=f"m{i}")
    args = {"array": "array-01", "controller": "array-01-a", "version": "5.2.0"}
    failed = lab.operate("upgrade_firmware", args, key="up")
    assert failed.status == "failed"
    assert lab.read().faults == []
    lab.operate("reboot_controller", {"array": "array-01", "controller": "array-01-a"}, key="rb")
    again = lab.operate("upgrade_firmware", args, key="up")
    assert (again.status, again.replayed) == ("applied", False)
    statuses = [e["status"] for e in lab.read().operations if e["idempotency_key"] == "up"]
    assert statuses == ["failed", "applied"]


def test_violations_are_stamped_with_time_and_cause(lab: Lab) -> None:
    """A DU is recorded with seq, time, the operation, its key, the host, LUN and cause."""
    lab.operate(
        "upgrade_firmware",
        {"array": "array-01", "controller": "array-01-a", "version": "5.2.0", "force": True},
        key="run/up",
    )
    doc = lab.read()
    assert len(doc.violations) == 8
    v = doc.violations[0]
    assert v["seq"] == 1
    assert v["at"] == doc.updated_at
    assert (v["operation"], v["idempotency_key"], v["kind"]) == ("upgrade_firmware", "run/up", "DU")
    assert (v["host"], v["lun"]) == ("esx-01", "lun-1")
    assert "upgrading array-01-a takes it offline" in v["cause"]


def test_faults_are_recorded_and_cleared(lab: Lab) -> None:
    """Injecting and clearing faults changes the state and faults, not the operation log."""
    r = lab.inject_fault({"kind": "path-down", "host": "esx-03", "controller": "array-01-a"})
    assert r.violations[0]["kind"] == "DU"
    assert r.violations[0]["idempotency_key"] is None
    doc = lab.read()
    assert doc.faults == [{"kind": "path-down", "host": "esx-03", "controller": "array-01-a"}]
    assert doc.operations == []
    lab.clear_faults()
    assert lab.read().faults == []
    bad = lab.inject_fault({"kind": "path-down", "host": "esx-03"})
    assert bad.error is not None


def test_kind_guard(lab: Lab) -> None:
    """An operation meant for another kind of lab is refused."""
    with pytest.raises(InputError, match="storage lab, not a network lab"):
        lab.operate("move_paths", MOVE, key="k", kind="network")


def test_latency_is_slept_inside_the_lock(tmp_path: Path) -> None:
    """The simulated time passes while the lock is held and before the write."""
    seen: list[tuple[float, bool, int]] = []
    path = tmp_path / "lab.json"
    create_lab(path, latency_ms=40)

    def sleep(seconds: float) -> None:
        with open(str(path) + ".lock", "a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = False
                fcntl.flock(f, fcntl.LOCK_UN)
            except BlockingIOError:
                locked = True
        seen.append((seconds, locked, Lab(path).read().seq))

    Lab(path, sleep=sleep).operate("move_paths", MOVE, key="k")
    assert seen == [(0.04, True, 0)]


def test_writes_are_atomic_and_leave_no_temporary_files(lab: Lab) -> None:
    """After many writes the directory holds the lab, its lock and nothing else."""
    for i in range(6):
        lab.operate("move_paths", move("esx-02", "ab"[i % 2 == 0]), key=f"k{i}")
    assert sorted(p.name for p in lab.path.parent.iterdir()) == ["lab.json", "lab.json.lock"]
    LabDocument.from_json(json.loads(lab.path.read_text()))


def test_threads_lose_no_operation(lab: Lab) -> None:
    """Eight threads writing at once: every operation is in the log exactly once."""

    def worker(t: int) -> None:
        host = f"esx-0{t + 1}"
        for i in range(6):
            lab.operate("move_paths", move(host, "ba"[i % 2]), key=f"t{t}/{i}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    doc = lab.read()
    assert doc.seq == 48
    assert doc.applied_counts() == {f"t{t}/{i}": 1 for t in range(8) for i in range(6)}


# -- processes ---------------------------------------------------------------------------------

_HAMMER = textwrap.dedent(
    """
    import sys
    from planactor.lab import Lab
    path, host, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    lab = Lab(path)
    for i in range(n):
        to = "array-01-b" if i % 2 == 0 else "array-01-a"
        r = lab.operate(
            "move_paths",
            {"array": "array-01", "host": host, "to_controller": to},
            key=f"{host}/{i}",
        )
        assert r.status == "applied", r
    """
)


def test_two_processes_hammering_one_lab_lose_no_operation(lab: Lab) -> None:
    """Two processes writing the same lab file concurrently: all 2 x N writes are logged once."""
    n = 40
    procs = [
        subprocess.Popen([sys.executable, "-c", _HAMMER, str(lab.path), host, str(n)])
        for host in ("esx-01", "esx-02")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    doc = lab.read()
    assert doc.seq == 2 * n
    counts = doc.applied_counts()
    assert len(counts) == 2 * n
    assert set(counts.values()) == {1}
    # Each host made an even number of moves: both are back on -a.
    actives = {h["name"]: h["active"]["array-01"] for h in doc.state["hosts"]}
    assert actives["esx-01"] == actives["esx-02"] == "array-01-a"


_SLOW_WRITE = textwrap.dedent(
    """
    import sys
    from planactor.lab import Lab
    Lab(sys.argv[1]).operate(
        "move_paths",
        {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"},
        key="killed/move",
    )
    """
)


def _lock_held(path: Path) -> bool:
    with open(str(path) + ".lock", "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def test_a_process_killed_mid_operation_leaves_the_previous_state(tmp_path: Path) -> None:
    """SIGKILL during an operation's latency: the file is intact, unchanged, and unlocked."""
    lab = create_lab(tmp_path / "lab.json", latency_ms=5000)
    before = lab.path.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITE, str(lab.path)])
    try:
        deadline = time.monotonic() + 60
        while not _lock_held(lab.path):
            assert proc.poll() is None, "the child ended before taking the lock"
            assert time.monotonic() < deadline, "the child never took the lock"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert lab.path.read_bytes() == before
    # The kernel dropped the dead process's lock: the next operation goes through.
    fast = Lab(lab.path, sleep=lambda s: None)
    assert fast.operate("move_paths", MOVE, key="after/move").status == "applied"
    assert fast.read().applied_counts() == {"after/move": 1}
