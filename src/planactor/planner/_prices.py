"""What an LLM call costs: the one price table, in USD per million tokens.

Hosted prices change; this table is the single place to update them. Costs are estimates
from list prices (no batch, cache or regional discounts). A model that is not in the table
costs 0 and says so in a note, rather than guessing; a local model always costs 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["PRICES", "PRICES_AS_OF", "Price", "estimate_cost", "price_for"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Price:
    """USD per million input and output tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return (tokens_in * self.input_per_mtok + tokens_out * self.output_per_mtok) / 1e6


PRICES_AS_OF = "2026-11"

# List prices (USD per 1M tokens, standard tier, short context) as published by Anthropic and
# OpenAI, checked PRICES_AS_OF. Keys are model ids; a dated id ("claude-sonnet-4-5-20250929",
# "gpt-5.4-mini-2026-03-17") uses its longest listed prefix. Models with tiered prices that
# depend on the prompt (e.g. claude-haiku-5-5) are left out rather than guessed.
PRICES: Mapping[str, Price] = MappingProxyType(
    {
        # Anthropic
        "claude-opus-5-5": Price(input_per_mtok=4.0, output_per_mtok=20.0),
        "claude-opus-5": Price(input_per_mtok=5.0, output_per_mtok=25.0),
        "claude-opus-4-8": Price(input_per_mtok=5.0, output_per_mtok=25.0),
        "claude-opus-4-7": Price(input_per_mtok=5.0, output_per_mtok=25.0),
        "claude-opus-4-6": Price(input_per_mtok=5.0, output_per_mtok=25.0),
        "claude-opus-4-5": Price(input_per_mtok=5.0, output_per_mtok=25.0),
        "claude-opus-4-1": Price(input_per_mtok=15.0, output_per_mtok=75.0),
        "claude-opus-4": Price(input_per_mtok=15.0, output_per_mtok=75.0),
        "claude-sonnet-5-5": Price(input_per_mtok=2.0, output_per_mtok=10.0),
        "claude-sonnet-5": Price(input_per_mtok=2.0, output_per_mtok=10.0),
        "claude-sonnet-4-6": Price(input_per_mtok=3.0, output_per_mtok=15.0),
        "claude-sonnet-4-5": Price(input_per_mtok=3.0, output_per_mtok=15.0),
        "claude-sonnet-4": Price(input_per_mtok=3.0, output_per_mtok=15.0),
        "claude-haiku-4-5": Price(input_per_mtok=1.0, output_per_mtok=5.0),
        # OpenAI
        "gpt-5.5": Price(input_per_mtok=5.0, output_per_mtok=30.0),
        "gpt-5.4": Price(input_per_mtok=2.50, output_per_mtok=15.0),
        "gpt-5.4-mini": Price(input_per_mtok=0.75, output_per_mtok=4.50),
        "gpt-5.4-nano": Price(input_per_mtok=0.20, output_per_mtok=1.25),
        "gpt-5.1": Price(input_per_mtok=1.25, output_per_mtok=10.0),
        "gpt-5": Price(input_per_mtok=1.25, output_per_mtok=10.0),
        "gpt-5-mini": Price(input_per_mtok=0.25, output_per_mtok=2.0),
        "gpt-5-nano": Price(input_per_mtok=0.05, output_per_mtok=0.40),
        "gpt-4.1": Price(input_per_mtok=2.0, output_per_mtok=8.0),
        "gpt-4.1-mini": Price(input_per_mtok=0.40, output_per_mtok=1.60),
        "gpt-4.1-nano": Price(input_per_mtok=0.10, output_per_mtok=0.40),
        "gpt-4o": Price(input_per_mtok=2.50, output_per_mtok=10.0),
        "gpt-4o-mini": Price(input_per_mtok=0.15, output_per_mtok=0.60),
    }
)


def price_for(model: str) -> Price | None:
    """The listed price of `model`, by exact id or else by its longest listed prefix."""
    if model in PRICES:
        return PRICES[model]
    # Only a prefix followed by "-" counts, so "gpt-4o-mini-2024-07-18" is gpt-4o-mini but
    # "gpt-4o-minix" is nothing.
    prefixes = [k for k in PRICES if model.startswith(k + "-")]
    return PRICES[max(prefixes, key=len)] if prefixes else None


def estimate_cost(
    model: str, tokens_in: int, tokens_out: int, *, priced: bool = True
) -> tuple[float, str | None]:
    """Estimated USD cost of one call and, when it cannot be priced, a note saying why.

    `priced=False` is for models that run on the user's own hardware (the local backend, a
    self-served OpenAI-compatible server): they cost 0 by definition, without a note.
    """
    if not priced:
        return 0.0, None
    price = price_for(model)
    if price is None:
        return 0.0, f"no price listed for model {model!r} (planactor price table {PRICES_AS_OF})"
    return price.cost(tokens_in, tokens_out), None
