"""Run fixture tests on an in-memory DuckDB: each source becomes a table of the given rows.

The plan is built once per set of vars, with every source read from a table in SOURCE_SCHEMA,
and deployed with the DuckDB adapter. Each test then replaces the rows of those tables and reads
one view, so the SQL under test is exactly what `deploy` creates on DuckDB.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb

from healthlayer.adapters.duckdb import DuckDBAdapter
from healthlayer.compiler import sql
from healthlayer.compiler.plan import Plan, as_views, build_plan, internal_name
from healthlayer.definitions import models
from healthlayer.definitions.fixtures import given_value, source_column_types
from healthlayer.definitions.issues import Issue, Location, did_you_mean
from healthlayer.definitions.project import Project, load_project
from healthlayer.definitions.yaml_loader import UnsetTolerantEnviron
from healthlayer.errors import DefinitionError, HealthlayerError
from healthlayer.testing.compare import RowDifference, actual_value, column_kind, compare_rows, expected_value

logger = logging.getLogger(__name__)

SOURCE_SCHEMA = "fixture_sources"
VIEW_SCHEMA = "fixture_views"
DUCKDB_TYPES = {"text": "VARCHAR", "number": "DOUBLE", "integer": "BIGINT", "boolean": "BOOLEAN", "date": "DATE",
                "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ"}
# Prefix of the health scores that `fixture_project` adds, each with one account metric, followed by
# a number that no view of the project uses.
METRIC_SCORE_PREFIX = "_hl_fixture_metric_"

Status = Literal["passed", "failed", "error"]


@dataclass(frozen=True)
class FixtureResult:
    """The outcome of one fixture test, with the differing rows or the reason it could not run."""

    name: str
    subject: str
    location: Location
    status: Status
    match: str = "exact"
    columns: tuple[str, ...] = ()
    differences: tuple[RowDifference, ...] = ()
    expected_count: int = 0
    actual_count: int = 0
    message: str | None = None
    issues: tuple[Issue, ...] = ()
    seconds: float = 0.0


@dataclass
class FixtureRun:
    """The results of one `healthlayer test` run."""

    root: Path
    results: list[FixtureResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(result.status == status for result in self.results)

    @property
    def ok(self) -> bool:
        return all(result.status == "passed" for result in self.results)


def load(project_dir: Path, cli_vars: Mapping[str, Any] | None = None) -> Project:
    """Load a project for its tests, or raise DefinitionError with every issue when it has errors.

    The tests never connect to a warehouse, so an unset env_var() without a default loads as a
    placeholder, as in `healthlayer validate`.
    """
    project, issues = load_project(project_dir, cli_vars, UnsetTolerantEnviron(os.environ))
    if project is None:
        raise DefinitionError(issues)
    return project


def select_tests(project: Project, patterns: Sequence[str]) -> tuple[list[str], list[str]]:
    """Return the tests whose names match any of the shell-style patterns, and the patterns that match none.

    Without patterns every test is selected.
    """
    if not patterns:
        return list(project.tests), []
    selected = [name for name in project.tests if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]
    unmatched = [pattern for pattern in patterns
                 if not any(fnmatch.fnmatchcase(name, pattern) for name in project.tests)]
    return selected, unmatched


def run_tests(project: Project, names: Iterable[str], cli_vars: Mapping[str, Any] | None = None) -> FixtureRun:
    """Run the named tests of a loaded project and return their results, in the order of `names`.

    Tests with the same `vars` share one plan and one database. A test's vars override the
    command line's, which override the project file's.
    """
    started = time.perf_counter()
    ordered = list(names)
    groups: dict[str, list[str]] = {}
    for name in ordered:
        key = json.dumps(project.tests[name].vars, sort_keys=True, default=str)
        groups.setdefault(key, []).append(name)

    results: dict[str, FixtureResult] = {}
    for group in groups.values():
        test_vars = project.tests[group[0]].vars
        locations = {name: project.location("tests", name) for name in group}
        group_project: Project | None = project
        if test_vars:
            group_project, issues = load_project(project.root, {**(cli_vars or {}), **test_vars},
                                                 UnsetTolerantEnviron(os.environ))
            if group_project is None:
                errors = tuple(issue for issue in issues if issue.severity == "error")
                for name in group:
                    results[name] = _error(project.tests[name], locations[name],
                                           "the project has errors with this test's vars", errors)
                continue
        assert group_project is not None
        results.update(_run_group(group_project, group, locations))
    return FixtureRun(project.root, [results[name] for name in ordered], time.perf_counter() - started)


def _run_group(project: Project, names: list[str], locations: Mapping[str, Location]) -> dict[str, FixtureResult]:
    results: dict[str, FixtureResult] = {}
    missing = [name for name in names if name not in project.tests]
    for name in missing:
        results[name] = FixtureResult(name, "", locations[name], "error",
                                      message="the test is not defined once its vars are applied")
    tests = [project.tests[name] for name in names if name in project.tests]
    metrics = sorted({test.metric for test in tests if test.metric is not None})
    try:
        session = _Session(project, metrics)
    except DefinitionError as error:
        for test in tests:
            results[test.name] = _error(test, locations[test.name], "the plan could not be built", tuple(error.issues))
        return results
    except HealthlayerError as error:
        for test in tests:
            results[test.name] = _error(test, locations[test.name], str(error))
        return results
    with session:
        for test in tests:
            results[test.name] = session.run(test, locations[test.name])
    return results


def _subject(test: models.FixtureTest) -> str:
    return f"view {test.view}" if test.view is not None else f"metric {test.metric}"


def _error(test: models.FixtureTest, location: Location, message: str, issues: tuple[Issue, ...] = ()) -> FixtureResult:
    return FixtureResult(test.name, _subject(test), location, "error", test.expect.match,
                         expected_count=len(test.expect.rows), message=message, issues=issues)


def fixture_project(project: Project, metrics: Sequence[str]) -> tuple[Project, Project, dict[str, str]]:
    """Return two copies of a project that read every source from SOURCE_SCHEMA: the project, and its metrics.

    Account metrics have a relation per account and day only inside a health score, so each
    metric under test gets a score of its own whose population is the metric's source. The copy
    of the metrics has these scores only and no engagement, so each score's days are those of
    its metric's source: an account's days run from its first row to the source's last day.
    Returns both copies and, per metric, the name of its score.
    """
    sources = {name: source.model_copy(update={"file": None, "table": f"{SOURCE_SCHEMA}.{name}"})
               for name, source in project.sources.items()}
    scores: dict[str, models.HealthScore] = {}
    used = set(project.stickiness) | set(project.tier_mix) | set(project.health_scores)
    metric_scores = {}
    index = 0
    for metric in metrics:
        while f"{METRIC_SCORE_PREFIX}{index}" in used:
            index += 1
        score_name = f"{METRIC_SCORE_PREFIX}{index}"
        index += 1
        scores[score_name] = models.HealthScore.model_validate({
            "name": score_name,
            "population": {"source": project.account_metrics[metric].source},
            "categories": [{"name": "value", "weight": 100, "components": [
                {"name": "value", "weight": 100, "metric": metric,
                 "score": {"function": "linear", "lower": 0, "upper": 1}}]}],
        })
        metric_scores[metric] = score_name
    copy = dataclasses.replace(project, sources=sources)
    metric_copy = dataclasses.replace(copy, engagement=None, stickiness={}, tier_mix={}, alerts={}, health_scores=scores)
    return copy, metric_copy, metric_scores


def metric_relation(score_name: str) -> tuple[str, str]:
    """Return the relation and column of the only metric of a score made by `fixture_project`.

    The names follow healthlayer.compiler.health: the first metric of a score is `metric_0`, in
    the relation `_hl_<score>_metric_0`.
    """
    return internal_name(f"{score_name}_metric_0"), "metric_0"


class _Session:
    """One in-memory DuckDB with the source tables and the deployed plan of a project."""

    def __init__(self, project: Project, metrics: Sequence[str]) -> None:
        self.project = project
        self.column_types = {name: source_column_types(source) for name, source in project.sources.items()}
        copy, metric_copy, self.metric_scores = fixture_project(project, metrics)
        timestamp_types = {name: self.column_types[name][source.timestamp] == "timestamptz"
                           for name, source in project.sources.items() if source.timestamp is not None}
        plan = build_plan(copy, VIEW_SCHEMA, timestamp_types)
        if metrics:
            # The relations of the metrics' scores have names of their own, so one schema contains both plans.
            plan = Plan(plan.project_name, plan.schema,
                        plan.relations + build_plan(metric_copy, VIEW_SCHEMA, timestamp_types).relations)
        # Each test swaps the source rows under the deployed relations, so stored outputs are read as views.
        self.plan: Plan = as_views(plan)
        self.adapter = DuckDBAdapter({"path": ":memory:", "schema": VIEW_SCHEMA}, project.root)
        try:
            # Naive timestamps are inserted as UTC, and values with a time zone come back in UTC.
            self.adapter.execute("SET TimeZone = 'UTC'")
            self.adapter.execute(f"CREATE SCHEMA {SOURCE_SCHEMA}")
            for name, types in self.column_types.items():
                columns = ", ".join(f"{_ident(column)} {DUCKDB_TYPES[kind]}" for column, kind in types.items())
                self.adapter.execute(f"CREATE TABLE {self._table(name)} ({columns})")
            self.adapter.deploy(self.plan)
        except HealthlayerError:
            self.adapter.close()
            raise

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.adapter.close()

    @staticmethod
    def _table(source: str) -> str:
        return f"{SOURCE_SCHEMA}.{_ident(source)}"

    def _load_rows(self, test: models.FixtureTest) -> None:
        for name, types in self.column_types.items():
            self.adapter.execute(f"DELETE FROM {self._table(name)}")
            rows = test.given.get(name, [])
            if not rows:
                continue
            columns = list(types)
            # One list per column, unnested side by side: far faster than one INSERT per row.
            values = [[given_value(row.get(column), types[column]) for row in rows] for column in columns]
            unnested = ", ".join(f"UNNEST(${index})" for index in range(1, len(columns) + 1))
            statement = (f"INSERT INTO {self._table(name)} ({', '.join(_ident(column) for column in columns)}) "
                         f"SELECT {unnested}")
            logger.debug("duckdb: %s (%d rows)", statement, len(rows))
            try:
                self.adapter.connection.execute(statement, values)
            except duckdb.Error as error:
                raise HealthlayerError(f"DuckDB rejected the rows of source '{name}': {error}") from None

    def _query(self, test: models.FixtureTest) -> str:
        if test.metric is not None:
            relation, column = metric_relation(self.metric_scores[test.metric])
            return (f"SELECT as_of_date, account_id, {column} AS value "
                    f"FROM {sql.table(relation, VIEW_SCHEMA).sql(dialect='duckdb')} ORDER BY ALL")
        assert test.view is not None
        return f"SELECT * FROM {sql.table(test.view, VIEW_SCHEMA).sql(dialect='duckdb')} ORDER BY ALL"

    def _fetch(self, statement: str) -> tuple[list[str], list[str], list[tuple[Any, ...]]]:
        logger.debug("duckdb: %s", statement)
        try:
            cursor = self.adapter.connection.execute(statement)
            rows = cursor.fetchall()
        except duckdb.Error as error:
            raise HealthlayerError(f"DuckDB rejected the query of the test: {error}") from None
        description = cursor.description or []
        return [item[0] for item in description], [str(item[1]) for item in description], rows

    def run(self, test: models.FixtureTest, location: Location) -> FixtureResult:
        """Load the test's rows, read its view or metric and compare the rows with the expected ones."""
        started = time.perf_counter()
        try:
            self._load_rows(test)
            self.adapter.check_data_range(self.plan)
            columns, types, raw_rows = self._fetch(self._query(test))
        except HealthlayerError as error:
            return _error(test, location, str(error))
        issues = column_issues(self.project, test, columns)
        kinds = {column: column_kind(kind) for column, kind in zip(columns, types)}
        expected_rows = []
        for index, row in enumerate(test.expect.rows):
            converted = {}
            for column, value in row.items():
                if column not in kinds:
                    continue
                try:
                    converted[column] = expected_value(value, kinds[column])
                except ValueError as error:
                    issues.append(Issue("invalid-type", f"column '{column}' of {_subject(test)}: {error}",
                                        self.project.location("tests", test.name, "expect", "rows", index, column),
                                        "Write a value of the column's type, or null."))
            expected_rows.append(converted)
        if issues:
            return _error(test, location, "the expected rows do not fit the view", tuple(issues))

        actual_rows = [{column: actual_value(value) for column, value in zip(columns, row)} for row in raw_rows]
        differences = compare_rows(expected_rows, actual_rows, test.expect.match, test.expect.tolerance)
        checked = tuple(dict.fromkeys(column for row in test.expect.rows for column in row))
        return FixtureResult(test.name, _subject(test), location, "failed" if differences else "passed",
                             test.expect.match, checked, tuple(differences), len(expected_rows), len(actual_rows),
                             seconds=time.perf_counter() - started)


def column_issues(project: Project, test: models.FixtureTest, columns: Sequence[str]) -> list[Issue]:
    """Return an issue for each expected column that the view or metric of a test does not have."""
    issues = []
    for index, row in enumerate(test.expect.rows):
        for column in row:
            if column not in columns:
                issues.append(Issue("unknown-column", f"{_subject(test)} has no column '{column}'",
                                    project.location("tests", test.name, "expect", "rows", index, column),
                                    did_you_mean(column, columns)))
    return issues


def check_expected_columns(project: Project, plan: Plan) -> list[Issue]:
    """Return issues for expected columns that the plan's views do not have.

    Tests with their own vars are left out, because their vars may change the view's columns;
    `healthlayer test` checks them when it runs them. The columns of metric tests are fixed and
    checked when the project loads.
    """
    issues = []
    for test in project.tests.values():
        if test.vars or test.view is None:
            continue
        try:
            columns = plan.get(test.view).columns
        except KeyError:
            continue
        issues += column_issues(project, test, columns)
    return issues


def _ident(name: str) -> str:
    return sql.ident(name).sql(dialect="duckdb")
