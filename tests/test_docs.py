"""The documentation's examples and tables stay true to the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from planactor import Catalog, validate
from planactor._examples import example_plan_bytes

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
VALIDATE = ROOT / "src" / "planactor" / "validate"


def _plan_blocks() -> list[tuple[str, str]]:
    blocks = []
    for doc in DOCS:
        for i, block in enumerate(re.findall(r"```json\n(.*?)```", doc.read_text(), re.S)):
            if '"api_version"' in block:
                blocks.append((f"{doc.name}#{i}", block))
    return blocks


@pytest.mark.parametrize(("where", "block"), _plan_blocks(), ids=lambda v: str(v)[:20])
def test_every_plan_in_the_docs_is_valid(where: str, block: str) -> None:
    """Each example plan printed in the README or docs/ passes validation."""
    report = validate(block, catalog=Catalog.discover())
    assert report.ok, f"{where}: {[str(p) for p in report.problems]}"


def test_docs_hold_example_plans() -> None:
    """The README and plan-format docs do show at least one complete plan each."""
    names = {where.split("#")[0] for where, _ in _plan_blocks()}
    assert {"README.md", "plan-format.md"} <= names


def test_every_validation_code_is_documented() -> None:
    """Every problem code the validator can emit appears in docs/plan-format.md."""
    source = "\n".join(p.read_text() for p in sorted(VALIDATE.glob("*.py")))
    codes = set(re.findall(r'(?:(?:self|checker)\.add\(|code=)\s*"([a-z][a-z-]+)"', source))
    codes |= {f"{kind}-later-step" for kind in ("ref", "after")}
    assert len(codes) > 20
    documented = (ROOT / "docs" / "plan-format.md").read_text()
    missing = sorted(c for c in codes if f"`{c}`" not in documented)
    assert not missing, f"undocumented validation codes: {missing}"


def test_shipped_example_plan_is_valid() -> None:
    """The example plan inside the package (used by the demo) is valid and normalised."""
    data = example_plan_bytes()
    assert validate(data, catalog=Catalog.discover()).ok
    assert json.loads(data)["api_version"] == "planactor/v1"
