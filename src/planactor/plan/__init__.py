"""The plan format: models, canonical JSON and hash, references, DAG utilities, renderings.

Pure code: nothing here reads files, the clock or the network.
"""

from planactor.plan._approval import APPROVAL_DOMAIN, Approval
from planactor.plan._basis import (
    Basis,
    BasisReader,
    FactChange,
    basis_changes,
    basis_digest,
    make_basis,
    plan_names,
)
from planactor.plan._canonical import canonical_json, canonical_text, content_hash
from planactor.plan._dag import dependencies, dependency_map, find_cycle, topological_order
from planactor.plan._diff import (
    ChangeKind,
    PlanDiff,
    StepChange,
    StepEntry,
    ValueChange,
    diff_plans,
)
from planactor.plan._identity import (
    IDENTITY_PATTERN,
    identity_key,
    identity_problem,
    requester_problem,
    same_person,
)
from planactor.plan._inventory import Inventory
from planactor.plan._json import JsonSyntaxError, format_location, parse_json
from planactor.plan._kinds import StepKind
from planactor.plan._model import (
    ACTOR_NAME_PATTERN,
    API_VERSION,
    JSON_CHECKED,
    STEP_ID_PATTERN,
    Condition,
    OnFailure,
    Origin,
    Plan,
    PlannerInfo,
    RetryPolicy,
    Step,
)
from planactor.plan._refs import (
    BadReference,
    InputRef,
    OutputRef,
    Reference,
    iter_references,
    parse_output_ref,
    resolve,
)
from planactor.plan._remaining import remaining_plan
from planactor.plan._render import reference_arrow, render_dot, render_mermaid, render_table

__all__ = [
    "ACTOR_NAME_PATTERN",
    "API_VERSION",
    "APPROVAL_DOMAIN",
    "IDENTITY_PATTERN",
    "JSON_CHECKED",
    "STEP_ID_PATTERN",
    "Approval",
    "BadReference",
    "Basis",
    "BasisReader",
    "ChangeKind",
    "Condition",
    "FactChange",
    "InputRef",
    "Inventory",
    "JsonSyntaxError",
    "OnFailure",
    "Origin",
    "OutputRef",
    "Plan",
    "PlanDiff",
    "PlannerInfo",
    "Reference",
    "RetryPolicy",
    "Step",
    "StepChange",
    "StepEntry",
    "StepKind",
    "ValueChange",
    "basis_changes",
    "basis_digest",
    "canonical_json",
    "canonical_text",
    "content_hash",
    "dependencies",
    "dependency_map",
    "diff_plans",
    "find_cycle",
    "format_location",
    "identity_key",
    "identity_problem",
    "iter_references",
    "make_basis",
    "parse_json",
    "parse_output_ref",
    "plan_names",
    "reference_arrow",
    "remaining_plan",
    "render_dot",
    "render_mermaid",
    "render_table",
    "requester_problem",
    "resolve",
    "same_person",
    "topological_order",
]
