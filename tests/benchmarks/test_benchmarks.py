"""The benchmark scripts at a tiny size: the generator's determinism and shape, and the runner end to end.

The runner test deploys the generated project, checks every peer and MetricFlow query against
healthlayer's stickiness views and times each once. It shows that the scripts run and that the
peers compute the same numbers, and does not measure speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
BENCHMARKS = REPOSITORY / "benchmarks"
EVENTS = 20_000
# The SQL files that benchmarks/metricflow/explain.py saves: by day or by day and account, for the
# semantic model on user-days and the one on events.
METRICFLOW_QUERIES = ("global_user_days", "account_user_days", "global_events", "account_events")
OUTPUT_VIEWS = {"stickiness_daily", "stickiness_daily_by_account", "tier_mix_daily", "engagement_tiers_daily",
                "tier_transitions", "alerts", "account_health_daily", "account_health_daily_explanations"}
# The account alert types of healthlayer, each of which benchmarks/project declares once.
ACCOUNT_ALERT_TYPES = {"band_change", "score_drop", "red_review", "stale_data"}

sys.path.insert(0, str(BENCHMARKS))

import generate  # noqa: E402
import run  # noqa: E402


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("bench") / "20K"
    generate.generate(EVENTS, output)
    return output


@pytest.fixture(scope="module")
def generated_renewals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("bench") / "20K-renewals"
    generate.generate(EVENTS, output, renewals=True)
    return output


@pytest.fixture(scope="module")
def events(generated: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(f"""
        CREATE TABLE events AS
        SELECT *, CAST(event_ts AT TIME ZONE 'America/New_York' AS DATE) AS day
        FROM read_parquet('{generated / "data" / "events.parquet"}')""")
    return connection


def test_generate_same_seed_same_files(generated: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate.generate(EVENTS, again)
    names = sorted(path.name for path in (generated / "data").iterdir())
    assert names == ["accounts.parquet", "events.parquet", "nps_responses.parquet", "support_tickets.parquet"]
    for name in names:
        assert (again / "data" / name).read_bytes() == (generated / "data" / name).read_bytes(), name


def test_generate_other_seed_other_events(generated: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate.generate(EVENTS, other, seed=1)
    assert (other / "data" / "events.parquet").read_bytes() != (generated / "data" / "events.parquet").read_bytes()


def test_generate_event_count_near_request(generated: Path) -> None:
    manifest = json.loads((generated / "manifest.json").read_text(encoding="utf-8"))
    assert abs(manifest["rows"]["events"] - EVENTS) < 0.1 * EVENTS


def test_generate_event_names_of_tiers(events: duckdb.DuckDBPyConnection) -> None:
    names = {row[0] for row in events.execute("SELECT DISTINCT event_name FROM events").fetchall()}
    assert names == set(generate.EVENT_NAMES)
    login_features = events.execute("SELECT COUNT(feature) FROM events WHERE event_name = 'login'").fetchone()[0]
    assert login_features == 0


def test_generate_weekdays_busier(events: duckdb.DuckDBPyConnection) -> None:
    weekday, weekend = events.execute("""
        SELECT AVG(n) FILTER (WHERE isodow(day) <= 5), AVG(n) FILTER (WHERE isodow(day) >= 6)
        FROM (SELECT day, COUNT(*) AS n FROM events GROUP BY day)""").fetchone()
    assert weekday > 3 * weekend


def test_generate_skewed_account_sizes() -> None:
    # The population of a 1M-event log, drawn without simulating its events.
    rng = np.random.default_rng(generate.SEED)
    population = generate.draw_population(rng, 1_000_000, generate.day_factors())
    sizes = np.sort(population.account_users)[::-1]
    assert len(sizes) > 100
    assert sizes[0] >= 10 * np.median(sizes)
    top_tenth = sizes[:len(sizes) // 10].sum()
    assert top_tenth >= 0.3 * sizes.sum()


def test_generate_users_churn_and_join(events: duckdb.DuckDBPyConnection) -> None:
    churned, joined = events.execute("""
        SELECT COUNT(*) FILTER (WHERE last_day < DATE '2026-06-30' - 60),
               COUNT(*) FILTER (WHERE first_day > DATE '2025-07-01' + 60)
        FROM (SELECT user_id, MIN(day) AS first_day, MAX(day) AS last_day FROM events GROUP BY user_id)""").fetchone()
    assert churned > 0
    assert joined > 0


def test_generate_range_in_project_days(events: duckdb.DuckDBPyConnection) -> None:
    first, last = events.execute("SELECT MIN(day), MAX(day) FROM events").fetchone()
    assert str(first) == "2025-07-01"
    assert str(last) == "2026-06-30"


def test_generate_renewals_keep_other_files(generated: Path, generated_renewals: Path) -> None:
    # The renewals are drawn after every other value, so the other files must not change.
    for name in ("events", "nps_responses", "support_tickets", "accounts"):
        path = Path("data") / f"{name}.parquet"
        assert (generated / path).read_bytes() == (generated_renewals / path).read_bytes(), name
    assert not (generated / "data" / "renewals.parquet").exists()
    assert not (generated / "models" / "renewals.yml").exists()
    manifest = json.loads((generated_renewals / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows"]["renewals"] == len(duckdb.sql(
        f"SELECT * FROM read_parquet('{generated_renewals / 'data' / 'renewals.parquet'}')").fetchall())


def test_generate_renewals_same_seed_same_file(generated_renewals: Path, tmp_path: Path) -> None:
    generate.generate(EVENTS, tmp_path, renewals=True)
    path = Path("data") / "renewals.parquet"
    assert (tmp_path / path).read_bytes() == (generated_renewals / path).read_bytes()


def test_generate_without_renewals_removes_them(generated_renewals: Path, tmp_path: Path) -> None:
    output = tmp_path / "again"
    generate.generate(EVENTS, output, renewals=True)
    generate.generate(EVENTS, output)
    assert not (output / "data" / "renewals.parquet").exists()
    assert not (output / "models" / "renewals.yml").exists()


def synthetic_population(count: int, seed: int) -> generate.Population:
    """Return accounts with evenly spread hidden health, a tenth of them new and a tenth churning, one user each."""
    rng = np.random.default_rng(seed)
    start = np.where(np.arange(count) % 10 == 0, 100, 0)
    end = np.where(np.arange(count) % 10 == 1, 200, generate.DAYS - 1)
    ones = np.ones(count, dtype=np.int64)
    return generate.Population(
        account_health=rng.random(count), account_zone=np.zeros(count, dtype=np.int64), account_start=start,
        account_end=end, account_users=ones, user_account=np.arange(count), user_probability=np.full(count, 0.5),
        user_role=np.zeros(count, dtype=np.int64), user_start=start, user_end=end)


def test_build_renewals_follow_health() -> None:
    count = 4_000
    population = synthetic_population(count, 3)
    account_ids = generate.identifiers("acct_", count, 6)
    table = generate.build_renewals(np.random.default_rng(4), population, np.full(count, 10), account_ids)
    index = np.array([int(text[len("acct_"):]) - 1 for text in table["account_id"].to_pylist()])
    renewed = np.array(table["renewed"].to_pylist())
    days = (np.array(table["renewal_date"].to_pylist(), dtype="datetime64[D]") - np.datetime64(generate.FIRST_DAY))
    days = days.astype(np.int64)

    # Accounts that start during the year renew after the last day, so they have no row.
    assert set(index) == set(np.flatnonzero(population.account_start == 0))
    churns = population.account_end[index] < generate.DAYS - 1
    assert not renewed[churns].any()
    assert (days[churns] == population.account_end[index][churns] + 1).all()
    assert days[~churns].min() >= generate.FIRST_RENEWAL_DAY
    assert days[~churns].max() <= generate.DAYS - 1

    health = population.account_health[index]
    stays = ~churns
    low_rate = renewed[stays & (health < 0.3)].mean()
    high_rate = renewed[stays & (health > 0.7)].mean()
    # The logistic curve averages 0.10 over health 0 to 0.3 and 0.97 over 0.7 to 1, with about
    # 960 accounts in each range, so the bounds are several standard errors away.
    assert low_rate < 0.2
    assert high_rate > 0.92
    assert table["contract_value"].to_pylist() == [12.0 * generate.SEAT_PRICE[0] * 10] * len(index)


def test_parse_count_suffixes() -> None:
    assert generate.parse_count("10M") == 10_000_000
    assert generate.parse_count("20k") == 20_000
    assert generate.parse_count("1.5M") == 1_500_000
    assert generate.parse_count("250000") == 250_000


def test_parse_count_rejects_text() -> None:
    with pytest.raises(Exception, match="invalid event count 'ten'"):
        generate.parse_count("ten")


def test_runner_end_to_end(generated: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--data", str(generated), "--runs", "1", "--format", "json"],
        capture_output=True, text=True, check=False, timeout=600)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    queries = {query["name"]: query for query in report["queries"]}
    assert OUTPUT_VIEWS <= set(queries)
    peers = [name for name in queries if name.startswith("peer:")]
    assert len(peers) == len(list((BENCHMARKS / "peers").glob("*.sql")))
    for name in peers:
        view = "stickiness_daily_by_account" if name.startswith("peer:account_") else "stickiness_daily"
        assert queries[name]["note"] == f"same rows as {view}"
        assert queries[name]["rows"] == queries[view]["rows"], name
    assert queries["stickiness_daily"]["rows"] == 365
    for name in METRICFLOW_QUERIES:
        view = "stickiness_daily_by_account" if name.startswith("account_") else "stickiness_daily"
        assert queries[f"metricflow:{name}"]["note"] == f"same rows as {view}", name
    assert all(query["seconds"] > 0 for query in queries.values())
    assert all(query["peak_mib"] is not None for query in queries.values())


def test_runner_only_filters(generated: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--data", str(generated), "--runs", "1", "--only", "alerts",
         "--skip", "metricflow"], capture_output=True, text=True, check=False, timeout=300)
    assert completed.returncode == 0, completed.stderr
    names = [line.split()[0] for line in completed.stdout.splitlines()[2:]]
    assert names == ["floor", "alerts"]


def test_runner_times_backtest(generated_renewals: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--data", str(generated_renewals), "--runs", "1", "--backtest",
         "--only", "backtest", "--format", "json"], capture_output=True, text=True, check=False, timeout=300)
    assert completed.returncode == 0, completed.stderr
    queries = json.loads(completed.stdout)["queries"]
    assert [query["name"] for query in queries] == ["floor", "backtest:account_health_daily"]
    backtest = queries[1]
    renewals = duckdb.sql(f"SELECT * FROM read_parquet('{generated_renewals / 'data' / 'renewals.parquet'}')")
    assert backtest["rows"] == len(renewals.fetchall())
    assert f"of {backtest['rows']:,} renewals scored, AUC " in backtest["note"]
    assert backtest["seconds"] > 0
    # One timed run, whose statements read the renewals joined to the health view.
    assert len(backtest["statements"]) == 1
    reads = [statement for statement in backtest["statements"][0] if "renewals.parquet" in statement["sql"]]
    assert reads
    assert reads[0]["rows"] == backtest["rows"]


def test_runner_backtest_needs_renewals(generated: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--data", str(generated), "--runs", "1", "--backtest",
         "--only", "backtest"], capture_output=True, text=True, check=False, timeout=300)
    assert completed.returncode != 0
    assert "reads the source 'renewals', which the project does not declare" in completed.stderr
    assert "generate.py --renewals" in completed.stderr


@pytest.fixture(scope="module")
def deployed(generated: Path, tmp_path_factory: pytest.TempPathFactory):
    from healthlayer.api import deploy_project

    deployment = deploy_project(run.project_copy(generated, tmp_path_factory.mktemp("deploy")))
    connection = duckdb.connect(str(deployment.database), read_only=True)
    yield deployment, connection
    connection.close()


def test_project_alerts_fire_each_type(deployed) -> None:
    deployment, connection = deployed
    rules = {rule.type for rule in deployment.project.alerts.values()}
    assert ACCOUNT_ALERT_TYPES <= rules
    fired = {row[0] for row in connection.execute(
        f'SELECT DISTINCT alert_type FROM "{deployment.schema}"."alerts"').fetchall()}
    # stale_data fires on accounts that churn, which a log of 20K events may not have.
    assert {"band_change", "score_drop", "red_review"} <= fired


def test_check_rejects_wrong_window(deployed) -> None:
    deployment, connection = deployed
    source = deployment.project.sources["events"]
    events = run.source_table_sql(source, deployment.project.root)
    query = next(query for query in run.peer_queries(events, "America/New_York", 1)
                 if query.name == "peer:global_join_distinct")
    # A 29-day MAU, a common off-by-one, must not pass as the 30-day MAU.
    query.sql = query.sql.replace("c.activity_date - 29", "c.activity_date - 28")
    with pytest.raises(run.BenchmarkError, match="does not return the rows of stickiness_daily"):
        run.check_same_rows(connection, query, deployment.schema)


def test_check_accepts_peer(deployed) -> None:
    deployment, connection = deployed
    events = run.source_table_sql(deployment.project.sources["events"], deployment.project.root)
    query = next(query for query in run.peer_queries(events, "America/New_York", 1)
                 if query.name == "peer:account_join_distinct")
    assert run.check_same_rows(connection, query, deployment.schema) > 0


def test_metricflow_explain_writes_sql(tmp_path: Path) -> None:
    python = os.environ.get("METRICFLOW_PYTHON")
    if not python:
        pytest.skip("set METRICFLOW_PYTHON to a Python with dbt-metricflow and dbt-duckdb installed; "
                    "they are not dependencies of healthlayer")
    completed = subprocess.run([python, str(BENCHMARKS / "metricflow" / "explain.py"), "--output", str(tmp_path)],
                               capture_output=True, text=True, check=False, timeout=600)
    assert completed.returncode == 0, completed.stderr
    for name in METRICFLOW_QUERIES:
        text = (tmp_path / f"{name}.sql").read_text(encoding="utf-8")
        assert "COUNT(DISTINCT" in text, name
        assert "metricflow_time_spine" in text, name
        model = "core_events" if name.endswith("_events") else "user_days"
        assert f'"{model}"' in text, name
    assert "metricflow" in json.loads((tmp_path / "versions.json").read_text(encoding="utf-8"))


def test_metric_column_takes_suffix() -> None:
    text = "SELECT\n  MAX(subq_9.dau_events) AS dau_events\n  , MAX(subq_18.wau) AS wau\n"
    assert run.metric_column(text, "dau", Path("global_events.sql")) == "dau_events"
    assert run.metric_column(text, "wau", Path("global_events.sql")) == "wau"


def test_metric_column_rejects_missing() -> None:
    text = "SELECT\n  MAX(subq_9.dau_events) AS dau_events\n"
    with pytest.raises(run.BenchmarkError, match="must have exactly one column named mau or mau_<suffix>"):
        run.metric_column(text, "mau", Path("global_events.sql"))
