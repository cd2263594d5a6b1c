"""Parity of the DuckDB deployment with the plain-Python reference in tests/reference/.

Each case writes a project folder, deploys it with `healthlayer.api.deploy_project`, reads every
view with DuckDB and compares it row by row with the reference, floats at 1e-9 relative.
"""

import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import ReferenceProject
from reference.builders import EVENT_SOURCE, STANDARD_TIERS, definitions, event
from reference.builders import day as date_of
from reference.cases import (
    DST_LOGS,
    EDGE_CASES,
    EXPRESSION_AMOUNTS,
    EXPRESSION_AREAS,
    EXPRESSION_GROUPS,
    LOGIN_TYPES,
    NAIVE_TIMESTAMP,
    POPULATION_RANGES,
    STANDARD_VIEWS,
    UTC_TIMESTAMP,
    at,
    expression_project,
    population_range_project,
)
from reference.parity import (
    REPOSITORY,
    compare_deployment,
    load_project_definitions,
    read_view,
    write_project,
)

from healthlayer.api import deploy_project

BERLIN_TIMESTAMP = pa.timestamp("us", tz="Europe/Berlin")

ATTRIBUTE_SOURCE = {
    "name": "accounts",
    "file": "data/accounts.parquet",
    "account": "account_id",
    "columns": {"seats": "number"},
}
ATTRIBUTE_TYPES = {"account_id": pa.string(), "seats": pa.float64()}

HYPOTHESIS_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def deploy_and_compare(
    folder: Path,
    project_definitions: dict[str, Any],
    rows: list[dict[str, Any]],
    timestamp_type: pa.DataType = UTC_TIMESTAMP,
    attribute_rows: list[dict[str, Any]] | None = None,
) -> list[str]:
    """Deploy a project of `rows` and return its differences from the reference."""
    attributes = None if attribute_rows is None else {"accounts": (attribute_rows, ATTRIBUTE_TYPES)}
    write_project(folder, project_definitions, rows, timestamp_type, attributes)
    deployment = deploy_project(folder)
    source_rows = {"events": rows, "accounts": attribute_rows or []}
    reference = ReferenceProject(project_definitions, source_rows)
    return compare_deployment(reference, deployment.database, deployment.schema)


def assert_parity(problems: list[str]) -> None:
    assert not problems, "deployed views differ from the reference:\n" + "\n".join(problems)


def test_view_columns(tmp_path):
    project_definitions = definitions(**STANDARD_VIEWS)
    rows = [event(0, "u1", "a1", "merge"), event(1, "u2", "a2", "view")]
    write_project(tmp_path, project_definitions, rows)
    deployment = deploy_project(tmp_path)
    reference = ReferenceProject(project_definitions, {"events": rows})
    # Views may have more columns than the reference (tier_rank, direction), never fewer.
    assert_parity(compare_deployment(reference, deployment.database, deployment.schema))


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_case_logs(tmp_path, case):
    project_definitions = definitions(**STANDARD_VIEWS)
    assert_parity(deploy_and_compare(tmp_path, project_definitions, EDGE_CASES[case]))


@pytest.mark.parametrize("time_zone", sorted(DST_LOGS))
@pytest.mark.parametrize("timestamp_type", [UTC_TIMESTAMP, NAIVE_TIMESTAMP, BERLIN_TIMESTAMP], ids=["utc", "naive", "berlin"])
def test_dst_days(tmp_path, time_zone, timestamp_type):
    project_definitions = definitions(time_zone=time_zone, tier_window=2, **STANDARD_VIEWS)
    assert_parity(deploy_and_compare(tmp_path, project_definitions, DST_LOGS[time_zone], timestamp_type))


@pytest.mark.parametrize("time_zone", ["Europe/Berlin", "America/New_York"])
def test_respond_by_across_dst(tmp_path, time_zone):
    # With a 2-day tier window, each power user drops to inactive two days after a merge. The
    # drops fall on the two days before the autumn change of each zone (2024-10-27 and
    # 2024-11-03), on the day of the change and on the day after.
    day_before_change = {"Europe/Berlin": datetime(2024, 10, 26, 12), "America/New_York": datetime(2024, 11, 2, 12)}
    zone = ZoneInfo(time_zone)
    rows = []
    for index, shift in enumerate([-1, 0, 1, 2]):
        merge_day = day_before_change[time_zone] + timedelta(days=shift - 2)
        rows.append(at(merge_day.replace(tzinfo=zone).isoformat(), f"u{index}", "a1", "merge"))
    rows.append(at((day_before_change[time_zone] + timedelta(days=5)).replace(tzinfo=zone).isoformat(), "u9", "a9", "view"))
    project_definitions = definitions(time_zone=time_zone, tier_window=2, **STANDARD_VIEWS)
    reference = ReferenceProject(project_definitions, {"events": rows})
    assert len(reference.view("alerts")) == 4
    assert_parity(deploy_and_compare(tmp_path, project_definitions, rows))


def test_stickiness_defaults(tmp_path):
    # Without `level`, stickiness counts users at the active tier or higher.
    rows = [event(0, "u1", "a1", "merge"), event(1, "u2", "a1", "view"), event(2, "u3", None, "other")]
    stickiness = [{"name": "stickiness_defaults"}, {"name": "stickiness_custom_windows", "windows": {"d1": 1, "d2": 2, "d5": 5}}]
    assert_parity(deploy_and_compare(tmp_path, definitions(stickiness=stickiness), rows))


def test_one_day_tier_window(tmp_path):
    rows = [event(0, "u1", "a1", "merge"), event(1, "u1", "a1", "view"), event(3, "u1", "a1", "commit")]
    project_definitions = definitions(tier_window=1, **STANDARD_VIEWS)
    assert_parity(deploy_and_compare(tmp_path, project_definitions, rows))


def test_by_declared_column(tmp_path):
    rows = [
        event(0, "u1", "a1", "commit", area="lib"),
        event(1, "u2", "a1", "commit", area="app"),
        event(1, "u3", None, "commit", area="lib"),
        event(3, "u1", "a2", "commit", area=None),
    ]
    stickiness = [{"name": "stickiness_by_area", "level": "any", "by": ["area"]}]
    assert_parity(deploy_and_compare(tmp_path, definitions(stickiness=stickiness), rows))


def test_tier_thresholds_and_filter(tmp_path):
    tiers = [
        {"name": "passive", "events": "*"},
        {"name": "active", "events": ["commit", "merge"], "min_events": 2},
        {
            "name": "power",
            "events": ["merge"],
            "filter": "area is not null",
            "min_distinct": {"column": "commit_key", "count": 2},
        },
    ]
    rows = [
        event(0, "u1", "a1", "merge", area="lib", commit_key="k1"),
        event(1, "u1", "a1", "merge", area="lib", commit_key="k1"),
        event(2, "u1", "a1", "merge", area=None, commit_key="k2"),
        event(3, "u1", "a1", "merge", area="lib", commit_key="k2"),
        event(4, "u2", "a1", "commit"),
        event(4, "u2", "a1", "commit"),
        event(5, "u2", "a1", None),
        event(6, "u3", "a2", "other"),
    ]
    project_definitions = definitions(tiers, tier_window="3 days", **STANDARD_VIEWS)
    assert_parity(deploy_and_compare(tmp_path, project_definitions, rows))


@pytest.mark.parametrize("group", list(EXPRESSION_GROUPS))
def test_expression_metrics(tmp_path, group):
    texts = EXPRESSION_GROUPS[group]
    rows, project_definitions = expression_project(texts, group.startswith("filters"),
                                                   EXPRESSION_AMOUNTS, EXPRESSION_AREAS)
    problems = deploy_and_compare(tmp_path, project_definitions, rows)
    legend = [f"c_m{index}: {text}" for index, text in enumerate(texts)]
    assert not problems, "deployed views differ from the reference:\n" + "\n".join([*problems, "categories:", *legend])


# Strategies for random event logs over a few users and accounts.
START_DAYS = [datetime(2024, 1, 1, tzinfo=timezone.utc), datetime(2024, 3, 1, tzinfo=timezone.utc), datetime(2024, 10, 1, tzinfo=timezone.utc)]
TIME_ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
# Minutes after UTC midnight that are close to local midnight in one of TIME_ZONES.
MINUTES_NEAR_MIDNIGHT = [0, 59, 4 * 60 + 59, 5 * 60, 18 * 60 + 29, 18 * 60 + 30, 21 * 60 + 59, 22 * 60, 22 * 60 + 59, 23 * 60, 1439]


@st.composite
def event_logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Draw up to 60 events over up to 70 days, with NULLs, duplicates and events near midnight."""
    start = draw(st.sampled_from(START_DAYS))
    span = draw(st.sampled_from([1, 3, 10, 35, 70]))
    event_tuples = st.tuples(
        st.integers(0, span - 1),
        st.one_of(st.sampled_from(MINUTES_NEAR_MIDNIGHT), st.integers(0, 1439)),
        st.sampled_from(["u1", "u2", "u3", None]),
        st.sampled_from(["a1", "a2", None]),
        st.sampled_from(["view", "commit", "merge", "other", None]),
        st.sampled_from([None, "lib", "app"]),
        st.sampled_from([None, "k1", "k2", "k3"]),
        st.one_of(st.none(), st.integers(-5, 20).map(float)),
        st.integers(0, 24),  # 24 drops the timestamp, so one event in 25 has none
    )
    rows = []
    for day, minute, user, account, name, area, commit_key, amount, timestamp_draw in draw(
        st.lists(event_tuples, max_size=50)
    ):
        timestamp = None if timestamp_draw == 24 else start + timedelta(days=day, minutes=minute)
        rows.append(
            {
                "user_id": user,
                "account_id": account,
                "event_ts": timestamp,
                "event_type": name,
                "area": area,
                "commit_key": commit_key,
                "amount": amount,
            }
        )
    if rows:
        rows += [dict(rows[index]) for index in draw(st.lists(st.integers(0, len(rows) - 1), max_size=10))]
    return rows


@st.composite
def tier_definitions(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Draw the standard three tiers with random thresholds, distinct counts and filters."""
    tiers = []
    for spec in STANDARD_TIERS:
        tier = dict(spec)
        if spec["name"] == "passive":
            events = draw(st.sampled_from([["view"], "*", ["view", "other"], None]))
            if events is None:
                # A class given by a filter alone.
                del tier["events"]
                tier["filter"] = "amount >= 5"
            else:
                tier["events"] = events
        min_events = draw(st.sampled_from([None, 1, 2, 3]))
        if min_events is not None:
            tier["min_events"] = min_events
        if draw(st.integers(0, 3)) == 0:
            tier["min_distinct"] = {"column": "commit_key", "count": draw(st.integers(1, 2))}
        if spec["name"] == "power" and draw(st.booleans()):
            tier["filter"] = "area is not null"
        tiers.append(tier)
    return tiers


@st.composite
def stickiness_definitions(draw: st.DrawFn) -> list[dict[str, Any]]:
    levels = st.sampled_from(["any", "passive", "active", "power"])
    window_choices = [
        {},
        {"windows": {"dau": 1, "wau": 7, "mau": 30}, "ratios": ["dau_mau", "wau_mau"], "min_denominator": 2},
        {"windows": {"d1": 1, "d3": "3 days", "d10": 10}, "ratios": ["d1_d10", "d3_d10", "d1_d3"]},
    ]
    views = []
    for name, by in [("stickiness_global", []), ("stickiness_by_account", ["account"])]:
        view = {"name": name, "level": draw(levels), **draw(st.sampled_from(window_choices))}
        if by:
            view["by"] = by
        views.append(view)
    return views


@st.composite
def tier_mix_definitions(draw: st.DrawFn) -> list[dict[str, Any]]:
    windows = st.sampled_from([7, "30 days", "4 weeks", "2 days"])
    target = {"tier": draw(st.sampled_from(["passive", "active", "power"])), "min_share": draw(st.sampled_from([0, 0.25, 0.4, 0.5, 1]))}
    return [
        {"name": "mix_by_account", "by": ["account"], "window": draw(windows), "target": target},
        {"name": "mix_global", "window": draw(windows)},
    ]


ALERT_RULES = [
    {"name": "power_user_drop", "type": "tier_drop", "from": "power", "to": "passive", "respond_within": "48 hours"},
    {"name": "active_user_lost", "type": "tier_drop", "from": "active", "to": "inactive", "respond_within": "2 days"},
]


@HYPOTHESIS_SETTINGS
@given(
    rows=event_logs(),
    time_zone=st.sampled_from(TIME_ZONES),
    timestamp_type=st.sampled_from([UTC_TIMESTAMP, NAIVE_TIMESTAMP]),
    tiers=tier_definitions(),
    tier_window=st.sampled_from([1, 3, "7 days", "1 week", "2 weeks"]),
    stickiness=stickiness_definitions(),
    tier_mix=tier_mix_definitions(),
)
def test_random_engagement_logs(rows, time_zone, timestamp_type, tiers, tier_window, stickiness, tier_mix):
    project_definitions = definitions(
        tiers,
        time_zone=time_zone,
        tier_window=tier_window,
        stickiness=stickiness,
        tier_mix=tier_mix,
        alerts=ALERT_RULES,
    )
    with tempfile.TemporaryDirectory() as folder:
        assert_parity(deploy_and_compare(Path(folder), project_definitions, rows, timestamp_type))


ACCOUNT_METRICS = [
    {"name": "commits_7d", "source": "events", "aggregate": "count", "filter": "event_type = 'commit'", "window": 7},
    {"name": "keys_2w", "source": "events", "aggregate": "count_distinct", "value": "commit_key", "window": "2 weeks"},
    {"name": "amount_10d", "source": "events", "aggregate": "sum", "value": "amount", "window": 10},
    {"name": "amount_avg_10d", "source": "events", "aggregate": "avg", "value": "amount", "window": 10},
    {"name": "amount_min_5d", "source": "events", "aggregate": "min", "value": "amount * 2", "window": 5},
    {"name": "amount_max_5d", "source": "events", "aggregate": "max", "value": "amount", "window": 5, "filter": "area is not null"},
]
METRIC_REFERENCES = [metric["name"] for metric in ACCOUNT_METRICS] + [
    "stickiness_by_account.dau_mau",
    "stickiness_by_account.wau",
    "mix_by_account.active_share",
    "mix_by_account.mau",
]


@st.composite
def scoring_definitions(draw: st.DrawFn) -> dict[str, Any]:
    function = draw(st.sampled_from(["linear", "steps", "percentile"]))
    if function == "linear":
        lower = draw(st.sampled_from([-5, 0, 0.2, 1]))
        upper = lower + draw(st.sampled_from([0.3, 1, 10]))
        return {"function": "linear", "lower": lower, "upper": upper, "higher_is_better": draw(st.booleans())}
    if function == "steps":
        # The breakpoints are listed in ascending order of `min`, as the definitions require.
        minimums = sorted(draw(st.lists(st.sampled_from([-1, -0.5, 0, 0.1, 1, 2, 5]), min_size=1, max_size=3, unique=True)))
        return {"function": "steps", "steps": [{"min": minimum, "score": draw(st.integers(0, 100))} for minimum in minimums]}
    percentile: dict[str, Any] = {"function": "percentile", "higher_is_better": draw(st.booleans())}
    if draw(st.booleans()):
        # Seats group the accounts; an account without seats ranks among the others without.
        percentile["within"] = "accounts.seats"
    return percentile


MISSING_POLICIES = st.sampled_from([None, "renormalize", "zero", {"impute": 50}, {"impute": 12.5}])


def split_weights(draw: st.DrawFn, count: int, normalize: bool) -> list[int]:
    """Draw `count` positive integer weights, which sum to 100 unless `normalize` is set."""
    if normalize:
        return draw(st.lists(st.integers(1, 40), min_size=count, max_size=count))
    cuts = sorted(draw(st.lists(st.integers(1, 99), min_size=count - 1, max_size=count - 1, unique=True)))
    return [high - low for low, high in zip([0, *cuts], [*cuts, 100])]


@st.composite
def component_definitions(draw: st.DrawFn, name: str, weight: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["metric", "metric", "trend", "attribute"]))
    component: dict[str, Any] = {"name": name, "weight": weight, "score": draw(scoring_definitions())}
    if kind == "metric":
        component["metric"] = draw(st.sampled_from(METRIC_REFERENCES))
    elif kind == "trend":
        component["trend"] = {
            "metric": draw(st.sampled_from(METRIC_REFERENCES)),
            "days": draw(st.integers(1, 10)),
            "change": draw(st.sampled_from(["difference", "relative"])),
        }
    else:
        component["attribute"] = "accounts.seats"
    missing = draw(MISSING_POLICIES)
    if missing is not None:
        component["missing"] = missing
    return component


@st.composite
def health_definitions(draw: st.DrawFn) -> dict[str, Any]:
    normalize = draw(st.booleans())
    categories = []
    for category_index, category_weight in enumerate(split_weights(draw, draw(st.integers(1, 3)), normalize)):
        component_count = draw(st.integers(1, 3))
        components = [
            draw(component_definitions(f"k{category_index}_{index}", weight))
            for index, weight in enumerate(split_weights(draw, component_count, normalize))
        ]
        category = {"name": f"c{category_index}", "weight": category_weight, "components": components}
        missing = draw(MISSING_POLICIES)
        if missing is not None:
            category["missing"] = missing
        categories.append(category)
    population: dict[str, Any] = {"source": "events"}
    population_filter = draw(st.sampled_from([None, "area is not null", "event_type = 'commit'"]))
    if population_filter is not None:
        population["filter"] = population_filter
    score: dict[str, Any] = {"name": "account_health_daily", "population": population, "categories": categories}
    if normalize:
        score["normalize"] = True
    missing = draw(MISSING_POLICIES)
    if missing is not None:
        score["missing"] = missing
    if draw(st.booleans()):
        score["bands"] = [{"name": "good", "min": 50}, {"name": "bad", "min": 0}, {"name": "great", "min": 90}]
    return score


@HYPOTHESIS_SETTINGS
@given(
    rows=event_logs(),
    time_zone=st.sampled_from(TIME_ZONES),
    health=health_definitions(),
    seats=st.lists(st.one_of(st.none(), st.integers(0, 50).map(float)), min_size=3, max_size=3),
)
def test_random_health_scores(rows, time_zone, health, seats):
    project_definitions = definitions(
        time_zone=time_zone,
        stickiness=[{"name": "stickiness_by_account", "level": "any", "by": ["account"]}],
        tier_mix=[{"name": "mix_by_account", "by": ["account"], "window": 7}],
        account_metrics=ACCOUNT_METRICS,
        health_scores=[health],
    )
    project_definitions["sources"] = [EVENT_SOURCE, ATTRIBUTE_SOURCE]
    attribute_rows = [{"account_id": account, "seats": value} for account, value in zip(["a1", "a2", "a3"], seats)]
    with tempfile.TemporaryDirectory() as folder:
        assert_parity(deploy_and_compare(Path(folder), project_definitions, rows, attribute_rows=attribute_rows))


def test_percentile_within_segments(tmp_path):
    """Accounts rank among those with the same seats; an account alone in its group, or without seats, scores 50."""
    commits = {"a1": 1, "a2": 3, "a3": 2, "a4": 5, "a5": 4}
    rows = [event(0, f"u_{account}_{index}", account, "commit") for account, count in commits.items()
            for index in range(count)]
    component = {"name": "commits", "metric": "commits_7d", "weight": 100,
                 "score": {"function": "percentile", "within": "accounts.seats"}}
    project_definitions = definitions(
        account_metrics=ACCOUNT_METRICS[:1],
        health_scores=[{"name": "health", "population": {"source": "events"},
                        "categories": [{"name": "usage", "weight": 100, "components": [component]}]}])
    project_definitions["sources"] = [EVENT_SOURCE, ATTRIBUTE_SOURCE]
    seats = {"a1": 10.0, "a2": 10.0, "a3": 10.0, "a4": 20.0, "a5": None}
    attribute_rows = [{"account_id": account, "seats": value} for account, value in seats.items()]

    assert_parity(deploy_and_compare(tmp_path, project_definitions, rows, attribute_rows=attribute_rows))
    with duckdb.connect(str(tmp_path / "parity.duckdb"), read_only=True) as connection:
        scores = dict(connection.execute("SELECT account_id, health_score FROM analytics.health").fetchall())
    # Within 10 seats: 1, 2 and 3 commits rank 0, 50 and 100.
    assert scores == {"a1": 0.0, "a3": 50.0, "a2": 100.0, "a4": 50.0, "a5": 50.0}


def deploy_matching_reference(folder: Path, project_definitions: dict[str, Any], rows: list[dict[str, Any]],
                              attribute_rows: list[dict[str, Any]], types: dict[str, pa.DataType]) -> Path:
    """Deploy a project of events and account attributes, check every view against the reference, return the database."""
    write_project(folder, project_definitions, rows, UTC_TIMESTAMP, {"accounts": (attribute_rows, types)})
    deployment = deploy_project(folder)
    reference = ReferenceProject(project_definitions, {"events": rows, "accounts": attribute_rows})
    assert_parity(compare_deployment(reference, deployment.database, deployment.schema))
    return deployment.database


def expected_score_days(logins: dict[str, list[int]], first: int, last: int) -> dict[str, tuple[Any, Any]]:
    """Return each account's first and last score day: from its first login, or `first` when later, to `last`."""
    return {account: (date_of(max(min(days), first)), date_of(last))
            for account, days in logins.items() if min(days) <= last}


def score_days(database: Path, schema: str) -> dict[str, tuple[Any, Any]]:
    """Return each account's first and last day in the login_health view."""
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(f"SELECT account_id, MIN(as_of_date), MAX(as_of_date) FROM {schema}.login_health "
                                  "GROUP BY account_id").fetchall()
    return {account: (first, last) for account, first, last in rows}


@pytest.mark.parametrize("engagement", [True, False], ids=["events-range", "own-range"])
@pytest.mark.parametrize("case", sorted(POPULATION_RANGES))
def test_population_source_range(tmp_path, case, engagement):
    """A population of another source is scored on the days of the events' data range, or on its own
    days in a project without an engagement block."""
    rows, logins, project_definitions = population_range_project(case, engagement=engagement)
    write_project(tmp_path, project_definitions, rows, UTC_TIMESTAMP, {"logins": (logins, LOGIN_TYPES)})
    deployment = deploy_project(tmp_path)
    sources = {"events": rows, "logins": logins} if engagement else {"logins": logins}
    reference = ReferenceProject(project_definitions, sources)

    assert_parity(compare_deployment(reference, deployment.database, deployment.schema))
    commit_days, login_days = POPULATION_RANGES[case]
    range_days = commit_days if engagement else login_days
    first = min(min(days) for days in range_days.values())
    last = max(max(days) for days in range_days.values())
    assert score_days(deployment.database, deployment.schema) == expected_score_days(login_days, first, last)
    for view in ("login_health", "login_health_explanations", "alerts"):
        _, view_rows = read_view(deployment.database, deployment.schema, view)
        assert {row["complete_through"] for row in view_rows} == {date_of(last)}, view


def test_category_weights_by_segment(tmp_path):
    """Accounts of a listed plan take that plan's category weights; others, and those without a plan, the default."""
    commits = {"a1": 2, "a2": 4, "a3": 1, "a4": 1}
    rows = [event(0, f"u_{account}_{index}", account, "commit") for account, count in commits.items()
            for index in range(count)]
    project_definitions = definitions(
        account_metrics=ACCOUNT_METRICS[:1],
        health_scores=[{
            "name": "health", "population": {"source": "events"}, "segment": "accounts.plan",
            "segment_weights": {"enterprise": {"usage": 20, "size": 80}, "starter": {"usage": 80, "size": 20}},
            "categories": [
                {"name": "usage", "weight": 50, "components": [{"name": "commits", "metric": "commits_7d", "weight": 100,
                                                                 "score": {"function": "linear", "lower": 0, "upper": 4}}]},
                {"name": "size", "weight": 50, "components": [{"name": "seats", "attribute": "accounts.seats", "weight": 100,
                                                                "score": {"function": "linear", "lower": 0, "upper": 10}}]},
            ]}])
    project_definitions["sources"] = [EVENT_SOURCE, {**ATTRIBUTE_SOURCE, "columns": {"seats": "number", "plan": "text"}}]
    attribute_rows = [{"account_id": "a1", "plan": "enterprise", "seats": 10.0},
                      {"account_id": "a2", "plan": "starter", "seats": 0.0},
                      {"account_id": "a3", "plan": None, "seats": 5.0},
                      {"account_id": "a4", "plan": "other", "seats": 5.0}]
    types = {"account_id": pa.string(), "plan": pa.string(), "seats": pa.float64()}
    database = deploy_matching_reference(tmp_path, project_definitions, rows, attribute_rows, types)
    with duckdb.connect(str(database), read_only=True) as connection:
        scores = dict(connection.execute("SELECT account_id, health_score FROM analytics.health").fetchall())
    # a1: 0.2 * 50 + 0.8 * 100; a2: 0.8 * 100 + 0.2 * 0; a3 and a4: 0.5 * 25 + 0.5 * 50.
    assert scores == {"a1": 90.0, "a2": 80.0, "a3": 37.5, "a4": 37.5}


def test_usage_trend_outweighs_promoter(tmp_path):
    """A usage trend weighs against the survey answer: the promoter who stopped working scores lower."""
    rows = [event(0, f"u_a1_{index}", "a1", "commit") for index in range(4)]
    rows += [event(0, "u_a2_0", "a2", "view"), event(13, "u_a1_0", "a1", "view")]
    rows += [event(13, f"u_a2_{index}", "a2", "commit") for index in range(4)]
    project_definitions = definitions(
        account_metrics=ACCOUNT_METRICS[:1],
        health_scores=[{
            "name": "health", "population": {"source": "events"},
            "categories": [
                {"name": "usage", "weight": 60, "components": [
                    {"name": "commit_trend", "weight": 100, "trend": {"metric": "commits_7d", "days": 7},
                     "score": {"function": "linear", "lower": -4, "upper": 4}}]},
                {"name": "relationship", "weight": 40, "components": [
                    {"name": "nps", "attribute": "accounts.nps", "weight": 100,
                     "score": {"function": "steps", "steps": [{"min": 0, "score": 0}, {"min": 7, "score": 50},
                                                              {"min": 9, "score": 100}]}}]},
            ]}])
    project_definitions["sources"] = [EVENT_SOURCE, {**ATTRIBUTE_SOURCE, "columns": {"nps": "number"}}]
    attribute_rows = [{"account_id": "a1", "nps": 10.0}, {"account_id": "a2", "nps": 8.0}]
    types = {"account_id": pa.string(), "nps": pa.float64()}
    database = deploy_matching_reference(tmp_path, project_definitions, rows, attribute_rows, types)
    with duckdb.connect(str(database), read_only=True) as connection:
        last_day = connection.execute("SELECT account_id, usage_score, relationship_score, health_score, band "
                                      "FROM analytics.health WHERE as_of_date = (SELECT MAX(as_of_date) "
                                      "FROM analytics.health) ORDER BY account_id").fetchall()
    # Day 13 against day 6: a1's commits in 7 days fell from 4 to 0 (trend -4, score 0), and a2's
    # rose from 0 to 4 (score 100). The promoter a1 scores 0.6 * 0 + 0.4 * 100 = 40; the passive
    # a2 scores 0.6 * 100 + 0.4 * 50 = 80.
    assert last_day == [("a1", 0.0, 100.0, 40.0, "yellow"), ("a2", 100.0, 50.0, 80.0, "green")]


def test_derived_attribute_columns(tmp_path):
    """A derived column scores the ratio of two attributes, NULL where the divisor is 0 or missing."""
    rows = [event(0, f"u_{account}", account, "commit") for account in ("a1", "a2", "a3", "a4")]
    project_definitions = definitions(health_scores=[{
        "name": "health", "population": {"source": "events"},
        "categories": [{"name": "outcomes", "weight": 100, "components": [
            {"name": "roi_vs_promise", "attribute": "accounts.roi_vs_promise", "weight": 100,
             "score": {"function": "linear", "lower": 0.5, "upper": 1.5}}]}]}])
    project_definitions["sources"] = [EVENT_SOURCE, {
        **ATTRIBUTE_SOURCE, "columns": {"achieved": "number", "promised": "number"},
        "derived": {"roi_vs_promise": "achieved / nullif(promised, 0)"}}]
    attribute_rows = [{"account_id": "a1", "achieved": 3.0, "promised": 2.0},
                      {"account_id": "a2", "achieved": 1.5, "promised": 2.0},
                      {"account_id": "a3", "achieved": 1.0, "promised": 0.0},
                      {"account_id": "a4", "achieved": None, "promised": 2.0}]
    types = {"account_id": pa.string(), "achieved": pa.float64(), "promised": pa.float64()}
    database = deploy_matching_reference(tmp_path, project_definitions, rows, attribute_rows, types)
    with duckdb.connect(str(database), read_only=True) as connection:
        scores = dict(connection.execute("SELECT account_id, health_score FROM analytics.health").fetchall())
    # a1 achieved 1.5 times its promise (score 100), a2 0.75 times (25); a3 and a4 have no ratio.
    assert scores == {"a1": 100.0, "a2": 25.0, "a3": None, "a4": None}


def test_explanations(tmp_path):
    """Weights and contributions add up to the score, whatever the missing policies leave out or impute."""
    commits = {"a1": 2, "a2": 4, "a4": 1}
    rows = [event(0, f"u_{account}_{index}", account, "commit") for account, count in commits.items()
            for index in range(count)]
    rows.append(event(7, "u_a1_0", "a1", "view"))
    linear = {"function": "linear", "lower": 0, "upper": 10}
    project_definitions = definitions(
        account_metrics=ACCOUNT_METRICS[:1],
        health_scores=[{
            "name": "health", "population": {"source": "events"},
            "categories": [
                {"name": "usage", "weight": 60, "components": [
                    {"name": "commits", "metric": "commits_7d", "weight": 50,
                     "score": {"function": "linear", "lower": 0, "upper": 4}},
                    {"name": "seats", "attribute": "accounts.seats", "weight": 50, "score": linear}]},
                {"name": "support", "weight": 40, "missing": {"impute": 50}, "components": [
                    {"name": "tickets", "attribute": "accounts.tickets", "weight": 100,
                     "score": {**linear, "higher_is_better": False}}]},
            ]}])
    project_definitions["sources"] = [EVENT_SOURCE, {**ATTRIBUTE_SOURCE, "columns": {"seats": "number", "tickets": "number"}}]
    attribute_rows = [{"account_id": "a1", "seats": 10.0, "tickets": None},
                      {"account_id": "a2", "seats": None, "tickets": 2.0},
                      {"account_id": "a4", "seats": 5.0, "tickets": 6.25}]
    types = {"account_id": pa.string(), "seats": pa.float64(), "tickets": pa.float64()}

    database = deploy_matching_reference(tmp_path, project_definitions, rows, attribute_rows, types)
    with duckdb.connect(str(database), read_only=True) as connection:
        explained = connection.execute(
            "SELECT * FROM (SELECT account_id, CAST(as_of_date - (SELECT MIN(as_of_date) FROM analytics.health) "
            "AS INTEGER) AS day, component, score, weight, contribution, contribution_change_7d, weakest_category "
            "FROM analytics.health_explanations) WHERE day IN (0, 7) ORDER BY 1, 2, 3").fetchall()

    # a1 has no tickets, so support scores its imputed 50 and its one component carries the category's 40 points.
    # Without data, support is not a1's weakest category.
    # a2 has no seats, so commits carry the usage category's 60 points alone. a4 ties usage and support at
    # 37.5, and the weakest category is the first declared.
    assert explained == [
        ("a1", 0, "commits", 50.0, 30.0, 15.0, None, "usage"),
        ("a1", 0, "seats", 100.0, 30.0, 30.0, None, "usage"),
        ("a1", 0, "tickets", None, 40.0, 20.0, None, "usage"),
        ("a1", 7, "commits", 0.0, 30.0, 0.0, -15.0, "usage"),
        ("a1", 7, "seats", 100.0, 30.0, 30.0, 0.0, "usage"),
        ("a1", 7, "tickets", None, 40.0, 20.0, 0.0, "usage"),
        ("a2", 0, "commits", 100.0, 60.0, 60.0, None, "support"),
        ("a2", 0, "seats", None, 0.0, 0.0, None, "support"),
        ("a2", 0, "tickets", 80.0, 40.0, 32.0, None, "support"),
        ("a2", 7, "commits", 0.0, 60.0, 0.0, -60.0, "usage"),
        ("a2", 7, "seats", None, 0.0, 0.0, 0.0, "usage"),
        ("a2", 7, "tickets", 80.0, 40.0, 32.0, 0.0, "usage"),
        ("a4", 0, "commits", 25.0, 30.0, 7.5, None, "usage"),
        ("a4", 0, "seats", 50.0, 30.0, 15.0, None, "usage"),
        ("a4", 0, "tickets", 37.5, 40.0, 15.0, None, "usage"),
        ("a4", 7, "commits", 0.0, 30.0, 0.0, -7.5, "usage"),
        ("a4", 7, "seats", 50.0, 30.0, 15.0, 0.0, "usage"),
        ("a4", 7, "tickets", 37.5, 40.0, 15.0, 0.0, "usage"),
    ]


@pytest.mark.slow
def test_dpdk_example(tmp_path):
    example = REPOSITORY / "examples" / "dpdk"
    (tmp_path / "data").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "healthlayer.yml").write_text((example / "healthlayer.yml").read_text())
    for model in (example / "models").glob("*.yml"):
        (tmp_path / "models" / model.name).write_text(model.read_text())
    (tmp_path / "data" / "events.parquet").write_bytes((example / "data" / "events.parquet").read_bytes())

    deployment = deploy_project(tmp_path)
    rows = pq.read_table(example / "data" / "events.parquet").to_pylist()
    reference = ReferenceProject(load_project_definitions(example), {"contributions": rows})
    views = [
        "stickiness_daily",
        "stickiness_daily_by_account",
        "engagement_tiers_daily",
        "tier_mix_daily",
        "tier_transitions",
        "alerts",
        "account_health_daily",
    ]
    # The explanations have two million rows here; the SaaS example and the random logs check them.
    assert sorted([*views, "account_health_daily_explanations"]) == sorted(reference.view_names())
    assert_parity(compare_deployment(reference, deployment.database, deployment.schema, views))


@pytest.mark.slow
def test_saas_example(tmp_path):
    example = REPOSITORY / "examples" / "saas"
    shutil.copytree(example, tmp_path / "saas", ignore=shutil.ignore_patterns("*.duckdb", "__pycache__"))

    deployment = deploy_project(tmp_path / "saas")
    sources = {
        name: pq.read_table(example / "data" / f"{file}.parquet").to_pylist()
        for name, file in (("events", "events"), ("nps_responses", "nps_responses"),
                           ("support_tickets", "support_tickets"), ("accounts", "accounts"))
    }
    reference = ReferenceProject(load_project_definitions(example), sources)
    assert "account_health_daily" in reference.view_names()
    assert_parity(compare_deployment(reference, deployment.database, deployment.schema))


# An attribute history: each row contains an account's seats and plan from `changed_on` on.
HISTORY_SOURCE = {
    "name": "seat_history",
    "file": "data/seat_history.parquet",
    "account": "account_id",
    "valid_from": "changed_on",
    "columns": {"changed_on": "date", "seats": "number", "plan": "text"},
}
HISTORY_TYPES = {"account_id": pa.string(), "changed_on": pa.date32(), "seats": pa.float64(), "plan": pa.string()}
RAW_SCORE = {"function": "linear", "lower": -1000, "upper": 1000}


def deploy_history(folder: Path, project_definitions: dict[str, Any], rows: list[dict[str, Any]],
                   history_rows: list[dict[str, Any]], history_types: dict[str, pa.DataType] = HISTORY_TYPES) -> Any:
    """Deploy a project with the attribute history `seat_history`, assert parity and return the deployment."""
    project_definitions["sources"] = [EVENT_SOURCE, *project_definitions.get("extra_sources", [HISTORY_SOURCE])]
    project_definitions.pop("extra_sources", None)
    write_project(folder, project_definitions, rows, UTC_TIMESTAMP, {"seat_history": (history_rows, history_types)})
    deployment = deploy_project(folder)
    reference = ReferenceProject(project_definitions, {"events": rows, "seat_history": history_rows})
    assert_parity(compare_deployment(reference, deployment.database, deployment.schema))
    return deployment


def raw_values(deployment: Any, component: str) -> dict[tuple[str, int], Any]:
    """Return a component's raw value by (account, day after the first day) from the explanations view."""
    with duckdb.connect(str(deployment.database), read_only=True) as connection:
        rows = connection.execute(
            "SELECT account_id, CAST(as_of_date - DATE '2024-01-01' AS INTEGER), raw_value "
            "FROM analytics.health_explanations WHERE component = ?", [component]).fetchall()
    return {(account, day): value for account, day, value in rows}


def history_definitions(*components: dict[str, Any]) -> dict[str, Any]:
    """Return definitions of one health score `health` over `components`, with weights normalized."""
    score = {"name": "health", "population": {"source": "events"}, "normalize": True,
             "categories": [{"name": "size", "weight": 100, "components": list(components)}]}
    return definitions(health_scores=[score])


def test_attribute_history_as_of_day(tmp_path):
    """Seats follow the history: NULL before the first row, and the MAX of two rows on one day."""
    rows = [event(0, "u1", "a1", "commit"), event(9, "u1", "a1", "commit")]
    history = [{"account_id": "a1", "changed_on": date_of(3), "seats": 10.0},
               {"account_id": "a1", "changed_on": date_of(6), "seats": 15.0},
               {"account_id": "a1", "changed_on": date_of(6), "seats": 20.0},
               {"account_id": "a2", "changed_on": date_of(1), "seats": 99.0},
               {"account_id": None, "changed_on": date_of(1), "seats": 99.0}]
    seats = {"name": "seats", "attribute": "seat_history.seats", "weight": 1, "score": RAW_SCORE}
    deployment = deploy_history(tmp_path, history_definitions(seats), rows, history)

    values = raw_values(deployment, "seats")
    assert [values[("a1", offset)] for offset in range(10)] == [None] * 3 + [10.0] * 3 + [20.0] * 4


def test_attribute_trend_across_change(tmp_path):
    """A trend of 2 days compares the seats of the day with those 2 days earlier, also before the first event."""
    rows = [event(2, "u1", "a1", "commit"), event(9, "u1", "a1", "commit")]
    history = [{"account_id": "a1", "changed_on": date_of(1), "seats": 10.0},
               {"account_id": "a1", "changed_on": date_of(5), "seats": 25.0}]
    growth = {"name": "growth", "trend": {"attribute": "seat_history.seats", "days": 2}, "weight": 1, "score": RAW_SCORE}
    relative = {"name": "relative", "trend": {"attribute": "seat_history.seats", "days": 2, "change": "relative"},
                "weight": 1, "score": RAW_SCORE}
    deployment = deploy_history(tmp_path, history_definitions(growth, relative), rows, history)

    values = raw_values(deployment, "growth")
    # Day 2 compares with day 0, before the history's first row.
    assert [values[("a1", offset)] for offset in range(2, 10)] == [None, 0.0, 0.0, 15.0, 15.0, 0.0, 0.0, 0.0]
    assert raw_values(deployment, "relative")[("a1", 6)] == 1.5


def test_attribute_history_timestamps(tmp_path):
    """A timestamptz valid_from counts on its day in the project time zone."""
    rows = [event(0, "u1", "a1", "commit"), event(4, "u1", "a1", "commit")]
    # 23:30 UTC on day 1 is day 2 in Berlin.
    history = [{"account_id": "a1", "changed_at": datetime(2024, 1, 2, 23, 30, tzinfo=timezone.utc), "seats": 7.0}]
    source = {**HISTORY_SOURCE, "valid_from": "changed_at", "columns": {"changed_at": "timestamptz", "seats": "number"}}
    project_definitions = history_definitions(
        {"name": "seats", "attribute": "seat_history.seats", "weight": 1, "score": RAW_SCORE})
    project_definitions["time_zone"] = "Europe/Berlin"
    project_definitions["extra_sources"] = [source]
    types = {"account_id": pa.string(), "changed_at": pa.timestamp("us", tz="UTC"), "seats": pa.float64()}
    deployment = deploy_history(tmp_path, project_definitions, rows, history, types)

    values = raw_values(deployment, "seats")
    assert [values[("a1", offset)] for offset in range(5)] == [None, None, 7.0, 7.0, 7.0]


def test_segment_and_within_as_of_day(tmp_path):
    """Segment weights and percentile groups read the plan of each day."""
    rows = [event(0, "u1", "a1", "commit"), event(0, "u2", "a2", "commit"), event(0, "u3", "a2", "commit"),
            event(4, "u1", "a1", "view")]
    history = [{"account_id": "a1", "changed_on": date_of(0), "plan": "starter", "seats": 5.0},
               {"account_id": "a1", "changed_on": date_of(2), "plan": "pro", "seats": 5.0},
               {"account_id": "a2", "changed_on": date_of(0), "plan": "pro", "seats": 5.0}]
    score = {
        "name": "health", "population": {"source": "events"}, "segment": "seat_history.plan",
        "segment_weights": {"pro": {"usage": 20, "size": 80}},
        "categories": [
            {"name": "usage", "weight": 50, "components": [
                {"name": "commits", "metric": "commits_7d", "weight": 100,
                 "score": {"function": "percentile", "within": "seat_history.plan"}}]},
            {"name": "size", "weight": 50, "components": [
                {"name": "seats", "attribute": "seat_history.seats", "weight": 100,
                 "score": {"function": "linear", "lower": 0, "upper": 10}}]},
        ]}
    project_definitions = definitions(account_metrics=ACCOUNT_METRICS[:1], health_scores=[score])
    deployment = deploy_history(tmp_path, project_definitions, rows, history)

    with duckdb.connect(str(deployment.database), read_only=True) as connection:
        scores = connection.execute(
            "SELECT usage_score, health_score FROM analytics.health WHERE account_id = 'a1' ORDER BY as_of_date"
        ).fetchall()
    # a1 is alone in the starter plan on days 0 and 1, with the default weights: 0.5 * 50 + 0.5 * 50.
    # From day 2 it is in pro, ranks below a2 there and takes pro's weights: 0.2 * 0 + 0.8 * 50.
    assert [usage for usage, _ in scores] == [50.0, 50.0, 0.0, 0.0, 0.0]
    assert [health for _, health in scores] == [50.0, 50.0, 40.0, 40.0, 40.0]


@st.composite
def history_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Draw up to 12 history rows of three accounts, with repeated days, NULL values and NULL keys."""
    row_tuples = st.tuples(st.sampled_from(["a1", "a2", "a3", None]), st.one_of(st.none(), st.integers(-3, 40)),
                           st.one_of(st.none(), st.integers(0, 30).map(float)),
                           st.sampled_from(["starter", "pro", None]))
    rows = [{"account_id": account, "changed_on": None if offset is None else date_of(offset), "seats": seats, "plan": plan}
            for account, offset, seats, plan in draw(st.lists(row_tuples, max_size=12))]
    if rows:
        # Second rows of an account on the same day, with other values.
        copies = draw(st.lists(st.tuples(st.integers(0, len(rows) - 1), st.integers(0, 30).map(float)), min_size=1, max_size=3))
        rows += [{**rows[index], "seats": seats, "plan": "pro"} for index, seats in copies]
    return rows


@st.composite
def history_events(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Draw up to 20 events in the first 25 days of 2024, the days that the history rows fall in."""
    event_tuples = st.tuples(st.integers(0, 24), st.sampled_from([0, 12, 23]), st.sampled_from(["u1", "u2", "u3"]),
                             st.sampled_from(["a1", "a2", "a3"]), st.sampled_from(["view", "commit"]))
    return [event(offset, user, account, name, hour)
            for offset, hour, user, account, name in draw(st.lists(event_tuples, max_size=20))]


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    rows=history_events(),
    time_zone=st.sampled_from(TIME_ZONES),
    history=history_rows(),
    trend_days=st.integers(1, 10),
    change=st.sampled_from(["difference", "relative"]),
    function=scoring_definitions(),
    segmented=st.booleans(),
)
def test_random_attribute_histories(rows, time_zone, history, trend_days, change, function, segmented):
    if function.get("within"):
        function = {**function, "within": "seat_history.plan"}
    components = [
        {"name": "seats", "attribute": "seat_history.seats", "weight": 40, "score": function},
        {"name": "seat_trend", "trend": {"attribute": "seat_history.seats", "days": trend_days, "change": change},
         "weight": 30, "score": {"function": "linear", "lower": -5, "upper": 5}, "missing": "zero"},
        {"name": "commits", "metric": "commits_7d", "weight": 30, "score": {"function": "linear", "lower": 0, "upper": 3}},
    ]
    score: dict[str, Any] = {"name": "health", "population": {"source": "events"},
                             "categories": [{"name": "size", "weight": 100, "components": components}]}
    if segmented:
        score["segment"] = "seat_history.plan"
        score["segment_weights"] = {"pro": {"size": 100}}
    project_definitions = definitions(time_zone=time_zone, account_metrics=ACCOUNT_METRICS[:1], health_scores=[score])
    with tempfile.TemporaryDirectory() as folder:
        deploy_history(Path(folder), project_definitions, rows, history)
