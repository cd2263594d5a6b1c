"""`healthlayer validate --warehouse` on every engine: sources, columns, types and query plans.

Each engine of the session gets one schema of raw tables (events and accounts), loaded once by
`raw_schema`. Every test writes a small project that reads them, changes one line of its YAML
where the case needs it, and checks the issues that api.check_warehouse returns: their codes,
files, lines, key paths and the engine's own words.

The Snowflake tests run on the fakesnow emulator. It runs DESCRIBE and the connector's
describe-only queries on DuckDB, so the source and column checks go through the adapter's real
code there. It cannot run Snowflake's EXPLAIN: a successful EXPLAIN makes
fakesnow fail while it reads the result, and `EXPLAIN USING TEXT`, which the adapter sends, is a
syntax error there. The tests therefore check how that failure is reported, and the query-plan
check is unverified against Snowflake itself.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from engines.engine import Engine
from healthlayer import api, cli
from healthlayer.adapters import registry
from healthlayer.adapters.base import Adapter
from healthlayer.adapters.duckdb import DuckDBAdapter
from healthlayer.adapters.column_types import column_type
from healthlayer.definitions.issues import Issue

RAW_SCHEMA = "raw_warehouse_check"
FIRST_DAY = datetime(2024, 5, 1, tzinfo=timezone.utc)

SOURCES = """\
sources:
  - name: events
    table: {raw}.events
    account: account_id
    user: user_id
    timestamp: event_ts
    event_name: event_type
    columns:
      plan: text
      amount: number
      coupon: text
      is_trial: boolean

  - name: accounts
    table: {raw}.accounts
    account: account_id
    columns:
      seats: integer
      segment: text
"""

DEFINITIONS = """\
engagement:
  source: events
  tier_window: 7 days
  tiers:
    - {name: browser, events: [view]}
    - {name: buyer, events: [checkout], filter: "amount > 0"}

stickiness:
  - {name: stickiness_daily, level: browser}

tier_mix:
  - {name: tier_mix_daily, by: [account], window: 14}

alerts:
  - {name: buyer_drop, type: tier_drop, from: buyer, to: browser, respond_within: 2 days}

account_metrics:
  - name: revenue_30d
    source: events
    aggregate: sum
    value: amount
    filter: "event_type = 'checkout'"
    window: 30 days

health_scores:
  - name: account_health
    population: {source: events, filter: "plan <> 'internal'"}
    categories:
      - name: value
        weight: 100
        components:
          - {name: revenue, weight: 60, metric: revenue_30d, score: {function: percentile}}
          - {name: seats, weight: 40, attribute: accounts.seats, score: {function: linear, lower: 0, upper: 20}}
"""

# A filter of the revenue metric that each engine rejects when it plans the query, and words of
# its message. DuckDB, PostgreSQL and ClickHouse do not compare text with a number without a cast.
# The filters compare the event_type column, whose type is not declared, because validate already
# rejects a column declared text compared with a number. ClickHouse finds the mistake at planning
# only for a column that is not Nullable, such as event_type (see test_clickhouse_nullable_gap).
# Spark casts text to a number implicitly, but it does not compare a boolean with a number.
REJECTED_FILTERS = {
    "duckdb": ("event_type > 0", "Cannot compare values of type VARCHAR"),
    "postgres": ("event_type > 0", "operator does not exist: text > integer"),
    "clickhouse": ("event_type > 0", "NO_COMMON_TYPE"),
    "spark": ("is_trial = 1", "DATATYPE_MISMATCH"),
}


def event_rows() -> pa.Table:
    """Return 20 days of events of three accounts: views, checkouts with amounts, one internal account."""
    rows = []
    accounts = [("acct_a", "pro", ["ann", "abe"]), ("acct_b", "basic", ["bob"]), ("acct_c", "internal", ["cid"])]
    for account, plan, users in accounts:
        for user_index, user in enumerate(users):
            for day in range(0, 20, 1 + user_index):
                stamp = FIRST_DAY + timedelta(days=day, hours=9 + user_index)
                rows.append({"account_id": account, "user_id": user, "event_ts": stamp, "event_type": "view",
                             "plan": plan, "amount": None, "coupon": None, "is_trial": plan == "basic"})
                if day % 3 == 0:
                    rows.append({"account_id": account, "user_id": user, "event_ts": stamp + timedelta(minutes=5),
                                 "event_type": "checkout", "plan": plan, "amount": 10.0 + day, "coupon": "10",
                                 "is_trial": plan == "basic"})
    schema = pa.schema([("account_id", pa.string()), ("user_id", pa.string()),
                        ("event_ts", pa.timestamp("us", tz="UTC")), ("event_type", pa.string()),
                        ("plan", pa.string()), ("amount", pa.float64()), ("coupon", pa.string()),
                        ("is_trial", pa.bool_())])
    return pa.Table.from_pylist(rows, schema=schema)


def account_rows() -> pa.Table:
    """Return one row per account; `Region` has a capital letter, to test how each engine matches case."""
    schema = pa.schema([("account_id", pa.string()), ("seats", pa.int64()), ("segment", pa.string()),
                        ("Region", pa.string())])
    return pa.Table.from_pylist([
        {"account_id": "acct_a", "seats": 12, "segment": "enterprise", "Region": "emea"},
        {"account_id": "acct_b", "seats": 3, "segment": "smb", "Region": "amer"},
        {"account_id": "acct_c", "seats": 1, "segment": "internal", "Region": "emea"},
    ], schema=schema)


@pytest.fixture(scope="module")
def loaded_engines() -> set[str]:
    return set()


@pytest.fixture
def raw_schema(engine: Engine, loaded_engines: set[str]) -> str:
    """Load the raw tables into the engine once per module and return their schema."""
    if engine.adapter_type not in loaded_engines:
        engine.load(RAW_SCHEMA, {"events": event_rows(), "accounts": account_rows()})
        loaded_engines.add(engine.adapter_type)
    return RAW_SCHEMA


@pytest.fixture
def raw_schema_duckdb(duckdb_engine: Engine, loaded_engines: set[str]) -> str:
    """Load the raw tables into DuckDB once per module, for the tests that run on DuckDB only."""
    if "duckdb" not in loaded_engines:
        duckdb_engine.load(RAW_SCHEMA, {"events": event_rows(), "accounts": account_rows()})
        loaded_engines.add("duckdb")
    return RAW_SCHEMA


def write_project(folder: Path, engine: Engine, raw: str, target_schema: str = "hl_check",
                  settings: dict[str, Any] | None = None) -> Path:
    """Write the project into `folder`, with one target `engine` that deploys into `target_schema`."""
    (folder / "models").mkdir(parents=True)
    config = {"name": "check", "time_zone": "Europe/Berlin", "paths": ["models"], "default_target": "engine",
              "targets": {"engine": {"type": engine.adapter_type, **(settings or engine.settings(target_schema))}},
              # The lint warnings of these small definitions are not what the tests check.
              "lint": {"ignore": {"passive-activity": "Views count as activity in this test.",
                                  "missing-trend": "The score tests the check, not scoring."}}}
    (folder / "healthlayer.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (folder / "models" / "sources.yml").write_text(SOURCES.format(raw=raw), encoding="utf-8")
    (folder / "models" / "definitions.yml").write_text(DEFINITIONS, encoding="utf-8")
    return folder


def replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(path: Path, text: str) -> int:
    """Return the 1-based line of the only line of a file that contains `text`."""
    lines = [number for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if text in line]
    assert len(lines) == 1, f"{text!r} is on lines {lines} of {path}"
    return lines[0]


def errors(issues: list[Issue]) -> list[Issue]:
    return [issue for issue in issues if issue.severity == "error"]


def only(issues: list[Issue], code: str) -> Issue:
    """Return the one issue of a code, failing with every issue listed when there is not exactly one."""
    found = [issue for issue in issues if issue.code == code]
    assert len(found) == 1, "\n".join(issue.format() for issue in issues)
    return found[0]


def emulator_explain_issues(issues: list[Issue]) -> list[Issue]:
    """Return the issues that fakesnow causes because it cannot run EXPLAIN USING TEXT."""
    return [issue for issue in issues if issue.code == "explain-failed" and "syntax error" in issue.message]


# Catalog snapshots, read with each engine's own client rather than through the adapter.

def catalog(engine: Engine) -> set[tuple[str, ...]]:
    """Return every schema and every (schema, table or view) of the engine, system catalogs left out."""
    kind = engine.adapter_type
    if kind == "duckdb":
        with duckdb.connect(str(engine.database), read_only=True) as connection:  # type: ignore[attr-defined]
            rows = connection.execute("SELECT schema_name, NULL FROM information_schema.schemata UNION ALL "
                                      "SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    elif kind == "postgres":
        with engine.server.connect() as connection:  # type: ignore[attr-defined]
            rows = connection.execute(
                "SELECT nspname, NULL FROM pg_catalog.pg_namespace UNION ALL "
                "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace").fetchall()
    elif kind == "snowflake":
        with engine.connect() as connection, connection.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute("SELECT SCHEMA_NAME, NULL FROM INFORMATION_SCHEMA.SCHEMATA UNION ALL "
                           "SELECT TABLE_SCHEMA, TABLE_NAME FROM INFORMATION_SCHEMA.TABLES")
            rows = cursor.fetchall()
    elif kind == "spark":
        session = engine.session  # type: ignore[attr-defined]
        rows = [(database.name, None) for database in session.catalog.listDatabases()]
        rows += [(database, table.name) for database, _ in list(rows)
                 for table in session.catalog.listTables(database)]
    else:
        from healthlayer.adapters.clickhouse import ChdbClient

        client = ChdbClient(engine.folder)  # type: ignore[attr-defined]
        try:
            table = client.query_arrow("SELECT database, name FROM system.tables UNION ALL "
                                       "SELECT name, '' FROM system.databases")
        finally:
            client.close()
        rows = list(zip(table.column(0).to_pylist(), table.column(1).to_pylist()))
    return {tuple(str(part) for part in row if part not in (None, "")) for row in rows}


# A clean project.

def test_check_clean_project(engine: Engine, raw_schema: str, tmp_path: Path):
    project = write_project(tmp_path / "clean", engine, raw_schema)

    issues = api.check_warehouse(project, "engine")

    if engine.adapter_type == "snowflake":
        # Only the emulator's EXPLAIN failure: once, for the first view; the views built on it are skipped.
        failed = emulator_explain_issues(issues)
        assert [issue.code for issue in issues] == ["explain-failed"]
        assert len(failed) == 1
        assert "'_hl_events'" in failed[0].message
        assert failed[0].location.key_path == ("engagement",)
        return
    assert issues == []


def test_check_creates_nothing(engine: Engine, raw_schema: str, tmp_path: Path):
    project = write_project(tmp_path / "unchanged", engine, raw_schema, target_schema="hl_never_created")
    rejected = REJECTED_FILTERS.get(engine.adapter_type, ("event_type > 0", ""))[0]
    replace_text(project / "models" / "definitions.yml", "filter: \"event_type = 'checkout'\"",
                 f'filter: "{rejected}"')
    before = catalog(engine)

    issues = api.check_warehouse(project, "engine")

    assert errors(issues), "the check should have planned a view that the engine rejects"
    after = catalog(engine)
    assert after - before == set()
    assert before - after == set()
    assert not any("hl_never_created" in part.lower() for entry in after for part in entry)


# Sources and columns.

def test_check_missing_table(engine: Engine, raw_schema: str, tmp_path: Path):
    project = write_project(tmp_path / "missing_table", engine, raw_schema)
    sources = project / "models" / "sources.yml"
    replace_text(sources, f"table: {raw_schema}.accounts", f"table: {raw_schema}.acounts")

    issues = api.check_warehouse(project, "engine")

    issue = only(issues, "source-not-found")
    assert issue.severity == "error"
    assert issue.location.file == sources
    assert issue.location.line == line_of(sources, ".acounts")
    assert issue.location.column == 5
    assert issue.location.key_path == ("sources", 1, "table")
    assert f"table {raw_schema}.acounts of source 'accounts' was not found" in issue.message
    assert "acounts" in issue.message.split(": ", 1)[1].lower()
    assert "schema or catalog" in (issue.hint or "")
    # The views that read the accounts (the health score) are not planned, so the missing table is reported once.
    assert [issue.code for issue in issues if issue not in emulator_explain_issues(issues)] == ["source-not-found"]


def test_check_missing_schema(engine: Engine, raw_schema: str, tmp_path: Path):
    project = write_project(tmp_path / "missing_schema", engine, raw_schema)
    replace_text(project / "models" / "sources.yml", f"table: {raw_schema}.events", "table: no_such_schema.events")

    issues = api.check_warehouse(project, "engine")

    issue = only(issues, "source-not-found")
    assert issue.location.key_path == ("sources", 0, "table")
    assert "no_such_schema" in issue.message.lower()
    # Every view reads the events, so none is planned.
    assert not [issue for issue in issues if issue.code == "explain-failed"]


def test_check_missing_column(engine: Engine, raw_schema: str, tmp_path: Path):
    project = write_project(tmp_path / "missing_column", engine, raw_schema)
    sources = project / "models" / "sources.yml"
    replace_text(sources, "      segment: text\n", "      segment: text\n      churn_risk: number\n")

    issues = api.check_warehouse(project, "engine")

    issue = only(issues, "column-not-found")
    assert issue.location.file == sources
    assert issue.location.line == line_of(sources, "churn_risk")
    assert issue.location.column == 7
    assert issue.location.key_path == ("sources", 1, "columns", "churn_risk")
    assert issue.message == (f"column 'churn_risk' of source 'accounts' was not found in the table "
                             f"{raw_schema}.accounts")
    assert issue.hint is not None and issue.hint.startswith("Valid names: ")
    assert "'seats'" in issue.hint


def test_check_missing_valid_from(duckdb_engine: Engine, raw_schema_duckdb: str, tmp_path: Path):
    project = write_project(tmp_path / "missing_valid_from", duckdb_engine, raw_schema_duckdb)
    sources = project / "models" / "sources.yml"
    replace_text(sources, f"    table: {raw_schema_duckdb}.accounts\n",
                 f"    table: {raw_schema_duckdb}.accounts\n    valid_from: changed_on\n")

    issues = api.check_warehouse(project, "engine")

    issue = only(issues, "column-not-found")
    assert issue.location.line == line_of(sources, "changed_on")
    assert issue.location.key_path == ("sources", 1, "valid_from")
    assert issue.message == (f"column 'changed_on' of source 'accounts' was not found in the table "
                             f"{raw_schema_duckdb}.accounts")


def test_check_misspelled_column(engine: Engine, raw_schema: str, tmp_path: Path):
    project = write_project(tmp_path / "misspelled", engine, raw_schema)
    sources = project / "models" / "sources.yml"
    replace_text(sources, "    user: user_id\n", "    user: usr_id\n")

    issues = api.check_warehouse(project, "engine")

    issue = only(issues, "column-not-found")
    assert issue.location.line == line_of(sources, "usr_id")
    assert issue.location.key_path == ("sources", 0, "user")
    assert issue.message == f"column 'usr_id' of source 'events' was not found in the table {raw_schema}.events"
    assert issue.hint == "Did you mean 'user_id'?"
    # The events cannot be read, so no view is planned and nothing else is reported.
    assert [issue.code for issue in issues] == ["column-not-found"]


# How each engine matches the case of a declared name with `Region`, a column with a capital letter:
# the declared name, and per engine None when it matches, else the spelling that the hint gives.
CASE_EXPECTATIONS = {
    "region": {"duckdb": None, "spark": None, "snowflake": None, "postgres": "Region", "clickhouse": "Region"},
    "Region": {"duckdb": None, "spark": None, "snowflake": "region", "postgres": None, "clickhouse": None},
}


@pytest.mark.parametrize("declared", sorted(CASE_EXPECTATIONS))
def test_check_column_case(engine: Engine, raw_schema: str, tmp_path: Path, declared: str):
    project = write_project(tmp_path / f"case_{declared}", engine, raw_schema)
    sources = project / "models" / "sources.yml"
    replace_text(sources, "      segment: text\n", f"      segment: text\n      {declared}: text\n")

    issues = api.check_warehouse(project, "engine")

    expected = CASE_EXPECTATIONS[declared][engine.adapter_type]
    found = [issue for issue in issues if issue.code == "column-not-found"]
    if expected is None:
        assert found == []
        return
    assert len(found) == 1
    issue = found[0]
    assert issue.location.key_path == ("sources", 1, "columns", declared)
    assert "differs only in case" in issue.message
    assert (issue.hint or "").startswith(f"Write '{expected}'.")


def test_check_wrong_types(engine: Engine, raw_schema: str, tmp_path: Path):
    project = write_project(tmp_path / "types", engine, raw_schema)
    sources = project / "models" / "sources.yml"
    # coupon, unlike plan, is compared with no literal, so validate leaves its declared type to this check.
    replace_text(sources, "      coupon: text\n", "      coupon: number\n      event_ts: timestamp\n")
    replace_text(sources, "      amount: number\n", "      amount: integer\n")

    issues = api.check_warehouse(project, "engine")

    mismatches = {issue.location.key_path[-1]: issue for issue in issues if issue.code == "column-type-mismatch"}
    assert sorted(mismatches) == ["amount", "coupon", "event_ts"]
    coupon = mismatches["coupon"]
    assert coupon.severity == "error"
    assert coupon.location.line == line_of(sources, "coupon: number")
    assert coupon.location.key_path == ("sources", 0, "columns", "coupon")
    assert "is declared number, but it has type" in coupon.message
    assert "(text)" in coupon.message
    assert (coupon.hint or "").startswith("Declare it as text")
    amount = mismatches["amount"]
    assert amount.severity == "error"
    assert "(a floating-point number)" in amount.message
    assert (amount.hint or "").startswith("Declare it as number")
    # The events are loaded with a time zone on every engine, so `timestamp` is only a warning.
    event_ts = mismatches["event_ts"]
    assert event_ts.severity == "warning"
    assert "(a timestamp with time zone)" in event_ts.message
    assert (event_ts.hint or "").startswith("Declare it as timestamptz")


def test_check_integer_decimal(engine: Engine, raw_schema: str, tmp_path: Path):
    # seats is an Arrow int64: BIGINT, NUMBER(38,0) on Snowflake, Int64 on ClickHouse; all are integers.
    project = write_project(tmp_path / "integer", engine, raw_schema)

    issues = api.check_warehouse(project, "engine")

    assert [issue for issue in issues if issue.code == "column-type-mismatch"] == []


def test_check_timestamp_not_time(engine: Engine, raw_schema: str, tmp_path: Path):
    project = write_project(tmp_path / "timestamp_role", engine, raw_schema)
    sources = project / "models" / "sources.yml"
    replace_text(sources, "    timestamp: event_ts\n", "    timestamp: event_type\n")

    issues = api.check_warehouse(project, "engine")

    issue = only(issues, "column-type-mismatch")
    assert issue.location.key_path == ("sources", 0, "timestamp")
    assert issue.location.line == line_of(sources, "timestamp: event_type")
    assert "must be a date or a timestamp" in issue.message
    assert [issue.code for issue in issues] == ["column-type-mismatch"]


def test_check_rejected_filter(engine: Engine, raw_schema: str, tmp_path: Path):
    if engine.adapter_type == "snowflake":
        pytest.skip("fakesnow cannot run EXPLAIN, so it cannot reject a query at planning")
    project = write_project(tmp_path / "rejected", engine, raw_schema)
    definitions = project / "models" / "definitions.yml"
    rejected, words = REJECTED_FILTERS[engine.adapter_type]
    replace_text(definitions, "filter: \"event_type = 'checkout'\"", f'filter: "{rejected}"')

    issues = api.check_warehouse(project, "engine")

    issue = only(issues, "explain-failed")
    assert issue.severity == "error"
    assert issue.location.file == definitions
    assert issue.location.line == line_of(definitions, "- name: revenue_30d")
    assert issue.location.key_path == ("account_metrics", 0)
    assert "cannot plan view '_hl_account_health_metric_0'" in issue.message
    assert words in issue.message
    # One line of the engine's message, without the query plan or SQL excerpt that follows it.
    assert "\n" not in issue.message
    assert f"healthlayer compile --dialect {engine.adapter_type}" in (issue.hint or "")
    # The views built on the metric are not planned, and no other problem exists.
    assert [issue.code for issue in issues] == ["explain-failed"]


def test_clickhouse_nullable_gap(clickhouse_engine: Engine, tmp_path: Path, loaded_engines: set[str]):
    """ClickHouse plans `nullif(coupon, '') > 0`, a Nullable(String), and fails only when it runs the query.

    The check therefore misses this mistake on ClickHouse. Validate rejects the bare `coupon > 0`,
    since coupon is declared text, but not an expression whose type only the warehouse decides.
    This test fails once ClickHouse rejects it at planning, so that docs/warehouses/clickhouse.md
    can drop the limitation.
    """
    if "clickhouse" not in loaded_engines:
        clickhouse_engine.load(RAW_SCHEMA, {"events": event_rows(), "accounts": account_rows()})
        loaded_engines.add("clickhouse")
    project = write_project(tmp_path / "nullable_gap", clickhouse_engine, RAW_SCHEMA)
    replace_text(project / "models" / "definitions.yml", "filter: \"event_type = 'checkout'\"",
                 'filter: "nullif(coupon, \'\') > 0"')

    issues = api.check_warehouse(project, "engine")

    assert issues == []


def test_check_file_source(engine: Engine, raw_schema: str, tmp_path: Path):
    project = write_project(tmp_path / "file_source", engine, raw_schema)
    (project / "data").mkdir()
    pq.write_table(account_rows(), project / "data" / "accounts.parquet")
    replace_text(project / "models" / "sources.yml", f"table: {raw_schema}.accounts", "file: data/accounts.parquet")

    issues = api.check_warehouse(project, "engine")

    if engine.adapter_type == "duckdb":
        assert issues == []
        return
    issue = only(issues, "source-not-found")
    assert issue.location.key_path == ("sources", 1, "file")
    assert issue.message == (f"source 'accounts' reads the file data/accounts.parquet, but target 'engine' is a "
                             f"{engine.adapter_type} warehouse, which reads tables only")


# Keys of segment_weights against the segment values in the warehouse.

POPULATION = "    population: {source: events, filter: \"plan <> 'internal'\"}\n"


def add_segments(project: Path, attribute: str, keys: list[str]) -> Path:
    """Give the health score a segment attribute and one segment_weights entry per key; return the file."""
    definitions = project / "models" / "definitions.yml"
    entries = "".join(f"      \"{key}\": {{value: 100}}\n" for key in keys)
    replace_text(definitions, POPULATION, f"{POPULATION}    segment: {attribute}\n    segment_weights:\n{entries}")
    return definitions


def segment_issues(issues: list[Issue], engine: Engine) -> list[Issue]:
    """Return the issues other than those of the emulator's missing EXPLAIN."""
    if engine.adapter_type == "snowflake":
        return [issue for issue in issues if issue not in emulator_explain_issues(issues)]
    return issues


def test_check_segment_key_case(engine: Engine, raw_schema: str, tmp_path: Path):
    project = write_project(tmp_path / "segment_case", engine, raw_schema)
    definitions = add_segments(project, "accounts.segment", ["Enterprise", "smb"])

    issues = segment_issues(api.check_warehouse(project, "engine"), engine)

    issue = only(issues, "unknown-segment-value")
    assert [issue.code for issue in issues] == ["unknown-segment-value"]
    assert issue.severity == "warning"
    assert issue.location.file == definitions
    assert issue.location.line == line_of(definitions, '"Enterprise":')
    assert issue.location.key_path == ("health_scores", 0, "segment_weights", "Enterprise")
    assert issue.message == ("segment_weights key 'Enterprise' matches no value of accounts.segment: the values of "
                             "accounts.segment in target 'engine' are 'enterprise', 'internal', 'smb'")
    assert "in the same case" in (issue.hint or "")


def test_check_segment_number_text(engine: Engine, raw_schema: str, tmp_path: Path):
    # seats is an integer column, which each engine of these tests writes as text as '12', not '12.0'.
    project = write_project(tmp_path / "segment_number", engine, raw_schema)
    add_segments(project, "accounts.seats", ["12", "3.0"])

    issues = segment_issues(api.check_warehouse(project, "engine"), engine)

    unknown = only(issues, "unknown-segment-value")
    assert unknown.location.key_path == ("health_scores", 0, "segment_weights", "3.0")
    assert unknown.message.endswith("are '1', '12', '3'")
    assert only(issues, "numeric-segment").severity == "warning"
    assert sorted(issue.code for issue in issues) == ["numeric-segment", "unknown-segment-value"]


def test_check_segment_values_listed(duckdb_engine: Engine, raw_schema_duckdb: str, tmp_path: Path):
    # Twelve accounts with a segment each: the warning lists the first ten in order, then "and more".
    segments = [f"segment_{index:02d}" for index in range(12)]
    accounts = pa.Table.from_pylist([{"account_id": f"acct_{index}", "seats": index, "segment": segment}
                                     for index, segment in enumerate(segments)])
    duckdb_engine.load("raw_many_segments", {"accounts": accounts})
    project = write_project(tmp_path / "segment_many", duckdb_engine, raw_schema_duckdb)
    replace_text(project / "models" / "sources.yml", f"table: {raw_schema_duckdb}.accounts",
                 "table: raw_many_segments.accounts")
    add_segments(project, "accounts.segment", ["segment_11", "Segment_03", "none"])

    issues = api.check_warehouse(project, "engine")

    unknown = {issue.location.key_path[-1]: issue for issue in issues if issue.code == "unknown-segment-value"}
    assert sorted(unknown) == ["Segment_03", "none"]
    listed = ", ".join(f"'{segment}'" for segment in segments[:10])
    assert unknown["none"].message == ("segment_weights key 'none' matches no value of accounts.segment: the first "
                                       f"values of accounts.segment in target 'engine' are {listed}, and more")
    assert [issue.code for issue in issues if issue.code != "unknown-segment-value"] == []


# Types as each engine names them.

# Per engine: a column type of its DDL and the family healthlayer must give the name it reports.
ENGINE_TYPES: dict[str, list[tuple[str, str]]] = {
    "duckdb": [("VARCHAR", "text"), ("INTEGER", "integer"), ("HUGEINT", "integer"), ("DECIMAL(10,2)", "decimal"),
               ("DOUBLE", "float"), ("REAL", "float"), ("BOOLEAN", "boolean"), ("DATE", "date"),
               ("TIMESTAMP", "timestamp"), ("TIMESTAMP_NS", "timestamp"), ("TIMESTAMPTZ", "timestamptz"),
               ("BLOB", "other"), ("UUID", "other")],
    "postgres": [("text", "text"), ("varchar(20)", "text"), ("char(2)", "text"), ("smallint", "integer"),
                 ("integer", "integer"), ("bigint", "integer"), ("numeric(10,2)", "decimal"), ("numeric", "decimal"),
                 ("real", "float"), ("double precision", "float"), ("boolean", "boolean"), ("date", "date"),
                 ("timestamp", "timestamp"), ("timestamp(3) with time zone", "timestamptz"),
                 ("timestamptz", "timestamptz"), ("bytea", "other"), ("jsonb", "other")],
    "snowflake": [("VARCHAR", "text"), ("INTEGER", "decimal"), ("NUMBER(10,2)", "decimal"), ("FLOAT", "float"),
                  ("BOOLEAN", "boolean"), ("DATE", "date"), ("TIMESTAMP_NTZ", "timestamp"),
                  ("TIMESTAMP_TZ", "timestamptz"), ("BINARY", "other")],
    "spark": [("STRING", "text"), ("VARCHAR(10)", "text"), ("INT", "integer"), ("BIGINT", "integer"),
              ("DECIMAL(10,2)", "decimal"), ("DOUBLE", "float"), ("BOOLEAN", "boolean"), ("DATE", "date"),
              ("TIMESTAMP_NTZ", "timestamp"), ("TIMESTAMP", "timestamptz"), ("BINARY", "other")],
    "clickhouse": [("String", "text"), ("LowCardinality(String)", "text"), ("FixedString(4)", "text"),
                   ("Int32", "integer"), ("UInt8", "integer"), ("Nullable(Int64)", "integer"),
                   ("Decimal(10, 2)", "decimal"), ("Decimal32(2)", "decimal"), ("Float64", "float"),
                   ("Bool", "boolean"), ("Date", "date"), ("Date32", "date"), ("DateTime", "timestamp"),
                   ("DateTime64(6)", "timestamp"), ("DateTime64(6, 'UTC')", "timestamptz"),
                   ("DateTime('Europe/Berlin')", "timestamptz"), ("UUID", "other")],
}
# Per engine: decimal columns above and the scale the engine reports for them.
DECIMAL_SCALES = {"duckdb": {"DECIMAL(10,2)": 2}, "postgres": {"numeric(10,2)": 2, "numeric": None},
                  "snowflake": {"INTEGER": 0, "NUMBER(10,2)": 2}, "spark": {"DECIMAL(10,2)": 2},
                  "clickhouse": {"Decimal(10, 2)": 2, "Decimal32(2)": 2}}


def create_types_table(engine: Engine, schema: str, types: list[tuple[str, str]]) -> None:
    """Create `<schema>.types` with one column c0, c1, ... of each DDL type, with the engine's own client."""
    columns = ", ".join(f"c{index} {ddl}" for index, (ddl, _) in enumerate(types))
    kind = engine.adapter_type
    if kind == "duckdb":
        with duckdb.connect(str(engine.database)) as connection:  # type: ignore[attr-defined]
            connection.execute(f"CREATE OR REPLACE TABLE {schema}.types ({columns})")
    elif kind == "postgres":
        with engine.server.connect() as connection:  # type: ignore[attr-defined]
            connection.execute(f"DROP TABLE IF EXISTS {schema}.types")
            connection.execute(f"CREATE TABLE {schema}.types ({columns})")
    elif kind == "snowflake":
        with engine.connect() as connection, connection.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute(f"CREATE OR REPLACE TABLE {schema}.types ({columns})")
    elif kind == "spark":
        engine.session.sql(f"DROP TABLE IF EXISTS {schema}.types")  # type: ignore[attr-defined]
        engine.session.sql(f"CREATE TABLE {schema}.types ({columns}) USING parquet")  # type: ignore[attr-defined]
    else:
        from healthlayer.adapters.clickhouse import ChdbClient

        client = ChdbClient(engine.folder)  # type: ignore[attr-defined]
        try:
            client.command(f"CREATE OR REPLACE TABLE {schema}.types ({columns}) ENGINE = Memory")
        finally:
            client.close()


def test_engine_type_names(engine: Engine, raw_schema: str, tmp_path: Path):
    types = ENGINE_TYPES[engine.adapter_type]
    create_types_table(engine, raw_schema, types)
    project, _ = api.load(write_project(tmp_path / "type_names", engine, raw_schema))

    with api.open_target(project, "engine") as adapter:
        described = adapter.describe(f"{raw_schema}.types")

    assert len(described) == len(types)
    scales = DECIMAL_SCALES[engine.adapter_type]
    for (name, reported), (ddl, family) in zip(described, types):
        classified = column_type(adapter.dialect, reported)
        assert classified.family == family, f"{ddl} is reported as {reported!r}"
        if ddl in scales:
            assert classified.scale == scales[ddl], f"{ddl} is reported as {reported!r}"


# Connections.

def test_check_missing_duckdb_file(engine: Engine, raw_schema: str, tmp_path: Path):
    if engine.adapter_type not in ("duckdb", "clickhouse"):
        pytest.skip("only DuckDB and chdb create storage on connect")
    missing = tmp_path / "nothing_here" / "warehouse.db"
    project = write_project(tmp_path / "no_database", engine, raw_schema,
                            settings={"path": str(missing), "schema": "analytics"})
    config = project / "healthlayer.yml"

    issues = api.check_warehouse(project, "engine")

    issue = only(issues, "warehouse-unreachable")
    assert issue.location.file == config
    assert issue.location.line == line_of(config, "engine:")
    assert issue.location.key_path == ("targets", "engine")
    assert "does not exist" in issue.message
    assert not missing.exists()
    assert not missing.parent.exists()


def test_check_unreachable_postgres(postgres_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from engines.postgres_engine import free_port

    secret = "wrong-password-7d2c41"
    monkeypatch.setenv("HL_CHECK_PASSWORD", secret)
    settings = {**postgres_engine.settings("hl_check"), "port": free_port(),
                "password": '{{ env_var("HL_CHECK_PASSWORD") }}', "connect_timeout": 2}
    project = write_project(tmp_path / "unreachable", postgres_engine, RAW_SCHEMA, settings=settings)

    issues = api.check_warehouse(project, "engine")

    issue = only(issues, "warehouse-unreachable")
    assert issue.location.key_path == ("targets", "engine")
    assert "cannot connect to target 'engine' (postgres)" in issue.message
    assert all(secret not in text for item in issues for text in (item.message, item.hint or ""))


def test_check_wrong_password_redacted(postgres_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    secret = "wrong-password-91be0a"
    monkeypatch.setenv("HL_CHECK_PASSWORD", secret)
    settings = {**postgres_engine.settings("hl_check"), "password": '{{ env_var("HL_CHECK_PASSWORD") }}'}
    project = write_project(tmp_path / "wrong_password", postgres_engine, RAW_SCHEMA, settings=settings)

    issues = api.check_warehouse(project, "engine")

    issue = only(issues, "warehouse-unreachable")
    assert "password authentication failed" in issue.message
    assert secret not in issue.message


def test_check_unknown_target(duckdb_engine: Engine, tmp_path: Path):
    project = write_project(tmp_path / "unknown_target", duckdb_engine, RAW_SCHEMA)

    issues = api.check_warehouse(project, "enigne")

    issue = only(issues, "target-not-found")
    assert issue.location.key_path == ("targets",)
    assert issue.hint == "Did you mean 'engine'?"


class AdapterWithoutCheck(DuckDBAdapter):
    """An adapter of another package that predates describe() and explain()."""

    describe = Adapter.describe  # type: ignore[assignment]
    explain = Adapter.explain  # type: ignore[assignment]


def test_check_adapter_without_support(duckdb_engine: Engine, raw_schema_duckdb: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(registry.BUILT_IN, "olddb", f"{__name__}:AdapterWithoutCheck")
    project = write_project(tmp_path / "old_adapter", duckdb_engine, raw_schema_duckdb)
    replace_text(project / "healthlayer.yml", "type: duckdb", "type: olddb")

    issues = api.check_warehouse(project, "engine")

    issue = only(issues, "warehouse-check-unsupported")
    assert issue.location.key_path == ("targets", "engine")
    assert "implement Adapter.describe" in issue.message
    assert [issue.code for issue in issues] == ["warehouse-check-unsupported"]


# The command line, on DuckDB.

def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cwd: Path,
            *args: str) -> tuple[int, str, str]:
    """Run `healthlayer` in process in a folder; return the exit code, stdout and stderr."""
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["healthlayer", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.fixture
def broken_duckdb_project(duckdb_engine: Engine, raw_schema_duckdb: str, tmp_path: Path) -> Path:
    """Return a DuckDB project whose accounts table is misspelled and whose coupon column is declared number."""
    project = write_project(tmp_path / "cli", duckdb_engine, raw_schema_duckdb)
    replace_text(project / "models" / "sources.yml", f"table: {RAW_SCHEMA}.accounts", f"table: {RAW_SCHEMA}.acounts")
    replace_text(project / "models" / "sources.yml", "      coupon: text\n", "      coupon: number\n")
    return project


def test_cli_warehouse_text(broken_duckdb_project: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]):
    code, out, err = run_cli(monkeypatch, capsys, broken_duckdb_project, "validate", "--warehouse", "engine")

    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2
    coupon_line = line_of(broken_duckdb_project / "models" / "sources.yml", "coupon: number")
    assert lines[0].startswith(f"models/sources.yml:{coupon_line}:7: error column-type-mismatch at "
                               "sources[0].columns.coupon: ")
    table_line = line_of(broken_duckdb_project / "models" / "sources.yml", ".acounts")
    assert lines[1].startswith(f"models/sources.yml:{table_line}:5: error source-not-found at sources[1].table: ")
    assert "Traceback" not in err
    assert err.strip() == "2 error(s), 0 warning(s)"


def test_cli_warehouse_json(broken_duckdb_project: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]):
    code, out, _ = run_cli(monkeypatch, capsys, broken_duckdb_project,
                           "validate", "--warehouse", "engine", "--format", "json")

    assert code == 1
    report = json.loads(out)
    assert report["errors"] == 2
    assert report["warnings"] == 0
    assert [issue["code"] for issue in report["issues"]] == ["column-type-mismatch", "source-not-found"]
    table = report["issues"][1]
    assert table["file"] == "models/sources.yml"
    assert table["key"] == "sources[1].table"
    assert table["line"] == line_of(broken_duckdb_project / "models" / "sources.yml", ".acounts")
    assert "acounts" in table["message"]
    assert table["hint"]


def test_cli_warehouse_github(broken_duckdb_project: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]):
    code, out, _ = run_cli(monkeypatch, capsys, broken_duckdb_project,
                           "validate", "--warehouse", "engine", "--format", "github")

    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2
    table_line = line_of(broken_duckdb_project / "models" / "sources.yml", ".acounts")
    assert lines[1].startswith(f"::error file=models/sources.yml,line={table_line},col=5,title=source-not-found::"
                               "sources[1].table: ")


def test_cli_warehouse_clean(duckdb_engine: Engine, raw_schema_duckdb: str, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    project = write_project(tmp_path / "cli_clean", duckdb_engine, raw_schema_duckdb)

    code, out, err = run_cli(monkeypatch, capsys, project, "validate", "--warehouse", "engine")

    assert code == 0
    assert out.strip() == "No problems found."
    assert err == ""


def test_cli_warehouse_unreachable(tmp_path: Path, duckdb_engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]):
    missing = tmp_path / "absent.duckdb"
    project = write_project(tmp_path / "cli_unreachable", duckdb_engine, RAW_SCHEMA,
                            settings={"path": str(missing), "schema": "analytics"})

    code, out, err = run_cli(monkeypatch, capsys, project, "validate", "--warehouse", "engine",
                             "--format", "github")

    assert code == 1
    assert out.startswith("::error file=healthlayer.yml,line=")
    assert "title=warehouse-unreachable::targets.engine: cannot connect to target 'engine' (duckdb)" in out
    assert "Traceback" not in err
    assert not missing.exists()


def test_cli_warehouse_definition_errors(tmp_path: Path, duckdb_engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]):
    # Definitions with errors are reported without connecting, so the missing database is not mentioned.
    missing = tmp_path / "absent.duckdb"
    project = write_project(tmp_path / "cli_invalid", duckdb_engine, RAW_SCHEMA,
                            settings={"path": str(missing), "schema": "analytics"})
    replace_text(project / "models" / "definitions.yml", "level: browser", "level: bowser")

    code, out, _ = run_cli(monkeypatch, capsys, project, "validate", "--warehouse", "engine", "--format", "json")

    assert code == 1
    codes = [issue["code"] for issue in json.loads(out)["issues"]]
    assert "warehouse-unreachable" not in codes
    assert codes


# A full example.

def test_check_saas_example(duckdb_engine: Engine, tmp_path: Path):
    """Check examples/saas with its Parquet files loaded as tables of a DuckDB target, and print the time.

    benchmarks/warehouse_check.py measures the same check without pytest.
    """
    from engines.harness import table_project

    database = tmp_path / "saas.duckdb"
    project = tmp_path / "saas"
    tables = table_project("saas", project, "raw", "duckdb", {"path": str(database), "schema": "analytics"})
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE SCHEMA raw")
        for name, table in tables.items():
            connection.register("rows_to_load", table)
            connection.execute(f"CREATE TABLE raw.{name} AS SELECT * FROM rows_to_load")
            connection.unregister("rows_to_load")

    started = time.perf_counter()
    issues = api.check_warehouse(project, "engine")
    seconds = time.perf_counter() - started

    assert issues == []
    print(f"validate --warehouse on examples/saas (DuckDB, table sources): {seconds:.2f} s")
