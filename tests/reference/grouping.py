"""The `by` groups of stickiness and tier-mix views."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .events import Event


def output_column(by_column: str) -> str:
    """Return the view column of a `by` entry: `account` is written as `account_id`."""
    return "account_id" if by_column == "account" else by_column


def group_key(event: Event, by: list[str]) -> tuple[Any, ...]:
    return tuple(event.account if column == "account" else event.row.get(column) for column in by)


def events_by_group(events: Iterable[Event], by: list[str]) -> dict[tuple[Any, ...], list[Event]]:
    """Group events by their `by` values, leaving out events with a NULL value in any `by` column.

    NOTE: the semantics only state that events without an account are left out of per-account
    views. The reference applies the same rule to declared `by` columns.
    """
    groups: dict[tuple[Any, ...], list[Event]] = defaultdict(list)
    for event in events:
        key = group_key(event, by)
        if any(value is None for value in key):
            continue
        groups[key].append(event)
    return groups
