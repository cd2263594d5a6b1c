"""Typed, immutable definition objects built from the YAML of a project."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from healthlayer.definitions.durations import at_most, duration_json_schema, parse_days, parse_hours
from healthlayer.definitions.issues import InvalidValue, did_you_mean
from healthlayer.definitions.lint_rules import LINT_RULES

# Definition names become view and column names, so they are lower case: names that differ only
# in case would be the same identifier on engines that fold case.
NAME_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"
# Column names of sources keep the case they have in the warehouse.
COLUMN_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
# Maximum window lengths in days. The tier window's is lower because tier evaluation spreads each
# user-day over every day of the window.
MAX_WINDOW_DAYS = 3660
MAX_TIER_WINDOW_DAYS = 366
# Upper bounds of counts, thresholds and weights. Larger literals overflow the integer types of
# some engines, and weights near the float maximum sum to infinity.
MAX_COUNT = 1_000_000_000
MAX_WEIGHT = 1_000_000.0
_TABLE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")

Name = Annotated[str, Field(pattern=NAME_PATTERN, json_schema_extra={"patternErrorMessage": (
    "Use lower-case letters, digits and underscores, starting with a letter or underscore, at most 63 characters.")})]
ColumnName = Annotated[str, Field(pattern=COLUMN_PATTERN)]
# Durations are validated as numbers or text by parse_days and parse_hours, which the JSON Schema
# of a plain integer would not show, so WithJsonSchema states both forms.
WindowDays = Annotated[int, BeforeValidator(parse_days), AfterValidator(at_most(MAX_WINDOW_DAYS, "days")),
                       WithJsonSchema(duration_json_schema("day", MAX_WINDOW_DAYS))]
TierWindowDays = Annotated[int, BeforeValidator(parse_days), AfterValidator(at_most(MAX_TIER_WINDOW_DAYS, "days")),
                           WithJsonSchema(duration_json_schema("day", MAX_TIER_WINDOW_DAYS))]
DurationHours = Annotated[int, BeforeValidator(lambda value: parse_hours(value, "hour")),
                          AfterValidator(at_most(MAX_WINDOW_DAYS * 24, "hours")),
                          WithJsonSchema(duration_json_schema("hour", MAX_WINDOW_DAYS * 24))]
Count = Annotated[int, Field(ge=1, le=MAX_COUNT)]
Weight = Annotated[float, Field(gt=0, le=MAX_WEIGHT)]
ColumnType = Literal["text", "number", "integer", "boolean", "date", "timestamp", "timestamptz"]
# Types that the valid_from column of an attribute history may have.
VALID_FROM_TYPES: tuple[ColumnType, ...] = ("date", "timestamp", "timestamptz")
Aggregate = Literal["count", "count_distinct", "sum", "avg", "min", "max"]


class Model(BaseModel):
    # The docstring under each field becomes its description in the JSON Schema.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False,
                              use_attribute_docstrings=True)


Materialization = Literal["view", "table", "incremental"]
# Days an incremental refresh recomputes before the last day it stored, for events that arrive late.
DEFAULT_LOOKBACK_DAYS = 3


class Materialized(Model):
    """Fields of the definitions whose views can be stored as tables."""

    materialized: Materialization = "view"
    """How the output is stored: 'view' (computed on every read), 'table' (rebuilt by deploy and refresh) or
    'incremental' (a table whose last days refresh recomputes)."""
    lookback: WindowDays = DEFAULT_LOOKBACK_DAYS
    """Days before the last stored day that an incremental refresh recomputes, so late events are counted."""

    @model_validator(mode="after")
    def _lookback_needs_incremental(self) -> Materialized:
        if "lookback" in self.model_fields_set and self.materialized != "incremental":
            raise InvalidValue("'lookback' applies only to incremental tables",
                               "Set 'materialized: incremental', or remove 'lookback'.")
        return self


def _reason(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        raise InvalidValue("the reason is empty", "Say why the rule does not apply to this definition.")
    return value


def _known_rule(value: str) -> str:
    if value not in LINT_RULES:
        raise InvalidValue(f"'{value}' is not a lint rule", did_you_mean(value, LINT_RULES), "unknown-lint-rule")
    return value


# Lint rules silenced on one definition: rule code to the reason, which reviewers read.
LintIgnore = dict[Annotated[str, AfterValidator(_known_rule)],
                  Annotated[str, BeforeValidator(_reason), Field(max_length=500)]]


class Source(Model):
    """A table or file in the warehouse and the roles of its columns."""

    name: Name
    """Name by which other definitions refer to this source."""
    file: str | None = None
    """Parquet (.parquet) or CSV (.csv) file relative to the project folder, DuckDB only. Set file or table."""
    table: Annotated[str | None, Field(json_schema_extra={"pattern": _TABLE_PATTERN.pattern})] = None
    """Table or view in the target: name, schema.name or catalog.schema.name. Set file or table."""
    account: ColumnName
    """Column of the account id."""
    user: ColumnName | None = None
    """Column of the user id, required for event sources. Rows without a user are ignored."""
    timestamp: ColumnName | None = None
    """Column of the event time. A source without it is an account attribute table, one row per account,
    or an attribute history with valid_from."""
    valid_from: ColumnName | None = None
    """Column of the first day of each row's values, for an attribute history: a row contains the account's values
    from that day until the day of the account's next row. Declare its type under columns as date (the default),
    timestamp or timestamptz. Not allowed with timestamp."""
    event_name: ColumnName | None = None
    """Column of the event name, required for event sources."""
    columns: dict[ColumnName, ColumnType] = {}
    """Other columns and their types. Only the timestamp column's type is used, by compile for table sources."""
    derived: dict[ColumnName, str] = {}
    """Attribute sources only: columns computed from the row's other columns by a SQL expression, such as
    `roi_vs_promise: achieved_roi / nullif(promised_roi, 0)`. Components read them as `source.name`."""
    lint_ignore: LintIgnore = {}
    """Lint rules silenced on this definition, each rule code with the reason."""

    @model_validator(mode="after")
    def _one_location(self) -> Source:
        if (self.file is None) == (self.table is None):
            raise InvalidValue("a source needs exactly one of 'file' and 'table'",
                               "Use 'table: schema.name' for a table in the warehouse, or 'file:' for a Parquet "
                               "or CSV file read by DuckDB.")
        if self.table is not None and not _TABLE_PATTERN.fullmatch(self.table):
            raise InvalidValue(f"invalid table name {self.table!r}: expected name, schema.name or "
                               "catalog.schema.name", "Each part is letters, digits, '_' or '$', starting with a "
                               "letter or '_'; create a view with a simpler name for other tables.")
        if self.valid_from is not None and self.timestamp is not None:
            raise InvalidValue("a source cannot have both 'timestamp' and 'valid_from'",
                               "Use 'timestamp' for a source of events, or 'valid_from' for a history of account "
                               "attributes, one row per account and change.")
        declared = self.columns.get(self.valid_from or "")
        if declared is not None and declared not in VALID_FROM_TYPES:
            raise InvalidValue(f"the 'valid_from' column '{self.valid_from}' is declared as {declared}",
                               f"Declare it as one of {', '.join(VALID_FROM_TYPES)}.")
        return self

    @property
    def is_event_source(self) -> bool:
        return self.user is not None and self.timestamp is not None and self.event_name is not None

    @property
    def is_attribute_source(self) -> bool:
        return self.timestamp is None

    @property
    def has_history(self) -> bool:
        """Whether the source is an attribute history, whose values change on the days of valid_from."""
        return self.valid_from is not None

    @property
    def valid_from_type(self) -> ColumnType:
        """The declared type of the valid_from column: date unless columns declares timestamp or timestamptz."""
        return self.columns.get(self.valid_from or "", "date")

    def attribute_columns(self) -> list[str]:
        """Return the columns that components can read as attributes: the declared ones except valid_from, and the derived ones."""
        return [column for column in self.columns if column != self.valid_from] + list(self.derived)

    def role_columns(self) -> dict[str, str]:
        """Return the role columns that are set, by role: account, user, timestamp, valid_from, event_name."""
        roles = {"account": self.account, "user": self.user, "timestamp": self.timestamp,
                 "valid_from": self.valid_from, "event_name": self.event_name}
        return {role: column for role, column in roles.items() if column is not None}

    def known_columns(self) -> set[str]:
        return set(self.role_columns().values()) | set(self.columns)


class MinDistinct(Model):
    """A threshold on the distinct values of a column among a user's events in the tier window."""

    column: ColumnName
    """Column whose distinct values are counted."""
    count: Count
    """Minimum number of distinct values."""


class Tier(Model):
    """One engagement tier: its event class and optional thresholds over the tier window."""

    name: Name
    """Tier name, used in columns such as <tier>_users and <tier>_share."""
    events: Literal["*"] | list[str] | None = None
    """Event names of this tier, or '*' for every event."""
    filter: str | None = None
    """SQL condition over the source's columns that the tier's events meet."""
    min_events: Count = 1
    """Minimum number of the tier's events a user needs in the tier window."""
    min_distinct: MinDistinct | None = None
    """Minimum number of distinct values of a column among those events."""
    lint_ignore: LintIgnore = {}
    """Lint rules silenced on this definition, each rule code with the reason."""

    @model_validator(mode="after")
    def _has_class(self) -> Tier:
        if self.events is None and self.filter is None:
            raise InvalidValue("a tier needs 'events', 'filter' or both to say which events belong to it",
                               "List event names, such as 'events: [report_created]', or '*' for every event.")
        if isinstance(self.events, list) and "*" in self.events:
            raise InvalidValue("'*' is inside the list of events, where it names an event called '*'",
                               "Write events: '*' for every event, or list event names.")
        if isinstance(self.events, list) and not self.events:
            raise InvalidValue("'events' is empty", "List at least one event name, or use '*' for every event.")
        for event in self.events if isinstance(self.events, list) else []:
            # Engines disagree on control characters in SQL text, and PostgreSQL rejects NUL outright.
            if any(unicodedata.category(character) == "Cc" for character in event):
                raise InvalidValue(f"event name {event!r} contains control characters", "Remove them.")
        return self

    @property
    def has_threshold(self) -> bool:
        return self.min_events > 1 or self.min_distinct is not None


class Engagement(Materialized):
    """The event source of the engagement views and its ordered tiers, lowest first."""

    source: Name
    """Event source of the engagement views."""
    tier_window: TierWindowDays = 7
    """Trailing window whose events decide a user's tier, in days or as text such as '1 week'. At most 366 days."""
    tiers: Annotated[list[Tier], Field(min_length=1)]
    """Tiers, lowest first."""
    lint_ignore: LintIgnore = {}
    """Lint rules silenced on this definition, each rule code with the reason."""


class Stickiness(Materialized):
    """A stickiness view: distinct active users over trailing windows, and the ratios between them."""

    name: Name
    """View name."""
    level: str = "active"
    """Lowest tier at which a user counts as active, or 'any' for every event."""
    by: list[str] = []
    """Grouping: account, or declared columns of the event source. Empty for one row per day."""
    windows: dict[Annotated[str, Field(pattern=NAME_PATTERN)], WindowDays] = {"dau": 1, "wau": 7, "mau": 30}
    """Window names and lengths, in days or as text such as '1 week'; each is a count column."""
    ratios: list[str] | None = None
    """Ratio columns named <shorter window>_<longer window>. By default every pair of windows of different lengths."""
    min_denominator: Count = 1
    """Ratios whose denominator is below this are NULL."""
    lint_ignore: LintIgnore = {}
    """Lint rules silenced on this definition, each rule code with the reason."""

    def ratio_pairs(self) -> list[tuple[str, str, str]]:
        """Return (column, numerator, denominator) for each ratio, by default every short/long pair."""
        if self.ratios is not None:
            pairs = []
            for ratio in self.ratios:
                numerator, denominator = split_ratio(ratio, self.windows)
                pairs.append((ratio, numerator, denominator))
            return pairs
        by_length = sorted(self.windows, key=lambda name: self.windows[name])
        pairs = []
        for index, numerator in enumerate(by_length):
            for denominator in reversed(by_length[index + 1:]):
                if self.windows[denominator] > self.windows[numerator]:
                    pairs.append((f"{numerator}_{denominator}", numerator, denominator))
        return pairs


def split_ratio(ratio: str, windows: dict[str, int]) -> tuple[str, str]:
    """Split a ratio name such as `dau_mau` into two window names; raise ValueError if none fits."""
    for numerator in windows:
        prefix = numerator + "_"
        if ratio.startswith(prefix) and ratio[len(prefix):] in windows:
            return numerator, ratio[len(prefix):]
    names = ", ".join(windows)
    raise ValueError(f"ratio '{ratio}' is not <window>_<window> for the windows {names}")


class Target(Model):
    """A target share of the window's users at a tier or above."""

    tier: Name
    """Tier whose share, of users at that tier or above, is compared with min_share."""
    min_share: Annotated[float, Field(ge=0, le=1)]
    """Target share from 0 to 1."""


class TierMix(Materialized):
    """A tier mix view: the users of a trailing window by their highest tier."""

    name: Name
    """View name."""
    by: list[str] = []
    """Grouping: account, or declared columns of the event source. Empty for one row per day."""
    window: WindowDays = 30
    """Trailing window of the user population, in days or as text such as '30 days'."""
    target: Target | None = None
    """Target share that sets the meets_target column."""
    lint_ignore: LintIgnore = {}
    """Lint rules silenced on this definition, each rule code with the reason."""


class TierDropAlert(Model):
    """An alert rule for users whose tier drops, in the alerts view."""

    name: Name
    """Rule name, in the alerts view's rule column."""
    type: Literal["tier_drop"]
    """Alert type."""
    from_tier: Annotated[str, Field(alias="from")]
    """The old tier must be this tier or higher."""
    to_tier: Annotated[str, Field(alias="to")]
    """The new tier must be this tier or lower. The tier 'inactive' is below every tier."""
    respond_within: DurationHours
    """Time to respond after the end of the detection day, in hours or as text such as '48 hours' or '2 days'."""
    lint_ignore: LintIgnore = {}
    """Lint rules silenced on this definition, each rule code with the reason."""


class BandChangeAlert(Model):
    """An alert rule for accounts whose health score band changes from one day to the next."""

    name: Name
    """Rule name, in the alerts view's rule column."""
    type: Literal["band_change"]
    """Alert type."""
    score: Name
    """Health score whose band is followed."""
    to_bands: Annotated[Name | list[Name] | None, Field(alias="to")] = None
    """The new band must be this band or one of these bands. By default any band."""
    direction: Literal["down", "up", "any"] | None = None
    """Change that fires: down (to a lower band), up or any. By default down, or any when 'to' is set."""
    respond_within: DurationHours
    """Time to respond after the end of the detection day, in hours or as text such as '48 hours' or '2 days'."""
    lint_ignore: LintIgnore = {}
    """Lint rules silenced on this definition, each rule code with the reason."""

    def target_bands(self) -> list[str] | None:
        """Return the bands that the new band must be one of, or None for any band."""
        if self.to_bands is None:
            return None
        return [self.to_bands] if isinstance(self.to_bands, str) else list(self.to_bands)

    def effective_direction(self) -> str:
        if self.direction is not None:
            return self.direction
        return "any" if self.to_bands is not None else "down"


class ScoreDropAlert(Model):
    """An alert rule for accounts whose health score falls by some points within some days."""

    name: Name
    """Rule name, in the alerts view's rule column."""
    type: Literal["score_drop"]
    """Alert type."""
    score: Name
    """Health score that is followed."""
    points: Annotated[float, Field(gt=0, le=100)]
    """Minimum drop: the highest score of the previous `days` days minus the score of the day."""
    days: WindowDays
    """Days before the detection day whose highest score the day's score is compared with."""
    respond_within: DurationHours
    """Time to respond after the end of the detection day, in hours or as text such as '48 hours' or '2 days'."""
    lint_ignore: LintIgnore = {}
    """Lint rules silenced on this definition, each rule code with the reason."""


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = Weekday.__args__  # type: ignore[attr-defined]


class RedReviewAlert(Model):
    """An alert rule that lists the accounts in a band, once a week on a review weekday."""

    name: Name
    """Rule name, in the alerts view's rule column."""
    type: Literal["red_review"]
    """Alert type."""
    score: Name
    """Health score whose band is reviewed."""
    band: Name | None = None
    """Band of the listed accounts. By default the lowest band."""
    weekday: Weekday = "monday"
    """Day of the week of the review, in the project time zone."""
    respond_within: DurationHours
    """Time to respond after the end of the review day, in hours or as text such as '48 hours' or '2 days'."""
    lint_ignore: LintIgnore = {}
    """Lint rules silenced on this definition, each rule code with the reason."""


class StaleDataAlert(Model):
    """An alert rule for accounts that stop sending events after a period of activity."""

    name: Name
    """Rule name, in the alerts view's rule column."""
    type: Literal["stale_data"]
    """Alert type."""
    source: Name | None = None
    """Time-stamped source with an account column whose rows count as events. By default the engagement source."""
    silent_for: WindowDays
    """Days without an event from the account that fire the alert, in days or as text such as '1 week'."""
    min_active_days: Count = 1
    """Minimum number of days with events in the lookback window that ends on the last day with events."""
    lookback: WindowDays = 30
    """Days, up to the account's last day with events, in which min_active_days are counted."""
    respond_within: DurationHours
    """Time to respond after the end of the detection day, in hours or as text such as '48 hours' or '2 days'."""
    lint_ignore: LintIgnore = {}
    """Lint rules silenced on this definition, each rule code with the reason."""


AlertRule = Annotated[Union[TierDropAlert, BandChangeAlert, ScoreDropAlert, RedReviewAlert, StaleDataAlert],
                      Field(discriminator="type")]
# Alert rules about an account's health score, one row per account and detection day.
HealthAlert = Union[BandChangeAlert, ScoreDropAlert, RedReviewAlert]


class AccountMetric(Model):
    """An aggregate of a source's rows per account over a trailing window."""

    name: Name
    """Metric name, used by health score components."""
    source: Name
    """Source whose rows are aggregated."""
    aggregate: Aggregate
    """Aggregate function."""
    value: str | None = None
    """Column or SQL expression to aggregate, required unless the aggregate is count."""
    filter: str | None = None
    """SQL condition over the source's columns that the aggregated rows meet."""
    window: WindowDays = 30
    """Trailing window, in days or as text such as '90 days'."""
    lint_ignore: LintIgnore = {}
    """Lint rules silenced on this definition, each rule code with the reason."""

    @model_validator(mode="after")
    def _value_needed(self) -> AccountMetric:
        if self.aggregate != "count" and self.value is None:
            raise InvalidValue(f"aggregate '{self.aggregate}' needs a 'value' column or expression",
                               "Add 'value:' with a column or expression, or use 'aggregate: count'.")
        return self


class Impute(Model):
    """A missing policy that scores a missing value with a fixed score."""

    impute: Annotated[float, Field(ge=0, le=100)]
    """Score from 0 to 100 in place of the missing value."""


MissingPolicy = Union[Literal["renormalize", "zero"], Impute]


class Linear(Model):
    """A score of 0 at lower and 100 at upper, linear in between and clamped outside."""

    function: Literal["linear"]
    lower: float
    """Value that scores 0 (100 when higher_is_better is false)."""
    upper: float
    """Value that scores 100 (0 when higher_is_better is false)."""
    higher_is_better: bool = True
    """False reverses the direction: lower values score higher."""

    @model_validator(mode="after")
    def _ordered(self) -> Linear:
        if not self.lower < self.upper:
            raise InvalidValue(f"'lower' ({self.lower}) must be below 'upper' ({self.upper})",
                               "Swap the two bounds, and set 'higher_is_better: false' to reverse the direction.")
        if not math.isfinite(self.upper - self.lower):
            raise InvalidValue(f"the range from 'lower' ({self.lower}) to 'upper' ({self.upper}) is too large to "
                               "compute with", "Use bounds of a realistic size.")
        return self


class Step(Model):
    """One breakpoint of a steps function."""

    min: float
    """Lowest value that gets this score."""
    score: Annotated[float, Field(ge=0, le=100)]
    """Score from 0 to 100."""


class Steps(Model):
    """The score of the highest breakpoint whose min the value reaches, and 0 below the first."""

    function: Literal["steps"]
    steps: Annotated[list[Step], Field(min_length=1)]
    """Breakpoints in ascending order of min."""

    @field_validator("steps")
    @classmethod
    def _ascending(cls, steps: list[Step]) -> list[Step]:
        for previous, current in zip(steps, steps[1:]):
            if not previous.min < current.min:
                raise InvalidValue("step breakpoints must be in ascending order of 'min', without repeats",
                               "Sort the steps by 'min', lowest first.")
        return steps


class Percentile(Model):
    """The value's percentile rank, 0 to 100, among the population's values on the same day."""

    function: Literal["percentile"]
    higher_is_better: bool = True
    """False scores 100 minus the percentile."""
    within: str | None = None
    """An account attribute, `source.column`, such as the plan: the rank is among the accounts
    with the same value of it, and accounts without a value rank among themselves."""


ScoreFunction = Annotated[Union[Linear, Steps, Percentile], Field(discriminator="function")]


class Trend(Model):
    """The change of a per-account metric, or of an attribute with history, over a number of days.

    It has exactly one of metric and attribute.
    """

    metric: str | None = None
    """Account metric, or view.column of a per-account stickiness or tier mix view."""
    attribute: str | None = None
    """source.column of an attribute history, a source with valid_from."""
    days: WindowDays
    """Days between the two values, or text such as '90 days'."""
    change: Literal["difference", "relative"] = "difference"
    """difference is the value minus the value `days` earlier, and relative is that difference divided by
    the earlier value's absolute value."""

    @model_validator(mode="after")
    def _one_value(self) -> Trend:
        if (self.metric is None) == (self.attribute is None):
            both = self.metric is not None
            raise InvalidValue("a trend needs exactly one of 'metric' and 'attribute'" + (", got both" if both else ""),
                               "Follow one value: 'metric: <account metric or view.column>', or 'attribute: "
                               "<source.column>' of a source with 'valid_from'.")
        return self

    @property
    def reference(self) -> str:
        """The metric or attribute that the trend follows."""
        return self.metric if self.metric is not None else self.attribute  # type: ignore[return-value]


class Component(Model):
    """One scored value of a category. It has exactly one of metric, attribute and trend."""

    name: Name
    """Component name."""
    weight: Weight
    """Weight in the category. The weights of a category sum to 100 unless the score normalizes."""
    metric: str | None = None
    """Account metric, or view.column of a per-account stickiness or tier mix view."""
    attribute: str | None = None
    """source.column of an account attribute source."""
    trend: Trend | None = None
    """Change of a metric, or of an attribute with history, over a number of days."""
    score: ScoreFunction
    """Function that turns the value into a score from 0 to 100."""
    missing: MissingPolicy = "renormalize"
    """Policy for a missing value: renormalize (left out, the other weights scale up), zero, or {impute: score}."""

    @model_validator(mode="after")
    def _one_value(self) -> Component:
        value_keys = [key for key in ("metric", "attribute", "trend") if getattr(self, key) is not None]
        if len(value_keys) != 1:
            raise InvalidValue("a component needs exactly one of 'metric', 'attribute' and 'trend'"
                               + (f", got {', '.join(value_keys)}" if value_keys else ""),
                               "Score one value: 'metric: <account metric or view.column>', 'attribute: "
                               "<source.column>' or 'trend: {metric: ..., days: ...}'.")
        return self


class Category(Model):
    """A weighted group of components; its score is their weighted mean."""

    name: Name
    """Category name, used in the <category>_score column."""
    weight: Weight
    """Weight in the health score. The weights sum to 100 unless the score normalizes."""
    # None: the health score's `missing` applies.
    missing: MissingPolicy | None = None
    """Policy when none of the components has a value. By default the health score's missing applies."""
    components: Annotated[list[Component], Field(min_length=1)]
    """Components of the category."""


class Band(Model):
    """A named score range: a score gets the band with the highest min at or below it."""

    name: Name
    """Band name, in the band column."""
    min: Annotated[float, Field(ge=0, le=100)]
    """Lowest score of the band. The lowest band's min is 0."""


DEFAULT_BANDS = (Band(name="green", min=70), Band(name="yellow", min=40), Band(name="red", min=0))


class Population(Model):
    """The accounts that get a score."""

    source: Name
    """Source whose accounts get a score."""
    filter: str | None = None
    """SQL condition over the source's columns. Accounts with at least one passing row get a score."""


class HealthScore(Materialized):
    """A health score view: a weighted 0 to 100 score per account and day, with its band and coverage."""

    name: Name
    """View name."""
    population: Population
    """Accounts that get a score."""
    normalize: bool = False
    """True: weights need not sum to 100 and are scaled to it."""
    missing: MissingPolicy = "renormalize"
    """Policy of categories without a value: renormalize, zero, or {impute: score}."""
    bands: Annotated[list[Band], Field(min_length=1)] = list(DEFAULT_BANDS)
    """Score bands. By default green from 70, yellow from 40 and red from 0."""
    categories: Annotated[list[Category], Field(min_length=1)]
    """Categories of the score. Their weights apply to accounts outside every segment of segment_weights."""
    segment: str | None = None
    """An account attribute, `source.column`, such as the plan, whose value as text selects the
    category weights of segment_weights."""
    segment_weights: dict[str, dict[Name, Weight]] = {}
    """Category weights by segment value: each value names every category with its weight."""
    lint_ignore: LintIgnore = {}
    """Lint rules silenced on this definition, each rule code with the reason."""


class FixtureExpectation(Model):
    """The rows a fixture test expects and how they are compared with the rows of the view."""

    rows: list[dict[ColumnName, Any]]
    """Expected rows, each with the columns it checks."""
    match: Literal["exact", "contains"] = "exact"
    """exact: the actual rows equal these rows; contains: each of these rows is among the actual rows."""
    tolerance: Annotated[float, Field(ge=0)] = 1e-9
    """Largest absolute or relative difference at which two numbers are equal."""


class FixtureTest(Model):
    """A fixture test: source rows given inline, a view or account metric, and the rows it must return."""

    name: Name
    """Test name, for --select."""
    description: str | None = None
    """Purpose of the test, for people reading it."""
    view: Name | None = None
    """Output view under test. Set view or metric."""
    metric: Name | None = None
    """Account metric under test, read per account and day. Set view or metric."""
    given: dict[Name, list[dict[ColumnName, Any]]] = {}
    """Rows of each source by source name; sources not listed are empty."""
    vars: dict[str, Any] = {}
    """Values of var() for this test, over the project's vars."""
    expect: FixtureExpectation
    """Rows the view or metric must return."""

    @model_validator(mode="after")
    def _one_subject(self) -> FixtureTest:
        if (self.view is None) == (self.metric is None):
            raise InvalidValue("a test needs exactly one of 'view' and 'metric' to say what it checks",
                               "Name an output view with 'view:' or an account metric with 'metric:'.")
        return self


class DefinitionFile(Model):
    """The top-level keys a definition file may have."""

    sources: list[Source] = []
    """Tables and files of the warehouse and the roles of their columns."""
    engagement: Engagement | None = None
    """The event source and its engagement tiers, once per project."""
    stickiness: list[Stickiness] = []
    """Stickiness views such as DAU/MAU."""
    tier_mix: list[TierMix] = []
    """Tier mix views: the share of users at each tier."""
    alerts: list[AlertRule] = []
    """Alert rules of the alerts view."""
    account_metrics: list[AccountMetric] = []
    """Aggregates per account over trailing windows."""
    health_scores: list[HealthScore] = []
    """Health score views."""
    tests: list[FixtureTest] = []
    """Fixture tests: given rows for each source and the rows a view or account metric must return."""


class TargetConfig(BaseModel):
    """A warehouse connection: its adapter type and the adapter's own settings."""

    model_config = ConfigDict(frozen=True, extra="allow", use_attribute_docstrings=True)
    type: Name
    """Adapter name, such as duckdb, postgres, snowflake, spark or clickhouse. The other keys depend on the adapter."""

    def settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class LintSettings(Model):
    """Project-wide lint settings: rules silenced everywhere, and event names that count as passive."""

    ignore: LintIgnore = {}
    """Lint rules silenced in the whole project, each rule code with the reason."""
    passive_events: list[str] = []
    """Event names of the project that count as passive activity, besides logins, visits and views."""


class OutputSettings(Materialized):
    """How one output view is stored, set in the project file over its definition's setting.

    Each key given replaces the definition's, so `lookback` alone applies to an output whose
    definition makes it incremental.
    """

    @model_validator(mode="after")
    def _lookback_needs_incremental(self) -> OutputSettings:
        if "lookback" in self.model_fields_set and "materialized" in self.model_fields_set \
                and self.materialized != "incremental":
            raise InvalidValue("'lookback' applies only to incremental tables",
                               "Set 'materialized: incremental', or remove 'lookback'.")
        return self


class ProjectFile(Model):
    """The project file, healthlayer.yml."""

    name: Name
    """Project name."""
    time_zone: str = "UTC"
    """IANA time zone, such as Europe/Berlin, whose calendar days the views count."""
    include: list[str] = []
    """Modules of the shipped definition library, such as standard/engagement."""
    paths: list[str] | None = None
    """Definition files or folders relative to this file. By default every .yml and .yaml file of the project folder."""
    default_target: str | None = None
    """Target of commands run without --target."""
    targets: dict[str, TargetConfig] = {}
    """Warehouse connections by name."""
    vars: dict[str, Any] = {}
    """Values that var() returns in the Jinja of definition files."""
    lint: LintSettings = LintSettings()
    """Lint settings of the whole project."""
    outputs: dict[Name, OutputSettings] = {}
    """Storage of output views by name, such as a library view kept as an incremental table."""
