"""The `network` pack: data-centre fabric design (leaf-spine and k-ary fat-tree) and checks.

Read actors, pure: they compute, they touch no device.

    network.design_fabric     a two-tier leaf-spine (Clos) fabric, validated
    network.design_fat_tree   a k-ary fat-tree, validated
    network.validate_fabric   the validation report of a fabric document

The generator, the model, the validator and the renderings are plain Python in
`planactor.fabric` (re-exported here): `leaf_spine(LeafSpineSpec(...))`, `check_fabric(fabric)`,
`to_json(fabric)`, `to_dot(fabric)`. Conventions (RFC 7938 eBGP, /31 links, names and ports)
are in docs/network.md.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from planactor._errors import InputError
from planactor.actors.network._lab_actors import (
    ApplyFabricInput,
    ApplyFabricOutput,
    CheckReachabilityInput,
    LabTopologyOutput,
    NetworkChange,
    PathBetweenInput,
    ReachabilityOutput,
    RemoveFabricInput,
    RemoveFabricOutput,
    ServerPath,
    SetLinkStateInput,
    SetLinkStateOutput,
    SwitchChangeOutput,
    SwitchInput,
    apply_fabric,
    check_reachability,
    drain_switch,
    lab_topology,
    path_between,
    remove_fabric,
    set_link_state,
    undrain_switch,
)
from planactor.catalog import actor
from planactor.fabric import (
    CODES,
    Endpoint,
    EndpointDocument,
    Fabric,
    FabricDocument,
    FabricReport,
    FatTreeParams,
    FatTreeSpec,
    FatTreeSpecDocument,
    Finding,
    FindingDocument,
    LeafSpineParams,
    LeafSpineSpec,
    LeafSpineSpecDocument,
    Link,
    LinkDocument,
    Port,
    PortDocument,
    ReportDocument,
    Summary,
    SummaryDocument,
    Switch,
    SwitchDocument,
    check_document,
    check_fabric,
    check_spec,
    fat_tree,
    from_document,
    generate,
    leaf_spine,
    oversubscription,
    port_map,
    summarize,
    to_document,
    to_dot,
    to_json,
)

__all__ = [
    "CODES",
    "ApplyFabricInput",
    "ApplyFabricOutput",
    "CheckReachabilityInput",
    "DesignFabricInput",
    "DesignFatTreeInput",
    "DesignOutput",
    "Endpoint",
    "EndpointDocument",
    "Fabric",
    "FabricDocument",
    "FabricReport",
    "FatTreeParams",
    "FatTreeSpec",
    "FatTreeSpecDocument",
    "Finding",
    "FindingDocument",
    "LabTopologyOutput",
    "LeafSpineParams",
    "LeafSpineSpec",
    "LeafSpineSpecDocument",
    "Link",
    "LinkDocument",
    "NetworkChange",
    "PathBetweenInput",
    "Port",
    "PortDocument",
    "ReachabilityOutput",
    "RemoveFabricInput",
    "RemoveFabricOutput",
    "ReportDocument",
    "ServerPath",
    "SetLinkStateInput",
    "SetLinkStateOutput",
    "Summary",
    "SummaryDocument",
    "Switch",
    "SwitchChangeOutput",
    "SwitchDocument",
    "SwitchInput",
    "ValidateFabricInput",
    "apply_fabric",
    "check_document",
    "check_fabric",
    "check_reachability",
    "check_spec",
    "design_fabric",
    "design_fat_tree",
    "drain_switch",
    "fat_tree",
    "from_document",
    "generate",
    "lab_topology",
    "leaf_spine",
    "oversubscription",
    "path_between",
    "port_map",
    "remove_fabric",
    "set_link_state",
    "summarize",
    "to_document",
    "to_dot",
    "to_json",
    "undrain_switch",
    "validate_fabric",
]


def _possible(spec: LeafSpineSpec | FatTreeSpec) -> None:
    """Refuse, as a validation error of the input model, a spec no fabric can meet."""
    try:
        check_spec(spec)
    except InputError as e:
        text = f"{e.message} ({e.hint})" if e.hint else e.message
        raise PydanticCustomError("impossible_fabric", "{text}", {"text": text}) from None


class DesignFabricInput(LeafSpineParams):
    """A leaf-spine design request; impossible combinations (a leaf with more uplinks than
    ports, a pool too small for the links) are refused as validation errors."""

    @model_validator(mode="after")
    def _check(self) -> DesignFabricInput:
        _possible(self.to_spec())
        return self


class DesignFatTreeInput(FatTreeParams):
    """A fat-tree design request; an odd k is refused as a validation error."""

    @model_validator(mode="after")
    def _check(self) -> DesignFatTreeInput:
        _possible(self.to_spec())
        return self


class DesignOutput(BaseModel):
    fabric: FabricDocument = Field(description="The fabric: summary, spec, switches, links.")
    report: ReportDocument = Field(description="Its validation report.")


class ValidateFabricInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fabric: FabricDocument = Field(description="A fabric document, as the design actors return.")


def _design(spec: LeafSpineSpec | FatTreeSpec) -> DesignOutput:
    fabric = generate(spec)
    return DesignOutput(
        fabric=FabricDocument.of(fabric), report=ReportDocument.of(check_fabric(fabric))
    )


@actor(name="network.design_fabric", effect="read", tags=("network",))
def design_fabric(args: DesignFabricInput) -> DesignOutput:
    """Design a leaf-spine (Clos) fabric: switches, links, port maps, ASNs, /31s, checked."""
    return _design(args.to_spec())


@actor(name="network.design_fat_tree", effect="read", tags=("network",))
def design_fat_tree(args: DesignFatTreeInput) -> DesignOutput:
    """Design a k-ary fat-tree: switches, links, port maps, ASNs, /31s, checked."""
    return _design(args.to_spec())


@actor(name="network.validate_fabric", effect="read", tags=("network",))
def validate_fabric(args: ValidateFabricInput) -> ReportDocument:
    """Check a fabric document: mesh, ports, addresses, ASNs, oversubscription."""
    return ReportDocument.of(check_document(args.fabric))
