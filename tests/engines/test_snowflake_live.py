"""The Snowflake adapter against a real Snowflake account, for what the fakesnow emulator cannot show.

These tests run only when the environment names an account: SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER,
SNOWFLAKE_DATABASE, and SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_FILE (with
SNOWFLAKE_PRIVATE_KEY_FILE_PWD for an encrypted key); SNOWFLAKE_WAREHOUSE and SNOWFLAKE_ROLE are
optional. CI has no account, so there they are skipped. They create schemas named hl_live_<random>_*
in that database and drop them at the end. Run them alone, because the emulator fixture patches
snowflake.connector.connect for the rest of a pytest session:

    python -m pytest tests/engines/test_snowflake_live.py

NOTE: these tests have not yet been run against a live account.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engines.harness import set_target
from healthlayer import api
from healthlayer.adapters.snowflake import MANIFEST, SnowflakeAdapter

from conftest import SHOP

REQUIRED = ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_DATABASE")


def live_settings() -> dict[str, Any] | None:
    """Return target settings from the environment, or None when it names no account."""
    if any(not os.environ.get(name) for name in REQUIRED):
        return None
    settings: dict[str, Any] = {"account": os.environ["SNOWFLAKE_ACCOUNT"], "user": os.environ["SNOWFLAKE_USER"],
                                "database": os.environ["SNOWFLAKE_DATABASE"]}
    if os.environ.get("SNOWFLAKE_PRIVATE_KEY_FILE"):
        settings.update(authenticator="snowflake_jwt", private_key_file=os.environ["SNOWFLAKE_PRIVATE_KEY_FILE"])
        if os.environ.get("SNOWFLAKE_PRIVATE_KEY_FILE_PWD"):
            settings["private_key_file_pwd"] = os.environ["SNOWFLAKE_PRIVATE_KEY_FILE_PWD"]
    elif os.environ.get("SNOWFLAKE_PASSWORD"):
        settings["password"] = os.environ["SNOWFLAKE_PASSWORD"]
    else:
        return None
    for key in ("warehouse", "role"):
        if os.environ.get(f"SNOWFLAKE_{key.upper()}"):
            settings[key] = os.environ[f"SNOWFLAKE_{key.upper()}"]
    return settings


SETTINGS = live_settings()

pytestmark = pytest.mark.skipif(
    SETTINGS is None,
    reason="no Snowflake account in the environment: set SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_DATABASE "
           "and SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_FILE to run the live Snowflake tests")


@pytest.fixture(scope="module")
def prefix() -> Iterator[str]:
    """Return a prefix for this run's schemas, and drop every schema with it afterwards."""
    import snowflake.connector

    if not snowflake.connector.connect.__module__.startswith("snowflake.connector"):
        pytest.fail("snowflake.connector.connect is patched by the emulator in this process; "
                    "run tests/engines/test_snowflake_live.py on its own")
    prefix = f"hl_live_{secrets.token_hex(4)}"
    yield prefix
    with SnowflakeAdapter({**SETTINGS, "schema": f"{prefix}_raw"}, SHOP) as adapter:
        _, rows = adapter.fetch("SELECT SCHEMA_NAME FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME LIKE %s",
                                [f"{prefix.upper()}%"])
        for (name,) in rows:
            adapter.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture(scope="module")
def raw_schema(prefix: str) -> str:
    """Create the shop's raw tables with a few rows in a schema of this run."""
    schema = f"{prefix}_raw"
    with SnowflakeAdapter({**SETTINGS, "schema": schema}, SHOP) as adapter:
        adapter.execute(f"CREATE SCHEMA {schema}")
        adapter.execute(f"CREATE TABLE {schema}.events (account_id VARCHAR, user_id VARCHAR, event_ts TIMESTAMP_NTZ, "
                        "event_type VARCHAR, area VARCHAR, order_id VARCHAR, amount FLOAT, plan VARCHAR)")
        adapter.execute(
            f"INSERT INTO {schema}.events SELECT 'acct_a', 'alice', DATEADD(HOUR, SEQ4() * 5, '2024-03-01'::TIMESTAMP_NTZ), "
            "IFF(SEQ4() % 3 = 0, 'checkout', 'view'), 'cart', 'o' || SEQ4(), 20.0, 'pro' "
            "FROM TABLE(GENERATOR(ROWCOUNT => 400))")
        adapter.execute(f"CREATE TABLE {schema}.accounts (account_id VARCHAR, seats FLOAT, segment VARCHAR)")
        adapter.execute(f"INSERT INTO {schema}.accounts VALUES ('acct_a', 12, 'enterprise')")
        adapter.execute(f"CREATE TABLE {schema}.nps (account_id VARCHAR, responded_at TIMESTAMP_TZ, score FLOAT)")
        adapter.execute(f"INSERT INTO {schema}.nps VALUES ('acct_a', '2024-03-11 09:00:00 +00:00', 9)")
    return schema


def live_project(tmp_path: Path, raw_schema: str, schema: str, **settings: Any) -> Path:
    project = tmp_path / "shop"
    shutil.copytree(SHOP, project)
    sources = project / "models" / "sources.yml"
    sources.write_text(sources.read_text(encoding="utf-8").replace("table: raw.", f"table: {raw_schema}."),
                       encoding="utf-8")
    set_target(project, "snowflake", {**SETTINGS, "schema": schema, **settings})
    return project


def read_all(adapter: SnowflakeAdapter, schema: str, views: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    return {view: sorted(adapter.fetch(f"SELECT * FROM {schema}.{view}")[1], key=repr) for view in views}


def test_live_swap_deploy_twice(tmp_path: Path, raw_schema: str, prefix: str):
    schema = f"{prefix}_swap"
    project = live_project(tmp_path, raw_schema, schema)

    first = api.deploy_project(project)
    second = api.deploy_project(project)

    assert second.result == first.result
    with SnowflakeAdapter({**SETTINGS, "schema": schema}, SHOP) as adapter:
        _, staging = adapter.fetch("SELECT COUNT(*) FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = %s",
                                   [f"{schema}_hl_staging".upper()])
        _, counts = adapter.fetch(f"SELECT COUNT(*) FROM {schema}.stickiness_daily")
        _, manifest = adapter.fetch(f"SELECT COUNT(*) FROM {schema}.{MANIFEST}")
    assert staging == [(0,)]
    assert counts[0][0] > 0
    assert manifest[0][0] == len(first.result.views) + 1


def test_live_views_ignore_session_parameters(tmp_path: Path, raw_schema: str, prefix: str):
    schema = f"{prefix}_session"
    api.deploy_project(live_project(tmp_path, raw_schema, schema))
    views = ["alerts", "tier_transitions", "stickiness_daily", "account_health"]

    with SnowflakeAdapter({**SETTINGS, "schema": schema}, SHOP) as adapter:
        expected = read_all(adapter, schema, views)
        adapter.execute("ALTER SESSION SET TIMEZONE = 'America/Los_Angeles', WEEK_START = 3, "
                        "TIMESTAMP_TYPE_MAPPING = 'TIMESTAMP_LTZ', DATE_OUTPUT_FORMAT = 'DD.MM.YYYY'")
        actual = read_all(adapter, schema, views)

    assert actual == expected


def test_live_query_tag(tmp_path: Path, raw_schema: str, prefix: str):
    with SnowflakeAdapter({**SETTINGS, "schema": f"{prefix}_tag"}, SHOP) as adapter:
        _, rows = adapter.fetch("SHOW PARAMETERS LIKE 'QUERY_TAG' IN SESSION")

    assert rows[0][1] == "healthlayer:shop"
