"""Output of a backtest: rich tables and a text chart for the terminal, JSON, and a PNG or SVG chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console

from healthlayer.backtest import UNSCORABLE_REASONS, BacktestResult
from healthlayer.backtest_stats import RateGroup, WeightMove
from healthlayer.errors import HealthlayerError
from healthlayer.reporting import format_value, print_table

BAR_WIDTH = 40
CHART_FORMATS = (".png", ".svg")


def result_json(result: BacktestResult) -> str:
    return json.dumps(result.as_dict(), indent=2, default=str)


def _group_rows(groups: list[RateGroup], with_value: bool) -> list[tuple[Any, ...]]:
    rows = []
    for group in groups:
        row: tuple[Any, ...] = (group.label, group.min_score, group.max_score, group.renewals, group.renewed,
                                group.renewal_rate)
        if with_value:
            row += (group.value_renewal_rate,)
        rows.append(row)
    return rows


def text_chart(groups: list[RateGroup]) -> list[str]:
    """Return one line per decile with a bar as long as its renewal rate."""
    lines = []
    for group in groups:
        rate = group.renewal_rate or 0.0
        filled = round(rate * BAR_WIDTH)
        bar = "█" * filled + "·" * (BAR_WIDTH - filled)
        scores = f"{format_value(group.min_score, 1)}-{format_value(group.max_score, 1)}"
        lines.append(f"{group.label:>3} {scores:>11} {bar} {rate:>4.0%} ({group.renewed}/{group.renewals})")
    return lines


def print_backtest(console: Console, result: BacktestResult) -> None:
    """Print every figure of a backtest as tables, with the renewals it could not score."""
    with_value = result.columns.get("value") is not None
    overall = result.overall
    value_note = (f", {format_value(overall.value_renewal_rate)} by contract value"
                  if with_value and overall.value_renewal_rate is not None else "")
    console.print(f"Backtest of {result.score} on the renewals of source '{result.renewals_source}', scored "
                  f"{result.days_before} days before each renewal date: {result.renewal_count} renewals, "
                  f"{len(result.scored)} scored, {len(result.unscorable)} unscorable. Renewal rate "
                  f"{format_value(overall.renewal_rate)}{value_note}.")
    columns = ["band", "min_score", "max_score", "renewals", "renewed", "renewal_rate"]
    if with_value:
        columns.append("value_renewal_rate")
    print_table(console, "Renewal rate by band", columns, _group_rows(result.bands, with_value))
    print_table(console, "Renewal rate by score decile (1 = lowest scores)", ["decile"] + columns[1:],
                _group_rows(result.deciles, with_value))

    lift = result.lift
    lift_text = (f"{lift.value:.2f}" if lift.value is not None else f"undefined ({lift.undefined_reason})")
    print_table(console, "Discrimination", ["measure", "value"], [
        ("AUC of the score for renewal", "undefined (every renewal has the same outcome)"
         if result.auc is None else f"{result.auc:.3f}"),
        (f"churn rate in {lift.lowest_band}", format_value(lift.lowest_churn_rate)),
        (f"churn rate in {lift.highest_band}", format_value(lift.highest_churn_rate)),
        (f"lift ({lift.lowest_band} churn rate / {lift.highest_band} churn rate)", lift_text),
    ])

    lead = result.lead_time
    lead_rows: list[tuple[Any, ...]] = [
        ("churned renewals", lead.churned),
        (f"in {lift.lowest_band} on the day before the renewal", lead.in_lowest_band),
        ("in another band on that day", lead.not_in_lowest_band),
        ("without a score on that day", lead.no_score),
        ("median lead time, days", format_value(lead.median_days, 1)),
    ]
    lead_rows += [(f"share with a lead time of {days} days or more", format_value(share))
                  for days, share in lead.share_at_least.items()]
    print_table(console, f"Lead time of churned renewals in band {lift.lowest_band}", ["measure", "value"], lead_rows)

    sensitivity = result.sensitivity

    def weight_text(move: WeightMove, after: bool) -> str:
        segments = ", ".join(f"{segment} {weights[after]:g}" for segment, weights in sorted(move.segment_weights.items()))
        return f"{move.new_weight if after else move.weight:g}" + (f" ({segments})" if segments else "")

    def changed_text(move: WeightMove) -> str | int | None:
        if move.changed is not None:
            return move.changed
        return f"not applicable (weight 0 or less in {', '.join(move.blocked_by)})"

    rows = [(move.category, weight_text(move, False), weight_text(move, True), changed_text(move),
             move.moved_up, move.moved_down) for move in sensitivity.moves]
    in_segments = " in every segment" if any(move.segment_weights for move in sensitivity.moves) else ""
    print_table(console, f"Band changes of the {len(result.scored)} scored renewals when one category "
                f"weight moves by 10 points{in_segments} ({sensitivity.changed_by_any} change under some move)",
                ["category", "weight", "new_weight", "changed", "moved_up", "moved_down"], rows)
    if sensitivity.baseline_mismatches:
        console.print(f"{sensitivity.baseline_mismatches} renewals get another band from their category scores "
                      "than the view shows; redeploy if the definitions changed.")

    if result.unscorable:
        counts = ", ".join(f"{count} {UNSCORABLE_REASONS[reason]}" for reason, count in
                           sorted(result.unscorable_counts().items()))
        print_table(console, f"Renewals that cannot be scored: {counts}",
                    ["account_id", "renewal_date", "renewed", "reason"],
                    [(item.account_id, item.renewal_date, item.renewed, item.detail) for item in result.unscorable])

    console.print("Renewal rate by score decile")
    for line in text_chart(result.deciles):
        console.print(line, markup=False, highlight=False)


def check_chart_path(path: Path) -> str:
    """Return the chart file's suffix; raise HealthlayerError unless it is .png or .svg."""
    suffix = path.suffix.lower()
    if suffix not in CHART_FORMATS:
        raise HealthlayerError(f"cannot write a chart to {path}: the file name must end in .png or .svg")
    return suffix


def write_chart(result: BacktestResult, path: Path) -> None:
    """Write a bar chart of the renewal rate per score decile as PNG or SVG, chosen by the file suffix."""
    suffix = check_chart_path(path)
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise HealthlayerError("--chart needs matplotlib, which is not installed; install it with "
                               "pip install 'healthlayer[charts]'") from None

    figure = Figure(figsize=(7, 4), dpi=100)
    axes = figure.add_subplot()
    labels = [group.label for group in result.deciles]
    rates = [group.renewal_rate or 0.0 for group in result.deciles]
    bars = axes.bar(labels, rates, color="#4c72b0")
    for bar, group in zip(bars, result.deciles):
        axes.annotate(f"{group.renewed}/{group.renewals}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                      ha="center", va="bottom", fontsize=8)

    if result.overall.renewal_rate is not None:
        axes.axhline(result.overall.renewal_rate, color="#888888", linestyle="--", linewidth=1,
                     label=f"all renewals {result.overall.renewal_rate:.0%}")
        axes.legend(loc="lower right", fontsize=8)

    axes.set_ylim(0, 1.1)
    axes.set_xlabel("score decile (1 = lowest scores)")
    axes.set_ylabel("renewal rate")
    auc = "undefined" if result.auc is None else f"{result.auc:.3f}"
    axes.set_title(f"{result.score}, {result.days_before} days before renewal (AUC {auc})", fontsize=10)
    figure.tight_layout()

    try:
        figure.savefig(path, format=suffix[1:])
    except OSError as error:
        raise HealthlayerError(f"cannot write the chart to {path}: {error.strerror}. "
                               "Check that its folder exists and is writable.") from None
