"""The `healthlayer` command: validate, compile and deploy definitions, and read the results."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from healthlayer.compiler.engagement import CALENDAR_MAX_DAYS
from healthlayer.compiler.render import DIALECTS
from healthlayer.definitions.yaml_loader import UnsetTolerantEnviron
from healthlayer.errors import DefinitionError, HealthlayerError

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2

logger = logging.getLogger("healthlayer")


def _parse_vars(values: tuple[str, ...]) -> dict[str, Any]:
    from healthlayer.definitions.yaml_loader import parse_yaml

    parsed: dict[str, Any] = {}
    for item in values:
        name, separator, raw = item.partition("=")
        if not separator or not name:
            raise click.BadParameter(f"'{item}' is not NAME=VALUE", param_hint="--var")
        # The definition loader's parser reports values such as 2024-13-45 or !!binary as issues.
        loaded, issues = parse_yaml(raw, Path("--var")) if raw else (None, [])
        if issues or (raw and loaded is None):
            reason = f" ({issues[0].message})" if issues else ""
            raise click.BadParameter(f"the value of '{name}' is not valid YAML; quote it to pass text{reason}",
                                     param_hint="--var")
        parsed[name] = loaded.data if loaded is not None else ""
    return parsed


project_option = click.option("--project", "project_dir", type=click.Path(file_okay=False, path_type=Path),
                              default=Path("."), show_default=True, help="Project folder holding healthlayer.yml.")
vars_option = click.option("--var", "variables", multiple=True, metavar="NAME=VALUE",
                           help="Set a var() value, overriding the project file's vars; repeatable.")
target_option = click.option("--target", default=None, help="Target in healthlayer.yml; default: default_target.")


def _console() -> Console:
    # Rich falls back to 80 columns when output is not a terminal, which wraps most tables.
    return Console() if sys.stdout.isatty() else Console(width=160)


def _error_console() -> Console:
    return Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=160)


def _report_definition_error(error: DefinitionError, root: Path, output_format: str = "text") -> None:
    from healthlayer.reporting import format_issues

    click.echo(format_issues(error.issues, output_format, root), err=output_format == "text")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="Log more: -v for info, -vv for every SQL statement.")
@click.version_option(package_name="healthlayer")
def cli(verbose: int) -> None:
    """Engagement and customer-health metrics from YAML definitions, as views in your warehouse."""
    level = logging.WARNING
    if verbose == 1:
        level = logging.INFO
    elif verbose >= 2:
        level = logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@project_option
@vars_option
@click.option("--format", "output_format", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="text for people, json for tools, github for workflow annotations.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option("--warehouse", "warehouse_target", metavar="TARGET", default=None,
              help="Also check the sources, columns and every view's query plan against this target of "
                   "healthlayer.yml; reads metadata and runs EXPLAIN only.")
def validate(project_dir: Path, variables: tuple[str, ...], output_format: str, strict: bool,
             warehouse_target: str | None) -> None:
    """Check the definitions and report every problem with file, line and key.

    File paths are relative to the current folder, as GitHub expects in annotations when the
    command runs at the repository root. Exit codes: 0 clean, 1 errors (or warnings with --strict), 2 usage or internal error.
    """
    from healthlayer import api
    from healthlayer.reporting import format_issues

    if warehouse_target is not None:
        # Connecting needs the real secrets, so env_var() reads the environment as it is.
        issues = api.check_warehouse(project_dir, warehouse_target, _parse_vars(variables))
    else:
        # Validation without --warehouse never connects, so it needs no secrets: an unset env_var()
        # validates as a placeholder.
        issues = api.validate(project_dir, _parse_vars(variables), UnsetTolerantEnviron(os.environ))
    errors = [issue for issue in issues if issue.severity == "error"]
    if output_format == "text":
        if issues:
            click.echo(format_issues(issues, "text", Path.cwd()))
        warnings = len(issues) - len(errors)
        click.echo(f"{len(errors)} error(s), {warnings} warning(s)" if issues else "No problems found.",
                   err=bool(issues))
    elif issues or output_format == "json":
        click.echo(format_issues(issues, output_format, Path.cwd()))
    if errors or (strict and issues):
        sys.exit(EXIT_ERRORS)


@cli.command(name="compile")
@project_option
@vars_option
@click.option("--dialect", default="duckdb", show_default=True,
              type=click.Choice(DIALECTS),
              help="SQL dialect to render.")
@click.option("--schema", default=None, help="Schema of the views; default: the target's schema, else 'analytics'.")
@click.option("--output", "output_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write one .sql file per view into this folder instead of printing.")
def compile_command(project_dir: Path, variables: tuple[str, ...], dialect: str, schema: str | None,
                    output_dir: Path | None) -> None:
    """Print the CREATE VIEW statements of every view, and CREATE TABLE for stored outputs, in dependency order."""
    from healthlayer import api

    project, _ = api.load(project_dir, _parse_vars(variables))
    if schema is None:
        _, _, settings = api.target_settings(project, None)
        schema = settings.get("schema", "analytics")
    timestamp_types = api.file_timestamp_types(project) if dialect == "duckdb" else None
    statements = api.compile_project(project, dialect, schema, timestamp_types)
    if output_dir is None:
        click.echo("\n\n".join(statement + ";" for _, statement in statements))
        return
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for index, (name, statement) in enumerate(statements):
            (output_dir / f"{index:02d}_{name}.sql").write_text(statement + ";\n", encoding="utf-8")
    except OSError as error:
        raise HealthlayerError(f"cannot write to {output_dir}: {error.strerror}") from None
    click.echo(f"Wrote {len(statements)} files to {output_dir}", err=True)


@cli.command()
@project_option
@vars_option
@target_option
def deploy(project_dir: Path, variables: tuple[str, ...], target: str | None) -> None:
    """Create or replace the project's views in the target; only views healthlayer created are replaced.

    Outputs stored as tables are built from every day. Progress goes to the error stream: a
    progress bar on a terminal, otherwise one line per view with its rows and seconds.
    """
    from healthlayer import api
    from healthlayer.progress import BuildReporter

    with BuildReporter(_error_console()) as reporter:
        deployment = api.deploy_project(project_dir, target, _parse_vars(variables), progress=reporter)
    result = deployment.result
    outputs = [view.name for view in result.views if view.kind == "output"]
    tables = {step.name for step in reporter.steps if step.action != "view"}
    where = f" in {result.database}" if result.database else ""
    counted = f"{len(outputs)} outputs ({len(tables)} stored as tables)" if tables else f"{len(outputs)} views"
    click.echo(f"Deployed {counted} to schema '{result.schema}'{where}: {', '.join(outputs)}")
    if result.dropped:
        click.echo(f"Dropped views and tables no longer defined: {', '.join(result.dropped)}")


@cli.command()
@project_option
@vars_option
@target_option
@click.option("--full", is_flag=True, help="Rebuild incremental tables from every day instead of their recent days.")
@click.option("--select", "names", multiple=True, metavar="VIEW",
              help="Refresh only this stored output and the stored outputs it reads; repeatable. "
                   "Default: every stored output.")
def refresh(project_dir: Path, variables: tuple[str, ...], target: str | None, full: bool,
            names: tuple[str, ...]) -> None:
    """Bring the stored tables of a deployed project up to date with the events.

    A table (materialized: table) is rebuilt from every day. An incremental table recomputes its
    last `lookback` days, for events that arrived late, and every newer day, in one transaction.
    When the events now end before its last day, it is rebuilt from every day. Views need no
    refresh.
    """
    from healthlayer import api
    from healthlayer.progress import BuildReporter

    with BuildReporter(_error_console()) as reporter:
        steps = api.refresh_project(project_dir, target, _parse_vars(variables), full=full,
                                    names=set(names) if names else None, progress=reporter)
    if not steps:
        click.echo("No stored outputs: every output is a view, which needs no refresh.")
        return
    rows = sum(step.rows or 0 for step in steps)
    seconds = sum(step.seconds for step in steps)
    tables = "1 table" if len(steps) == 1 else f"{len(steps)} tables"
    click.echo(f"Refreshed {tables}: {rows:,} rows written in {seconds:.1f} s.")


@cli.command()
@project_option
@vars_option
@target_option
def summary(project_dir: Path, variables: tuple[str, ...], target: str | None) -> None:
    """Print the latest stickiness, tier mix, health bands and alerts of a deployed project."""
    from healthlayer import api
    from healthlayer.summary import print_summary

    project, _ = api.load(project_dir, _parse_vars(variables))
    with api.open_target(project, target, must_exist=True) as adapter:
        print_summary(project, adapter, _console())


@cli.command()
@project_option
@vars_option
@target_option
@click.option("--renewals", "renewals_source", required=True, metavar="SOURCE",
              help="Source of the project with one row per renewal and its outcome.")
@click.option("--score", "score_name", default=None, metavar="NAME",
              help="Health score to backtest; default: the project's only health score.")
@click.option("--days-before", type=click.IntRange(min=0, max=CALENDAR_MAX_DAYS), default=90, show_default=True,
              help="Score each renewal on the day this many days before its renewal date, at most the "
                   f"{CALENDAR_MAX_DAYS:,} days of the longest data range.")
@click.option("--account-column", default=None, help="Account column of the renewals; default: the source's account.")
@click.option("--date-column", default="renewal_date", show_default=True, help="Renewal date column.")
@click.option("--outcome-column", default="renewed", show_default=True,
              help="Outcome column: a boolean, or the text 'renewed' or 'churned'.")
@click.option("--value-column", default=None,
              help="Contract value column, for value-weighted renewal rates; default: contract_value if present.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people, json for tools.")
@click.option("--chart", "chart_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the renewal rate per score decile as a chart to this .png or .svg file "
                   "(needs the 'charts' extra).")
def backtest(project_dir: Path, variables: tuple[str, ...], target: str | None, renewals_source: str,
             score_name: str | None, days_before: int, account_column: str | None, date_column: str,
             outcome_column: str, value_column: str | None, output_format: str, chart_file: Path | None) -> None:
    """Check a deployed health score against renewal outcomes.

    Each renewal is scored on the day --days-before days before its renewal date. The report
    gives the renewal rate per band and per score decile, the AUC, and the lift of the lowest
    band against the highest. It adds the lead time of churned accounts in the lowest band, the
    band changes when a category weight moves by 10 points, and every renewal that cannot be
    scored. docs/backtest.md defines each figure.
    """
    from healthlayer import api
    from healthlayer.backtest import BacktestRequest, run_backtest
    from healthlayer.backtest_report import check_chart_path, print_backtest, result_json, write_chart

    if chart_file is not None:
        check_chart_path(chart_file)
    request = BacktestRequest(renewals_source=renewals_source, score=score_name, days_before=days_before,
                              account_column=account_column, date_column=date_column,
                              outcome_column=outcome_column, value_column=value_column)
    project, _ = api.load(project_dir, _parse_vars(variables))
    with api.open_target(project, target, must_exist=True) as adapter:
        result = run_backtest(project, adapter, request)
    if chart_file is not None:
        write_chart(result, chart_file)
    if output_format == "json":
        click.echo(result_json(result))
    else:
        print_backtest(_console(), result)
    if chart_file is not None:
        click.echo(f"Wrote the decile chart to {chart_file}", err=True)


@cli.command()
@project_option
@target_option
@click.argument("statement")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="A table for reading, or JSON: a list of objects with values as text where JSON has no type for them.")
def query(project_dir: Path, target: str | None, statement: str, output_format: str) -> None:
    """Run one SQL query against the target and print the rows, for example on a deployed view."""
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    from healthlayer import api
    from healthlayer.reporting import print_table

    try:
        count = len([parsed for parsed in sqlglot.parse(statement, read="duckdb") if parsed is not None])
    except (ParseError, TokenError):
        count = 1  # The warehouse reports the syntax error itself.
    if count != 1:
        raise click.BadParameter(f"expected one SQL statement, got {count}", param_hint="STATEMENT")
    project, _ = api.load(project_dir)
    with api.open_target(project, target, must_exist=True) as adapter:
        columns, rows = adapter.fetch(statement)
    if output_format == "json":
        click.echo(json.dumps([dict(zip(columns, row)) for row in rows], default=str, indent=2))
    else:
        print_table(_console(), "", columns, rows)


@cli.command(name="schema")
@click.option("--kind", type=click.Choice(["definitions", "project"]), default="definitions", show_default=True,
              help="definitions for definition files, project for healthlayer.yml.")
@click.option("--output", "output_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the schema to this file instead of printing it.")
def schema_command(kind: str, output_file: Path | None) -> None:
    """Print the JSON Schema (draft 2020-12) of definition files or healthlayer.yml, for editors."""
    from healthlayer.schema import schema_text

    text = schema_text(kind)
    if output_file is None:
        click.echo(text, nl=False)
        return
    try:
        output_file.parent.mkdir(parents=True, exist_ok=True)
        output_file.write_text(text, encoding="utf-8")
    except OSError as error:
        raise HealthlayerError(f"cannot write the schema to {output_file}: {error.strerror}. "
                               "Check that its folder exists and is writable.") from None
    click.echo(f"Wrote the {kind} schema to {output_file}", err=True)
@cli.command(name="test")
@project_option
@vars_option
@click.option("--select", "patterns", multiple=True, metavar="NAME",
              help="Run only the tests with this name, or matching a pattern such as 'stickiness_*'; repeatable.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people, json for tools.")
def test_command(project_dir: Path, variables: tuple[str, ...], patterns: tuple[str, ...], output_format: str) -> None:
    """Run the fixture tests of the definitions (`tests:`) on an in-memory DuckDB.

    No warehouse is needed: each source is a table of the rows the test gives. Exit codes: 0 all
    passed, 1 a test failed or a definition is invalid, 2 usage or internal error.
    """
    from healthlayer import testing
    from healthlayer.definitions.issues import did_you_mean

    cli_vars = _parse_vars(variables)
    try:
        project = testing.load(project_dir, cli_vars)
    except DefinitionError as error:
        if output_format != "json":
            raise
        _report_definition_error(error, Path.cwd(), "json")
        sys.exit(EXIT_ERRORS)
    names, unmatched = testing.select_tests(project, patterns)
    if unmatched:
        raise click.BadParameter(f"no test matches '{unmatched[0]}'. {did_you_mean(unmatched[0], project.tests)}",
                                 param_hint="--select")
    run = testing.run_tests(project, names, cli_vars)
    if output_format == "json":
        click.echo(testing.results_json(run, Path.cwd()))
    else:
        testing.print_results(_console(), run, Path.cwd())
    if not run.ok:
        sys.exit(EXIT_ERRORS)


@cli.command()
def adapters() -> None:
    """List the installed warehouse adapters, with whether each can be loaded."""
    from healthlayer.adapters.registry import adapter_class, available_adapters, install_hint, missing_driver

    for name, location in sorted(available_adapters().items()):
        try:
            adapter = adapter_class(name)
        except HealthlayerError as error:
            click.echo(f"{name}\t{location}\tunavailable: {error}")
            continue
        driver = missing_driver(adapter)
        if driver is None:
            status = f"ready (dialect {adapter.dialect})"
        else:
            status = f"driver missing: Python package '{driver}' is not installed; {install_hint(name)}"
        click.echo(f"{name}\t{location}\t{status}")


def main() -> None:
    """Run the command line, mapping errors to exit codes in one place."""
    try:
        cli.main(standalone_mode=False)
    except DefinitionError as error:
        root = Path(".").resolve()
        _report_definition_error(error, root)
        sys.exit(EXIT_ERRORS)
    except HealthlayerError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_ERRORS)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 - the last resort: a bug, reported without a traceback
        logger.debug("internal error", exc_info=True)
        click.echo(f"internal error: {type(error).__name__}: {error}. This is a bug in healthlayer; "
                   "run again with -vv for the traceback and report it.", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
