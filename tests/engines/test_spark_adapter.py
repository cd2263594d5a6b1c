"""The Spark adapter on the shared local session: deploys, ownership, failures, settings, time zones and the CLI.

The shop fixture project is deployed to a database of its own per test; its raw tables are loaded
once into the `raw` database. raw.events has TIMESTAMP_NTZ event times and raw.nps TIMESTAMP
response times, so both time zone paths of the compiler run on Spark. Spark analyzes every nested
view again for each CREATE VIEW, so the deploy tests leave out the health score, whose views are
the deepest, and one test deploys the whole project.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from click.testing import CliRunner
from sqlglot import exp

from engines.harness import compare_adapter, set_target
from engines.spark_engine import SparkEngine
from healthlayer import api, cli
from healthlayer.adapters.spark import SparkAdapter, SparkSettings
from healthlayer.compiler import sql
from healthlayer.compiler.engagement import _days_between
from healthlayer.compiler.plan import Relation
from healthlayer.compiler.render import render_query
from healthlayer.compiler.sources import local_date
from healthlayer.errors import HealthlayerError, OwnershipError, WarehouseError

from reference import ReferenceProject
from reference.parity import load_project_definitions

from conftest import ACCOUNTS, EVENT_COLUMNS, FIRST_DAY, SHOP, _event_rows

SECRET = "hl-spark-secret-7d41a2"
OUTPUT_VIEWS = {"stickiness_daily", "stickiness_daily_by_account", "tier_mix_daily", "engagement_tiers_daily",
                "tier_transitions", "alerts"}


def shop_rows() -> dict[str, list[dict[str, Any]]]:
    """Return the rows of raw.events, raw.accounts and raw.nps of the shop project."""
    answers = [("acct_a", FIRST_DAY + timedelta(days=10, hours=9), 9.0),
               ("acct_a", FIRST_DAY + timedelta(days=40, hours=9), 7.0),
               ("acct_b", FIRST_DAY + timedelta(days=20, hours=15), 4.0)]
    return {
        "events": [dict(zip(EVENT_COLUMNS, row)) for row in _event_rows()],
        "accounts": [{"account_id": account, "seats": float(seats), "segment": segment}
                     for account, _, _, seats, segment in ACCOUNTS],
        "nps": [{"account_id": account, "responded_at": stamp.replace(tzinfo=timezone.utc), "score": score}
                for account, stamp, score in answers],
    }


@pytest.fixture(scope="module")
def shop_tables(spark_engine: SparkEngine) -> None:
    """Load the shop project's raw tables into the `raw` database once."""
    rows = shop_rows()
    types = {
        "events": pa.schema([("account_id", pa.string()), ("user_id", pa.string()), ("event_ts", pa.timestamp("us")),
                             ("event_type", pa.string()), ("area", pa.string()), ("order_id", pa.string()),
                             ("amount", pa.float64()), ("plan", pa.string())]),
        "accounts": pa.schema([("account_id", pa.string()), ("seats", pa.float64()), ("segment", pa.string())]),
        "nps": pa.schema([("account_id", pa.string()), ("responded_at", pa.timestamp("us", tz="UTC")),
                          ("score", pa.float64())]),
    }
    spark_engine.load("raw", {name: pa.Table.from_pylist(rows[name], schema=types[name]) for name in rows})


def shop_copy(engine: SparkEngine, folder: Path, with_health: bool) -> tuple[Path, str]:
    """Copy the shop project with a default target in a new Spark database; return the folder and database."""
    project = folder / "shop"
    shutil.copytree(SHOP, project)
    if not with_health:
        (project / "models" / "health.yml").unlink()
        # The account alerts read the health score.
        (project / "models" / "account_alerts.yml").unlink()
    schema = f"shop_{uuid.uuid4().hex[:8]}"
    set_target(project, "spark", engine.settings(schema))
    return project, schema


@pytest.fixture
def shop(spark_engine: SparkEngine, shop_tables: None, tmp_path: Path) -> Iterator[Path]:
    """Return a copy of the shop project without its health score, deploying to a new Spark database."""
    project, schema = shop_copy(spark_engine, tmp_path, with_health=False)
    yield project
    spark_engine.session.sql(f"DROP DATABASE IF EXISTS {schema} CASCADE")


def target_schema(project: Path) -> str:
    loaded, _ = api.load(project)
    return api.target_settings(loaded, None)[2]["schema"]


def objects(engine: SparkEngine, schema: str) -> dict[str, tuple[str, str | None]]:
    """Return the database's tables and views: name to (table type, comment)."""
    return {table.name: (table.tableType, table.description)
            for table in engine.session.catalog.listTables(schema) if not table.isTemporary}


def view_texts(engine: SparkEngine, schema: str) -> dict[str, str]:
    return {name: engine.session.sql(f"SHOW CREATE TABLE {schema}.{name}").collect()[0][0]
            for name, (kind, _) in objects(engine, schema).items() if kind == "VIEW"}


def row_count(engine: SparkEngine, schema: str, view: str) -> int:
    return engine.session.sql(f"SELECT COUNT(*) FROM {schema}.{view}").collect()[0][0]


def replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


# Deploys


def test_deploy_twice(spark_engine: SparkEngine, shop: Path):
    first = api.deploy_project(shop)
    schema = first.schema
    texts = view_texts(spark_engine, schema)

    second = api.deploy_project(shop)

    assert OUTPUT_VIEWS <= {view.name for view in second.result.views}
    assert second.result.dropped == ()
    assert view_texts(spark_engine, schema) == texts
    comments = [comment for _, comment in objects(spark_engine, schema).values()]
    assert all((comment or "").startswith("healthlayer: project shop: ") for comment in comments)
    assert row_count(spark_engine, schema, "stickiness_daily") > 0
    assert not spark_engine.session.catalog.databaseExists(f"{schema}_hl_staging")


def test_redeploy_changed_plan(spark_engine: SparkEngine, shop: Path):
    schema = api.deploy_project(shop).schema
    engagement = shop / "models" / "engagement.yml"
    replace_text(engagement, "  - name: stickiness_daily\n    level: buyer\n", "")
    replace_text(engagement, "ratios: [dau_mau, wau_mau]", "ratios: [dau_mau]")

    result = api.deploy_project(shop).result

    assert result.dropped == ("stickiness_daily",)
    assert "stickiness_daily" not in objects(spark_engine, schema)
    columns = spark_engine.session.table(f"{schema}.stickiness_daily_by_account").columns
    assert "wau_mau" not in columns
    assert "dau_mau" in columns
    assert row_count(spark_engine, schema, "tier_mix_daily") > 0


@pytest.mark.parametrize("statement", [
    "CREATE TABLE {schema}.stickiness_daily USING parquet AS SELECT 42 AS answer",
    "CREATE VIEW {schema}.stickiness_daily AS SELECT 42 AS answer",
    "CREATE VIEW {schema}.STICKINESS_DAILY COMMENT 'healthlayer: project other: x' AS SELECT 42 AS answer",
])
def test_deploy_rejects_foreign_object(spark_engine: SparkEngine, shop: Path, statement: str):
    schema = target_schema(shop)
    spark_engine.session.sql(f"CREATE DATABASE {schema}")
    spark_engine.session.sql(statement.format(schema=schema))
    before = objects(spark_engine, schema)

    with pytest.raises(OwnershipError) as raised:
        api.deploy_project(shop)

    assert "stickiness_daily" in str(raised.value)
    assert objects(spark_engine, schema) == before
    assert spark_engine.session.sql(f"SELECT * FROM {schema}.stickiness_daily").collect()[0][0] == 42


def test_deploy_rejects_foreign_staging_database(spark_engine: SparkEngine, shop: Path):
    schema = api.deploy_project(shop).schema
    texts = view_texts(spark_engine, schema)
    spark_engine.session.sql(f"CREATE DATABASE {schema}_hl_staging")
    try:
        with pytest.raises(OwnershipError) as raised:
            api.deploy_project(shop)
        assert f"database '{schema}_hl_staging' exists but healthlayer did not create it" in str(raised.value)
        assert spark_engine.session.catalog.databaseExists(f"{schema}_hl_staging")
    finally:
        spark_engine.session.sql(f"DROP DATABASE IF EXISTS {schema}_hl_staging CASCADE")
    assert view_texts(spark_engine, schema) == texts


def test_failed_deploy_keeps_views(spark_engine: SparkEngine, shop: Path):
    schema = api.deploy_project(shop).schema
    texts = view_texts(spark_engine, schema)
    # A declared column that raw.events does not have makes the staged _hl_events view fail.
    replace_text(shop / "models" / "sources.yml", "      plan: text\n", "      plan: text\n      coupon: text\n")

    with pytest.raises(WarehouseError) as raised:
        api.deploy_project(shop)

    assert str(raised.value).startswith("Spark rejected a statement: ")
    assert "coupon" in str(raised.value)
    assert view_texts(spark_engine, schema) == texts
    assert all(row_count(spark_engine, schema, view) > 0 for view in OUTPUT_VIEWS - {"alerts"})
    assert not spark_engine.session.catalog.databaseExists(f"{schema}_hl_staging")


def test_failed_data_range_keeps_views(spark_engine: SparkEngine, shop: Path):
    schema = api.deploy_project(shop).schema
    texts = view_texts(spark_engine, schema)
    # One event in 2999 makes the data range longer than a calendar may be.
    spark_engine.session.sql("DROP TABLE IF EXISTS raw.events_wide")
    spark_engine.session.sql(
        "CREATE TABLE raw.events_wide USING parquet AS SELECT * FROM raw.events UNION ALL "
        "SELECT account_id, user_id, TIMESTAMP_NTZ '2999-01-01 00:00:00', event_type, area, order_id, amount, plan "
        "FROM raw.events WHERE event_type = 'view' AND user_id = 'alice' AND event_ts < TIMESTAMP_NTZ '2024-03-02'")
    replace_text(shop / "models" / "sources.yml", "table: raw.events\n", "table: raw.events_wide\n")

    with pytest.raises(WarehouseError) as raised:
        api.deploy_project(shop)

    assert "more than the 100,000 days a calendar may have" in str(raised.value)
    assert view_texts(spark_engine, schema) == texts
    assert not spark_engine.session.catalog.databaseExists(f"{schema}_hl_staging")


def test_cli_deploy(spark_engine: SparkEngine, shop: Path):
    result = CliRunner().invoke(cli.cli, ["deploy", "--project", str(shop)])

    assert result.exit_code == 0, result.output
    schema = target_schema(shop)
    assert result.output.startswith(f"Deployed 6 views to schema '{schema}'")
    assert OUTPUT_VIEWS <= set(objects(spark_engine, schema))

    summary = CliRunner().invoke(cli.cli, ["summary", "--project", str(shop)])

    assert summary.exit_code == 0, summary.output
    assert "Stickiness on the last day of data, 2024-04-29 (stickiness_daily, level buyer)" in summary.output


# Sessions and settings


def test_from_session(spark_engine: SparkEngine, tmp_path: Path):
    adapter = SparkAdapter.from_session(spark_engine.session, {"schema": "anything"}, tmp_path)

    columns, rows = adapter.fetch("SELECT 1 AS one, ? AS two", [2])
    adapter.close()

    assert columns == ["one", "two"]
    assert rows == [(1, 2)]
    assert spark_engine.session.sql("SELECT 3").collect()[0][0] == 3


def test_running_session_other_master(spark_engine: SparkEngine, tmp_path: Path):
    settings = {**spark_engine.settings("analytics"), "master": "local[1]"}

    with pytest.raises(HealthlayerError) as raised:
        SparkAdapter(settings, tmp_path)

    message = str(raised.value)
    assert "spark.master is 'local[2]', the target sets 'local[1]'" in message
    assert "SparkAdapter.from_session" in message


def test_unknown_catalog(spark_engine: SparkEngine, tmp_path: Path):
    with pytest.raises(WarehouseError) as raised:
        SparkAdapter({**spark_engine.settings("analytics"), "catalog": "nowhere"}, tmp_path)

    assert str(raised.value).startswith("cannot use catalog 'nowhere': ")


@pytest.mark.parametrize("settings, message", [
    ({"schema": "Bad-Name"}, "schema: String should match pattern"),
    ({"databse": "x"}, "databse: Extra inputs are not permitted"),
    ({"catalog_implementation": "derby"}, "catalog_implementation: Input should be 'hive' or 'in-memory'"),
    ({"conf": {"spark.master": "local[1]"}}, "set 'spark.master' with the target key 'master', not under conf"),
    ({"conf": {"shuffle.partitions": "4"}}, "'shuffle.partitions' is not a Spark setting"),
    ({"conf": {"spark.sql.shuffle.partitions": 4}}, "write every conf value as a quoted string"),
    ({"remote": "http://127.0.0.1:15002"}, "remote: invalid Spark Connect URL; write it as sc://host[:port]"),
    ({"remote": "sc://127.0.0.1:15002", "master": "local[1]"}, "remote cannot be combined with master"),
])
def test_invalid_settings(tmp_path: Path, settings: dict[str, Any], message: str):
    with pytest.raises(HealthlayerError) as raised:
        SparkAdapter(settings, tmp_path)

    assert str(raised.value).startswith("invalid spark target settings: ")
    assert message in str(raised.value)


@pytest.mark.parametrize("settings", [
    {"remote": f"http://127.0.0.1:1/;token={SECRET}"},
    {"remote": f"sc://127.0.0.1:1/;token={SECRET}", "warehouse_dir": "elsewhere"},
    {"conf": {"spark.hadoop.fs.s3a.secret.key": SECRET, "spark.master": "local[1]"}},
    {"conf": {"spark.hadoop.fs.s3a.secret.key": SECRET}, "schema": "Bad-Name"},
])
def test_secret_absent_from_errors(tmp_path: Path, settings: dict[str, Any]):
    with pytest.raises(HealthlayerError) as raised:
        SparkAdapter(settings, tmp_path)

    assert SECRET not in str(raised.value)
    assert SECRET not in repr(raised.value)


def test_secret_absent_from_repr():
    config = SparkSettings.model_validate({"remote": f"sc://127.0.0.1:1/;token={SECRET}",
                                           "conf": {"spark.hadoop.fs.s3a.secret.key": SECRET}})

    assert SECRET not in repr(config)
    assert SECRET not in str(config)


def test_secret_absent_from_connect_error(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    caplog.set_level("DEBUG")
    try:
        # Port 1 on loopback has no Spark Connect server, and without the Connect packages the
        # adapter fails before it connects.
        SparkAdapter({"remote": f"sc://127.0.0.1:1/;token={SECRET}"}, tmp_path).close()
    except HealthlayerError as error:
        assert SECRET not in str(error)
    assert SECRET not in caplog.text


# Timestamp types


def test_timestamp_types(spark_engine: SparkEngine, shop_tables: None, tmp_path: Path):
    adapter = SparkAdapter.from_session(spark_engine.session, {}, tmp_path)

    types = adapter.timestamp_types({"events": ("raw.events", "event_ts"), "nps": ("`raw`.`nps`", "`responded_at`")})

    assert types == {"events": False, "nps": True}


def test_timestamp_type_not_timestamp(spark_engine: SparkEngine, shop_tables: None, tmp_path: Path):
    adapter = SparkAdapter.from_session(spark_engine.session, {}, tmp_path)

    with pytest.raises(WarehouseError) as raised:
        adapter.timestamp_types({"accounts": ("raw.accounts", "segment")})

    assert str(raised.value).startswith("the timestamp column of source 'accounts' has type string, not a timestamp")


def test_timestamp_type_missing_table(spark_engine: SparkEngine, tmp_path: Path):
    adapter = SparkAdapter.from_session(spark_engine.session, {}, tmp_path)

    with pytest.raises(WarehouseError) as raised:
        adapter.timestamp_types({"returns": ("raw.returns", "returned_at")})

    assert str(raised.value).startswith("cannot read source 'returns': ")


# Dialect gaps, checked on Spark with the session in UTC and in America/Los_Angeles


@pytest.fixture(params=["UTC", "America/Los_Angeles"])
def session_time_zone(request: pytest.FixtureRequest, spark_engine: SparkEngine) -> Iterator[str]:
    """Set the shared session's time zone for one test and restore it afterwards."""
    before = spark_engine.session.conf.get("spark.sql.session.timeZone")
    spark_engine.session.conf.set("spark.sql.session.timeZone", request.param)
    yield request.param
    spark_engine.session.conf.set("spark.sql.session.timeZone", before)


def run_expression(engine: SparkEngine, expression: exp.Expr, from_sql: str | None = None) -> list[Any]:
    """Render one expression as the compiler does for Spark, run it and return its values."""
    query = exp.select(sql.alias(expression, "value"))
    if from_sql is not None:
        query = query.from_(exp.to_table(from_sql, dialect="spark"))
    statement = render_query(Relation("probe", query, "internal", "", ("value",)), "spark")
    return [row[0] for row in engine.session.sql(statement).collect()]


# Instants around midnight and the daylight saving changes of Europe and North America in 2024.
INSTANTS = [datetime(2024, 3, 10, 7, 30), datetime(2024, 3, 30, 23, 30), datetime(2024, 3, 31, 0, 30),
            datetime(2024, 6, 30, 22, 15), datetime(2024, 11, 3, 8, 30), datetime(2024, 12, 31, 23, 59)]


@pytest.fixture(scope="module")
def instants(spark_engine: SparkEngine) -> str:
    """Create raw.instants with each instant as TIMESTAMP and as its UTC wall-clock time in TIMESTAMP_NTZ."""
    table = pa.table({
        "instant": pa.array([moment.replace(tzinfo=timezone.utc) for moment in INSTANTS], type=pa.timestamp("us", tz="UTC")),
        "utc_wall_clock": pa.array(INSTANTS, type=pa.timestamp("us")),
        "position": list(range(len(INSTANTS))),
    })
    spark_engine.load("raw", {"instants": table})
    return "raw.instants"


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("column, has_time_zone", [("instant", True), ("utc_wall_clock", False)])
def test_local_date_ignores_session_time_zone(spark_engine: SparkEngine, instants: str, session_time_zone: str,
                                              zone: str, column: str, has_time_zone: bool):
    expression = local_date(sql.column(column), zone, has_time_zone)
    query = exp.select(sql.alias(expression, "value")).from_(exp.to_table(instants)).order_by("position")
    statement = render_query(Relation("probe", query, "internal", "", ("value",)), "spark")

    dates = [row[0] for row in spark_engine.session.sql(statement).collect()]

    assert dates == [moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone)).date() for moment in INSTANTS]


def test_hours_added_to_timestamp(spark_engine: SparkEngine, session_time_zone: str):
    # sqlglot 30 renders this as DATE_ADD(ts, 48) for Spark, which adds 48 days.
    midnight = exp.Cast(this=exp.Cast(this=sql.string("2024-03-09"), to=exp.DataType.build("DATE")),
                        to=exp.DataType.build("TIMESTAMP"))
    expression = exp.DateAdd(this=midnight, expression=sql.number(48), unit=exp.var("HOUR"))

    assert run_expression(spark_engine, expression) == [datetime(2024, 3, 11, 0, 0)]


def test_days_between_dates(spark_engine: SparkEngine, session_time_zone: str):
    start = exp.Cast(this=sql.string("2024-03-09"), to=exp.DataType.build("DATE"))
    end = exp.Cast(this=sql.string("2024-11-04"), to=exp.DataType.build("DATE"))

    assert run_expression(spark_engine, _days_between(start, end)) == [(date(2024, 11, 4) - date(2024, 3, 9)).days]


def test_add_days_with_column(spark_engine: SparkEngine, instants: str):
    # The day count is a BIGINT column, which Spark's DATE_ADD rejects unless it is cast to INT.
    day = exp.Cast(this=sql.column("utc_wall_clock"), to=exp.DataType.build("DATE"))
    expression = sql.add_days(day, sql.column("position"))

    values = run_expression(spark_engine, expression, instants)

    assert sorted(values) == sorted(moment.date() + timedelta(days=index) for index, moment in enumerate(INSTANTS))


@pytest.mark.parametrize("dialect", ["spark", "databricks"])
def test_rendered_sql_avoids_traps(dialect: str):
    project, _ = api.load(SHOP)
    statements = "\n".join(statement for _, statement in api.compile_project(project, dialect, "analytics"))

    # A digits cross join builds the calendar; GENERATE_SERIES and SEQUENCE spines render invalid SQL.
    assert "GENERATE_SERIES" not in statements
    assert "SEQUENCE(" not in statements
    # Intervals are added only to instants, for the margin of 3 days around the earliest and
    # latest event, which needs only 32 hours, so a DST hour more or less does not matter. Date
    # arithmetic uses DATE_ADD.
    margins = re.sub(r"\b(earliest|latest) [+-] INTERVAL '\d+' DAY", "", statements)
    assert "INTERVAL" not in margins
    assert "QUALIFY" not in statements
    assert "DAYOFWEEK" not in statements
    assert "FROM_UTC_TIMESTAMP" not in statements
    assert "TO_UTC_TIMESTAMP" not in statements
    assert re.search(r"DATEDIFF\((DAY|WEEK)", statements) is None
    assert re.search(r"DATE_?ADD\((HOUR|MINUTE)", statements) is None
    # Spark reads "name" as a string literal, so identifiers are quoted with backticks only.
    assert '"' not in statements
    # TIMESTAMP is an instant in Spark; the plan's naive timestamps are TIMESTAMP_NTZ, and only
    # the conversion of an instant's epoch microseconds casts to TIMESTAMP.
    instants = re.sub(r"UNIX_MICROS\(CAST\([^()]* AS TIMESTAMP\)\)", "", statements)
    assert re.search(r"\bAS TIMESTAMP\)", instants) is None


# The whole shop project with the session in another time zone


def test_shop_views_in_los_angeles_session(spark_engine: SparkEngine, shop_tables: None, tmp_path: Path):
    # Spark stores the session time zone with each view it creates, so the views are created in
    # America/Los_Angeles too. The project counts days in Europe/Berlin.
    project, schema = shop_copy(spark_engine, tmp_path, with_health=True)
    reference = ReferenceProject(load_project_definitions(project), shop_rows())
    before = spark_engine.session.conf.get("spark.sql.session.timeZone")
    spark_engine.session.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    try:
        api.deploy_project(project)
        with SparkAdapter.from_session(spark_engine.session, {"schema": schema}, project) as adapter:
            problems = compare_adapter(reference, adapter, schema, normalise=spark_engine.normalise)
    finally:
        spark_engine.session.conf.set("spark.sql.session.timeZone", before)
        spark_engine.session.sql(f"DROP DATABASE IF EXISTS {schema} CASCADE")

    assert not problems, "views differ from the reference with the session in America/Los_Angeles:\n" + "\n".join(problems)


# The default Hive metastore, across processes


HIVE_SETUP = """
import sys
from pathlib import Path

from healthlayer import api
from healthlayer.adapters.spark import SparkAdapter

project = Path(sys.argv[1])
with SparkAdapter({"master": "local[1]", "schema": "analytics"}, project) as adapter:
    adapter.execute("CREATE DATABASE raw")
    adapter.execute("CREATE TABLE raw.visits USING parquet AS SELECT * FROM VALUES "
                    "('a1', 'u1', TIMESTAMP_NTZ '2024-05-01 10:00:00', 'open'), "
                    "('a1', 'u2', TIMESTAMP_NTZ '2024-05-02 23:30:00', 'open'), "
                    "('a2', 'u3', TIMESTAMP_NTZ '2024-05-03 08:00:00', 'open') "
                    "AS visits(account_id, user_id, visited_at, action)")
api.deploy_project(project)
"""


@pytest.mark.slow
def test_hive_views_persist_across_processes(tmp_path: Path):
    # Each process starts its own driver with the target's defaults: Hive catalog, Derby
    # metastore and warehouse inside the project folder.
    project = tmp_path / "visits"
    (project / "models").mkdir(parents=True)
    (project / "healthlayer.yml").write_text(
        "name: visits\npaths: [models]\n"
        "targets:\n  spark: {type: spark, master: 'local[1]', schema: analytics}\n", encoding="utf-8")
    (project / "models" / "views.yml").write_text(
        "sources:\n"
        "  - {name: visits, table: raw.visits, account: account_id, user: user_id, timestamp: visited_at, "
        "event_name: action}\n"
        "engagement:\n  source: visits\n  tiers: [{name: visitor, events: '*'}]\n", encoding="utf-8")
    environment = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}

    setup = subprocess.run([sys.executable, "-c", HIVE_SETUP, str(project)], cwd=tmp_path, env=environment,
                           capture_output=True, text=True, timeout=300)
    assert setup.returncode == 0, setup.stderr[-3000:]
    queried = subprocess.run(
        [str(Path(sys.executable).parent / "healthlayer"), "query", "--project", str(project), "--format", "json",
         "SELECT COUNT(*) AS user_days, COUNT(DISTINCT user_id) AS users FROM analytics.engagement_tiers_daily"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)

    assert queried.returncode == 0, queried.stderr[-3000:]
    # The users' tiers last from their visit to the last day of data, 2024-05-03: 3 + 2 + 1 days.
    assert json.loads(queried.stdout) == [{"user_days": 6, "users": 3}]
    assert (project / "metastore_db").is_dir()
    assert (project / "spark-warehouse" / "raw.db").is_dir()
