"""Time every output view of the benchmark project on DuckDB beside the floor and hand-written SQL.

Deploys the project that benchmarks/generate.py wrote (its healthlayer.yml, models and data) to a
temporary DuckDB file, then times, in this one invocation:

- floor: one scan of the events grouped to (user, day) in the project time zone, with the
  timestamp conversion and the NULL filter of healthlayer's events relation, counting the groups;
- every output view of the deployed plan;
- the peer queries in benchmarks/peers/, SQL a user would write by hand for the same daily
  stickiness numbers, after checking that each returns the rows of healthlayer's view;
- the SQL that MetricFlow generated for the same metrics, when benchmarks/metricflow/sql/ has it;
- with --backtest, `healthlayer backtest` of the health score on the renewals source that
  `generate.py --renewals` declares.

Each query runs in a new Python process that opens the database read-only, materializes the
result with `CREATE TEMP TABLE ... AS <query>` once as a warm-up and then `--runs` times, and
reports the median time and its peak resident set size (VmHWM of /proc/self/status on Linux,
which includes the materialized result). Peak memory is that figure less the one of a process
that only connects and runs `SELECT 1`.

    python benchmarks/run.py --data benchmarks/data/10M [--runs 3] [--format json] [--only NAME] [--backtest]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import platform
import re
import resource
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
PEERS = BENCHMARKS / "peers"
METRICFLOW = BENCHMARKS / "metricflow"
METRICFLOW_SQL = METRICFLOW / "sql"
COUNT_COLUMNS = ("dau", "wau", "mau")
# The healthlayer view whose rows each peer and MetricFlow query must return, by file name prefix.
REFERENCE_VIEWS = {"global": ("stickiness_daily", ()), "account": ("stickiness_daily_by_account", ("account_id",))}
# The source of the renewals that `generate.py --renewals` declares, which --backtest reads.
RENEWALS_SOURCE = "renewals"


@dataclass
class Query:
    """One timed query: its name, kind (floor, view, peer, metricflow or backtest) and SELECT statement.

    A backtest has no statement: its worker runs healthlayer's backtest on the deployed project.
    """

    name: str
    kind: str
    sql: str
    runs: int
    rows: int | None = None
    seconds: float | None = None
    all_seconds: list[float] = field(default_factory=list)
    peak_mib: float | None = None
    note: str = ""
    # The statements of each timed run of a backtest, with their SQL, seconds and rows.
    statements: list[list[dict]] = field(default_factory=list)


class BenchmarkError(Exception):
    """A check failed: a peer returned other numbers, or a worker process failed."""


def worker(spec: dict) -> dict:
    """Run one query in this process: a warm-up, then `runs` timed runs; return the times, rows and ru_maxrss."""
    import duckdb

    connection = duckdb.connect(spec["database"], read_only=True)
    if spec.get("threads"):
        connection.execute(f"SET threads = {int(spec['threads'])}")
    timings = []
    rows = 0
    for run in range(spec["runs"] + 1):
        started = time.perf_counter()
        connection.execute(f"CREATE OR REPLACE TEMP TABLE benchmark_result AS {spec['sql']}")
        elapsed = time.perf_counter() - started
        rows = connection.execute("SELECT COUNT(*) FROM benchmark_result").fetchone()[0]
        connection.execute("DROP TABLE benchmark_result")
        if run > 0:
            timings.append(elapsed)
    connection.close()
    return {"timings": timings, "rows": rows, "maxrss_bytes": peak_rss_bytes()}


def backtest_worker(spec: dict) -> dict:
    """Run `healthlayer backtest` in this process: a warm-up, then `runs` timed runs of the backtest alone.

    Loading the project and connecting are not timed. With `runs` 0 the worker only loads the
    project, connects and runs SELECT 1, which gives the baseline of the backtest's peak memory.
    """
    from healthlayer import api
    from healthlayer.adapters.registry import connect
    from healthlayer.backtest import BacktestRequest, run_backtest

    project, _ = api.load(spec["project"])
    _, adapter_type, settings = api.target_settings(project, None)
    settings = {**settings, "read_only": True}
    if spec.get("threads"):
        settings["threads"] = int(spec["threads"])
    request = BacktestRequest(renewals_source=spec["renewals"])
    timings = []
    statements: list[list[dict]] = []
    result = None
    with connect(adapter_type, settings, project.root, must_exist=True) as adapter:
        adapter.fetch("SELECT 1")
        fetch = adapter.fetch

        def timed_fetch(statement: str, parameters: list | None = None) -> tuple[list[str], list[tuple]]:
            started = time.perf_counter()
            fetched = fetch(statement, parameters)
            statements[-1].append({"seconds": time.perf_counter() - started, "rows": len(fetched[1]),
                                   "sql": statement})
            return fetched

        # Every statement of a run is timed, which shows how often the backtest reads the health view.
        adapter.fetch = timed_fetch  # type: ignore[method-assign]
        for run in range(spec["runs"] + 1 if spec["runs"] else 0):
            statements.append([])
            started = time.perf_counter()
            result = run_backtest(project, adapter, request)
            elapsed = time.perf_counter() - started
            if run > 0:
                timings.append(elapsed)
    if result is None:
        return {"timings": timings, "rows": 0, "maxrss_bytes": peak_rss_bytes()}
    return {"timings": timings, "rows": result.renewal_count, "maxrss_bytes": peak_rss_bytes(),
            "scored": len(result.scored), "auc": result.auc, "statements": statements[1:]}


def peak_rss_bytes() -> int:
    """Return the peak resident set size of this process.

    On Linux this is VmHWM of /proc/self/status. getrusage's ru_maxrss is not used there, because
    it keeps the peak of the process before exec, here the larger runner process that started it.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024


def run_worker(database: Path, sql: str, runs: int, threads: int | None) -> dict:
    spec = {"database": str(database), "sql": sql, "runs": runs, "threads": threads}
    return run_process("--worker", spec)


def run_backtest_worker(project_dir: Path, runs: int, threads: int | None) -> dict:
    spec = {"project": str(project_dir), "renewals": RENEWALS_SOURCE, "runs": runs, "threads": threads}
    return run_process("--backtest-worker", spec)


def run_process(option: str, spec: dict) -> dict:
    """Run a worker of this script in a new process with `spec` on its standard input; return its JSON output."""
    completed = subprocess.run([sys.executable, __file__, option], input=json.dumps(spec), capture_output=True,
                               text=True, check=False)
    if completed.returncode != 0:
        raise BenchmarkError(f"the worker process failed (exit {completed.returncode}):\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def project_copy(data_dir: Path, destination: Path) -> Path:
    """Copy the project files of a generated folder and link its data, so that deploy writes only here."""
    project = destination / "project"
    project.mkdir()
    shutil.copy(data_dir / "healthlayer.yml", project / "healthlayer.yml")
    shutil.copytree(data_dir / "models", project / "models")
    (project / "data").symlink_to((data_dir / "data").resolve(), target_is_directory=True)
    return project


def source_table_sql(source, project_root: Path) -> str:
    """Return the FROM item through which healthlayer reads a source on DuckDB, such as read_parquet('...')."""
    from healthlayer.compiler.sources import source_table

    return source_table(source, project_root).sql("duckdb")


def substitute(template: str, events: str, time_zone: str) -> str:
    return string.Template(template).substitute(events=events, time_zone=time_zone)


def peer_queries(events: str, time_zone: str, runs: int) -> list[Query]:
    return [Query(f"peer:{path.stem}", "peer", substitute(path.read_text(encoding="utf-8"), events, time_zone), runs)
            for path in sorted(PEERS.glob("*.sql"))]


def metricflow_model(name: str, events: str, time_zone: str) -> str:
    """Return the SQL of a model of benchmarks/metricflow/models with its dbt variables filled in."""
    text = (METRICFLOW / "models" / f"{name}.sql").read_text(encoding="utf-8")
    text = re.sub(r"\{\{\s*config\(.*?\)\s*\}\}", "", text)
    text = re.sub(r"read_parquet\('\{\{\s*var\(\"events_parquet\"\)\s*\}\}'\)", lambda _: events, text)
    text = re.sub(r"\{\{\s*var\(\"time_zone\"\)\s*\}\}", lambda _: time_zone, text)
    if "{{" in text:
        raise BenchmarkError(f"the model {name}.sql has a dbt expression that run.py does not fill in: "
                             f"{text[text.index('{{'):][:80]}")
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def metricflow_queries(events: str, time_zone: str, runs: int) -> list[Query]:
    """Return the saved MetricFlow SQL reading the benchmark data, with healthlayer's column names.

    MetricFlow's SQL reads dbt models of benchmarks/metricflow/models ("user_days" or
    "core_events", and "metricflow_time_spine") by their names in the dbt project's database. Each
    is replaced by the model's own SQL, so the timed query scans the events file as the views do.
    """
    models = sorted(path.stem for path in (METRICFLOW / "models").glob("*.sql"))
    relations = {name: metricflow_model(name, events, time_zone) for name in models}
    queries = []
    for path in sorted(METRICFLOW_SQL.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        for name, model in relations.items():
            text = re.sub(rf'(?:"[^"]+"\.){{1,2}}"{name}"', lambda _, model=model: f"({model})", text)
        unknown = re.search(r'(?:"[^"]+"\.){1,2}"[^"]+"', text)
        if unknown:
            raise BenchmarkError(f"{path.name} reads {unknown.group(0)}, which is not a model in "
                                 f"{METRICFLOW / 'models'}. Add the model, or save the SQL again with explain.py.")
        columns = [f"{metric_column(text, name, path)} AS {name}" for name in COUNT_COLUMNS]
        account = re.search(r"\bAS (\w+__account_id)\s*$", text, re.MULTILINE)
        if account:
            columns.insert(0, f"{account.group(1)} AS account_id")
        sql = (f"SELECT CAST(metric_time__day AS DATE) AS activity_date, {', '.join(columns)} "
               f"FROM ({text.strip().rstrip(';')}) AS metricflow")
        queries.append(Query(f"metricflow:{path.stem}", "metricflow", sql, runs))
    return queries


def metric_column(text: str, count: str, path: Path) -> str:
    """Return the name of MetricFlow's output column for `count` (dau, wau or mau), `count` or `count_<suffix>`."""
    names = sorted(set(re.findall(rf"\bAS ({count}(?:_\w+)?)\s*$", text, re.MULTILINE)))
    if len(names) != 1:
        raise BenchmarkError(f"{path.name} must have exactly one column named {count} or {count}_<suffix> "
                             f"(the metric of that count), but it has {names or 'none'}. "
                             "Save the SQL again with explain.py.")
    return names[0]


def reference_for(query: Query) -> tuple[str, tuple[str, ...]]:
    scope = query.name.split(":", 1)[1].split("_", 1)[0]
    if scope not in REFERENCE_VIEWS:
        raise BenchmarkError(f"{query.name}: the file name must start with 'global_' or 'account_' to name the "
                             "healthlayer view it is checked against.")
    return REFERENCE_VIEWS[scope]


def check_same_rows(connection, query: Query, schema: str) -> int:
    """Raise BenchmarkError unless a query returns the rows of its reference view; return the row count.

    MetricFlow's rows are compared on complete windows only (days at least 29 days after the first
    day of data), because its windows start at the first day of its time spine. It returns no row
    for a group and day without users in the 30-day window, and NULL where a shorter window is
    empty, so the check reads NULL as 0 and leaves out healthlayer's rows whose MAU is 0.
    """
    view, groups = reference_for(query)
    columns = ", ".join([*groups, "activity_date", *[f"CAST({name} AS BIGINT) AS {name}" for name in COUNT_COLUMNS]])
    complete = " WHERE is_complete AND mau > 0" if query.kind == "metricflow" else ""
    connection.execute(f"CREATE OR REPLACE TEMP TABLE checked AS {query.sql}")
    connection.execute(f'CREATE OR REPLACE TEMP TABLE expected AS SELECT {columns} FROM "{schema}"."{view}"{complete}')
    if query.kind == "metricflow":
        counts = ", ".join(f"COALESCE({name}, 0) AS {name}" for name in COUNT_COLUMNS)
        connection.execute(f"CREATE OR REPLACE TEMP TABLE checked AS SELECT {', '.join(groups)}{',' if groups else ''} "
                           f"activity_date, {counts} FROM checked "
                           "SEMI JOIN (SELECT DISTINCT activity_date FROM expected) AS days USING (activity_date)")
    missing = connection.execute(f"SELECT * FROM expected EXCEPT ALL SELECT {columns} FROM checked "
                                 "ORDER BY ALL LIMIT 5").fetchall()
    extra = connection.execute(f"SELECT {columns} FROM checked EXCEPT ALL SELECT * FROM expected "
                               "ORDER BY ALL LIMIT 5").fetchall()
    rows = connection.execute("SELECT COUNT(*) FROM checked").fetchone()[0]
    if missing or extra:
        raise BenchmarkError(f"{query.name} does not return the rows of {view}.\n"
                             f"  rows of {view} it lacks (first 5): {missing}\n"
                             f"  rows it returns that {view} lacks (first 5): {extra}\n"
                             "Fix the query, or the view, until both count the same users.")
    return rows


def floor_query(project, has_time_zone: bool, dialect: str = "duckdb") -> str:
    """Return one scan of the events grouped to (user, local day), read as healthlayer's events relation reads them.

    The query counts the groups instead of returning them, so that the floor pays for the scan and
    the grouping but not for writing millions of user-day rows, which no stickiness view returns.
    """
    from sqlglot import exp

    from healthlayer.compiler.sources import local_date, source_table

    source = project.sources[project.engagement.source]
    user = exp.column(source.user, quoted=True)
    timestamp = exp.column(source.timestamp, quoted=True)
    day = local_date(timestamp, project.time_zone, has_time_zone)
    query = (exp.select(user.as_("user_id"), day.as_("activity_date"))
             .from_(source_table(source, project.root))
             .where(exp.and_(exp.Not(this=exp.Is(this=user.copy(), expression=exp.Null())),
                             exp.Not(this=exp.Is(this=timestamp.copy(), expression=exp.Null()))))
             .group_by(user.copy(), day.copy()))
    return exp.select(exp.Count(this=exp.Star()).as_("user_days")).from_(query.subquery("g")).sql(dialect)


def selected(name: str, only: list[str], skip: list[str]) -> bool:
    def matches(patterns: list[str]) -> bool:
        return any(fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(name.split(":", 1)[-1], pattern)
                   or name.split(":", 1)[0] == pattern for pattern in patterns)

    return name == "floor" or ((not only or matches(only)) and not matches(skip))


def benchmark_duckdb(arguments: argparse.Namespace) -> dict:
    import duckdb

    from healthlayer.api import deploy_project, file_timestamp_types

    with tempfile.TemporaryDirectory(prefix="healthlayer-bench-") as folder:
        project_dir = project_copy(arguments.data, Path(folder))
        started = time.perf_counter()
        deployment = deploy_project(project_dir)
        deploy_seconds = time.perf_counter() - started
        project = deployment.project
        database = deployment.database
        source = project.sources[project.engagement.source]
        events = source_table_sql(source, project.root)
        has_time_zone = file_timestamp_types(project)[source.name]

        queries = [Query("floor", "floor", floor_query(project, has_time_zone), arguments.runs)]
        queries += [Query(view.name, "view", f'SELECT * FROM "{deployment.schema}"."{view.name}"', arguments.runs)
                    for view in deployment.result.views if view.kind == "output"]
        queries += peer_queries(events, project.time_zone, arguments.runs)
        if METRICFLOW_SQL.is_dir():
            queries += metricflow_queries(events, project.time_zone, arguments.metricflow_runs)
        if arguments.backtest:
            queries.append(backtest_query(project, arguments.runs))
        queries = [query for query in queries if selected(query.name, arguments.only, arguments.skip)]

        with duckdb.connect(str(database), read_only=True) as connection:
            event_rows = connection.execute(f"SELECT COUNT(*) FROM {events}").fetchone()[0]
            for query in queries:
                if query.kind in ("peer", "metricflow"):
                    started = time.perf_counter()
                    check_same_rows(connection, query, deployment.schema)
                    query.note = "same rows as " + reference_for(query)[0]
                    print(f"  checked {query.name}: {query.note} ({time.perf_counter() - started:.1f} s)",
                          file=sys.stderr)

        baseline = run_worker(database, "SELECT 1", 1, arguments.threads)["maxrss_bytes"]
        for query in queries:
            if query.kind == "backtest":
                backtest_baseline = run_backtest_worker(project_dir, 0, arguments.threads)["maxrss_bytes"]
                result = run_backtest_worker(project_dir, query.runs, arguments.threads)
                auc = "undefined" if result["auc"] is None else f"{result['auc']:.3f}"
                query.note = f"{result['scored']:,} of {result['rows']:,} renewals scored, AUC {auc}"
                query.statements = result["statements"]
                query_baseline = backtest_baseline
            else:
                result = run_worker(database, query.sql, query.runs, arguments.threads)
                query_baseline = baseline
            query.all_seconds = result["timings"]
            query.seconds = statistics.median(result["timings"])
            query.rows = result["rows"]
            query.peak_mib = max(0, result["maxrss_bytes"] - query_baseline) / 2 ** 20
            print(f"  timed {query.name}: {query.seconds:.3f} s{f' ({query.note})' if query.note else ''}",
                  file=sys.stderr)

    return {
        "engine": "duckdb", "duckdb": duckdb.__version__, "events": event_rows, "deploy_seconds": deploy_seconds,
        "runs": arguments.runs, "threads": arguments.threads or os.cpu_count(), "cpus": os.cpu_count(),
        "machine": platform.platform(), "queries": [asdict(query) for query in queries],
    }


def backtest_query(project, runs: int) -> Query:
    """Return the timed backtest of the project's health score on the renewals source."""
    if RENEWALS_SOURCE not in project.sources:
        raise BenchmarkError(f"--backtest reads the source '{RENEWALS_SOURCE}', which the project does not declare; "
                             "write the data again with: python benchmarks/generate.py --renewals")
    scores = sorted(project.health_scores)
    if len(scores) != 1:
        raise BenchmarkError(f"--backtest needs exactly one health score in the project, but it has {scores or 'none'}")
    return Query(f"backtest:{scores[0]}", "backtest", "", runs)


def benchmark_spark(arguments: argparse.Namespace) -> dict:
    from spark_benchmark import run_spark

    return run_spark(arguments)


def print_table(report: dict) -> None:
    queries = report["queries"]
    floor = next((query["seconds"] for query in queries if query["name"] == "floor"), None)
    print(f"{report['engine']} {report.get(report['engine'], '')}: {report['events']:,} events, "
          f"{report['threads']} threads, deploy {report['deploy_seconds']:.2f} s, median of {report['runs']} runs")
    print(f"{'query':42} {'rows':>11} {'median s':>9} {'x floor':>8} {'peak MiB':>9}")
    for query in queries:
        ratio = query["seconds"] / floor if floor else float("nan")
        peak = "" if query["peak_mib"] is None else f"{query['peak_mib']:.0f}"
        print(f"{query['name']:42} {query['rows']:>11,} {query['seconds']:>9.3f} {ratio:>8.1f} {peak:>9}")


def main() -> None:
    if sys.argv[1:] == ["--worker"]:
        print(json.dumps(worker(json.loads(sys.stdin.read()))))
        return
    if sys.argv[1:] == ["--backtest-worker"]:
        print(json.dumps(backtest_worker(json.loads(sys.stdin.read()))))
        return
    sys.path.insert(0, str(BENCHMARKS))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=BENCHMARKS / "data" / "1M",
                        help="folder written by generate.py (default: benchmarks/data/1M)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per query after one warm-up (default: 3)")
    parser.add_argument("--metricflow-runs", type=int, default=1,
                        help="timed runs of each MetricFlow query after one warm-up (default: 1)")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="time only queries whose name or kind matches; a glob, repeatable (the floor always runs)")
    parser.add_argument("--skip", action="append", default=[], metavar="NAME",
                        help="leave out queries whose name or kind matches, such as 'metricflow'; repeatable")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's, one per CPU)")
    parser.add_argument("--backtest", action="store_true",
                        help=f"also time healthlayer backtest of the health score on the source '{RENEWALS_SOURCE}' "
                             "(write the data with generate.py --renewals); DuckDB only")
    parser.add_argument("--spark", action="store_true",
                        help="deploy and time the views on a local Spark session instead of DuckDB")
    arguments = parser.parse_args()
    if arguments.spark and arguments.backtest:
        parser.error("--backtest runs on DuckDB only; leave out --spark or --backtest")
    if not (arguments.data / "healthlayer.yml").is_file() or not (arguments.data / "data" / "events.parquet").is_file():
        parser.error(f"{arguments.data} has no healthlayer.yml or data/events.parquet; "
                     f"write it first with: python benchmarks/generate.py --output {arguments.data}")
    try:
        report = benchmark_spark(arguments) if arguments.spark else benchmark_duckdb(arguments)
    except BenchmarkError as error:
        raise SystemExit(f"benchmark failed: {error}") from None
    if arguments.format == "json":
        print(json.dumps(report, indent=2))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
