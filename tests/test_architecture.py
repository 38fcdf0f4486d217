"""Imports go only in the allowed directions (docs/architecture.md, "Dependency direction").

Every module under src/planactor is parsed, and every import in it counts: at the top, inside
a function, or under `if TYPE_CHECKING:` (a typing-only back-edge still ties the layers).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "planactor"

# Top to bottom: a package may import any package of a LOWER layer, and none of its own layer
# or above. `planactor` is the package's own __init__ (the flat public API); the names with a
# leading underscore are the top-level private modules and data packages.
LAYERS: list[tuple[str, set[str]]] = [
    ("test helpers (drive the CLI)", {"testing"}),
    ("the command line", {"cli"}),
    ("the review console (started by `planactor serve`)", {"console"}),
    ("programs", {"bench", "harness", "distributed", "export"}),
    ("the public API", {"planactor"}),
    ("runtime, planning, audit, packs", {"engine", "planner", "audit", "actors"}),
    ("authorization, simulation, record, plan files", {"policy", "lab", "journal", "_files"}),
    ("static checks", {"validate"}),
    ("actors and routines", {"catalog"}),
    ("the bounded file reader", {"_reader"}),
    ("pure domains", {"plan", "fabric"}),
    ("foundations", {"_errors", "_speed", "_home", "_examples", "_evals"}),
]

# Imports that go against the layers today, each with why and where it is to be fixed. An entry
# no import needs any longer fails `test_known_back_edges_are_still_needed`: delete it then.
# Key: (importing module, imported package).
KNOWN_BACK_EDGES: dict[tuple[str, str], str] = {
    ("planactor._errors", "validate"): (
        "PlanInvalid carries a ValidationReport (a TYPE_CHECKING import); the exception tree"
        " should type it without naming the validator (issue 10 §5, the public surface)"
    ),
    ("planactor.bench._engine", "testing"): (
        "the engine benchmark runs the testing pack's ledger actors; they belong in a pack"
        " below both (issue 10 §5, planactor.testing)"
    ),
}

# What the pure packages must never import: files, processes, sockets, the clock, threads.
IO_MODULES = {
    "asyncio",
    "concurrent",
    "glob",
    "http",
    "httpx",
    "io",
    "multiprocessing",
    "os",
    "pathlib",
    "requests",
    "select",
    "selectors",
    "shutil",
    "signal",
    "socket",
    "sqlite3",
    "ssl",
    "subprocess",
    "sys",
    "tempfile",
    "threading",
    "time",
    "urllib",
    "planactor._files",
    "planactor._home",
    "planactor._reader",
}
PURE_PACKAGES = {"plan", "validate"}
# Spelled out although the layers imply them: the lab and the fabric domain sit below the
# packs that drive them and never reach up into a driver.
NEVER = {
    "lab": {"actors", "cli", "engine", "planner"},
    "fabric": {"actors", "cli", "engine", "planner", "lab"},
}


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # the importing module, e.g. planactor.engine._engine
    line: int
    target: str  # the imported module, absolute, e.g. planactor.plan._model or sqlite3

    @property
    def where(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


@cache
def imports() -> tuple[Import, ...]:
    found: list[Import] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.extend(Import(module, node.lineno, a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(node, module, path.name == "__init__.py")
                if target == "planactor":
                    # `from planactor import lab` names a package; `import Plan` the API.
                    found.extend(
                        Import(module, node.lineno, f"planactor.{a.name}")
                        if a.name in _packages()
                        else Import(module, node.lineno, "planactor")
                        for a in node.names
                    )
                else:
                    found.append(Import(module, node.lineno, target))
    return tuple(found)


@cache
def _packages() -> frozenset[str]:
    """Every top-level package and module of planactor, by the name LAYERS uses."""
    names = {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    names |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    return frozenset(names)


def _top(module: str) -> str:
    """The LAYERS name of a planactor module: planactor.plan._model -> plan."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "planactor"


def _layer(package: str) -> int:
    for i, (_, members) in enumerate(LAYERS):
        if package in members:
            return i
    raise AssertionError(f"planactor.{package} is in no layer: add it to LAYERS (and the docs)")


def _internal() -> Iterator[tuple[Import, str, str]]:
    """Each import of one planactor package by another: (import, from, to)."""
    for imp in imports():
        if imp.target == "planactor" or imp.target.startswith("planactor."):
            source, target = _top(imp.module), _top(imp.target)
            if source != target:
                yield imp, source, target


def _back_edges() -> dict[tuple[str, str], list[Import]]:
    found: dict[tuple[str, str], list[Import]] = {}
    for imp, source, target in _internal():
        if _layer(target) <= _layer(source):
            found.setdefault((imp.module, target), []).append(imp)
    return found


def test_every_package_has_a_layer() -> None:
    """Each package and top-level module of planactor is placed in exactly one layer."""
    placed = [name for _, members in LAYERS for name in members]
    assert len(placed) == len(set(placed)), "a package is in two layers"
    unplaced = sorted(name for name in _packages() | {"planactor"} if name not in placed)
    assert not unplaced, f"add to LAYERS (and docs/architecture.md): {unplaced}"


def test_imports_only_point_down() -> None:
    """No module imports a package of its own layer or above, unless it is a known back-edge."""
    new = {key: imps for key, imps in _back_edges().items() if key not in KNOWN_BACK_EDGES}
    lines = [
        f"{imp.where}: {_top(imp.module)} ({LAYERS[_layer(_top(imp.module))][0]}) may not"
        f" import {target} ({LAYERS[_layer(target)][0]})"
        for (_, target), imps in sorted(new.items())
        for imp in imps
    ]
    assert not lines, "imports against the layers:\n" + "\n".join(lines)


def test_known_back_edges_are_still_needed() -> None:
    """Each allowed back-edge is still used: a fixed one must leave the list."""
    stale = sorted(set(KNOWN_BACK_EDGES) - set(_back_edges()))
    assert not stale, f"no longer needed, remove from KNOWN_BACK_EDGES: {stale}"


def test_pure_packages_import_no_io() -> None:
    """plan and validate import nothing that reads files, the clock or the network."""
    bad = [
        imp.where
        for imp in imports()
        if _top(imp.module) in PURE_PACKAGES
        and any(imp.target == m or imp.target.startswith(m + ".") for m in IO_MODULES)
    ]
    assert not bad, "I/O in a pure package:\n" + "\n".join(bad)


def test_lab_and_fabric_never_import_their_drivers() -> None:
    """The simulator and the fabric domain never import the packs, the CLI, engine or planner."""
    bad = [
        imp.where
        for imp, source, target in _internal()
        if source in NEVER and target in NEVER[source]
    ]
    assert not bad, "\n".join(bad)


def test_the_walk_sees_every_kind_of_import() -> None:
    """Function-level, TYPE_CHECKING and relative imports are all found (the test can fail)."""
    found = {(imp.module, imp.target) for imp in imports()}
    # A TYPE_CHECKING import and a function-level one, both known to exist today.
    assert ("planactor._errors", "planactor.validate") in found
    assert any(
        module.startswith("planactor.testing") and target == "planactor.cli"
        for module, target in found
    )
    tree = ast.parse("from . import x\nfrom ..plan import y\n")
    relative = [node for node in tree.body if isinstance(node, ast.ImportFrom)]
    assert _resolve(relative[0], "planactor.lab.storage", True) == "planactor.lab.storage"
    assert _resolve(relative[1], "planactor.lab._store", False) == "planactor.plan"
