"""Snowflake through snowflake-connector-python, with views built in a staging schema and switched in."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from sqlglot import exp

from healthlayer.adapters.base import Adapter, DeployedView, DeployResult, summarise_error
from healthlayer.compiler import sql
from healthlayer.compiler.plan import INTERNAL_PREFIX, Plan
from healthlayer.compiler.render import in_schema, prepare_query, render_create_table, render_create_view
from healthlayer.errors import HealthlayerError, OwnershipError, RelationNotFound, WarehouseError

logger = logging.getLogger(__name__)

# The view in every deployed schema that lists the views healthlayer created there.
MANIFEST = INTERNAL_PREFIX + "manifest"
_PLAIN_SCHEMA = r"^[a-z_][a-z0-9_]{0,254}$"
# Type codes of snowflake.connector.constants.FIELD_TYPES.
_DATE, _TIMESTAMP_LTZ, _TIMESTAMP_TZ, _TIMESTAMP_NTZ = 3, 6, 7, 8
# Snowflake's error number for an object that does not exist or that the role may not see.
OBJECT_NOT_FOUND = 2003
# Type names of result metadata (snowflake.connector.constants.FIELD_ID_TO_NAME) that differ from
# the names Snowflake shows in DESCRIBE.
_TYPE_NAMES = {"TEXT": "VARCHAR", "REAL": "FLOAT"}
# Kinds of schema objects that INFORMATION_SCHEMA.TABLES and VIEWS do not list, as SHOW names them.
OTHER_OBJECT_KINDS = ("USER FUNCTIONS", "PROCEDURES", "SEQUENCES", "STAGES", "FILE FORMATS", "PIPES", "STREAMS",
                      "TASKS")
# Session parameters of healthlayer's own session, so that the values it reads back do not depend on
# account or user defaults. The deployed views do not depend on them.
SESSION_PARAMETERS = {"TIMEZONE": "UTC", "TIMESTAMP_TYPE_MAPPING": "TIMESTAMP_NTZ", "WEEK_START": 0}


class SnowflakeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    connection_name: str | None = None
    account: str | None = None
    user: str | None = None
    password: SecretStr | None = None
    authenticator: Literal["snowflake", "externalbrowser", "snowflake_jwt"] | None = None
    private_key_file: str | None = None
    private_key_file_pwd: SecretStr | None = None
    role: str | None = None
    warehouse: str | None = None
    database: str | None = None
    schema_name: str = Field("analytics", alias="schema", pattern=_PLAIN_SCHEMA)
    staging_schema: str | None = Field(None, pattern=_PLAIN_SCHEMA)
    switch: Literal["swap", "replace"] = "swap"
    query_tag: str | None = Field(None, max_length=2000)
    login_timeout: int | None = Field(None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _lower_authenticator(cls, values: Any) -> Any:
        if isinstance(values, dict) and isinstance(values.get("authenticator"), str):
            values = {**values, "authenticator": values["authenticator"].lower()}
        return values

    @model_validator(mode="after")
    def _check_login(self) -> SnowflakeSettings:
        if self.connection_name is None:
            missing = [key for key in ("account", "user") if getattr(self, key) is None]
            if missing:
                raise ValueError(f"missing {' and '.join(missing)}; set {'them' if len(missing) > 1 else 'it'}, or set "
                                 "connection_name to use a connection of ~/.snowflake/connections.toml")
        if self.authenticator == "snowflake_jwt" and self.private_key_file is None and self.connection_name is None:
            raise ValueError("authenticator snowflake_jwt needs private_key_file (and private_key_file_pwd "
                             "if the key is encrypted)")
        if self.staging_schema is not None and self.staging_schema == self.schema_name:
            raise ValueError("staging_schema must differ from schema")
        return self


def _settings_problems(error: ValidationError) -> str:
    """Describe validation errors by key and message, never by the rejected value."""
    problems = []
    for item in error.errors():
        key = ".".join(map(str, item["loc"]))
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{key}: {message}" if key else message)
    return "; ".join(problems)


def _project_name(project_root: Path) -> str | None:
    try:
        config = yaml.safe_load((project_root / "healthlayer.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    name = config.get("name") if isinstance(config, dict) else None
    return name if isinstance(name, str) else None


class SnowflakeAdapter(Adapter):
    dialect = "snowflake"
    driver_module = "snowflake.connector"
    settings_model = SnowflakeSettings
    creates_on_connect = False
    identifier_case = "upper"
    materializations = frozenset({"view", "table", "incremental"})

    def __init__(self, settings: dict[str, Any], project_root: Path, must_exist: bool = False) -> None:
        try:
            self.config = SnowflakeSettings.model_validate(settings)
        except ValidationError as error:
            raise HealthlayerError(f"invalid snowflake target settings: {_settings_problems(error)}") from None
        super().__init__(self.config.model_dump(by_alias=True, exclude_none=True), project_root)
        self._secrets = [secret.get_secret_value() for secret in (self.config.password, self.config.private_key_file_pwd)
                         if secret is not None and secret.get_secret_value()]
        import snowflake.connector

        self._errors = snowflake.connector.errors
        project = _project_name(project_root)
        query_tag = self.config.query_tag or (f"healthlayer:{project}" if project else "healthlayer")
        try:
            self.connection = snowflake.connector.connect(
                **self._connect_arguments(), application="healthlayer",
                session_parameters={**SESSION_PARAMETERS, "QUERY_TAG": query_tag})
        except self._errors.Error as error:
            raise WarehouseError(f"cannot connect to Snowflake: {self._message(error)}") from None
        self.database = self._current_database()
        if must_exist and not self._schema_exists(self.schema):
            raise HealthlayerError(f"schema {self.schema} does not exist in Snowflake database {self.database}; "
                                   "run 'healthlayer deploy' first")

    def _connect_arguments(self) -> dict[str, Any]:
        config = self.config
        arguments: dict[str, Any] = {}
        for key in ("connection_name", "account", "user", "authenticator", "private_key_file", "role", "warehouse",
                    "database", "login_timeout"):
            value = getattr(config, key)
            if value is not None:
                arguments[key] = value.upper() if key == "authenticator" else value
        for key in ("password", "private_key_file_pwd"):
            secret = getattr(config, key)
            if secret is not None:
                arguments[key] = secret.get_secret_value()
        return arguments

    def _redact(self, text: str) -> str:
        """Return text with every secret of the settings replaced by ***."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _message(self, error: Exception) -> str:
        return self._redact(getattr(error, "msg", None) or str(error))

    def __repr__(self) -> str:
        return f"SnowflakeAdapter(database={self.database!r}, schema={self.schema!r})"

    @property
    def schema(self) -> str:
        return self.config.schema_name

    @property
    def staging_schema(self) -> str:
        return self.config.staging_schema or f"{self.schema}_hl_staging"

    def execute(self, statement: str) -> None:
        self.fetch(statement)

    def fetch(self, statement: str, parameters: list[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        logger.debug("snowflake: %s", self._redact(statement))
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(statement, parameters or None)
                rows = cursor.fetchall()
                columns = [description[0] for description in cursor.description or []]
        except self._errors.Error as error:
            raise WarehouseError(f"Snowflake rejected a statement: {self._message(error)}") from None
        return columns, [tuple(row) for row in rows]

    def _current_database(self) -> str:
        _, rows = self.fetch("SELECT CURRENT_DATABASE()")
        if not rows or rows[0][0] is None:
            raise HealthlayerError("the Snowflake session has no current database; set 'database' in the target")
        return str(rows[0][0])

    def timestamp_types(self, plan_sources: dict[str, tuple[str, str]]) -> dict[str, bool]:
        """Read the result type of each timestamp column; Snowflake resolves the name's case itself."""
        result = {}
        for name, (from_sql, column) in plan_sources.items():
            try:
                with self.connection.cursor() as cursor:
                    cursor.execute(f"SELECT {column} FROM {from_sql} LIMIT 0")
                    type_code = cursor.description[0].type_code
            except self._errors.Error as error:
                raise WarehouseError(f"cannot read source '{name}': {self._message(error)}") from None
            if type_code not in (_DATE, _TIMESTAMP_LTZ, _TIMESTAMP_TZ, _TIMESTAMP_NTZ):
                raise WarehouseError(f"the timestamp column of source '{name}' is not a timestamp or date; cast it "
                                     "in a view, or point 'timestamp' at a TIMESTAMP_NTZ, _LTZ or _TZ column")
            result[name] = type_code in (_TIMESTAMP_LTZ, _TIMESTAMP_TZ)
        return result

    def describe(self, from_sql: str) -> list[tuple[str, str]]:
        """Read a source's columns from the result metadata of a query that Snowflake compiles but does not run."""
        from snowflake.connector.constants import FIELD_ID_TO_NAME

        statement = f"SELECT * FROM {from_sql}"
        logger.debug("snowflake: describe %s", statement)
        try:
            with self.connection.cursor() as cursor:
                metadata = cursor.describe(statement) or []
        except self._errors.Error as error:
            message = summarise_error(self._message(error))
            if getattr(error, "errno", None) == OBJECT_NOT_FOUND:
                raise RelationNotFound(message) from None
            raise WarehouseError(message) from None
        columns = []
        for column in metadata:
            name = FIELD_ID_TO_NAME[column.type_code] or f"type code {column.type_code}"
            if name == "FIXED":
                name = f"NUMBER({column.precision},{column.scale})"
            columns.append((column.name, _TYPE_NAMES.get(name, name)))
        return columns

    def explain(self, statement: str) -> None:
        """Plan a query with EXPLAIN USING TEXT, which compiles it without running it or needing a warehouse.

        NOTE: this path is unverified against Snowflake itself. The tests run it on the fakesnow
        emulator, which cannot run EXPLAIN and rejects it as a syntax error.
        """
        logger.debug("snowflake: EXPLAIN USING TEXT %s", self._redact(statement))
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN USING TEXT {statement}")
                cursor.fetchall()
        except self._errors.Error as error:
            raise WarehouseError(summarise_error(self._message(error))) from None

    # Catalog reads. Unquoted names are stored in upper case, so names are compared in upper case.

    def _schema_exists(self, schema: str) -> bool:
        _, rows = self.fetch("SELECT COUNT(*) FROM INFORMATION_SCHEMA.SCHEMATA WHERE UPPER(SCHEMA_NAME) = %s",
                             [schema.upper()])
        return rows[0][0] > 0

    def _objects(self, schema: str) -> dict[str, tuple[str, str | None]]:
        """Return a schema's tables and views by lower-cased name, each with the owner mark the manifest has.

        NOTE: the manifest records names only, so a view or table that a person replaced under a
        listed name still counts as the project's.
        """
        _, rows = self.fetch(
            "SELECT TABLE_NAME, 'VIEW' FROM INFORMATION_SCHEMA.VIEWS WHERE UPPER(TABLE_SCHEMA) = %s "
            "UNION ALL SELECT TABLE_NAME, 'TABLE' FROM INFORMATION_SCHEMA.TABLES "
            "WHERE UPPER(TABLE_SCHEMA) = %s AND TABLE_TYPE <> 'VIEW'",
            [schema.upper(), schema.upper()])
        kinds = {str(name).lower(): kind for name, kind in rows}
        marks: dict[str, str] = {}
        if kinds.get(MANIFEST) == "VIEW":
            _, manifest_rows = self.fetch(
                exp.select("view_name", "owner_comment").from_(sql.table(MANIFEST, schema)).sql(dialect=self.dialect))
            marks = {str(name).lower(): str(comment) for name, comment in manifest_rows}
        return {name: (kind, marks.get(name)) for name, kind in kinds.items()}

    def _other_objects(self, schema: str) -> list[str]:
        """Return objects of a schema other than tables and views, as 'kind name'; a swap would drop them."""
        found = []
        for kind in OTHER_OBJECT_KINDS:
            columns, rows = self.fetch(f"SHOW {kind} IN SCHEMA {schema}")
            name_index = [column.lower() for column in columns].index("name")
            found += [f"{kind.lower().removeprefix('user ')} {row[name_index]}" for row in rows]
        return sorted(found)

    # Deploy.

    def _manifest_statement(self, plan: Plan, schema: str, names: list[str],
                            earlier: dict[str, str] | None = None) -> str:
        """Return the CREATE VIEW of the manifest that lists `names` as views and tables of this project.

        `earlier` gives comments that stand instead of the plan's, such as those of stored tables
        that are not rebuilt yet: their comment ends with the fingerprint of the SQL they were built by.
        """
        comments = {relation.name: self.owner_comment(plan, relation) for relation in plan.relations}
        comments.update(earlier or {})
        mark = f"{self.OWNER_MARK} project {plan.project_name}:"
        rows = [exp.tuple_(sql.string(plan.project_name), sql.string(name),
                           sql.string(comments.get(name, f"{mark} views of this project")))
                for name in [MANIFEST, *names]]
        query = exp.select("project_name", "view_name", "owner_comment").from_(
            exp.values(rows, alias="m", columns=["project_name", "view_name", "owner_comment"]))
        create = exp.Create(this=sql.table(MANIFEST, schema), kind="VIEW", replace=True, expression=query)
        return create.sql(dialect=self.dialect)

    def _reset_staging(self, plan: Plan) -> None:
        """Drop a staging schema left by an earlier deploy of this project; raise if it contains anything else."""
        staging = self.staging_schema
        if self._schema_exists(staging):
            objects = self._objects(staging)
            mark = f"{self.OWNER_MARK} project {plan.project_name}:"
            foreign = sorted(name for name, (_, comment) in objects.items() if not (comment or "").startswith(mark))
            if foreign or not objects:
                raise OwnershipError(
                    f"the staging schema {staging} exists and was not created by project '{plan.project_name}' "
                    f"({', '.join(foreign) or 'it is empty'}); drop it, or set staging_schema to an unused name")
            self.execute(f"DROP SCHEMA {staging} CASCADE")
        self.execute(f"CREATE SCHEMA {staging}")

    def _build(self, plan: Plan, schema: str, existing: dict[str, tuple[str, str | None]],
               copy_grants: bool = False, store: bool = True) -> None:
        """Create every view and stored table of the plan in `schema`, whose objects are `existing`.

        Stored tables are built from every day, after the data range is checked, so a bad range
        fails before any long build. Without `store` they are created as views, which checks their
        SQL without running it. An object of the other kind under a relation's name is dropped
        first, since CREATE OR REPLACE does not replace a view by a table or a table by a view.
        """
        range_checked = False
        for relation in plan.relations:
            stored = relation.stored and store
            kind = "TABLE" if stored else "VIEW"
            if stored and not range_checked:
                self.check_data_range(plan, schema)
                range_checked = True
            with self.step(relation.name, "table" if stored else "view") as rows:
                previous = existing.get(relation.name, ("", None))[0]
                if previous and previous != kind:
                    self.execute(f"DROP {previous} IF EXISTS {self._in(schema, relation.name)}")
                if stored:
                    query = in_schema(prepare_query(relation, self.dialect, relative_references=True), schema)
                    assert isinstance(query, exp.Query)
                    self.execute(render_create_table(query, relation.name, schema, self.dialect, copy_grants))
                    _, count = self.fetch(f"SELECT COUNT(*) FROM {self._in(schema, relation.name)}")
                    rows.append(int(count[0][0]))
                else:
                    self.execute(render_create_view(relation, schema, self.dialect, copy_grants=copy_grants))
        if not range_checked:
            self.check_data_range(plan, schema)

    def _in(self, schema: str, name: str) -> str:
        return sql.table(name, schema).sql(dialect=self.dialect)

    def deploy(self, plan: Plan) -> DeployResult:
        """Build every view in the staging schema, check it, then switch the target schema to the new views.

        With switch: swap (the default) the staging schema is swapped with the target schema in one
        statement. With switch: replace the views are replaced one by one in the target schema.
        """
        target, staging = self.schema, self.staging_schema
        existing = self._objects(target) if self._schema_exists(target) else {}
        owned = self.owned_views(plan, existing)
        names = [relation.name for relation in plan.relations]
        stale = sorted(owned - set(names) - {MANIFEST})
        target_exists = bool(existing) or self._schema_exists(target)
        if self.config.switch == "swap" and target_exists and MANIFEST not in owned:
            raise OwnershipError(
                f"schema {target} exists but was not created by a deploy of project '{plan.project_name}'; a swap "
                "deploy would drop it with its privileges, so drop it first, deploy to a new schema, "
                "or set switch: replace")
        if self.config.switch == "swap":
            others = sorted(set(existing) - owned)
            if target_exists and not others:
                others = self._other_objects(target)
            if others:
                raise OwnershipError(
                    f"schema {target} contains objects that project '{plan.project_name}' did not create: "
                    f"{', '.join(others)}; a swap deploy replaces the whole schema, so move them, deploy to "
                    "another schema, or set switch: replace")

        replace = self.config.switch == "replace"
        if self.progress is not None:
            self.progress.planned(len(plan.relations) * (2 if replace else 1))
        self._reset_staging(plan)
        try:
            self.execute(self._manifest_statement(plan, staging, names))
            # A replace deploy checks the plan in the staging schema and then builds the target, so
            # stored outputs are built from every day there only.
            self._build(plan, staging, {}, store=not replace)
            if self.config.switch == "swap":
                self._swap(target, staging, target_exists)
            else:
                self._replace(plan, target, names, stale, existing)
        except HealthlayerError:
            self._drop_staging_after_failure()
            raise
        logger.info("deployed %d views to Snowflake schema %s.%s", len(names), self.database, target)
        views = tuple(DeployedView(relation.name, relation.kind) for relation in plan.relations)
        return DeployResult(target, views, tuple(stale))

    def _swap(self, target: str, staging: str, target_exists: bool) -> None:
        # NOTE: the emulator rejects SWAP WITH and RENAME TO, so this path runs only in
        # tests/engines/test_snowflake_live.py, which has not yet run against a live account.
        if not target_exists:
            self.execute(f"ALTER SCHEMA {staging} RENAME TO {target}")
            return
        self.execute(f"ALTER SCHEMA {staging} SWAP WITH {target}")
        # The staging name now contains the previous views. The new views are live, so a failure
        # to drop them is logged and the next deploy drops the schema.
        try:
            self.execute(f"DROP SCHEMA {staging} CASCADE")
        except WarehouseError as error:
            logger.warning("could not drop the previous views in schema %s after the swap: %s", staging, error)

    def _replace(self, plan: Plan, target: str, names: list[str], stale: list[str],
                 existing: dict[str, tuple[str, str | None]]) -> None:
        self.execute(f"CREATE SCHEMA IF NOT EXISTS {target}")
        # The manifest lists the stale views until they are dropped, so a deploy that stops halfway
        # still owns them.
        built_tables = {name: comment for name, (kind, comment) in existing.items() if kind == "TABLE" and comment}
        self.execute(self._manifest_statement(plan, target, names + stale, built_tables))
        self._build(plan, target, existing, copy_grants=True)
        for name in stale:
            self.execute(f"DROP {existing[name][0]} IF EXISTS {self.qualified(name)}")
        self.execute(self._manifest_statement(plan, target, names))
        self.execute(f"DROP SCHEMA {self.staging_schema} CASCADE")

    def _drop_staging_after_failure(self) -> None:
        try:
            if self._schema_exists(self.staging_schema):
                self.execute(f"DROP SCHEMA {self.staging_schema} CASCADE")
        except HealthlayerError as error:
            logger.warning("could not drop the staging schema %s after a failed deploy: %s", self.staging_schema, error)

    def existing_objects(self) -> dict[str, tuple[str, str | None]]:
        return self._objects(self.schema) if self._schema_exists(self.schema) else {}

    def close(self) -> None:
        try:
            self.connection.close()
        except self._errors.Error as error:
            logger.warning("closing the Snowflake connection failed: %s", self._message(error))
