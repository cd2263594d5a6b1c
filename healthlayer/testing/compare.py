"""Compare the rows of a view with the expected rows of a fixture test.

Numbers match within a tolerance, so "equal rows" is not an equivalence and rows cannot simply
be sorted and zipped. Instead each expected row is paired with a distinct actual row that it
matches, by a maximum bipartite matching, and the rows left over are the differences.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Literal

from healthlayer.definitions.fixtures import parse_timestamp

Row = dict[str, Any]

_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "FLOAT", "REAL", "DOUBLE", "DECIMAL")


@dataclass(frozen=True)
class RowDifference:
    """One differing row: an expected row and its closest actual row, or a row without a partner.

    `columns` names the columns whose values differ, for `differs` only.
    """

    kind: Literal["differs", "missing", "unexpected"]
    expected: Row | None
    actual: Row | None
    columns: tuple[str, ...] = ()


def column_kind(duckdb_type: str) -> str:
    """Return the kind of values a DuckDB column type holds: number, text, boolean, date, timestamp or timestamptz."""
    name = duckdb_type.upper()
    if name in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return "timestamptz"
    if name.startswith("TIMESTAMP"):
        return "timestamp"
    if name == "DATE":
        return "date"
    if name == "BOOLEAN":
        return "boolean"
    if name == "VARCHAR":
        return "text"
    if name.split("(")[0] in _NUMBER_TYPES:
        return "number"
    return "other"


def actual_value(value: Any) -> Any:
    """Bring a DuckDB value to the types that expected values have: decimals become floats."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc)
    return value


def expected_value(value: Any, kind: str) -> Any:
    """Return an expected cell as a value comparable with a column of `kind`.

    Raise ValueError when the cell has another type, such as text in a number column.
    """
    if value is None or kind == "other":
        return value

    if kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        raise ValueError(f"expected a number, got {value!r}")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        raise ValueError(f"expected true or false, got {value!r}")
    if kind == "text":
        if isinstance(value, str):
            return value
        raise ValueError(f"expected text, got {value!r}; quote it")
    if kind == "date":
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValueError(f"expected a date such as 2024-01-31, got {value!r}")

    has_offset = isinstance(value, datetime) and value.tzinfo is not None
    if isinstance(value, str):
        try:
            has_offset = datetime.fromisoformat(value.strip()).tzinfo is not None
        except ValueError:
            pass
    instant = parse_timestamp(value)
    if instant is None:
        raise ValueError(f"expected a timestamp such as 2024-01-31T09:30:00, got {value!r}")
    if kind == "timestamp":
        if has_offset:
            raise ValueError(f"the column is a timestamp without time zone, so {value!r} must not have an offset")
        return instant.replace(tzinfo=None)
    return instant


def values_equal(expected: Any, actual: Any, tolerance: float) -> bool:
    """Return whether two cells match: numbers within `tolerance`, absolute or relative, others exactly."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        if expected == actual:
            return True
        expected_float, actual_float = _as_float(expected), _as_float(actual)
        if math.isnan(expected_float) or math.isnan(actual_float):
            return math.isnan(expected_float) and math.isnan(actual_float)
        if math.isinf(expected_float) or math.isinf(actual_float):
            # Infinities match only themselves: a relative tolerance of infinity would accept anything.
            return expected_float == actual_float
        difference = abs(actual - expected)
        return difference <= tolerance or difference <= tolerance * max(abs(actual), abs(expected))
    return bool(expected == actual)


def _as_float(value: int | float) -> float:
    """Return a number as a float; integers beyond the float range become infinities of their sign."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _row_matches(expected: Row, actual: Row, tolerance: float) -> bool:
    return all(values_equal(value, actual[column], tolerance) for column, value in expected.items())


def _candidates(expected_rows: list[Row], actual_rows: list[Row], tolerance: float) -> list[list[int]]:
    """Return, for each expected row, the indexes of the actual rows it matches.

    Actual rows are indexed by the values of the columns that compare exactly (all but numbers),
    so each expected row is checked only against the rows that agree on those.
    """
    indexes: dict[tuple[str, ...], dict[tuple[Any, ...], list[int]]] = {}
    candidates = []
    for expected in expected_rows:
        exact_columns = tuple(column for column, value in expected.items() if not _is_number(value))
        index = indexes.get(exact_columns)
        if index is None:
            index = {}
            for position, actual in enumerate(actual_rows):
                index.setdefault(tuple(actual[column] for column in exact_columns), []).append(position)
            indexes[exact_columns] = index
        key = tuple(expected[column] for column in exact_columns)
        candidates.append([position for position in index.get(key, [])
                           if _row_matches(expected, actual_rows[position], tolerance)])
    return candidates


def maximum_matching(candidates: list[list[int]]) -> dict[int, int]:
    """Return a maximum matching of expected rows to distinct actual rows, as expected index to actual index.

    Each expected row searches breadth-first for an augmenting path, so deep paths need no recursion.
    """
    assigned: dict[int, int] = {}
    owner: dict[int, int] = {}
    for start, options in enumerate(candidates):
        if not options:
            continue
        reached_from: dict[int, int] = {}
        queue = deque([start])
        free: int | None = None
        while queue and free is None:
            row = queue.popleft()
            for candidate in candidates[row]:
                if candidate in reached_from:
                    continue
                reached_from[candidate] = row
                if candidate not in owner:
                    free = candidate
                    break
                queue.append(owner[candidate])
        # Flip the path: each row on it takes the actual row it reached, back to `start`.
        position = free
        while position is not None:
            row = reached_from[position]
            previous = assigned.get(row)
            assigned[row] = position
            owner[position] = row
            position = None if row == start else previous
    return assigned


def _similarity(expected: Row, actual: Row, tolerance: float) -> tuple[int, tuple[bool, ...]]:
    """Return how many columns agree, then which, so that agreeing leading (key) columns break ties."""
    agreeing = tuple(values_equal(value, actual[column], tolerance) for column, value in expected.items())
    return sum(agreeing), agreeing


def compare_rows(expected_rows: list[Row], actual_rows: list[Row], match: str, tolerance: float) -> list[RowDifference]:
    """Return the differences between expected and actual rows, an empty list when the test passes.

    `exact`: the actual rows, restricted to the columns each expected row lists, equal the expected
    rows as a multiset. `contains`: every expected row matches its own actual row. An expected row
    without a match is shown with its closest actual row when more than half of its columns agree
    there, and as missing otherwise. An actual row that matches it fully is not its closest row,
    because such a row is taken by an equal expected row.
    """
    candidates = _candidates(expected_rows, actual_rows, tolerance)
    assigned = maximum_matching(candidates)
    matched_actual = set(assigned.values())
    free_actual = [position for position in range(len(actual_rows)) if position not in matched_actual]
    columns = list(dict.fromkeys(column for row in expected_rows for column in row))

    differences = []
    for index, expected in enumerate(expected_rows):
        if index in assigned:
            continue
        pool = free_actual if match == "exact" else range(len(actual_rows))
        scores = {position: _similarity(expected, actual_rows[position], tolerance) for position in pool}
        scores = {position: score for position, score in scores.items() if score[0] < len(expected)}
        best = max(scores, key=lambda position: scores[position], default=None)
        if best is not None and 2 * scores[best][0] > len(expected):
            actual = actual_rows[best]
            differing = tuple(column for column, value in expected.items()
                              if not values_equal(value, actual[column], tolerance))
            differences.append(RowDifference("differs", expected, _project(actual, columns), differing))
            if match == "exact":
                free_actual.remove(best)
        else:
            differences.append(RowDifference("missing", expected, None))
    if match == "exact":
        differences += [RowDifference("unexpected", None, _project(actual_rows[position], columns))
                        for position in free_actual]
    return differences


def _project(row: Row, columns: list[str]) -> Row:
    return {column: row[column] for column in columns}
