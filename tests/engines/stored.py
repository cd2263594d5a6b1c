"""Deploy a project of stored outputs on an engine, change its events and compare its tables with the reference."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from reference import ReferenceProject
from reference.cases import UTC_TIMESTAMP
from reference.parity import write_events_parquet, write_project

from engines.engine import Engine
from engines.harness import compare_adapter, file_sources_to_tables, set_target
from engines.postgres_engine import PostgresEngine
from healthlayer import api


def deploy_stored(engine: Engine, folder: Path, project_definitions: dict[str, Any],
                  rows: list[dict[str, Any]]) -> tuple[str, str, set[str]]:
    """Write a project over `rows`, load its events into a raw schema and deploy it.

    Return the raw schema, the deploy schema and the names of the output views.
    """
    write_project(folder, project_definitions, rows, UTC_TIMESTAMP)
    suffix = f"{re.sub(r'[^a-z0-9]+', '_', folder.name.lower())[-20:]}_{uuid.uuid4().hex[:8]}"
    raw_schema, schema = f"raw_{suffix}", f"hl_{suffix}"
    engine.load(raw_schema, file_sources_to_tables(folder, raw_schema))
    set_target(folder, engine.adapter_type, engine.settings(schema))
    deployment = api.deploy_project(folder)
    return raw_schema, schema, {view.name for view in deployment.result.views if view.kind == "output"}


def reload_events(engine: Engine, folder: Path, raw_schema: str, rows: list[dict[str, Any]]) -> None:
    """Give the raw events table these rows.

    PostgreSQL views depend on the table, which therefore cannot be dropped, so its rows are
    deleted and copied in. Snowflake resolves a view's tables when it is read, so the table is
    loaded again.
    """
    write_events_parquet(folder / "all_events.parquet", rows, UTC_TIMESTAMP)
    table = pq.read_table(folder / "all_events.parquet")
    if not isinstance(engine, PostgresEngine):
        engine.load(raw_schema, {"events": table})
        return
    names = ", ".join(f'"{name}"' for name in table.column_names)
    with engine.server.connect() as connection:
        connection.execute(f'DELETE FROM "{raw_schema}".events')
        with connection.cursor() as cursor:
            with cursor.copy(f'COPY "{raw_schema}".events ({names}) FROM STDIN') as copy:
                for row in zip(*(column.to_pylist() for column in table.columns)):
                    copy.write_row(row)


def compare_with_reference(folder: Path, project_definitions: dict[str, Any], rows: list[dict[str, Any]],
                           normalise: Any = None) -> list[str]:
    reference = ReferenceProject(project_definitions, {"events": rows})
    project, _ = api.load(folder)
    with api.open_target(project, must_exist=True) as adapter:
        return compare_adapter(reference, adapter, adapter.schema, normalise=normalise)
