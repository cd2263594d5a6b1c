"""Stickiness views: distinct active users over trailing windows and their ratios, per day."""

from __future__ import annotations

from sqlglot import exp

from healthlayer.compiler import sql
from healthlayer.compiler.engagement import BOUNDS, is_complete
from healthlayer.compiler.plan import PlanBuilder
from healthlayer.compiler.rolling import join_deltas, running_counts, window_deltas
from healthlayer.compiler.spine import column_of, group_column_name, group_spine, level_facts
from healthlayer.definitions.models import Stickiness


def level_rank(builder: PlanBuilder, level: str) -> int:
    return 0 if level == "any" else builder.project.tier_rank(level)


def add_stickiness(builder: PlanBuilder, definition: Stickiness) -> None:
    groups = [group_column_name(item) for item in definition.by]
    windows = dict(definition.windows)
    facts = level_facts(builder, definition.by, level_rank(builder, definition.level))
    deltas = window_deltas(facts, groups, windows)

    spine = group_spine(builder, definition.by)
    counts_query = exp.select(
        *[column_of(name, "sp") for name in groups],
        sql.column("activity_date", "sp"),
        *running_counts("sp", groups, list(windows)),
    ).from_(exp.Subquery(this=spine, alias=exp.TableAlias(this=exp.to_identifier("sp"))))
    counts_query = join_deltas(counts_query, deltas, "sp", groups)

    longest = max(windows.values())
    selects: list[exp.Expr] = [sql.column("activity_date", "k"), *[column_of(name, "k") for name in groups]]
    selects += [sql.column(name, "k") for name in windows]
    for ratio_name, numerator, denominator in definition.ratio_pairs():
        selects.append(sql.alias(sql.ratio(sql.column(numerator, "k"), sql.column(denominator, "k"),
                                           definition.min_denominator), ratio_name))
    selects.append(sql.alias(is_complete(sql.column("activity_date", "k"), longest), "is_complete"))
    view = (
        exp.select(*selects)
        .from_(exp.Subquery(this=counts_query, alias=exp.TableAlias(this=exp.to_identifier("k"))))
        .join(builder.table(BOUNDS).as_("b"), join_type="cross")
    )
    level = "any event" if definition.level == "any" else f"the {definition.level} tier or higher"
    scope = f" per {', '.join(groups)}" if groups else ""
    builder.add(definition.name, view, "output",
                f"Distinct users active at {level}{scope} over trailing windows, and their ratios, per day.",
                origin=("stickiness", definition.name), date_column="activity_date")
