"""Deploy the benchmark project to a local Spark session and time the floor and every output view.

benchmarks/run.py --spark calls run_spark. Spark reads the generated Parquet files as tables of
the schema `raw` (`CREATE TABLE ... USING parquet`, which reads the files in place), because the
Spark adapter reads sources from tables only. Each query is timed by writing its result to
Spark's `noop` sink, which computes every column and row and stores nothing. The peer and
MetricFlow queries are DuckDB SQL and are not run on Spark, and peak memory is not measured,
since the work happens in the JVM that the session starts.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import yaml

from run import Query, floor_query, selected

_FILE_SOURCE = re.compile(r"^(\s*)file:\s*data/(\w+)\.parquet\s*$", re.MULTILINE)
TARGET = "spark"
SCHEMA = "analytics"


def spark_project(data_dir: Path, destination: Path, master: str) -> tuple[Path, dict[str, Path]]:
    """Copy the project with its sources read from tables `raw.<name>` and a Spark target; return it and the files."""
    project = destination / "project"
    shutil.copytree(data_dir / "models", project / "models")
    files: dict[str, Path] = {}
    for models in (project / "models").glob("*.yml"):
        text = models.read_text(encoding="utf-8")
        for match in _FILE_SOURCE.finditer(text):
            files[match.group(2)] = (data_dir / "data" / f"{match.group(2)}.parquet").resolve()
        models.write_text(_FILE_SOURCE.sub(lambda found: f"{found.group(1)}table: raw.{found.group(2)}", text),
                          encoding="utf-8")
    config = yaml.safe_load((data_dir / "healthlayer.yml").read_text(encoding="utf-8"))
    config["targets"] = {TARGET: {"type": "spark", "master": master, "schema": SCHEMA,
                                  "catalog_implementation": "in-memory", "warehouse_dir": "warehouse"}}
    config["default_target"] = TARGET
    (project / "healthlayer.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return project, files


def start_session(project: Path, master: str, threads: int):
    from pyspark.sql import SparkSession

    # Spark otherwise binds the driver to the address of a network interface.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (
        SparkSession.builder.master(master).appName("healthlayer-benchmark")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(threads))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", str((project / "warehouse").resolve()))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def time_query(session, query: Query) -> None:
    """Run a query once as a warm-up and `query.runs` times into the noop sink; store the median and rows."""
    timings = []
    for run in range(query.runs + 1):
        started = time.perf_counter()
        session.sql(query.sql).write.format("noop").mode("overwrite").save()
        if run > 0:
            timings.append(time.perf_counter() - started)
    query.all_seconds = timings
    query.seconds = statistics.median(timings)
    query.rows = session.sql(query.sql).count()


def run_spark(arguments: argparse.Namespace) -> dict:
    import pyspark

    from healthlayer.api import deploy_project, engine_timestamp_types, open_target

    threads = arguments.threads or os.cpu_count() or 2
    master = f"local[{threads}]"
    with tempfile.TemporaryDirectory(prefix="healthlayer-bench-spark-") as folder:
        project_dir, files = spark_project(arguments.data, Path(folder), master)
        session = start_session(project_dir, master, threads)
        try:
            session.sql("CREATE DATABASE IF NOT EXISTS raw")
            for name, path in files.items():
                session.sql(f"CREATE TABLE raw.`{name}` USING parquet OPTIONS (path '{path}')")
            started = time.perf_counter()
            deployment = deploy_project(project_dir, TARGET)
            deploy_seconds = time.perf_counter() - started
            project = deployment.project
            with open_target(project, TARGET) as adapter:
                has_time_zone = engine_timestamp_types(project, adapter)[project.engagement.source]

            queries = [Query("floor", "floor", floor_query(project, has_time_zone, "spark"), arguments.runs)]
            queries += [Query(view.name, "view", f"SELECT * FROM `{SCHEMA}`.`{view.name}`", arguments.runs)
                        for view in deployment.result.views if view.kind == "output"]
            queries = [query for query in queries if selected(query.name, arguments.only, arguments.skip)]
            event_rows = session.sql("SELECT COUNT(*) FROM raw.events").collect()[0][0]
            for query in queries:
                time_query(session, query)
                print(f"  timed {query.name}: {query.seconds:.3f} s", file=sys.stderr)
        finally:
            session.stop()
    return {
        "engine": "spark", "spark": pyspark.__version__, "events": event_rows, "deploy_seconds": deploy_seconds,
        "runs": arguments.runs, "threads": threads, "cpus": os.cpu_count(),
        "queries": [asdict(query) for query in queries],
    }
