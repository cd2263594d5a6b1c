"""Check a valid project against a warehouse target without changing the warehouse.

The check connects to a target of healthlayer.yml and reports, as issues located in the YAML:
sources whose table or file is missing, declared columns that are missing or of another type,
views whose query the warehouse cannot plan, and `segment_weights` keys that no value of the
segment attribute has. It reads column metadata, runs EXPLAIN and reads the distinct values of
segment attributes, so it runs no DDL or DML and creates no objects. Adapters that would create a database
file, folder or metastore when connecting are opened with `must_exist`.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field

from sqlglot import exp

from healthlayer.adapters.base import Adapter
from healthlayer.adapters.column_types import (
    ColumnType,
    column_type,
    compare,
    family_description,
    is_time,
    suggested_type,
)
from healthlayer.adapters.registry import adapter_class, connect
from healthlayer.compiler import sql
from healthlayer.compiler.plan import Plan, PlanBuilder, Relation, build_plan
from healthlayer.compiler.render import render_select
from healthlayer.compiler.sources import SOURCE_META_KEY, source_table
from healthlayer.compiler.sql import needs_quotes
from healthlayer.compiler.standalone import direct_dependencies, standalone_query
from healthlayer.definitions.issues import Issue, Location, did_you_mean
from healthlayer.definitions.models import COLUMN_PATTERN, HealthScore, Source
from healthlayer.definitions.project import Project, redact_issues
from healthlayer.definitions.references import resolve_attribute
from healthlayer.errors import DefinitionError, HealthlayerError, RelationNotFound, UnsupportedError, WarehouseError

logger = logging.getLogger(__name__)

_COLUMN_NAME = re.compile(COLUMN_PATTERN)
# Values of a segment attribute listed in a warning about a segment_weights key that matches none.
SEGMENT_VALUES_SHOWN = 10


def check_target(project: Project, target: str | None) -> list[Issue]:
    """Connect to a target of a valid project and return every problem the warehouse shows.

    `target` names a target of healthlayer.yml; None takes the project's default target. A target
    that cannot be opened gives one `warehouse-unreachable` issue. Values that env_var() returned
    never appear in the issues.
    """
    from healthlayer.api import check_target_variables, target_settings

    try:
        name, adapter_type, settings = target_settings(project, target)
    except HealthlayerError as error:
        hint = did_you_mean(target, project.config.targets) if target else \
            "Name a target with --warehouse, or set default_target in healthlayer.yml."
        return redact_issues([Issue("target-not-found", str(error), project.config_file.location(("targets",)), hint)],
                             project.secrets)

    location = project.config_file.location(("targets", name)) if name in project.config.targets \
        else project.config_file.location(())
    started = time.perf_counter()
    if adapter_type == "duckdb" and all(source.file is not None for source in project.sources.values()):
        # Sources that are files need nothing from the database, so an in-memory one checks them
        # before the first deploy has created the file.
        settings = {**settings, "path": ":memory:"}
    elif adapter_type == "duckdb":
        # Read-only, so the check neither waits for the lock of a deploy nor replays a write-ahead log.
        settings = {**settings, "read_only": True}
    try:
        check_target_variables(project, name)
        must_exist = adapter_class(adapter_type).creates_on_connect
        adapter = connect(adapter_type, settings, project.root, must_exist)
    except HealthlayerError as error:
        issue = Issue("warehouse-unreachable", f"cannot connect to target '{name}' ({adapter_type}): {error}", location,
                      "Check the target's settings and credentials and that the warehouse is running. The check "
                      "never creates a database, so a DuckDB file or chdb folder must exist already.")
        return redact_issues([issue], project.secrets)

    with adapter:
        checker = _Checker(project, adapter, name, location)
        try:
            issues = checker.run()
        except UnsupportedError as error:
            unsupported = Issue("warehouse-check-unsupported", str(error), location,
                                "Run 'healthlayer validate' without --warehouse for this target.")
            issues = checker.issues + [unsupported]
    logger.info("checked target %s in %.1f s", name, time.perf_counter() - started)
    return redact_issues(issues, project.secrets)


def relation_sources(relation: Relation) -> set[str]:
    """Return the names of the sources that a relation's query reads directly."""
    return {node.meta[SOURCE_META_KEY] for node in relation.query.find_all(exp.Table, exp.Anonymous)
            if node.meta.get(SOURCE_META_KEY)}


@dataclass
class _Checker:
    """The state of one check: issues so far, sources that cannot be read, and time zones found."""

    project: Project
    adapter: Adapter
    target: str
    target_location: Location
    issues: list[Issue] = field(default_factory=list)
    # Sources whose relation or columns are missing; the views that read them are not planned.
    broken_sources: set[str] = field(default_factory=set)
    # Whether each source's timestamp column has a time zone, as the warehouse reports it.
    time_zones: dict[str, bool] = field(default_factory=dict)

    def run(self) -> list[Issue]:
        for source in self.project.sources.values():
            self._check_source(source)
        try:
            plan = build_plan(self.project, self.adapter.schema, self.time_zones)
        except DefinitionError as error:
            return self.issues + error.issues
        self._check_storage(plan)
        self._explain(plan)
        for name, score in self.project.health_scores.items():
            self._check_segment_values(name, score)
        return self.issues

    def _check_storage(self, plan: Plan) -> None:
        """Report outputs stored in a way that the target's adapter cannot build, as deploy would refuse them."""
        supported = self.adapter.materializations
        for relation in plan.outputs():
            if relation.materialized in supported:
                continue
            setting = self.project.config.outputs.get(relation.name)
            if setting is not None and "materialized" in setting.model_fields_set:
                where = self.project.config_file.location(("outputs", relation.name, "materialized"))
            else:
                where = self._origin(relation)
            self.issues.append(Issue(
                "unsupported-materialization",
                f"output '{relation.name}' is stored as {relation.materialized}, but target '{self.target}' "
                f"({self.adapter.dialect}) stores outputs only as {', '.join(sorted(supported))}",
                where, "Store it as a view for this target, for example with materialized: "
                       "\"{{ var('storage', 'table') }}\" and --var storage=view."))

    # Sources and columns

    def _check_source(self, source: Source) -> None:
        key = "table" if source.table is not None else "file"
        where = self.project.location("sources", source.name, key)
        relation_text = f"table {source.table}" if source.table is not None else f"file {source.file}"
        if source.file is not None and self.adapter.dialect != "duckdb":
            self.broken_sources.add(source.name)
            self.issues.append(Issue(
                "source-not-found", f"source '{source.name}' reads the {relation_text}, but target "
                f"'{self.target}' is a {self.adapter.dialect} warehouse, which reads tables only", where,
                "Load the file into a table of the warehouse and declare the source with 'table: schema.table'."))
            return

        from_sql = source_table(source, self.project.root).sql(dialect=self.adapter.dialect)
        try:
            described = self.adapter.describe(from_sql)
        except RelationNotFound as error:
            self.broken_sources.add(source.name)
            hint = ("Check the path, which is relative to the project folder." if source.file is not None else
                    "Check the schema or catalog in 'table' (a bare name is looked up in the warehouse's search "
                    "path), the grants of the target's user on it, and the database the target connects to.")
            self.issues.append(Issue("source-not-found", f"the {relation_text} of source '{source.name}' was not "
                                     f"found in target '{self.target}': {error}", where, hint))
            return
        except WarehouseError as error:
            self.broken_sources.add(source.name)
            self.issues.append(Issue("source-unreadable", f"the {relation_text} of source '{source.name}' cannot "
                                     f"be read in target '{self.target}': {error}", where,
                                     "Check the grants of the target's user on the table and its schema."))
            return

        columns = {name: column_type(self.adapter.dialect, type_text) for name, type_text in described}
        roles = source.role_columns()
        for role, column in roles.items():
            actual = self._find_column(source, column, columns, (role,), relation_text)
            if actual is None:
                self.broken_sources.add(source.name)
            elif role == "timestamp":
                self._check_timestamp(source, column, columns[actual])
        for column, declared in source.columns.items():
            if column in roles.values():
                actual = self._resolve(column, columns)
            else:
                actual = self._find_column(source, column, columns, ("columns", column), relation_text)
                if actual is None:
                    self.broken_sources.add(source.name)
            if actual is not None and not (column == source.timestamp and not is_time(columns[actual])):
                self._check_type(source, column, declared, columns[actual])

    def _resolve(self, declared: str, columns: dict[str, ColumnType]) -> str | None:
        """Return the warehouse column that a declared name reads in the compiled SQL, or None."""
        case = self.adapter.identifier_case
        for name in columns:
            if case == "any":
                if name.lower() == declared.lower():
                    return name
            elif case == "exact" or needs_quotes(declared):
                if name == declared:
                    return name
            elif name == (declared.lower() if case == "lower" else declared.upper()):
                return name
        return None

    def _spelling(self, actual: str) -> str | None:
        """Return how to declare a warehouse column so that the compiled SQL reads it, or None when no name can."""
        for candidate in (actual.lower(), actual):
            if _COLUMN_NAME.match(candidate) and self._resolve(candidate, {actual: ColumnType("", "other")}):
                return candidate
        return None

    def _find_column(self, source: Source, column: str, columns: dict[str, ColumnType], key_path: tuple[str, ...],
                     relation_text: str) -> str | None:
        """Return the warehouse column of a declared name, or report it as missing and return None."""
        actual = self._resolve(column, columns)
        if actual is not None:
            return actual
        where = self.project.location("sources", source.name, *key_path)
        same_letters = [name for name in columns if name.lower() == column.lower()]
        if same_letters:
            spelling = self._spelling(same_letters[0])
            message = (f"column '{column}' of source '{source.name}' was not found in the {relation_text}, which has a "
                       f"column '{same_letters[0]}' that differs only in case")
            if spelling is None:
                hint = (f"No declared name reads '{same_letters[0]}' on {self.adapter.dialect}, since healthlayer "
                        "leaves lower-case names unquoted; rename the column, or expose it under another name "
                        "through a view.")
            else:
                hint = (f"Write '{spelling}'. healthlayer leaves plain lower-case names unquoted, so the warehouse "
                        "folds them to its own case, and quotes other names, which must then match exactly.")
        else:
            spellings = [spelling for name in columns if (spelling := self._spelling(name)) is not None]
            message = f"column '{column}' of source '{source.name}' was not found in the {relation_text}"
            hint = did_you_mean(column, spellings)
        self.issues.append(Issue("column-not-found", message, where, hint))
        return None

    def _check_timestamp(self, source: Source, column: str, actual: ColumnType) -> None:
        if is_time(actual):
            self.time_zones[source.name] = actual.family == "timestamptz"
            return
        self.broken_sources.add(source.name)
        self.issues.append(Issue(
            "column-type-mismatch", f"the timestamp column '{column}' of source '{source.name}' has type "
            f"{actual.text} ({family_description(actual)}), but it must be a date or a timestamp",
            self.project.location("sources", source.name, "timestamp"),
            "Point 'timestamp' at a date or timestamp column, or cast the column in a view of the warehouse "
            "and read the view."))

    def _check_type(self, source: Source, column: str, declared: str, actual: ColumnType) -> None:
        result = compare(declared, actual)
        if result == "match":
            return
        where = self.project.location("sources", source.name, "columns", column)
        described = f"{actual.text} ({family_description(actual)})"
        suggestion = suggested_type(actual)
        if actual.family == "other":
            self.issues.append(Issue(
                "column-type-mismatch", f"column '{column}' of source '{source.name}' is declared {declared} and has "
                f"type {actual.text} in the warehouse, which healthlayer cannot compare with {declared}", where,
                "Check that the column's values behave as the declared type; the views are planned below with the "
                "warehouse's own type.", severity="warning"))
        elif result == "warning":
            self.issues.append(Issue(
                "column-type-mismatch", f"column '{column}' of source '{source.name}' is declared {declared}, but it "
                f"has type {described}; the compiled SQL follows the warehouse's type", where,
                f"Declare it as {suggestion}, so that 'healthlayer compile' reads it the same way without a warehouse.",
                severity="warning"))
        else:
            hint = f"Declare it as {suggestion}" if suggestion else "Remove it from 'columns'"
            self.issues.append(Issue(
                "column-type-mismatch", f"column '{column}' of source '{source.name}' is declared {declared}, but it "
                f"has type {described}", where,
                f"{hint}, or cast the column to {declared} in a view of the warehouse and read the view."))

    # Views

    def _explain(self, plan: Plan) -> None:
        """Have the warehouse plan every relation's query, each with the relations it reads inlined.

        A relation that reads a broken source, or a relation whose plan failed, is not planned: it
        would fail for the same reason, which is already reported.
        """
        dialect = self.adapter.dialect
        failed: set[str] = set()
        prepared: dict[str, exp.Expr] = {}
        for relation in plan.relations:
            if direct_dependencies(relation) & failed or relation_sources(relation) & self.broken_sources:
                failed.add(relation.name)
                continue
            try:
                statement = standalone_query(plan, relation, dialect, prepared).sql(dialect=dialect)
            except UnsupportedError as error:
                failed.add(relation.name)
                self.issues.append(Issue("explain-failed", f"view '{relation.name}' cannot be compiled for "
                                         f"{dialect}: {error}", self._origin(relation),
                                         "Change the definition so that it uses constructs this warehouse supports."))
                continue
            try:
                self.adapter.explain(statement)
            except WarehouseError as error:
                failed.add(relation.name)
                self.issues.append(Issue(
                    "explain-failed", f"target '{self.target}' cannot plan view '{relation.name}', which is built "
                    f"from this definition: {error}", self._origin(relation),
                    "Check the filters and values of this definition and the types of the source columns they "
                    f"use; 'healthlayer compile --dialect {dialect}' prints the view's SQL."))

    # Segment values

    def _check_segment_values(self, name: str, score: HealthScore) -> None:
        """Warn about each `segment_weights` key that no value of the segment attribute has in the warehouse.

        Values are compared as the health score view compares them, as the engine writes them as
        text, so a key that differs in case or in how a number is written matches no account.
        """
        if score.segment is None or not score.segment_weights:
            return
        resolved = resolve_attribute(self.project, score.segment)
        if resolved is None or resolved[0] in self.broken_sources:
            return
        source = self.project.sources[resolved[0]]
        builder = PlanBuilder(self.project, self.adapter.schema, Plan(self.project.name, self.adapter.schema))
        value = exp.Cast(this=builder.attribute(source, resolved[1]), to=exp.DataType.build("VARCHAR"))
        keys = list(score.segment_weights)
        matching = exp.In(this=value.copy(), expressions=[sql.string(key) for key in keys])
        found = self._distinct_values(source, value, matching)
        if found is None:
            return
        missing = [key for key in keys if key not in found]
        if not missing:
            return
        existing = self._distinct_values(source, value, sql.not_null(value.copy()), SEGMENT_VALUES_SHOWN + 1)
        if existing is None:
            return
        listed = ", ".join(f"'{text}'" for text in existing[:SEGMENT_VALUES_SHOWN])
        if not existing:
            values_text = f"{score.segment} has no values in target '{self.target}'"
        elif len(existing) > SEGMENT_VALUES_SHOWN:
            values_text = f"the first values of {score.segment} in target '{self.target}' are {listed}, and more"
        else:
            values_text = f"the values of {score.segment} in target '{self.target}' are {listed}"
        for key in missing:
            self.issues.append(Issue(
                "unknown-segment-value", f"segment_weights key '{key}' matches no value of {score.segment}: "
                f"{values_text}", self.project.location("health_scores", name, "segment_weights", key),
                "Keys compare with the attribute's value as text, in the same case, and an account whose value "
                "matches no key takes the categories' own weights. Write the key as the value is written.",
                severity="warning"))

    def _distinct_values(self, source: Source, value: exp.Expr, condition: exp.Expr,
                         limit: int | None = None) -> list[str] | None:
        """Return the distinct text values of a source's rows that meet a condition, in order; None on failure."""
        query = exp.select(sql.alias(value.copy(), "segment_value")).distinct() \
            .from_(source_table(source, self.project.root)).where(condition).order_by("segment_value")
        if limit is not None:
            query = query.limit(limit)
        try:
            _, rows = self.adapter.fetch(render_select(query, self.adapter.dialect))
        except (WarehouseError, UnsupportedError) as error:
            logger.warning("cannot read the segment values of source %s: %s", source.name, error)
            return None
        return [str(row[0]) for row in rows]

    def _origin(self, relation: Relation) -> Location:
        if relation.origin is None:
            return self.project.location("engagement", "engagement")
        return self.project.location(*relation.origin)
