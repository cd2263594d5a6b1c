"""Lint rules: warnings about valid definitions that likely measure the wrong thing.

Each rule can be silenced on the definition it reports, with `lint_ignore: {rule: reason}`, or
for the whole project under `lint: ignore:` in healthlayer.yml. A silencing entry that silences
nothing is itself reported, so stale entries do not pile up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from healthlayer.definitions import models
from healthlayer.definitions.issues import Issue, Location, did_you_mean
from healthlayer.definitions.lint_rules import LINT_RULES, SURVEY_MAX_SHARE
from healthlayer.definitions.project import Project
from healthlayer.definitions.references import resolve_attribute, resolve_metric

# Event names of looking without doing: logins, sessions, page and screen views, in the spellings
# of common product-analytics tools (`$pageview`, `Page Viewed`, `session_start`, ...).
_PASSIVE_EVENT = re.compile(
    r"^(app_)?(log_?in|logged_in|log_?on|sign_?in|signed_in|session_?start(ed)?|app_?open(ed)?|open(ed)?_app"
    r"|visit(ed)?|heartbeat|ping|impression|page_?view(ed)?|pageleave|screen(_?view(ed)?)?|view(ed)?"
    r"|autocapture)$"
    r"|_view(ed)?$|_visit(ed)?$|_open(ed)?$"
)
# Words in a category name that mark it as the product-engagement category.
_ENGAGEMENT_WORDS = {"engagement", "usage", "adoption", "activity", "product"}
# Words in a component, metric, attribute or source name that mark a survey signal.
_SURVEY_WORDS = {"nps", "csat", "ces", "survey", "surveys", "satisfaction"}
_QUOTED = re.compile(r"'((?:[^']|'')*)'")


def _normalized(event: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", event.lower()).strip("_")


def _words(*names: str | None) -> set[str]:
    return {word for name in names if name for word in re.split(r"[^a-z0-9]+", name.lower()) if word}


@dataclass
class _Linter:
    project: Project
    passive_extra: set[str]
    issues: list[Issue] = field(default_factory=list)
    # Silencing entries by owner, such as ("stickiness", name) or ("project",): the rules with their
    # reasons, and a function that returns the location of one rule's entry.
    owners: dict[tuple, tuple[dict[str, str], Callable[[str], Location]]] = field(default_factory=dict)
    used: set[tuple[tuple, str]] = field(default_factory=set)

    def is_passive_event(self, event: str) -> bool:
        normalized = _normalized(event)
        return normalized in self.passive_extra or bool(_PASSIVE_EVENT.search(normalized))

    def warn(self, rule: str, message: str, location: Location, hint: str, owners: Iterable[tuple]) -> None:
        for owner in list(owners) + [("project",)]:
            if owner in self.owners and rule in self.owners[owner][0]:
                self.used.add((owner, rule))
                return
        hint += (f" To accept it, add '{rule}: <reason>' under 'lint_ignore' of the definition, or under "
                 "'lint: ignore:' in healthlayer.yml for the whole project.")
        self.issues.append(Issue(rule, message, location, hint, severity="warning"))


def lint_project(project: Project, complete: bool) -> list[Issue]:
    """Run every lint rule on a project and return its warnings, and errors in silencing entries.

    `complete` is true when the project has no errors. Otherwise unused definitions and unused
    silencing entries are not reported, since the definitions that use them may be the invalid ones.
    """
    linter = _Linter(project, {_normalized(name) for name in project.config.lint.passive_events})
    _collect_owners(linter)
    issues: list[Issue] = []
    _lint_activity(linter)
    _lint_health_scores(linter)
    if not complete:
        return issues + linter.issues
    _lint_unused(linter)
    for owner, (mapping, locate) in linter.owners.items():
        for rule in mapping:
            if rule in LINT_RULES and (owner, rule) not in linter.used:
                issues.append(Issue("unused-lint-ignore", f"rule '{rule}' is silenced, but reports nothing here",
                                    locate(rule), "Remove the entry.", severity="warning"))
    return issues + linter.issues


def _definition_locator(project: Project, kind: str, name: str, *key_path: str | int) -> Callable[[str], Location]:
    def locate(rule: str) -> Location:
        return project.location(kind, name, *key_path, "lint_ignore", rule)
    return locate


def _project_locator(project: Project) -> Callable[[str], Location]:
    def locate(rule: str) -> Location:
        return project.config_file.location(("lint", "ignore", rule))
    return locate


def _collect_owners(linter: _Linter) -> None:
    """Record every silencing entry by its owner; the models reject entries that name no rule."""
    project = linter.project
    owners: dict[tuple, tuple[dict[str, str], Callable[[str], Location]]] = {
        ("project",): (dict(project.config.lint.ignore), _project_locator(project)),
    }
    for kind in ("sources", "stickiness", "tier_mix", "alerts", "account_metrics", "health_scores"):
        for name, definition in getattr(project, kind).items():
            owners[(kind, name)] = (dict(definition.lint_ignore), _definition_locator(project, kind, name))
    if project.engagement is not None:
        owners[("engagement",)] = (dict(project.engagement.lint_ignore),
                                   _definition_locator(project, "engagement", "engagement"))
        for index, tier in enumerate(project.engagement.tiers):
            owners[("tier", tier.name)] = (dict(tier.lint_ignore),
                                           _definition_locator(project, "engagement", "engagement", "tiers", index))
    linter.owners = {owner: entry for owner, entry in owners.items() if entry[0]}


def level_passive_events(linter: _Linter, level: str) -> list[str]:
    """Return the passive events that count as activity at a level; 'any event' when every event counts."""
    project = linter.project
    if level == "any":
        return ["any event"]
    if project.engagement is None or level not in project.tier_names():
        return []
    found: list[str] = []
    for tier in project.engagement.tiers[project.tier_rank(level) - 1:]:
        found += _tier_passive_events(linter, tier)
    return sorted(set(found))


def _tier_passive_events(linter: _Linter, tier: models.Tier) -> list[str]:
    if tier.events == "*":
        return ["any event"] if tier.filter is None else []
    return [event for event in tier.events or [] if linter.is_passive_event(event)]


def _listed(events: list[str]) -> str:
    shown = ", ".join(events[:6])
    return shown + (f" and {len(events) - 6} more" if len(events) > 6 else "")


def _lint_activity(linter: _Linter) -> None:
    project = linter.project
    lowest = project.engagement.tiers[0] if project.engagement else None
    for name, stickiness in project.stickiness.items():
        # Passive events in higher tiers are reported on those tiers, so here only the levels
        # that admit the lowest tier's events, or every event, are reported.
        if stickiness.level == "any":
            passive = ["any event"]
        elif lowest is not None and stickiness.level == lowest.name:
            passive = _tier_passive_events(linter, lowest)
        else:
            continue
        if not passive:
            continue
        what = "any event" if passive == ["any event"] else f"a passive event ({_listed(passive)})"
        linter.warn("passive-activity",
                    f"stickiness '{name}' counts a user as active at level '{stickiness.level}' after {what}, "
                    "so visits without core actions count", project.location("stickiness", name, "level"),
                    "Count value delivered, not visits: set 'level' to the tier of core actions, such as 'active'.",
                    [("stickiness", name)])
    if project.engagement is None:
        return
    for index, tier in enumerate(project.engagement.tiers[1:], start=1):
        passive = _tier_passive_events(linter, tier)
        if passive:
            what = "any event" if passive == ["any event"] else f"the passive events {_listed(passive)}"
            linter.warn("passive-activity",
                        f"tier '{tier.name}' accepts {what}, so a login or page view alone puts a user above the "
                        "lowest tier", project.location("engagement", "engagement", "tiers", index, "events"),
                        "Keep passive events in the lowest tier and list the core actions here.",
                        [("tier", tier.name), ("engagement",)])


def _metric_is_passive(linter: _Linter, reference: str) -> bool:
    """Return whether a component's metric measures only passive activity."""
    project = linter.project
    resolved = resolve_metric(project, reference)
    if resolved is None:
        return False
    if resolved.kind == "stickiness":
        return bool(level_passive_events(linter, project.stickiness[resolved.name].level))
    if resolved.kind == "tier_mix":
        if resolved.column == "mau":
            return True
        tier = resolved.column.rsplit("_", 1)[0]
        return bool(level_passive_events(linter, tier))
    metric = project.account_metrics[resolved.name]
    source = project.sources.get(metric.source)
    if source is None or not source.is_event_source:
        return False
    if metric.filter is None:
        # Every event counts: the volume of activity, not what it achieved.
        return metric.aggregate == "count" or metric.value == source.user
    event_column = source.event_name or ""
    if event_column not in metric.filter:
        return False
    events = [match.replace("''", "'") for match in _QUOTED.findall(metric.filter)]
    return bool(events) and all(linter.is_passive_event(event) for event in events)


def _component_is_passive(linter: _Linter, component: models.Component) -> bool:
    reference = component.metric or (component.trend.metric if component.trend else None)
    return reference is not None and _metric_is_passive(linter, reference)


def _survey_share(linter: _Linter, score: models.HealthScore) -> list[tuple[str, float]]:
    """Return (component, share of the score's weight in percent) of every survey component."""
    project = linter.project
    category_total = sum(category.weight for category in score.categories)
    shares = []
    for category in score.categories:
        component_total = sum(component.weight for component in category.components)
        for component in category.components:
            reference = component.metric or component.attribute or (component.trend.reference if component.trend else "")
            names = [component.name, reference]
            metric = project.account_metrics.get(reference)
            if metric is not None:
                names.append(metric.source)
            attribute = component.attribute or (component.trend.attribute if component.trend else None)
            if attribute and resolve_attribute(project, attribute):
                names.append(attribute.partition(".")[0])
            if _words(*names) & _SURVEY_WORDS:
                share = 100 * category.weight / category_total * component.weight / component_total
                shares.append((f"{category.name}.{component.name}", share))
    return shares


def _lint_health_scores(linter: _Linter) -> None:
    project = linter.project
    for name, score in project.health_scores.items():
        owners = [("health_scores", name)]
        for index, category in enumerate(score.categories):
            if not _words(category.name) & _ENGAGEMENT_WORDS:
                continue
            if all(_component_is_passive(linter, component) for component in category.components):
                listed = ", ".join(component.name for component in category.components)
                linter.warn("passive-engagement",
                            f"category '{category.name}' scores only passive activity ({listed}): visits and logins, "
                            "not the value the product delivers",
                            project.location("health_scores", name, "categories", index, "name"),
                            "Score core actions: stickiness at the level of core actions, the share of users in "
                            "the active tier, or counts of completed workflows.", owners)
        shares = _survey_share(linter, score)
        total = sum(share for _, share in shares)
        if total > SURVEY_MAX_SHARE:
            listed = ", ".join(f"{component} {share:.1f}%" for component, share in shares)
            linter.warn("survey-overweight",
                        f"survey signals carry {total:.1f}% of the weight of '{name}' ({listed}), more than "
                        f"{SURVEY_MAX_SHARE:g}%", project.location("health_scores", name, "categories"),
                        "Surveys are sparse and answered by few users; keep them at or below 25% and weight "
                        "product usage and outcomes more.", owners)
        _lint_segment(linter, name, score)
        has_trend = any(component.trend is not None for category in score.categories
                        for component in category.components)
        if not has_trend:
            linter.warn("missing-trend",
                        f"health score '{name}' scores only current levels, so an account whose usage is "
                        "falling scores the same as one whose usage is rising",
                        project.location("health_scores", name, "name"),
                        "Add a component with 'trend: {metric: ..., days: 30}'.", owners)
    for name, stickiness in project.stickiness.items():
        # An invalid ratio name has an error of its own; any ratio at all needs the minimum.
        has_ratios = bool(stickiness.ratios) if stickiness.ratios is not None else len(set(stickiness.windows.values())) > 1
        if stickiness.by and has_ratios and "min_denominator" not in stickiness.model_fields_set:
            linter.warn("ratio-without-minimum",
                        f"the ratios of '{name}' per {', '.join(stickiness.by)} have no minimum denominator, so "
                        "a group with one or two users swings between 0 and 1",
                        project.location("stickiness", name, "name"),
                        "Set 'min_denominator' to the fewest users a ratio needs, such as 5; smaller groups "
                        "get NULL.", [("stickiness", name)])


def _lint_segment(linter: _Linter, name: str, score: models.HealthScore) -> None:
    """Warn when a score segments by a number, because the keys of segment_weights match its text."""
    project = linter.project
    resolved = resolve_attribute(project, score.segment) if score.segment is not None else None
    if resolved is None:
        return
    source_name, column = resolved
    declared = project.sources[source_name].columns.get(column)
    if declared not in ("number", "integer"):
        return
    linter.warn("numeric-segment",
                f"segment attribute '{score.segment}' is declared {declared}, and segment_weights keys are "
                "compared with the number as the engine writes it as text, which can differ between engines "
                "(such as '10.0' and '10')", project.location("health_scores", name, "segment"),
                f"Segment by a text attribute, such as a derived column of source '{source_name}' that names "
                f"ranges: \"case when {column} >= 100 then 'large' else 'small' end\".",
                [("health_scores", name)])


def _lint_unused(linter: _Linter) -> None:
    project = linter.project
    used_sources: set[str] = set()
    used_metrics: set[str] = set()
    if project.engagement is not None:
        used_sources.add(project.engagement.source)
    for metric in project.account_metrics.values():
        used_sources.add(metric.source)
    for score in project.health_scores.values():
        used_sources.add(score.population.source)
        for category in score.categories:
            for component in category.components:
                reference = component.metric or (component.trend.metric if component.trend else None)
                if reference is not None:
                    used_metrics.add(reference)
                if component.attribute is not None:
                    used_sources.add(component.attribute.partition(".")[0])
                if component.trend is not None and component.trend.attribute is not None:
                    used_sources.add(component.trend.attribute.partition(".")[0])
    for name in project.sources:
        if name not in used_sources:
            linter.warn("unused-definition", f"source '{name}' is not used by any definition",
                        project.location("sources", name, "name"),
                        "Remove it, or use it in the engagement block, an account metric or an attribute.",
                        [("sources", name)])
    for name in project.account_metrics:
        if name not in used_metrics:
            linter.warn("unused-definition", f"account metric '{name}' is not used by any health score",
                        project.location("account_metrics", name, "name"),
                        "Remove it, or score it in a health score component; account metrics are not views of "
                        "their own.", [("account_metrics", name)])
    for name in project.config.vars:
        if name not in project.read_vars:
            linter.warn("unused-definition", f"variable '{name}' is not read by any var() call",
                        project.config_file.location(("vars", name)),
                        did_you_mean(name, project.read_vars) + " Remove it or correct its name.", [])
