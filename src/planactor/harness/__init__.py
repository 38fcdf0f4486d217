"""The harness: what decides, per request, between looking around and changing something.

`ask` is the adaptive, read-only loop (ReAct over the catalog's read actors, every action a
read-only engine run); writes are compiled into plans (`do`) and a paused run gets a
remediation plan (`recover`). See docs/harness.md.
"""

from planactor.harness._ask import (
    DEFAULT_MAX_STEPS,
    DEFAULT_MAX_TOKENS,
    AskResult,
    AskTurn,
    Observation,
    ask,
    ask_schema,
    read_actors,
)
from planactor.harness._diagnose import Ticket, diagnose, diagnosis_question, ticket
from planactor.harness._do import Effect, Gate, gate, plan_effect
from planactor.harness._playbooks import (
    PLAYBOOK_GROUP,
    Failure,
    Next,
    Playbook,
    Proposal,
    RecoveryContext,
    load_playbooks,
    playbooks,
    propose_by_playbook,
    register_playbook,
)
from planactor.harness._recover import Recovery, fix_runs, gather, propose_by_model, recover
from planactor.harness._storage_playbooks import STORAGE_PLAYBOOKS, storage_diagnostics

__all__ = [
    "DEFAULT_MAX_STEPS",
    "DEFAULT_MAX_TOKENS",
    "PLAYBOOK_GROUP",
    "STORAGE_PLAYBOOKS",
    "AskResult",
    "AskTurn",
    "Effect",
    "Failure",
    "Gate",
    "Next",
    "Observation",
    "Playbook",
    "Proposal",
    "Recovery",
    "RecoveryContext",
    "Ticket",
    "ask",
    "ask_schema",
    "diagnose",
    "diagnosis_question",
    "fix_runs",
    "gate",
    "gather",
    "load_playbooks",
    "plan_effect",
    "playbooks",
    "propose_by_model",
    "propose_by_playbook",
    "read_actors",
    "recover",
    "register_playbook",
    "storage_diagnostics",
    "ticket",
]
