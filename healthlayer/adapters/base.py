"""The interface every warehouse adapter implements."""

from __future__ import annotations

import abc
import datetime
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel
from sqlglot import exp

from healthlayer.compiler import sql
from healthlayer.compiler.engagement import BOUNDS, CALENDAR_MAX_DAYS
from healthlayer.compiler.plan import Plan, Relation, fingerprint
from healthlayer.compiler.quoting import quote_keywords
from healthlayer.compiler.render import prepare_query
from healthlayer.compiler.standalone import dependencies, standalone_query
from healthlayer.errors import HealthlayerError, OwnershipError, UnsupportedError, WarehouseError


@dataclass(frozen=True)
class DeployedView:
    name: str
    kind: str


@dataclass(frozen=True)
class DeployResult:
    """Result of a deploy: the schema, the views created, the views dropped, and the database file if any."""

    schema: str
    views: tuple[DeployedView, ...]
    dropped: tuple[str, ...]
    database: Path | None = None


@dataclass(frozen=True)
class BuildStep:
    """One relation built by a deploy or a refresh, as progress output reports it.

    `action` is 'view' for a view created, 'table' for a table built from every day, and
    'incremental' for the days from `first_day` on recomputed in a stored table. `rows` counts
    the rows written to a table.
    """

    name: str
    action: Literal["view", "table", "incremental"]
    seconds: float
    rows: int | None = None
    first_day: datetime.date | None = None


# The first and last day of data.
DataRange = tuple[datetime.date, datetime.date]


class ProgressCallback(Protocol):
    """Receives the steps of a deploy or refresh: how many there will be, and each as it starts and finishes."""

    def planned(self, count: int) -> None: ...

    def started(self, name: str, action: str) -> None: ...

    def finished(self, step: BuildStep) -> None: ...


class Adapter(abc.ABC):
    """A connection to one warehouse: run statements, read rows, introspect and deploy a plan."""

    dialect: ClassVar[str]
    # The module of the driver that the adapter imports when it connects, checked by `healthlayer adapters`.
    driver_module: ClassVar[str | None] = None
    # The pydantic model of the target's settings, which `healthlayer validate` checks without connecting.
    settings_model: ClassVar[type[BaseModel] | None] = None
    # Marker text at the start of the comment on every object healthlayer creates.
    OWNER_MARK: ClassVar[str] = "healthlayer:"
    # Whether connecting without `must_exist` may create storage: a database file, a folder or a
    # metastore. A warehouse check connects to such adapters with `must_exist`. Adapters that
    # create nothing on connect (servers) set False, since their `must_exist` also requires the
    # deploy schema, which a check before the first deploy does not need.
    creates_on_connect: ClassVar[bool] = True
    # How the adapter can store outputs (see Relation.materialized); others fail the deploy.
    materializations: ClassVar[frozenset[str]] = frozenset({"view"})
    # How the engine finds the stored column for a name in the compiled SQL. Plain lower-case
    # names are left unquoted and others are quoted (healthlayer.compiler.sql.needs_quotes).
    # "lower" and "upper" fold unquoted names and match quoted ones exactly (PostgreSQL,
    # Snowflake), "exact" matches every name exactly (ClickHouse), and "any" ignores case even in
    # quoted names (DuckDB, Spark).
    identifier_case: ClassVar[Literal["lower", "upper", "exact", "any"]] = "exact"

    def __init__(self, settings: dict[str, Any], project_root: Path, must_exist: bool = False) -> None:
        """Connect to the target; with `must_exist`, fail instead of creating an empty database."""
        self.settings = settings
        self.project_root = project_root
        self.progress: ProgressCallback | None = None
        # The steps reported since the adapter connected.
        self.steps: list[BuildStep] = []

    @property
    @abc.abstractmethod
    def schema(self) -> str: ...

    @abc.abstractmethod
    def execute(self, statement: str) -> None: ...

    @abc.abstractmethod
    def fetch(self, statement: str, parameters: list[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        ...

    @abc.abstractmethod
    def timestamp_types(self, plan_sources: dict[str, tuple[str, str]]) -> dict[str, bool]:
        """Return, per source name, whether its timestamp column has a time zone.

        `plan_sources` maps source names to (FROM clause SQL, timestamp column).
        """

    @abc.abstractmethod
    def deploy(self, plan: Plan) -> DeployResult: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def check_materializations(self, plan: Plan) -> None:
        """Raise UnsupportedError when the plan stores an output in a way this adapter cannot."""
        unsupported = [f"{relation.name} ({relation.materialized})" for relation in plan.outputs()
                       if relation.materialized not in self.materializations]
        if unsupported:
            kinds = ", ".join(sorted(self.materializations))
            raise UnsupportedError(
                f"the {self.dialect} adapter stores outputs only as {kinds}, not {', '.join(unsupported)}; store "
                "them as views for this target, for example with materialized: \"{{ var('storage', 'table') }}\" "
                "and --var storage=view")

    def existing_objects(self) -> dict[str, tuple[str, str | None]]:
        """Return the deploy schema's tables and views as {lower-cased name: (kind, comment)}.

        Kind is 'VIEW' or 'TABLE'. Adapters that store outputs implement it for `refresh`.
        """
        raise UnsupportedError(f"the {type(self).__name__} adapter cannot list the objects of its schema")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the statements of the block in one transaction, rolled back when the block raises an error of ours.

        This runs BEGIN, COMMIT and ROLLBACK; adapters whose driver manages transactions override it.
        """
        self.execute("BEGIN")
        try:
            yield
        except HealthlayerError:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def lock_tables(self, names: list[str]) -> None:
        """Keep other refreshes and deploys from writing these tables until the transaction ends.

        Readers must not be blocked. Engines whose writers already exclude each other, such as
        DuckDB, whose database file has one writer at a time, need nothing here.
        """

    def refresh(self, plan: Plan, refresh_plan: Callable[[datetime.date, DataRange | None], Plan], full: bool = False,
                names: set[str] | None = None) -> list[BuildStep]:
        """Bring the stored outputs of a deployed plan up to date with the events, in one transaction.

        A table has all its rows replaced. An incremental table has its rows from the last stored
        day minus its lookback replaced, computed by the plan that `refresh_plan` returns for the
        first such day and the data range, which is read once. `full` replaces every row of
        incremental tables too. `names` limits the refresh to those outputs and the stored outputs
        they read, which are refreshed first, so that none reads rows older than its own.
        Before any change, every chosen table must have been deployed from the current
        definitions, and the engagement source must have events.
        """
        if "table" not in self.materializations:
            raise UnsupportedError(f"the {type(self).__name__} adapter cannot refresh stored tables")
        self.check_materializations(plan)
        existing = self.existing_objects()
        owned = self.owned_views(plan, existing)
        for relation in plan.outputs():
            key = relation.name.lower()
            if not relation.stored and key in owned and existing[key][0] == "TABLE":
                raise HealthlayerError(f"'{relation.name}' is deployed as a table, but its definition now makes it a "
                                       "view; run 'healthlayer deploy' to replace the table")
        stored = [relation for relation in plan.outputs() if relation.stored]
        chosen = stored
        if names is not None:
            selected = set(names)
            for relation in stored:
                if relation.name in names:
                    selected |= {item.name for item in dependencies(plan, relation)}
            chosen = [relation for relation in stored if relation.name in selected]
        for relation in chosen:
            self._check_stored(plan, relation, existing, owned)
        steps_before = len(self.steps)
        if self.progress is not None:
            self.progress.planned(len(chosen))
        with self.transaction():
            self.lock_tables([relation.name for relation in chosen])
            first_date, last_date = self.check_data_range(plan)
            if last_date is None and BOUNDS in {relation.name for relation in plan.relations}:
                raise HealthlayerError("the engagement source has no events, so a refresh would empty the stored "
                                       "tables; check that the source was loaded, or run 'healthlayer deploy' to "
                                       "rebuild the tables from the source as it is")
            data_range = (first_date, last_date) if first_date is not None and last_date is not None else None
            for relation in chosen:
                first_day = None
                if not full and relation.materialized == "incremental":
                    first_day = self._first_refreshed_day(relation, last_date)
                if first_day is None:
                    self._replace_rows(plan, relation)
                    continue
                earlier = frozenset(item.name for item in stored if item.name != relation.name)
                self._replace_rows(refresh_plan(first_day, data_range), relation, first_day, earlier)
        return self.steps[steps_before:]

    def _check_stored(self, plan: Plan, relation: Relation, existing: dict[str, tuple[str, str | None]],
                      owned: set[str]) -> None:
        """Raise unless a stored output was deployed as a table from the current definitions."""
        key = relation.name.lower()
        if key not in owned or existing[key][0] != "TABLE":
            raise HealthlayerError(f"'{relation.name}' is not deployed as a table in schema '{self.schema}'; "
                                   "run 'healthlayer deploy' after changing 'materialized'")
        comment = existing[key][1] or ""
        if not comment.endswith(f"{FINGERPRINT_MARK}{self.fingerprint(plan, relation)}]"):
            raise HealthlayerError(f"the definitions of '{relation.name}' changed since it was deployed, so a refresh "
                                   "would mix rows of the old and new definitions; run 'healthlayer deploy', which "
                                   "rebuilds it")

    def _first_refreshed_day(self, relation: Relation, last_day: datetime.date | None) -> datetime.date | None:
        """Return the first day to recompute, or None when the table needs all its rows replaced.

        The recomputed days start `lookback` days before the last day of data that the table was
        computed through: its greatest `complete_through`, which every refresh writes on the days
        it recomputes. When the data now ends earlier than that, events were removed and older rows
        may carry a later `complete_through` than the rows of the removed days, so the table is
        built again from every day. That keeps the greatest `complete_through` equal to the last
        day of data of the latest refresh.
        """
        statement = exp.select(exp.Max(this=exp.column("complete_through"))).from_(sql.table(relation.name, self.schema))
        _, rows = self.fetch(quote_keywords(statement, self.dialect).sql(dialect=self.dialect))
        last = rows[0][0]
        if last is None:
            return None
        if isinstance(last, datetime.datetime):
            last = last.date()
        if last_day is not None and last_day < last:
            return None
        return last - datetime.timedelta(days=relation.lookback - 1)

    def _replace_rows(self, plan: Plan, relation: Relation, first_day: datetime.date | None = None,
                      stored: frozenset[str] = frozenset()) -> None:
        """Replace the rows of a stored table from `first_day` on, or all of them, with rows of `plan`.

        All rows come from the deployed relation's query. Recent rows come from the relation of the
        refresh plan with every relation it reads inlined, except the stored tables in `stored`.
        Both read the schema's relations by qualified name, whatever the session's schema is.
        """
        target = self.qualified(relation.name)
        with self.step(relation.name, "table" if first_day is None else "incremental", first_day) as rows:
            if first_day is None:
                self.execute(f"DELETE FROM {target}")
                query = prepare_query(relation, self.dialect, relative_references=False)
                self.execute(f"INSERT INTO {target} {query.sql(dialect=self.dialect)}")
                rows.append(self._count(relation.name))
                return
            assert relation.date_column is not None
            query = standalone_query(plan, plan.get(relation.name), self.dialect, keep=stored,
                                     relative_references=False)
            recent = exp.GTE(this=sql.column(relation.date_column, "r"), expression=sql.date_literal(first_day))
            select = exp.select(*[sql.column(column, "r", quoted=True) for column in relation.columns]).from_(
                exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier("r")))).where(recent)
            day = sql.date_literal(first_day).sql(dialect=self.dialect)
            self.execute(f"DELETE FROM {target} WHERE {relation.date_column} >= {day}")
            before = self._count(relation.name)
            self.execute(f"INSERT INTO {target} {select.sql(dialect=self.dialect)}")
            rows.append(self._count(relation.name) - before)

    def _count(self, name: str) -> int:
        _, rows = self.fetch(f"SELECT COUNT(*) FROM {self.qualified(name)}")
        return int(rows[0][0])

    @contextmanager
    def step(self, name: str, action: Literal["view", "table", "incremental"],
             first_day: datetime.date | None = None) -> Iterator[list[int]]:
        """Time one build step and report it; the caller appends the rows written to the yielded list."""
        rows: list[int] = []
        if self.progress is not None:
            self.progress.started(name, action)
        started = time.perf_counter()
        yield rows
        step = BuildStep(name, action, time.perf_counter() - started, rows[0] if rows else None, first_day)
        self.steps.append(step)
        if self.progress is not None:
            self.progress.finished(step)

    def describe(self, from_sql: str) -> list[tuple[str, str]]:
        """Return (name, type as the engine names it) of each column of a source, without reading rows.

        `from_sql` is the FROM item of the source, rendered for the adapter's dialect. Raise
        RelationNotFound when the table, view or file does not exist (or the target's user cannot
        see it), and WarehouseError when the warehouse rejects the read for another reason.
        """
        raise UnsupportedError(f"the {type(self).__name__} adapter cannot read the columns of a source, so "
                               "'validate --warehouse' cannot check this target; implement Adapter.describe")

    def explain(self, statement: str) -> None:
        """Have the warehouse plan a query without running it; raise WarehouseError with its reason if it cannot.

        Implementations run EXPLAIN or an equivalent that neither reads rows nor creates objects.
        """
        raise UnsupportedError(f"the {type(self).__name__} adapter cannot plan a query without running it, so "
                               "'validate --warehouse' cannot check this target; implement Adapter.explain")

    def relation_names(self) -> set[str]:
        """Return the names of the tables and views in the deploy schema, read from information_schema."""
        _, rows = self.fetch("SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [self.schema])
        return {row[0] for row in rows}

    def qualified(self, name: str) -> str:
        """Return the SQL reference to a relation of the deploy schema."""
        return quote_keywords(sql.table(name, self.schema), self.dialect).sql(dialect=self.dialect)

    def owner_comment(self, plan: Plan, relation: Relation) -> str:
        """Return the comment that marks a view as created by this project.

        A stored table's comment ends with the fingerprint of its SQL, so that a refresh can tell
        whether the table was built from the current definitions.
        """
        comment = f"{self.OWNER_MARK} project {plan.project_name}: {relation.description}"
        if relation.stored:
            comment += f" {FINGERPRINT_MARK}{self.fingerprint(plan, relation)}]"
        return comment

    def fingerprint(self, plan: Plan, relation: Relation) -> str:
        """Return the fingerprint of a relation's SQL with every relation it reads inlined."""
        return fingerprint(standalone_query(plan, relation, self.dialect).sql(dialect=self.dialect))

    def owned_views(self, plan: Plan, existing: dict[str, tuple[str, str | None]]) -> set[str]:
        """Return the names of the views this project owns; raise if the plan would replace anything else.

        `existing` maps the lower-cased names of the schema's objects to (kind, comment), where kind
        is 'VIEW' or 'TABLE'. Views of another healthlayer project in the same schema are not this
        deploy's to replace or drop.
        """
        mark = f"{self.OWNER_MARK} project {plan.project_name}:"
        owned = {name for name, (kind, comment) in existing.items()
                 if kind in ("VIEW", "TABLE") and (comment or "").startswith(mark)}
        foreign = [relation.name for relation in plan.relations
                   if relation.name in existing and relation.name not in owned]
        if foreign:
            raise OwnershipError(
                f"schema '{self.schema}' already has objects that project '{plan.project_name}' did not create "
                f"(tables, your own views, or views of another healthlayer project): {', '.join(sorted(foreign))}; "
                "rename or move them, or deploy to another schema (one project per schema)")
        return owned

    def data_range(self, plan: Plan, schema: str | None = None) -> tuple[datetime.date | None, datetime.date | None]:
        """Return the first and last day of events from the deployed bounds view; (None, None) without one."""
        if BOUNDS not in {relation.name for relation in plan.relations}:
            return None, None
        statement = exp.select("first_date", "last_date").from_(sql.table(BOUNDS, schema or self.schema))
        _, rows = self.fetch(quote_keywords(statement, self.dialect).sql(dialect=self.dialect))
        return rows[0][0], rows[0][1]

    def check_data_range(self, plan: Plan, schema: str | None = None) -> tuple[datetime.date | None, datetime.date | None]:
        """Read every event once through the bounds view, so bad rows fail the deploy and not later queries.

        `schema` is where the plan's views are read, the deploy schema by default. Return the first
        and last day of data, as data_range does.
        """
        first_date, last_date = self.data_range(plan, schema)
        if first_date is None or last_date is None:
            return first_date, last_date
        days = (last_date - first_date).days + 1
        if days > CALENDAR_MAX_DAYS:
            raise WarehouseError(
                f"the events span {days:,} days, from {first_date} to {last_date}, more than the {CALENDAR_MAX_DAYS:,} "
                "days a calendar may have; look for wrong timestamps such as placeholder dates, or filter them out")
        return first_date, last_date

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# Start of the fingerprint at the end of a stored table's comment.
FINGERPRINT_MARK = "[definition "

# Maximum length of a warehouse's message in an issue, since some engines append query plans.
MAX_MESSAGE = 500


def summarise_error(text: str) -> str:
    """Return the leading lines of an engine's error message as one line.

    The summary stops at the first blank line, where engines start the SQL excerpt or the plan,
    and skips indented lines, which list candidates such as every overload of a function.
    """
    lines = []
    for line in str(text).strip().splitlines():
        if not line.strip():
            break
        if line[:1] in ("\t", " ") or line.startswith("LINE "):
            continue
        lines.append(line.strip())
    summary = " ".join(lines)
    return summary if len(summary) <= MAX_MESSAGE else summary[:MAX_MESSAGE - 3] + "..."
