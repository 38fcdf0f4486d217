"""Fixtures for the export tests: the catalog, Argo's published Workflow schema, and the
testing pack installed where the command line finds it (for `planactor actor-run`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clitools import install_pack, uninstall_pack
from exporttools import export_catalog
from planactor.catalog import Catalog

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def cat() -> Catalog:
    """The testing catalog plus an irreversible write."""
    return export_catalog()


@pytest.fixture(scope="session")
def argo_schema() -> dict[str, Any]:
    """Argo Workflows' published JSON Schema for a Workflow (tests/data, its source inside)."""
    schema: dict[str, Any] = json.loads((DATA / "argo-workflow.schema.json").read_text())
    return schema


@pytest.fixture
def testing_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """planactor.testing installed as a third-party pack, so the CLI can run its actors."""
    site = install_pack(
        tmp_path, monkeypatch, "testing", "planactor.testing", dist="planactor_testing_pack"
    )
    yield
    uninstall_pack(site)
