"""Resolve names that definitions use to point at other definitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from healthlayer.definitions.models import Stickiness, split_ratio

if TYPE_CHECKING:
    from healthlayer.definitions.project import Project

# Names of the views that exist whenever their inputs are defined.
TIERS_VIEW = "engagement_tiers_daily"
TRANSITIONS_VIEW = "tier_transitions"
ALERTS_VIEW = "alerts"
FIXED_VIEWS = (TIERS_VIEW, TRANSITIONS_VIEW, ALERTS_VIEW)


@dataclass(frozen=True)
class MetricRef:
    """A per-account daily value: an account metric, or a column of a per-account view."""

    kind: Literal["account_metrics", "stickiness", "tier_mix"]
    name: str
    column: str


def per_account_columns(project: Project) -> dict[str, tuple[str, list[str]]]:
    """Return, for each per-account stickiness or tier-mix view, its kind and its metric columns."""
    views: dict[str, tuple[str, list[str]]] = {}
    for name, stickiness in project.stickiness.items():
        if list(stickiness.by) == ["account"]:
            views[name] = ("stickiness", list(stickiness.windows) + _valid_ratios(stickiness))
    for name, tier_mix in project.tier_mix.items():
        if list(tier_mix.by) == ["account"]:
            columns = ["mau"]
            for tier in project.tier_names():
                columns += [f"{tier}_users", f"{tier}_share"]
            views[name] = ("tier_mix", columns)
    return views


def _valid_ratios(stickiness: Stickiness) -> list[str]:
    """Return the ratio columns of a stickiness view, leaving out invalid ratios, which its checks report."""
    if stickiness.ratios is None:
        return [ratio for ratio, _, _ in stickiness.ratio_pairs()]
    valid = []
    for ratio in stickiness.ratios:
        try:
            split_ratio(ratio, stickiness.windows)
        except ValueError:
            continue
        valid.append(ratio)
    return valid


def metric_candidates(project: Project) -> list[str]:
    candidates = list(project.account_metrics)
    for view, (_, columns) in per_account_columns(project).items():
        candidates += [f"{view}.{column}" for column in columns]
    return candidates


def resolve_metric(project: Project, reference: str) -> MetricRef | None:
    """Return what a component's `metric` names, or None when it names nothing."""
    if reference in project.account_metrics:
        return MetricRef("account_metrics", reference, "value")
    view, _, column = reference.partition(".")
    views = per_account_columns(project)
    if column and view in views and column in views[view][1]:
        kind = views[view][0]
        return MetricRef(kind, view, column)  # type: ignore[arg-type]
    return None


def resolve_attribute(project: Project, reference: str) -> tuple[str, str] | None:
    """Return (source, column) for an attribute reference `source.column` of an attribute source."""
    source_name, _, column = reference.partition(".")
    source = project.sources.get(source_name)
    if source is None or not source.is_attribute_source or column not in source.attribute_columns():
        return None
    return source_name, column


def attribute_candidates(project: Project, history_only: bool = False) -> list[str]:
    """Return every attribute reference `source.column`; with `history_only`, those of sources with valid_from."""
    return [f"{name}.{column}" for name, source in project.sources.items()
            if source.is_attribute_source and (source.has_history or not history_only)
            for column in source.attribute_columns()]


def defined_storage(project: Project, name: str) -> tuple[str, int]:
    """Return (materialized, lookback) that the definition of an output sets; the engagement block sets its views'."""
    definition: Any = project.engagement if name in FIXED_VIEWS else None
    for kind in ("stickiness", "tier_mix", "health_scores"):
        definition = definition or getattr(project, kind).get(name)
    if definition is None:
        return "view", 0
    return definition.materialized, definition.lookback


def output_storage(project: Project, name: str) -> tuple[str, int]:
    """Return (materialized, lookback) of an output: the keys set under `outputs:` over its definition's.

    The lookback is 0 unless the output is incremental.
    """
    materialized, lookback = defined_storage(project, name)
    setting = project.config.outputs.get(name)
    if setting is not None and "materialized" in setting.model_fields_set:
        materialized = setting.materialized
    if setting is not None and "lookback" in setting.model_fields_set:
        lookback = setting.lookback
    return materialized, lookback if materialized == "incremental" else 0
