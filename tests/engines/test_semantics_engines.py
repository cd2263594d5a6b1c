"""Edge-case logs, time-zone days and user expressions give the reference's rows on every engine.

The logs are those of the DuckDB parity tests (tests/reference/cases.py), deployed from table
sources through each engine's adapter. User expressions are the portable ones: the DuckDB parity
tests also cover the cases where engines give different results.
"""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest
from reference.builders import EVENT_SOURCE, day, definitions, event
from reference.cases import (
    DST_LOGS,
    EDGE_CASES,
    LOGIN_TYPES,
    NAIVE_TIMESTAMP,
    PORTABLE_AMOUNTS,
    PORTABLE_AREAS,
    PORTABLE_EXPRESSION_GROUPS,
    POPULATION_RANGES,
    STANDARD_VIEWS,
    UTC_TIMESTAMP,
    expression_project,
    population_range_project,
)

from engines.engine import Engine
from engines.harness import deploy_rows_and_compare


def assert_parity(engine: Engine, problems: list[str]) -> None:
    assert not problems, f"{engine.adapter_type} views differ from the reference:\n" + "\n".join(problems)


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_case_logs(engine, case, tmp_path: Path):
    project_definitions = definitions(**STANDARD_VIEWS)
    assert_parity(engine, deploy_rows_and_compare(engine, tmp_path / case.replace(" ", "_"),
                                                  project_definitions, EDGE_CASES[case]))


@pytest.mark.parametrize("time_zone", sorted(DST_LOGS))
@pytest.mark.parametrize("timestamp_type", [UTC_TIMESTAMP, NAIVE_TIMESTAMP], ids=["utc", "naive"])
def test_dst_days(engine, time_zone, timestamp_type, tmp_path: Path):
    project_definitions = definitions(time_zone=time_zone, tier_window=2, **STANDARD_VIEWS)
    folder = tmp_path / f"dst_{time_zone.split('/')[1].lower()}_{'utc' if timestamp_type.tz else 'naive'}"
    assert_parity(engine, deploy_rows_and_compare(engine, folder, project_definitions, DST_LOGS[time_zone],
                                                  timestamp_type))


# Groups of at most 10 expressions keep each engine's views small. On ClickHouse 26.9 a health
# score of 32 metrics exceeds max_query_size (see docs/warehouses/clickhouse.md).
CHUNK = 10
EXPRESSION_CHUNKS = {
    f"{group} {start // CHUNK + 1}": texts[start:start + CHUNK]
    for group, texts in PORTABLE_EXPRESSION_GROUPS.items()
    for start in range(0, len(texts), CHUNK)
}


@pytest.mark.parametrize("chunk", list(EXPRESSION_CHUNKS))
def test_expression_metrics(engine, chunk, tmp_path: Path):
    texts = EXPRESSION_CHUNKS[chunk]
    rows, project_definitions = expression_project(texts, chunk.startswith("filters"), PORTABLE_AMOUNTS, PORTABLE_AREAS)
    problems = deploy_rows_and_compare(engine, tmp_path / f"expr_{chunk.replace(' ', '_')}", project_definitions, rows)
    legend = [f"c_m{index}: {text}" for index, text in enumerate(texts)]
    assert not problems, f"{engine.adapter_type} views differ from the reference:\n" + "\n".join([*problems, "categories:", *legend])


def test_attribute_history(engine, tmp_path: Path):
    """Attributes, trends, percentile groups and segments of an attribute history, as of each day."""
    rows = [event(0, "u1", "a1", "commit"), event(0, "u2", "a2", "commit"), event(1, "u3", "a2", "commit"),
            event(9, "u1", "a1", "view")]
    history = [
        {"account_id": "a1", "changed_on": day(-2), "seats": 4.0, "plan": "starter"},
        {"account_id": "a1", "changed_on": day(3), "seats": 10.0, "plan": "pro"},
        {"account_id": "a1", "changed_on": day(6), "seats": 15.0, "plan": "pro"},
        {"account_id": "a1", "changed_on": day(6), "seats": 20.0, "plan": None},
        {"account_id": "a2", "changed_on": day(2), "seats": 8.0, "plan": "pro"},
        {"account_id": None, "changed_on": day(1), "seats": 99.0, "plan": "pro"},
    ]
    source = {"name": "seat_history", "file": "data/seat_history.parquet", "account": "account_id",
              "valid_from": "changed_on", "columns": {"changed_on": "date", "seats": "number", "plan": "text"}}
    types = {"account_id": pa.string(), "changed_on": pa.date32(), "seats": pa.float64(), "plan": pa.string()}
    linear = {"function": "linear", "lower": -20, "upper": 20}
    score = {
        "name": "health", "population": {"source": "events"}, "segment": "seat_history.plan",
        "segment_weights": {"pro": {"usage": 80, "size": 20}},
        "categories": [
            {"name": "usage", "weight": 50, "components": [
                {"name": "commits", "metric": "commits_7d", "weight": 100,
                 "score": {"function": "percentile", "within": "seat_history.plan"}}]},
            {"name": "size", "weight": 50, "components": [
                {"name": "seats", "attribute": "seat_history.seats", "weight": 50, "score": linear},
                {"name": "growth", "trend": {"attribute": "seat_history.seats", "days": 3, "change": "relative"},
                 "weight": 50, "score": linear}]},
        ]}
    commits = {"name": "commits_7d", "source": "events", "aggregate": "count", "window": 7,
               "filter": "event_type = 'commit'"}
    project_definitions = definitions(time_zone="America/New_York", account_metrics=[commits], health_scores=[score])
    project_definitions["sources"] = [EVENT_SOURCE, source]
    assert_parity(engine, deploy_rows_and_compare(engine, tmp_path / "attribute_history", project_definitions, rows,
                                                  attribute_rows={"seat_history": (history, types)}))


def test_alerts_of_mixed_id_types(engine, tmp_path: Path):
    """Alert rules over text and integer account ids give one alerts view, whose ids are text.

    The events source has text account and user ids, and the logins source integer account ids,
    which its health score and its stale_data rule keep. The account rules come first, so their
    NULL user ids precede the tier drops' text user ids in the UNION ALL. Both sources end on the
    same day, which the health score's last day then does not depend on.
    """
    rows = [event(0, "u1", "a1", "merge"), event(9, "u1", "a1", "view"), event(0, "u2", "a2", "commit"),
            event(12, "u2", "a2", "commit")]
    logins = [(1, offset) for offset in (0, 1, 1, 2, 3, 4, 10)] + [(2, offset) for offset in (0, 0, 1, 5, 10, 10, 12)]
    login_rows = [{"account_id": account, "login_ts": datetime(2024, 1, 1, 9, tzinfo=timezone.utc) + timedelta(days=offset)}
                  for account, offset in logins]
    login_types = {"account_id": pa.int64(), "login_ts": pa.timestamp("us", tz="UTC")}
    login_source = {"name": "logins", "file": "data/logins.parquet", "account": "account_id", "timestamp": "login_ts"}
    score = {"name": "login_health", "population": {"source": "logins"}, "categories": [
        {"name": "usage", "weight": 100, "components": [
            {"name": "logins", "metric": "logins_1d", "weight": 100,
             "score": {"function": "linear", "lower": 0, "upper": 2}}]}]}
    rules = [
        {"name": "login_band_move", "type": "band_change", "score": "login_health", "direction": "any",
         "respond_within": "1 day"},
        {"name": "logins_stopped", "type": "stale_data", "source": "logins", "silent_for": 3, "min_active_days": 2,
         "respond_within": "1 day"},
        {"name": "power_user_drop", "type": "tier_drop", "from": "power", "to": "passive", "respond_within": "2 days"},
    ]
    project_definitions = definitions(
        account_metrics=[{"name": "logins_1d", "source": "logins", "aggregate": "count", "window": 1}],
        health_scores=[score], alerts=rules)
    project_definitions["sources"] = [EVENT_SOURCE, login_source]

    problems = deploy_rows_and_compare(engine, tmp_path / "mixed_ids", project_definitions, rows,
                                       attribute_rows={"logins": (login_rows, login_types)})

    assert_parity(engine, problems)


@pytest.mark.parametrize("case", sorted(POPULATION_RANGES))
def test_population_source_range(engine, case, tmp_path: Path):
    """A health score whose population is the logins is scored on the days of the events' data range only."""
    rows, logins, project_definitions = population_range_project(case)
    problems = deploy_rows_and_compare(engine, tmp_path / case.replace(" ", "_"), project_definitions, rows,
                                       attribute_rows={"logins": (logins, LOGIN_TYPES)})
    assert_parity(engine, problems)
