"""Statistics of a health-score backtest, as pure functions over scored renewals.

docs/backtest.md defines each figure. Nothing here reads a database: healthlayer.backtest
fetches the rows and calls these functions.
"""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from healthlayer.definitions import models

DECILES = 10
LEAD_TIME_THRESHOLDS = (30, 60, 90)
WEIGHT_MOVE = 10.0


@dataclass(frozen=True)
class ScoredRenewal:
    """One renewal with the account's health score on its score day."""

    account_id: Any
    renewal_date: datetime.date
    renewed: bool
    contract_value: float | None
    health_score: float
    band: str | None
    # Category name to the category score of the view, None where the category had no data.
    category_scores: Mapping[str, float | None]
    # The text of the account's segment on the score day, None without one.
    segment: str | None = None


@dataclass(frozen=True)
class RateGroup:
    """Renewal counts and rates of a group of scored renewals: a band or a score decile."""

    label: str
    renewals: int
    renewed: int
    # None for an empty group.
    renewal_rate: float | None
    # Renewed contract value over all contract value, None without contract values.
    value_renewal_rate: float | None
    min_score: float | None
    max_score: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "renewals": self.renewals, "renewed": self.renewed,
                "renewal_rate": self.renewal_rate, "value_renewal_rate": self.value_renewal_rate,
                "min_score": self.min_score, "max_score": self.max_score}


def rate_group(label: str, renewals: Sequence[ScoredRenewal]) -> RateGroup:
    """Count the renewals of a group and compute its renewal rate and value-weighted renewal rate.

    The value-weighted rate reads only the renewals with a contract value.
    """
    renewed = sum(1 for renewal in renewals if renewal.renewed)
    valued = [(renewal.contract_value, renewal.renewed) for renewal in renewals
              if renewal.contract_value is not None]
    total_value = sum(value for value, _ in valued)
    renewed_value = sum(value for value, renewed_flag in valued if renewed_flag)
    scores = [renewal.health_score for renewal in renewals]
    return RateGroup(
        label=label,
        renewals=len(renewals),
        renewed=renewed,
        renewal_rate=renewed / len(renewals) if renewals else None,
        value_renewal_rate=renewed_value / total_value if valued and total_value > 0 else None,
        min_score=min(scores) if scores else None,
        max_score=max(scores) if scores else None,
    )


def band_rates(renewals: Sequence[ScoredRenewal], band_names: Sequence[str]) -> list[RateGroup]:
    """Return one group per band in `band_names` order, including bands without renewals."""
    return [rate_group(name, [renewal for renewal in renewals if renewal.band == name]) for name in band_names]


def decile_groups(renewals: Sequence[ScoredRenewal]) -> list[list[ScoredRenewal]]:
    """Split renewals into up to ten groups by ascending score, as SQL's NTILE(10) does.

    The renewals are ordered by score, then account id as text, then renewal date. With n
    renewals, the first n % 10 groups contain one renewal more than the others. With fewer than
    ten renewals, each group contains one. Equal scores may fall into neighbouring groups.
    """
    ordered = sorted(renewals, key=lambda renewal: (renewal.health_score, str(renewal.account_id),
                                                    renewal.renewal_date))
    count = len(ordered)
    groups = min(DECILES, count)
    groups_list: list[list[ScoredRenewal]] = []
    start = 0
    for index in range(groups):
        size = count // groups + (1 if index < count % groups else 0)
        groups_list.append(ordered[start:start + size])
        start += size
    return groups_list


def decile_rates(renewals: Sequence[ScoredRenewal]) -> list[RateGroup]:
    """Return the rate group of each score decile, decile 1 holding the lowest scores."""
    return [rate_group(str(index + 1), group) for index, group in enumerate(decile_groups(renewals))]


def auc(scores: Sequence[float], positives: Sequence[bool]) -> float | None:
    """Return the area under the ROC curve of `scores` for the positive class, ties counted half.

    It is the probability that a random positive scores above a random negative, plus half the
    probability of equal scores (the Mann-Whitney U statistic over the number of pairs). Return
    None without a positive or without a negative.
    """
    if len(scores) != len(positives):
        raise ValueError("scores and outcomes differ in length")
    positive_count = sum(1 for positive in positives if positive)
    negative_count = len(positives) - positive_count
    if positive_count == 0 or negative_count == 0:
        return None
    # Mid-ranks: equal scores share the mean of the ranks they occupy.
    order = sorted(range(len(scores)), key=lambda index: scores[index])
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        mid_rank = (start + end) / 2 + 1
        for position in range(start, end + 1):
            ranks[order[position]] = mid_rank
        start = end + 1
    positive_rank_sum = sum(rank for rank, positive in zip(ranks, positives) if positive)
    u_statistic = positive_rank_sum - positive_count * (positive_count + 1) / 2
    return u_statistic / (positive_count * negative_count)


@dataclass(frozen=True)
class Lift:
    """Churn rate of the lowest band over the churn rate of the highest band."""

    lowest_band: str
    highest_band: str
    lowest_churn_rate: float | None
    highest_churn_rate: float | None
    value: float | None
    # Reason the value is undefined, None when it is defined.
    undefined_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"lowest_band": self.lowest_band, "highest_band": self.highest_band,
                "lowest_churn_rate": self.lowest_churn_rate, "highest_churn_rate": self.highest_churn_rate,
                "value": self.value, "undefined_reason": self.undefined_reason}


def lift(lowest: RateGroup, highest: RateGroup) -> Lift:
    """Return the lift of the lowest band against the highest band; undefined where a rate is missing or 0."""
    lowest_churn = None if lowest.renewal_rate is None else 1 - lowest.renewal_rate
    highest_churn = None if highest.renewal_rate is None else 1 - highest.renewal_rate
    reason = None
    if lowest.label == highest.label:
        reason = "the score has one band"
    elif lowest_churn is None:
        reason = f"no scored renewal is in band {lowest.label}"
    elif highest_churn is None:
        reason = f"no scored renewal is in band {highest.label}"
    elif highest_churn == 0:
        reason = f"no renewal in band {highest.label} churned, so the ratio has a zero denominator"
    value = None if reason is not None else lowest_churn / highest_churn  # type: ignore[operator]
    return Lift(lowest.label, highest.label, lowest_churn, highest_churn, value, reason)


LeadStatus = Literal["in_lowest_band", "not_in_lowest_band", "no_score"]


def lead_time(renewal_date: datetime.date, history: Mapping[datetime.date, str | None],
              lowest_band: str) -> tuple[LeadStatus, int | None]:
    """Return how many days before the renewal the account entered its final run in the lowest band.

    `history` maps days to the account's band on that day. Only days before the renewal date
    count. The run is the unbroken sequence of consecutive days in the lowest band that ends on
    the day before the renewal. A missing day or a NULL band breaks it. The lead time is the
    renewal date minus the run's first day, so a run of only the day before scores 1. Return
    ("no_score", None) when the day before has no band, and ("not_in_lowest_band", None) when
    that day is in another band.
    """
    day = renewal_date - datetime.timedelta(days=1)
    band = history.get(day)
    if band is None:
        return "no_score", None
    if band != lowest_band:
        return "not_in_lowest_band", None
    while history.get(day - datetime.timedelta(days=1)) == lowest_band:
        day -= datetime.timedelta(days=1)
    return "in_lowest_band", (renewal_date - day).days


@dataclass(frozen=True)
class LeadTimeSummary:
    """Distribution of the lead times of churned renewals."""

    churned: int
    in_lowest_band: int
    not_in_lowest_band: int
    no_score: int
    median_days: float | None
    # Threshold in days to the share of churned renewals with a band on the day before the
    # renewal whose lead time is at least that many days; None when no such renewal exists.
    share_at_least: dict[int, float | None]
    days: list[int]

    def as_dict(self) -> dict[str, Any]:
        return {"churned": self.churned, "in_lowest_band": self.in_lowest_band,
                "not_in_lowest_band": self.not_in_lowest_band, "no_score": self.no_score,
                "median_days": self.median_days,
                "share_at_least_days": {str(days): share for days, share in self.share_at_least.items()},
                "lead_times_days": self.days}


def summarise_lead_times(statuses: Sequence[tuple[LeadStatus, int | None]]) -> LeadTimeSummary:
    """Summarise the lead times of churned renewals.

    The median is over the renewals in the lowest band on the day before the renewal. The shares
    divide by every churned renewal with a band on that day, so a churned account outside the
    lowest band counts as a lead time below every threshold.
    """
    days = sorted(value for status, value in statuses if status == "in_lowest_band" and value is not None)
    outside = sum(1 for status, _ in statuses if status == "not_in_lowest_band")
    no_score = sum(1 for status, _ in statuses if status == "no_score")
    with_band = len(days) + outside
    shares = {threshold: (sum(1 for value in days if value >= threshold) / with_band if with_band else None)
              for threshold in LEAD_TIME_THRESHOLDS}
    return LeadTimeSummary(
        churned=len(statuses), in_lowest_band=len(days), not_in_lowest_band=outside, no_score=no_score,
        median_days=float(statistics.median(days)) if days else None, share_at_least=shares, days=days)


def band_of(bands: Sequence[models.Band], score: float | None) -> str | None:
    """Return the band of a score as the health view assigns it: the band with the highest min at or below it."""
    if score is None:
        return None
    ordered = sorted(bands, key=lambda band: band.min, reverse=True)
    for band in ordered[:-1]:
        if score >= band.min:
            return band.name
    return ordered[-1].name


def _substitute(policy: models.MissingPolicy) -> float | None:
    """Return the score that a missing policy puts in place of a category without data, None to leave it out."""
    if policy == "renormalize":
        return None
    if policy == "zero":
        return 0.0
    assert isinstance(policy, models.Impute)
    return float(policy.impute)


def score_from_categories(definition: models.HealthScore, category_scores: Mapping[str, float | None],
                          weights: Mapping[str, float]) -> float | None:
    """Return the health score of category scores under category weights, as the health view combines them.

    A category without a score takes its missing policy (its own, else the score's). The score
    is the weighted mean of the categories with an effective score, so the weights are divided by
    their total as in the view. It is None when no category has data (coverage 0) or when no
    category has an effective score. Every weight must be positive.
    """
    weighted_sum = 0.0
    scored_weight = 0.0
    has_data = False
    for category in definition.categories:
        value = category_scores[category.name]
        if value is not None:
            has_data = True
        effective = value if value is not None else _substitute(category.missing or definition.missing)
        if effective is not None:
            weighted_sum += weights[category.name] * effective
            scored_weight += weights[category.name]
    if not has_data or scored_weight == 0:
        return None
    return weighted_sum / scored_weight


@dataclass(frozen=True)
class WeightMove:
    """Band changes of the scored renewals when one category weight moves by a number of points.

    With segment weights, the move applies to the category's weight in every segment as well.
    """

    category: str
    weight: float
    new_weight: float
    # Renewals whose band rises or falls; None when the move would make a weight 0 or less.
    moved_up: int | None
    moved_down: int | None
    # Segment to the category's weight there before and after the move; empty without segments.
    segment_weights: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    # The segments, DEFAULT_WEIGHTS for the categories' own weights, whose weight the move would
    # make 0 or less, among those of the scored renewals.
    blocked_by: tuple[str, ...] = ()

    @property
    def changed(self) -> int | None:
        return None if self.moved_up is None or self.moved_down is None else self.moved_up + self.moved_down

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "weight": self.weight, "new_weight": self.new_weight,
                "segment_weights": {segment: {"weight": before, "new_weight": after}
                                    for segment, (before, after) in self.segment_weights.items()},
                "changed": self.changed, "moved_up": self.moved_up, "moved_down": self.moved_down,
                "blocked_by": list(self.blocked_by)}


@dataclass(frozen=True)
class WeightSensitivity:
    """Band changes of scored renewals under each one-category weight move."""

    moves: list[WeightMove]
    # Renewals whose band changes under at least one move.
    changed_by_any: int
    # Renewals whose band recomputed from the category scores differs from the view's band.
    baseline_mismatches: int

    def as_dict(self) -> dict[str, Any]:
        return {"moves": [move.as_dict() for move in self.moves], "changed_by_any": self.changed_by_any,
                "baseline_mismatches": self.baseline_mismatches}


# The name under which a blocked move reports the categories' own weights.
DEFAULT_WEIGHTS = "default"


def category_weights(definition: models.HealthScore, segment: str | None) -> dict[str, float]:
    """Return the category weights of an account in `segment`: the segment's own, else the categories'."""
    weights = definition.segment_weights.get(segment) if segment is not None else None
    if weights is not None:
        return {name: float(weight) for name, weight in weights.items()}
    return {category.name: float(category.weight) for category in definition.categories}


def weight_sensitivity(definition: models.HealthScore, renewals: Sequence[ScoredRenewal],
                       move: float = WEIGHT_MOVE) -> WeightSensitivity:
    """Count the renewals whose band changes when one category weight moves by +move or -move points of 100.

    The other categories keep their weights. A set of weights that does not sum to 100 (with
    `normalize: true`) moves by the same share of its total. With segment weights, the category's
    weight moves in every segment too, and each renewal is scored with the weights of its
    segment. Bands are compared with the band recomputed from the category scores under the
    definition's weights. A move that would leave a weight at 0 or below, in the weights of some
    scored renewal, is reported with None counts and the segments it blocks on, since weights
    must be positive.
    """
    weight_sets: dict[str | None, dict[str, float]] = {None: category_weights(definition, None)}
    weight_sets.update({segment: category_weights(definition, segment) for segment in definition.segment_weights})
    order = {band.name: rank for rank, band in enumerate(sorted(definition.bands, key=lambda band: band.min))}

    def key_of(renewal: ScoredRenewal) -> str | None:
        return renewal.segment if renewal.segment in weight_sets else None

    def band_under(renewal: ScoredRenewal, sets: dict[str | None, dict[str, float]]) -> str | None:
        return band_of(definition.bands, score_from_categories(definition, renewal.category_scores,
                                                               sets[key_of(renewal)]))

    used = {key_of(renewal) for renewal in renewals}
    baseline = [band_under(renewal, weight_sets) for renewal in renewals]
    mismatches = sum(1 for band, renewal in zip(baseline, renewals) if band != renewal.band)
    moves: list[WeightMove] = []
    changed_any: set[int] = set()
    for category in definition.categories:
        name = category.name
        for direction in (1, -1):
            moved = {key: {**weights, name: weights[name] + direction * move * sum(weights.values()) / 100}
                     for key, weights in weight_sets.items()}
            segments = {key: (weight_sets[key][name], moved[key][name]) for key in moved if key is not None}
            blocked = tuple(DEFAULT_WEIGHTS if key is None else key for key in weight_sets
                            if key in used and moved[key][name] <= 0)
            default = (weight_sets[None][name], moved[None][name])
            if blocked:
                moves.append(WeightMove(name, *default, None, None, segments, blocked))
                continue
            up = down = 0
            for index, renewal in enumerate(renewals):
                band = band_under(renewal, moved)
                if band == baseline[index]:
                    continue
                changed_any.add(index)
                # With positive weights a score is NULL only without category data, and then the
                # baseline is NULL too, so both bands here are named bands.
                if order.get(band or "", -1) > order.get(baseline[index] or "", -1):
                    up += 1
                else:
                    down += 1
            moves.append(WeightMove(name, *default, up, down, segments))
    return WeightSensitivity(moves, len(changed_any), mismatches)
