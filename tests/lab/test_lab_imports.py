"""The lab sits below the actor packs, and the fabric domain below both: imports point down.

Every import in every module counts, at run time, inside functions and under
`TYPE_CHECKING` alike, so a back-edge cannot hide in a function-level import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import planactor

SRC = Path(planactor.__file__).parent

# What each package may import from planactor (besides itself).
ALLOWED = {
    "lab": {
        "planactor._errors",
        "planactor._home",
        "planactor._reader",  # the bounded, strict file reader (plan and _errors below it)
        "planactor.catalog",  # ActorContext: how actors reach their lab
        "planactor.fabric",
        "planactor.plan",
        "planactor.validate",
    },
    "fabric": {"planactor._errors"},
}


def imports(path: Path) -> set[str]:
    """Every planactor module a file imports, relative imports resolved."""
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(text: str, package: str) -> set[str]:
    """Every planactor module the source `text` of a module of `package` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m == "planactor" or m.startswith("planactor.")}


def allowed(module: str, package: str) -> bool:
    own = f"planactor.{package}"
    if module == own or module.startswith(own + "."):
        return True
    return any(module == a or module.startswith(a + ".") for a in ALLOWED[package])


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_only_down(package: str) -> None:
    """Each module of the lab and the fabric imports only what sits below it."""
    files = sorted((SRC / package).rglob("*.py"))
    assert files
    wrong = [
        f"{path.relative_to(SRC)} imports {module}"
        for path in files
        for module in sorted(imports(path))
        if not allowed(module, package) and module != "planactor"
    ]
    assert wrong == []


def test_the_import_checker_sees_hidden_and_relative_imports() -> None:
    """A function-level import, a TYPE_CHECKING import and a relative one are all found,
    and refused for the lab."""
    text = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from planactor.cli import main\n"
        "def f():\n    import planactor.actors.storage\n"
        "from ..engine import Engine\n"
        "from .storage import apply\n"
    )
    found = imports_in(text, "planactor.lab")
    assert {"planactor.cli", "planactor.actors.storage", "planactor.engine"} <= found
    assert "planactor.lab.storage" in found
    assert [m for m in sorted(found) if not allowed(m, "lab")] == [
        "planactor.actors.storage",
        "planactor.cli",
        "planactor.cli.main",
        "planactor.engine",
        "planactor.engine.Engine",
    ]


def test_importing_the_lab_loads_no_actor_pack() -> None:
    """In a fresh interpreter, `import planactor.lab` (every kind registered) loads nothing
    from planactor.actors, and `import planactor.fabric` nothing from the lab or the packs."""
    code = (
        "import sys, planactor.lab as lab\n"
        "assert sorted(lab.kinds()) == ['network', 'storage']\n"
        "bad = [m for m in sys.modules if m.startswith(('planactor.actors', 'planactor.cli'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    code = (
        "import sys, planactor.fabric\n"
        "bad = [m for m in sys.modules if m.startswith(('planactor.actors', 'planactor.lab'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
