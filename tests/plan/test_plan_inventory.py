"""planactor.plan._inventory: which entities exist, as the planner and validator see them."""

from __future__ import annotations

from planactor.plan import Inventory
from planactor.validate import Inventory as ReExported


def test_an_unlisted_kind_is_unknown_not_empty() -> None:
    """names() gives the listed kind's names, and None (not checked) for a kind not listed."""
    inventory = Inventory.from_mapping({"array": ["array-01", "array-02"], "host": []})
    assert inventory.names("array") == frozenset({"array-01", "array-02"})
    assert inventory.names("host") == frozenset()
    assert inventory.names("switch") is None


def test_fingerprint_ignores_order_and_sees_every_name() -> None:
    """The fingerprint is the same whatever the order of kinds and names, and changes with them."""
    one = Inventory.from_mapping({"array": ["a", "b"], "host": ["h"]})
    same = Inventory.from_mapping({"host": ["h"], "array": ["b", "a"]})
    more = Inventory.from_mapping({"array": ["a", "b", "c"], "host": ["h"]})
    assert one.fingerprint == same.fingerprint
    assert one.fingerprint.startswith("sha256:")
    assert more.fingerprint != one.fingerprint


def test_validate_still_exports_the_same_class() -> None:
    """Code that imported Inventory from planactor.validate gets the very same class."""
    assert ReExported is Inventory
