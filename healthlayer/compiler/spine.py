"""Dense day spines: one row per group and day, so that windows over rows are windows over days."""

from __future__ import annotations

from sqlglot import exp

from healthlayer.compiler import sql
from healthlayer.compiler.engagement import BOUNDS_MARGIN_DAYS, CALENDAR, EVENT_TIMESTAMP, EVENTS, USER_DAYS, event_history
from healthlayer.compiler.sources import local_date
from healthlayer.compiler.plan import PlanBuilder


def group_column_name(by: str) -> str:
    """Return the column a `by` entry becomes in views: `account` is `account_id`, others keep their name."""
    return "account_id" if by == "account" else by


def group_expression(by: str, table: str | None = None) -> exp.Column:
    return sql.column("account_id", table) if by == "account" else sql.user_column(by, table)


def events_not_null(by: list[str]) -> exp.Expr | None:
    return sql.and_(*[sql.not_null(group_expression(item)) for item in by])


def by_account_only(by: list[str]) -> bool:
    """Return whether groups are global or per account, which the user days relation can serve."""
    return all(item == "account" for item in by)


def first_dates(builder: PlanBuilder, by: list[str]) -> exp.Query:
    """Return (group columns, first_date): the first local day of each group's events.

    As in the bounds, only events within BOUNDS_MARGIN_DAYS of the group's earliest timestamp can
    fall on its first local day, so only those are converted to a day.
    """
    project = builder.project
    assert project.engagement is not None
    has_time_zone = builder.timestamp_has_time_zone(project.engagement.source)
    groups = [sql.alias(group_expression(item), group_column_name(item), quoted=item != "account") for item in by]
    earliest = (
        exp.select(*groups, sql.alias(exp.Min(this=sql.column(EVENT_TIMESTAMP)), "earliest"))
        .from_(event_history(builder))
        .where(events_not_null(by))
        .group_by(*[group_expression(item) for item in by])
    )
    margin = exp.Interval(this=sql.string(str(BOUNDS_MARGIN_DAYS)), unit=sql.DAY)
    conditions: list[exp.Expr] = [
        exp.EQ(this=group_expression(item, "e"), expression=column_of(group_column_name(item), "x")) for item in by]
    conditions.append(exp.LTE(this=sql.column(EVENT_TIMESTAMP, "e"),
                              expression=exp.Add(this=sql.column("earliest", "x"), expression=margin)))
    day = local_date(sql.column(EVENT_TIMESTAMP, "e"), project.time_zone, has_time_zone)
    return (
        exp.select(*[column_of(group_column_name(item), "x") for item in by],
                   sql.alias(exp.Min(this=day), "first_date"))
        .from_(event_history(builder).as_("e"))
        .join(exp.Subquery(this=earliest, alias=exp.TableAlias(this=exp.to_identifier("x"))), on=exp.and_(*conditions))
        .group_by(*[column_of(group_column_name(item), "x") for item in by])
    )


def group_spine(builder: PlanBuilder, by: list[str]) -> exp.Query:
    """Return (group columns, activity_date) from each group's first event day to the last day of data."""
    calendar = builder.table(CALENDAR)
    if not by:
        return exp.select(sql.alias(sql.column("calendar_date", "c"), "activity_date")).from_(calendar.as_("c"))
    names = [group_column_name(item) for item in by]
    starts = first_dates(builder, by)
    return (
        exp.select(*[column_of(name, "g") for name in names], sql.alias(sql.column("calendar_date", "c"), "activity_date"))
        .from_(exp.Subquery(this=starts, alias=exp.TableAlias(this=exp.to_identifier("g"))))
        .join(calendar.as_("c"), on=exp.GTE(this=sql.column("calendar_date", "c"), expression=sql.column("first_date", "g")))
    )


def column_of(name: str, table: str | None = None) -> exp.Column:
    """Return a reference to a view column: internal names unquoted, declared ones quoted where needed."""
    return sql.column(name, table, quoted=name != "account_id")


def level_facts(builder: PlanBuilder, by: list[str], level: int) -> exp.Query:
    """Return distinct (group columns, member_key = user, activity_date) of events at `level` or higher (0: any)."""
    condition = events_not_null(by)
    if level > 0:
        condition = sql.and_(condition, exp.GTE(this=sql.column("tier_rank"), expression=sql.number(level)))
    query = exp.select(*[sql.alias(group_expression(item), group_column_name(item), quoted=item != "account")
                         for item in by],
                       sql.alias(sql.column("user_id"), "member_key"), sql.column("activity_date"))
    if by == ["account"]:
        # User days have one row per account, user and day.
        query = query.from_(builder.table(USER_DAYS))
    else:
        query = query.distinct().from_(builder.table(EVENTS))
    return query.where(condition) if condition is not None else query
