"""Numbers in an intent: each with the words around it up to the next number, and numbers
joined to a word by a hyphen read as compounds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from planactor.planner._numbers import number_mentions

WORDS = ["leaves", "spines", "servers", "per", "leaf", "for", "with", "k", "pods", "uplinks"]
NUMBERS = ["4", "16", "200", "twelve", "two", "100G"]


def is_number(word: str) -> bool:
    return word[:1].isdigit() or word in {"twelve", "two", "four"}


@given(st.lists(st.sampled_from(WORDS + NUMBERS), min_size=1, max_size=12))
def test_the_words_around_a_number_stop_at_the_next_number(words: list[str]) -> None:
    """No word beyond another number is taken as naming a number ("200 servers, 4 spines":
    spines names the 4, never the 200)."""
    for m in number_mentions(" ".join(words)):
        assert not any(is_number(w) for w in (*m.before, *m.after)), (words, m)


def test_a_window_never_reaches_past_the_next_number() -> None:
    """ "spine-leaf for 200 servers and 4 spines": 200 is followed by servers only."""
    first, second = number_mentions("spine-leaf for 200 servers and 4 spines")
    assert (first.value, first.after) == (200, ("servers", "and"))
    assert (second.value, second.before, second.after) == (4, ("servers", "and"), ("spines",))


def test_a_comma_ends_the_words_that_name_a_number() -> None:
    """ "leaf-spine, leaves 8, spines 2": 8 is named by leaves only, 2 by spines only."""
    eight, two = number_mentions("leaf-spine, leaves 8, spines 2")
    assert (eight.before, eight.after, two.before, two.after) == (("leaves",), (), ("spines",), ())


def test_a_number_joined_to_a_word_is_a_compound_named_by_that_word_only() -> None:
    """ "four-pod", "16-leaf" and "three-tier" are numbers joined to one word, with nothing
    before them; names (array-01) and ranges (2-4) are no numbers."""
    (pod,) = number_mentions("design a four-pod fat tree")
    assert (pod.value, pod.compound, pod.before, pod.after) == (4, True, (), ("pod",))
    (leaf,) = number_mentions("a 16-leaf clos")
    assert (leaf.value, leaf.compound, leaf.after) == (16, True, ("leaf",))
    tier, pods = number_mentions("three-tier fat tree with 6 pods")
    assert (tier.compound, tier.after, pods.compound) == (True, ("tier",), False)
    assert number_mentions("array-01 lun-4 2-4") == []


def test_a_key_is_a_word_of_its_own() -> None:
    """ "leaf-spine: 16 leaves": "spine" inside leaf-spine keys nothing; "spines: 2" does."""
    (sixteen,) = number_mentions("leaf-spine: 16 leaves")
    assert sixteen.key is None
    assert [m.key for m in number_mentions("fabric: leaves: 8, spines: 2")] == ["leaves", "spines"]


def test_a_ratio_is_one_number_and_a_time_is_not_a_ratio() -> None:
    """ "3:1 oversubscription" is 3, named by the word after the ratio; "at 02:00" and
    "14:30" stay the numbers they were."""
    (ratio,) = number_mentions("16:4 is fine, 3:1 oversubscription")[1:]
    assert (ratio.value, ratio.after) == (3, ("oversubscription",))
    assert number_mentions("oversubscription 5:2")[0].value == 2.5
    assert [m.value for m in number_mentions("restarted at 02:00")] == [2, 0]
    assert [m.value for m in number_mentions("at 14:30")] == [14, 30]


def test_numbers_offered_as_alternatives_carry_each_other() -> None:
    """ "k=4 or k=8", "8 or 16 leaves", "8/16": each carries both values; numbers that are
    not joined by "or" carry none."""
    assert [m.alternatives for m in number_mentions("fat tree k=4 or k=8")] == [(4, 8), (4, 8)]
    assert [m.alternatives for m in number_mentions("leaf-spine with 8 or 16 leaves")] == [
        (8, 16),
        (8, 16),
    ]
    assert number_mentions("8/16 leaves")[0].alternatives == (8, 16)
    assert [m.alternatives for m in number_mentions("8 leaves and 2 spines")] == [(), ()]


def test_the_words_of_a_hyphenated_name_do_not_name_the_number_after_it() -> None:
    """ "leaf-spine with 8": leaf and spine name the topology, not the 8."""
    (eight,) = number_mentions("leaf-spine with 8")
    assert eight.before == ("with",)
