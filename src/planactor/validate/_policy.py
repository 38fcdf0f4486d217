"""The hook through which policy joins static validation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from planactor.catalog import Catalog
    from planactor.plan import Inventory, Plan
    from planactor.validate._report import Problem

__all__ = ["AllOf", "Policy"]


@runtime_checkable
class Policy(Protocol):
    """Anything that can judge a structurally valid plan and say what it forbids."""

    def check(
        self, plan: Plan, *, catalog: Catalog, inventory: Inventory | None
    ) -> Iterable[Problem]: ...


class AllOf:
    """Several policies as one: every finding of each, in order."""

    def __init__(self, *policies: Policy | None) -> None:
        self.policies = tuple(p for p in policies if p is not None)

    def check(
        self, plan: Plan, *, catalog: Catalog, inventory: Inventory | None
    ) -> Iterable[Problem]:
        for p in self.policies:
            yield from p.check(plan, catalog=catalog, inventory=inventory)
