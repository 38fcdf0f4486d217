"""Static validation of plans: every problem at once, each with code, location and hint.

Pure code: nothing here reads files, the clock or the network.
"""

# Inventory lives beside the plan model (planactor.plan); re-exported for existing imports.
from planactor.plan import Inventory
from planactor.validate._policy import AllOf, Policy
from planactor.validate._report import Limits, Problem, Severity, ValidationReport
from planactor.validate._validate import validate
from planactor.validate._validated import ValidatedPlan, validate_plan

__all__ = [
    "AllOf",
    "Inventory",
    "Limits",
    "Policy",
    "Problem",
    "Severity",
    "ValidatedPlan",
    "ValidationReport",
    "validate",
    "validate_plan",
]
