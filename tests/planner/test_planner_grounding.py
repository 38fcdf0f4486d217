"""Grounding: parameter values read off the intent and the inventory, never invented."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planactor.catalog import Catalog, Routine, parse_routine
from planactor.planner import ground, ungrounded_values
from planactor.validate import Inventory

ROUTINE = parse_routine(
    """
name: storage.firmware_upgrade
description: Upgrade the firmware of both controllers of an array, one at a time.
intent: "Upgrade the firmware on {array} to {version}"
params:
  array: {type: string, entity: array, description: the array to upgrade}
  version: {type: string, pattern: '^\\d+\\.\\d+\\.\\d+$', description: target firmware}
  pause_between: {type: integer, description: seconds between controllers, default: 30}
steps:
  - id: go
    actor: core.echo
    args: {message: {$param: array}}
""",
    source="test",
)
FABRIC = parse_routine(
    """
name: network.build_fabric
description: Build a leaf-spine fabric.
intent: "Build a fabric for {servers} servers"
params:
  servers: {type: integer, description: servers to connect, minimum: 1}
  spines: {type: integer, description: spine switches, default: 2, minimum: 1}
  speed: {type: string, enum: [25g, 100g], description: server link speed}
steps:
  - id: go
    actor: core.echo
    args: {message: x}
""",
    source="test",
)
INVENTORY = Inventory.from_mapping({"array": ["array-01", "array-02", "array-03"]})


def sources(intent: str) -> dict[str, str]:
    return {n.param: n.source for n in ground(ROUTINE, intent, INVENTORY).notes}


def test_entity_and_version_come_from_the_intent() -> None:
    """The array named in the intent and the version matching the pattern are taken as is."""
    g = ground(ROUTINE, "Upgrade the firmware on array-01 to 5.2.1", INVENTORY)
    assert g.values == {"array": "array-01", "version": "5.2.1", "pause_between": 30}
    assert g.complete
    assert sources("Upgrade the firmware on array-01 to 5.2.1") == {
        "array": "intent",
        "version": "intent",
        "pause_between": "default",
    }


def test_entity_match_is_case_insensitive_and_whole_word() -> None:
    """ARRAY-02 matches array-02; array-021 does not match array-02."""
    assert ground(ROUTINE, "upgrade ARRAY-02 to 1.0.0", INVENTORY).values["array"] == "array-02"
    g = ground(ROUTINE, "upgrade array-021 to 1.0.0", INVENTORY)
    assert g.values.get("array") != "array-02"


def test_a_typo_is_grounded_to_the_closest_name_and_flagged() -> None:
    """'arrray-01' is read as array-01, with the source `fuzzy` so a reviewer sees it."""
    g = ground(ROUTINE, "upgrade the firmware on arrray-01 to 5.2.1", INVENTORY)
    assert g.values["array"] == "array-01"
    assert sources("upgrade the firmware on arrray-01 to 5.2.1")["array"] == "fuzzy"


def test_two_entities_named_is_ambiguous_not_a_guess() -> None:
    """An intent naming two arrays leaves the parameter missing as `ambiguous`."""
    g = ground(ROUTINE, "upgrade array-01 and array-02 to 5.2.1", INVENTORY)
    assert "array" not in g.values
    assert g.missing == ("array",)
    assert not g.complete


def test_an_entity_not_in_the_inventory_is_never_invented() -> None:
    """array-09 does not exist: the parameter stays missing and the known names are listed."""
    g = ground(ROUTINE, "upgrade array-09 to 5.2.1", INVENTORY)
    assert "array" not in g.values
    (note,) = [n for n in g.notes if n.param == "array"]
    assert note.source == "missing"
    assert "array-01" in note.detail


def test_without_an_inventory_entities_cannot_be_grounded() -> None:
    """No inventory, no entity values."""
    g = ground(ROUTINE, "upgrade array-01 to 5.2.1", None)
    assert "array" not in g.values


def test_numbers_and_enums_are_read_from_the_intent() -> None:
    """'96 servers' fills the integer; '100g' the enum; the spine count keeps its default."""
    g = ground(FABRIC, "build a leaf-spine fabric for 96 servers at 100g", None)
    assert g.values == {"servers": 96, "spines": 2, "speed": "100g"}


def test_a_version_is_not_also_taken_as_a_count() -> None:
    """A number used for a pattern parameter is not reused for an integer one."""
    g = ground(ROUTINE, "upgrade array-01 to 5.2.1", INVENTORY)
    assert g.values["pause_between"] == 30


def test_ungrounded_values_are_those_from_nowhere() -> None:
    """Values in the intent, the inventory or the defaults are grounded; others are listed."""
    args = {
        "array": "array-01",
        "version": "5.2.1",
        "wait": 30,
        "note": "wipe everything",
        "ref": {"$ref": "a.output.x"},
        "hosts": ["array-02", "esx-99"],
    }
    found = ungrounded_values(args, "upgrade array-01 to 5.2.1", INVENTORY, defaults=[30])
    assert found == [("note", "wipe everything"), ("hosts[1]", "esx-99")]


@given(st.text(max_size=200))
def test_grounding_never_raises_and_only_yields_inventory_names(intent: str) -> None:
    """For any text, grounding returns; an array value is always an inventory name."""
    g = ground(ROUTINE, intent, INVENTORY)
    if "array" in g.values:
        assert g.values["array"] in {"array-01", "array-02", "array-03"}
    if "version" in g.values:
        assert g.values["version"] in intent


def test_a_dropped_leading_zero_is_a_typo_but_another_number_is_not() -> None:
    """array-1 is read as array-01; array-09 is never read as array-03."""
    assert ground(ROUTINE, "upgrade array-1 to 5.2.1", INVENTORY).values["array"] == "array-01"
    assert "array" not in ground(ROUTINE, "upgrade array-09 to 5.2.1", INVENTORY).values


def test_a_spoken_version_is_read() -> None:
    """'five point two point one' is the version 5.2.1."""
    g = ground(ROUTINE, "upgrade array-01 to five point two point one", INVENTORY)
    assert g.values["version"] == "5.2.1"


def test_numbers_bind_to_the_word_next_to_them_not_to_their_order() -> None:
    """'4 spines and 20 leaves': spines=4, leaves=20, whatever order the routine lists them."""
    routine = parse_routine(
        """
name: network.fabric_sizes
description: size a fabric
intent: "fabric"
params:
  leaves: {type: integer, description: leaf switches, minimum: 1}
  spines: {type: integer, description: spine switches, minimum: 1, default: 2}
  uplink_gbps: {type: integer, description: uplink speed, default: 100}
  k: {type: integer, description: ports, default: 4}
steps:
  - id: go
    actor: core.echo
    args: {message: x}
""",
        source="test",
    )
    g = ground(routine, "build 4 spines and 20 leaves with 400G uplinks, k=8", None)
    assert g.values == {"leaves": 20, "spines": 4, "uplink_gbps": 400, "k": 8}
    words = ground(routine, "a fabric of twelve leaves", None)
    assert words.values["leaves"] == 12


MOVE = parse_routine(
    """
name: storage.move_host_paths
description: Move a host's I/O to a controller.
intent: "Move {host} to {to_controller}"
params:
  host: {type: string, entity: host, description: the host}
  to_controller: {type: string, entity: controller, description: where its I/O goes}
steps:
  - id: go
    actor: core.echo
    args: {message: x}
""",
    source="test",
)
CONTROLLERS = Inventory.from_mapping(
    {"host": ["esx-01"], "controller": ["array-01-a", "array-01-b"]}
)


def test_a_destination_is_never_the_name_moved_away_from() -> None:
    """ "off/from/away from X": X is the source; alone it leaves the destination missing (the
    question offers the others), beside a "to Y" it is skipped and Y is the destination."""
    g = ground(MOVE, "move esx-01 off array-01-a", CONTROLLERS)
    assert "to_controller" not in g.values
    (note,) = [n for n in g.notes if n.param == "to_controller"]
    assert (note.source, note.value) == ("missing", ["array-01-a"])
    for intent in ("move esx-01 from array-01-a to array-01-b", "move esx-01 to array-01-b"):
        assert ground(MOVE, intent, CONTROLLERS).values["to_controller"] == "array-01-b"
    away = ground(MOVE, "move esx-01 away from controller array-01-a", CONTROLLERS)
    assert "to_controller" not in away.values


VERSIONS = st.tuples(*(st.integers(0, 20) for _ in range(3))).map(lambda t: ".".join(map(str, t)))


@given(a=VERSIONS, b=VERSIONS, joint=st.sampled_from([" or ", " / ", " or maybe "]))
def test_versions_offered_as_alternatives_are_ambiguous_never_one_of_them(
    a: str, b: str, joint: str
) -> None:
    """ "to 5.2.1 or 5.3.0": the requester has not chosen; the note offers both, in order."""
    if a == b:
        return
    g = ground(ROUTINE, f"upgrade array-01 to {a}{joint}{b}", INVENTORY)
    assert "version" not in g.values
    note = next(n for n in g.notes if n.param == "version")
    assert (note.source, note.value) == ("ambiguous", [a, b])


def builtin(name: str) -> Routine:
    return Catalog.discover().routines[name]


def test_a_number_is_not_named_by_a_word_beyond_another_number() -> None:
    """ "spine-leaf for 200 servers, 4 spines": 200 gives the leaves (derived), 4 the spines;
    spine_ports keeps its default (the "spines" after the 4 does not name the 200)."""
    fabric = builtin("network.build_fabric")
    g = ground(fabric, "spine-leaf for 200 servers, 4 spines", None)
    assert (g.values["leaves"], g.values["spines"]) == (5, 4)
    assert g.values["spine_ports"] == fabric.params["spine_ports"].default


def test_a_hyphenated_count_is_read_by_the_word_it_is_joined_to() -> None:
    """ "four-pod fat tree" gives k = 4 by the pods formula; "three-tier" and "4-byte" are
    adjectives, never a count."""
    tree = builtin("network.build_fat_tree")
    assert ground(tree, "design a four-pod fat tree", None).values["k"] == 4
    assert ground(tree, "three-tier fat tree with 6 pods", None).values["k"] == 6
    assert "k" not in ground(tree, "a three-tier fat tree", None).values
    big = ground(tree, "k=32 fat tree with 4-byte ASNs from 4200000000", None).values
    assert (big["k"], big["asn_base"]) == (32, 4200000000)


def test_a_number_per_unit_is_a_rate_not_a_count_of_the_unit() -> None:
    """ "480 servers with 40 per leaf": 40 is servers per leaf (never 40 leaves), and the
    leaves are worked out from the 480."""
    g = ground(builtin("network.build_fabric"), "clos for 480 servers with 40 per leaf", None)
    assert (g.values["servers_per_leaf"], g.values["leaves"]) == (40, 12)


@given(
    letter=st.sampled_from("cdefxyz"),
    n=st.sampled_from(["01", "02", "03"]),
)
def test_a_name_of_the_same_shape_with_another_letter_is_no_typo(letter: str, n: str) -> None:
    """ "array-02-c" is an unknown controller, not a misspelt array-02-b; "arary-02-b" and
    "array-2-b" still are typos of array-02-b."""
    controllers = Inventory.from_mapping(
        {"controller": [f"array-{m}-{s}" for m in ("01", "02", "03") for s in "ab"]}
    )
    reboot = builtin("storage.reboot_controller_safely")
    note = next(
        x
        for x in ground(reboot, f"reboot controller array-{n}-{letter}", controllers).notes
        if x.param == "controller"
    )
    assert note.source == "missing"
    for typo in (f"arary-{n}-b", f"array-{n.lstrip('0')}-b"):
        g = ground(reboot, f"reboot controller {typo}", controllers)
        assert g.values["controller"] == f"array-{n}-b", typo


def test_a_version_with_a_suffix_is_not_cut_to_its_numbers() -> None:
    """ "6.0.0-rc1" is not 6.0.0: no version is read (the pattern does not take the suffix);
    a full stop or a comma after a version still ends it."""
    assert "version" not in ground(ROUTINE, "upgrade array-01 to 6.0.0-rc1", INVENTORY).values
    for said in ("upgrade array-01 to 6.0.0.", "upgrade array-01 to 6.0.0, tonight"):
        assert ground(ROUTINE, said, INVENTORY).values["version"] == "6.0.0"


def test_a_count_offered_as_alternatives_is_ambiguous() -> None:
    """ "k=4 or k=8", "8 or 16 leaves": the requester has not chosen; nothing is read."""
    k = next(
        n
        for n in ground(builtin("network.build_fat_tree"), "fat tree k=4 or k=8", None).notes
        if n.param == "k"
    )
    assert (k.source, k.value) == ("ambiguous", [4, 8])
    g = ground(builtin("network.build_fabric"), "leaf-spine with 8 or 16 leaves", None)
    assert "leaves" not in g.values
    assert g.values["spines"] == builtin("network.build_fabric").params["spines"].default


def test_a_rate_is_neither_a_count_of_its_unit_nor_a_total() -> None:
    """ "96 servers with 2 spines and 48 servers per leaf": 48 is per leaf (not 48 leaves,
    not the total), and the 96 gives the leaves."""
    g = ground(
        builtin("network.build_fabric"),
        "leaf-spine for 96 servers with 2 spines and 48 servers per leaf",
        None,
    )
    assert (g.values["leaves"], g.values["spines"], g.values["servers_per_leaf"]) == (2, 2, 48)


def test_servers_per_rack_are_per_leaf_and_a_rate_is_never_the_only_number() -> None:
    """ "384 servers, 48 per rack": a rack's leaf is its top-of-rack switch, so 48 is
    servers per leaf and the leaves are derived (8); a rate alone is never taken as the
    leaves because it is the only number left."""
    fabric = builtin("network.build_fabric")
    g = ground(fabric, "need a clos design for 384 servers, 48 per rack", None)
    assert (g.values["leaves"], g.values["servers_per_leaf"]) == (8, 48)
    rate_only = ground(fabric, "clos design, 40 per rack", None)
    assert "leaves" not in rate_only.values
    assert rate_only.values["servers_per_leaf"] == 40


def test_a_count_said_as_a_multiple_is_read_and_a_speed_is_no_total() -> None:
    """ "2x uplinks to each spine" is 2 uplinks per spine; "10G server links" is a speed,
    not a number of servers, so "100 servers at 25 per leaf" still gives 4 leaves."""
    fabric = builtin("network.build_fabric")
    g = ground(fabric, "underlay 20 ToRs, 4 spines, 2x uplinks to each spine, 400G uplinks", None)
    assert (g.values["leaves"], g.values["uplinks_per_spine"], g.values["uplink_gbps"]) == (
        20,
        2,
        400,
    )
    g = ground(fabric, "fabric for 100 servers at 25 per leaf, 10G server links", None)
    assert (g.values["leaves"], g.values["servers_per_leaf"], g.values["server_link_gbps"]) == (
        4,
        25,
        10,
    )


def test_a_parameter_keyed_twice_with_other_values_is_ambiguous() -> None:
    """ "fat tree k=8, but actually make it k=6": both are offered, neither is read; keyed
    twice with the same value, it is that value."""
    tree = builtin("network.build_fat_tree")
    k = next(n for n in ground(tree, "fat tree k=8, but actually make it k=6", None).notes)
    assert (k.param, k.source, k.value) == ("k", "ambiguous", [8, 6])
    assert ground(tree, "fat tree k=8 (yes, k=8)", None).values["k"] == 8


@pytest.mark.parametrize(
    "intent",
    [
        "upgrade array-01 from 5.1.0",
        "upgrade array-01 past 5.2.1",
        "upgrade array-01 to at least 5.2.1",
        "array-01 is running 5.1.0, upgrade it",
    ],
)
def test_a_version_said_as_a_start_or_a_bound_is_no_target(intent: str) -> None:
    """The version it comes from, or a bound, is not the version to go to: none is read;
    with a target after "to" beside them, the target is read."""
    assert "version" not in ground(ROUTINE, intent, INVENTORY).values
    g = ground(ROUTINE, "instead of 5.2.1, take array-01 from 5.1.0 to 5.3.0", INVENTORY)
    assert g.values["version"] == "5.3.0"


def test_the_other_controller_is_the_sibling_of_the_one_moved_away_from() -> None:
    """ "off array-03-a onto the other controller": array-03-b; with no name moved away
    from, "the other controller" grounds nothing."""
    inventory = Inventory.from_mapping(
        {
            "array": ["array-03"],
            "controller": ["array-03-a", "array-03-b"],
            "host": ["esx-04"],
        }
    )
    move = builtin("storage.move_host_paths")
    g = ground(move, "move esx-04 off array-03-a onto the other controller", inventory)
    assert g.values["to_controller"] == "array-03-b"
    alone = ground(move, "move esx-04 of array-03 onto the other controller", inventory)
    assert "to_controller" not in alone.values


def test_a_capital_letter_after_a_possessive_names_the_controller() -> None:
    """ "array-03's A controller" is array-03-a: after a possessive, or as a capital, the
    letter is no article; "reboot a controller of array-03" still names none."""
    inventory = Inventory.from_mapping(
        {"array": ["array-03"], "controller": ["array-03-a", "array-03-b"]}
    )
    reboot = builtin("storage.reboot_controller_safely")
    assert ground(reboot, "bounce array-03's A controller", inventory).values["controller"] == (
        "array-03-a"
    )
    assert "controller" not in ground(reboot, "reboot a controller of array-03", inventory).values


def test_a_partner_is_the_other_controller_of_the_one_named() -> None:
    """ "array-02-a's partner", "its peer controller": array-02-b; a partner said in
    another clause ("its partner is fine") is not what is planned; arrays have no partner."""
    inventory = Inventory.from_mapping(
        {"array": ["array-01", "array-02"], "controller": ["array-02-a", "array-02-b"]}
    )
    reboot = builtin("storage.reboot_controller_safely")
    assert ground(reboot, "reboot array-02-a's partner", inventory).values["controller"] == (
        "array-02-b"
    )
    upgrade = builtin("storage.firmware_upgrade")
    g = ground(upgrade, "upgrade array-01's partner to 5.2.1", inventory)
    assert g.values["array"] == "array-01"


def test_a_version_after_an_arrow_is_the_target() -> None:
    """A change title "firmware 5.1.0 -> 5.2.2": the arrow says "to"."""
    inventory = Inventory.from_mapping({"array": ["array-03"]})
    g = ground(builtin("storage.firmware_upgrade"), "array-03 firmware 5.1.0 -> 5.2.2", inventory)
    assert g.values["version"] == "5.2.2"
