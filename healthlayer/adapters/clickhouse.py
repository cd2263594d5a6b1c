"""ClickHouse, embedded in process through chdb, with each deploy built in a database of its own.

ClickHouse has no transactional DDL. A deploy therefore creates every view of the plan in a new
database (a generation), checks it, and only then points the views of the target database at it,
one `CREATE OR REPLACE VIEW` per view. The previous generation stays until every view points at
the new one, so a failed deploy leaves the previous views working.
"""

from __future__ import annotations

import abc
import dataclasses
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlglot
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlglot import exp

from healthlayer.adapters.base import MAX_MESSAGE, Adapter, DeployedView, DeployResult
from healthlayer.compiler import sql
from healthlayer.compiler.plan import Plan, Relation
from healthlayer.compiler.render import render_create_view
from healthlayer.errors import HealthlayerError, RelationNotFound, WarehouseError

logger = logging.getLogger(__name__)

DIALECT = "clickhouse"
# A generation database is named `<schema>_hl_<12 hex digits>`.
GENERATION_INFIX = "_hl_"
_TIMESTAMP_TYPES = ("Date", "Date32", "DateTime", "DateTime64")
# The query that a ClickHouse error quotes, and the error's name in brackets after it.
_SCOPE = re.compile(r"\s*In scope .*?(?P<code>\([A-Z_]+\))?$")
# Error names that ClickHouse gives a missing table or database, in brackets at the end of the message.
_NOT_FOUND_ERRORS = ("(UNKNOWN_TABLE)", "(UNKNOWN_DATABASE)")


# Databases that ClickHouse creates itself. Views created there do not survive the session.
SYSTEM_DATABASES = frozenset({"system", "information_schema"})
# Database engines that store view definitions on disk.
PERSISTENT_ENGINES = frozenset({"Atomic", "Ordinary", "Replicated"})


class ClickHouseSettings(BaseModel):
    """Settings of a `clickhouse` target.

    Only the embedded engine (chdb) is supported. A server connection would add `host` and `port`
    here and a `Client` subclass below.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    path: str = Field("healthlayer.chdb", min_length=1)
    schema_name: str = Field("analytics", alias="schema", pattern=r"^[a-z_][a-z0-9_]{0,62}$")

    @field_validator("schema_name")
    @classmethod
    def _not_system(cls, value: str) -> str:
        if value in SYSTEM_DATABASES:
            raise ValueError(f"'{value}' is a ClickHouse system database, which keeps no views; choose another schema")
        return value


class Client(abc.ABC):
    """A connection that runs ClickHouse SQL: a statement, or a query whose rows come back as Arrow."""

    # The exception types of the driver that mean the engine rejected a statement.
    errors: tuple[type[Exception], ...]

    @abc.abstractmethod
    def command(self, statement: str) -> None: ...

    @abc.abstractmethod
    def query_arrow(self, statement: str) -> Any: ...

    @abc.abstractmethod
    def close(self) -> None: ...


# Query-plan optimizations a session allows, above ClickHouse's default of 10,000.
PLAN_OPTIMIZATIONS = 1_000_000


class ChdbClient(Client):
    """ClickHouse in process. chdb runs one embedded server per process, on one folder at a time."""

    def __init__(self, folder: Path) -> None:
        import chdb
        import chdb.session

        # chdb 4.4 raises chdb._exceptions.ChdbError, a RuntimeError that is not the exported chdb.ChdbError.
        self.errors = (chdb.ChdbError, RuntimeError)
        try:
            self.session = chdb.session.Session(str(folder))
        except self.errors as error:
            raise WarehouseError(f"cannot open the chdb folder {folder}: {_first_line(error)}; chdb opens one "
                                 "folder per process, so close other clickhouse targets first") from None
        # NOTE: ClickHouse plans a query over the whole chain of views it reads, and the alerts view
        # reads the view of each health score that its rules name. With rules on two scores of 20
        # metrics each, the plan exceeds the default limit of 10,000 optimizations on ClickHouse 26.9
        # (chdb 4.4), so this session raises it. Other readers of such a view need the same setting.
        self.session.query(f"SET query_plan_max_optimizations_to_apply = {PLAN_OPTIMIZATIONS}")

    def command(self, statement: str) -> None:
        self.session.query(statement)

    def query_arrow(self, statement: str) -> Any:
        return self.session.query(statement, "ArrowTable")

    def close(self) -> None:
        self.session.close()


class ClickHouseAdapter(Adapter):
    dialect = DIALECT
    driver_module = "chdb"
    settings_model = ClickHouseSettings

    def __init__(self, settings: dict[str, Any], project_root: Path, must_exist: bool = False) -> None:
        super().__init__(settings, project_root)
        try:
            self.config = ClickHouseSettings.model_validate(settings)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors())
            raise HealthlayerError(f"invalid clickhouse target settings: {problems}; 'path' is a folder for "
                                   "the embedded database and 'schema' a lower-case database name") from None
        self.folder = (project_root / self.config.path).resolve()
        if self.folder.exists() and not self.folder.is_dir():
            raise HealthlayerError(f"the clickhouse target path {self.folder} is a file; point 'path' at a folder")
        if must_exist and not self.folder.exists():
            raise HealthlayerError(f"the chdb folder {self.folder} does not exist; run 'healthlayer deploy' first")
        self.client: Client = ChdbClient(self.folder)
        # The database that `schema` names; a deploy points it at a generation while checking one.
        self._schema = self.config.schema_name

    @property
    def schema(self) -> str:
        return self._schema

    def execute(self, statement: str) -> None:
        logger.debug("clickhouse: %s", statement)
        try:
            self.client.command(statement)
        except self.client.errors as error:
            raise WarehouseError(f"ClickHouse rejected a statement: {_first_line(error)}") from None

    def fetch(self, statement: str, parameters: list[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a query and return its column names and rows; `?` placeholders take `parameters` as literals."""
        if parameters:
            statement = _bind(statement, parameters)
        logger.debug("clickhouse: %s", statement)
        try:
            table = self.client.query_arrow(statement)
        except self.client.errors as error:
            raise WarehouseError(f"ClickHouse rejected a query: {_first_line(error)}") from None
        columns = list(table.column_names)
        try:
            values = [table.column(index).to_pylist() for index in range(table.num_columns)]
        except UnicodeDecodeError as error:
            raise WarehouseError(f"a String value of the result is not valid UTF-8 ({error.reason} at byte "
                                 f"{error.start}); convert it in the query, for example with hex() or "
                                 "toValidUTF8()") from None
        return columns, list(zip(*values)) if values else []

    def timestamp_types(self, plan_sources: dict[str, tuple[str, str]]) -> dict[str, bool]:
        result = {}
        for name, (from_sql, column) in plan_sources.items():
            try:
                _, rows = self.fetch(f"DESCRIBE (SELECT {column} FROM {from_sql})")
            except WarehouseError as error:
                raise WarehouseError(f"cannot read source '{name}': {error}") from None
            column_type = str(rows[0][1])
            base_type = _unwrap_type(column_type)
            if base_type.split("(")[0] not in _TIMESTAMP_TYPES:
                raise WarehouseError(f"the timestamp column of source '{name}' has type {column_type}, not a "
                                     "date or time; cast it in a view, or point 'timestamp' at a DateTime column")
            # DateTime('Europe/Berlin') and DateTime64(6, 'UTC') name their zone in quotes.
            result[name] = "'" in base_type
        return result

    def describe(self, from_sql: str) -> list[tuple[str, str]]:
        """Return a source's columns with DESCRIBE of a query, which analyzes the query without running it."""
        statement = f"DESCRIBE (SELECT * FROM {from_sql})"
        logger.debug("clickhouse: %s", statement)
        try:
            table = self.client.query_arrow(statement)
        except self.client.errors as error:
            message = _first_line(error)
            if any(name in message for name in _NOT_FOUND_ERRORS):
                raise RelationNotFound(message) from None
            raise WarehouseError(message) from None
        return list(zip(table.column("name").to_pylist(), table.column("type").to_pylist()))

    def explain(self, statement: str) -> None:
        """Plan a query with EXPLAIN PLAN, which analyzes it and builds the query plan without running it."""
        logger.debug("clickhouse: EXPLAIN PLAN %s", statement)
        try:
            self.client.query_arrow(f"EXPLAIN PLAN {statement}")
        except self.client.errors as error:
            raise WarehouseError(_without_scope(_first_line(error))) from None

    def _existing_objects(self, database: str) -> dict[str, tuple[str, str | None]]:
        """Return the database's tables and views by name; ClickHouse names are case-sensitive."""
        _, rows = self.fetch(f"SELECT name, engine, comment FROM system.tables WHERE database = {_literal(database)}")
        return {name: ("VIEW" if engine == "View" else "TABLE", comment) for name, engine, comment in rows}

    def deploy(self, plan: Plan) -> DeployResult:
        """Build the plan's views in a new generation database, check it, then point the schema's views at it."""
        schema = self.config.schema_name
        self.execute(f"CREATE DATABASE IF NOT EXISTS {_name(schema)}")
        _, engines = self.fetch(f"SELECT engine FROM system.databases WHERE name = {_literal(schema)}")
        if engines and engines[0][0] not in PERSISTENT_ENGINES:
            raise WarehouseError(f"database '{schema}' has engine {engines[0][0]}, which does not keep view definitions; "
                                 f"deploy to a database with engine {', '.join(sorted(PERSISTENT_ENGINES))}")
        owned = self.owned_views(plan, self._existing_objects(schema))

        generation = f"{schema}{GENERATION_INFIX}{uuid.uuid4().hex[:12]}"
        generation_comment = self._generation_comment(plan)
        self.execute(f"CREATE DATABASE {_name(generation)} ENGINE = Atomic COMMENT {_literal(generation_comment)}")
        try:
            for relation in plan.relations:
                moved = _in_database(relation, plan, schema, generation)
                self.execute(render_create_view(moved, generation, DIALECT)
                             + f"\nCOMMENT {_literal(self.owner_comment(plan, relation))}")
            with self._reading(generation):
                self.check_data_range(plan)
        except HealthlayerError:
            self._drop_database(generation)
            raise

        # The switch: each statement is atomic, but the set of views is not switched at once.
        for relation in plan.relations:
            self.execute(f"CREATE OR REPLACE VIEW {_name(schema)}.{_name(relation.name)} AS "
                         f"SELECT * FROM {_name(generation)}.{_name(relation.name)}"
                         f"\nCOMMENT {_literal(self.owner_comment(plan, relation))}")
        stale = sorted(owned - {relation.name for relation in plan.relations})
        for name in stale:
            self.execute(f"DROP VIEW IF EXISTS {_name(schema)}.{_name(name)}")
        for old in self._generations(generation_comment, schema):
            if old != generation:
                self._drop_database(old)

        views = tuple(DeployedView(relation.name, relation.kind) for relation in plan.relations)
        return DeployResult(schema, views, tuple(stale), self.folder)

    def _generation_comment(self, plan: Plan) -> str:
        return f"{self.OWNER_MARK} project {plan.project_name}: views of database {self.config.schema_name}"

    def _generations(self, comment: str, schema: str) -> list[str]:
        """Return the generation databases of this project and schema, found by name and comment."""
        pattern = f"^{re.escape(schema + GENERATION_INFIX)}[0-9a-f]{{12}}$"
        _, rows = self.fetch(f"SELECT name FROM system.databases WHERE comment = {_literal(comment)} "
                             f"AND match(name, {_literal(pattern)})")
        return [row[0] for row in rows]

    def _drop_database(self, database: str) -> None:
        try:
            self.execute(f"DROP DATABASE IF EXISTS {_name(database)} SYNC")
        except WarehouseError as error:
            logger.warning("could not drop the generation database %s: %s", database, error)

    @contextmanager
    def _reading(self, database: str) -> Iterator[None]:
        """Make `schema` name another database while the base class reads from it."""
        self._schema = database
        try:
            yield
        finally:
            self._schema = self.config.schema_name

    def close(self) -> None:
        self.client.close()


def _in_database(relation: Relation, plan: Plan, schema: str, database: str) -> Relation:
    """Return a relation whose references to the plan's relations in `schema` point into `database`."""
    names = {item.name for item in plan.relations}
    query = relation.query.copy()
    for table in query.find_all(exp.Table):
        if table.db == schema and table.name in names:
            table.set("db", sql.ident(database))
    return dataclasses.replace(relation, query=query)


def _unwrap_type(type_name: str) -> str:
    """Return a ClickHouse type name without its Nullable(...) and LowCardinality(...) wrappers."""
    match = re.fullmatch(r"(?:Nullable|LowCardinality)\((.*)\)", type_name)
    return _unwrap_type(match.group(1)) if match else type_name


def _bind(statement: str, parameters: list[Any]) -> str:
    """Replace the `?` placeholders of a query with SQL literals of `parameters`, in order."""
    tree = sqlglot.parse_one(statement, read=DIALECT)
    placeholders = list(tree.find_all(exp.Placeholder))
    if len(placeholders) != len(parameters):
        raise WarehouseError(f"the query has {len(placeholders)} placeholders but {len(parameters)} parameters")
    for placeholder, value in zip(placeholders, parameters):
        placeholder.replace(exp.convert(value))
    return tree.sql(dialect=DIALECT)


def _name(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect=DIALECT)


def _literal(text: str) -> str:
    return exp.Literal.string(text).sql(dialect=DIALECT)


def _without_scope(message: str) -> str:
    """Return an error message without its `In scope <query>` part, which repeats a whole subquery."""
    found = _SCOPE.search(message)
    if found is None:
        return message[:MAX_MESSAGE]
    return (message[:found.start()].rstrip(" .:") + ". " + found.group("code")).strip()[:MAX_MESSAGE]


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
