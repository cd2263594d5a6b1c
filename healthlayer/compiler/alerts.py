"""The alerts view: tier drops of users, and health alerts and stale data of accounts.

Every rule gives rows with the same columns, united into one view. Account-level rows have a NULL
`user_id`, and their `alert_id` is `rule:account::YYYY-MM-DD`, so that it is never NULL.
"""

from __future__ import annotations

import datetime

from sqlglot import exp

from healthlayer.compiler import sql
from healthlayer.compiler.engagement import BOUNDS, USER_DAYS, tier_drop_alert
from healthlayer.compiler.plan import PlanBuilder
from healthlayer.compiler.sources import local_date, source_table
from healthlayer.definitions import models
from healthlayer.definitions.references import ALERTS_VIEW

ALERT_COLUMNS = ("alert_id", "alert_type", "rule", "account_id", "user_id", "detected_date", "respond_by", "reason",
                 "score")
# A Monday: the weekday of a day is its distance in days from this one, modulo 7.
MONDAY = datetime.date(1900, 1, 1)


def _text(expression: exp.Expr) -> exp.Cast:
    return exp.Cast(this=expression, to=exp.DataType.build("VARCHAR"))


def respond_by(day: exp.Expr, hours: int) -> exp.Expr:
    """Return the end of `day` (midnight at the start of the next day) plus `hours`, as a TIMESTAMP."""
    deadline = exp.DateAdd(this=exp.Cast(this=sql.add_days(day, 1), to=exp.DataType.build("TIMESTAMP")),
                           expression=sql.number(hours), unit=exp.var("HOUR"))
    return exp.Cast(this=deadline, to=exp.DataType.build("TIMESTAMP"))


def _account_alert(builder: PlanBuilder, name: str, alert_type: str, rule_hours: int, account: exp.Expr,
                   day: exp.Expr, reason: exp.Expr, score: str | None) -> list[exp.Expr]:
    """Return the select list of an account-level alert row, in the order of ALERT_COLUMNS."""
    # Every part is non-NULL, so engines that skip NULL parts and engines that return NULL agree.
    alert_id = exp.Concat(expressions=[sql.string(f"{name}:"), _text(account.copy()), sql.string("::"),
                                       sql.date_text(day)], safe=True)
    has_tier_drops = any(isinstance(rule, models.TierDropAlert) for rule in builder.project.alerts.values())
    # With tier drops, the user column takes the type of the source's user column from them.
    user: exp.Expr = exp.Null() if has_tier_drops else _text(exp.Null())
    return [
        sql.alias(alert_id, "alert_id"),
        sql.alias(sql.string(alert_type), "alert_type"),
        sql.alias(sql.string(name), "rule"),
        sql.alias(account, "account_id"),
        sql.alias(user, "user_id"),
        sql.alias(day.copy(), "detected_date"),
        sql.alias(respond_by(day.copy(), rule_hours), "respond_by"),
        sql.alias(reason, "reason"),
        sql.alias(sql.string(score) if score is not None else _text(exp.Null()), "score"),
    ]


def _band_ranks(score: models.HealthScore) -> dict[str, int]:
    """Return each band's rank, 0 for the lowest."""
    return {band.name: rank for rank, band in enumerate(sorted(score.bands, key=lambda band: band.min))}


def _band_rank(band: exp.Expr, ranks: dict[str, int]) -> exp.Expr:
    return sql.case(*[(exp.EQ(this=band.copy(), expression=sql.string(name)), sql.number(rank))
                      for name, rank in ranks.items()])


def _with_previous_day(builder: PlanBuilder, score_name: str, *columns: tuple[exp.Expr, str]) -> exp.Select:
    """Return the health view's days with `columns` and, for each, its value on the account's previous row."""
    partition = [sql.column("account_id")]
    order = [sql.column("as_of_date")]
    selects: list[exp.Expr] = [sql.column("as_of_date"), sql.column("account_id"),
                               sql.alias(sql.window(exp.Lag(this=sql.column("as_of_date")), partition, order),
                                         "previous_date")]
    for expression, name in columns:
        selects.append(sql.alias(expression, name))
    return exp.select(*selects).from_(builder.table(score_name))


def _previous(column: str) -> exp.Expr:
    return sql.window(exp.Lag(this=sql.column(column)), [sql.column("account_id")], [sql.column("as_of_date")])


def band_change_alert(builder: PlanBuilder, name: str, rule: models.BandChangeAlert) -> exp.Select:
    """Return one row per account and day d whose band differs from its band on day d-1, both non-NULL."""
    score = builder.project.health_scores[rule.score]
    ranks = _band_ranks(score)
    neighbours = _with_previous_day(builder, rule.score, (sql.column("band"), "band"),
                                    (_previous("band"), "previous_band"))
    band = sql.column("band", "n")
    previous = sql.column("previous_band", "n")
    conditions: list[exp.Expr] = [
        exp.EQ(this=sql.column("previous_date", "n"), expression=sql.add_days(sql.column("as_of_date", "n"), -1)),
        sql.not_null(band.copy()), sql.not_null(previous.copy()),
        exp.NEQ(this=band.copy(), expression=previous.copy()),
    ]
    direction = rule.effective_direction()
    if direction == "down":
        conditions.append(exp.LT(this=_band_rank(band, ranks), expression=_band_rank(previous, ranks)))
    elif direction == "up":
        conditions.append(exp.GT(this=_band_rank(band, ranks), expression=_band_rank(previous, ranks)))
    targets = rule.target_bands()
    if targets is not None:
        conditions.append(exp.In(this=band.copy(), expressions=[sql.string(target) for target in targets]))
    reason = exp.Concat(expressions=[sql.string("band changed from "), previous.copy(), sql.string(" to "),
                                     band.copy()], safe=True)
    selects = _account_alert(builder, name, "band_change", rule.respond_within, sql.column("account_id", "n"),
                             sql.column("as_of_date", "n"), reason, rule.score)
    return exp.select(*selects).from_(sql.subquery(neighbours, "n")).where(exp.and_(*conditions))


def _number_text(value: float) -> str:
    """Return a number as the reason texts show it: 20 for 20.0, 12.5 for 12.5."""
    return f"{value:g}"


def score_drop_alert(builder: PlanBuilder, name: str, rule: models.ScoreDropAlert) -> exp.Select:
    """Return one row per account and first day on which the score is `points` below the maximum of the days before.

    The maximum is over the non-NULL scores of the `days` days before the day. The health view
    has a row for every day of an account, so those days are its `days` previous rows.
    """
    before = exp.WindowSpec(kind="ROWS", start=sql.number(rule.days), start_side="PRECEDING",
                            end=sql.number(1), end_side="PRECEDING")
    earlier_max = exp.Window(this=exp.Max(this=sql.column("health_score")),
                             partition_by=[sql.column("account_id")],
                             order=exp.Order(expressions=[exp.Ordered(this=sql.column("as_of_date"))]), spec=before)
    maxima = exp.select(sql.column("as_of_date"), sql.column("account_id"), sql.column("health_score"),
                        sql.alias(earlier_max, "earlier_max")).from_(builder.table(rule.score))
    dropped = sql.case((exp.and_(sql.not_null(sql.column("health_score")), sql.not_null(sql.column("earlier_max")),
                                 exp.GTE(this=exp.Sub(this=sql.column("earlier_max"), expression=sql.column("health_score")),
                                         expression=sql.number(float(rule.points)))), sql.number(1)),
                       default=sql.number(0))
    flagged = exp.select(sql.column("as_of_date"), sql.column("account_id"), sql.alias(dropped, "dropped")).from_(
        sql.subquery(maxima, "m"))
    neighbours = (
        exp.select(sql.column("as_of_date"), sql.column("account_id"), sql.column("dropped"),
                   sql.alias(_previous("dropped"), "previous_dropped"),
                   sql.alias(_previous("as_of_date"), "previous_date"))
        .from_(sql.subquery(flagged, "f"))
    )
    # The previous row is the day before, or absent on the account's first day.
    condition = exp.and_(
        exp.EQ(this=sql.column("dropped", "n"), expression=sql.number(1)),
        exp.or_(sql.is_null(sql.column("previous_dropped", "n")),
                exp.EQ(this=sql.column("previous_dropped", "n"), expression=sql.number(0))),
    )
    reason = sql.string(f"health score fell by at least {_number_text(rule.points)} points within {rule.days} days")
    selects = _account_alert(builder, name, "score_drop", rule.respond_within, sql.column("account_id", "n"),
                             sql.column("as_of_date", "n"), reason, rule.score)
    return exp.select(*selects).from_(sql.subquery(neighbours, "n")).where(condition)


def _weekday(day: exp.Expr) -> exp.Expr:
    """Return the weekday of a date, 0 for Monday to 6 for Sunday, without engine-specific weekday functions."""
    distance = exp.DateDiff(this=day, expression=sql.date_literal(MONDAY), unit=sql.DAY)
    # The double modulo keeps days before the anchor in 0-6 on engines whose % keeps the sign.
    inner = exp.Mod(this=exp.Paren(this=distance), expression=sql.number(7))
    return exp.Mod(this=exp.Paren(this=exp.Add(this=inner, expression=sql.number(7))), expression=sql.number(7))


def _weakest_category(score: models.HealthScore) -> exp.Expr:
    """Return the name of the category with the lowest non-NULL score. Ties go to the first declared."""
    branches = []
    for index, category in enumerate(score.categories):
        this = sql.column(f"{category.name}_score", "h", quoted=True)
        conditions: list[exp.Expr] = [sql.not_null(this.copy())]
        for other_index, other in enumerate(score.categories):
            if other_index == index:
                continue
            other_score = sql.column(f"{other.name}_score", "h", quoted=True)
            compare = exp.LTE if other_index > index else exp.LT
            conditions.append(exp.or_(sql.is_null(other_score.copy()), compare(this=this.copy(), expression=other_score)))
        branches.append((exp.and_(*conditions), sql.string(category.name)))
    return sql.case(*branches)


def red_review_alert(builder: PlanBuilder, name: str, rule: models.RedReviewAlert) -> exp.Select:
    """Return one row per account in the band on each review weekday, with its weakest category in the reason."""
    score = builder.project.health_scores[rule.score]
    band = rule.band if rule.band is not None else min(score.bands, key=lambda item: item.min).name
    weekday = models.WEEKDAYS.index(rule.weekday)
    day = sql.column("as_of_date", "h")
    reason = exp.Concat(expressions=[sql.string(f"in band {band} on the {rule.weekday} review, weakest category "),
                                     _weakest_category(score)], safe=True)
    selects = _account_alert(builder, name, "red_review", rule.respond_within, sql.column("account_id", "h"),
                             day, reason, rule.score)
    condition = exp.and_(exp.EQ(this=sql.column("band", "h"), expression=sql.string(band)),
                         exp.EQ(this=_weekday(day.copy()), expression=sql.number(weekday)))
    return exp.select(*selects).from_(builder.table(rule.score).as_("h")).where(condition)


def _active_days(builder: PlanBuilder, rule: models.StaleDataAlert) -> tuple[exp.Query, exp.Expr]:
    """Return (account_id, activity_date) of each account's days with events, and a one-row relation with `last_date`."""
    project = builder.project
    engagement = project.engagement
    if rule.source is None or (engagement is not None and rule.source == engagement.source):
        days = (
            exp.select(sql.column("account_id"), sql.column("activity_date")).distinct()
            .from_(builder.table(USER_DAYS))
            .where(sql.not_null(sql.column("account_id")))
        )
        return days, builder.table(BOUNDS)
    source = project.sources[rule.source]
    assert source.timestamp is not None
    timestamp = sql.user_column(source.timestamp)
    account = sql.user_column(source.account)
    condition = sql.and_(sql.not_null(account), sql.not_null(timestamp))
    if source.user is not None:
        # Rows without a user are ignored everywhere, as in the engagement views.
        condition = sql.and_(condition, sql.not_null(sql.user_column(source.user)))
    day = local_date(timestamp.copy(), project.time_zone, builder.timestamp_has_time_zone(source.name))
    rows = exp.select(sql.alias(account.copy(), "account_id"), sql.alias(day, "activity_date")).from_(
        source_table(source, project.root)).where(condition)
    bounds = exp.select(sql.alias(exp.Max(this=sql.column("activity_date")), "last_date")).from_(
        sql.subquery(rows.copy(), "r"))
    recent = builder.recent_rows(source.name, day.copy(), timestamp.copy())
    if recent is not None:
        rows = rows.where(recent)
    days = exp.select(sql.column("account_id"), sql.column("activity_date")).distinct().from_(sql.subquery(rows, "r"))
    return days, sql.subquery(bounds, "sb")


def stale_data_alert(builder: PlanBuilder, name: str, rule: models.StaleDataAlert) -> exp.Select:
    """Return one row per account and silence of `silent_for` days that follows enough active days.

    The row's day is the last day with events plus `silent_for`, when no event falls on the days
    in between nor on that day, and it is on or before the source's last day of data.
    """
    days, bounds = _active_days(builder, rule)
    following = sql.window(exp.Lead(this=sql.column("activity_date")), [sql.column("account_id")],
                           [sql.column("activity_date")])
    gaps = exp.select(sql.column("account_id"), sql.column("activity_date"),
                      sql.alias(following, "next_date")).from_(sql.subquery(days.copy(), "d"))
    detected = sql.add_days(sql.column("activity_date", "g"), rule.silent_for)
    bounds_item = bounds.as_("sb") if isinstance(bounds, exp.Table) else bounds
    silences = (
        exp.select(sql.column("account_id", "g"), sql.column("activity_date", "g"))
        .from_(sql.subquery(gaps, "g"))
        .join(bounds_item, join_type="cross")
        .where(exp.and_(
            exp.or_(sql.is_null(sql.column("next_date", "g")),
                    exp.GT(this=sql.column("next_date", "g"), expression=detected.copy())),
            exp.LTE(this=detected.copy(), expression=sql.column("last_date", "sb")))))
    in_window = exp.and_(
        exp.EQ(this=sql.column("account_id", "a"), expression=sql.column("account_id", "s")),
        exp.GTE(this=sql.column("activity_date", "a"),
                expression=sql.add_days(sql.column("activity_date", "s"), -(rule.lookback - 1))),
        exp.LTE(this=sql.column("activity_date", "a"), expression=sql.column("activity_date", "s")))
    qualified = (
        exp.select(sql.column("account_id", "s"), sql.column("activity_date", "s"))
        .from_(sql.subquery(silences, "s"))
        .join(sql.subquery(days, "a"), on=in_window)
        .group_by(sql.column("account_id", "s"), sql.column("activity_date", "s"))
        .having(exp.GTE(this=exp.Count(this=exp.Star()), expression=sql.number(rule.min_active_days)))
    )
    reason = sql.string(f"no events for {rule.silent_for} days, after events on at least {rule.min_active_days} "
                        f"of the {rule.lookback} days before")
    day = sql.add_days(sql.column("activity_date", "q"), rule.silent_for)
    selects = _account_alert(builder, name, "stale_data", rule.respond_within, sql.column("account_id", "q"), day,
                             reason, None)
    return exp.select(*selects).from_(sql.subquery(qualified, "q"))


def _data_bounds(builder: PlanBuilder) -> exp.Expr | None:
    """Return the one-row relation whose `last_date` is the view's complete_through, or None for the engagement bounds.

    Without an engagement block, it is the latest last day among the health scores and the sources
    that the rules read.
    """
    if builder.project.engagement is not None:
        return None
    last_days: list[exp.Query] = []
    for rule in builder.project.alerts.values():
        if isinstance(rule, models.StaleDataAlert):
            _, bounds = _active_days(builder, rule)
            assert isinstance(bounds, exp.Subquery)
            last_days.append(bounds.this.copy())
        elif not isinstance(rule, models.TierDropAlert):
            last_days.append(exp.select(sql.alias(exp.Max(this=sql.column("as_of_date")), "last_date"))
                             .from_(builder.table(rule.score)))
    every = exp.union(*last_days, distinct=False) if len(last_days) > 1 else last_days[0]
    latest = exp.select(sql.alias(exp.Max(this=sql.column("last_date")), "last_date")).from_(sql.subquery(every, "l"))
    return sql.subquery(latest, "ab")


def add_alerts_view(builder: PlanBuilder) -> None:
    """Add the alerts view, which unites the rows of every alert rule."""
    project = builder.project
    parts: list[exp.Query] = []
    for name, rule in project.alerts.items():
        if isinstance(rule, models.TierDropAlert):
            parts.append(tier_drop_alert(builder, name, rule).select(sql.alias(_text(exp.Null()), "score")))
        elif isinstance(rule, models.BandChangeAlert):
            parts.append(band_change_alert(builder, name, rule))
        elif isinstance(rule, models.ScoreDropAlert):
            parts.append(score_drop_alert(builder, name, rule))
        elif isinstance(rule, models.RedReviewAlert):
            parts.append(red_review_alert(builder, name, rule))
        else:
            parts.append(stale_data_alert(builder, name, rule))
    # The view unites every rule, so it is located at the first one.
    builder.add(ALERTS_VIEW, sql.union_all(parts), "output",
                "Alerts: tier drops, health score changes and stale data that need a response by a deadline.",
                origin=("alerts", next(iter(project.alerts))), date_column="detected_date",
                bounds=_data_bounds(builder))
