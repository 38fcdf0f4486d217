"""Audit records of runs: who asked, what was approved and by whom, what ran, and whether the
record still holds. Above the journal (which it reads) and the policy (whose signatures it
judges again); nothing below imports it.

`build_audit` is the pure core: a function of the run's record, its events, the chain report
and the re-judged approvals. `audit_run` and `verify_run` are the edge that reads them from a
journal. Checks, in the order they are reported:

    chain         the hash chain recomputes, the run's recorded head is its last event, and
                  each anchor (a head kept outside the journal) still names the same hash
    sequence      the run starts once, with event #0, and nothing follows its end
                  (run.succeeded, run.failed; a pause is not an end)
    plan          the stored plan hashes to the hash the run started with (event #0), its
                  planner metadata is the copy event #0 chained, and it carries no approval
                  the run did not record
    record        the run's row (status, intent, dry run, creation time) agrees with its events
    approval      every approval that authorized the run (recorded `valid`) still verifies:
                  signature, trusted key, plan hash, and expiry judged at the recorded check
                  time; likewise those each resume recorded (run.resumed)
    unauthorized  a run that could write (not a dry run, a write step by the catalog) recorded
                  an authorization

Besides findings, notes that do not fail a run: the policy in force is not the shipped default
(by hash, whatever its name), and stored fields the chain does not cover (`outside_chain`).

Modules: `_record` (the dataclasses), `_verify` (the checks), `_build` (the record from
events), `_read` (the journal edge), `_render_parts` / `_render_md` / `_render_html` /
`_render_json` (the reports).
"""

from planactor.audit._build import build_audit
from planactor.audit._links import LinkedRun, linked_runs, links_html, links_markdown
from planactor.audit._read import audit_run, run_ids, shipped_policy_hash, verify_run
from planactor.audit._record import (
    ANCHOR_FORMAT,
    AUDIT_FORMAT,
    Anchor,
    ApprovalAudit,
    AttemptAudit,
    AuditRecord,
    CompensationAudit,
    EventAudit,
    Finding,
    KindOf,
    PolicyInForce,
    RunEventAudit,
    StepAudit,
    Verification,
)
from planactor.audit._render_html import audit_html
from planactor.audit._render_json import audit_json
from planactor.audit._render_md import audit_markdown
from planactor.audit._verify import check_run, recheck_approvals

__all__ = [
    "ANCHOR_FORMAT",
    "AUDIT_FORMAT",
    "Anchor",
    "ApprovalAudit",
    "AttemptAudit",
    "AuditRecord",
    "CompensationAudit",
    "EventAudit",
    "Finding",
    "KindOf",
    "LinkedRun",
    "PolicyInForce",
    "RunEventAudit",
    "StepAudit",
    "Verification",
    "audit_html",
    "audit_json",
    "audit_markdown",
    "audit_run",
    "build_audit",
    "check_run",
    "linked_runs",
    "links_html",
    "links_markdown",
    "recheck_approvals",
    "run_ids",
    "shipped_policy_hash",
    "verify_run",
]
