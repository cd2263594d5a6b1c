"""Relations of the engagement source: events by day, the calendar, tiers, transitions and alerts."""

from __future__ import annotations

import datetime

from sqlglot import exp

from healthlayer.compiler import sql
from healthlayer.compiler.plan import PlanBuilder, internal_name
from healthlayer.compiler.sources import local_date, source_table
from healthlayer.definitions.models import TierDropAlert
from healthlayer.definitions.references import TIERS_VIEW, TRANSITIONS_VIEW

# The definition that the engagement relations are built from.
ENGAGEMENT_ORIGIN = ("engagement", "engagement")
EVENTS = internal_name("events")
# Every event, where `_hl_events` keeps only the recent ones during an incremental refresh.
EVENT_HISTORY = internal_name("event_history")
BOUNDS = internal_name("bounds")
CALENDAR = internal_name("calendar")
USER_DAYS = internal_name("user_days")
USER_TIERS = internal_name("user_tiers")
TIER_SPANS = internal_name("tier_spans")
TRANSITION_RANKS = internal_name("transition_ranks")
# Column of the events relation with the source's timestamp, before its local day is taken.
EVENT_TIMESTAMP = internal_name("timestamp")
# Every UTC offset of the time zone database lies between -16 and +16 hours, so an event more than
# 32 hours after the earliest one cannot fall on an earlier local day. The bounds look at 3 days.
BOUNDS_MARGIN_DAYS = 3
# The calendar is built from digits 0-9 cross-joined this many times: 10**5 days is about 273 years.
CALENDAR_DIGITS = 5
CALENDAR_MAX_DAYS = 10 ** CALENDAR_DIGITS
# Key in the meta of a calendar query's top SELECT, for dialect rewrites that plan it on its own.
CALENDAR_META_KEY = "healthlayer_calendar"


def add_event_relations(builder: PlanBuilder) -> None:
    """Add the cleaned events, the data range and the calendar."""
    project = builder.project
    engagement = project.engagement
    assert engagement is not None
    source = project.sources[engagement.source]
    roles = source.role_columns()

    branches = []
    for rank, tier in reversed(list(enumerate(engagement.tiers, start=1))):
        event_name = sql.user_column(roles["event_name"])
        if tier.events == "*":
            condition: exp.Expr = sql.not_null(event_name)
        elif tier.events is not None:
            condition = exp.In(this=event_name, expressions=[sql.string(name) for name in tier.events])
        else:
            condition = sql.not_null(event_name)
        if tier.filter is not None:
            tier_filter = builder.expression(tier.filter, source, "tier filter", "engagement", "engagement",
                                             "tiers", rank - 1, "filter")
            if tier_filter is not None:
                condition = exp.and_(condition, exp.Paren(this=tier_filter))
        branches.append((condition, sql.number(rank)))
    tier_rank = sql.case(*branches, default=sql.number(0))

    has_time_zone = builder.timestamp_has_time_zone(source.name)
    timestamp = sql.user_column(roles["timestamp"])
    # The instant is cast as local_date casts it, so that it orders events in time.
    instant = exp.Cast(this=timestamp.copy(), to=exp.DataType.build("TIMESTAMPTZ")) if has_time_zone else timestamp.copy()
    selects = [
        sql.alias(sql.user_column(roles["user"]), "user_id"),
        sql.alias(sql.user_column(roles["account"]), "account_id"),
        sql.alias(local_date(timestamp, project.time_zone, has_time_zone), "activity_date"),
        sql.alias(sql.user_column(roles["event_name"]), "event_name"),
        sql.alias(tier_rank, "tier_rank"),
        sql.alias(instant, EVENT_TIMESTAMP),
    ]
    for name in source.columns:
        if name not in roles.values():
            selects.append(sql.alias(sql.user_column(name), name, quoted=True))
    query = (
        exp.select(*selects)
        .from_(source_table(source, project.root))
        .where(sql.and_(sql.not_null(sql.user_column(roles["user"])), sql.not_null(timestamp)))
    )
    recent = builder.recent_rows(source.name, local_date(timestamp.copy(), project.time_zone, has_time_zone),
                                 timestamp.copy())
    if recent is not None:
        builder.add(EVENT_HISTORY, query.copy(), "internal", "Every event of the engagement source.",
                    origin=ENGAGEMENT_ORIGIN)
        query = query.where(recent)
    builder.add(EVENTS, query, "internal", "Events of the engagement source with their local day and tier rank.",
                origin=ENGAGEMENT_ORIGIN)

    bounds: exp.Query
    if builder.refresh_from is not None and builder.data_range is not None:
        # A refresh reads the data range once, and each query it runs takes it as constants.
        bounds = exp.select(sql.alias(sql.date_literal(builder.data_range[0]), "first_date"),
                            sql.alias(sql.date_literal(builder.data_range[1]), "last_date"))
    else:
        bounds = bounds_query(event_history(builder), project.time_zone, has_time_zone)
    builder.add(BOUNDS, bounds, "internal", "The first and last day of data.", origin=ENGAGEMENT_ORIGIN)

    builder.add(CALENDAR, calendar_query(_calendar_bounds(builder)), "internal",
                "Every day from the first to the last day of data.", origin=ENGAGEMENT_ORIGIN)

    builder.add(USER_DAYS, _user_days(builder, len(engagement.tiers)), "internal",
                "Each account user's days with events: the highest tier rank and the events at each rank or above.",
                origin=ENGAGEMENT_ORIGIN)



def rank_count_column(level: int) -> str:
    return f"events_rank_{level}"


def _user_days(builder: PlanBuilder, tier_count: int) -> exp.Query:
    """Return one row per account, user and day with events, which most engagement views start from.

    Reading events once into this relation, instead of once per level or step, keeps the cost of
    a view close to one pass over the events.
    """
    keys = [sql.column("account_id"), sql.column("user_id"), sql.column("activity_date")]
    # The rank is renamed first: ClickHouse would read tier_rank in the counts as the MAX below.
    events = exp.select(*[key.copy() for key in keys], sql.alias(sql.column("tier_rank"), "event_rank")).from_(
        builder.table(EVENTS))
    counts = [
        sql.alias(sql.to_bigint(exp.Count(this=sql.case((exp.GTE(this=sql.column("event_rank"), expression=sql.number(level)),
                                                          sql.number(1))))), rank_count_column(level))
        for level in range(1, tier_count + 1)
    ]
    return (
        exp.select(*[key.copy() for key in keys], sql.alias(exp.Max(this=sql.column("event_rank")), "tier_rank"), *counts)
        .from_(exp.Subquery(this=events, alias=exp.TableAlias(this=exp.to_identifier("e"))))
        .group_by(*keys)
    )


def bounds_query(events: exp.Table, time_zone: str, has_time_zone: bool) -> exp.Query:
    """Return the first and last local day of the events, converting only events near the extremes.

    The local day never decreases by more than the largest change of UTC offset as time goes on,
    so the first day is among the events within BOUNDS_MARGIN_DAYS of the earliest timestamp, and
    the last among those near the latest. Engines can take the extreme timestamps from file or
    partition statistics, which leaves the day conversion of the few events near them.
    """
    stamp = sql.column(EVENT_TIMESTAMP, "e")
    margin = exp.Interval(this=sql.string(str(BOUNDS_MARGIN_DAYS)), unit=sql.DAY)
    near_first = exp.LTE(this=stamp.copy(), expression=exp.Add(this=sql.column("earliest", "x"), expression=margin.copy()))
    near_last = exp.GTE(this=stamp.copy(), expression=exp.Sub(this=sql.column("latest", "x"), expression=margin.copy()))
    extremes = exp.select(sql.alias(exp.Min(this=sql.column(EVENT_TIMESTAMP)), "earliest"),
                          sql.alias(exp.Max(this=sql.column(EVENT_TIMESTAMP)), "latest")).from_(events.copy())
    # The day is taken again from the timestamp instead of read from activity_date, so that engines
    # convert only the rows near the extremes. It is the same expression on the same instant.
    day = local_date(stamp.copy(), time_zone, has_time_zone)
    return (
        exp.select(sql.alias(exp.Min(this=sql.case((near_first, day.copy()))), "first_date"),
                   sql.alias(exp.Max(this=sql.case((near_last, day.copy()))), "last_date"))
        .from_(events.copy().as_("e"))
        .join(exp.Subquery(this=extremes, alias=exp.TableAlias(this=exp.to_identifier("x"))), join_type="cross")
        .where(exp.or_(near_first.copy(), near_last.copy()))
    )


def _calendar_bounds(builder: PlanBuilder) -> exp.Expr:
    """Return the days the calendar covers: the data range, or during a refresh its recent part.

    A refresh reads no event of the engagement source before its history days, so earlier days
    would only give rows that it leaves out. Spines and running sums start at that day instead.
    """
    bounds = builder.table(BOUNDS)
    if builder.refresh_from is None:
        return bounds
    assert builder.project.engagement is not None
    days = builder.history_days.get(builder.project.engagement.source, 0)
    start = sql.date_literal(builder.refresh_from - datetime.timedelta(days=days))
    first = sql.column("first_date", "rb")
    later = sql.case((exp.LT(this=first, expression=start), start.copy()), default=first.copy())
    recent = exp.select(sql.alias(later, "first_date"), sql.column("last_date", "rb")).from_(bounds.as_("rb"))
    return exp.Subquery(this=recent, alias=exp.TableAlias(this=exp.to_identifier("rc")))


def event_history(builder: PlanBuilder) -> exp.Table:
    """Return the relation of every event, which first days and the data range are read from."""
    return builder.table(EVENT_HISTORY if builder.refresh_from is not None else EVENTS)


def calendar_query(bounds: exp.Expr) -> exp.Query:
    """Return every day from `first_date` to `last_date` of a one-row bounds relation, without engine functions."""
    digits = exp.union(*[exp.select(sql.alias(sql.number(digit), "digit")) for digit in range(10)], distinct=False)
    offset: exp.Expr = sql.column("digit", "d0")
    query = exp.select().from_(exp.Subquery(this=digits, alias=exp.TableAlias(this=exp.to_identifier("d0"))))
    for position in range(1, CALENDAR_DIGITS):
        name = f"d{position}"
        query = query.join(exp.Subquery(this=digits.copy(), alias=exp.TableAlias(this=exp.to_identifier(name))),
                           join_type="cross")
        offset = exp.Add(this=offset, expression=exp.Mul(this=sql.column("digit", name), expression=sql.number(10 ** position)))
    offsets = query.select(sql.alias(offset, "day_offset"))
    day = sql.add_days(sql.column("first_date", "b"), sql.column("day_offset", "o"))
    calendar = (
        exp.select(sql.alias(day, "calendar_date"))
        .from_(exp.Subquery(this=offsets, alias=exp.TableAlias(this=exp.to_identifier("o"))))
        .join(exp.Subquery(this=exp.select("*").from_(bounds), alias=exp.TableAlias(this=exp.to_identifier("b"))),
              join_type="cross")
        .where(exp.LTE(this=sql.column("day_offset", "o"),
                       expression=_days_between(sql.column("first_date", "b"), sql.column("last_date", "b"))))
    )
    calendar.meta[CALENDAR_META_KEY] = True
    return calendar


def _days_between(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    return exp.DateDiff(this=end, expression=start, unit=sql.DAY)


def tier_name_case(rank: exp.Expr, tier_names: list[str]) -> exp.Case:
    branches = [(exp.EQ(this=rank.copy(), expression=sql.number(0)), sql.string("inactive"))]
    for index, name in enumerate(tier_names, start=1):
        branches.append((exp.EQ(this=rank.copy(), expression=sql.number(index)), sql.string(name)))
    return sql.case(*branches)


def is_complete(day: exp.Expr, window_days: int) -> exp.Expr:
    """Return whether the trailing window of `window_days` ending at `day` starts on or after the first day."""
    # The bounds relation is joined as "b" wherever this is used.
    return exp.GTE(this=sql.add_days(day, -(window_days - 1)), expression=sql.column("first_date", "b"))


def add_tier_relations(builder: PlanBuilder) -> None:
    """Add each user's tier per day, the output views of tiers and transitions."""
    from healthlayer.compiler.tier_rules import spans_supported, window_tier_ranks

    project = builder.project
    engagement = project.engagement
    assert engagement is not None
    window_days = engagement.tier_window
    if spans_supported(builder):
        _add_span_tier_relations(builder, window_days)
        return

    ranked = (
        exp.select("*")
        .from_(exp.Subquery(this=window_tier_ranks(builder, ["account"], window_days),
                            alias=exp.TableAlias(this=exp.to_identifier("w"))))
        .join(builder.table(BOUNDS).as_("b"), join_type="cross")
        .where(exp.LTE(this=sql.column("activity_date", "w"), expression=sql.column("last_date", "b")))
    )
    user_tiers = (
        exp.select(sql.column("account_id"), sql.column("user_id"), sql.column("activity_date"), sql.column("tier_rank"))
        .from_(exp.Subquery(this=ranked, alias=exp.TableAlias(this=exp.to_identifier("r"))))
        .where(exp.GT(this=sql.column("tier_rank"), expression=sql.number(0)))
    )
    builder.add(USER_TIERS, user_tiers, "internal",
                f"Each account user's tier rank per day over the trailing {window_days}-day tier window.",
                origin=ENGAGEMENT_ORIGIN)

    tier_names = project.tier_names()
    _add_tiers_view(builder, tier_names, window_days)
    _add_transitions(builder, tier_names, window_days)


def _add_tiers_view(builder: PlanBuilder, tier_names: list[str], window_days: int) -> None:
    tiers_view = (
        exp.select(
            sql.column("activity_date", "t"), sql.column("account_id", "t"), sql.column("user_id", "t"),
            sql.alias(tier_name_case(sql.column("tier_rank", "t"), tier_names), "tier"),
            sql.column("tier_rank", "t"),
            sql.alias(is_complete(sql.column("activity_date", "t"), window_days), "is_complete"),
        )
        .from_(builder.table(USER_TIERS).as_("t"))
        .join(builder.table(BOUNDS).as_("b"), join_type="cross")
    )
    builder.add(TIERS_VIEW, tiers_view, "output",
                f"Engagement tier of every user who is not inactive, per account and day ({window_days}-day window).",
                origin=ENGAGEMENT_ORIGIN, date_column="activity_date")


def _add_span_tier_relations(builder: PlanBuilder, window_days: int) -> None:
    """Add the tier relations from tier spans: days are spread from spans, transitions are span starts."""
    from healthlayer.compiler.tier_rules import offsets, tier_spans

    builder.add(TIER_SPANS, tier_spans(builder, ["account"], window_days), "internal",
                f"Spans of days over which an account user's tier rank ({window_days}-day window) stays the same.",
                origin=ENGAGEMENT_ORIGIN)
    day = sql.add_days(sql.column("start_date", "s"), sql.column("day_offset", "o"))
    user_tiers = (
        exp.select(sql.column("account_id", "s"), sql.column("user_id", "s"), sql.alias(day, "activity_date"),
                   sql.column("tier_rank", "s"))
        .from_(builder.table(TIER_SPANS).as_("s"))
        .join(offsets(window_days), join_type="cross")
        .join(builder.table(BOUNDS).as_("b"), join_type="cross")
        .where(exp.and_(exp.GT(this=sql.column("tier_rank", "s"), expression=sql.number(0)),
                        exp.LT(this=day.copy(), expression=sql.column("end_date", "s")),
                        exp.LTE(this=day.copy(), expression=sql.column("last_date", "b"))))
    )
    builder.add(USER_TIERS, user_tiers, "internal",
                f"Each account user's tier rank per day over the trailing {window_days}-day tier window.",
                origin=ENGAGEMENT_ORIGIN)

    tier_names = builder.project.tier_names()
    _add_tiers_view(builder, tier_names, window_days)
    ranks = (
        exp.select(sql.alias(sql.column("start_date", "s"), "transition_date"), sql.column("account_id", "s"),
                   sql.column("user_id", "s"), sql.alias(sql.column("previous_tier_rank", "s"), "from_rank"),
                   sql.alias(sql.column("tier_rank", "s"), "to_rank"))
        .from_(builder.table(TIER_SPANS).as_("s"))
        .join(builder.table(BOUNDS).as_("b"), join_type="cross")
        .where(exp.and_(exp.NEQ(this=sql.column("previous_tier_rank", "s"), expression=sql.column("tier_rank", "s")),
                        exp.LTE(this=sql.column("start_date", "s"), expression=sql.column("last_date", "b"))))
    )
    builder.add(TRANSITION_RANKS, ranks, "internal", "Every calendar-day change of a user's tier rank.",
                origin=ENGAGEMENT_ORIGIN)
    _add_transitions_view(builder, tier_names, window_days)


def _add_transitions(builder: PlanBuilder, tier_names: list[str], window_days: int) -> None:
    partition = [sql.column("account_id"), sql.column("user_id")]
    order = [sql.column("activity_date")]
    neighbours = exp.select(
        sql.column("account_id"), sql.column("user_id"), sql.column("activity_date"), sql.column("tier_rank"),
        sql.alias(sql.window(exp.Lag(this=sql.column("activity_date")), partition, order), "previous_date"),
        sql.alias(sql.window(exp.Lag(this=sql.column("tier_rank")), [p.copy() for p in partition], order), "previous_rank"),
        sql.alias(sql.window(exp.Lead(this=sql.column("activity_date")), [p.copy() for p in partition], order), "next_date"),
    ).from_(builder.table(USER_TIERS))
    yesterday_present = exp.EQ(this=sql.column("previous_date", "n"),
                               expression=sql.add_days(sql.column("activity_date", "n"), -1))
    from_rank = sql.case((yesterday_present, sql.column("previous_rank", "n")), default=sql.number(0))
    changes = (
        exp.select(sql.alias(sql.column("activity_date", "n"), "transition_date"), sql.column("account_id", "n"),
                   sql.column("user_id", "n"), sql.alias(from_rank, "from_rank"),
                   sql.alias(sql.column("tier_rank", "n"), "to_rank"))
        .from_(exp.to_table("neighbours").as_("n"))
    )
    next_day = sql.add_days(sql.column("activity_date", "n"), 1)
    tomorrow_missing = exp.or_(sql.is_null(sql.column("next_date", "n")),
                               exp.GT(this=sql.column("next_date", "n"), expression=next_day.copy()))
    endings = (
        exp.select(sql.alias(next_day, "transition_date"), sql.column("account_id", "n"), sql.column("user_id", "n"),
                   sql.alias(sql.column("tier_rank", "n"), "from_rank"), sql.alias(sql.number(0), "to_rank"))
        .from_(exp.to_table("neighbours").as_("n"))
        .join(builder.table(BOUNDS).as_("b"), join_type="cross")
        .where(exp.and_(tomorrow_missing, exp.LTE(this=next_day.copy(), expression=sql.column("last_date", "b"))))
    )
    # Both branches read the same neighbours, so they share one common table expression.
    ranks = (
        exp.select(*[sql.column(name) for name in ("transition_date", "account_id", "user_id", "from_rank", "to_rank")])
        .with_("neighbours", as_=neighbours)
        .from_(exp.Subquery(this=exp.union(changes, endings, distinct=False), alias=exp.TableAlias(this=exp.to_identifier("c"))))
        .where(exp.NEQ(this=sql.column("from_rank"), expression=sql.column("to_rank")))
    )
    builder.add(TRANSITION_RANKS, ranks, "internal", "Every calendar-day change of a user's tier rank.",
                origin=ENGAGEMENT_ORIGIN)

    _add_transitions_view(builder, tier_names, window_days)


def _add_transitions_view(builder: PlanBuilder, tier_names: list[str], window_days: int) -> None:
    day = sql.column("transition_date", "t")
    view = (
        exp.select(
            day, sql.column("account_id", "t"), sql.column("user_id", "t"),
            sql.alias(tier_name_case(sql.column("from_rank", "t"), tier_names), "from_tier"),
            sql.alias(tier_name_case(sql.column("to_rank", "t"), tier_names), "to_tier"),
            sql.alias(sql.case((exp.GT(this=sql.column("to_rank", "t"), expression=sql.column("from_rank", "t")),
                                sql.string("up")), default=sql.string("down")), "direction"),
            # The tier on the day before uses the window ending then, which starts window_days before this day.
            sql.alias(is_complete(day.copy(), window_days + 1), "is_complete"),
        )
        .from_(builder.table(TRANSITION_RANKS).as_("t"))
        .join(builder.table(BOUNDS).as_("b"), join_type="cross")
    )
    builder.add(TRANSITIONS_VIEW, view, "output", "Every calendar-day change of a user's engagement tier.",
                origin=ENGAGEMENT_ORIGIN, date_column="transition_date")


def _as_text(expression: exp.Expr) -> exp.Cast:
    return exp.Cast(this=expression, to=exp.DataType.build("VARCHAR"))


def tier_drop_alert(builder: PlanBuilder, name: str, rule: TierDropAlert) -> exp.Select:
    """Return the alert rows of one tier-drop rule: one per transition that matches it.

    The columns are those of the alerts view without `score`, which healthlayer.compiler.alerts adds.
    """
    project = builder.project
    tier_names = project.tier_names()
    from_rank = project.tier_rank(rule.from_tier)
    to_rank = project.tier_rank(rule.to_tier)
    day = sql.column("transition_date", "t")
    deadline = exp.DateAdd(this=exp.Cast(this=sql.add_days(day.copy(), 1), to=exp.DataType.build("TIMESTAMP")),
                           expression=sql.number(rule.respond_within), unit=exp.var("HOUR"))
    from_name = tier_name_case(sql.column("from_rank", "t"), tier_names)
    to_name = tier_name_case(sql.column("to_rank", "t"), tier_names)
    alert_id = exp.Concat(expressions=[
        sql.string(f"{name}:"), _as_text(sql.column("account_id", "t")), sql.string(":"),
        _as_text(sql.column("user_id", "t")), sql.string(":"), sql.date_text(day),
    ], safe=True)
    reason = exp.Concat(expressions=[sql.string("tier dropped from "), from_name, sql.string(" to "), to_name],
                        safe=True)
    return (
        exp.select(
            sql.alias(alert_id, "alert_id"),
            sql.alias(sql.string("tier_drop"), "alert_type"),
            sql.alias(sql.string(name), "rule"),
            sql.alias(_as_text(sql.column("account_id", "t")), "account_id"),
            sql.alias(_as_text(sql.column("user_id", "t")), "user_id"),
            sql.alias(day, "detected_date"),
            sql.alias(exp.Cast(this=deadline, to=exp.DataType.build("TIMESTAMP")), "respond_by"),
            sql.alias(reason, "reason"),
        )
        .from_(builder.table(TRANSITION_RANKS).as_("t"))
        .where(exp.and_(exp.GTE(this=sql.column("from_rank", "t"), expression=sql.number(from_rank)),
                        exp.LTE(this=sql.column("to_rank", "t"), expression=sql.number(to_rank))))
    )
