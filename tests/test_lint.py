"""Lint rules, their silencing, the semantic checks of tier order and ratios, and reporting every
problem of a project in one run.

Each test writes a small project whose sources are tables, so nothing needs data, and checks the
issues that `healthlayer.api.validate` returns: code, severity, file, line and key path.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from healthlayer import api, cli
from healthlayer.definitions.issues import Issue
from healthlayer.definitions.lint_rules import LINT_RULES

PROJECT_FILE = """\
name: lint_demo
paths: [models]
vars:
  upper: 0.3
"""
SOURCES = """\
sources:
  - name: events
    table: raw.events
    account: account_id
    user: user_id
    timestamp: event_ts
    event_name: event_name
    columns:
      feature: text
  - name: surveys
    table: raw.surveys
    account: account_id
    timestamp: answered_at
    columns:
      score: number
  - name: accounts
    table: raw.accounts
    account: account_id
    columns:
      seats: number
"""
ENGAGEMENT = """\
engagement:
  source: events
  tiers:
    - name: passive
      events: [login, page_view]
    - name: active
      events: [report_created, query_run]
    - name: power
      events: [automation_built]
      min_events: 2
"""
STICKINESS = """\
stickiness:
  - name: stickiness_daily
    level: active
  - name: stickiness_by_account
    level: active
    by: [account]
    min_denominator: 3
"""
METRICS = """\
account_metrics:
  - name: nps_180d
    source: surveys
    aggregate: avg
    value: score
    window: 180 days
  - name: features_30d
    source: events
    aggregate: count_distinct
    value: feature
  - name: logins_30d
    source: events
    aggregate: count
    filter: "event_name in ('login', 'page_view')"
"""
HEALTH = """\
health_scores:
  - name: health
    population: {source: events}
    categories:
      - name: product_engagement
        weight: 60
        components:
          - name: stickiness
            weight: 50
            metric: stickiness_by_account.dau_mau
            score: {function: linear, lower: 0, upper: {{ var('upper') }}}
          - name: breadth
            weight: 30
            metric: features_30d
            score: {function: percentile}
          - name: breadth_trend
            weight: 20
            trend: {metric: features_30d, days: 30}
            score: {function: linear, lower: -3, upper: 3}
      - name: relationship
        weight: 40
        components:
          - name: nps
            weight: 50
            metric: nps_180d
            score: {function: linear, lower: -50, upper: 50}
          - name: seats
            weight: 50
            attribute: accounts.seats
            score: {function: linear, lower: 1, upper: 50}
"""
FILES = {"sources.yml": SOURCES, "engagement.yml": ENGAGEMENT + "\n" + STICKINESS, "metrics.yml": METRICS,
         "health.yml": HEALTH}


def write_project(root: Path, project_file: str = PROJECT_FILE, **changes: str) -> Path:
    """Write the project with some model files replaced; keyword names are file names without '.yml'."""
    (root / "models").mkdir(parents=True)
    (root / "healthlayer.yml").write_text(project_file, encoding="utf-8")
    for name, text in FILES.items():
        text = changes.get(name.removesuffix(".yml"), text)
        (root / "models" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def replaced(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def codes(issues: list[Issue]) -> list[str]:
    return sorted(issue.code for issue in issues)


def only(issues: list[Issue], code: str) -> Issue:
    found = [issue for issue in issues if issue.code == code]
    assert len(found) == 1, "\n".join(issue.format() for issue in issues)
    return found[0]


# The base project uses metrics.logins_30d nowhere, so it has exactly that one warning.
BASE_WARNING = "unused-definition"


def test_base_project_lint(tmp_path: Path):
    issues = api.validate(write_project(tmp_path))

    issue = only(issues, BASE_WARNING)
    assert len(issues) == 1
    assert issue.severity == "warning"
    assert issue.message == "account metric 'logins_30d' is not used by any health score"
    assert issue.location.file.name == "metrics.yml"
    assert issue.location.line == 11
    assert issue.location.key_path == ("account_metrics", 2, "name")


def test_rules_documented():
    assert set(LINT_RULES) == {"passive-activity", "passive-engagement", "survey-overweight", "missing-trend",
                          "ratio-without-minimum", "unused-definition", "numeric-segment"}


# passive-activity

@pytest.mark.parametrize("level", ["any", "passive"])
def test_stickiness_passive_level(tmp_path: Path, level: str):
    stickiness = replaced(STICKINESS, "  - name: stickiness_daily\n    level: active",
                          f"  - name: stickiness_daily\n    level: {level}")

    issues = api.validate(write_project(tmp_path, engagement=ENGAGEMENT + "\n" + stickiness))

    issue = only(issues, "passive-activity")
    assert issue.severity == "warning"
    assert issue.location.key_path == ("stickiness", 0, "level")
    assert issue.location.line == 14
    expected = "any event" if level == "any" else "a passive event (login, page_view)"
    assert issue.message == (f"stickiness 'stickiness_daily' counts a user as active at level '{level}' after "
                             f"{expected}, so visits without core actions count")
    assert "lint_ignore" in issue.hint


def test_tier_with_passive_event(tmp_path: Path):
    engagement = replaced(ENGAGEMENT, "[report_created, query_run]", "[report_created, Page Viewed]")

    issues = api.validate(write_project(tmp_path, engagement=engagement + "\n" + STICKINESS))

    issue = only(issues, "passive-activity")
    assert issue.location.key_path == ("engagement", "tiers", 1, "events")
    assert issue.message.startswith("tier 'active' accepts the passive events Page Viewed,")


def test_project_passive_events(tmp_path: Path):
    engagement = replaced(ENGAGEMENT, "[report_created, query_run]", "[report_created, dashboard_glance]")
    project_file = PROJECT_FILE + "lint:\n  passive_events: [dashboard_glance]\n"

    issues = api.validate(write_project(tmp_path, project_file, engagement=engagement + "\n" + STICKINESS))

    assert "dashboard_glance" in only(issues, "passive-activity").message


def test_lowest_tier_may_be_passive(tmp_path: Path):
    issues = api.validate(write_project(tmp_path))

    assert "passive-activity" not in codes(issues)


# passive-engagement

def test_engagement_category_passive(tmp_path: Path):
    health = replaced(HEALTH, "metric: stickiness_by_account.dau_mau", "metric: logins_30d")
    health = replaced(health, "metric: features_30d\n", "metric: stickiness_any.mau\n")
    health = replaced(health, "trend: {metric: features_30d, days: 30}", "trend: {metric: logins_30d, days: 30}")
    stickiness = STICKINESS + "  - name: stickiness_any\n    level: any\n    by: [account]\n    min_denominator: 3\n" \
        "    lint_ignore: {passive-activity: Visits are reported next to core use.}\n"

    issues = api.validate(write_project(tmp_path, engagement=ENGAGEMENT + "\n" + stickiness, health=health,
                                        metrics=METRICS.replace("features_30d", "features_30d_unused")))

    issue = only(issues, "passive-engagement")
    assert issue.location.key_path == ("health_scores", 0, "categories", 0, "name")
    assert issue.message.startswith("category 'product_engagement' scores only passive activity "
                                    "(stickiness, breadth, breadth_trend)")


def test_engagement_category_core(tmp_path: Path):
    health = replaced(HEALTH, "metric: stickiness_by_account.dau_mau", "metric: logins_30d")

    issues = api.validate(write_project(tmp_path, health=health))

    assert "passive-engagement" not in codes(issues)


# survey-overweight, missing-trend, ratio-without-minimum

def test_survey_overweight(tmp_path: Path):
    health = replaced(HEALTH, "          - name: nps\n            weight: 50", "          - name: nps\n            weight: 70")
    health = replaced(health, "          - name: seats\n            weight: 50", "          - name: seats\n            weight: 30")

    issues = api.validate(write_project(tmp_path, health=health))

    issue = only(issues, "survey-overweight")
    assert issue.location.key_path == ("health_scores", 0, "categories")
    assert issue.message == ("survey signals carry 28.0% of the weight of 'health' (relationship.nps 28.0%), "
                             "more than 25%")


def test_survey_at_limit(tmp_path: Path):
    health = replaced(HEALTH, "        weight: 60\n", "        weight: 50\n")
    health = replaced(health, "        weight: 40\n", "        weight: 50\n")

    issues = api.validate(write_project(tmp_path, health=health))

    assert "survey-overweight" not in codes(issues)


def test_missing_trend(tmp_path: Path):
    health = replaced(HEALTH, "trend: {metric: features_30d, days: 30}", "metric: features_30d")

    issues = api.validate(write_project(tmp_path, health=health))

    issue = only(issues, "missing-trend")
    assert issue.location.key_path == ("health_scores", 0, "name")
    assert issue.location.line == 2


def test_ratio_without_minimum(tmp_path: Path):
    stickiness = replaced(STICKINESS, "    min_denominator: 3\n", "")

    issues = api.validate(write_project(tmp_path, engagement=ENGAGEMENT + "\n" + stickiness))

    issue = only(issues, "ratio-without-minimum")
    assert issue.location.key_path == ("stickiness", 1, "name")
    assert "min_denominator" in issue.hint


def test_global_ratio_needs_no_minimum(tmp_path: Path):
    issues = api.validate(write_project(tmp_path))

    assert "ratio-without-minimum" not in codes(issues)


# unused-definition

def test_unused_source_and_var(tmp_path: Path):
    health = replaced(HEALTH, "            attribute: accounts.seats", "            metric: logins_30d")
    project_file = PROJECT_FILE + "  uper: 1\n"

    issues = api.validate(write_project(tmp_path, project_file, health=health))

    unused = sorted(issue.message for issue in issues if issue.code == "unused-definition")
    assert unused == ["source 'accounts' is not used by any definition",
                      "variable 'uper' is not read by any var() call"]
    variable = [issue for issue in issues if "uper" in issue.message][0]
    assert variable.location.file.name == "healthlayer.yml"
    assert variable.location.key_path == ("vars", "uper")
    assert variable.hint.startswith("Did you mean 'upper'?")


# Silencing

def test_ignore_on_definition(tmp_path: Path):
    metrics = replaced(METRICS, "  - name: logins_30d\n",
                       "  - name: logins_30d\n    lint_ignore:\n      unused-definition: Kept for the next score.\n")

    assert api.validate(write_project(tmp_path, metrics=metrics)) == []


def test_ignore_in_project(tmp_path: Path):
    project_file = PROJECT_FILE + "lint:\n  ignore:\n    unused-definition: The metrics are shared.\n"

    assert api.validate(write_project(tmp_path, project_file)) == []


def test_ignore_on_tier(tmp_path: Path):
    engagement = replaced(ENGAGEMENT, "      events: [report_created, query_run]\n",
                          "      events: [report_created, login]\n"
                          "      lint_ignore: {passive-activity: A login is the product's core action.}\n")
    metrics = replaced(METRICS, "  - name: logins_30d\n",
                       "  - name: logins_30d\n    lint_ignore:\n      unused-definition: Kept for the next score.\n")

    assert api.validate(write_project(tmp_path, engagement=engagement + "\n" + STICKINESS, metrics=metrics)) == []


def test_ignore_unknown_rule(tmp_path: Path):
    metrics = replaced(METRICS, "  - name: logins_30d\n",
                       "  - name: logins_30d\n    lint_ignore:\n      unused-definitions: Kept for later.\n")

    issue = only(api.validate(write_project(tmp_path, metrics=metrics)), "unknown-lint-rule")

    assert issue.severity == "error"
    assert issue.location.key_path == ("account_metrics", 2, "lint_ignore", "unused-definitions")
    assert issue.location.line == 13
    assert issue.hint == "Did you mean 'unused-definition'?"


def test_ignore_reason_and_rule_together(tmp_path: Path):
    metrics = replaced(METRICS, "  - name: logins_30d\n",
                       "  - name: logins_30d\n    lint_ignore:\n      unused-definition:\n      passive-activty: x\n")

    issues = api.validate(write_project(tmp_path, metrics=metrics))

    assert codes(issues) == ["invalid-type", "unknown-lint-rule"]
    assert only(issues, "invalid-type").message == "expected text, got an empty value"


def test_ignore_that_silences_nothing(tmp_path: Path):
    metrics = replaced(METRICS, "  - name: nps_180d\n",
                       "  - name: nps_180d\n    lint_ignore: {unused-definition: Not needed.}\n")

    issues = api.validate(write_project(tmp_path, metrics=metrics))

    issue = only(issues, "unused-lint-ignore")
    assert issue.severity == "warning"
    assert issue.location.key_path == ("account_metrics", 0, "lint_ignore", "unused-definition")
    assert issue.location.line == 3


@pytest.mark.parametrize("reason", ['""', '"   "'])
def test_ignore_needs_reason(tmp_path: Path, reason: str):
    metrics = replaced(METRICS, "  - name: logins_30d\n",
                       f"  - name: logins_30d\n    lint_ignore:\n      unused-definition: {reason}\n")

    issue = only(api.validate(write_project(tmp_path, metrics=metrics)), "invalid-value")

    assert issue.location.key_path == ("account_metrics", 2, "lint_ignore", "unused-definition")
    assert "reason is empty" in issue.message


# numeric-segment

SEGMENTS = """\
    segment: {attribute}
    segment_weights:
      "{key}": {{product_engagement: 50, relationship: 50}}
"""


def segmented_project(root: Path, attribute: str, key: str, sources: str = SOURCES) -> Path:
    health = replaced(HEALTH, "    population: {source: events}\n", "    population: {source: events}\n"
                      + SEGMENTS.format(attribute=attribute, key=key))
    return write_project(root, sources=sources, health=health)


@pytest.mark.parametrize("declared", ["number", "integer"])
def test_numeric_segment(tmp_path: Path, declared: str):
    sources = replaced(SOURCES, "      seats: number\n", f"      seats: {declared}\n")

    issues = api.validate(segmented_project(tmp_path, "accounts.seats", "10", sources))

    issue = only(issues, "numeric-segment")
    assert issue.severity == "warning"
    assert issue.location.file.name == "health.yml"
    assert issue.location.line == 4
    assert issue.location.key_path == ("health_scores", 0, "segment")
    assert issue.message == (f"segment attribute 'accounts.seats' is declared {declared}, and segment_weights "
                             "keys are compared with the number as the engine writes it as text, which can differ "
                             "between engines (such as '10.0' and '10')")
    assert "case when seats >= 100 then 'large' else 'small' end" in (issue.hint or "")


@pytest.mark.parametrize(("attribute", "derived"), [
    ("accounts.segment", ""),
    ("accounts.size", "    derived:\n      size: \"case when seats >= 100 then 'large' else 'small' end\"\n"),
])
def test_text_segment_no_warning(tmp_path: Path, attribute: str, derived: str):
    sources = replaced(SOURCES, "      seats: number\n", "      seats: number\n      segment: text\n" + derived)

    issues = api.validate(segmented_project(tmp_path, attribute, "large", sources))

    assert codes(issues) == [BASE_WARNING]


def test_numeric_segment_ignored(tmp_path: Path):
    project = segmented_project(tmp_path, "accounts.seats", "10")
    health = project / "models" / "health.yml"
    health.write_text(health.read_text(encoding="utf-8").replace(
        "    segment: accounts.seats\n",
        "    segment: accounts.seats\n    lint_ignore: {numeric-segment: Seat counts are whole numbers.}\n"),
        encoding="utf-8")

    assert codes(api.validate(project)) == [BASE_WARNING]


# Aggregates

@pytest.mark.parametrize(("value", "declared"), [("feature", "text"), ("user_id", "text"), ("event_ts", "timestamp")])
def test_sum_of_text_column(tmp_path: Path, value: str, declared: str):
    metrics = replaced(METRICS, "    aggregate: count_distinct\n    value: feature\n",
                       f"    aggregate: avg\n    value: {value}\n")

    issue = only(api.validate(write_project(tmp_path, metrics=metrics)), "invalid-aggregate")

    assert issue.location.key_path == ("account_metrics", 1, "value")
    assert issue.message == f"aggregate 'avg' needs numbers, but column '{value}' of source 'events' is {declared}"


def test_sum_of_expression_unchecked(tmp_path: Path):
    metrics = replaced(METRICS, "    aggregate: count_distinct\n    value: feature\n",
                       "    aggregate: sum\n    value: \"case when feature = 'x' then 1 else 0 end\"\n")

    assert "invalid-aggregate" not in codes(api.validate(write_project(tmp_path, metrics=metrics)))


# Tier order and ratios

def test_unreachable_tier(tmp_path: Path):
    engagement = replaced(ENGAGEMENT, "      events: [automation_built]\n      min_events: 2\n",
                          "      events: '*'\n")

    issues = api.validate(write_project(tmp_path, engagement=engagement + "\n" + STICKINESS))

    unreachable = [issue for issue in issues if issue.code == "unreachable-tier"]
    assert [issue.location.key_path for issue in unreachable] == [("engagement", "tiers", 0, "events"),
                                                                   ("engagement", "tiers", 1, "events")]
    assert unreachable[0].severity == "error"
    assert unreachable[0].message == ("no user can be in tier 'passive': the higher tier 'power' (line 8) accepts "
                                      "any event without a filter or threshold")


def test_tier_superset_unreachable(tmp_path: Path):
    engagement = replaced(ENGAGEMENT, "      events: [automation_built]\n      min_events: 2\n",
                          "      events: [report_created, query_run, automation_built]\n")

    issue = only(api.validate(write_project(tmp_path, engagement=engagement + "\n" + STICKINESS)),
                 "unreachable-tier")

    assert issue.location.key_path == ("engagement", "tiers", 1, "events")


def test_threshold_keeps_tier_reachable(tmp_path: Path):
    engagement = replaced(ENGAGEMENT, "      events: [automation_built]\n",
                          "      events: [report_created, query_run, automation_built]\n")

    assert "unreachable-tier" not in codes(api.validate(write_project(tmp_path, engagement=engagement + "\n"
                                                                       + STICKINESS)))


def test_tiers_listed_highest_first(tmp_path: Path):
    engagement = ENGAGEMENT.replace("name: passive", "name: tmp").replace("name: power", "name: passive") \
        .replace("name: tmp", "name: power")

    issues = api.validate(write_project(tmp_path, engagement=engagement + "\n" + STICKINESS))

    issue = only(issues, "tier-order")
    assert issue.severity == "warning"
    assert issue.message == ("tier 'active' is listed after 'power', so it ranks higher: tiers are listed lowest "
                             "first, and the order here is power < active < passive")


@pytest.mark.parametrize(("ratios", "message"), [
    ("[mau_dau]", "ratio 'mau_dau' divides a 30-day window by a 1-day window; stickiness divides a shorter "
                  "window by a longer one"),
    ("[dau_day]", "ratio 'dau_day' divides a 1-day window by a 1-day window; stickiness divides a shorter "
                  "window by a longer one"),
])
def test_inverted_ratio(tmp_path: Path, ratios: str, message: str):
    stickiness = replaced(STICKINESS, "    level: active\n    by:",
                          f"    level: active\n    windows: {{dau: 1, day: 1, mau: 30}}\n    ratios: {ratios}\n    by:")

    issue = only(api.validate(write_project(tmp_path, engagement=ENGAGEMENT + "\n" + stickiness)), "invalid-ratio")

    assert issue.message == message
    assert issue.location.key_path == ("stickiness", 1, "ratios", 0)


def test_duplicate_tier_names_first_line(tmp_path: Path):
    engagement = replaced(ENGAGEMENT, "name: power", "name: passive")

    issue = only(api.validate(write_project(tmp_path, engagement=engagement + "\n" + STICKINESS)), "duplicate-name")

    assert issue.message == "tier 'passive' is listed twice, first on line 4"
    assert issue.location.line == 8


# Every problem at once

def test_all_problems_reported(tmp_path: Path):
    """An invalid key, an invalid value, an unknown reference and a bad filter are all reported in one run."""
    engagement = replaced(ENGAGEMENT, "min_events: 2", "min_events: many")
    metrics = replaced(METRICS, "filter: \"event_name in ('login', 'page_view')\"", "filter: \"getenv('HOME') = ''\"")
    health = replaced(HEALTH, "    population: {source: events}", "    population: {source: event}")
    project = write_project(tmp_path, engagement=engagement + "\n" + STICKINESS, metrics=metrics, health=health)
    (project / "models" / "more.yml").write_text("stickiness:\n  - name: x\n    levle: any\n", encoding="utf-8")

    issues = api.validate(project)

    assert codes(issues) == ["invalid-expression", "invalid-type", "unknown-key", "unknown-source"]
    by_code = {issue.code: issue for issue in issues}
    assert by_code["invalid-type"].location.key_path == ("engagement", "tiers", 2, "min_events")
    assert by_code["invalid-expression"].location.key_path == ("account_metrics", 2, "filter")
    assert by_code["unknown-source"].hint == "Did you mean 'events'?"
    assert by_code["unknown-key"].location.file.name == "more.yml"


def test_unreadable_file_and_others(tmp_path: Path):
    """A file that does not parse hides no problem of the other files, but references are not checked."""
    engagement = replaced(ENGAGEMENT, "min_events: 2", "min_events: many")
    health = replaced(HEALTH, "    population: {source: events}", "    population: {source: event}")
    project = write_project(tmp_path, engagement=engagement + "\n" + STICKINESS, health=health)
    (project / "models" / "broken.yml").write_text("stickiness:\n  - name: x\n   level: any\n", encoding="utf-8")

    issues = api.validate(project)

    assert codes(issues) == ["invalid-type", "yaml-syntax"]


def test_invalid_definition_not_unknown(tmp_path: Path):
    """A reference to a definition that is itself invalid is not reported a second time as unknown."""
    metrics = replaced(METRICS, "    aggregate: count_distinct\n", "    aggregate: distinct\n")

    issues = api.validate(write_project(tmp_path, metrics=metrics))

    assert codes(issues) == ["invalid-value"]
    assert issues[0].location.key_path == ("account_metrics", 1, "aggregate")


# Command line

def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["healthlayer", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    out, err = capsys.readouterr()
    return exited.value.code, out, err


def test_warnings_exit_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    project = write_project(tmp_path / "p")
    monkeypatch.chdir(project)

    code, out, err = run(monkeypatch, capsys, "validate")

    assert code == 0
    assert out.startswith("models/metrics.yml:11:5: warning unused-definition at account_metrics[2].name: ")
    assert err == "0 error(s), 1 warning(s)\n"


def test_strict_fails_on_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]):
    project = write_project(tmp_path / "p")
    monkeypatch.chdir(project)

    code, out, _ = run(monkeypatch, capsys, "validate", "--strict", "--format", "github")

    assert code == 1
    assert out.startswith("::warning file=models/metrics.yml,line=11,col=5,title=unused-definition::")


def test_warning_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    project = write_project(tmp_path / "p")
    monkeypatch.chdir(project)

    code, out, _ = run(monkeypatch, capsys, "validate", "--format", "json")

    report = json.loads(out)
    assert code == 0
    assert report["errors"] == 0
    assert report["warnings"] == 1
    assert report["issues"][0]["severity"] == "warning"
    assert report["issues"][0]["key"] == "account_metrics[2].name"


def test_project_file_error_and_others(tmp_path: Path):
    """An invalid setting in healthlayer.yml does not hide the problems of the definition files."""
    project_file = PROJECT_FILE + "lint:\n  ignore:\n    missing-trend: ''\n"
    metrics = replaced(METRICS, "    aggregate: count_distinct\n", "    aggregate: distinct\n")

    issues = api.validate(write_project(tmp_path, project_file, metrics=metrics))

    assert codes(issues) == ["invalid-value", "invalid-value"]
    assert sorted(issue.location.file.name for issue in issues) == ["healthlayer.yml", "metrics.yml"]


def test_unused_metric_expression_checked(tmp_path: Path):
    metrics = METRICS + ("  - name: spare\n    source: events\n    aggregate: count\n"
                         "    filter: \"feature = 'x' and\"\n    lint_ignore: {unused-definition: Kept for later.}\n")

    issue = only(api.validate(write_project(tmp_path, metrics=metrics)), "invalid-expression")

    assert issue.location.key_path == ("account_metrics", 3, "filter")


def test_passive_events_any_spelling(tmp_path: Path):
    engagement = replaced(ENGAGEMENT, "[report_created, query_run]", "[report_created, Dashboard Glance]")
    project_file = PROJECT_FILE + "lint:\n  passive_events: [Dashboard Glance]\n"

    issues = api.validate(write_project(tmp_path, project_file, engagement=engagement + "\n" + STICKINESS))

    assert "Dashboard Glance" in only(issues, "passive-activity").message


def test_long_secret_not_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A message that shortens a long value with '...' shows no part of an env_var() secret."""
    secret = "tok_" + "A1b2C3d4" * 10
    monkeypatch.setenv("HL_TEST_LONG_SECRET", secret)
    stickiness = replaced(STICKINESS, "    min_denominator: 3\n",
                          "    min_denominator: \"{{ env_var('HL_TEST_LONG_SECRET') }}\"\n")

    issues = api.validate(write_project(tmp_path, engagement=ENGAGEMENT + "\n" + stickiness))

    issue = only(issues, "invalid-type")
    assert secret[:12] not in issue.message
    assert "***" in issue.message


def test_tier_covered_by_two_tiers(tmp_path: Path):
    engagement = replaced(ENGAGEMENT, "[report_created, query_run]", "[login, report_created]")
    engagement = replaced(engagement, "      events: [automation_built]\n      min_events: 2\n",
                          "      events: [page_view, automation_built]\n")

    issue = only(api.validate(write_project(tmp_path, engagement=engagement + "\n" + STICKINESS)), "unreachable-tier")

    assert issue.location.key_path == ("engagement", "tiers", 0, "events")
    assert issue.message == ("no user can be in tier 'passive': the higher tiers 'active', 'power' together accept "
                             "every event of this tier without a filter or threshold")


def test_star_inside_events_list(tmp_path: Path):
    engagement = replaced(ENGAGEMENT, "[report_created, query_run]", "[report_created, '*']")

    issue = only(api.validate(write_project(tmp_path, engagement=engagement + "\n" + STICKINESS)), "invalid-value")

    assert issue.location.key_path == ("engagement", "tiers", 1)
    assert issue.hint == "Write events: '*' for every event, or list event names."


def test_duplicate_engagement_no_cascade(tmp_path: Path):
    """Stickiness that names tiers of either of two engagement blocks gets no unknown-tier error."""
    project = write_project(tmp_path)
    (project / "models" / "more.yml").write_text("engagement:\n  source: events\n  tiers:\n    - {name: t1, events: [x]}\n",
                                                 encoding="utf-8")

    issues = api.validate(project)

    issue = only(issues, "duplicate-name")
    assert codes(issues) == ["duplicate-name"]
    assert issue.message.endswith("the other definition is at models/engagement.yml:1")
