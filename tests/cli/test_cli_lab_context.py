"""`--lab`: any kind of lab gives the planner its inventory and facts, validation its safety,
and a run its lab, without touching the process environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from planactor import InputError
from planactor.cli._lab_context import lab_context
from planactor.lab import RESOURCE, Built, KindOutcome, Lab, create_lab
from planactor.lab import _kinds as lab_kinds
from planactor.lab.storage import StorageSafety
from planactor.validate import Inventory, Policy


class ToyKind:
    """A kind of lab that only this test knows: the CLI must need nothing more than LabKind."""

    name = "toy"

    def scenarios(self) -> dict[str, str]:
        return {"default": "one widget"}

    def build(self, scenario: str) -> Built:
        return Built(state={"widgets": ["w-1"]}, faults=[], latency_ms=0)

    def apply(
        self, state: Mapping[str, Any], faults: list[Any], op: str, args: Mapping[str, Any]
    ) -> KindOutcome:
        raise NotImplementedError

    def inventory(self, state: Mapping[str, Any]) -> Inventory:
        return Inventory.from_mapping({"widget": list(state["widgets"])})

    def facts(self, state: Mapping[str, Any]) -> dict[str, Any]:
        return {"widgets": len(state["widgets"])}

    def safety(self, state: Mapping[str, Any]) -> Policy | None:
        return None


def test_a_storage_lab_brings_its_safety_check(tmp_path: Path) -> None:
    """A storage lab gives the storage inventory and facts, and StorageSafety for validation."""
    path = create_lab(tmp_path / "lab.json").path
    ctx = lab_context(path)
    assert ctx is not None
    assert ctx.kind == "storage"
    assert isinstance(ctx.safety, StorageSafety)
    assert "array-01" in (ctx.inventory.names("array") or ())
    assert ctx.facts["arrays"]["array-01"]["mode"] == "active-passive"


def test_any_registered_kind_works_through_the_protocol(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kind the CLI has never heard of is used through LabKind alone."""
    monkeypatch.setitem(lab_kinds._KINDS, "toy", ToyKind())
    path = create_lab(tmp_path / "toy.json", kind="toy").path
    ctx = lab_context(path)
    assert ctx is not None
    assert ctx.kind == "toy"
    assert ctx.inventory.names("widget") == frozenset({"w-1"})
    assert ctx.facts == {"widgets": 1}
    assert ctx.safety is None


def test_the_lab_goes_to_the_run_not_to_the_environment(tmp_path: Path) -> None:
    """The context hands the (resolved) lab to the engine as its resource; PLANACTOR_LAB is
    left as it was."""
    path = create_lab(tmp_path / "lab.json").path
    ctx = lab_context(path)
    assert ctx is not None
    lab = ctx.resources[RESOURCE]
    assert isinstance(lab, Lab)
    assert lab.path == path.resolve()
    assert "PLANACTOR_LAB" not in os.environ


def test_a_malformed_state_is_bad_input_not_a_traceback(tmp_path: Path) -> None:
    """A lab file whose state does not parse is an InputError naming the file and the fix."""
    path = create_lab(tmp_path / "lab.json").path
    doc = json.loads(path.read_text())
    doc["state"]["arrays"][0]["controllers"] = []
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as e:
        lab_context(path)
    assert str(path.resolve()) in e.value.message
    assert "needs exactly two controllers" in e.value.message
    assert "planactor lab init storage --force" in (e.value.hint or "")
