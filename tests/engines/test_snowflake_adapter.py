"""The Snowflake adapter against the fakesnow emulator, on copies of tests/fixtures/shop.

fakesnow 0.12.1 transpiles each statement to DuckDB and runs it there. These tests therefore prove
the adapter's statements, catalog reads, ownership rules and failure handling, and that the
views compute on DuckDB after transpiling. They do not prove Snowflake's own semantics: session
parameters (TIMEZONE, WEEK_START, TIMESTAMP_TYPE_MAPPING, DATE_OUTPUT_FORMAT) are not emulated,
ALTER SCHEMA ... SWAP WITH and RENAME TO are not supported (so the atomicity of switch: swap is
not shown here), and permissions, COPY GRANTS, query tags and view comments are not emulated.
test_snowflake_live.py runs the swap path and the session-parameter checks against a real account.
"""

from __future__ import annotations

import logging
import re
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlglot import exp

from engines.snowflake_engine import SnowflakeEngine
from healthlayer import api, cli
from healthlayer.adapters.snowflake import MANIFEST, SnowflakeAdapter
from healthlayer.compiler.plan import Relation, build_plan
from healthlayer.compiler.render import render_create_view, render_query
from healthlayer.errors import HealthlayerError, OwnershipError, UnsupportedError, WarehouseError

from conftest import ACCOUNTS, EVENT_COLUMNS, SHOP, _event_rows
from engines.harness import deploy_rows_and_compare, set_target
from healthlayer.compiler.expressions import parse_expression
from reference.builders import definitions, event
from reference.cases import EXPRESSION_AMOUNTS, EXPRESSION_AREAS

PASSWORD = "emulator-password"
OUTPUT_VIEWS = {"stickiness_daily", "stickiness_daily_by_account", "tier_mix_daily", "engagement_tiers_daily",
                "tier_transitions", "alerts", "account_health", "account_health_explanations"}


def shop_tables() -> dict[str, pa.Table]:
    """Return the raw tables of the shop fixture, with the rows tests/conftest.py creates on DuckDB."""
    events = pa.Table.from_pylist([dict(zip(EVENT_COLUMNS, row)) for row in _event_rows()])
    accounts = pa.Table.from_pylist([{"account_id": account, "seats": float(seats), "segment": segment}
                                     for account, _, _, seats, segment in ACCOUNTS])
    nps = pa.Table.from_pylist([
        {"account_id": "acct_a", "responded_at": datetime(2024, 3, 11, 9, tzinfo=timezone.utc), "score": 9.0},
        {"account_id": "acct_a", "responded_at": datetime(2024, 4, 10, 9, tzinfo=timezone.utc), "score": 7.0},
        {"account_id": "acct_b", "responded_at": datetime(2024, 3, 21, 15, tzinfo=timezone.utc), "score": 4.0},
    ])
    return {"events": events, "accounts": accounts, "nps": nps}


@pytest.fixture(scope="module")
def engine(snowflake_engine: SnowflakeEngine) -> SnowflakeEngine:
    """Return the emulator with the shop's raw tables in schema raw."""
    snowflake_engine.load("raw", shop_tables())
    return snowflake_engine


_schema_numbers = iter(range(1, 1000))


@pytest.fixture
def schema(engine: SnowflakeEngine) -> str:
    """Return a schema name that no other test of the session uses."""
    return f"shop_{next(_schema_numbers)}"


@pytest.fixture
def project(tmp_path: Path, engine: SnowflakeEngine, schema: str) -> Path:
    """Return a copy of the shop fixture whose default target is the emulator, in switch: replace mode."""
    destination = tmp_path / "shop"
    shutil.copytree(SHOP, destination)
    set_target(destination, "snowflake", engine.settings(schema))
    return destination


def adapter_for(engine: SnowflakeEngine, schema: str, **settings: Any) -> SnowflakeAdapter:
    return SnowflakeAdapter({**engine.settings(schema), **settings}, SHOP)


def run(engine: SnowflakeEngine, statement: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection, connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchall()


def view_definitions(engine: SnowflakeEngine, schema: str) -> dict[str, str]:
    rows = run(engine, "SELECT TABLE_NAME, VIEW_DEFINITION FROM INFORMATION_SCHEMA.VIEWS "
                       f"WHERE TABLE_SCHEMA = '{schema.upper()}'")
    return {name.lower(): definition for name, definition in rows}


def schemas(engine: SnowflakeEngine) -> set[str]:
    return {name.lower() for (name,) in run(engine, "SELECT SCHEMA_NAME FROM INFORMATION_SCHEMA.SCHEMATA")}


def row_counts(engine: SnowflakeEngine, schema: str) -> dict[str, int]:
    return {view: run(engine, f"SELECT COUNT(*) FROM {schema}.{view}")[0][0] for view in sorted(OUTPUT_VIEWS)}


def replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


# Deploy.

def test_deploy_twice_idempotent(engine: SnowflakeEngine, project: Path, schema: str):
    first = api.deploy_project(project)
    definitions = view_definitions(engine, schema)
    counts = row_counts(engine, schema)

    second = api.deploy_project(project)

    assert second.result == first.result
    assert second.result.dropped == ()
    assert view_definitions(engine, schema) == definitions
    assert row_counts(engine, schema) == counts


def test_deploy_changed_plan(engine: SnowflakeEngine, project: Path, schema: str):
    api.deploy_project(project)
    engagement = project / "models" / "engagement.yml"
    replace_text(engagement, "  - name: stickiness_daily\n    level: buyer\n", "")
    replace_text(engagement, "    ratios: [dau_mau, wau_mau]\n", "    ratios: [dau_mau]\n")

    deployment = api.deploy_project(project)

    assert deployment.result.dropped == ("stickiness_daily",)
    assert "stickiness_daily" not in view_definitions(engine, schema)
    columns = [name.lower() for (name,) in run(
        engine, "SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS "
                f"WHERE TABLE_SCHEMA = '{schema.upper()}' AND TABLE_NAME = 'STICKINESS_DAILY_BY_ACCOUNT'")]
    assert "dau_mau" in columns
    assert "wau_mau" not in columns
    assert run(engine, f"SELECT COUNT(*) FROM {schema}.stickiness_daily_by_account")[0][0] > 0


@pytest.mark.parametrize("statement", [
    "CREATE TABLE {schema}.stickiness_daily (answer INT)",
    "CREATE VIEW {schema}.stickiness_daily AS SELECT 42 AS answer",
    'CREATE VIEW {schema}."STICKINESS_DAILY" AS SELECT 42 AS answer',
])
def test_deploy_rejects_foreign_object(engine: SnowflakeEngine, project: Path, schema: str, statement: str):
    run(engine, f"CREATE SCHEMA {schema}")
    run(engine, statement.format(schema=schema))

    with pytest.raises(OwnershipError) as raised:
        api.deploy_project(project)

    assert "did not create" in str(raised.value)
    assert str(raised.value).endswith("stickiness_daily; rename or move them, or deploy to another schema "
                                      "(one project per schema)")
    assert set(view_definitions(engine, schema)) <= {"stickiness_daily"}
    assert f"{schema}_hl_staging" not in schemas(engine)


def test_replace_keeps_unrelated_objects(engine: SnowflakeEngine, project: Path, schema: str):
    run(engine, f"CREATE SCHEMA {schema}")
    run(engine, f"CREATE TABLE {schema}.notes (note VARCHAR)")

    api.deploy_project(project)
    api.deploy_project(project)

    assert run(engine, f"SELECT COUNT(*) FROM {schema}.notes") == [(0,)]


def test_swap_rejects_unrelated_objects(engine: SnowflakeEngine, schema: str):
    run(engine, f"CREATE SCHEMA {schema}")
    run(engine, f"CREATE TABLE {schema}.notes (note VARCHAR)")
    project, _ = api.load(SHOP)

    with adapter_for(engine, schema, switch="swap") as adapter, pytest.raises(OwnershipError) as raised:
        adapter.deploy(build_plan(project, schema, {"events": False, "nps": True}))

    assert "not created by a deploy of project 'shop'" in str(raised.value)
    assert run(engine, f"SELECT COUNT(*) FROM {schema}.notes") == [(0,)]


def test_swap_rejects_other_views(engine: SnowflakeEngine, project: Path, schema: str):
    api.deploy_project(project)
    run(engine, f"CREATE VIEW {schema}.my_report AS SELECT 1 AS answer")
    shop, _ = api.load(project)

    with adapter_for(engine, schema, switch="swap") as adapter, pytest.raises(OwnershipError) as raised:
        adapter.deploy(build_plan(shop, schema, {"events": False, "nps": True}))

    assert str(raised.value).startswith(f"schema {schema} contains objects that project 'shop' did not create: my_report;")
    assert run(engine, f"SELECT * FROM {schema}.my_report") == [(1,)]


def test_failed_deploy_keeps_previous_views(engine: SnowflakeEngine, project: Path, schema: str):
    api.deploy_project(project)
    definitions = view_definitions(engine, schema)
    counts = row_counts(engine, schema)
    # A declared column that raw.events does not have makes CREATE VIEW _hl_events fail in staging.
    replace_text(project / "models" / "sources.yml", "      plan: text\n", "      plan: text\n      coupon: text\n")

    with pytest.raises(WarehouseError) as raised:
        api.deploy_project(project)

    assert "COUPON" in str(raised.value).upper()
    assert view_definitions(engine, schema) == definitions
    assert row_counts(engine, schema) == counts
    assert f"{schema}_hl_staging" not in schemas(engine)


def test_leftover_staging_schema_replaced(engine: SnowflakeEngine, project: Path, schema: str):
    api.deploy_project(project)
    staging = f"{schema}_hl_staging"
    run(engine, f"CREATE SCHEMA {staging}")
    run(engine, f"CREATE VIEW {staging}.{MANIFEST} AS SELECT 'shop' AS project_name, '{MANIFEST}' AS view_name, "
                "'healthlayer: project shop: views of this project' AS owner_comment")

    api.deploy_project(project)

    assert staging not in schemas(engine)


def test_foreign_staging_schema_rejected(engine: SnowflakeEngine, project: Path, schema: str):
    staging = f"{schema}_hl_staging"
    run(engine, f"CREATE SCHEMA {staging}")
    run(engine, f"CREATE TABLE {staging}.keep_me (id INT)")

    with pytest.raises(OwnershipError) as raised:
        api.deploy_project(project)

    assert f"the staging schema {staging} exists and was not created by project 'shop' (keep_me)" in str(raised.value)
    assert run(engine, f"SELECT COUNT(*) FROM {staging}.keep_me") == [(0,)]


def test_events_out_of_range_fail_deploy(engine: SnowflakeEngine, project: Path, schema: str):
    api.deploy_project(project)
    definitions = view_definitions(engine, schema)
    run(engine, "CREATE SCHEMA IF NOT EXISTS raw_range")
    run(engine, "CREATE OR REPLACE TABLE raw_range.events AS SELECT * FROM raw.events")
    run(engine, "INSERT INTO raw_range.events (account_id, user_id, event_ts, event_type) "
                "VALUES ('acct_a', 'alice', '1700-01-01 00:00:00', 'view')")
    replace_text(project / "models" / "sources.yml", "table: raw.events", "table: raw_range.events")

    with pytest.raises(WarehouseError) as raised:
        api.deploy_project(project)

    assert "days a calendar may have" in str(raised.value)
    assert view_definitions(engine, schema) == definitions


# Identifiers and sources.

def test_unqualified_source_table_rejected():
    project, _ = api.load(SHOP)
    plan = build_plan(project, "analytics")
    events = plan.get("_hl_events")
    unqualified = events.query.copy()
    for table in unqualified.find_all(exp.Table):
        if table.name == "events":
            table.set("db", None)
    relation = Relation(events.name, unqualified, events.kind, events.description, events.columns)

    with pytest.raises(UnsupportedError) as raised:
        render_create_view(relation, "analytics", "snowflake")

    assert str(raised.value).startswith("view '_hl_events' reads table 'events' without a schema;")


def test_sql_ignores_session_parameters():
    project, _ = api.load(SHOP)
    statements = dict(api.compile_project(project, "snowflake", "analytics"))

    for name, statement in statements.items():
        # TIMESTAMP follows TIMESTAMP_TYPE_MAPPING, and CURRENT_DATE and week parts follow the session.
        assert not re.search(r"AS TIMESTAMP\)", statement), name
        assert "CURRENT_" not in statement, name
        assert "WEEK" not in statement.upper(), name
        assert "CONVERT_TIMEZONE('Europe/Berlin', event_ts)" not in statement, name
    # CAST(date AS VARCHAR) follows DATE_OUTPUT_FORMAT.
    assert "TO_CHAR(t.transition_date, 'yyyy-mm-DD')" in statements["alerts"]
    assert "CAST(t.transition_date AS VARCHAR)" not in statements["alerts"]


SNOWFLAKE_EXPRESSIONS = {
    # sqlglot 30 writes TRY_CAST as CAST for Snowflake unless type annotation shows the operand is text.
    "values": ["try_cast(area as int)", "try_cast(area as double)", "try_cast(area as decimal(5, 1))",
               "length(substring(area, 2, 2))", "case area when 'lib' then 1 when 'app' then 2 end"],
    # sqlglot 30 writes `x IS FALSE` as `NOT x` for Snowflake, which is NULL for a NULL x.
    "filters": ["(amount > 0) is not false", "(amount > 0) is true", "(amount > 0) is false",
                "try_cast(area as date) = '2024-01-05'", "cast(amount as int) = 2"],
}


@pytest.mark.parametrize("group", list(SNOWFLAKE_EXPRESSIONS))
def test_expression_gaps_on_emulator(engine: SnowflakeEngine, group: str, tmp_path: Path):
    rows = [event(0, f"u{index}", f"a{index:02d}", "commit", amount=amount, area=area)
            for index, (amount, area) in enumerate(zip(EXPRESSION_AMOUNTS, EXPRESSION_AREAS))]
    metrics = []
    for index, text in enumerate(SNOWFLAKE_EXPRESSIONS[group]):
        if group == "filters":
            metrics.append({"name": f"m{index}", "source": "events", "aggregate": "count", "filter": text, "window": 1})
        else:
            metrics.append({"name": f"m{index}", "source": "events", "aggregate": "max", "value": text, "window": 1})
    categories = [{"name": f"c_{metric['name']}", "weight": 1, "components": [
        {"name": "k", "weight": 1, "metric": metric["name"], "score": {"function": "linear", "lower": -1000, "upper": 1000}},
    ]} for metric in metrics]
    health = {"name": "account_health_daily", "population": {"source": "events"}, "normalize": True,
              "categories": categories}

    problems = deploy_rows_and_compare(engine, tmp_path / f"gaps_{group}",
                                       definitions(account_metrics=metrics, health_scores=[health]), rows)

    assert not problems, "\n".join(problems)


def test_expression_gaps_rendered():
    query = exp.select(*[parse_expression(text, {"area", "amount"}, "value", condition=False, boolean_columns=set())
                         for text in ["try_cast(area as int)", "(amount > 0) is not false", "ltrim(area)",
                                      "trim(area, 'x')"]])
    relation = Relation("probe", query, "internal", "", ("a", "b", "c", "d"))

    statement = render_query(relation, "snowflake", pretty=False)

    assert "TRY_CAST(CAST(area AS VARCHAR) AS INT)" in statement
    assert "NOT ((amount > 0) IS NOT DISTINCT FROM FALSE)" in statement
    assert "LTRIM(area)" in statement
    assert "TRIM(area, 'x')" in statement


def test_emulator_trim_drops_arguments(engine: SnowflakeEngine):
    rows = run(engine, "SELECT LENGTH(LTRIM(' Lib ')) AS l, LENGTH(TRIM('xlibx', 'x')) AS t")

    # Snowflake returns (4, 3). The Snowflake SQL keeps LTRIM and the characters, as
    # test_expression_gaps_rendered checks.
    assert rows == [(3, 5)]


def test_timestamp_types(engine: SnowflakeEngine, schema: str):
    run(engine, f"CREATE SCHEMA {schema}")
    run(engine, f"CREATE TABLE {schema}.stamps (NTZ TIMESTAMP_NTZ, TZ TIMESTAMP_TZ, LTZ TIMESTAMP_LTZ, "
                "DAY DATE, LABEL VARCHAR, EVENT_TS TIMESTAMP_NTZ)")

    with adapter_for(engine, schema) as adapter:
        types = adapter.timestamp_types({
            "ntz": (f"{schema}.stamps", "ntz"), "tz": (f"{schema}.stamps", "tz"),
            "ltz": (f"{schema}.stamps", "ltz"), "day": (f"{schema}.stamps", '"DAY"'),
            "upper": (f"{schema}.stamps", "event_ts"),
        })
        with pytest.raises(WarehouseError) as raised:
            adapter.timestamp_types({"label": (f"{schema}.stamps", "label")})

    assert types == {"ntz": False, "tz": True, "ltz": True, "day": False, "upper": False}
    assert str(raised.value).startswith("the timestamp column of source 'label' is not a timestamp or date;")


def test_missing_source_table(engine: SnowflakeEngine, schema: str):
    with adapter_for(engine, schema) as adapter, pytest.raises(WarehouseError) as raised:
        adapter.timestamp_types({"returns": ("raw.returns", "returned_at")})

    assert str(raised.value).startswith("cannot read source 'returns': ")


# Settings and secrets.

@pytest.mark.parametrize(("settings", "message"), [
    ({"user": "u"}, "invalid snowflake target settings: missing account; set it, or set connection_name to use "
                    "a connection of ~/.snowflake/connections.toml"),
    ({"account": "a", "user": "u", "schema": "Analytics"},
     "invalid snowflake target settings: schema: String should match pattern '^[a-z_][a-z0-9_]{0,254}$'"),
    ({"account": "a", "user": "u", "warehous": "w"},
     "invalid snowflake target settings: warehous: Extra inputs are not permitted"),
    ({"account": "a", "user": "u", "authenticator": "oauth"},
     "invalid snowflake target settings: authenticator: Input should be 'snowflake', 'externalbrowser' or "
     "'snowflake_jwt'"),
    ({"account": "a", "user": "u", "authenticator": "SNOWFLAKE_JWT"},
     "invalid snowflake target settings: authenticator snowflake_jwt needs private_key_file (and private_key_file_pwd if the "
     "key is encrypted)"),
    ({"account": "a", "user": "u", "switch": "rename"},
     "invalid snowflake target settings: switch: Input should be 'swap' or 'replace'"),
    ({"account": "a", "user": "u", "staging_schema": "analytics"},
     "invalid snowflake target settings: staging_schema must differ from schema"),
])
def test_settings_errors(settings: dict[str, Any], message: str):
    with pytest.raises(HealthlayerError) as raised:
        SnowflakeAdapter({**settings, "password": PASSWORD}, SHOP)

    assert str(raised.value) == message
    assert PASSWORD not in str(raised.value)


def test_secrets_absent(engine: SnowflakeEngine, project: Path, schema: str, caplog: pytest.LogCaptureFixture,
                        capsys: pytest.CaptureFixture[str]):
    caplog.set_level(logging.DEBUG)
    key_password = "key-passphrase-71c2"

    with pytest.raises(HealthlayerError) as invalid:
        SnowflakeAdapter({**engine.settings(schema), "private_key_file_pwd": key_password, "bogus": 1}, SHOP)
    with adapter_for(engine, schema, private_key_file_pwd=key_password) as adapter:
        text = repr(adapter) + repr(adapter.config) + repr(adapter.settings)
        with pytest.raises(WarehouseError) as rejected:
            adapter.fetch(f'SELECT * FROM raw."{PASSWORD}"')
    api.deploy_project(project)

    captured = capsys.readouterr()
    for secret in (PASSWORD, key_password):
        assert secret not in str(invalid.value)
        assert secret not in text
        assert secret not in str(rejected.value)
        assert secret not in caplog.text
        assert secret not in captured.out + captured.err
    assert "***" in str(rejected.value)


def test_session_parameters_passed(engine: SnowflakeEngine, schema: str, monkeypatch: pytest.MonkeyPatch):
    import snowflake.connector

    received: dict[str, Any] = {}
    connect = snowflake.connector.connect

    def recording_connect(**arguments: Any) -> Any:
        received.update(arguments)
        return connect(**arguments)

    monkeypatch.setattr(snowflake.connector, "connect", recording_connect)
    with adapter_for(engine, schema, role="analyst", warehouse="compute_wh"):
        pass

    assert received["session_parameters"] == {"TIMEZONE": "UTC", "TIMESTAMP_TYPE_MAPPING": "TIMESTAMP_NTZ",
                                              "WEEK_START": 0, "QUERY_TAG": "healthlayer:shop"}
    assert received["role"] == "analyst"
    assert received["warehouse"] == "compute_wh"
    assert received["password"] == PASSWORD


def test_connection_name_passed(engine: SnowflakeEngine, schema: str, monkeypatch: pytest.MonkeyPatch):
    import snowflake.connector

    received: dict[str, Any] = {}
    connect = snowflake.connector.connect

    def recording_connect(**arguments: Any) -> Any:
        received.update(arguments)
        arguments.pop("connection_name")
        return connect(**arguments, account="emulator", user="tester")

    monkeypatch.setattr(snowflake.connector, "connect", recording_connect)
    with SnowflakeAdapter({"connection_name": "analytics_dev", "database": "healthlayer_test", "schema": schema},
                          SHOP):
        pass

    assert received["connection_name"] == "analytics_dev"
    assert "account" not in received
    assert "password" not in received


# Command line.

def test_cli_deploy_creates_views(engine: SnowflakeEngine, project: Path, schema: str,
                                  monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr(sys, "argv", ["healthlayer", "deploy", "--project", str(project)])

    with pytest.raises(SystemExit) as exited:
        cli.main()

    out, err = capsys.readouterr()
    assert exited.value.code == 0, err
    assert out.startswith(f"Deployed {len(OUTPUT_VIEWS)} views to schema '{schema}'")
    definitions = view_definitions(engine, schema)
    assert set(definitions) >= OUTPUT_VIEWS | {MANIFEST}
    assert all(count > 0 for count in row_counts(engine, schema).values())
    assert f"{schema}_hl_staging" not in schemas(engine)


def test_views_read_each_other_unqualified(engine: SnowflakeEngine, project: Path, schema: str):
    api.deploy_project(project)

    definitions = view_definitions(engine, schema)

    for name, definition in definitions.items():
        body = definition.split(" AS ", 1)[1].upper()
        assert f"{schema.upper()}." not in body, name
    assert "RAW.EVENTS" in definitions["_hl_events"].upper()
    manifest = run(engine, f"SELECT view_name FROM {schema}.{MANIFEST}")
    assert {name for (name,) in manifest} == set(definitions)


# Emulator gaps. Each test fails when fakesnow closes the gap, so that the workaround can go.

def test_emulator_lacks_schema_swap(engine: SnowflakeEngine, schema: str):
    run(engine, f"CREATE SCHEMA {schema}")
    run(engine, f"CREATE SCHEMA {schema}_other")

    with pytest.raises(Exception) as raised:
        run(engine, f"ALTER SCHEMA {schema}_other SWAP WITH {schema}")

    assert "swap" in str(raised.value).lower()


def test_swap_path_failure_keeps_views(engine: SnowflakeEngine, project: Path, schema: str):
    api.deploy_project(project)
    counts = row_counts(engine, schema)
    shop, _ = api.load(project)

    # The emulator rejects SHOW PIPES IN SCHEMA, one of the checks before a swap, and the swap itself.
    with adapter_for(engine, schema, switch="swap") as adapter, pytest.raises(WarehouseError) as raised:
        adapter.deploy(build_plan(shop, schema, {"events": False, "nps": True}))

    assert str(raised.value).startswith("Snowflake rejected a statement: ")
    assert row_counts(engine, schema) == counts
    assert f"{schema}_hl_staging" not in schemas(engine)


def test_emulator_lacks_view_comments(engine: SnowflakeEngine, schema: str):
    run(engine, f"CREATE SCHEMA {schema}")
    run(engine, f"CREATE VIEW {schema}.commented COMMENT = 'healthlayer: mark' AS SELECT 1 AS answer")

    comments = run(engine, f"SELECT COMMENT FROM INFORMATION_SCHEMA.VIEWS WHERE TABLE_SCHEMA = '{schema.upper()}'")

    # The manifest view records ownership because this comment reads back as NULL.
    assert comments == [(None,)]
