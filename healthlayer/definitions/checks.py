"""Semantic checks across definitions: references, tier order, weights, bands and time zones."""

from __future__ import annotations

import zoneinfo
from pathlib import Path

from healthlayer.compiler.plan import INTERNAL_PREFIX
from healthlayer.definitions import models
from healthlayer.definitions.issues import Issue, closest_name, did_you_mean
from healthlayer.definitions.project import Project
from healthlayer.definitions.references import (
    FIXED_VIEWS,
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
    issues += _check_engagement(project)
    issues += _check_stickiness(project)
    issues += _check_tier_mix(project)
    issues += _check_alerts(project)
    issues += _check_account_metrics(project)
    issues += _check_health_scores(project)
    issues += _check_view_names(project)
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
    if source is None:
        issues.append(Issue("unknown-source", f"source '{engagement.source}' is not defined",
                            project.location(*where, "source"), did_you_mean(engagement.source, project.sources)))
    elif not source.is_event_source:
        issues.append(Issue("not-event-source", f"source '{engagement.source}' is not an event source",
                            project.location(*where, "source"),
                            "An event source declares 'user', 'timestamp' and 'event_name' columns."))
    seen: set[str] = set()
    for index, tier in enumerate(engagement.tiers):
        if tier.name in RESERVED_TIER_NAMES:
            issues.append(Issue("reserved-tier-name", f"'{tier.name}' is reserved and cannot name a tier",
                                project.location(*where, "tiers", index, "name"), "Choose another tier name."))
        if tier.name in seen:
            issues.append(Issue("duplicate-name", f"tier '{tier.name}' is listed twice",
                                project.location(*where, "tiers", index, "name"), "Tier names must be unique."))
        seen.add(tier.name)
        if tier.min_distinct and source is not None and tier.min_distinct.column not in source.known_columns():
            issues.append(Issue("unknown-column", f"column '{tier.min_distinct.column}' is not a column of "
                                f"source '{source.name}'",
                                project.location(*where, "tiers", index, "min_distinct", "column"),
                                did_you_mean(tier.min_distinct.column, source.known_columns())))
    return issues


def _check_by(project: Project, kind: str, name: str, by: list[str]) -> list[Issue]:
    issues: list[Issue] = []
    source = project.sources.get(project.engagement.source) if project.engagement else None
    allowed = {"account"} | (set(source.columns) if source else set())
    for index, column in enumerate(by):
        if column not in allowed:
            issues.append(Issue("unknown-column", f"cannot group by '{column}'",
                                project.location(kind, name, "by", index),
                                did_you_mean(column, allowed) + " Group by 'account' or a declared column "
                                "of the engagement source."))
    if len(set(by)) != len(by):
        issues.append(Issue("duplicate-name", "a column is listed twice in 'by'", project.location(kind, name, "by"),
                            "List each column once."))
    return issues


def _needs_engagement(project: Project, kind: str, name: str) -> list[Issue]:
    if project.engagement is not None:
        return []
    return [Issue("missing-engagement", "this definition needs an 'engagement' block with the event source "
                  "and tiers", project.location(kind, name), "Add 'engagement:' to a definition file.")]


def _check_stickiness(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for name, stickiness in project.stickiness.items():
        needed = _needs_engagement(project, "stickiness", name)
        if needed:
            issues += needed
            continue
        levels = ["any"] + project.tier_names()
        if stickiness.level not in levels:
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
                models.split_ratio(ratio, stickiness.windows)
            except ValueError as error:
                issues.append(Issue("invalid-ratio", str(error), project.location("stickiness", name, "ratios", index),
                                    "Name a ratio <numerator window>_<denominator window>, such as dau_mau."))
    return issues


def _check_tier_mix(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for name, tier_mix in project.tier_mix.items():
        needed = _needs_engagement(project, "tier_mix", name)
        if needed:
            issues += needed
            continue
        issues += _check_by(project, "tier_mix", name, tier_mix.by)
        if tier_mix.target and tier_mix.target.tier not in project.tier_names():
            issues.append(Issue("unknown-tier", f"target tier '{tier_mix.target.tier}' is not a tier",
                                project.location("tier_mix", name, "target", "tier"),
                                did_you_mean(tier_mix.target.tier, project.tier_names())))
    return issues


def _check_alerts(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for name, alert in project.alerts.items():
        needed = _needs_engagement(project, "alerts", name)
        if needed:
            issues += needed
            continue
        tiers = project.tier_names()
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


def _check_account_metrics(project: Project) -> list[Issue]:
    issues: list[Issue] = []
    for name, metric in project.account_metrics.items():
        source = project.sources.get(metric.source)
        if source is None:
            issues.append(Issue("unknown-source", f"source '{metric.source}' is not defined",
                                project.location("account_metrics", name, "source"),
                                did_you_mean(metric.source, project.sources)))
        elif source.timestamp is None:
            issues.append(Issue("not-time-stamped", f"source '{metric.source}' has no timestamp column, so it "
                                "has no windows", project.location("account_metrics", name, "source"),
                                "Use an attribute component for account attributes, or declare 'timestamp'."))
        if name in project.stickiness or name in project.tier_mix:
            issues.append(Issue("duplicate-name", f"'{name}' names both an account metric and a view",
                                project.location("account_metrics", name, "name"), "Rename the account metric."))
    return issues


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
        if score.population.source not in project.sources:
            issues.append(Issue("unknown-source", f"source '{score.population.source}' is not defined",
                                project.location(*where, "population", "source"),
                                did_you_mean(score.population.source, project.sources)))
        elif project.sources[score.population.source].timestamp is None:
            issues.append(Issue("not-time-stamped", "the population source needs a timestamp column",
                                project.location(*where, "population", "source"),
                                "Use the event source, whose first event starts each account's history."))
        issues += _check_weights(project, where + ("categories",), "category weights",
                                 [category.weight for category in score.categories], score.normalize)
        category_names: set[str] = set()
        for category_index, category in enumerate(score.categories):
            category_where = where + ("categories", category_index)
            if category.name in category_names:
                issues.append(Issue("duplicate-name", f"category '{category.name}' is listed twice",
                                    project.location(*category_where, "name"), "Category names must be unique."))
            category_names.add(category.name)
            issues += _check_weights(project, category_where + ("components",),
                                     f"component weights of category '{category.name}'",
                                     [c.weight for c in category.components], score.normalize)
            component_names: set[str] = set()
            for component_index, component in enumerate(category.components):
                component_where = category_where + ("components", component_index)
                if component.name in component_names:
                    issues.append(Issue("duplicate-name", f"component '{component.name}' is listed twice",
                                        project.location(*component_where, "name"), "Component names must be unique."))
                component_names.add(component.name)
                issues += _check_component(project, component, component_where)
        issues += _check_bands(project, score, where)
    return issues


def _check_component(project: Project, component: models.Component, where: tuple) -> list[Issue]:
    if component.metric is not None and resolve_metric(project, component.metric) is None:
        return [Issue("unknown-metric", f"metric '{component.metric}' is not defined",
                      project.location(*where, "metric"), did_you_mean(component.metric, metric_candidates(project))
                      + " Name an account metric, or view.column of a stickiness or tier-mix view by account.")]
    if component.trend is not None and resolve_metric(project, component.trend.metric) is None:
        return [Issue("unknown-metric", f"metric '{component.trend.metric}' is not defined",
                      project.location(*where, "trend", "metric"),
                      did_you_mean(component.trend.metric, metric_candidates(project)))]
    if component.attribute is not None and resolve_attribute(project, component.attribute) is None:
        return [Issue("unknown-attribute", f"attribute '{component.attribute}' is not defined",
                      project.location(*where, "attribute"),
                      did_you_mean(component.attribute, attribute_candidates(project))
                      + " Name source.column of a source without a timestamp.")]
    return []


def _check_bands(project: Project, score: models.HealthScore, where: tuple) -> list[Issue]:
    issues: list[Issue] = []
    names = [band.name for band in score.bands]
    minimums = [band.min for band in score.bands]
    if len(set(names)) != len(names):
        issues.append(Issue("duplicate-name", "a band name is listed twice", project.location(*where, "bands"),
                            "Band names must be unique."))
    if len(set(minimums)) != len(minimums):
        issues.append(Issue("overlapping-bands", "two bands have the same 'min'", project.location(*where, "bands"),
                            "Give each band its own lower bound."))
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
