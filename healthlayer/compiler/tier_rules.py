"""Evaluate tier rules (event classes and thresholds) over a trailing window per user and day."""

from __future__ import annotations

from sqlglot import exp

from healthlayer.compiler import sql
from healthlayer.compiler.plan import PlanBuilder
from healthlayer.compiler.spine import events_not_null, group_column_name, group_expression

def rank_count_column(level: int) -> str:
    return f"events_rank_{level}"


def _offsets(window_days: int) -> exp.Subquery:
    offsets = sql.union_all([exp.select(sql.alias(sql.number(offset), "day_offset")) for offset in range(window_days)])
    return exp.Subquery(this=offsets, alias=exp.TableAlias(this=exp.to_identifier("o")))


def _group_selects(by: list[str], table: str | None = None) -> list[exp.Expr]:
    if table is None:
        return [sql.alias(group_expression(item), group_column_name(item), quoted=item != "account") for item in by]
    return [sql.column(group_column_name(item), table, quoted=item != "account") for item in by]


def window_tier_ranks(builder: PlanBuilder, by: list[str], window_days: int) -> exp.Query:
    """Return (group columns, user_id, activity_date, tier_rank) for every user with any event in the window.

    The rank is the highest tier whose rule the user meets over the trailing window ending at the
    day, or 0. Each day with events is spread over the window's days, so the cost is the number of
    user days times the window length, which is also the size of the result.
    """
    from healthlayer.compiler.engagement import EVENTS

    tiers = builder.project.engagement.tiers  # type: ignore[union-attr]
    levels = range(1, len(tiers) + 1)
    day_counts = [
        sql.alias(sql.to_bigint(exp.Count(this=sql.case((exp.GTE(this=sql.column("tier_rank"), expression=sql.number(level)),
                                                          sql.number(1))))), rank_count_column(level))
        for level in levels
    ]
    user_days = (
        exp.select(*_group_selects(by), sql.column("user_id"), sql.column("activity_date"), *day_counts)
        .from_(builder.table(EVENTS))
        .group_by(*[group_expression(item) for item in by], sql.column("user_id"), sql.column("activity_date"))
    )
    condition = events_not_null(by)
    if condition is not None:
        user_days = user_days.where(condition)

    keys = [group_column_name(item) for item in by]
    expanded_day = sql.add_days(sql.column("activity_date", "u"), sql.column("day_offset", "o"))
    window_sums = (
        exp.select(*_group_selects(by, "u"), sql.column("user_id", "u"), sql.alias(expanded_day, "activity_date"),
                   *[sql.alias(exp.Sum(this=sql.column(rank_count_column(level), "u")), rank_count_column(level))
                     for level in levels])
        .from_(exp.Subquery(this=user_days, alias=exp.TableAlias(this=exp.to_identifier("u"))))
        .join(_offsets(window_days), join_type="cross")
        .group_by(*_group_selects(by, "u"), sql.column("user_id", "u"), expanded_day.copy())
    )

    branches = []
    joins = []
    for level, tier in reversed(list(enumerate(tiers, start=1))):
        rule: exp.Expr = exp.GTE(this=sql.column(rank_count_column(level), "w"), expression=sql.number(tier.min_events))
        if tier.min_distinct is not None:
            alias = f"dv{level}"
            joins.append((alias, _distinct_values(builder, by, level, tier.min_distinct.column, window_days)))
            count = exp.Coalesce(this=sql.column("distinct_values", alias), expressions=[sql.number(0)])
            rule = exp.and_(rule, exp.GTE(this=count, expression=sql.number(tier.min_distinct.count)))
        branches.append((rule, sql.number(level)))

    query = (
        exp.select(*_group_selects(by, "w"), sql.column("user_id", "w"), sql.column("activity_date", "w"),
                   sql.alias(sql.case(*branches, default=sql.number(0)), "tier_rank"))
        .from_(exp.Subquery(this=window_sums, alias=exp.TableAlias(this=exp.to_identifier("w"))))
    )
    for alias, values in joins:
        on = [exp.EQ(this=sql.column(key, "w", quoted=key != "account_id"),
                     expression=sql.column(key, alias, quoted=key != "account_id")) for key in keys]
        on += [exp.EQ(this=sql.column(key, "w"), expression=sql.column(key, alias)) for key in ("user_id", "activity_date")]
        query = query.join(exp.Subquery(this=values, alias=exp.TableAlias(this=exp.to_identifier(alias))),
                           on=exp.and_(*on), join_type="left")
    return query


def _distinct_values(builder: PlanBuilder, by: list[str], level: int, column_name: str, window_days: int) -> exp.Query:
    from healthlayer.compiler.engagement import EVENTS

    values = (
        exp.select(*_group_selects(by), sql.column("user_id"), sql.column("activity_date"),
                   sql.alias(sql.user_column(column_name), "member_value"))
        .distinct()
        .from_(builder.table(EVENTS))
        .where(sql.and_(exp.GTE(this=sql.column("tier_rank"), expression=sql.number(level)),
                        sql.not_null(sql.user_column(column_name)), events_not_null(by)))
    )
    expanded_day = sql.add_days(sql.column("activity_date", "v"), sql.column("day_offset", "o"))
    return (
        exp.select(*_group_selects(by, "v"), sql.column("user_id", "v"), sql.alias(expanded_day, "activity_date"),
                   sql.alias(exp.Count(this=exp.Distinct(expressions=[sql.column("member_value", "v")])), "distinct_values"))
        .from_(exp.Subquery(this=values, alias=exp.TableAlias(this=exp.to_identifier("v"))))
        .join(_offsets(window_days), join_type="cross")
        .group_by(*_group_selects(by, "v"), sql.column("user_id", "v"), expanded_day.copy())
    )
