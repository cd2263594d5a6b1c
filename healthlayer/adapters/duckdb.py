"""The embedded default: DuckDB in process, with views deployed in one transaction."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlglot import exp

from healthlayer.adapters.base import Adapter, DeployedView, DeployResult, summarise_error
from healthlayer.compiler.plan import Plan, Relation
from healthlayer.compiler.render import prepare_query, render_create_table, render_create_view
from healthlayer.errors import HealthlayerError, RelationNotFound, WarehouseError

logger = logging.getLogger(__name__)


class DuckDBSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    path: str = "healthlayer.duckdb"
    schema_name: str = Field("analytics", alias="schema", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    threads: int | None = Field(None, ge=1)
    memory_limit: str | None = Field(None, pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    # Open the database file read-only, as the warehouse check does; deploy then fails.
    read_only: bool = False


class DuckDBAdapter(Adapter):
    dialect = "duckdb"
    driver_module = "duckdb"
    settings_model = DuckDBSettings
    identifier_case = "any"
    materializations = frozenset({"view", "table", "incremental"})

    def __init__(self, settings: dict[str, Any], project_root: Path, must_exist: bool = False) -> None:
        super().__init__(settings, project_root)
        try:
            self.config = DuckDBSettings.model_validate(settings)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors())
            raise HealthlayerError(f"invalid duckdb target settings: {problems}") from None
        import duckdb

        self._duckdb = duckdb
        self.database = None if self.config.path == ":memory:" else (project_root / self.config.path).resolve()
        if must_exist and self.database is not None and not self.database.exists():
            raise HealthlayerError(f"DuckDB database {self.database} does not exist; run 'healthlayer deploy' first")
        if self.database is not None and self.database.exists():
            _check_database_file(self.database)
        try:
            if self.database is not None:
                self.connection = duckdb.connect(str(self.database), read_only=self.config.read_only)
            else:
                self.connection = duckdb.connect(":memory:")
        except duckdb.Error as error:
            hint = ""
            if "lock" in str(error).lower():
                hint = ("; another process has it open for writing, such as a running deploy or refresh, or a BI "
                        "tool: retry when it ends")
            raise WarehouseError(f"cannot open DuckDB database {self.database}: {error}{hint}") from None
        if self.config.threads:
            self.connection.execute(f"SET threads = {int(self.config.threads)}")
        if self.config.memory_limit:
            self.connection.execute("SET memory_limit = ?", [self.config.memory_limit])

    @property
    def schema(self) -> str:
        return self.config.schema_name

    def execute(self, statement: str) -> None:
        logger.debug("duckdb: %s", statement)
        try:
            self.connection.execute(statement)
        except self._duckdb.Error as error:
            raise WarehouseError(f"DuckDB rejected a statement: {error}") from None

    def fetch(self, statement: str, parameters: list[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        logger.debug("duckdb: %s", statement)
        try:
            cursor = self.connection.execute(statement, parameters or [])
            rows = cursor.fetchall()
        except self._duckdb.Error as error:
            raise WarehouseError(f"DuckDB rejected a query: {error}") from None
        columns = [description[0] for description in cursor.description or []]
        return columns, rows

    def timestamp_types(self, plan_sources: dict[str, tuple[str, str]]) -> dict[str, bool]:
        result = {}
        for name, (from_sql, column) in plan_sources.items():
            try:
                cursor = self.connection.execute(f"DESCRIBE SELECT {column} FROM {from_sql}")
                column_type = str(cursor.fetchall()[0][1]).upper()
            except self._duckdb.Error as error:
                raise WarehouseError(f"cannot read source '{name}': {error}") from None
            if "TIMESTAMP" not in column_type and "DATE" not in column_type:
                raise WarehouseError(f"the timestamp column of source '{name}' has type {column_type}, not a "
                                     "timestamp; cast it in a view, or point 'timestamp' at a timestamp column")
            result[name] = "TIME ZONE" in column_type or column_type == "TIMESTAMPTZ"
        return result

    def describe(self, from_sql: str) -> list[tuple[str, str]]:
        statement = f"DESCRIBE SELECT * FROM {from_sql}"
        logger.debug("duckdb: %s", statement)
        try:
            rows = self.connection.execute(statement).fetchall()
        except (self._duckdb.CatalogException, self._duckdb.IOException) as error:
            # A missing table or schema is a catalog error, a missing Parquet or CSV file an IO error.
            raise RelationNotFound(summarise_error(str(error))) from None
        except self._duckdb.Error as error:
            raise WarehouseError(summarise_error(str(error))) from None
        return [(str(row[0]), str(row[1])) for row in rows]

    def explain(self, statement: str) -> None:
        """Plan a query with EXPLAIN, which binds and optimizes it but does not run it (EXPLAIN ANALYZE would)."""
        logger.debug("duckdb: EXPLAIN %s", statement)
        try:
            self.connection.execute(f"EXPLAIN {statement}").fetchall()
        except self._duckdb.Error as error:
            raise WarehouseError(summarise_error(str(error))) from None

    def deploy(self, plan: Plan) -> DeployResult:
        """Create or replace every view and stored table of the plan in one transaction.

        Owned objects the plan no longer has are dropped. Stored outputs are built from every day
        after the data range is checked, so a bad range fails before any long build.
        """
        self.check_materializations(plan)
        self.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        existing = self.existing_objects()
        owned = self.owned_views(plan, existing)
        stale = sorted(owned - {relation.name for relation in plan.relations})
        if self.progress is not None:
            self.progress.planned(len(plan.relations))

        with self.transaction():
            range_checked = False
            for relation in plan.relations:
                kind = existing.get(relation.name.lower(), ("", None))[0]
                if relation.stored and not range_checked:
                    self.check_data_range(plan)
                    range_checked = True
                if relation.stored:
                    if kind == "VIEW":
                        self.execute(f"DROP VIEW {self.qualified(relation.name)}")
                    self._build_table(plan, relation)
                else:
                    with self.step(relation.name, "view"):
                        if kind == "TABLE":
                            self.execute(f"DROP TABLE {self.qualified(relation.name)}")
                        self.execute(render_create_view(relation, self.schema, self.dialect))
                        self._comment(plan, relation, "VIEW")
            for name in stale:
                self.execute(f"DROP {existing[name][0]} IF EXISTS {self.qualified(name)}")
            if not range_checked:
                self.check_data_range(plan)
        views = tuple(DeployedView(relation.name, relation.kind) for relation in plan.relations)
        return DeployResult(self.schema, views, tuple(stale), self.database)

    def _comment(self, plan: Plan, relation: Relation, kind: str) -> None:
        self.execute(f"COMMENT ON {kind} {self.qualified(relation.name)} IS {_quote(self.owner_comment(plan, relation))}")

    def _build_table(self, plan: Plan, relation: Relation) -> None:
        """Create or replace a stored output from every day, reading the other relations of the schema."""
        with self.step(relation.name, "table") as rows:
            query = prepare_query(relation, self.dialect)
            assert isinstance(query, exp.Query)
            self.execute(render_create_table(query, relation.name, self.schema, self.dialect))
            self._comment(plan, relation, "TABLE")
            rows.append(self._count(relation.name))

    def existing_objects(self) -> dict[str, tuple[str, str | None]]:
        """Return the schema's tables and views by lower-cased name, since DuckDB names ignore case."""
        _, rows = self.fetch(
            "SELECT view_name, 'VIEW', comment FROM duckdb_views() WHERE lower(schema_name) = ? AND NOT internal "
            "UNION ALL SELECT table_name, 'TABLE', comment FROM duckdb_tables() WHERE lower(schema_name) = ?",
            [self.schema, self.schema])
        return {name.lower(): (kind, comment) for name, kind, comment in rows}

    def close(self) -> None:
        self.connection.close()


# Bytes 8 to 11 of every DuckDB database file.
DUCKDB_MAGIC = b"DUCK"


def _check_database_file(path: Path) -> None:
    """Raise unless `path` is a DuckDB database file; DuckDB would open a Parquet or CSV file as one."""
    if not path.is_file():
        raise HealthlayerError(f"the target path {path} is not a file; point 'path' at a DuckDB database file")
    with path.open("rb") as handle:
        header = handle.read(12)
    if len(header) > 0 and header[8:12] != DUCKDB_MAGIC:
        raise HealthlayerError(f"the target path {path} is not a DuckDB database; point 'path' at a new file "
                               "or an existing .duckdb file, not at a data file")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
