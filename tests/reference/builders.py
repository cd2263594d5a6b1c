"""Event rows and definition dicts for tests, in the shape a project's YAML and Parquet files have."""

from datetime import date, datetime, timedelta, timezone
from typing import Any

FIRST_DAY = date(2024, 1, 1)

EVENT_SOURCE = {
    "name": "events",
    "file": "data/events.parquet",
    "account": "account_id",
    "user": "user_id",
    "timestamp": "event_ts",
    "event_name": "event_type",
    "columns": {"area": "text", "commit_key": "text", "amount": "number"},
}

STANDARD_TIERS = [
    {"name": "passive", "events": ["view"]},
    {"name": "active", "events": ["commit"]},
    {"name": "power", "events": ["merge"]},
]


def event(
    day: int,
    user: Any,
    account: Any,
    name: Any,
    hour: int = 12,
    *,
    area: Any = None,
    commit_key: Any = None,
    amount: Any = None,
) -> dict[str, Any]:
    """Return an event row at `hour` UTC on day `day` counted from FIRST_DAY."""
    timestamp = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=timezone.utc)
    return {
        "user_id": user,
        "account_id": account,
        "event_ts": timestamp + timedelta(days=day, hours=hour),
        "event_type": name,
        "area": area,
        "commit_key": commit_key,
        "amount": amount,
    }


def day(offset: int) -> date:
    """Return the date `offset` days after FIRST_DAY."""
    return FIRST_DAY + timedelta(days=offset)


def definitions(
    tiers: list[dict[str, Any]] | None = None,
    *,
    time_zone: str = "UTC",
    tier_window: Any = "7 days",
    **sections: Any,
) -> dict[str, Any]:
    """Return project definitions over the `events` source, plus `sections` as top-level keys such as `stickiness`."""
    result: dict[str, Any] = {
        "time_zone": time_zone,
        "sources": [EVENT_SOURCE],
        "engagement": {
            "source": "events",
            "tier_window": tier_window,
            "tiers": STANDARD_TIERS if tiers is None else tiers,
        },
    }
    result.update(sections)
    return result
