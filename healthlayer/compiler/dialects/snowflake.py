"""Rewrites that make Snowflake SQL independent of the session parameters of the user who queries a view.

A view runs with the session of the user who reads it, so a BI tool's TIMESTAMP_TYPE_MAPPING would
otherwise change the type of the views' timestamps. Dates become text through sql.date_text, which
has an explicit format on every dialect.
"""

from __future__ import annotations

from sqlglot import exp



def prepare(query: exp.Expr | exp.Query) -> exp.Expr | exp.Query:
    """Pin the timestamp type of plain TIMESTAMP casts to TIMESTAMP_NTZ."""
    for data_type in list(query.find_all(exp.DataType)):
        # TIMESTAMP means TIMESTAMP_TYPE_MAPPING, which a session may set to TIMESTAMP_LTZ.
        if data_type.this == exp.DataType.Type.TIMESTAMP:
            data_type.replace(exp.DataType.build("TIMESTAMPNTZ"))
    return query
