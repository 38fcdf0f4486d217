"""Energy of a measured call: RAPL counters when readable, else an estimate from CPU time.

RAPL (`/sys/class/powercap/intel-rapl:N/energy_uj`, one per CPU package) counts the whole
package's energy, every process's, in microjoules; the meter sums the top-level packages
(their `intel-rapl:N:M` sub-domains are parts of them, so adding those would count twice) and
allows for one wrap of each counter at `max_energy_range_uj`. Many machines do not let an
unprivileged user read it (since 2020 the files are root-only) and containers rarely have it;
then the meter estimates: this process's CPU time (all its threads, llama.cpp's included)
times a configured watts per busy core. That is an estimate and every report says so; it
covers this machine only, never a hosted model's servers.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_WATTS_PER_CORE",
    "POWERCAP",
    "EnergyMeter",
    "EnergyReading",
    "rapl_domains",
]

POWERCAP = Path("/sys/class/powercap")
# A busy server core draws roughly 5-15 W at the package (TDP / cores for current x86 parts);
# 10 W is the middle, and `--watts-per-core` changes it.
DEFAULT_WATTS_PER_CORE = 10.0
_TOP_LEVEL = re.compile(r"^intel-rapl:\d+$")


@dataclass(frozen=True, slots=True)
class _Domain:
    energy: Path
    max_range_uj: int


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def rapl_domains(root: Path = POWERCAP) -> list[Path]:
    """The readable top-level RAPL energy counters under `root`; empty when there are none."""
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        counter = entry / "energy_uj"
        if _TOP_LEVEL.match(entry.name) and _read_int(counter) is not None:
            found.append(counter)
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class EnergyReading:
    """Joules spent between `start()` and `stop()`, and how they were obtained."""

    joules: float
    source: str  # "rapl" or "estimate"


class EnergyMeter:
    """Measures the energy of a stretch of work: `token = meter.start(); ...; meter.stop(token)`.

    Uses RAPL when every top-level counter under `root` is readable, else CPU time x
    `watts_per_core` (source "estimate").
    """

    def __init__(
        self, *, root: Path = POWERCAP, watts_per_core: float = DEFAULT_WATTS_PER_CORE
    ) -> None:
        if not watts_per_core > 0:
            raise ValueError(f"watts per core must be positive, not {watts_per_core}")
        self.watts_per_core = watts_per_core
        self._domains = [
            _Domain(path, _read_int(path.parent / "max_energy_range_uj") or 0)
            for path in rapl_domains(root)
        ]

    @property
    def source(self) -> str:
        return "rapl" if self._domains else "estimate"

    def describe(self) -> str:
        """One line for reports: where the joules come from."""
        if self._domains:
            return f"RAPL, {len(self._domains)} package(s) (whole machine, all processes)"
        return (
            f"ESTIMATE: RAPL is not readable here; process CPU time x {self.watts_per_core:g} W"
            " per busy core (this machine only; a hosted model's servers are not counted)"
        )

    def _sample(self) -> tuple[float, list[int | None]]:
        return time.process_time(), [_read_int(d.energy) for d in self._domains]

    def start(self) -> tuple[float, list[int | None]]:
        return self._sample()

    def stop(self, token: tuple[float, list[int | None]]) -> EnergyReading:
        cpu0, counters0 = token
        cpu1, counters1 = self._sample()
        if self._domains and None not in counters0 and None not in counters1:
            total_uj = 0
            for domain, a, b in zip(self._domains, counters0, counters1, strict=True):
                assert a is not None
                assert b is not None
                delta = b - a
                if delta < 0:  # the counter wrapped
                    delta += domain.max_range_uj
                total_uj += max(0, delta)
            return EnergyReading(joules=total_uj / 1e6, source="rapl")
        return EnergyReading(joules=(cpu1 - cpu0) * self.watts_per_core, source="estimate")
