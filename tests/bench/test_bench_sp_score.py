"""planactor.bench._sp_score: the answer parser, the scorer, Wilson intervals, percentiles."""

from __future__ import annotations

import math

import pytest

from planactor.bench._sp_graphs import SpGraph
from planactor.bench._sp_score import last_path_object, percentile, score_answer, wilson

# Two optimal paths of weight 2 (a tie) and a direct edge of weight 5.
DIAMOND = SpGraph(
    nodes=4,
    seed=0,
    edges=(("N0", "N1", 1), ("N1", "N3", 1), ("N0", "N2", 1), ("N2", "N3", 1), ("N0", "N3", 5)),
    source="N0",
    target="N3",
)


def test_optimal_answer() -> None:
    """A path of the optimum's weight is valid and optimal, its weight recomputed."""
    s = score_answer(DIAMOND, '{"path": ["N0", "N1", "N3"], "total_weight": 2}')
    assert (s.parsed, s.valid, s.optimal, s.weight, s.reason) == (True, True, True, 2, None)


def test_tie_is_optimal_by_weight_not_identity() -> None:
    """The other path of the same weight is optimal too."""
    assert score_answer(DIAMOND, '{"path": ["N0", "N2", "N3"]}').optimal


def test_wrong_claimed_weight_does_not_matter() -> None:
    """The model's total_weight is recorded, never trusted: the path's own weight counts."""
    s = score_answer(DIAMOND, '{"path": ["N0", "N1", "N3"], "total_weight": 99}')
    assert s.optimal
    assert s.claimed_weight == 99


def test_valid_but_not_optimal() -> None:
    """The direct edge is a valid path of weight 5, not optimal, and says so."""
    s = score_answer(DIAMOND, '{"path": ["N0", "N3"], "total_weight": 5}')
    assert (s.valid, s.optimal, s.weight) == (True, False, 5)
    assert s.reason == "weight 5, optimum 2"


def test_invalid_hop() -> None:
    """A hop that is no edge makes the path invalid and is named."""
    s = score_answer(DIAMOND, '{"path": ["N0", "N1", "N2", "N3"]}')
    assert (s.parsed, s.valid, s.optimal) == (True, False, False)
    assert s.reason == "N1 -- N2 is not an edge"


def test_repeated_node_is_no_hop() -> None:
    """Staying on a node is not an edge."""
    assert score_answer(DIAMOND, '{"path": ["N0", "N0", "N3"]}').reason == "N0 -- N0 is not an edge"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ('["N0", "N1"]', "ends at N1, not N3"),
        ('["N1", "N3"]', "starts at N1, not N0"),
        ('["N0"]', "ends at N0, not N3"),
        ("[]", "the path is empty"),
    ],
)
def test_wrong_endpoints(path: str, reason: str) -> None:
    """A path that does not run from the source to the target is invalid."""
    s = score_answer(DIAMOND, f'{{"path": {path}}}')
    assert (s.parsed, s.valid, s.reason) == (True, False, reason)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "The shortest path is N0 -> N1 -> N3.",
        '{path: ["N0", "N1", "N3"]}',
        '{"route": ["N0", "N1", "N3"]}',
        '{"path": "N0,N1,N3"}',
        '{"path": ["N0", 1, "N3"]}',
        '{"path": ["N0", "N1", "N3"',
    ],
)
def test_unparsable_answers(text: str) -> None:
    """No JSON object holding a list of names as "path": not parsed, not valid."""
    s = score_answer(DIAMOND, text)
    assert (s.parsed, s.valid, s.optimal) == (False, False, False)
    assert s.reason is not None


def test_last_object_with_a_path_wins_after_prose() -> None:
    """A chain of thought quoting candidates: the last object holding a path is the answer."""
    text = (
        'Candidates: {"path": ["N0", "N3"], "total_weight": 5} or ["N0", "N1", "N3"].\n'
        'So the answer is:\n```json\n{"path": ["N0", "N1", "N3"], "total_weight": 2}\n```\n'
        'Note {"confidence": "high"}.'
    )
    assert last_path_object(text) == {"path": ["N0", "N1", "N3"], "total_weight": 2}
    assert score_answer(DIAMOND, text).optimal


def test_nested_object_is_found() -> None:
    """An answer wrapped in another object is still found."""
    assert last_path_object('{"answer": {"path": ["N0"]}}') == {"path": ["N0"]}


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Reference: the roots of (k/n - p)^2 = z^2 p (1 - p) / n, solved to 40 digits with
        # Decimal (the Wilson interval's definition, not its closed form); 5 of 10 is the
        # textbook 0.2366-0.7634, and 0 of n has the upper bound z^2 / (n + z^2).
        (5, 10, 0.2365930905, 0.7634069095),
        (0, 10, 0.0, 0.2775327999),
        (10, 10, 0.7224672001, 1.0),
        (0, 20, 0.0, 0.1611251581),
        (20, 20, 0.8388748419, 1.0),
        (1, 20, 0.0088814488, 0.2361311934),
        (81, 263, 0.2552885199, 0.3662095770),
    ],
)
def test_wilson_interval_known_values(successes: int, trials: int, low: float, high: float) -> None:
    """The 95% Wilson interval matches published values, to 1e-9."""
    got = wilson(successes, trials)
    assert got[0] == pytest.approx(low, abs=1e-9)
    assert got[1] == pytest.approx(high, abs=1e-9)


@pytest.mark.parametrize("n", [1, 3, 10, 20, 49, 100])
def test_wilson_bounds_are_exact_at_none_and_all(n: int) -> None:
    """0 of n starts at exactly 0 and n of n ends at exactly 1, never a hair below the rate."""
    assert wilson(0, n)[0] == 0.0
    assert wilson(n, n)[1] == 1.0


def test_wilson_without_trials_and_bad_counts() -> None:
    """No trials: the whole [0, 1]; more successes than trials is an error."""
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="11 successes"):
        wilson(11, 10)


def test_percentile_nearest_rank() -> None:
    """p90 of 1..10 is 9, the median rank of 1..3 is 2; nothing gives NaN."""
    assert percentile([float(x) for x in range(10, 0, -1)], 90) == 9.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([4.0], 90) == 4.0
    assert math.isnan(percentile([], 90))
