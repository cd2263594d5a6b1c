"""Time an incremental refresh of one new day against a full build, side by side in one run.

The script copies a project whose sources are Parquet files, stores every output as an incremental
table, and deploys it on the events without their last day (the full build). It then puts the
last day back and runs `healthlayer refresh`, which recomputes the lookback and the new day. Each
output's seconds and rows are printed for both, with the refresh as a share of the build, and
the refreshed tables are compared with a full build of all the days.

    python benchmarks/refresh.py --project examples/saas [--lookback 3] [--runs 3]
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import tempfile
from pathlib import Path

import duckdb
import yaml

from healthlayer import api
from healthlayer.adapters.base import BuildStep
from healthlayer.definitions.checks import output_names

REPOSITORY = Path(__file__).resolve().parents[1]


def store_everything(project_dir: Path, lookback: int) -> None:
    """Set every output of the project to an incremental table in its healthlayer.yml."""
    project, _ = api.load(project_dir)
    settings_file = project_dir / "healthlayer.yml"
    settings = yaml.safe_load(settings_file.read_text())
    settings["outputs"] = {name: {"materialized": "incremental", "lookback": lookback}
                           for name in output_names(project)}
    settings_file.write_text(yaml.safe_dump(settings, sort_keys=False))


def drop_last_day(project_dir: Path, keep: Path) -> str:
    """Move each time-stamped file source to `keep` and write it back without its last local day.

    Returns the day removed.
    """
    project, _ = api.load(project_dir)
    zone = project.time_zone
    sources = [source for source in project.sources.values() if source.file and source.timestamp]
    engagement = project.sources[project.engagement.source]  # type: ignore[union-attr]
    with duckdb.connect() as connection:
        path = project_dir / str(engagement.file)
        last_day = connection.execute(
            f"SELECT MAX(CAST(timezone('{zone}', \"{engagement.timestamp}\") AS DATE)) FROM read_parquet('{path}')"
        ).fetchone()[0]
        for source in sources:
            path = project_dir / str(source.file)
            saved = keep / path.name
            shutil.move(path, saved)
            connection.execute(
                f"COPY (SELECT * FROM read_parquet('{saved}') WHERE \"{source.timestamp}\" IS NULL "
                f"OR CAST(timezone('{zone}', \"{source.timestamp}\") AS DATE) < DATE '{last_day}') "
                f"TO '{path}' (FORMAT parquet)")
    return str(last_day)


class Collector:
    """Keeps the steps of a deploy, which the API reports through its progress callback."""

    def __init__(self) -> None:
        self.steps: list[BuildStep] = []

    def planned(self, count: int) -> None:
        pass

    def started(self, name: str, action: str) -> None:
        pass

    def finished(self, step: BuildStep) -> None:
        self.steps.append(step)


def by_name(steps: list[BuildStep]) -> dict[str, BuildStep]:
    return {step.name: step for step in steps if step.action != "view"}


def tables_match(first: Path, second: Path, names: list[str]) -> list[str]:
    """Return the outputs whose rows differ between two databases, apart from complete_through."""
    differing = []
    with duckdb.connect() as connection:
        connection.execute(f"ATTACH '{first}' AS a (READ_ONLY)")
        connection.execute(f"ATTACH '{second}' AS b (READ_ONLY)")
        for name in names:
            columns = [row[0] for row in connection.execute(
                f"SELECT column_name FROM information_schema.columns WHERE table_catalog = 'a' "
                f"AND table_name = '{name}' AND column_name <> 'complete_through' ORDER BY ordinal_position").fetchall()]
            rounded = ", ".join(f"round(\"{column}\", 9)" if column.endswith(("_share", "_score", "_mau", "_wau", "coverage"))
                                else f'"{column}"' for column in columns)
            query = "SELECT {columns} FROM {db}.analytics.\"{name}\""
            count = connection.execute(
                f"SELECT COUNT(*) FROM (({query.format(columns=rounded, db='a', name=name)} EXCEPT ALL "
                f"{query.format(columns=rounded, db='b', name=name)}) UNION ALL "
                f"({query.format(columns=rounded, db='b', name=name)} EXCEPT ALL "
                f"{query.format(columns=rounded, db='a', name=name)}))").fetchone()[0]
            if count:
                differing.append(f"{name} ({count:,} rows)")
    return differing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=REPOSITORY / "examples" / "saas")
    parser.add_argument("--lookback", type=int, default=3, help="lookback days of the incremental tables")
    parser.add_argument("--runs", type=int, default=3, help="refreshes timed; the median is printed")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder) / "project"
        shutil.copytree(arguments.project, work, ignore=shutil.ignore_patterns("*.duckdb", "*.duckdb.wal"))
        store_everything(work, arguments.lookback)
        saved = Path(folder) / "saved"
        saved.mkdir()
        last_day = drop_last_day(work, saved)

        collected = Collector()
        api.deploy_project(work, progress=collected)
        build = by_name(collected.steps)
        for path in saved.iterdir():
            target = next(work.rglob(path.name))
            shutil.copy(path, target)
        runs = []
        for _ in range(arguments.runs):
            # Each run recomputes the same days: the lookback before the removed day, and that day.
            runs.append(by_name(api.refresh_project(work)))
        full = Path(folder) / "full"
        shutil.copytree(work, full, ignore=shutil.ignore_patterns("*.duckdb", "*.duckdb.wal"))
        rebuilt = api.deploy_project(full)
        refreshed_database = next(work.glob("*.duckdb"))
        differing = tables_match(refreshed_database, rebuilt.database, list(build)) if rebuilt.database else []

    print(f"project {arguments.project.name}: every output incremental with a {arguments.lookback}-day lookback; "
          f"new day {last_day}; duckdb {duckdb.__version__}; refresh median of {arguments.runs} runs")
    print(f"{'output':32} {'build s':>9} {'build rows':>11} {'refresh s':>10} {'rows':>8} {'refresh/build':>14}")
    total_build = total_refresh = 0.0
    for name, step in build.items():
        seconds = statistics.median(run[name].seconds for run in runs)
        rows = runs[-1][name].rows or 0
        total_build += step.seconds
        total_refresh += seconds
        print(f"{name:32} {step.seconds:>9.2f} {step.rows or 0:>11,} {seconds:>10.2f} {rows:>8,} "
              f"{seconds / step.seconds if step.seconds else math.nan:>14.1%}")
    print(f"{'all outputs':32} {total_build:>9.2f} {'':>11} {total_refresh:>10.2f} {'':>8} "
          f"{total_refresh / total_build:>14.1%}")
    print("refreshed tables equal a full build" if not differing
          else f"refreshed tables differ from a full build: {', '.join(differing)}")
    if differing:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
