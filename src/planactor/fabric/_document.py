"""The fabric as a JSON document: pydantic models (the network actors' inputs and outputs,
and what the network lab applies).

`LeafSpineParams` and `FatTreeParams` are the design inputs (the actors' input models
extend them); a document's `spec` is one of them plus its `kind`. `from_document` turns a
document into the dataclass model the validator checks; `FabricDocument.of` does the reverse
through `to_document`.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from planactor.fabric._model import (
    DEFAULT_LOOPBACK_POOL,
    DEFAULT_P2P_POOL,
    Endpoint,
    Fabric,
    FatTreeSpec,
    LeafSpineSpec,
    Link,
    Role,
    SpineAsn,
    Switch,
)
from planactor.fabric._render import to_document
from planactor.fabric._validate import FabricReport, Finding, check_fabric

__all__ = [
    "EndpointDocument",
    "FabricDocument",
    "FatTreeParams",
    "FatTreeSpecDocument",
    "FindingDocument",
    "LeafSpineParams",
    "LeafSpineSpecDocument",
    "LinkDocument",
    "PortDocument",
    "ReportDocument",
    "SummaryDocument",
    "SwitchDocument",
    "check_document",
    "from_document",
]

_PORT = r"^Ethernet[1-9][0-9]*$"


# Dotted quad, each octet 0-255 without leading zeros; checked by pydantic-core's regex
# engine, so a large document costs no Python call per address.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_QUAD = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
P2PAddress = Annotated[str, Field(pattern=rf"^{_QUAD}/31$", examples=["10.0.0.0/31"])]
LoopbackAddress = Annotated[str, Field(pattern=rf"^{_QUAD}/32$", examples=["10.255.0.1/32"])]
PortName = Annotated[str, Field(pattern=_PORT, examples=["Ethernet49"])]

_Gbps = Annotated[int, Field(ge=1, le=1600)]
_Oversubscription = Annotated[
    float | None,
    Field(
        gt=0,
        le=1000,
        description="Largest allowed server-to-uplink capacity ratio (3.0 means 3:1); "
        "a leaf above it is reported as `oversubscribed`. None: no limit.",
    ),
]


def _pool_text(value: Any) -> Any:
    # A pool is written as text ("10.0.0.0/16"); a bare number or a boolean is a mistake that
    # ipaddress would otherwise read as an address.
    if not isinstance(value, str | IPv4Network):
        raise ValueError("write the pool as text, e.g. 10.0.0.0/16")
    return value


_Pool = Annotated[IPv4Network, BeforeValidator(_pool_text)]

_P2P_POOL = Field(
    default=DEFAULT_P2P_POOL,
    description="IPv4 pool the point-to-point /31s are taken from, in link order.",
)
_LOOPBACK_POOL = Field(
    default=DEFAULT_LOOPBACK_POOL,
    description="IPv4 pool for the /32 loopbacks, from its first host address.",
)
_ASN_BASE = Field(
    default=65000,
    ge=1,
    le=4294967294,
    description="First ASN; must be private (64512-65534 or 4200000000-4294967294).",
)


class LeafSpineParams(BaseModel):
    """What a leaf-spine fabric is asked to be."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    leaves: int = Field(ge=1, le=1024, description="Number of leaf (top-of-rack) switches.")
    spines: int = Field(ge=1, le=64, description="Number of spine switches.")
    servers_per_leaf: int = Field(
        ge=0, le=512, description="Servers on each leaf, on its first ports."
    )
    uplinks_per_spine: int = Field(
        default=1, ge=1, le=8, description="Parallel links from each leaf to each spine."
    )
    server_link_gbps: _Gbps = Field(default=25, description="Speed of a server link.")
    uplink_gbps: _Gbps = Field(default=100, description="Speed of a leaf-spine link.")
    oversubscription_max: _Oversubscription = None
    leaf_ports: int = Field(default=64, ge=1, le=512, description="Ports on a leaf switch.")
    spine_ports: int = Field(default=64, ge=1, le=2048, description="Ports on a spine switch.")
    p2p_pool: _Pool = _P2P_POOL
    loopback_pool: _Pool = _LOOPBACK_POOL
    asn_base: int = _ASN_BASE
    spine_asn: SpineAsn = Field(
        default="shared",
        description="'shared': every spine in asn_base, leaves from asn_base+1 (RFC 7938); "
        "'per-spine': one ASN per spine, leaves after them.",
    )

    def to_spec(self) -> LeafSpineSpec:
        return LeafSpineSpec(
            leaves=self.leaves,
            spines=self.spines,
            servers_per_leaf=self.servers_per_leaf,
            uplinks_per_spine=self.uplinks_per_spine,
            server_link_gbps=self.server_link_gbps,
            uplink_gbps=self.uplink_gbps,
            oversubscription_max=self.oversubscription_max,
            leaf_ports=self.leaf_ports,
            spine_ports=self.spine_ports,
            p2p_pool=self.p2p_pool,
            loopback_pool=self.loopback_pool,
            asn_base=self.asn_base,
            spine_asn=self.spine_asn,
        )


class FatTreeParams(BaseModel):
    """What a k-ary fat-tree is asked to be."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    k: int = Field(
        ge=2,
        le=32,
        description="Ports per switch, even: k pods of k/2 edge and k/2 aggregation "
        "switches, (k/2)^2 cores, k^3/4 hosts.",
    )
    server_link_gbps: _Gbps = Field(default=100, description="Speed of a host link.")
    uplink_gbps: _Gbps = Field(default=100, description="Speed of a switch-to-switch link.")
    oversubscription_max: _Oversubscription = None
    p2p_pool: _Pool = _P2P_POOL
    loopback_pool: _Pool = _LOOPBACK_POOL
    asn_base: int = _ASN_BASE

    def to_spec(self) -> FatTreeSpec:
        return FatTreeSpec(
            k=self.k,
            server_link_gbps=self.server_link_gbps,
            uplink_gbps=self.uplink_gbps,
            oversubscription_max=self.oversubscription_max,
            p2p_pool=self.p2p_pool,
            loopback_pool=self.loopback_pool,
            asn_base=self.asn_base,
        )


class LeafSpineSpecDocument(LeafSpineParams):
    kind: Literal["leaf-spine"]


class FatTreeSpecDocument(FatTreeParams):
    kind: Literal["fat-tree"]


class SummaryDocument(BaseModel):
    """Derived counts; `oversubscription` is the worst access switch's (None: no uplinks)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["leaf-spine", "fat-tree"]
    switches: int
    roles: dict[str, int]
    servers: int
    links: int
    asns: int
    oversubscription: float | None


class PortDocument(BaseModel):
    """One link port in a switch's port map (derived from the links)."""

    model_config = ConfigDict(extra="forbid")
    port: PortName
    role: Literal["uplink", "downlink"]
    peer: str
    peer_port: PortName
    speed_gbps: int
    address: P2PAddress


class SwitchDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    role: Role
    pod: int | None = Field(default=None, ge=1, description="Fat-tree pod, from 1.")
    index: int = Field(ge=1, description="Position in its tier (in its pod), from 1.")
    asn: int = Field(ge=1, le=4294967295)
    loopback: LoopbackAddress
    port_count: int = Field(ge=1)
    servers: int = Field(default=0, ge=0, description="Servers on ports 1..servers.")
    server_ports: str | None = Field(default=None, description="Derived: the server ports.")
    ports: list[PortDocument] | None = Field(
        default=None, description="Derived: the port map of its links, in port order."
    )


class EndpointDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    switch: str = Field(min_length=1)
    port: PortName
    address: P2PAddress


class LinkDocument(BaseModel):
    """A routed link; `a` is the upper-tier end (the even address of the /31)."""

    model_config = ConfigDict(extra="forbid")
    a: EndpointDocument
    b: EndpointDocument
    speed_gbps: int = Field(ge=1)
    subnet: str | None = Field(default=None, description="Derived: the link's /31.")


class FabricDocument(BaseModel):
    """A fabric: its spec, switches and links, plus derived views for people to read."""

    model_config = ConfigDict(extra="forbid")
    summary: SummaryDocument | None = Field(default=None, description="Derived counts.")
    spec: Annotated[LeafSpineSpecDocument | FatTreeSpecDocument, Field(discriminator="kind")]
    switches: list[SwitchDocument]
    links: list[LinkDocument]

    @classmethod
    def of(cls, fabric: Fabric) -> FabricDocument:
        return cls.model_validate(to_document(fabric))


class FindingDocument(BaseModel):
    code: str
    severity: Literal["error", "warning"]
    where: str
    message: str
    hint: str | None = None


class ReportDocument(BaseModel):
    """A validation report: `ok` when there is no error."""

    ok: bool
    errors: int
    warnings: int
    findings: list[FindingDocument]

    @classmethod
    def of(cls, report: FabricReport) -> ReportDocument:
        return cls.model_validate(report.to_document())


def _port(name: str) -> int:
    return int(name[len("Ethernet") :])


def _endpoint(doc: EndpointDocument) -> Endpoint:
    return Endpoint(switch=doc.switch, port=_port(doc.port), address=IPv4Address(doc.address[:-3]))


def from_document(doc: FabricDocument) -> Fabric:
    """The model a document describes (derived fields are ignored here; see check_document)."""
    spec = doc.spec.to_spec()
    switches = tuple(
        Switch(
            name=sw.name,
            role=sw.role,
            index=sw.index,
            pod=sw.pod,
            asn=sw.asn,
            loopback=IPv4Address(sw.loopback[:-3]),
            port_count=sw.port_count,
            servers=sw.servers,
        )
        for sw in doc.switches
    )
    links = tuple(
        Link(a=_endpoint(link.a), b=_endpoint(link.b), speed_gbps=link.speed_gbps)
        for link in doc.links
    )
    return Fabric(spec=spec, switches=switches, links=links)


def _first_difference(given: list[dict[str, Any]], derived: list[dict[str, Any]]) -> str:
    if len(given) != len(derived):
        return f"lists {len(given)} ports, its links use {len(derived)}"
    for mine, theirs in zip(given, derived, strict=True):
        for key, value in theirs.items():
            if mine.get(key) != value:
                return f"says {mine['port']} has {key} {mine.get(key)!r}, the links say {value!r}"
    return "differs from its links"  # pragma: no cover - unequal lists differ somewhere


def check_document(doc: FabricDocument) -> FabricReport:
    """Check a document: the fabric it describes (`check_fabric`), then that its derived
    fields (summary, port maps, server ports, subnets), where given, agree with it."""
    fabric = from_document(doc)
    findings = list(check_fabric(fabric).findings)
    derived = to_document(fabric)

    def mismatch(where: str, message: str) -> None:
        findings.append(
            Finding(
                code="derived-mismatch",
                where=where,
                message=message,
                hint="derived fields follow the links and switches: regenerate them, or leave "
                "them out",
            )
        )

    if doc.summary is not None:
        given = doc.summary.model_dump(mode="json")
        for key, value in derived["summary"].items():
            if given[key] != value:
                mismatch("summary", f"summary says {key} is {given[key]!r}, it is {value!r}")
    for sw, mine in zip(doc.switches, derived["switches"], strict=True):
        where = f"switch {sw.name}"
        if sw.server_ports is not None and sw.server_ports != mine["server_ports"]:
            mismatch(
                where,
                f"server_ports says {sw.server_ports}, {sw.servers} servers use "
                f"{mine['server_ports']}",
            )
        if sw.ports is not None:
            given_ports = [p.model_dump(mode="json") for p in sw.ports]
            if given_ports != mine["ports"]:
                mismatch(where, f"the port map {_first_difference(given_ports, mine['ports'])}")
    for i, (link, mine) in enumerate(zip(doc.links, derived["links"], strict=True)):
        if link.subnet is not None and link.subnet != mine["subnet"]:
            mismatch(f"links[{i}]", f"subnet says {link.subnet}, its addresses: {mine['subnet']}")
    return FabricReport(findings=tuple(findings))
