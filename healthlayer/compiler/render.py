"""Render plan relations as SQL for one dialect; the one place where dialect differences are handled."""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel
from sqlglot.errors import UnsupportedError as SqlglotUnsupportedError

from healthlayer.compiler import sql
from healthlayer.compiler.dialects import bigquery, clickhouse, postgres
from healthlayer.compiler.dialects.spark import prepare_spark
from healthlayer.compiler.plan import Relation
from healthlayer.compiler.sources import FILE_READERS, SOURCE_META_KEY
from healthlayer.errors import UnsupportedError

DIALECTS = ("duckdb", "snowflake", "postgres", "bigquery", "databricks", "spark", "clickhouse")


def check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise UnsupportedError(f"unknown dialect '{dialect}'; supported: {', '.join(DIALECTS)}")


def _check_file_sources(query: exp.Expr | exp.Query, dialect: str) -> None:
    if dialect == "duckdb":
        return
    for node in query.find_all(exp.Anonymous):
        if node.name in FILE_READERS.values():
            source = node.meta.get(SOURCE_META_KEY, "?")
            raise UnsupportedError(
                f"source '{source}' reads a file, which only DuckDB can read; declare the source with "
                f"'table:' to compile for {dialect}")


# Per dialect, a function that rewrites a copy of a query around a gap of that dialect's renderer
# or engine before it is rendered.
PREPARE: dict[str, Callable[[exp.Expr | exp.Query], exp.Expr | exp.Query]] = {
    "bigquery": bigquery.prepare,
    "clickhouse": clickhouse.prepare,
    "databricks": prepare_spark,
    "postgres": postgres.prepare,
    "spark": prepare_spark,
}


def _prepare(query: exp.Expr | exp.Query, dialect: str) -> exp.Expr | exp.Query:
    """Adjust a query for known dialect gaps before rendering it."""
    prepare = PREPARE.get(dialect)
    return prepare(query.copy()) if prepare else query


def render_statement(statement: str, dialect: str) -> str:
    """Render one statement written in DuckDB SQL for a dialect, through that dialect's rewrites."""
    check_dialect(dialect)
    return _prepare(sqlglot.parse_one(statement, read="duckdb"), dialect).sql(dialect=dialect)


def render_query(relation: Relation, dialect: str, pretty: bool = True) -> str:
    """Render a relation's query; constructs the dialect cannot express raise UnsupportedError."""
    check_dialect(dialect)
    _check_file_sources(relation.query, dialect)
    try:
        return _prepare(relation.query, dialect).sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except SqlglotUnsupportedError as error:
        raise UnsupportedError(f"relation '{relation.name}' cannot be rendered for {dialect}: {error}") from None


def render_create_view(relation: Relation, schema: str, dialect: str, name: str | None = None,
                       comment: str | None = None) -> str:
    """Render CREATE OR REPLACE VIEW for a relation in a schema, with a COMMENT clause when `comment` is set."""
    check_dialect(dialect)
    _check_file_sources(relation.query, dialect)
    properties = None
    if comment is not None:
        properties = exp.Properties(expressions=[exp.SchemaCommentProperty(this=sql.string(comment))])
    create = exp.Create(this=sql.table(name or relation.name, schema), kind="VIEW", replace=True,
                        expression=_prepare(relation.query, dialect), properties=properties)
    try:
        return create.sql(dialect=dialect, pretty=True, unsupported_level=ErrorLevel.RAISE)
    except SqlglotUnsupportedError as error:
        raise UnsupportedError(f"view '{relation.name}' cannot be rendered for {dialect}: {error}") from None
