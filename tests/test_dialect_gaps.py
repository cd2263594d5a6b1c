"""Constructs that sqlglot 30 renders wrongly for some engines never reach the compiled SQL.

Each gap below was seen when DuckDB-style SQL text is transpiled to another dialect. The compiler
builds sqlglot trees instead of parsing SQL text, and picks constructs that every engine reads the
same way. These tests compile the shop fixture and both examples (with table sources) for every
dialect and check that the avoided construct is absent, or that what replaces it survived
rendering. The parity tests of each engine check that the SQL that is there computes the right
numbers.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from conftest import SHOP
from engines.harness import table_project

from healthlayer import api
from healthlayer.compiler.render import DIALECTS

SCHEMA = "analytics"


@functools.cache
def compiled(dialect: str, project_name: str, folder: Path) -> dict[str, str]:
    project, _ = api.load(folder)
    return dict(api.compile_project(project, dialect, SCHEMA))


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Return the projects whose SQL is checked: the shop fixture and both examples with table sources."""
    folder = tmp_path_factory.mktemp("gaps")
    found = {"shop": SHOP}
    for example in ("dpdk", "saas"):
        table_project(example, folder / example, f"raw_{example}", "duckdb", {"path": "unused.duckdb"})
        found[example] = folder / example
    return found


def all_sql(dialect: str, projects: dict[str, Path]) -> dict[str, str]:
    """Return every compiled statement of every checked project, keyed by project and view."""
    statements = {}
    for name, folder in projects.items():
        for view, statement in compiled(dialect, name, folder).items():
            statements[f"{name}.{view}"] = statement
    return statements


def offenders(pattern: str, statements: dict[str, str]) -> list[str]:
    expression = re.compile(pattern, re.IGNORECASE)
    return sorted(view for view, statement in statements.items() if expression.search(statement))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_no_series_generators(dialect, projects):
    # GENERATE_SERIES date spines render invalid SQL for Snowflake, Spark and ClickHouse, and
    # Snowflake's GENERATOR/SEQ4 pass through unchanged. Date spines join a digits table instead.
    statements = all_sql(dialect, projects)
    assert offenders(r"\b(GENERATE_SERIES|GENERATOR|SEQ4|SEQUENCE|numbers)\s*\(", statements) == []
    assert offenders(r"\bRANGE\s*\(", statements) == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_day_arithmetic_keeps_its_amount(dialect, projects):
    # `INTERVAL (expr) DAY` loses its expression when sqlglot transpiles DuckDB SQL text. Day
    # arithmetic is built as DATE_ADD trees, so the column that contains the offset must appear in
    # every dialect's SQL exactly as often as in DuckDB's.
    duckdb_statements = all_sql("duckdb", projects)
    statements = all_sql(dialect, projects)
    for view, statement in statements.items():
        assert statement.count("day_offset") == duckdb_statements[view].count("day_offset"), view


@pytest.mark.parametrize("dialect", DIALECTS)
def test_no_weekday_or_week_functions(dialect, projects):
    # DuckDB DAYOFWEEK and ISO weekdays map wrongly to Spark, PostgreSQL and ClickHouse, Snowflake
    # DATEDIFF(week) loses its boundary semantics on PostgreSQL and Spark, and DATE_TRUNC('week')
    # becomes Sunday-based WEEK on BigQuery. Weekly windows are trailing runs of 7 calendar days.
    statements = all_sql(dialect, projects)
    assert offenders(r"\b(DAYOFWEEK|DAY_OF_WEEK|ISODOW|DOW|WEEKDAY|toDayOfWeek|ISOWEEK|YEARWEEK)\b", statements) == []
    assert offenders(r"\bDATE_?TRUNC\s*\(", statements) == []
    assert offenders(r"\b(DATEDIFF|DATE_DIFF)\s*\([^,)]*\bWEEK", statements) == []
    assert offenders(r"\bWEEK\b", statements) == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_no_qualify(dialect, projects):
    # sqlglot's rewrite of QUALIFY for engines without it drops the outer ORDER BY.
    assert offenders(r"\bQUALIFY\b", all_sql(dialect, projects)) == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_no_compiler_rounding(dialect, projects):
    # ROUND(double precision, integer) does not exist on PostgreSQL. The compiler itself never
    # rounds; a ROUND written in a user expression is rendered by the dialect rules of render.py.
    assert offenders(r"\bROUND\s*\(", all_sql(dialect, projects)) == []


def test_bigquery_local_dates(projects):
    # sqlglot renders a naive timestamp read as UTC as DATETIME(datetime, 'UTC') for BigQuery, a
    # signature BigQuery does not have. Local dates are DATE(timestamp, time zone) instead.
    statements = all_sql("bigquery", projects)
    assert offenders(r"DATETIME\([^()]*\bAS DATETIME\),\s*'UTC'\)", statements) == []
    events = statements["shop._hl_events"]
    assert "DATE(TIMESTAMP(CAST(event_ts AS DATETIME), 'UTC'), 'Europe/Berlin') AS activity_date" in events
