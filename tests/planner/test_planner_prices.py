"""planactor.planner._prices: the price table and cost estimates."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from planactor.planner._prices import PRICES, estimate_cost, price_for


def test_price_table_prices_a_known_hosted_model() -> None:
    """A dated model id uses its family's price; a million tokens each way costs in + out."""
    cost, note = estimate_cost("gpt-4o-mini-2024-07-18", 1_000_000, 1_000_000)
    assert math.isclose(cost, 0.15 + 0.60)
    assert note is None
    assert price_for("claude-sonnet-4-5-20250929") == PRICES["claude-sonnet-4-5"]
    assert price_for("gpt-4o-2024-08-06") == PRICES["gpt-4o"]
    assert price_for("gpt-5.4-mini-2026-03-17") == PRICES["gpt-5.4-mini"]
    assert price_for("gpt-5-mini") != price_for("gpt-5")


def test_unknown_model_costs_nothing_and_says_so() -> None:
    """A model the table lacks costs 0 with a note naming it; local models cost 0 silently."""
    cost, note = estimate_cost("my-finetune", 10, 10)
    assert cost == 0.0
    assert note is not None
    assert "my-finetune" in note
    assert estimate_cost("gpt-4o", 10, 10, priced=False) == (0.0, None)
    assert price_for("gpt-4ox") is None


@settings(max_examples=100, deadline=None)
@given(
    model=st.sampled_from(sorted(PRICES)),
    tokens_in=st.integers(0, 10**7),
    tokens_out=st.integers(0, 10**7),
)
def test_cost_is_linear_in_tokens(model: str, tokens_in: int, tokens_out: int) -> None:
    """Cost is non-negative and adds up: two calls cost what one call with both counts costs."""
    one, _ = estimate_cost(model, tokens_in, tokens_out)
    half_in, half_out = tokens_in // 2, tokens_out // 2
    a, _ = estimate_cost(model, half_in, half_out)
    b, _ = estimate_cost(model, tokens_in - half_in, tokens_out - half_out)
    assert one >= 0
    assert math.isclose(a + b, one, rel_tol=1e-9, abs_tol=1e-12)
