"""Stored outputs on a private PostgreSQL server: tables, refresh, grants and the views that read them.

tests/engines/test_stored_engines.py compares refreshed tables with the reference on random logs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from reference.builders import definitions, event

from engines.postgres_engine import PostgresEngine, PostgresServer
from engines.stored import compare_with_reference, deploy_stored, reload_events
from healthlayer import api
from healthlayer.errors import HealthlayerError, WarehouseError

STICKINESS = "stickiness_by_account"


@pytest.fixture
def connection(postgres_server: PostgresServer) -> Iterator[psycopg.Connection[Any]]:
    with postgres_server.connect() as opened:
        yield opened


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
    raw_schema, schema, _ = deploy_stored(PostgresEngine(postgres_server), tmp_path / "table", project_definitions, daily_events(10))
    assert table_kind(connection, schema, STICKINESS) == "BASE TABLE"
    assert table_kind(connection, schema, "account_health") == "VIEW"
    comment = connection.execute("SELECT obj_description(%s::regclass, 'pg_class')",
                                 [f"{schema}.{STICKINESS}"]).fetchone()
    assert comment is not None and "[definition " in comment[0]

    rows = daily_events(14)
    reload_events(PostgresEngine(postgres_server), tmp_path / "table", raw_schema, rows)
    [step] = api.refresh_project(tmp_path / "table")
    assert (step.name, step.action, step.first_day, step.rows) == (STICKINESS, "table", None, 27)
    assert not compare_with_reference(tmp_path / "table", project_definitions, rows)


def test_incremental_refresh_keeps_older_days(postgres_server, connection, tmp_path):
    folder = tmp_path / "incremental"
    project_definitions = stored_project("incremental")
    raw_schema, schema, _ = deploy_stored(PostgresEngine(postgres_server), folder, project_definitions, daily_events(10))
    before = connection.execute(f"SELECT * FROM {schema}.{STICKINESS} WHERE activity_date < '2024-01-09' "
                                "ORDER BY 1, 2").fetchall()
    # A late event on day 5, before the lookback, is left out until a full refresh.
    rows = [*daily_events(12), event(5, "u7", "a0", "commit")]
    reload_events(PostgresEngine(postgres_server), folder, raw_schema, rows)

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
    _, schema, _ = deploy_stored(PostgresEngine(postgres_server), folder, stored_project("table"), daily_events(10))
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
    _, schema, _ = deploy_stored(PostgresEngine(postgres_server), folder, stored_project("table"), daily_events(10))
    connection.execute(f"CREATE VIEW {schema}.my_report AS SELECT * FROM {schema}.{STICKINESS}")
    connection.execute(f"CREATE VIEW {schema}.my_scores AS SELECT * FROM {schema}.account_health")
    connection.execute(f"CREATE VIEW {schema}.my_red AS SELECT * FROM {schema}.my_scores")

    # The dependents of the stored table are named, with those of the health view built on it.
    with pytest.raises(WarehouseError, match=rf"views that this project did not create depend on them: "
                                             rf"{schema}\.{STICKINESS} \({schema}\.my_red, {schema}\.my_report, "
                                             rf"{schema}\.my_scores\)\. Drop those views"):
        api.deploy_project(folder)

    assert table_kind(connection, schema, STICKINESS) == "BASE TABLE"
    assert connection.execute(f"SELECT COUNT(*) FROM {schema}.my_report").fetchone() == (19,)


def test_switch_between_view_and_table(postgres_server, connection, tmp_path):
    folder = tmp_path / "switch"
    _, schema, _ = deploy_stored(PostgresEngine(postgres_server), folder, stored_project("view"), daily_events(10))
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
    deploy_stored(PostgresEngine(postgres_server), folder, stored_project("incremental"), daily_events(10))
    definitions_file = folder / "models" / "definitions.yml"
    definitions_file.write_text(definitions_file.read_text().replace("level: any", "level: active"))

    with pytest.raises(HealthlayerError, match=f"the definitions of '{STICKINESS}' changed since it was deployed"):
        api.refresh_project(folder)


def test_deploy_reports_each_relation(postgres_server, tmp_path):
    folder = tmp_path / "progress"
    deploy_stored(PostgresEngine(postgres_server), folder, stored_project("table"), daily_events(10))
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


def test_refresh_waits_for_a_concurrent_refresh(postgres_server, connection, tmp_path):
    """A refresh that starts while another one writes the table waits for it, then replaces its rows."""
    folder = tmp_path / "concurrent"
    project_definitions = stored_project("incremental")
    raw_schema, schema, _ = deploy_stored(PostgresEngine(postgres_server), folder, project_definitions,
                                          daily_events(10))
    rows = daily_events(12)
    reload_events(PostgresEngine(postgres_server), folder, raw_schema, rows)
    table = f"{schema}.{STICKINESS}"
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            api.refresh_project(folder)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    # The other refresh: it has replaced the rows of the last days and not committed yet.
    with postgres_server.connect() as other:
        with other.transaction():
            other.execute(f"CREATE TEMP TABLE recent AS SELECT * FROM {table} WHERE activity_date >= '2024-01-09'")
            other.execute(f"DELETE FROM {table} WHERE activity_date >= '2024-01-09'")
            other.execute(f"INSERT INTO {table} SELECT * FROM recent")
            waiting = threading.Thread(target=refresh)
            waiting.start()
            time.sleep(2)
        waiting.join(timeout=60)

    assert not errors, errors
    duplicated = connection.execute(f"SELECT activity_date, account_id FROM {table} GROUP BY 1, 2 "
                                    "HAVING COUNT(*) > 1").fetchall()
    assert duplicated == []
    assert not compare_with_reference(folder, project_definitions, rows)


def test_refresh_behind_a_lock_times_out_unchanged(postgres_server, connection, tmp_path):
    folder = tmp_path / "locked"
    raw_schema, schema, _ = deploy_stored(PostgresEngine(postgres_server), folder, stored_project("incremental"),
                                          daily_events(10))
    reload_events(PostgresEngine(postgres_server), folder, raw_schema, daily_events(12))
    table = f"{schema}.{STICKINESS}"
    before = connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
    project_file = folder / "healthlayer.yml"
    project_file.write_text(project_file.read_text().replace("type: postgres", "type: postgres\n    lock_timeout: 1"))

    with postgres_server.connect() as other, other.transaction():
        other.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        with pytest.raises(WarehouseError, match="timed out after 1 s waiting for a lock held by another session"):
            api.refresh_project(folder)

    assert connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() == before
