"""Deploy a project with healthlayer, read its views with DuckDB and compare them to the reference.

The helpers write a throwaway project folder (healthlayer.yml, models/definitions.yml and
data/events.parquet) from the same definition dicts and rows that the reference reads.
"""

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import jinja2
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from .project import ReferenceProject

REPOSITORY = Path(__file__).resolve().parents[2]
LIBRARY = REPOSITORY / "definitions"

RELATIVE_TOLERANCE = 1e-9
# Values that differ only by rounding near zero (a score of 1e-14 against 0.0) have no useful
# relative difference, so numbers also match within this absolute difference.
ABSOLUTE_TOLERANCE = 1e-12

EVENT_COLUMNS = {
    "user_id": pa.string(),
    "account_id": pa.string(),
    "event_type": pa.string(),
    "area": pa.string(),
    "commit_key": pa.string(),
    "amount": pa.float64(),
}


# The columns that identify a row of each kind of view, besides the `by` columns.
KEY_COLUMNS = {
    "engagement_tiers_daily": ("activity_date", "account_id", "user_id"),
    "tier_transitions": ("transition_date", "account_id", "user_id"),
    "alerts": ("rule", "account_id", "user_id", "detected_date"),
}


def write_events_parquet(path: Path, rows: list[Mapping[str, Any]], timestamp_type: pa.DataType) -> None:
    """Write event rows to Parquet with a fixed schema, so that an empty list still has typed columns."""
    columns = {name: pa.array([row.get(name) for row in rows], type=kind) for name, kind in EVENT_COLUMNS.items()}
    timestamps = [row["event_ts"] for row in rows]
    if timestamp_type.tz is None:
        # A naive Parquet timestamp stores UTC wall-clock time.
        timestamps = [None if ts is None else ts.astimezone(ZoneInfo("UTC")).replace(tzinfo=None) for ts in timestamps]
    columns["event_ts"] = pa.array(timestamps, type=timestamp_type)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)


def write_project(
    folder: Path,
    definitions: Mapping[str, Any],
    rows: list[Mapping[str, Any]],
    timestamp_type: pa.DataType = pa.timestamp("us", tz="UTC"),
    attribute_rows: Mapping[str, tuple[list[Mapping[str, Any]], Mapping[str, pa.DataType]]] | None = None,
) -> None:
    """Write a project folder whose definitions are `definitions` and whose event file contains `rows`.

    `attribute_rows` maps an attribute source name to its rows and column types, written to
    data/<name>.parquet.
    """
    project_file = {
        "name": "parity",
        "time_zone": definitions.get("time_zone", "UTC"),
        "paths": ["models"],
        "default_target": "local",
        "targets": {"local": {"type": "duckdb", "path": "parity.duckdb", "schema": "analytics"}},
    }
    (folder / "models").mkdir(parents=True, exist_ok=True)
    (folder / "healthlayer.yml").write_text(yaml.safe_dump(project_file, sort_keys=False))
    model = {key: value for key, value in definitions.items() if key != "time_zone"}
    (folder / "models" / "definitions.yml").write_text(yaml.safe_dump(model, sort_keys=False))
    write_events_parquet(folder / "data" / "events.parquet", rows, timestamp_type)
    for name, (source_rows, types) in (attribute_rows or {}).items():
        table = pa.table({column: pa.array([row.get(column) for row in source_rows], type=kind) for column, kind in types.items()})
        pq.write_table(table, folder / "data" / f"{name}.parquet")


def read_view(database: Path, schema: str, view: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Return the column names and the rows of a deployed view."""
    with duckdb.connect(str(database), read_only=True) as connection:
        # DuckDB returns TIMESTAMPTZ values in the session time zone, so fix it to UTC.
        connection.execute("SET TimeZone = 'UTC'")
        result = connection.execute(f'SELECT * FROM "{schema}"."{view}"')
        columns = [description[0] for description in result.description]
        return columns, [dict(zip(columns, values)) for values in result.fetchall()]


def view_keys(view: str, definitions: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the columns that identify one row of a view."""
    if view in KEY_COLUMNS:
        return KEY_COLUMNS[view]
    for kind in ("stickiness", "tier_mix"):
        for definition in definitions.get(kind, []):
            if definition["name"] == view:
                by = ["account_id" if column == "account" else column for column in definition.get("by", [])]
                return ("activity_date", *by)
    for definition in definitions.get("health_scores", []):
        if view == f"{definition['name']}_explanations":
            return ("as_of_date", "account_id", "category", "component")
    return ("as_of_date", "account_id")


def _normalise(value: Any, time_zone: str) -> Any:
    """Bring an engine value to the reference's types: aware datetimes become naive project time."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)
    return value


def values_match(actual: Any, expected: Any) -> bool:
    """Compare two cell values: numbers within the tolerances, everything else exactly."""
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        return math.isclose(actual, expected, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE)
    if isinstance(actual, date) and isinstance(expected, date):
        return type(actual) is type(expected) and actual == expected
    return actual == expected


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((value is None, "" if value is None else str(value)) for value in key)


def compare_view(
    view: str,
    actual_columns: list[str],
    actual_rows: list[dict[str, Any]],
    expected_rows: list[dict[str, Any]],
    keys: tuple[str, ...],
    time_zone: str,
    expected_columns: Iterable[str] | None = None,
    strict_columns: bool = False,
    limit: int = 8,
) -> list[str]:
    """Return readable differences between a deployed view and the reference rows (empty when equal).

    Columns the reference lacks are reported only with `strict_columns`, so that a test of
    values does not fail on an extra column alone.
    """
    problems = []
    if expected_columns is None:
        expected_columns = expected_rows[0].keys() if expected_rows else None
    ignored: set[str] = set()
    if expected_columns is not None:
        missing = [column for column in expected_columns if column not in actual_columns]
        extra = [column for column in actual_columns if column not in set(expected_columns) | ignored]
        if missing or (extra and strict_columns):
            problems.append(f"{view}: missing columns {missing}, unexpected columns {extra}")
        if missing:
            return problems
    if view == "alerts" and any(row["alert_id"] is None for row in actual_rows):
        # The id is what downstream tools de-duplicate on, so it must never be NULL.
        problems.append("alerts: column 'alert_id' has NULL values")

    actual_by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in actual_rows:
        row = {column: _normalise(value, time_zone) for column, value in row.items()}
        key = tuple(row[column] for column in keys)
        if key in actual_by_key:
            problems.append(f"{view}: duplicate row for {dict(zip(keys, key))}")
        actual_by_key[key] = row
    expected_by_key = {tuple(row[column] for column in keys): row for row in expected_rows}

    missing_keys = sorted(expected_by_key.keys() - actual_by_key.keys(), key=_sort_key)
    extra_keys = sorted(actual_by_key.keys() - expected_by_key.keys(), key=_sort_key)
    for key in missing_keys[:limit]:
        problems.append(f"{view}: missing row {expected_by_key[key]}")
    for key in extra_keys[:limit]:
        problems.append(f"{view}: unexpected row {actual_by_key[key]}")
    if len(missing_keys) > limit or len(extra_keys) > limit:
        problems.append(f"{view}: {len(missing_keys)} missing and {len(extra_keys)} unexpected rows in all")

    mismatched = 0
    for key in sorted(expected_by_key.keys() & actual_by_key.keys(), key=_sort_key):
        expected, actual = expected_by_key[key], actual_by_key[key]
        differing = {
            column: (actual[column], expected[column])
            for column in expected
            if column not in ignored and not values_match(actual[column], expected[column])
        }
        if differing:
            mismatched += 1
            if mismatched <= limit:
                details = ", ".join(f"{column}: engine {got!r}, reference {want!r}" for column, (got, want) in differing.items())
                problems.append(f"{view}: row {dict(zip(keys, key))}: {details}")
    if mismatched > limit:
        problems.append(f"{view}: {mismatched} rows with different values in all")
    return problems


def compare_deployment(
    reference: ReferenceProject,
    database: Path,
    schema: str,
    views: Iterable[str] | None = None,
    strict_columns: bool = False,
) -> list[str]:
    """Return the differences between the deployed views (all by default) and the reference."""
    problems = []
    time_zone = reference.time_zone
    for view in views or reference.view_names():
        columns, actual = read_view(database, schema, view)
        expected = reference.view(view)
        problems += compare_view(
            view,
            columns,
            actual,
            expected,
            view_keys(view, reference.definitions),
            time_zone,
            expected_columns=reference.view_columns(view),
            strict_columns=strict_columns,
        )
    return problems


def render_definition_file(path: Path, variables: Mapping[str, Any]) -> dict[str, Any]:
    """Render a definition file's Jinja with `var(name, default)` and parse the YAML."""
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)

    def var(name: str, default: Any = None) -> Any:
        return variables.get(name, default)

    text = environment.from_string(path.read_text()).render(var=var)
    return yaml.safe_load(text) or {}


def load_project_definitions(folder: Path, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge a project's definitions the way docs/definitions.md describes, for the reference.

    Included library modules come first, then the project's own files. A project item replaces
    a library item of the same kind and name.
    """
    project_file = yaml.safe_load((folder / "healthlayer.yml").read_text())
    merged_variables = {**project_file.get("vars", {}), **(variables or {})}
    files = [LIBRARY / f"{module}.yml" for module in project_file.get("include", [])]
    for entry in project_file.get("paths", ["."]):
        path = folder / entry
        candidates = [path] if path.is_file() else sorted([*path.rglob("*.yml"), *path.rglob("*.yaml")])
        files += [
            candidate
            for candidate in candidates
            if candidate.name != "healthlayer.yml"
            and not any(part.startswith(".") for part in candidate.relative_to(folder).parts)
        ]

    definitions: dict[str, Any] = {"time_zone": project_file.get("time_zone", "UTC")}
    for path in files:
        for kind, value in render_definition_file(path, merged_variables).items():
            if kind == "engagement":
                definitions["engagement"] = value
                continue
            items = definitions.setdefault(kind, [])
            for item in value:
                items[:] = [existing for existing in items if existing["name"] != item["name"]]
                items.append(item)
    return definitions
