"""The audit sits above the journal and the policy: the journal imports neither, and only the
command line imports the audit. Every import counts, function-level and `TYPE_CHECKING` too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import planactor

SRC = Path(planactor.__file__).parent


def planactor_imports(path: Path, src: Path = SRC) -> set[str]:
    """Every planactor module a file imports (`src` is the package's folder), relative
    imports resolved."""
    package = ".".join(path.relative_to(src.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
    return {m for m in found if m == "planactor" or m.startswith("planactor.")}


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("journal"), ids=lambda p: p.name)
def test_journal_imports_neither_policy_nor_audit(path: Path) -> None:
    """Opening a journal and checking its chain needs no policy stack and no audit."""
    bad = {m for m in planactor_imports(path) if m.split(".")[1:2] in (["policy"], ["audit"])}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_only_the_user_interfaces_import_the_audit() -> None:
    """Nothing below the audit reaches up into it (the CLI, the review console and the audit
    itself may)."""
    bad = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts[0] not in ("audit", "cli", "console")
        and any(m.startswith("planactor.audit") for m in planactor_imports(path))
    )
    assert not bad, bad


def test_the_import_walk_sees_function_level_and_type_checking_imports(tmp_path: Path) -> None:
    """The checker itself finds an import hidden in a function or under TYPE_CHECKING."""
    probe = tmp_path / "planactor" / "journal" / "_probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from planactor.policy import KeyStore\n"
        "def f():\n    from ..audit import verify_run\n"
    )
    found = planactor_imports(probe, tmp_path / "planactor")
    assert found == {"planactor.policy", "planactor.audit"}
