"""What every LLM sweep shares: its command-line value parsers and its JSONL of trials,
which `--resume` reads back (a line an interruption cut short is dropped and run again)."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from planactor._errors import InputError

__all__ = ["choices", "drop_partial_line", "positive", "read_records", "slug"]

T = TypeVar("T")


def choices(text: str, allowed: Sequence[str], what: str) -> tuple[str, ...]:
    """A comma list of names, each one of `allowed` (argparse reports the ones that are not)."""
    names = tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {what}(s) {', '.join(unknown) or '(none given)'};"
            f" choose from {', '.join(allowed)}"
        )
    return names


def positive(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, not {text!r}")
    return value


def slug(text: str) -> str:
    """A model name fit for a file name (`SmolLM2-135M-Instruct.Q4_1.gguf` -> its stem)."""
    stem = text.removesuffix(".gguf")
    return re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "default"


def drop_partial_line(path: Path) -> None:
    """Cut the last line if an interruption cut it short (no newline, or not JSON), so that
    its trial runs again and appends start on a line of their own."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    body, _, last = text.rstrip("\n").rpartition("\n")
    try:
        json.loads(last)
        complete = text.endswith("\n")
    except ValueError:
        complete = False
    if last and not complete:
        path.write_text(body + "\n" if body else "", encoding="utf-8")


def read_records(path: Path, parse: Callable[[Any], T]) -> list[T]:
    """The records written so far, each parsed by `parse` (an InputError naming a damaged
    line: a resume must not silently skip or redo what the file says)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(parse(json.loads(line)))
        except (ValueError, TypeError) as e:
            raise InputError(
                f"{path}:{number} is not a trial record ({e})",
                hint="remove the line, or run without --resume to start afresh",
            ) from None
    return records
