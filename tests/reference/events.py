"""Events of the engagement source: the day of each event in the project time zone and its tier.

Days are stored as `date.toordinal()` integers so that windows are plain integer ranges.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from .expressions import compile_filter

INACTIVE = "inactive"
"""Tier name of a user who meets no tier rule. It ranks below every tier."""

INACTIVE_RANK = -1


@dataclass(frozen=True)
class Tier:
    """One engagement tier, with its rank in the tier list (0 is the lowest tier)."""

    name: str
    rank: int
    event_names: frozenset[str] | None  # None when every event name is in the class
    passes_filter: Callable[[Mapping[str, Any]], bool]
    min_events: int
    distinct_column: str | None
    min_distinct: int


@dataclass(frozen=True)
class Event:
    """An event row with a non-NULL user and timestamp."""

    user: Any
    account: Any  # None for an event without an account
    day: int  # date.toordinal() of the event's calendar date in the project time zone
    name: str | None
    tier: int | None  # rank of the highest tier whose class contains the event, None when unclassified
    row: Mapping[str, Any]  # the source row, for filters, distinct columns and `by` columns


def parse_tiers(engagement: Mapping[str, Any]) -> list[Tier]:
    """Build the tiers of an `engagement` definition, lowest first."""
    tiers = []
    for rank, spec in enumerate(engagement["tiers"]):
        names = spec.get("events", "*")
        distinct = spec.get("min_distinct")
        tiers.append(
            Tier(
                name=spec["name"],
                rank=rank,
                event_names=None if names == "*" else frozenset(names),
                passes_filter=compile_filter(spec.get("filter")),
                min_events=int(spec.get("min_events", 1)),
                distinct_column=None if distinct is None else distinct["column"],
                min_distinct=0 if distinct is None else int(distinct["count"]),
            )
        )
    return tiers


def tier_rank(name: str, tiers: list[Tier]) -> int:
    """Return the rank of a tier name, with `inactive` below every tier."""
    if name == INACTIVE:
        return INACTIVE_RANK
    for tier in tiers:
        if tier.name == name:
            return tier.rank
    raise ValueError(f"unknown tier {name!r}: expected inactive or one of {[tier.name for tier in tiers]}")


def tier_name(rank: int, tiers: list[Tier]) -> str:
    return INACTIVE if rank == INACTIVE_RANK else tiers[rank].name


def level_rank(level: str, tiers: list[Tier]) -> int | None:
    """Return the lowest tier rank an activity level qualifies, or None for the level `any`."""
    if level == "any":
        return None
    if level == INACTIVE:
        raise ValueError("invalid activity level 'inactive': use 'any' or a tier name")
    return tier_rank(level, tiers)


def qualifies(event: Event, minimum_rank: int | None) -> bool:
    """Return whether an event qualifies for an activity level given by `level_rank`."""
    if minimum_rank is None:
        return True
    return event.tier is not None and event.tier >= minimum_rank


def local_day(timestamp: datetime, zone: ZoneInfo) -> date:
    """Return the calendar date of a timestamp in a time zone, reading a naive timestamp as UTC."""
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=timezone.utc)
    return timestamp.astimezone(zone).date()


def classify_event(row: Mapping[str, Any], name: str | None, tiers: list[Tier]) -> int | None:
    """Return the rank of the highest tier whose event class contains the event, or None.

    An event with a NULL name is in no class, even in a class of `events: "*"`.
    """
    if name is None:
        return None
    for tier in reversed(tiers):
        in_names = tier.event_names is None or name in tier.event_names
        if in_names and tier.passes_filter(row):
            return tier.rank
    return None


def load_events(
    rows: Iterable[Mapping[str, Any]],
    source: Mapping[str, Any],
    tiers: list[Tier],
    time_zone: str,
) -> list[Event]:
    """Normalise the rows of an event source, dropping rows with a NULL user or timestamp."""
    zone = ZoneInfo(time_zone)
    events = []
    for row in rows:
        user = row[source["user"]]
        timestamp = row[source["timestamp"]]
        if user is None or timestamp is None:
            continue
        name = row[source["event_name"]]
        events.append(
            Event(
                user=user,
                account=row[source["account"]],
                day=local_day(timestamp, zone).toordinal(),
                name=name,
                tier=classify_event(row, name, tiers),
                row=row,
            )
        )
    return events


def data_range(events: list[Event]) -> tuple[int, int] | None:
    """Return the first and last day of data as ordinals, or None when there are no events."""
    if not events:
        return None
    days = [event.day for event in events]
    return min(days), max(days)
