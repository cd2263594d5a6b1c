"""Backtest a deployed health score against renewal outcomes.

Each renewal is scored from the deployed health view on the day `days_before` days before its
renewal date. The view has a row for every account and day, so no snapshots are needed. The SQL
only joins the renewals to the view; healthlayer.backtest_stats computes the statistics from
the fetched rows. docs/backtest.md defines each figure.
"""

from __future__ import annotations

import datetime
import decimal
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from healthlayer import backtest_stats as stats
from healthlayer.adapters.base import Adapter
from healthlayer.compiler import sql
from healthlayer.compiler.engagement import CALENDAR_MAX_DAYS
from healthlayer.compiler.quoting import quote_keywords
from healthlayer.compiler.render import render_select
from healthlayer.compiler.sources import local_date, source_table
from healthlayer.definitions import models
from healthlayer.definitions.issues import did_you_mean
from healthlayer.definitions.project import Project
from healthlayer.errors import HealthlayerError, RelationNotFound, UnsupportedError, WarehouseError

logger = logging.getLogger(__name__)

DEFAULT_DAYS_BEFORE = 90
DEFAULT_DATE_COLUMN = "renewal_date"
DEFAULT_OUTCOME_COLUMN = "renewed"
DEFAULT_VALUE_COLUMN = "contract_value"
RENEWED_TEXT = "renewed"
CHURNED_TEXT = "churned"
# Account ids per IN list of the band-history query, which keeps each statement short.
IN_LIST_SIZE = 500

# Command-line option that names each column, for the fix in error messages.
COLUMN_OPTIONS = {"account": "--account-column", "date": "--date-column", "outcome": "--outcome-column",
                  "value": "--value-column"}


@dataclass(frozen=True)
class BacktestRequest:
    """The request of a backtest: the renewals source and its columns, the health score and the score day."""

    renewals_source: str
    score: str | None = None
    days_before: int = DEFAULT_DAYS_BEFORE
    # None: the source's account column.
    account_column: str | None = None
    date_column: str = DEFAULT_DATE_COLUMN
    outcome_column: str = DEFAULT_OUTCOME_COLUMN
    # None: contract_value when the source has that column, else no contract values.
    value_column: str | None = None


@dataclass(frozen=True)
class Unscorable:
    """A renewal without a health score on its score day, and the reason."""

    account_id: Any
    renewal_date: datetime.date | None
    renewed: bool
    reason: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"account_id": self.account_id,
                "renewal_date": None if self.renewal_date is None else self.renewal_date.isoformat(),
                "renewed": self.renewed, "reason": self.reason, "detail": self.detail}


# Reasons of unscorable renewals, with their text for people.
UNSCORABLE_REASONS = {
    "missing_key": "the account or the renewal date is NULL",
    "unknown_account": "the account has no row in the health view",
    "before_first_score": "the score day is before the account's first score day",
    "after_last_score": "the score day is after the account's last score day",
    "null_score": "the health score is NULL on the score day",
}


@dataclass
class BacktestResult:
    """Every figure of a backtest, with the renewals it scored and those it could not."""

    score: str
    renewals_source: str
    days_before: int
    columns: dict[str, str | None]
    renewal_count: int
    scored: list[stats.ScoredRenewal]
    unscorable: list[Unscorable]
    bands: list[stats.RateGroup]
    deciles: list[stats.RateGroup]
    auc: float | None
    lift: stats.Lift
    lead_time: stats.LeadTimeSummary
    sensitivity: stats.WeightSensitivity
    overall: stats.RateGroup = field(default_factory=lambda: stats.rate_group("all", []))

    def unscorable_counts(self) -> dict[str, int]:
        return dict(Counter(item.reason for item in self.unscorable))

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "renewals_source": self.renewals_source,
            "days_before": self.days_before,
            "columns": self.columns,
            "renewals": self.renewal_count,
            "scored": len(self.scored),
            "overall": self.overall.as_dict(),
            "unscorable": {"count": len(self.unscorable), "by_reason": self.unscorable_counts(),
                           "renewals": [item.as_dict() for item in self.unscorable]},
            "bands": [group.as_dict() for group in self.bands],
            "deciles": [group.as_dict() for group in self.deciles],
            "auc": self.auc,
            "lift": self.lift.as_dict(),
            "lead_time": self.lead_time.as_dict(),
            "weight_sensitivity": self.sensitivity.as_dict(),
        }


def choose_score(project: Project, name: str | None) -> models.HealthScore:
    """Return the named health score, or the project's only one; raise HealthlayerError otherwise."""
    scores = project.health_scores
    if not scores:
        raise HealthlayerError("the project defines no health score; define one under 'health_scores' to backtest it")
    if name is None:
        if len(scores) > 1:
            raise HealthlayerError(f"the project has several health scores ({', '.join(sorted(scores))}); "
                                   "choose one with --score")
        return next(iter(scores.values()))
    if name not in scores:
        raise HealthlayerError(f"no health score is named '{name}'. {did_you_mean(name, scores)}")
    return scores[name]


def _source(project: Project, name: str) -> models.Source:
    if name not in project.sources:
        raise HealthlayerError(f"no source is named '{name}'. {did_you_mean(name, project.sources)} "
                               "Declare the renewals as a source in the project and pass its name to --renewals.")
    return project.sources[name]


def _source_columns(project: Project, adapter: Adapter, source: models.Source) -> list[str] | None:
    """Return the column names of a source as the warehouse reports them, or None if the adapter cannot tell."""
    from_sql = quote_keywords(source_table(source, project.root), adapter.dialect).sql(dialect=adapter.dialect)
    if source.file is not None and adapter.dialect != "duckdb":
        raise UnsupportedError(f"source '{source.name}' reads a file, which only DuckDB can read; declare the "
                               f"source with 'table:' to read it on a {adapter.dialect} target")
    try:
        return [name for name, _ in adapter.describe(from_sql)]
    except RelationNotFound as error:
        where = source.file if source.file is not None else source.table
        raise HealthlayerError(f"the renewals source '{source.name}' reads {where}, which was not found: {error}. "
                               "Check its 'file' or 'table'.") from None
    except UnsupportedError:
        return None


def resolve_columns(project: Project, adapter: Adapter, source: models.Source,
                    request: BacktestRequest) -> dict[str, str | None]:
    """Return the renewals column of each role (account, date, outcome, value), checked against the source."""
    present = _source_columns(project, adapter, source)
    columns: dict[str, str | None] = {
        "account": request.account_column or source.account,
        "date": request.date_column,
        "outcome": request.outcome_column,
        "value": request.value_column,
    }
    if present is None:
        # The warehouse cannot list the columns, so the declared ones decide the default.
        if columns["value"] is None and DEFAULT_VALUE_COLUMN in source.known_columns():
            columns["value"] = DEFAULT_VALUE_COLUMN
        return columns
    folded = {name.lower(): name for name in present}
    if columns["value"] is None and DEFAULT_VALUE_COLUMN in folded:
        columns["value"] = DEFAULT_VALUE_COLUMN
    for role, column in columns.items():
        if column is None or column.lower() in folded:
            continue
        raise HealthlayerError(
            f"column '{column}' not found in the renewals source '{source.name}', which has {', '.join(present)}; "
            f"name the {role} column with {COLUMN_OPTIONS[role]}")
    return columns


def renewals_query(project: Project, source: models.Source, columns: dict[str, str | None]) -> exp.Query:
    """Return (account_id, renewal_date, outcome, contract_value) of every row of the renewals source."""
    account = columns["account"]
    date_column = columns["date"]
    outcome = columns["outcome"]
    assert account is not None
    assert date_column is not None
    assert outcome is not None
    value: exp.Expr = exp.Null() if columns["value"] is None else sql.user_column(columns["value"])
    # A renewal date declared as a timestamp falls on its day in the project's time zone, as events do.
    declared = source.columns.get(date_column)
    renewal_date: exp.Expr = exp.Cast(this=sql.user_column(date_column), to=exp.DataType.build("DATE"))
    if declared in ("timestamp", "timestamptz"):
        renewal_date = local_date(sql.user_column(date_column), project.time_zone, declared == "timestamptz")
    return exp.select(
        sql.alias(sql.user_column(account), "account_id"),
        sql.alias(renewal_date, "renewal_date"),
        sql.alias(sql.user_column(outcome), "outcome"),
        sql.alias(value, "contract_value"),
    ).from_(source_table(source, project.root))


def scored_query(project: Project, definition: models.HealthScore, schema: str, source: models.Source,
                 columns: dict[str, str | None], days_before: int) -> exp.Query:
    """Return each renewal with the account's first and last score day and its scores on the score day.

    Columns: account_id, renewal_date, outcome, contract_value, first_day, last_day,
    health_score, band, then one `<category>_score` per category in definition order, then the
    account's `segment` when the score has one.
    """
    view = sql.table(definition.name, schema)
    days = (
        exp.select(sql.column("account_id"), sql.alias(exp.Min(this=sql.column("as_of_date")), "first_day"),
                   sql.alias(exp.Max(this=sql.column("as_of_date")), "last_day"))
        .from_(view.copy())
        .group_by(sql.column("account_id"))
    )
    score_day = sql.add_days(sql.column("renewal_date", "r"), -days_before)
    on_score_day = exp.and_(
        exp.EQ(this=sql.column("account_id", "h"), expression=sql.column("account_id", "r")),
        exp.EQ(this=sql.column("as_of_date", "h"), expression=score_day))
    category_columns = [sql.column(f"{category.name}_score", "h", quoted=True) for category in definition.categories]
    if definition.segment is not None:
        category_columns.append(sql.column("segment", "h"))
    scores = view.copy()
    scores.set("alias", exp.TableAlias(this=exp.to_identifier("h")))
    return (
        exp.select(
            sql.column("account_id", "r"), sql.column("renewal_date", "r"), sql.column("outcome", "r"),
            sql.column("contract_value", "r"), sql.column("first_day", "d"), sql.column("last_day", "d"),
            sql.column("health_score", "h"), sql.column("band", "h"), *category_columns)
        .from_(sql.subquery(renewals_query(project, source, columns), "r"))
        .join(sql.subquery(days, "d"),
              on=exp.EQ(this=sql.column("account_id", "d"), expression=sql.column("account_id", "r")),
              join_type="left")
        .join(scores, on=on_score_day, join_type="left")
    )


def history_query(project: Project, definition: models.HealthScore, schema: str, source: models.Source,
                  columns: dict[str, str | None], account_ids: Sequence[Any]) -> exp.Query:
    """Return (account_id, renewal_date, as_of_date, band) of the days before each renewal of some accounts."""
    view = sql.table(definition.name, schema)
    view.set("alias", exp.TableAlias(this=exp.to_identifier("h")))
    before_renewal = exp.and_(
        exp.EQ(this=sql.column("account_id", "h"), expression=sql.column("account_id", "r")),
        exp.LT(this=sql.column("as_of_date", "h"), expression=sql.column("renewal_date", "r")))
    members = exp.In(this=sql.column("account_id", "r"), expressions=[exp.convert(value) for value in account_ids])
    return (
        exp.select(sql.column("account_id", "r"), sql.column("renewal_date", "r"), sql.column("as_of_date", "h"),
                   sql.column("band", "h"))
        .from_(sql.subquery(renewals_query(project, source, columns), "r"))
        .join(view, on=before_renewal)
        .where(members)
    )


def parse_outcome(value: Any, column: str, source: str, account: Any) -> bool:
    """Return True for a renewal and False for a churn, from a boolean or the text 'renewed' or 'churned'."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in (RENEWED_TEXT, CHURNED_TEXT):
        return value.strip().lower() == RENEWED_TEXT
    value_text = "NULL" if value is None else repr(value)
    raise HealthlayerError(
        f"column '{column}' of the renewals source '{source}' has the value {value_text} (account {account}); expected "
        f"a boolean or the text '{RENEWED_TEXT}' or '{CHURNED_TEXT}'. Fix the row, or name another column with "
        f"{COLUMN_OPTIONS['outcome']}")


def _contract_value(value: Any, column: str | None, source: str, account: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
        return float(value)
    raise HealthlayerError(f"column '{column}' of the renewals source '{source}' has the value {value!r} "
                           f"(account {account}); expected a number. Fix the row, or name another column with "
                           f"{COLUMN_OPTIONS['value']}")


def _as_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


def _fetch(adapter: Adapter, query: exp.Query) -> list[tuple[Any, ...]]:
    try:
        return adapter.fetch(render_select(query, adapter.dialect))[1]
    except WarehouseError as error:
        raise WarehouseError(f"{error}; if the definitions changed since the last deploy, run "
                             "'healthlayer deploy' first") from None


def _require_view(adapter: Adapter, definition: models.HealthScore) -> None:
    present = {name.lower() for name in adapter.relation_names()}
    if definition.name.lower() not in present:
        raise HealthlayerError(f"the health view '{definition.name}' is not deployed in schema '{adapter.schema}'; "
                               "run 'healthlayer deploy' first")


def _classify(row: tuple[Any, ...], days_before: int) -> tuple[str, str] | None:
    """Return (reason, detail) when a fetched renewal cannot be scored, or None when it can."""
    account, renewal_date, _, _, first_day, last_day, score = row[:7]
    if account is None or renewal_date is None:
        return "missing_key", UNSCORABLE_REASONS["missing_key"]
    if first_day is None:
        return "unknown_account", UNSCORABLE_REASONS["unknown_account"]
    score_day = renewal_date - datetime.timedelta(days=days_before)
    if score_day < _as_date(first_day):
        return "before_first_score", (f"score day {score_day} is before the first score day {_as_date(first_day)}")
    if score_day > _as_date(last_day):
        return "after_last_score", f"score day {score_day} is after the last score day {_as_date(last_day)}"
    if score is None:
        return "null_score", f"the health score is NULL on {score_day}"
    return None


def run_backtest(project: Project, adapter: Adapter, request: BacktestRequest) -> BacktestResult:
    """Score every renewal from the deployed health view and compute the backtest's figures."""
    if not 0 <= request.days_before <= CALENDAR_MAX_DAYS:
        raise HealthlayerError(f"--days-before is {request.days_before}; use 0 to {CALENDAR_MAX_DAYS:,} days, "
                               "the longest data range")
    definition = choose_score(project, request.score)
    source = _source(project, request.renewals_source)
    _require_view(adapter, definition)
    columns = resolve_columns(project, adapter, source, request)
    rows = _fetch(adapter, scored_query(project, definition, adapter.schema, source, columns, request.days_before))
    if not rows:
        raise HealthlayerError(f"the renewals source '{source.name}' has no rows; load the renewal outcomes "
                               "into it before the backtest")

    scored: list[stats.ScoredRenewal] = []
    unscorable: list[Unscorable] = []
    churned_keys: set[tuple[Any, datetime.date]] = set()
    for row in rows:
        renewal_date = _as_date(row[1])
        row = (row[0], renewal_date, *row[2:])
        renewed = parse_outcome(row[2], str(columns["outcome"]), source.name, row[0])
        value = _contract_value(row[3], columns["value"], source.name, row[0])
        if not renewed and row[0] is not None and renewal_date is not None:
            churned_keys.add((row[0], renewal_date))
        problem = _classify(row, request.days_before)
        if problem is not None:
            unscorable.append(Unscorable(row[0], renewal_date, renewed, *problem))
            continue
        assert renewal_date is not None
        category_scores = {category.name: (None if score is None else float(score))
                           for category, score in zip(definition.categories, row[8:])}
        segment = row[8 + len(definition.categories)] if definition.segment is not None else None
        scored.append(stats.ScoredRenewal(row[0], renewal_date, renewed, value, float(row[6]), row[7],
                                          category_scores, segment))
    unscorable.sort(key=lambda item: (item.reason, str(item.account_id), item.renewal_date or datetime.date.min))
    if not scored:
        counts = ", ".join(f"{count} {UNSCORABLE_REASONS[reason]}"
                           for reason, count in sorted(Counter(item.reason for item in unscorable).items()))
        raise HealthlayerError(f"none of the {len(rows)} renewals can be scored {request.days_before} days before "
                               f"its renewal date ({counts}); check that the renewals' accounts are those of "
                               f"'{definition.name}', or lower --days-before")

    bands_low_to_high = sorted(definition.bands, key=lambda band: band.min)
    band_names = [band.name for band in reversed(bands_low_to_high)]
    band_groups = stats.band_rates(scored, band_names)
    lowest_band = bands_low_to_high[0].name
    lift = stats.lift(band_groups[-1], band_groups[0])
    lead_statuses = _lead_times(project, adapter, definition, source, columns, churned_keys, lowest_band)

    return BacktestResult(
        score=definition.name, renewals_source=source.name, days_before=request.days_before, columns=columns,
        renewal_count=len(rows), scored=scored, unscorable=unscorable, bands=band_groups,
        deciles=stats.decile_rates(scored),
        auc=stats.auc([renewal.health_score for renewal in scored], [renewal.renewed for renewal in scored]),
        lift=lift, lead_time=stats.summarise_lead_times(lead_statuses),
        sensitivity=stats.weight_sensitivity(definition, scored), overall=stats.rate_group("all", scored))


def _lead_times(project: Project, adapter: Adapter, definition: models.HealthScore, source: models.Source,
                columns: dict[str, str | None], churned: set[tuple[Any, datetime.date]],
                lowest_band: str) -> list[tuple[stats.LeadStatus, int | None]]:
    """Return the lead-time status of every churned renewal, from the bands of the days before it."""
    histories: dict[tuple[Any, datetime.date], dict[datetime.date, str | None]] = {key: {} for key in churned}
    accounts = sorted({account for account, _ in churned}, key=str)
    for start in range(0, len(accounts), IN_LIST_SIZE):
        query = history_query(project, definition, adapter.schema, source, columns,
                              accounts[start:start + IN_LIST_SIZE])
        for account, renewal_date, day, band in _fetch(adapter, query):
            key = (account, _as_date(renewal_date))
            if key in histories:
                histories[key][_as_date(day)] = band  # type: ignore[index]
    return [stats.lead_time(renewal_date, histories[(account, renewal_date)], lowest_band)
            for account, renewal_date in sorted(churned, key=lambda key: (str(key[0]), key[1]))]
