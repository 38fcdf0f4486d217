"""planactor.bench._energy: RAPL counters on a fake sysfs tree, and the CPU-time estimate."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from planactor.bench._energy import EnergyMeter, rapl_domains


def _domain(root: Path, name: str, energy_uj: int, max_range_uj: int = 10**12) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "energy_uj").write_text(f"{energy_uj}\n")
    (folder / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
    return folder / "energy_uj"


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_rapl_sums_top_level_packages_only(tmp_path: Path) -> None:
    """Two packages count; a package's sub-domain (core) and other zones do not."""
    p0 = _domain(tmp_path, "intel-rapl:0", 1_000_000)
    p1 = _domain(tmp_path, "intel-rapl:1", 5_000_000)
    core = _domain(tmp_path, "intel-rapl:0:0", 0)
    _domain(tmp_path, "dtpm", 0)
    assert rapl_domains(tmp_path) == [p0, p1]
    meter = EnergyMeter(root=tmp_path)
    assert meter.source == "rapl"
    assert "RAPL, 2 package(s)" in meter.describe()
    token = meter.start()
    p0.write_text("3500000\n")  # +2.5 J
    p1.write_text("5500000\n")  # +0.5 J
    core.write_text("9000000\n")  # inside package 0: not counted again
    reading = meter.stop(token)
    assert reading.source == "rapl"
    assert reading.joules == pytest.approx(3.0)


def test_rapl_counter_wrap_is_allowed_for(tmp_path: Path) -> None:
    """A counter that wrapped at max_energy_range_uj still gives the energy spent."""
    p0 = _domain(tmp_path, "intel-rapl:0", 9_000_000, max_range_uj=10_000_000)
    meter = EnergyMeter(root=tmp_path)
    token = meter.start()
    p0.write_text("1000000\n")  # 9 J -> wrap at 10 J -> 1 J: 2 J spent
    assert meter.stop(token).joules == pytest.approx(2.0)


def test_unreadable_rapl_falls_back_to_the_estimate(tmp_path: Path) -> None:
    """No powercap tree, or an unreadable counter: the CPU-time estimate, which says so."""
    folder = tmp_path / "intel-rapl:0"
    folder.mkdir()
    (folder / "energy_uj").mkdir()  # a directory where the counter should be: unreadable
    for root in (tmp_path / "missing", tmp_path):
        meter = EnergyMeter(root=root, watts_per_core=7.0)
        assert meter.source == "estimate"
        assert meter.describe().startswith("ESTIMATE")
        assert "7 W per busy core" in meter.describe()


def test_estimate_is_cpu_time_times_watts(tmp_path: Path) -> None:
    """Busy for ~0.2 s of CPU at 10 W per core: ~2 J; idle (sleeping) costs ~nothing."""
    meter = EnergyMeter(root=tmp_path / "missing", watts_per_core=10.0)
    token = meter.start()
    cpu = time.process_time()
    _burn(0.2)
    spent = time.process_time() - cpu
    busy = meter.stop(token)
    assert busy.source == "estimate"
    assert busy.joules == pytest.approx(spent * 10.0, rel=0.2)
    token = meter.start()
    time.sleep(0.2)
    assert meter.stop(token).joules < 0.1


def test_watts_per_core_must_be_positive() -> None:
    """A zero or negative power figure is refused."""
    with pytest.raises(ValueError, match="positive"):
        EnergyMeter(watts_per_core=0)
