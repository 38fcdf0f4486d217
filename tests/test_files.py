"""Reading and writing plan files: errors, size limit, validation on load, atomic save."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from planactor import (
    Catalog,
    Limits,
    Plan,
    PlanInvalid,
    PlanLoadError,
    load_plan,
    read_plan_text,
    save_plan,
)
from planactor._examples import example_plan_bytes


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    p = tmp_path / "plan.json"
    p.write_bytes(example_plan_bytes())
    return p


def _broken_doc() -> dict:
    doc = json.loads(example_plan_bytes())
    doc["steps"][0]["after"] = ["report"]  # a cycle route -> report -> route
    doc["steps"][2]["actor"] = "core.ecoh"  # a typo
    return doc


def test_read_returns_bytes_and_the_path_as_source(plan_file: Path) -> None:
    """read_plan_text gives the raw bytes and the path as the name for messages."""
    data, source = read_plan_text(plan_file)
    assert data == example_plan_bytes()
    assert source == str(plan_file)


def test_read_missing_file_is_plan_load_error(tmp_path: Path) -> None:
    """A missing file is a PlanLoadError (exit 2) naming the path, with a hint."""
    missing = tmp_path / "nope.json"
    with pytest.raises(PlanLoadError) as exc:
        read_plan_text(missing)
    assert exc.value.exit_code == 2
    assert "no such file" in str(exc.value)
    assert exc.value.source == str(missing)
    assert exc.value.hint
    assert exc.value.__cause__ is None


def test_read_directory_is_plan_load_error(tmp_path: Path) -> None:
    """Giving a directory is a PlanLoadError (exit 2) saying so."""
    with pytest.raises(PlanLoadError) as exc:
        read_plan_text(tmp_path)
    assert exc.value.exit_code == 2
    assert "is a directory" in str(exc.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of their mode")
def test_read_unreadable_file_is_plan_load_error(plan_file: Path) -> None:
    """A file without read permission is a PlanLoadError (exit 2)."""
    plan_file.chmod(0)
    try:
        with pytest.raises(PlanLoadError) as exc:
            read_plan_text(plan_file)
    finally:
        plan_file.chmod(0o644)
    assert exc.value.exit_code == 2
    assert "permission denied" in str(exc.value)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (PermissionError(13, "Permission denied"), "permission denied"),
        (OSError(5, "Input/output error"), "cannot read: Input/output error"),
    ],
)
def test_read_os_errors_become_plan_load_errors(
    plan_file: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, text: str
) -> None:
    """Permission and other OS errors on open are PlanLoadErrors (exit 2), even as root."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(os, "open", refuse)  # the reader opens with os.open (O_NONBLOCK)
    with pytest.raises(PlanLoadError) as exc:
        read_plan_text(plan_file)
    assert exc.value.exit_code == 2
    assert str(exc.value) == f"{plan_file}: {text}"


def test_read_stops_one_byte_past_the_limit(tmp_path: Path) -> None:
    """Only max_bytes + 1 bytes are read, enough to tell that the file is too large."""
    big = tmp_path / "big.json"
    big.write_bytes(b"x" * 1000)
    data, _ = read_plan_text(big, limits=Limits(max_bytes=10))
    assert data == b"x" * 11


def test_read_small_file_is_read_whole_under_the_limit(tmp_path: Path) -> None:
    """A file no larger than the limit is read completely."""
    small = tmp_path / "small.json"
    small.write_bytes(b"y" * 10)
    assert read_plan_text(small, limits=Limits(max_bytes=10))[0] == b"y" * 10


def test_read_dash_reads_stdin_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """`-` reads standard input (bytes, limited too) and is named <stdin>."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"z" * 100)))
    data, source = read_plan_text("-", limits=Limits(max_bytes=20))
    assert source == "<stdin>"
    assert data == b"z" * 21


def test_load_plan_returns_plan_and_report(plan_file: Path) -> None:
    """A valid file loads into a Plan together with its (ok) validation report."""
    loaded = load_plan(plan_file)
    plan, report = loaded.plan, loaded.report
    assert loaded.hash == plan.hash
    assert isinstance(plan, Plan)
    assert report.ok
    assert report.plan_hash == plan.hash
    assert [s.id for s in plan.steps] == ["route", "report", "latency"]


def test_load_plan_uses_the_given_catalog(plan_file: Path) -> None:
    """With an explicit catalog, actors outside it make the plan invalid."""
    with pytest.raises(PlanInvalid) as exc:
        load_plan(plan_file, catalog=Catalog())
    assert "unknown-actor" in exc.value.report.codes()


def test_load_invalid_plan_raises_with_the_whole_report(tmp_path: Path) -> None:
    """An invalid file raises PlanInvalid (exit 2) carrying every problem, not just the first."""
    p = tmp_path / "broken.json"
    p.write_text(json.dumps(_broken_doc()))
    with pytest.raises(PlanInvalid) as exc:
        load_plan(p)
    e = exc.value
    assert e.exit_code == 2
    assert e.source == str(p)
    assert {"cycle", "unknown-actor"} <= set(e.report.codes())
    assert str(p) in str(e)
    assert f"({len(e.report.errors)} errors)" in str(e)


def test_load_malformed_json_is_plan_invalid_with_position(tmp_path: Path) -> None:
    """Broken JSON is reported through PlanInvalid with the line and column of the error."""
    p = tmp_path / "bad.json"
    p.write_text('{\n  "intent": "x",\n}\n')
    with pytest.raises(PlanInvalid) as exc:
        load_plan(p)
    (problem,) = exc.value.report.problems
    assert problem.code == "json-syntax"
    assert (problem.line, problem.column) == (3, 1)


def test_load_plan_too_large_for_the_limit(plan_file: Path) -> None:
    """A file larger than the limit is refused as too large."""
    with pytest.raises(PlanInvalid) as exc:
        load_plan(plan_file, limits=Limits(max_bytes=100))
    assert exc.value.report.codes() == ["too-large"]


def test_load_save_load_keeps_the_hash(plan_file: Path, tmp_path: Path) -> None:
    """Saving a loaded plan and loading it again gives the same plan hash."""
    plan = load_plan(plan_file).plan
    again = tmp_path / "again.json"
    save_plan(plan, again)
    loaded = load_plan(again)
    reloaded, report = loaded.plan, loaded.report
    assert reloaded.hash == plan.hash
    assert report.plan_hash == plan.hash
    assert json.loads(again.read_text()) == plan.to_document()


def test_save_writes_through_a_temp_file_in_the_same_directory(
    plan_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """save_plan writes the whole text to a sibling temp file, then renames it into place."""
    plan = load_plan(plan_file).plan
    target = tmp_path / "out" / "plan.json"
    target.parent.mkdir()
    target.write_text("old contents")
    calls: list[tuple[Path, Path, str, str]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        calls.append((Path(src), Path(dst), Path(src).read_text(), Path(dst).read_text()))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    save_plan(plan, target)
    ((src, dst, src_text, dst_text_before),) = calls
    assert dst == target
    assert src.parent == target.parent
    assert src != target
    assert dst_text_before == "old contents"  # the old file stayed whole until the rename
    assert src_text == target.read_text()
    assert json.loads(src_text) == plan.to_document()
    assert sorted(p.name for p in target.parent.iterdir()) == ["plan.json"]


def test_save_failure_leaves_the_old_file_and_no_temp_file(
    plan_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the final rename fails, the old file is intact and the temp file is removed."""
    plan = load_plan(plan_file).plan
    target = tmp_path / "out" / "plan.json"
    target.parent.mkdir()
    target.write_text("old contents")

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space left"):
        save_plan(plan, target)
    assert target.read_text() == "old contents"
    assert [p.name for p in target.parent.iterdir()] == ["plan.json"]


def test_save_creates_a_new_file_with_ordinary_permissions(plan_file: Path, tmp_path: Path) -> None:
    """A newly saved plan gets the umask's mode (not the temp file's private 0600)."""
    plan = load_plan(plan_file).plan
    old = os.umask(0o022)
    try:
        save_plan(plan, tmp_path / "new.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644


def test_save_over_an_existing_file_keeps_its_permissions(plan_file: Path, tmp_path: Path) -> None:
    """Overwriting a plan keeps the permissions the file already had."""
    plan = load_plan(plan_file).plan
    target = tmp_path / "shared.json"
    target.write_text("{}")
    target.chmod(0o640)
    save_plan(plan, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert json.loads(target.read_text()) == plan.to_document()


def test_saved_file_is_indented_utf8_ending_with_newline(tmp_path: Path) -> None:
    """The saved document is readable JSON text, non-ASCII kept as is, ending in a newline."""
    doc = json.loads(example_plan_bytes())
    doc["intent"] = "Chemin le plus court: serveur-à → serveur-d"
    plan = Plan.model_validate(doc)
    target = tmp_path / "plan.json"
    save_plan(plan, target)
    text = target.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert "serveur-à → serveur-d" in text
    assert "\n  " in text
