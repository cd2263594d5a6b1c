"""A readable summary of a deployed project: latest stickiness, tier mix, health bands and open alerts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rich.console import Console

from healthlayer.adapters.base import Adapter
from healthlayer.compiler.render import render_statement
from healthlayer.definitions.project import Project
from healthlayer.errors import HealthlayerError, WarehouseError
from healthlayer.compiler.engagement import BOUNDS
from healthlayer.definitions.references import ALERTS_VIEW, output_storage
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
    Each section is titled with its day. A view's latest day is the last day of data, read once
    from the bounds view. A stored table's is its own latest day, which is earlier when the
    table was not refreshed since the last load, and the summary then prints a line naming it.
    """
    _require_views(project, adapter)

    def fetch(statement: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        try:
            return adapter.fetch(render_statement(statement, adapter.dialect))
        except WarehouseError as error:
            # The usual cause is a definition changed since the deploy, such as a new tier column.
            raise WarehouseError(f"{error}; if the definitions changed since the last deploy, run "
                                 "'healthlayer deploy' first") from None

    last_day = None
    if project.engagement is not None:
        _, bounds = fetch(f"SELECT last_date FROM {_view(adapter, BOUNDS)}")
        last_day = bounds[0][0] if bounds else None
    stale: list[str] = []

    def latest(name: str, column: str) -> Any:
        """Return the day to show of an output: the last day of data, or a stored table's own latest day."""
        stored = output_storage(project, name)[0] != "view"
        if last_day is not None and not stored:
            return last_day
        _, rows = fetch(f"SELECT MAX({column}) FROM {_view(adapter, name)}")
        day = rows[0][0]
        if stored and last_day is not None and day is not None and day < last_day:
            stale.append(f"{name} (through {day})")
        return day

    def on(day: Any) -> str:
        return "NULL" if day is None else f"DATE '{day.isoformat()}'"

    def when(day: Any) -> str:
        return f"the last day of data, {day}" if last_day is None or day == last_day else f"{day}, the last stored day"

    global_stickiness = [name for name, item in project.stickiness.items() if not item.by]
    if global_stickiness:
        name = global_stickiness[0]
        day = latest(name, "activity_date")
        columns, rows = fetch(f"SELECT * FROM {_view(adapter, name)} WHERE activity_date = {on(day)}")
        print_table(console, f"Stickiness on {when(day)} ({name}, level "
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
        day = latest(name, "activity_date")
        columns, rows = fetch(
            f"SELECT {column_sql} FROM {_view(adapter, name)} WHERE activity_date = {on(day)} "
            f"ORDER BY mau DESC, account_id LIMIT {TOP_ACCOUNTS}")
        goal = f", target {target.tier} share >= {target.min_share:.0%}" if target else ""
        print_table(console, f"Tier mix of the {TOP_ACCOUNTS} largest accounts by MAU on {when(day)} ({name}{goal})",
                    columns, rows)

    for name in project.health_scores:
        # Without engagement, a health score's last day is that of its population source.
        day = latest(name, "as_of_date")
        # One read of the day's rows serves both tables, since a health score view is costly to compute.
        _, rows = fetch(f"SELECT account_id, health_score, band, coverage FROM {_view(adapter, name)} "
                        f"WHERE as_of_date = {on(day)}")
        print_table(console, f"Health bands on {when(day)} ({name})", ["band", "accounts", "mean_score"],
                    _bands(rows))
        healthiest = sorted((row for row in rows if row[1] is not None), key=lambda row: (-row[1], str(row[0])))
        print_table(console, f"Healthiest accounts ({name})", ["account_id", "health_score", "band", "coverage"],
                    [(account, _round(score, 1), band, _round(coverage, 2))
                     for account, score, band, coverage in healthiest[:TOP_ACCOUNTS]])

    if project.alerts:
        recent = f"FROM {_view(adapter, ALERTS_VIEW)} WHERE detected_date > {on(last_day)} - INTERVAL 30 DAY"
        _, counted = fetch(f"SELECT COUNT(*) {recent}")
        columns, rows = fetch(
            f"SELECT alert_type, account_id, user_id, detected_date, respond_by, reason {recent} "
            f"ORDER BY detected_date DESC, account_id, user_id LIMIT {TOP_ACCOUNTS}")
        total = counted[0][0]
        cut_note = f", the latest {len(rows)} of {total}" if total > len(rows) else ""
        print_table(console, f"Alerts of the last 30 days of data{cut_note}", columns, rows)

    if stale:
        console.print(f"The events reach {last_day}, but these stored tables end earlier: {', '.join(stale)}. "
                      "Run 'healthlayer refresh' to bring them up to date.")


def _round(value: Any, digits: int) -> Any:
    """Round half away from zero, as SQL's ROUND does, for display."""
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _bands(rows: list[tuple[Any, ...]]) -> list[tuple[Any, int, Any]]:
    """Return (band, accounts, mean score) of (account, score, band, coverage) rows, highest mean first."""
    bands: dict[Any, list[Any]] = {}
    for _, score, band, _ in rows:
        bands.setdefault(band, []).append(score)
    result = []
    for band, scores in bands.items():
        known = [float(score) for score in scores if score is not None]
        result.append((band, len(scores), _round(sum(known) / len(known), 1) if known else None))
    return sorted(result, key=lambda row: (row[2] is None, -(row[2] or 0)))
