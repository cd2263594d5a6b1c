"""Golden SQL: the CREATE VIEW statements of tests/fixtures/shop for every supported dialect.

Each file tests/golden/<dialect>/<view>.sql contains a comment header and the statement that
`healthlayer.api.compile_project(project, dialect, "analytics")` returns for that view. Any
compiler change that changes the SQL fails here, so that the new SQL is read before it is
accepted. To accept it, rewrite the files and review the diff:

    HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py

With HEALTHLAYER_UPDATE_GOLDEN=1 set, the tests write the files, including those of new views,
delete the files of views the project no longer has, and pass instead of comparing.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import pytest
from conftest import SHOP

from healthlayer import api
from healthlayer.compiler.render import RELATIVE_REFERENCES
from healthlayer.errors import UnsupportedError

GOLDEN = Path(__file__).parent / "golden"
DPDK = Path(__file__).parent.parent / "examples" / "dpdk"
SCHEMA = "analytics"
UPDATE = os.environ.get("HEALTHLAYER_UPDATE_GOLDEN") == "1"

DIALECTS = ["duckdb", "snowflake", "postgres", "bigquery", "databricks", "spark", "clickhouse"]
# The views are the files of the DuckDB folder at collection time. test_golden_views finds new views.
VIEWS = sorted(path.stem for path in (GOLDEN / "duckdb").glob("*.sql"))


def quoted(dialect: str, name: str) -> str:
    """Write an identifier as the dialect's CREATE VIEW statements do: plain lower-case names unquoted."""
    if re.match(r"^[a-z_][a-z0-9_]*$", name):
        return name
    return f"`{name}`" if dialect in ("bigquery", "databricks", "spark") else f'"{name}"'


def header(dialect: str, view: str) -> str:
    return (
        "-- Golden SQL checked by tests/test_golden_sql.py::test_golden_sql\n"
        f"-- dialect: {dialect}, view: {view}, project: tests/fixtures/shop, schema: {SCHEMA}\n"
        "-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py\n"
    )


def golden_text(dialect: str, view: str, statement: str) -> str:
    return header(dialect, view) + statement + "\n"


@functools.cache
def compiled(dialect: str) -> dict[str, str]:
    """Return the CREATE VIEW statement of every relation of the fixture project, in compile order."""
    project, _ = api.load(SHOP)
    return dict(api.compile_project(project, dialect, SCHEMA))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_golden_views(dialect: str):
    statements = compiled(dialect)
    directory = GOLDEN / dialect

    if UPDATE:
        directory.mkdir(parents=True, exist_ok=True)
        for path in directory.glob("*.sql"):
            if path.stem not in statements:
                path.unlink()
        for view, statement in statements.items():
            (directory / f"{view}.sql").write_text(golden_text(dialect, view, statement), encoding="utf-8")
        return

    present = {path.stem for path in directory.glob("*.sql")}
    assert sorted(set(statements) - present) == [], "views without a golden file"
    assert sorted(present - set(statements)) == [], "golden files of views the project does not have"


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_golden_sql(dialect: str, view: str):
    statements = compiled(dialect)
    assert view in statements, f"the project has no relation {view}; see test_golden_views"
    expected = golden_text(dialect, view, statements[view])
    path = GOLDEN / dialect / f"{view}.sql"

    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected, encoding="utf-8")
        return

    assert path.is_file(), f"{path} is missing; run with HEALTHLAYER_UPDATE_GOLDEN=1 to write it"
    assert path.read_text(encoding="utf-8") == expected


@pytest.mark.parametrize("dialect", DIALECTS)
def test_dependency_order(dialect: str):
    # Snowflake views read the other views by unqualified name (render.RELATIVE_REFERENCES).
    prefix = "" if dialect in RELATIVE_REFERENCES else re.escape(quoted(dialect, SCHEMA) + ".")
    reference = re.compile(r"(?:FROM|JOIN) " + prefix + r"([a-z0-9_]+)\b")
    views = set(compiled(dialect))
    defined: set[str] = set()
    for view, statement in compiled(dialect).items():
        body = statement.split(" AS\n", 1)[1]
        referenced = set(reference.findall(body)) & views
        assert view == "_hl_events" or referenced, f"{view} reads no relation of the plan"
        assert referenced <= defined, f"{view} reads {sorted(referenced - defined)} before they are created"
        defined.add(view)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_statement_shape(dialect: str):
    for view, statement in compiled(dialect).items():
        assert statement.startswith(f"CREATE OR REPLACE VIEW {quoted(dialect, SCHEMA)}.{quoted(dialect, view)} AS\n"), view
        assert not statement.rstrip().endswith(";"), view


@pytest.mark.parametrize("dialect", [name for name in DIALECTS if name != "duckdb"])
def test_file_source_unsupported(dialect: str):
    project, _ = api.load(DPDK)

    with pytest.raises(UnsupportedError) as raised:
        api.compile_project(project, dialect, SCHEMA)

    message = str(raised.value)
    assert message == ("source 'contributions' reads a file, which only DuckDB can read; declare the source "
                       f"with 'table:' to compile for {dialect}")


def test_file_source_message_names_source():
    project, _ = api.load(DPDK)

    with pytest.raises(UnsupportedError) as raised:
        api.compile_project(project, "snowflake", SCHEMA)

    assert "'contributions'" in str(raised.value)
    assert "_hl_" not in str(raised.value)


def test_file_source_duckdb():
    project, _ = api.load(DPDK)

    statements = api.compile_project(project, "duckdb", SCHEMA)

    events = dict(statements)["_hl_events"]
    assert f"FROM READ_PARQUET('{(DPDK / 'data' / 'events.parquet').resolve()}')" in events
    # Health alerts read the health score views, so the alerts view is built after them.
    assert [name for name, _ in statements][-3:] == ["account_health_daily", "account_health_daily_explanations",
                                                      "alerts"]


def test_snowflake_ratio_column_case():
    # Snowflake stores unquoted names in upper case and quoted names as written, so a column
    # defined unquoted can only be read unquoted.
    statements = compiled("snowflake")

    defined_quoted = 'AS "dau_mau"' in statements["stickiness_daily_by_account"]
    read_quoted = '."dau_mau"' in statements["_hl_account_health_values"]

    assert defined_quoted == read_quoted


SEAT_HISTORY = Path(__file__).parent / "fixtures" / "seat_history"
# The relation that joins the attribute history's versions to the score's account days.
SEAT_HISTORY_VALUES = "_hl_seat_health_values"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_golden_attribute_history(dialect: str):
    """The values relation of tests/fixtures/seat_history, compared with tests/golden/attribute_history/."""
    project, _ = api.load(SEAT_HISTORY)
    statement = dict(api.compile_project(project, dialect, SCHEMA))[SEAT_HISTORY_VALUES]
    expected = (
        "-- Golden SQL checked by tests/test_golden_sql.py::test_golden_attribute_history\n"
        f"-- dialect: {dialect}, view: {SEAT_HISTORY_VALUES}, project: tests/fixtures/seat_history, schema: {SCHEMA}\n"
        "-- Rewrite with HEALTHLAYER_UPDATE_GOLDEN=1 python -m pytest tests/test_golden_sql.py\n"
        + statement + "\n"
    )
    path = GOLDEN / "attribute_history" / f"{dialect}.sql"

    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected, encoding="utf-8")
        return

    assert path.is_file(), f"{path} is missing; run with HEALTHLAYER_UPDATE_GOLDEN=1 to write it"
    assert path.read_text(encoding="utf-8") == expected
