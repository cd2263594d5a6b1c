"""The plan: named relations in dependency order, each a sqlglot query, and how to build it."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from sqlglot import exp

from healthlayer.compiler import sql
from healthlayer.compiler.expression_types import TypeMismatch, find_type_mismatches
from healthlayer.compiler.expressions import ExpressionError, parse_expression
from healthlayer.definitions.issues import Issue, Location
from healthlayer.definitions.models import Source
from healthlayer.definitions.project import Project, redact_issues
from healthlayer.definitions.references import output_storage
from healthlayer.errors import DefinitionError

INTERNAL_PREFIX = "_hl_"
# PostgreSQL cuts identifiers to 63 bytes, so two longer view or column names can become one name.
MAX_IDENTIFIER_LENGTH = 63
# Key in the meta of a table node that references another relation of the plan; its value is the name.
RELATION_META_KEY = "healthlayer_relation"


@dataclass(frozen=True)
class Relation:
    """One relation of the plan: an output view for BI tools or an internal building block."""

    name: str
    query: exp.Query
    kind: Literal["output", "internal"]
    description: str
    columns: tuple[str, ...]
    # (kind, name) of the definition the relation is built from, as in Project.location.
    origin: tuple[str, str] | None = None
    # How an output is stored ("view", "table" or "incremental"); internal relations are always views.
    materialized: str = "view"
    # Days an incremental refresh recomputes before the last stored day.
    lookback: int = 0
    # The day column of an output, by which an incremental refresh replaces rows.
    date_column: str | None = None

    @property
    def stored(self) -> bool:
        """Return whether the relation is stored as a table rather than a view."""
        return self.materialized != "view"


@dataclass
class Plan:
    project_name: str
    schema: str
    relations: list[Relation] = field(default_factory=list)

    def outputs(self) -> list[Relation]:
        return [relation for relation in self.relations if relation.kind == "output"]

    def get(self, name: str) -> Relation:
        for relation in self.relations:
            if relation.name == name:
                return relation
        raise KeyError(name)


@dataclass
class PlanBuilder:
    """Shared state while relations are built: the project, the schema and the issues found."""

    project: Project
    schema: str
    plan: Plan
    timestamp_types: dict[str, bool] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    # Definitions with a name-too-long issue, reported once each.
    long_names: set[tuple[str, str] | None] = field(default_factory=set)
    # For an incremental refresh: the first day recomputed, and per source the days of history
    # before it that the recomputed days read. None for a full build.
    refresh_from: datetime.date | None = None
    history_days: dict[str, int] = field(default_factory=dict)
    # For an incremental refresh: the first and last day of data, read once before it, so that
    # the refresh plan's bounds need not read the whole history again.
    data_range: tuple[datetime.date, datetime.date] | None = None

    def recent_rows(self, source_name: str, day: exp.Expr, timestamp: exp.Expr | None = None) -> exp.Expr | None:
        """Return the condition that keeps the rows a refresh needs from a source, or None for a full build.

        `day` is the rows' local day. With `timestamp`, the source's timestamp column, the
        condition also compares the stored timestamps with a day earlier, which any time zone's
        offset fits in, so that engines skip older files, partitions and row groups by their
        statistics before converting anything.
        """
        if self.refresh_from is None:
            return None
        first = self.refresh_from - datetime.timedelta(days=self.history_days.get(source_name, 0))
        condition: exp.Expr = exp.GTE(this=day, expression=sql.date_literal(first))
        if timestamp is not None:
            has_time_zone = self.timestamp_has_time_zone(source_name)
            earlier = (first - datetime.timedelta(days=1)).isoformat() + (" 00:00:00+00" if has_time_zone else " 00:00:00")
            stored = exp.Cast(this=sql.string(earlier), to=exp.DataType.build("TIMESTAMPTZ" if has_time_zone else "TIMESTAMP"))
            condition = exp.and_(exp.GTE(this=timestamp, expression=stored), condition)
        return condition

    def timestamp_has_time_zone(self, source_name: str) -> bool:
        """Return whether a source's timestamp column has a time zone.

        Introspected types win; then a type declared under the source's `columns` (`timestamp`
        has none, `timestamptz` has one); otherwise the column is taken to have one.
        """
        if source_name in self.timestamp_types:
            return self.timestamp_types[source_name]
        source = self.project.sources[source_name]
        declared = source.columns.get(source.timestamp or "")
        return declared != "timestamp"

    def table(self, name: str) -> exp.Table:
        """Return a reference to a relation that is already in the plan."""
        self.plan.get(name)
        reference = sql.table(name, self.schema)
        reference.meta[RELATION_META_KEY] = name
        return reference

    def add(self, name: str, query: exp.Query, kind: Literal["output", "internal"], description: str,
            origin: tuple[str, str] | None = None, date_column: str | None = None,
            bounds: exp.Expr | None = None) -> str:
        """Add a relation; `origin` (kind, name) locates the definition it is built from.

        An output gets the column `complete_through`, the last day of data that its rows were
        computed from, read from `bounds` (a one-row relation with `last_date`, by default the
        engagement bounds). Its day column is `date_column`.
        """
        materialized, lookback = "view", 0
        if kind == "output":
            query = self._with_complete_through(query, bounds)
            materialized, lookback = output_storage(self.project, name)
        from healthlayer.compiler.sharing import share_repeated_relations

        # Event relations have a row per event, too many to store for one query.
        query = share_repeated_relations(query, frozenset({internal_name("events"), internal_name("event_history")}))
        if any(relation.name == name for relation in self.plan.relations):
            location = self.project.location(*origin) if origin else self.project.location("engagement", "engagement")
            self.issues.append(Issue("duplicate-name", f"two views of the project would be named '{name}'", location,
                                     "Rename the definition whose view has this name."))
        columns = tuple(select.alias_or_name for select in query.selects)
        self._check_lengths(name, columns, origin)
        seen: set[str] = set()
        for column in columns:
            if column.lower() in seen:
                location = self.project.location(*origin) if origin else self.project.location("engagement", "engagement")
                self.issues.append(Issue(
                    "duplicate-column", f"view '{name}' would have two columns named '{column}'", location,
                    "Rename the category, window, tier or 'by' column whose name produces it; "
                    f"the view's columns are {', '.join(columns)}."))
                break
            seen.add(column.lower())
        self.plan.relations.append(Relation(name, query, kind, description, columns, origin, materialized, lookback,
                                            date_column))
        return name

    def _with_complete_through(self, query: exp.Query, bounds: exp.Expr | None) -> exp.Query:
        columns = [select.alias_or_name for select in query.selects]
        if bounds is None:
            from healthlayer.compiler.engagement import BOUNDS

            bounds = self.table(BOUNDS)
        source = bounds.copy()
        source = source.as_("cb") if isinstance(source, exp.Table) else exp.Subquery(
            this=source.this.copy() if isinstance(source, exp.Subquery) else source, alias=exp.TableAlias(this=exp.to_identifier("cb")))
        return (
            exp.select(*[sql.column(column, "o", quoted=True) for column in columns],
                       sql.alias(sql.column("last_date", "cb"), "complete_through"))
            .from_(exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier("o"))))
            .join(source, join_type="cross")
        )

    def _check_lengths(self, name: str, columns: tuple[str, ...], origin: tuple[str, str] | None) -> None:
        """Record an issue for the first view or column name of a definition that PostgreSQL would cut."""
        described = [(name, f"view name '{name}'")] + [(column, f"column '{column}' of view '{name}'")
                                                       for column in columns]
        for identifier, description in described:
            if len(identifier) <= MAX_IDENTIFIER_LENGTH or origin in self.long_names:
                continue
            self.long_names.add(origin)
            location = self.project.location(*origin) if origin else self.project.location("engagement", "engagement")
            self.issues.append(Issue(
                "name-too-long", f"the {description} has {len(identifier)} characters, more than the "
                f"{MAX_IDENTIFIER_LENGTH} that PostgreSQL keeps", location,
                "Shorten the name it is made from; PostgreSQL cuts longer names, so two of them can become one."))

    def attribute(self, source: Source, column: str) -> exp.Expr:
        """Return a column of an attribute source: the column itself, or the parsed expression of a derived one.

        An invalid derived expression records an issue and reads as NULL.
        """
        if column not in source.derived:
            return sql.user_column(column)
        parsed = self.expression(source.derived[column], source, "derived column", "sources", source.name,
                                 "derived", column)
        return exp.Paren(this=parsed) if parsed is not None else exp.Null()

    def expression(self, text: str, source: Source, role: str, kind: str, item: str,
                   *key_path: str | int) -> exp.Expr | None:
        """Parse a user expression over a source's columns; record an issue and return None if invalid.

        A role that ends in "filter" must be a condition.
        """
        boolean_columns = {name for name, column_type in source.columns.items() if column_type == "boolean"}
        location = self.project.location(kind, item, *key_path)
        try:
            parsed = parse_expression(text, source.known_columns(), role, condition=role.endswith("filter"),
                                      boolean_columns=boolean_columns)
        except ExpressionError as error:
            self.issues.append(Issue("invalid-expression", error.message, location, error.hint))
            return None
        mismatches = find_type_mismatches(parsed, dict(source.columns))
        self.issues += [self._type_mismatch_issue(mismatch, source, role, location) for mismatch in mismatches]
        return None if mismatches else parsed

    def _type_mismatch_issue(self, mismatch: TypeMismatch, source: Source, role: str, location: Location) -> Issue:
        """Describe a column used against its declared type, and where that type is declared."""
        column, declared = mismatch.column, mismatch.declared
        declaration = self.project.location("sources", source.name, "columns", column)
        place = f" ({_relative(declaration.file, self.project.root)}:{declaration.line})" if declaration.line else ""
        subject = f"column '{column}' of source '{source.name}' is declared {declared}"
        if mismatch.literal is None:
            message = f"{subject}, but the {role} uses it in arithmetic: {mismatch.context}"
            hint = (f"If the column holds numbers, declare '{column}: number' under the columns of source "
                    f"'{source.name}'{place}; otherwise cast it: cast({column} as double).")
        elif declared == "text":
            message = f"{subject}, but the {role} compares it with the number {mismatch.literal}: {mismatch.context}"
            hint = (f"If the column holds numbers, declare '{column}: number' under the columns of source "
                    f"'{source.name}'{place}; otherwise cast it, as in cast({column} as integer), or compare it "
                    "with text in single quotes.")
        else:
            message = f"{subject}, but the {role} compares it with the text {mismatch.literal}: {mismatch.context}"
            hint = (f"Compare it with a number without quotes. If the column holds text, declare '{column}: text' "
                    f"under the columns of source '{source.name}'{place}, or cast it: cast({column} as text).")
        return Issue("type-mismatch", message, location, hint)


def _relative(path: Path | None, root: Path) -> str:
    """Return a path relative to the project folder when it is inside it."""
    if path is None:
        return "healthlayer.yml"
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except (ValueError, OSError, RuntimeError):
        return str(path)


def as_views(plan: Plan) -> Plan:
    """Return the plan with every relation stored as a view."""
    return Plan(plan.project_name, plan.schema, [replace(relation, materialized="view", lookback=0)
                                                  for relation in plan.relations])


def fingerprint(text: str) -> str:
    """Return a short hash of a relation's compiled SQL, to check whether a stored table is still current."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def internal_name(name: str) -> str:
    return INTERNAL_PREFIX + name


def build_plan(project: Project, schema: str, timestamp_types: dict[str, bool] | None = None,
               refresh_from: datetime.date | None = None, history_days: dict[str, int] | None = None,
               data_range: tuple[datetime.date, datetime.date] | None = None) -> Plan:
    """Build every relation of a project; raise DefinitionError when an expression is invalid.

    `timestamp_types` maps source names to whether their timestamp column has a time zone, as
    introspected from the warehouse. Sources missing there follow their declared column type.
    `refresh_from` and `history_days` build the plan of an incremental refresh (see
    healthlayer.compiler.incremental), whose rows are exact only from `refresh_from` on, and
    `data_range` gives that plan the first and last day of data.
    """
    from healthlayer.compiler import alerts, engagement, health, stickiness, tier_mix

    builder = PlanBuilder(project, schema, Plan(project.name, schema), dict(timestamp_types or {}),
                          refresh_from=refresh_from, history_days=dict(history_days or {}), data_range=data_range)
    if project.engagement is not None:
        engagement.add_event_relations(builder)
        for stickiness_definition in project.stickiness.values():
            stickiness.add_stickiness(builder, stickiness_definition)
        for tier_mix_definition in project.tier_mix.values():
            tier_mix.add_tier_mix(builder, tier_mix_definition)
        engagement.add_tier_relations(builder)
    for health_definition in project.health_scores.values():
        health.add_health_score(builder, health_definition)
    if project.alerts:
        # Health alerts read the health score views, so the alerts view comes after them.
        alerts.add_alerts_view(builder)
    if builder.issues:
        raise DefinitionError(redact_issues(builder.issues, project.secrets))
    return builder.plan


def check_expressions(project: Project) -> list[Issue]:
    """Parse every filter and value expression of the valid definitions; return the issues found.

    `build_plan` finds the same issues, but needs a project without errors. This also works on the
    partial project that `load_partial_project` returns, so that one run reports every problem.
    """
    builder = PlanBuilder(project, "analytics", Plan(project.name, "analytics"))
    for attribute_source in project.sources.values():
        if attribute_source.is_attribute_source:
            for column in attribute_source.derived:
                builder.attribute(attribute_source, column)
    engagement = project.engagement
    source = project.sources.get(engagement.source) if engagement else None
    if engagement is not None and source is not None:
        for index, tier in enumerate(engagement.tiers):
            if tier.filter is not None:
                builder.expression(tier.filter, source, "tier filter", "engagement", "engagement",
                                   "tiers", index, "filter")
    for name, metric in project.account_metrics.items():
        source = project.sources.get(metric.source)
        if source is None:
            continue
        if metric.value is not None:
            builder.expression(metric.value, source, "value", "account_metrics", name, "value")
        if metric.filter is not None:
            builder.expression(metric.filter, source, "filter", "account_metrics", name, "filter")
    for name, score in project.health_scores.items():
        source = project.sources.get(score.population.source)
        if source is not None and score.population.filter is not None:
            builder.expression(score.population.filter, source, "filter", "health_scores", name,
                               "population", "filter")
    return redact_issues(builder.issues, project.secrets)
