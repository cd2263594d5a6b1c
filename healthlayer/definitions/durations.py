"""Parse window lengths and response deadlines written as numbers or as text such as `1 week`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from healthlayer.definitions.issues import InvalidValue

_DURATION = re.compile(r"^\s*(\d+)\s*(hours?|days?|weeks?)?\s*$", re.IGNORECASE)
_HOURS_PER_UNIT = {"hour": 1, "day": 24, "week": 7 * 24}
# The text that `_DURATION` accepts with a positive number in ASCII digits, as a JSON Schema
# (ECMA-262) pattern. JSON Schema has no case-insensitive flag, so each letter of a unit lists
# both cases.
DURATION_JSON_PATTERN = (r"^\s*0*[1-9][0-9]*\s*"
                         r"(?:[Hh][Oo][Uu][Rr][Ss]?|[Dd][Aa][Yy][Ss]?|[Ww][Ee][Ee][Kk][Ss]?)?\s*$")
DURATION_EXAMPLES = "'30 days', '1 week' or '48 hours'"
DURATION_HINT = f"Write a whole number, or text such as {DURATION_EXAMPLES}."


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
    """Return a length in whole days; a bare number means days and a week is 7 days."""
    hours = parse_hours(value, "day")
    if hours % 24:
        raise InvalidValue(f"expected a whole number of days, got {value!r}",
                           "Write the length in days or weeks, such as '2 days'.")
    return hours // 24


def at_most(maximum: int, unit: str) -> Callable[[int], int]:
    """Return a validator of a parsed duration that rejects more than `maximum` `unit`s, naming the unit."""
    def check(length: int) -> int:
        if length > maximum:
            raise InvalidValue(f"expected at most {maximum:,} {unit}, got {length:,} {unit}",
                               f"Write a length of at most {maximum:,} {unit}.")
        return length

    return check


def duration_json_schema(default_unit: str, maximum: int | None = None) -> dict[str, Any]:
    """Return the JSON Schema of a duration: a positive whole number of `default_unit`s, or text.

    `maximum`, in `default_unit`s, bounds the number form only. Neither that bound nor the rule
    that hours must make whole days is expressed for text: JSON Schema cannot compute either from
    text such as `2 weeks`, so `healthlayer validate` checks them. A float such as 7.0 is an
    integer to JSON Schema but rejected by `parse_hours`.
    """
    number: dict[str, Any] = {"type": "integer", "minimum": 1}
    if maximum is not None:
        number["maximum"] = maximum
    text = {"type": "string", "pattern": DURATION_JSON_PATTERN,
            "patternErrorMessage": f"Expected a duration such as {DURATION_EXAMPLES}."}
    return {"anyOf": [number, text]}
