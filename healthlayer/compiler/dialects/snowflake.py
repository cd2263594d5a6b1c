"""Rewrites of queries for Snowflake: gaps of sqlglot's Snowflake SQL, and session independence.

A view runs with the session of the user who reads it, so a BI tool's TIMESTAMP_TYPE_MAPPING would
otherwise change the type of the views' timestamps. Dates become text through sql.date_text, which
has an explicit format on every dialect.
"""

from __future__ import annotations

from sqlglot import exp


def prepare(query: exp.Expr | exp.Query) -> exp.Expr | exp.Query:
    """Pin plain TIMESTAMP casts to TIMESTAMP_NTZ, and keep TRY_CAST and IS TRUE/FALSE null-safe."""
    for data_type in list(query.find_all(exp.DataType)):
        # TIMESTAMP means TIMESTAMP_TYPE_MAPPING, which a session may set to TIMESTAMP_LTZ.
        if data_type.this == exp.DataType.Type.TIMESTAMP:
            data_type.replace(exp.DataType.build("TIMESTAMPNTZ"))
    for try_cast in list(query.find_all(exp.TryCast)):
        _keep_try_cast(try_cast)
    for test in list(query.find_all(exp.Is)):
        # sqlglot 30 writes `x IS FALSE` as `NOT x` for Snowflake, which is NULL instead of false
        # when x is NULL. IS NOT DISTINCT FROM compares NULL as a value.
        if isinstance(test.expression, exp.Boolean):
            test.replace(exp.Paren(this=exp.NullSafeEQ(this=test.this, expression=test.expression)))
    return query


def _keep_try_cast(try_cast: exp.TryCast) -> None:
    """Write TRY_CAST, which Snowflake accepts on text only, instead of sqlglot's CAST.

    sqlglot 30 renders TRY_CAST as CAST for Snowflake unless type annotation shows text, and CAST
    fails on the first row that does not convert. The operand is therefore cast to VARCHAR first.
    """
    # NOTE: a number passes through its text form, so TRY_CAST(2.5 AS INT) follows Snowflake's
    # text-to-number rounding; only text operands are checked against the reference.
    operand = try_cast.this
    is_text = isinstance(operand, exp.Cast) and operand.to.is_type(*exp.DataType.TEXT_TYPES)
    if not is_text and not (isinstance(operand, exp.Literal) and operand.is_string):
        operand.replace(exp.Cast(this=operand.copy(), to=exp.DataType.build("VARCHAR")))
    try_cast.set("requires_string", True)
