"""Semantic checks across definitions: references, tier order, weights, bands and time zones."""

from __future__ import annotations

import zoneinfo
from pathlib import Path

from healthlayer.compiler.plan import INTERNAL_PREFIX
from healthlayer.definitions import models
from healthlayer.definitions.fixtures import check_tests
from healthlayer.definitions.issues import Issue, Location, closest_name, did_you_mean
from healthlayer.definitions.lint import lint_project
from healthlayer.definitions.project import Project
from healthlayer.definitions.references import (
    ALERTS_VIEW,
    FIXED_VIEWS,
    TIERS_VIEW,
    TRANSITIONS_VIEW,
    defined_storage,
    output_storage,
    attribute_candidates,
    metric_candidates,
    resolve_attribute,
    resolve_metric,
)

RESERVED_TIER_NAMES = ("inactive", "any")
WEIGHT_TOTAL = 100.0
WEIGHT_TOLERANCE = 1e-9


def check_project(project: Project) -> list[Issue]:
    """Run every cross-definition check and return the issues found."""
    issues: list[Issue] = []
    issues += check_time_zone(project)
    issues += _check_source_files(project)
    issues += _check_derived_columns(project)
    issues += _check_engagement(project)
    issues += _check_stickiness(project)
    issues += _check_tier_mix(project)
    issues += _check_alerts(project)
    issues += _check_account_metrics(project)
    issues += _check_health_scores(project)
    issues += _check_view_names(project)
    issues += _check_outputs(project)
    issues += check_tests(project)
    complete = not project.invalid and not any(issue.severity == "error" for issue in issues)
    issues += lint_project(project, complete)
    return issues


def check_time_zone(project: Project) -> list[Issue]:
    name = project.config.time_zone
    # The right/ and posix/ trees of the tz database are not time zone names that SQL engines accept.
    valid = ("/" in name or name in ("UTC", "Etc/UTC")) and not name.startswith(("right/", "posix/"))
    if valid:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            # OSError: a name too long for the file system that contains the time zone database.
            valid = False
    if valid:
        return []
    return [Issue("invalid-time-zone", f"'{name}' is not an IANA time zone name",
                  project.config_file.location(("time_zone",)),
                  _time_zone_hint(name))]


def _time_zone_hint(name: str) -> str:
    zones = sorted(zone for zone in zoneinfo.available_timezones() if "/" in zone)
    match = closest_name(name, zones)
    prefix = f"Did you mean '{match}'? " if match else ""
    return prefix + "Use names such as 'UTC', 'Europe/Berlin' or 'America/New_York', not abbreviations such as 'CET'."


SOURCE_FILE_SUFFIXES = (".parquet", ".csv")


def _check_source_files(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for name, source in project.sources.items():
        if source.file is None:
            continue
        path = project.root / source.file
        if path.suffix.lower() not in SOURCE_FILE_SUFFIXES:
            issues.append(Issue("invalid-file-type", f"file '{source.file}' is not a .parquet or .csv file",
                                project.location("sources", name, "file"),
                                "Convert the data to Parquet or CSV, or load it into a table and use 'table:'."))
        elif not _is_file(path):
            issues.append(Issue("file-not-found", f"file '{source.file}' does not exist",
                                project.location("sources", name, "file"),
                                f"Paths are relative to the project folder {project.root}."))
    return issues


def _check_derived_columns(project: Project) -> list[Issue]:
    """Report derived columns of time-stamped sources and derived names that a column already has."""
    issues: list[Issue] = []
    for name, source in project.sources.items():
        if source.derived and not source.is_attribute_source:
            issues.append(Issue("invalid-value", f"source '{name}' has a 'timestamp', and only attribute sources "
                                "have derived columns", project.location("sources", name, "derived"),
                                "Compute the value in the 'value' of an account metric instead, or remove 'derived'."))
            continue
        for column in source.derived:
            if column in source.known_columns():
                issues.append(Issue("duplicate-column", f"derived column '{column}' of source '{name}' has the name "
                                    "of one of its columns", project.location("sources", name, "derived", column),
                                    "Give the derived column a name of its own."))
    return issues


def _is_file(path: Path) -> bool:
    """Return whether a path is a file; False for names the operating system rejects, such as over-long ones."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _check_engagement(project: Project) -> list[Issue]:
    engagement = project.engagement
    if engagement is None:
        return []
    issues: list[Issue] = []
    where = ("engagement", "engagement")
    source = project.sources.get(engagement.source)
    if source is None and project.is_invalid("sources", engagement.source):
        pass
    elif source is None:
        issues.append(Issue("unknown-source", f"source '{engagement.source}' is not defined",
                            project.location(*where, "source"), did_you_mean(engagement.source, project.sources)))
    elif not source.is_event_source:
        issues.append(Issue("not-event-source", f"source '{engagement.source}' is not an event source",
                            project.location(*where, "source"),
                            "An event source declares 'user', 'timestamp' and 'event_name' columns."))
    seen: dict[str, int] = {}
    for index, tier in enumerate(engagement.tiers):
        if tier.name in RESERVED_TIER_NAMES:
            issues.append(Issue("reserved-tier-name", f"'{tier.name}' is reserved and cannot name a tier",
                                project.location(*where, "tiers", index, "name"), "Choose another tier name."))
        if tier.name in seen:
            first = project.location(*where, "tiers", seen[tier.name], "name").line
            issues.append(Issue("duplicate-name", f"tier '{tier.name}' is listed twice, first on line {first}",
                                project.location(*where, "tiers", index, "name"), "Tier names must be unique."))
        seen.setdefault(tier.name, index)
        if tier.min_distinct and source is not None and tier.min_distinct.column not in source.known_columns():
            issues.append(Issue("unknown-column", f"column '{tier.min_distinct.column}' is not a column of "
                                f"source '{source.name}'",
                                project.location(*where, "tiers", index, "min_distinct", "column"),
                                did_you_mean(tier.min_distinct.column, source.known_columns())))
    issues += _check_tier_order(project, engagement)
    return issues


# Common tier names by their usual rank, lowest first, to catch tiers listed highest first.
_CONVENTIONAL_TIER_RANKS = {"passive": 0, "casual": 0, "light": 0, "active": 1, "core": 1, "regular": 1,
                            "engaged": 1, "power": 2, "expert": 2, "champion": 3}


def _catches_every_event(tier: models.Tier) -> bool:
    return tier.events == "*" and tier.filter is None and not tier.has_threshold


def _covers(higher: models.Tier, lower: models.Tier) -> bool:
    """Return whether every user who meets the lower tier's rule also meets the higher tier's rule."""
    if higher.filter is not None or higher.has_threshold:
        return False
    if higher.events == "*":
        return True
    if isinstance(higher.events, list) and isinstance(lower.events, list):
        return set(lower.events) <= set(higher.events)
    return False


def _check_tier_order(project: Project, engagement: models.Engagement) -> list[Issue]:
    """Find tiers that no user can reach, and conventional names listed highest first.

    A user's tier is the highest tier whose rule the user meets. A lower tier is unreachable when
    the higher tiers that accept single events (no filter or threshold) together accept every
    event that the lower tier accepts.
    """
    issues: list[Issue] = []
    tiers = engagement.tiers
    for index, lower in enumerate(tiers):
        higher_tiers = [(position, tier) for position, tier in enumerate(tiers) if position > index
                        and tier.name != lower.name and tier.filter is None and not tier.has_threshold]
        covering = [(position, tier) for position, tier in higher_tiers if _covers(tier, lower)]
        together: set[str] = set()
        for _, tier in higher_tiers:
            together |= set(tier.events) if isinstance(tier.events, list) else set()
        if covering:
            position, higher = covering[0]
            line = project.location("engagement", "engagement", "tiers", position).line
            what = "any event" if higher.events == "*" else "every event of this tier"
            reason = f"the higher tier '{higher.name}' (line {line}) accepts {what}"
        elif isinstance(lower.events, list) and len(higher_tiers) > 1 and set(lower.events) <= together:
            names = ", ".join(f"'{tier.name}'" for _, tier in higher_tiers)
            reason = f"the higher tiers {names} together accept every event of this tier"
        else:
            continue
        issues.append(Issue(
            "unreachable-tier", f"no user can be in tier '{lower.name}': {reason} without a filter or threshold",
            project.location("engagement", "engagement", "tiers", index, "events"),
            "List tiers lowest first, give the higher tier its own events, or add a threshold "
            "(min_events, min_distinct) to it."))
    ranked = [(index, _CONVENTIONAL_TIER_RANKS[tier.name]) for index, tier in enumerate(tiers)
              if tier.name in _CONVENTIONAL_TIER_RANKS]
    for (first_index, first_rank), (second_index, second_rank) in zip(ranked, ranked[1:]):
        if first_rank > second_rank:
            order = " < ".join(tier.name for tier in tiers)
            issues.append(Issue(
                "tier-order", f"tier '{tiers[second_index].name}' is listed after '{tiers[first_index].name}', so it "
                f"ranks higher: tiers are listed lowest first, and the order here is {order}",
                project.location("engagement", "engagement", "tiers", second_index, "name"),
                "Move the tier if this order is not intended.", severity="warning"))
            break
    return issues


def _check_by(project: Project, kind: str, name: str, by: list[str]) -> list[Issue]:
    issues: list[Issue] = []
    source = project.sources.get(project.engagement.source) if project.engagement else None
    allowed = {"account"} | (set(source.columns) if source else set())
    for index, column in enumerate(by):
        if column not in allowed and source is not None:
            issues.append(Issue("unknown-column", f"cannot group by '{column}'",
                                project.location(kind, name, "by", index),
                                did_you_mean(column, allowed) + " Group by 'account' or a declared column "
                                "of the engagement source."))
    if len(set(by)) != len(by):
        issues.append(Issue("duplicate-name", "a column is listed twice in 'by'", project.location(kind, name, "by"),
                            "List each column once."))
    return issues


def _needs_engagement(project: Project, kind: str, name: str) -> list[Issue] | None:
    """Return the issue of a definition that needs tiers when the project has none; None when it has tiers."""
    if project.engagement is not None:
        return None
    if project.is_invalid("engagement", "engagement"):
        return []
    return [Issue("missing-engagement", "this definition needs an 'engagement' block with the event source "
                  "and tiers", project.location(kind, name), "Add 'engagement:' to a definition file.")]


def _check_stickiness(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for name, stickiness in project.stickiness.items():
        needed = _needs_engagement(project, "stickiness", name)
        if needed is not None:
            issues += needed
            continue
        levels = ["any"] + project.tier_names()
        if stickiness.level not in levels and not project.is_invalid("engagement", "engagement"):
            issues.append(Issue("unknown-tier", f"activity level '{stickiness.level}' is not 'any' or a tier",
                                project.location("stickiness", name, "level"), did_you_mean(stickiness.level, levels)))
        issues += _check_by(project, "stickiness", name, stickiness.by)
        if not stickiness.windows:
            issues.append(Issue("missing-window", "'windows' is empty", project.location("stickiness", name, "windows"),
                                "Declare windows such as {dau: 1, wau: 7, mau: 30}."))
        for window in stickiness.windows:
            if window in ("activity_date", "is_complete", "account_id") or window in stickiness.by:
                issues.append(Issue("reserved-column", f"window name '{window}' is also a column name of the view",
                                    project.location("stickiness", name, "windows", window), "Rename the window."))
        for index, ratio in enumerate(stickiness.ratios or []):
            try:
                numerator, denominator = models.split_ratio(ratio, stickiness.windows)
            except ValueError as error:
                issues.append(Issue("invalid-ratio", str(error), project.location("stickiness", name, "ratios", index),
                                    "Name a ratio <numerator window>_<denominator window>, such as dau_mau."))
                continue
            if stickiness.windows[numerator] >= stickiness.windows[denominator]:
                issues.append(Issue(
                    "invalid-ratio", f"ratio '{ratio}' divides a {stickiness.windows[numerator]}-day window by a "
                    f"{stickiness.windows[denominator]}-day window; stickiness divides a shorter window by a longer one",
                    project.location("stickiness", name, "ratios", index),
                    f"Write '{denominator}_{numerator}'." if stickiness.windows[numerator] > stickiness.windows[denominator]
                    else "Give the two windows different lengths."))
    return issues


def _check_tier_mix(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for name, tier_mix in project.tier_mix.items():
        needed = _needs_engagement(project, "tier_mix", name)
        if needed is not None:
            issues += needed
            continue
        issues += _check_by(project, "tier_mix", name, tier_mix.by)
        if tier_mix.target and tier_mix.target.tier not in project.tier_names() \
                and not project.is_invalid("engagement", "engagement"):
            issues.append(Issue("unknown-tier", f"target tier '{tier_mix.target.tier}' is not a tier",
                                project.location("tier_mix", name, "target", "tier"),
                                did_you_mean(tier_mix.target.tier, project.tier_names())))
    return issues


def _check_alerts(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for name, alert in project.alerts.items():
        if isinstance(alert, models.StaleDataAlert):
            issues += _check_stale_data_alert(project, name, alert)
            continue
        if not isinstance(alert, models.TierDropAlert):
            issues += _check_health_alert(project, name, alert)
            continue
        needed = _needs_engagement(project, "alerts", name)
        if needed is not None:
            issues += needed
            continue
        tiers = project.tier_names()
        if project.is_invalid("engagement", "engagement"):
            continue
        known = True
        for key, tier, allowed in (("from", alert.from_tier, tiers), ("to", alert.to_tier, ["inactive"] + tiers)):
            if tier not in allowed:
                known = False
                issues.append(Issue("unknown-tier", f"tier '{tier}' is not defined",
                                    project.location("alerts", name, key), did_you_mean(tier, allowed)))
        if known and project.tier_rank(alert.from_tier) <= project.tier_rank(alert.to_tier):
            issues.append(Issue("invalid-tier-drop", f"'{alert.from_tier}' to '{alert.to_tier}' is not a drop",
                                project.location("alerts", name, "to"),
                                "A tier drop goes from a higher tier to a lower one; tiers are ordered "
                                f"inactive < {' < '.join(tiers)}."))
    return issues


def _check_health_alert(project: Project, name: str, alert: models.HealthAlert) -> list[Issue]:
    """Check that a health alert names a health score and, where it names bands, bands of that score."""
    score = project.health_scores.get(alert.score)
    if score is None:
        if project.is_invalid("health_scores", alert.score):
            return []
        return [Issue("unknown-health-score", f"health score '{alert.score}' is not defined",
                      project.location("alerts", name, "score"),
                      did_you_mean(alert.score, list(project.health_scores)))]
    band_names = [band.name for band in score.bands]
    named: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(alert, models.BandChangeAlert) and alert.to_bands is not None:
        if isinstance(alert.to_bands, str):
            named.append((("to",), alert.to_bands))
        else:
            named += [(("to", index), band) for index, band in enumerate(alert.to_bands)]
    if isinstance(alert, models.RedReviewAlert) and alert.band is not None:
        named.append((("band",), alert.band))
    issues = []
    for key_path, band in named:
        if band not in band_names:
            issues.append(Issue("unknown-band", f"band '{band}' is not a band of health score '{alert.score}'",
                                project.location("alerts", name, *key_path), did_you_mean(band, band_names)))
    return issues


def _check_stale_data_alert(project: Project, name: str, alert: models.StaleDataAlert) -> list[Issue]:
    """Check that a stale-data alert reads a time-stamped source with an account column."""
    issues: list[Issue] = []
    if alert.min_active_days > alert.lookback:
        issues.append(Issue("invalid-value", f"'min_active_days' ({alert.min_active_days}) is more than the "
                            f"{alert.lookback} days of 'lookback'", project.location("alerts", name, "min_active_days"),
                            "Lower 'min_active_days', or lengthen 'lookback'."))
    if alert.source is None:
        needed = _needs_engagement(project, "alerts", name)
        if needed is not None:
            return issues + [Issue("missing-engagement", "a stale-data alert without 'source' reads the engagement "
                                   "source, and the project has no 'engagement' block", issue.location,
                                   "Add 'source:' with a time-stamped source, or an 'engagement:' block.")
                             for issue in needed]
        return issues
    source = project.sources.get(alert.source)
    if source is None:
        if not project.is_invalid("sources", alert.source):
            issues.append(Issue("unknown-source", f"source '{alert.source}' is not defined",
                                project.location("alerts", name, "source"),
                                did_you_mean(alert.source, list(project.sources))))
        return issues
    if source.timestamp is None:
        issues.append(Issue("source-without-timestamp", f"source '{alert.source}' has no timestamp column, so its "
                            "rows have no day", project.location("alerts", name, "source"),
                            "Name a source with 'timestamp:', such as an event or ticket table."))
    return issues


def _check_account_metrics(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for name, metric in project.account_metrics.items():
        source = project.sources.get(metric.source)
        if source is None and project.is_invalid("sources", metric.source):
            pass
        elif source is None:
            issues.append(Issue("unknown-source", f"source '{metric.source}' is not defined",
                                project.location("account_metrics", name, "source"),
                                did_you_mean(metric.source, project.sources)))
        elif source.timestamp is None:
            issues.append(Issue("not-time-stamped", f"source '{metric.source}' has no timestamp column, so it "
                                "has no windows", project.location("account_metrics", name, "source"),
                                "Use an attribute component for account attributes, or declare 'timestamp'."))
        if source is not None:
            issues += _check_aggregate_type(project, name, metric, source)
        if name in project.stickiness or name in project.tier_mix:
            issues.append(Issue("duplicate-name", f"'{name}' names both an account metric and a view",
                                project.location("account_metrics", name, "name"), "Rename the account metric."))
    return issues


NUMERIC_AGGREGATES = ("sum", "avg")


def _check_aggregate_type(project: Project, name: str, metric: models.AccountMetric,
                          source: models.Source) -> list[Issue]:
    """Report sum and avg over a column whose declared type is not a number.

    Only a value that is a bare column name is checked: the type of an expression is known to
    the warehouse alone.
    """
    if metric.aggregate not in NUMERIC_AGGREGATES or metric.value is None:
        return []
    column = metric.value.strip().strip('"')
    roles = {value: role for role, value in source.role_columns().items()}
    declared = source.columns.get(column) or ("timestamp" if roles.get(column) == "timestamp" else
                                              "text" if column in roles else None)
    if declared is None or declared in ("number", "integer"):
        return []
    return [Issue("invalid-aggregate", f"aggregate '{metric.aggregate}' needs numbers, but column '{column}' of "
                  f"source '{source.name}' is {declared}", project.location("account_metrics", name, "value"),
                  "Use count_distinct, min or max for this column, or aggregate a numeric column or expression.")]


def _check_weights(project: Project, where: tuple, label: str, weights: list[float], normalize: bool) -> list[Issue]:
    total = sum(weights)
    if normalize or abs(total - WEIGHT_TOTAL) <= WEIGHT_TOLERANCE:
        return []
    return [Issue("weights-not-100", f"the {label} sum to {total:g}, not 100", project.location(*where),
                  "Change the weights so that they sum to 100, or set 'normalize: true' on the health score.")]


def _check_health_scores(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for name, score in project.health_scores.items():
        where = ("health_scores", name)
        if project.is_invalid("sources", score.population.source):
            pass
        elif score.population.source not in project.sources:
            issues.append(Issue("unknown-source", f"source '{score.population.source}' is not defined",
                                project.location(*where, "population", "source"),
                                did_you_mean(score.population.source, project.sources)))
        elif project.sources[score.population.source].timestamp is None:
            issues.append(Issue("not-time-stamped", "the population source needs a timestamp column",
                                project.location(*where, "population", "source"),
                                "Use the event source, whose first event starts each account's history."))
        issues += _check_weights(project, where + ("categories",), "category weights",
                                 [category.weight for category in score.categories], score.normalize)
        category_names: dict[str, int] = {}
        for category_index, category in enumerate(score.categories):
            category_where = where + ("categories", category_index)
            if category.name in category_names:
                first = project.location(*where, "categories", category_names[category.name]).line
                issues.append(Issue("duplicate-name", f"category '{category.name}' is listed twice, first on line {first}",
                                    project.location(*category_where, "name"), "Category names must be unique."))
            category_names.setdefault(category.name, category_index)
            issues += _check_weights(project, category_where + ("components",),
                                     f"component weights of category '{category.name}'",
                                     [c.weight for c in category.components], score.normalize)
            component_names: dict[str, int] = {}
            for component_index, component in enumerate(category.components):
                component_where = category_where + ("components", component_index)
                if component.name in component_names:
                    first = project.location(*category_where, "components", component_names[component.name]).line
                    issues.append(Issue("duplicate-name", f"component '{component.name}' is listed twice, first on "
                                        f"line {first}", project.location(*component_where, "name"),
                                        "Component names must be unique."))
                component_names.setdefault(component.name, component_index)
                issues += _check_component(project, component, component_where)
        issues += _check_bands(project, score, where)
        issues += _check_segments(project, score, where)
    return issues


def _check_segments(project: Project, score: models.HealthScore, where: tuple) -> list[Issue]:
    """Check the segment attribute of a health score and the category weights of each segment."""
    issues: list[Issue] = []
    if score.segment_weights and score.segment is None:
        return [Issue("invalid-value", "'segment_weights' needs 'segment', the attribute whose value selects them",
                      project.location(*where, "segment_weights"),
                      "Add 'segment: source.column', such as segment: accounts.plan.")]
    if score.segment is not None and not _reference_invalid(project, score.segment) \
            and resolve_attribute(project, score.segment) is None:
        issues.append(_unknown_attribute(project, score.segment, project.location(*where, "segment"),
                                         " Name source.column of a source without a timestamp, such as the "
                                         "account's plan."))
    categories = [category.name for category in score.categories]
    for value, weights in score.segment_weights.items():
        segment_where = where + ("segment_weights", value)
        for name in weights:
            if name not in categories:
                issues.append(Issue("unknown-category", f"segment '{value}' weights category '{name}', which the "
                                    "score does not have", project.location(*segment_where, name),
                                    did_you_mean(name, categories) + f" The categories are {', '.join(categories)}."))
        missing = [name for name in categories if name not in weights]
        if any(name not in categories for name in weights):
            continue
        if missing:
            issues.append(Issue("invalid-value", f"segment '{value}' gives no weight to {', '.join(missing)}",
                                project.location(*segment_where),
                                "Give every category a weight in each segment."))
        else:
            issues += _check_weights(project, segment_where, f"category weights of segment '{value}'",
                                     list(weights.values()), score.normalize)
    return issues


def _reference_invalid(project: Project, reference: str) -> bool:
    """Return whether a metric or attribute reference names a definition that failed validation."""
    head = reference.partition(".")[0]
    kinds = ("account_metrics", "stickiness", "tier_mix", "sources")
    return any(project.is_invalid(kind, head) for kind in kinds) or project.is_invalid("engagement", "engagement")


def _check_component(project: Project, component: models.Component, where: tuple) -> list[Issue]:
    reference = component.metric or component.attribute or (component.trend.reference if component.trend else "")
    if _reference_invalid(project, reference):
        return []
    if component.metric is not None and resolve_metric(project, component.metric) is None:
        return [Issue("unknown-metric", f"metric '{component.metric}' is not defined",
                      project.location(*where, "metric"), did_you_mean(component.metric, metric_candidates(project))
                      + " Name an account metric, or view.column of a stickiness or tier-mix view by account.")]
    if component.trend is not None and component.trend.metric is not None \
            and resolve_metric(project, component.trend.metric) is None:
        return [Issue("unknown-metric", f"metric '{component.trend.metric}' is not defined",
                      project.location(*where, "trend", "metric"),
                      did_you_mean(component.trend.metric, metric_candidates(project)))]
    if component.trend is not None and component.trend.attribute is not None:
        return _check_trend_attribute(project, component.trend.attribute, where + ("trend", "attribute"))
    if component.attribute is not None and resolve_attribute(project, component.attribute) is None:
        return [_unknown_attribute(project, component.attribute, project.location(*where, "attribute"),
                                   " Name source.column of a source without a timestamp.")]
    within = component.score.within if isinstance(component.score, models.Percentile) else None
    if within is not None and not _reference_invalid(project, within) and resolve_attribute(project, within) is None:
        return [_unknown_attribute(project, within, project.location(*where, "score", "within"),
                                   " Name source.column of a source without a timestamp, such as the account's plan.")]
    return []


def _check_trend_attribute(project: Project, reference: str, where: tuple) -> list[Issue]:
    """Check that a trend follows an attribute with history, because a snapshot attribute's trend is always 0."""
    resolved = resolve_attribute(project, reference)
    if resolved is None:
        return [_unknown_attribute(project, reference, project.location(*where),
                                   " Name source.column of a source with 'valid_from'.", history_only=True)]
    source_name, _ = resolved
    if not project.sources[source_name].has_history:
        return [Issue("trend-without-history", f"attribute '{reference}' has no history: source '{source_name}' "
                      "holds one value per account, so its trend would always be 0", project.location(*where),
                      f"Add 'valid_from: <column>' to source '{source_name}', with one row per account and change, "
                      "or score the attribute itself with 'attribute:'.")]
    return []


def _unknown_attribute(project: Project, reference: str, location: Location, hint: str,
                       history_only: bool = False) -> Issue:
    """Describe an attribute reference that names nothing, or that names a source's valid_from column."""
    source_name, _, column = reference.partition(".")
    source = project.sources.get(source_name)
    if source is not None and source.valid_from is not None and column == source.valid_from:
        columns = ", ".join(f"'{source_name}.{name}'" for name in source.attribute_columns()) or "none"
        return Issue("unknown-attribute", f"'{reference}' is the valid_from column of source '{source_name}', the "
                     "day from which each row holds, not an attribute", location,
                     f"Name an attribute column of the source; its attributes are {columns}.")
    candidates = attribute_candidates(project, history_only=history_only)
    return Issue("unknown-attribute", f"attribute '{reference}' is not defined", location,
                 did_you_mean(reference, candidates) + hint)


def _check_bands(project: Project, score: models.HealthScore, where: tuple) -> list[Issue]:
    issues: list[Issue] = []
    names: dict[str, int] = {}
    minimums: dict[float, int] = {}
    for index, band in enumerate(score.bands):
        if band.name in names:
            first = project.location(*where, "bands", names[band.name]).line
            issues.append(Issue("duplicate-name", f"band '{band.name}' is listed twice, first on line {first}",
                                project.location(*where, "bands", index, "name"), "Band names must be unique."))
        if band.min in minimums:
            other = score.bands[minimums[band.min]]
            first = project.location(*where, "bands", minimums[band.min]).line
            issues.append(Issue("overlapping-bands", f"bands '{other.name}' (line {first}) and '{band.name}' have "
                                f"the same 'min' {band.min:g}", project.location(*where, "bands", index, "min"),
                                "Give each band its own lower bound."))
        names.setdefault(band.name, index)
        minimums.setdefault(band.min, index)
    if 0 not in minimums:
        issues.append(Issue("band-gap", f"no band starts at 0, so scores below {min(minimums):g} have no band",
                            project.location(*where, "bands"), "Give the lowest band 'min: 0'."))
    return issues


def _check_view_names(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    seen: dict[str, str] = {}
    for kind in ("stickiness", "tier_mix", "health_scores"):
        for name in getattr(project, kind):
            if name.startswith(INTERNAL_PREFIX):
                issues.append(Issue("reserved-name", f"view name '{name}' starts with '{INTERNAL_PREFIX}', which "
                                    "healthlayer reserves for its internal views", project.location(kind, name, "name"),
                                    f"Choose a name that does not start with '{INTERNAL_PREFIX}'."))
                continue
            if name in FIXED_VIEWS or name in seen:
                other = seen.get(name, "a built-in view")
                issues.append(Issue("duplicate-name", f"view name '{name}' is also used by {other}",
                                    project.location(kind, name, "name"), "Give every view its own name."))
            seen[name] = kind
    return issues


def output_names(project: Project) -> list[str]:
    """Return the names of the output views that the project's definitions produce."""
    names = list(project.stickiness) + list(project.tier_mix) + list(project.health_scores)
    if project.engagement is not None:
        names += [TIERS_VIEW, TRANSITIONS_VIEW]
    if project.alerts:
        names.append(ALERTS_VIEW)
    return names


def _check_outputs(project: Project) -> list[Issue]:
    """Report storage settings of views that the project does not produce, and lookbacks of non-incremental ones."""
    known = output_names(project)
    issues = []
    explained = {f"{score}_explanations": score for score in project.health_scores}
    for name, setting in project.config.outputs.items():
        if name in explained:
            issues.append(Issue("invalid-value", f"'{name}' explains the health score '{explained[name]}' and is "
                                "always a view, computed from the score's components when it is read",
                                project.config_file.location(("outputs", name)), f"Remove '{name}' from 'outputs'."))
        elif name not in known:
            issues.append(Issue("unknown-output", f"the project has no output view named '{name}'",
                                project.config_file.location(("outputs", name)), did_you_mean(name, known)))
        elif "lookback" in setting.model_fields_set and "materialized" not in setting.model_fields_set \
                and defined_storage(project, name)[0] != "incremental":
            issues.append(Issue("invalid-value", f"'lookback' applies only to incremental tables, and the definition "
                                f"of '{name}' stores it as a {defined_storage(project, name)[0]}",
                                project.config_file.location(("outputs", name, "lookback")),
                                "Add 'materialized: incremental' here, or remove 'lookback'."))
    for name, score in project.health_scores.items():
        if output_storage(project, name)[0] == "incremental" and score.population.filter is not None:
            override = project.config.outputs.get(name)
            if override is not None and "materialized" in override.model_fields_set:
                location = project.config_file.location(("outputs", name, "materialized"))
            else:
                location = project.location("health_scores", name, "materialized")
            issues.append(Issue(
                "incremental-population-filter", f"health score '{name}' cannot be an incremental table, because its "
                "population has a filter: an account that matches it in new events gets rows for its earlier days too, "
                "which a refresh of the recent days does not write", location,
                "Store it as 'materialized: table', which refresh rebuilds, or drop the population filter."))
    return issues
