"""Fixtures shared by the golden SQL, validation and command-line tests.

`tests/fixtures/shop` is a small valid project whose sources are tables (`raw.events`,
`raw.accounts`, `raw.nps`). Tests never write into the repository. They copy the project to
`tmp_path` first, and only the copy gets a DuckDB file with raw tables.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHOP = FIXTURES / "shop"
# The copy's DuckDB file, as set by the `local` target of tests/fixtures/shop/healthlayer.yml.
SHOP_DATABASE = "shop.duckdb"
FIRST_DAY = datetime(2024, 3, 1)
DAYS = 60

# (account, plan, users, seats, segment). acct_c is internal, so the population filter of the
# health score leaves it out.
ACCOUNTS = [
    ("acct_a", "pro", ["alice", "amir"], 12, "enterprise"),
    ("acct_b", "basic", ["bob", "bea", "bruno"], 3, "smb"),
    ("acct_c", "internal", ["carla"], 1, "internal"),
]
EVENT_COLUMNS = ("account_id", "user_id", "event_ts", "event_type", "area", "order_id", "amount", "plan")


def _event_rows() -> list[tuple]:
    """Return deterministic event rows over DAYS days: views, searches, carts, checkouts, reviews."""
    rows = []
    order = 0
    for account_index, (account, plan, users, _, _) in enumerate(ACCOUNTS):
        for user_index, user in enumerate(users):
            for day in range(DAYS):
                # Each user is active on a different subset of days, and stops for a while.
                if (day + user_index + account_index) % (2 + user_index) != 0 or 25 <= day < 32 + user_index:
                    continue
                stamp = FIRST_DAY + timedelta(days=day, hours=8 + 3 * user_index, minutes=17)
                rows.append((account, user, stamp, "view", "catalog", None, None, plan))
                if day % 3 == 0:
                    rows.append((account, user, stamp + timedelta(minutes=5), "search", "search", None, None, plan))
                if (day + user_index) % 4 == 0:
                    order += 1
                    amount = 10.0 + 7 * ((day + user_index) % 9)
                    rows.append((account, user, stamp + timedelta(minutes=9), "add_to_cart", "cart",
                                 f"o{order}", amount, plan))
                    rows.append((account, user, stamp + timedelta(minutes=12), "checkout", "cart",
                                 f"o{order}", amount, plan))
                if user_index == 0 and day % 5 == 0:
                    rows.append((account, user, stamp + timedelta(minutes=30), "review", "reviews",
                                 f"o{order}", None, plan))
    # A late-evening event in UTC that is on the next calendar day in Europe/Berlin.
    rows.append(("acct_a", "alice", FIRST_DAY + timedelta(days=DAYS - 2, hours=23, minutes=30), "view",
                 "catalog", None, None, "pro"))
    return rows


def create_raw_tables(database: Path) -> None:
    """Create and fill raw.events, raw.accounts and raw.nps in a DuckDB file."""
    connection = duckdb.connect(str(database))
    try:
        connection.execute("CREATE SCHEMA raw")
        connection.execute(
            "CREATE TABLE raw.events (account_id VARCHAR, user_id VARCHAR, event_ts TIMESTAMP, "
            "event_type VARCHAR, area VARCHAR, order_id VARCHAR, amount DOUBLE, plan VARCHAR)")
        # One INSERT from an Arrow table, because executemany inserts one row at a time and is slow.
        events = pyarrow.Table.from_pylist([dict(zip(EVENT_COLUMNS, row)) for row in _event_rows()])
        connection.register("event_rows", events)
        connection.execute(f"INSERT INTO raw.events SELECT {', '.join(EVENT_COLUMNS)} FROM event_rows")
        connection.unregister("event_rows")
        connection.execute("CREATE TABLE raw.accounts (account_id VARCHAR, seats DOUBLE, segment VARCHAR)")
        connection.executemany("INSERT INTO raw.accounts VALUES (?, ?, ?)",
                               [(account, seats, segment) for account, _, _, seats, segment in ACCOUNTS])
        connection.execute("CREATE TABLE raw.nps (account_id VARCHAR, responded_at TIMESTAMPTZ, score DOUBLE)")
        connection.executemany("INSERT INTO raw.nps VALUES (?, ?, ?)", [
            ("acct_a", (FIRST_DAY + timedelta(days=10, hours=9)).replace(tzinfo=timezone.utc), 9.0),
            ("acct_a", (FIRST_DAY + timedelta(days=40, hours=9)).replace(tzinfo=timezone.utc), 7.0),
            ("acct_b", (FIRST_DAY + timedelta(days=20, hours=15)).replace(tzinfo=timezone.utc), 4.0),
        ])
    finally:
        connection.close()


@pytest.fixture
def shop_project(tmp_path: Path) -> Path:
    """Return a fresh copy of the fixture project, without a database."""
    destination = tmp_path / "shop"
    shutil.copytree(SHOP, destination)
    return destination


@pytest.fixture
def shop_with_data(shop_project: Path) -> Path:
    """Return a copy of the fixture project whose DuckDB file contains the raw tables."""
    create_raw_tables(shop_project / SHOP_DATABASE)
    return shop_project


@dataclass(frozen=True)
class Result:
    """Exit code and output of one run of the command line."""

    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Return a function that runs the command line in process with arguments, in a working directory."""
    from healthlayer import cli

    def invoke(*args: str, cwd: Path | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["healthlayer", *args])
        with pytest.raises(SystemExit) as exited:
            cli.main()
        out, err = capsys.readouterr()
        return Result(exited.value.code, out, err)
    return invoke
