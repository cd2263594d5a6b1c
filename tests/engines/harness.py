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
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from sqlglot import exp

from healthlayer.adapters.base import Adapter
from healthlayer.compiler import sql
from reference import ReferenceProject
from reference.parity import REPOSITORY, compare_view, load_project_definitions, view_keys

EXAMPLES = REPOSITORY / "examples"

_FILE_SOURCE = re.compile(r"^(\s*)file:\s*data/(\w+)\.parquet\s*$", re.MULTILINE)


def table_project(example: str, destination: Path, raw_schema: str, target_type: str,
                  settings: Mapping[str, Any]) -> dict[str, pa.Table]:
    """Copy an example to `destination` with table sources and one target; return the tables to load.

    Each `file: data/<name>.parquet` source becomes `table: <raw_schema>.<name>`; the returned
    Arrow tables are keyed by that table name.
    """
    source = EXAMPLES / example
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("*.duckdb", "__pycache__", "data"))
    tables = {}
    for models in (destination / "models").glob("*.yml"):
        text = models.read_text()
        for match in _FILE_SOURCE.finditer(text):
            tables[match.group(2)] = pq.read_table(source / "data" / f"{match.group(2)}.parquet")
        models.write_text(_FILE_SOURCE.sub(lambda m: f"{m.group(1)}table: {raw_schema}.{m.group(2)}", text))
    set_target(destination, target_type, settings)
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
    return problems

