"""Stickiness views: distinct active users in trailing windows of 1, 7 and 30 days, and their ratios."""

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

from .durations import parse_window_days
from .events import Event, Tier, level_rank, qualifies
from .grouping import events_by_group, output_column
from .timeline import DailyCounts, covering_intervals, is_window_complete

DEFAULT_WINDOWS = {"dau": 1, "wau": 7, "mau": 30}
DEFAULT_MIN_DENOMINATOR = 1
# NOTE: docs/definitions.md names no default level; the reference counts every event.
DEFAULT_LEVEL = "active"


def ratio(numerator: int, denominator: int, min_denominator: float = DEFAULT_MIN_DENOMINATOR) -> float | None:
    """Return numerator / denominator, or None when the denominator is 0 or below `min_denominator`."""
    if denominator == 0 or denominator < min_denominator:
        return None
    return numerator / denominator


def split_ratio(name: str, windows: Mapping[str, int]) -> tuple[str, str]:
    """Split a ratio name such as `dau_mau` into its numerator and denominator window names."""
    for cut in range(1, len(name)):
        numerator, separator, denominator = name[:cut], name[cut], name[cut + 1 :]
        if separator == "_" and numerator in windows and denominator in windows:
            return numerator, denominator
    raise ValueError(f"invalid ratio {name!r}: expected <window>_<window> with windows {list(windows)}")


def window_lengths(definition: Mapping[str, Any]) -> dict[str, int]:
    windows = definition.get("windows", DEFAULT_WINDOWS)
    return {name: parse_window_days(length) for name, length in windows.items()}


def ratio_names(definition: Mapping[str, Any]) -> list[str]:
    """Return the ratio columns: the listed ones, or by default every shorter_longer window pair."""
    if "ratios" in definition:
        return list(definition["ratios"])
    windows = window_lengths(definition)
    return [
        f"{short}_{long}"
        for short, short_days in windows.items()
        for long, long_days in windows.items()
        if short_days < long_days
    ]


def view_columns(definition: Mapping[str, Any]) -> list[str]:
    """Return the columns of a stickiness view in order."""
    by = [output_column(column) for column in definition.get("by", [])]
    windows = list(window_lengths(definition))
    return ["activity_date", *by, *windows, *ratio_names(definition), "is_complete"]


def empty_values(definition: Mapping[str, Any]) -> dict[str, Any]:
    """Return the counts and ratios of a group on a day without events in any window: 0 and None."""
    values: dict[str, Any] = {name: 0 for name in window_lengths(definition)}
    values.update({name: None for name in ratio_names(definition)})
    return values


def stickiness_view(
    events: list[Event],
    definition: Mapping[str, Any],
    tiers: list[Tier],
    day_range: tuple[int, int] | None,
) -> list[dict[str, Any]]:
    """Rows of a stickiness view: one per group and day, from the group's first event day to the last day of data."""
    if day_range is None:
        return []
    first, last = day_range
    by = list(definition.get("by", []))
    windows = window_lengths(definition)
    ratios = [(name, *split_ratio(name, windows)) for name in ratio_names(definition)]
    min_denominator = definition.get("min_denominator", DEFAULT_MIN_DENOMINATOR)
    minimum_rank = level_rank(definition.get("level", DEFAULT_LEVEL), tiers)
    longest = max(windows.values())

    rows = []
    for group, group_events in events_by_group(events, by).items():
        # The group's rows start at its first event of any level.
        group_first = min(event.day for event in group_events)
        active_days: dict[Any, set[int]] = defaultdict(set)
        for event in group_events:
            if qualifies(event, minimum_rank):
                active_days[event.user].add(event.day)

        counts_by_window = {}
        for name, length in windows.items():
            counts = DailyCounts(group_first, last)
            for days in active_days.values():
                for start, end in covering_intervals(days, length):
                    counts.add(start, end)
            counts_by_window[name] = counts.totals()

        for offset, day in enumerate(range(group_first, last + 1)):
            row: dict[str, Any] = {"activity_date": date.fromordinal(day)}
            row.update({output_column(column): value for column, value in zip(by, group)})
            for name in windows:
                row[name] = counts_by_window[name][offset]
            for name, numerator, denominator in ratios:
                row[name] = ratio(row[numerator], row[denominator], min_denominator)
            row["is_complete"] = is_window_complete(day, longest, first)
            rows.append(row)
    return rows
