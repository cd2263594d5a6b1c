"""Typed, immutable definition objects built from the YAML of a project."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from healthlayer.definitions.durations import parse_days, parse_hours

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

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
ColumnName = Annotated[str, Field(pattern=COLUMN_PATTERN)]
WindowDays = Annotated[int, BeforeValidator(parse_days), Field(le=MAX_WINDOW_DAYS)]
DurationHours = Annotated[int, BeforeValidator(lambda value: parse_hours(value, "hour")),
                          Field(le=MAX_WINDOW_DAYS * 24)]
Count = Annotated[int, Field(ge=1, le=MAX_COUNT)]
Weight = Annotated[float, Field(gt=0, le=MAX_WEIGHT)]
ColumnType = Literal["text", "number", "integer", "boolean", "date", "timestamp", "timestamptz"]
Aggregate = Literal["count", "count_distinct", "sum", "avg", "min", "max"]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)


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

    @model_validator(mode="after")
    def _one_location(self) -> Source:
        if (self.file is None) == (self.table is None):
            raise ValueError("a source needs exactly one of 'file' and 'table'")
        if self.table is not None and not _TABLE_PATTERN.fullmatch(self.table):
            raise ValueError(f"invalid table name {self.table!r}: expected name, schema.name or catalog.schema.name")
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
    count: Count


class Tier(Model):
    """One engagement tier: its event class and optional thresholds over the tier window."""

    name: Name
    events: Literal["*"] | list[str] | None = None
    filter: str | None = None
    min_events: Count = 1
    min_distinct: MinDistinct | None = None

    @model_validator(mode="after")
    def _has_class(self) -> Tier:
        if self.events is None and self.filter is None:
            raise ValueError("a tier needs 'events', 'filter' or both to say which events belong to it")
        if isinstance(self.events, list) and not self.events:
            raise ValueError("'events' is empty: list at least one event name, or use '*' for every event")
        for event in self.events if isinstance(self.events, list) else []:
            # Engines disagree on control characters in SQL text, and PostgreSQL rejects NUL outright.
            if any(unicodedata.category(character) == "Cc" for character in event):
                raise ValueError(f"event name {event!r} contains control characters")
        return self

    @property
    def has_threshold(self) -> bool:
        return self.min_events > 1 or self.min_distinct is not None


class Engagement(Model):
    """The event source of the engagement views and its ordered tiers, lowest first."""

    source: Name
    tier_window: Annotated[int, BeforeValidator(parse_days), Field(le=MAX_TIER_WINDOW_DAYS)] = 7
    tiers: Annotated[list[Tier], Field(min_length=1)]


class Stickiness(Model):
    name: Name
    level: str = "active"
    by: list[str] = []
    windows: dict[Annotated[str, Field(pattern=NAME_PATTERN)], WindowDays] = {"dau": 1, "wau": 7, "mau": 30}
    ratios: list[str] | None = None
    min_denominator: Count = 1

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


class TierDropAlert(Model):
    name: Name
    type: Literal["tier_drop"]
    from_tier: Annotated[str, Field(alias="from")]
    to_tier: Annotated[str, Field(alias="to")]
    respond_within: DurationHours


class AccountMetric(Model):
    name: Name
    source: Name
    aggregate: Aggregate
    value: str | None = None
    filter: str | None = None
    window: WindowDays = 30

    @model_validator(mode="after")
    def _value_needed(self) -> AccountMetric:
        if self.aggregate != "count" and self.value is None:
            raise ValueError(f"aggregate '{self.aggregate}' needs a 'value' column or expression")
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
            raise ValueError(f"'lower' ({self.lower}) must be below 'upper' ({self.upper}); "
                             "use higher_is_better: false to reverse the direction")
        if not math.isfinite(self.upper - self.lower):
            raise ValueError(f"the range from 'lower' ({self.lower}) to 'upper' ({self.upper}) is too large to "
                             "compute with")
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
                raise ValueError("step breakpoints must be in ascending order of 'min', without repeats")
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
    weight: Weight
    metric: str | None = None
    attribute: str | None = None
    trend: Trend | None = None
    score: ScoreFunction
    missing: MissingPolicy = "renormalize"

    @model_validator(mode="after")
    def _one_value(self) -> Component:
        value_keys = [key for key in ("metric", "attribute", "trend") if getattr(self, key) is not None]
        if len(value_keys) != 1:
            raise ValueError("a component needs exactly one of 'metric', 'attribute' and 'trend'"
                             + (f", got {', '.join(value_keys)}" if value_keys else ""))
        return self


class Category(Model):
    name: Name
    weight: Weight
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


class ProjectFile(Model):
    name: Name
    time_zone: str = "UTC"
    include: list[str] = []
    paths: list[str] | None = None
    default_target: str | None = None
    targets: dict[str, TargetConfig] = {}
    vars: dict[str, Any] = {}
