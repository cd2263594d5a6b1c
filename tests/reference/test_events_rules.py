"""Hand-computed cases for days, NULL handling, event classes and filter expressions."""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from .builders import definitions, event
from .durations import parse_response_time, parse_window_days
from .events import classify_event, local_day, parse_tiers
from .expressions import compile_expression, compile_filter
from .project import ReferenceProject

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("timestamp", "zone", "expected"),
    [
        (datetime(2024, 3, 30, 23, 30), ZoneInfo("UTC"), date(2024, 3, 30)),  # naive is UTC
        (datetime(2024, 3, 30, 23, 30), BERLIN, date(2024, 3, 31)),  # naive UTC, then converted
        (utc(2024, 3, 30, 22, 59), BERLIN, date(2024, 3, 30)),  # 23:59 CET
        (utc(2024, 3, 30, 23, 0), BERLIN, date(2024, 3, 31)),  # 00:00 CET, the 23-hour day
        (utc(2024, 3, 31, 21, 59), BERLIN, date(2024, 3, 31)),  # 23:59 CEST
        (utc(2024, 3, 31, 22, 0), BERLIN, date(2024, 4, 1)),
        (utc(2024, 10, 26, 22, 0), BERLIN, date(2024, 10, 27)),  # 00:00 CEST, the 25-hour day
        (utc(2024, 10, 27, 22, 59), BERLIN, date(2024, 10, 27)),  # 23:59 CET
        (utc(2024, 10, 27, 23, 0), BERLIN, date(2024, 10, 28)),
        (utc(2024, 3, 10, 4, 30), NEW_YORK, date(2024, 3, 9)),  # 23:30 EST
        (utc(2024, 3, 10, 7, 30), NEW_YORK, date(2024, 3, 10)),  # 03:30 EDT
        (datetime(2024, 3, 10, 2, 0, tzinfo=ZoneInfo("Asia/Tokyo")), NEW_YORK, date(2024, 3, 9)),
    ],
)
def test_local_day(timestamp, zone, expected):
    assert local_day(timestamp, zone) == expected


def test_dst_days_count_once():
    # Both events fall on the 25-hour 2024-10-27 in Berlin, 24 hours and 30 minutes apart.
    rows = [event(0, "u1", "a1", "view"), event(0, "u1", "a1", "view")]
    rows[0]["event_ts"] = utc(2024, 10, 26, 22, 15)
    rows[1]["event_ts"] = utc(2024, 10, 27, 22, 45)
    project = ReferenceProject(
        definitions(time_zone="Europe/Berlin", stickiness=[{"name": "s", "level": "any"}]),
        {"events": rows},
    )
    stickiness = project.view("s")
    assert [row["activity_date"] for row in stickiness] == [date(2024, 10, 27)]
    assert stickiness[0]["dau"] == 1


def test_null_user_and_timestamp_ignored():
    rows = [event(0, None, "a1", "view"), event(3, "u1", "a1", "view"), event(5, "u2", "a1", "view")]
    rows[2]["event_ts"] = None
    project = ReferenceProject(definitions(stickiness=[{"name": "s", "level": "any"}]), {"events": rows})
    stickiness = project.view("s")
    assert [row["activity_date"] for row in stickiness] == [date(2024, 1, 4)]
    assert stickiness[0]["dau"] == 1


def test_null_account_global_only():
    rows = [event(0, "u1", None, "view"), event(1, "u2", "a1", "view")]
    project = ReferenceProject(
        definitions(stickiness=[{"name": "s", "level": "any"}, {"name": "s_by_account", "level": "any", "by": ["account"]}]),
        {"events": rows},
    )
    assert [row["dau"] for row in project.view("s")] == [1, 1]
    assert [row["mau"] for row in project.view("s")] == [1, 2]
    assert [(row["account_id"], row["mau"]) for row in project.view("s_by_account")] == [("a1", 1)]
    assert project.view("engagement_tiers_daily")[0]["account_id"] == "a1"
    assert len(project.view("engagement_tiers_daily")) == 1


def test_data_range_includes_null_accounts():
    rows = [event(0, "u1", None, "view"), event(2, "u2", "a1", "view")]
    project = ReferenceProject(definitions(), {"events": rows})
    tiers = project.view("engagement_tiers_daily")
    assert [row["is_complete"] for row in tiers] == [False]
    # The first day of data is day 0, from the event without an account.
    assert project.view("tier_transitions")[0]["is_complete"] is False


def test_event_in_highest_class():
    tiers = parse_tiers(
        {
            "tiers": [
                {"name": "passive", "events": "*"},
                {"name": "active", "events": ["commit", "merge"]},
                {"name": "power", "events": ["merge"], "filter": "area is not null"},
            ]
        }
    )
    assert classify_event({"area": "lib"}, "merge", tiers) == 2
    assert classify_event({"area": None}, "merge", tiers) == 1
    assert classify_event({"area": None}, "commit", tiers) == 1
    assert classify_event({"area": None}, "anything", tiers) == 0
    assert classify_event({"area": "lib"}, None, tiers) is None


def test_filter_only_class():
    tiers = parse_tiers({"tiers": [{"name": "passive", "filter": "amount > 2"}]})
    assert classify_event({"amount": 3}, "x", tiers) == 0
    assert classify_event({"amount": 2}, "x", tiers) is None
    assert classify_event({"amount": None}, "x", tiers) is None


def test_unclassified_event():
    tiers = parse_tiers({"tiers": [{"name": "passive", "events": ["view"]}]})
    assert classify_event({}, "commit", tiers) is None


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("event_type = 'commit'", {"event_type": "commit"}, True),
        ("event_type = 'commit'", {"event_type": None}, False),
        ("event_type in ('a', 'b')", {"event_type": "b"}, True),
        ("event_type in ('a', 'b')", {"event_type": None}, False),
        ("not (event_type in ('a', 'b'))", {"event_type": None}, False),
        ("area is not null", {"area": None}, False),
        ("area is null", {"area": None}, True),
        ("area is null or amount > 1", {"area": "x", "amount": None}, False),
        ("area is null or amount > 1", {"area": None, "amount": None}, True),
        ("amount between 1 and 2", {"amount": 2}, True),
        ("area like 'lib%'", {"area": "lib/eal"}, True),
        ("area like 'lib_'", {"area": "lib/eal"}, False),
    ],
)
def test_filter_three_valued(text, row, expected):
    assert compile_filter(text)(row) is expected


def test_value_expression():
    assert compile_expression("amount * 2 + 1")({"amount": 3}) == 7
    assert compile_expression("amount * 2 + 1")({"amount": None}) is None
    assert compile_expression("coalesce(amount, 0)")({"amount": None}) == 0


@pytest.mark.parametrize(
    ("text", "days"), [(7, 7), ("7 days", 7), ("1 day", 1), ("1 week", 7), ("4 weeks", 28), ("30 Days", 30)]
)
def test_window_lengths(text, days):
    assert parse_window_days(text) == days


@pytest.mark.parametrize("text", [0, "0 days", "7 hours", "week", True])
def test_window_lengths_invalid(text):
    with pytest.raises(ValueError):
        parse_window_days(text)


def test_response_times():
    assert parse_response_time("48 hours").total_seconds() == 48 * 3600
    assert parse_response_time("2 days").total_seconds() == 48 * 3600
    assert parse_response_time("1 week").days == 7
