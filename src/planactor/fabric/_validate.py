"""Checking a fabric: every finding with a code, where it is, a message and a hint.

`check_fabric` never raises on a broken fabric: it reports. The checks, in report order:
switches (names, roles, counts, positions, servers), ports (range, reuse, degree),
addresses (pools, duplicates, /31 pairs), ASNs (RFC 7938 eBGP), structure (the leaf-spine
mesh or the fat-tree wiring) and oversubscription.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from planactor.fabric._model import (
    ACCESS_ROLES,
    ROLES,
    TIER,
    Endpoint,
    Fabric,
    FatTreeSpec,
    Link,
    Switch,
    is_private_asn,
    oversubscription,
    port_name,
)

__all__ = ["CODES", "FabricReport", "Finding", "Severity", "check_fabric"]

Severity = Literal["error", "warning"]

# Every code the validator emits, its severity and what it means (docs/network.md lists them).
CODES: dict[str, tuple[Severity, str]] = {
    "duplicate-switch": ("error", "two switches share a name"),
    "wrong-role": ("error", "a switch's role does not belong to this kind of fabric"),
    "switch-count": ("error", "the number of switches of a role differs from the spec"),
    "bad-position": ("error", "a fat-tree switch's pod or index is out of range or taken"),
    "server-count": ("error", "a switch has a number of servers other than the spec's"),
    "unknown-switch": ("error", "a link end names a switch that is not in the fabric"),
    "self-link": ("error", "a link joins a switch to itself"),
    "port-out-of-range": ("error", "a port number is below 1 or above the switch's port count"),
    "duplicate-port": ("error", "a port is used twice (by two links, or a link and a server)"),
    "degree": ("error", "a switch uses more ports than it has"),
    "pool-overlap": ("error", "the point-to-point and loopback pools overlap"),
    "outside-pool": ("error", "an address is outside its pool"),
    "duplicate-address": ("error", "an address is used twice"),
    "not-a-31": ("error", "a link's two addresses are not the two halves of one /31"),
    "same-asn-link": ("error", "both ends of a link are in one ASN: no eBGP session"),
    "duplicate-asn": ("error", "an ASN is shared across BGP groups (leaves, pods, spines)"),
    "asn-scheme": ("warning", "a tier's ASNs do not follow the spec's scheme"),
    "asn-not-private": ("warning", "an ASN is outside the private ranges of RFC 6996"),
    "unexpected-link": ("error", "a link joins two switches that must not be linked"),
    "missing-link": ("error", "two switches that must be linked are not"),
    "link-count": ("error", "two switches are linked a number of times other than expected"),
    "oversubscribed": ("error", "an access switch's oversubscription is above the target"),
    "derived-mismatch": ("error", "a document's derived field disagrees with its links"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One thing wrong with a fabric; `where` is a switch, a port, `links[N]` or `spec.FIELD`."""

    code: str
    where: str
    message: str
    hint: str | None = None
    severity: Severity = "error"

    def to_document(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "where": self.where,
            "message": self.message,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        text = f"{self.severity}: {self.where}: {self.message} [{self.code}]"
        return text + (f"\n  hint: {self.hint}" if self.hint else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class FabricReport:
    """Every finding, in check order. `ok` when there is no error (warnings allowed)."""

    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_document(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_document() for f in self.findings],
        }


def _link_text(i: int, link: Link) -> str:
    return f"links[{i}] ({link.a.switch}:{link.a.port_name} -- {link.b.switch}:{link.b.port_name})"


def _end_text(end: Endpoint) -> str:
    return f"{end.switch}:{end.port_name}"


def _holder_text(holder: Switch | Endpoint) -> str:
    return f"switch {holder.name}" if isinstance(holder, Switch) else _end_text(holder)


def _address_text(holder: Switch | Endpoint) -> str:
    if isinstance(holder, Switch):
        return f"loopback {holder.loopback}/32"
    return f"{holder.address}/31"


def _ports_text(first: int, last: int) -> str:
    return port_name(first) if first == last else f"{port_name(first)}-{port_name(last)}"


class _Checker:
    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric
        self.spec = fabric.spec
        self.findings: list[Finding] = []
        # The first switch of a name; duplicates are reported, not checked twice.
        self.by_name: dict[str, Switch] = {}
        for sw in fabric.switches:
            self.by_name.setdefault(sw.name, sw)

    def add(self, code: str, where: str, message: str, hint: str | None = None) -> None:
        self.findings.append(
            Finding(code=code, where=where, message=message, hint=hint, severity=CODES[code][0])
        )

    def known(self, link: Link) -> bool:
        return link.a.switch in self.by_name and link.b.switch in self.by_name

    # -- switches ---------------------------------------------------------------------

    def switches(self) -> None:
        first: dict[str, int] = {}
        roles = ROLES[self.fabric.kind]
        for i, sw in enumerate(self.fabric.switches):
            if sw.name in first:
                self.add(
                    "duplicate-switch",
                    f"switches[{i}]",
                    f"name {sw.name!r} is already used by switches[{first[sw.name]}]",
                    "give every switch its own name",
                )
                continue
            first[sw.name] = i
            if sw.role not in roles:
                self.add(
                    "wrong-role",
                    f"switch {sw.name}",
                    f"role {sw.role!r} is not part of a {self.fabric.kind} fabric",
                    f"use one of: {', '.join(roles)}",
                )
        counts: Counter[str] = Counter(sw.role for sw in self.by_name.values())
        for role, expected in self.expected_counts().items():
            if counts[role] != expected:
                self.add(
                    "switch-count",
                    "switches",
                    f"{counts[role]} {role} switches, the spec asks for {expected}",
                    "generate the fabric again from its spec, or fix the spec",
                )
        if isinstance(self.spec, FatTreeSpec):
            self.positions(self.spec)
        self.servers()

    def expected_counts(self) -> dict[str, int]:
        spec = self.spec
        if isinstance(spec, FatTreeSpec):
            h = spec.k // 2
            return {"core": h * h, "aggregation": spec.k * h, "edge": spec.k * h}
        return {"spine": spec.spines, "leaf": spec.leaves}

    def positions(self, spec: FatTreeSpec) -> None:
        h = spec.k // 2
        taken: dict[tuple[str, int | None, int], str] = {}
        for sw in self.by_name.values():
            if sw.role == "core":
                ok, bounds = sw.pod is None and 1 <= sw.index <= h * h, f"no pod, index 1-{h * h}"
            elif sw.role in ("aggregation", "edge"):
                ok = sw.pod is not None and 1 <= sw.pod <= spec.k and 1 <= sw.index <= h
                bounds = f"pod 1-{spec.k}, index 1-{h}"
            else:
                continue  # reported as wrong-role
            key = (sw.role, sw.pod, sw.index)
            if not ok:
                self.add(
                    "bad-position",
                    f"switch {sw.name}",
                    f"{sw.role} switch at pod {sw.pod}, index {sw.index}; a k={spec.k} "
                    f"fat-tree has {bounds}",
                )
            elif key in taken:
                self.add(
                    "bad-position",
                    f"switch {sw.name}",
                    f"{sw.role} position pod {sw.pod}, index {sw.index} is already {taken[key]}'s",
                )
            else:
                taken[key] = sw.name

    def servers(self) -> None:
        spec = self.spec
        expected = spec.k // 2 if isinstance(spec, FatTreeSpec) else spec.servers_per_leaf
        for sw in self.by_name.values():
            want = expected if sw.role in ACCESS_ROLES else 0
            if sw.servers != want:
                self.add(
                    "server-count",
                    f"switch {sw.name}",
                    f"{sw.servers} servers on this {sw.role} switch, the spec says {want}",
                    "servers attach to leaf (edge) switches only, as many as the spec says",
                )

    # -- ports ------------------------------------------------------------------------

    def ports(self) -> None:
        used: dict[tuple[str, int], int] = {}
        degree = Counter({name: sw.servers for name, sw in self.by_name.items()})
        for i, link in enumerate(self.fabric.links):
            for end in (link.a, link.b):
                sw = self.by_name.get(end.switch)
                if sw is None:
                    self.add(
                        "unknown-switch",
                        f"links[{i}]",
                        f"{_link_text(i, link)} names switch {end.switch!r}, "
                        "which is not in the fabric",
                        "add the switch or remove the link",
                    )
                    continue
                degree[sw.name] += 1
                if not 1 <= end.port <= sw.port_count:
                    self.add(
                        "port-out-of-range",
                        _end_text(end),
                        f"{_link_text(i, link)} uses port {end.port}; {sw.name} has ports "
                        f"{_ports_text(1, sw.port_count)}",
                    )
                if 1 <= end.port <= sw.servers:
                    self.add(
                        "duplicate-port",
                        _end_text(end),
                        f"{_link_text(i, link)} uses a server port "
                        f"(servers use {_ports_text(1, sw.servers)})",
                        "uplink ports come after the server ports",
                    )
                elif (key := (sw.name, end.port)) in used:
                    self.add(
                        "duplicate-port",
                        _end_text(end),
                        f"{_link_text(i, link)} reuses the port of links[{used[key]}]",
                        "every link needs a port of its own at each end",
                    )
                else:
                    used[key] = i
            if link.a.switch == link.b.switch:
                self.add(
                    "self-link",
                    f"links[{i}]",
                    f"{_link_text(i, link)} joins {link.a.switch} to itself",
                )
        for name, n in degree.items():
            sw = self.by_name[name]
            if n > sw.port_count:
                self.add(
                    "degree",
                    f"switch {name}",
                    f"{name} uses {n} ports ({sw.servers} servers, {n - sw.servers} links) "
                    f"but has {sw.port_count}",
                    "use a switch with more ports, or fewer servers or links",
                )

    # -- addresses --------------------------------------------------------------------

    def addresses(self) -> None:
        p2p, loop = self.spec.p2p_pool, self.spec.loopback_pool
        if p2p.overlaps(loop):
            self.add(
                "pool-overlap",
                "spec.p2p_pool",
                f"p2p_pool {p2p} and loopback_pool {loop} overlap",
                "give loopbacks a pool of their own",
            )
        p2p_lo, loop_lo = int(p2p.network_address), int(loop.network_address)
        p2p_hi, loop_hi = p2p_lo + p2p.num_addresses, loop_lo + loop.num_addresses
        # address -> who holds it; the text is built only for a finding (a clean fabric
        # formats no address).
        owner: dict[int, Switch | Endpoint] = {}

        def claim(address: int, holder: Switch | Endpoint) -> None:
            first = owner.get(address)
            if first is None:
                owner[address] = holder
                return
            self.add(
                "duplicate-address",
                _holder_text(holder),
                f"{_address_text(holder)} is also {_holder_text(first)}'s",
                "every interface needs an address of its own",
            )

        for sw in self.fabric.switches:
            address = int(sw.loopback)
            if not loop_lo <= address < loop_hi:
                self.add(
                    "outside-pool",
                    f"switch {sw.name}",
                    f"loopback {sw.loopback}/32 is outside loopback_pool {loop}",
                )
            claim(address, sw)
        for i, link in enumerate(self.fabric.links):
            a, b = int(link.a.address), int(link.b.address)
            for end, address in ((link.a, a), (link.b, b)):
                if not p2p_lo <= address < p2p_hi:
                    self.add(
                        "outside-pool",
                        _end_text(end),
                        f"{end.address}/31 on {_link_text(i, link)} is outside p2p_pool {p2p}",
                    )
                claim(address, end)
            if a >> 1 != b >> 1 or a == b:
                self.add(
                    "not-a-31",
                    f"links[{i}]",
                    f"{_link_text(i, link)}: {link.a.address} and {link.b.address} are not "
                    "the two addresses of one /31",
                    "number each link from one /31: the even address on the upper end",
                )

    # -- ASNs (RFC 7938) --------------------------------------------------------------

    def group(self, sw: Switch) -> str:
        """The BGP group a switch belongs to: one ASN per group, none shared between groups."""
        if sw.role in ("spine", "core"):
            return f"{sw.role}s"
        if sw.role == "aggregation":
            return f"pod {sw.pod} aggregation"
        return sw.name

    def asns(self) -> None:
        groups: dict[int, dict[str, str]] = {}  # asn -> group -> first switch
        members: dict[str, list[Switch]] = {}
        for sw in self.by_name.values():
            if not is_private_asn(sw.asn):
                self.add(
                    "asn-not-private",
                    f"switch {sw.name}",
                    f"AS{sw.asn} is not a private ASN",
                    "RFC 7938 fabrics use 64512-65534 or 4200000000-4294967294",
                )
            group = self.group(sw)
            members.setdefault(group, []).append(sw)
            seen = groups.setdefault(sw.asn, {})
            if seen and group not in seen:
                other = next(iter(seen.values()))
                self.add(
                    "duplicate-asn",
                    f"switch {sw.name}",
                    f"{sw.name} shares AS{sw.asn} with {other}; each leaf, each pod's "
                    "aggregation layer and the spine (core) layer need ASNs of their own",
                    "renumber from asn_base, or generate the fabric again",
                )
            seen.setdefault(group, sw.name)
        for i, link in enumerate(self.fabric.links):
            if not self.known(link) or link.a.switch == link.b.switch:
                continue
            a, b = self.by_name[link.a.switch], self.by_name[link.b.switch]
            if a.asn == b.asn:
                self.add(
                    "same-asn-link",
                    f"links[{i}]",
                    f"{_link_text(i, link)}: both ends are in AS{a.asn}, so no eBGP session",
                    "give the two tiers different ASNs",
                )
        self.asn_scheme(members)

    def asn_scheme(self, members: dict[str, list[Switch]]) -> None:
        spec = self.spec
        per_spine = not isinstance(spec, FatTreeSpec) and spec.spine_asn == "per-spine"
        for group, sws in members.items():
            if len(sws) < 2:
                continue
            asns = [sw.asn for sw in sws]
            if per_spine and group == "spines":
                if len(set(asns)) != len(asns):
                    self.add(
                        "asn-scheme",
                        "spines",
                        "spine_asn is 'per-spine' but some spines share an ASN",
                        "give each spine its own ASN, or set spine_asn to 'shared'",
                    )
            elif len(set(asns)) != 1:
                self.add(
                    "asn-scheme",
                    group,
                    f"the {group} use {len(set(asns))} ASNs "
                    f"({', '.join(f'AS{a}' for a in sorted(set(asns)))}); RFC 7938 puts "
                    "them in one",
                    "one ASN per tier group avoids BGP path hunting",
                )

    # -- structure --------------------------------------------------------------------

    def structure(self) -> None:
        pairs: Counter[tuple[str, str]] = Counter()
        for i, link in enumerate(self.fabric.links):
            if not self.known(link) or link.a.switch == link.b.switch:
                continue
            a, b = self.by_name[link.a.switch], self.by_name[link.b.switch]
            upper, lower = (a, b) if TIER[a.role] >= TIER[b.role] else (b, a)
            if not self.allowed(upper, lower):
                self.add(
                    "unexpected-link",
                    f"links[{i}]",
                    f"{_link_text(i, link)} joins {upper.role} {upper.name} to {lower.role} "
                    f"{lower.name}, which this {self.fabric.kind} must not link",
                    self.wiring_hint(),
                )
                continue
            pairs[upper.name, lower.name] += 1
        per = 1 if isinstance(self.spec, FatTreeSpec) else self.spec.uplinks_per_spine
        for upper_name, lower_name in self.expected_pairs():
            n = pairs[upper_name, lower_name]
            where = f"{lower_name} -- {upper_name}"
            if n == 0:
                self.add(
                    "missing-link",
                    where,
                    f"{lower_name} has no link to {upper_name}",
                    self.wiring_hint(),
                )
            elif n != per:
                self.add(
                    "link-count",
                    where,
                    f"{lower_name} has {n} links to {upper_name}, the spec asks for {per}",
                    self.wiring_hint(),
                )

    def wiring_hint(self) -> str:
        if isinstance(self.spec, FatTreeSpec):
            return (
                "in a fat-tree, each edge links once to every aggregation switch of its pod, "
                "and aggregation switch J to cores (J-1)*k/2+1..J*k/2"
            )
        return "a leaf-spine fabric links every leaf to every spine, uplinks_per_spine times"

    def allowed(self, upper: Switch, lower: Switch) -> bool:
        spec = self.spec
        if not isinstance(spec, FatTreeSpec):
            return (upper.role, lower.role) == ("spine", "leaf")
        h = spec.k // 2
        if (upper.role, lower.role) == ("aggregation", "edge"):
            return upper.pod == lower.pod
        if (upper.role, lower.role) == ("core", "aggregation"):
            return (lower.index - 1) * h < upper.index <= lower.index * h
        return False

    def expected_pairs(self) -> Iterable[tuple[str, str]]:
        sws = self.by_name.values()
        if not isinstance(self.spec, FatTreeSpec):
            spines = [sw.name for sw in sws if sw.role == "spine"]
            leaves = [sw.name for sw in sws if sw.role == "leaf"]
            return ((s, leaf) for leaf in leaves for s in spines)
        h = self.spec.k // 2
        at: dict[tuple[str, int | None, int], str] = {}
        for sw in sws:
            at.setdefault((sw.role, sw.pod, sw.index), sw.name)
        expected: list[tuple[str, str]] = []
        for pod in range(1, self.spec.k + 1):
            for j in range(1, h + 1):
                agg = at.get(("aggregation", pod, j))
                if agg is None:
                    continue  # reported as switch-count
                for i in range(1, h + 1):
                    edge = at.get(("edge", pod, i))
                    if edge is not None:
                        expected.append((agg, edge))
                for c in range((j - 1) * h + 1, j * h + 1):
                    core = at.get(("core", None, c))
                    if core is not None:
                        expected.append((core, agg))
        return expected

    # -- oversubscription -------------------------------------------------------------

    def oversubscription(self) -> None:
        target = self.spec.oversubscription_max
        if target is None:
            return
        gbps = self.spec.server_link_gbps
        if isinstance(self.spec, FatTreeSpec):
            hint = "use faster uplinks (uplink_gbps) or slower server links"
        else:
            hint = (
                "add uplinks_per_spine or spines, use faster uplinks (uplink_gbps), "
                "or attach fewer servers per leaf"
            )
        for name, ratio in oversubscription(self.fabric).items():
            # A relative tolerance: 1.2 as a float is not exactly 6/5.
            if ratio is not None and ratio <= target * (1 + 1e-9):
                continue
            servers = self.by_name[name].servers * gbps
            shown = "no uplink capacity" if ratio is None else f"{ratio:g}:1"
            self.add(
                "oversubscribed",
                f"switch {name}",
                f"{name}: {servers} Gbps of servers over its uplinks is {shown}, "
                f"above the target {target:g}:1",
                hint,
            )


def check_fabric(fabric: Fabric) -> FabricReport:
    """Every finding about a fabric: structure, ports, addresses, ASNs, oversubscription."""
    checker = _Checker(fabric)
    checker.switches()
    checker.ports()
    checker.addresses()
    checker.asns()
    checker.structure()
    checker.oversubscription()
    return FabricReport(findings=tuple(checker.findings))
