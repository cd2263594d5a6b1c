"""Deploy the examples on any engine and compare its views with the reference.

An engine test provides three things: a target (adapter type and settings), a loader that copies
Arrow tables into a schema of the engine, and the adapter that reads the views back. The examples
read Parquet files on DuckDB. Here each `file:` source becomes a table in a schema of raw data,
loaded with the same rows, so that every engine computes from the same input.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from reference import ReferenceProject
from reference.cases import UTC_TIMESTAMP
from reference.parity import (
    REPOSITORY,
    compare_view,
    load_project_definitions,
    view_keys,
    write_project,
)
from sqlglot import exp

from healthlayer.adapters.base import Adapter
from healthlayer.api import deploy_project, load, open_target
from healthlayer.compiler import sql

if TYPE_CHECKING:
    from engines.engine import Engine

EXAMPLES = REPOSITORY / "examples"

_FILE_SOURCE = re.compile(r"^(\s*)file:\s*data/(\w+)\.parquet\s*$", re.MULTILINE)


def table_project(example: str, destination: Path, raw_schema: str, target_type: str,
                  settings: Mapping[str, Any]) -> dict[str, pa.Table]:
    """Copy an example to `destination` with table sources and one target; return the tables to load."""
    shutil.copytree(EXAMPLES / example, destination, ignore=shutil.ignore_patterns("*.duckdb", "__pycache__"))
    tables = file_sources_to_tables(destination, raw_schema)
    set_target(destination, target_type, settings)
    return tables


def file_sources_to_tables(project: Path, raw_schema: str) -> dict[str, pa.Table]:
    """Rewrite each `file: data/<name>.parquet` source of a project as `table: <raw_schema>.<name>`.

    Returns the rows of each rewritten source as an Arrow table keyed by table name.
    """
    tables = {}
    for models in (project / "models").glob("*.yml"):
        text = models.read_text()
        for match in _FILE_SOURCE.finditer(text):
            tables[match.group(2)] = pq.read_table(project / "data" / f"{match.group(2)}.parquet")
        models.write_text(_FILE_SOURCE.sub(lambda m: f"{m.group(1)}table: {raw_schema}.{m.group(2)}", text))
    return tables


def set_target(project: Path, target_type: str, settings: Mapping[str, Any]) -> None:
    """Replace the targets of a project file with one default target named `engine`."""
    config_file = project / "healthlayer.yml"
    config = yaml.safe_load(config_file.read_text())
    config["targets"] = {"engine": {"type": target_type, **settings}}
    config["default_target"] = "engine"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))


@cache
def example_reference(example: str) -> ReferenceProject:
    """Return the reference results of an example, computed from its Parquet files."""
    folder = EXAMPLES / example
    definitions = load_project_definitions(folder)
    rows = {}
    for source in definitions["sources"]:
        file = source.get("file")
        rows[source["name"]] = pq.read_table(folder / file).to_pylist() if file else []
    return ReferenceProject(definitions, rows)


def python_value(value: Any) -> Any:
    """Bring a driver's value to plain Python: decimals become floats."""
    if isinstance(value, Decimal):
        return float(value)
    return value


def read_view(adapter: Adapter, schema: str, view: str,
              normalise: Callable[[str, Any], Any] | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """Return the lower-case column names and rows of a deployed view, read through the adapter."""
    statement = exp.select("*").from_(sql.table(view, schema)).sql(dialect=adapter.dialect)
    columns, rows = adapter.fetch(statement)
    names = [column.lower() for column in columns]
    convert = normalise or (lambda _column, value: python_value(value))
    return names, [{name: convert(name, value) for name, value in zip(names, row)} for row in rows]


def compare_adapter(reference: ReferenceProject, adapter: Adapter, schema: str,
                    views: Iterable[str] | None = None,
                    normalise: Callable[[str, Any], Any] | None = None) -> list[str]:
    """Return the differences between the views an adapter deployed and the reference (empty when equal)."""
    problems = []
    for view in views or reference.view_names():
        columns, actual = read_view(adapter, schema, view, normalise)
        problems += compare_view(view, columns, actual, reference.view(view),
                                 view_keys(view, reference.definitions), reference.time_zone,
                                 expected_columns=reference.view_columns(view))
        if view == "alerts":
            problems += check_alert_ids(actual)
    return problems


def check_alert_ids(rows: list[dict[str, Any]]) -> list[str]:
    """Return the alerts whose id is not `rule:account:user:YYYY-MM-DD`, the same text on every engine.

    An account alert has no user, so the user part of its id is empty.
    """
    problems = []
    for row in rows:
        if row["account_id"] is None:
            continue
        user = "" if row["user_id"] is None else row["user_id"]
        expected = f"{row['rule']}:{row['account_id']}:{user}:{row['detected_date'].isoformat()}"
        if row["alert_id"] != expected:
            problems.append(f"alerts: alert_id {row['alert_id']!r}, expected {expected!r}")
    return problems


def deploy_rows_and_compare(engine: Engine, folder: Path, definitions: Mapping[str, Any],
                            rows: list[dict[str, Any]], timestamp_type: pa.DataType = UTC_TIMESTAMP,
                            attribute_rows: Mapping[str, tuple[list[dict[str, Any]], Mapping[str, pa.DataType]]] | None = None,
                            ) -> list[str]:
    """Deploy a project of `definitions` over `rows` on an engine; return its differences from the reference.

    The schemas are named after `folder`, so tests of one engine session do not share tables.
    """
    write_project(folder, definitions, rows, timestamp_type, attribute_rows)
    suffix = re.sub(r"[^a-z0-9]+", "_", folder.name.lower())[-40:].strip("_")
    raw_schema, schema = f"raw_{suffix}", f"hl_{suffix}"
    engine.load(raw_schema, file_sources_to_tables(folder, raw_schema))
    set_target(folder, engine.adapter_type, engine.settings(schema))
    deploy_project(folder)

    source_rows = {"events": rows, **{name: source for name, (source, _) in (attribute_rows or {}).items()}}
    reference = ReferenceProject(definitions, source_rows)
    project, _ = load(folder)
    with open_target(project, must_exist=True) as adapter:
        return compare_adapter(reference, adapter, adapter.schema, normalise=engine.normalise)
