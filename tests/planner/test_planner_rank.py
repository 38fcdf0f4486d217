"""planactor.planner._rank: the margin rule, with a scripted scorer (no model)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from planactor.planner import Scorer, rank_by_model, routine_margin
from planactor.planner._rank import ROUTINE_MARGIN, ROUTINE_MARGINS


class Fixed:
    """Scores each continuation by a table; the baseline prompt gets `prior` for each."""

    def __init__(self, table: Mapping[str, float], *, prior: Mapping[str, float] | None = None):
        self.table = table
        self.prior = prior or {}
        self.prompts: list[str] = []

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        self.prompts.append(prompt)
        source = self.prior if prompt == "BASE" else self.table
        return [source.get(c, 0.0) for c in continuations]


OPTIONS = {"a": " first", "b": " second"}


def test_a_scripted_scorer_is_a_scorer() -> None:
    """Anything with score(prompt, continuations) is a Scorer (the local backend is one)."""
    assert isinstance(Fixed({}), Scorer)


def test_above_the_margin_the_best_is_chosen() -> None:
    """The best leads by more than the threshold: it is chosen, with its margin."""
    r = rank_by_model(
        Fixed({" first": -1.0, " second": -2.0}),
        prompt="P",
        options=OPTIONS,
        decides="routine",
        threshold=0.5,
    )
    assert (r.chosen, r.best, r.margin) == ("a", "a", 1.0)


def test_below_the_margin_nothing_is_chosen() -> None:
    """The best leads by less than the threshold: no choice (the planner keeps asking)."""
    r = rank_by_model(
        Fixed({" first": -1.0, " second": -1.3}),
        prompt="P",
        options=OPTIONS,
        decides="routine",
        threshold=0.5,
    )
    assert r.chosen is None
    assert r.best == "a"
    assert r.margin == pytest.approx(0.3)


def test_a_tie_never_chooses_even_at_threshold_zero() -> None:
    """Equal scores give a margin of 0, which chooses nothing whatever the threshold."""
    r = rank_by_model(
        Fixed({" first": -1.0, " second": -1.0}),
        prompt="P",
        options=OPTIONS,
        decides="routine",
        threshold=0.0,
    )
    assert r.chosen is None


def test_the_baseline_is_subtracted() -> None:
    """With a baseline prompt, an option likely anyway loses its head start."""
    scorer = Fixed({" first": -1.0, " second": -1.5}, prior={" first": -0.2, " second": -2.0})
    r = rank_by_model(
        scorer, prompt="P", options=OPTIONS, decides="routine", threshold=0.5, baseline="BASE"
    )
    assert scorer.prompts == ["P", "BASE"]
    assert r.scores == pytest.approx((-0.8, 0.5))
    assert r.chosen == "b"


def test_the_document_names_options_scores_margin_and_choice() -> None:
    """to_document is what the plan's planner metadata records."""
    r = rank_by_model(
        Fixed({" first": -1.0, " second": -3.0}),
        prompt="P",
        options=OPTIONS,
        decides="controller",
        threshold=1.0,
    )
    assert r.to_document() == {
        "decides": "controller",
        "options": {"a": -1.0, "b": -3.0},
        "best": "a",
        "margin": 2.0,
        "threshold": 1.0,
        "chosen": "a",
    }


def test_one_option_is_no_ranking() -> None:
    """Ranking needs two options: one is code's decision already."""
    with pytest.raises(ValueError, match="at least two"):
        rank_by_model(Fixed({}), prompt="P", options={"a": " x"}, decides="r", threshold=0.1)


def test_an_unknown_model_gets_the_strictest_margin() -> None:
    """Margins are calibrated per model file; any other model gets the strictest."""
    assert routine_margin("some-other.gguf") == ROUTINE_MARGIN == max(ROUTINE_MARGINS.values())
    assert routine_margin("gemma-3-270m-q4_k_m.gguf") == ROUTINE_MARGINS["gemma-3-270m-q4_k_m.gguf"]
