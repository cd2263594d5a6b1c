"""Small builders for sqlglot expression trees that every relation uses."""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Sequence

from sqlglot import exp

DAY = exp.var("DAY")

_PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# Words that are reserved in at least one supported engine. sqlglot 30 quotes reserved words for
# some dialects only (DuckDB, BigQuery), so names in this set are always quoted. It includes the
# functions that PostgreSQL calls without parentheses, such as current_schema, which an unquoted
# column name would call instead of reading the column.
RESERVED_WORDS = frozenset("""
    all alter and any array as asc asymmetric authorization between both by case cast check collate column
    connect constraint create cross cube current current_catalog current_date current_role current_schema
    current_time current_timestamp current_user default deferrable delete desc describe distinct do drop
    else end except exists extract false fetch filter following for foreign from full function grant group
    grouping having ilike in increment inner insert intersect interval into is join lateral leading left
    like limit localtime localtimestamp minus natural not notnull null of offset on only or order outer over
    overlaps partition placing preceding primary qualify range recursive references regexp returning right
    rlike rollup row rows sample select session_user set similar some start symmetric system_user table
    tablesample then to trailing trigger true unbounded union unique unknown update user using values
    variadic verbose when where window with within
""".split())


def needs_quotes(name: str) -> bool:
    """Return whether a declared name must be quoted to keep its meaning on every engine.

    Plain lower-case names stay unquoted, so each engine folds them the way it folds names in its
    own DDL (upper case on Snowflake, lower case on PostgreSQL).
    """
    return not _PLAIN_NAME.match(name) or name in RESERVED_WORDS


def ident(name: str) -> exp.Identifier:
    """Return an identifier for a user-declared name, quoted where its case or a keyword requires."""
    return exp.to_identifier(name, quoted=needs_quotes(name))


def column(name: str, table: str | None = None, quoted: bool = False) -> exp.Column:
    """Return a column reference; `quoted=True` marks a user-declared name, quoted where needed."""
    identifier = ident(name) if quoted else exp.to_identifier(name, quoted=False)
    return exp.Column(this=identifier, table=exp.to_identifier(table) if table else None)


def user_column(name: str, table: str | None = None) -> exp.Column:
    return column(name, table, quoted=True)


def alias(expression: exp.Expr, name: str, quoted: bool = False) -> exp.Expr:
    return exp.alias_(expression, ident(name) if quoted else exp.to_identifier(name, quoted=False))


def number(value: int | float) -> exp.Expr:
    """Return a numeric literal; raise ValueError for infinity and NaN, which SQL has no literal for."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} has no SQL literal")
    if isinstance(value, float) and not value.is_integer():
        return exp.Literal.number(repr(value))
    if isinstance(value, float):
        return exp.Literal.number(repr(value))
    literal = exp.Literal.number(value)
    return exp.Neg(this=exp.Literal.number(-value)) if value < 0 else literal


def string(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def add_days(expression: exp.Expr, days: int | exp.Expr) -> exp.Expr:
    """Return `expression + days` as a DATE on every dialect (date plus interval is a timestamp on some)."""
    amount = days if isinstance(days, exp.Expr) else number(days)
    return exp.Cast(this=exp.DateAdd(this=expression, expression=amount, unit=DAY), to=exp.DataType.build("DATE"))


def date_literal(day: datetime.date) -> exp.Cast:
    return exp.Cast(this=string(day.isoformat()), to=exp.DataType.build("DATE"))


def date_text(expression: exp.Expr) -> exp.TimeToStr:
    """Return a date as YYYY-MM-DD text with an explicit format, not the session's date output format."""
    return exp.TimeToStr(this=expression.copy(), format=string("%Y-%m-%d"))


def to_double(expression: exp.Expr) -> exp.Cast:
    return exp.Cast(this=expression, to=exp.DataType.build("DOUBLE"))


def to_bigint(expression: exp.Expr) -> exp.Cast:
    return exp.Cast(this=expression, to=exp.DataType.build("BIGINT"))


def case(*branches: tuple[exp.Expr, exp.Expr], default: exp.Expr | None = None) -> exp.Case:
    """Return CASE WHEN condition THEN value ... [ELSE default] END."""
    expression = exp.Case()
    for condition, value in branches:
        expression = expression.when(condition, value)
    if default is not None:
        expression = expression.else_(default)
    return expression


def ratio(numerator: exp.Expr, denominator: exp.Expr, min_denominator: int = 1) -> exp.Case:
    """Return numerator / denominator in floating point, NULL when the denominator is below the minimum."""
    condition = exp.GTE(this=denominator.copy(), expression=number(min_denominator))
    return case((condition, exp.Div(this=to_double(numerator), expression=to_double(denominator))))


def clamp_score(expression: exp.Expr) -> exp.Case:
    """Return the expression clamped to 0-100, keeping NULL (GREATEST and LEAST skip NULLs on some engines)."""
    return case(
        (exp.Is(this=expression.copy(), expression=exp.Null()), exp.Null()),
        (exp.LT(this=expression.copy(), expression=number(0)), to_double(number(0))),
        (exp.GT(this=expression.copy(), expression=number(100)), to_double(number(100))),
        default=to_double(expression.copy()),
    )


def is_null(expression: exp.Expr) -> exp.Is:
    return exp.Is(this=expression.copy(), expression=exp.Null())


def not_null(expression: exp.Expr) -> exp.Not:
    return exp.Not(this=is_null(expression))


def and_(*conditions: exp.Expr | None) -> exp.Expr | None:
    present = [condition for condition in conditions if condition is not None]
    if not present:
        return None
    return exp.and_(*present)


def window(function: exp.Expr, partition: Sequence[exp.Expr],
           order: Sequence[exp.Expr] | None = None,
           frame: str | None = None, preceding: int | None = None) -> exp.Window:
    """Return `function OVER (PARTITION BY ... ORDER BY ... ROWS ...)`.

    `frame="running"` sums from the start of the partition; `preceding=N` covers the N rows before
    the current one and the current row.
    """
    spec = None
    if frame == "running":
        spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW")
    elif preceding is not None:
        spec = exp.WindowSpec(kind="ROWS", start=number(preceding), start_side="PRECEDING", end="CURRENT ROW")
    order_clause = exp.Order(expressions=[exp.Ordered(this=item) for item in order]) if order else None
    return exp.Window(this=function, partition_by=list(partition) or None, order=order_clause, spec=spec)


def subquery(query: exp.Query, alias: str) -> exp.Subquery:
    """Return `(query) AS alias`."""
    return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def union_all(queries: Sequence[exp.Query]) -> exp.Query:
    """Return the UNION ALL of one or more queries (sqlglot's union needs at least two)."""
    return queries[0] if len(queries) == 1 else exp.union(*queries, distinct=False)


def table(name: str, schema: str | None) -> exp.Table:
    """Return a reference to a healthlayer relation in the deploy schema."""
    return exp.Table(this=ident(name), db=ident(schema) if schema else None)
