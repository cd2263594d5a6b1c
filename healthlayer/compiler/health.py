"""Health score views: component values and scores per account and day, categories, bands and coverage."""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from healthlayer.compiler import sql
from healthlayer.compiler.engagement import BOUNDS, CALENDAR, calendar_query
from healthlayer.compiler.plan import PlanBuilder, internal_name
from healthlayer.compiler.rolling import window_deltas
from healthlayer.compiler.spine import first_dates
from healthlayer.compiler.sources import local_date, source_table
from healthlayer.definitions import models
from healthlayer.definitions.project import Project
from healthlayer.definitions.references import MetricRef, resolve_attribute, resolve_metric


class _Values:
    """Collects the distinct raw values a health score needs, each as one column of the values relation."""

    def __init__(self) -> None:
        self.metrics: dict[str, str] = {}
        self.lags: dict[str, set[int]] = {}
        self.attributes: dict[str, str] = {}
        self.attribute_lags: dict[str, set[int]] = {}

    def metric(self, reference: str) -> str:
        return self.metrics.setdefault(reference, f"metric_{len(self.metrics)}")

    def lagged(self, reference: str, days: int) -> str:
        """Return the column of a metric's value `days` days earlier."""
        self.lags.setdefault(reference, set()).add(days)
        return f"{self.metric(reference)}_lag_{days}"

    def attribute(self, reference: str) -> str:
        return self.attributes.setdefault(reference, f"attribute_{len(self.attributes)}")

    def lagged_attribute(self, reference: str, days: int) -> str:
        """Return the column of an attribute history's value `days` days earlier."""
        self.attribute_lags.setdefault(reference, set()).add(days)
        return f"{self.attribute(reference)}_lag_{days}"


def _source_rows(builder: PlanBuilder, source: models.Source, kind: str, item: str,
                 filter_text: str | None, value_text: str | None, *key_path: str | int) -> exp.Query:
    """Return (account_id, activity_date, value) for the rows of a time-stamped source that pass a filter."""
    project = builder.project
    assert source.timestamp is not None
    timestamp = sql.user_column(source.timestamp)
    account = sql.user_column(source.account)
    value: exp.Expr = exp.Null()
    if value_text is not None:
        parsed = builder.expression(value_text, source, "value", kind, item, *key_path, "value")
        value = parsed if parsed is not None else exp.Null()
    condition = sql.and_(sql.not_null(account), sql.not_null(timestamp))
    if source.user is not None:
        # Rows without a user are ignored everywhere, as in the engagement views.
        condition = sql.and_(condition, sql.not_null(sql.user_column(source.user)))
    if filter_text is not None:
        parsed_filter = builder.expression(filter_text, source, "filter", kind, item, *key_path, "filter")
        if parsed_filter is not None:
            condition = sql.and_(condition, exp.Paren(this=parsed_filter))
    day = local_date(timestamp.copy(), project.time_zone, builder.timestamp_has_time_zone(source.name))
    return (
        exp.select(sql.alias(account.copy(), "account_id"), sql.alias(day, "activity_date"), sql.alias(value, "metric_value"))
        .from_(source_table(source, project.root))
        .where(condition)
    )


def _spine(builder: PlanBuilder, definition: models.HealthScore) -> tuple[str, exp.Expr]:
    """Add the population's dense spine: each account's days of the data range from its first event on.

    The data range is that of the engagement source, also for a population of another source,
    so an account whose first event is before the first day of data starts on that day. Only a
    project without engagement takes the data range from the population source.

    Returns the spine's name and a one-row relation whose `first_date` and `last_date` are the
    first and last day of data.
    """
    project = builder.project
    source = project.sources[definition.population.source]
    engagement_source = project.engagement.source if project.engagement else None
    rows = _source_rows(builder, source, "health_scores", definition.name, None, None)
    if engagement_source is not None:
        calendar: exp.Expr = builder.table(CALENDAR).as_("c")
        data_bounds: exp.Expr = builder.table(BOUNDS)
    else:
        bounds = exp.select(sql.alias(exp.Min(this=sql.column("activity_date")), "first_date"),
                            sql.alias(exp.Max(this=sql.column("activity_date")), "last_date")).from_(
            sql.subquery(rows.copy(), "r"))
        calendar = sql.subquery(calendar_query(sql.subquery(bounds, "bq")), "c")
        data_bounds = sql.subquery(bounds.copy(), "db")

    if source.name == engagement_source:
        starts = exp.select(sql.column("account_id", "r"), sql.column("first_date", "r")).from_(
            sql.subquery(first_dates(builder, ["account"]), "r"))
    else:
        starts = (
            exp.select(sql.column("account_id", "r"), sql.alias(exp.Min(this=sql.column("activity_date", "r")), "first_date"))
            .from_(sql.subquery(rows, "r"))
            .group_by(sql.column("account_id", "r"))
        )
    if definition.population.filter is not None:
        population_rows = _source_rows(builder, source, "health_scores", definition.name,
                                       definition.population.filter, None, "population")
        members = exp.select(sql.column("account_id")).distinct().from_(sql.subquery(population_rows, "p"))
        starts = starts.join(sql.subquery(members, "m"),
                             on=exp.EQ(this=sql.column("account_id", "r"), expression=sql.column("account_id", "m")))
    spine = (
        exp.select(sql.alias(sql.column("calendar_date", "c"), "as_of_date"), sql.column("account_id", "g"))
        .from_(sql.subquery(starts, "g"))
        .join(calendar, on=exp.GTE(this=sql.column("calendar_date", "c"), expression=sql.column("first_date", "g")))
    )
    name = internal_name(f"{definition.name}_accounts")
    builder.add(name, spine, "internal", f"Accounts of the health score {definition.name} and their days.",
                origin=("health_scores", definition.name))
    return name, data_bounds


def _metric_spine(builder: PlanBuilder, spine: str, every_row: exp.Query) -> exp.Query:
    """Return (account_id, as_of_date) of an account metric whose rows may precede the population spine.

    Each account's days start at the earlier of its first score day and its first metric row,
    among every row of the metric, not only those that an incremental refresh reads.
    """
    members = exp.select(sql.column("account_id")).distinct().from_(builder.table(spine))
    earliest = exp.union(
        exp.select(sql.column("account_id"), sql.alias(sql.column("as_of_date"), "activity_date")).from_(builder.table(spine)),
        exp.select(sql.column("account_id", "r"), sql.column("activity_date", "r")).from_(sql.subquery(every_row, "r"))
        .join(sql.subquery(members, "m"), on=exp.EQ(this=sql.column("account_id", "r"), expression=sql.column("account_id", "m"))),
        distinct=False,
    )
    starts = (
        exp.select(sql.column("account_id"), sql.alias(exp.Min(this=sql.column("activity_date")), "first_date"))
        .from_(sql.subquery(earliest, "e"))
        .group_by(sql.column("account_id"))
    )
    first_day = exp.select(sql.alias(exp.Min(this=sql.column("first_date")), "first_date")).from_(
        sql.subquery(starts.copy(), "st"))
    last_day = exp.select(sql.alias(exp.Max(this=sql.column("as_of_date")), "last_date")).from_(
        builder.table(spine))
    bounds = exp.select(sql.column("first_date", "fd"), sql.column("last_date", "ld")).from_(
        sql.subquery(first_day, "fd")).join(sql.subquery(last_day, "ld"), join_type="cross")
    calendar = sql.subquery(calendar_query(sql.subquery(bounds, "bq")), "c")
    return (
        exp.select(sql.column("account_id", "g"), sql.alias(sql.column("calendar_date", "c"), "as_of_date"))
        .from_(sql.subquery(starts, "g"))
        .join(calendar, on=exp.GTE(this=sql.column("calendar_date", "c"), expression=sql.column("first_date", "g")))
    )


def _add_account_metric(builder: PlanBuilder, definition: models.HealthScore, spine: str, column: str,
                        metric: models.AccountMetric, lags: set[int]) -> str:
    """Add a relation of one account metric's trailing-window value per account and day, with lagged values.

    The metric's days start at the earlier of the account's first score day and its first metric
    row, so rows before the account's first event still count in later windows.
    """
    source = builder.project.sources[metric.source]
    every_row = _source_rows(builder, source, "account_metrics", metric.name, metric.filter, metric.value)
    rows = every_row.copy()
    assert source.timestamp is not None
    timestamp = sql.user_column(source.timestamp)
    day = local_date(timestamp.copy(), builder.project.time_zone, builder.timestamp_has_time_zone(source.name))
    recent = builder.recent_rows(source.name, day, timestamp)
    if recent is not None:
        # An incremental refresh reads only the days that its recomputed days depend on.
        rows = rows.where(recent)
    engagement = builder.project.engagement
    if engagement is not None and metric.source == engagement.source == definition.population.source:
        # Rows of the engagement source never precede their account's first event, where the
        # population spine starts, so the metric has the days of the population spine.
        metric_spine: exp.Query = exp.select(sql.column("account_id"), sql.column("as_of_date")).from_(
            builder.table(spine))
    else:
        metric_spine = _metric_spine(builder, spine, every_row)

    alias = "j"
    on = exp.and_(exp.EQ(this=sql.column("account_id", "sp"), expression=sql.column("account_id", alias)),
                  exp.EQ(this=sql.column("as_of_date", "sp"), expression=sql.column("metric_date", alias)))
    partition = [sql.column("account_id", "sp")]
    order = [sql.column("as_of_date", "sp")]

    def trailing(function: type[exp.Func], name: str) -> exp.Expr:
        return sql.window(function(this=sql.column(name, alias)), [p.copy() for p in partition],
                          [o.copy() for o in order], preceding=metric.window - 1)

    if metric.aggregate == "count_distinct":
        facts = exp.select(sql.column("account_id"), sql.alias(sql.column("metric_value"), "member_key"), sql.column("activity_date")) \
            .distinct().from_(sql.subquery(rows, "r")).where(sql.not_null(sql.column("metric_value")))
        deltas = window_deltas(facts, ["account_id"], {"distinct_values": metric.window})
        daily = exp.select(sql.column("account_id"), sql.alias(sql.column("delta_date"), "metric_date"),
                           sql.column("distinct_values_delta")).from_(sql.subquery(deltas, "dd"))
        running = sql.window(exp.Sum(this=exp.Coalesce(this=sql.column("distinct_values_delta", alias),
                                                       expressions=[sql.number(0)])),
                             partition, order, frame="running")
        value: exp.Expr = sql.to_bigint(running)
    else:
        aggregates: list[exp.Expr] = [sql.alias(exp.Count(this=exp.Star()), "row_count"),
                                            sql.alias(exp.Count(this=sql.column("metric_value")), "value_count")]
        if metric.aggregate in ("sum", "avg"):
            aggregates.append(sql.alias(exp.Sum(this=sql.to_double(sql.column("metric_value"))), "value_sum"))
        if metric.aggregate in ("min", "max"):
            function = exp.Min if metric.aggregate == "min" else exp.Max
            aggregates.append(sql.alias(function(this=sql.column("metric_value")), "value_extreme"))
        daily = (
            exp.select(sql.column("account_id"), sql.alias(sql.column("activity_date"), "metric_date"), *aggregates)
            .from_(sql.subquery(rows, "r"))
            .group_by(sql.column("account_id"), sql.column("activity_date"))
        )
        if metric.aggregate == "count":
            value = sql.to_bigint(exp.Coalesce(this=trailing(exp.Sum, "row_count"), expressions=[sql.number(0)]))
        elif metric.aggregate == "sum":
            value = exp.Coalesce(this=trailing(exp.Sum, "value_sum"), expressions=[sql.to_double(sql.number(0))])
        elif metric.aggregate == "avg":
            total = trailing(exp.Sum, "value_sum")
            count = exp.Coalesce(this=trailing(exp.Sum, "value_count"), expressions=[sql.number(0)])
            value = sql.case((exp.GT(this=count, expression=sql.number(0)),
                              exp.Div(this=total, expression=sql.to_double(count.copy()))))
        else:
            function = exp.Min if metric.aggregate == "min" else exp.Max
            value = trailing(function, "value_extreme")
    values = (
        exp.select(sql.column("account_id", "sp"), sql.column("as_of_date", "sp"), sql.alias(value, "metric_value"))
        .from_(sql.subquery(metric_spine, "sp"))
        .join(sql.subquery(daily, alias), on=on, join_type="left")
    )
    lagged = [sql.alias(sql.window(exp.Lag(this=sql.column("metric_value"), offset=sql.number(days)), [sql.column("account_id")],
                                   [sql.column("as_of_date")]), f"lag_{days}") for days in sorted(lags)]
    query = exp.select(sql.column("account_id"), sql.column("as_of_date"), sql.alias(sql.column("metric_value"), column),
                       *lagged).from_(sql.subquery(values, "mv"))
    name = internal_name(f"{definition.name}_{column}")
    builder.add(name, query, "internal", f"Account metric {metric.name} of {definition.name} per account and day.",
                origin=("account_metrics", metric.name))
    return name


def _is_additive(project: Project, reference: MetricRef) -> bool:
    """Return whether a metric is a count or sum, which is 0, not NULL, over days without rows."""
    if reference.kind == "account_metrics":
        return project.account_metrics[reference.name].aggregate in ("count", "count_distinct", "sum")
    if reference.kind == "stickiness":
        return reference.column in project.stickiness[reference.name].windows
    return reference.column == "mau" or reference.column.endswith("_users")


def _zero_inside_data_range(earlier: exp.Expr, day: exp.Expr, days: int) -> exp.Expr:
    """Return a count's value `days` before `day`, 0 where no row exists but the day is inside the data range."""
    inside = exp.GTE(this=sql.add_days(day, -days), expression=sql.column("first_date", "db"))
    return exp.Coalesce(this=earlier, expressions=[sql.case((inside, sql.number(0)))])


def _view_value(column: str, alias: str, additive: bool) -> exp.Expr:
    """Return a view column of the joined row `alias`: a count is 0 where the view has no row, other values NULL."""
    value: exp.Expr = sql.column(column, alias, quoted=True)
    return exp.Coalesce(this=value, expressions=[sql.number(0)]) if additive else value


def _add_values(builder: PlanBuilder, definition: models.HealthScore, spine: str, data_bounds: exp.Expr,
                values: _Values) -> str:
    # NOTE: each account metric is a relation of its own, joined here. With DuckDB 2.0 the time to
    # read the view grows faster than the number of metrics: about 0.3 s for 10 metrics and 5 s
    # for 40, on 15 event rows (one run, 2 cores).
    project = builder.project
    bounds = data_bounds.copy()
    bounds = bounds.as_("db") if isinstance(bounds, exp.Table) else sql.subquery(bounds.this.copy(), "db")
    query = (
        exp.select(sql.column("as_of_date", "sp"), sql.column("account_id", "sp"))
        .from_(builder.table(spine).as_("sp"))
        .join(bounds, join_type="cross")
    )
    for reference, column in values.metrics.items():
        resolved = resolve_metric(project, reference)
        assert resolved is not None
        lags = values.lags.get(reference, set())
        alias = f"j_{column}"
        additive = _is_additive(project, resolved)
        if resolved.kind == "account_metrics":
            relation = _add_account_metric(builder, definition, spine, column, project.account_metrics[resolved.name], lags)
            on = exp.and_(exp.EQ(this=sql.column("account_id", "sp"), expression=sql.column("account_id", alias)),
                          exp.EQ(this=sql.column("as_of_date", "sp"), expression=sql.column("as_of_date", alias)))
            query = query.join(builder.table(relation).as_(alias), on=on, join_type="left")
            query = query.select(sql.column(column, alias))
            for days in sorted(lags):
                earlier: exp.Expr = sql.column(f"lag_{days}", alias)
                if additive:
                    earlier = _zero_inside_data_range(earlier, sql.column("as_of_date", "sp"), days)
                query = query.select(sql.alias(earlier, f"{column}_lag_{days}"))
            continue
        on = exp.and_(exp.EQ(this=sql.column("account_id", "sp"), expression=sql.column("account_id", alias)),
                      exp.EQ(this=sql.column("as_of_date", "sp"), expression=sql.column("activity_date", alias)))
        query = query.join(builder.table(resolved.name).as_(alias), on=on, join_type="left")
        engagement = project.engagement
        if engagement is not None and definition.population.source == engagement.source:
            # The view has a row for every day of the account, from its first event on like the
            # spine, so the spine's row N back is the view's row of the day N back.
            view_value: exp.Expr = sql.column(resolved.column, alias, quoted=True)
            query = query.select(sql.alias(view_value, column))
            for days in sorted(lags):
                earlier = sql.window(exp.Lag(this=view_value.copy(), offset=sql.number(days)),
                                     [sql.column("account_id", "sp")], [sql.column("as_of_date", "sp")])
                if additive:
                    earlier = _zero_inside_data_range(earlier, sql.column("as_of_date", "sp"), days)
                query = query.select(sql.alias(earlier, f"{column}_lag_{days}"))
            continue
        # The view's rows start at the account's first event of the engagement source, which can
        # be before or after its first score day. So a count without a row is 0, and an earlier
        # value is read from the view's row of that day, which is NULL before the first day of data.
        query = query.select(sql.alias(_view_value(resolved.column, alias, additive), column))
        for days in sorted(lags):
            lag_alias = f"{alias}_lag_{days}"
            lag_on = exp.and_(
                exp.EQ(this=sql.column("account_id", "sp"), expression=sql.column("account_id", lag_alias)),
                exp.EQ(this=sql.add_days(sql.column("as_of_date", "sp"), -days),
                       expression=sql.column("activity_date", lag_alias)))
            query = query.join(builder.table(resolved.name).as_(lag_alias), on=lag_on, join_type="left")
            earlier = sql.column(resolved.column, lag_alias, quoted=True)
            if additive:
                earlier = _zero_inside_data_range(earlier, sql.column("as_of_date", "sp"), days)
            query = query.select(sql.alias(earlier, f"{column}_lag_{days}"))
    for reference, column in values.attributes.items():
        resolved_attribute = resolve_attribute(project, reference)
        assert resolved_attribute is not None
        source_name, attribute = resolved_attribute
        source = project.sources[source_name]
        alias = f"j_{column}"
        if source.has_history:
            versions = _attribute_versions(builder, source, attribute)
            query = _join_version(query, versions, alias, sql.column("as_of_date", "sp"))
            query = query.select(sql.alias(sql.column("attribute_value", alias), column))
            for days in sorted(values.attribute_lags.get(reference, set())):
                lag_alias = f"{alias}_lag_{days}"
                query = _join_version(query, versions, lag_alias, sql.add_days(sql.column("as_of_date", "sp"), -days))
                query = query.select(sql.alias(sql.column("attribute_value", lag_alias), f"{column}_lag_{days}"))
            continue
        table = (
            exp.select(sql.alias(sql.user_column(source.account), "account_id"),
                       sql.alias(exp.Max(this=builder.attribute(source, attribute)), "metric_value"))
            .from_(source_table(source, project.root))
            .where(sql.not_null(sql.user_column(source.account)))
            .group_by(sql.user_column(source.account))
        )
        on = exp.EQ(this=sql.column("account_id", "sp"), expression=sql.column("account_id", alias))
        query = query.join(sql.subquery(table, alias), on=on, join_type="left")
        query = query.select(sql.alias(sql.column("metric_value", alias), column))
    name = internal_name(f"{definition.name}_values")
    builder.add(name, query, "internal", f"Raw values of the components of {definition.name} per account and day.",
                origin=("health_scores", definition.name))
    return name


def _attribute_versions(builder: PlanBuilder, source: models.Source, attribute: str) -> exp.Query:
    """Return (account_id, valid_date, next_date, attribute_value): each version of an attribute history.

    A version applies from its valid_date up to the day before next_date, the day of the account's
    next row, and next_date is NULL for the account's latest row. Rows of one account on the same
    day make one version whose value is the MAX of theirs, as an attribute snapshot does.
    """
    assert source.valid_from is not None
    account = sql.user_column(source.account)
    valid_from = sql.user_column(source.valid_from)
    if source.valid_from_type == "date":
        day: exp.Expr = exp.Cast(this=valid_from.copy(), to=exp.DataType.build("DATE"))
    else:
        day = local_date(valid_from.copy(), builder.project.time_zone, source.valid_from_type == "timestamptz")
    rows = (
        exp.select(sql.alias(account.copy(), "account_id"), sql.alias(day, "valid_date"),
                   sql.alias(builder.attribute(source, attribute), "attribute_value"))
        .from_(source_table(source, builder.project.root))
        .where(sql.and_(sql.not_null(account), sql.not_null(valid_from)))
    )
    daily = (
        exp.select(sql.column("account_id"), sql.column("valid_date"),
                   sql.alias(exp.Max(this=sql.column("attribute_value")), "attribute_value"))
        .from_(sql.subquery(rows, "r"))
        .group_by(sql.column("account_id"), sql.column("valid_date"))
    )
    next_date = sql.window(exp.Lead(this=sql.column("valid_date")), [sql.column("account_id")], [sql.column("valid_date")])
    return exp.select(sql.column("account_id"), sql.column("valid_date"), sql.alias(next_date, "next_date"),
                      sql.column("attribute_value")).from_(sql.subquery(daily, "d"))


def _join_version(query: exp.Select, versions: exp.Query, alias: str, day: exp.Expr) -> exp.Select:
    """Left-join the version of an attribute history that applies on `day` to the spine's account."""
    next_date = sql.column("next_date", alias)
    on = exp.and_(
        exp.EQ(this=sql.column("account_id", "sp"), expression=sql.column("account_id", alias)),
        exp.LTE(this=sql.column("valid_date", alias), expression=day.copy()),
        exp.or_(sql.is_null(next_date), exp.GT(this=next_date.copy(), expression=day.copy())),
    )
    return query.join(sql.subquery(versions.copy(), alias), on=on, join_type="left")


def _raw_value(component: models.Component, values: _Values) -> exp.Expr:
    if component.metric is not None:
        return sql.column(values.metric(component.metric), "v")
    if component.attribute is not None:
        return sql.column(values.attribute(component.attribute), "v")
    trend = component.trend
    assert trend is not None
    if trend.metric is not None:
        current = sql.to_double(sql.column(values.metric(trend.metric), "v"))
        earlier = sql.column(values.lagged(trend.metric, trend.days), "v")
    else:
        assert trend.attribute is not None
        current = sql.to_double(sql.column(values.attribute(trend.attribute), "v"))
        earlier = sql.column(values.lagged_attribute(trend.attribute, trend.days), "v")
    change = exp.Paren(this=exp.Sub(this=current, expression=sql.to_double(earlier)))
    if trend.change == "difference":
        return change
    return sql.case((exp.NEQ(this=earlier.copy(), expression=sql.number(0)),
                     exp.Div(this=change.copy(), expression=sql.to_double(exp.Abs(this=earlier.copy())))))


def _segment(component: models.Component) -> str | None:
    """Return the attribute whose value groups the accounts that a percentile component ranks, if any."""
    return component.score.within if isinstance(component.score, models.Percentile) else None


def _score(function: models.Linear | models.Steps | models.Percentile, raw: exp.Expr,
           segment: exp.Expr | None = None) -> exp.Expr:
    """Return the 0-100 score of a raw value; a percentile ranks within `segment`'s values when given."""
    value = sql.to_double(raw)
    if isinstance(function, models.Linear):
        offset = exp.Paren(this=exp.Sub(this=value, expression=sql.number(float(function.lower))))
        scaled: exp.Expr = exp.Div(this=exp.Mul(this=offset, expression=sql.number(100.0)),
                                         expression=sql.number(float(function.upper - function.lower)))
        if not function.higher_is_better:
            scaled = exp.Sub(this=sql.number(100.0), expression=exp.Paren(this=scaled))
        return sql.clamp_score(exp.Paren(this=scaled))
    if isinstance(function, models.Steps):
        branches: list[tuple[exp.Expr, exp.Expr]] = [(sql.is_null(value), exp.Null())]
        for step in reversed(function.steps):
            branches.append((exp.GTE(this=value.copy(), expression=sql.number(float(step.min))),
                             sql.to_double(sql.number(float(step.score)))))
        return sql.case(*branches, default=sql.to_double(sql.number(0)))
    present = sql.case((sql.is_null(raw), sql.number(1)), default=sql.number(0))
    groups: list[exp.Expr] = [sql.column("as_of_date")] + ([segment] if segment is not None else [])
    count = sql.window(exp.Count(this=raw.copy()), [group.copy() for group in groups])
    rank = sql.window(exp.Rank(), [*[group.copy() for group in groups], present], [raw.copy()])
    percent: exp.Expr = exp.Div(this=exp.Mul(this=sql.to_double(exp.Sub(this=rank, expression=sql.number(1))),
                                   expression=sql.number(100.0)),
                      expression=sql.to_double(exp.Sub(this=count, expression=sql.number(1))))
    if not function.higher_is_better:
        percent = exp.Sub(this=sql.number(100.0), expression=exp.Paren(this=percent))
    return sql.case((sql.is_null(raw), exp.Null()),
                    (exp.EQ(this=count.copy(), expression=sql.number(1)), sql.to_double(sql.number(50.0))),
                    default=percent)


def _apply_missing(policy: models.MissingPolicy, value: exp.Expr) -> exp.Expr:
    if policy == "renormalize":
        return value
    fill = 0.0 if policy == "zero" else float(policy.impute)  # type: ignore[union-attr]
    return exp.Coalesce(this=value, expressions=[sql.to_double(sql.number(fill))])


def _sum(terms: Sequence[exp.Expr]) -> exp.Expr:
    total = terms[0]
    for term in terms[1:]:
        total = exp.Add(this=total, expression=term)
    return total


def _component_total(category: models.Category) -> float:
    return float(sum(component.weight for component in category.components))


def _scored_weight(category: models.Category, i: int, alias: str = "c") -> exp.Expr:
    """Return the summed weight of a category's components that have a score after their missing policy."""
    return _sum([sql.case((sql.not_null(sql.column(f"score_{i}_{j}", alias)), sql.number(float(component.weight))),
                          default=sql.number(0.0)) for j, component in enumerate(category.components)])


def _category_score(category: models.Category, i: int) -> tuple[exp.Expr, exp.Expr]:
    """Return a category's score from the components relation (alias c) and the weight of its components with data.

    The score is NULL when no component has a raw value, whatever the components' missing policies.
    """
    weighted = [exp.Coalesce(this=exp.Mul(this=sql.number(float(component.weight)),
                                          expression=sql.column(f"score_{i}_{j}", "c")),
                             expressions=[sql.to_double(sql.number(0))])
                for j, component in enumerate(category.components)]
    data_weight = _sum([sql.case((sql.not_null(sql.column(f"raw_{i}_{j}", "c")), sql.number(float(component.weight))),
                                 default=sql.number(0.0)) for j, component in enumerate(category.components)])
    score = sql.case(
        (exp.EQ(this=exp.Paren(this=data_weight), expression=sql.number(0.0)), exp.Null()),
        default=exp.Div(this=exp.Paren(this=_sum(weighted)), expression=exp.Paren(this=_scored_weight(category, i))))
    return score, data_weight.copy()


def _category_weight(definition: models.HealthScore, category: models.Category) -> exp.Expr:
    """Return a category's weight: its own, or that of the account's segment where segment_weights has one."""
    default = sql.number(float(category.weight))
    if not definition.segment_weights:
        return default
    branches = [(exp.EQ(this=sql.column("segment_value", "s"), expression=sql.string(value)),
                 sql.number(float(weights[category.name])))
                for value, weights in definition.segment_weights.items()]
    return sql.case(*branches, default=default)


def add_health_score(builder: PlanBuilder, definition: models.HealthScore) -> None:
    values = _Values()
    for category in definition.categories:
        for component in category.components:
            _raw_value(component, values)
            if (segment := _segment(component)) is not None:
                values.attribute(segment)
    if definition.segment is not None:
        values.attribute(definition.segment)
    spine, data_bounds = _spine(builder, definition)
    values_relation = _add_values(builder, definition, spine, data_bounds, values)

    # Step 1: raw value and score of every component.
    raw_selects: list[exp.Expr] = [sql.column("as_of_date", "v"), sql.column("account_id", "v")]
    for i, category in enumerate(definition.categories):
        for j, component in enumerate(category.components):
            raw_selects.append(sql.alias(_raw_value(component, values), f"raw_{i}_{j}"))
            if (segment := _segment(component)) is not None:
                raw_selects.append(sql.alias(sql.column(values.attribute(segment), "v"), f"segment_{i}_{j}"))
    if definition.segment is not None:
        segment_text = exp.Cast(this=sql.column(values.attribute(definition.segment), "v"),
                                to=exp.DataType.build("VARCHAR"))
        raw_selects.append(sql.alias(segment_text, "segment_value"))
    raws = exp.select(*raw_selects).from_(builder.table(values_relation).as_("v"))
    score_selects: list[exp.Expr] = [sql.column("as_of_date"), sql.column("account_id")]
    if definition.segment is not None:
        score_selects.append(sql.column("segment_value"))
    for i, category in enumerate(definition.categories):
        for j, component in enumerate(category.components):
            raw = sql.column(f"raw_{i}_{j}")
            score_selects.append(raw.copy())
            segment_column = sql.column(f"segment_{i}_{j}") if _segment(component) is not None else None
            score_selects.append(sql.alias(_apply_missing(component.missing, _score(component.score, raw, segment_column)),
                                           f"score_{i}_{j}"))
    components_name = internal_name(f"{definition.name}_components")
    builder.add(components_name, exp.select(*score_selects).from_(sql.subquery(raws, "r")), "internal",
                f"Raw value and 0-100 score of every component of {definition.name} per account and day.",
                origin=("health_scores", definition.name))

    # Step 2: category scores and coverage, then the weighted score and its band.
    category_selects: list[exp.Expr] = [sql.column("as_of_date", "c"), sql.column("account_id", "c")]
    if definition.segment is not None:
        category_selects.append(sql.column("segment_value", "c"))
    for i, category in enumerate(definition.categories):
        score, data_weight = _category_score(category, i)
        category_selects.append(sql.alias(score, f"category_{i}"))
        category_selects.append(sql.alias(exp.Div(this=exp.Paren(this=sql.to_double(data_weight)),
                                                  expression=sql.number(float(_component_total(category)))),
                                          f"coverage_{i}"))
    categories = exp.select(*category_selects).from_(builder.table(components_name).as_("c"))

    category_weights = [_category_weight(definition, category) for category in definition.categories]
    total_weight = _sum([weight.copy() for weight in category_weights])
    effective = [_apply_missing(category.missing or definition.missing, sql.column(f"category_{i}", "s"))
                 for i, category in enumerate(definition.categories)]
    weighted = [exp.Coalesce(this=exp.Mul(this=category_weights[i].copy(), expression=effective[i].copy()),
                             expressions=[sql.to_double(sql.number(0))]) for i in range(len(definition.categories))]
    scored_weight = [sql.case((sql.not_null(effective[i].copy()), category_weights[i].copy()),
                              default=sql.number(0.0)) for i in range(len(definition.categories))]
    if definition.segment_weights:
        coverage: exp.Expr = exp.Div(
            this=exp.Paren(this=_sum([exp.Mul(this=category_weights[i].copy(), expression=sql.column(f"coverage_{i}", "s"))
                                      for i in range(len(definition.categories))])),
            expression=exp.Paren(this=total_weight))
    else:
        fixed_total = float(sum(category.weight for category in definition.categories))
        coverage = _sum([exp.Mul(this=sql.number(category.weight / fixed_total), expression=sql.column(f"coverage_{i}", "s"))
                         for i, category in enumerate(definition.categories)])
    health = sql.case(
        (exp.EQ(this=sql.column("coverage", "h"), expression=sql.number(0.0)), exp.Null()),
        (exp.EQ(this=sql.column("scored_weight", "h"), expression=sql.number(0.0)), exp.Null()),
        default=exp.Div(this=sql.column("weighted_sum", "h"), expression=sql.column("scored_weight", "h")))
    # A score with segments shows each account's segment of the day, which selects its weights.
    has_segment = definition.segment is not None
    totals = exp.select(
        sql.column("as_of_date", "s"), sql.column("account_id", "s"),
        *[sql.alias(sql.column(f"category_{i}", "s"), f"category_{i}") for i in range(len(definition.categories))],
        sql.alias(exp.Paren(this=_sum(weighted)), "weighted_sum"),
        sql.alias(exp.Paren(this=_sum(scored_weight)), "scored_weight"),
        sql.alias(sql.to_double(exp.Paren(this=coverage)), "coverage"),
        *([sql.alias(sql.column("segment_value", "s"), "segment")] if has_segment else []),
    ).from_(sql.subquery(categories, "s"))

    bands = sorted(definition.bands, key=lambda band: band.min, reverse=True)
    band_branches: list[tuple[exp.Expr, exp.Expr]] = [(sql.is_null(sql.column("health_score")), exp.Null())]
    for band in bands[:-1]:
        band_branches.append((exp.GTE(this=sql.column("health_score"), expression=sql.number(float(band.min))),
                              sql.string(band.name)))
    band_name = sql.case(*band_branches, default=sql.string(bands[-1].name))
    scored = exp.select(
        sql.column("as_of_date", "h"), sql.column("account_id", "h"),
        *[sql.alias(sql.column(f"category_{i}", "h"), f"{category.name}_score", quoted=True)
          for i, category in enumerate(definition.categories)],
        sql.alias(health, "health_score"),
        sql.column("coverage", "h"),
        *([sql.column("segment", "h")] if has_segment else []),
    ).from_(sql.subquery(totals, "h"))
    view = exp.select(
        sql.column("as_of_date"), sql.column("account_id"),
        *[sql.column(f"{category.name}_score", quoted=True) for category in definition.categories],
        sql.column("health_score"), sql.alias(band_name, "band"), sql.column("coverage"),
        *([sql.column("segment")] if has_segment else []),
    ).from_(sql.subquery(scored, "t"))
    names = ", ".join(f"{category.name} {category.weight:g}" for category in definition.categories)
    builder.add(definition.name, view, "output",
                f"Account health score 0-100 per day from weighted categories ({names}), with band and coverage.",
                origin=("health_scores", definition.name), date_column="as_of_date", bounds=data_bounds)
    _add_explanations(builder, definition, components_name, data_bounds)


EXPLANATION_DAYS = 7
"""Days back to which the explanations view compares each contribution."""


def explanations_name(definition: models.HealthScore) -> str:
    return f"{definition.name}_explanations"


def _weakest_category(definition: models.HealthScore, scores: Sequence[exp.Expr]) -> exp.Expr:
    """Return the name of the category with the lowest non-NULL score, the first declared among equal scores."""
    branches = []
    for i, category in enumerate(definition.categories):
        others = [exp.or_(sql.is_null(scores[k].copy()), exp.LTE(this=scores[i].copy(), expression=scores[k].copy()))
                  for k in range(len(definition.categories)) if k != i]
        branches.append((exp.and_(sql.not_null(scores[i].copy()), *others), sql.string(category.name)))
    return sql.case(*branches)


def _add_explanations(builder: PlanBuilder, definition: models.HealthScore, components_name: str,
                      data_bounds: exp.Expr) -> None:
    """Add the explanations view: one row per component, account and day with its share of the health score.

    A component's weight is the share of the health score, in points of 100, that its score
    carries after both levels of missing policies. Its contribution is that weight times its
    score. The contributions of an account's day thus add up to its health score. A category
    scored by its missing policy spreads that score over its components by their weights.
    """
    categories = definition.categories
    pairs = [(i, j) for i, category in enumerate(categories) for j in range(len(category.components))]

    # Step 1: per account and day, the category scores, the weight of each category's scored
    # components, and whether any component has data.
    selects: list[exp.Expr] = [sql.column("as_of_date", "c"), sql.column("account_id", "c")]
    if definition.segment is not None:
        selects.append(sql.column("segment_value", "c"))
    for i, category in enumerate(categories):
        selects += [sql.alias(_category_score(category, i)[0], f"category_{i}"),
                    sql.alias(_scored_weight(category, i), f"scored_{i}")]
    selects += [sql.column(f"{prefix}_{i}_{j}", "c") for i, j in pairs for prefix in ("raw", "score")]
    any_raw = exp.or_(*[sql.not_null(sql.column(f"raw_{i}_{j}", "c")) for i, j in pairs])
    selects.append(sql.alias(sql.case((any_raw, sql.number(1)), default=sql.number(0)), "has_data"))
    scores = exp.select(*selects).from_(builder.table(components_name).as_("c"))

    # Step 2: each category's score after its missing policy, and its weight for the account.
    passed = ["as_of_date", "account_id", "has_data"] + [f"{prefix}_{i}" for i in range(len(categories))
                                                         for prefix in ("category", "scored")]
    passed += [f"{prefix}_{i}_{j}" for i, j in pairs for prefix in ("raw", "score")]
    selects = [sql.column(name, "s") for name in passed]
    for i, category in enumerate(categories):
        selects += [sql.alias(_apply_missing(category.missing or definition.missing, sql.column(f"category_{i}", "s")),
                              f"effective_{i}"),
                    sql.alias(sql.to_double(_category_weight(definition, category)), f"category_weight_{i}")]
    policies = exp.select(*selects).from_(sql.subquery(scores, "s"))

    # Step 3: each component's weight in the score and the score it carries. In a category with
    # data, the components with a score share the category's weight. In a category scored by its
    # missing policy, all components share it and carry the category's score. The weights are
    # doubles, because Spark divides decimal literals to a fixed scale (100 / 6 = 16.6666667).
    effective: list[exp.Expr] = [sql.column(f"effective_{i}", "t") for i in range(len(categories))]
    counted_total = exp.Paren(this=_sum([sql.case((sql.not_null(effective[i].copy()), sql.column(f"category_weight_{i}", "t")),
                                                  default=sql.number(0.0)) for i in range(len(categories))]))
    selects = [sql.column("as_of_date", "t"), sql.column("account_id", "t"),
               sql.alias(_weakest_category(definition, [sql.column(f"category_{i}", "t") for i in range(len(categories))]),
                         "weakest_category")]
    for i, j in pairs:
        category, component = categories[i], categories[i].components[j]
        category_value = sql.column(f"category_{i}", "t")
        component_score = sql.column(f"score_{i}_{j}", "t")
        category_share = sql.case((sql.not_null(effective[i].copy()),
                                   exp.Div(this=sql.column(f"category_weight_{i}", "t"), expression=counted_total.copy())),
                                  default=sql.number(0.0))
        component_share = sql.case(
            (sql.not_null(category_value.copy()),
             sql.case((sql.not_null(component_score.copy()),
                       exp.Div(this=sql.to_double(sql.number(float(component.weight))),
                               expression=sql.to_double(sql.column(f"scored_{i}", "t")))),
                      default=sql.number(0.0))),
            (sql.not_null(effective[i].copy()), sql.to_double(sql.number(component.weight / _component_total(category)))),
            default=sql.number(0.0))
        weight = sql.case(
            (exp.and_(exp.EQ(this=sql.column("has_data", "t"), expression=sql.number(1)),
                      exp.GT(this=counted_total.copy(), expression=sql.number(0.0))),
             exp.Mul(this=exp.Mul(this=sql.to_double(sql.number(100.0)), expression=category_share),
                     expression=component_share)))
        selects += [
            sql.alias(category_value.copy(), f"category_{i}_{j}"),
            sql.alias(sql.to_double(sql.column(f"raw_{i}_{j}", "t")), f"raw_{i}_{j}"),
            sql.alias(sql.case((sql.not_null(category_value.copy()), component_score.copy())), f"score_{i}_{j}"),
            sql.alias(weight, f"weight_{i}_{j}"),
            sql.alias(sql.to_double(sql.case((sql.not_null(category_value.copy()), component_score.copy()),
                                             default=effective[i].copy())), f"value_{i}_{j}"),
        ]
    parts = exp.select(*selects).from_(sql.subquery(policies, "t"))

    # Step 4: one row per component, whose columns a cross join with the components' indexes picks.
    indexes = sql.union_all([exp.select(sql.alias(sql.number(n), "component_index")) for n in range(len(pairs))])
    index = sql.column("component_index", "k")

    def pick(column: str | None = None, texts: list[str] | None = None) -> exp.Expr:
        values = [sql.string(text) for text in texts] if texts is not None else \
            [sql.column(f"{column}_{i}_{j}", "p") for i, j in pairs]
        return exp.Case(this=index.copy(), ifs=[exp.If(this=sql.number(n), true=value) for n, value in enumerate(values)])

    long = exp.select(
        sql.column("as_of_date", "p"), sql.column("account_id", "p"), index.copy(),
        sql.alias(pick(texts=[categories[i].name for i, _ in pairs]), "category"),
        sql.alias(pick(texts=[categories[i].components[j].name for i, j in pairs]), "component"),
        sql.alias(pick("raw"), "raw_value"), sql.alias(pick("score"), "score"), sql.alias(pick("weight"), "weight"),
        sql.alias(pick("value"), "carried"), sql.alias(pick("category"), "category_score"),
        sql.column("weakest_category", "p"),
    ).from_(sql.subquery(parts, "p")).join(sql.subquery(indexes, "k"), join_type="cross")
    weight_column = sql.column("weight", "l")
    contribution = sql.case(
        (sql.is_null(weight_column), exp.Null()),
        (exp.EQ(this=weight_column.copy(), expression=sql.number(0.0)), sql.to_double(sql.number(0.0))),
        default=exp.Div(this=exp.Mul(this=weight_column.copy(), expression=sql.column("carried", "l")),
                        expression=sql.number(100.0)))
    contributions = exp.select(
        *[sql.column(name, "l") for name in ("as_of_date", "account_id", "component_index", "category", "component",
                                             "raw_value", "score", "weight")],
        sql.alias(contribution, "contribution"), sql.column("category_score", "l"), sql.column("weakest_category", "l"),
    ).from_(sql.subquery(long, "l"))

    # The account's days are consecutive, so the row EXPLANATION_DAYS back is that many days earlier.
    earlier = sql.window(exp.Lag(this=sql.column("contribution"), offset=sql.number(EXPLANATION_DAYS)),
                         [sql.column("account_id"), sql.column("component_index")], [sql.column("as_of_date")])
    view = exp.select(
        sql.column("as_of_date"), sql.column("account_id"), sql.column("category"), sql.column("component"),
        sql.column("raw_value"), sql.column("score"), sql.column("weight"), sql.column("contribution"),
        sql.alias(exp.Sub(this=sql.column("contribution"), expression=earlier), f"contribution_change_{EXPLANATION_DAYS}d"),
        sql.column("category_score"), sql.column("weakest_category"),
    ).from_(sql.subquery(contributions, "x"))
    builder.add(explanations_name(definition), view, "output",
                f"Components of {definition.name} per account and day: raw value, score, weight, contribution "
                f"and its change over {EXPLANATION_DAYS} days, with the weakest category.",
                origin=("health_scores", definition.name), date_column="as_of_date", bounds=data_bounds)
