"""DuckDB with table sources: the embedded default, read the same way as every other engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from engines.engine import Engine


class DuckDBEngine(Engine):
    adapter_type = "duckdb"

    def __init__(self, folder: Path) -> None:
        self.database = folder / "engine.duckdb"

    def settings(self, schema: str) -> dict[str, Any]:
        return {"path": str(self.database), "schema": schema}

    def load(self, schema: str, tables: dict[str, pa.Table]) -> None:
        with duckdb.connect(str(self.database)) as connection:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            for name, table in tables.items():
                connection.register("rows_to_load", table)
                connection.execute(f'CREATE OR REPLACE TABLE "{schema}"."{name}" AS SELECT * FROM rows_to_load')
                connection.unregister("rows_to_load")
