"""`healthlayer backtest`: its statistics on hand-computed cases and random data, and end to end on examples/saas.

The end-to-end tests deploy a copy of examples/saas to a temporary DuckDB once per module. They
check the backtest against tests/reference/backtest.py, which works from the health view's rows
read with plain SQL, and against the renewal probabilities that examples/saas/generate.py plants.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import math
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import backtest as reference
from reference.parity import load_project_definitions
from sklearn.metrics import roc_auc_score

from healthlayer import api
from healthlayer import backtest_stats as stats
from healthlayer.backtest import BacktestRequest, BacktestResult, run_backtest, scored_query
from healthlayer.definitions import models
from healthlayer.compiler.render import render_select
from healthlayer.errors import HealthlayerError, UnsupportedError

REPOSITORY = Path(__file__).resolve().parents[1]
SAAS = REPOSITORY / "examples" / "saas"
SCORE = "account_health_daily"
DAY = datetime.date(2026, 3, 1)

# Extra renewal sources of the test copy of examples/saas, each a Parquet file in data/.
EXTRA_SOURCES = """
  - name: renewals_mixed
    file: data/renewals_mixed.parquet
    account: account_id
  - name: renewals_bad
    file: data/renewals_bad.parquet
    account: account_id
  - name: renewals_empty
    file: data/renewals_empty.parquet
    account: account_id
  - name: renewals_at
    file: data/renewals_at.parquet
    account: account_id
    columns: {renewal_date: timestamptz}
"""
UNKNOWN_ACCOUNT = "acct_not_in_view"


def renewal(score: float, renewed: bool, account: str = "a", value: float | None = None,
            band: str | None = None, day: datetime.date = DAY,
            categories: dict[str, float | None] | None = None, segment: str | None = None) -> stats.ScoredRenewal:
    return stats.ScoredRenewal(account, day, renewed, value, score, band, categories or {}, segment)


# Statistics on hand-computed cases

def test_auc_counts_ties_half():
    # Pairs (renewed, churned): (2, 1) win, (2, 2) tie, (3, 1) win, (3, 2) win: 3.5 of 4.
    assert stats.auc([1, 2, 2, 3], [False, True, False, True]) == 0.875


def test_auc_all_tied_is_half():
    assert stats.auc([5, 5, 5], [True, False, True]) == 0.5


def test_auc_undefined_with_one_outcome():
    assert stats.auc([1, 2], [True, True]) is None
    assert stats.auc([1, 2], [False, False]) is None


def test_deciles_uneven_counts():
    renewals = [renewal(float(score), score % 2 == 0, account=f"a{score:02d}") for score in range(23)]
    groups = stats.decile_groups(renewals)
    # 23 = 10 * 2 + 3: the first three deciles hold three renewals, the other seven two.
    assert [len(group) for group in groups] == [3, 3, 3, 2, 2, 2, 2, 2, 2, 2]
    assert [item.health_score for item in groups[0]] == [0.0, 1.0, 2.0]
    assert [item.health_score for item in groups[3]] == [9.0, 10.0]
    rates = stats.decile_rates(renewals)
    assert (rates[0].renewals, rates[0].renewed, rates[0].renewal_rate) == (3, 2, 2 / 3)
    assert (rates[3].min_score, rates[3].max_score) == (9.0, 10.0)


def test_deciles_fewer_than_ten_renewals():
    groups = stats.decile_groups([renewal(3.0, True), renewal(1.0, False), renewal(2.0, True)])
    assert [[item.health_score for item in group] for group in groups] == [[1.0], [2.0], [3.0]]


def test_deciles_break_ties_by_account():
    groups = stats.decile_groups([renewal(5.0, True, account=name) for name in "kbxa"] * 3)
    assert [item.account_id for item in groups[0]] == ["a", "a"]


def test_rate_group_value_weighted():
    group = stats.rate_group("g", [renewal(1, True, value=300.0), renewal(2, False, value=100.0),
                                   renewal(3, False, value=None)])
    assert (group.renewals, group.renewed) == (3, 1)
    assert group.renewal_rate == pytest.approx(1 / 3)
    # The renewal without a contract value is left out of the value-weighted rate.
    assert group.value_renewal_rate == 0.75


def test_rate_group_empty():
    group = stats.rate_group("g", [])
    assert (group.renewals, group.renewal_rate, group.value_renewal_rate) == (0, None, None)


def test_lift_of_lowest_over_highest_band():
    red = stats.rate_group("red", [renewal(1, False), renewal(2, False), renewal(3, True), renewal(4, True)])
    green = stats.rate_group("green", [renewal(80, False), renewal(90, True), renewal(91, True), renewal(92, True)])
    lift = stats.lift(red, green)
    assert (lift.lowest_churn_rate, lift.highest_churn_rate) == (0.5, 0.25)
    assert lift.value == 2.0
    assert lift.undefined_reason is None


def test_lift_undefined_without_churn_in_green():
    red = stats.rate_group("red", [renewal(1, False), renewal(2, True)])
    green = stats.rate_group("green", [renewal(80, True), renewal(90, True)])
    lift = stats.lift(red, green)
    assert lift.value is None
    assert lift.highest_churn_rate == 0
    assert "no renewal in band green churned" in (lift.undefined_reason or "")


def test_lift_undefined_for_empty_band():
    lift = stats.lift(stats.rate_group("red", []), stats.rate_group("green", [renewal(80, False)]))
    assert lift.value is None
    assert lift.undefined_reason == "no scored renewal is in band red"


def days_before(renewal_date: datetime.date, bands: dict[int, str | None]) -> dict[datetime.date, str | None]:
    """Return a band history from {days before the renewal: band}."""
    return {renewal_date - datetime.timedelta(days=offset): band for offset, band in bands.items()}


def test_lead_time_of_final_run():
    # Red 10 to 8 days before, yellow 7, red 6 to 1: the final run starts 6 days before.
    history = days_before(DAY, {10: "red", 9: "red", 8: "red", 7: "yellow", 6: "red", 5: "red", 4: "red",
                                3: "red", 2: "red", 1: "red"})
    assert stats.lead_time(DAY, history, "red") == ("in_lowest_band", 6)


def test_lead_time_ignores_renewal_day_and_after():
    history = days_before(DAY, {2: "yellow", 1: "red", 0: "red", -1: "red"})
    assert stats.lead_time(DAY, history, "red") == ("in_lowest_band", 1)


def test_lead_time_gap_breaks_run():
    assert stats.lead_time(DAY, days_before(DAY, {5: "red", 4: "red", 2: "red", 1: "red"}), "red") == (
        "in_lowest_band", 2)
    assert stats.lead_time(DAY, days_before(DAY, {3: "red", 2: None, 1: "red"}), "red") == ("in_lowest_band", 1)


def test_lead_time_outside_lowest_band():
    assert stats.lead_time(DAY, days_before(DAY, {3: "red", 2: "red", 1: "yellow"}), "red") == (
        "not_in_lowest_band", None)
    assert stats.lead_time(DAY, days_before(DAY, {3: "red", 2: "red"}), "red") == ("no_score", None)
    assert stats.lead_time(DAY, days_before(DAY, {1: None}), "red") == ("no_score", None)


def test_lead_time_summary():
    summary = stats.summarise_lead_times([("in_lowest_band", 95), ("in_lowest_band", 40), ("in_lowest_band", 10),
                                          ("not_in_lowest_band", None), ("no_score", None)])
    assert (summary.churned, summary.in_lowest_band, summary.not_in_lowest_band, summary.no_score) == (5, 3, 1, 1)
    assert summary.median_days == 40
    # Shares divide by the four churned renewals with a band on the day before the renewal.
    assert summary.share_at_least == {30: 0.5, 60: 0.25, 90: 0.25}


def test_lead_time_summary_without_lowest_band():
    summary = stats.summarise_lead_times([("not_in_lowest_band", None)])
    assert summary.median_days is None
    assert summary.share_at_least == {30: 0.0, 60: 0.0, 90: 0.0}


COMPONENT_U = {"name": "u", "weight": 100, "metric": "m", "score": {"function": "percentile"}}
COMPONENT_S = {"name": "s", "weight": 100, "metric": "n", "score": {"function": "percentile"}}


def two_category_score(**changes: Any) -> models.HealthScore:
    definition = {
        "name": "health",
        "population": {"source": "events"},
        "bands": [{"name": "green", "min": 70}, {"name": "yellow", "min": 40}, {"name": "red", "min": 0}],
        "categories": [
            {"name": "usage", "weight": 60, "components": [COMPONENT_U]},
            {"name": "support", "weight": 40, "components": [COMPONENT_S]},
        ],
    }
    definition.update(changes)
    return models.HealthScore.model_validate(definition)


def test_score_from_categories_missing_policies():
    definition = two_category_score()
    weights = {"usage": 60.0, "support": 40.0}
    assert stats.score_from_categories(definition, {"usage": 50.0, "support": 100.0}, weights) == 70.0
    # Renormalize: a category without data is left out.
    assert stats.score_from_categories(definition, {"usage": 50.0, "support": None}, weights) == 50.0
    assert stats.score_from_categories(definition, {"usage": None, "support": None}, weights) is None
    zero = two_category_score(missing="zero")
    assert stats.score_from_categories(zero, {"usage": 50.0, "support": None}, weights) == 30.0
    # An imputed score does not count as data, so no data at all is still no score.
    imputed = two_category_score(missing={"impute": 50})
    assert stats.score_from_categories(imputed, {"usage": 100.0, "support": None}, weights) == 80.0
    assert stats.score_from_categories(imputed, {"usage": None, "support": None}, weights) is None


def test_weight_sensitivity_hand_case():
    definition = two_category_score()
    renewals = [
        # (60 * 75 + 40 * 60) / 100 = 69, yellow. Support at 30 gives (4500 + 1800) / 90 = 70, green.
        renewal(69.0, True, account="up", band="yellow", categories={"usage": 75.0, "support": 60.0}),
        # (60 * 30 + 40 * 55) / 100 = 40, yellow. Usage at 70 gives 4300 / 110 = 39.1 and support
        # at 30 gives 3450 / 90 = 38.3, both red.
        renewal(40.0, False, account="down", band="yellow", categories={"usage": 30.0, "support": 55.0}),
        # Only support has data, so no weight changes its score of 90.
        renewal(90.0, True, account="steady", band="green", categories={"usage": None, "support": 90.0}),
    ]
    result = stats.weight_sensitivity(definition, renewals)
    moves = {(move.category, move.new_weight): (move.moved_up, move.moved_down) for move in result.moves}
    assert moves == {("usage", 70.0): (0, 1), ("usage", 50.0): (0, 0), ("support", 50.0): (0, 0),
                     ("support", 30.0): (1, 1)}
    assert result.changed_by_any == 2
    assert result.baseline_mismatches == 0


def test_weight_sensitivity_skips_nonpositive_weight():
    definition = two_category_score(categories=[
        {"name": "usage", "weight": 95, "components": [COMPONENT_U]},
        {"name": "support", "weight": 5, "components": [COMPONENT_S]},
    ])
    result = stats.weight_sensitivity(definition, [renewal(50.0, True, band="yellow",
                                                           categories={"usage": 50.0, "support": 50.0})])
    skipped = [move for move in result.moves if move.changed is None]
    assert [(move.category, move.new_weight) for move in skipped] == [("support", -5.0)]


def test_weight_sensitivity_by_segment():
    definition = two_category_score(segment="accounts.plan", segment_weights={"pro": {"usage": 20, "support": 80}})
    renewals = [
        # pro: (20 * 90 + 80 * 60) / 100 = 66, yellow. Usage at 30 in every segment gives
        # (2700 + 4800) / 110 = 68.2, still yellow; support at 90 gives (1800 + 5400) / 110 = 65.5;
        # support at 70 gives (1800 + 4200) / 90 = 66.7. Under the default weights (60, 40) the
        # same scores would be 78, green.
        renewal(66.0, True, account="pro", band="yellow", segment="pro", categories={"usage": 90.0, "support": 60.0}),
        # A segment without weights of its own takes the default: (60 * 75 + 40 * 60) / 100 = 69,
        # yellow, and support at 30 gives 70, green, as in the hand case above.
        renewal(69.0, True, account="other", band="yellow", segment="basic",
                categories={"usage": 75.0, "support": 60.0}),
        # pro: (20 * 40 + 80 * 75) / 100 = 68, yellow; usage at 10 gives (400 + 6000) / 90 = 71.1, green.
        renewal(68.0, False, account="pro2", band="yellow", segment="pro", categories={"usage": 40.0, "support": 75.0}),
    ]
    result = stats.weight_sensitivity(definition, renewals)
    assert result.baseline_mismatches == 0
    moves = {(move.category, move.new_weight): (move.moved_up, move.moved_down, dict(move.segment_weights))
             for move in result.moves}
    assert moves == {("usage", 70.0): (0, 0, {"pro": (20.0, 30.0)}), ("usage", 50.0): (1, 0, {"pro": (20.0, 10.0)}),
                     ("support", 50.0): (0, 0, {"pro": (80.0, 90.0)}), ("support", 30.0): (1, 0, {"pro": (80.0, 70.0)})}
    assert result.changed_by_any == 2
    assert result.moves[1].as_dict()["segment_weights"] == {"pro": {"weight": 20.0, "new_weight": 10.0}}


def test_weight_sensitivity_blocked_by_segment():
    definition = two_category_score(segment="accounts.plan", segment_weights={"pro": {"usage": 95, "support": 5},
                                                                              "lite": {"usage": 5, "support": 95}})
    result = stats.weight_sensitivity(definition, [renewal(50.0, True, band="yellow", segment="pro",
                                                           categories={"usage": 50.0, "support": 50.0})])
    blocked = [(move.category, move.new_weight, move.blocked_by) for move in result.moves if move.changed is None]
    # lite's usage weight would fall to -5 as well, but no scored renewal is on lite.
    assert blocked == [("support", 30.0, ("pro",))]
    assert result.moves[3].as_dict()["blocked_by"] == ["pro"]


def test_weight_sensitivity_moves_share_of_total():
    # With normalize: true, weights of 3 and 1 (total 4) move by 10% of 4 = 0.4, and pro's 30 and
    # 70 (total 100) by 10.
    categories = [{"name": "usage", "weight": 3, "components": [COMPONENT_U]},
                  {"name": "support", "weight": 1, "components": [COMPONENT_S]}]
    definition = two_category_score(normalize=True, categories=categories, segment="accounts.plan",
                                    segment_weights={"pro": {"usage": 30, "support": 70}})
    # Default: (3 * 80 + 1 * 40) / 4 = 70, green. Usage at 2.6 gives (208 + 40) / 3.6 = 68.9, yellow.
    renewals = [renewal(70.0, True, band="green", categories={"usage": 80.0, "support": 40.0})]
    result = stats.weight_sensitivity(definition, renewals)
    moves = {(move.category, move.new_weight): (move.changed, dict(move.segment_weights)) for move in result.moves}
    assert moves == {("usage", 3.4): (0, {"pro": (30.0, 40.0)}), ("usage", 2.6): (1, {"pro": (30.0, 20.0)}),
                     ("support", 1.4): (1, {"pro": (70.0, 80.0)}), ("support", 0.6): (0, {"pro": (70.0, 60.0)})}


def test_band_of_matches_view_rule():
    bands = two_category_score().bands
    assert [stats.band_of(bands, score) for score in (70.0, 69.999, 40.0, 0.0, None)] == [
        "green", "yellow", "yellow", "red", None]


# Statistics against independent references on random data

@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=2, max_size=60)
       .filter(lambda pairs: len({outcome for _, outcome in pairs}) == 2))
def test_auc_matches_scikit_learn(pairs):
    scores = [float(score) for score, _ in pairs]
    outcomes = [outcome for _, outcome in pairs]
    expected = roc_auc_score(outcomes, scores)
    assert stats.auc(scores, outcomes) == pytest.approx(expected, rel=1e-12)
    assert stats.auc(scores, outcomes) == pytest.approx(reference.pairwise_auc(scores, outcomes), rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=45))
def test_deciles_match_ntile_reference(pairs):
    renewals = [renewal(float(score), outcome, account=f"a{index:02d}") for index, (score, outcome) in enumerate(pairs)]
    rows = [{"account_id": item.account_id, "renewal_date": item.renewal_date, "renewed": item.renewed,
             "view": {"health_score": item.health_score}} for item in renewals]
    expected = reference.ntile(rows)
    actual = stats.decile_groups(renewals)
    assert [[item.account_id for item in group] for group in actual] == [
        [row["account_id"] for row in group] for group in expected]


# SQL

@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "snowflake", "spark", "clickhouse"])
def test_scored_query_renders_quoted_names(dialect):
    project, _ = api.load(SAAS)
    source = models.Source(name="crm_renewals", table="crm.renewals", account="AccountId")
    # A mixed-case name and a reserved word must be quoted to keep their meaning.
    columns: dict[str, str | None] = {"account": "AccountId", "date": "select", "outcome": "renewed",
                                      "value": None}
    statement = render_select(scored_query(project, project.health_scores[SCORE], "analytics", source, columns, 90),
                              dialect)
    quote = "`" if dialect == "spark" else '"'
    assert f"{quote}AccountId{quote}" in statement
    assert f"{quote}select{quote}" in statement
    assert "crm.renewals" in statement.replace(quote, "")


def test_scored_query_rejects_file_source_outside_duckdb():
    project, _ = api.load(SAAS)
    columns: dict[str, str | None] = {"account": "account_id", "date": "renewal_date", "outcome": "renewed",
                                      "value": "contract_value"}
    query = scored_query(project, project.health_scores[SCORE], "analytics", project.sources["renewals"], columns, 90)
    with pytest.raises(UnsupportedError, match="source 'renewals' reads a file"):
        render_select(query, "postgres")


# End to end on examples/saas

def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("saas_generate", SAAS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def write_extra_renewals(project: Path) -> None:
    """Write the renewals of the extra sources: text outcomes, unscorable rows, a bad outcome, no rows."""
    original = pq.read_table(SAAS / "data" / "renewals.parquet").to_pylist()
    schema = pa.schema([("account_id", pa.string()), ("renewal_date", pa.date32()), ("renewed", pa.string()),
                        ("contract_value", pa.float64())])
    mixed = [{**row, "renewed": "Renewed " if row["renewed"] else "churned"} for row in original]
    first = original[0]
    mixed += [
        {"account_id": UNKNOWN_ACCOUNT, "renewal_date": datetime.date(2026, 1, 15), "renewed": "renewed",
         "contract_value": 1000.0},
        # The data starts on 2025-07-01, so a renewal 90 days later is too early to score.
        {"account_id": first["account_id"], "renewal_date": datetime.date(2025, 8, 1), "renewed": "churned",
         "contract_value": None},
        {"account_id": first["account_id"], "renewal_date": None, "renewed": "renewed", "contract_value": 5.0},
    ]
    pq.write_table(pa.Table.from_pylist(mixed, schema=schema), project / "data" / "renewals_mixed.parquet")
    bad = [{**row, "renewed": "renewed"} for row in original[:3]] + [{**original[3], "renewed": "maybe"}]
    pq.write_table(pa.Table.from_pylist(bad, schema=schema), project / "data" / "renewals_bad.parquet")
    pq.write_table(pa.Table.from_pylist([], schema=schema), project / "data" / "renewals_empty.parquet")
    # 22:00 in New York on the renewal day is already the next day in UTC.
    new_york = ZoneInfo("America/New_York")
    instants = [{**row, "renewal_date": datetime.datetime.combine(row["renewal_date"], datetime.time(22), new_york)}
                for row in original]
    pq.write_table(pa.Table.from_pylist(instants), project / "data" / "renewals_at.parquet")
    sources = project / "models" / "sources.yml"
    text = sources.read_text(encoding="utf-8")
    sources.write_text(text.replace("\nengagement:\n", EXTRA_SOURCES + "\nengagement:\n"), encoding="utf-8")


@pytest.fixture(scope="module")
def saas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a copy of examples/saas with extra renewal sources, deployed to its DuckDB file."""
    project = tmp_path_factory.mktemp("backtest") / "saas"
    shutil.copytree(SAAS, project, ignore=shutil.ignore_patterns("*.duckdb", "__pycache__"))
    write_extra_renewals(project)
    api.deploy_project(project)
    return project


def backtest(project: Path, **request: Any) -> BacktestResult:
    loaded, _ = api.load(project)
    with api.open_target(loaded, None, must_exist=True) as adapter:
        return run_backtest(loaded, adapter, BacktestRequest(**{"renewals_source": "renewals", **request}))


@pytest.fixture(scope="module")
def result(saas: Path) -> BacktestResult:
    return backtest(saas)


@pytest.fixture(scope="module")
def view_rows(saas: Path) -> list[dict[str, Any]]:
    """Return every row of the deployed health view, read with plain SQL."""
    connection = duckdb.connect(str(saas / "saas.duckdb"), read_only=True)
    try:
        cursor = connection.execute(f"SELECT * FROM analytics.{SCORE}")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        connection.close()


@pytest.fixture(scope="module")
def renewals() -> list[dict[str, Any]]:
    return pq.read_table(SAAS / "data" / "renewals.parquet").to_pylist()


@pytest.fixture(scope="module")
def score_definition() -> dict[str, Any]:
    definitions = load_project_definitions(SAAS)
    return next(item for item in definitions["health_scores"] if item["name"] == SCORE)


def test_saas_counts(result):
    assert (result.renewal_count, len(result.scored), len(result.unscorable)) == (48, 48, 0)
    assert (result.overall.renewals, result.overall.renewed) == (48, 30)
    assert [(group.label, group.renewals, group.renewed) for group in result.bands] == [
        ("green", 17, 16), ("yellow", 21, 11), ("red", 10, 3)]
    assert [(group.renewals, group.renewed) for group in result.deciles] == [
        (5, 0), (5, 3), (5, 3), (5, 1), (5, 3), (5, 3), (5, 5), (5, 5), (4, 4), (4, 3)]
    lead = result.lead_time
    assert (lead.churned, lead.in_lowest_band, lead.not_in_lowest_band, lead.no_score) == (18, 9, 9, 0)
    assert lead.days == [3, 9, 13, 14, 22, 28, 34, 63, 105]
    assert [move.changed for move in result.sensitivity.moves] == [1, 1, 1, 1, 0, 1]


def test_saas_band_and_decile_rates_match_view(result, view_rows, renewals, score_definition):
    scored = reference.score_renewals(view_rows, renewals, 90)
    assert len(scored) == len(result.scored)
    for group in result.bands:
        members = [item for item in scored if item["view"]["band"] == group.label]
        assert (group.renewals, group.renewed, group.renewal_rate) == reference.renewal_rate(members)
        assert group.value_renewal_rate == pytest.approx(reference.value_rate(members), rel=1e-12)
    deciles = reference.ntile(scored)
    assert len(result.deciles) == len(deciles) == 10
    for group, members in zip(result.deciles, deciles):
        assert (group.renewals, group.renewed, group.renewal_rate) == reference.renewal_rate(members)
        assert group.value_renewal_rate == pytest.approx(reference.value_rate(members), rel=1e-12)
    scores = [item["view"]["health_score"] for item in scored]
    outcomes = [item["renewed"] for item in scored]
    assert result.auc == pytest.approx(roc_auc_score(outcomes, scores), rel=1e-12)


def test_saas_lead_times_match_view(result, view_rows, renewals):
    by_account: dict[str, dict[datetime.date, dict[str, Any]]] = {}
    for row in view_rows:
        by_account.setdefault(row["account_id"], {})[row["as_of_date"]] = row
    expected = sorted(days for row in renewals if not row["renewed"]
                      if (days := reference.lead_time(by_account[row["account_id"]], row["renewal_date"], "red")))
    assert result.lead_time.days == expected


def test_saas_weight_sensitivity_matches_recomputation(result, view_rows, renewals, score_definition):
    categories = [category["name"] for category in score_definition["categories"]]
    scored = reference.score_renewals(view_rows, renewals, 90)
    default = {category["name"]: float(category["weight"]) for category in score_definition["categories"]}
    by_segment = score_definition["segment_weights"]
    # The library score weighs starter and enterprise accounts differently, and both occur.
    assert {item["view"]["segment"] for item in scored} >= set(by_segment)
    moves = iter(result.sensitivity.moves)
    for name in categories:
        for step in (10.0, -10.0):
            changed = 0
            for item in scored:
                weights = {key: float(value) for key, value in by_segment.get(item["view"]["segment"], default).items()}
                scores = {category: item["view"][f"{category}_score"] for category in categories}
                before = reference.reweighted_band(score_definition, scores, weights)
                after = reference.reweighted_band(score_definition, scores, {**weights, name: weights[name] + step})
                assert before == item["view"]["band"]
                changed += before != after
            move = next(moves)
            assert (move.category, move.new_weight, move.changed) == (name, default[name] + step, changed)


def test_saas_recovers_planted_renewal_probability(result):
    """Each band's renewal rate is within 3 standard errors of the planted probability of its accounts."""
    generate = load_generator()
    tables, latent = generate.build_dataset()
    planted = {}
    for row in tables["renewals"].to_pylist():
        account = latent[row["account_id"]]
        years = (row["renewal_date"] - generate.FIRST_DAY).days / 365
        health = min(0.98, max(0.02, account["base_health"] + account["health_slope"] * years))
        planted[(row["account_id"], row["renewal_date"])] = 1 / (1 + math.exp(-9 * (health - 0.42)))
    assert len(planted) == len(result.scored)

    mean_probabilities = []
    for group in result.bands:
        probabilities = [planted[(item.account_id, item.renewal_date)] for item in result.scored
                         if item.band == group.label]
        mean = sum(probabilities) / len(probabilities)
        standard_error = math.sqrt(sum(p * (1 - p) for p in probabilities)) / len(probabilities)
        assert group.renewal_rate is not None
        assert abs(group.renewal_rate - mean) <= 3 * standard_error, (group.label, group.renewal_rate, mean)
        mean_probabilities.append(mean)
    # Bands run from the highest to the lowest, so the planted probability must fall along them.
    assert mean_probabilities == sorted(mean_probabilities, reverse=True)

    renewed = sum(1 for item in result.scored if item.renewed)
    churned = len(result.scored) - renewed
    # Standard error of the AUC of a score unrelated to the outcome (Mann-Whitney under the null).
    null_error = math.sqrt((renewed + churned + 1) / (12 * renewed * churned))
    assert result.auc is not None
    assert result.auc > 0.5 + 3 * null_error
    assert result.lift.value is not None and result.lift.value > 1


def test_saas_unscorable_renewals_listed(saas):
    mixed = backtest(saas, renewals_source="renewals_mixed")
    assert (mixed.renewal_count, len(mixed.scored)) == (51, 48)
    reasons = {(item.account_id, item.reason) for item in mixed.unscorable}
    first_account = pq.read_table(SAAS / "data" / "renewals.parquet").to_pylist()[0]["account_id"]
    assert reasons == {(UNKNOWN_ACCOUNT, "unknown_account"), (first_account, "before_first_score"),
                       (first_account, "missing_key")}
    # Text outcomes give the same figures as the boolean ones.
    assert [(group.renewals, group.renewed) for group in mixed.bands] == [(17, 16), (21, 11), (10, 3)]


def test_saas_all_unscorable_rejected(saas):
    # The data range is 365 days long, so every score day 400 days before a renewal is too early.
    with pytest.raises(HealthlayerError, match="none of the 48 renewals can be scored 400 days before"):
        backtest(saas, days_before=400)


# Command line

def test_cli_text(saas, run):
    outcome = run("backtest", "--project", str(saas), "--renewals", "renewals")
    assert outcome.exit_code == 0, outcome.stderr
    for title in ("Renewal rate by band", "Renewal rate by score decile", "Discrimination",
                  "Lead time of churned renewals in band red", "Band changes of the 48 scored renewals"):
        assert title in outcome.stdout
    assert "0.807" in outcome.stdout
    chart_lines = [line for line in outcome.stdout.splitlines() if "█" in line or "····" in line]
    assert len(chart_lines) == 10
    assert chart_lines[7].rstrip().endswith("100% (5/5)")


def test_cli_json_matches_library(saas, run, result):
    outcome = run("backtest", "--project", str(saas), "--renewals", "renewals", "--format", "json")
    assert outcome.exit_code == 0, outcome.stderr
    assert json.loads(outcome.stdout) == json.loads(json.dumps(result.as_dict(), default=str))


def test_cli_json_lists_unscorable(saas, run):
    outcome = run("backtest", "--project", str(saas), "--renewals", "renewals_mixed", "--format", "json")
    assert outcome.exit_code == 0, outcome.stderr
    unscorable = json.loads(outcome.stdout)["unscorable"]
    assert unscorable["count"] == 3
    assert unscorable["by_reason"] == {"before_first_score": 1, "missing_key": 1, "unknown_account": 1}
    assert {item["account_id"] for item in unscorable["renewals"]} >= {UNKNOWN_ACCOUNT}


def test_cli_text_lists_unscorable(saas, run):
    outcome = run("backtest", "--project", str(saas), "--renewals", "renewals_mixed")
    assert outcome.exit_code == 0, outcome.stderr
    assert "51 renewals, 48 scored, 3 unscorable" in outcome.stdout
    assert "Renewals that cannot be scored" in outcome.stdout
    assert UNKNOWN_ACCOUNT in outcome.stdout
    assert "score day 2025-05-03 is before the first score day" in outcome.stdout


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG\r\n\x1a\n"), (".svg", b"<svg")])
def test_cli_chart_file(saas, run, tmp_path, suffix, magic):
    chart = tmp_path / f"deciles{suffix}"
    outcome = run("backtest", "--project", str(saas), "--renewals", "renewals", "--chart", str(chart))
    assert outcome.exit_code == 0, outcome.stderr
    content = chart.read_bytes()
    assert content.startswith(magic) if suffix == ".png" else magic in content[:2000]


def test_cli_chart_without_matplotlib(saas, run, tmp_path, monkeypatch):
    # A None entry in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    outcome = run("backtest", "--project", str(saas), "--renewals", "renewals", "--chart", str(tmp_path / "c.png"))
    assert outcome.exit_code == 1
    assert "pip install 'healthlayer[charts]'" in outcome.stderr


def undeployed_copy(tmp_path: Path) -> Path:
    project = tmp_path / "saas"
    shutil.copytree(SAAS, project, ignore=shutil.ignore_patterns("*.duckdb", "__pycache__"))
    connection = duckdb.connect(str(project / "saas.duckdb"))
    connection.execute("CREATE SCHEMA analytics")
    connection.close()
    return project


@pytest.mark.parametrize(("arguments", "exit_code", "message"), [
    (["--renewals", "renewal"], 1, "no source is named 'renewal'. Did you mean 'renewals'?"),
    (["--renewals", "renewals", "--outcome-column", "outcome"], 1,
     "column 'outcome' not found in the renewals source 'renewals'"),
    (["--renewals", "renewals", "--account-column", "customer"], 1, "name the account column with --account-column"),
    (["--renewals", "renewals", "--score", "health"], 1, "no health score is named 'health'"),
    (["--renewals", "renewals_bad"], 1, "has the value 'maybe'"),
    (["--renewals", "renewals_empty"], 1, "the renewals source 'renewals_empty' has no rows"),
    (["--renewals", "renewals", "--days-before", "400"], 1, "none of the 48 renewals can be scored"),
    (["--renewals", "renewals", "--chart", "chart.pdf"], 1, "must end in .png or .svg"),
    (["--renewals", "renewals", "--days-before", "-1"], 2, "Invalid value for '--days-before'"),
    (["--renewals", "renewals", "--days-before", "2147483648"], 2, "is not in the range 0<=x<=100000"),
])
def test_cli_errors(saas, run, tmp_path, arguments, exit_code, message):
    outcome = run("backtest", "--project", str(saas), *arguments, cwd=tmp_path)
    assert outcome.exit_code == exit_code
    assert message in outcome.stderr
    assert "Traceback" not in outcome.stderr
    if exit_code == 1:
        assert outcome.stderr.startswith("error: ")
        assert len(outcome.stderr.strip().splitlines()) == 1


def test_cli_view_not_deployed(run, tmp_path):
    outcome = run("backtest", "--project", str(undeployed_copy(tmp_path)), "--renewals", "renewals")
    assert outcome.exit_code == 1
    assert "the health view 'account_health_daily' is not deployed in schema 'analytics'" in outcome.stderr
    assert "healthlayer deploy" in outcome.stderr


def test_timestamp_renewal_dates_fall_on_their_project_day(saas, result):
    at = backtest(saas, renewals_source="renewals_at")

    def key(renewal: stats.ScoredRenewal) -> tuple[str, datetime.date]:
        return renewal.account_id, renewal.renewal_date

    assert sorted(at.scored, key=key) == sorted(result.scored, key=key)
