"""Snowflake emulated in process by fakesnow, which transpiles Snowflake SQL to DuckDB and runs it there.

The emulator proves that the Snowflake SQL parses and computes the reference values after
fakesnow's transpilation, and exercises the adapter's catalog reads and deploy steps. It does not
prove Snowflake's own semantics: session parameters such as TIMEZONE, WEEK_START and
TIMESTAMP_TYPE_MAPPING are not emulated, ALTER SCHEMA ... SWAP WITH and RENAME are not supported
(so the parity deploys use switch: replace), and permissions, query tags and view comments are
not emulated. tests/engines/test_snowflake_live.py covers those against a real account.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from engines.engine import Engine

DATABASE = "healthlayer_test"

_SNOWFLAKE_TYPES = {
    "string": "VARCHAR", "large_string": "VARCHAR", "int64": "NUMBER(38, 0)", "int32": "NUMBER(38, 0)",
    "double": "FLOAT", "bool": "BOOLEAN", "date32[day]": "DATE",
}


def snowflake_type(arrow_type: pa.DataType) -> str:
    """Return the Snowflake column type for an Arrow type of the example data."""
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP_TZ" if arrow_type.tz else "TIMESTAMP_NTZ"
    return _SNOWFLAKE_TYPES[str(arrow_type)]


@contextmanager
def emulator() -> Iterator[None]:
    """Patch snowflake.connector.connect to the in-process emulator for as long as the context is open."""
    import fakesnow

    with fakesnow.patch():
        yield


class SnowflakeEngine(Engine):
    adapter_type = "snowflake"

    def settings(self, schema: str) -> dict[str, Any]:
        return {"account": "emulator", "user": "tester", "password": "emulator-password",
                "database": DATABASE, "schema": schema, "switch": "replace"}

    def connect(self) -> Any:
        import snowflake.connector

        return snowflake.connector.connect(account="emulator", user="tester", password="emulator-password",
                                           database=DATABASE)

    def load(self, schema: str, tables: dict[str, pa.Table]) -> None:
        from snowflake.connector.pandas_tools import write_pandas

        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            for name, table in tables.items():
                columns = ", ".join(f"{field.name} {snowflake_type(field.type)}" for field in table.schema)
                cursor.execute(f"CREATE OR REPLACE TABLE {schema}.{name} ({columns})")
                frame = table.to_pandas()
                frame.columns = [column.upper() for column in frame.columns]
                write_pandas(connection, frame, name.upper(), schema=schema.upper(), quote_identifiers=False)
