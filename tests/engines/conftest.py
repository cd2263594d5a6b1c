"""One session-scoped fixture per engine; `engine` runs a test on each of them."""

from __future__ import annotations

import pytest

from engines.duckdb_engine import DuckDBEngine
from engines.engine import Engine

ENGINE_FIXTURES = ["duckdb_engine"]


@pytest.fixture(scope="session")
def duckdb_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return DuckDBEngine(tmp_path_factory.mktemp("duckdb"))


@pytest.fixture(params=ENGINE_FIXTURES)
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(request.param)
