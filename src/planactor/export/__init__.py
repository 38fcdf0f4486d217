"""Exports of approved plans to other orchestrators: Argo Workflows and Step Functions.

Each step becomes one call of `planactor actor-run` (`run_actor_once`) on the other side;
what the target cannot express is refused, step by step, never approximated. The mapping
table is in docs/exports.md.
"""

from planactor.export._actor_run import (
    ERROR_NAMES,
    EXIT_CODES,
    ActorRun,
    Verdict,
    parse_key,
    run_actor_once,
)
from planactor.export._argo import DEFAULT_IMAGE, OUTPUT_FILE, to_argo
from planactor.export._asl import DEFAULT_RESOURCE, to_stepfunctions
from planactor.export._common import FAILED_KEY, SKIPPED_KEY

__all__ = [
    "DEFAULT_IMAGE",
    "DEFAULT_RESOURCE",
    "ERROR_NAMES",
    "EXIT_CODES",
    "FAILED_KEY",
    "OUTPUT_FILE",
    "SKIPPED_KEY",
    "ActorRun",
    "Verdict",
    "parse_key",
    "run_actor_once",
    "to_argo",
    "to_stepfunctions",
]
