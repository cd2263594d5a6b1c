"""Rewrites of a query for PostgreSQL around constructs that sqlglot renders but PostgreSQL rejects or reads differently."""

from __future__ import annotations

from sqlglot import exp

from healthlayer.compiler.engagement import CALENDAR_META_KEY
from healthlayer.errors import UnsupportedError

# PostgreSQL truncates longer identifiers to NAMEDATALEN - 1 bytes with only a NOTICE, so two
# long column names could become one and a view name could differ from the one healthlayer checks.
MAX_IDENTIFIER_BYTES = 63


def check_identifier(name: str, label: str) -> None:
    """Raise UnsupportedError when a name is longer than PostgreSQL keeps."""
    size = len(name.encode("utf-8"))
    if size > MAX_IDENTIFIER_BYTES:
        raise UnsupportedError(
            f"{label} '{name}' has {size} bytes, more than the {MAX_IDENTIFIER_BYTES} that PostgreSQL keeps "
            "(it would cut the name silently); shorten the name of the definition or column that produces it")


def _numeric(expression: exp.Expr) -> exp.Cast:
    return exp.Cast(this=expression, to=exp.DataType.build("DECIMAL"))


def _round(node: exp.Round) -> exp.Cast:
    """Round in NUMERIC and return a DOUBLE PRECISION.

    PostgreSQL has no ROUND(double precision, integer), and its ROUND(double precision) rounds
    ties to even, where DuckDB rounds them away from zero. NUMERIC rounds ties away from zero.
    NOTE: PostgreSQL 15 converts a double to NUMERIC with 15 significant digits, so a double just
    below a tie, such as 2.675, rounds up here (2.68) and down on DuckDB (2.67).
    """
    rounded = exp.Round(this=_numeric(node.this), decimals=node.args.get("decimals"))
    return exp.Cast(this=rounded, to=exp.DataType.build("DOUBLE"))


def _modulo(node: exp.Mod) -> exp.Mod:
    """Compute `%` in NUMERIC, since PostgreSQL has no `%` for double precision and DuckDB does."""
    return exp.Mod(this=_numeric(node.this), expression=_numeric(node.expression))


def _rewrite(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Select) and node.meta.get(CALENDAR_META_KEY):
        # PostgreSQL never pulls a subquery with OFFSET into the query around it. Without this
        # fence the planner joins all 100,000 day offsets with each account before it keeps the
        # days of the data range, which made a health score view several times slower.
        return node.offset(0, copy=False)
    if isinstance(node, exp.Round):
        return _round(node)
    if isinstance(node, exp.Mod):
        return _modulo(node)
    return node


def prepare(query: exp.Expr | exp.Query) -> exp.Expr | exp.Query:
    """Rewrite a copy of a query for PostgreSQL; raise UnsupportedError for names PostgreSQL would truncate."""
    for identifier in query.find_all(exp.Identifier):
        check_identifier(identifier.name, "the name")
    # Children are rewritten before their parents, so nested calls such as ROUND(a % 3) are rewritten too.
    for node in reversed(list(query.walk())):
        rewritten = _rewrite(node)
        if rewritten is not node:
            if node is query:
                return rewritten
            node.replace(rewritten)
    return query
