"""Account-level alerts of the DuckDB deployment: hand-computed rows and parity with tests/reference.

The hand-built cases use health scores whose values follow from the counts of a day's events, so
each expected row can be read off the events. The random cases compare the whole alerts view,
`alert_id` and `reason` included, with the reference computed from the reference health view.
"""

import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
from conftest import SHOP
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import event as label_example
from hypothesis import strategies as st
from reference import ReferenceProject
from reference import alerts as reference_alerts
from reference.builders import EVENT_SOURCE, definitions, event
from reference.parity import compare_deployment, read_view, write_project
from sqlglot import exp
from test_parity_duckdb import ALERT_RULES, START_DAYS, TIME_ZONES, event_logs, health_definitions

from healthlayer.api import deploy_project, load
from healthlayer.compiler.plan import build_plan
from healthlayer.compiler.sharing import shared_name

FIRST_DAY = date(2024, 1, 1)  # a Monday
COMMITS_1D = {"name": "commits_1d", "source": "events", "aggregate": "count", "filter": "event_type = 'commit'",
              "window": 1}
VIEWS_1D = {"name": "views_1d", "source": "events", "aggregate": "count", "filter": "event_type = 'view'", "window": 1}


def day(offset: int) -> date:
    return FIRST_DAY + timedelta(days=offset)


def category(name: str, metric: str, upper: float, weight: float = 100) -> dict[str, Any]:
    """Return a category of one linear component: 0 at no events, 100 at `upper` events of the day."""
    return {"name": name, "weight": weight, "components": [
        {"name": f"{name}_value", "metric": metric, "weight": 100,
         "score": {"function": "linear", "lower": 0, "upper": upper}}]}


def usage_score(*categories: dict[str, Any]) -> dict[str, Any]:
    return {"name": "health", "population": {"source": "events"},
            "categories": list(categories) or [category("usage", "commits_1d", 10)]}


def commits(account: str, counts: dict[int, int]) -> list[dict[str, Any]]:
    """Return `count` commits of account's user on each day offset; a count of 0 gives one view instead."""
    rows = []
    for offset, count in counts.items():
        rows += [event(offset, f"u_{account}", account, "commit") for _ in range(count)]
        if count == 0:
            rows.append(event(offset, f"u_{account}", account, "view"))
    return rows


def deploy_alerts(folder: Path, project_definitions: dict[str, Any], rows: list[dict[str, Any]],
                  attribute_rows: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Deploy a project and return the rows of its alerts view, ordered by rule, account and day."""
    write_project(folder, project_definitions, rows, attribute_rows=attribute_rows)
    deployment = deploy_project(folder)
    _, alerts = read_view(deployment.database, deployment.schema, "alerts")
    return sorted(alerts, key=lambda row: (row["rule"], str(row["account_id"]), row["detected_date"]))


def summary(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(row["rule"], row["account_id"], row["detected_date"], row["reason"]) for row in rows]


def reference_rows(project_definitions: dict[str, Any], source_rows: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows = ReferenceProject(project_definitions, source_rows).view("alerts")
    return summary(sorted(rows, key=lambda row: (row["rule"], str(row["account_id"]), row["detected_date"])))


# Commits of a1 per day, so health scores of 100, 50, 50, 10, 80, 80, 30 and 20 (bands green,
# yellow, yellow, red, green, green, red and red).
SCORE_PATH = {0: 10, 1: 5, 2: 5, 3: 1, 4: 8, 5: 8, 6: 3, 7: 2}


def test_band_change_rows(tmp_path):
    rules = [
        {"name": "band_down", "type": "band_change", "score": "health", "respond_within": "1 day"},
        {"name": "band_up", "type": "band_change", "score": "health", "direction": "up", "respond_within": "1 day"},
        {"name": "to_red", "type": "band_change", "score": "health", "to": ["red"], "respond_within": "1 day"},
        {"name": "to_green", "type": "band_change", "score": "health", "to": "green", "respond_within": "1 day"},
    ]
    project_definitions = definitions(account_metrics=[COMMITS_1D], health_scores=[usage_score()], alerts=rules)
    rows = commits("a1", SCORE_PATH)

    alerts = deploy_alerts(tmp_path, project_definitions, rows)

    assert summary(alerts) == [
        ("band_down", "a1", day(1), "band changed from green to yellow"),
        ("band_down", "a1", day(3), "band changed from yellow to red"),
        ("band_down", "a1", day(6), "band changed from green to red"),
        ("band_up", "a1", day(4), "band changed from red to green"),
        ("to_green", "a1", day(4), "band changed from red to green"),
        ("to_red", "a1", day(3), "band changed from yellow to red"),
        ("to_red", "a1", day(6), "band changed from green to red"),
    ]
    assert reference_rows(project_definitions, {"events": rows}) == summary(alerts)


def test_band_change_columns(tmp_path):
    rules = [{"name": "band_down", "type": "band_change", "score": "health", "respond_within": "36 hours"}]
    project_definitions = definitions(account_metrics=[COMMITS_1D], health_scores=[usage_score()], alerts=rules)

    first = deploy_alerts(tmp_path, project_definitions, commits("a1", {0: 10, 1: 5}))[0]

    assert first["alert_id"] == "band_down:a1::2024-01-02"
    assert first["alert_type"] == "band_change"
    assert first["user_id"] is None
    assert first["score"] == "health"
    assert first["respond_by"] == datetime(2024, 1, 4, 12)


def test_score_drop_rows(tmp_path):
    # Highest of the 2 days before minus the day's score: day 1: 50, day 2: 50, day 3: 40,
    # day 4: -30, day 5: 0, day 6: 50, day 7: 60. Drops of 40 start on days 1 and 6.
    rules = [{"name": "fell", "type": "score_drop", "score": "health", "points": 40, "days": 2,
              "respond_within": "2 days"},
             {"name": "fell_55", "type": "score_drop", "score": "health", "points": 55, "days": "2 days",
              "respond_within": "2 days"}]
    project_definitions = definitions(account_metrics=[COMMITS_1D], health_scores=[usage_score()], alerts=rules)
    rows = commits("a1", SCORE_PATH)

    alerts = deploy_alerts(tmp_path, project_definitions, rows)

    assert summary(alerts) == [
        ("fell", "a1", day(1), "health score fell by at least 40 points within 2 days"),
        ("fell", "a1", day(6), "health score fell by at least 40 points within 2 days"),
        ("fell_55", "a1", day(7), "health score fell by at least 55 points within 2 days"),
    ]
    assert reference_rows(project_definitions, {"events": rows}) == summary(alerts)


def test_red_review_rows(tmp_path):
    # Day 7 is a Monday and day 8 a Tuesday without events, when every score is 0.
    rules = [
        {"name": "review", "type": "red_review", "score": "health", "respond_within": "3 days"},
        {"name": "review_tuesday", "type": "red_review", "score": "health", "weekday": "tuesday",
         "respond_within": "3 days"},
        {"name": "review_green", "type": "red_review", "score": "health", "band": "green", "respond_within": "3 days"},
    ]
    score = usage_score(category("usage", "commits_1d", 10, 50), category("reach", "views_1d", 5, 50))
    project_definitions = definitions(account_metrics=[COMMITS_1D, VIEWS_1D], health_scores=[score], alerts=rules)
    # (commits, views) on day 7: usage and reach scores 10/40, 30/0, 100/100 and a tie at 20/20.
    counts = {"a1": (1, 2), "a2": (3, 0), "a3": (10, 5), "a4": (2, 1)}
    rows = [event(7, f"u_{account}", account, name) for account, (commit_count, view_count) in counts.items()
            for name, count in (("commit", commit_count), ("view", view_count)) for _ in range(count)]
    rows.append(event(8, "u_a9", "a9", "other"))

    alerts = deploy_alerts(tmp_path, project_definitions, rows)

    monday = "in band red on the monday review, weakest category"
    tuesday = "in band red on the tuesday review, weakest category"
    assert summary(alerts) == [
        ("review", "a1", day(7), f"{monday} usage"),
        ("review", "a2", day(7), f"{monday} reach"),
        ("review", "a4", day(7), f"{monday} usage"),
        ("review_green", "a3", day(7), "in band green on the monday review, weakest category usage"),
        ("review_tuesday", "a1", day(8), f"{tuesday} usage"),
        ("review_tuesday", "a2", day(8), f"{tuesday} usage"),
        ("review_tuesday", "a3", day(8), f"{tuesday} usage"),
        ("review_tuesday", "a4", day(8), f"{tuesday} usage"),
        ("review_tuesday", "a9", day(8), f"{tuesday} usage"),
    ]
    assert reference_rows(project_definitions, {"events": rows}) == summary(alerts)


STALE_RULE = {"name": "quiet", "type": "stale_data", "silent_for": 5, "min_active_days": 3, "lookback": "1 week",
              "respond_within": "1 day"}
# a1 is silent after day 2 for long enough; a2 was active on one day only; a3 is silent after day 6.
# a4 is silent after day 7 until the last day, 12, but only days 2 and 7 fall in the week up to day 7.
STALE_DAYS = {"a1": [0, 1, 2, 10], "a2": [0], "a3": [0, 2, 4, 6, 12], "a4": [0, 2, 7]}


def test_stale_data_rows(tmp_path):
    project_definitions = definitions(alerts=[STALE_RULE])
    # a5's events resume on day 7, the 5th day after day 2, so that silence is one day short.
    # Its next silence, after day 7, reaches the last day of data with days 1, 2 and 7 in the week.
    days = {**STALE_DAYS, "a5": [0, 1, 2, 7]}
    rows = [event(offset, f"u_{account}", account, "view") for account, offsets in days.items()
            for offset in offsets]
    # Events without a user are ignored, so this one does not break the silence of a1.
    rows.append(event(5, None, "a1", "view"))

    alerts = deploy_alerts(tmp_path, project_definitions, rows)

    reason = "no events for 5 days, after events on at least 3 of the 7 days before"
    assert summary(alerts) == [("quiet", "a1", day(7), reason), ("quiet", "a3", day(11), reason),
                               ("quiet", "a5", day(12), reason)]
    assert [row["alert_id"] for row in alerts] == ["quiet:a1::2024-01-08", "quiet:a3::2024-01-12",
                                                   "quiet:a5::2024-01-13"]
    assert [row["score"] for row in alerts] == [None, None, None]
    assert reference_rows(project_definitions, {"events": rows}) == summary(alerts)


LOGIN_SOURCE = {"name": "logins", "file": "data/logins.parquet", "account": "account_id", "timestamp": "login_ts"}
def test_score_view_read_once():
    """The band_change, score_drop and red_review rules of the shop's health score read its view once together."""
    project, _ = load(SHOP)
    alerts = build_plan(project, "analytics").get("alerts")

    tables = [table.name for table in alerts.query.find_all(exp.Table)]

    assert tables.count("account_health") == 1
    assert shared_name("account_health") not in tables


LOGIN_TYPES = {"account_id": pa.string(), "login_ts": pa.timestamp("us", tz="UTC")}


def login(offset: int, account: str) -> dict[str, Any]:
    return {"account_id": account, "login_ts": datetime(2024, 1, 1, 9, tzinfo=timezone.utc) + timedelta(days=offset)}


def test_alerts_without_engagement(tmp_path):
    """A project of health alerts on a source other than events has an alerts view but no engagement block."""
    logins_1d = {"name": "logins_1d", "source": "logins", "aggregate": "count", "window": 1}
    score = {"name": "health", "population": {"source": "logins"}, "categories": [category("usage", "logins_1d", 2)]}
    rules = [{"name": "band_down", "type": "band_change", "score": "health", "respond_within": "1 day"},
             {**STALE_RULE, "source": "logins"}]
    project_definitions = {"time_zone": "UTC", "sources": [LOGIN_SOURCE], "account_metrics": [logins_1d],
                           "health_scores": [score], "alerts": rules}
    logins = [login(offset, account) for account, offsets in STALE_DAYS.items() for offset in offsets]
    logins += [login(0, "a1"), login(1, "a1")]

    alerts = deploy_alerts(tmp_path, project_definitions, [], {"logins": (logins, LOGIN_TYPES)})

    reason = "no events for 5 days, after events on at least 3 of the 7 days before"
    assert summary(alerts) == [
        ("band_down", "a1", day(2), "band changed from green to yellow"),
        ("band_down", "a1", day(3), "band changed from yellow to red"),
        ("band_down", "a1", day(11), "band changed from yellow to red"),
        ("band_down", "a2", day(1), "band changed from yellow to red"),
        ("band_down", "a3", day(1), "band changed from yellow to red"),
        ("band_down", "a3", day(3), "band changed from yellow to red"),
        ("band_down", "a3", day(5), "band changed from yellow to red"),
        ("band_down", "a3", day(7), "band changed from yellow to red"),
        ("band_down", "a4", day(1), "band changed from yellow to red"),
        ("band_down", "a4", day(3), "band changed from yellow to red"),
        ("band_down", "a4", day(8), "band changed from yellow to red"),
        ("quiet", "a1", day(7), reason),
        ("quiet", "a3", day(11), reason),
    ]
    # The last day of data is the last login, day 12.
    assert {row["complete_through"] for row in alerts} == {day(12)}


ACCOUNT_RULE_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def account_rules(draw: st.DrawFn, bands: list[str]) -> list[dict[str, Any]]:
    """Draw one rule of each account-level type with random options over the score's `bands`, in random order.

    Some draws add a second score_drop and band_change rule, so that one score has several rules of a type.
    """
    band_change: dict[str, Any] = {"name": "band_move", "type": "band_change", "score": "account_health_daily",
                                   "respond_within": "2 days"}
    direction = draw(st.sampled_from([None, "down", "up", "any"]))
    if direction is not None:
        band_change["direction"] = direction
    targets = draw(st.lists(st.sampled_from(bands), max_size=2, unique=True))
    if targets:
        band_change["to"] = targets[0] if len(targets) == 1 else targets
    drop = {"name": "drop", "type": "score_drop", "score": "account_health_daily",
            "points": draw(st.sampled_from([5, 12.5, 30])), "days": draw(st.sampled_from([1, 3, "1 week"])),
            "respond_within": "24 hours"}
    review: dict[str, Any] = {"name": "review", "type": "red_review", "score": "account_health_daily",
                              "weekday": draw(st.sampled_from(reference_alerts.WEEKDAYS)), "respond_within": "3 days"}
    band = draw(st.sampled_from([None, *bands]))
    if band is not None:
        review["band"] = band
    lookback = draw(st.sampled_from([3, 7, 30]))
    stale = {"name": "silent", "type": "stale_data", "silent_for": draw(st.sampled_from([1, 2, 5])),
             "min_active_days": draw(st.integers(1, 3)), "lookback": lookback, "respond_within": "1 day"}
    rules = [band_change, drop, review, stale]
    if draw(st.booleans()):
        # A second score_drop and band_change rule on the same score, with other settings.
        rules.append({"name": "steep_drop", "type": "score_drop", "score": "account_health_daily",
                      "points": draw(st.sampled_from([10, 40])), "days": draw(st.sampled_from([2, 5])),
                      "respond_within": "3 days"})
        rules.append({"name": "any_move", "type": "band_change", "score": "account_health_daily",
                      "direction": "any", "respond_within": "2 days"})
    return draw(st.permutations(rules))


@st.composite
def active_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Draw daily activity of three accounts with quiet stretches, plus a sparse log with NULLs and duplicates.

    Account-level rules need many days of data per account, which sparse logs seldom have.
    """
    start = draw(st.sampled_from(START_DAYS))
    span = draw(st.integers(8, 35))
    rows = draw(event_logs())
    for account in ("a1", "a2", "a3"):
        first = draw(st.integers(0, span - 1))
        counts = draw(st.lists(st.sampled_from([0, 0, 1, 2, 3, 5]), min_size=span - first, max_size=span - first))
        for offset, count in enumerate(counts, start=first):
            for index in range(count):
                rows.append({
                    "user_id": f"{account}_u{index % 2}",
                    "account_id": account,
                    "event_ts": start + timedelta(days=offset, minutes=draw(st.integers(0, 1439))),
                    "event_type": draw(st.sampled_from(["view", "commit", "merge", "other"])),
                    "area": draw(st.sampled_from([None, "lib"])),
                    "commit_key": draw(st.sampled_from([None, "k1", "k2"])),
                    "amount": float(draw(st.integers(-5, 20))),
                })
    return rows


@ACCOUNT_RULE_SETTINGS
@given(rows=active_logs(), time_zone=st.sampled_from(TIME_ZONES), health=health_definitions(), data=st.data())
def test_random_account_alerts(rows, time_zone, health, data):
    from test_parity_duckdb import ACCOUNT_METRICS, ATTRIBUTE_SOURCE

    bands = [band["name"] for band in health.get("bands", reference_alerts.DEFAULT_BANDS)]
    rules = data.draw(account_rules(bands))
    project_definitions = definitions(
        time_zone=time_zone,
        stickiness=[{"name": "stickiness_by_account", "level": "any", "by": ["account"]}],
        tier_mix=[{"name": "mix_by_account", "by": ["account"], "window": 7}],
        account_metrics=ACCOUNT_METRICS,
        health_scores=[health],
        alerts=ALERT_RULES + rules,
    )
    project_definitions["sources"] = [EVENT_SOURCE, ATTRIBUTE_SOURCE]
    attribute_rows = [{"account_id": "a1", "seats": 3.0}, {"account_id": "a2", "seats": None}]
    reference = ReferenceProject(project_definitions, {"events": rows, "accounts": attribute_rows})
    health_rows = reference.view("account_health_daily")
    for rule in rules:
        if rule["type"] == "score_drop":
            assume(not reference_alerts.score_drop_is_ambiguous(health_rows, rule))
        if rule["type"] == "red_review":
            assume(not reference_alerts.red_review_is_ambiguous(health_rows, rule, health))
    # The statistics (pytest --hypothesis-show-statistics) show how often each type has rows.
    types = {row["alert_type"] for row in reference.view("alerts")}
    for alert_type in ("tier_drop", "band_change", "score_drop", "red_review", "stale_data"):
        label_example(f"{alert_type} rows: {alert_type in types}")

    with tempfile.TemporaryDirectory() as folder:
        from test_parity_duckdb import ATTRIBUTE_TYPES

        write_project(Path(folder), project_definitions, rows, attribute_rows={"accounts": (attribute_rows, ATTRIBUTE_TYPES)})
        deployment = deploy_project(Path(folder))
        problems = compare_deployment(reference, deployment.database, deployment.schema, ["alerts"])
    assert not problems, "the alerts view differs from the reference:\n" + "\n".join(problems)
