"""Ranking instead of generation: a small model scores what code already found.

A 135M model writes poor JSON but still tells a likelier continuation from a less likely
one. Where code is left with several candidates that all have a positive reason (routines
whose action words the clause says; entities the clause names), each is written as a short
sentence and scored by the model's mean log-likelihood after the request. The best is
chosen only when it leads the runner-up by at least a margin calibrated on the eval's dev
split; below it the planner keeps asking. The model never adds a candidate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "ENTITY_MARGIN",
    "ROUTINE_MARGIN",
    "ROUTINE_MARGINS",
    "Ranking",
    "Scorer",
    "rank_by_model",
    "routine_margin",
]

# Nats per token by which the best verbalisation must gain over the runner-up, per model
# file, calibrated on the eval's dev split only (docs/planner.md): above the largest
# margin seen on a wrong choice, or on a choice with no right answer ("the standby
# controller"). A model not listed gets the strictest. Entities: neither model showed a
# signal on dev (margins <= 0.27 either way), so the bar is above all of them.
ROUTINE_MARGINS: Mapping[str, float] = {
    "SmolLM2-135M-Instruct.Q4_1.gguf": 1.5,
    "gemma-3-270m-q4_k_m.gguf": 0.15,
}
ROUTINE_MARGIN = 1.5
ENTITY_MARGIN = 1.0


def routine_margin(model: str | None) -> float:
    """The calibrated routine margin for a model file name (the strictest if unknown)."""
    return ROUTINE_MARGINS.get(model or "", ROUTINE_MARGIN)


@runtime_checkable
class Scorer(Protocol):
    """A backend that can rank: the local llama.cpp backend is one."""

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Ranking:
    """What the model was asked to decide, how it scored each option, and the outcome."""

    decides: str  # "routine", or the parameter whose value it ranked
    options: tuple[str, ...]
    scores: tuple[float, ...]
    margin: float  # the best score minus the runner-up's
    threshold: float
    chosen: str | None  # the best option when margin >= threshold; None: keep asking

    @property
    def best(self) -> str:
        return self.options[max(range(len(self.options)), key=lambda i: self.scores[i])]

    def to_document(self) -> dict[str, Any]:
        return {
            "decides": self.decides,
            "options": {o: round(s, 4) for o, s in zip(self.options, self.scores, strict=True)},
            "best": self.best,
            "margin": round(self.margin, 4),
            "threshold": self.threshold,
            "chosen": self.chosen,
        }


def rank_by_model(
    scorer: Scorer,
    *,
    prompt: str,
    options: Mapping[str, str],
    decides: str,
    threshold: float,
    baseline: str | None = None,
) -> Ranking:
    """Score each option's verbalisation (`options`: name -> sentence) after `prompt`;
    choose the best only if it leads the runner-up by `threshold` or more. Ties go to no
    one: equal scores never choose (a margin of 0 is below any positive threshold).

    With `baseline` (the prompt without the request), each score is the gain over the
    option's score after it: how much the request makes the option likelier, not how
    likely the sentence is anyway (a short, common sentence otherwise always wins).
    """
    if len(options) < 2:
        raise ValueError("ranking needs at least two options")
    names = tuple(options)
    sentences = [options[n] for n in names]
    scores = tuple(scorer.score(prompt, sentences))
    if len(scores) != len(names):
        raise ValueError(f"the scorer gave {len(scores)} scores for {len(names)} options")
    if baseline is not None:
        prior = scorer.score(baseline, sentences)
        scores = tuple(s - p for s, p in zip(scores, prior, strict=True))
    ordered = sorted(scores, reverse=True)
    margin = ordered[0] - ordered[1]
    best = names[scores.index(ordered[0])]
    chosen = best if margin >= threshold and margin > 0 else None
    return Ranking(
        decides=decides,
        options=names,
        scores=scores,
        margin=margin,
        threshold=threshold,
        chosen=chosen,
    )
