"""Typed, immutable definition objects built from the YAML of a project."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from healthlayer.definitions.durations import parse_days, parse_hours
from healthlayer.definitions.issues import InvalidValue

# Definition names become view and column names, so they are lower case: names that differ only
# in case would be the same identifier on engines that fold case.
NAME_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"
# Column names of sources keep the case they have in the warehouse.
COLUMN_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
# Maximum window lengths in days. The tier window's is lower because tier evaluation spreads each
# user-day over every day of the window.
MAX_WINDOW_DAYS = 3660
MAX_TIER_WINDOW_DAYS = 366
_TABLE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
ColumnName = Annotated[str, Field(pattern=COLUMN_PATTERN)]
WindowDays = Annotated[int, BeforeValidator(parse_days), Field(le=MAX_WINDOW_DAYS)]
DurationHours = Annotated[int, BeforeValidator(lambda value: parse_hours(value, "hour"))]
ColumnType = Literal["text", "number", "integer", "boolean", "date", "timestamp", "timestamptz"]
Aggregate = Literal["count", "count_distinct", "sum", "avg", "min", "max"]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)


def _reason(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        raise InvalidValue("the reason is empty", "Say why the rule does not apply to this definition.")
    return value


# Lint rules silenced on one definition: rule code to the reason, which reviewers read.
LintIgnore = dict[str, Annotated[str, BeforeValidator(_reason), Field(max_length=500)]]


class Source(Model):
    """A table or file in the warehouse and the roles of its columns."""

    name: Name
    file: str | None = None
    table: str | None = None
    account: ColumnName
    user: ColumnName | None = None
    timestamp: ColumnName | None = None
    event_name: ColumnName | None = None
    columns: dict[ColumnName, ColumnType] = {}
    lint_ignore: LintIgnore = {}

    @model_validator(mode="after")
    def _one_location(self) -> Source:
        if (self.file is None) == (self.table is None):
            raise InvalidValue("a source needs exactly one of 'file' and 'table'",
                               "Use 'table: schema.name' for a table in the warehouse, or 'file:' for a Parquet "
                               "or CSV file read by DuckDB.")
        if self.table is not None and not _TABLE_PATTERN.match(self.table):
            raise InvalidValue(f"invalid table name {self.table!r}: expected name, schema.name or "
                               "catalog.schema.name", "Each part is letters, digits, '_' or '$', starting with a "
                               "letter or '_'; create a view with a simpler name for other tables.")
        return self

    @property
    def is_event_source(self) -> bool:
        return self.user is not None and self.timestamp is not None and self.event_name is not None

    @property
    def is_attribute_source(self) -> bool:
        return self.timestamp is None

    def role_columns(self) -> dict[str, str]:
        """Return the role columns that are set, by role: account, user, timestamp, event_name."""
        roles = {"account": self.account, "user": self.user, "timestamp": self.timestamp,
                 "event_name": self.event_name}
        return {role: column for role, column in roles.items() if column is not None}

    def known_columns(self) -> set[str]:
        return set(self.role_columns().values()) | set(self.columns)


class MinDistinct(Model):
    column: ColumnName
    count: Annotated[int, Field(ge=1)]


class Tier(Model):
    """One engagement tier: its event class and optional thresholds over the tier window."""

    name: Name
    events: Literal["*"] | list[str] | None = None
    filter: str | None = None
    min_events: Annotated[int, Field(ge=1)] = 1
    min_distinct: MinDistinct | None = None
    lint_ignore: LintIgnore = {}

    @model_validator(mode="after")
    def _has_class(self) -> Tier:
        if self.events is None and self.filter is None:
            raise InvalidValue("a tier needs 'events', 'filter' or both to say which events belong to it",
                               "List event names, such as 'events: [report_created]', or '*' for every event.")
        if isinstance(self.events, list) and not self.events:
            raise InvalidValue("'events' is empty", "List at least one event name, or use '*' for every event.")
        return self

    @property
    def has_threshold(self) -> bool:
        return self.min_events > 1 or self.min_distinct is not None


class Engagement(Model):
    """The event source of the engagement views and its ordered tiers, lowest first."""

    source: Name
    tier_window: Annotated[int, BeforeValidator(parse_days), Field(le=MAX_TIER_WINDOW_DAYS)] = 7
    tiers: Annotated[list[Tier], Field(min_length=1)]
    lint_ignore: LintIgnore = {}


class Stickiness(Model):
    name: Name
    level: str = "active"
    by: list[str] = []
    windows: dict[Annotated[str, Field(pattern=NAME_PATTERN)], WindowDays] = {"dau": 1, "wau": 7, "mau": 30}
    ratios: list[str] | None = None
    min_denominator: Annotated[int, Field(ge=1)] = 1
    lint_ignore: LintIgnore = {}

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
    tier: Name
    min_share: Annotated[float, Field(ge=0, le=1)]


class TierMix(Model):
    name: Name
    by: list[str] = []
    window: WindowDays = 30
    target: Target | None = None
    lint_ignore: LintIgnore = {}


class TierDropAlert(Model):
    name: Name
    type: Literal["tier_drop"]
    from_tier: Annotated[str, Field(alias="from")]
    to_tier: Annotated[str, Field(alias="to")]
    respond_within: DurationHours
    lint_ignore: LintIgnore = {}


class AccountMetric(Model):
    name: Name
    source: Name
    aggregate: Aggregate
    value: str | None = None
    filter: str | None = None
    window: WindowDays = 30
    lint_ignore: LintIgnore = {}

    @model_validator(mode="after")
    def _value_needed(self) -> AccountMetric:
        if self.aggregate != "count" and self.value is None:
            raise InvalidValue(f"aggregate '{self.aggregate}' needs a 'value' column or expression",
                               "Add 'value:' with a column or expression, or use 'aggregate: count'.")
        return self


class Impute(Model):
    impute: Annotated[float, Field(ge=0, le=100)]


MissingPolicy = Union[Literal["renormalize", "zero"], Impute]


class Linear(Model):
    function: Literal["linear"]
    lower: float
    upper: float
    higher_is_better: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> Linear:
        if not self.lower < self.upper:
            raise InvalidValue(f"'lower' ({self.lower}) must be below 'upper' ({self.upper})",
                               "Swap the two bounds, and set 'higher_is_better: false' to reverse the direction.")
        return self


class Step(Model):
    min: float
    score: Annotated[float, Field(ge=0, le=100)]


class Steps(Model):
    function: Literal["steps"]
    steps: Annotated[list[Step], Field(min_length=1)]

    @field_validator("steps")
    @classmethod
    def _ascending(cls, steps: list[Step]) -> list[Step]:
        for previous, current in zip(steps, steps[1:]):
            if not previous.min < current.min:
                raise InvalidValue("step breakpoints must be in ascending order of 'min', without repeats",
                               "Sort the steps by 'min', lowest first.")
        return steps


class Percentile(Model):
    function: Literal["percentile"]
    higher_is_better: bool = True


ScoreFunction = Annotated[Union[Linear, Steps, Percentile], Field(discriminator="function")]


class Trend(Model):
    metric: str
    days: WindowDays
    change: Literal["difference", "relative"] = "difference"


class Component(Model):
    name: Name
    weight: Annotated[float, Field(gt=0)]
    metric: str | None = None
    attribute: str | None = None
    trend: Trend | None = None
    score: ScoreFunction
    missing: MissingPolicy = "renormalize"

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
    name: Name
    weight: Annotated[float, Field(gt=0)]
    # None: the health score's `missing` applies.
    missing: MissingPolicy | None = None
    components: Annotated[list[Component], Field(min_length=1)]


class Band(Model):
    name: Name
    min: Annotated[float, Field(ge=0, le=100)]


DEFAULT_BANDS = (Band(name="green", min=70), Band(name="yellow", min=40), Band(name="red", min=0))


class Population(Model):
    source: Name
    filter: str | None = None


class HealthScore(Model):
    name: Name
    population: Population
    normalize: bool = False
    missing: MissingPolicy = "renormalize"
    bands: Annotated[list[Band], Field(min_length=1)] = list(DEFAULT_BANDS)
    categories: Annotated[list[Category], Field(min_length=1)]
    lint_ignore: LintIgnore = {}


class DefinitionFile(Model):
    """The top-level keys a definition file may have."""

    sources: list[Source] = []
    engagement: Engagement | None = None
    stickiness: list[Stickiness] = []
    tier_mix: list[TierMix] = []
    alerts: list[TierDropAlert] = []
    account_metrics: list[AccountMetric] = []
    health_scores: list[HealthScore] = []


class TargetConfig(BaseModel):
    """A warehouse connection: its adapter type and the adapter's own settings."""

    model_config = ConfigDict(frozen=True, extra="allow")
    type: Name

    def settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class LintSettings(Model):
    """Project-wide lint settings: rules silenced everywhere, and event names that count as passive."""

    ignore: LintIgnore = {}
    passive_events: list[str] = []


class ProjectFile(Model):
    name: Name
    time_zone: str = "UTC"
    include: list[str] = []
    paths: list[str] | None = None
    default_target: str | None = None
    targets: dict[str, TargetConfig] = {}
    vars: dict[str, Any] = {}
    lint: LintSettings = LintSettings()
