"""Tier per (account, user) and day, tier transitions and tier-drop alerts.

The tier at day d is the highest tier whose rule the user meets over the events inside the
trailing tier window ending at d. The events inside a trailing window change only on the day an
event enters it (its own day) and on the day it leaves (its day + window length). The tier is
therefore evaluated on those change days and stays the same until the next one.
"""

import bisect
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from typing import Any, TypeVar

from .alerts import id_text
from .durations import parse_response_time
from .events import INACTIVE_RANK, Event, Tier, tier_name, tier_rank
from .timeline import is_window_complete

State = TypeVar("State")

TIERS_DAILY_COLUMNS = ["activity_date", "account_id", "user_id", "tier", "is_complete"]
TRANSITION_COLUMNS = ["transition_date", "account_id", "user_id", "from_tier", "to_tier", "is_complete"]



class TierWindow:
    """The events inside one trailing window, summarised for the tier rules."""

    def __init__(self, tiers: list[Tier]):
        self.tiers = tiers
        self.size = 0  # every event in the window, classified or not
        self._count_by_tier = [0] * len(tiers)
        self._distinct_columns = {tier.distinct_column for tier in tiers if tier.distinct_column}
        # Per distinct column: how many window events of each (tier rank, non-NULL value) there are.
        self._values: dict[str, Counter] = {column: Counter() for column in self._distinct_columns}

    def add(self, event: Event) -> None:
        self._update(event, 1)

    def remove(self, event: Event) -> None:
        self._update(event, -1)

    def _update(self, event: Event, step: int) -> None:
        self.size += step
        if event.tier is None:
            return
        self._count_by_tier[event.tier] += step
        for column in self._distinct_columns:
            value = event.row.get(column)
            if value is None:
                continue
            counter = self._values[column]
            counter[(event.tier, value)] += step
            if counter[(event.tier, value)] == 0:
                del counter[(event.tier, value)]

    def meets_rule(self, tier: Tier) -> bool:
        """Return whether the events of `tier` or higher in the window meet the tier's thresholds."""
        if sum(self._count_by_tier[tier.rank :]) < tier.min_events:
            return False
        if tier.distinct_column is None:
            return True
        values = {value for (rank, value) in self._values[tier.distinct_column] if rank >= tier.rank}
        return len(values) >= tier.min_distinct

    def highest_tier(self) -> int:
        """Return the rank of the highest tier whose rule is met, or INACTIVE_RANK."""
        for tier in reversed(self.tiers):
            if self.meets_rule(tier):
                return tier.rank
        return INACTIVE_RANK


def tier_of_events(events: Iterable[Event], tiers: list[Tier]) -> int:
    """Return the rank of the highest tier whose rule a set of events (one window) meets."""
    window = TierWindow(tiers)
    for event in events:
        window.add(event)
    return window.highest_tier()


def window_runs(
    events: list[Event],
    tiers: list[Tier],
    length: int,
    state_of: Callable[[TierWindow], State],
) -> list[tuple[int, int, State]]:
    """Return runs (first day, last day, state) of the days whose trailing window contains events.

    `events` must be sorted by day. `state_of` summarises the window contents, and a run ends
    where the window contents change. Days whose window is empty belong to no run.
    """
    change_days = sorted({event.day for event in events} | {event.day + length for event in events})
    window = TierWindow(tiers)
    entered = left = 0
    runs = []
    for index, day in enumerate(change_days):
        while entered < len(events) and events[entered].day <= day:
            window.add(events[entered])
            entered += 1
        while left < len(events) and events[left].day <= day - length:
            window.remove(events[left])
            left += 1
        if window.size == 0:
            continue
        # The last change day is the day the last event leaves, so a window with events always
        # has a next change day.
        runs.append((day, change_days[index + 1] - 1, state_of(window)))
    return runs


def events_by_pair(events: Iterable[Event]) -> dict[tuple[Any, Any], list[Event]]:
    """Group events with an account by (account, user), each list sorted by day."""
    pairs: dict[tuple[Any, Any], list[Event]] = defaultdict(list)
    for event in events:
        if event.account is not None:
            pairs[(event.account, event.user)].append(event)
    for pair_events in pairs.values():
        pair_events.sort(key=lambda event: event.day)
    return pairs


def tier_runs_by_pair(
    events: Iterable[Event], tiers: list[Tier], tier_window: int
) -> dict[tuple[Any, Any], list[tuple[int, int, int]]]:
    """Return, per (account, user), the runs of days with their tier rank (inactive runs omitted)."""
    result = {}
    for pair, pair_events in events_by_pair(events).items():
        runs = window_runs(pair_events, tiers, tier_window, TierWindow.highest_tier)
        result[pair] = [run for run in runs if run[2] != INACTIVE_RANK]
    return result


def _tier_on(runs: list[tuple[int, int, int]], day: int) -> int:
    index = bisect.bisect_right(runs, (day, float("inf"), float("inf"))) - 1
    if index >= 0 and runs[index][0] <= day <= runs[index][1]:
        return runs[index][2]
    return INACTIVE_RANK


def engagement_tiers_daily(
    events: list[Event], tiers: list[Tier], tier_window: int, day_range: tuple[int, int] | None
) -> list[dict[str, Any]]:
    """Rows of `engagement_tiers_daily`: one per (account, user) and day of data with a tier."""
    if day_range is None:
        return []
    first, last = day_range
    rows = []
    for (account, user), runs in tier_runs_by_pair(events, tiers, tier_window).items():
        for start, end, rank in runs:
            for day in range(max(start, first), min(end, last) + 1):
                rows.append(
                    {
                        "activity_date": date.fromordinal(day),
                        "account_id": account,
                        "user_id": user,
                        "tier": tiers[rank].name,
                        "is_complete": is_window_complete(day, tier_window, first),
                    }
                )
    return rows


def transition_is_complete(day: int, tier_window: int, first_day_of_data: int) -> bool:
    """Return the `is_complete` of a transition row on `day`.

    The old tier comes from the tier window ending the day before, which starts one day
    earlier than the new tier's window, so the row is complete when that window is.
    NOTE: the semantics only fix `false` for the first day of data, so this is a reading.
    """
    return is_window_complete(day - 1, tier_window, first_day_of_data)


def tier_transitions(
    events: list[Event], tiers: list[Tier], tier_window: int, day_range: tuple[int, int] | None
) -> list[dict[str, Any]]:
    """Rows of `tier_transitions`: each change of a pair's tier between two days of the data range."""
    if day_range is None:
        return []
    first, last = day_range
    rows = []
    for (account, user), runs in tier_runs_by_pair(events, tiers, tier_window).items():
        candidate_days = {run[0] for run in runs} | {run[1] + 1 for run in runs}
        for day in sorted(candidate_days):
            if not first <= day <= last:
                continue
            # No data exists before the first day, so every tier starts from inactive there.
            old_rank = INACTIVE_RANK if day == first else _tier_on(runs, day - 1)
            new_rank = _tier_on(runs, day)
            if old_rank == new_rank:
                continue
            rows.append(
                {
                    "transition_date": date.fromordinal(day),
                    "account_id": account,
                    "user_id": user,
                    "from_tier": tier_name(old_rank, tiers),
                    "to_tier": tier_name(new_rank, tiers),
                    "is_complete": transition_is_complete(day, tier_window, first),
                }
            )
    return rows


def tier_drop_alerts(
    transitions: list[dict[str, Any]], rules: list[Mapping[str, Any]], tiers: list[Tier]
) -> list[dict[str, Any]]:
    """Rows of the `alerts` view for the `tier_drop` rules.

    `respond_by` is a naive datetime in the project time zone: midnight at the start of the day
    after the transition, plus `respond_within` added as wall-clock time.
    """
    rows = []
    for rule in rules:
        if rule.get("type", "tier_drop") != "tier_drop":
            continue
        from_rank = tier_rank(rule["from"], tiers)
        to_rank = tier_rank(rule["to"], tiers)
        respond_within = parse_response_time(rule["respond_within"])
        for transition in transitions:
            old_rank = tier_rank(transition["from_tier"], tiers)
            new_rank = tier_rank(transition["to_tier"], tiers)
            if old_rank < from_rank or new_rank > to_rank:
                continue
            detected = transition["transition_date"]
            end_of_day = datetime.combine(date.fromordinal(detected.toordinal() + 1), time())
            rows.append(
                {
                    "alert_id": f"{rule['name']}:{transition['account_id']}:{transition['user_id']}:{detected.isoformat()}",
                    "alert_type": "tier_drop",
                    "rule": rule["name"],
                    "account_id": id_text(transition["account_id"]),
                    "user_id": id_text(transition["user_id"]),
                    "detected_date": detected,
                    "respond_by": end_of_day + respond_within,
                    "reason": f"tier dropped from {transition['from_tier']} to {transition['to_tier']}",
                    "score": None,
                }
            )
    return rows
