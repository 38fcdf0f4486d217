"""Fixtures for the command line's tests: a home of their own, and packs the CLI can run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import install_pack, uninstall_pack
from planactor.testing import OUTSIDE_ENV


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own PLANACTOR_HOME (journal, keys, plan cache, lab) and the defaults:
    no lab, policy, model or API keys from the outside."""
    monkeypatch.setenv("PLANACTOR_HOME", str(tmp_path / "home"))
    # `--lab` exports PLANACTOR_LAB for the actors: set first, so that it is undone after.
    monkeypatch.setenv("PLANACTOR_LAB", "unset")
    for name in OUTSIDE_ENV:
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


@pytest.fixture
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal 200 columns wide, so that tables are not wrapped."""
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def testing_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """planactor.testing installed as a third-party pack, so the CLI can run writes."""
    site = install_pack(
        tmp_path, monkeypatch, "testing", "planactor.testing", dist="planactor_testing_pack"
    )
    yield
    uninstall_pack(site)
