"""The library API behind the command line: load, compile and deploy a project."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pydantic import BaseModel, ValidationError
from sqlglot import exp

from healthlayer.adapters.base import Adapter, BuildStep, DataRange, DeployResult, ProgressCallback
from healthlayer.adapters.registry import adapter_class, available_adapters, connect
from healthlayer.compiler import sql
from healthlayer.compiler.incremental import build_refresh_plan
from healthlayer.compiler.plan import Plan, Relation, build_plan, check_expressions
from healthlayer.compiler.quoting import quote_keywords
from healthlayer.compiler.render import check_dialect, prepare_query, render_create_table, render_create_view
from healthlayer.compiler.sources import source_table
from healthlayer.definitions.issues import Issue, did_you_mean
from healthlayer.definitions.project import Project, load_partial_project, load_project, redact_issues
from healthlayer.definitions.yaml_loader import UnsetTolerantEnviron
from healthlayer.errors import DefinitionError, HealthlayerError, UnsupportedError
from healthlayer.testing import check_expected_columns

logger = logging.getLogger(__name__)


def load(project_dir: Path | str, vars: Mapping[str, Any] | None = None) -> tuple[Project, list[Issue]]:
    """Load and check a project; raise DefinitionError with every issue when it has errors."""
    project, issues = load_project(Path(project_dir), vars)
    if project is None:
        raise DefinitionError(issues)
    return project, issues


def validate(project_dir: Path | str, vars: Mapping[str, Any] | None = None,
             environ: Mapping[str, str] | None = None) -> list[Issue]:
    """Return every issue of a project, including invalid expressions that only the compiler finds.

    `environ` replaces the process environment for env_var(), for example an UnsetTolerantEnviron.
    """
    return _validate(project_dir, vars, environ)[1]


def _validate(project_dir: Path | str, vars: Mapping[str, Any] | None,
              environ: Mapping[str, str] | None) -> tuple[Project | None, list[Issue]]:
    """Return the project (None when it has errors) and every issue of it, with secrets redacted."""
    project, issues = load_partial_project(Path(project_dir), vars, environ)
    if project is None:
        return None, issues
    placeholders = environ.placeholders if isinstance(environ, UnsetTolerantEnviron) else set()
    issues = issues + check_targets(project, placeholders)
    # Every expression is parsed here, including those of account metrics that no score uses and
    # that build_plan therefore never reads.
    expression_issues = check_expressions(project)
    issues += expression_issues
    if not any(issue.severity == "error" for issue in issues):
        try:
            plan = build_plan(project, schema="analytics")
            issues += check_expected_columns(project, plan)
        except DefinitionError as error:
            issues += [issue for issue in error.issues if issue not in expression_issues]
    issues = redact_issues(issues, project.secrets)
    return (None if any(issue.severity == "error" for issue in issues) else project), issues


def check_targets(project: Project, placeholders: set[str] | frozenset[str] = frozenset()) -> list[Issue]:
    """Check each target's type and settings without connecting; values never appear in the issues.

    Settings whose value is one of `placeholders` (an unset env_var()) are not checked.
    """
    config_file = project.config_file
    targets = project.config.targets
    issues: list[Issue] = []
    default = project.config.default_target
    if default is not None and default not in targets:
        issues.append(Issue("unknown-target", f"default_target '{default}' is not a target",
                            config_file.location(("default_target",)), did_you_mean(default, targets)))
    available = available_adapters()
    for name, target in targets.items():
        if target.type not in available:
            issues.append(Issue("unknown-target-type", f"no adapter for target type '{target.type}'",
                                config_file.location(("targets", name, "type")),
                                did_you_mean(target.type, available) + " Install the package of a third-party "
                                "adapter, or check the list with 'healthlayer adapters'."))
            continue
        try:
            adapter = adapter_class(target.type)
        except HealthlayerError as error:
            issues.append(Issue("adapter-unavailable", f"the settings of target '{name}' are not checked: {error}",
                                config_file.location(("targets", name, "type")),
                                "Install the adapter to check them here.", severity="warning"))
            continue
        if adapter.settings_model is not None:
            issues += _settings_issues(project, name, adapter.settings_model, target.settings(), placeholders)
    return issues


def _settings_issues(project: Project, target: str, model: type[BaseModel], settings: dict[str, Any],
                     placeholders: set[str] | frozenset[str]) -> list[Issue]:
    try:
        model.model_validate(settings)
        return []
    except ValidationError as error:
        problems = error.errors(include_url=False)
    fields = [field.alias or field_name for field_name, field in model.model_fields.items()]
    issues: list[Issue] = []
    for problem in problems:
        key_path = tuple(problem["loc"])
        value = settings.get(str(key_path[0])) if key_path else None
        if isinstance(value, str) and any(placeholder in value for placeholder in placeholders):
            continue
        location = project.config_file.location(("targets", target) + key_path)
        key = ".".join(str(part) for part in key_path) or target
        if problem["type"] == "extra_forbidden":
            issues.append(Issue("unknown-setting", f"unknown setting '{key}' in target '{target}'", location,
                                did_you_mean(key, fields)))
        elif problem["type"] == "missing":
            issues.append(Issue("missing-setting", f"target '{target}' needs the setting '{key}'", location,
                                f"Add '{key}' to the target."))
        else:
            # pydantic's message names the expected type or bound, never the value, which may be a secret.
            issues.append(Issue("invalid-setting", f"invalid setting '{key}' in target '{target}': "
                                f"{problem['msg'][0].lower()}{problem['msg'][1:]}", location,
                                "Correct the value; the adapter's page in docs/warehouses lists the settings."))
    return issues


def check_warehouse(project_dir: Path | str, target: str | None, vars: Mapping[str, Any] | None = None,
                    environ: Mapping[str, str] | None = None) -> list[Issue]:
    """Validate a project, then check it against a target's warehouse; return every issue of both.

    The warehouse check runs only when the definitions have no errors. It reads column metadata,
    plans each view's query with EXPLAIN and reads the distinct values of segment attributes, and
    changes nothing (see healthlayer.warehouse_check).
    env_var() reads `environ`, by default the process environment, since connecting needs the
    real secrets.
    """
    from healthlayer.warehouse_check import check_target

    project, issues = _validate(project_dir, vars, environ)
    if project is None:
        return issues
    return issues + check_target(project, target)


def target_settings(project: Project, target: str | None) -> tuple[str, str, dict[str, Any]]:
    """Return (target name, adapter type, settings) for a target name or the project's default."""
    targets = project.config.targets
    name = target or project.config.default_target or (next(iter(targets)) if len(targets) == 1 else None)
    if name is None:
        if not targets:
            return "default", "duckdb", {"path": f"{project.name}.duckdb"}
        raise HealthlayerError(f"the project has several targets ({', '.join(targets)}); "
                               "choose one with --target or set default_target")
    if name not in targets:
        raise HealthlayerError(f"target '{name}' is not defined in healthlayer.yml; defined: {', '.join(targets) or 'none'}")
    config = targets[name]
    return name, config.type, config.settings()


def open_target(project: Project, target: str | None = None, must_exist: bool = False) -> Adapter:
    """Connect to a target; `must_exist` is for reading commands, which must not create a database."""
    name, adapter_type, settings = target_settings(project, target)
    check_target_variables(project, name)
    return connect(adapter_type, settings, project.root, must_exist)


def check_target_variables(project: Project, target: str) -> None:
    """Raise when the settings of a target read environment variables that are not set."""
    missing = sorted(project.unset_target_variables.get(target, ()))
    if missing:
        names = ", ".join(missing)
        raise HealthlayerError(f"target '{target}' reads the environment variable(s) {names} in healthlayer.yml, "
                               "which are not set; set them, or give a default: env_var('NAME', default)")


def engine_timestamp_types(project: Project, adapter: Adapter) -> dict[str, bool]:
    """Ask the warehouse whether each time-stamped source's timestamp column has a time zone.

    Raise UnsupportedError for a source that reads a file on an engine other than DuckDB, before
    the engine is asked to read it.
    """
    sources = {}
    for name, source in project.sources.items():
        if source.file is not None and adapter.dialect != "duckdb":
            raise UnsupportedError(f"source '{name}' reads a file, which only DuckDB can read; declare the source "
                                   f"with 'table:' to deploy to a {adapter.dialect} target")
        if source.timestamp is not None:
            from_sql = quote_keywords(source_table(source, project.root), adapter.dialect).sql(dialect=adapter.dialect)
            column = quote_keywords(sql.ident(source.timestamp), adapter.dialect).sql(dialect=adapter.dialect)
            sources[name] = (from_sql, column)
    return adapter.timestamp_types(sources)


def file_timestamp_types(project: Project) -> dict[str, bool]:
    """Introspect the timestamp types of file sources with an in-memory DuckDB; table sources are left out."""
    from healthlayer.adapters.duckdb import DuckDBAdapter

    file_sources = {name for name, source in project.sources.items() if source.file is not None}
    if not file_sources:
        return {}
    with DuckDBAdapter({"path": ":memory:"}, project.root) as adapter:
        types = engine_timestamp_types(project, adapter)
    return {name: value for name, value in types.items() if name in file_sources}


def compile_project(project: Project, dialect: str, schema: str,
                    timestamp_types: dict[str, bool] | None = None) -> list[tuple[str, str]]:
    """Return (relation name, CREATE VIEW or CREATE TABLE statement) for every relation, in dependency order."""
    check_dialect(dialect)
    plan = build_plan(project, schema, timestamp_types)
    return [(relation.name, _create_statement(relation, schema, dialect)) for relation in plan.relations]


def _create_statement(relation: Relation, schema: str, dialect: str) -> str:
    if not relation.stored:
        return render_create_view(relation, schema, dialect)
    query = prepare_query(relation, dialect)
    assert isinstance(query, exp.Query)
    return render_create_table(query, relation.name, schema, dialect)


@dataclass(frozen=True)
class Deployment:
    project: Project
    result: DeployResult

    @property
    def database(self) -> Path | None:
        return self.result.database

    @property
    def schema(self) -> str:
        return self.result.schema


def deploy_project(project_dir: Path | str, target: str | None = None,
                   vars: Mapping[str, Any] | None = None, progress: ProgressCallback | None = None) -> Deployment:
    """Load, compile and deploy a project to a target; return what was created.

    `progress` receives each view and table as it is built.
    """
    project, _ = load(project_dir, vars)
    with open_target(project, target) as adapter:
        adapter.progress = progress
        plan = build_plan(project, adapter.schema, engine_timestamp_types(project, adapter))
        adapter.check_materializations(plan)
        result = adapter.deploy(plan)
    logger.info("deployed %d views to schema %s", len(result.views), result.schema)
    return Deployment(project, result)


def refresh_project(project_dir: Path | str, target: str | None = None, vars: Mapping[str, Any] | None = None,
                    full: bool = False, names: set[str] | None = None,
                    progress: ProgressCallback | None = None) -> list[BuildStep]:
    """Bring the stored tables of a deployed project up to date; return one step per table.

    Incremental tables recompute their last `lookback` days and every newer day; `full` rebuilds
    them from every day. `names` limits the refresh to those outputs.
    """
    project, _ = load(project_dir, vars)
    with open_target(project, target, must_exist=True) as adapter:
        adapter.progress = progress
        timestamp_types = engine_timestamp_types(project, adapter)
        plan = build_plan(project, adapter.schema, timestamp_types)
        stored = {relation.name for relation in plan.outputs() if relation.stored}
        adapter.check_materializations(plan)
        unknown = sorted((names or set()) - stored)
        views = [name for name in unknown if name in {relation.name for relation in plan.outputs()}]
        if views:
            raise HealthlayerError(
                f"{', '.join(repr(name) for name in views)} "
                f"{'is a view, which needs' if len(views) == 1 else 'are views, which need'} no refresh; set 'materialized: table' or 'incremental' to store an output")
        if unknown:
            raise HealthlayerError(
                f"no stored output is named {', '.join(repr(name) for name in unknown)}; the stored outputs are "
                f"{', '.join(sorted(stored)) or 'none'} (set 'materialized: table' or 'incremental' to store one)")
        refresh_plans: dict[tuple[datetime.date, DataRange | None], Plan] = {}

        def refresh_plan(first_day: datetime.date, data_range: DataRange | None) -> Plan:
            key = (first_day, data_range)
            if key not in refresh_plans:
                refresh_plans[key] = build_refresh_plan(project, adapter.schema, first_day, timestamp_types, data_range)
            return refresh_plans[key]

        # An adapter that can store tables checks that none is left from an earlier definition.
        supported = stored or "table" in adapter.materializations
        steps = adapter.refresh(plan, refresh_plan, full=full, names=names) if supported else []
    logger.info("refreshed %d tables in schema %s", len(steps), adapter.schema)
    return steps
