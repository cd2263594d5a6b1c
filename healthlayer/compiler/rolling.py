"""Trailing-window distinct counts in time linear in the facts, not in facts times window length.

For one member (a user, or a value) with active days a1 < a2 < ..., the key is inside the trailing
N-day window at day d exactly when some ai <= d < ai + N. The spans [ai, ai + N) that overlap or
touch merge into intervals. Adding +1 where an interval opens and -1 where it closes, and summing
those deltas per group over the calendar, gives the number of distinct keys in the window.
"""

from __future__ import annotations

from sqlglot import exp

from healthlayer.compiler import sql


INTERNAL_GROUP_COLUMNS = ("account_id", "tier_level")


def _group(name: str, table: str | None = None) -> exp.Column:
    # Group columns other than the internal ones are declared by users, so they are quoted where needed.
    return sql.column(name, table, quoted=name not in INTERNAL_GROUP_COLUMNS)


def window_deltas(facts: exp.Query, group_columns: list[str], windows: dict[str, int]) -> exp.Query:
    """Return (group columns, delta_date, one delta column per window) for facts of (group, key, day).

    `facts` must have the group columns, `member_key` and `activity_date`, one row per group, key and day.
    Spans of one key that touch or overlap form one interval, so a delta is written only where an
    interval opens (no active day in the N days before) or closes (none in the N - 1 days after).
    The running sum is the same as with a delta for every span, with fewer rows to sort and sum.
    """
    partition = [_group(name) for name in group_columns] + [sql.column("member_key")]
    order = [sql.column("activity_date")]
    spans = exp.select(
        *[_group(name) for name in group_columns],
        sql.column("activity_date"),
        sql.alias(sql.window(exp.Lag(this=sql.column("activity_date")), partition, order), "previous_date"),
        sql.alias(sql.window(exp.Lead(this=sql.column("activity_date")), [item.copy() for item in partition],
                             [item.copy() for item in order]), "next_date"),
    ).from_(exp.Subquery(this=facts, alias=exp.TableAlias(this=exp.to_identifier("f"))))

    groups = [_group(name, "s") for name in group_columns]
    day = sql.column("activity_date", "s")
    parts = []
    for window_name, length in windows.items():
        opened = [sql.alias(sql.number(1 if name == window_name else 0), f"{name}_delta") for name in windows]
        closed = [sql.alias(sql.number(-1 if name == window_name else 0), f"{name}_delta") for name in windows]
        previous_date = sql.column("previous_date", "s")
        next_date = sql.column("next_date", "s")
        opens = exp.or_(sql.is_null(previous_date),
                        exp.LTE(this=sql.add_days(previous_date.copy(), length), expression=day.copy()))
        closes = exp.or_(sql.is_null(next_date),
                         exp.GTE(this=next_date.copy(), expression=sql.add_days(day.copy(), length)))
        parts.append(
            exp.select(*[group.copy() for group in groups], sql.alias(day.copy(), "delta_date"), *opened)
            .from_(exp.to_table("spans").as_("s"))
            .where(opens)
        )
        parts.append(
            exp.select(*[group.copy() for group in groups], sql.alias(sql.add_days(day.copy(), length), "delta_date"),
                       *closed)
            .from_(exp.to_table("spans").as_("s"))
            .where(closes)
        )
    all_deltas = exp.union(*parts, distinct=False)
    group_by = [_group(name) for name in group_columns] + [sql.column("delta_date")]
    return (
        exp.select(*[_group(name) for name in group_columns], sql.column("delta_date"),
                   *[sql.alias(exp.Sum(this=sql.column(f"{name}_delta")), f"{name}_delta") for name in windows])
        .with_("spans", as_=spans)
        .from_(exp.Subquery(this=all_deltas, alias=exp.TableAlias(this=exp.to_identifier("d"))))
        .group_by(*group_by)
    )


def running_counts(spine_alias: str, group_columns: list[str], windows: list[str],
                   date_column: str = "activity_date") -> list[exp.Expr]:
    """Return one running-sum expression per window over a spine LEFT JOINed to its deltas as "dl"."""
    partition = [_group(name, spine_alias) for name in group_columns]
    order = [sql.column(date_column, spine_alias)]
    counts = []
    for name in windows:
        delta = exp.Coalesce(this=sql.column(f"{name}_delta", "dl"), expressions=[sql.number(0)])
        running = sql.window(exp.Sum(this=delta), [item.copy() for item in partition], [item.copy() for item in order],
                             frame="running")
        counts.append(sql.alias(sql.to_bigint(running), name))
    return counts


def join_deltas(query: exp.Select, deltas: exp.Query, spine_alias: str, group_columns: list[str],
                date_column: str = "activity_date") -> exp.Select:
    """LEFT JOIN a deltas query as "dl" onto the spine on the group columns and the date."""
    conditions = [exp.EQ(this=_group(name, spine_alias), expression=_group(name, "dl")) for name in group_columns]
    conditions.append(exp.EQ(this=sql.column(date_column, spine_alias), expression=sql.column("delta_date", "dl")))
    return query.join(exp.Subquery(this=deltas, alias=exp.TableAlias(this=exp.to_identifier("dl"))),
                      on=exp.and_(*conditions), join_type="left")
