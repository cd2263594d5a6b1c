"""Rewrites of a query for BigQuery, a compile target without a local engine to test on."""

from __future__ import annotations

from sqlglot import exp
def _date_in_zone(instant: exp.Expr, zone: exp.Expr) -> exp.Anonymous:
    # DATE(timestamp, time_zone) is BigQuery's calendar date of an instant in a time zone.
    return exp.Anonymous(this="DATE", expressions=[instant, zone])


def _local_date(cast: exp.Cast) -> exp.Expr | None:
    """Return BigQuery's DATE(instant, zone) for the compiler's local-date cast, or None for other casts.

    sqlglot 30 renders a naive timestamp read as UTC as DATETIME(datetime, 'UTC'), a signature
    BigQuery does not have, and an aware one through a round trip of TIMESTAMP and DATETIME.
    """
    inner = cast.this
    if isinstance(inner, exp.ConvertTimezone):
        # A naive timestamp is a DATETIME in BigQuery; TIMESTAMP(datetime, 'UTC') reads it as UTC.
        naive = exp.Cast(this=inner.args["timestamp"], to=exp.DataType.build("DATETIME"))
        instant = exp.Anonymous(this="TIMESTAMP", expressions=[naive, inner.args["source_tz"]])
        return _date_in_zone(instant, inner.args["target_tz"])
    if isinstance(inner, exp.AtTimeZone):
        # The instant is already cast to TIMESTAMPTZ, which is BigQuery's TIMESTAMP.
        return _date_in_zone(inner.this, inner.args["zone"])
    return None


def prepare(query: exp.Expr | exp.Query) -> exp.Expr | exp.Query:
    """Rewrite local dates and window orders for BigQuery."""
    # sqlglot 30 renders ascending window orders with an explicit NULLS LAST for BigQuery and then
    # rejects it. Every ordering column of the plan is non-NULL, so BigQuery's default order is used.
    for ordered in query.find_all(exp.Ordered):
        if not ordered.args.get("desc"):
            ordered.set("nulls_first", True)
    for cast in list(query.find_all(exp.Cast)):
        if cast.to.is_type(exp.DataType.Type.DATE):
            local = _local_date(cast)
            if local is not None:
                cast.replace(local)
    return query
