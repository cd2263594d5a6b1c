"""Tier mix views: the population of a window counted once at its highest tier, with shares and a target."""

from __future__ import annotations

from sqlglot import exp

from healthlayer.compiler import sql
from healthlayer.compiler.engagement import BOUNDS, EVENTS, USER_DAYS, is_complete
from healthlayer.compiler.plan import PlanBuilder
from healthlayer.compiler.rolling import join_deltas, running_counts, window_deltas
from healthlayer.compiler.spine import by_account_only, column_of, events_not_null, group_column_name, group_expression, group_spine
from healthlayer.compiler.tier_rules import spans_supported, tier_spans, window_tier_ranks
from healthlayer.definitions.models import TierMix


def _count_column(level: int) -> str:
    return f"users_at_least_{level}"


def add_tier_mix(builder: PlanBuilder, definition: TierMix) -> None:
    tiers = builder.project.engagement.tiers  # type: ignore[union-attr]
    tier_names = [tier.name for tier in tiers]
    groups = [group_column_name(item) for item in definition.by]
    if any(tier.has_threshold for tier in tiers):
        counts = _threshold_counts(builder, definition, groups, len(tiers))
    else:
        counts = _rolling_counts(builder, definition, groups, len(tiers))

    at_least = {level: sql.column(_count_column(level), "k") for level in range(0, len(tiers) + 1)}
    selects: list[exp.Expr] = [sql.column("activity_date", "k"), *[column_of(name, "k") for name in groups]]
    selects.append(sql.alias(at_least[0].copy(), "mau"))
    for level, name in enumerate(tier_names, start=1):
        exactly: exp.Expr = at_least[level].copy()
        if level < len(tier_names):
            exactly = exp.Sub(this=exactly, expression=at_least[level + 1].copy())
        selects.append(sql.alias(sql.to_bigint(exactly), f"{name}_users", quoted=True))
    for level, name in enumerate(tier_names, start=1):
        selects.append(sql.alias(sql.ratio(at_least[level].copy(), at_least[0].copy()), f"{name}_share", quoted=True))
    if definition.target is not None:
        level = tier_names.index(definition.target.tier) + 1
        share = sql.ratio(at_least[level].copy(), at_least[0].copy())
        meets = sql.case((sql.is_null(share), exp.Null()),
                         (exp.GTE(this=share.copy(), expression=sql.number(definition.target.min_share)), exp.true()),
                         default=exp.false())
        selects.append(sql.alias(meets, "meets_target"))
    selects.append(sql.alias(is_complete(sql.column("activity_date", "k"), definition.window), "is_complete"))
    view = (
        exp.select(*selects)
        .from_(exp.Subquery(this=counts, alias=exp.TableAlias(this=exp.to_identifier("k"))))
        .join(builder.table(BOUNDS).as_("b"), join_type="cross")
    )
    scope = f" per {', '.join(groups)}" if groups else ""
    builder.add(definition.name, view, "output",
                f"Users with any event in the trailing {definition.window} days{scope}, each at the highest tier "
                "reached, with the share at or above each tier.",
                origin=("tier_mix", definition.name), date_column="activity_date")


def _rolling_counts(builder: PlanBuilder, definition: TierMix, groups: list[str], tier_count: int) -> exp.Query:
    """Count users at or above each level over the window; exact when no tier has a threshold.

    Without thresholds a user reaches a tier over the window exactly when one of the user's events
    in the window is of that tier or higher, so each level is a trailing distinct count.
    """
    level_selects = []
    # Every level reads the user days when they serve the groups, which engines read once.
    source = USER_DAYS if by_account_only(definition.by) else EVENTS
    for level in range(0, tier_count + 1):
        query = (
            exp.select(*[sql.alias(group_expression(item), group_column_name(item), quoted=item != "account")
                         for item in definition.by],
                       sql.alias(sql.number(level), "tier_level"), sql.alias(sql.column("user_id"), "member_key"),
                       sql.column("activity_date"))
            .from_(builder.table(source))
        )
        if definition.by != ["account"]:
            # User days have one row per account, user and day, so only other groups need DISTINCT.
            query = query.distinct()
        condition = events_not_null(definition.by)
        if level > 0:
            condition = sql.and_(condition, exp.GTE(this=sql.column("tier_rank"), expression=sql.number(level)))
        level_selects.append(query.where(condition) if condition is not None else query)
    facts = exp.select("*").from_(exp.Subquery(this=exp.union(*level_selects, distinct=False),
                                               alias=exp.TableAlias(this=exp.to_identifier("lf"))))
    level_deltas = window_deltas(facts, groups + ["tier_level"], {"users": definition.window})
    pivoted = (
        exp.select(*[column_of(name) for name in groups], sql.column("delta_date"),
                   *[sql.alias(exp.Sum(this=sql.case((exp.EQ(this=sql.column("tier_level"), expression=sql.number(level)),
                                                       sql.column("users_delta")), default=sql.number(0))),
                               f"{_count_column(level)}_delta")
                     for level in range(0, tier_count + 1)])
        .from_(exp.Subquery(this=level_deltas, alias=exp.TableAlias(this=exp.to_identifier("ld"))))
        .group_by(*[column_of(name) for name in groups], sql.column("delta_date"))
    )
    spine = group_spine(builder, definition.by)
    counts = exp.select(
        *[column_of(name, "sp") for name in groups],
        sql.column("activity_date", "sp"),
        *running_counts("sp", groups, [_count_column(level) for level in range(0, tier_count + 1)]),
    ).from_(exp.Subquery(this=spine, alias=exp.TableAlias(this=exp.to_identifier("sp"))))
    return join_deltas(counts, pivoted, "sp", groups)


def _span_counts(builder: PlanBuilder, definition: TierMix, groups: list[str], tier_count: int) -> exp.Query:
    """Count users at or above each level from tier spans: +1 where a user's span reaches a level, -1 where it drops."""
    spans = tier_spans(builder, definition.by, definition.window)

    def reached(level: int, prefix: str) -> exp.Expr:
        if level == 0:
            return sql.column(f"{prefix}in_window", "s")
        return sql.case((exp.GTE(this=sql.column(f"{prefix}tier_rank", "s"), expression=sql.number(level)), sql.number(1)),
                        default=sql.number(0))

    deltas = (
        exp.select(*[column_of(name, "s") for name in groups], sql.alias(sql.column("start_date", "s"), "delta_date"),
                   *[sql.alias(exp.Sum(this=exp.Sub(this=reached(level, ""), expression=reached(level, "previous_"))),
                               f"{_count_column(level)}_delta")
                     for level in range(0, tier_count + 1)])
        .from_(exp.Subquery(this=spans, alias=exp.TableAlias(this=exp.to_identifier("s"))))
        .group_by(*[column_of(name, "s") for name in groups], sql.column("start_date", "s"))
    )
    spine = group_spine(builder, definition.by)
    counts = exp.select(
        *[column_of(name, "sp") for name in groups],
        sql.column("activity_date", "sp"),
        *running_counts("sp", groups, [_count_column(level) for level in range(0, tier_count + 1)]),
    ).from_(exp.Subquery(this=spine, alias=exp.TableAlias(this=exp.to_identifier("sp"))))
    return join_deltas(counts, deltas, "sp", groups)


def _threshold_counts(builder: PlanBuilder, definition: TierMix, groups: list[str], tier_count: int) -> exp.Query:
    """Evaluate each tier's rule over the whole window per user and day, then count users per group and day."""
    if spans_supported(builder):
        return _span_counts(builder, definition, groups, tier_count)
    ranks = window_tier_ranks(builder, definition.by, definition.window)
    per_day = (
        exp.select(*[column_of(name, "r") for name in groups], sql.column("activity_date", "r"),
                   sql.alias(exp.Count(this=exp.Star()), _count_column(0)),
                   *[sql.alias(exp.Sum(this=sql.case((exp.GTE(this=sql.column("tier_rank", "r"), expression=sql.number(level)),
                                                       sql.number(1)), default=sql.number(0))), _count_column(level))
                     for level in range(1, tier_count + 1)])
        .from_(exp.Subquery(this=ranks, alias=exp.TableAlias(this=exp.to_identifier("r"))))
        .group_by(*[column_of(name, "r") for name in groups], sql.column("activity_date", "r"))
    )
    spine = group_spine(builder, definition.by)
    on = [exp.EQ(this=column_of(name, "sp"), expression=column_of(name, "pd")) for name in groups]
    on.append(exp.EQ(this=sql.column("activity_date", "sp"), expression=sql.column("activity_date", "pd")))
    return (
        exp.select(*[column_of(name, "sp") for name in groups], sql.column("activity_date", "sp"),
                   *[sql.alias(sql.to_bigint(exp.Coalesce(this=sql.column(_count_column(level), "pd"),
                                                          expressions=[sql.number(0)])), _count_column(level))
                     for level in range(0, tier_count + 1)])
        .from_(exp.Subquery(this=spine, alias=exp.TableAlias(this=exp.to_identifier("sp"))))
        .join(exp.Subquery(this=per_day, alias=exp.TableAlias(this=exp.to_identifier("pd"))), on=exp.and_(*on),
              join_type="left")
    )
