"""Health scores: component scores, category scores, the health score, its coverage and band."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from .events import local_day
from .expressions import compile_filter
from .scoring import percentile_scores, score_value
from .sql_values import decimal_to_float

DEFAULT_BANDS = [{"name": "green", "min": 70}, {"name": "yellow", "min": 40}, {"name": "red", "min": 0}]

RawValue = Callable[[Any, int], Any]
"""A component's raw value for (account, day ordinal), None when there is no data."""


@dataclass(frozen=True)
class MissingPolicy:
    """What a component or category without data contributes: nothing, 0, or an imputed score."""

    kind: str  # "renormalize", "zero" or "impute"
    imputed: float | None = None

    @classmethod
    def parse(cls, spec: Any) -> "MissingPolicy":
        if spec is None or spec == "renormalize":
            return cls("renormalize")
        if spec == "zero":
            return cls("zero")
        if isinstance(spec, Mapping) and set(spec) == {"impute"}:
            return cls("impute", float(spec["impute"]))
        raise ValueError(f"invalid missing policy {spec!r}: use renormalize, zero or {{impute: <score>}}")

    def substitute(self) -> float | None:
        """Return the score that replaces missing data, or None when the item is left out."""
        if self.kind == "zero":
            return 0.0
        if self.kind == "impute":
            return self.imputed
        return None


def weighted_mean(parts: list[tuple[float, float]]) -> float | None:
    """Return the mean of (weight, score) pairs weighted by weight, or None without pairs."""
    total_weight = sum(weight for weight, _ in parts)
    if not parts or total_weight == 0:
        return None
    return sum(weight * score for weight, score in parts) / total_weight


def band_of(score: float | None, bands: list[Mapping[str, Any]]) -> str | None:
    """Return the band with the highest `min` at or below the unrounded score, or None for no score."""
    if score is None:
        return None
    ordered = sorted(bands, key=lambda band: band["min"])
    if ordered[0]["min"] != 0:
        raise ValueError(f"invalid bands {bands!r}: the lowest min must be 0")
    name = None
    for band in ordered:
        if score >= band["min"]:
            name = band["name"]
    return name


def trend_value(now: Any, then: Any, change: str) -> float | None:
    """Return the change from `then` to `now`, as a difference or divided by the absolute value of `then`."""
    if now is None or then is None:
        return None
    if change == "difference":
        return now - then
    if change == "relative":
        return None if then == 0 else (now - then) / abs(then)
    raise ValueError(f"invalid trend change {change!r}: use difference or relative")


def combine_scores(
    category_specs: list[Mapping[str, Any]],
    component_scores: Mapping[str, Mapping[str, float | None]],
    default_category_missing: Any,
) -> tuple[dict[str, float | None], float | None, float]:
    """Return (category scores, health score, coverage) of one account on one day.

    `component_scores[category][component]` is the score of a component with a raw value, or
    None when the raw value is NULL. Missing policies apply to NULL components and to
    categories without a score. A category or health score whose coverage is 0 is None, even
    when zeroed or imputed components would give it a number.
    """
    total_category_weight = sum(category["weight"] for category in category_specs)
    category_scores: dict[str, float | None] = {}
    category_parts = []
    coverage = 0.0
    for category in category_specs:
        parts = []
        weight_with_data = 0.0
        total_component_weight = sum(component["weight"] for component in category["components"])
        for component in category["components"]:
            score = component_scores[category["name"]][component["name"]]
            if score is not None:
                parts.append((component["weight"], score))
                weight_with_data += component["weight"]
                continue
            substitute = MissingPolicy.parse(component.get("missing")).substitute()
            if substitute is not None:
                parts.append((component["weight"], substitute))
        category_coverage = weight_with_data / total_component_weight
        # NOTE: the semantics state "a score whose coverage is 0 is NULL" without naming the
        # score. The reference applies it to category scores too, so no category scores 0 without data.
        category_score = weighted_mean(parts) if category_coverage > 0 else None
        category_scores[category["name"]] = category_score
        coverage += (category["weight"] / total_category_weight) * category_coverage

        if category_score is None:
            category_score = MissingPolicy.parse(category.get("missing", default_category_missing)).substitute()
        if category_score is not None:
            category_parts.append((category["weight"], category_score))

    health_score = weighted_mean(category_parts)
    if coverage == 0:
        # No data never scores 0, whatever the zero and impute policies add.
        health_score = None
    return category_scores, health_score, coverage


def view_columns(definition: Mapping[str, Any]) -> list[str]:
    """Return the columns of a health-score view in order."""
    categories = [f"{category['name']}_score" for category in definition["categories"]]
    segment = ["segment"] if definition.get("segment") else []
    return ["as_of_date", "account_id", *categories, "health_score", "band", "coverage", *segment]


def population_accounts(
    definition: Mapping[str, Any],
    source: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    time_zone: str,
) -> dict[Any, int]:
    """Return the accounts of a score's population with their first event day (of any event)."""
    passes_filter = compile_filter(definition.get("population", {}).get("filter"))
    zone = ZoneInfo(time_zone)
    first_day: dict[Any, int] = {}
    in_population = set()
    for row in rows:
        account = row[source["account"]]
        timestamp = row[source["timestamp"]]
        if account is None or timestamp is None:
            continue
        if "user" in source and row[source["user"]] is None:
            continue
        day = local_day(timestamp, zone).toordinal()
        first_day[account] = min(day, first_day.get(account, day))
        if passes_filter(row):
            in_population.add(account)
    return {account: first_day[account] for account in in_population}


def source_day_range(
    source: Mapping[str, Any], rows: Iterable[Mapping[str, Any]], time_zone: str
) -> tuple[int, int] | None:
    """Return the first and last day of a source's rows as ordinals, None without rows.

    Rows without an account or a timestamp, and without a user in a source that declares one,
    are left out, as population_accounts leaves them out.
    """
    zone = ZoneInfo(time_zone)
    days = [
        local_day(row[source["timestamp"]], zone).toordinal()
        for row in rows
        if row[source["account"]] is not None and row[source["timestamp"]] is not None
        and ("user" not in source or row[source["user"]] is not None)
    ]
    return (min(days), max(days)) if days else None


@dataclass(frozen=True)
class ScoredDay:
    """One account on one day: its categories with their weights that day, and each component's raw value and score."""

    day: int
    account: Any
    categories: list[Mapping[str, Any]]
    raw: Mapping[tuple[str, str], float | None]
    scores: Mapping[str, Mapping[str, float | None]]
    segment: str | None = None  # the text of the account's segment value, None without one


def scored_days(
    definition: Mapping[str, Any],
    accounts: Mapping[Any, int],
    raw_values: Mapping[tuple[str, str], RawValue],
    day_range: tuple[int, int] | None,
    segments: Mapping[tuple[str, str], RawValue] | None = None,
    segment: RawValue | None = None,
) -> Iterator[ScoredDay]:
    """Yield every population account on every day of `day_range` from its first event day on, scored.

    An account whose first event day is before the first day of data starts on the first day of
    data, and an account whose first event day is after the last day of data has no days.

    `accounts` maps each population account to its first event day. `raw_values` maps
    (category, component) to the component's raw-value function, and `segments` those of
    percentile components ranked within groups to the function of the account's group value.
    `segment` reads the account's segment value, whose text selects its category weights from
    the definition's `segment_weights`; other accounts keep the categories' own weights.
    """
    if day_range is None:
        return
    first, last = day_range
    categories = definition["categories"]
    for day in range(max(first, min(accounts.values(), default=last + 1)), last + 1):
        present = [account for account, first_day in accounts.items() if first_day <= day]
        if not present:
            continue
        scores: dict[Any, dict[str, dict[str, float | None]]] = {account: defaultdict(dict) for account in present}
        raw: dict[Any, dict[tuple[str, str], float | None]] = {account: {} for account in present}
        for category in categories:
            for component in category["components"]:
                key = (category["name"], component["name"])
                # Scores are computed in floats, so a DECIMAL attribute becomes a float here.
                values = {account: decimal_to_float(raw_values[key](account, day)) for account in present}
                for account, value in values.items():
                    raw[account][key] = value
                known = {account: value for account, value in values.items() if value is not None}
                if component["score"]["function"] == "percentile":
                    higher_is_better = component["score"].get("higher_is_better", True)
                    group_of = (segments or {}).get(key)
                    groups: dict[Any, dict[Any, float]] = defaultdict(dict)
                    for account, value in known.items():
                        groups[group_of(account, day) if group_of else None][account] = value
                    component_scores = {}
                    for members in groups.values():
                        component_scores.update(percentile_scores(members, higher_is_better))
                else:
                    component_scores = {
                        account: score_value(value, component["score"]) for account, value in known.items()
                    }
                for account in present:
                    scores[account][category["name"]][component["name"]] = component_scores.get(account)

        for account in present:
            value = segment(account, day) if segment else None
            text = None if value is None else str(value)
            weights = definition.get("segment_weights", {}).get(text)
            account_categories = categories if weights is None else [
                {**category, "weight": weights[category["name"]]} for category in categories]
            yield ScoredDay(day, account, account_categories, raw[account], scores[account], text)


def health_view(definition: Mapping[str, Any], days: Iterable[ScoredDay]) -> list[dict[str, Any]]:
    """Rows of a health-score view from its scored account days."""
    bands = definition.get("bands", DEFAULT_BANDS)
    default_category_missing = definition.get("missing", "renormalize")
    rows = []
    for scored in days:
        category_scores, health_score, coverage = combine_scores(
            scored.categories, scored.scores, default_category_missing
        )
        row: dict[str, Any] = {"as_of_date": date.fromordinal(scored.day), "account_id": scored.account}
        row.update({f"{name}_score": score for name, score in category_scores.items()})
        row["health_score"] = health_score
        row["band"] = band_of(health_score, bands)
        row["coverage"] = coverage
        if definition.get("segment"):
            row["segment"] = scored.segment
        rows.append(row)
    return rows


EXPLANATION_COLUMNS = ["as_of_date", "account_id", "category", "component", "raw_value", "score", "weight",
                       "contribution", "contribution_change_7d", "category_score", "weakest_category"]


def explain(category_specs: list[Mapping[str, Any]], component_scores: Mapping[str, Mapping[str, float | None]],
            default_category_missing: Any) -> tuple[dict[tuple[str, str], dict[str, Any]], str | None]:
    """Return each component's score, weight and contribution on one account day, and the weakest category.

    The weakest category has the lowest category score, as the health view shows it: a category
    without data is not the weakest, whatever its missing policy scores it.

    A category's share of the health score is its weight over the weights of the categories
    that count: those with a score, or one from their missing policy. Within a category with
    data, a component's share is its weight over those of the components that count. A category
    scored by its missing policy gives every component its weight's share and the category's
    score. Weights are in points of 100, so the contributions add up to the health score.
    """
    category_scores, health_score, _ = combine_scores(category_specs, component_scores, default_category_missing)
    effective: dict[str, float | None] = {}
    for category in category_specs:
        score = category_scores[category["name"]]
        if score is None:
            score = MissingPolicy.parse(category.get("missing", default_category_missing)).substitute()
        effective[category["name"]] = score
    counted_weight = sum(category["weight"] for category in category_specs if effective[category["name"]] is not None)

    parts: dict[tuple[str, str], dict[str, Any]] = {}
    for category in category_specs:
        name = category["name"]
        counted: dict[str, float | None] = {}
        for component in category["components"]:
            score = component_scores[name][component["name"]]
            if score is None:
                score = MissingPolicy.parse(component.get("missing")).substitute()
            counted[component["name"]] = score
        if category_scores[name] is not None:
            component_total = sum(component["weight"] for component in category["components"]
                                  if counted[component["name"]] is not None)
        else:
            component_total = sum(component["weight"] for component in category["components"])
        for component in category["components"]:
            if category_scores[name] is not None:
                score = counted[component["name"]]
                value = score
            else:
                score = None
                value = effective[name]
            if health_score is None:
                weight = contribution = None
            elif value is None:
                weight, contribution = 0.0, 0.0
            else:
                weight = 100 * (category["weight"] / counted_weight) * (component["weight"] / component_total)
                contribution = weight * value / 100
            parts[(name, component["name"])] = {"score": score, "weight": weight, "contribution": contribution,
                                                "category_score": category_scores[name]}
    scored = [(score, index) for index, score in enumerate(category_scores.values()) if score is not None]
    weakest = category_specs[min(scored)[1]]["name"] if scored else None
    return parts, weakest


def explanations_view(definition: Mapping[str, Any], days: Iterable[ScoredDay]) -> list[dict[str, Any]]:
    """Rows of a health score's explanations view: one per component, account and day."""
    default_category_missing = definition.get("missing", "renormalize")
    rows = []
    contributions: dict[tuple[Any, str, str, int], float | None] = {}
    for scored in days:
        parts, weakest = explain(scored.categories, scored.scores, default_category_missing)
        for category in scored.categories:
            for component in category["components"]:
                key = (category["name"], component["name"])
                part = parts[key]
                contributions[(scored.account, *key, scored.day)] = part["contribution"]
                rows.append({
                    "as_of_date": date.fromordinal(scored.day), "account_id": scored.account,
                    "category": category["name"], "component": component["name"],
                    "raw_value": scored.raw[key], "score": part["score"], "weight": part["weight"],
                    "contribution": part["contribution"], "day": scored.day,
                    "category_score": part["category_score"], "weakest_category": weakest,
                })
    for row in rows:
        key = (row["account_id"], row["category"], row["component"], row.pop("day") - 7)
        earlier = contributions.get(key)
        now = row["contribution"]
        row["contribution_change_7d"] = None if now is None or earlier is None else now - earlier
    return [{column: row[column] for column in EXPLANATION_COLUMNS} for row in rows]
