"""A readable summary of a deployed project: latest stickiness, tier mix, health bands and open alerts."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from healthlayer.adapters.base import Adapter
from healthlayer.compiler.render import render_statement
from healthlayer.definitions.project import Project
from healthlayer.errors import HealthlayerError, WarehouseError
from healthlayer.definitions.references import ALERTS_VIEW, TIERS_VIEW
from healthlayer.reporting import print_table


TOP_ACCOUNTS = 10


def _view(adapter: Adapter, name: str) -> str:
    return f'"{adapter.schema}"."{name}"'


def _require_views(project: Project, adapter: Adapter) -> None:
    names = list(project.stickiness) + list(project.tier_mix) + list(project.health_scores)
    if project.alerts:
        names.append(ALERTS_VIEW)
    present = adapter.relation_names()
    missing = [name for name in names if name not in present]
    if missing:
        raise HealthlayerError(f"views {', '.join(missing)} are not deployed in schema '{adapter.schema}'; "
                               "run 'healthlayer deploy' first")


def print_summary(project: Project, adapter: Adapter, console: Console) -> None:
    """Print the latest day of each kind of output view of a deployed project.

    The queries are written in DuckDB SQL and rendered for the adapter's dialect before they run.
    """
    _require_views(project, adapter)

    def fetch(statement: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        try:
            return adapter.fetch(render_statement(statement, adapter.dialect))
        except WarehouseError as error:
            # The usual cause is a definition changed since the deploy, such as a new tier column.
            raise WarehouseError(f"{error}; if the definitions changed since the last deploy, run "
                                 "'healthlayer deploy' first") from None

    global_stickiness = [name for name, item in project.stickiness.items() if not item.by]
    if global_stickiness:
        name = global_stickiness[0]
        columns, rows = fetch(f"SELECT * FROM {_view(adapter, name)} ORDER BY activity_date DESC LIMIT 1")
        print_table(console, f"Stickiness on the last day of data ({name}, level "
                    f"{project.stickiness[name].level})", columns, rows)

    mixes = [name for name, item in project.tier_mix.items() if item.by == ["account"]]
    if mixes:
        name = mixes[0]
        tiers = project.tier_names()
        target = project.tier_mix[name].target
        selected = ["account_id", "mau"] + [f"{tier}_users" for tier in tiers]
        if target is not None:
            selected += [f"{target.tier}_share", "meets_target"]
        column_sql = ", ".join(f'"{column}"' for column in selected)
        columns, rows = fetch(
            f"SELECT {column_sql} FROM {_view(adapter, name)} WHERE activity_date = "
            f"(SELECT MAX(activity_date) FROM {_view(adapter, name)}) ORDER BY mau DESC, account_id LIMIT {TOP_ACCOUNTS}")
        goal = f", target {target.tier} share >= {target.min_share:.0%}" if target else ""
        print_table(console, f"Tier mix of the {TOP_ACCOUNTS} largest accounts by MAU ({name}{goal})", columns, rows)

    for name in project.health_scores:
        columns, rows = fetch(
            f"SELECT band, COUNT(*) AS accounts, ROUND(AVG(health_score), 1) AS mean_score FROM {_view(adapter, name)} "
            f"WHERE as_of_date = (SELECT MAX(as_of_date) FROM {_view(adapter, name)}) GROUP BY band ORDER BY mean_score DESC")
        print_table(console, f"Health bands on the last day ({name})", columns, rows)
        columns, rows = fetch(
            f"SELECT account_id, ROUND(health_score, 1) AS health_score, band, ROUND(coverage, 2) AS coverage "
            f"FROM {_view(adapter, name)} WHERE as_of_date = (SELECT MAX(as_of_date) FROM {_view(adapter, name)}) "
            f"AND health_score IS NOT NULL ORDER BY health_score DESC, account_id LIMIT {TOP_ACCOUNTS}")
        print_table(console, f"Healthiest accounts ({name})", columns, rows)

    if project.alerts:
        recent = (f"FROM {_view(adapter, ALERTS_VIEW)} WHERE detected_date > "
                  f"(SELECT MAX(activity_date) FROM {_view(adapter, TIERS_VIEW)}) - INTERVAL 30 DAY")
        _, counted = fetch(f"SELECT COUNT(*) {recent}")
        columns, rows = fetch(
            f"SELECT alert_type, account_id, user_id, detected_date, respond_by, reason {recent} "
            f"ORDER BY detected_date DESC, account_id, user_id LIMIT {TOP_ACCOUNTS}")
        total = counted[0][0]
        cut_note = f", the latest {len(rows)} of {total}" if total > len(rows) else ""
        print_table(console, f"Alerts of the last 30 days of data{cut_note}", columns, rows)
