"""`planactor lab`: init, show (tables and --json), check, fault, clear-faults, scenarios."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clitools import run
from planactor.lab import Lab

pytestmark = pytest.mark.usefixtures("wide_terminal")


def test_init_creates_the_default_lab(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    """`lab init storage` writes $PLANACTOR_HOME/lab.json and says what it holds."""
    code, out, _ = run(capsys, "lab", "init", "storage")
    assert code == 0
    assert "3 arrays, 6 controllers, 8 hosts, 20 LUNs" in out
    assert (home / "lab.json").exists()
    assert "PLANACTOR_LAB" not in out


def test_init_elsewhere_with_options(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--path, --scenario and --latency-ms are honoured; the output says how to point at it."""
    path = tmp_path / "labs" / "slow.json"
    code, out, _ = run(
        capsys,
        "lab",
        "init",
        "storage",
        "--path",
        str(path),
        "--scenario",
        "slow",
        "--latency-ms",
        "7",
    )
    assert code == 0
    assert f"export PLANACTOR_LAB={path}" in out
    doc = Lab(path).read()
    assert (doc.scenario, doc.latency_ms) == ("slow", 7)


def test_init_refuses_to_overwrite_without_force(capsys: pytest.CaptureFixture[str]) -> None:
    """A second init fails with exit 2 and a hint; --force replaces the lab."""
    run(capsys, "lab", "init", "storage")
    code, _, err = run(capsys, "lab", "init", "storage")
    assert code == 2
    assert "already exists" in err
    assert "--force" in err
    assert run(capsys, "lab", "init", "storage", "--force")[0] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lab", "init", "storage", "--scenario", "nope"], "no scenario 'nope'"),
        (["lab", "init", "storage", "--latency-ms", "-5"], "--latency-ms must be 0 or more"),
        (["lab", "show"], "no lab at"),
    ],
)
def test_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Bad kinds, scenarios, latencies and a missing lab exit 2 with a message, no traceback."""
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_show_prints_tables(capsys: pytest.CaptureFixture[str]) -> None:
    """`lab show` prints arrays with firmware and state, hosts and paths, and the log summary."""
    run(capsys, "lab", "init", "storage")
    code, out, _ = run(capsys, "lab", "show")
    assert code == 0
    for text in ("array-01", "active-passive", "alua", "5.1.0", "online", "esx-08", "lun-20"):
        assert text in out
    assert "array-01-b up (passive)" in out
    assert "array-03-b up (active-non-optimized)" in out
    assert "operations: 0 logged" in out
    assert "violations: none" in out


def test_show_json_holds_operations_and_violations(
    capsys: pytest.CaptureFixture[str], home: Path
) -> None:
    """`lab show --json` is the document, with the operation log and the violations."""
    run(capsys, "lab", "init", "storage")
    lab = Lab(home / "lab.json")
    lab.operate(
        "move_paths",
        {"array": "array-01", "host": "esx-01", "to_controller": "array-01-b"},
        key="run-1/m",
    )
    lab.operate(
        "upgrade_firmware",
        {"array": "array-02", "controller": "array-02-a", "version": "5.2.0", "force": True},
        key="run-1/u",
    )
    code, out, _ = run(capsys, "lab", "show", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["kind"] == "storage"
    assert [o["idempotency_key"] for o in doc["operations"]] == ["run-1/m", "run-1/u"]
    assert len(doc["violations"]) == 6
    assert {v["kind"] for v in doc["violations"]} == {"DU"}
    _, table, _ = run(capsys, "lab", "show")
    assert "violations: 6" in table
    assert "upgrading array-02-a takes it offline" in table


def test_check_exits_1_on_violations(capsys: pytest.CaptureFixture[str]) -> None:
    """`lab check` exits 0 on a clean lab and 1 once a DU is recorded."""
    run(capsys, "lab", "init", "storage")
    assert run(capsys, "lab", "check")[0] == 0
    code, out, _ = run(capsys, "lab", "fault", "path-down", "esx-03", "array-01-a")
    assert code == 0
    assert "DU: path esx-03 -> array-01-a went down" in out
    code, out, _ = run(capsys, "lab", "check", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False
    assert doc["violations"][0]["host"] == "esx-03"


def test_fault_kinds_and_clear(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    """Each fault kind is injected with its arguments; clear-faults lifts them all."""
    run(capsys, "lab", "init", "storage")
    assert run(capsys, "lab", "fault", "host-down", "esx-02")[0] == 0
    assert run(capsys, "lab", "fault", "upgrade-fails", "array-01-a", "--times", "2")[0] == 0
    assert run(capsys, "lab", "fault", "timeout", "move_paths", "--before-apply")[0] == 0
    faults = Lab(home / "lab.json").read().faults
    assert faults == [
        {"kind": "host-down", "host": "esx-02"},
        {"kind": "upgrade-fails", "controller": "array-01-a", "times": 2},
        {"kind": "timeout", "operation": "move_paths", "times": 1, "applied": False},
    ]
    _, out, _ = run(capsys, "lab", "show")
    assert "esx-02 does not respond" in out
    assert "not responding" in out
    code, out, _ = run(capsys, "lab", "clear-faults")
    assert code == 0
    assert "cleared: esx-02 does not respond" in out
    assert Lab(home / "lab.json").read().faults == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lab", "fault", "meteor"], "unknown fault 'meteor'"),
        (["lab", "fault", "path-down", "esx-01"], "takes HOST CONTROLLER"),
        (["lab", "fault", "timeout", "format"], "cannot time out 'format'"),
        (["lab", "fault", "host-down", "esx-99"], "no host named 'esx-99'"),
    ],
)
def test_bad_faults_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """A fault that is unknown, short of arguments or naming nothing real exits 2."""
    run(capsys, "lab", "init", "storage")
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err


def test_scenarios_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    """`lab scenarios` lists every storage scenario with a description."""
    code, out, _ = run(capsys, "lab", "scenarios")
    assert code == 0
    for name in ("default", "path-down", "upgrade-fails", "host-unresponsive", "slow"):
        assert name in out


def test_planactor_lab_env_points_commands_at_a_lab(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PLANACTOR_LAB chooses the lab that show and fault use."""
    path = tmp_path / "mine.json"
    run(capsys, "lab", "init", "storage", "--path", str(path), "--scenario", "path-down")
    monkeypatch.setenv("PLANACTOR_LAB", str(path))
    code, out, _ = run(capsys, "lab", "show")
    assert code == 0
    assert "scenario path-down" in out
