"""ClickHouse embedded through chdb, in this process, with a folder per test session.

chdb runs one embedded server per process on one folder, and opening a second folder fails
while a session is open. Every project of the session's ClickHouse tests therefore targets the
same folder, each in its own databases, and no session stays open between steps.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from engines.engine import Engine
from healthlayer.adapters.clickhouse import ChdbClient

_INTEGERS = {
    pa.int8(): "Int8", pa.int16(): "Int16", pa.int32(): "Int32", pa.int64(): "Int64",
    pa.uint8(): "UInt8", pa.uint16(): "UInt16", pa.uint32(): "UInt32", pa.uint64(): "UInt64",
}
_TIMESTAMP_PRECISION = {"s": 0, "ms": 3, "us": 6, "ns": 9}


def clickhouse_type(arrow_type: pa.DataType) -> str:
    """Return the ClickHouse type that stores values of an Arrow type without loss."""
    if arrow_type in _INTEGERS:
        return _INTEGERS[arrow_type]
    if pa.types.is_float32(arrow_type):
        return "Float32"
    if pa.types.is_float64(arrow_type):
        return "Float64"
    if pa.types.is_boolean(arrow_type):
        return "Bool"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "String"
    if pa.types.is_date32(arrow_type):
        return "Date32"
    if pa.types.is_decimal(arrow_type):
        return f"Decimal({arrow_type.precision}, {arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type):
        precision = _TIMESTAMP_PRECISION[arrow_type.unit]
        return f"DateTime64({precision}, '{arrow_type.tz}')" if arrow_type.tz else f"DateTime64({precision})"
    raise TypeError(f"no ClickHouse type for the Arrow type {arrow_type}")


def table_definition(table: pa.Table) -> str:
    """Return the column list of a CREATE TABLE for an Arrow table: Nullable only where a column has NULLs.

    ClickHouse columns are not Nullable unless declared so, as in a typical ClickHouse warehouse,
    so the loaded tables test the compiled SQL on non-Nullable columns.
    """
    columns = []
    for field, column in zip(table.schema, table.columns):
        column_type = clickhouse_type(field.type)
        if column.null_count > 0:
            column_type = f"Nullable({column_type})"
        columns.append(f"`{field.name}` {column_type}")
    return ", ".join(columns)


class ClickHouseEngine(Engine):
    adapter_type = "clickhouse"

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "chdb"

    def settings(self, schema: str) -> dict[str, Any]:
        return {"path": str(self.folder), "schema": schema}

    def load(self, schema: str, tables: dict[str, pa.Table]) -> None:
        """Copy Arrow tables into MergeTree tables through Parquet files, keeping types and time zones."""
        client = ChdbClient(self.folder)
        try:
            client.command(f"CREATE DATABASE IF NOT EXISTS `{schema}`")
            with tempfile.TemporaryDirectory() as scratch:
                for name, table in tables.items():
                    file = Path(scratch) / f"{name}.parquet"
                    pq.write_table(table, file)
                    client.command(f"CREATE OR REPLACE TABLE `{schema}`.`{name}` ({table_definition(table)}) "
                                   "ENGINE = MergeTree ORDER BY tuple()")
                    client.command(f"INSERT INTO `{schema}`.`{name}` SELECT * FROM file('{file}', Parquet)")
        finally:
            client.close()

    def normalise(self, column: str, value: Any) -> Any:
        """Bring a value read from ClickHouse to the reference's types.

        Timestamps that the views compute are project-time wall clocks in a DateTime64(6, 'UTC')
        column, so they lose the UTC zone instead of being converted.
        """
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.replace(tzinfo=None)
        return super().normalise(column, value)
