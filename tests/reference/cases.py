"""Hand-made definitions and event logs shared by the parity tests of every engine."""

from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from .builders import EVENT_SOURCE, definitions, event

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
NAIVE_TIMESTAMP = pa.timestamp("us")

STANDARD_VIEWS = {
    "stickiness": [
        {"name": "stickiness_daily", "level": "active"},
        {"name": "stickiness_daily_by_account", "level": "active", "by": ["account"]},
        {"name": "stickiness_any", "level": "any"},
    ],
    "tier_mix": [
        {"name": "tier_mix_daily", "by": ["account"], "window": "30 days", "target": {"tier": "active", "min_share": 0.4}},
        {"name": "tier_mix_global", "window": "1 week"},
        {"name": "tier_mix_defaults", "by": ["account"]},
    ],
    "alerts": [
        {"name": "power_user_drop", "type": "tier_drop", "from": "power", "to": "passive", "respond_within": "48 hours"},
    ],
}


def at(text: str, user: Any = "u1", account: Any = "a1", name: Any = "commit", **extra: Any) -> dict[str, Any]:
    """Return an event row at an ISO timestamp, read as UTC when it has no offset."""
    timestamp = datetime.fromisoformat(text)
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=timezone.utc)
    row = event(0, user, account, name, **extra)
    row["event_ts"] = timestamp
    return row


# Hand-made event logs for the edge cases of docs/semantics.md.
EDGE_CASES = {
    "empty table": [],
    "one event": [event(0, "u1", "a1", "commit")],
    "one user with gaps": [
        event(0, "u1", "a1", "merge"),
        event(1, "u1", "a1", "view"),
        event(9, "u1", "a1", "commit"),
        event(45, "u1", "a1", "merge"),
        event(46, "u1", "a1", "merge"),
    ],
    "null ids and names": [
        event(0, None, "a1", "commit"),
        event(0, "u1", None, "merge"),
        event(1, "u1", "a1", None),
        event(2, "u2", "a2", None),
        event(3, "u2", None, "view"),
        event(3, "u3", "a2", "other"),
        event(10, "u3", "a2", "commit"),
    ],
    "duplicates": [event(0, "u1", "a1", "commit")] * 3 + [event(2, "u1", "a1", "merge")] * 2,
    "first 29 days": [event(offset, f"u{offset % 3}", f"a{offset % 2}", "commit") for offset in range(0, 29, 4)],
}


DST_LOGS = {
    "Europe/Berlin": [
        at("2024-03-30T22:59:00", "u1", "a1", "merge"),  # 23:59 CET on 03-30
        at("2024-03-30T23:00:00", "u1", "a1", "commit"),  # 00:00 CET on 03-31, a 23-hour day
        at("2024-03-31T21:59:00", "u2", "a1", "view"),  # 23:59 CEST on 03-31
        at("2024-03-31T22:00:00", "u2", "a2", "merge"),  # 00:00 CEST on 04-01
        at("2024-10-26T22:00:00", "u1", "a1", "merge"),  # 00:00 CEST on 10-27, a 25-hour day
        at("2024-10-27T22:59:00", "u3", "a1", "view"),  # 23:59 CET on 10-27
        at("2024-10-27T23:00:00", "u3", "a2", "commit"),  # 00:00 CET on 10-28
    ],
    "America/New_York": [
        at("2024-03-10T04:59:00", "u1", "a1", "merge"),  # 23:59 EST on 03-09
        at("2024-03-10T05:00:00", "u1", "a1", "view"),  # 00:00 EST on 03-10, a 23-hour day
        at("2024-03-11T03:59:00", "u2", "a1", "commit"),  # 23:59 EDT on 03-10
        at("2024-03-11T04:00:00", "u2", "a2", "merge"),  # 00:00 EDT on 03-11
        at("2024-11-03T04:00:00", "u1", "a1", "merge"),  # 00:00 EDT on 11-03, a 25-hour day
        at("2024-11-04T04:59:00", "u3", "a1", "commit"),  # 23:59 EST on 11-03
    ],
}


# Value expressions and filters of account metrics, in groups of at most 20, because the query
# time of a health score grows faster than linearly with its number of metrics.
EXPRESSION_GROUPS = {
    "numbers": [
        "amount * 2", "amount / 3", "amount % 3", "amount % 0.3", "-amount", "abs(amount)", "round(amount, 1)",
        "round(amount)", "round(amount, -1)", "floor(amount)", "ceil(amount)",
        "least(amount, 3)", "greatest(amount, 2.5)", "least(amount, null, 1)", "amount * 0.1 + 0.2",
        "coalesce(amount, -1)", "nullif(amount, 0)", "case when amount > 1 then 0.5 else 1 end",
    ],
    "casts": [
        "cast(amount as int)", "cast(amount as bigint)", "cast(amount as decimal(10, 1))",
        "cast(amount as decimal(10, 2))", "cast(amount as float) * 3", "cast(cast(amount as decimal(10, 3)) as double)",
        "round(cast(amount as decimal(10, 3)), 1)", "try_cast(area as int)", "try_cast(area as double)",
        "try_cast(area as decimal(5, 1))", "length(cast(amount as varchar))", "length(cast(round(amount, 1) as varchar))",
        "length(cast(cast(amount as float) as varchar))", "cast(amount > 1 as int)", "cast(area = 'lib' as integer)",
    ],
    "text": [
        "length(area)", "length(trim(area))", "length(ltrim(area))", "length(rtrim(area))", "length(trim(area, 'x'))",
        "length(substring(area, 2, 2))", "length(substring(area, -2))", "length(upper(area))", "length(lower(area))",
        "case area when 'lib' then 1 when 'app' then 2 end", "if(area is null, 1, 2)", "iif(amount > 0, 1, 0)",
    ],
    "filters on text": [
        "area like 'l%'", "area ilike 'L%'", "area not like '%b'", "area like 'a\\_c'", "area like 'a_c'",
        "area ilike 'ας'", "area in ('lib', 'app')", "area not in ('lib', null)", "upper(area) = 'LIB'",
        "lower(area) = 'straße'", "upper(area) = 'STRASSE'", "trim(area) = 'Lib'", "area < 'b'", "area > 'Z'",
        "substring(area, 1, 1) = 'l'", "length(area) between 1 and 3", "coalesce(area, 'none') = 'none'",
        "nullif(area, 'lib') is null", "least(area, 'b') = 'app'", "try_cast(area as date) = '2024-01-05'",
    ],
    "filters on numbers": [
        "amount between 1 and 5", "amount between symmetric 5 and 1", "amount is null", "amount > 2.5",
        "amount = 0.1", "amount in (0.1, 2.5)", "cast(amount as varchar) = '1.5'", "not (amount > 0)",
        "amount > 0 or area is null", "amount > 0 and area is null", "(amount > 0) is true",
        "(amount > 0) is not false", "cast(amount as int) = 2", "round(amount, 2) = 2.68", "greatest(amount, 1) = 1",
        "amount % 2 = -1.5",
    ],
}
EXPRESSION_AMOUNTS = [-7.5, -2.5, -0.5, 0.0, 0.1, 0.5, 1.25, 2.5, 3.5, 4.35, 123.456, None, 1.005, 2.675, -0.4]
EXPRESSION_AREAS = ["lib", " Lib ", "straße", "app", None, "3", "12.5", "ΑΣ", "a_c", "", "LIB", "xlibx", "ﬁx", "\u00a0lib", "2024-01-05"]


# Expressions whose meaning every supported engine shares, over values that avoid the cases where
# engines differ. Those cases are Unicode case mapping and white space, decimal halves that binary
# floating point cannot represent (4.35), casts of fractions to integers or decimals,
# number-to-text formatting and collation-dependent text order. docs/semantics.md lists them.
PORTABLE_EXPRESSION_GROUPS = {
    "numbers": [
        "amount * 2", "amount / 3", "amount % 3", "-amount", "abs(amount)", "round(amount, 1)", "round(amount)",
        "floor(amount)", "ceil(amount)", "least(amount, 3)", "greatest(amount, 2.5)", "amount * 0.1 + 0.2",
        "coalesce(amount, -1)", "nullif(amount, 0)", "case when amount > 1 then 0.5 else 1 end",
        "cast(amount > 1 as int)",
    ],
    "text": [
        "length(area)", "length(trim(area))", "length(upper(area))", "length(lower(area))",
        "length(substring(area, 2, 2))", "case area when 'lib' then 1 when 'app' then 2 end",
        "if(area is null, 1, 2)", "iif(amount > 0, 1, 0)",
    ],
    "filters on text": [
        "area like 'l%'", "area ilike 'L%'", "area not like '%b'", "area in ('lib', 'app')", "upper(area) = 'LIB'",
        "trim(area) = 'Lib'", "substring(area, 1, 1) = 'l'", "length(area) between 1 and 3",
        "coalesce(area, 'none') = 'none'", "nullif(area, 'lib') is null",
    ],
    "filters on numbers": [
        "amount between 1 and 5", "amount is null", "amount > 2.5", "amount = 0.1", "amount in (0.1, 2.5)",
        "not (amount > 0)", "amount > 0 or area is null", "amount > 0 and area is null", "(amount > 0) is true",
        "(amount > 0) is not false", "greatest(amount, 1) = 1",
    ],
}
PORTABLE_AMOUNTS = [-7.5, -2.5, -0.5, 0.0, 0.1, 0.5, 1.25, 2.5, 3.5, 4.25, 123.5, None, 1.0, 2.0, -0.25]
PORTABLE_AREAS = ["lib", " Lib ", "app", None, "3", "12.5", "a_c", "", "LIB", "xlibx", "b", "Z", "lib2", "ab", "zz"]


def expression_project(texts: list[str], as_filters: bool, amounts: list[Any], areas: list[Any]
                       ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Return the rows and definitions that show each expression as a health-score category.

    Each account has one event, so a metric's `max` is the expression's value on that row and its
    `count` is 1 when the row passes the filter. The health score shows each metric in its own
    category, scored on a straight line that no value here reaches the ends of, so the category
    score is a function of the value alone. Category `c_m<i>` shows `texts[i]`.
    """
    rows = [
        event(0, f"u{index}", f"a{index:02d}", "commit", amount=amount, area=area)
        for index, (amount, area) in enumerate(zip(amounts, areas))
    ]
    metrics = []
    for index, text in enumerate(texts):
        if as_filters:
            metrics.append({"name": f"m{index}", "source": "events", "aggregate": "count", "filter": text, "window": 1})
        else:
            metrics.append({"name": f"m{index}", "source": "events", "aggregate": "max", "value": text, "window": 1})
    score = {"function": "linear", "lower": -1000, "upper": 1000}
    categories = [
        {"name": f"c_{metric['name']}", "weight": 1,
         "components": [{"name": "k", "weight": 1, "metric": metric["name"], "score": score}]}
        for metric in metrics
    ]
    health = {"name": "account_health_daily", "population": {"source": "events"}, "normalize": True, "categories": categories}
    return rows, definitions(account_metrics=metrics, health_scores=[health])


# A population source other than the engagement source: logins, one row per account and login,
# with the minutes of the session.
LOGIN_SOURCE = {"name": "logins", "file": "data/logins.parquet", "account": "account_id", "timestamp": "login_ts",
                "columns": {"minutes": "number"}}
LOGIN_TYPES = {"account_id": pa.string(), "login_ts": UTC_TIMESTAMP, "minutes": pa.float64()}

# Day offsets of each account's commits and logins, for populations whose days differ from the
# events'. With "logins around events", the logins start 5 days before the first event and end 5
# days after the last: a1 and a3 log in before the first day of data, a3 only then, and a4 only
# after the last day. With "logins inside events", the logins start 4 days after the first event
# and end 5 days before the last, and a5 has events but never logs in.
POPULATION_RANGES: dict[str, tuple[dict[str, list[int]], dict[str, list[int]]]] = {
    "logins around events": (
        {"a1": [5, 6, 8, 12, 15], "a2": [6, 10, 11]},
        {"a1": [0, 3, 6, 9, 18, 20], "a2": [7, 8, 19], "a3": [2, 4], "a4": [17]},
    ),
    "logins inside events": (
        {"a1": [0, 8, 12, 20], "a2": [1, 10], "a5": [3]},
        {"a1": [5, 6, 9, 15], "a2": [7, 8], "a3": [4], "a4": [14]},
    ),
}


def login(day: int, account: Any, minutes: float, hour: int = 9) -> dict[str, Any]:
    """Return a login row at `hour` UTC on day `day` counted from the first day of the events."""
    row = event(day, None, account, None, hour)
    return {"account_id": account, "login_ts": row["event_ts"], "minutes": minutes}


def population_range_project(case: str, engagement: bool = True
                             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Return the event rows, login rows and definitions of a health score whose population is the logins.

    The score reads login and commit counts, their trends, and counts and ratios of the
    per-account stickiness view. So its rows show values before an account's first event, trends
    whose earlier day is before the first day of data, and days after the account's last login.
    Without `engagement`, the project has neither the events nor the views that read them.
    """
    commit_days, login_days = POPULATION_RANGES[case]
    rows = [event(day, f"u_{account}", account, "commit") for account, days in commit_days.items() for day in days]
    # Session lengths vary from day to day, so that averages and their trends differ between days.
    logins = [login(day, account, float(5 + 10 * (day % 4))) for account, days in login_days.items() for day in days]
    linear = {"function": "linear", "lower": 0, "upper": 3}
    change = {"function": "linear", "lower": -3, "upper": 3}
    login_components = [
        {"name": "logins", "metric": "logins_3d", "weight": 1, "score": linear},
        {"name": "login_trend", "trend": {"metric": "logins_3d", "days": 2}, "weight": 1, "score": change},
        {"name": "session_length", "metric": "minutes_5d", "weight": 1, "score": {"function": "percentile"}},
        {"name": "session_trend", "trend": {"metric": "minutes_5d", "days": 3}, "weight": 1,
         "score": {"function": "linear", "lower": -30, "upper": 30}},
    ]
    usage_components = [
        {"name": "commits", "metric": "commits_3d", "weight": 1, "score": linear},
        {"name": "commit_trend", "trend": {"metric": "commits_3d", "days": 2}, "weight": 1, "score": change},
        {"name": "weekly_users", "metric": "stickiness_by_account.wau", "weight": 1, "score": linear},
        {"name": "weekly_trend", "trend": {"metric": "stickiness_by_account.wau", "days": 2}, "weight": 1,
         "score": change},
        {"name": "stickiness", "metric": "stickiness_by_account.dau_mau", "weight": 1,
         "score": {"function": "linear", "lower": 0, "upper": 1}, "missing": "zero"},
    ]
    categories = [{"name": "logins", "weight": 1, "components": login_components}]
    metrics = [
        {"name": "logins_3d", "source": "logins", "aggregate": "count", "window": 3},
        {"name": "minutes_5d", "source": "logins", "aggregate": "avg", "value": "minutes", "window": 5},
    ]
    sections: dict[str, Any] = {}
    if engagement:
        categories.append({"name": "usage", "weight": 1, "components": usage_components})
        metrics.append({"name": "commits_3d", "source": "events", "aggregate": "count", "window": 3})
        sections["stickiness"] = [{"name": "stickiness_by_account", "level": "any", "by": ["account"]}]
    score = {"name": "login_health", "population": {"source": "logins"}, "normalize": True, "categories": categories}
    rules = [
        {"name": "band_move", "type": "band_change", "score": "login_health", "direction": "any",
         "respond_within": "1 day"},
        {"name": "score_fall", "type": "score_drop", "score": "login_health", "points": 10, "days": 3,
         "respond_within": "1 day"},
        {"name": "review", "type": "red_review", "score": "login_health", "respond_within": "2 days"},
        {"name": "logins_stopped", "type": "stale_data", "source": "logins", "silent_for": 2, "lookback": 4,
         "min_active_days": 1, "respond_within": "1 day"},
    ]
    project_definitions = definitions(account_metrics=metrics, health_scores=[score], alerts=rules, **sections)
    project_definitions["sources"] = [EVENT_SOURCE, LOGIN_SOURCE]
    if not engagement:
        del project_definitions["engagement"]
        project_definitions["sources"] = [LOGIN_SOURCE]
        rows = []
    return rows, logins, project_definitions
