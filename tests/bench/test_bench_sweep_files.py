"""The sweeps' shared files and parsers: partial lines dropped, damaged lines named."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from planactor._errors import InputError
from planactor.bench._sweep_files import choices, drop_partial_line, positive, read_records, slug


def test_a_line_cut_short_is_dropped_and_whole_lines_are_kept(tmp_path: Path) -> None:
    """An interrupted append (no newline, not JSON) is cut; complete lines stay."""
    path = tmp_path / "t.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": ', encoding="utf-8")
    drop_partial_line(path)
    assert path.read_text(encoding="utf-8") == '{"a": 1}\n{"a": 2}\n'
    drop_partial_line(path)
    assert read_records(path, lambda d: d["a"]) == [1, 2]
    assert read_records(tmp_path / "none.jsonl", lambda d: d) == []


def test_a_damaged_record_is_named_by_file_and_line(tmp_path: Path) -> None:
    """A line that is not a record: InputError with FILE:LINE and how to go on."""
    path = tmp_path / "t.jsonl"
    path.write_text('{"a": 1}\n\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"t\.jsonl:3 is not a trial record") as e:
        read_records(path, lambda d: int(d["a"]))
    assert e.value.hint is not None


def test_parsers_refuse_what_they_cannot_use() -> None:
    """Unknown names, zero, and odd model names: refused or made safe."""
    assert choices("llm, algorithm,llm", ("algorithm", "llm"), "method") == ("llm", "algorithm")
    with pytest.raises(argparse.ArgumentTypeError, match="unknown method"):
        choices("llm,magic", ("algorithm", "llm"), "method")
    with pytest.raises(argparse.ArgumentTypeError):
        positive("0")
    assert positive("3") == 3
    assert slug("SmolLM2-135M-Instruct.Q4_1.gguf") == "SmolLM2-135M-Instruct-Q4_1"
    assert slug("///") == "default"
