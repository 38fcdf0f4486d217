"""Policy and approvals: who may approve, what a plan needs before it runs, and why.

Approvals are Ed25519 signatures over a plan's hash (`planactor approve`); policy is a YAML
file of rules (docs/policy.md) judged statically by the validator and again at run start.
"""

from planactor.policy._approvals import (
    ApprovalCheck,
    Verdict,
    VerdictCode,
    check_approvals,
    judge,
    sign,
)
from planactor.policy._authorize import Authorization, authorize, enforce, review
from planactor.policy._keys import KeyStore, PublicKey, is_machine_identity, key_id_of
from planactor.policy._load import default_policy_text, load_policy, parse_policy, policy_path
from planactor.policy._resume import reauthorize
from planactor.policy._rules import (
    Match,
    PolicyDoc,
    PolicyReport,
    Requirement,
    RequirementOutcome,
    Rule,
    RuleOutcome,
    RulePolicy,
    Window,
    blast_radius,
)

__all__ = [
    "ApprovalCheck",
    "Authorization",
    "KeyStore",
    "Match",
    "PolicyDoc",
    "PolicyReport",
    "PublicKey",
    "Requirement",
    "RequirementOutcome",
    "Rule",
    "RuleOutcome",
    "RulePolicy",
    "Verdict",
    "VerdictCode",
    "Window",
    "authorize",
    "blast_radius",
    "check_approvals",
    "default_policy_text",
    "enforce",
    "is_machine_identity",
    "judge",
    "key_id_of",
    "load_policy",
    "parse_policy",
    "policy_path",
    "reauthorize",
    "review",
    "sign",
]
