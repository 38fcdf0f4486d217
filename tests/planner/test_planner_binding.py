"""Which parameter a number belongs to: named by the words next to it, keyed, or a total a
formula reads."""

from __future__ import annotations

from planactor.catalog import Catalog
from planactor.planner._binding import bind_by_name, is_given
from planactor.planner._numbers import number_mentions

FABRIC = Catalog.discover().routines["network.build_fabric"]


def bound(intent: str) -> dict[str, int | float]:
    return {k: m.value for k, m in bind_by_name(FABRIC, number_mentions(intent)).items()}


def test_a_number_is_bound_by_the_word_after_it_or_its_key() -> None:
    """ "8 leaves", "spines=2", "400G uplinks": each number to the parameter its word names."""
    assert bound("8 leaves, spines=2, 400G uplinks") == {
        "leaves": 8,
        "spines": 2,
        "uplink_gbps": 400,
    }


def test_a_rate_binds_the_per_parameter_and_a_rack_is_a_leaf() -> None:
    """ "40 per leaf" and "48 per rack" are servers per leaf, never a count of leaves."""
    assert bound("40 per leaf") == {"servers_per_leaf": 40}
    assert bound("48 per rack") == {"servers_per_leaf": 48}


def test_a_total_a_formula_reads_is_given_but_not_a_rate_or_a_speed() -> None:
    """ "96 servers" is the total the leaves formula reads; "48 servers per leaf" and "10G
    server links" are not."""
    (total,) = number_mentions("96 servers")
    (rate,) = number_mentions("48 servers per leaf")
    (speed,) = number_mentions("10G server links")
    assert is_given(FABRIC.derive, total)
    assert not is_given(FABRIC.derive, rate)
    assert not is_given(FABRIC.derive, speed)


def test_a_long_parameter_word_cut_short_still_names_it() -> None:
    """ "oversub max 2" is the oversubscription bound; a short cut ("over") names nothing."""
    tree = Catalog.discover().routines["network.build_fat_tree"]
    named = bind_by_name(tree, number_mentions("fattree k: 6, oversub max 2"))
    assert {k: m.value for k, m in named.items()} == {"k": 6, "oversubscription_max": 2}
    assert "oversubscription_max" not in bind_by_name(tree, number_mentions("over 2"))


def test_a_speed_goes_to_the_speed_its_phrase_names() -> None:
    """ "two uplinks to each spine at 400G": the uplinks' speed; "25G down to the hosts":
    the servers' (hosts are servers)."""
    intent = "spine-leaf, 10 ToRs, 4 spines, two uplinks to each spine at 400G"
    named = bind_by_name(FABRIC, number_mentions(intent), intent=intent)
    assert named["uplink_gbps"].value == 400
    tree = Catalog.discover().routines["network.build_fat_tree"]
    intent = "fattree with ten pods, 25G down to the hosts"
    named = bind_by_name(tree, number_mentions(intent), intent=intent)
    assert named["server_link_gbps"].value == 25
