"""Where planactor keeps its state: `PLANACTOR_HOME` (default `~/.planactor`)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["default_journal", "home"]


def home() -> Path:
    return Path(os.environ.get("PLANACTOR_HOME") or Path.home() / ".planactor")


def default_journal() -> Path:
    return home() / "journal.db"
