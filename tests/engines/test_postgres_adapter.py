"""The PostgreSQL adapter against a private server: deploys, ownership, rollback, settings, secrets and dialect gaps."""

from __future__ import annotations

import logging
import math
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from click.testing import CliRunner
from sqlglot import exp

from conftest import SHOP, SHOP_DATABASE, create_raw_tables
from engines.harness import python_value, set_target
from engines.postgres_engine import PostgresEngine, PostgresServer
from healthlayer import api, cli
from healthlayer.adapters.postgres import PostgresAdapter, parse_settings, qmark_to_format
from healthlayer.compiler import sql
from healthlayer.compiler.dialects.postgres import MAX_IDENTIFIER_BYTES, prepare
from healthlayer.compiler.engagement import CALENDAR
from healthlayer.compiler.expressions import parse_expression
from healthlayer.compiler.plan import Plan, Relation
from healthlayer.compiler.sources import local_date
from healthlayer.errors import DefinitionError, HealthlayerError, OwnershipError, UnsupportedError, WarehouseError

# Text in healthlayer.yml that a test replaces with an env_var() call, which YAML dumping would quote wrongly.
PASSWORD_PLACEHOLDER = "password-placeholder"
OUTPUT_VIEWS = ["stickiness_daily", "stickiness_daily_by_account", "tier_mix_daily", "engagement_tiers_daily",
                "tier_transitions", "alerts", "account_health"]
ENGAGEMENT = "models/engagement.yml"
# The shop's account alerts read its health score, so a test that removes the score or every alert
# rule removes this file too.
ACCOUNT_ALERTS = "models/account_alerts.yml"
# An NPS response at 22:45 UTC, which is on the next calendar day in Europe/Berlin, the shop's time zone.
PASSWORD_PLACEHOLDER = "password-placeholder"
LATE_NPS_RESPONSE = "('acct_b', TIMESTAMPTZ '2024-04-20 22:45:00+00', 6.0)"


@pytest.fixture(scope="module")
def server(postgres_server: PostgresServer) -> PostgresServer:
    return postgres_server


@pytest.fixture(scope="module")
def raw_database(server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Create the shop's raw tables in a DuckDB file and copy the same rows into PostgreSQL's `raw` schema.

    raw.events has a timestamp without time zone, raw.nps one with a time zone.
    """
    database = tmp_path_factory.mktemp("shop_raw") / SHOP_DATABASE
    create_raw_tables(database)
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"INSERT INTO raw.nps VALUES {LATE_NPS_RESPONSE}")
        tables = {name: connection.sql(f"SELECT * FROM raw.{name}").to_arrow_table()
                  for name in ("events", "accounts", "nps")}
    PostgresEngine(server).load("raw", tables)
    return database


@pytest.fixture
def schema() -> str:
    return f"hl_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def shop(tmp_path: Path, server: PostgresServer, raw_database: Path, schema: str) -> Path:
    """Return a copy of the shop project whose default target is the test server's `schema`."""
    project = tmp_path / "shop"
    shutil.copytree(SHOP, project)
    set_target(project, "postgres", server.settings(schema))
    return project


@pytest.fixture
def connection(server: PostgresServer) -> Iterator[psycopg.Connection[Any]]:
    with server.connect() as opened:
        yield opened


def view_definitions(connection: psycopg.Connection[Any], schema: str) -> dict[str, str]:
    rows = connection.execute(
        "SELECT viewname, definition FROM pg_catalog.pg_views WHERE schemaname = %s", [schema]).fetchall()
    return dict(rows)


def view_columns(connection: psycopg.Connection[Any], schema: str, view: str) -> dict[str, str]:
    rows = connection.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "ORDER BY ordinal_position", [schema, view]).fetchall()
    return dict(rows)


def replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def same_values(left: tuple[Any, ...], right: tuple[Any, ...]) -> bool:
    """Return whether two rows are equal, floats within 1e-9 relative."""
    for left_value, right_value in zip(left, right, strict=True):
        if isinstance(left_value, float) and isinstance(right_value, float):
            if not math.isclose(left_value, right_value, rel_tol=1e-9, abs_tol=1e-12):
                return False
        elif left_value != right_value:
            return False
    return True


def sorted_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Return rows with decimals as floats, sorted by their text so that NULLs sort too."""
    converted = [tuple(python_value(value) for value in row) for row in rows]
    return sorted(converted, key=lambda row: tuple(repr(value) for value in row))


# Deploys


def test_deploy_twice_is_idempotent(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    first = api.deploy_project(shop)
    definitions = view_definitions(connection, schema)
    second = api.deploy_project(shop)

    assert {view.name for view in first.result.views} == set(definitions)
    assert second.result.dropped == ()
    assert view_definitions(connection, schema) == definitions
    comment = connection.execute(
        "SELECT obj_description(%s::regclass, 'pg_class')", [f"{schema}.stickiness_daily"]).fetchone()
    assert comment is not None and comment[0].startswith("healthlayer: project shop:")


def test_views_equal_duckdb(shop: Path, raw_database: Path, tmp_path: Path, schema: str) -> None:
    """Every view of the shop, with a naive and a time-zone-aware source, has the rows DuckDB computes."""
    duckdb_project = tmp_path / "duckdb_shop"
    shutil.copytree(SHOP, duckdb_project)
    shutil.copy(raw_database, duckdb_project / SHOP_DATABASE)
    duckdb_deployment = api.deploy_project(duckdb_project)
    api.deploy_project(shop)

    project, _ = api.load(shop)
    duckdb_loaded, _ = api.load(duckdb_project)
    with api.open_target(project) as postgres, api.open_target(duckdb_loaded) as embedded:
        for view in duckdb_deployment.result.views:
            statement = f'SELECT * FROM {{schema}}."{view.name}"'
            postgres_columns, postgres_rows = postgres.fetch(statement.format(schema=schema))
            duckdb_columns, duckdb_rows = embedded.fetch(statement.format(schema="analytics"))
            assert postgres_columns == duckdb_columns, view.name
            assert len(postgres_rows) == len(duckdb_rows), view.name
            for postgres_row, duckdb_row in zip(sorted_rows(postgres_rows), sorted_rows(duckdb_rows)):
                assert same_values(postgres_row, duckdb_row), f"{view.name}: {postgres_row} != {duckdb_row}"


def test_late_naive_event_on_next_day(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    api.deploy_project(shop)

    last_day = connection.execute(
        f"SELECT MAX(activity_date) FROM {schema}._hl_events WHERE user_id = 'alice'").fetchall()

    # The last event of alice is at 23:30 UTC on 2024-04-28, which is 01:30 on 2024-04-29 in Berlin.
    assert last_day == [(date(2024, 4, 29),)]


def test_views_ignore_session_time_zone(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    api.deploy_project(shop)
    statement = f"SELECT * FROM {schema}.engagement_tiers_daily ORDER BY 1, 2, 3"

    connection.execute("SET TIME ZONE 'Pacific/Kiritimati'")
    east = connection.execute(statement).fetchall()
    connection.execute("SET TIME ZONE 'America/Los_Angeles'")
    west = connection.execute(statement).fetchall()

    assert east == west


def test_changed_plan_redeploys(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    api.deploy_project(shop)
    replace_text(shop / ENGAGEMENT, "    windows: {dau: 1, wau: 7, mau: 30}\n    ratios: [dau_mau, wau_mau]\n",
                 "    windows: {dau: 1, mau: 30}\n    ratios: [dau_mau]\n")
    alerts_start = (shop / ENGAGEMENT).read_text().index("alerts:")
    (shop / ENGAGEMENT).write_text((shop / ENGAGEMENT).read_text()[:alerts_start])
    (shop / ACCOUNT_ALERTS).unlink()

    deployment = api.deploy_project(shop)

    assert deployment.result.dropped == ("alerts",)
    assert "alerts" not in view_definitions(connection, schema)
    columns = view_columns(connection, schema, "stickiness_daily_by_account")
    assert "wau" not in columns
    assert "dau_mau" in columns
    # The health score reads the changed view, so it was recreated and still returns rows.
    assert connection.execute(f"SELECT COUNT(*) FROM {schema}.account_health").fetchone() != (0,)


def test_stale_dependents_of_changed_view(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    """The health score views are built on a view whose columns change, and the new plan drops them."""
    api.deploy_project(shop)
    replace_text(shop / ENGAGEMENT, "    windows: {dau: 1, wau: 7, mau: 30}\n    ratios: [dau_mau, wau_mau]\n",
                 "    windows: {dau: 1, mau: 30}\n    ratios: [dau_mau]\n")
    (shop / "models/health.yml").unlink()
    (shop / ACCOUNT_ALERTS).unlink()

    deployment = api.deploy_project(shop)

    assert "account_health" in deployment.result.dropped
    assert "_hl_account_health_values" in deployment.result.dropped
    assert not [view for view in view_definitions(connection, schema) if "account_health" in view]
    assert "wau" not in view_columns(connection, schema, "stickiness_daily_by_account")


def test_recreated_views_keep_grants(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    api.deploy_project(shop)
    role = f"reader_{schema}"
    connection.execute(f"CREATE ROLE {role}")
    connection.execute(f"GRANT SELECT ON {schema}.stickiness_daily_by_account, {schema}.account_health TO {role}")
    health_oid = connection.execute("SELECT %s::regclass::oid", [f"{schema}.account_health"]).fetchone()
    replace_text(shop / ENGAGEMENT, "    windows: {dau: 1, wau: 7, mau: 30}\n    ratios: [dau_mau, wau_mau]\n",
                 "    windows: {dau: 1, mau: 30}\n    ratios: [dau_mau]\n")

    api.deploy_project(shop)

    for view in ("stickiness_daily_by_account", "account_health"):
        granted = connection.execute("SELECT has_table_privilege(%s, %s, 'SELECT')", [role, f"{schema}.{view}"])
        assert granted.fetchone() == (True,), view
    assert "wau" not in view_columns(connection, schema, "stickiness_daily_by_account")
    # The health score is built on the changed view, so it was dropped and created again.
    assert connection.execute("SELECT %s::regclass::oid", [f"{schema}.account_health"]).fetchone() != health_oid


def test_user_view_survives_compatible_redeploy(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    api.deploy_project(shop)
    connection.execute(f"CREATE VIEW public.report_{schema} AS SELECT activity_date, dau FROM {schema}.stickiness_daily")

    api.deploy_project(shop)

    rows = connection.execute(f"SELECT COUNT(*) FROM public.report_{schema}").fetchone()
    assert rows is not None and rows[0] > 0


def test_user_view_blocks_column_change(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    api.deploy_project(shop)
    connection.execute(f"CREATE VIEW public.weekly_{schema} AS SELECT wau FROM {schema}.stickiness_daily_by_account")
    definitions = view_definitions(connection, schema)
    replace_text(shop / ENGAGEMENT, "    windows: {dau: 1, wau: 7, mau: 30}\n    ratios: [dau_mau, wau_mau]\n",
                 "    windows: {dau: 1, mau: 30}\n    ratios: [dau_mau]\n")

    with pytest.raises(WarehouseError) as raised:
        api.deploy_project(shop)

    assert f"public.weekly_{schema}" in str(raised.value)
    assert "stickiness_daily_by_account" in str(raised.value)
    assert view_definitions(connection, schema) == definitions


def test_foreign_table_is_not_replaced(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    connection.execute(f"CREATE SCHEMA {schema}")
    connection.execute(f"CREATE TABLE {schema}.alerts (note text)")

    with pytest.raises(OwnershipError) as raised:
        api.deploy_project(shop)

    assert "alerts" in str(raised.value)
    assert view_definitions(connection, schema) == {}
    assert connection.execute(f"SELECT COUNT(*) FROM {schema}.alerts").fetchone() == (0,)


def test_foreign_view_is_not_replaced(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    connection.execute(f"CREATE SCHEMA {schema}")
    connection.execute(f"CREATE VIEW {schema}.tier_mix_daily AS SELECT 1 AS mine")

    with pytest.raises(OwnershipError):
        api.deploy_project(shop)

    definitions = view_definitions(connection, schema)
    assert list(definitions) == ["tier_mix_daily"]
    assert "mine" in definitions["tier_mix_daily"]


def test_failed_deploy_keeps_previous_views(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    api.deploy_project(shop)
    definitions = view_definitions(connection, schema)
    counts = {view: connection.execute(f"SELECT COUNT(*) FROM {schema}.{view}").fetchone() for view in OUTPUT_VIEWS}
    # The tier change alters the first views, and the text-to-integer comparison then fails in a later
    # one. user_id is a role column without a declared type, so validation cannot see the mismatch.
    replace_text(shop / ENGAGEMENT, "filter: \"amount > 0\"", "filter: \"amount > 5\"")
    replace_text(shop / "models/health.yml", "population: {source: events, filter: \"plan <> 'internal'\"}",
                 "population: {source: events, filter: \"user_id <> 1\"}")

    with pytest.raises(WarehouseError) as raised:
        api.deploy_project(shop)

    assert "_hl_account_health" in str(raised.value)
    assert "rolled back" in str(raised.value)
    assert view_definitions(connection, schema) == definitions
    for view, count in counts.items():
        assert connection.execute(f"SELECT COUNT(*) FROM {schema}.{view}").fetchone() == count, view


def test_deploy_times_out_behind_reader(shop: Path, server: PostgresServer, schema: str) -> None:
    api.deploy_project(shop)
    settings = {**server.settings(schema), "lock_timeout": 1}
    set_target(shop, "postgres", settings)
    with server.connect() as reader:
        reader.autocommit = False
        reader.execute(f"SELECT * FROM {schema}.stickiness_daily LIMIT 1")

        with pytest.raises(WarehouseError) as raised:
            api.deploy_project(shop)
        reader.rollback()

    assert "timed out after 1 s" in str(raised.value)
    assert "lock_timeout" in str(raised.value)


def test_data_range_check_rolls_back(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    connection.execute("CREATE TABLE raw.events_bad AS SELECT * FROM raw.events")
    connection.execute("INSERT INTO raw.events_bad (account_id, user_id, event_ts, event_type) "
                       "VALUES ('acct_a', 'alice', '1700-01-01 00:00', 'view')")
    replace_text(shop / "models/sources.yml", "table: raw.events\n", "table: raw.events_bad\n")
    try:
        with pytest.raises(WarehouseError) as raised:
            api.deploy_project(shop)
    finally:
        connection.execute("DROP TABLE raw.events_bad")

    assert "days a calendar may have" in str(raised.value)
    assert view_definitions(connection, schema) == {}


def test_reading_missing_schema_fails(server: PostgresServer, tmp_path: Path) -> None:
    with pytest.raises(HealthlayerError) as raised:
        PostgresAdapter(server.settings("hl_never_deployed"), tmp_path, must_exist=True)

    assert "hl_never_deployed" in str(raised.value)
    assert "healthlayer deploy" in str(raised.value)


# Settings and secrets


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("port", 70000, "invalid 'port'"),
    ("port", "not-a-port", "invalid 'port'"),
    ("sslmode", "always", "invalid 'sslmode'"),
    ("schema", "Analytics", "invalid 'schema'"),
    ("connect_timeout", 0, "invalid 'connect_timeout'"),
    ("lock_timeout", -1, "invalid 'lock_timeout'"),
    ("passwd", "x", "unknown key 'passwd'"),
    ("lock_timeout", 3_000_000, "invalid 'lock_timeout'"),
    ("dbname", "healthlayer_test\x00", "invalid 'dbname'"),
    ("host", "127.0.0.1\x00", "invalid 'host'"),
    ("user", "ann\nbob", "invalid 'user'"),
])
def test_invalid_setting_is_named(key: str, value: Any, expected: str) -> None:
    with pytest.raises(HealthlayerError) as raised:
        parse_settings({"host": "127.0.0.1", key: value})

    assert expected in str(raised.value)
    assert "set " in str(raised.value) or "allowed keys" in str(raised.value)


@pytest.mark.parametrize("secret", ["Secr3t\x00tail", "Secr3t\udcfftail"])
def test_invalid_password_not_echoed(secret: str) -> None:
    with pytest.raises(HealthlayerError) as raised:
        parse_settings({"password": secret})

    assert "invalid 'password'" in str(raised.value)
    assert "Secr3t" not in str(raised.value)


def test_password_absent_from_setting_errors() -> None:
    secret = 12345678987654321

    with pytest.raises(HealthlayerError) as raised:
        parse_settings({"password": secret, "port": "x"})

    assert "invalid 'password'" in str(raised.value)
    assert str(secret) not in str(raised.value)


def test_password_absent_from_errors_and_logs(server: PostgresServer, tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    secret = "hl-wrong-password-" + uuid.uuid4().hex
    settings = {**server.settings("analytics"), "password": secret}
    caplog.set_level(logging.DEBUG)

    with pytest.raises(WarehouseError) as raised:
        PostgresAdapter(settings, tmp_path)

    assert "password authentication failed" in str(raised.value)
    assert secret not in str(raised.value)
    assert secret not in repr(parse_settings(settings))
    assert secret not in caplog.text


def test_connected_adapter_hides_password(server: PostgresServer, tmp_path: Path) -> None:
    settings = server.settings("analytics")
    with PostgresAdapter(settings, tmp_path) as adapter:
        assert server.password not in repr(adapter.config)
        assert server.password not in repr(adapter.settings)
        with pytest.raises(WarehouseError) as raised:
            adapter.execute(f"SELECT '{server.password}'::integer")

    assert server.password not in str(raised.value)


def set_env_password_target(project: Path, server: PostgresServer, schema: str) -> None:
    """Point the project at the server with the password read from HEALTHLAYER_TEST_PG_PASSWORD."""
    set_target(project, "postgres", {**server.settings(schema), "password": PASSWORD_PLACEHOLDER})
    replace_text(project / "healthlayer.yml", PASSWORD_PLACEHOLDER,
                 "\"{{ env_var('HEALTHLAYER_TEST_PG_PASSWORD') }}\"")


def test_cli_commands_with_env_password(shop: Path, server: PostgresServer, schema: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    set_env_password_target(shop, server, schema)
    monkeypatch.setenv("HEALTHLAYER_TEST_PG_PASSWORD", server.password)

    result = CliRunner().invoke(cli.cli, ["deploy", "--project", str(shop)])

    assert result.exit_code == 0, result.output
    assert f"to schema '{schema}'" in result.output
    assert "account_health" in result.output
    assert server.password not in result.output
    summary = CliRunner().invoke(cli.cli, ["summary", "--project", str(shop)])
    assert summary.exit_code == 0, summary.output
    assert "Stickiness on the last day of data" in summary.output
    query = CliRunner().invoke(cli.cli, ["query", "--project", str(shop), "--format", "json",
                                         f"SELECT COUNT(*) > 0 AS deployed FROM {schema}.alerts"])
    assert query.exit_code == 0, query.output
    assert '"deployed": true' in query.output


def test_cli_deploy_wrong_password_hidden(shop: Path, server: PostgresServer, schema: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "hl-wrong-" + uuid.uuid4().hex
    set_env_password_target(shop, server, schema)
    monkeypatch.setenv("HEALTHLAYER_TEST_PG_PASSWORD", secret)

    result = CliRunner().invoke(cli.cli, ["-vv", "deploy", "--project", str(shop)])

    assert result.exit_code != 0
    assert "password authentication failed" in result.output + str(result.exception)
    assert secret not in result.output
    assert secret not in str(result.exception)


# Introspection


def test_timestamp_types_by_column_type(server: PostgresServer, connection: psycopg.Connection[Any],
                                        tmp_path: Path) -> None:
    connection.execute("CREATE TABLE IF NOT EXISTS raw.stamps (aware timestamptz, naive timestamp, day date, label text)")
    sources = {name: ("raw.stamps", name) for name in ("aware", "naive", "day")}

    with PostgresAdapter(server.settings("analytics"), tmp_path) as adapter:
        types = adapter.timestamp_types(sources)
        with pytest.raises(WarehouseError) as raised:
            adapter.timestamp_types({"labels": ("raw.stamps", "label")})

    assert types == {"aware": True, "naive": False, "day": False}
    assert "type text, not a timestamp" in str(raised.value)


def test_fetch_binds_question_marks(server: PostgresServer, tmp_path: Path) -> None:
    with PostgresAdapter(server.settings("analytics"), tmp_path) as adapter:
        columns, rows = adapter.fetch("SELECT ? AS value, '?%' AS text -- why?\n", ["a"])

    assert columns == ["value", "text"]
    assert rows == [("a", "?%")]
    assert qmark_to_format("SELECT \"a?\" FROM t WHERE x = ? AND y LIKE 'b''?%'") == \
        "SELECT \"a?\" FROM t WHERE x = %s AND y LIKE 'b''?%%'"


# Dialect gaps, each run on the server


def evaluate(connection: psycopg.Connection[Any], expression: str, values: str, columns: str) -> list[Any]:
    """Return the values of a definition expression rendered for PostgreSQL over the rows of a VALUES list."""
    parsed = parse_expression(expression, set(columns.split(", ")), "value")
    rendered = prepare(exp.select(sql.alias(parsed, "result"))).sql(dialect="postgres")
    rows = connection.execute(f"{rendered} FROM (VALUES {values}) AS t({columns})").fetchall()
    return [row[0] for row in rows]


def test_round_double_ties_away_from_zero(connection: psycopg.Connection[Any]) -> None:
    values = "(2.5::double precision), (-2.5), (0.125), (7.0)"

    assert evaluate(connection, "round(x)", values, "x") == [3.0, -3.0, 0.0, 7.0]
    assert evaluate(connection, "round(x, 2)", values, "x") == [2.5, -2.5, 0.13, 7.0]


def test_modulo_of_doubles(connection: psycopg.Connection[Any]) -> None:
    values = "(5.5::double precision, 2::bigint), (-7.0, 3)"

    assert [float(value) for value in evaluate(connection, "x % n", values, "x, n")] == [1.5, -1.0]


def test_integer_division_is_exact(connection: psycopg.Connection[Any]) -> None:
    assert evaluate(connection, "x / n", "(3::bigint, 4::bigint), (7, 2)", "x, n") == [0.75, 3.5]


def test_local_date_of_naive_and_aware(connection: psycopg.Connection[Any]) -> None:
    """A naive timestamp is read as UTC and an aware one converted; neither follows the session time zone."""
    naive = local_date(sql.column("naive"), "Europe/Berlin", has_time_zone=False)
    aware = local_date(sql.column("aware"), "Europe/Berlin", has_time_zone=True)
    query = exp.select(naive, aware).from_("stamps").sql(dialect="postgres")
    connection.execute("SET TIME ZONE 'America/Los_Angeles'")
    connection.execute("CREATE TEMPORARY TABLE stamps (naive timestamp, aware timestamptz)")
    connection.execute("INSERT INTO stamps VALUES ('2024-03-30 23:30', '2024-03-30 23:30+00'), "
                       "('2024-10-27 00:30', '2024-10-27 00:30+00'), ('2024-06-01 21:59', '2024-06-01 21:59+00')")

    rows = connection.execute(query).fetchall()

    assert rows == [(date(2024, 3, 31), date(2024, 3, 31)), (date(2024, 10, 27), date(2024, 10, 27)),
                    (date(2024, 6, 1), date(2024, 6, 1))]


def test_day_columns_are_dates(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    """Date plus interval is a timestamp on PostgreSQL, so every day column must be cast back to date."""
    api.deploy_project(shop)

    assert view_columns(connection, schema, CALENDAR)["calendar_date"] == "date"
    assert view_columns(connection, schema, "tier_transitions")["transition_date"] == "date"
    assert view_columns(connection, schema, "alerts")["detected_date"] == "date"
    assert view_columns(connection, schema, "alerts")["respond_by"] == "timestamp without time zone"
    assert view_columns(connection, schema, "account_health")["as_of_date"] == "date"


def test_compiled_sql_avoids_traps(shop: Path) -> None:
    project, _ = api.load(shop)
    statements = "\n".join(statement for _, statement in api.compile_project(project, "postgres", "analytics"))

    assert "DATE_TRUNC" not in statements.upper()
    assert "ROUND(" not in statements.upper()
    calendar = dict(api.compile_project(project, "postgres", "analytics"))[CALENDAR]
    assert calendar.rstrip().endswith("OFFSET 0")


def test_long_names_rejected(server: PostgresServer, tmp_path: Path) -> None:
    long_name = "m" * (MAX_IDENTIFIER_BYTES + 1)
    query = exp.select(sql.alias(sql.number(1), long_name))
    relation = Relation("short_view", query, "output", "A view with a long column name.", (long_name,))

    with pytest.raises(UnsupportedError) as rendered:
        prepare(query.copy())
    with PostgresAdapter(server.settings("hl_long_names"), tmp_path) as adapter:
        with pytest.raises(UnsupportedError) as deployed:
            adapter.deploy(Plan("shop", "hl_long_names", [relation]))
        _, schemas = adapter.fetch("SELECT 1 FROM pg_namespace WHERE nspname = 'hl_long_names'")

    assert long_name in str(rendered.value)
    assert f"{MAX_IDENTIFIER_BYTES + 1} bytes" in str(deployed.value)
    assert schemas == []


def test_long_health_score_name_rejected(shop: Path, connection: psycopg.Connection[Any], schema: str) -> None:
    """A 63-character score name is valid, but the internal views named after it are longer."""
    long_name = "account_health_" + "x" * (MAX_IDENTIFIER_BYTES - len("account_health_"))
    replace_text(shop / "models/health.yml", "  - name: account_health\n", f"  - name: {long_name}\n")
    (shop / ACCOUNT_ALERTS).unlink()
    project, _ = api.load(shop)

    with pytest.raises(DefinitionError) as compiled:
        api.compile_project(project, "postgres", "analytics")
    with pytest.raises(DefinitionError) as deployed:
        api.deploy_project(shop)

    assert {issue.code for issue in compiled.value.issues} == {"name-too-long"}
    assert any(f"_hl_{long_name}" in issue.message for issue in compiled.value.issues)
    assert {issue.code for issue in deployed.value.issues} == {"name-too-long"}
    assert view_definitions(connection, schema) == {}


def test_name_at_limit_is_kept(connection: psycopg.Connection[Any]) -> None:
    name = "é" * (MAX_IDENTIFIER_BYTES // 2)
    query = prepare(exp.select(sql.alias(sql.number(1), name, quoted=True))).sql(dialect="postgres")

    cursor = connection.execute(query)

    assert cursor.description is not None
    assert cursor.description[0].name == name
