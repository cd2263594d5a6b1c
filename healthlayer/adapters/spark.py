"""Apache Spark through PySpark: a local or cluster session, or Spark Connect, with views in a Spark database.

Spark has no transactional DDL. A deploy therefore first creates every view in a staging database,
where Spark analyzes each query and the data range is read. Only then does it replace the views of
the deploy database, one at a time in dependency order.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import sqlglot
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlglot import exp

from healthlayer.adapters.base import Adapter, DeployedView, DeployResult
from healthlayer.compiler import sql
from healthlayer.compiler.plan import Plan, Relation
from healthlayer.compiler.render import render_create_view
from healthlayer.errors import HealthlayerError, OwnershipError, RelationNotFound, WarehouseError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

_NAME_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"
# sc://host[:port][/;name=value;name=value...], the Spark Connect URL format.
_REMOTE_PATTERN = re.compile(r"^sc://[A-Za-z0-9.\-_\[\]]+(:\d{1,5})?(/(;[A-Za-z0-9_.\-]+=[^;\s]*)*)?$")
# Spark settings that have a key of their own in the target, mapped to that key.
_RESERVED_CONF = {
    "spark.master": "master",
    "spark.app.name": "app_name",
    "spark.remote": "remote",
    "spark.sql.warehouse.dir": "warehouse_dir",
    "spark.sql.catalogImplementation": "catalog_implementation",
    "spark.hadoop.javax.jdo.option.ConnectionURL": "metastore_dir",
}
# Conf keys whose values are redacted from every message, because they usually hold credentials.
_SECRET_KEY = re.compile(r"secret|password|token|credential|key", re.IGNORECASE)
# Maximum length of a Spark error message in a WarehouseError, because Spark appends query plans.
_MAX_MESSAGE = 500
# The first line of EXPLAIN's output when Spark cannot analyze or plan the query; the reason follows.
_EXPLAIN_FAILED = "Error occurred during query planning"
# Error conditions of an AnalysisException that mean a table, view, schema or path does not exist.
_NOT_FOUND_CONDITIONS = frozenset({"TABLE_OR_VIEW_NOT_FOUND", "SCHEMA_NOT_FOUND", "PATH_NOT_FOUND"})
# PySpark's logger that writes every AnalysisException with its query context to stderr.
_QUERY_CONTEXT_LOGGER = "SQLQueryContextLogger"


class SparkSettings(BaseModel):
    """The keys of a `type: spark` target."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    master: str = Field("local[*]", pattern=r"^\S+$")
    app_name: str = Field("healthlayer", min_length=1)
    schema_name: str = Field("analytics", alias="schema", pattern=_NAME_PATTERN)
    catalog: str | None = Field(None, pattern=_NAME_PATTERN)
    catalog_implementation: Literal["hive", "in-memory"] = "hive"
    warehouse_dir: str = Field("spark-warehouse", min_length=1)
    metastore_dir: str = Field("metastore_db", min_length=1)
    conf: dict[str, str] = Field(default_factory=dict, repr=False)
    remote: str | None = Field(None, repr=False)

    @field_validator("conf")
    @classmethod
    def _check_conf(cls, conf: dict[str, str]) -> dict[str, str]:
        for key in conf:
            if key in _RESERVED_CONF:
                raise ValueError(f"set '{key}' with the target key '{_RESERVED_CONF[key]}', not under conf")
            if not key.startswith("spark."):
                raise ValueError(f"'{key}' is not a Spark setting; conf keys start with 'spark.'")
        return conf

    @field_validator("remote")
    @classmethod
    def _check_remote(cls, remote: str | None) -> str | None:
        # The message never repeats the URL, which may contain a token.
        if remote is not None and not _REMOTE_PATTERN.match(remote):
            raise ValueError("invalid Spark Connect URL; write it as sc://host[:port][/;name=value...]")
        return remote

    @model_validator(mode="after")
    def _check_remote_keys(self) -> SparkSettings:
        local_keys = {"master", "catalog_implementation", "warehouse_dir", "metastore_dir"}
        clashing = sorted(local_keys & self.model_fields_set)
        if self.remote is not None and clashing:
            raise ValueError(f"remote cannot be combined with {', '.join(clashing)}, which only apply to a session "
                             "that healthlayer starts; remove them or remove remote")
        return self


def _settings_error(error: ValidationError) -> HealthlayerError:
    """Describe invalid settings by key and message only, since pydantic's own text repeats input values."""
    problems = []
    for item in error.errors():
        key = ".".join(map(str, item["loc"])) or "target"
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["loc"][:1] == ("conf",) and item["type"] == "string_type":
            message += "; write every conf value as a quoted string, for example '4' or 'true'"
        problems.append(f"{key}: {message}")
    return HealthlayerError(f"invalid spark target settings: {'; '.join(problems)}")


class SparkAdapter(Adapter):
    dialect = "spark"
    driver_module = "pyspark"
    settings_model = SparkSettings
    identifier_case = "any"

    def __init__(self, settings: dict[str, Any], project_root: Path, must_exist: bool = False,
                 session: SparkSession | None = None) -> None:
        """Start or reuse a Spark session; `session` is one the caller created and stops itself."""
        super().__init__(settings, project_root)
        try:
            self.config = SparkSettings.model_validate(settings)
        except ValidationError as error:
            raise _settings_error(error) from None
        try:
            import pyspark  # noqa: F401
        except ImportError:
            raise HealthlayerError("the spark target needs PySpark; install it with pip install 'healthlayer[spark]'") \
                from None
        from pyspark.errors import PySparkException
        from py4j.protocol import Py4JError

        self._errors: tuple[type[Exception], ...] = (PySparkException, Py4JError)
        self.warehouse_dir = (project_root / self.config.warehouse_dir).resolve()
        self.metastore_dir = (project_root / self.config.metastore_dir).resolve()
        if (must_exist and session is None and self.config.remote is None
                and self.config.catalog_implementation == "hive" and not self.metastore_dir.exists()):
            raise HealthlayerError(f"the Spark metastore {self.metastore_dir} does not exist; "
                                   "run 'healthlayer deploy' first")
        # The adapter stops only a session that it started.
        self._owns_session = False
        if session is not None:
            self.session = session
        elif self.config.remote is not None:
            self.session = self._connect_remote()
            self._owns_session = True
        else:
            self.session, self._owns_session = self._local_session()
        if self.config.catalog is not None:
            self._call(lambda: self.session.catalog.setCurrentCatalog(self.config.catalog),
                       f"cannot use catalog '{self.config.catalog}'")

    @classmethod
    def from_session(cls, session: SparkSession, settings: dict[str, Any] | None = None,
                     project_root: Path | None = None) -> SparkAdapter:
        """Wrap an existing SparkSession, which `close` leaves running.

        Of the settings, only schema and catalog apply; the session's own configuration is used as it is.
        """
        return cls(settings or {}, project_root or Path.cwd(), session=session)

    # Sessions

    def _connect_remote(self) -> SparkSession:
        from pyspark.sql import SparkSession

        assert self.config.remote is not None
        try:
            return SparkSession.builder.remote(self.config.remote).getOrCreate()
        except ImportError as error:
            raise HealthlayerError(f"Spark Connect needs more packages ({error.name or error}); install them with "
                                   "pip install 'pyspark[connect]'") from None
        except self._errors as error:
            raise WarehouseError(f"cannot connect to Spark Connect at {self._remote_host()}: "
                                 f"{self._message(error)}") from None

    def _remote_host(self) -> str:
        remote = self.config.remote or ""
        return remote.split("/;", 1)[0].rstrip("/")

    def _local_session(self) -> tuple[SparkSession, bool]:
        """Return a session and whether this adapter started it.

        A process can hold one SparkContext only, so a running one is reused when its static
        settings equal the target's.
        """
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        if SparkContext._active_spark_context is not None:
            session = SparkSession.builder.getOrCreate()
            self._check_running_session(session)
            for key, value in self.config.conf.items():
                self._call(lambda: session.conf.set(key, value), f"cannot set the Spark setting '{key}'")
            return session, False

        builder = (SparkSession.builder.master(self.config.master).appName(self.config.app_name)
                   .config("spark.sql.warehouse.dir", str(self.warehouse_dir))
                   .config("spark.ui.showConsoleProgress", "false"))
        if self.config.master.startswith("local"):
            # A local driver listens on loopback only, unless `conf` sets another address.
            builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        java_options = self.config.conf.get("spark.driver.extraJavaOptions", "")
        if self.config.catalog_implementation == "hive":
            builder = builder.enableHiveSupport().config("spark.hadoop.javax.jdo.option.ConnectionURL", self._derby_url())
            # Derby writes derby.log into its system home, which is otherwise the working directory.
            java_options = f"{java_options} -Dderby.system.home={self.metastore_dir.parent}".strip()
        else:
            builder = builder.config("spark.sql.catalogImplementation", "in-memory")
        for key, value in self.config.conf.items():
            builder = builder.config(key, value)
        if java_options:
            builder = builder.config("spark.driver.extraJavaOptions", java_options)
        try:
            return builder.getOrCreate(), True
        except self._errors as error:
            raise WarehouseError(f"cannot start Spark with master {self.config.master}: {self._message(error)}; "
                                 "Spark needs Java 17 or newer, found through JAVA_HOME or java on PATH") from None

    def _derby_url(self) -> str:
        return f"jdbc:derby:;databaseName={self.metastore_dir};create=true"

    def _check_running_session(self, session: SparkSession) -> None:
        """Raise unless a running session has the master, catalog and warehouse that the target sets."""
        conf = session.sparkContext.getConf()
        expected = {
            "spark.master": self.config.master,
            "spark.sql.catalogImplementation": self.config.catalog_implementation,
            "spark.sql.warehouse.dir": str(self.warehouse_dir),
        }
        if self.config.catalog_implementation == "hive":
            expected["spark.hadoop.javax.jdo.option.ConnectionURL"] = self._derby_url()
        actual = {
            "spark.master": session.sparkContext.master,
            "spark.sql.catalogImplementation": session.conf.get("spark.sql.catalogImplementation"),
            "spark.sql.warehouse.dir": _local_path(session.conf.get("spark.sql.warehouse.dir") or ""),
            "spark.hadoop.javax.jdo.option.ConnectionURL": conf.get("spark.hadoop.javax.jdo.option.ConnectionURL"),
        }
        different = [key for key, value in expected.items() if actual.get(key) != value]
        if different:
            details = ", ".join(f"{key} is {actual.get(key)!r}, the target sets {expected[key]!r}" for key in different)
            raise HealthlayerError(
                f"a Spark session already runs in this process with other settings ({details}); a process can run "
                "one Spark session only, so set the target to match it, or pass the session to "
                "SparkAdapter.from_session")

    # Statements

    @property
    def schema(self) -> str:
        return self.config.schema_name

    def _message(self, error: BaseException) -> str:
        """Return the first line of a Spark error, without secrets from the settings."""
        lines = str(error).strip().splitlines()
        text = lines[0] if lines else type(error).__name__
        text = text[:_MAX_MESSAGE]
        secrets = [value for key, value in self.config.conf.items() if _SECRET_KEY.search(key) and value]
        if self.config.remote:
            secrets.append(self.config.remote)
            secrets += [part.split("=", 1)[1] for part in self.config.remote.split(";")[1:] if "=" in part]
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def _call(self, function: Any, context: str) -> Any:
        try:
            return function()
        except self._errors as error:
            raise WarehouseError(f"{context}: {self._message(error)}") from None

    def execute(self, statement: str) -> None:
        logger.debug("spark: %s", statement)
        self._call(lambda: self.session.sql(statement), "Spark rejected a statement")

    def fetch(self, statement: str, parameters: list[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a query and return its column names and rows.

        Rows travel as Arrow, so TIMESTAMP values arrive as UTC datetimes with a time zone and
        TIMESTAMP_NTZ values as naive datetimes, whatever the session time zone.
        """
        logger.debug("spark: %s", statement)

        def run() -> Any:
            frame = self.session.sql(statement, args=parameters) if parameters else self.session.sql(statement)
            return frame.toArrow()

        table = self._call(run, "Spark rejected a query")
        columns = table.column_names
        values = [column.to_pylist() for column in table.columns]
        return columns, list(zip(*values)) if values else []

    def timestamp_types(self, plan_sources: dict[str, tuple[str, str]]) -> dict[str, bool]:
        """Read each timestamp column's type from the catalog: TIMESTAMP is an instant, TIMESTAMP_NTZ is not."""
        result = {}
        for name, (from_sql, column_sql) in plan_sources.items():
            table = sqlglot.parse_one(from_sql, read=self.dialect, into=exp.Table)
            column = sqlglot.parse_one(column_sql, read=self.dialect).name
            columns = self._call(lambda: self.session.catalog.listColumns(table.sql(dialect=self.dialect)),
                                 f"cannot read source '{name}'")
            types = {item.name.lower(): item.dataType.lower() for item in columns}
            column_type = types.get(column.lower())
            if column_type is None:
                raise WarehouseError(f"the table {from_sql} of source '{name}' has no column {column}; "
                                     f"its columns are {', '.join(sorted(types))}")
            if column_type not in ("timestamp", "timestamp_ntz", "date"):
                raise WarehouseError(f"the timestamp column of source '{name}' has type {column_type}, not a "
                                     "timestamp; cast it in a view, or point 'timestamp' at a timestamp column")
            result[name] = column_type == "timestamp"
        return result

    def describe(self, from_sql: str) -> list[tuple[str, str]]:
        """Return the columns of a source from the schema of its analyzed query; Spark reads no rows for it."""
        statement = f"SELECT * FROM {from_sql}"
        logger.debug("spark: describe %s", statement)
        try:
            with _quiet_analysis_errors():
                schema = self.session.sql(statement).schema
        except self._errors as error:
            condition = _condition(error)
            if condition is not None and condition.split(".")[0] in _NOT_FOUND_CONDITIONS:
                raise RelationNotFound(self._message(error)) from None
            raise WarehouseError(self._message(error)) from None
        return [(field.name, field.dataType.simpleString()) for field in schema.fields]

    def explain(self, statement: str) -> None:
        """Plan a query with EXPLAIN, which analyzes and optimizes it and builds the physical plan without running it.

        Spark's EXPLAIN does not raise when the query is invalid; its output then starts with
        "Error occurred during query planning" and the reason.
        """
        logger.debug("spark: EXPLAIN %s", statement)

        def plan() -> str:
            # A failed EXPLAIN returns its text one line per row.
            rows = self.session.sql(f"EXPLAIN {statement}").collect()
            return "\n".join(str(row[0]) for row in rows)

        with _quiet_analysis_errors():
            text = self._call(plan, "Spark cannot plan the query")
        if text.startswith(_EXPLAIN_FAILED):
            reason = text[len(_EXPLAIN_FAILED):].lstrip(": \n")
            raise WarehouseError(self._message(Exception(reason or text)))

    # Deploy

    def _existing_objects(self, schema: str) -> dict[str, tuple[str, str | None]]:
        """Return the database's tables and views by lower-cased name, without temporary views."""
        if not self._call(lambda: self.session.catalog.databaseExists(schema), f"cannot read database '{schema}'"):
            return {}
        tables = self._call(lambda: self.session.catalog.listTables(schema), f"cannot list database '{schema}'")
        return {table.name.lower(): ("VIEW" if table.tableType.upper() == "VIEW" else "TABLE", table.description)
                for table in tables if not table.isTemporary}

    def relation_names(self) -> set[str]:
        """Return the names of the tables and views in the deploy database; Spark has no information_schema."""
        return set(self._existing_objects(self.schema))

    def staging_schema(self) -> str:
        """Return the database where a deploy checks its views before it replaces the real ones."""
        return f"{self.schema}_hl_staging"

    def _reset_staging(self, staging: str) -> None:
        """Create an empty staging database; drop one left by an earlier deploy, but never a foreign one."""
        mark = self._staging_comment()
        if self._call(lambda: self.session.catalog.databaseExists(staging), f"cannot read database '{staging}'"):
            database = self._call(lambda: self.session.catalog.getDatabase(staging), f"cannot read database '{staging}'")
            if (database.description or "") != mark:
                raise OwnershipError(f"database '{staging}' exists but healthlayer did not create it; a deploy to "
                                     f"schema '{self.schema}' checks its views there, so rename that database or "
                                     "deploy to another schema")
            self.execute(f"DROP DATABASE {_name(staging)} CASCADE")
        self.execute(f"CREATE DATABASE {_name(staging)} COMMENT {sql.string(mark).sql(dialect=self.dialect)}")

    def _staging_comment(self) -> str:
        return f"{self.OWNER_MARK} staging database of schema {self.schema}, dropped after each deploy"

    def deploy(self, plan: Plan) -> DeployResult:
        """Check every view in a staging database, then replace the deploy database's views in dependency order.

        Nothing in the deploy database changes until every view has been created in staging and
        the data range has been read there. The switch itself replaces one view at a time.
        """
        existing = self._existing_objects(self.schema)
        owned = self.owned_views(plan, existing)
        stale = sorted(owned - {relation.name for relation in plan.relations})
        statements = [render_create_view(relation, self.schema, self.dialect,
                                          comment=self.owner_comment(plan, relation))
                      for relation in plan.relations]

        staging = self.staging_schema()
        staged = [render_create_view(_moved(relation, plan, staging), staging, self.dialect,
                                     comment=self.owner_comment(plan, relation))
                  for relation in plan.relations]
        self._reset_staging(staging)
        try:
            for statement in staged:
                self.execute(statement)
            self.check_data_range(plan, staging)
        finally:
            self.execute(f"DROP DATABASE IF EXISTS {_name(staging)} CASCADE")

        self.execute(f"CREATE DATABASE IF NOT EXISTS {_name(self.schema)}")
        for statement in statements:
            self.execute(statement)
        for name in stale:
            self.execute(f"DROP VIEW IF EXISTS {self.qualified(name)}")
        views = tuple(DeployedView(relation.name, relation.kind) for relation in plan.relations)
        return DeployResult(self.schema, views, tuple(stale))

    def close(self) -> None:
        if self._owns_session:
            self.session.stop()


def _condition(error: BaseException) -> str | None:
    """Return the error condition of a PySpark error, such as TABLE_OR_VIEW_NOT_FOUND, if it has one."""
    getter = getattr(error, "getCondition", None) or getattr(error, "getErrorClass", None)
    return getter() if getter is not None else None


@contextmanager
def _quiet_analysis_errors() -> Iterator[None]:
    """Keep PySpark from logging an AnalysisException with its full stack trace; the caller reports it."""
    from pyspark.logger import PySparkLogger

    # PySpark logs through its own Logger subclass, so the logger must be created as one of those.
    context_logger = PySparkLogger.getLogger(_QUERY_CONTEXT_LOGGER)
    level = context_logger.level
    context_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        context_logger.setLevel(level)


def _name(identifier: str) -> str:
    return exp.to_identifier(identifier, quoted=sql.needs_quotes(identifier)).sql(dialect="spark")


def _local_path(location: str) -> str:
    """Return a warehouse location without the file: scheme that Spark may add."""
    return re.sub(r"^file:(//)?", "", location).rstrip("/")


def _moved(relation: Relation, plan: Plan, schema: str) -> Relation:
    """Return a relation whose references to the plan's relations point into another schema."""
    names = {item.name for item in plan.relations}

    def move(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.db == plan.schema and not node.catalog and node.name in names:
            moved = node.copy()
            moved.set("db", sql.ident(schema))
            return moved
        return node

    query = relation.query.transform(move)
    assert isinstance(query, exp.Query)
    return dataclasses.replace(relation, query=query)
