"""`planactor serve` as a user starts it: a URL with the token, 401 without it."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from planactor.testing import CliRunner

_MAIN = "import sys; from planactor.cli import main; main(sys.argv[1:])"


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _MAIN, "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def _url(child: subprocess.Popen[str]) -> str:
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip().startswith("open "):
            return line.split("open ", 1)[1].strip()
    raise AssertionError(f"no URL printed; stderr: {child.stderr.read() if child.stderr else ''}")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_serve_prints_a_url_with_a_random_token_and_refuses_without_it(plans: Path) -> None:
    """On 127.0.0.1 by default: the printed URL opens, the same URL without the token is 401."""
    child = _serve("--plans", str(plans))
    try:
        url = _url(child)
        assert url.startswith("http://127.0.0.1:")
        assert "?token=" in url
        assert len(url.split("?token=", 1)[1]) >= 24
        assert _status(url) == 200
        assert _status(url.split("?", 1)[0]) == 401
    finally:
        child.terminate()
        child.communicate(timeout=10)


def test_serve_accepts_a_configured_token(plans: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PLANACTOR_CONSOLE_TOKEN (or --token) replaces the random one."""
    monkeypatch.setenv("PLANACTOR_CONSOLE_TOKEN", "configured-token-42-abcdef")
    child = _serve("--plans", str(plans))
    try:
        url = _url(child)
        assert url.endswith("?token=configured-token-42-abcdef")
        assert _status(url) == 200
    finally:
        child.terminate()
        child.communicate(timeout=10)


def test_serve_refuses_a_missing_plans_folder(tmp_path: Path, home: Path) -> None:
    """Bad input (exit 2) with a message, never a traceback."""
    result = CliRunner(home=home).run("serve", "--plans", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "not a folder" in result.stderr
    assert "Traceback" not in result.stderr
