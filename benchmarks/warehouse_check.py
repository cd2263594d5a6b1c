"""Time `healthlayer validate --warehouse` on an example project whose sources are DuckDB tables.

The examples read Parquet files. This script copies an example to a temporary folder, loads each
file source into a table `raw.<name>` of a DuckDB file, declares the sources with `table:`, and
times the installed command end to end (a new process per run, so Python's start is included)
and `api.check_warehouse` alone in this process.

    python benchmarks/warehouse_check.py [--project examples/saas] [--runs 5]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from healthlayer import api

_FILE_SOURCE = re.compile(r"^(\s*)file:\s*data/(\w+)\.parquet\s*$", re.MULTILINE)


def table_project(example: Path, destination: Path) -> None:
    """Copy an example, load its Parquet sources into `<destination>/warehouse.duckdb` and point the sources at them."""
    shutil.copytree(example, destination, ignore=shutil.ignore_patterns("*.duckdb", "__pycache__"))
    database = destination / "warehouse.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("CREATE SCHEMA raw")
        for models in (destination / "models").glob("*.yml"):
            text = models.read_text(encoding="utf-8")
            for match in _FILE_SOURCE.finditer(text):
                name = match.group(2)
                parquet = destination / "data" / f"{name}.parquet"
                connection.execute(f"CREATE TABLE raw.{name} AS SELECT * FROM read_parquet('{parquet}')")
            models.write_text(_FILE_SOURCE.sub(lambda found: f"{found.group(1)}table: raw.{found.group(2)}", text),
                              encoding="utf-8")
    config = destination / "healthlayer.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"path: \S+\.duckdb", "path: warehouse.duckdb", text), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("examples/saas"))
    parser.add_argument("--target", default="local")
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "project"
        table_project(arguments.project, project)
        command = [str(Path(sys.executable).parent / "healthlayer"), "validate", "--project", str(project),
                   "--warehouse", arguments.target]
        command_seconds = []
        for _ in range(arguments.runs):
            started = time.perf_counter()
            completed = subprocess.run(command, capture_output=True, text=True, check=False)
            command_seconds.append(time.perf_counter() - started)
            if completed.returncode != 0:
                raise SystemExit(f"the check failed:\n{completed.stdout}{completed.stderr}")
        check_seconds = []
        for _ in range(arguments.runs):
            started = time.perf_counter()
            issues = api.check_warehouse(project, arguments.target)
            check_seconds.append(time.perf_counter() - started)
            if issues:
                raise SystemExit("the check reported issues:\n" + "\n".join(issue.format() for issue in issues))
    print(f"{arguments.project}: healthlayer validate --warehouse {arguments.target}, median of {arguments.runs} runs")
    print(f"  command, new process: {statistics.median(command_seconds):.2f} s "
          f"(min {min(command_seconds):.2f}, max {max(command_seconds):.2f})")
    print(f"  api.check_warehouse:  {statistics.median(check_seconds):.2f} s "
          f"(min {min(check_seconds):.2f}, max {max(check_seconds):.2f})")


if __name__ == "__main__":
    main()
