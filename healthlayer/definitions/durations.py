"""Parse window lengths and response deadlines written as numbers or as text such as `1 week`."""

from __future__ import annotations

import re

from healthlayer.definitions.issues import InvalidValue

_DURATION = re.compile(r"^\s*(\d+)\s*(hours?|days?|weeks?)?\s*$", re.IGNORECASE)
_HOURS_PER_UNIT = {"hour": 1, "day": 24, "week": 7 * 24}
DURATION_HINT = "Write a whole number, or text such as '30 days', '1 week' or '48 hours'."


def parse_hours(value: object, default_unit: str) -> int:
    """Return a duration in hours; a bare number is read in `default_unit`."""
    if isinstance(value, bool):
        raise InvalidValue(f"expected a duration such as '7 days', got {value!r}", DURATION_HINT)
    if isinstance(value, int):
        number, unit = value, default_unit
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        number = int(match.group(1))
        unit = (match.group(2) or default_unit).lower().rstrip("s")
    else:
        raise InvalidValue(f"expected a duration such as '7 days', '1 week' or '48 hours', got {value!r}",
                           DURATION_HINT)
    if number <= 0:
        raise InvalidValue(f"a duration must be positive, got {value!r}", "Write a length of at least 1.")
    return number * _HOURS_PER_UNIT[unit]


def parse_days(value: object) -> int:
    """Return a window length in whole days; a bare number means days and a week is 7 days."""
    hours = parse_hours(value, "day")
    if hours % 24:
        raise InvalidValue(f"a window must be a whole number of days, got {value!r}",
                           "Write the window in days or weeks, such as '2 days'.")
    return hours // 24
