"""Account metrics: an aggregate of a source's rows per account over a trailing window."""

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from .durations import parse_window_days
from .events import local_day
from .expressions import compile_expression, compile_filter
from .sql_values import decimal_to_float
from .timeline import covering_intervals, window_start

AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max")


class AccountMetric:
    """One `account_metrics` definition evaluated over the rows of its source.

    `value(account, day)` follows the definition for any day: over a window without rows,
    `count`, `count_distinct` and `sum` are 0 and `avg`, `min` and `max` are None.
    """

    def __init__(
        self,
        definition: Mapping[str, Any],
        source: Mapping[str, Any],
        rows: Iterable[Mapping[str, Any]],
        time_zone: str,
    ):
        self.name = definition["name"]
        self.aggregate = definition["aggregate"]
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"invalid aggregate {self.aggregate!r} of metric {self.name!r}: use one of {AGGREGATES}")
        if self.aggregate != "count" and "value" not in definition:
            raise ValueError(f"metric {self.name!r} with aggregate {self.aggregate!r} needs a `value`")
        self.window = parse_window_days(definition["window"])
        passes_filter = compile_filter(definition.get("filter"))
        value_of = compile_expression(definition["value"]) if "value" in definition else None
        zone = ZoneInfo(time_zone)

        self.first_day: dict[Any, int] = {}
        # Per account, the (day, value) of each row that passes the filter, sorted by day.
        self._rows: dict[Any, list[tuple[int, Any]]] = defaultdict(list)
        for row in rows:
            account = row[source["account"]]
            timestamp = row[source["timestamp"]]
            if account is None or timestamp is None:
                continue
            if "user" in source and row[source["user"]] is None:
                continue
            day = local_day(timestamp, zone).toordinal()
            self.first_day[account] = min(day, self.first_day.get(account, day))
            if passes_filter(row):
                # A DECIMAL value becomes a float, because DuckDB types a value expression whose rows
                # mix DECIMAL and DOUBLE values as DOUBLE, and health scores use floats anyway.
                value = None if value_of is None else decimal_to_float(value_of(row))
                self._rows[account].append((day, value))
        for account_rows in self._rows.values():
            account_rows.sort(key=lambda item: item[0])
        self._days = {account: [day for day, _ in account_rows] for account, account_rows in self._rows.items()}
        self._distinct_steps = self._count_distinct_steps() if self.aggregate == "count_distinct" else {}

    def _count_distinct_steps(self) -> dict[Any, tuple[list[int], list[int]]]:
        """Return per account the days where the distinct count changes and the count from each such day."""
        steps = {}
        for account, account_rows in self._rows.items():
            days_by_value: dict[Any, list[int]] = defaultdict(list)
            for day, value in account_rows:
                if value is not None:
                    days_by_value[value].append(day)
            deltas: dict[int, int] = defaultdict(int)
            for days in days_by_value.values():
                for start, end in covering_intervals(days, self.window):
                    deltas[start] += 1
                    deltas[end + 1] -= 1
            change_days = sorted(deltas)
            counts = []
            running = 0
            for day in change_days:
                running += deltas[day]
                counts.append(running)
            steps[account] = (change_days, counts)
        return steps

    def first_row_day(self, account: Any) -> int | None:
        """Return the day of the account's first row that passes the filter, None without one."""
        days = self._days.get(account)
        return days[0] if days else None

    def value(self, account: Any, day: int) -> Any:
        """Return the metric for an account over the trailing window ending at `day` (an ordinal)."""
        if self.aggregate == "count_distinct":
            change_days, counts = self._distinct_steps.get(account, ([], []))
            index = bisect.bisect_right(change_days, day) - 1
            return 0 if index < 0 else counts[index]

        days = self._days.get(account, [])
        low = bisect.bisect_left(days, window_start(day, self.window))
        high = bisect.bisect_right(days, day)
        if self.aggregate == "count":
            return high - low
        values = [value for _, value in self._rows[account][low:high] if value is not None] if days else []
        if self.aggregate == "sum":
            # NOTE: a window whose rows all have a NULL value sums to 0 here, like a window without rows.
            return _sum(values)
        if not values:
            return None
        if self.aggregate == "avg":
            return _sum(values) / len(values)
        return min(values) if self.aggregate == "min" else max(values)


def _sum(values: list[Any]) -> Any:
    if all(isinstance(value, int) for value in values):
        return sum(values)
    return math.fsum(values)


def account_metrics_daily(metrics: list[AccountMetric], day_range: tuple[int, int] | None) -> list[dict[str, Any]]:
    """Return one row per account and day, from the account's first row in any metric's source to the last day of data."""
    if day_range is None or not metrics:
        return []
    last = day_range[1]
    first_days: dict[Any, int] = {}
    for metric in metrics:
        for account, day in metric.first_day.items():
            first_days[account] = min(day, first_days.get(account, day))
    rows = []
    for account, account_first in first_days.items():
        for day in range(account_first, last + 1):
            row: dict[str, Any] = {"as_of_date": date.fromordinal(day), "account_id": account}
            row.update({metric.name: metric.value(account, day) for metric in metrics})
            rows.append(row)
    return rows
