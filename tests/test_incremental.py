"""Stored outputs: tables and incremental tables, deployed and refreshed on DuckDB.

An incremental refresh must give the rows a full build gives. The random cases deploy part of
an event log, add newer events and events that arrive late inside the lookback, refresh, and
compare every stored table with the plain-Python reference over the whole log.
"""

import math
import subprocess
import sys
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference import ReferenceProject
from reference.alerts import red_review_is_ambiguous, score_drop_is_ambiguous
from reference.builders import EVENT_SOURCE, definitions, event
from reference.builders import day as date_of
from reference.cases import LOGIN_TYPES, POPULATION_RANGES, STANDARD_VIEWS, UTC_TIMESTAMP, population_range_project
from reference.parity import REPOSITORY, compare_deployment, write_events_parquet, write_project
from test_parity_duckdb import (
    ACCOUNT_METRICS,
    ATTRIBUTE_SOURCE,
    ATTRIBUTE_TYPES,
    HYPOTHESIS_SETTINGS,
    TIME_ZONES,
    event_logs,
    health_definitions,
)

from healthlayer import api
from healthlayer.compiler.plan import build_plan
from healthlayer.errors import HealthlayerError


def incremental(definitions_dict: dict[str, Any], lookback: int) -> dict[str, Any]:
    """Return the definitions with every output stored as an incremental table."""
    stored = {"materialized": "incremental", "lookback": lookback}
    result = dict(definitions_dict)
    result["engagement"] = {**result["engagement"], **stored}
    for kind in ("stickiness", "tier_mix", "health_scores"):
        result[kind] = [{**item, **stored} for item in result.get(kind, [])]
    return result


# Derandomized, so that CI runs the same examples each time; a larger random run is one setting away.
REFRESH_SETTINGS = settings(HYPOTHESIS_SETTINGS, max_examples=30, derandomize=True)


DATE_COLUMNS = {"tier_transitions": "transition_date", "alerts": "detected_date", "account_health_daily": "as_of_date"}


def local_day(row: dict[str, Any], time_zone: str) -> date | None:
    """Return the day of an event that the views count, or None for one they leave out."""
    timestamp = row["event_ts"]
    if timestamp is None or row["user_id"] is None:
        return None
    return timestamp.astimezone(ZoneInfo(time_zone)).date()


def read_table(database: Path, name: str) -> list[tuple]:
    """Return a table's rows, ordered by their values other than floats."""
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(f'SELECT * FROM analytics."{name}"').fetchall()
    return sorted(rows, key=lambda row: repr([value for value in row if not isinstance(value, float)]))


def same_values(got: tuple, want: tuple) -> bool:
    """Compare rows, floats within 1e-9 relative: sums of floats vary with the order the engine adds them in."""
    return len(got) == len(want) and all(
        math.isclose(a, b, rel_tol=1e-9) if isinstance(a, float) and isinstance(b, float) else a == b
        for a, b in zip(got, want))


def split_log(rows: list[dict[str, Any]], time_zone: str, cut: int, lookback: int,
              late: list[bool]) -> list[dict[str, Any]]:
    """Return the rows known at the first deploy: those up to the cut day, less the late ones.

    A late row is a row of the last `lookback` days before the cut, after the first day of data,
    so the refresh must pick it up.
    """
    days = sorted({day for row in rows if (day := local_day(row, time_zone)) is not None})
    if not days:
        return rows
    cut_day = days[0] + timedelta(days=cut)
    known = []
    for index, row in enumerate(rows):
        day = local_day(row, time_zone)
        arrives_late = (day is not None and late[index % len(late)] and days[0] < day <= cut_day
                        and day > cut_day - timedelta(days=lookback))
        if day is None or (day <= cut_day and not arrives_late):
            known.append(row)
    return known


def deploy_refresh_compare(folder: Path, project_definitions: dict[str, Any], rows: list[dict[str, Any]],
                           known: list[dict[str, Any]], attribute_rows: list[dict[str, Any]] | None = None) -> list[str]:
    attributes = None if attribute_rows is None else {"accounts": (attribute_rows, ATTRIBUTE_TYPES)}
    write_project(folder, project_definitions, known, UTC_TIMESTAMP, attributes)
    deployment = api.deploy_project(folder)
    write_events_parquet(folder / "data" / "events.parquet", rows, UTC_TIMESTAMP)
    if all(local_day(row, "UTC") is None for row in rows):
        # Without an event to count, a refresh would empty the tables, so it stops instead.
        with pytest.raises(HealthlayerError, match="the engagement source has no events"):
            api.refresh_project(folder)
        return []
    steps = api.refresh_project(folder)
    # A health score's explanations are always a view, so the refresh writes every other output.
    assert {step.name for step in steps} == {view.name for view in deployment.result.views
                                             if view.kind == "output" and not view.name.endswith("_explanations")}
    reference = ReferenceProject(project_definitions, {"events": rows, "accounts": attribute_rows or []})
    problems = compare_deployment(reference, deployment.database, deployment.schema)
    last_day = max((day for row in rows if (day := local_day(row, reference.time_zone)) is not None), default=None)
    with duckdb.connect(str(deployment.database), read_only=True) as connection:
        for step in steps:
            # Rows written by the refresh carry the last day of data. Transitions and alerts may
            # have no row on the recomputed days, so their newest row can be older.
            written = connection.execute(f'SELECT DISTINCT complete_through FROM analytics."{step.name}" '
                                         f'WHERE "{DATE_COLUMNS.get(step.name, "activity_date")}" >= ?',
                                         [step.first_day or date.min]).fetchall()
            if written not in ([], [(last_day,)]):
                problems.append(f"{step.name}: complete_through {written}, but the last day of data is {last_day}")
    return problems


@REFRESH_SETTINGS
@given(rows=event_logs(), time_zone=st.sampled_from(TIME_ZONES), cut=st.integers(0, 40),
       lookback=st.integers(1, 6), late=st.lists(st.booleans(), min_size=1, max_size=5))
def test_random_engagement_refresh(tmp_path_factory, rows, time_zone, cut, lookback, late):
    folder = tmp_path_factory.mktemp("refresh")
    project_definitions = incremental(definitions(time_zone=time_zone, **STANDARD_VIEWS), lookback)
    known = split_log(rows, time_zone, cut, lookback, late)
    problems = deploy_refresh_compare(folder, project_definitions, rows, known)
    assert not problems, "refreshed tables differ from the reference:\n" + "\n".join(problems)


@REFRESH_SETTINGS
@given(rows=event_logs(), time_zone=st.sampled_from(TIME_ZONES), health=health_definitions(),
       cut=st.integers(0, 40), lookback=st.integers(1, 6), late=st.lists(st.booleans(), min_size=1, max_size=5))
def test_random_health_refresh(tmp_path_factory, rows, time_zone, health, cut, lookback, late):
    folder = tmp_path_factory.mktemp("refresh")
    # A population filter makes an incremental health score invalid, so the score covers every account.
    health["population"] = {"source": "events"}
    project_definitions = incremental(definitions(
        time_zone=time_zone,
        stickiness=[{"name": "stickiness_by_account", "level": "any", "by": ["account"]}],
        tier_mix=[{"name": "mix_by_account", "by": ["account"], "window": 7}],
        account_metrics=ACCOUNT_METRICS,
        health_scores=[health],
    ), lookback)
    project_definitions["sources"] = [EVENT_SOURCE, ATTRIBUTE_SOURCE]
    attribute_rows = [{"account_id": "a1", "seats": 3.0}, {"account_id": "a2", "seats": None}]
    known = split_log(rows, time_zone, cut, lookback, late)
    problems = deploy_refresh_compare(folder, project_definitions, rows, known, attribute_rows)
    assert not problems, "refreshed tables differ from the reference:\n" + "\n".join(problems)


HEALTH_ALERT_RULES = [
    {"name": "band_move", "type": "band_change", "score": "account_health_daily", "direction": "any",
     "respond_within": "1 day"},
    {"name": "drop", "type": "score_drop", "score": "account_health_daily", "points": 5, "days": "2 weeks",
     "respond_within": "1 day"},
    {"name": "review", "type": "red_review", "score": "account_health_daily", "weekday": "friday",
     "respond_within": "1 day"},
    {"name": "silent", "type": "stale_data", "silent_for": 2, "min_active_days": 2, "lookback": 30,
     "respond_within": "1 day"},
]


@REFRESH_SETTINGS
@given(rows=event_logs(), time_zone=st.sampled_from(TIME_ZONES), health=health_definitions(),
       cut=st.integers(0, 40), lookback=st.integers(1, 6), late=st.lists(st.booleans(), min_size=1, max_size=5))
def test_random_health_alert_refresh(tmp_path_factory, rows, time_zone, health, cut, lookback, late):
    """An incremental alerts table refreshed with account alerts has the rows of a full build.

    The engagement views have short windows, so that the history the alerts read reaches further
    back than the history of every view.
    """
    folder = tmp_path_factory.mktemp("refresh")
    health["population"] = {"source": "events"}
    health["bands"] = [{"name": "good", "min": 50}, {"name": "bad", "min": 0}]
    project_definitions = incremental(definitions(
        time_zone=time_zone,
        tier_window=1,
        stickiness=[{"name": "stickiness_by_account", "level": "any", "by": ["account"],
                     "windows": {"dau": 1, "wau": 2, "mau": 3}}],
        tier_mix=[{"name": "mix_by_account", "by": ["account"], "window": 2}],
        account_metrics=ACCOUNT_METRICS,
        health_scores=[health],
        alerts=HEALTH_ALERT_RULES,
    ), lookback)
    project_definitions["sources"] = [EVENT_SOURCE, ATTRIBUTE_SOURCE]
    attribute_rows = [{"account_id": "a1", "seats": 3.0}, {"account_id": "a2", "seats": None}]
    reference = ReferenceProject(project_definitions, {"events": rows, "accounts": attribute_rows})
    assume(not score_drop_is_ambiguous(reference.view("account_health_daily"), HEALTH_ALERT_RULES[1]))
    assume(not red_review_is_ambiguous(reference.view("account_health_daily"), HEALTH_ALERT_RULES[2], health))
    known = split_log(rows, time_zone, cut, lookback, late)
    problems = deploy_refresh_compare(folder, project_definitions, rows, known, attribute_rows)
    assert not problems, "refreshed tables differ from the reference:\n" + "\n".join(problems)


def stored_project(tmp_path: Path, materialized: str, lookback: int = 2) -> Path:
    stored: dict[str, Any] = {"materialized": materialized}
    if materialized == "incremental":
        stored["lookback"] = lookback
    project_definitions = definitions(stickiness=[{"name": "stickiness_daily", "level": "any", **stored}])
    rows = [event(day, f"u{day % 3}", "a1", "commit") for day in range(10)]
    write_project(tmp_path, project_definitions, rows)
    return tmp_path


def test_table_rebuilt_by_refresh(tmp_path):
    folder = stored_project(tmp_path, "table")
    deployment = api.deploy_project(folder)
    assert len(read_table(deployment.database, "stickiness_daily")) == 10
    write_events_parquet(folder / "data" / "events.parquet",
                         [event(day, "u1", "a1", "commit") for day in range(15)], UTC_TIMESTAMP)
    [step] = api.refresh_project(folder)
    assert (step.name, step.action, step.rows, step.first_day) == ("stickiness_daily", "table", 15, None)


def test_incremental_refresh_replaces_lookback_days(tmp_path):
    folder = stored_project(tmp_path, "incremental", lookback=2)
    deployment = api.deploy_project(folder)
    before = read_table(deployment.database, "stickiness_daily")
    rows = [event(day, f"u{day % 3}", "a1", "commit") for day in range(12)]
    # Late events: one inside the lookback (day 8) and one before it (day 5), which only a full refresh counts.
    rows += [event(8, "u9", "a1", "commit"), event(5, "u8", "a1", "commit")]
    write_events_parquet(folder / "data" / "events.parquet", rows, UTC_TIMESTAMP)
    [step] = api.refresh_project(folder)
    assert (step.action, step.first_day, step.rows) == ("incremental", date(2024, 1, 9), 4)
    after = read_table(deployment.database, "stickiness_daily")
    # Days before the lookback keep their rows, with the day of data they were computed through.
    assert [row for row in after if row[0] < date(2024, 1, 9)] == [row for row in before if row[0] < date(2024, 1, 9)]
    assert {row[-1] for row in after if row[0] >= date(2024, 1, 9)} == {date(2024, 1, 12)}

    reference = ReferenceProject(definitions(stickiness=[{"name": "stickiness_daily", "level": "any"}]), {"events": rows})
    problems = compare_deployment(reference, deployment.database, deployment.schema, ["stickiness_daily"])
    assert any("datetime.date(2024, 1, 6)" in problem for problem in problems), problems
    api.refresh_project(folder, full=True)
    assert not compare_deployment(reference, deployment.database, deployment.schema, ["stickiness_daily"])


def test_refresh_without_stored_outputs(tmp_path):
    write_project(tmp_path, definitions(**STANDARD_VIEWS), [event(0, "u1", "a1", "commit")])
    api.deploy_project(tmp_path)
    assert api.refresh_project(tmp_path) == []


def test_refresh_unknown_name(tmp_path):
    folder = stored_project(tmp_path, "table")
    api.deploy_project(folder)
    with pytest.raises(HealthlayerError, match="no stored output is named 'stickiness_weekly'; the stored outputs are "
                                               "stickiness_daily"):
        api.refresh_project(folder, names={"stickiness_weekly"})


def test_refresh_before_deploy_as_table(tmp_path):
    folder = stored_project(tmp_path, "view")
    api.deploy_project(folder)
    definitions_file = folder / "models" / "definitions.yml"
    definitions_file.write_text(definitions_file.read_text().replace("materialized: view", "materialized: table"))
    with pytest.raises(HealthlayerError, match="'stickiness_daily' is not deployed as a table"):
        api.refresh_project(folder)


def test_switch_between_view_and_table(tmp_path):
    folder = stored_project(tmp_path, "table")
    deployment = api.deploy_project(folder)
    definitions_file = folder / "models" / "definitions.yml"
    definitions_file.write_text(definitions_file.read_text().replace("materialized: table", "materialized: view"))
    api.deploy_project(folder)
    with duckdb.connect(str(deployment.database), read_only=True) as connection:
        kinds = connection.execute("SELECT table_type FROM information_schema.tables "
                                   "WHERE table_name = 'stickiness_daily'").fetchall()
    assert kinds == [("VIEW",)]


def test_project_outputs_setting(tmp_path, run):
    folder = tmp_path / "saas"
    shutil.copytree(REPOSITORY / "examples" / "saas", folder, ignore=shutil.ignore_patterns("*.duckdb"))
    project_file = folder / "healthlayer.yml"
    project_file.write_text(project_file.read_text() + "outputs:\n  account_health_daily: {materialized: incremental}\n"
                            "  tier_mix_dayly: {materialized: table}\n")
    result = run("validate", "--project", str(folder))
    assert result.exit_code == 1
    output = result.stdout + result.stderr
    assert "unknown-output" in output
    assert "tier_mix_daily" in output

    project_file.write_text(project_file.read_text().replace("tier_mix_dayly", "account_health_daily_explanations"))
    result = run("validate", "--project", str(folder))
    assert result.exit_code == 1
    assert ("'account_health_daily_explanations' explains the health score 'account_health_daily' and is always a "
            "view") in " ".join((result.stdout + result.stderr).split())

    project_file.write_text(project_file.read_text().replace("  account_health_daily_explanations: {materialized: table}\n", ""))
    result = run("deploy", "--project", str(folder))
    assert result.exit_code == 0, result.stderr
    assert "account_health_daily: table, every day, 20,134 rows" in result.stderr
    result = run("refresh", "--project", str(folder))
    assert result.exit_code == 0, result.stderr
    assert "account_health_daily: incremental from 2026-06-28, 180 rows" in result.stderr
    assert "Refreshed 1 table: 180 rows written" in result.stdout


def test_saas_refresh_equals_full_build(tmp_path):
    """The real-size example: deploy without the last 20 days, add them back with late rows, refresh, compare."""
    full = tmp_path / "full"
    shutil.copytree(REPOSITORY / "examples" / "saas", full, ignore=shutil.ignore_patterns("*.duckdb"))
    outputs = ["stickiness_daily_by_account", "tier_mix_daily", "engagement_tiers_daily", "tier_transitions",
               "alerts", "account_health_daily"]
    settings = "".join(f"  {name}: {{materialized: incremental, lookback: 4 days}}\n" for name in outputs)
    project_file = full / "healthlayer.yml"
    project_file.write_text(project_file.read_text() + "outputs:\n" + settings)
    partial = tmp_path / "partial"
    shutil.copytree(full, partial)
    with duckdb.connect() as connection:
        for name, column in [("events", "event_ts"), ("nps_responses", "responded_at"), ("support_tickets", "created_at")]:
            source = full / "data" / f"{name}.parquet"
            # Rows of the last 20 days are missing, and so is every tenth row of the 4 days before.
            connection.execute(
                f"COPY (SELECT * FROM read_parquet('{source}') WHERE {column} < TIMESTAMPTZ '2026-06-07 04:00:00+00' "
                f"AND NOT ({column} >= TIMESTAMPTZ '2026-06-03 04:00:00+00' AND hash({column}) % 10 = 0)) "
                f"TO '{partial / 'data' / f'{name}.parquet'}' (FORMAT parquet)")
    deployment = api.deploy_project(partial)
    for name in ("events", "nps_responses", "support_tickets"):
        shutil.copy(full / "data" / f"{name}.parquet", partial / "data" / f"{name}.parquet")
    steps = api.refresh_project(partial)
    assert {step.first_day for step in steps} == {date(2026, 6, 3)}
    rebuilt = api.deploy_project(full)
    for name in outputs:
        # complete_through is the last column; rows before the refreshed days keep their earlier day.
        refreshed = read_table(deployment.database, name)
        expected = read_table(rebuilt.database, name)
        assert len(refreshed) == len(expected), name
        for got, want in zip(refreshed, expected):
            assert same_values(got[:-1], want[:-1]), (name, got, want)
        assert {row[-1] for row in refreshed} <= {date(2026, 6, 6), date(2026, 6, 30)}


def test_refresh_after_definition_change(tmp_path):
    folder = stored_project(tmp_path, "incremental")
    api.deploy_project(folder)
    definitions_file = folder / "models" / "definitions.yml"
    definitions_file.write_text(definitions_file.read_text().replace("level: any", "level: active"))
    with pytest.raises(HealthlayerError, match="the definitions of 'stickiness_daily' changed since it was deployed"):
        api.refresh_project(folder)
    api.deploy_project(folder)
    assert [step.action for step in api.refresh_project(folder)] == ["incremental"]


def test_refresh_after_switch_to_view(tmp_path):
    folder = stored_project(tmp_path, "table")
    api.deploy_project(folder)
    definitions_file = folder / "models" / "definitions.yml"
    definitions_file.write_text(definitions_file.read_text().replace("materialized: table", "materialized: view"))
    with pytest.raises(HealthlayerError, match="'stickiness_daily' is deployed as a table, but its definition now "
                                               "makes it a view"):
        api.refresh_project(folder)


def test_refresh_after_wrong_timestamps_removed(tmp_path):
    folder = stored_project(tmp_path, "incremental", lookback=2)
    rows = [event(day, f"u{day % 3}", "a1", "commit") for day in range(10)]
    # A placeholder date far ahead, which the next load corrects.
    write_events_parquet(folder / "data" / "events.parquet", rows + [event(400, "u1", "a1", "commit")], UTC_TIMESTAMP)
    deployment = api.deploy_project(folder)
    write_events_parquet(folder / "data" / "events.parquet", rows, UTC_TIMESTAMP)

    [step] = api.refresh_project(folder)

    # The data now ends before the table's last day, so every day is computed again.
    assert (step.action, step.first_day) == ("table", None)
    reference = ReferenceProject(definitions(stickiness=[{"name": "stickiness_daily", "level": "any"}]), {"events": rows})
    assert not compare_deployment(reference, deployment.database, deployment.schema, ["stickiness_daily"])


def test_refresh_after_last_days_removed_and_loaded_again(tmp_path):
    """Rows older than the recomputed days keep the complete_through of the deploy, later than the data's end."""
    folder = stored_project(tmp_path, "incremental", lookback=2)
    deployment = api.deploy_project(folder)
    rows = [event(day, f"u{day % 3}", "a1", "commit") for day in range(10)]
    write_events_parquet(folder / "data" / "events.parquet", rows[:7], UTC_TIMESTAMP)
    api.refresh_project(folder)
    write_events_parquet(folder / "data" / "events.parquet", rows, UTC_TIMESTAMP)

    [step] = api.refresh_project(folder)

    assert (step.action, step.first_day) == ("incremental", date(2024, 1, 6))
    reference = ReferenceProject(definitions(stickiness=[{"name": "stickiness_daily", "level": "any"}]), {"events": rows})
    assert not compare_deployment(reference, deployment.database, deployment.schema, ["stickiness_daily"])


def test_selected_output_refreshes_the_stored_outputs_it_reads(tmp_path):
    stored = {"materialized": "incremental", "lookback": 2}
    project_definitions = definitions(
        stickiness=[{"name": "stickiness_by_account", "level": "any", "by": ["account"], **stored}],
        health_scores=[{"name": "account_health", "population": {"source": "events"}, **stored, "categories": [
            {"name": "engagement", "weight": 100, "components": [
                {"name": "stickiness", "metric": "stickiness_by_account.dau_mau", "weight": 100,
                 "score": {"function": "linear", "lower": 0, "upper": 1, "higher_is_better": True}}]}]}])
    rows = [event(day, f"u{day % 3}", f"a{day % 2}", "commit") for day in range(12)]
    write_project(tmp_path, project_definitions, rows[:8])
    deployment = api.deploy_project(tmp_path)
    write_events_parquet(tmp_path / "data" / "events.parquet", rows, UTC_TIMESTAMP)

    steps = api.refresh_project(tmp_path, names={"account_health"})

    assert [step.name for step in steps] == ["stickiness_by_account", "account_health"]
    reference = ReferenceProject(project_definitions, {"events": rows})
    assert not compare_deployment(reference, deployment.database, deployment.schema)


@pytest.mark.parametrize("case", sorted(POPULATION_RANGES))
def test_population_range_refresh(tmp_path, case):
    """An incremental score of another population source, refreshed after new events and logins, equals the reference."""
    rows, logins, project_definitions = population_range_project(case)
    project_definitions["health_scores"][0].update({"materialized": "incremental", "lookback": 3})
    cut = date_of(12)
    write_project(tmp_path, project_definitions, [row for row in rows if row["event_ts"].date() < cut], UTC_TIMESTAMP,
                  {"logins": ([row for row in logins if row["login_ts"].date() < cut], LOGIN_TYPES)})
    deployment = api.deploy_project(tmp_path)
    write_project(tmp_path, project_definitions, rows, UTC_TIMESTAMP, {"logins": (logins, LOGIN_TYPES)})

    [step] = api.refresh_project(tmp_path)

    assert step.action == "incremental"
    reference = ReferenceProject(project_definitions, {"events": rows, "logins": logins})
    assert not compare_deployment(reference, deployment.database, deployment.schema)


def test_refresh_without_events(tmp_path):
    folder = stored_project(tmp_path, "incremental")
    deployment = api.deploy_project(folder)
    before = read_table(deployment.database, "stickiness_daily")
    write_events_parquet(folder / "data" / "events.parquet", [], UTC_TIMESTAMP)
    with pytest.raises(HealthlayerError, match="the engagement source has no events"):
        api.refresh_project(folder)
    assert read_table(deployment.database, "stickiness_daily") == before


@pytest.mark.parametrize(("setting", "expected"), [
    ("{}", ("incremental", 2)),
    ("{lookback: 5 days}", ("incremental", 5)),
    ("{materialized: table}", ("table", 0)),
])
def test_outputs_keys_replace_definition(tmp_path, setting, expected):
    folder = stored_project(tmp_path, "incremental", lookback=2)
    project_file = folder / "healthlayer.yml"
    project_file.write_text(project_file.read_text() + f"outputs:\n  stickiness_daily: {setting}\n")
    project, _ = api.load(folder)
    relation = build_plan(project, "analytics").get("stickiness_daily")
    assert (relation.materialized, relation.lookback) == expected


def test_outputs_lookback_of_view(tmp_path):
    folder = stored_project(tmp_path, "table")
    project_file = folder / "healthlayer.yml"
    project_file.write_text(project_file.read_text() + "outputs:\n  stickiness_daily: {lookback: 5 days}\n")
    [issue] = [issue for issue in api.validate(folder) if issue.severity == "error"]
    assert issue.message == ("'lookback' applies only to incremental tables, and the definition of 'stickiness_daily' "
                             "stores it as a table")
    assert issue.location.key_path == ("outputs", "stickiness_daily", "lookback")


def test_fixture_tests_with_stored_outputs(tmp_path, run):
    folder = tmp_path / "saas"
    shutil.copytree(REPOSITORY / "examples" / "saas", folder, ignore=shutil.ignore_patterns("*.duckdb"))
    project_file = folder / "healthlayer.yml"
    project_file.write_text(project_file.read_text() + "outputs:\n  stickiness_daily_by_account: {materialized: table}\n"
                            "  account_health_daily: {materialized: incremental}\n")
    result = run("test", "--project", str(folder))
    assert result.exit_code == 0, result.stdout


def test_incremental_population_filter_rejected(tmp_path):
    folder = tmp_path / "saas"
    shutil.copytree(REPOSITORY / "examples" / "saas", folder, ignore=shutil.ignore_patterns("*.duckdb"))
    project_file = folder / "healthlayer.yml"
    project_file.write_text(project_file.read_text() + "outputs:\n  account_health_daily: {materialized: incremental}\n")
    health = folder / "models" / "health.yml"
    health.write_text("health_scores:\n" + (REPOSITORY / "definitions" / "standard" / "saas_health.yml").read_text()
                      .split("health_scores:\n", 1)[1].replace("population: {source: events}",
                                                               "population: {source: events, filter: \"plan = 'pro'\"}"))
    errors = [issue for issue in api.validate(folder) if issue.severity == "error"]
    assert [issue.code for issue in errors] == ["incremental-population-filter"]
    assert errors[0].location.key_path == ("outputs", "account_health_daily", "materialized")


@pytest.mark.parametrize("example", ["dpdk", "saas"])
def test_readme_outputs_block_deploys(tmp_path, example):
    """The `outputs:` block of the README stores outputs of either example."""
    readme = (REPOSITORY / "README.md").read_text()
    block = readme[readme.index("```yaml\noutputs:\n") + len("```yaml\n"):]
    block = block[:block.index("```")]
    folder = tmp_path / example
    shutil.copytree(REPOSITORY / "examples" / example, folder, ignore=shutil.ignore_patterns("*.duckdb"))
    project_file = folder / "healthlayer.yml"
    project_file.write_text(project_file.read_text() + block)

    deployment = api.deploy_project(folder)

    stored = {step.name for step in api.refresh_project(folder)}
    assert stored == {"stickiness_daily_by_account", "account_health_daily"}
    assert deployment.result.schema == "analytics"


def test_refresh_of_a_view(tmp_path):
    folder = stored_project(tmp_path, "view")
    api.deploy_project(folder)
    with pytest.raises(HealthlayerError, match="'stickiness_daily' is a view, which needs no refresh"):
        api.refresh_project(folder, names={"stickiness_daily"})


def test_database_locked_by_another_process(tmp_path):
    folder = stored_project(tmp_path, "table")
    deployment = api.deploy_project(folder)
    # A process that has written to the database holds its lock until it closes it.
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; connection = duckdb.connect(sys.argv[1]); "
                               "connection.execute('CREATE TABLE main.held (a INTEGER)'); print('open', flush=True); "
                               "time.sleep(60)",
                               str(deployment.database)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        with pytest.raises(HealthlayerError, match="another process has it open for writing, such as a running "
                                                   "deploy or refresh"):
            api.refresh_project(folder)
    finally:
        holder.kill()
        holder.wait()


def test_refresh_reads_new_history_rows(tmp_path):
    """A refresh recomputes its days with the history rows loaded since the deploy, and a trend across them."""
    history_source = {"name": "seat_history", "file": "data/seat_history.parquet", "account": "account_id",
                      "valid_from": "changed_on", "columns": {"changed_on": "date", "seats": "number"}}
    types = {"account_id": pa.string(), "changed_on": pa.date32(), "seats": pa.float64()}
    linear = {"function": "linear", "lower": -20, "upper": 20}
    score = {"name": "account_health_daily", "population": {"source": "events"}, "categories": [
        {"name": "size", "weight": 100, "components": [
            {"name": "seats", "attribute": "seat_history.seats", "weight": 50, "score": linear},
            {"name": "growth", "trend": {"attribute": "seat_history.seats", "days": 2}, "weight": 50, "score": linear}]}]}
    project_definitions = incremental(definitions(health_scores=[score]), 2)
    project_definitions["sources"] = [EVENT_SOURCE, history_source]
    rows = [event(offset, "u1", "a1", "commit") for offset in range(10)]
    history = [{"account_id": "a1", "changed_on": date_of(1), "seats": 4.0}]
    write_project(tmp_path, project_definitions, rows[:6], UTC_TIMESTAMP, {"seat_history": (history, types)})
    deployment = api.deploy_project(tmp_path)

    history.append({"account_id": "a1", "changed_on": date_of(8), "seats": 9.0})
    write_project(tmp_path, project_definitions, rows, UTC_TIMESTAMP, {"seat_history": (history, types)})
    steps = api.refresh_project(tmp_path)

    assert [step.name for step in steps if step.name == "account_health_daily"] == ["account_health_daily"]
    reference = ReferenceProject(project_definitions, {"events": rows, "seat_history": history})
    problems = compare_deployment(reference, deployment.database, deployment.schema)
    assert not problems, "refreshed tables differ from the reference:\n" + "\n".join(problems)
