"""Stored outputs on a private PostgreSQL server: tables, incremental refresh, grants and dependent views.

The random cases deploy part of an event log as incremental tables, then put every event in the
raw table, newer ones and late ones inside the lookback. They refresh and compare each table with
the plain-Python reference over the whole log, as tests/test_incremental.py does on DuckDB.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pyarrow.parquet as pq
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from reference import ReferenceProject
from reference.builders import definitions, event
from reference.cases import STANDARD_VIEWS, UTC_TIMESTAMP
from reference.parity import write_events_parquet, write_project
from test_incremental import REFRESH_SETTINGS, incremental, local_day, split_log
from test_parity_duckdb import TIME_ZONES, event_logs

from engines.harness import compare_adapter, file_sources_to_tables, set_target
from engines.postgres_engine import PostgresEngine, PostgresServer
from healthlayer import api
from healthlayer.errors import HealthlayerError, WarehouseError

STICKINESS = "stickiness_by_account"


@pytest.fixture
def connection(postgres_server: PostgresServer) -> Iterator[psycopg.Connection[Any]]:
    with postgres_server.connect() as opened:
        yield opened


def deploy_on_postgres(server: PostgresServer, folder: Path, project_definitions: dict[str, Any],
                       rows: list[dict[str, Any]]) -> tuple[str, str, set[str]]:
    """Write a project over `rows`, load its events into a raw schema and deploy it.

    Return the raw schema, the deploy schema and the names of the output views.
    """
    write_project(folder, project_definitions, rows, UTC_TIMESTAMP)
    suffix = f"{re.sub(r'[^a-z0-9]+', '_', folder.name.lower())[-20:]}_{uuid.uuid4().hex[:8]}"
    raw_schema, schema = f"raw_{suffix}", f"hl_{suffix}"
    PostgresEngine(server).load(raw_schema, file_sources_to_tables(folder, raw_schema))
    set_target(folder, "postgres", server.settings(schema))
    deployment = api.deploy_project(folder)
    return raw_schema, schema, {view.name for view in deployment.result.views if view.kind == "output"}


def replace_events(server: PostgresServer, folder: Path, raw_schema: str, rows: list[dict[str, Any]]) -> None:
    """Replace the rows of the raw events table; the deployed views read it, so it cannot be dropped."""
    write_events_parquet(folder / "all_events.parquet", rows, UTC_TIMESTAMP)
    table = pq.read_table(folder / "all_events.parquet")
    names = ", ".join(f'"{name}"' for name in table.column_names)
    with server.connect() as connection:
        connection.execute(f'DELETE FROM "{raw_schema}".events')
        with connection.cursor() as cursor:
            with cursor.copy(f'COPY "{raw_schema}".events ({names}) FROM STDIN') as copy:
                for row in zip(*(column.to_pylist() for column in table.columns)):
                    copy.write_row(row)


def compare_with_reference(folder: Path, project_definitions: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    reference = ReferenceProject(project_definitions, {"events": rows})
    project, _ = api.load(folder)
    with api.open_target(project, must_exist=True) as adapter:
        return compare_adapter(reference, adapter, adapter.schema)


# Each example deploys to the server, so there are fewer of them than on DuckDB, and a failing
# example is reported as found: shrinking it would deploy hundreds of times.
@settings(REFRESH_SETTINGS, max_examples=12, phases=[Phase.explicit, Phase.generate])
@given(rows=event_logs(), time_zone=st.sampled_from(TIME_ZONES), cut=st.integers(0, 40),
       lookback=st.integers(1, 6), late=st.lists(st.booleans(), min_size=1, max_size=5))
def test_random_refresh_equals_reference(postgres_server, tmp_path_factory, rows, time_zone, cut, lookback, late):
    folder = tmp_path_factory.mktemp("pg_refresh")
    project_definitions = incremental(definitions(time_zone=time_zone, **STANDARD_VIEWS), lookback)
    known = split_log(rows, time_zone, cut, lookback, late)
    raw_schema, _, outputs = deploy_on_postgres(postgres_server, folder, project_definitions, known)
    replace_events(postgres_server, folder, raw_schema, rows)
    if all(local_day(row, "UTC") is None for row in rows):
        with pytest.raises(HealthlayerError, match="the engagement source has no events"):
            api.refresh_project(folder)
        return
    steps = api.refresh_project(folder)
    assert {step.name for step in steps} == outputs
    problems = compare_with_reference(folder, project_definitions, rows)
    assert not problems, "refreshed tables differ from the reference:\n" + "\n".join(problems)


def stored_project(materialized: str) -> dict[str, Any]:
    """Return definitions with a stored per-account stickiness output and a health score view that reads it."""
    project_definitions = definitions(
        stickiness=[{"name": STICKINESS, "level": "any", "by": ["account"], "materialized": materialized,
                     **({"lookback": 2} if materialized == "incremental" else {})}],
        health_scores=[{
            "name": "account_health", "population": {"source": "events"},
            "categories": [{"name": "engagement", "weight": 100, "components": [
                {"name": "stickiness", "metric": f"{STICKINESS}.dau_mau", "weight": 100,
                 "score": {"function": "linear", "lower": 0, "upper": 1, "higher_is_better": True}}]}],
        }],
    )
    return project_definitions


def daily_events(days: int) -> list[dict[str, Any]]:
    return [event(day, f"u{day % 3}", f"a{day % 2}", "commit") for day in range(days)]


def table_kind(connection: psycopg.Connection[Any], schema: str, name: str) -> str | None:
    row = connection.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = %s "
                             "AND table_name = %s", [schema, name]).fetchone()
    return None if row is None else row[0]


def test_deploy_and_refresh_table(postgres_server, connection, tmp_path):
    project_definitions = stored_project("table")
    raw_schema, schema, _ = deploy_on_postgres(postgres_server, tmp_path / "table", project_definitions, daily_events(10))
    assert table_kind(connection, schema, STICKINESS) == "BASE TABLE"
    assert table_kind(connection, schema, "account_health") == "VIEW"
    comment = connection.execute("SELECT obj_description(%s::regclass, 'pg_class')",
                                 [f"{schema}.{STICKINESS}"]).fetchone()
    assert comment is not None and "[definition " in comment[0]

    rows = daily_events(14)
    replace_events(postgres_server, tmp_path / "table", raw_schema, rows)
    [step] = api.refresh_project(tmp_path / "table")
    assert (step.name, step.action, step.first_day, step.rows) == (STICKINESS, "table", None, 27)
    assert not compare_with_reference(tmp_path / "table", project_definitions, rows)


def test_incremental_refresh_keeps_older_days(postgres_server, connection, tmp_path):
    folder = tmp_path / "incremental"
    project_definitions = stored_project("incremental")
    raw_schema, schema, _ = deploy_on_postgres(postgres_server, folder, project_definitions, daily_events(10))
    before = connection.execute(f"SELECT * FROM {schema}.{STICKINESS} WHERE activity_date < '2024-01-09' "
                                "ORDER BY 1, 2").fetchall()
    # A late event on day 5, before the lookback, is left out until a full refresh.
    rows = [*daily_events(12), event(5, "u7", "a0", "commit")]
    replace_events(postgres_server, folder, raw_schema, rows)

    [step] = api.refresh_project(folder)

    assert (step.action, step.first_day, step.rows) == ("incremental", date(2024, 1, 9), 8)
    after = connection.execute(f"SELECT * FROM {schema}.{STICKINESS} WHERE activity_date < '2024-01-09' "
                               "ORDER BY 1, 2").fetchall()
    assert after == before
    assert compare_with_reference(folder, project_definitions, rows)
    api.refresh_project(folder, full=True)
    assert not compare_with_reference(folder, project_definitions, rows)


def test_redeploy_keeps_grants_and_dependent_views(postgres_server, connection, tmp_path):
    folder = tmp_path / "grants"
    _, schema, _ = deploy_on_postgres(postgres_server, folder, stored_project("table"), daily_events(10))
    connection.execute("DO $$ BEGIN CREATE ROLE hl_bi_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    connection.execute(f"GRANT SELECT ON {schema}.{STICKINESS}, {schema}.account_health TO hl_bi_reader")

    deployment = api.deploy_project(folder)

    assert deployment.result.dropped == ()
    granted = connection.execute(
        "SELECT table_name FROM information_schema.role_table_grants WHERE grantee = 'hl_bi_reader' "
        "AND table_schema = %s ORDER BY 1", [schema]).fetchall()
    assert granted == [("account_health",), (STICKINESS,)]
    assert connection.execute(f"SELECT COUNT(*) FROM {schema}.account_health").fetchone() == (19,)


def test_foreign_view_on_table_blocks_redeploy(postgres_server, connection, tmp_path):
    folder = tmp_path / "foreign"
    _, schema, _ = deploy_on_postgres(postgres_server, folder, stored_project("table"), daily_events(10))
    connection.execute(f"CREATE VIEW {schema}.my_report AS SELECT * FROM {schema}.{STICKINESS}")

    with pytest.raises(WarehouseError, match=rf"cannot drop table {schema}\.{STICKINESS}, because it is stored as a "
                                             rf"table, and views that this project did not create depend on it: "
                                             rf"{schema}\.my_report"):
        api.deploy_project(folder)

    assert table_kind(connection, schema, STICKINESS) == "BASE TABLE"
    assert connection.execute(f"SELECT COUNT(*) FROM {schema}.my_report").fetchone() == (19,)


def test_switch_between_view_and_table(postgres_server, connection, tmp_path):
    folder = tmp_path / "switch"
    _, schema, _ = deploy_on_postgres(postgres_server, folder, stored_project("view"), daily_events(10))
    assert table_kind(connection, schema, STICKINESS) == "VIEW"
    definitions_file = folder / "models" / "definitions.yml"

    definitions_file.write_text(definitions_file.read_text().replace("materialized: view", "materialized: table"))
    api.deploy_project(folder)
    assert table_kind(connection, schema, STICKINESS) == "BASE TABLE"

    definitions_file.write_text(definitions_file.read_text().replace("materialized: table", "materialized: view"))
    with pytest.raises(HealthlayerError, match=f"'{STICKINESS}' is deployed as a table, but its definition now "
                                               "makes it a view"):
        api.refresh_project(folder)
    api.deploy_project(folder)
    assert table_kind(connection, schema, STICKINESS) == "VIEW"
    assert connection.execute(f"SELECT COUNT(*) FROM {schema}.account_health").fetchone() == (19,)


def test_refresh_after_definition_change_refused(postgres_server, tmp_path):
    folder = tmp_path / "changed"
    deploy_on_postgres(postgres_server, folder, stored_project("incremental"), daily_events(10))
    definitions_file = folder / "models" / "definitions.yml"
    definitions_file.write_text(definitions_file.read_text().replace("level: any", "level: active"))

    with pytest.raises(HealthlayerError, match=f"the definitions of '{STICKINESS}' changed since it was deployed"):
        api.refresh_project(folder)


def test_deploy_reports_each_relation(postgres_server, tmp_path):
    folder = tmp_path / "progress"
    deploy_on_postgres(postgres_server, folder, stored_project("table"), daily_events(10))
    steps = []

    class Recorder:
        def planned(self, count: int) -> None:
            steps.append(("planned", count))

        def started(self, name: str, action: str) -> None:
            pass

        def finished(self, step: Any) -> None:
            steps.append((step.name, step.action, step.rows))

    deployment = api.deploy_project(folder, progress=Recorder())

    assert steps[0] == ("planned", len(deployment.result.views))
    assert (STICKINESS, "table", 19) in steps
    assert ("account_health", "view", None) in steps
