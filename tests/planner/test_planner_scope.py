"""What a write routine acts on: an action asked of another kind of entity, and entities a
whole-array change cannot leave out."""

from __future__ import annotations

from planactor.catalog import Catalog
from planactor.plan import Inventory
from planactor.planner import read_intent
from planactor.planner._scope import cannot_leave_out, object_kind, status_check

ROUTINES = Catalog.discover().routines
INVENTORY = Inventory.from_mapping(
    {"array": ["array-01", "array-02"], "host": ["esx-01", "esx-02"]}
)


def test_an_action_asked_of_hosts_is_not_asked_of_an_array_routine() -> None:
    """ "update the ESXi hosts on array-01" asks the upgrade of hosts, which it never acts
    on; "upgrade array-01" asks it of the array."""
    upgrade = ROUTINES["storage.firmware_upgrade"]
    assert object_kind(upgrade, "update the ESXi hosts on array-01 to 8.0.2", INVENTORY) == "host"
    assert object_kind(upgrade, "upgrade array-01 to 5.2.1", INVENTORY) is None


def test_a_host_kept_out_of_a_whole_array_change_cannot_be_left_out() -> None:
    """ "rebalance array-02 but keep esx-01 on array-02-a": the rebalance names no host to
    leave out, so esx-01 is reported; an excluded array is honoured by naming another."""
    rebalance = ROUTINES["storage.rebalance_array"]
    actions = [a for r in ROUTINES.values() for a in r.actions]
    kept = read_intent("rebalance array-02 but keep esx-01 on array-02-a", actions=actions)
    assert cannot_leave_out(rebalance, kept, INVENTORY) == ["esx-01"]
    other = read_intent("leave array-01 alone, rebalance array-02", actions=actions)
    assert cannot_leave_out(rebalance, other, INVENTORY) == []


def test_a_yes_no_question_about_one_named_thing_asks_for_its_kinds_check() -> None:
    """ "is array-01 ok?" asks for the array's check, "is esx-02 ok?" the host's; two
    names, or no yes/no form, ask for none."""
    read_only = {n: ROUTINES[n] for n in ("storage.health_check", "storage.host_health_check")}
    assert list(status_check("is array-01 ok?", read_only, INVENTORY)) == ["storage.health_check"]
    assert list(status_check("is esx-02 ok?", read_only, INVENTORY)) == [
        "storage.host_health_check"
    ]
    assert status_check("is array-01 or array-02 busier?", read_only, INVENTORY) == {}
    assert status_check("array-01 ok", read_only, INVENTORY) == {}
