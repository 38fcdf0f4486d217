"""`planactor diff OLD NEW`: output for a person, --json, and exit codes as diff(1)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from clitools import run
from planactor.plan import Plan


def _echo(sid: str, message: str = "hi", value: Any = None, **fields: Any) -> dict[str, Any]:
    args = {"message": message} if value is None else {"message": message, "value": value}
    return {"id": sid, "actor": "core.echo", "args": args, **fields}


def _doc(*steps: dict[str, Any], **top: Any) -> dict[str, Any]:
    doc = {"api_version": "planactor/v1", "intent": "greet", "requested_by": "alice", **top}
    return {**doc, "steps": list(steps)}


def _write(tmp_path: Path, name: str, doc: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2))
    return path


OLD = _doc(
    _echo("a"),
    _echo("b", value=[1, 2, 3]),
    _echo("c", value={"$input": "version"}),
    _echo("d"),
    _echo("gone"),
    inputs={"version": "1.2"},
)
NEW = _doc(
    _echo("d", "changed"),
    _echo("a", "changed"),
    _echo("fresh"),
    _echo("b", value=[1, 2, 4], after=["a"]),
    _echo("c", value={"$input": "version"}),
    _echo("extra"),
    inputs={"version": "1.3"},
    planner={"backend": "local", "model": "smollm2"},
)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return _write(tmp_path, "old.json", OLD), _write(tmp_path, "new.json", NEW)


def _hash(doc: dict[str, Any]) -> str:
    return Plan.model_validate(doc).hash


def test_identical_plans_exit_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Two files holding the same plan exit 0 and say there is no behaviour change."""
    old, new = _write(tmp_path, "a.json", OLD), _write(tmp_path, "b.json", OLD)
    code, out, err = run(capsys, "diff", str(old), str(new))
    assert code == 0
    short = _hash(OLD)[: len("sha256:") + 12]
    assert out.splitlines()[:3] == [
        f"--- {old}  {short}",
        f"+++ {new}  {short}",
        "no behaviour change (same hash)",
    ]
    assert err == ""


def test_planner_only_change_exits_0_with_a_note(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A different planner is shown as information; the plans still behave the same (exit 0)."""
    old = _write(tmp_path, "a.json", {**OLD, "planner": {"backend": "local"}})
    new = _write(tmp_path, "b.json", {**OLD, "planner": {"backend": "anthropic"}})
    code, out, _ = run(capsys, "diff", str(old), str(new))
    assert code == 0
    assert "planner (informational: not part of the hash)" in out
    assert '~ planner.backend  "local" → "anthropic"' in out


def test_differing_plans_exit_1_with_summary_and_sections(
    capsys: pytest.CaptureFixture[str], files: tuple[Path, Path]
) -> None:
    """Differing plans exit 1; the summary counts the changes and each is listed with a marker."""
    old, new = files
    code, out, err = run(capsys, "diff", str(old), str(new))
    assert code == 1
    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"--- {old}  sha256:")
    assert lines[1].startswith(f"+++ {new}  sha256:")
    assert lines[2] == "1 header change, 2 steps added, 1 removed, 3 changed, 1 moved"
    expected = [
        "header",
        '  ~ inputs.version  "1.2" → "1.3"',
        "steps",
        "  ~ d  core.echo",
        '      ~ args.message  "hi" → "changed"',
        "  ~ a  core.echo",
        '      ~ args.message  "hi" → "changed"',
        "  + fresh  core.echo  (new step 3)",
        "  ~ b  core.echo",
        "      ~ args.value[2]  3 → 4",
        "      + after  a",
        "  + extra  core.echo  (new step 6)",
        "  - gone  core.echo  (was step 5)",
        "order",
        "  ~ d  moved: now first",
        "planner (informational: not part of the hash)",
        '  + planner.backend  "local"',
        '  + planner.model  "smollm2"',
    ]
    assert [ln for ln in lines[3:] if ln] == expected


def test_json_output(capsys: pytest.CaptureFixture[str], files: tuple[Path, Path]) -> None:
    """`--json` prints the diff as JSON with the sources, and still exits 1 when they differ."""
    old, new = files
    code, out, _ = run(capsys, "diff", str(old), str(new), "--json")
    doc = json.loads(out)
    assert code == 1
    assert (doc["old_source"], doc["new_source"]) == (str(old), str(new))
    assert (doc["old_hash"], doc["new_hash"], doc["same"]) == (_hash(OLD), _hash(NEW), False)
    assert doc["summary"] == {"header": 1, "added": 2, "removed": 1, "changed": 3, "moved": 1}
    assert [s["id"] for s in doc["steps_added"]] == ["fresh", "extra"]
    assert doc["steps_removed"] == [{"id": "gone", "actor": "core.echo", "index": 4}]
    b = next(c for c in doc["steps_changed"] if c["id"] == "b")
    assert b["args"] == [{"path": "args.value[2]", "kind": "changed", "old": 3, "new": 4}]
    assert b["after_added"] == ["a"]
    assert doc["moved"] == ["d"]


def test_json_output_for_identical_plans(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`--json` on the same plan twice exits 0 with `same` true and nothing listed."""
    old = _write(tmp_path, "a.json", OLD)
    code, out, _ = run(capsys, "diff", str(old), str(old), "--json")
    doc = json.loads(out)
    assert code == 0
    assert doc["same"] is True
    assert doc["steps_changed"] == doc["steps_added"] == doc["header"] == doc["moved"] == []


def test_user_text_is_printed_literally(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Rich markup and emoji codes inside plan values are shown as written, not interpreted."""
    old = _write(tmp_path, "a.json", _doc(_echo("a")))
    new = _write(tmp_path, "b.json", _doc(_echo("a", "[bold red]x[/] :smile: \x1b[31m")))
    code, out, _ = run(capsys, "diff", str(old), str(new))
    assert code == 1
    assert '~ args.message  "hi" → "[bold red]x[/] :smile: \\u001b[31m"' in out
    assert "\x1b" not in out


def test_one_plan_from_stdin(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-` reads one of the plans from standard input and names it <stdin>."""
    new = _write(tmp_path, "b.json", NEW)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(OLD).encode())))
    code, out, _ = run(capsys, "diff", "-", str(new))
    assert code == 1
    assert out.startswith("--- <stdin>  sha256:")


def test_both_from_stdin_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    """OLD and NEW cannot both be `-`: exit 2 with a hint, before reading anything."""
    code, out, err = run(capsys, "diff", "-", "-")
    assert code == 2
    assert out == ""
    assert "error: OLD and NEW cannot both be standard input" in err
    assert "hint:" in err


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A missing plan file is bad input: exit 2, a clear message, no traceback."""
    old = _write(tmp_path, "a.json", OLD)
    code, out, err = run(capsys, "diff", str(old), str(tmp_path / "nope.json"))
    assert code == 2
    assert out == ""
    assert "no such file" in err
    assert "Traceback" not in err


def test_invalid_plan_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An invalid plan is bad input: exit 2 listing its problems, nothing diffed."""
    old = _write(tmp_path, "a.json", OLD)
    bad = _write(tmp_path, "bad.json", _doc({"id": "a", "actor": "core.ecoh", "args": {}}))
    code, out, err = run(capsys, "diff", str(bad), str(old))
    assert code == 2
    assert out == ""
    assert f"error: {bad}: plan is invalid" in err
    assert "unknown-actor" in err


def test_missing_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`diff` with one plan is a usage error, exit 2."""
    code, _, err = run(capsys, "diff", "only.json")
    assert code == 2
    assert "Missing argument" in err
