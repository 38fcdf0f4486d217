"""What validation returns: problems with a code, a location, a message and a hint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Limits", "Problem", "Severity", "ValidationReport"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with a plan. `location` is a JSON path such as `steps[3].args.array`."""

    code: str
    location: str
    message: str
    hint: str | None = None
    severity: Severity = "error"
    step: str | None = None
    line: int | None = None
    column: int | None = None

    def to_document(self) -> dict[str, Any]:
        return {k: v for k, v in _fields(self).items() if v is not None}

    def __str__(self) -> str:
        pos = f" (line {self.line}, column {self.column})" if self.line is not None else ""
        text = f"{self.severity}: {self.location}{pos}: {self.message} [{self.code}]"
        return text + (f"\n  hint: {self.hint}" if self.hint else "")


def _fields(p: Problem) -> dict[str, Any]:
    return {name: getattr(p, name) for name in p.__dataclass_fields__}


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Size limits on a plan; validation refuses larger ones before looking further."""

    max_steps: int = 10_000
    max_bytes: int = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationReport:
    """Every problem found, errors and warnings, in document order."""

    problems: tuple[Problem, ...] = ()
    plan_hash: str | None = None
    step_count: int = field(default=0)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    def to_document(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "plan_hash": self.plan_hash,
            "steps": self.step_count,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [p.to_document() for p in self.problems],
        }
