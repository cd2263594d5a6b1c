"""Spark in process: one local session for the whole test run, with an in-memory catalog."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from engines.engine import Engine
from engines.harness import python_value

# Settings of the shared session. SparkAdapter reuses a running session only when its master,
# catalog implementation and warehouse equal the target's, so settings() repeats them.
MASTER = "local[2]"
APP_NAME = "healthlayer-tests"
SESSION_TIME_ZONE = "UTC"


def java_missing_message() -> str | None:
    """Return why Spark cannot start here, or None when java is found."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return None
    if shutil.which("java"):
        return None
    return ("Spark needs Java 17 or newer, but neither JAVA_HOME nor java on PATH was found; "
            "install it with apt-get install openjdk-17-jre-headless (scripts/test.sh does this)")


class SparkEngine(Engine):
    adapter_type = "spark"

    def __init__(self, folder: Path) -> None:
        from pyspark.sql import SparkSession

        # Spark otherwise picks the address of a network interface for the driver and block manager.
        os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
        self.warehouse = folder / "warehouse"
        self.session = (
            SparkSession.builder.master(MASTER).appName(APP_NAME)
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.default.parallelism", "2")
            .config("spark.sql.session.timeZone", SESSION_TIME_ZONE)
            .config("spark.sql.catalogImplementation", "in-memory")
            .config("spark.sql.warehouse.dir", str(self.warehouse))
            .getOrCreate()
        )
        self.session.sparkContext.setLogLevel("ERROR")

    def settings(self, schema: str) -> dict[str, Any]:
        return {
            "master": MASTER,
            "app_name": APP_NAME,
            "schema": schema,
            "catalog_implementation": "in-memory",
            "warehouse_dir": str(self.warehouse),
        }

    def load(self, schema: str, tables: dict[str, pa.Table]) -> None:
        from pyspark.sql.pandas.types import from_arrow_schema

        self.session.sql(f"CREATE DATABASE IF NOT EXISTS `{schema}`")
        for name, table in tables.items():
            # Arrow timestamps without a time zone become TIMESTAMP_NTZ, those with one TIMESTAMP.
            table = _plain_strings(table)
            spark_schema = from_arrow_schema(table.schema, prefer_timestamp_ntz=True)
            frame = self.session.createDataFrame(table, schema=spark_schema)
            frame.write.mode("overwrite").saveAsTable(f"`{schema}`.`{name}`")

    def normalise(self, column: str, value: Any) -> Any:
        """Bring a Spark value to the reference's types.

        TIMESTAMP values arrive as aware UTC datetimes, which the comparison converts to project
        time; TIMESTAMP_NTZ values are naive already.
        """
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(timezone.utc)
        return python_value(value)

    def close(self) -> None:
        self.session.stop()


def _plain_strings(table: pa.Table) -> pa.Table:
    """Return the table with large_string columns as string, which Spark's Arrow reader maps the same way."""
    fields = [pa.field(field.name, pa.string()) if pa.types.is_large_string(field.type) else field
              for field in table.schema]
    return table.cast(pa.schema(fields))
