"""Fixtures for the declarative packs' tests: a home of their own, and pack folders."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from planactor.catalog import PACKS_ENV
from planactor.cli._app import catalog as cli_catalog
from planactor.testing import OUTSIDE_ENV

MakePack = Callable[..., Path]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own PLANACTOR_HOME and no packs, lab, policy or keys from outside."""
    monkeypatch.setenv("PLANACTOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PLANACTOR_LAB", "unset")  # `--lab` exports it: undone after the test
    monkeypatch.setenv(PACKS_ENV, "")
    for name in OUTSIDE_ENV:
        monkeypatch.delenv(name, raising=False)
    cli_catalog.cache_clear()
    yield tmp_path / "home"
    cli_catalog.cache_clear()  # the CLI's catalog may hold this test's packs


@pytest.fixture
def make_pack(tmp_path: Path) -> MakePack:
    """Write a pack folder: `pack.yaml` from YAML text (dedented) and other files."""

    def make(yaml_text: str, files: Mapping[str, str] | None = None, name: str = "pack") -> Path:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pack.yaml").write_text(textwrap.dedent(yaml_text))
        for relative, text in (files or {}).items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
            if relative.endswith((".sh", ".py")):
                path.chmod(0o755)
        return folder

    return make
