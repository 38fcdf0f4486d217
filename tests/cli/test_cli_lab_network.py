"""`planactor lab` on a network lab: init, scenarios, show, fault, check, clear-faults, --lab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clitools import run
from planactor.cli import main
from planactor.cli._lab_context import lab_context
from planactor.lab import Lab

pytestmark = pytest.mark.usefixtures("wide_terminal")


def test_init_network_creates_a_site(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    """`lab init network` writes a network lab and says what the site holds."""
    code, out, _ = run(capsys, "lab", "init", "network")
    assert code == 0
    assert "created a network lab (scenario default)" in out
    assert "4 racks, 32 servers, no fabric yet" in out
    doc = Lab(home / "lab.json").read()
    assert (doc.kind, doc.state["fabric"]) == ("network", None)


def test_init_network_with_a_scenario_and_a_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--scenario built applies a fabric from the start; --path puts the file elsewhere."""
    path = tmp_path / "net.json"
    code, out, _ = run(capsys, "lab", "init", "network", "--path", str(path), "--scenario", "built")
    assert code == 0
    assert "a leaf-spine fabric of 6 switches and 8 links" in out
    assert f"export PLANACTOR_LAB={path}" in out


def test_init_network_refuses_an_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown network scenario exits 2 and lists the ones there are."""
    code, _, err = run(capsys, "lab", "init", "network", "--scenario", "nope")
    assert code == 2
    assert "the network lab has no scenario 'nope'" in err
    assert "default, small, built, degraded" in err


def test_scenarios_network(capsys: pytest.CaptureFixture[str]) -> None:
    """`lab scenarios network` lists the network scenarios with their descriptions."""
    code, out, _ = run(capsys, "lab", "scenarios", "network")
    assert code == 0
    for name in ("default", "small", "built", "degraded"):
        assert name in out
    assert "no fabric yet" in out
    code, _, err = run(capsys, "lab", "scenarios", "quantum")
    assert code == 2
    assert "no 'quantum' lab" in err


def test_show_a_site_without_a_fabric(capsys: pytest.CaptureFixture[str]) -> None:
    """A bare site shows its racks and how to apply a fabric."""
    run(capsys, "lab", "init", "network")
    code, out, _ = run(capsys, "lab", "show")
    assert code == 0
    assert "network lab at" in out
    assert "fabric: none" in out
    assert "network.deploy_fabric" in out
    assert "8 (srv-1-01..srv-1-08)" in out
    assert "switches" not in out


def test_show_a_fabric(capsys: pytest.CaptureFixture[str]) -> None:
    """Switches with state and uplinks, links with state, racks per leaf, faults."""
    run(capsys, "lab", "init", "network", "--scenario", "degraded")
    code, out, _ = run(capsys, "lab", "show")
    assert code == 0
    assert "7/8 links working; every rack reaches every other" in out
    assert "spine-1:Ethernet1 -- leaf-1:Ethernet9" in out
    assert "failed" in out
    assert "1/2" in out  # leaf-1 keeps one working uplink
    assert "link spine-1 -- leaf-1 has failed" in out
    assert "violations: none" in out
    code, out, _ = run(capsys, "lab", "show", "--json")
    doc = json.loads(out)
    assert doc["kind"] == "network"
    assert doc["faults"] == [{"kind": "link-down", "a": "spine-1", "b": "leaf-1"}]


def test_faults_partition_check_and_clear(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    """switch-down cutting a leaf's last uplink records a partition that check and show report;
    clear-faults lifts it."""
    run(capsys, "lab", "init", "network", "--scenario", "degraded")
    code, out, _ = run(capsys, "lab", "fault", "switch-down", "spine-2")
    assert code == 0
    assert "fault: spine-2 has failed" in out
    assert "partition: spine-2 has failed (injected fault): 192 cross-rack" in out
    assert run(capsys, "lab", "fault", "apply-fails", "--times", "3")[0] == 0
    code, out, _ = run(capsys, "lab", "check")
    assert code == 1
    assert "leaf-1 (rack-1) has no working uplink" in out
    code, out, _ = run(capsys, "lab", "show")
    assert "rack-1/rack-2, rack-1/rack-3, rack-1/rack-4" in out
    assert "rack-2, rack-3, rack-4" in out  # what rack-1 cannot reach
    assert "the next 3 fabric apply(s) fail" in out
    code, out, _ = run(capsys, "lab", "clear-faults")
    assert code == 0
    assert "cleared: spine-2 has failed" in out
    lab = Lab(home / "lab.json").read()
    assert lab.faults == []
    assert all(not s["failed"] for s in lab.state["fabric"]["switches"])


def test_link_down_fault(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    """link-down SWITCH SWITCH fails every link between the two switches."""
    run(capsys, "lab", "init", "network", "--scenario", "built")
    code, out, _ = run(capsys, "lab", "fault", "link-down", "leaf-3", "spine-2")
    assert code == 0
    assert "fault: link leaf-3 -- spine-2 has failed" in out
    assert "partition" not in out
    links = Lab(home / "lab.json").read().state["fabric"]["links"]
    assert [ln["b"]["switch"] for ln in links if ln["failed"]] == ["leaf-3"]


@pytest.mark.parametrize(
    ("scenario", "argv", "message"),
    [
        ("built", ["path-down", "a", "b"], "it is a storage lab fault"),
        ("built", ["link-down", "spine-1"], "takes SWITCH SWITCH"),
        ("built", ["apply-fails", "x"], "takes no argument"),
        ("built", ["switch-down", "spine-9"], "no switch named 'spine-9'"),
        ("built", ["link-down", "leaf-1", "leaf-2"], "no link between leaf-1 and leaf-2"),
        ("default", ["switch-down", "spine-1"], "no fabric is applied"),
    ],
)
def test_bad_network_faults_exit_2(
    capsys: pytest.CaptureFixture[str], scenario: str, argv: list[str], message: str
) -> None:
    """A fault of the other kind, short of arguments or naming nothing real exits 2."""
    run(capsys, "lab", "init", "network", "--scenario", scenario)
    code, _, err = run(capsys, "lab", "fault", *argv)
    assert code == 2
    assert message in err


def test_storage_faults_on_a_storage_lab_still_work(capsys: pytest.CaptureFixture[str]) -> None:
    """A network fault on a storage lab is refused, naming the kind it belongs to."""
    run(capsys, "lab", "init", "storage")
    code, _, err = run(capsys, "lab", "fault", "switch-down", "spine-1")
    assert code == 2
    assert "it is a network lab fault" in err
    assert run(capsys, "lab", "fault", "host-down", "esx-02")[0] == 0


def test_lab_context_gives_the_planner_network_facts(tmp_path: Path) -> None:
    """`--lab` on a network lab: the inventory names racks, servers and switches; the facts
    hold the site's size for the routines."""
    path = tmp_path / "net.json"
    main_args = ["lab", "init", "network", "--path", str(path), "--scenario", "built"]
    with pytest.raises(SystemExit):
        main(main_args)
    context = lab_context(path)
    assert context is not None
    assert context.kind == "network"
    assert context.facts["site"]["racks"] == 4
    assert context.facts["site"]["servers_per_rack"] == 8
    assert context.inventory.names("switch") == frozenset(
        {"spine-1", "spine-2", "leaf-1", "leaf-2", "leaf-3", "leaf-4"}
    )
    assert "srv-4-08" in (context.inventory.names("server") or ())
    assert context.safety is None
