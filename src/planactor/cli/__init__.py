"""The `planactor` command line. Commands live in one module per group; errors map to
exit codes in one place (`_app.main`). The exit codes are documented in docs/cli.md.

A command's module is imported only when that command runs: start-up pays for typer and
nothing else (docs/benchmarks.md, `planactor bench startup`). To add a command, add its
name, module and one-line help (shown by `planactor --help`) to COMMANDS below.
"""

from planactor.cli._app import app, lazy_commands, main

__all__ = ["COMMANDS", "app", "main"]

# command name -> (module in planactor.cli that registers it on `app`, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "actor-run": ("_actor_run", "Run one actor once with its idempotency key (exported plans)."),
    "actors": ("_actors", "List the catalog's actors, or show one."),
    "approve": ("_approve", "Sign a plan's exact hash as NAME; the approval goes in the plan."),
    "ask": ("_ask", "Answer a question from read-only observations; changes nothing."),
    "audit": ("_audit", "Audit runs: the report, `audit verify`, `audit head`."),
    "bench": ("_bench", "Run a benchmark (`planactor bench --help` lists them)."),
    "demo": ("_demo", "The end-to-end story on a simulated storage lab, offline."),
    "diff": ("_diff", "Show what changed between two plans, argument by argument."),
    "do": ("_do", "Plan, validate, approve, run and summarize in one command."),
    "export": ("_export", "Export a plan to Argo Workflows or Step Functions, or refuse why."),
    "eval": ("_eval", "Measure a planner against a labelled set of intents (never gates)."),
    "keys": ("_approve", "Approver keys (Ed25519) under $PLANACTOR_HOME/keys."),
    "lab": ("_lab", "The simulated infrastructure that actors read and change."),
    "plan": ("_plan", "Compile an intent into a plan: routine, grounding, validation."),
    "policy": ("_policy", "The policy a plan must meet before it runs."),
    "recover": ("_recover", "Propose a remediation plan for a paused run; never run it."),
    "replay": ("_run", "Check determinism: re-derive a run's decisions from its record."),
    "resume": ("_run", "Continue a paused or interrupted run, re-checking everything."),
    "routines": ("_routines", "List the routines (tested workflow templates), or show one."),
    "run": ("_run", "Validate, check approvals and policy, and run a plan, journaled."),
    "runs": ("_run", "List the runs in the journal, oldest first."),
    "schema": ("_schema", "JSON Schemas of planactor's file formats."),
    "serve": ("_serve", "Serve the review console: review, approve, run and audit in a browser."),
    "show": ("_show", "Render a plan for review (table, Mermaid, DOT or JSON)."),
    "validate": ("_validate", "Check a plan against the catalog; list every problem found."),
    "worker": ("_worker", "Serve Temporal runs (`run --engine temporal`) on a task queue."),
}
lazy_commands(COMMANDS)
