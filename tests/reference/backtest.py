"""A plain-Python backtest from the rows of a health view and a list of renewals, for checking healthlayer.backtest.

It shares no code with the product: it scores renewals by looking up the view's rows in a dict,
counts pairs for the AUC, and walks the days back one by one for the lead time.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from .health import MissingPolicy, band_of, weighted_mean

Row = Mapping[str, Any]


def score_renewals(view_rows: Sequence[Row], renewals: Sequence[Row], days_before: int) -> list[dict[str, Any]]:
    """Return each renewal whose account has a non-NULL score on its score day, with that day's view row."""
    by_key = {(row["account_id"], row["as_of_date"]): row for row in view_rows}
    scored = []
    for renewal in renewals:
        day = renewal["renewal_date"] - datetime.timedelta(days=days_before)
        row = by_key.get((renewal["account_id"], day))
        if row is not None and row["health_score"] is not None:
            scored.append({**renewal, "view": row})
    return scored


def renewal_rate(renewals: Sequence[Row]) -> tuple[int, int, float | None]:
    """Return (renewals, renewed, rate) of a group."""
    renewed = len([renewal for renewal in renewals if renewal["renewed"]])
    return len(renewals), renewed, (renewed / len(renewals) if renewals else None)


def value_rate(renewals: Sequence[Row]) -> float | None:
    """Return the renewed contract value over all contract value, over renewals with a value."""
    total = 0.0
    renewed = 0.0
    for renewal in renewals:
        if renewal.get("contract_value") is None:
            continue
        total += renewal["contract_value"]
        if renewal["renewed"]:
            renewed += renewal["contract_value"]
    return renewed / total if total > 0 else None


def ntile(renewals: Sequence[Row], groups: int = 10) -> list[list[Row]]:
    """Split renewals ordered by (score, account text, date) as SQL's NTILE(groups) numbers rows.

    Row i (0-based) of n goes to the group whose start index is at or below it, where the first
    n % groups groups have one row more.
    """
    ordered = sorted(renewals, key=lambda renewal: (renewal["view"]["health_score"], str(renewal["account_id"]),
                                                    renewal["renewal_date"]))
    count = len(ordered)
    groups = min(groups, count)
    small, large_groups = divmod(count, groups) if groups else (0, 0)
    result: list[list[Row]] = [[] for _ in range(groups)]
    for index, renewal in enumerate(ordered):
        boundary = large_groups * (small + 1)
        group = index // (small + 1) if index < boundary else large_groups + (index - boundary) // small
        result[group].append(renewal)
    return result


def pairwise_auc(scores: Sequence[float], positives: Sequence[bool]) -> float | None:
    """Return the share of (positive, negative) pairs where the positive scores higher, ties counted half."""
    wins = 0.0
    pairs = 0
    for positive_score, positive in zip(scores, positives):
        if not positive:
            continue
        for negative_score, negative_positive in zip(scores, positives):
            if negative_positive:
                continue
            pairs += 1
            if positive_score > negative_score:
                wins += 1
            elif positive_score == negative_score:
                wins += 0.5
    return wins / pairs if pairs else None


def lead_time(view_rows_by_day: Mapping[datetime.date, Row], renewal_date: datetime.date,
              lowest_band: str) -> int | None:
    """Return the days from the first day of the final lowest-band run before the renewal, or None without one."""
    days = 0
    day = renewal_date - datetime.timedelta(days=1)
    while day in view_rows_by_day and view_rows_by_day[day]["band"] == lowest_band:
        days += 1
        day -= datetime.timedelta(days=1)
    return days or None


def reweighted_band(definition: Mapping[str, Any], category_scores: Mapping[str, float | None],
                    weights: Mapping[str, float]) -> str | None:
    """Return the band of the health score recombined from category scores under other category weights."""
    parts = []
    for category in definition["categories"]:
        score = category_scores[category["name"]]
        if score is None:
            score = MissingPolicy.parse(category.get("missing", definition.get("missing"))).substitute()
        if score is not None:
            parts.append((weights[category["name"]], score))
    if all(category_scores[category["name"]] is None for category in definition["categories"]):
        return None
    return band_of(weighted_mean(parts), definition["bands"])
