"""Tier-mix views: the users with any event in the trailing window, each counted once at their tier."""

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

from .durations import parse_window_days
from .events import INACTIVE_RANK, Event, Tier, tier_rank
from .grouping import events_by_group, output_column
from .tiers import TierWindow, window_runs
from .timeline import DailyCounts, is_window_complete

DEFAULT_WINDOW_DAYS = 30


def share(users_at_or_above: int, population: int) -> float | None:
    """Return the share of the population at a tier or above, or None when the population is empty."""
    return None if population == 0 else users_at_or_above / population


def view_columns(definition: Mapping[str, Any], tiers: list[Tier]) -> list[str]:
    """Return the columns of a tier-mix view in order."""
    columns = ["activity_date", *(output_column(column) for column in definition.get("by", [])), "mau"]
    for tier in tiers:
        columns += [f"{tier.name}_users", f"{tier.name}_share"]
    if "target" in definition:
        columns.append("meets_target")
    return [*columns, "is_complete"]


def empty_values(definition: Mapping[str, Any], tiers: list[Tier]) -> dict[str, Any]:
    """Return the columns of a group on a day without events in the window: 0 users, no shares."""
    values: dict[str, Any] = {"mau": 0}
    for tier in tiers:
        values[f"{tier.name}_users"] = 0
        values[f"{tier.name}_share"] = None
    if "target" in definition:
        values["meets_target"] = None
    return values


def tier_mix_view(
    events: list[Event],
    definition: Mapping[str, Any],
    tiers: list[Tier],
    day_range: tuple[int, int] | None,
) -> list[dict[str, Any]]:
    """Rows of a tier-mix view: one per group and day, from the group's first event day to the last day of data.

    Within a group, a user's tier is evaluated over that user's events of the group only, so a
    view by account keeps tiers per (account, user). A view without `by` uses all the user's
    events, including those without an account.
    """
    if day_range is None:
        return []
    first, last = day_range
    by = list(definition.get("by", []))
    length = parse_window_days(definition.get("window", DEFAULT_WINDOW_DAYS))
    target = definition.get("target")
    target_rank = None if target is None else tier_rank(target["tier"], tiers)

    rows = []
    for group, group_events in events_by_group(events, by).items():
        group_first = min(event.day for event in group_events)
        events_by_user: dict[Any, list[Event]] = defaultdict(list)
        for event in sorted(group_events, key=lambda event: event.day):
            events_by_user[event.user].append(event)

        population = DailyCounts(group_first, last)
        users_by_tier = [DailyCounts(group_first, last) for _ in tiers]
        for user_events in events_by_user.values():
            for start, end, rank in window_runs(user_events, tiers, length, TierWindow.highest_tier):
                population.add(start, end)
                if rank != INACTIVE_RANK:
                    users_by_tier[rank].add(start, end)
        population_totals = population.totals()
        tier_totals = [counts.totals() for counts in users_by_tier]

        for offset, day in enumerate(range(group_first, last + 1)):
            row: dict[str, Any] = {"activity_date": date.fromordinal(day)}
            row.update({output_column(column): value for column, value in zip(by, group)})
            mau = population_totals[offset]
            row["mau"] = mau
            for tier in tiers:
                at_or_above = sum(totals[offset] for totals in tier_totals[tier.rank :])
                row[f"{tier.name}_users"] = tier_totals[tier.rank][offset]
                row[f"{tier.name}_share"] = share(at_or_above, mau)
            if target is not None:
                target_share = row[f"{tiers[target_rank].name}_share"]
                row["meets_target"] = None if target_share is None else target_share >= target["min_share"]
            row["is_complete"] = is_window_complete(day, length, first)
            rows.append(row)
    return rows
