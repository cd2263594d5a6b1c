"""Day-range helpers shared by the daily views: trailing windows and per-day counters.

Days are `date.toordinal()` integers. The trailing window of N days at d is d-N+1 … d.
"""

from collections.abc import Iterable


def window_start(day: int, length: int) -> int:
    """Return the first day of the trailing window of `length` days ending at `day`."""
    return day - length + 1


def is_window_complete(day: int, length: int, first_day_of_data: int) -> bool:
    """Return whether the trailing window ending at `day` starts on or after the first day of data."""
    return window_start(day, length) >= first_day_of_data


def covering_intervals(days: Iterable[int], length: int) -> list[tuple[int, int]]:
    """Return the merged runs of days (first, last) whose trailing window contains one of `days`.

    A day a lies in the trailing windows ending at a … a+length-1.
    """
    intervals: list[tuple[int, int]] = []
    for day in sorted(set(days)):
        start, end = day, day + length - 1
        if intervals and start <= intervals[-1][1] + 1:
            intervals[-1] = (intervals[-1][0], max(intervals[-1][1], end))
        else:
            intervals.append((start, end))
    return intervals


class DailyCounts:
    """Integer counts for each day of a fixed range, filled by adding amounts to runs of days."""

    def __init__(self, first_day: int, last_day: int):
        self.first_day = first_day
        self.last_day = last_day
        self._deltas = [0] * (last_day - first_day + 2)

    def add(self, start: int, end: int, amount: int = 1) -> None:
        """Add `amount` to every day from `start` to `end`, both included, clipped to the range."""
        start = max(start, self.first_day)
        end = min(end, self.last_day)
        if start > end:
            return
        self._deltas[start - self.first_day] += amount
        self._deltas[end - self.first_day + 1] -= amount

    def totals(self) -> list[int]:
        """Return the count of each day, from the first day of the range to the last."""
        running = 0
        counts = []
        for delta in self._deltas[:-1]:
            running += delta
            counts.append(running)
        return counts
