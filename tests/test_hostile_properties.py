"""Property tests of hostile definitions: each gets issues, or compiles to SQL that matches the definition.

Each example is a small project, written by `project_files`: one event source, two tiers, a
stickiness view by account, a tier-drop alert, an account metric and a health score, so that a
name, column or expression reaches every kind of relation. Hypothesis draws its names, column
names, table, event names and expressions.

- Arbitrary text in any one place: validation returns issues, each with a file and a message,
  or none, and never raises; a project without issues renders for every dialect.
- Hostile-looking but valid names and expressions: when the project validates, the SQL of every
  dialect parses back with sqlglot into one CREATE VIEW per relation, contains no statement of
  another kind, calls no function that the same project with plain names and every allowed
  filter function does not call, reads only the source's declared columns, and keeps the event
  names and text literals of the definition.
- DuckDB runs every deployed view on a small table, and the deploy changes nothing outside the
  deploy schema.

The checks parse SQL with sqlglot, not with each engine: they prove what sqlglot reads, which
is close to but not the same as what Snowflake, BigQuery or ClickHouse would read.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
import yaml
from fuzz import hostile
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from healthlayer import api
from healthlayer.compiler.expressions import BIDI_CONTROLS
from healthlayer.compiler.plan import Plan, build_plan
from healthlayer.compiler.render import DIALECTS, render_create_view
from healthlayer.definitions.project import load_project
from healthlayer.errors import UnsupportedError

SCHEMA = "analytics"
DATABASE = "hostile.duckdb"
# Names of the relations that the compiler gives internal columns, which extra source columns must not reuse.
INTERNAL_COLUMNS = {"user_id", "account_id", "activity_date", "event_name", "tier_rank"}
# Statement kinds that must never appear inside a compiled view.
FORBIDDEN_NODES: tuple[type[exp.Expr], ...] = (exp.DDL, exp.DML, exp.Command, exp.Pragma, exp.Set, exp.Use,
                                               exp.Transaction, exp.Commit, exp.Rollback, exp.Copy, exp.Attach,
                                               exp.Detach, exp.Grant, exp.Describe)
SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.filter_too_much])
TIME_ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
TEXT_TYPES = ["VARCHAR", "TEXT"]
NUMBER_TYPES = ["DOUBLE", "INT", "BIGINT", "DECIMAL(18, 2)", "VARCHAR"]


# The project.

def project_files(spec: dict[str, Any]) -> dict[str, str]:
    """Return the files of a project from a spec of its names, columns and expressions."""
    columns = spec["columns"]
    source = {
        "name": spec["source"], "table": spec["table"], "account": columns["account"], "user": columns["user"],
        "timestamp": columns["timestamp"], "event_name": columns["event_name"],
        "columns": {columns["timestamp"]: "timestamp", columns["text"]: "text", columns["number"]: "number"},
    }
    windows = {spec["short_window"]: 1, spec["long_window"]: 7}
    ratio = f"{spec['short_window']}_{spec['long_window']}"
    definitions = {
        "sources": [source],
        "engagement": {"source": spec["source"], "tier_window": 7, "tiers": [
            {"name": spec["tiers"][0], "events": spec["events"][0]},
            {"name": spec["tiers"][1], "events": spec["events"][1], "filter": spec["tier_filter"]},
        ]},
        "stickiness": [{"name": spec["stickiness"], "level": "any", "by": ["account"], "windows": windows}],
        "alerts": [{"name": spec["alert"], "type": "tier_drop", "from": spec["tiers"][1], "to": spec["tiers"][0],
                    "respond_within": "1 day"}],
        "account_metrics": [{"name": spec["metric"], "source": spec["source"], "aggregate": "sum",
                             "value": spec["metric_value"], "filter": spec["metric_filter"], "window": 7}],
        "health_scores": [{
            "name": spec["health"],
            "population": {"source": spec["source"], "filter": spec["population_filter"]},
            "bands": [{"name": spec["bands"][0], "min": 50}, {"name": spec["bands"][1], "min": 0}],
            "categories": [{"name": spec["category"], "weight": 100, "components": [
                {"name": spec["components"][0], "weight": 50, "metric": spec["metric"],
                 "score": {"function": "linear", "lower": 0, "upper": 10}},
                {"name": spec["components"][1], "weight": 50, "metric": f"{spec['stickiness']}.{ratio}",
                 "score": {"function": "percentile"}},
            ]}],
        }],
    }
    project = {"name": spec["project"], "time_zone": spec["time_zone"], "paths": ["models"],
               "targets": {"local": {"type": "duckdb", "path": DATABASE, "schema": SCHEMA}}}
    return {"healthlayer.yml": _dump(project), "models/definitions.yml": _dump(definitions)}


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1_000_000)


def write_project(folder: Path, spec: dict[str, Any]) -> Path:
    for relative, text in project_files(spec).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def text_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


PLAIN_COLUMNS = {"account": "account_id", "user": "user_id", "timestamp": "event_ts", "event_name": "event_type",
                 "text": "area", "number": "amount"}
PLAIN_SPEC: dict[str, Any] = {
    "project": "plain", "time_zone": "UTC", "source": "events", "table": "raw.events", "columns": PLAIN_COLUMNS,
    "tiers": ["browser", "buyer"], "events": [["view"], ["buy"]], "stickiness": "sticky", "short_window": "dau",
    "long_window": "wau", "alert": "drop", "metric": "spend", "health": "health", "category": "usage",
    "components": ["spending", "stickiness"], "bands": ["good", "bad"],
    "tier_filter": '"amount" > 0', "metric_filter": "\"area\" = 'x'", "metric_value": '"amount"',
    "population_filter": '"area" IS NOT NULL',
}
# Filters over the plain columns that use every function and construct a filter or value may use,
# so that the plain project calls every function that a hostile one may legitimately call.
KITCHEN_SINK = {
    "tier_filter": "lower(\"area\") LIKE 'a%' AND upper(trim(\"area\")) ILIKE 'B' AND length(\"area\") BETWEEN 1 AND 9 "
                   "AND substring(\"area\", 1, 2) IN ('ab', 'cd') AND abs(\"amount\") > 0 AND round(\"amount\", 2) > 0 "
                   "AND floor(\"amount\") >= ceil(\"amount\") - 1 AND coalesce(\"area\", 'x') <> nullif(\"area\", 'y') "
                   "AND least(\"amount\", 1) <= greatest(\"amount\", 1) AND NOT (\"area\" IS NULL OR \"amount\" < 0) "
                   "AND CASE WHEN \"amount\" > 1 THEN 1 ELSE 0 END = 1 AND CAST(\"amount\" AS DECIMAL(18, 2)) > 0 "
                   "AND CAST(\"area\" AS VARCHAR) <> '' AND if(\"amount\" > 0, 1, 0) = 1 AND \"amount\" % 2 = 0 "
                   "AND -\"amount\" < \"amount\" * 2 / 1 + 1",
    "metric_value": "CASE WHEN \"amount\" > 9 THEN abs(\"amount\") ELSE least(\"amount\", 500) END",
}


@functools.cache
def allowed_functions(dialect: str) -> frozenset[str]:
    """Return the functions that the plain project with every allowed filter construct calls in a dialect."""
    with tempfile.TemporaryDirectory() as scratch:
        project, issues = load_project(write_project(Path(scratch), {**PLAIN_SPEC, **KITCHEN_SINK}))
        assert project is not None, issues
        plan = build_plan(project, SCHEMA)
    functions: set[str] = set()
    for relation in plan.relations:
        functions |= function_names(sqlglot.parse_one(render_create_view(relation, SCHEMA, dialect), read=dialect))
    return frozenset(functions)


def function_names(tree: exp.Expr) -> set[str]:
    names = set()
    for node in tree.walk():
        if isinstance(node, exp.Anonymous):
            names.add(node.name.lower())
        elif isinstance(node, exp.Func):
            names.add(type(node).__name__)
    return names


# Strategies.

def _plain_name(text: str) -> bool:
    return not text.startswith("_hl_") and text not in ("any", "inactive")


NAMES = st.one_of(
    st.from_regex(r"\A[a-z_][a-z0-9_]{0,24}\Z"),
    st.sampled_from([name for name in hostile.KEYWORD_NAMES if len(name) <= 30]),
).filter(_plain_name)
COLUMNS = st.one_of(
    st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,30}\Z"),
    st.sampled_from(hostile.KEYWORD_COLUMNS),
)
SAFE_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="".join(BIDI_CONTROLS)),
                    max_size=12)
TEXT_VALUES = st.one_of(SAFE_TEXT, st.sampled_from([text for text in hostile.INJECTIONS + hostile.LOOK_ALIKES
                                                    if not any(character in BIDI_CONTROLS or ord(character) < 32
                                                               or 0x7f <= ord(character) <= 0x9f
                                                               for character in text)]))
EVENT_NAMES = st.lists(TEXT_VALUES, min_size=1, max_size=3)
NUMBERS = st.one_of(st.integers(-10 ** 15, 10 ** 15).map(str),
                    st.floats(allow_nan=False, allow_infinity=False).map(repr),
                    st.sampled_from(["0", "-0.0", "1e-300", "99999999999999999999", "1e308"]))
TABLES = st.sampled_from(["raw.events", "raw.Events", "RAW.EVENTS", "raw.select", "select.from", "a$b.c$d",
                          "Main.Order", "x.value", "current_schema.global"])


@st.composite
def text_conditions(draw: Any, column: str) -> str:
    reference = quoted(column)
    kind = draw(st.integers(0, 7))
    literal = text_literal(draw(TEXT_VALUES))
    if kind == 0:
        return f"{reference} {draw(st.sampled_from(['=', '<>', '<', '>=']))} {literal}"
    if kind == 1:
        return f"{reference} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"
    if kind == 2:
        values = draw(st.lists(TEXT_VALUES, min_size=1, max_size=3))
        return f"{reference} IN ({', '.join(text_literal(value) for value in values)})"
    if kind == 3:
        return f"{reference} {draw(st.sampled_from(['LIKE', 'ILIKE', 'NOT LIKE']))} {literal}"
    if kind == 4:
        function = draw(st.sampled_from(["lower", "upper", "trim"]))
        return f"{function}({reference}) = {literal}"
    if kind == 5:
        return f"length({reference}) > {draw(st.integers(-5, 50))}"
    if kind == 6:
        return f"coalesce({reference}, {literal}) <> nullif({reference}, {literal})"
    return f"CAST({reference} AS {draw(st.sampled_from(TEXT_TYPES))}) = {literal}"


@st.composite
def number_conditions(draw: Any, column: str) -> str:
    reference = quoted(column)
    kind = draw(st.integers(0, 5))
    number = draw(NUMBERS)
    if kind == 0:
        return f"{reference} {draw(st.sampled_from(['=', '<>', '<', '>=', '>']))} {number}"
    if kind == 1:
        return f"{reference} BETWEEN {number} AND {draw(NUMBERS)}"
    if kind == 2:
        function = draw(st.sampled_from(["abs", "floor", "ceil"]))
        return f"{function}({reference}) >= {number}"
    if kind == 3:
        return f"round({reference}, {draw(st.integers(0, 6))}) <> {number}"
    if kind == 4:
        return f"least({reference}, {number}) <= greatest({reference}, {draw(NUMBERS)})"
    cast = draw(st.sampled_from(NUMBER_TYPES))
    return f"CAST({reference} AS {cast}) IS NOT NULL"


def conditions(text_columns: list[str], number_column: str) -> st.SearchStrategy[str]:
    leaves = st.one_of(st.sampled_from(text_columns).flatmap(text_conditions), number_conditions(number_column))
    return st.recursive(leaves, lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["AND", "OR"]), inner).map(lambda parts: f"({parts[0]}) {parts[1]} "
                                                                                 f"({parts[2]})"),
        inner.map(lambda condition: f"NOT ({condition})"),
        st.tuples(inner, TEXT_VALUES).map(lambda parts: f"CASE WHEN {parts[0]} THEN {text_literal(parts[1])} "
                                                        f"ELSE 'b' END = 'b'"),
    ), max_leaves=4)


@st.composite
def specs(draw: Any) -> dict[str, Any]:
    """Draw a project spec with hostile-looking names, columns, table, event names and expressions."""
    names = draw(st.lists(NAMES, min_size=15, max_size=15, unique=True))
    assume(names[11] != "health" and not {names[3], names[8]} & {"engagement_tiers_daily", "tier_transitions",
                                                                 "alerts"})
    assume(not {names[4], names[5]} & {"activity_date", "is_complete", "account_id"})
    roles = draw(st.lists(COLUMNS, min_size=4, max_size=4, unique_by=str.lower))
    extras = draw(st.lists(COLUMNS.filter(lambda column: column.lower() not in INTERNAL_COLUMNS), min_size=2,
                           max_size=2, unique_by=str.lower))
    assume(len({column.lower() for column in roles + extras}) == 6)
    columns = dict(zip(["account", "user", "timestamp", "event_name", "text", "number"], roles + extras))
    text_columns = [columns["account"], columns["user"], columns["event_name"], columns["text"]]
    filters = conditions(text_columns, columns["number"])
    number = quoted(columns["number"])
    return {
        "project": names[0], "time_zone": draw(st.sampled_from(TIME_ZONES)), "source": names[1],
        "table": draw(TABLES), "columns": columns, "tiers": [names[2], names[6]],
        "events": [draw(EVENT_NAMES), draw(EVENT_NAMES)], "stickiness": names[3], "short_window": names[4],
        "long_window": names[5], "alert": names[7], "metric": names[9], "health": names[8],
        "category": names[11], "components": [names[12], names[13]], "bands": [names[10], names[14]],
        "tier_filter": draw(filters), "metric_filter": draw(filters), "population_filter": draw(filters),
        "metric_value": draw(st.sampled_from([number, f"abs({number})", f"{number} * 2 + 1",
                                              f"CASE WHEN {number} > 5 THEN 100 ELSE 0 END",
                                              f"coalesce({number}, 0)", f"least({number}, 500)"])),
    }


# (a) Arbitrary text never makes validation raise.

PLACES = ["project", "source", "stickiness", "short_window", "health", "category", "alert", "table", "time_zone",
          "tier_filter", "metric_filter", "population_filter", "metric_value", "event", "column"]
ANY_TEXT = st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=60),
                     st.sampled_from(hostile.HOSTILE_STRINGS + hostile.HOSTILE_FILTERS + hostile.JINJA
                                     + hostile.YAML_SNIPPETS))


def _place(spec: dict[str, Any], place: str, text: str) -> dict[str, Any]:
    spec = {**spec, "columns": dict(spec["columns"]), "events": [list(spec["events"][0]), list(spec["events"][1])]}
    if place == "event":
        spec["events"][0].append(text)
    elif place == "column":
        spec["columns"]["text"] = text
    else:
        spec[place] = text
    return spec


@settings(max_examples=150, **SETTINGS)
@given(place=st.sampled_from(PLACES), text=ANY_TEXT, raw=st.booleans())
def test_arbitrary_text_never_raises(place: str, text: str, raw: bool):
    with tempfile.TemporaryDirectory() as scratch:
        folder = write_project(Path(scratch), _place(PLAIN_SPEC, place, "hlplaceholder"))
        definitions = folder / "models" / "definitions.yml"
        target = definitions if place != "project" and place != "time_zone" else folder / "healthlayer.yml"
        content = target.read_text(encoding="utf-8")
        # Raw: the text as it is, where YAML and Jinja read it. Otherwise as a JSON string, which YAML
        # reads as a double-quoted string that contains the text.
        value = text if raw else json.dumps(text, ensure_ascii=False)
        target.write_bytes(content.replace("hlplaceholder", value).encode("utf-8", errors="surrogatepass"))

        issues = api.validate(folder)

        for issue in issues:
            assert issue.location.file is not None
            assert issue.message
        if not issues:
            project, _ = api.load(folder)
            compile_every_dialect(build_plan(project, SCHEMA))


def compile_every_dialect(plan: Plan) -> dict[str, list[str]]:
    statements: dict[str, list[str]] = {}
    for dialect in DIALECTS:
        try:
            statements[dialect] = [render_create_view(relation, SCHEMA, dialect) for relation in plan.relations]
        except UnsupportedError:
            continue
    return statements


# (b) A valid hostile project compiles to exactly its views in every dialect.

@settings(max_examples=30, **SETTINGS)
@given(spec=specs())
def test_compiled_sql_parses_back(spec: dict[str, Any]):
    with tempfile.TemporaryDirectory() as scratch:
        project, issues = load_project(write_project(Path(scratch), spec))
        # Lint warnings are about metric choices, not quoting, so only errors reject a case.
        assume(project is not None)
        plan = build_plan(project, SCHEMA)

    for dialect in DIALECTS:
        statements = [render_create_view(relation, SCHEMA, dialect) for relation in plan.relations]
        script = "\n\n".join(statement + ";" for statement in statements)
        trees = [tree for tree in sqlglot.parse(script, read=dialect) if tree is not None]

        assert len(trees) == len(plan.relations)
        for relation, tree in zip(plan.relations, trees):
            check_view(tree, relation.name, dialect)
        check_events_view(trees[0], spec, dialect)


def check_view(tree: exp.Expr, name: str, dialect: str) -> None:
    folded = Dialect.get_or_raise(dialect).normalize_identifier(exp.to_identifier(name)).name
    assert isinstance(tree, exp.Create)
    assert tree.kind == "VIEW"
    assert isinstance(tree.this, exp.Table)
    assert tree.this.name in (name, folded)
    assert tree.this.db.lower() == SCHEMA
    assert isinstance(tree.expression, exp.Query)
    assert [type(node).__name__ for node in tree.expression.walk() if isinstance(node, FORBIDDEN_NODES)] == []
    assert function_names(tree) - allowed_functions(dialect) == set()


def check_events_view(tree: exp.Expr, spec: dict[str, Any], dialect: str) -> None:
    """Check the view that reads the source: its table, its columns and the literals of the tier rule."""
    select = tree.expression
    assert isinstance(select, exp.Select)
    source = select.args["from_"].this
    assert isinstance(source, exp.Table)
    parts = [part.name.lower() for part in source.parts]
    assert parts == spec["table"].lower().split(".")

    declared = {column.lower() for column in spec["columns"].values()}
    read = {column.name.lower() for column in select.find_all(exp.Column)}
    assert read == declared

    tier_rank = next(expression.this for expression in select.expressions if expression.alias == "tier_rank")
    tier_filter = sqlglot.parse_one(spec["tier_filter"], read="duckdb")
    filter_columns = {column.name.lower() for column in tier_filter.find_all(exp.Column)}
    rule_columns = {column.name.lower() for column in tier_rank.find_all(exp.Column)}
    assert rule_columns == filter_columns | {spec["columns"]["event_name"].lower()}

    literals = {literal.this for literal in tier_rank.find_all(exp.Literal) if literal.is_string}
    filter_literals = {literal.this for literal in tier_filter.find_all(exp.Literal) if literal.is_string}
    assert set(spec["events"][0]) | set(spec["events"][1]) <= literals
    assert filter_literals <= literals


# (c) DuckDB runs the deployed views and changes nothing outside the deploy schema.

def create_source_table(database: Path, spec: dict[str, Any]) -> None:
    """Create the source table with a few rows over six days, with the tiers' event names."""
    columns = spec["columns"]
    *schema, table = spec["table"].split(".")

    def identifier(name: str) -> str:
        return exp.to_identifier(name, quoted=True).sql("duckdb")

    qualified = ".".join(identifier(part) for part in [*schema, table])
    events = spec["events"][0] + spec["events"][1]
    connection = duckdb.connect(str(database))
    try:
        for depth in range(1, len(schema) + 1):
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {'.'.join(identifier(part) for part in schema[:depth])}")
        definitions = ", ".join([f"{identifier(columns[role])} VARCHAR" for role in ("account", "user", "event_name",
                                                                                     "text")]
                                + [f"{identifier(columns['timestamp'])} TIMESTAMP",
                                   f"{identifier(columns['number'])} DOUBLE"])
        connection.execute(f"CREATE TABLE {qualified} ({definitions})")
        order = ", ".join(identifier(columns[role]) for role in ("account", "user", "event_name", "text",
                                                                 "timestamp", "number"))
        rows = []
        start = datetime(2024, 3, 1, 10)
        for day in range(6):
            for index, event in enumerate(events):
                rows.append((f"acct{index % 2}", f"user{(day + index) % 3}", event, events[-1 - index],
                             start + timedelta(days=day, hours=index), float(day * 3 - index)))
        connection.executemany(f"INSERT INTO {qualified} ({order}) VALUES (?, ?, ?, ?, ?, ?)", rows)
    finally:
        connection.close()


def catalog_outside(database: Path) -> list[tuple]:
    """Return every schema, table and view outside the deploy schema, and the row count of each table."""
    connection = duckdb.connect(str(database), read_only=True)
    try:
        objects = connection.execute(
            "SELECT database_name, schema_name, NULL, 'SCHEMA', NULL FROM duckdb_schemas() WHERE NOT internal "
            "UNION ALL SELECT database_name, schema_name, table_name, 'TABLE', sql FROM duckdb_tables() "
            "UNION ALL SELECT database_name, schema_name, view_name, 'VIEW', sql FROM duckdb_views() "
            "WHERE NOT internal "
            "UNION ALL SELECT database_name, NULL, NULL, 'DATABASE', path FROM duckdb_databases() WHERE NOT internal"
        ).fetchall()
        outside = sorted((row for row in objects if row[1] != SCHEMA), key=repr)
        counts = []
        for database_name, schema_name, table_name, kind, _ in outside:
            if kind == "TABLE":
                qualified = ".".join(exp.to_identifier(part, quoted=True).sql("duckdb")
                                     for part in (database_name, schema_name, table_name))
                counts.append((table_name, connection.execute(f"SELECT COUNT(*) FROM {qualified}").fetchone()[0]))
        kinds = connection.execute(f"SELECT DISTINCT 'TABLE' FROM duckdb_tables() WHERE schema_name = '{SCHEMA}'"
                                   ).fetchall()
        return outside + counts + kinds
    finally:
        connection.close()


@settings(max_examples=20, **SETTINGS)
@given(spec=specs())
def test_duckdb_runs_views(spec: dict[str, Any]):
    assume(spec["table"].count(".") == 1)
    with tempfile.TemporaryDirectory() as scratch:
        folder = write_project(Path(scratch), spec)
        project, issues = load_project(folder)
        # Lint warnings are about metric choices, not quoting, so only errors reject a case.
        assume(project is not None)
        database = folder / DATABASE
        create_source_table(database, spec)
        before = catalog_outside(database)

        deployment = api.deploy_project(folder)

        assert catalog_outside(database) == before
        connection = duckdb.connect(str(database), read_only=True)
        try:
            for view in deployment.result.views:
                qualified = f"{exp.to_identifier(SCHEMA).sql('duckdb')}." \
                            f"{exp.to_identifier(view.name, quoted=True).sql('duckdb')}"
                connection.execute(f"SELECT * FROM {qualified}").fetchall()
            events = connection.execute(f'SELECT COUNT(*) FROM {SCHEMA}."_hl_events"').fetchone()[0]
        finally:
            connection.close()
        assert events == 6 * (len(spec["events"][0]) + len(spec["events"][1]))


def test_plain_project_valid():
    with tempfile.TemporaryDirectory() as scratch:
        project, issues = load_project(write_project(Path(scratch), {**PLAIN_SPEC, **KITCHEN_SINK}))

    assert [issue for issue in issues if issue.severity == "error"] == []
    assert project is not None


def test_allowed_functions_cover_filters():
    # The plain project's functions include those of every allowed filter construct, in DuckDB's names.
    functions = allowed_functions("duckdb")

    assert {"Lower", "Upper", "Length", "Trim", "Substring", "Abs", "Round", "Floor", "Ceil", "Coalesce",
            "Nullif", "Least", "Greatest", "Cast"} <= functions
    assert not re.search("read_|getenv|query", " ".join(sorted(functions)))
