"""PostgreSQL through psycopg 3, with the views of a deploy switched in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from sqlglot import exp

from healthlayer.adapters.base import MAX_MESSAGE, Adapter, DeployedView, DeployResult
from healthlayer.compiler.dialects.postgres import check_identifier
from healthlayer.compiler.plan import Plan, Relation
from healthlayer.compiler.render import prepare_query, render_create_table, render_create_view
from healthlayer.definitions.project import MIN_REDACTED_LENGTH
from healthlayer.errors import HealthlayerError, RelationNotFound, WarehouseError

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

APPLICATION_NAME = "healthlayer"
# Type OIDs of pg_catalog.pg_type that a source's timestamp column may have.
TIMESTAMPTZ_OID = 1184
TIMESTAMP_OID = 1114
DATE_OID = 1082

# The fix for each settings key, given when its value is invalid.
SETTING_FIXES = {
    "host": "set host to the server's host name or IP address",
    "port": "set port to a TCP port number from 1 to 65535",
    "user": "set user to the PostgreSQL role to connect as",
    "password": "set password to text, for example \"{{ env_var('PGPASSWORD') }}\" in quotes",
    "dbname": "set dbname to the name of the database",
    "schema": "set schema to a lower-case name of letters, digits and underscores, at most 63 characters",
    "sslmode": "set sslmode to disable, allow, prefer, require, verify-ca or verify-full",
    "connect_timeout": "set connect_timeout to a whole number of seconds, 1 or more",
    "lock_timeout": "set lock_timeout to a whole number of seconds, 1 or more",
}


class PostgresSettings(BaseModel):
    """Settings of a `type: postgres` target. Unset user, password and dbname follow libpq's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    host: str = Field("localhost", min_length=1)
    port: int = Field(5432, ge=1, le=65535)
    user: str | None = Field(None, min_length=1)
    password: SecretStr | None = None
    dbname: str | None = Field(None, min_length=1)
    schema_name: str = Field("analytics", alias="schema", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] | None = None
    # Seconds to wait for the connection to open.
    connect_timeout: int = Field(10, ge=1)
    # Seconds a deploy waits for a lock on one view before it fails, since queries reading a view block its replacement.
    # PostgreSQL keeps lock_timeout in milliseconds as a 32-bit integer.
    lock_timeout: int = Field(10, ge=1, le=2_147_483)

    @field_validator("host", "user", "dbname", "password", mode="after")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        """Reject control characters and unpaired surrogates: libpq ends a value at NUL and drops what follows."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text is None:
            return value
        if any(ord(character) < 32 or ord(character) == 127 for character in text):
            raise ValueError("contains a control character")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("contains a character that is not valid Unicode") from None
        return value


def parse_settings(settings: dict[str, Any]) -> PostgresSettings:
    """Validate target settings, or raise HealthlayerError naming each invalid key and its fix but never a value."""
    try:
        return PostgresSettings.model_validate(settings)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            key = ".".join(map(str, item["loc"]))
            if item["type"] == "extra_forbidden":
                problems.append(f"unknown key '{key}'; allowed keys: {', '.join(SETTING_FIXES)}")
            else:
                problems.append(f"invalid '{key}': {item['msg']}; {SETTING_FIXES.get(key, 'correct it')}")
        raise HealthlayerError(f"invalid postgres target settings: {'; '.join(problems)}") from None


class PostgresAdapter(Adapter):
    dialect = "postgres"
    driver_module = "psycopg"
    settings_model = PostgresSettings
    creates_on_connect = False
    identifier_case = "lower"
    materializations = frozenset({"view", "table", "incremental"})

    def __init__(self, settings: dict[str, Any], project_root: Path, must_exist: bool = False) -> None:
        self.config = parse_settings(settings)
        super().__init__({key: value for key, value in settings.items() if key != "password"}, project_root)
        import psycopg

        self._psycopg = psycopg
        # GRANT statements of the views a running deploy dropped, by view name.
        self._saved_grants: dict[str, list[str]] = {}
        password = self.config.password.get_secret_value() if self.config.password else None
        self._secret = password
        try:
            self.connection = psycopg.connect(
                host=self.config.host, port=self.config.port, user=self.config.user, password=password,
                dbname=self.config.dbname, sslmode=self.config.sslmode,
                connect_timeout=self.config.connect_timeout, application_name=APPLICATION_NAME,
                autocommit=True)
        except psycopg.Error as error:
            raise WarehouseError(f"cannot connect to PostgreSQL at {self.config.host}:{self.config.port}: "
                                 f"{self._describe(error)}") from None
        if must_exist and not self._schema_exists():
            self.close()
            raise HealthlayerError(f"schema '{self.schema}' does not exist in this PostgreSQL database; "
                                   "run 'healthlayer deploy' first")

    @property
    def schema(self) -> str:
        return self.config.schema_name

    def _describe(self, error: Exception) -> str:
        """Return a driver error's message with its detail and hint, and without the password."""
        diagnostic = getattr(error, "diag", None)
        text = str(error).strip()
        if diagnostic is not None:
            for extra in (diagnostic.message_detail, diagnostic.message_hint):
                if extra and extra not in text:
                    text += f" ({extra})"
        if self._secret and len(self._secret) >= MIN_REDACTED_LENGTH:
            text = text.replace(self._secret, "***")
        return text

    def _run(self, statement: str, parameters: list[Any] | None = None) -> psycopg.Cursor[Any]:
        """Run a statement and return its cursor, letting driver errors through unchanged."""
        logger.debug("postgres: %s", statement)
        return self.connection.execute(statement, parameters)  # type: ignore[arg-type]

    def execute(self, statement: str) -> None:
        try:
            self._run(statement)
        except self._psycopg.errors.LockNotAvailable:
            raise WarehouseError(
                f"timed out after {self.config.lock_timeout} s waiting for a lock held by another session (another "
                "refresh or deploy, or a long query). The transaction was rolled back, so nothing changed: retry "
                "later or raise lock_timeout") from None
        except self._psycopg.Error as error:
            raise WarehouseError(f"PostgreSQL rejected a statement: {self._describe(error)}") from None

    def fetch(self, statement: str, parameters: list[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a query and return its column names and rows. Parameters bind to `?` placeholders."""
        if parameters:
            statement = qmark_to_format(statement)
        try:
            cursor = self._run(statement, parameters or None)
            rows = cursor.fetchall() if cursor.description else []
        except self._psycopg.Error as error:
            raise WarehouseError(f"PostgreSQL rejected a query: {self._describe(error)}") from None
        columns = [column.name for column in cursor.description or []]
        return columns, rows

    def timestamp_types(self, plan_sources: dict[str, tuple[str, str]]) -> dict[str, bool]:
        result = {}
        for name, (from_sql, column) in plan_sources.items():
            try:
                cursor = self._run(f"SELECT {column} FROM {from_sql} LIMIT 0")
            except self._psycopg.Error as error:
                raise WarehouseError(f"cannot read source '{name}': {self._describe(error)}") from None
            assert cursor.description is not None
            type_oid = cursor.description[0].type_code
            if type_oid not in (TIMESTAMPTZ_OID, TIMESTAMP_OID, DATE_OID):
                type_info = self.connection.adapters.types.get(type_oid)
                type_name = type_info.name if type_info else f"with OID {type_oid}"
                raise WarehouseError(f"the timestamp column of source '{name}' has type {type_name}, not a "
                                     "timestamp; cast it in a view, or point 'timestamp' at a timestamp column")
            result[name] = type_oid == TIMESTAMPTZ_OID
        return result

    def _summary(self, error: Exception) -> str:
        """Return a driver error's primary message with its detail and hint, without the SQL excerpt."""
        diagnostic = getattr(error, "diag", None)
        primary = diagnostic.message_primary if diagnostic is not None else None
        text = primary or (str(error).strip().splitlines() or [type(error).__name__])[0]
        if diagnostic is not None:
            for extra in (diagnostic.message_detail, diagnostic.message_hint):
                if extra:
                    text += f" ({extra})"
        if self._secret and len(self._secret) >= MIN_REDACTED_LENGTH:
            text = text.replace(self._secret, "***")
        return text[:MAX_MESSAGE]

    @contextmanager
    def _read_only(self) -> Iterator[None]:
        """Run statements in a READ ONLY transaction that is rolled back, whatever they are."""
        with self.connection.transaction(force_rollback=True):
            self._run("SET TRANSACTION READ ONLY")
            yield

    def describe(self, from_sql: str) -> list[tuple[str, str]]:
        """Read a relation's columns from the catalog; a cast to regclass resolves the name as a query would."""
        psycopg = self._psycopg
        try:
            with self._read_only():
                rows = self._run(
                    "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) "
                    "FROM pg_catalog.pg_attribute a "
                    "WHERE a.attrelid = CAST(%s AS pg_catalog.regclass) AND a.attnum > 0 AND NOT a.attisdropped "
                    "ORDER BY a.attnum", [from_sql]).fetchall()
        except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName) as error:
            raise RelationNotFound(self._summary(error)) from None
        except psycopg.Error as error:
            raise WarehouseError(self._summary(error)) from None
        return [(str(name), str(type_name)) for name, type_name in rows]

    def explain(self, statement: str) -> None:
        """Plan a query with EXPLAIN (without ANALYZE, so it does not run) in a READ ONLY transaction."""
        try:
            with self._read_only():
                self._run(f"EXPLAIN {statement}").fetchall()
        except self._psycopg.Error as error:
            raise WarehouseError(self._summary(error)) from None

    def _schema_exists(self) -> bool:
        _, rows = self.fetch("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = ?", [self.schema])
        return bool(rows)

    def existing_objects(self) -> dict[str, tuple[str, str | None]]:
        """Return the schema's relations by name: views as 'VIEW', everything else as 'TABLE'.

        Names are compared exactly, since PostgreSQL names are case-sensitive and every name
        healthlayer creates is lower case. Indexes, sequences and materialized views count as
        tables, because a view cannot take the name of any of them.
        """
        _, rows = self.fetch(
            "SELECT c.relname, CASE WHEN c.relkind = 'v' THEN 'VIEW' ELSE 'TABLE' END, "
            "pg_catalog.obj_description(c.oid, 'pg_class') "
            "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ?", [self.schema])
        return {name: (kind, comment) for name, kind, comment in rows}

    def _dependent_views(self, name: str) -> list[tuple[str, str]]:
        """Return (schema, name) of every view or materialized view built on a view of the deploy schema, deepest first.

        PostgreSQL records a view's use of a relation as a dependency of the view's rewrite rule
        (pg_rewrite) on that relation in pg_depend.
        """
        _, rows = self.fetch(
            """
            WITH RECURSIVE dependents(oid, depth) AS (
                SELECT r.ev_class, 1
                FROM pg_catalog.pg_depend d
                JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
                WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass
                  AND d.refclassid = 'pg_catalog.pg_class'::regclass
                  AND d.refobjid = (SELECT c.oid FROM pg_catalog.pg_class c
                                    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                                    WHERE n.nspname = ? AND c.relname = ?)
                  AND r.ev_class <> d.refobjid
                UNION ALL
                SELECT r.ev_class, dependents.depth + 1
                FROM dependents
                JOIN pg_catalog.pg_depend d ON d.refobjid = dependents.oid
                JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
                WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass
                  AND d.refclassid = 'pg_catalog.pg_class'::regclass
                  AND r.ev_class <> d.refobjid
            )
            SELECT n.nspname, c.relname
            FROM dependents
            JOIN pg_catalog.pg_class c ON c.oid = dependents.oid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            GROUP BY n.nspname, c.relname
            ORDER BY MAX(dependents.depth) DESC, n.nspname, c.relname
            """, [self.schema, name])
        return [(schema, relation) for schema, relation in rows]

    def _foreign(self, dependents: list[tuple[str, str]], owned: set[str]) -> list[str]:
        """Return, as schema.name, the views among `dependents` that this project did not create."""
        return [f"{schema}.{view}" for schema, view in dependents if schema != self.schema or view not in owned]

    def _check_rebuilt(self, plan: Plan, existing: dict[str, tuple[str, str | None]], owned: set[str]) -> None:
        """Raise, naming every one, when views of others depend on tables or views that the deploy drops and builds again.

        Stored tables are built again on every deploy, and an owned table whose output is now a
        view is dropped, so dropping either would need CASCADE to drop the other views as well.
        """
        blocked = []
        for relation in plan.relations:
            if relation.name not in owned or not (relation.stored or existing[relation.name][0] == "TABLE"):
                continue
            foreign = self._foreign(self._dependent_views(relation.name), owned)
            if foreign:
                blocked.append(f"{self.schema}.{relation.name} ({', '.join(sorted(foreign))})")
        if blocked:
            raise WarehouseError(
                "the deploy drops and builds again stored tables, and tables whose outputs are now views, but views "
                f"that this project did not create depend on them: {'; '.join(blocked)}. Drop those views, deploy, "
                "then create them again. The deploy was rolled back, so the previous views are unchanged")

    def _drop_owned(self, name: str, kind: str, owned: set[str], reason: str) -> list[str]:
        """Drop an owned view or table and the owned views built on it; return the names dropped, dependents first.

        Raise WarehouseError, without dropping anything, when a view that this project did not
        create is built on it, since DROP ... CASCADE would drop that view too. The grants of every
        dropped object are kept for `deploy` to give again.
        """
        dependents = self._dependent_views(name)
        foreign = self._foreign(dependents, owned)
        if foreign:
            raise WarehouseError(
                f"cannot drop {kind.lower()} {self.schema}.{name}, because {reason}, and views that this project did "
                f"not create depend on it: {', '.join(foreign)}; drop those views, deploy, then create them again. "
                "The deploy was rolled back, so the previous views are unchanged")
        dropped = [(view, "VIEW") for _, view in dependents] + [(name, kind)]
        for relation, relation_kind in dropped:
            self._saved_grants.setdefault(relation, []).extend(self._grants(relation))
            self._run(f"DROP {relation_kind} {self.qualified(relation)}")
        return [relation for relation, _ in dropped]

    def _grants(self, name: str) -> list[str]:
        """Return GRANT statements that give other roles the privileges they have on a view of the deploy schema."""
        _, rows = self.fetch(
            "SELECT a.privilege_type, "
            "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END, "
            "a.is_grantable "
            "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a "
            "WHERE n.nspname = ? AND c.relname = ? AND a.grantee <> c.relowner", [self.schema, name])
        return [f"GRANT {privilege} ON {self.qualified(name)} TO {grantee}{' WITH GRANT OPTION' if grantable else ''}"
                for privilege, grantee, grantable in rows]

    def _create_view(self, relation: Relation, statement: str, owned: set[str]) -> set[str]:
        """Create or replace one view, and return the owned views dropped on the way.

        CREATE OR REPLACE VIEW keeps a view's grants and the views built on it, but it cannot drop,
        rename or retype a column. When it fails for that reason, the view and the owned views
        built on it are dropped and it is created again. Those dependents come later in the plan,
        which is in dependency order, so they are created again too, and `deploy` restores the
        grants of all of them.
        """
        psycopg = self._psycopg
        try:
            with self.connection.transaction():
                self._run(statement)
            return set()
        except psycopg.errors.InvalidTableDefinition as error:
            logger.info("postgres: view %s changes its columns (%s); dropping and recreating it",
                        relation.name, error.diag.message_primary)
        dropped = self._drop_owned(relation.name, "VIEW", owned, "its columns change")
        self._run(statement)
        return set(dropped)

    def _check_names(self, plan: Plan) -> None:
        for relation in plan.relations:
            check_identifier(relation.name, "the view name")
            for column in relation.columns:
                check_identifier(column, f"the column name of view '{relation.name}'")

    def deploy(self, plan: Plan) -> DeployResult:
        """Create or replace every view and stored table of the plan and drop the owned ones it no longer has.

        It all happens in one transaction. PostgreSQL DDL is transactional, so other sessions see
        the previous objects until the commit and the new ones after it. A deploy that fails rolls
        back and changes nothing. A stored table is dropped and built again from every day, with
        the owned views that read it, after the data range is checked.
        """
        self._check_names(plan)
        self.check_materializations(plan)
        statements = {relation.name: render_create_view(relation, self.schema, self.dialect)
                      for relation in plan.relations if not relation.stored}
        if self.progress is not None:
            self.progress.planned(len(plan.relations))
        from psycopg.sql import Literal as SqlLiteral

        psycopg = self._psycopg
        current = "the deploy"
        try:
            with self.transaction():
                if not self._schema_exists():
                    self._run(f'CREATE SCHEMA "{self.schema}"')
                existing = self.existing_objects()
                owned = self.owned_views(plan, existing)
                # A dropped view or table loses its grants, so they are given again when it is created again.
                self._saved_grants = {}
                # A stale view may be dropped while the plan's views are created, as a dependent of a changed view.
                dropped: set[str] = set()
                self._check_rebuilt(plan, existing, owned)
                range_checked = False
                for relation in plan.relations:
                    kind = "TABLE" if relation.stored else "VIEW"
                    current = f"{kind.lower()} {self.schema}.{relation.name}"
                    if relation.stored and not range_checked:
                        self.check_data_range(plan)
                        range_checked = True
                    with self.step(relation.name, "table" if relation.stored else "view") as rows:
                        previous = existing[relation.name][0] if relation.name in owned - dropped else None
                        if previous is not None and (relation.stored or previous == "TABLE"):
                            reason = "it is stored as a table" if relation.stored else "it is now a view"
                            dropped |= set(self._drop_owned(relation.name, previous, owned, reason))
                        if relation.stored:
                            query = prepare_query(relation, self.dialect)
                            assert isinstance(query, exp.Query)
                            self._run(render_create_table(query, relation.name, self.schema, self.dialect))
                        else:
                            dropped |= self._create_view(relation, statements[relation.name], owned)
                        for grant in self._saved_grants.pop(relation.name, []):
                            self._run(grant)
                        comment = SqlLiteral(self.owner_comment(plan, relation)).as_string(self.connection)
                        self._run(f"COMMENT ON {kind} {self.qualified(relation.name)} IS {comment}")
                        if relation.stored:
                            rows.append(self._count(relation.name))
                stale = sorted(owned - {relation.name for relation in plan.relations})
                for name in stale:
                    if name not in dropped:
                        current = f"{existing[name][0].lower()} {self.schema}.{name}"
                        dropped |= set(self._drop_owned(name, existing[name][0], owned,
                                                        "the project no longer defines it"))
                if not range_checked:
                    current = "the check of the data range"
                    self.check_data_range(plan)
        except psycopg.errors.LockNotAvailable:
            raise WarehouseError(
                f"timed out after {self.config.lock_timeout} s waiting for a lock on {current}, which another "
                "session holds (often a long query on the view); the deploy was rolled back, so the previous "
                "views are unchanged; retry later or raise lock_timeout") from None
        except psycopg.Error as error:
            raise WarehouseError(f"PostgreSQL rejected {current}: {self._describe(error)}; the deploy was rolled "
                                 "back, so the previous views are unchanged") from None
        views = tuple(DeployedView(relation.name, relation.kind) for relation in plan.relations)
        return DeployResult(self.schema, views, tuple(stale))

    def lock_tables(self, names: list[str]) -> None:
        """Lock the tables against other writers; SHARE ROW EXCLUSIVE conflicts with itself but not with readers.

        Without it, a second refresh's DELETE would wait for the first refresh's commit, then skip
        the rows that the first one inserted, and both refreshes' rows would stay.
        """
        if names:
            self.execute(f"LOCK TABLE {', '.join(self.qualified(name) for name in names)} IN SHARE ROW EXCLUSIVE MODE")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.connection.transaction():
            # A SET LOCAL value ends with the transaction.
            self._run(f"SET LOCAL lock_timeout = '{self.config.lock_timeout}s'")
            yield

    def close(self) -> None:
        self.connection.close()


def qmark_to_format(statement: str) -> str:
    """Turn `?` placeholders into psycopg's `%s`, leaving quoted text, quoted names and comments alone."""
    output = []
    index = 0
    length = len(statement)
    while index < length:
        character = statement[index]
        if character in "'\"":
            end = index + 1
            while end < length:
                if statement[end] == character:
                    if end + 1 < length and statement[end + 1] == character:
                        end += 2
                        continue
                    break
                end += 1
            output.append(statement[index:end + 1].replace("%", "%%"))
            index = end + 1
        elif statement.startswith("--", index):
            end = statement.find("\n", index)
            end = length if end == -1 else end
            output.append(statement[index:end].replace("%", "%%"))
            index = end
        elif character == "?":
            output.append("%s")
            index += 1
        elif character == "%":
            output.append("%%")
            index += 1
        else:
            output.append(character)
            index += 1
    return "".join(output)
