"""Fixtures for the console's tests: a home of their own, the testing pack installed (for
the console and for the `planactor run` it starts), two approvers, and a folder of plans."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from consoletools import TOKEN, plan_doc, save, settings, write_steps
from starlette.testclient import TestClient

from clitools import install_pack, uninstall_pack
from planactor.console import create_app
from planactor.policy import KeyStore
from planactor.testing import OUTSIDE_ENV


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Its own PLANACTOR_HOME and no outside settings; the testing pack importable here and
    in the child processes the console starts."""
    monkeypatch.setenv("PLANACTOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PLANACTOR_LAB", "unset")
    for name in OUTSIDE_ENV:
        monkeypatch.delenv(name, raising=False)
    site = install_pack(
        tmp_path, monkeypatch, "testing", "planactor.testing", dist="planactor_testing_pack"
    )
    paths = [str(site), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    yield tmp_path / "home"
    uninstall_pack(site)


@pytest.fixture
def keys(home: Path) -> KeyStore:
    """Approvers alice (who requests the plans) and bob (who reviews them)."""
    store = KeyStore()
    store.new("alice")
    store.new("bob")
    return store


@pytest.fixture
def plans(tmp_path: Path) -> Path:
    """A folder with one write plan (`write.json`) requested by alice."""
    folder = tmp_path / "plans"
    folder.mkdir()
    save(folder / "write.json", plan_doc(write_steps(tmp_path / "ledger.jsonl")))
    return folder


@pytest.fixture
def client(plans: Path, home: Path, keys: KeyStore) -> Iterator[TestClient]:
    """A client of the console that opened the URL with the token (so it holds the cookie)."""
    app = create_app(settings(plans, home))
    with TestClient(app, follow_redirects=False) as c:
        assert c.get(f"/plans?token={TOKEN}").status_code == 200
        yield c
    app.state.console.launcher.close()


@pytest.fixture
def stranger(plans: Path, home: Path, keys: KeyStore) -> Iterator[TestClient]:
    """A client of the same console that never had the token."""
    with TestClient(create_app(settings(plans, home)), follow_redirects=False) as c:
        yield c
