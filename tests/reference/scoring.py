"""Scoring functions of health components: linear, steps and percentile, all clamped to 0–100."""

from collections.abc import Mapping
from typing import Any


def clamp_score(score: float) -> float:
    return min(100.0, max(0.0, score))


def linear_score(value: float, lower: float, upper: float, higher_is_better: bool = True) -> float:
    """Score 0 at `lower` and 100 at `upper` on a straight line, reversed when lower values are better."""
    if upper == lower:
        raise ValueError(f"invalid linear score: lower and upper are both {lower}")
    score = clamp_score(100.0 * (value - lower) / (upper - lower))
    return score if higher_is_better else 100.0 - score


def steps_score(value: float, steps: list[Mapping[str, float]]) -> float:
    """Return the score of the highest breakpoint whose `min` the value reaches, or 0 below the first."""
    score = 0.0
    for step in sorted(steps, key=lambda step: step["min"]):
        if value >= step["min"]:
            score = float(step["score"])
    return clamp_score(score)


def percentile_scores(values: Mapping[Any, float], higher_is_better: bool = True) -> dict[Any, float]:
    """Score each key's value by its standard competition rank among all the values.

    The score is 100 × (rank − 1) / (n − 1), where tied values share the lowest rank, and 50
    when there is one value. None values must be left out by the caller.
    """
    ordered = sorted(values.values())
    count = len(ordered)
    scores = {}
    for key, value in values.items():
        if count == 1:
            score = 50.0
        else:
            rank = 1 + sum(1 for other in ordered if other < value)
            score = 100.0 * (rank - 1) / (count - 1)
        scores[key] = score if higher_is_better else 100.0 - score
    return scores


def score_value(value: float, score: Mapping[str, Any]) -> float:
    """Score one raw value with a `linear` or `steps` scoring definition."""
    function = score["function"]
    if function == "linear":
        return linear_score(value, score["lower"], score["upper"], score.get("higher_is_better", True))
    if function == "steps":
        return steps_score(value, score["steps"])
    raise ValueError(f"invalid scoring function {function!r} for a single value: use linear or steps")
