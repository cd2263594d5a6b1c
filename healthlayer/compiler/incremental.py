"""The history of an incremental refresh: the days before the recomputed ones that each source's rows reach.

A refresh recomputes the days from a first day to the last day of data. Every value on those days
reads a bounded stretch of earlier days: trailing windows, the tier window, the day before for a
transition, and the earlier value of a trend. The refresh plan reads only those days of each
source for its heavy work, and the full history only for each group's first day and the data range.
"""

from __future__ import annotations

import datetime

from healthlayer.compiler.plan import Plan, build_plan
from healthlayer.definitions import models
from healthlayer.definitions.project import Project


def history_days(project: Project) -> dict[str, int]:
    """Return, per source, how many days before a recomputed day its values can read.

    The figures are upper bounds: the windows of the engagement views are taken together, and a
    trend adds its days to the source of the metric it follows (the engagement source for a
    stickiness or tier-mix column).
    """
    days: dict[str, int] = {}
    engagement = project.engagement
    if engagement is not None:
        tier_window = engagement.tier_window
        # A transition compares the tier windows ending on the day and on the day before.
        spans = [tier_window + 1]
        spans += [max(definition.windows.values()) for definition in project.stickiness.values()]
        spans += [definition.window + tier_window for definition in project.tier_mix.values()]
        days[engagement.source] = max(spans)
    for metric in project.account_metrics.values():
        days[metric.source] = max(days.get(metric.source, 0), metric.window)
    trends: dict[str, int] = {}
    for score in project.health_scores.values():
        for category in score.categories:
            for component in category.components:
                if component.trend is None or component.trend.metric is None:
                    # A trend of an attribute reads the whole attribute source, which a refresh never limits.
                    continue
                followed = project.account_metrics.get(component.trend.metric)
                # A trend that follows a stickiness or tier-mix column reads the engagement source.
                source = engagement.source if engagement is not None else None
                if followed is not None:
                    source = followed.source
                if source is not None:
                    trends[source] = max(trends.get(source, 0), component.trend.days)
    result = {source: span + trends.get(source, 0) + 1 for source, span in days.items()}
    return _with_alert_history(project, result)


def _with_alert_history(project: Project, days: dict[str, int]) -> dict[str, int]:
    """Add the days before a recomputed day that the account alerts read.

    A score drop compares the day's score with the `days` before it, and whether it held the day
    before, so health scores must be exact that many days earlier: every source gets those days
    on top. A stale-data alert reads its source's days up to `silent_for` plus `lookback` back.
    """
    reach = 0
    for rule in project.alerts.values():
        if isinstance(rule, models.ScoreDropAlert):
            reach = max(reach, rule.days + 1)
        elif isinstance(rule, models.BandChangeAlert):
            reach = max(reach, 1)
    result = {source: span + reach for source, span in days.items()}
    for rule in project.alerts.values():
        if isinstance(rule, models.StaleDataAlert):
            source = rule.source or (project.engagement.source if project.engagement is not None else None)
            if source is not None:
                result[source] = max(result.get(source, 0), rule.silent_for + rule.lookback + 1)
    return result


def build_refresh_plan(project: Project, schema: str, refresh_from: datetime.date,
                       timestamp_types: dict[str, bool] | None = None,
                       data_range: tuple[datetime.date, datetime.date] | None = None) -> Plan:
    """Build the plan whose relations are exact from `refresh_from` on, reading only the history they need.

    `data_range`, the first and last day of data of the engagement source, saves each query of
    the plan from reading the whole history for it.
    """
    return build_plan(project, schema, timestamp_types, refresh_from=refresh_from,
                      history_days=history_days(project), data_range=data_range)
