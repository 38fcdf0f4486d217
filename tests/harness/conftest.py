"""Fixtures of the harness tests: a storage lab world with its journal (tests/recovery_lab)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recovery_lab import World, world


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    """A fresh storage lab, trusted keys, policy and a journal on disk; closed afterwards."""
    lab = world(tmp_path)
    yield lab
    lab.journal.close()
