"""Helpers shared by the command line's tests (on pytest's pythonpath): run `planactor` in this
process, install a third-party pack where the CLI's catalog finds it, write plan files, and
make approver keys and approvals through the commands themselves."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from planactor.catalog import ENTRY_POINT_GROUP
from planactor.cli import main
from planactor.cli._app import catalog as cli_catalog

__all__ = [
    "approve",
    "echo_plan",
    "install_pack",
    "ledger_write",
    "new_keys",
    "run",
    "sign_as",
    "uninstall_pack",
    "write_plan",
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `planactor ARGV` in this process; return (exit code, stdout, stderr).

    Unlike planactor.testing.CliRunner it keeps the test's own stdin, home and environment
    (the `home` fixture in tests/cli/conftest.py isolates those)."""
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    captured = capsys.readouterr()
    code = exc.value.code
    assert isinstance(code, int)
    return code, captured.out, captured.err


# -- third-party packs --------------------------------------------------------------------------


def install_pack(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    module: str,
    *,
    dist: str | None = None,
    files: Mapping[str, str] | None = None,
) -> Path:
    """Install `module` as the pack `name`: `files` (paths relative to tmp_path/site) and a
    dist-info whose entry point in the actors group names it, on sys.path; the CLI's cached
    catalog is cleared so that it finds the pack. Returns the site folder."""
    site = tmp_path / "site"
    for relative, text in (files or {}).items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    dist = dist or module
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{name} = {module}\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    cli_catalog.cache_clear()
    return site


def uninstall_pack(site: Path) -> None:
    """Undo what monkeypatch does not: the CLI's cached catalog that holds the pack, and the
    modules imported from `site` (so the next test imports its own)."""
    cli_catalog.cache_clear()
    for key, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).is_relative_to(site):
            del sys.modules[key]


# -- plan files ---------------------------------------------------------------------------------


def write_plan(
    tmp_path: Path, steps: list[dict[str, Any]], name: str = "plan.json", **extra: Any
) -> Path:
    """A plan file of `steps` in tmp_path, requested by alice; `extra` adds top-level fields."""
    path = tmp_path / name
    doc = {
        "api_version": "planactor/v1",
        "intent": "test",
        "requested_by": "alice",
        "steps": steps,
        **extra,
    }
    path.write_text(json.dumps(doc))
    return path


def echo_plan(tmp_path: Path, name: str = "plan.json", **extra: Any) -> Path:
    """A read-only plan file: one core.echo step."""
    return write_plan(
        tmp_path, [{"id": "e", "actor": "core.echo", "args": {"message": "hi"}}], name, **extra
    )


def ledger_write(ledger: Path, sid: str = "w1", item: str = "a", **fields: Any) -> dict[str, Any]:
    """A step appending `item` to a ledger file (testing.ledger_write), compensated on failure."""
    return {
        "id": sid,
        "actor": "testing.ledger_write",
        "args": {"ledger": str(ledger), "item": item},
        "on_failure": "compensate",
        **fields,
    }


# -- keys and approvals -------------------------------------------------------------------------


def new_keys(capsys: pytest.CaptureFixture[str], *names: str) -> None:
    """`keys new --name NAME` for each name, under PLANACTOR_HOME; each must succeed."""
    for name in names:
        code, _, err = run(capsys, "keys", "new", "--name", name)
        assert code == 0, err


def approve(
    capsys: pytest.CaptureFixture[str], plan: Path, who: str = "carol", *options: str
) -> str:
    """`approve PLAN --as WHO OPTIONS...` (the key must exist); must succeed; returns stdout."""
    code, out, err = run(capsys, "approve", str(plan), "--as", who, *options)
    assert code == 0, err
    return out


def sign_as(capsys: pytest.CaptureFixture[str], plan: Path, *who: str) -> None:
    """Create each approver's key and sign the plan in place as them."""
    for name in who:
        new_keys(capsys, name)
        approve(capsys, plan, name)
