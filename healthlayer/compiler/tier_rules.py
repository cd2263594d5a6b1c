"""Evaluate tier rules (event classes and thresholds) over a trailing window per user and day."""

from __future__ import annotations

from sqlglot import exp

from healthlayer.compiler import sql
from healthlayer.compiler.plan import PlanBuilder
from healthlayer.compiler.spine import by_account_only, events_not_null, group_column_name, group_expression


def offsets(window_days: int) -> exp.Subquery:
    offsets = sql.union_all([exp.select(sql.alias(sql.number(offset), "day_offset")) for offset in range(window_days)])
    return exp.Subquery(this=offsets, alias=exp.TableAlias(this=exp.to_identifier("o")))


def _group_selects(by: list[str], table: str | None = None) -> list[exp.Expr]:
    if table is None:
        return [sql.alias(group_expression(item), group_column_name(item), quoted=item != "account") for item in by]
    return [sql.column(group_column_name(item), table, quoted=item != "account") for item in by]


def _user_day_counts(builder: PlanBuilder, by: list[str], tier_count: int) -> exp.Query:
    """Return (group columns, user_id, activity_date, events at each rank or above) per user and day."""
    from healthlayer.compiler.engagement import EVENTS, USER_DAYS, rank_count_column

    levels = range(1, tier_count + 1)
    keys = [*[group_expression(item) for item in by], sql.column("user_id"), sql.column("activity_date")]
    if by == ["account"]:
        query = exp.select(*_group_selects(by), sql.column("user_id"), sql.column("activity_date"),
                           *[sql.column(rank_count_column(level)) for level in levels]).from_(builder.table(USER_DAYS))
    elif by_account_only(by):
        query = (
            exp.select(*_group_selects(by), sql.column("user_id"), sql.column("activity_date"),
                       *[sql.alias(sql.to_bigint(exp.Sum(this=sql.column(rank_count_column(level)))), rank_count_column(level))
                         for level in levels])
            .from_(builder.table(USER_DAYS))
            .group_by(*keys)
        )
    else:
        day_counts = [
            sql.alias(sql.to_bigint(exp.Count(this=sql.case((exp.GTE(this=sql.column("tier_rank"), expression=sql.number(level)),
                                                              sql.number(1))))), rank_count_column(level))
            for level in levels
        ]
        query = (
            exp.select(*_group_selects(by), sql.column("user_id"), sql.column("activity_date"), *day_counts)
            .from_(builder.table(EVENTS))
            .group_by(*keys)
        )
    condition = events_not_null(by)
    return query.where(condition) if condition is not None else query


def window_tier_ranks(builder: PlanBuilder, by: list[str], window_days: int) -> exp.Query:
    """Return (group columns, user_id, activity_date, tier_rank) for every user with any event in the window.

    The rank is the highest tier whose rule the user meets over the trailing window ending at the
    day, or 0. Each day with events is spread over the window's days, so the cost is the number of
    user days times the window length, which is also the size of the result.
    """
    from healthlayer.compiler.engagement import rank_count_column

    tiers = builder.project.engagement.tiers  # type: ignore[union-attr]
    levels = range(1, len(tiers) + 1)
    user_days = _user_day_counts(builder, by, len(tiers))
    keys = [group_column_name(item) for item in by]
    expanded_day = sql.add_days(sql.column("activity_date", "u"), sql.column("day_offset", "o"))
    window_sums = (
        exp.select(*_group_selects(by, "u"), sql.column("user_id", "u"), sql.alias(expanded_day, "activity_date"),
                   *[sql.alias(exp.Sum(this=sql.column(rank_count_column(level), "u")), rank_count_column(level))
                     for level in levels])
        .from_(exp.Subquery(this=user_days, alias=exp.TableAlias(this=exp.to_identifier("u"))))
        .join(offsets(window_days), join_type="cross")
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
        .join(offsets(window_days), join_type="cross")
        .group_by(*_group_selects(by, "v"), sql.column("user_id", "v"), expanded_day.copy())
    )


def spans_supported(builder: PlanBuilder) -> bool:
    """Return whether tier spans can evaluate the tier rules: counts of events, but no distinct values."""
    tiers = builder.project.engagement.tiers  # type: ignore[union-attr]
    return all(tier.min_distinct is None for tier in tiers)


def tier_spans(builder: PlanBuilder, by: list[str], window_days: int) -> exp.Query:
    """Return the spans of days over which each user's tier rank stays the same.

    Columns: group columns, user_id, start_date, end_date (the next span's start, NULL after the
    last), tier_rank, in_window (1 when the user has an event in the window, else 0), and
    previous_tier_rank and previous_in_window of the span before (0 before the first).

    The events of the window ending at a day change only on a day with events, which enters the
    window, and N days after one, when it leaves. A running sum of +counts on each day with events
    and -counts N days later gives the window's counts at each such day. The cost therefore grows
    with the number of user days, not with user days times the window length. A span is never longer
    than the window, since each day with events is followed by another span start N days later.
    Tiers with `min_distinct` need distinct values per window; `spans_supported` rejects them.
    """
    from healthlayer.compiler.engagement import rank_count_column

    tiers = builder.project.engagement.tiers  # type: ignore[union-attr]
    levels = range(1, len(tiers) + 1)
    groups = _group_selects(by, "u")
    counts = [rank_count_column(level) for level in levels]
    entering = (
        exp.select(*groups, sql.column("user_id", "u"), sql.alias(sql.column("activity_date", "u"), "point_date"),
                   *[sql.column(name, "u") for name in counts], sql.alias(sql.number(1), "active_days"))
        .from_(exp.Subquery(this=_user_day_counts(builder, by, len(tiers)), alias=exp.TableAlias(this=exp.to_identifier("u"))))
    )
    leaving = (
        exp.select(*[group.copy() for group in groups], sql.column("user_id", "u"),
                   sql.alias(sql.add_days(sql.column("activity_date", "u"), window_days), "point_date"),
                   *[sql.alias(exp.Neg(this=sql.column(name, "u")), name) for name in counts],
                   sql.alias(sql.number(-1), "active_days"))
        .from_(exp.Subquery(this=_user_day_counts(builder, by, len(tiers)), alias=exp.TableAlias(this=exp.to_identifier("u"))))
    )
    keys = [sql.column(group_column_name(item), quoted=item != "account") for item in by] + [sql.column("user_id")]
    # Each column has its own name at each step: ClickHouse reads a name as the alias of the same SELECT.
    points = (
        exp.select(*[key.copy() for key in keys], sql.column("point_date"),
                   *[sql.alias(exp.Sum(this=sql.column(name)), f"{name}_change") for name in counts + ["active_days"]])
        .from_(exp.Subquery(this=exp.union(entering, leaving, distinct=False), alias=exp.TableAlias(this=exp.to_identifier("p"))))
        .group_by(*[key.copy() for key in keys], sql.column("point_date"))
    )

    def running(name: str) -> exp.Expr:
        return sql.alias(sql.window(exp.Sum(this=sql.column(f"{name}_change")), [key.copy() for key in keys],
                                    [sql.column("point_date")], frame="running"), name)

    windowed = exp.select(
        *[key.copy() for key in keys], sql.alias(sql.column("point_date"), "start_date"),
        sql.alias(sql.window(exp.Lead(this=sql.column("point_date")), [key.copy() for key in keys],
                             [sql.column("point_date")]), "end_date"),
        *[running(name) for name in counts + ["active_days"]],
        *[sql.column(f"{name}_change") for name in counts + ["active_days"]],
    ).from_(exp.Subquery(this=points, alias=exp.TableAlias(this=exp.to_identifier("pt"))))

    def window_count(name: str, previous: bool) -> exp.Expr:
        # The counts of the span before are this span's counts minus the changes at its start.
        count = sql.column(name, "w")
        return exp.Paren(this=exp.Sub(this=count, expression=sql.column(f"{name}_change", "w"))) if previous else count

    def rank(previous: bool) -> exp.Expr:
        branches = []
        for level, tier in reversed(list(enumerate(tiers, start=1))):
            rule = exp.GTE(this=window_count(rank_count_column(level), previous), expression=sql.number(tier.min_events))
            branches.append((rule, sql.number(level)))
        # Every tier needs at least one event, so a user without events in the window has rank 0.
        return sql.case(*branches, default=sql.number(0))

    def in_window(previous: bool) -> exp.Expr:
        return sql.case((exp.GT(this=window_count("active_days", previous), expression=sql.number(0)), sql.number(1)),
                        default=sql.number(0))

    return exp.select(
        *[sql.column(key.name, "w", quoted=key.name not in ("account_id", "user_id")) for key in keys],
        sql.column("start_date", "w"), sql.column("end_date", "w"),
        sql.alias(rank(False), "tier_rank"), sql.alias(in_window(False), "in_window"),
        sql.alias(rank(True), "previous_tier_rank"), sql.alias(in_window(True), "previous_in_window"),
    ).from_(exp.Subquery(this=windowed, alias=exp.TableAlias(this=exp.to_identifier("w"))))
