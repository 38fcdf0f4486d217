"""Helpers for the console's tests: the token, plan documents, the console's settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from planactor.console import ConsoleSettings

TOKEN = "test-token-0123456789abcdef"


def plan_doc(steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "api_version": "planactor/v1",
        "intent": "write the ledger",
        "requested_by": "alice",
        "steps": steps,
        **extra,
    }


def write_steps(ledger: Path, pause_s: float = 0.0) -> list[dict[str, Any]]:
    """check (read) -> wait -> write (write) -> settle -> done: a run that takes a moment."""
    return [
        {"id": "check", "actor": "core.echo", "args": {"message": "ledger ok"}},
        {"id": "wait", "actor": "core.sleep", "args": {"seconds": pause_s}, "after": ["check"]},
        {
            "id": "write",
            "actor": "testing.ledger_write",
            "args": {"ledger": str(ledger), "item": "a"},
            "after": ["wait"],
            "on_failure": "compensate",
        },
        {"id": "settle", "actor": "core.sleep", "args": {"seconds": pause_s}, "after": ["write"]},
        {"id": "done", "actor": "core.echo", "args": {"message": "written"}, "after": ["settle"]},
    ]


def save(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc, indent=2))
    return path


def settings(plans: Path, home: Path) -> ConsoleSettings:
    return ConsoleSettings(plans=plans, token=TOKEN, journal=home / "journal.db")
