"""`planactor validate PLAN` loads the catalog, not the lab simulators or the journal: the
built-in packs import the lab when an actor runs (measured by `planactor bench startup`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clitools import run
from planactor.bench._startup import small_plan
from planactor.cli._lab_context import _default_lab_path

# Not needed to check a plan against the catalog without a lab.
NOT_LOADED = (
    "planactor.lab",
    "planactor.journal",
    "planactor.engine",
    "planactor.catalog._pack",
    "jsonschema",
    "rich._emoji_codes",
)


def _validate_in_a_fresh_process(tmp_path: Path, *extra: str) -> tuple[str, set[str]]:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(small_plan()), encoding="utf-8")
    code = (
        "import json, sys\n"
        "from planactor.cli import main\n"
        "try:\n"
        f"    main(['validate', {str(plan)!r}, *{list(extra)!r}])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANACTOR_")}
    env["PLANACTOR_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    return done.stdout, set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_validate_without_a_lab_imports_no_simulator_and_no_journal(tmp_path: Path) -> None:
    """A plan is validated against every pack's actors while neither planactor.lab,
    planactor.journal nor the engine is imported."""
    out, loaded = _validate_in_a_fresh_process(tmp_path)
    assert "valid" in out
    assert "3 steps" in out
    assert "planactor.actors.storage" in loaded
    assert "planactor.actors.network" in loaded
    assert not [m for m in loaded if m.startswith(NOT_LOADED)]


def test_validate_with_a_lab_still_loads_it(tmp_path: Path) -> None:
    """With `--lab F`, the lab is imported and read, as the basis check needs it."""
    from planactor.lab import create_lab

    lab = tmp_path / "lab.json"
    create_lab(lab, kind="storage")
    out, loaded = _validate_in_a_fresh_process(tmp_path, "--lab", str(lab))
    assert "valid" in out
    assert "planactor.lab.storage" in loaded


@pytest.mark.parametrize("env_lab", [None, "/somewhere/lab.json"])
def test_the_default_lab_path_is_the_labs_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env_lab: str | None
) -> None:
    """The CLI's lab-free check of the default lab names the file planactor.lab would."""
    from planactor import lab

    monkeypatch.setenv("PLANACTOR_HOME", str(tmp_path))
    if env_lab is None:
        monkeypatch.delenv(lab.ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(lab.ENV_VAR, env_lab)
    assert _default_lab_path() == lab.lab_path()


@pytest.mark.parametrize("name", ["[bold]plan.json", ":smile:.json"])
def test_the_plans_file_name_is_printed_as_it_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    """A file name with markup or an emoji code in it is shown as written, valid or not."""
    good = tmp_path / name
    good.write_text(json.dumps(small_plan()), encoding="utf-8")
    code, out, _ = run(capsys, "validate", str(good))
    assert code == 0
    assert f"valid {good}: 3 steps" in out
    bad = tmp_path / f"bad{name}"
    bad.write_text(json.dumps({**small_plan(), "steps": []}), encoding="utf-8")
    code, out, _ = run(capsys, "validate", str(bad))
    assert code == 2
    assert f"invalid {bad}:" in out
