"""What a step does to the world, as reviewers and auditors see it: its kind.

The catalog decides an actor's kind from its metadata (effect, irreversible); the
renderings, the audit report and the CLI only read it, so it lives beside the plan model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

__all__ = ["KindOf", "StepKind"]

StepKind = Literal["read", "write", "irreversible", "unknown"]
KindOf = Callable[[str], StepKind]  # actor name -> its kind ("unknown" when not in the catalog)
