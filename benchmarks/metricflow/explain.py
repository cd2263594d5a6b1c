"""Ask MetricFlow for the SQL of the benchmark's DAU, WAU and MAU and save it under sql/.

Run it with the Python that has dbt-metricflow and dbt-duckdb installed, from any folder:

    /tmp/venv-mf/bin/python benchmarks/metricflow/explain.py

It runs `dbt parse` and then `mf query --explain` for two definitions of the same metrics, each
by day (sql/global_<variant>.sql) and by day and account (sql/account_<variant>.sql):

- user_days: dau, wau and mau on the semantic model of the model user_days, whose rows are
  already distinct (user, account, local day);
- events: dau_events, wau_events and mau_events on the semantic model of the model core_events,
  one row per event.

sql/versions.json records the versions of dbt and MetricFlow that wrote them. The SQL reads the
relations of the dbt project ("user_days" or "core_events", and "metricflow_time_spine");
benchmarks/run.py replaces them by the SQL of the models in models/, reading the benchmark's
events file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PROJECT = Path(__file__).resolve().parent
# Saved file name: the metrics and the group-by of `mf query`.
QUERIES = {
    "global_user_days": ("dau,wau,mau", "metric_time__day"),
    "account_user_days": ("dau,wau,mau", "metric_time__day,user_day__account_id"),
    "global_events": ("dau_events,wau_events,mau_events", "metric_time__day"),
    "account_events": ("dau_events,wau_events,mau_events", "metric_time__day,event__account_id"),
}
PACKAGES = ["dbt-core", "dbt-duckdb", "dbt-metricflow", "metricflow", "dbt-semantic-interfaces", "duckdb"]


def run(command: list[str]) -> str:
    environment = dict(os.environ, DBT_PROFILES_DIR=str(PROJECT))
    completed = subprocess.run(command, cwd=PROJECT, env=environment, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {completed.returncode}):\n"
                         f"{completed.stdout[-3000:]}{completed.stderr[-3000:]}")
    return completed.stdout


def extract_sql(output: str) -> str:
    """Return the SQL that `mf query --explain` prints after its 'SQL' heading."""
    match = re.search(r"^(WITH|SELECT)\b.*", output, re.MULTILINE | re.DOTALL)
    if match is None:
        raise SystemExit(f"no SQL found in the output of mf query --explain:\n{output[-3000:]}")
    return match.group(0).strip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=PROJECT / "sql",
                        help="folder for the SQL files and versions.json (default: sql/ beside this script)")
    folder = parser.parse_args().output
    binaries = Path(sys.executable).parent
    run([str(binaries / "dbt"), "parse"])
    folder.mkdir(parents=True, exist_ok=True)
    for name, (metrics, group_by) in QUERIES.items():
        output = run([str(binaries / "mf"), "query", "--metrics", metrics, "--group-by", group_by, "--explain"])
        (folder / f"{name}.sql").write_text(extract_sql(output), encoding="utf-8")
    versions = {package: metadata.version(package) for package in PACKAGES}
    (folder / "versions.json").write_text(json.dumps(versions, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {', '.join(QUERIES)} to {folder} with {versions}")


if __name__ == "__main__":
    main()
