"""The ClickHouse adapter on chdb: deploys, ownership, failures, settings, introspection and SQL gaps.

Every test uses the chdb folder of the session's `clickhouse_engine`, because chdb opens one
folder per process, and a database name of its own.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner
from reference.parity import REPOSITORY
from sqlglot import exp

from conftest import SHOP, create_raw_tables
from engines.clickhouse_engine import ClickHouseEngine
from engines.harness import example_reference, set_target, table_project
from healthlayer import api
from healthlayer.adapters.clickhouse import GENERATION_INFIX, ChdbClient, ClickHouseAdapter
from healthlayer.cli import cli
from healthlayer.compiler import sql
from healthlayer.compiler.plan import Relation
from healthlayer.compiler.render import render_query
from healthlayer.compiler.sources import local_date
from healthlayer.errors import HealthlayerError, OwnershipError, UnsupportedError, WarehouseError

ENGAGEMENT = "models/engagement.yml"
SOURCES = "models/sources.yml"
# Reader settings that change results of ClickHouse SQL that relies on session defaults.
READER_SETTINGS = ("join_use_nulls = 1, count_distinct_implementation = 'uniq', "
                   "session_timezone = 'Pacific/Kiritimati', aggregate_functions_null_for_empty = 1, "
                   "transform_null_in = 1, cast_keep_nullable = 1, union_default_mode = 'DISTINCT'")
# ClickHouse's default query_plan_max_optimizations_to_apply, as a BI tool's session has it.
DEFAULT_PLAN_OPTIMIZATIONS = 10_000


@pytest.fixture(scope="module")
def chdb_engine(clickhouse_engine: ClickHouseEngine, tmp_path_factory: pytest.TempPathFactory) -> ClickHouseEngine:
    """Return the session's ClickHouse engine with the shop's raw tables loaded into database `raw`."""
    database = tmp_path_factory.mktemp("shop_raw") / "shop.duckdb"
    create_raw_tables(database)
    with duckdb.connect(str(database)) as connection:
        tables = {name: connection.sql(f"SELECT * FROM raw.{name}").to_arrow_table()
                  for name in ("events", "accounts", "nps")}
    clickhouse_engine.load("raw", tables)
    return clickhouse_engine


@pytest.fixture
def shop(chdb_engine: ClickHouseEngine, tmp_path: Path) -> Path:
    """Return a copy of the shop project whose default target is a new ClickHouse database."""
    project = tmp_path / "shop"
    shutil.copytree(SHOP, project)
    set_target(project, "clickhouse", chdb_engine.settings(f"shop_{uuid.uuid4().hex[:8]}"))
    return project


@pytest.fixture
def adapter(chdb_engine: ClickHouseEngine, tmp_path: Path) -> Iterator[ClickHouseAdapter]:
    with ClickHouseAdapter(chdb_engine.settings(f"scratch_{uuid.uuid4().hex[:8]}"), tmp_path) as opened:
        opened.execute(f"CREATE DATABASE {opened.schema}")
        yield opened


def open_shop(project: Path) -> ClickHouseAdapter:
    loaded, _ = api.load(project)
    adapter = api.open_target(loaded, must_exist=True)
    assert isinstance(adapter, ClickHouseAdapter)
    return adapter


def objects(project: Path) -> dict[str, tuple[str, str]]:
    """Return the target database's objects as name: (engine, comment)."""
    with open_shop(project) as adapter:
        _, rows = adapter.fetch(f"SELECT name, engine, comment FROM system.tables WHERE database = '{adapter.schema}'")
    return {name: (engine, comment) for name, engine, comment in rows}


def generations(project: Path) -> list[str]:
    with open_shop(project) as adapter:
        _, rows = adapter.fetch(f"SELECT name FROM system.databases WHERE startsWith(name, "
                                f"'{adapter.schema}{GENERATION_INFIX}')")
    return [row[0] for row in rows]


def view_rows(project: Path, settings: str | None = None,
              internal: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Return the sorted rows of the target database's output views, or of all views, read with query settings.

    The output views read every internal view, and ClickHouse plans each query over the whole
    chain of views, so reading the internal views as well mainly costs time.
    """
    rows = {}
    with open_shop(project) as adapter:
        for name in objects_in(adapter):
            if name.startswith("_hl_") and not internal:
                continue
            statement = f"SELECT * FROM {adapter.schema}.{name}"
            if settings:
                statement += f" SETTINGS {settings}"
            _, result = adapter.fetch(statement)
            rows[name] = sorted(result, key=repr)
    return rows


def objects_in(adapter: ClickHouseAdapter) -> list[str]:
    _, rows = adapter.fetch(f"SELECT name FROM system.tables WHERE database = '{adapter.schema}' ORDER BY name")
    return [row[0] for row in rows]


def replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


# deploy

def test_deploy_creates_owned_views(shop: Path):
    result = api.deploy_project(shop).result

    found = objects(shop)
    assert sorted(found) == sorted(view.name for view in result.views)
    for name, (engine, comment) in found.items():
        assert engine == "View", name
        assert comment.startswith("healthlayer: project shop: "), name
    assert len(generations(shop)) == 1
    rows = view_rows(shop)
    assert all(rows[name] for name in ("stickiness_daily", "tier_mix_daily", "account_health", "alerts"))


def test_deploy_twice_idempotent(shop: Path):
    api.deploy_project(shop)
    first_objects = objects(shop)
    first_rows = view_rows(shop)

    second = api.deploy_project(shop).result

    assert second.dropped == ()
    assert objects(shop) == first_objects
    assert view_rows(shop) == first_rows
    assert len(generations(shop)) == 1


def test_deploy_changed_plan(shop: Path):
    api.deploy_project(shop)
    replace_text(shop / ENGAGEMENT, "  - name: stickiness_daily\n    level: buyer\n", "")
    replace_text(shop / ENGAGEMENT, "    ratios: [dau_mau, wau_mau]\n", "    ratios: [dau_mau, dau_wau, wau_mau]\n")

    result = api.deploy_project(shop).result

    assert result.dropped == ("stickiness_daily",)
    assert "stickiness_daily" not in objects(shop)
    with open_shop(shop) as adapter:
        columns, rows = adapter.fetch(f"SELECT * FROM {adapter.schema}.stickiness_daily_by_account")
    assert "dau_wau" in columns
    assert rows
    assert len(generations(shop)) == 1


@pytest.mark.parametrize("statement", [
    "CREATE TABLE {schema}.stickiness_daily (answer Int32) ENGINE = Memory",
    "CREATE VIEW {schema}.stickiness_daily AS SELECT 42 AS answer",
    "CREATE VIEW {schema}.stickiness_daily AS SELECT 42 AS answer COMMENT 'healthlayer: project other: x'",
])
def test_deploy_rejects_foreign_object(shop: Path, statement: str):
    loaded, _ = api.load(shop)
    with api.open_target(loaded) as adapter:
        adapter.execute(f"CREATE DATABASE {adapter.schema}")
        adapter.execute(statement.format(schema=adapter.schema))

    with pytest.raises(OwnershipError) as raised:
        api.deploy_project(shop)

    assert "stickiness_daily" in str(raised.value)
    assert list(objects(shop)) == ["stickiness_daily"]
    assert generations(shop) == []
    with open_shop(shop) as adapter:
        assert adapter.fetch(f"SELECT count() FROM {adapter.schema}.stickiness_daily")[1] in ([(0,)], [(1,)])


@pytest.mark.parametrize("schema", ["system", "information_schema"])
def test_system_database_rejected(schema: str, tmp_path: Path):
    with pytest.raises(HealthlayerError) as raised:
        ClickHouseAdapter({"path": "unused.chdb", "schema": schema}, tmp_path)

    assert "system database" in str(raised.value)


def test_memory_database_rejected(shop: Path):
    loaded, _ = api.load(shop)
    with api.open_target(loaded) as adapter:
        adapter.execute(f"CREATE DATABASE {adapter.schema} ENGINE = Memory")

    with pytest.raises(WarehouseError) as raised:
        api.deploy_project(shop)

    assert "engine Memory, which does not keep view definitions" in str(raised.value)
    assert generations(shop) == []


def test_invalid_utf8_result(adapter: ClickHouseAdapter):
    with pytest.raises(WarehouseError) as raised:
        adapter.fetch("SELECT unhex('ff') AS bytes")

    assert "not valid UTF-8" in str(raised.value)


def test_failed_deploy_keeps_previous_views(shop: Path):
    api.deploy_project(shop)
    before_objects = objects(shop)
    before_rows = view_rows(shop)
    # A declared column that raw.events does not have makes CREATE VIEW _hl_events fail.
    replace_text(shop / SOURCES, "      plan: text\n", "      plan: text\n      coupon: text\n")

    with pytest.raises(WarehouseError) as raised:
        api.deploy_project(shop)

    assert str(raised.value).startswith("ClickHouse rejected a statement: ")
    assert "coupon" in str(raised.value)
    assert objects(shop) == before_objects
    assert view_rows(shop) == before_rows
    assert len(generations(shop)) == 1


def test_failed_data_range_keeps_previous_views(shop: Path, chdb_engine: ClickHouseEngine):
    api.deploy_project(shop)
    before_rows = view_rows(shop)
    schema = f"raw_{uuid.uuid4().hex[:8]}"
    placeholder = pa.table({"account_id": ["acct_a", "acct_a"], "user_id": ["alice", "alice"],
                            "event_ts": pa.array([datetime(1900, 1, 1), datetime(2200, 1, 1)], pa.timestamp("us")),
                            "event_type": ["view", "view"], "area": ["catalog", "catalog"],
                            "order_id": pa.array([None, None], pa.string()),
                            "amount": pa.array([None, None], pa.float64()), "plan": ["pro", "pro"]})
    chdb_engine.load(schema, {"events": placeholder})
    replace_text(shop / SOURCES, "table: raw.events", f"table: {schema}.events")

    with pytest.raises(WarehouseError) as raised:
        api.deploy_project(shop)

    assert "from 1900-01-01 to 2200-01-01" in str(raised.value)
    assert view_rows(shop) == before_rows
    assert len(generations(shop)) == 1


def test_deploy_cli(shop: Path):
    deployed = CliRunner().invoke(cli, ["deploy", "--project", str(shop)])
    summary = CliRunner().invoke(cli, ["summary", "--project", str(shop)])

    assert deployed.exit_code == 0, deployed.output
    assert deployed.output.startswith("Deployed 8 views to schema 'shop_")
    assert "stickiness_daily" in objects(shop)
    assert summary.exit_code == 0, summary.output
    assert "Health bands on the last day" in summary.output


# views whatever the reader's settings

def test_views_ignore_reader_settings(shop: Path):
    api.deploy_project(shop)
    default_rows = view_rows(shop, internal=True)

    # open_shop starts a new chdb session; the settings apply to each query of it.
    reader_rows = view_rows(shop, READER_SETTINGS, internal=True)

    assert reader_rows == default_rows


# settings

@pytest.mark.parametrize(("settings", "expected"), [
    ({"schema": "Analytics"}, "schema: String should match pattern"),
    ({"path": ""}, "path: String should have at least 1 character"),
    ({"host": "localhost"}, "host: Extra inputs are not permitted"),
])
def test_settings_invalid(tmp_path: Path, settings: dict[str, Any], expected: str):
    with pytest.raises(HealthlayerError) as raised:
        ClickHouseAdapter(settings, tmp_path)

    assert str(raised.value).startswith("invalid clickhouse target settings: ")
    assert expected in str(raised.value)


def test_settings_path_is_file(tmp_path: Path):
    (tmp_path / "data.parquet").write_bytes(b"PAR1")

    with pytest.raises(HealthlayerError) as raised:
        ClickHouseAdapter({"path": "data.parquet"}, tmp_path)

    assert "is a file; point 'path' at a folder" in str(raised.value)


def test_settings_missing_folder(tmp_path: Path):
    with pytest.raises(HealthlayerError) as raised:
        ClickHouseAdapter({"path": "missing"}, tmp_path, must_exist=True)

    assert "does not exist; run 'healthlayer deploy' first" in str(raised.value)
    assert not (tmp_path / "missing").exists()


def test_settings_secret_absent(tmp_path: Path):
    secret = "s3cret-Passw0rd"

    with pytest.raises(HealthlayerError) as raised:
        ClickHouseAdapter({"path": "db", "password": secret, "schema": secret}, tmp_path)

    assert "password: Extra inputs are not permitted" in str(raised.value)
    assert secret not in str(raised.value)
    assert secret not in repr(raised.value)


def test_second_folder_rejected(chdb_engine: ClickHouseEngine, tmp_path: Path):
    with ClickHouseAdapter(chdb_engine.settings("analytics"), tmp_path):
        with pytest.raises(WarehouseError) as raised:
            ClickHouseAdapter({"path": "other"}, tmp_path)

    assert "close other clickhouse targets first" in str(raised.value)


# introspection

@pytest.mark.parametrize(("column_type", "has_time_zone"), [
    ("DateTime64(6)", False),
    ("DateTime", False),
    ("Date32", False),
    ("DateTime64(6, 'UTC')", True),
    ("DateTime('Europe/Berlin')", True),
    ("Nullable(DateTime64(3, 'America/New_York'))", True),
    ("Nullable(DateTime64(3))", False),
])
def test_timestamp_types(adapter: ClickHouseAdapter, column_type: str, has_time_zone: bool):
    adapter.execute(f"CREATE TABLE {adapter.schema}.events (event_ts {column_type}) ENGINE = Memory")

    types = adapter.timestamp_types({"events": (f"{adapter.schema}.events", "event_ts")})

    assert types == {"events": has_time_zone}


def test_timestamp_type_not_time(adapter: ClickHouseAdapter):
    adapter.execute(f"CREATE TABLE {adapter.schema}.events (event_ts String) ENGINE = Memory")

    with pytest.raises(WarehouseError) as raised:
        adapter.timestamp_types({"events": (f"{adapter.schema}.events", "event_ts")})

    assert str(raised.value).startswith("the timestamp column of source 'events' has type String, not a date")


def test_timestamp_type_missing_table(adapter: ClickHouseAdapter):
    with pytest.raises(WarehouseError) as raised:
        adapter.timestamp_types({"events": (f"{adapter.schema}.missing", "event_ts")})

    assert str(raised.value).startswith("cannot read source 'events': ClickHouse rejected a query: ")


# SQL gaps between sqlglot's ClickHouse output and the other engines

def run_query(adapter: ClickHouseAdapter, query: exp.Query, settings: str = "join_use_nulls = 0") -> list[tuple]:
    """Render a query as a plan relation for ClickHouse and return its rows, read with query settings."""
    relation = Relation("gap", query, "internal", "gap test", ())
    _, rows = adapter.fetch(f"SELECT * FROM ({render_query(relation, 'clickhouse')}) SETTINGS {settings}")
    return rows


def numbers(count: int, name: str = "n") -> exp.Query:
    """Return a query of the non-Nullable integers 1 to `count` as column `name`."""
    # toInt32 keeps the column non-Nullable, where sqlglot renders a CAST as a cast to Nullable.
    value = exp.Anonymous(this="toInt32", expressions=[exp.column("number")])
    return exp.select(exp.alias_(value, name)) \
        .from_(exp.Anonymous(this="numbers", expressions=[exp.Literal.number(1), exp.Literal.number(count)]))


def test_gap_lag_lead_null_at_edges(adapter: ClickHouseAdapter):
    order = [sql.column("n")]
    query = exp.select(
        sql.column("n"),
        exp.alias_(sql.window(exp.Lag(this=sql.column("n")), [], order), "previous"),
        exp.alias_(sql.window(exp.Lead(this=sql.column("n")), [], order), "next"),
        exp.alias_(sql.window(exp.Lag(this=sql.column("n"), offset=sql.number(2)), [], order), "second_previous"),
    ).from_(numbers(3).subquery("t"))

    rows = sorted(run_query(adapter, query))

    assert rows == [(1, None, 2, None), (2, 1, 3, None), (3, 2, None, 1)]


@pytest.mark.parametrize("join_use_nulls", [0, 1])
def test_gap_left_join_unmatched_null(adapter: ClickHouseAdapter, join_use_nulls: int):
    right = exp.select(sql.column("n"), exp.alias_(exp.Literal.string("x"), "label"),
                       exp.alias_(exp.Literal.number(0), "zero")).from_(numbers(1).subquery("r"))
    query = (
        exp.select(sql.column("n", "l"), sql.column("label", "j"), sql.column("zero", "j"))
        .from_(numbers(2).subquery("l"))
        .join(right.subquery("j"), on=exp.EQ(this=sql.column("n", "l"), expression=sql.column("n", "j")),
              join_type="left")
    )

    rows = sorted(run_query(adapter, query, f"join_use_nulls = {join_use_nulls}"))

    assert rows == [(1, "x", 0), (2, None, None)]


def test_gap_left_join_table(adapter: ClickHouseAdapter):
    adapter.execute(f"CREATE TABLE {adapter.schema}.counts (n Int32, total UInt64) ENGINE = Memory")
    adapter.execute(f"INSERT INTO {adapter.schema}.counts VALUES (1, 5)")
    query = (
        exp.select(sql.column("n", "l"), sql.column("total", "c"))
        .from_(numbers(2).subquery("l"))
        .join(sql.table("counts", adapter.schema).as_("c"),
              on=exp.EQ(this=sql.column("n", "l"), expression=sql.column("n", "c")), join_type="left")
    )

    rows = sorted(run_query(adapter, query))

    assert rows == [(1, 5), (2, None)]


def test_gap_count_distinct_exact(adapter: ClickHouseAdapter):
    query = exp.select(exp.alias_(exp.Count(this=exp.Distinct(expressions=[sql.column("n")])), "distinct_count")) \
        .from_(numbers(200_000).subquery("t"))

    rows = run_query(adapter, query, "count_distinct_implementation = 'uniq'")

    assert rows == [(200_000,)]


def test_gap_dates_outside_date_range(adapter: ClickHouseAdapter):
    day = exp.Cast(this=exp.Literal.string("2149-06-01"), to=exp.DataType.build("DATE"))
    query = exp.select(exp.alias_(sql.add_days(day, 30), "later"),
                       exp.alias_(sql.add_days(exp.Cast(this=exp.Literal.string("1970-01-10"),
                                                         to=exp.DataType.build("DATE")), -30), "earlier"))

    rows = run_query(adapter, query)

    assert rows == [(date(2149, 7, 1), date(1969, 12, 11))]


def test_gap_timestamp_ignores_session_time_zone(adapter: ClickHouseAdapter):
    day = exp.Cast(this=exp.Literal.string("2024-03-01"), to=exp.DataType.build("DATE"))
    deadline = exp.DateAdd(this=exp.Cast(this=day, to=exp.DataType.build("TIMESTAMP")),
                           expression=sql.number(48), unit=exp.var("HOUR"))
    query = exp.select(exp.alias_(deadline, "respond_by"))

    utc = run_query(adapter, query, "session_timezone = 'UTC'")
    kiritimati = run_query(adapter, query, "session_timezone = 'Pacific/Kiritimati'")

    assert kiritimati == utc
    assert utc[0][0].replace(tzinfo=None) == datetime(2024, 3, 3)


@pytest.mark.parametrize(("column_type", "has_time_zone"), [
    ("DateTime64(6)", False), ("DateTime64(6, 'America/New_York')", True)])
def test_gap_local_date(adapter: ClickHouseAdapter, column_type: str, has_time_zone: bool):
    adapter.execute(f"CREATE TABLE {adapter.schema}.events (event_ts {column_type}) ENGINE = Memory")
    # 23:30 UTC is 00:30 of the next day in Europe/Berlin. A DateTime has no values before 1970.
    adapter.execute(f"INSERT INTO {adapter.schema}.events SELECT toDateTime64(text, 6, 'UTC') "
                    "FROM values('text String', '2024-03-01 23:30:00', '1965-06-01 23:30:00')")
    query = exp.select(exp.alias_(local_date(sql.column("event_ts"), "Europe/Berlin", has_time_zone), "day")) \
        .from_(sql.table("events", adapter.schema))

    for settings in ("session_timezone = 'UTC'", "session_timezone = 'Asia/Tokyo'"):
        assert sorted(run_query(adapter, query, settings)) == [(date(1965, 6, 2),), (date(2024, 3, 2),)], settings


def test_gap_condition_column_is_bool(adapter: ClickHouseAdapter):
    query = exp.select(exp.alias_(exp.GT(this=sql.column("n"), expression=sql.number(1)), "above_one")) \
        .from_(numbers(2).subquery("t"))

    rows = sorted(run_query(adapter, query))

    assert rows == [(False,), (True,)]
    assert all(type(value) is bool for value, in rows)


def test_gap_joined_column_names(adapter: ClickHouseAdapter):
    query = (
        exp.select(sql.column("n", "b"))
        .from_(numbers(1).subquery("a"))
        .join(numbers(1).subquery("b"), on=exp.EQ(this=sql.column("n", "a"), expression=sql.column("n", "b")))
    )
    relation = Relation("gap", query, "internal", "gap test", ())

    columns, _ = adapter.fetch(render_query(relation, "clickhouse"))

    assert columns == ["n"]


def test_gap_concat_skips_null(adapter: ClickHouseAdapter):
    query = exp.select(exp.alias_(exp.Concat(expressions=[exp.Literal.string("a"), exp.Null(),
                                                          exp.Literal.string("b")], safe=True), "text"))

    assert run_query(adapter, query) == [("ab",)]


def test_gap_round_halves_away_from_zero(adapter: ClickHouseAdapter):
    x = exp.Anonymous(this="toFloat64", expressions=[exp.Literal.string("2.5")])
    y = exp.Anonymous(this="toFloat64", expressions=[exp.Literal.string("-0.125")])
    query = exp.select(exp.alias_(exp.Round(this=x), "whole"),
                       exp.alias_(exp.Round(this=x.copy(), decimals=sql.number(0)), "zero"),
                       exp.alias_(exp.Neg(this=exp.Round(this=x.copy())), "negated"),
                       exp.alias_(exp.Round(this=y, decimals=sql.number(2)), "hundredths"))

    assert run_query(adapter, query) == [(3.0, 3.0, -3.0, -0.13)]


def test_gap_text_functions_count_characters(adapter: ClickHouseAdapter):
    text = exp.Literal.string("Éa")
    query = exp.select(exp.alias_(exp.Length(this=text), "characters"),
                       exp.alias_(exp.Lower(this=text.copy()), "lower"),
                       exp.alias_(exp.Upper(this=text.copy()), "upper"),
                       exp.alias_(exp.Substring(this=text.copy(), start=sql.number(2), length=sql.number(1)), "second"))

    assert run_query(adapter, query) == [(2, "éa", "ÉA", "a")]


def test_stored_output_rejected(shop: Path):
    project_file = shop / "healthlayer.yml"
    project_file.write_text(project_file.read_text() + "outputs:\n  tier_mix_daily: {materialized: table}\n")

    with pytest.raises(UnsupportedError, match=r"the clickhouse adapter stores outputs only as view, not tier_mix_daily \(table\)"):
        api.deploy_project(shop)

    assert objects(shop) == {}


def test_warehouse_check_reports_stored_output(shop: Path):
    project_file = shop / "healthlayer.yml"
    project_file.write_text(project_file.read_text() + "outputs:\n  tier_mix_daily: {materialized: table}\n")

    issues = api.check_warehouse(shop, None)

    [issue] = [issue for issue in issues if issue.code == "unsupported-materialization"]
    assert issue.message.startswith("output 'tier_mix_daily' is stored as table, but target ")
    assert issue.message.endswith("(clickhouse) stores outputs only as view")
    assert (issue.location.file.name, issue.location.key_path) == ("healthlayer.yml",
                                                                   ("outputs", "tier_mix_daily", "materialized"))
    assert objects(shop) == {}


def test_file_source_rejected_before_reading(chdb_engine: ClickHouseEngine, tmp_path: Path):
    project = tmp_path / "saas"
    shutil.copytree(REPOSITORY / "examples" / "saas", project, ignore=shutil.ignore_patterns("*.duckdb"))
    set_target(project, "clickhouse", chdb_engine.settings(f"saas_{uuid.uuid4().hex[:8]}"))

    with pytest.raises(UnsupportedError, match="source 'events' reads a file, which only DuckDB can read; declare "
                                               "the source with 'table:' to deploy to a clickhouse target"):
        api.deploy_project(project)


@pytest.mark.slow
def test_saas_alerts_within_default_plan_limit(chdb_engine: ClickHouseEngine, tmp_path: Path):
    """A reader with ClickHouse's default limit of query-plan optimizations can select every alert of examples/saas."""
    schema = f"saas_{uuid.uuid4().hex[:8]}"
    project = tmp_path / "saas"
    tables = table_project("saas", project, f"raw_{schema}", "clickhouse", chdb_engine.settings(schema))
    chdb_engine.load(f"raw_{schema}", tables)
    api.deploy_project(project)

    client = ChdbClient(chdb_engine.folder)
    try:
        client.command(f"SET query_plan_max_optimizations_to_apply = {DEFAULT_PLAN_OPTIMIZATIONS}")
        alerts = client.query_arrow(f"SELECT * FROM `{schema}`.alerts")
    finally:
        client.close()

    assert alerts.num_rows == len(example_reference("saas").view("alerts"))
