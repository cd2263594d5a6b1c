"""Checks and typed values of fixture tests (`tests:`), which need only the definitions, not SQL."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any

from healthlayer.definitions import models
from healthlayer.definitions.issues import Issue, did_you_mean
from healthlayer.definitions.project import Project
from healthlayer.definitions.references import ALERTS_VIEW, TIERS_VIEW, TRANSITIONS_VIEW

# Columns of a test of an account metric: the metric's value per account and day.
METRIC_COLUMNS = ("as_of_date", "account_id", "value")
# The type of a role column that `columns` does not declare. A timestamp without a declared type
# is taken to have a time zone, as `compile` assumes for table sources, and valid_from is a date.
ROLE_TYPES: dict[str, models.ColumnType] = {
    "account": "text", "user": "text", "timestamp": "timestamptz", "valid_from": "date", "event_name": "text",
}
_TYPE_WORDS = {
    "text": "text", "number": "a number", "integer": "a whole number", "boolean": "true or false",
    "date": "a date such as 2024-01-31", "timestamp": "a timestamp such as 2024-01-31T09:30:00",
    "timestamptz": "a timestamp such as 2024-01-31T09:30:00Z",
}


def source_column_types(source: models.Source) -> dict[str, models.ColumnType]:
    """Return every column of a source with its type; a declared type wins over the role's default."""
    types: dict[str, models.ColumnType] = {column: ROLE_TYPES[role] for role, column in source.role_columns().items()}
    types.update(source.columns)
    return types


BIGINT_MIN, BIGINT_MAX = -2**63, 2**63 - 1


def given_value(value: Any, column_type: models.ColumnType) -> Any:
    """Return a given cell as the Python value of its column type, or raise ValueError for another type.

    Timestamps are ISO text or YAML timestamps. A timestamp without an offset is UTC, and one with an
    offset goes into a `timestamp` column (no time zone) as its UTC wall-clock time, because such
    columns are read as UTC.
    """
    if value is None:
        return None
    if column_type == "text":
        if isinstance(value, str):
            return value
    elif column_type in ("number", "integer"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if column_type == "number":
                try:
                    return float(value)
                except OverflowError:
                    raise ValueError(f"{value} is beyond the range of a double") from None
            if isinstance(value, int) or value.is_integer():
                if not BIGINT_MIN <= value <= BIGINT_MAX:
                    raise ValueError(f"{value} is beyond the range of a 64-bit integer")
                return int(value)
    elif column_type == "boolean":
        if isinstance(value, bool):
            return value
    elif column_type == "date":
        parsed = _date(value)
        if parsed is not None:
            return parsed
    else:
        instant = parse_timestamp(value)
        if instant is not None:
            return instant if column_type == "timestamptz" else instant.replace(tzinfo=None)
    raise ValueError(f"expected {_TYPE_WORDS[column_type]}, got {value!r}")


def parse_timestamp(value: Any) -> datetime | None:
    """Return a UTC datetime for ISO text, a datetime or a date (midnight); return None for other values."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        # The instant in UTC falls before year 1 or after year 9999.
        return None


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def output_views(project: Project) -> list[str]:
    """Return the names of the output views that the project's plan has."""
    names = list(project.stickiness) + list(project.tier_mix)
    if project.engagement is not None:
        names += [TIERS_VIEW, TRANSITIONS_VIEW]
    for score in project.health_scores:
        names += [score, f"{score}_explanations"]
    if project.alerts:
        names.append(ALERTS_VIEW)
    return names


def check_tests(project: Project) -> list[Issue]:
    """Check every fixture test against the definitions: what it tests, its sources, columns and values.

    Expected columns are checked against the compiled plan instead (healthlayer.testing), except
    those of metric tests, whose columns are fixed.
    """
    issues: list[Issue] = []
    for name, test in project.tests.items():
        issues += _check_subject(project, name, test)
        issues += _check_given(project, name, test)
        for index, row in enumerate(test.expect.rows):
            if not row:
                issues.append(Issue("empty-row", "this expected row lists no columns",
                                    project.location("tests", name, "expect", "rows", index),
                                    "List the columns the row checks, such as {activity_date: 2024-01-31, dau: 2}."))
            elif test.metric is not None:
                issues += [Issue("unknown-column", f"a metric test has no column '{column}'",
                                 project.location("tests", name, "expect", "rows", index, column),
                                 did_you_mean(column, METRIC_COLUMNS))
                           for column in row if column not in METRIC_COLUMNS]
    return issues


def _check_subject(project: Project, name: str, test: models.FixtureTest) -> list[Issue]:
    if project.invalid:
        # The view or metric may come from a definition that is invalid, which has its own issue.
        return []
    if test.view is not None:
        views = output_views(project)
        if test.view not in views:
            hint = did_you_mean(test.view, views)
            if test.view in project.account_metrics:
                hint = f"'{test.view}' is an account metric: write 'metric: {test.view}'."
            return [Issue("unknown-view", f"view '{test.view}' is not an output view of the project",
                          project.location("tests", name, "view"), hint)]
    if test.metric is not None and test.metric not in project.account_metrics:
        hint = did_you_mean(test.metric, project.account_metrics)
        if test.metric in output_views(project):
            hint = f"'{test.metric}' is a view: write 'view: {test.metric}'."
        return [Issue("unknown-metric", f"account metric '{test.metric}' is not defined",
                      project.location("tests", name, "metric"), hint)]
    return []


def _check_given(project: Project, name: str, test: models.FixtureTest) -> list[Issue]:
    issues: list[Issue] = []
    for source_name, rows in test.given.items():
        source = project.sources.get(source_name)
        if source is None and project.is_invalid("sources", source_name):
            continue
        if source is None:
            issues.append(Issue("unknown-source", f"source '{source_name}' is not defined",
                                project.location("tests", name, "given", source_name),
                                did_you_mean(source_name, project.sources)))
            continue
        types = source_column_types(source)
        for index, row in enumerate(rows):
            if source.valid_from is not None and row.get(source.valid_from) is None:
                issues.append(Issue(
                    "missing-valid-from", f"a row of the attribute history '{source_name}' has no value of its "
                    f"valid_from column '{source.valid_from}', so the view would ignore the row",
                    project.location("tests", name, "given", source_name, index),
                    f"Add '{source.valid_from}: 2024-01-31', the first day of the row's values."))
            for column, value in row.items():
                where = project.location("tests", name, "given", source_name, index, column)
                if column not in types:
                    issues.append(Issue("unknown-column", f"source '{source_name}' has no column '{column}'",
                                        where, did_you_mean(column, types)
                                        + " Declare other columns under the source's 'columns'."))
                    continue
                try:
                    given_value(value, types[column])
                except ValueError as error:
                    hint = _type_hint(types[column])
                    if column == source.valid_from:
                        hint = hint.removesuffix(", or null.") + "."
                    issues.append(Issue("invalid-type", f"column '{column}' of source '{source_name}' is "
                                        f"{types[column]}: {error}", where, hint))
    return issues


def _type_hint(column_type: models.ColumnType) -> str:
    if column_type == "text":
        return "Quote the value, since YAML reads 1, true, no or 2024-01-31 unquoted as other types."
    if column_type in ("timestamp", "timestamptz"):
        return "Write ISO 8601 text such as 2024-01-31T09:30:00 (UTC) or 2024-01-31T09:30:00-05:00."
    return f"Write {_TYPE_WORDS[column_type]}, or null."
