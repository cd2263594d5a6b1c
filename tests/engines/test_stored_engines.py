"""Stored outputs on the engines that store them besides DuckDB: PostgreSQL and the Snowflake emulator.

The random cases deploy part of an event log as incremental tables, then put every event in the
raw table, newer ones and late ones inside the lookback. They refresh and compare each table with
the plain-Python reference over the whole log, as tests/test_incremental.py does on DuckDB.

On Snowflake the emulator shows that the deploy and refresh statements run and give the
reference's rows after fakesnow's translation to DuckDB. It does not show Snowflake's own
transactions, locking or COPY GRANTS, which it accepts without emulating.
"""

from __future__ import annotations


import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from reference.builders import definitions, event
from reference.cases import STANDARD_VIEWS
from test_incremental import REFRESH_SETTINGS, incremental, local_day, split_log
from test_parity_duckdb import TIME_ZONES, event_logs

from engines.engine import Engine
from engines.stored import compare_with_reference, deploy_stored, reload_events
from healthlayer import api
from healthlayer.errors import HealthlayerError


@pytest.fixture(scope="module", params=["postgres_engine", "snowflake_engine"])
def storing_engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(request.param)


# Each example deploys to the engine, so there are fewer of them than on DuckDB, and a failing
# example is reported as found: shrinking it would deploy hundreds of times.
@settings(REFRESH_SETTINGS, max_examples=12, phases=[Phase.explicit, Phase.generate])
@given(rows=event_logs(), time_zone=st.sampled_from(TIME_ZONES), cut=st.integers(0, 40),
       lookback=st.integers(1, 6), late=st.lists(st.booleans(), min_size=1, max_size=5))
def test_random_refresh_equals_reference(storing_engine, tmp_path_factory, rows, time_zone, cut, lookback, late):
    folder = tmp_path_factory.mktemp(f"{storing_engine.adapter_type}_refresh")
    project_definitions = incremental(definitions(time_zone=time_zone, **STANDARD_VIEWS), lookback)
    known = split_log(rows, time_zone, cut, lookback, late)
    raw_schema, _, outputs = deploy_stored(storing_engine, folder, project_definitions, known)
    reload_events(storing_engine, folder, raw_schema, rows)
    if all(local_day(row, "UTC") is None for row in rows):
        with pytest.raises(HealthlayerError, match="the engagement source has no events"):
            api.refresh_project(folder)
        return
    steps = api.refresh_project(folder)
    assert {step.name for step in steps} == outputs
    problems = compare_with_reference(folder, project_definitions, rows, storing_engine.normalise)
    assert not problems, "refreshed tables differ from the reference:\n" + "\n".join(problems)


def test_redeploy_switches_between_view_and_table(storing_engine, tmp_path):
    """A redeploy replaces a stored table by a view and back, and refresh reads the schema's current kind."""
    folder = tmp_path / "switch"
    stickiness = {"name": "stickiness_daily", "level": "any", "materialized": "table"}
    project_definitions = definitions(stickiness=[stickiness])
    rows = [event(day, f"u{day % 3}", "a1", "commit") for day in range(10)]
    raw_schema, _, _ = deploy_stored(storing_engine, folder, project_definitions, rows)
    definitions_file = folder / "models" / "definitions.yml"

    api.deploy_project(folder)
    definitions_file.write_text(definitions_file.read_text().replace("materialized: table", "materialized: view"))
    with pytest.raises(HealthlayerError, match="'stickiness_daily' is deployed as a table, but its definition now "
                                               "makes it a view"):
        api.refresh_project(folder)
    api.deploy_project(folder)
    assert api.refresh_project(folder) == []
    definitions_file.write_text(definitions_file.read_text().replace("materialized: view", "materialized: table"))
    api.deploy_project(folder)

    more_rows = [*rows, event(10, "u1", "a1", "commit")]
    reload_events(storing_engine, folder, raw_schema, more_rows)
    [step] = api.refresh_project(folder)
    assert (step.name, step.action, step.rows) == ("stickiness_daily", "table", 11)
    assert not compare_with_reference(folder, definitions(stickiness=[stickiness]), more_rows, storing_engine.normalise)
