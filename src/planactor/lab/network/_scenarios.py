"""Named network scenarios: a bare site of racks, or one with a leaf-spine fabric applied."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from planactor.fabric import LeafSpineSpec, leaf_spine, to_document
from planactor.lab.network._documents import faults_to_doc
from planactor.lab.network._model import Fault, NetworkState, Rack
from planactor.lab.network._operations import apply

__all__ = ["NETWORK_SCENARIOS", "NetworkScenario", "network_scenario"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkScenario:
    name: str
    description: str
    state: NetworkState
    faults: tuple[Fault, ...] = ()
    latency_ms: int = 0


def _site(racks: int, per_rack: int) -> NetworkState:
    rw, sw = len(str(racks)), max(2, len(str(per_rack)))
    return NetworkState(
        racks=tuple(
            Rack(
                name=f"rack-{i:0{rw}d}",
                servers=tuple(f"srv-{i:0{rw}d}-{k:0{sw}d}" for k in range(1, per_rack + 1)),
            )
            for i in range(1, racks + 1)
        )
    )


def _with_leaf_spine(state: NetworkState, spines: int) -> NetworkState:
    per_rack = max(len(r.servers) for r in state.racks)
    design = leaf_spine(
        LeafSpineSpec(leaves=len(state.racks), spines=spines, servers_per_leaf=per_rack)
    )
    out = apply(state, (), "apply_fabric", {"fabric": to_document(design), "by": "scenario"})
    assert out.status == "applied", out.error
    return out.state


def _default() -> NetworkScenario:
    return NetworkScenario(
        name="default",
        description="4 racks of 8 servers (srv-1-01..srv-4-08), no fabric yet",
        state=_site(4, 8),
    )


def _small() -> NetworkScenario:
    return NetworkScenario(
        name="small", description="2 racks of 4 servers, no fabric yet", state=_site(2, 4)
    )


def _built() -> NetworkScenario:
    return NetworkScenario(
        name="built",
        description="the default site with a leaf-spine fabric applied: 2 spines, a leaf per "
        "rack (leaf-1..leaf-4), all up",
        state=_with_leaf_spine(_site(4, 8), 2),
    )


def _degraded() -> NetworkScenario:
    state = _with_leaf_spine(_site(4, 8), 2)
    fault = Fault(kind="link-down", a="spine-1", b="leaf-1")
    out = apply(state, (), "inject_fault", faults_to_doc([fault])[0])
    return NetworkScenario(
        name="degraded",
        description="built, but link spine-1 -- leaf-1 has failed: leaf-1 hangs on spine-2 "
        "alone, so spine-2 cannot be drained",
        state=out.state,
        faults=out.faults,
    )


NETWORK_SCENARIOS: dict[str, Callable[[], NetworkScenario]] = {
    "default": _default,
    "small": _small,
    "built": _built,
    "degraded": _degraded,
}


def network_scenario(name: str) -> NetworkScenario:
    """The named scenario, built afresh; KeyError if there is none."""
    return NETWORK_SCENARIOS[name]()
