"""Hand-computed cases for stickiness, tiers, transitions, drop alerts and the tier mix."""

from datetime import datetime

from .builders import day, definitions, event
from .project import ReferenceProject
from .stickiness import ratio

TIERS_WITH_THRESHOLDS = [
    {"name": "passive", "events": ["view"]},
    {"name": "active", "events": ["commit"], "min_events": 2},
    {"name": "power", "events": ["merge"], "min_events": 2},
]


def rows_by_day(rows, date_column="activity_date"):
    return {row[date_column]: row for row in rows}


def tiers_of(project, account, user):
    return {
        row["activity_date"]: row["tier"]
        for row in project.view("engagement_tiers_daily")
        if (row["account_id"], row["user_id"]) == (account, user)
    }


def transitions_of(project, account, user):
    return [
        (row["transition_date"], row["from_tier"], row["to_tier"], row["is_complete"])
        for row in project.view("tier_transitions")
        if (row["account_id"], row["user_id"]) == (account, user)
    ]


STICKINESS_EVENTS = [
    event(0, "u1", "a1", "view"),
    event(5, "u1", "a1", "view"),
    event(10, "u2", "a2", "view"),
    event(10, "u3", None, "view"),
    event(40, "u2", "a2", "view"),
]


def stickiness_project(**definition):
    views = [{"name": "s", "level": "any", **definition},
             {"name": "s_by_account", "level": "any", "by": ["account"], **definition}]
    return ReferenceProject(definitions(stickiness=views), {"events": STICKINESS_EVENTS})


def test_stickiness_global_counts():
    rows = rows_by_day(stickiness_project().view("s"))
    assert len(rows) == 41
    assert (rows[day(10)]["dau"], rows[day(10)]["wau"], rows[day(10)]["mau"]) == (2, 3, 3)
    assert rows[day(10)]["dau_mau"] == 2 / 3
    assert (rows[day(40)]["dau"], rows[day(40)]["wau"], rows[day(40)]["mau"]) == (1, 1, 1)
    assert (rows[day(39)]["dau"], rows[day(39)]["wau"], rows[day(39)]["mau"]) == (0, 0, 2)
    assert rows[day(39)]["dau_mau"] == 0.0
    assert rows[day(39)]["dau_wau"] is None
    assert rows[day(39)]["wau_mau"] == 0.0


def test_stickiness_completeness():
    rows = rows_by_day(stickiness_project().view("s"))
    assert rows[day(28)]["is_complete"] is False
    assert rows[day(29)]["is_complete"] is True


def test_stickiness_by_account_rows():
    rows = stickiness_project().view("s_by_account")
    a1 = rows_by_day(row for row in rows if row["account_id"] == "a1")
    a2 = rows_by_day(row for row in rows if row["account_id"] == "a2")
    assert {row["account_id"] for row in rows} == {"a1", "a2"}
    assert sorted(a1) == [day(offset) for offset in range(0, 41)]
    assert sorted(a2) == [day(offset) for offset in range(10, 41)]
    assert (a1[day(36)]["mau"], a1[day(36)]["dau_mau"]) == (0, None)
    assert (a1[day(34)]["mau"], a1[day(34)]["wau"]) == (1, 0)


def test_stickiness_custom_windows():
    project = stickiness_project(windows={"d1": 1, "d3": "3 days", "w2": "2 weeks"}, ratios=["d1_d3", "d3_w2"])
    row = rows_by_day(project.view("s"))[day(10)]
    assert set(row) == {"activity_date", "d1", "d3", "w2", "d1_d3", "d3_w2", "is_complete"}
    assert (row["d1"], row["d3"], row["w2"]) == (2, 2, 3)
    assert row["d3_w2"] == 2 / 3
    # The maximum window on the row is 14 days.
    assert rows_by_day(project.view("s"))[day(13)]["is_complete"] is True


def test_stickiness_min_denominator():
    rows = rows_by_day(stickiness_project(min_denominator=3).view("s"))
    assert rows[day(10)]["dau_mau"] == 2 / 3
    assert rows[day(39)]["dau_mau"] is None


def test_ratio_zero_denominator():
    assert ratio(0, 0) is None
    assert ratio(1, 2, min_denominator=3) is None
    assert ratio(0, 5) == 0.0


def test_stickiness_level_rows_start_any_event():
    rows = [event(0, "u1", "a1", "view"), event(3, "u1", "a1", "commit")]
    project = ReferenceProject(
        definitions(stickiness=[{"name": "s", "level": "active", "by": ["account"]}]), {"events": rows}
    )
    view = project.view("s")
    assert [row["dau"] for row in view] == [0, 0, 0, 1]


def test_stickiness_level_counts_higher_tiers():
    rows = [event(0, "u1", "a1", "merge"), event(0, "u2", "a1", "view"), event(0, "u3", "a1", None)]
    project = ReferenceProject(
        definitions(stickiness=[{"name": "active", "level": "active"}, {"name": "any", "level": "any"}]),
        {"events": rows},
    )
    assert project.view("active")[0]["dau"] == 1
    assert project.view("any")[0]["dau"] == 3


def test_stickiness_duplicates_change_nothing():
    rows = [event(0, "u1", "a1", "view")] * 3 + [event(1, "u1", "a1", "view")]
    project = ReferenceProject(definitions(stickiness=[{"name": "s", "level": "any"}]), {"events": rows})
    assert [(row["dau"], row["mau"]) for row in project.view("s")] == [(1, 1), (1, 1)]


def test_tiers_window_and_transitions():
    rows = [
        event(0, "u1", "a1", "view"),
        event(2, "u1", "a1", "commit"),
        event(3, "u1", "a1", "commit"),
        event(20, "u9", "a9", "view"),
    ]
    project = ReferenceProject(definitions(), {"events": rows})
    expected = {day(0): "passive", day(1): "passive"} | {day(offset): "active" for offset in range(2, 10)}
    assert tiers_of(project, "a1", "u1") == expected
    completeness = {row["activity_date"]: row["is_complete"] for row in project.view("engagement_tiers_daily")}
    assert completeness[day(5)] is False
    assert completeness[day(6)] is True
    assert transitions_of(project, "a1", "u1") == [
        (day(0), "inactive", "passive", False),
        (day(2), "passive", "active", False),
        (day(10), "active", "inactive", True),
    ]
    # Day 27, when u9's window empties, is after the last day of data.
    assert transitions_of(project, "a9", "u9") == [(day(20), "inactive", "passive", True)]


def test_higher_tier_counts_for_lower_rules():
    rows = [event(0, "u1", "a1", "commit"), event(1, "u1", "a1", "merge")]
    project = ReferenceProject(definitions(TIERS_WITH_THRESHOLDS), {"events": rows})
    assert tiers_of(project, "a1", "u1")[day(0)] == "passive"
    assert tiers_of(project, "a1", "u1")[day(1)] == "active"


def test_min_events_counts_duplicates():
    rows = [event(0, "u1", "a1", "merge")] * 2
    project = ReferenceProject(definitions(TIERS_WITH_THRESHOLDS), {"events": rows})
    assert tiers_of(project, "a1", "u1")[day(0)] == "power"


def test_min_distinct():
    tiers = [
        {"name": "passive", "events": ["view"]},
        {"name": "active", "events": ["commit"]},
        {"name": "power", "events": ["merge"], "min_distinct": {"column": "commit_key", "count": 2}},
    ]
    rows = [
        event(0, "u1", "a1", "merge", commit_key="k1"),
        event(1, "u1", "a1", "merge", commit_key="k1"),
        event(2, "u1", "a1", "merge", commit_key=None),
        event(3, "u1", "a1", "merge", commit_key="k2"),
        event(8, "u9", "a9", "view"),
    ]
    project = ReferenceProject(definitions(tiers), {"events": rows})
    tiers_by_day = tiers_of(project, "a1", "u1")
    assert [tiers_by_day[day(offset)] for offset in range(0, 9)] == ["active"] * 3 + ["power"] * 5 + ["active"]
    assert transitions_of(project, "a1", "u1") == [
        (day(0), "inactive", "active", False),
        (day(3), "active", "power", False),
        (day(8), "power", "active", True),
    ]


def test_tiers_per_account_user_pair():
    rows = [event(0, "u1", "a1", "commit"), event(0, "u1", "a2", "view"), event(0, "u1", None, "merge")]
    project = ReferenceProject(definitions(), {"events": rows})
    assert tiers_of(project, "a1", "u1") == {day(0): "active"}
    assert tiers_of(project, "a2", "u1") == {day(0): "passive"}
    assert len(project.view("engagement_tiers_daily")) == 2


def test_null_event_name_has_no_tier():
    tiers = [{"name": "passive", "events": "*"}]
    rows = [event(0, "u1", "a1", None)]
    project = ReferenceProject(definitions(tiers), {"events": rows})
    assert project.view("engagement_tiers_daily") == []
    assert project.view("tier_transitions") == []


ALERT_RULE = {"name": "power_user_drop", "type": "tier_drop", "from": "power", "to": "passive", "respond_within": "48 hours"}


def alert_project(time_zone="UTC"):
    rows = [
        event(0, "u1", "a1", "merge"),
        event(1, "u1", "a1", "view"),
        event(2, "u1", "a1", "merge"),
        event(3, "u1", "a1", "commit"),
        event(4, "u1", "a1", "merge"),
        event(6, "u9", "a9", "view"),
    ]
    return ReferenceProject(definitions(tier_window=1, time_zone=time_zone, alerts=[ALERT_RULE]), {"events": rows})


def test_tier_drop_alerts():
    project = alert_project()
    assert [(row[0], row[1], row[2]) for row in transitions_of(project, "a1", "u1")] == [
        (day(0), "inactive", "power"),
        (day(1), "power", "passive"),
        (day(2), "passive", "power"),
        (day(3), "power", "active"),
        (day(4), "active", "power"),
        (day(5), "power", "inactive"),
    ]
    alerts = project.view("alerts")
    assert [(row["detected_date"], row["respond_by"]) for row in alerts] == [
        (day(1), datetime(2024, 1, 5)),
        (day(5), datetime(2024, 1, 9)),
    ]
    assert {(row["alert_type"], row["rule"], row["account_id"], row["user_id"]) for row in alerts} == {
        ("tier_drop", "power_user_drop", "a1", "u1")
    }


def test_respond_by_across_dst():
    rows = [event(0, "u1", "a1", "merge"), event(3, "u9", "a9", "view")]
    # 2024-10-25 12:00 and 2024-10-28 12:00 in Berlin.
    rows[0]["event_ts"] = datetime.fromisoformat("2024-10-25T10:00:00+00:00")
    rows[1]["event_ts"] = datetime.fromisoformat("2024-10-28T11:00:00+00:00")
    project = ReferenceProject(
        definitions(tier_window=1, time_zone="Europe/Berlin", alerts=[ALERT_RULE]), {"events": rows}
    )
    alerts = project.view("alerts")
    assert [(row["detected_date"].isoformat(), row["respond_by"]) for row in alerts] == [
        ("2024-10-26", datetime(2024, 10, 29))
    ]


MIX_EVENTS = [
    event(0, "u1", "a1", "commit"),
    event(1, "u2", "a1", "view"),
    event(2, "u3", "a1", "other"),
    event(2, "u4", "a1", None),
    event(3, "u5", "a1", "merge"),
    event(33, "u9", "a9", "view"),
]


def mix_project(tiers=None):
    mix = {"name": "mix", "by": ["account"], "window": "30 days", "target": {"tier": "active", "min_share": 0.4}}
    return ReferenceProject(definitions(tiers, tier_mix=[mix]), {"events": MIX_EVENTS})


def test_tier_mix_counts():
    rows = rows_by_day(row for row in mix_project().view("mix") if row["account_id"] == "a1")
    assert rows[day(3)] == {
        "activity_date": day(3),
        "account_id": "a1",
        "mau": 5,
        "passive_users": 1,
        "passive_share": 0.6,
        "active_users": 1,
        "active_share": 0.4,
        "power_users": 1,
        "power_share": 0.2,
        "meets_target": True,
        "is_complete": False,
    }
    assert (rows[day(0)]["mau"], rows[day(0)]["passive_share"], rows[day(0)]["power_share"]) == (1, 1.0, 0.0)
    assert (rows[day(30)]["mau"], rows[day(30)]["active_share"], rows[day(30)]["meets_target"]) == (4, 0.25, False)
    assert (rows[day(33)]["mau"], rows[day(33)]["active_share"], rows[day(33)]["meets_target"]) == (0, None, None)
    assert rows[day(29)]["is_complete"] is True


def test_tier_mix_thresholds():
    rows = rows_by_day(row for row in mix_project(TIERS_WITH_THRESHOLDS).view("mix") if row["account_id"] == "a1")
    # u1's single commit and u5's single merge miss the 2-event rules of active and power, but
    # both count for the passive rule, so u1, u2 and u5 are passive.
    assert (rows[day(3)]["passive_users"], rows[day(3)]["active_users"], rows[day(3)]["power_users"]) == (3, 0, 0)
    assert rows[day(3)]["passive_share"] == 0.6


def test_tier_mix_global_view():
    mix = {"name": "mix_global"}
    rows = [event(0, "u1", "a1", "view"), event(0, "u1", None, "view"), event(0, "u2", None, "commit")]
    tiers = [{"name": "passive", "events": ["view"], "min_events": 2}, {"name": "active", "events": ["commit"]}]
    project = ReferenceProject(definitions(tiers, tier_mix=[mix]), {"events": rows})
    row = project.view("mix_global")[0]
    assert set(row) == {
        "activity_date", "mau", "passive_users", "passive_share", "active_users", "active_share", "is_complete"
    }
    assert (row["mau"], row["passive_users"], row["active_users"]) == (2, 1, 1)


def test_empty_event_table():
    project = ReferenceProject(
        definitions(stickiness=[{"name": "s", "level": "any"}], tier_mix=[{"name": "mix", "by": ["account"]}], alerts=[ALERT_RULE]),
        {"events": []},
    )
    for name in project.view_names():
        assert project.view(name) == [], name


def test_transition_completeness():
    rows = [event(0, "u9", "a9", "view"), event(6, "u1", "a1", "view"), event(7, "u2", "a1", "view")]
    project = ReferenceProject(definitions(), {"events": rows})
    # The old tier of a transition on day 6 comes from the window of days -1 … 5.
    assert transitions_of(project, "a1", "u1") == [(day(6), "inactive", "passive", False)]
    assert transitions_of(project, "a1", "u2") == [(day(7), "inactive", "passive", True)]


def test_stickiness_by_declared_column():
    rows = [
        event(0, "u1", "a1", "view", area="lib"),
        event(1, "u2", None, "view", area="lib"),
        event(1, "u3", "a1", "view", area=None),
        event(2, "u1", "a2", "view", area="app"),
    ]
    project = ReferenceProject(definitions(stickiness=[{"name": "s", "level": "any", "by": ["area"]}]), {"events": rows})
    view = project.view("s")
    assert {row["area"] for row in view} == {"lib", "app"}
    lib = rows_by_day(row for row in view if row["area"] == "lib")
    assert [lib[day(offset)]["mau"] for offset in range(3)] == [1, 2, 2]
    assert [row["activity_date"] for row in view if row["area"] == "app"] == [day(2)]


def test_rows_have_view_columns():
    rows = [event(0, "u1", "a1", "merge", area="lib"), event(3, "u2", "a2", "view"), event(9, "u1", "a1", "view")]
    project = ReferenceProject(
        definitions(
            stickiness=[{"name": "s"}, {"name": "s_area", "by": ["area"], "windows": {"d2": 2}, "ratios": []}],
            tier_mix=[{"name": "mix", "by": ["account"], "target": {"tier": "power", "min_share": 0.1}}, {"name": "g"}],
            alerts=[ALERT_RULE],
        ),
        {"events": rows},
    )
    for name in project.view_names():
        view = project.view(name)
        assert view, name
        for row in view:
            assert list(row) == project.view_columns(name), name
