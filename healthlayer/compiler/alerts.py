"""The alerts view: tier drops of users, and health alerts and stale data of accounts.

Every rule gives rows with the same columns, united into one view. Account-level rows have a NULL
`user_id`, and their `alert_id` is `rule:account::YYYY-MM-DD`, so that it is never NULL.
`account_id` and `user_id` are text in every row, because the sources that the rules read may
store ids as different types, and engines such as PostgreSQL and ClickHouse reject a UNION ALL
of text and integer columns.
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


ScoreRule = models.BandChangeAlert | models.ScoreDropAlert | models.RedReviewAlert


def _account_alert(rule: exp.Expr, alert_type: exp.Expr, account: exp.Expr, day: exp.Expr,
                   deadline: exp.Expr, reason: exp.Expr, score: str | None) -> list[exp.Expr]:
    """Return the select list of an account-level alert row, in the order of ALERT_COLUMNS.

    `rule` and `alert_type` are text expressions, and `deadline` is the row's `respond_by`.
    """
    # Every part is non-NULL, so engines that skip NULL parts and engines that return NULL agree.
    alert_id = exp.Concat(expressions=[rule.copy(), sql.string(":"), _text(account.copy()), sql.string("::"),
                                       sql.date_text(day)], safe=True)
    return [
        sql.alias(alert_id, "alert_id"),
        sql.alias(alert_type, "alert_type"),
        sql.alias(rule, "rule"),
        sql.alias(_text(account), "account_id"),
        sql.alias(_text(exp.Null()), "user_id"),
        sql.alias(day.copy(), "detected_date"),
        sql.alias(deadline, "respond_by"),
        sql.alias(reason, "reason"),
        sql.alias(sql.string(score) if score is not None else _text(exp.Null()), "score"),
    ]


def _band_ranks(score: models.HealthScore) -> dict[str, int]:
    """Return each band's rank, 0 for the lowest."""
    return {band.name: rank for rank, band in enumerate(sorted(score.bands, key=lambda band: band.min))}


def _band_rank(band: exp.Expr, ranks: dict[str, int]) -> exp.Expr:
    return sql.case(*[(exp.EQ(this=band.copy(), expression=sql.string(name)), sql.number(rank))
                      for name, rank in ranks.items()])


def _previous(column: str) -> exp.Expr:
    return sql.window(exp.Lag(this=sql.column(column)), [sql.column("account_id")], [sql.column("as_of_date")])


def _number_text(value: float) -> str:
    """Return a number as the reason texts show it: 20 for 20.0, 12.5 for 12.5."""
    return f"{value:g}"


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


def _score_days(builder: PlanBuilder, score_name: str, rules: list[tuple[str, ScoreRule]]) -> exp.Select:
    """Return the health view's rows with every column that the conditions and reasons of `rules` read.

    The view is read once for all rules. Beside the day, account, band and score, a row has the
    previous row's day and band, and the weakest category when a red_review rule needs it. The
    score_drop rule at index i of `rules` adds `dropped_i`, 1 when the drop is present on the day
    and else 0, and `previous_dropped_i`, its value on the previous row.
    """
    score = builder.project.health_scores[score_name]
    names = ["as_of_date", "account_id", "band", "health_score", "previous_date", "previous_band"]
    selects: list[exp.Expr] = [sql.column("as_of_date", "h"), sql.column("account_id", "h"), sql.column("band", "h"),
                               sql.column("health_score", "h"),
                               sql.alias(_previous("as_of_date"), "previous_date"),
                               sql.alias(_previous("band"), "previous_band")]
    if any(isinstance(rule, models.RedReviewAlert) for _, rule in rules):
        names.append("weakest_category")
        selects.append(sql.alias(_weakest_category(score), "weakest_category"))
    drops = [(index, rule) for index, (_, rule) in enumerate(rules) if isinstance(rule, models.ScoreDropAlert)]
    for index, rule in drops:
        # The health view has a row for every day of an account, so the `days` days before a day
        # are its `days` previous rows.
        before = exp.WindowSpec(kind="ROWS", start=sql.number(rule.days), start_side="PRECEDING",
                                end=sql.number(1), end_side="PRECEDING")
        earlier_max = exp.Window(this=exp.Max(this=sql.column("health_score")),
                                 partition_by=[sql.column("account_id")],
                                 order=exp.Order(expressions=[exp.Ordered(this=sql.column("as_of_date"))]),
                                 spec=before)
        selects.append(sql.alias(earlier_max, f"earlier_max_{index}"))
    days = exp.select(*selects).from_(builder.table(score_name).as_("h"))
    if not drops:
        return days
    dropped: list[exp.Expr] = [sql.column(name) for name in names]
    for index, rule in drops:
        earlier = sql.column(f"earlier_max_{index}")
        present = exp.and_(sql.not_null(sql.column("health_score")), sql.not_null(earlier.copy()),
                           exp.GTE(this=exp.Sub(this=earlier, expression=sql.column("health_score")),
                                   expression=sql.number(float(rule.points))))
        dropped.append(sql.alias(sql.case((present, sql.number(1)), default=sql.number(0)), f"dropped_{index}"))
    flagged = exp.select(*dropped).from_(sql.subquery(days, "m"))
    neighbours: list[exp.Expr] = [sql.column(name) for name in names]
    for index, _ in drops:
        neighbours += [sql.column(f"dropped_{index}"),
                       sql.alias(_previous(f"dropped_{index}"), f"previous_dropped_{index}")]
    return exp.select(*neighbours).from_(sql.subquery(flagged, "f"))


def _band_change(rule: models.BandChangeAlert, score: models.HealthScore) -> tuple[exp.Expr, exp.Expr]:
    """Return the condition and reason of a band_change rule over a row `n` of `_score_days`.

    The condition holds on day d when the band differs from the band of day d-1, both non-NULL.
    """
    ranks = _band_ranks(score)
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
    return exp.and_(*conditions), reason


def _score_drop(rule: models.ScoreDropAlert, index: int) -> tuple[exp.Expr, exp.Expr]:
    """Return the condition and reason of the score_drop rule at `index` over a row `n` of `_score_days`.

    The condition holds on the first day on which the score is `points` below the maximum of the
    non-NULL scores of the `days` days before.
    """
    # The previous row is the day before, or absent on the account's first day.
    condition = exp.and_(
        exp.EQ(this=sql.column(f"dropped_{index}", "n"), expression=sql.number(1)),
        exp.or_(sql.is_null(sql.column(f"previous_dropped_{index}", "n")),
                exp.EQ(this=sql.column(f"previous_dropped_{index}", "n"), expression=sql.number(0))),
    )
    reason = sql.string(f"health score fell by at least {_number_text(rule.points)} points within {rule.days} days")
    return condition, reason


def _red_review(rule: models.RedReviewAlert, score: models.HealthScore) -> tuple[exp.Expr, exp.Expr]:
    """Return the condition and reason of a red_review rule over a row `n` of `_score_days`.

    The condition holds for an account in the band on each review weekday, and the reason names its
    weakest category.
    """
    band = rule.band if rule.band is not None else min(score.bands, key=lambda item: item.min).name
    weekday = models.WEEKDAYS.index(rule.weekday)
    condition = exp.and_(exp.EQ(this=sql.column("band", "n"), expression=sql.string(band)),
                         exp.EQ(this=_weekday(sql.column("as_of_date", "n")), expression=sql.number(weekday)))
    reason = exp.Concat(expressions=[sql.string(f"in band {band} on the {rule.weekday} review, weakest category "),
                                     sql.column("weakest_category", "n")], safe=True)
    return condition, reason


def score_alerts(builder: PlanBuilder, score_name: str, rules: list[tuple[str, ScoreRule]]) -> exp.Select:
    """Return the alert rows of the band_change, score_drop and red_review rules of one health score.

    Every rule reads one relation that reads the health view once. Its rows are crossed with a
    relation of one row per rule, and a row stays where the rule of that row fires. A UNION ALL of
    one query per rule would read the health view once per rule on engines that expand views and
    common table expressions where they are referenced, such as ClickHouse.
    """
    score = builder.project.health_scores[score_name]
    rule_name = sql.column("rule", "r")
    firing: list[exp.Expr] = []
    reasons: list[tuple[exp.Expr, exp.Expr]] = []
    for index, (name, rule) in enumerate(rules):
        if isinstance(rule, models.BandChangeAlert):
            condition, reason = _band_change(rule, score)
        elif isinstance(rule, models.ScoreDropAlert):
            condition, reason = _score_drop(rule, index)
        else:
            condition, reason = _red_review(rule, score)
        is_rule = exp.EQ(this=rule_name.copy(), expression=sql.string(name))
        firing.append(exp.Paren(this=exp.and_(is_rule.copy(), condition)))
        reasons.append((is_rule, reason))
    day = sql.column("as_of_date", "n")
    deadlines: dict[int, list[str]] = {}
    for name, rule in rules:
        deadlines.setdefault(rule.respond_within, []).append(name)
    if len(deadlines) == 1:
        deadline = respond_by(day, next(iter(deadlines)))
    else:
        branches = []
        for hours, names in deadlines.items():
            matches: exp.Expr = exp.EQ(this=rule_name.copy(), expression=sql.string(names[0]))
            if len(names) > 1:
                matches = exp.In(this=rule_name.copy(), expressions=[sql.string(name) for name in names])
            branches.append((matches, respond_by(day, hours)))
        deadline = sql.case(*branches)
    rule_rows = sql.union_all([exp.select(sql.alias(sql.string(name), "rule"),
                                          sql.alias(sql.string(rule.type), "alert_type")) for name, rule in rules])
    selects = _account_alert(rule_name, sql.column("alert_type", "r"), sql.column("account_id", "n"), day,
                             deadline, sql.case(*reasons), score_name)
    return (
        exp.select(*selects)
        .from_(sql.subquery(_score_days(builder, score_name, rules), "n"))
        .join(sql.subquery(rule_rows, "r"), join_type="cross")
        .where(exp.or_(*firing))
    )


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
    selects = _account_alert(sql.string(name), sql.string("stale_data"), sql.column("account_id", "q"), day,
                             respond_by(day.copy(), rule.respond_within), reason, None)
    return exp.select(*selects).from_(sql.subquery(qualified, "q"))


def _data_bounds(builder: PlanBuilder) -> exp.Expr | None:
    """Return the one-row relation whose `last_date` is the view's complete_through, or None for the engagement bounds.

    Without an engagement block, it is the latest last day among the health scores and the sources
    that the rules read, each read once.
    """
    if builder.project.engagement is not None:
        return None
    last_days: dict[tuple[str, str | None], exp.Query] = {}
    for rule in builder.project.alerts.values():
        if isinstance(rule, models.StaleDataAlert) and ("source", rule.source) not in last_days:
            _, bounds = _active_days(builder, rule)
            assert isinstance(bounds, exp.Subquery)
            last_days["source", rule.source] = bounds.this.copy()
        elif isinstance(rule, ScoreRule) and ("score", rule.score) not in last_days:
            last_days["score", rule.score] = (exp.select(sql.alias(exp.Max(this=sql.column("as_of_date")), "last_date"))
                                              .from_(builder.table(rule.score)))
    every = sql.union_all(list(last_days.values()))
    latest = exp.select(sql.alias(exp.Max(this=sql.column("last_date")), "last_date")).from_(sql.subquery(every, "l"))
    return sql.subquery(latest, "ab")


def add_alerts_view(builder: PlanBuilder) -> None:
    """Add the alerts view, which unites the rows of every alert rule.

    The rules of one health score give one part, at the place of the score's first rule.
    """
    project = builder.project
    parts: dict[str, exp.Query] = {}
    score_rules: dict[str, list[tuple[str, ScoreRule]]] = {}
    for name, rule in project.alerts.items():
        if isinstance(rule, models.TierDropAlert):
            parts[name] = tier_drop_alert(builder, name, rule).select(sql.alias(_text(exp.Null()), "score"))
        elif isinstance(rule, models.StaleDataAlert):
            parts[name] = stale_data_alert(builder, name, rule)
        else:
            score_rules.setdefault(rule.score, []).append((name, rule))
    order = list(project.alerts)
    for score_name, rules in score_rules.items():
        parts[rules[0][0]] = score_alerts(builder, score_name, rules)
    # The view unites every rule, so it is located at the first one.
    builder.add(ALERTS_VIEW, sql.union_all([parts[name] for name in order if name in parts]), "output",
                "Alerts: tier drops, health score changes and stale data that need a response by a deadline.",
                origin=("alerts", next(iter(project.alerts))), date_column="detected_date",
                bounds=_data_bounds(builder))
