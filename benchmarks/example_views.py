"""Time every view of an example project on DuckDB, side by side with the floor query.

The floor is one scan of the events grouped to (user, day), which any stickiness query must pay.
Each figure is the median of several runs of `SELECT COUNT(*)` over the view, in one process.

    python benchmarks/example_views.py [--project examples/dpdk] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from healthlayer.api import deploy_project
from healthlayer.compiler.sources import source_table

REPOSITORY = Path(__file__).resolve().parents[1]


def median_seconds(connection: duckdb.DuckDBPyConnection, statement: str, runs: int) -> tuple[float, int]:
    timings = []
    rows = 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = connection.execute(statement).fetchone()[0]
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=REPOSITORY / "examples" / "dpdk")
    parser.add_argument("--runs", type=int, default=5, help="runs per query; the median is printed")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "project"
        shutil.copytree(arguments.project, copy, ignore=shutil.ignore_patterns("*.duckdb"))
        started = time.perf_counter()
        deployment = deploy_project(copy)
        deploy_seconds = time.perf_counter() - started
        project = deployment.project
        connection = duckdb.connect(str(deployment.database), read_only=True)

        source = project.sources[project.engagement.source]  # type: ignore[union-attr]
        events = source_table(source, project.root).sql("duckdb")
        floor_sql = (f'SELECT COUNT(*) FROM (SELECT "{source.user}", CAST("{source.timestamp}" AS DATE) '
                     f"FROM {events} GROUP BY ALL)")
        floor, floor_rows = median_seconds(connection, floor_sql, arguments.runs)
        _, event_rows = median_seconds(connection, f"SELECT COUNT(*) FROM {events}", 1)

        print(f"project {project.name}: {event_rows:,} events; duckdb {duckdb.__version__}; "
              f"deploy {deploy_seconds:.2f} s; median of {arguments.runs} runs")
        print(f"{'query':32} {'rows':>10} {'seconds':>9} {'x floor':>8}")
        print(f"{'floor: events to user-days':32} {floor_rows:>10,} {floor:>9.3f} {1:>8.1f}")
        for view in deployment.result.views:
            if view.kind != "output":
                continue
            seconds, rows = median_seconds(connection, f'SELECT COUNT(*) FROM "{deployment.schema}"."{view.name}"',
                                           arguments.runs)
            print(f"{view.name:32} {rows:>10,} {seconds:>9.3f} {seconds / floor:>8.1f}")
        connection.close()


if __name__ == "__main__":
    main()
