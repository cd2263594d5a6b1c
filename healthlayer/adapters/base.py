"""The interface every warehouse adapter implements."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sqlglot import exp

from healthlayer.compiler import sql
from healthlayer.compiler.engagement import BOUNDS, CALENDAR_MAX_DAYS
from healthlayer.compiler.plan import Plan, Relation
from healthlayer.compiler.quoting import quote_keywords
from healthlayer.errors import OwnershipError, WarehouseError


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


class Adapter(abc.ABC):
    """A connection to one warehouse: run statements, read rows, introspect and deploy a plan."""

    dialect: ClassVar[str]
    # The module of the driver that the adapter imports when it connects, checked by `healthlayer adapters`.
    driver_module: ClassVar[str | None] = None
    # Marker text at the start of the comment on every object healthlayer creates.
    OWNER_MARK: ClassVar[str] = "healthlayer:"

    def __init__(self, settings: dict[str, Any], project_root: Path, must_exist: bool = False) -> None:
        """Connect to the target; with `must_exist`, fail instead of creating an empty database."""
        self.settings = settings
        self.project_root = project_root

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

    def relation_names(self) -> set[str]:
        """Return the names of the tables and views in the deploy schema, read from information_schema."""
        _, rows = self.fetch("SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [self.schema])
        return {row[0] for row in rows}

    def qualified(self, name: str) -> str:
        """Return the SQL reference to a relation of the deploy schema."""
        return quote_keywords(sql.table(name, self.schema), self.dialect).sql(dialect=self.dialect)

    def owner_comment(self, plan: Plan, relation: Relation) -> str:
        """Return the comment that marks a view as created by this project."""
        return f"{self.OWNER_MARK} project {plan.project_name}: {relation.description}"

    def owned_views(self, plan: Plan, existing: dict[str, tuple[str, str | None]]) -> set[str]:
        """Return the names of the views this project owns; raise if the plan would replace anything else.

        `existing` maps the lower-cased names of the schema's objects to (kind, comment), where kind
        is 'VIEW' or 'TABLE'. Views of another healthlayer project in the same schema are not this
        deploy's to replace or drop.
        """
        mark = f"{self.OWNER_MARK} project {plan.project_name}:"
        owned = {name for name, (kind, comment) in existing.items()
                 if kind == "VIEW" and (comment or "").startswith(mark)}
        foreign = [relation.name for relation in plan.relations
                   if relation.name in existing and relation.name not in owned]
        if foreign:
            raise OwnershipError(
                f"schema '{self.schema}' already has objects that project '{plan.project_name}' did not create "
                f"(tables, your own views, or views of another healthlayer project): {', '.join(sorted(foreign))}; "
                "rename or move them, or deploy to another schema (one project per schema)")
        return owned

    def check_data_range(self, plan: Plan, schema: str | None = None) -> None:
        """Read every event once through the bounds view, so bad rows fail the deploy and not later queries.

        `schema` is where the plan's views are read, the deploy schema by default.
        """
        if BOUNDS not in {relation.name for relation in plan.relations}:
            return
        statement = exp.select("first_date", "last_date").from_(sql.table(BOUNDS, schema or self.schema))
        _, rows = self.fetch(quote_keywords(statement, self.dialect).sql(dialect=self.dialect))
        first_date, last_date = rows[0]
        if first_date is None or last_date is None:
            return
        days = (last_date - first_date).days + 1
        if days > CALENDAR_MAX_DAYS:
            raise WarehouseError(
                f"the events span {days:,} days, from {first_date} to {last_date}, more than the {CALENDAR_MAX_DAYS:,} "
                "days a calendar may have; look for wrong timestamps such as placeholder dates, or filter them out")

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
