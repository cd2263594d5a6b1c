"""The library API behind the command line: load, compile and deploy a project."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from healthlayer.adapters.base import Adapter, DeployResult
from healthlayer.adapters.registry import connect
from healthlayer.compiler import sql
from healthlayer.compiler.plan import build_plan
from healthlayer.compiler.quoting import quote_keywords
from healthlayer.compiler.render import check_dialect, render_create_view
from healthlayer.compiler.sources import source_table
from healthlayer.definitions.issues import Issue
from healthlayer.definitions.project import Project, load_project
from healthlayer.errors import DefinitionError, HealthlayerError

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
    project, issues = load_project(Path(project_dir), vars, environ)
    if project is None:
        return issues
    try:
        build_plan(project, schema="analytics")
    except DefinitionError as error:
        issues = issues + error.issues
    return issues


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
    _, adapter_type, settings = target_settings(project, target)
    return connect(adapter_type, settings, project.root, must_exist)


def engine_timestamp_types(project: Project, adapter: Adapter) -> dict[str, bool]:
    """Ask the warehouse whether each time-stamped source's timestamp column has a time zone."""
    sources = {}
    for name, source in project.sources.items():
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
    """Return (view name, CREATE VIEW statement) for every relation, in dependency order."""
    check_dialect(dialect)
    plan = build_plan(project, schema, timestamp_types)
    return [(relation.name, render_create_view(relation, schema, dialect)) for relation in plan.relations]


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
                   vars: Mapping[str, Any] | None = None) -> Deployment:
    """Load, compile and deploy a project to a target; return what was created."""
    project, _ = load(project_dir, vars)
    with open_target(project, target) as adapter:
        plan = build_plan(project, adapter.schema, engine_timestamp_types(project, adapter))
        result = adapter.deploy(plan)
    logger.info("deployed %d views to schema %s", len(result.views), result.schema)
    return Deployment(project, result)
