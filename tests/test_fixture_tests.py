"""Fixture tests (`tests:` in definition files) and the `healthlayer test` command.

The shipped tests of the library and the examples must pass; small projects written to tmp_path
check failures, match modes, tolerance, vars and invalid definitions. One test checks the runner
itself against the independent reference implementation on a random event log.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Result
from reference import ReferenceProject
from reference.builders import STANDARD_TIERS

from healthlayer import api
from healthlayer.definitions.issues import Issue
from healthlayer.definitions.project import library_modules, library_root, load_project
from healthlayer.testing.compare import compare_rows, maximum_matching

REPOSITORY = Path(__file__).resolve().parents[1]
LIBRARY_TESTS = REPOSITORY / "definitions" / "tests"
PROJECTS = {
    "library": LIBRARY_TESTS,
    "saas": REPOSITORY / "examples" / "saas",
    "dpdk": REPOSITORY / "examples" / "dpdk",
}
TESTS_FILE = "models/tests.yml"

# A small project: an event source read from a table that the tests never create, two tiers,
# a stickiness view whose level is a var, and a sum metric.
PROJECT_FILE = """\
name: fixtures
paths: [models]
vars:
  level: active
"""
SOURCES_FILE = """\
sources:
  - name: events
    table: raw.events
    account: account_id
    user: user_id
    timestamp: event_ts
    event_name: event_name
    columns: {plan: text, amount: number}
engagement:
  source: events
  tiers:
    - {name: passive, events: [view]}
    - {name: active, events: [commit]}
stickiness:
  - name: stickiness_daily
    level: "{{ var('level') }}"
    windows: {dau: 1, wau: 7}
account_metrics:
  - name: amount_7d
    source: events
    aggregate: sum
    value: amount
    window: 7 days
"""
# u1 and u2 commit on 01-01, u1 again on 01-02, and u3 only views on 01-03.
EVENTS = """\
    given:
      events:
        - {account_id: a1, user_id: u1, event_ts: "2024-01-01T09:00:00", event_name: commit, amount: 5}
        - {account_id: a1, user_id: u2, event_ts: "2024-01-01T10:00:00", event_name: commit, amount: 2.5}
        - {account_id: a1, user_id: u1, event_ts: "2024-01-02T09:00:00", event_name: commit}
        - {account_id: a1, user_id: u3, event_ts: "2024-01-03T09:00:00", event_name: view, amount: 1}
"""
ROW_1 = "        - {activity_date: 2024-01-01, dau: 2, wau: 2, dau_wau: 1.0, is_complete: false}\n"
ROW_2 = "        - {activity_date: 2024-01-02, dau: 1, wau: 2, dau_wau: 0.5, is_complete: false}\n"
ROW_3 = "        - {activity_date: 2024-01-03, dau: 0, wau: 2, dau_wau: 0.0, is_complete: false}\n"


def write_project(folder: Path, tests: str) -> Path:
    """Write the small project with `tests` as models/tests.yml and return its folder."""
    (folder / "models").mkdir(parents=True)
    (folder / "healthlayer.yml").write_text(PROJECT_FILE, encoding="utf-8")
    (folder / "models" / "sources.yml").write_text(SOURCES_FILE, encoding="utf-8")
    (folder / TESTS_FILE).write_text(tests, encoding="utf-8")
    return folder


def stickiness_test(rows: str, *, name: str = "counts", options: str = "", head: str = "") -> str:
    """Return a tests file with one test of stickiness_daily over EVENTS."""
    return (f"tests:\n  - name: {name}\n    view: stickiness_daily\n{head}{EVENTS}"
            f"    expect:\n{options}      rows:\n{rows}")


def run_json(run, project: Path, *args: str) -> tuple[Result, dict[str, Any]]:
    result = run("test", "--project", str(project), "--format", "json", *args)
    return result, json.loads(result.stdout) if result.stdout else {}


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {test["name"]: test["status"] for test in report["tests"]}


def only_error(issues: list[Issue]) -> Issue:
    errors = [issue for issue in issues if issue.severity == "error"]
    assert len(errors) == 1, "\n".join(issue.format() for issue in errors)
    return errors[0]


def line_of(path: Path, text: str) -> int:
    """Return the 1-based line number of the only line of a file that contains `text`."""
    lines = [number for number, line in enumerate(path.read_text().splitlines(), start=1) if text in line]
    assert len(lines) == 1, f"{text!r} is on lines {lines} of {path}"
    return lines[0]


# The shipped tests

@pytest.mark.parametrize("name", list(PROJECTS))
def test_shipped_tests_pass(run, name: str):
    project, _ = api.load(PROJECTS[name])

    result, report = run_json(run, PROJECTS[name])

    assert result.exit_code == 0, result.stdout + result.stderr
    assert len(report["tests"]) == len(project.tests) >= 3
    assert set(statuses(report).values()) == {"passed"}


def test_shipped_tests_cover(run):
    """The library tests cover every output view of its modules and an account metric."""
    project, _ = api.load(LIBRARY_TESTS)

    views = {test.view for test in project.tests.values() if test.view}
    metrics = {test.metric for test in project.tests.values() if test.metric}

    assert views == {"stickiness_daily", "stickiness_daily_by_account", "tier_mix_daily", "engagement_tiers_daily",
                     "tier_transitions", "alerts", "account_health_daily"}
    assert metrics == {"nps_180d"}


@pytest.mark.parametrize("row", ["{account_id: a1, seats_used: 25, plan: starter}",
                                 "{account_id: a1, changed_at: null, seats_used: 25, plan: starter}"])
def test_history_row_without_valid_from(tmp_path: Path, row: str):
    project = tmp_path / "seat_history"
    shutil.copytree(Path(__file__).parent / "fixtures" / "seat_history", project)
    definitions = project / "models" / "definitions.yml"
    old_row = '{account_id: a1, changed_at: "2024-01-03T12:00:00Z", seats_used: 25, plan: starter}'
    text = definitions.read_text()
    assert text.count(old_row) == 1
    definitions.write_text(text.replace(old_row, row))

    issue = only_error(api.validate(project))

    assert issue.code == "missing-valid-from"
    assert issue.location.line == line_of(definitions, row)
    assert issue.message == ("a row of the attribute history 'seat_history' has no value of its valid_from "
                             "column 'changed_at', so the view would ignore the row")
    assert issue.hint == "Add 'changed_at: 2024-01-31', the first day of the row's values."


def test_attribute_history_given_rows(run):
    """`given` rows of an attribute history take the valid_from type declared under `columns`."""
    project = Path(__file__).parent / "fixtures" / "seat_history"

    result, report = run_json(run, project)

    assert result.exit_code == 0, result.stdout + result.stderr
    assert statuses(report) == {"seats_as_of_day": "passed"}


def test_library_wrong_value(run, tmp_path: Path):
    project = tmp_path / "library"
    shutil.copytree(LIBRARY_TESTS, project)
    health = project / "models" / "health_tests.yml"
    text = health.read_text()
    assert text.count("health_score: 76.54166666666667,") == 1
    health.write_text(text.replace("health_score: 76.54166666666667,", "health_score: 76.0,"))

    result = run("test", "--select", "account_health*", "--select", "stickiness_short_range", cwd=project)

    assert result.exit_code == 1
    assert "PASS  stickiness_short_range  (view stickiness_daily, models/engagement_tests.yml:5)" in result.stdout
    assert "FAIL  account_health_by_hand  (view account_health_daily, models/health_tests.yml:29)" in result.stdout
    assert "2 of 3 expected rows matched among 3 rows (match: exact)" in result.stdout
    lines = result.stdout.splitlines()
    expected = next(line for line in lines if line.startswith("|expected"))
    actual = lines[lines.index(expected) + 1]
    assert [cell.strip() for cell in expected.split("|")[1:-1]] == [
        "expected", "2024-03-01", "a1", "87.5", "72.2222222222", "66.25", "76", "green", "0.97", "growth"]
    assert [cell.strip() for cell in actual.split("|")[1:-1]] == [
        "actual", "2024-03-01", "a1", "87.5", "72.2222222222", "66.25", "76.5416666667 *", "green", "0.97", "growth"]
    assert "1 passed, 1 failed, 0 errors" in result.stdout


def test_library_modules_skip_tests():
    assert (library_root() / "tests" / "healthlayer.yml").is_file()
    assert library_modules() == ["standard/engagement", "standard/saas_health"]


def test_library_project_not_module(tmp_path: Path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "healthlayer.yml").write_text("name: p\ninclude: [tests/models/sources]\n")

    issue = only_error(load_project(project)[1])

    assert issue.code == "include-not-found"


# Output and exit codes

def test_pass_text(run, tmp_path: Path):
    project = write_project(tmp_path / "p", stickiness_test(ROW_1 + ROW_2 + ROW_3))

    result = run("test", cwd=project)

    assert result.exit_code == 0
    assert result.stdout.startswith("PASS  counts  (view stickiness_daily, models/tests.yml:2)\n")
    assert "1 passed, 0 failed, 0 errors in " in result.stdout


def test_rows_any_order(run, tmp_path: Path):
    project = write_project(tmp_path / "p", stickiness_test(ROW_3 + ROW_1 + ROW_2))

    assert run("test", cwd=project).exit_code == 0


def test_exact_unexpected_row(run, tmp_path: Path):
    project = write_project(tmp_path / "p", stickiness_test(ROW_1 + ROW_2))

    result, report = run_json(run, project)

    assert result.exit_code == 1
    assert report["failed"] == 1
    assert report["tests"][0]["differences"] == [{
        "kind": "unexpected",
        "expected": None,
        "actual": {"activity_date": "2024-01-03", "dau": 0, "wau": 2, "dau_wau": 0.0, "is_complete": False},
        "columns": [],
    }]


def test_contains_subset(run, tmp_path: Path):
    project = write_project(tmp_path / "p", stickiness_test(ROW_1 + ROW_3, options="      match: contains\n"))

    assert run("test", cwd=project).exit_code == 0


def test_contains_missing_row(run, tmp_path: Path):
    missing = "        - {activity_date: 2024-01-09, dau: 0}\n"
    project = write_project(tmp_path / "p", stickiness_test(ROW_1 + missing, options="      match: contains\n"))

    result, report = run_json(run, project)

    assert result.exit_code == 1
    assert report["tests"][0]["differences"] == [
        {"kind": "missing", "expected": {"activity_date": "2024-01-09", "dau": 0}, "actual": None, "columns": []}]


def test_closest_row_shown(run, tmp_path: Path):
    wrong = ROW_2.replace("dau_wau: 0.5", "dau_wau: 0.75")
    project = write_project(tmp_path / "p", stickiness_test(ROW_1 + wrong + ROW_3))

    result, report = run_json(run, project)

    assert result.exit_code == 1
    difference = report["tests"][0]["differences"][0]
    assert difference["kind"] == "differs"
    assert difference["columns"] == ["dau_wau"]
    assert difference["expected"]["dau_wau"] == 0.75
    assert difference["actual"]["dau_wau"] == 0.5


def test_unexpected_row_text(run, tmp_path: Path):
    project = write_project(tmp_path / "p", stickiness_test(ROW_1 + ROW_2))

    result = run("test", cwd=project)

    assert result.exit_code == 1
    assert "2 of 2 expected rows matched among 3 rows (match: exact)" in result.stdout
    assert "|unexpected | 2024-01-03    | 0   | 2   | 0       | false      |" in result.stdout


def test_exact_duplicate_rows(run, tmp_path: Path):
    project = write_project(tmp_path / "p", stickiness_test(ROW_1 + ROW_1 + ROW_2 + ROW_3))

    result, report = run_json(run, project)

    assert result.exit_code == 1
    assert [difference["kind"] for difference in report["tests"][0]["differences"]] == ["missing"]


def test_contains_duplicate_rows(run, tmp_path: Path):
    """Contains is a multiset check too: two equal expected rows need two actual rows."""
    only_dau = "        - {dau: 0}\n"
    project = write_project(tmp_path / "p", stickiness_test(only_dau + only_dau, options="      match: contains\n"))

    result = run("test", cwd=project)

    assert result.exit_code == 1
    assert "|missing | 0  " in result.stdout


def test_null_expected(run, tmp_path: Path):
    project = write_project(tmp_path / "p", stickiness_test(ROW_1.replace("dau_wau: 1.0", "dau_wau: null"),
                                                            options="      match: contains\n"))

    result, report = run_json(run, project)

    assert result.exit_code == 1
    assert report["tests"][0]["differences"][0]["columns"] == ["dau_wau"]


def test_tolerance_default(run, tmp_path: Path):
    row = ROW_2.replace("dau_wau: 0.5", "dau_wau: 0.5000001")
    project = write_project(tmp_path / "p", stickiness_test(row, options="      match: contains\n"))

    assert run("test", cwd=project).exit_code == 1


def test_tolerance_set(run, tmp_path: Path):
    row = ROW_2.replace("dau_wau: 0.5", "dau_wau: 0.5000001")
    options = "      match: contains\n      tolerance: 1.0e-6\n"
    project = write_project(tmp_path / "p", stickiness_test(row, options=options))

    assert run("test", cwd=project).exit_code == 0


def test_tolerance_relative(run, tmp_path: Path):
    """A tolerance of 1e-3 accepts 7.5075 for 7.5, because 0.0075 is within 1e-3 of the larger value."""
    metric = ("tests:\n  - name: amount\n    metric: amount_7d\n" + EVENTS
              + "    expect:\n      tolerance: 1.0e-3\n      match: contains\n      rows:\n"
              "        - {as_of_date: 2024-01-01, value: 7.5075}\n")
    project = write_project(tmp_path / "p", metric)

    assert run("test", cwd=project).exit_code == 0


def test_metric_values(run, tmp_path: Path):
    metric = ("tests:\n  - name: amount\n    metric: amount_7d\n" + EVENTS + "    expect:\n      rows:\n"
              "        - {as_of_date: 2024-01-01, account_id: a1, value: 7.5}\n"
              "        - {as_of_date: 2024-01-02, account_id: a1, value: 7.5}\n"
              "        - {as_of_date: 2024-01-03, account_id: a1, value: 8.5}\n")
    project = write_project(tmp_path / "p", metric)

    result = run("test", cwd=project)

    assert result.exit_code == 0, result.stdout
    assert "PASS  amount  (metric amount_7d, models/tests.yml:2)" in result.stdout


def test_empty_sources(run, tmp_path: Path):
    """Sources that a test does not give are empty tables, so the views have no rows."""
    tests = "tests:\n  - name: nothing\n    view: stickiness_daily\n    expect:\n      rows: []\n"
    project = write_project(tmp_path / "p", tests)

    assert run("test", cwd=project).exit_code == 0


def test_timestamp_offsets(run, tmp_path: Path):
    """Naive timestamps are UTC, and an offset can move an event to the next UTC day."""
    tests = ("tests:\n  - name: days\n    view: stickiness_daily\n    given:\n      events:\n"
             "        - {user_id: u1, account_id: a1, event_ts: 2024-01-01 23:30:00, event_name: commit}\n"
             "        - {user_id: u2, account_id: a1, event_ts: '2024-01-01T23:30:00-02:00', event_name: commit}\n"
             "    expect:\n      rows:\n"
             "        - {activity_date: 2024-01-01, dau: 1}\n        - {activity_date: 2024-01-02, dau: 1}\n")
    project = write_project(tmp_path / "p", tests)

    assert run("test", cwd=project).exit_code == 0


def test_select(run, tmp_path: Path):
    tests = (stickiness_test(ROW_1 + ROW_2 + ROW_3, name="first")
             + stickiness_test(ROW_1, name="second").removeprefix("tests:\n"))
    project = write_project(tmp_path / "p", tests)

    result, report = run_json(run, project, "--select", "fir*")

    assert result.exit_code == 0
    assert statuses(report) == {"first": "passed"}


def test_select_unknown(run, tmp_path: Path):
    project = write_project(tmp_path / "p", stickiness_test(ROW_1, name="counts"))

    result = run("test", "--select", "count", cwd=project)

    assert result.exit_code == 2
    assert "no test matches 'count'. Did you mean 'counts'?" in result.stderr


def test_no_tests(run, tmp_path: Path):
    project = write_project(tmp_path / "p", "")

    result = run("test", cwd=project)

    assert result.exit_code == 0
    assert "No fixture tests to run" in result.stdout


def test_command_help(run):
    listed = run("--help")
    command = run("test", "--help")

    assert "  test " in listed.stdout
    assert "healthlayer test [OPTIONS]" in command.stdout
    assert "--select NAME" in command.stdout


def test_unset_env_var(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The tests never connect, so a target's secret need not be set."""
    monkeypatch.delenv("HL_FIXTURE_UNSET_SECRET", raising=False)
    project = write_project(tmp_path / "p", stickiness_test(ROW_1 + ROW_2 + ROW_3))
    with (project / "healthlayer.yml").open("a") as handle:
        handle.write("targets:\n  prod: {type: postgres, password: \"{{ env_var('HL_FIXTURE_UNSET_SECRET') }}\"}\n")

    assert run("test", cwd=project).exit_code == 0


# Vars

def test_vars_override(run, tmp_path: Path):
    """With level `any`, u3's view on 01-03 counts, which it does not at the project's level `active`."""
    any_row = "        - {activity_date: 2024-01-03, dau: 1, wau: 3}\n"
    options = "      match: contains\n"
    tests = (stickiness_test(any_row, name="with_vars", options=options, head="    vars: {level: any}\n")
             + stickiness_test(any_row, name="without_vars", options=options).removeprefix("tests:\n"))
    project = write_project(tmp_path / "p", tests)

    result, report = run_json(run, project)
    overridden, cli_report = run_json(run, project, "--var", "level=any")
    test_vars_win, last_report = run_json(run, project, "--var", "level=active", "--select", "with_vars")

    assert result.exit_code == 1
    assert statuses(report) == {"with_vars": "passed", "without_vars": "failed"}
    assert overridden.exit_code == 0
    assert statuses(cli_report) == {"with_vars": "passed", "without_vars": "passed"}
    assert test_vars_win.exit_code == 0
    assert statuses(last_report) == {"with_vars": "passed"}


def test_vars_invalid(run, tmp_path: Path):
    """A test's vars that make the definitions invalid fail that test with the issues."""
    head = "    vars: {level: nonsense}\n"
    project = write_project(tmp_path / "p", stickiness_test(ROW_1, head=head))

    result, report = run_json(run, project)

    assert result.exit_code == 1
    assert report["tests"][0]["status"] == "error"
    assert [issue["code"] for issue in report["tests"][0]["issues"]] == ["unknown-tier"]


# Invalid test definitions

VALID_TESTS = stickiness_test(ROW_1, options="      match: contains\n")
METRIC_TESTS = ("tests:\n  - name: amount\n    metric: amount_7d\n" + EVENTS
                + "    expect:\n      rows:\n        - {as_of_date: 2024-01-01, value: 7.5}\n")


@dataclass(frozen=True)
class Invalid:
    """A broken tests file: text replaced in a valid one, and the issue expected on the line of `marker`."""

    old: str
    new: str
    code: str
    key: str
    message: str
    hint: str | None
    marker: str
    # Number of lines between the line of `marker` and the line the issue reports.
    line_offset: int = 0
    base: str = VALID_TESTS

INVALID = {
    "unknown-view": Invalid("view: stickiness_daily", "view: stickines_daily", "unknown-view", "tests[0].view",
                            "view 'stickines_daily' is not an output view of the project",
                            "Did you mean 'stickiness_daily'?", "view: stickines_daily"),
    "view-names-metric": Invalid("view: stickiness_daily", "view: amount_7d", "unknown-view", "tests[0].view",
                                 "view 'amount_7d' is not an output view of the project",
                                 "'amount_7d' is an account metric: write 'metric: amount_7d'.", "view: amount_7d"),
    "unknown-metric": Invalid("metric: amount_7d", "metric: amount_7", "unknown-metric", "tests[0].metric",
                              "account metric 'amount_7' is not defined", "Did you mean 'amount_7d'?",
                              "metric: amount_7", base=METRIC_TESTS),
    "metric-names-view": Invalid("metric: amount_7d", "metric: stickiness_daily", "unknown-metric",
                                 "tests[0].metric", "account metric 'stickiness_daily' is not defined",
                                 "'stickiness_daily' is a view: write 'view: stickiness_daily'.",
                                 "metric: stickiness_daily", base=METRIC_TESTS),
    "metric-column": Invalid("value: 7.5", "values: 7.5", "unknown-column", "tests[0].expect.rows[0].values",
                             "a metric test has no column 'values'", "Did you mean 'value'?", "values: 7.5",
                             base=METRIC_TESTS),
    "view-and-metric": Invalid("view: stickiness_daily\n", "view: stickiness_daily\n    metric: amount_7d\n",
                               "invalid-value", "tests[0]",
                               "a test needs exactly one of 'view' and 'metric' to say what it checks",
                               "Name an output view with 'view:' or an account metric with 'metric:'.",
                               "- name: counts"),
    "unknown-source": Invalid("      events:\n", "      event:\n", "unknown-source", "tests[0].given.event",
                              "source 'event' is not defined", "Did you mean 'events'?", "event:"),
    "unknown-column": Invalid("user_id: u3,", "user: u3,", "unknown-column", "tests[0].given.events[3].user",
                              "source 'events' has no column 'user'",
                              "Did you mean 'user_id'? Declare other columns under the source's 'columns'.",
                              "user: u3"),
    "text-type": Invalid("user_id: u3,", "user_id: 3,", "invalid-type", "tests[0].given.events[3].user_id",
                         "column 'user_id' of source 'events' is text: expected text, got 3",
                         "Quote the value, since YAML reads 1, true, no or 2024-01-31 unquoted as other types.",
                         "user_id: 3,"),
    "number-type": Invalid("amount: 1}", "amount: ten}", "invalid-type", "tests[0].given.events[3].amount",
                           "column 'amount' of source 'events' is number: expected a number, got 'ten'",
                           "Write a number, or null.", "amount: ten"),
    "timestamp-type": Invalid('event_ts: "2024-01-03T09:00:00"', "event_ts: yesterday", "invalid-type",
                              "tests[0].given.events[3].event_ts",
                              "column 'event_ts' of source 'events' is timestamptz: expected a timestamp such as "
                              "2024-01-31T09:30:00Z, got 'yesterday'",
                              "Write ISO 8601 text such as 2024-01-31T09:30:00 (UTC) or 2024-01-31T09:30:00-05:00.",
                              "event_ts: yesterday"),
    "empty-row": Invalid(ROW_1, ROW_1 + "        - {}\n", "empty-row", "tests[0].expect.rows[1]",
                         "this expected row lists no columns",
                         "List the columns the row checks, such as {activity_date: 2024-01-31, dau: 2}.", "- {}"),
    "unknown-key": Invalid("    expect:\n", "    descripton: x\n    expect:\n", "unknown-key",
                           "tests[0].descripton", "unknown key 'descripton'", "Did you mean 'description'?",
                           "descripton: x"),
    "invalid-match": Invalid("match: contains", "match: subset", "invalid-value", "tests[0].expect.match",
                             "invalid value 'subset': expected 'exact' or 'contains'", "Valid names: 'contains', 'exact'.",
                             "match: subset"),
    "negative-tolerance": Invalid("match: contains\n", "match: contains\n      tolerance: -1\n", "invalid-value",
                                  "tests[0].expect.tolerance",
                                  "input should be greater than or equal to 0, got -1", "Write a value that is at least 0.",
                                  "tolerance: -1"),
    "duplicate-name": Invalid(ROW_1, ROW_1 + "  - name: counts\n    view: stickiness_daily\n    expect: {rows: []}\n",
                              "duplicate-name", "tests[1].name",
                              "test 'counts' is defined twice; the other definition is at models/tests.yml:2",
                              "Rename or remove one of them.", "expect: {rows: []}", line_offset=-2),
    "invalid-date": Invalid("activity_date: 2024-01-01", "activity_date: 2024-02-31", "yaml-value",
                            "tests[0].expect.rows[0].activity_date",
                            "invalid !!timestamp value '2024-02-31': day is out of range for month",
                            "Correct the value, or quote it to keep it as text.", "2024-02-31"),
}


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_definition(run, tmp_path: Path, name: str):
    case = INVALID[name]
    assert case.base.count(case.old) == 1
    project = write_project(tmp_path / "p", case.base.replace(case.old, case.new))
    line = line_of(project / TESTS_FILE, case.marker) + case.line_offset

    issue = only_error(load_project(project)[1])
    result = run("test", cwd=project)

    assert issue.code == case.code
    assert issue.location.file == project / TESTS_FILE
    assert issue.location.line == line
    assert issue.location.key_text() == case.key
    assert issue.message == case.message
    assert issue.hint == case.hint
    assert result.exit_code == 1
    assert f"models/tests.yml:{line}:" in result.stderr
    assert f"error {case.code} at {case.key}: " in result.stderr


def test_invalid_json(run, tmp_path: Path):
    """With --format json, the issues of an invalid project are JSON on stdout too."""
    project = write_project(tmp_path / "p", VALID_TESTS.replace("view: stickiness_daily", "view: stickines_daily"))

    result = run("test", "--format", "json", cwd=project)
    report = json.loads(result.stdout)

    assert result.exit_code == 1
    assert report["errors"] == 1
    assert [issue["code"] for issue in report["issues"]] == ["unknown-view"]
    assert report["issues"][0]["file"] == "models/tests.yml"


def test_view_column_unknown(run, tmp_path: Path):
    """Expected columns are checked against the compiled view by `validate` and by `test`."""
    project = write_project(tmp_path / "p", stickiness_test(ROW_1.replace("dau_wau:", "dau_mau:")))

    issue = only_error(api.validate(project))
    result, report = run_json(run, project)

    assert issue.code == "unknown-column"
    assert issue.location.line == line_of(project / TESTS_FILE, "dau_mau:")
    assert issue.location.key_text() == "tests[0].expect.rows[0].dau_mau"
    assert issue.message == "view stickiness_daily has no column 'dau_mau'"
    assert issue.hint == "Did you mean 'dau_wau'?"
    assert result.exit_code == 1
    assert report["errors"] == 1
    assert report["tests"][0]["issues"] == [issue.as_dict(Path.cwd())]


def test_explanations_view_columns(tmp_path: Path):
    """A test may name a health score's explanations view, whose expected columns are checked too."""
    project = tmp_path / "saas"
    shutil.copytree(PROJECTS["saas"], project)
    tests = project / TESTS_FILE
    text = tests.read_text()
    assert text.count("weakest_category: product_engagement}") == 1
    tests.write_text(text.replace("weakest_category: product_engagement}", "weakest_categry: product_engagement}"))

    issue = only_error(api.validate(project))

    assert issue.code == "unknown-column"
    assert issue.location.line == line_of(tests, "weakest_categry:")
    assert issue.message == "view account_health_daily_explanations has no column 'weakest_categry'"
    assert issue.hint == "Did you mean 'weakest_category'?"


def test_expected_type_wrong(run, tmp_path: Path):
    project = write_project(tmp_path / "p", stickiness_test(ROW_1.replace("dau: 2", "dau: two")))

    result, report = run_json(run, project)

    assert result.exit_code == 1
    assert report["tests"][0]["status"] == "error"
    assert report["tests"][0]["issues"][0]["message"] == (
        "column 'dau' of view stickiness_daily: expected a number, got 'two'")
    assert report["tests"][0]["issues"][0]["key"] == "tests[0].expect.rows[0].dau"


# Comparison

def test_matching_augments():
    """The first expected row must give up its first candidate so that the second row has one."""
    assert maximum_matching([[0, 1], [0]]) == {0: 1, 1: 0}


def test_compare_needs_augmenting_path():
    expected = [{"x": 1.0}, {"x": 1.15}]
    actual = [{"x": 1.08}, {"x": 0.95}]

    assert compare_rows(expected, actual, "exact", 0.1) == []


# The runner against the reference implementation

def random_events(seed: int, count: int) -> list[dict[str, Any]]:
    """Return random events of 6 users in 3 accounts over 45 days, at any hour (UTC)."""
    generator = random.Random(seed)
    start = datetime(2024, 3, 1, tzinfo=timezone.utc)
    rows = []
    for _ in range(count):
        user = generator.randrange(6)
        rows.append({
            "user_id": f"u{user}",
            "account_id": f"a{user % 3}",
            "event_ts": start + timedelta(days=generator.randrange(45), hours=generator.randrange(24),
                                          minutes=generator.randrange(60)),
            "event_type": generator.choice(["view", "commit", "merge", "other"]),
        })
    return rows


def test_runner_matches_reference(run, tmp_path: Path):
    """Expected rows computed by tests/reference pass; one changed value fails."""
    source = {"name": "events", "table": "raw.events", "account": "account_id", "user": "user_id",
              "timestamp": "event_ts", "event_name": "event_type"}
    definitions: dict[str, Any] = {
        "sources": [source],
        "engagement": {"source": "events", "tier_window": 7, "tiers": STANDARD_TIERS},
        "stickiness": [{"name": "stickiness_by_account", "level": "active", "by": ["account"]}],
        "tier_mix": [{"name": "tier_mix_by_account", "by": ["account"], "window": 30,
                      "target": {"tier": "active", "min_share": 0.4}}],
        "alerts": [{"name": "power_drop", "type": "tier_drop", "from": "power", "to": "passive",
                    "respond_within": "36 hours"}],
    }
    rows = random_events(seed=20240301, count=60)
    reference = ReferenceProject({"time_zone": "Europe/Berlin", **definitions}, {"events": rows})
    given = [{**row, "event_ts": row["event_ts"].isoformat()} for row in rows]
    views = ("stickiness_by_account", "tier_mix_by_account", "engagement_tiers_daily", "tier_transitions", "alerts")
    # The reference leaves the text of an alert's reason to the engine.
    expected = {view: [{column: value for column, value in row.items() if column != "reason"}
                       for row in reference.view(view)] for view in views}
    tests = [{"name": view, "view": view, "given": {"events": given}, "expect": {"rows": expected[view]}}
             for view in views]
    project = tmp_path / "random"
    (project / "models").mkdir(parents=True)
    (project / "healthlayer.yml").write_text("name: random\ntime_zone: Europe/Berlin\npaths: [models]\n")
    (project / "models" / "definitions.yml").write_text(yaml.safe_dump(definitions, sort_keys=False))
    (project / TESTS_FILE).write_text(yaml.safe_dump({"tests": tests}, sort_keys=False))

    passed, report = run_json(run, project)
    changed = tests[0]["expect"]["rows"][-1]
    changed["mau"] += 1
    (project / TESTS_FILE).write_text(yaml.safe_dump({"tests": tests}, sort_keys=False))
    failed, failed_report = run_json(run, project, "--select", "stickiness_by_account")

    assert {view: len(rows) >= 5 for view, rows in expected.items()} == dict.fromkeys(views, True)
    assert passed.exit_code == 0, passed.stdout
    assert set(statuses(report).values()) == {"passed"}
    assert failed.exit_code == 1
    differences = failed_report["tests"][0]["differences"]
    assert [difference["kind"] for difference in differences] == ["differs"]
    assert differences[0]["columns"] == ["mau"]
    assert differences[0]["actual"]["mau"] == changed["mau"] - 1


# Values at the edges of their types

def metric_test(expected_value: str, amount: str = "5") -> str:
    return ("tests:\n  - name: amount\n    metric: amount_7d\n    given:\n      events:\n"
            f"        - {{account_id: a1, user_id: u1, event_ts: \"2024-01-01T09:00:00\", event_name: commit, "
            f"amount: {amount}}}\n"
            "    expect:\n      rows:\n"
            f"        - {{as_of_date: 2024-01-01, account_id: a1, value: {expected_value}}}\n")


@pytest.mark.parametrize(("expected", "amount"), [(".inf", "5"), ("-.inf", "5"), ("42", ".inf")])
def test_infinity_matches_only_itself(run, tmp_path: Path, expected: str, amount: str):
    project = write_project(tmp_path / "p", metric_test(expected, amount))

    result, report = run_json(run, project)

    assert result.exit_code == 1
    assert statuses(report) == {"amount": "failed"}


def test_infinity_equal(run, tmp_path: Path):
    project = write_project(tmp_path / "p", metric_test(".inf", ".inf"))

    result, report = run_json(run, project)

    assert result.exit_code == 0
    assert statuses(report) == {"amount": "passed"}


def test_nan_in_json(run, tmp_path: Path):
    project = write_project(tmp_path / "p", metric_test("1", ".nan"))

    result = run("test", "--project", str(project), "--format", "json")

    report = json.loads(result.stdout, parse_constant=lambda constant: pytest.fail(f"invalid JSON: {constant}"))
    assert report["tests"][0]["differences"][0]["actual"]["value"] == ".nan"


@pytest.mark.parametrize(("amount", "message"), [
    ("1" + "0" * 400, "has more than 100 characters"),
])
def test_given_number_out_of_range(run, tmp_path: Path, amount: str, message: str):
    project = write_project(tmp_path / "p", metric_test("1", amount))

    result = run("validate", "--project", str(project))

    assert result.exit_code == 1
    assert message in result.stdout
    assert "internal error" not in result.stderr


def test_given_timestamp_out_of_range(run, tmp_path: Path):
    tests = metric_test("1").replace('"2024-01-01T09:00:00"', '"0001-01-01T00:00:00+01:00"')
    project = write_project(tmp_path / "p", tests)

    result = run("validate", "--project", str(project))

    assert result.exit_code == 1
    assert "invalid-type" in result.stdout
    assert "internal error" not in result.stderr


def test_expected_huge_integer(run, tmp_path: Path):
    project = write_project(tmp_path / "p", metric_test("1" + "0" * 99))

    result, report = run_json(run, project)

    assert result.exit_code == 1
    assert statuses(report) == {"amount": "failed"}
