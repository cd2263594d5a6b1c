"""Hand-computed cases for account metrics, scoring functions, missing policies, coverage and bands."""

import pytest

from .builders import EVENT_SOURCE, day, definitions, event
from .health import band_of, combine_scores, trend_value
from .project import ReferenceProject
from .scoring import linear_score, percentile_scores, steps_score


def metric_values(aggregate, value=None, offsets=range(0, 7)):
    definition = {"name": "m", "source": "events", "aggregate": aggregate, "filter": "event_type = 'commit'", "window": 3}
    if value is not None:
        definition["value"] = value
    rows = [
        event(0, "u1", "a1", "commit", amount=1, commit_key="k1"),
        event(1, "u2", "a1", "commit", amount=None, commit_key="k1"),
        event(1, "u2", "a1", "view", amount=100, commit_key="k9"),
        event(1, None, "a1", "commit", amount=100, commit_key="k9"),
        event(5, "u1", "a1", "commit", amount=3, commit_key="k2"),
        event(6, "u1", "a1", "commit", amount=-2, commit_key="k2"),
    ]
    project = ReferenceProject(definitions(account_metrics=[definition]), {"events": rows})
    metric = project.account_metrics()["m"]
    return [metric.value("a1", day(offset).toordinal()) for offset in offsets]


def test_metric_count():
    assert metric_values("count") == [1, 2, 2, 1, 0, 1, 2]


def test_metric_count_distinct():
    assert metric_values("count_distinct", "commit_key") == [1, 1, 1, 1, 0, 1, 1]


def test_metric_sum():
    assert metric_values("sum", "amount") == [1, 1, 1, 0, 0, 3, 1]


def test_metric_avg_min_max():
    assert metric_values("avg", "amount") == [1.0, 1.0, 1.0, None, None, 3.0, 0.5]
    assert metric_values("min", "amount") == [1, 1, 1, None, None, 3, -2]
    assert metric_values("max", "amount") == [1, 1, 1, None, None, 3, 3]


def test_metric_value_expression():
    assert metric_values("sum", "amount * 10") == [10, 10, 10, 0, 0, 30, 10]


def test_metric_decimal_values_become_floats():
    # 0.5 is a DECIMAL literal, and the rows mix it with the amounts (1, 3 and -2).
    values = metric_values("max", "case when amount > 2 then 0.5 else amount end")
    assert values == [1, 1, 1, None, None, 0.5, 0.5]
    assert type(values[5]) is float


def test_metric_unknown_account():
    assert metric_values("count")[0] == 1
    project = ReferenceProject(
        definitions(account_metrics=[{"name": "m", "source": "events", "aggregate": "max", "value": "amount", "window": 3}]),
        {"events": [event(0, "u1", "a1", "commit", amount=1)]},
    )
    assert project.account_metrics()["m"].value("a2", day(0).toordinal()) is None


@pytest.mark.parametrize(
    ("value", "higher_is_better", "expected"),
    [(0.15, True, 50.0), (0.6, True, 100.0), (-1, True, 0.0), (0.075, False, 75.0), (0.3, False, 0.0)],
)
def test_linear_score(value, higher_is_better, expected):
    assert linear_score(value, 0, 0.3, higher_is_better) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("value", "expected"), [(-0.6, 0.0), (-0.5, 25.0), (-0.01, 25.0), (0, 60.0), (0.3, 100.0)])
def test_steps_score(value, expected):
    steps = [{"min": 0, "score": 60}, {"min": -0.5, "score": 25}, {"min": 0.25, "score": 100}]
    assert steps_score(value, steps) == expected


def test_percentile_ties_share_lowest_rank():
    scores = percentile_scores({"a": 1, "b": 2, "c": 2, "d": 5})
    assert scores == {"a": 0.0, "b": 100 / 3, "c": 100 / 3, "d": 100.0}
    reversed_scores = percentile_scores({"a": 1, "b": 2, "c": 2, "d": 5}, higher_is_better=False)
    assert reversed_scores == {"a": 100.0, "b": 100 - 100 / 3, "c": 100 - 100 / 3, "d": 0.0}


def test_percentile_single_value():
    assert percentile_scores({"a": 7}) == {"a": 50.0}
    assert percentile_scores({"a": 7}, higher_is_better=False) == {"a": 50.0}
    assert percentile_scores({"a": 7, "b": 7}) == {"a": 0.0, "b": 0.0}


@pytest.mark.parametrize(
    ("score", "band"), [(69.99, "yellow"), (70, "green"), (100, "green"), (39.999, "red"), (40, "yellow"), (0, "red")]
)
def test_default_bands(score, band):
    bands = [{"name": "green", "min": 70}, {"name": "yellow", "min": 40}, {"name": "red", "min": 0}]
    assert band_of(score, bands) == band


def test_no_score_no_band():
    assert band_of(None, [{"name": "red", "min": 0}]) is None


def test_bands_need_zero_minimum():
    with pytest.raises(ValueError):
        band_of(50, [{"name": "green", "min": 10}])


def test_trend_values():
    assert trend_value(10, 8, "relative") == 0.25
    # A relative change divides by the absolute base value, so a rise from -10 to -5 is +0.5.
    assert trend_value(-5, -10, "relative") == 0.5
    assert trend_value(-15, -10, "relative") == -0.5
    assert trend_value(10, 0, "relative") is None
    assert trend_value(10, 0, "difference") == 10
    assert trend_value(None, 3, "difference") is None
    assert trend_value(3, None, "relative") is None


CATEGORIES = [
    {
        "name": "c1",
        "weight": 40,
        "components": [{"name": "x", "weight": 60, "missing": "zero"}, {"name": "y", "weight": 40}],
    },
    {"name": "c2", "weight": 60, "components": [{"name": "z", "weight": 100, "missing": {"impute": 50}}]},
]


def combine(x, y, z, categories=CATEGORIES, default_missing="renormalize"):
    return combine_scores(categories, {"c1": {"x": x, "y": y}, "c2": {"z": z}}, default_missing)


def test_zero_policy_keeps_weight():
    categories, health, coverage = combine(None, 80.0, 30.0)
    assert categories == {"c1": 32.0, "c2": 30.0}
    assert health == pytest.approx(30.8, rel=1e-12)
    assert coverage == pytest.approx(0.76, rel=1e-12)


def test_renormalize_and_impute():
    categories, health, coverage = combine(50.0, None, None)
    # c2 has only an imputed component, so it has no data and no score.
    assert categories == {"c1": 50.0, "c2": None}
    assert health == 50.0
    assert coverage == pytest.approx(0.24, rel=1e-12)


def test_coverage_zero_no_score():
    categories, health, coverage = combine(None, None, None)
    assert categories == {"c1": None, "c2": None}
    assert health is None
    assert coverage == 0.0


def test_category_without_data_follows_policy():
    # x has data in c1. c2's only component is imputed, so c2 has no score and its policy applies.
    categories = [CATEGORIES[0], {**CATEGORIES[1], "missing": "zero"}]
    scores, health, coverage = combine(50.0, None, None, categories)
    assert scores == {"c1": 50.0, "c2": None}
    assert health == pytest.approx(0.4 * 50, rel=1e-12)
    assert coverage == pytest.approx(0.24, rel=1e-12)


def test_category_without_score():
    categories = [
        {"name": "c1", "weight": 40, "components": [{"name": "x", "weight": 60}, {"name": "y", "weight": 40}]},
        CATEGORIES[1],
    ]
    scores, health, coverage = combine(None, None, 20.0, categories)
    assert scores == {"c1": None, "c2": 20.0}
    assert health == 20.0
    assert coverage == pytest.approx(0.6, rel=1e-12)

    categories[0]["missing"] = "zero"
    scores, health, _ = combine(None, None, 20.0, categories)
    assert health == pytest.approx(12.0, rel=1e-12)

    del categories[0]["missing"]
    scores, health, _ = combine(None, None, 20.0, categories, default_missing={"impute": 80})
    assert health == pytest.approx(0.4 * 80 + 0.6 * 20, rel=1e-12)


def health_project(rows, components, **extra):
    metrics = [
        {"name": "commits_3d", "source": "events", "aggregate": "count", "filter": "event_type = 'commit'", "window": 3},
    ]
    score = {
        "name": "health",
        "population": {"source": "events", "filter": "area = 'org'"},
        "categories": [{"name": "c", "weight": 100, "components": components}],
        **extra,
    }
    return ReferenceProject(
        definitions(
            account_metrics=metrics,
            stickiness=[{"name": "s_by_account", "level": "any", "by": ["account"]}],
            health_scores=[score],
        ),
        {"events": rows},
    )


def test_health_population_and_rows():
    rows = [
        event(0, "u1", "a1", "view"),
        event(1, "u1", "a1", "commit", area="org"),
        event(1, "u2", "a2", "commit"),
        event(2, "u3", "a3", "commit", area="org"),
    ]
    components = [{"name": "commits", "weight": 100, "metric": "commits_3d", "score": {"function": "percentile"}}]
    health = health_project(rows, components).view("health")
    keys = [(row["as_of_date"], row["account_id"]) for row in health]
    assert sorted(keys) == [(day(0), "a1"), (day(1), "a1"), (day(2), "a1"), (day(2), "a3")]
    by_key = {(row["as_of_date"], row["account_id"]): row for row in health}
    # a1 has 0 commits on day 0, the only value of the day, so it ranks 50.
    assert by_key[(day(0), "a1")]["health_score"] == 50.0
    assert by_key[(day(0), "a1")]["band"] == "yellow"
    # On day 2 both accounts have 1 commit: tied at rank 1 of 2, both score 0, which has data.
    assert by_key[(day(2), "a1")]["c_score"] == 0.0
    assert by_key[(day(2), "a3")]["c_score"] == 0.0
    assert (by_key[(day(2), "a3")]["band"], by_key[(day(2), "a3")]["coverage"]) == ("red", 1.0)
    assert set(by_key[(day(2), "a3")]) == {"as_of_date", "account_id", "c_score", "health_score", "band", "coverage"}


def test_health_trend_and_view_metric():
    rows = [event(0, "u1", "a1", "commit", area="org"), event(1, "u1", "a1", "commit"), event(4, "u2", "a1", "view")]
    components = [
        {
            "name": "trend",
            "weight": 50,
            "trend": {"metric": "commits_3d", "days": 1, "change": "difference"},
            "score": {"function": "linear", "lower": -2, "upper": 2},
        },
        {
            "name": "stickiness",
            "weight": 50,
            "metric": "s_by_account.dau_mau",
            "score": {"function": "linear", "lower": 0, "upper": 1},
        },
    ]
    health = {row["as_of_date"]: row for row in health_project(rows, components).view("health")}
    # Day 0: the trend's base day is before the data, so only stickiness (1/1) scores.
    assert (health[day(0)]["health_score"], health[day(0)]["coverage"]) == (100.0, 0.5)
    # Day 1: commits go 1 -> 2, a change of +1 scored 75, and dau_mau is 1.
    assert health[day(1)]["health_score"] == 87.5
    # Day 3: commits go 2 -> 1, a change of -1 scored 25, and dau_mau is 0 / 1.
    assert health[day(3)]["health_score"] == 12.5
    assert health[day(3)]["band"] == "red"
    assert health[day(4)]["coverage"] == 1.0


def test_health_attribute_component():
    rows = [event(0, "u1", "a1", "commit", area="org"), event(0, "u2", "a2", "commit", area="org")]
    attributes = [{"account_id": "a1", "seats": 30}, {"account_id": "a2", "seats": None}]
    definition = definitions(
        health_scores=[
            {
                "name": "health",
                "population": {"source": "events"},
                "categories": [
                    {
                        "name": "c",
                        "weight": 100,
                        "components": [
                            {
                                "name": "seats",
                                "weight": 100,
                                "attribute": "accounts.seats",
                                "score": {"function": "linear", "lower": 0, "upper": 40},
                            }
                        ],
                    }
                ],
            }
        ]
    )
    definition["sources"] = [EVENT_SOURCE, {"name": "accounts", "account": "account_id", "columns": {"seats": "number"}}]
    project = ReferenceProject(definition, {"events": rows, "accounts": attributes})
    health = {row["account_id"]: row for row in project.view("health")}
    assert (health["a1"]["health_score"], health["a1"]["band"], health["a1"]["coverage"]) == (75.0, "green", 1.0)
    assert (health["a2"]["health_score"], health["a2"]["band"], health["a2"]["coverage"]) == (None, None, 0.0)


def test_trend_base_before_first_event():
    rows = [event(0, "u9", "a9", "view"), event(2, "u1", "a1", "commit", area="org")]
    components = [
        {
            "name": "trend",
            "weight": 100,
            "trend": {"metric": "commits_3d", "days": 1, "change": "difference"},
            "score": {"function": "linear", "lower": -2, "upper": 2},
        }
    ]
    project = health_project(rows, components)
    # On day 2, a1's base day 1 is before its first event, where the 3-day count is 0.
    health = {row["account_id"]: row for row in project.view("health")}
    assert (health["a1"]["health_score"], health["a1"]["coverage"]) == (75.0, 1.0)

    project = health_project(rows, components)
    project.trend_base_before_first_event = "null"
    health = {row["account_id"]: row for row in project.view("health")}
    assert (health["a1"]["health_score"], health["a1"]["coverage"]) == (None, 0.0)
