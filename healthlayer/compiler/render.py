"""Render plan relations as SQL for one dialect; the one place where dialect differences are handled."""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel
from sqlglot.errors import UnsupportedError as SqlglotUnsupportedError

from healthlayer.compiler import sql
from healthlayer.compiler.dialects import bigquery, clickhouse, postgres, snowflake
from healthlayer.compiler.dialects.spark import prepare_spark
from healthlayer.compiler.plan import RELATION_META_KEY, Relation
from healthlayer.compiler.quoting import quote_keywords
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
    "snowflake": snowflake.prepare,
    "spark": prepare_spark,
}

# Dialects whose views read the other relations of the plan by unqualified name. Snowflake resolves
# unqualified names in a view's definition in the view's own schema, so such views keep working
# after their schema is swapped with or renamed to the target schema.
RELATIVE_REFERENCES = frozenset({"snowflake"})


def _prepare(query: exp.Expr | exp.Query, dialect: str) -> exp.Expr | exp.Query:
    """Adjust a query for known dialect gaps before rendering it, and quote names that are its keywords."""
    prepare = PREPARE.get(dialect)
    return quote_keywords(prepare(query.copy()) if prepare else query, dialect)


def render_statement(statement: str, dialect: str) -> str:
    """Render one statement written in DuckDB SQL for a dialect, through that dialect's rewrites."""
    check_dialect(dialect)
    return _prepare(sqlglot.parse_one(statement, read="duckdb"), dialect).sql(dialect=dialect)


def _relative(query: exp.Expr | exp.Query, relation_name: str) -> exp.Expr | exp.Query:
    """Return a copy of a query that reads plan relations without their schema.

    Raise when a source table has no schema either, since it would then be looked up in the
    view's schema, which contains only healthlayer's views.
    """
    query = query.copy()
    ctes = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    for table in query.find_all(exp.Table):
        if table.meta.get(RELATION_META_KEY):
            table.set("db", None)
            table.set("catalog", None)
        elif isinstance(table.this, exp.Identifier) and not table.db and table.name not in ctes:
            raise UnsupportedError(
                f"view '{relation_name}' reads table '{table.name}' without a schema; write the source's "
                "table as schema.table or database.schema.table, since an unqualified name in a view is "
                "looked up in the view's own schema")
    return query


def _query_for(relation: Relation, dialect: str, relative_references: bool | None) -> exp.Expr | exp.Query:
    relative = dialect in RELATIVE_REFERENCES if relative_references is None else relative_references
    query = _relative(relation.query, relation.name) if relative else relation.query
    return _prepare(query, dialect)


def in_schema(query: exp.Expr | exp.Query, schema: str) -> exp.Expr | exp.Query:
    """Point a query's references to plan relations at `schema`, such as a staging schema, in place."""
    for table in query.find_all(exp.Table):
        if table.meta.get(RELATION_META_KEY):
            table.set("db", sql.ident(schema))
            table.set("catalog", None)
    return query


def prepare_query(relation: Relation, dialect: str, relative_references: bool | None = None) -> exp.Expr | exp.Query:
    """Return a copy of a relation's query with the dialect's rewrites applied, ready to render.

    Raise UnsupportedError for constructs the dialect cannot run, as rendering does.
    """
    check_dialect(dialect)
    _check_file_sources(relation.query, dialect)
    query = _query_for(relation, dialect, relative_references)
    return query.copy() if query is relation.query else query


def render_select(query: exp.Query, dialect: str) -> str:
    """Render a query that is not a plan relation, such as a report's read of deployed views.

    Raise UnsupportedError for file sources outside DuckDB and constructs the dialect cannot express.
    """
    check_dialect(dialect)
    _check_file_sources(query, dialect)
    try:
        return _prepare(query.copy(), dialect).sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
    except SqlglotUnsupportedError as error:
        raise UnsupportedError(f"a query cannot be rendered for {dialect}: {error}") from None


def render_query(relation: Relation, dialect: str, pretty: bool = True,
                 relative_references: bool | None = None) -> str:
    """Render a relation's query; constructs the dialect cannot express raise UnsupportedError."""
    check_dialect(dialect)
    _check_file_sources(relation.query, dialect)
    try:
        query = _query_for(relation, dialect, relative_references)
        return query.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except SqlglotUnsupportedError as error:
        raise UnsupportedError(f"relation '{relation.name}' cannot be rendered for {dialect}: {error}") from None


def render_create_view(relation: Relation, schema: str, dialect: str, name: str | None = None,
                       comment: str | None = None, relative_references: bool | None = None,
                       copy_grants: bool = False) -> str:
    """Render CREATE OR REPLACE VIEW for a relation in a schema.

    `comment` adds a COMMENT clause. `relative_references` reads the other relations of the plan
    by unqualified name; None takes the dialect's default (RELATIVE_REFERENCES). `copy_grants`
    keeps the privileges of the view it replaces (Snowflake's COPY GRANTS).
    """
    check_dialect(dialect)
    _check_file_sources(relation.query, dialect)
    properties: list[exp.Property] = []
    if comment is not None:
        properties.append(exp.SchemaCommentProperty(this=sql.string(comment)))
    if copy_grants:
        properties.append(exp.CopyGrantsProperty())
    target = quote_keywords(sql.table(name or relation.name, schema), dialect)
    create = exp.Create(this=target, kind="VIEW", replace=True,
                        expression=_query_for(relation, dialect, relative_references),
                        properties=exp.Properties(expressions=properties) if properties else None)
    try:
        return create.sql(dialect=dialect, pretty=True, unsupported_level=ErrorLevel.RAISE)
    except SqlglotUnsupportedError as error:
        raise UnsupportedError(f"view '{relation.name}' cannot be rendered for {dialect}: {error}") from None


def render_create_table(query: exp.Query, name: str, schema: str, dialect: str, copy_grants: bool = False) -> str:
    """Render the statements that create or replace a table from a prepared query, such as one from prepare_query.

    PostgreSQL has no CREATE OR REPLACE TABLE, so it gets DROP TABLE IF EXISTS first, and
    ClickHouse tables need an engine, a MergeTree without a sort key. `copy_grants` keeps the
    privileges of the table it replaces (Snowflake's COPY GRANTS).
    """
    target = quote_keywords(sql.table(name, schema), dialect)
    expressions: list[exp.Expr] = []
    if dialect == "clickhouse":
        expressions = [exp.EngineProperty(this=exp.to_identifier("MergeTree")),
                       exp.Order(expressions=[exp.Ordered(this=exp.Tuple(expressions=[]), nulls_first=False)])]
    if copy_grants:
        expressions.append(exp.CopyGrantsProperty())
    create = exp.Create(this=target, kind="TABLE", replace=dialect != "postgres", expression=query,
                        properties=exp.Properties(expressions=expressions) if expressions else None)
    try:
        statement = create.sql(dialect=dialect, pretty=True, unsupported_level=ErrorLevel.RAISE)
    except SqlglotUnsupportedError as error:
        raise UnsupportedError(f"table '{name}' cannot be rendered for {dialect}: {error}") from None
    if dialect == "postgres":
        return f"DROP TABLE IF EXISTS {target.sql(dialect=dialect)};\n{statement}"
    return statement
