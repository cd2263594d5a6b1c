"""All views of a project, computed from its definitions and the rows of its sources.

`definitions` mirrors the merged YAML of a project: `time_zone` and the top-level keys of the
definition files (`sources`, `engagement`, `stickiness`, `tier_mix`, `alerts`,
`account_metrics`, `health_scores`), with library items already merged in.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from . import alerts as alerts_module
from . import stickiness as stickiness_module
from . import tier_mix as tier_mix_module
from .account_metrics import AccountMetric, account_metrics_daily
from .durations import parse_window_days
from .events import Event, Tier, data_range, load_events, local_day, parse_tiers
from .expressions import compile_expression
from .health import (
    EXPLANATION_COLUMNS,
    ScoredDay,
    explanations_view,
    health_view,
    population_accounts,
    scored_days,
    source_day_range,
    trend_value,
)
from .health import view_columns as health_columns
from .tiers import (
    TIERS_DAILY_COLUMNS,
    TRANSITION_COLUMNS,
    engagement_tiers_daily,
    tier_drop_alerts,
    tier_transitions,
)

Rows = list[dict[str, Any]]


class ReferenceProject:
    """The reference results of one project. Each view is computed on first use."""

    trend_base_before_first_event = "definition"
    """How a trend reads its base day d−N when that day is before the account's first event.

    "definition" evaluates the metric there by its definition, so a count or sum is 0 over a
    window without rows. "null" treats the base value as missing, so the trend is NULL.
    """

    def __init__(self, definitions: Mapping[str, Any], source_rows: Mapping[str, Rows]):
        self.definitions = definitions
        self.source_rows = source_rows
        self.time_zone = definitions.get("time_zone", "UTC")
        self.sources = {source["name"]: source for source in definitions.get("sources", [])}
        engagement = definitions.get("engagement")
        # The engagement source, whose events set the data range; None in a project without engagement.
        self.engagement_source: str | None = engagement["source"] if engagement else None
        self.tiers: list[Tier] = parse_tiers(engagement) if engagement else []
        self.tier_window = parse_window_days(engagement.get("tier_window", 7)) if engagement else 0
        self.events: list[Event] = []
        if engagement:
            self.events = load_events(
                source_rows[engagement["source"]], self.sources[engagement["source"]], self.tiers, self.time_zone
            )
        self.day_range = data_range(self.events)
        self._views: dict[str, Rows] = {}
        self._metrics: dict[str, AccountMetric] | None = None
        self._scored: dict[str, list[ScoredDay]] = {}

    def view_names(self) -> list[str]:
        """Return the names of every view the definitions produce, except engine-specific ones."""
        names = [definition["name"] for definition in self.definitions.get("stickiness", [])]
        if self.engagement_source is not None:
            names += ["engagement_tiers_daily", "tier_transitions"]
        names += [definition["name"] for definition in self.definitions.get("tier_mix", [])]
        if self.definitions.get("alerts"):
            # NOTE: a project without alert rules is read as having no `alerts` view at all.
            names += ["alerts"]
        for definition in self.definitions.get("health_scores", []):
            names += [definition["name"], f"{definition['name']}_explanations"]
        return names

    def view_columns(self, name: str) -> list[str]:
        """Return the columns of one view in order, as docs/definitions.md lists them."""
        fixed = {
            "engagement_tiers_daily": TIERS_DAILY_COLUMNS,
            "tier_transitions": TRANSITION_COLUMNS,
            "alerts": alerts_module.ALERT_COLUMNS,
        }
        if name in fixed:
            return fixed[name]
        for definition in self.definitions.get("stickiness", []):
            if definition["name"] == name:
                return stickiness_module.view_columns(definition)
        for definition in self.definitions.get("tier_mix", []):
            if definition["name"] == name:
                return tier_mix_module.view_columns(definition, self.tiers)
        for definition in self.definitions.get("health_scores", []):
            if definition["name"] == name:
                return health_columns(definition)
            if f"{definition['name']}_explanations" == name:
                return EXPLANATION_COLUMNS
        raise KeyError(f"view {name!r} not found in the definitions: the views are {self.view_names()}")

    def view(self, name: str) -> Rows:
        """Return the rows of one view."""
        if name not in self._views:
            self._views[name] = self._compute(name)
        return self._views[name]

    def _compute(self, name: str) -> Rows:
        if name == "engagement_tiers_daily":
            return engagement_tiers_daily(self.events, self.tiers, self.tier_window, self.day_range)
        if name == "tier_transitions":
            return tier_transitions(self.events, self.tiers, self.tier_window, self.day_range)
        if name == "alerts":
            return self._alerts()
        if name == "account_metrics_daily":
            return account_metrics_daily(list(self.account_metrics().values()), self.day_range)
        for definition in self.definitions.get("stickiness", []):
            if definition["name"] == name:
                return stickiness_module.stickiness_view(self.events, definition, self.tiers, self.day_range)
        for definition in self.definitions.get("tier_mix", []):
            if definition["name"] == name:
                return tier_mix_module.tier_mix_view(self.events, definition, self.tiers, self.day_range)
        for definition in self.definitions.get("health_scores", []):
            if definition["name"] == name:
                return health_view(definition, self._scored_days(definition))
            if f"{definition['name']}_explanations" == name:
                return explanations_view(definition, self._scored_days(definition))
        raise KeyError(f"view {name!r} not found in the definitions: the views are {self.view_names()}")

    def _alerts(self) -> Rows:
        """Return the rows of every alert rule, in the order of the rules."""
        rules = self.definitions.get("alerts", [])
        rows = tier_drop_alerts(self.view("tier_transitions"), rules, self.tiers)
        scores = {definition["name"]: definition for definition in self.definitions.get("health_scores", [])}
        for rule in rules:
            if rule["type"] == "band_change":
                rows += alerts_module.band_change_alerts(self.view(rule["score"]), rule, scores[rule["score"]])
            elif rule["type"] == "score_drop":
                rows += alerts_module.score_drop_alerts(self.view(rule["score"]), rule)
            elif rule["type"] == "red_review":
                rows += alerts_module.red_review_alerts(self.view(rule["score"]), rule, scores[rule["score"]])
            elif rule["type"] == "stale_data":
                rows += self._stale_data_alerts(rule)
        return rows

    def _stale_data_alerts(self, rule: Mapping[str, Any]) -> Rows:
        """Return the rows of a stale-data rule; its last day is its source's, or the data range's for the engagement source."""
        source_name = rule.get("source") or self.engagement_source
        days = alerts_module.active_days(self.source_rows[source_name], self.sources[source_name], self.time_zone)
        if source_name == self.engagement_source:
            last_day = self.day_range[1] if self.day_range else None
        else:
            last_day = max((max(account_days) for account_days in days.values()), default=None)
        return alerts_module.stale_data_alerts(days, last_day, rule)

    def account_metrics(self) -> dict[str, AccountMetric]:
        """Return the account metrics by name."""
        if self._metrics is None:
            self._metrics = {
                definition["name"]: AccountMetric(
                    definition,
                    self.sources[definition["source"]],
                    self.source_rows[definition["source"]],
                    self.time_zone,
                )
                for definition in self.definitions.get("account_metrics", [])
            }
        return self._metrics

    def _scored_days(self, definition: Mapping[str, Any]) -> list[ScoredDay]:
        """Return the scored account days of a health score, computed once for its two views."""
        if definition["name"] not in self._scored:
            self._scored[definition["name"]] = self._score_days(definition)
        return self._scored[definition["name"]]

    def score_day_range(self, definition: Mapping[str, Any]) -> tuple[int, int] | None:
        """Return the first and last day of data of a health score, as ordinals.

        It is the data range of the engagement source, whatever the population source. In a
        project without engagement, it is the range of the days of the population source's rows
        that have an account and a timestamp (and a user, when the source declares one).
        """
        if self.engagement_source is not None:
            return self.day_range
        source_name = definition["population"]["source"]
        return source_day_range(self.sources[source_name], self.source_rows[source_name], self.time_zone)

    def _score_days(self, definition: Mapping[str, Any]) -> list[ScoredDay]:
        source_name = definition["population"]["source"]
        accounts = population_accounts(
            definition, self.sources[source_name], self.source_rows[source_name], self.time_zone
        )
        day_range = self.score_day_range(definition)
        raw_values = {
            (category["name"], component["name"]): self._raw_value(component, accounts, day_range)
            for category in definition["categories"]
            for component in category["components"]
        }
        segments = {
            (category["name"], component["name"]): self._attribute_reader(component["score"]["within"])
            for category in definition["categories"]
            for component in category["components"]
            if component["score"].get("within")
        }
        segment = self._attribute_reader(definition["segment"]) if definition.get("segment") else None
        return list(scored_days(definition, accounts, raw_values, day_range, segments, segment))

    def _raw_value(self, component: Mapping[str, Any], first_days: Mapping[Any, int],
                   day_range: tuple[int, int] | None) -> Callable[[Any, int], Any]:
        """Return the raw-value function of a health component.

        `first_days` maps accounts to their first event day, and `day_range` is the score's data range.
        """
        if "metric" in component:
            return self._metric_reader(component["metric"], day_range)
        if "attribute" in component:
            return self._attribute_reader(component["attribute"])
        trend = component["trend"]
        days = int(trend["days"])
        change = trend.get("change", "difference")
        if "attribute" in trend:
            # An attribute history has a value on any day, also before the account's first event.
            read_attribute = self._attribute_reader(trend["attribute"])
            return lambda account, day: trend_value(read_attribute(account, day), read_attribute(account, day - days),
                                                    change)
        read = self._metric_reader(trend["metric"], day_range)

        def read_trend(account: Any, day: int) -> float | None:
            base_day = day - days
            if self.trend_base_before_first_event == "null" and base_day < first_days[account]:
                return None
            return trend_value(read(account, day), read(account, base_day), change)

        return read_trend

    def _metric_reader(self, reference: str, day_range: tuple[int, int] | None) -> Callable[[Any, int], Any]:
        """Return a function of (account, day) reading an account metric or a per-account view column.

        A metric or view column follows its definition on every day of the data range
        `day_range`, also before the account's first event (counts are 0 there, ratios and
        shares None). Before the first day of data, an account metric follows its definition
        from the account's first row of the metric on, since its source can have rows there, and
        is None before that row. A view column is None before the first day of data.
        """
        first_day_of_data = day_range[0] if day_range else 0
        if "." not in reference:
            metric = self.account_metrics()[reference]

            def read_metric(account: Any, day: int) -> Any:
                first_row = metric.first_row_day(account)
                if day < first_day_of_data and (first_row is None or day < first_row):
                    return None
                return metric.value(account, day)

            return read_metric

        view_name, column = reference.split(".", 1)
        empty = self._empty_view_values(view_name)
        if column not in empty:
            raise KeyError(f"column {column!r} not found in view {view_name!r}: it has {sorted(empty)}")
        index = {(row["account_id"], row["activity_date"].toordinal()): row for row in self.view(view_name)}

        def read(account: Any, day: int) -> Any:
            if day < first_day_of_data:
                return None
            row = index.get((account, day))
            return empty[column] if row is None else row[column]

        return read

    def _empty_view_values(self, view_name: str) -> dict[str, Any]:
        for definition in self.definitions.get("stickiness", []):
            if definition["name"] == view_name:
                _require_per_account(definition)
                return stickiness_module.empty_values(definition)
        for definition in self.definitions.get("tier_mix", []):
            if definition["name"] == view_name:
                _require_per_account(definition)
                return tier_mix_module.empty_values(definition, self.tiers)
        raise KeyError(f"no per-account stickiness or tier-mix view {view_name!r}")

    def _attribute_reader(self, reference: str) -> Callable[[Any, int], Any]:
        source_name, column = reference.split(".", 1)
        source = self.sources[source_name]
        if "valid_from" in source:
            return self._history_reader(source, column)
        read = self._column_reader(source, column)
        values = {row[source["account"]]: read(row) for row in self.source_rows[source_name]}
        return lambda account, day: values.get(account)

    @staticmethod
    def _column_reader(source: Mapping[str, Any], column: str) -> Callable[[Mapping[str, Any]], Any]:
        """Return a function reading a column of a source's row: a declared one, or the expression of a derived one."""
        derived = source.get("derived", {})
        return compile_expression(derived[column]) if column in derived else (lambda row: row[column])

    def _history_reader(self, source: Mapping[str, Any], column: str) -> Callable[[Any, int], Any]:
        """Return a function of (account, day) reading an attribute history as of the day.

        The value on day d is that of the account's row with the latest valid_from day on or
        before d, None before its first row. Rows of one account on one day give the largest
        non-None value of the column there. A date is its own day, and a timestamp's day is its
        date in the project time zone, a naive one read as UTC.
        """
        zone = ZoneInfo(self.time_zone)
        read = self._column_reader(source, column)
        by_day: dict[Any, dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for row in self.source_rows[source["name"]]:
            account, valid_from = row[source["account"]], row[source["valid_from"]]
            if account is None or valid_from is None:
                continue
            day = local_day(valid_from, zone) if isinstance(valid_from, datetime) else valid_from
            by_day[account][day.toordinal()].append(read(row))
        versions = {
            account: sorted((day, max((value for value in values if value is not None), default=None))
                            for day, values in days.items())
            for account, days in by_day.items()
        }

        def read(account: Any, day: int) -> Any:
            value = None
            for valid_day, version_value in versions.get(account, []):
                if valid_day > day:
                    break
                value = version_value
            return value

        return read


def _require_per_account(definition: Mapping[str, Any]) -> None:
    if list(definition.get("by", [])) != ["account"]:
        raise ValueError(f"view {definition['name']!r} is not per account: its `by` is {definition.get('by')!r}")
