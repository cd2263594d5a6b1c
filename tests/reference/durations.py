"""Window lengths and response times as the definition files write them."""

import re
from datetime import timedelta

_DAYS_PER_UNIT = {"day": 1, "days": 1, "week": 7, "weeks": 7}
_HOURS_PER_UNIT = {"hour": 1, "hours": 1, "day": 24, "days": 24, "week": 168, "weeks": 168}
_QUANTITY = re.compile(r"\s*(\d+)\s*([a-z]+)\s*", re.IGNORECASE)


def parse_window_days(value: int | str) -> int:
    """Return the length in days of a window written as an int or as '7 days', '1 week', '4 weeks'."""
    if isinstance(value, bool):
        raise ValueError(f"invalid window {value!r}: expected a number of days or text such as '7 days'")
    if isinstance(value, int):
        days = value
    else:
        match = _QUANTITY.fullmatch(str(value))
        if match is None or match.group(2).lower() not in _DAYS_PER_UNIT:
            raise ValueError(f"invalid window {value!r}: expected text such as '7 days' or '4 weeks'")
        days = int(match.group(1)) * _DAYS_PER_UNIT[match.group(2).lower()]
    if days < 1:
        raise ValueError(f"invalid window {value!r}: a window has at least 1 day")
    return days


def parse_response_time(value: str) -> timedelta:
    """Return the `respond_within` of an alert rule, written as '48 hours' or '2 days', as a timedelta."""
    match = _QUANTITY.fullmatch(str(value))
    if match is None or match.group(2).lower() not in _HOURS_PER_UNIT:
        raise ValueError(f"invalid respond_within {value!r}: expected text such as '48 hours' or '2 days'")
    return timedelta(hours=int(match.group(1)) * _HOURS_PER_UNIT[match.group(2).lower()])
