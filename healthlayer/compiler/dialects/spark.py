"""Rewrites for Spark SQL and Databricks SQL, which share their types and date functions.

Spark's TIMESTAMP is an instant shown in the session time zone (spark.sql.session.timeZone) and
TIMESTAMP_NTZ is a wall-clock time. The plan's TIMESTAMP is a wall-clock time, so it becomes
TIMESTAMP_NTZ here, and every time zone conversion goes through TIMESTAMP_NTZ values so that no
result depends on the session time zone.
"""

from __future__ import annotations

from sqlglot import exp

from healthlayer.compiler import sql

# The Unix epoch as a wall-clock time: adding an instant's microseconds since the epoch to it
# gives the instant's UTC wall-clock time without reading the session time zone.
_EPOCH_NTZ = exp.Cast(this=sql.string("1970-01-01 00:00:00"), to=exp.DataType.build("TIMESTAMPNTZ"))


def _timestamp_add(unit: str, amount: exp.Expr, timestamp: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this="TIMESTAMPADD", expressions=[exp.var(unit), amount, timestamp])


def _utc_wall_clock(instant: exp.Expr) -> exp.Expr:
    """Return the UTC wall-clock time (TIMESTAMP_NTZ) of a TIMESTAMP instant."""
    micros = exp.Anonymous(this="UNIX_MICROS", expressions=[instant])
    return _timestamp_add("MICROSECOND", micros, _EPOCH_NTZ.copy())


def _convert_time_zone(node: exp.Expr) -> exp.Expr:
    """Replace a conversion to a time zone's wall-clock time with CONVERT_TIMEZONE on TIMESTAMP_NTZ.

    sqlglot 30 renders `instant AT TIME ZONE z` as FROM_UTC_TIMESTAMP, whose result Spark reads
    back in the session time zone, so a later CAST to DATE depends on that setting.
    """
    if isinstance(node, exp.AtTimeZone):
        instant = node.this
        if not (isinstance(instant, exp.Cast) and instant.to.is_type(exp.DataType.Type.TIMESTAMPTZ)):
            instant = exp.Cast(this=instant, to=exp.DataType.build("TIMESTAMPTZ"))
        return exp.Anonymous(this="CONVERT_TIMEZONE",
                             expressions=[sql.string("UTC"), node.args["zone"], _utc_wall_clock(instant)])
    if isinstance(node, exp.ConvertTimezone):
        # The input is a wall-clock time in the source zone. The compiler passes only naive columns
        # here, because a TIMESTAMP input would be cast to TIMESTAMP_NTZ in the session time zone.
        wall_clock = exp.Cast(this=node.args["timestamp"], to=exp.DataType.build("TIMESTAMPNTZ"))
        return exp.Anonymous(this="CONVERT_TIMEZONE",
                             expressions=[node.args["source_tz"], node.args["target_tz"], wall_clock])
    return node


def _date_arithmetic(node: exp.Expr) -> exp.Expr:
    """Render date arithmetic with functions whose meaning does not depend on the unit's spelling.

    sqlglot 30 renders DateAdd with an HOUR unit as DATE_ADD(ts, n) for Spark, which adds n days.
    DATE_ADD(date, n) needs an INT n. DATEDIFF(DAY, start, end) is TIMESTAMPDIFF on timestamps in the session time zone, while the
    two-argument DATEDIFF(end, start) counts calendar days between two dates.
    """
    if isinstance(node, exp.DateAdd):
        unit = node.text("unit").upper() or "DAY"
        if unit != "DAY":
            return _timestamp_add(unit, node.expression, node.this)
        if not isinstance(node.expression, (exp.Literal, exp.Neg)):
            # DATE_ADD takes an INT day count and rejects BIGINT, the type of most integer columns.
            node.set("expression", exp.Cast(this=node.expression, to=exp.DataType.build("INT")))
    if isinstance(node, exp.DateDiff) and (node.text("unit").upper() or "DAY") == "DAY":
        return exp.Anonymous(this="DATEDIFF", expressions=[node.this, node.expression])
    return node


def _wall_clock_timestamps(node: exp.Expr) -> exp.Expr:
    """Turn the plan's naive TIMESTAMP type into TIMESTAMP_NTZ."""
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TIMESTAMP:
        return exp.DataType.build("TIMESTAMPNTZ")
    return node


def prepare_spark(query: exp.Expr | exp.Query) -> exp.Expr | exp.Query:
    """Rewrite a copy of a query for Spark SQL or Databricks SQL."""
    query = query.transform(_wall_clock_timestamps, copy=False)
    query = query.transform(_convert_time_zone, copy=False)
    return query.transform(_date_arithmetic, copy=False)
