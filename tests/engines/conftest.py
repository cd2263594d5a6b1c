"""One session-scoped fixture per engine; `engine` runs a test on each of them."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from engines.duckdb_engine import DuckDBEngine
from engines.engine import Engine
from engines.snowflake_engine import SnowflakeEngine, emulator

ENGINE_FIXTURES = ["duckdb_engine", "postgres_engine", "clickhouse_engine", "spark_engine", "snowflake_engine"]


@pytest.fixture(scope="session")
def duckdb_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return DuckDBEngine(tmp_path_factory.mktemp("duckdb"))


@pytest.fixture(scope="session")
def clickhouse_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """ClickHouse embedded through chdb; in CI a missing chdb fails instead of skipping."""
    try:
        import chdb  # noqa: F401
    except ImportError as error:
        message = f"chdb is not installed ({error}); install it with pip install -e '.[clickhouse]'"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from engines.clickhouse_engine import ClickHouseEngine

    return ClickHouseEngine(tmp_path_factory.mktemp("clickhouse"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """Start a private PostgreSQL cluster on 127.0.0.1 for the session; fail in CI when it cannot start."""
    from engines.postgres_engine import PostgresServer, ServerUnavailable

    try:
        server = PostgresServer()
        server.start()
    except ServerUnavailable as error:
        message = f"cannot start a PostgreSQL server for the tests: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_engine(postgres_server: object) -> Engine:
    from engines.postgres_engine import PostgresEngine, PostgresServer

    assert isinstance(postgres_server, PostgresServer)
    return PostgresEngine(postgres_server)


@pytest.fixture(scope="session")
def spark_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Start one local Spark session for every Spark test; starting a JVM takes several seconds."""
    from engines.spark_engine import java_missing_message

    problem = java_missing_message()
    try:
        import pyspark  # noqa: F401
    except ImportError:
        problem = "PySpark is not installed; install the test extra: pip install -e '.[test]'"
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    from engines.spark_engine import SparkEngine

    engine = SparkEngine(tmp_path_factory.mktemp("spark"))
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def snowflake_engine() -> Iterator[Engine]:
    """Snowflake emulated in process by fakesnow; CI installs fakesnow with the test extra."""
    try:
        import fakesnow  # noqa: F401
    except ImportError as error:
        pytest.fail(f"fakesnow is not installed ({error}); install the test extra: pip install -e '.[test]'")
    with emulator():
        yield SnowflakeEngine()


@pytest.fixture(params=ENGINE_FIXTURES)
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(request.param)
