"""The `healthlayer` command on copies of tests/fixtures/shop: exit codes, output formats and deploys.

Most tests run `healthlayer.cli.main` in process, which maps errors to exit codes as the
installed command does. Tests that check stderr for tracebacks or read -vv logs run the
installed command in a subprocess, because logging is configured once per process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import SHOP, SHOP_DATABASE, Result, create_raw_tables

from healthlayer import api
from healthlayer.compiler.plan import build_plan

DPDK_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dpdk"

HEALTHLAYER = Path(sys.executable).parent / "healthlayer"
ENGAGEMENT = "models/engagement.yml"
OUTPUT_VIEWS = ["stickiness_daily", "stickiness_daily_by_account", "tier_mix_daily", "engagement_tiers_daily",
                "tier_transitions", "account_health", "account_health_explanations", "alerts"]
COMMANDS = ["validate", "compile", "deploy", "summary", "backtest", "query", "adapters"]
SECRET = "hl-test-secret-5f1c9e"


@pytest.fixture(scope="module")
def deployed_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a copy of the fixture project deployed once for the tests of this module that only read it."""
    project = tmp_path_factory.mktemp("deployed") / "shop"
    shutil.copytree(SHOP, project)
    create_raw_tables(project / SHOP_DATABASE)
    api.deploy_project(project)
    return project


def run_installed(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
    """Run the installed `healthlayer` command in a subprocess."""
    completed = subprocess.run([str(HEALTHLAYER), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                               env={**os.environ, **(env or {})})
    return Result(completed.returncode, completed.stdout, completed.stderr)


def replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def break_level_key(project: Path) -> None:
    """Misspell `level` on line 17 of models/engagement.yml."""
    replace_text(project / ENGAGEMENT, "    level: buyer\n", "    levle: buyer\n")


def fetch(project: Path, statement: str) -> list[tuple]:
    connection = duckdb.connect(str(project / SHOP_DATABASE), read_only=True)
    try:
        return connection.execute(statement).fetchall()
    finally:
        connection.close()


def schema_objects(project: Path) -> dict[str, tuple[str, str | None]]:
    """Return the views and tables of the analytics schema: name -> (kind, comment)."""
    rows = fetch(project, "SELECT view_name, 'VIEW', comment FROM duckdb_views() WHERE schema_name = 'analytics' "
                          "UNION ALL SELECT table_name, 'TABLE', comment FROM duckdb_tables() "
                          "WHERE schema_name = 'analytics'")
    return {name: (kind, comment) for name, kind, comment in rows}


def view_definitions(project: Path) -> dict[str, tuple[str, str]]:
    """Return the SQL and the comment of every view of the analytics schema, by name."""
    rows = fetch(project, "SELECT view_name, sql, comment FROM duckdb_views() WHERE schema_name = 'analytics'")
    return {name: (sql, comment) for name, sql, comment in rows}


def view_counts(project: Path) -> dict[str, int]:
    return {view: fetch(project, f'SELECT COUNT(*) FROM analytics."{view}"')[0][0] for view in OUTPUT_VIEWS}


# validate

def test_validate_clean(run, shop_project: Path):
    result = run("validate", "--project", str(shop_project))

    assert result.exit_code == 0
    assert result.stdout == "No problems found.\n"


def test_validate_text(run, shop_project: Path):
    break_level_key(shop_project)

    result = run("validate", cwd=shop_project)

    assert result.exit_code == 1
    assert result.stdout == ("models/engagement.yml:17:5: error unknown-key at stickiness[0].levle: unknown key "
                             "'levle' Hint: Did you mean 'level'?\n")
    assert result.stderr == "1 error(s), 0 warning(s)\n"


def test_validate_json(run, shop_project: Path):
    break_level_key(shop_project)

    result = run("validate", "--format", "json", cwd=shop_project)

    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "errors": 1,
        "warnings": 0,
        "issues": [{
            "code": "unknown-key",
            "severity": "error",
            "file": "models/engagement.yml",
            "line": 17,
            "column": 5,
            "key": "stickiness[0].levle",
            "message": "unknown key 'levle'",
            "hint": "Did you mean 'level'?",
        }],
    }


def test_validate_json_clean(run, shop_project: Path):
    result = run("validate", "--project", str(shop_project), "--format", "json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"errors": 0, "warnings": 0, "issues": []}


def test_validate_github(run, shop_project: Path):
    break_level_key(shop_project)

    result = run("validate", "--format", "github", cwd=shop_project)

    assert result.exit_code == 1
    assert result.stdout == ("::error file=models/engagement.yml,line=17,col=5,title=unknown-key::"
                             "stickiness[0].levle: unknown key 'levle' Hint: Did you mean 'level'?\n")


def test_validate_github_subfolder(run, shop_project: Path):
    break_level_key(shop_project)

    result = run("validate", "--project", "shop", "--format", "github", cwd=shop_project.parent)

    assert result.stdout.startswith("::error file=shop/models/engagement.yml,line=17,")


def test_validate_installed(shop_project: Path):
    clean = run_installed("validate", "--project", str(shop_project), cwd=shop_project.parent)
    break_level_key(shop_project)
    broken = run_installed("validate", "--project", str(shop_project), cwd=shop_project.parent)

    assert clean.exit_code == 0
    assert broken.exit_code == 1
    assert "models/engagement.yml:17:5: error unknown-key" in broken.stdout


# compile

def relation_names(project_dir: Path) -> list[str]:
    """Return the names of every relation of a project, in the order that compile writes them."""
    project, _ = api.load(project_dir)
    return [relation.name for relation in build_plan(project, "analytics").relations]


def test_compile_snowflake(run, shop_project: Path):
    relations = relation_names(shop_project)

    result = run("compile", "--project", str(shop_project), "--dialect", "snowflake")

    assert result.exit_code == 0
    assert result.stdout.count("CREATE OR REPLACE VIEW") == len(relations)
    for name in relations:
        assert f"CREATE OR REPLACE VIEW analytics.{name} AS" in result.stdout


def test_compile_schema_option(run, shop_project: Path):
    result = run("compile", "--project", str(shop_project), "--schema", "reporting")

    assert result.exit_code == 0
    assert 'CREATE OR REPLACE VIEW reporting.stickiness_daily AS' in result.stdout
    assert '"analytics"' not in result.stdout


def test_compile_output_dir(run, shop_project: Path, tmp_path: Path):
    output = tmp_path / "sql"
    relations = relation_names(shop_project)

    result = run("compile", "--project", str(shop_project), "--output", str(output))

    files = sorted(path.name for path in output.iterdir())
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"Wrote {len(relations)} files to {output}\n"
    assert files == [f"{index:02d}_{name}.sql" for index, name in enumerate(relations)]
    first = (output / files[0]).read_text(encoding="utf-8")
    assert first.startswith(f"CREATE OR REPLACE VIEW analytics.{relations[0]} AS")
    assert first.endswith(";\n")


def test_compile_invalid_project(run, shop_project: Path):
    break_level_key(shop_project)

    result = run("compile", "--project", "shop", cwd=shop_project.parent)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "shop/models/engagement.yml:17:5: error unknown-key at stickiness[0].levle" in result.stderr


def test_compile_unknown_dialect(run, shop_project: Path):
    result = run("compile", "--project", str(shop_project), "--dialect", "oracle")

    assert result.exit_code == 2
    assert "'oracle' is not one of" in result.stderr


# deploy

def test_deploy_creates_views(run, shop_with_data: Path):
    result = run("deploy", "--project", str(shop_with_data))

    database = (shop_with_data / SHOP_DATABASE).resolve()
    assert result.exit_code == 0
    assert result.stdout == (f"Deployed {len(OUTPUT_VIEWS)} views to schema 'analytics' in {database}: "
                             f"{', '.join(OUTPUT_VIEWS)}\n")
    objects = schema_objects(shop_with_data)
    for view in OUTPUT_VIEWS:
        kind, comment = objects[view]
        assert kind == "VIEW"
        assert comment.startswith("healthlayer: project shop: ")
    counts = view_counts(shop_with_data)
    assert all(count > 0 for count in counts.values()), counts


def test_deploy_idempotent(run, shop_with_data: Path):
    first = run("deploy", "--project", str(shop_with_data))
    definitions = view_definitions(shop_with_data)

    second = run("deploy", "--project", str(shop_with_data))

    assert first.exit_code == 0
    assert second.exit_code == 0
    assert second.stdout == first.stdout
    assert "Dropped" not in second.stdout
    assert view_definitions(shop_with_data) == definitions
    assert fetch(shop_with_data, "SELECT COUNT(*) > 0 FROM analytics.stickiness_daily") == [(True,)]


def test_deploy_drops_removed_view(run, shop_with_data: Path):
    run("deploy", "--project", str(shop_with_data))
    engagement = shop_with_data / ENGAGEMENT
    replace_text(engagement, "  - name: stickiness_daily\n    level: buyer\n", "")

    result = run("deploy", "--project", str(shop_with_data))

    assert result.exit_code == 0
    assert result.stdout.endswith("Dropped views and tables no longer defined: stickiness_daily\n")
    assert "stickiness_daily" not in schema_objects(shop_with_data)


@pytest.mark.parametrize("statement", [
    "CREATE TABLE analytics.stickiness_daily AS SELECT 42 AS answer",
    "CREATE VIEW analytics.stickiness_daily AS SELECT 42 AS answer",
    'CREATE VIEW analytics."Stickiness_Daily" AS SELECT 42 AS answer',
    'CREATE VIEW "Analytics"."STICKINESS_DAILY" AS SELECT 42 AS answer',
])
def test_deploy_rejects_foreign_object(run, shop_with_data: Path, statement: str):
    connection = duckdb.connect(str(shop_with_data / SHOP_DATABASE))
    connection.execute('CREATE SCHEMA "Analytics"' if '"Analytics"' in statement else "CREATE SCHEMA analytics")
    connection.execute(statement)
    connection.close()
    before = schema_objects(shop_with_data)

    result = run("deploy", "--project", str(shop_with_data))

    assert result.exit_code == 1
    assert result.stderr == ("error: schema 'analytics' already has objects that project 'shop' did not create "
                             "(tables, your own views, or views of another healthlayer project): stickiness_daily; "
                             "rename or move them, or deploy to another schema (one project per schema)\n")
    assert schema_objects(shop_with_data) == before
    assert fetch(shop_with_data, "SELECT * FROM analytics.stickiness_daily") == [(42,)]


def test_deploy_keeps_other_project(run, shop_with_data: Path, tmp_path: Path):
    run("deploy", "--project", str(shop_with_data))
    other = tmp_path / "other"
    (other / "models").mkdir(parents=True)
    (other / "healthlayer.yml").write_text(
        "name: other\npaths: [models]\n"
        f"targets:\n  local: {{type: duckdb, path: {shop_with_data / SHOP_DATABASE}, schema: analytics}}\n",
        encoding="utf-8")
    (other / "models" / "views.yml").write_text(
        "sources:\n"
        "  - {name: visits, table: raw.events, account: account_id, user: user_id, timestamp: event_ts, "
        "event_name: event_type}\n"
        "engagement:\n  source: visits\n  tiers: [{name: visitor, events: '*'}]\n", encoding="utf-8")
    shop_views = schema_objects(shop_with_data)

    result = run("deploy", "--project", str(other))

    assert result.exit_code == 1
    assert "engagement_tiers_daily" in result.stderr
    assert schema_objects(shop_with_data) == shop_views


def test_deploy_missing_source_table(shop_with_data: Path):
    api.deploy_project(shop_with_data)
    definitions = view_definitions(shop_with_data)
    sources = shop_with_data / "models" / "sources.yml"
    sources.write_text(sources.read_text(encoding="utf-8") + (
        "\n  - name: returns\n    table: raw.returns\n    account: account_id\n    timestamp: returned_at\n"),
        encoding="utf-8")

    failed = run_installed("deploy", "--project", str(shop_with_data), cwd=shop_with_data)

    assert failed.exit_code == 1
    assert failed.stdout == ""
    assert failed.stderr.startswith("error: cannot read source 'returns': ")
    assert "Traceback" not in failed.stderr
    assert view_definitions(shop_with_data) == definitions
    assert all(count > 0 for count in view_counts(shop_with_data).values())


def test_deploy_rolls_back(shop_with_data: Path):
    api.deploy_project(shop_with_data)
    definitions = view_definitions(shop_with_data)
    # A declared column that raw.events does not have makes CREATE VIEW _hl_events fail.
    replace_text(shop_with_data / "models" / "sources.yml", "      plan: text\n", "      plan: text\n      coupon: text\n")

    failed = run_installed("deploy", "--project", str(shop_with_data), cwd=shop_with_data)

    assert failed.exit_code == 1
    assert failed.stderr.startswith("error: DuckDB rejected a statement: ")
    assert "coupon" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert view_definitions(shop_with_data) == definitions
    assert all(count > 0 for count in view_counts(shop_with_data).values())


def test_summary(run, deployed_shop: Path):
    result = run("summary", "--project", str(deployed_shop))

    assert result.exit_code == 0
    assert "Stickiness on the last day of data, 2024-04-29 (stickiness_daily, level buyer)" in result.stdout
    assert "Health bands on the last day" in result.stdout


def test_summary_bands_equal_sql(deployed_shop: Path):
    """The band table that summary computes from one read of the day's rows equals a GROUP BY of them."""
    from healthlayer.summary import _bands

    project, _ = api.load(deployed_shop)
    with api.open_target(project, must_exist=True) as adapter:
        day = "(SELECT MAX(as_of_date) FROM analytics.account_health)"
        _, rows = adapter.fetch(f"SELECT account_id, health_score, band, coverage FROM analytics.account_health "
                                f"WHERE as_of_date = {day}")
        _, expected = adapter.fetch(f"SELECT band, COUNT(*), ROUND(AVG(health_score), 1) FROM analytics.account_health "
                                    f"WHERE as_of_date = {day} GROUP BY band")
    assert sorted(_bands(rows), key=repr) == sorted(expected, key=repr)


def test_summary_names_stale_tables(run, shop_with_data: Path):
    project_file = shop_with_data / "healthlayer.yml"
    project_file.write_text(project_file.read_text() + "outputs:\n  stickiness_daily: {materialized: table}\n")
    assert run("deploy", "--project", str(shop_with_data)).exit_code == 0
    with duckdb.connect(str(shop_with_data / SHOP_DATABASE)) as connection:
        connection.execute("INSERT INTO raw.events SELECT * REPLACE (event_ts + INTERVAL 3 DAY AS event_ts) "
                           "FROM raw.events WHERE event_ts = (SELECT MAX(event_ts) FROM raw.events)")

    result = run("summary", "--project", str(shop_with_data))

    assert result.exit_code == 0, result.stderr
    assert "Stickiness on 2024-04-29, the last stored day (stickiness_daily" in result.stdout
    assert "these stored tables end earlier: stickiness_daily (through 2024-04-29)" in result.stdout
    assert run("refresh", "--project", str(shop_with_data)).exit_code == 0
    assert "stored tables end earlier" not in run("summary", "--project", str(shop_with_data)).stdout


def test_query_json(run, deployed_shop: Path):
    result = run("query", "--project", str(deployed_shop), "--format", "json",
                 "SELECT COUNT(DISTINCT account_id) AS accounts FROM analytics.account_health")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == [{"accounts": 2}]


# adapters and help

def test_adapters(run):
    result = run("adapters")

    assert result.exit_code == 0
    assert "duckdb\thealthlayer.adapters.duckdb:DuckDBAdapter\tready (dialect duckdb)\n" in result.stdout


def test_help(tmp_path: Path):
    result = run_installed("--help", cwd=tmp_path)

    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: healthlayer [OPTIONS] COMMAND [ARGS]...")
    for command in COMMANDS:
        assert f"  {command} " in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help(tmp_path: Path, command: str):
    result = run_installed(command, "--help", cwd=tmp_path)

    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: healthlayer {command} [OPTIONS]")
    assert result.stderr == ""


# secrets

def add_secret_settings(project: Path) -> None:
    """Add a var and two targets with a setting filled from env_var('HL_TEST_SECRET')."""
    replace_text(project / "healthlayer.yml", "vars:\n",
                 "  secured:\n    type: duckdb\n    path: shop.duckdb\n    schema: analytics\n"
                 "    password: \"{{ env_var('HL_TEST_SECRET') }}\"\n"
                 "  mistyped:\n    type: duckdb\n    path: shop.duckdb\n"
                 "    threads: \"{{ env_var('HL_TEST_SECRET') }}\"\n"
                 "vars:\n  api_token: \"{{ env_var('HL_TEST_SECRET') }}\"\n")


@pytest.mark.parametrize("args", [
    ("-vv", "validate"),
    ("-vv", "compile", "--dialect", "snowflake"),
    ("-vv", "deploy"),
    ("-vv", "deploy", "--target", "secured"),
    ("-vv", "deploy", "--target", "mistyped"),
], ids=["validate", "compile", "deploy", "deploy-unknown-setting", "deploy-invalid-setting"])
def test_secret_not_printed(shop_with_data: Path, args: tuple[str, ...]):
    add_secret_settings(shop_with_data)

    result = run_installed(*args, cwd=shop_with_data, env={"HL_TEST_SECRET": SECRET})

    assert "Traceback" not in result.stderr
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr


def test_validate_missing_source_file(run, tmp_path: Path):
    project = tmp_path / "dpdk"
    shutil.copytree(DPDK_EXAMPLE, project, ignore=shutil.ignore_patterns("*.duckdb", "*.parquet"))

    result = run("validate", cwd=project)

    assert result.exit_code == 1
    assert result.stdout.startswith("models/sources.yml:3:5: error file-not-found at sources[0].file: "
                                    "file 'data/events.parquet' does not exist")


def test_summary_before_deploy(run, shop_project: Path):
    database = (shop_project / SHOP_DATABASE).resolve()

    result = run("summary", "--project", str(shop_project))

    assert result.exit_code == 1
    assert result.stderr == f"error: DuckDB database {database} does not exist; run 'healthlayer deploy' first\n"
    assert not database.exists()


def test_summary_without_views(run, shop_with_data: Path):
    result = run("summary", "--project", str(shop_with_data))

    assert result.exit_code == 1
    assert "are not deployed in schema 'analytics'; run 'healthlayer deploy' first" in result.stderr


def test_summary_of_changed_definitions(run, shop_with_data: Path):
    assert run("deploy", "--project", str(shop_with_data)).exit_code == 0
    engagement = shop_with_data / "models" / "engagement.yml"
    engagement.write_text(engagement.read_text().replace(
        "    - name: power\n", "    - name: reviewer\n      events: [review]\n    - name: power\n"))

    result = run("summary", "--project", str(shop_with_data))

    assert result.exit_code == 1
    assert "reviewer_users" in result.stderr
    assert result.stderr.rstrip().endswith("if the definitions changed since the last deploy, run 'healthlayer deploy' first")


def test_summary_after_deploy(run, shop_with_data: Path):
    assert run("deploy", "--project", str(shop_with_data)).exit_code == 0

    result = run("summary", "--project", str(shop_with_data))

    assert result.exit_code == 0
    assert "Stickiness on the last day of data" in result.stdout
    assert "Health bands on the last day" in result.stdout
    assert "Alerts of the last 30 days of data" in result.stdout


def test_deploy_rejects_overlong_data_range(run, shop_with_data: Path):
    assert run("deploy", "--project", str(shop_with_data)).exit_code == 0
    definitions = "SELECT view_name, sql, comment FROM duckdb_views() WHERE schema_name = 'analytics' ORDER BY 1"
    before = fetch(shop_with_data, definitions)
    connection = duckdb.connect(str(shop_with_data / SHOP_DATABASE))
    connection.execute("INSERT INTO raw.events VALUES ('acct_a', 'u_far', TIMESTAMP '2400-01-01 12:00:00', "
                       "'page_view', NULL, NULL, NULL, 'pro')")
    connection.close()

    result = run("deploy", "--project", str(shop_with_data))

    assert result.exit_code == 1
    assert "days a calendar may have; look for wrong timestamps" in result.stderr
    assert "to 2400-01-01" in result.stderr
    assert fetch(shop_with_data, definitions) == before


def test_var_invalid_yaml(run, shop_project: Path):
    result = run("validate", "--project", str(shop_project), "--var", "buyer_share_target=[unclosed")

    assert result.exit_code == 2
    assert "the value of 'buyer_share_target' is not valid YAML; quote it to pass text" in result.stderr
    assert "Traceback" not in result.stderr


def test_compile_output_unwritable(run, shop_project: Path, tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")

    result = run("compile", "--project", str(shop_project), "--output", str(blocker / "sql"))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot write to {blocker / 'sql'}: ")


@pytest.mark.parametrize(("statement", "count"), [("", 0), ("SELECT 1; SELECT 2", 2)])
def test_query_one_statement(run, shop_with_data: Path, statement: str, count: int):
    result = run("query", "--project", str(shop_with_data), statement)

    assert result.exit_code == 2
    assert f"expected one SQL statement, got {count}" in result.stderr


def test_yaml_alias_cycle(run, shop_project: Path):
    (shop_project / "models" / "cycle.yml").write_text("sources: &cycle [*cycle]\n", encoding="utf-8")

    result = run("validate", cwd=shop_project)

    assert result.exit_code == 1
    assert result.stdout.startswith("models/cycle.yml: error yaml-too-deep: the YAML is nested too deeply, or an "
                                    "alias refers to itself")


def test_env_var_value_redacted(run, shop_project: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HL_TEST_SECRET", "s3cr3t-Pa55")
    replace_text(shop_project / "models" / "engagement.yml", "  - name: stickiness_daily\n",
                 "  - name: \"{{ env_var('HL_TEST_SECRET') }}\"\n")

    result = run("validate", "--format", "json", cwd=shop_project)

    assert result.exit_code == 1
    assert "invalid name '***'" in result.stdout
    assert "s3cr3t" not in result.stdout
    assert "s3cr3t" not in result.stderr


def test_target_path_data_file(run, shop_with_data: Path):
    replace_text(shop_with_data / "healthlayer.yml", "path: shop.duckdb", "path: models/engagement.yml")

    result = run("deploy", "--project", str(shop_with_data))

    assert result.exit_code == 1
    assert "is not a DuckDB database; point 'path' at a new file or an existing .duckdb file" in result.stderr


def test_deploy_population_other_source(run, shop_with_data: Path):
    replace_text(shop_with_data / "models" / "health.yml", "population: {source: events, filter: \"plan <> 'internal'\"}",
                 "population: {source: nps}")

    assert run("deploy", "--project", str(shop_with_data)).exit_code == 0

    accounts = fetch(shop_with_data, "SELECT DISTINCT account_id FROM analytics.account_health ORDER BY 1")
    first_days = fetch(shop_with_data, "SELECT account_id, MIN(as_of_date) FROM analytics.account_health "
                                       "GROUP BY 1 ORDER BY 1")
    nps_first_days = fetch(shop_with_data, "SELECT account_id, MIN(CAST(responded_at AT TIME ZONE 'Europe/Berlin' "
                                           "AS DATE)) FROM raw.nps GROUP BY 1 ORDER BY 1")
    assert accounts == [("acct_a",), ("acct_b",)]
    assert first_days == nps_first_days
