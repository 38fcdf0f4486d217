"""The network facts a plan depends on (its basis), and the facts a write changes on purpose.

Network routines read the site (`site.racks`, `site.servers_per_rack`) and which fabric is
applied; a plan naming switches also depends on each one's role and state, a plan naming
racks on the servers in them. Links are left out: the lab's guard judges them at run time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from planactor.lab.network._model import NetworkState

__all__ = ["basis_facts", "footprint"]


def basis_facts(state: NetworkState, names: Collection[str]) -> dict[str, dict[str, Any]]:
    """Entity (`site/site`, `rack/R`, `switch/S`) -> the fields a plan naming `names` reads."""
    fabric = state.fabric
    facts: dict[str, dict[str, Any]] = {
        "site/site": {
            "racks": len(state.racks),
            "servers_per_rack": max((len(r.servers) for r in state.racks), default=0),
            "fabric": fabric.fingerprint if fabric is not None else None,
        }
    }
    for rack in state.racks:
        if rack.name in names:
            facts[f"rack/{rack.name}"] = {"servers": list(rack.servers)}
    if fabric is not None:
        for name, sw in fabric.switches.items():
            if name in names:
                facts[f"switch/{name}"] = {"role": sw.role, "state": sw.state, "failed": sw.failed}
    return facts


def footprint(op: str, args: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(entity, field) glob patterns of the basis facts operation `op` changes on purpose."""
    match op:
        case "apply_fabric" | "remove_fabric":
            return [("site/site", "fabric"), ("switch/*", "*")]
        case "set_switch":
            return [(f"switch/{args.get('switch', '*')}", "state")]
    return []
