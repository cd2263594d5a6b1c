"""Validation issues of broken copies of tests/fixtures/shop: code, place, message and hint.

Each case copies the fixture project to tmp_path, breaks one thing and calls
`healthlayer.api.validate`, which must return issues and never raise. Line numbers refer to the
fixture files after the edit. `FORMATTED` pins the full `Issue.format()` text of one issue per
code, because people and CI logs read that text.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from healthlayer import api
from healthlayer.definitions.issues import Issue

ENGAGEMENT = "models/engagement.yml"
HEALTH = "models/health.yml"
METRICS = "models/metrics.yml"
PROJECT_FILE = "healthlayer.yml"
BUYER_FILTER = 'filter: "amount > 0"'
BUYER_TARGET = "{{ var('buyer_share_target') }}"
TIME_ZONE = "time_zone: Europe/Berlin\n"
# Time limit for inputs built to be expensive. The loader rejects each of them in well under a second.
FAST_SECONDS = 5.0
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def replace_text(project: Path, relative: str, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in a project file."""
    path = project / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {relative}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def only_issue(issues: list[Issue]) -> Issue:
    assert len(issues) == 1, "\n".join(issue.format() for issue in issues)
    return issues[0]


@dataclass(frozen=True)
class Case:
    """One broken project: edits to fixture files, new files, and the issue expected."""

    edits: tuple[tuple[str, str, str], ...]
    code: str
    file: str
    line: int | None
    key_path: tuple
    message: str | None = None
    hint: str | None = None
    files: dict[str, str] = field(default_factory=dict)


def stickiness_name(name: str) -> tuple[tuple[str, str, str], ...]:
    return ((ENGAGEMENT, "  - name: stickiness_daily\n", f"  - name: {name}\n"),)


def tier_filter(text: str) -> tuple[tuple[str, str, str], ...]:
    return ((ENGAGEMENT, BUYER_FILTER, f"filter: {text}"),)


def tier_window(text: str) -> tuple[tuple[str, str, str], ...]:
    return ((ENGAGEMENT, "  tier_window: 7 days\n", f"  tier_window: {text}\n"),)


def template(text: str) -> tuple[tuple[str, str, str], ...]:
    return ((ENGAGEMENT, BUYER_TARGET, text),)


SOURCES = "models/sources.yml"
ORDERS_TREND = "trend: {metric: orders_30d, days: 7, change: difference}"
# Edits that make the accounts source a history of seats and segments, valid from `changed_on`.
ACCOUNT_HISTORY = (
    (SOURCES, "    table: raw.accounts\n", "    table: raw.accounts\n    valid_from: changed_on\n"),
    (SOURCES, "      segment: text\n", "      segment: text\n      changed_on: date\n"),
)


POPULATION = "    population: {source: events, filter: \"plan <> 'internal'\"}\n"
VALID_FROM_MESSAGE = ("'accounts.changed_on' is the valid_from column of source 'accounts', the day from which each "
                      "row holds, not an attribute")
VALID_FROM_HINT = "Name an attribute column of the source; its attributes are 'accounts.seats', 'accounts.segment'."


def orders_trend(text: str) -> tuple[tuple[str, str, str], ...]:
    return ((HEALTH, ORDERS_TREND, text),)


FILTER_KEY = ("engagement", "tiers", 1, "filter")
ALLOWED_FUNCTIONS_HINT = ("Allowed functions: lower, upper, length, trim, substring, abs, round, floor, ceil, "
                          "coalesce, nullif, least, greatest, cast, case.")
TIME_ZONE_EXAMPLES = "Use names such as 'UTC', 'Europe/Berlin' or 'America/New_York', not abbreviations such as 'CET'."

SOURCES = "models/sources.yml"
ACCOUNT_COLUMNS = "      seats: number\n      segment: text\n"
NPS_COLUMNS = "      responded_at: timestamptz\n      score: number\n"


def derived(text: str, columns: str = ACCOUNT_COLUMNS) -> tuple[tuple[str, str, str], ...]:
    return ((SOURCES, columns, columns + "    derived:\n" + text),)


ALERTS_FILE = "models/health_alerts.yml"
HEALTH_ALERT = """alerts:
  - name: health_drop
    type: score_drop
    score: account_health
    points: 15
    days: 7
    respond_within: 2 days
  - name: weekly_review
    type: red_review
    score: account_health
    band: critical
    weekday: monday
    respond_within: 3 days
  - name: gone_quiet
    type: stale_data
    source: nps
    silent_for: 30 days
    respond_within: 2 days
"""


def health_alerts(old: str = "", new: str = "") -> dict[str, str]:
    """Return the file of valid health alert rules, with the first `old` replaced by `new`."""
    assert old in HEALTH_ALERT
    return {ALERTS_FILE: HEALTH_ALERT.replace(old, new, 1) if old else HEALTH_ALERT}


CASES = {
    # Attribute histories and trends of attributes.
    "valid-from-with-timestamp": Case(
        ((SOURCES, "    timestamp: responded_at\n", "    timestamp: responded_at\n    valid_from: responded_at\n"),),
        "invalid-value", "sources.yml", 22, ("sources", 2),
        "a source cannot have both 'timestamp' and 'valid_from'",
        "Use 'timestamp' for a source of events, or 'valid_from' for a history of account attributes, one row "
        "per account and change."),
    "valid-from-type": Case(
        ((SOURCES, "    table: raw.accounts\n", "    table: raw.accounts\n    valid_from: segment\n"),),
        "invalid-value", "sources.yml", 15, ("sources", 1),
        "the 'valid_from' column 'segment' is declared as text",
        "Declare it as one of date, timestamp, timestamptz."),
    "trend-metric-and-attribute": Case(
        orders_trend("trend: {metric: orders_30d, attribute: accounts.seats, days: 7}"),
        "invalid-value", "health.yml", 50, ("health_scores", 0, "categories", 1, "components", 3, "trend"),
        "a trend needs exactly one of 'metric' and 'attribute', got both",
        "Follow one value: 'metric: <account metric or view.column>', or 'attribute: <source.column>' of a "
        "source with 'valid_from'."),
    "trend-without-value": Case(
        orders_trend("trend: {days: 7, change: difference}"),
        "invalid-value", "health.yml", 50, ("health_scores", 0, "categories", 1, "components", 3, "trend"),
        "a trend needs exactly one of 'metric' and 'attribute'"),
    "trend-of-snapshot": Case(
        orders_trend("trend: {attribute: accounts.seats, days: 7}"),
        "trend-without-history", "health.yml", 50,
        ("health_scores", 0, "categories", 1, "components", 3, "trend", "attribute"),
        "attribute 'accounts.seats' has no history: source 'accounts' holds one value per account, so its trend "
        "would always be 0",
        "Add 'valid_from: <column>' to source 'accounts', with one row per account and change, or score the "
        "attribute itself with 'attribute:'."),
    "trend-unknown-attribute": Case(
        ACCOUNT_HISTORY + orders_trend("trend: {attribute: accounts.seat, days: 7}"),
        "unknown-attribute", "health.yml", 50,
        ("health_scores", 0, "categories", 1, "components", 3, "trend", "attribute"),
        "attribute 'accounts.seat' is not defined",
        "Did you mean 'accounts.seats'? Name source.column of a source with 'valid_from'."),
    "trend-of-valid-from": Case(
        ACCOUNT_HISTORY + orders_trend("trend: {attribute: accounts.changed_on, days: 7}"),
        "unknown-attribute", "health.yml", 50,
        ("health_scores", 0, "categories", 1, "components", 3, "trend", "attribute"),
        VALID_FROM_MESSAGE, VALID_FROM_HINT),
    "attribute-of-valid-from": Case(
        ACCOUNT_HISTORY + ((HEALTH, "attribute: accounts.seats", "attribute: accounts.changed_on"),),
        "unknown-attribute", "health.yml", 73, ("health_scores", 0, "categories", 2, "components", 1, "attribute"),
        VALID_FROM_MESSAGE, VALID_FROM_HINT),
    "segment-of-valid-from": Case(
        ACCOUNT_HISTORY + ((HEALTH, POPULATION, POPULATION + "    segment: accounts.changed_on\n"),),
        "unknown-attribute", "health.yml", 4, ("health_scores", 0, "segment"), VALID_FROM_MESSAGE, VALID_FROM_HINT),
    "within-of-valid-from": Case(
        ACCOUNT_HISTORY + ((HEALTH, "            score: {function: percentile}\n          - name: revenue_trend",
                            "            score: {function: percentile, within: accounts.changed_on}\n"
                            "          - name: revenue_trend"),),
        "unknown-attribute", "health.yml", 37, ("health_scores", 0, "categories", 1, "components", 0, "score", "within"),
        VALID_FROM_MESSAGE, VALID_FROM_HINT),
    "segment-weights-null-key": Case(
        ((HEALTH, POPULATION, POPULATION + "    segment: accounts.segment\n    segment_weights:\n"
          "      null: {engagement: 40, commercial: 40, relationship: 20}\n"),),
        "yaml-key-type", "health.yml", 6, ("health_scores", 0, "segment_weights"),
        "segment_weights key null is not text: each key is the text of a segment value, and YAML reads null as "
        "null, no value",
        "Quote the key, as in 'null': {...}. An account whose segment value is NULL takes the categories' own "
        "weights, so NULL needs no key."),
    "mapping-number-key": Case(
        ((ENGAGEMENT, "    level: buyer\n", "    level: buyer\n    1: x\n"),),
        "yaml-key-type", "engagement.yml", 18, ("stickiness", 0),
        "mapping key 1 is not text: YAML reads it as a number", "Quote the key, as in '1':, or use a text key."),
    # Malformed YAML.
    "yaml-bad-indentation": Case(
        ((ENGAGEMENT, "    level: buyer\n", "     level: buyer\n"),),
        "yaml-syntax", "engagement.yml", 17, (),
        "invalid YAML: mapping values are not allowed here",
        "Check indentation, colons and quotes on this line and the one above."),
    "yaml-tab": Case(
        ((ENGAGEMENT, "    level: buyer\n", "\tlevel: buyer\n"),),
        "yaml-syntax", "engagement.yml", 17, (),
        "invalid YAML: found character '\\t' that cannot start any token"),
    "yaml-duplicate-key": Case(
        ((ENGAGEMENT, "    level: buyer\n", "    level: buyer\n    level: any\n"),),
        "yaml-duplicate-key", "engagement.yml", 18, ("stickiness", 0, "level"),
        "key 'level' appears twice in this mapping (first on line 17)", "Remove one of the two entries."),
    # Unknown, missing and mistyped keys.
    "unknown-top-level-key": Case(
        ((ENGAGEMENT, "stickiness:\n", "stickyness:\n"),),
        "unknown-kind", "engagement.yml", 15, ("stickyness",),
        "unknown top-level key 'stickyness'", "Did you mean 'stickiness'?"),
    "unknown-key-in-definition": Case(
        ((ENGAGEMENT, "    level: buyer\n", "    levle: buyer\n"),),
        "unknown-key", "engagement.yml", 17, ("stickiness", 0, "levle"),
        "unknown key 'levle'", "Did you mean 'level'?"),
    "unknown-key-in-score": Case(
        ((HEALTH, "score: {function: linear, lower: 0, upper: 10}",
          "score: {function: linear, lower: 0, upper: 10, higher_is_beter: false}"),),
        "unknown-key", "health.yml", 47,
        ("health_scores", 0, "categories", 1, "components", 2, "score", "higher_is_beter"),
        "unknown key 'higher_is_beter'", "Did you mean 'higher_is_better'?"),
    "missing-required-key": Case(
        ((METRICS, "    aggregate: sum\n", ""),),
        "missing-key", "metrics.yml", 12, ("account_metrics", 2),
        "missing required key 'aggregate'", "Add 'aggregate' to this mapping."),
    "name-upper-case": Case(
        stickiness_name("Stickiness_Daily"), "invalid-name", "engagement.yml", 16, ("stickiness", 0, "name"),
        "invalid name 'Stickiness_Daily': use lower-case letters, digits and underscores, starting with a letter "
        "or underscore, at most 63 characters", "Write 'stickiness_daily'."),
    "window-too-long": Case(
        tier_window("400 days"), "invalid-value", "engagement.yml", 3, ("engagement", "tier_window"),
        "expected at most 366 days, got 400 days"),
    "weight-infinite": Case(
        ((HEALTH, "weight: 30", "weight: .inf"),), "invalid-value", "health.yml", 31,
        ("health_scores", 0, "categories", 1, "weight"), "input should be a finite number, got inf"),
    "category-shadows-health-score": Case(
        ((HEALTH, "      - name: commercial\n", "      - name: health\n"),), "duplicate-column", "health.yml", 2,
        ("health_scores", 0), "view 'account_health' would have two columns named 'health_score'"),
    "weight-is-text": Case(
        ((HEALTH, "        weight: 30\n        missing: {impute: 50}", "        weight: thirty\n        missing: {impute: 50}"),),
        "invalid-type", "health.yml", 31, ("health_scores", 0, "categories", 1, "weight"),
        "expected a number, got 'thirty'"),
    # Names.
    "name-with-spaces": Case(
        stickiness_name("sticky daily"),
        "invalid-name", "engagement.yml", 16, ("stickiness", 0, "name"),
        "invalid name 'sticky daily': use lower-case letters, digits and underscores, starting with a letter or "
        "underscore, at most 63 characters"),
    "name-with-quote": Case(
        stickiness_name("'sticky\"daily'"),
        "invalid-name", "engagement.yml", 16, ("stickiness", 0, "name")),
    "name-with-sql-injection": Case(
        stickiness_name("'x\"; drop table y; --'"),
        "invalid-name", "engagement.yml", 16, ("stickiness", 0, "name"),
        "invalid name 'x\"; drop table y; --': use lower-case letters, digits and underscores, starting with a letter "
        "or underscore, at most 63 characters"),
    # References.
    "unknown-source": Case(
        ((ENGAGEMENT, "  source: events\n", "  source: event\n"),),
        "unknown-source", "engagement.yml", 2, ("engagement", "source"),
        "source 'event' is not defined", "Did you mean 'events'?"),
    "unknown-tier-level": Case(
        ((ENGAGEMENT, "    level: buyer\n", "    level: buyers\n"),),
        "unknown-tier", "engagement.yml", 17, ("stickiness", 0, "level"),
        "activity level 'buyers' is not 'any' or a tier", "Did you mean 'buyer'?"),
    "unknown-tier-target": Case(
        ((ENGAGEMENT, "      tier: buyer\n", "      tier: power_user\n"),),
        "unknown-tier", "engagement.yml", 30, ("tier_mix", 0, "target", "tier"),
        "target tier 'power_user' is not a tier", "Did you mean 'power'?"),
    "unknown-tier-alert-from": Case(
        ((ENGAGEMENT, "    from: power\n", "    from: pwer\n"),),
        "unknown-tier", "engagement.yml", 36, ("alerts", 0, "from"),
        "tier 'pwer' is not defined", "Did you mean 'power'?"),
    "unknown-tier-alert-to": Case(
        ((ENGAGEMENT, "    to: buyer\n", "    to: nobody\n"),),
        "unknown-tier", "engagement.yml", 37, ("alerts", 0, "to"),
        "tier 'nobody' is not defined", "Valid names: 'browser', 'buyer', 'inactive', 'power'."),
    "tier-drop-upwards": Case(
        ((ENGAGEMENT, "    from: power\n    to: buyer\n", "    from: browser\n    to: power\n"),),
        "invalid-tier-drop", "engagement.yml", 37, ("alerts", 0, "to"),
        "'browser' to 'power' is not a drop",
        "A tier drop goes from a higher tier to a lower one; tiers are ordered inactive < browser < buyer < power."),
    "tier-drop-same-tier": Case(
        ((ENGAGEMENT, "    from: power\n    to: buyer\n", "    from: buyer\n    to: buyer\n"),),
        "invalid-tier-drop", "engagement.yml", 37, ("alerts", 0, "to"),
        "'buyer' to 'buyer' is not a drop"),
    "health-alert-unknown-score": Case(
        (), "unknown-health-score", "health_alerts.yml", 4, ("alerts", 0, "score"),
        "health score 'account_helth' is not defined", "Did you mean 'account_health'?",
        files=health_alerts("score: account_health", "score: account_helth")),
    "health-alert-unknown-band": Case(
        (), "unknown-band", "health_alerts.yml", 11, ("alerts", 1, "band"),
        "band 'red' is not a band of health score 'account_health'",
        "Valid names: 'at_risk', 'critical', 'steady', 'thriving'.",
        files=health_alerts("band: critical", "band: red")),
    "health-alert-unknown-target-band": Case(
        (), "unknown-band", "health_alerts.yml", 5, ("alerts", 0, "to", 1),
        "band 'stedy' is not a band of health score 'account_health'", "Did you mean 'steady'?",
        files=health_alerts("    type: score_drop\n    score: account_health\n    points: 15\n    days: 7\n",
                            "    type: band_change\n    score: account_health\n    to: [critical, stedy]\n")),
    "health-alert-points-zero": Case(
        (), "invalid-value", "health_alerts.yml", 5, ("alerts", 0, "points"),
        "input should be greater than 0, got 0", "Write a value that is above 0.",
        files=health_alerts("points: 15", "points: 0")),
    "health-alert-days-zero": Case(
        (), "invalid-value", "health_alerts.yml", 6, ("alerts", 0, "days"),
        "a duration must be positive, got 0", "Write a length of at least 1.",
        files=health_alerts("days: 7", "days: 0")),
    "health-alert-weekday": Case(
        (), "invalid-value", "health_alerts.yml", 12, ("alerts", 1, "weekday"),
        "invalid value 'mondy': expected 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday' or "
        "'sunday'", "Did you mean 'monday'?",
        files=health_alerts("weekday: monday", "weekday: mondy")),
    "health-alert-silent-for-zero": Case(
        (), "invalid-value", "health_alerts.yml", 17, ("alerts", 2, "silent_for"),
        "a duration must be positive, got '0 days'", "Write a length of at least 1.",
        files=health_alerts("silent_for: 30 days", "silent_for: 0 days")),
    "health-alert-source-without-timestamp": Case(
        (), "source-without-timestamp", "health_alerts.yml", 16, ("alerts", 2, "source"),
        "source 'accounts' has no timestamp column, so its rows have no day",
        "Name a source with 'timestamp:', such as an event or ticket table.",
        files=health_alerts("source: nps", "source: accounts")),
    "health-alert-unknown-source": Case(
        (), "unknown-source", "health_alerts.yml", 16, ("alerts", 2, "source"),
        "source 'npx' is not defined", "Did you mean 'nps'?",
        files=health_alerts("source: nps", "source: npx")),
    "health-alert-active-days-above-lookback": Case(
        (), "invalid-value", "health_alerts.yml", 18, ("alerts", 2, "min_active_days"),
        "'min_active_days' (10) is more than the 7 days of 'lookback'",
        "Lower 'min_active_days', or lengthen 'lookback'.",
        files=health_alerts("    silent_for: 30 days\n", "    silent_for: 30 days\n    min_active_days: 10\n"
                            "    lookback: 1 week\n")),
    "health-alert-missing-type": Case(
        (), "missing-key", "health_alerts.yml", 8, ("alerts", 1),
        "missing key 'type'", "Say which alert type the rule is, for example type: band_change.",
        files=health_alerts("    type: red_review\n", "")),
    "health-alert-unknown-type": Case(
        (), "invalid-value", "health_alerts.yml", 2, ("alerts", 0),
        "invalid 'type' 'score_fall': expected 'tier_drop', 'band_change', 'score_drop', 'red_review', 'stale_data'",
        "Did you mean 'score_drop'?",
        files=health_alerts("type: score_drop", "type: score_fall")),
    "health-alert-name-of-tier-drop": Case(
        (), "duplicate-name", "health_alerts.yml", 2, ("alerts", 0, "name"),
        "alert 'power_drop' is defined twice; the other definition is at models/engagement.yml:34",
        "Rename or remove one of them.",
        files=health_alerts("name: health_drop", "name: power_drop")),
    "unknown-metric": Case(
        ((HEALTH, "            metric: areas_30d\n", "            metric: area_30d\n"),),
        "unknown-metric", "health.yml", 27, ("health_scores", 0, "categories", 0, "components", 2, "metric"),
        "metric 'area_30d' is not defined",
        "Did you mean 'areas_30d'? Name an account metric, or view.column of a stickiness or tier-mix view by "
        "account."),
    "unknown-attribute": Case(
        ((HEALTH, "attribute: accounts.seats", "attribute: accounts.seat"),),
        "unknown-attribute", "health.yml", 73,
        ("health_scores", 0, "categories", 2, "components", 1, "attribute"),
        "attribute 'accounts.seat' is not defined",
        "Did you mean 'accounts.seats'? Name source.column of a source without a timestamp."),
    "unknown-percentile-segment": Case(
        ((HEALTH, "            metric: areas_30d\n            score: {function: percentile}\n",
          "            metric: areas_30d\n            score: {function: percentile, within: accounts.plan}\n"),),
        "unknown-attribute", "health.yml", 28,
        ("health_scores", 0, "categories", 0, "components", 2, "score", "within"),
        "attribute 'accounts.plan' is not defined",
        "Did you mean 'accounts.seats'? Name source.column of a source without a timestamp, such as the account's "
        "plan."),
    "segment-weights-without-segment": Case(
        ((HEALTH, "    missing: renormalize\n",
          "    missing: renormalize\n    segment_weights:\n      enterprise: {engagement: 50, commercial: 30, relationship: 20}\n"),),
        "invalid-value", "health.yml", 5, ("health_scores", 0, "segment_weights"),
        "'segment_weights' needs 'segment', the attribute whose value selects them",
        "Add 'segment: source.column', such as segment: accounts.plan."),
    "segment-unknown-attribute": Case(
        ((HEALTH, "    missing: renormalize\n", "    missing: renormalize\n    segment: accounts.plan\n"),),
        "unknown-attribute", "health.yml", 5, ("health_scores", 0, "segment"),
        "attribute 'accounts.plan' is not defined",
        "Did you mean 'accounts.seats'? Name source.column of a source without a timestamp, such as the account's "
        "plan."),
    "segment-unknown-category": Case(
        ((HEALTH, "    missing: renormalize\n",
          "    missing: renormalize\n    segment: accounts.segment\n    segment_weights:\n"
          "      '10': {engagment: 50, commercial: 30, relationship: 20}\n"),),
        "unknown-category", "health.yml", 7, ("health_scores", 0, "segment_weights", "10", "engagment"),
        "segment '10' weights category 'engagment', which the score does not have",
        "Did you mean 'engagement'? The categories are engagement, commercial, relationship."),
    "segment-missing-category": Case(
        ((HEALTH, "    missing: renormalize\n",
          "    missing: renormalize\n    segment: accounts.segment\n    segment_weights:\n"
          "      '10': {engagement: 70, commercial: 30}\n"),),
        "invalid-value", "health.yml", 7, ("health_scores", 0, "segment_weights", "10"),
        "segment '10' gives no weight to relationship", "Give every category a weight in each segment."),
    "segment-weights-not-100": Case(
        ((HEALTH, "    missing: renormalize\n",
          "    missing: renormalize\n    segment: accounts.segment\n    segment_weights:\n"
          "      '10': {engagement: 70, commercial: 30, relationship: 20}\n"),),
        "weights-not-100", "health.yml", 7, ("health_scores", 0, "segment_weights", "10"),
        "the category weights of segment '10' sum to 120, not 100",
        "Change the weights so that they sum to 100, or set 'normalize: true' on the health score."),
    # Duplicate names: the issue is at the second definition and its message names the first.
    "duplicate-stickiness": Case(
        (), "duplicate-name", "more.yml", 2, ("stickiness", 0, "name"),
        "stickiness metric 'stickiness_daily' is defined twice; the other definition is at models/engagement.yml:16",
        "Rename or remove one of them.",
        files={"models/more.yml": "stickiness:\n  - name: stickiness_daily\n    level: any\n"}),
    "duplicate-account-metric": Case(
        (), "duplicate-name", "more.yml", 2, ("account_metrics", 0, "name"),
        "account metric 'orders_30d' is defined twice; the other definition is at models/metrics.yml:2",
        files={"models/more.yml": "account_metrics:\n  - name: orders_30d\n    source: events\n    aggregate: count\n"}),
    # Weights and bands.
    "category-weights-not-100": Case(
        ((HEALTH, "        weight: 30\n        missing: {impute: 50}", "        weight: 35\n        missing: {impute: 50}"),),
        "weights-not-100", "health.yml", 10, ("health_scores", 0, "categories"),
        "the category weights sum to 105, not 100",
        "Change the weights so that they sum to 100, or set 'normalize: true' on the health score."),
    "component-weights-not-100": Case(
        ((HEALTH, "          - name: orders\n            weight: 20\n", "          - name: orders\n            weight: 21\n"),),
        "weights-not-100", "health.yml", 33, ("health_scores", 0, "categories", 1, "components")),
    "bands-without-zero": Case(
        ((HEALTH, "      - {name: critical, min: 0}\n", ""),),
        "band-gap", "health.yml", 5, ("health_scores", 0, "bands"),
        "no band starts at 0, so scores below 20 have no band", "Give the lowest band 'min: 0'."),
    "bands-duplicate-min": Case(
        ((HEALTH, "      - {name: at_risk, min: 20}\n", "      - {name: at_risk, min: 50}\n"),),
        "overlapping-bands", "health.yml", 8, ("health_scores", 0, "bands", 2, "min"),
        "bands 'steady' (line 7) and 'at_risk' have the same 'min' 50", "Give each band its own lower bound."),
    # Components and scoring functions.
    "component-two-values": Case(
        ((HEALTH, "            metric: areas_30d\n", "            metric: areas_30d\n            attribute: accounts.seats\n"),),
        "invalid-value", "health.yml", 25, ("health_scores", 0, "categories", 0, "components", 2),
        "a component needs exactly one of 'metric', 'attribute' and 'trend', got metric, attribute"),
    "component-without-score": Case(
        ((HEALTH, "            metric: revenue_90d\n            score: {function: percentile}\n",
          "            metric: revenue_90d\n"),),
        "missing-key", "health.yml", 34, ("health_scores", 0, "categories", 1, "components", 0),
        "missing required key 'score'", "Add 'score' to this mapping."),
    "unknown-scoring-function": Case(
        ((HEALTH, "            metric: revenue_90d\n            score: {function: percentile}\n",
          "            metric: revenue_90d\n            score: {function: percentil}\n"),),
        "invalid-value", "health.yml", 37, ("health_scores", 0, "categories", 1, "components", 0, "score"),
        "invalid 'function' 'percentil': expected 'linear', 'steps', 'percentile'", "Did you mean 'percentile'?"),
    "linear-lower-equals-upper": Case(
        ((HEALTH, "score: {function: linear, lower: 0, upper: 10}", "score: {function: linear, lower: 10, upper: 10}"),),
        "invalid-value", "health.yml", 47, ("health_scores", 0, "categories", 1, "components", 2, "score"),
        "'lower' (10.0) must be below 'upper' (10.0)"),
    "linear-lower-above-upper": Case(
        ((HEALTH, "score: {function: linear, lower: 0, upper: 10}", "score: {function: linear, lower: 10, upper: 0}"),),
        "invalid-value", "health.yml", 47, ("health_scores", 0, "categories", 1, "components", 2, "score"),
        "'lower' (10.0) must be below 'upper' (0.0)"),
    "steps-not-ascending": Case(
        ((HEALTH, "steps: [{min: 0.1, score: 40}, {min: 0.3, score: 80}",
          "steps: [{min: 0.3, score: 40}, {min: 0.1, score: 80}"),),
        "invalid-value", "health.yml", 24,
        ("health_scores", 0, "categories", 0, "components", 1, "score", "steps"),
        "step breakpoints must be in ascending order of 'min', without repeats"),
    # Windows.
    "window-zero-days": Case(
        tier_window("0 days"), "invalid-value", "engagement.yml", 3, ("engagement", "tier_window"),
        "a duration must be positive, got '0 days'"),
    "window-negative-number": Case(
        tier_window("-3"), "invalid-value", "engagement.yml", 3, ("engagement", "tier_window"),
        "a duration must be positive, got -3"),
    "window-negative-text": Case(
        tier_window("'-3'"), "invalid-value", "engagement.yml", 3, ("engagement", "tier_window"),
        "expected a duration such as '7 days', '1 week' or '48 hours', got '-3'"),
    "window-fortnight": Case(
        tier_window("1 fortnight"), "invalid-value", "engagement.yml", 3, ("engagement", "tier_window"),
        "expected a duration such as '7 days', '1 week' or '48 hours', got '1 fortnight'"),
    "window-in-hours": Case(
        ((METRICS, "    window: 30 days\n  - name: areas_30d", "    window: 36 hours\n  - name: areas_30d"),),
        "invalid-value", "metrics.yml", 6, ("account_metrics", 0, "window"),
        "expected a whole number of days, got '36 hours'"),
    "materialized-without-value": Case(
        ((ENGAGEMENT, "  tier_window: 7 days\n", "  tier_window: 7 days\n  materialized:\n"),),
        "invalid-value", "engagement.yml", 4, ("engagement", "materialized"),
        "no value: expected 'view', 'table' or 'incremental'"),
    # Time zones.
    "time-zone-abbreviation": Case(
        ((PROJECT_FILE, TIME_ZONE, "time_zone: CET\n"),),
        "invalid-time-zone", "healthlayer.yml", 5, ("time_zone",),
        "'CET' is not an IANA time zone name"),
    "time-zone-unknown": Case(
        ((PROJECT_FILE, TIME_ZONE, "time_zone: Mars/Olympus\n"),),
        "invalid-time-zone", "healthlayer.yml", 5, ("time_zone",),
        "'Mars/Olympus' is not an IANA time zone name"),
    # Jinja.
    "template-undefined-var": Case(
        template("{{ var('buyer_target') }}"), "template-undefined", "engagement.yml", 31, (),
        "var('buyer_target') is not defined",
        "Add 'buyer_target' under 'vars' in healthlayer.yml, pass --var buyer_target=VALUE, or give a default: "
        "var('name', default)."),
    "template-unset-env-var": Case(
        template("{{ env_var('HL_TEST_UNSET_VARIABLE') }}"), "template-undefined", "engagement.yml", 31, (),
        "environment variable 'HL_TEST_UNSET_VARIABLE' is not set",
        "Set HL_TEST_UNSET_VARIABLE in the environment, or give a default: "
        "env_var('HL_TEST_UNSET_VARIABLE', default)."),
    "template-class-attribute": Case(
        template("{{ ''.__class__ }}"), "template-unsafe", "engagement.yml", 31, (),
        "the template tried an unsafe operation: access to attribute '__class__' of 'str' object is unsafe.",
        "Templates may only call var() and env_var()."),
    "template-subclasses": Case(
        template("{{ ''.__class__.__mro__[1].__subclasses__() }}"), "template-unsafe", "engagement.yml", 31, ()),
    "template-function-globals": Case(
        template("{{ var.__globals__ }}"), "template-unsafe", "engagement.yml", 31, ()),
    "template-unknown-name": Case(
        template("{{ lipsum() }}"), "template-undefined", "engagement.yml", 31, (),
        "undefined name in template: 'lipsum' is undefined", "Only var() and env_var() are available in templates."),
    "template-include": Case(
        template("{% include 'secrets.yml' %}"), "template-statement", "engagement.yml", 31, (),
        "Jinja statements ({% ... %}) are not supported",
        "Use expressions only: {{ var('name', default) }} or {{ env_var('NAME') }}."),
    "template-loop": Case(
        template("{% for a in 'x' * 100000 %}{% for b in 'x' * 100000 %}{% endfor %}{% endfor %}"),
        "template-statement", "engagement.yml", 31, ()),
    "template-huge-string": Case(
        template("{{ 'x' * 100000000000 }}"), "template-unsafe", "engagement.yml", 31, (),
        "the template tried an unsafe operation: a template expression produced a value that is too large"),
    "template-division-by-zero": Case(
        template("{{ 1 / 0 }}"), "template-error", "engagement.yml", 31, (),
        "the template failed: division by zero"),
    "filter-floor-decimals": Case(
        tier_filter('"floor(amount, 2) > 1"'), "invalid-expression", "engagement.yml", 9, FILTER_KEY,
        "floor with a second argument is not allowed in the tier filter", "Use round(x, n) to round to n decimals."),
    "filter-cast-timestamp": Case(
        tier_filter('"cast(amount as timestamp) is null and amount > 0 and amont > 0"'), "invalid-expression",
        "engagement.yml", 9, FILTER_KEY, "unknown column 'amont' in the tier filter"),
    "filter-not-condition": Case(
        tier_filter('"amount"'), "invalid-expression", "engagement.yml", 9, FILTER_KEY,
        "the tier filter is not a condition: 'amount' is a value, not true or false"),
    "filter-nested-too-deeply": Case(
        tier_filter('"' + "(" * 80 + "amount > 0" + ")" * 80 + '"'), "invalid-expression", "engagement.yml", 9,
        FILTER_KEY, "the tier filter is nested too deeply"),
    "template-syntax": Case(
        template("{{ var('buyer_share_target' }}"), "template-syntax", "engagement.yml", 31, (),
        "invalid Jinja: unexpected '}', expected ')'", "Jinja expressions look like {{ var('name', default) }}."),
    "include-unknown-module": Case(
        ((PROJECT_FILE, "paths: [models]\n", "include: [standard/engagment]\npaths: [models]\n"),),
        "include-not-found", "healthlayer.yml", 6, ("include", 0),
        "library module 'standard/engagment' does not exist", "Did you mean 'standard/engagement'?"),
    # Filters and values: each is parsed with sqlglot and only safe scalar expressions pass.
    "filter-incomplete": Case(
        tier_filter('"amount > 0 and"'), "invalid-expression", "engagement.yml", 9, FILTER_KEY,
        "the tier filter is not a valid SQL expression: the expression is incomplete (column 14)",
        "Check quotes and parentheses; text values go in single quotes."),
    "filter-unknown-column": Case(
        tier_filter('"amount > 0 and amont < 5"'), "invalid-expression", "engagement.yml", 9, FILTER_KEY,
        "unknown column 'amont' in the tier filter",
        "Did you mean 'amount'? Declare it under the source's 'columns'."),
    "filter-subquery": Case(
        tier_filter('"amount > (select max(amount) from raw.events)"'), "invalid-expression", "engagement.yml",
        9, FILTER_KEY, "the tier filter contains a subquery", "Use only the source's columns and literals."),
    "filter-semicolon-statement": Case(
        tier_filter('"amount > 0; drop table raw.events"'), "invalid-expression", "engagement.yml", 9, FILTER_KEY,
        "the tier filter contains 2 statements", "Write one expression, without ';'."),
    "filter-ddl": Case(
        tier_filter('"drop table raw.events"'), "invalid-expression", "engagement.yml", 9, FILTER_KEY,
        "'DROP' is not allowed in the tier filter"),
    "filter-create-statement": Case(
        tier_filter('"create table x as select 1"'), "invalid-expression", "engagement.yml", 9, FILTER_KEY,
        "the tier filter is a statement, not an expression"),
    "filter-read-csv": Case(
        tier_filter("\"read_csv('/etc/passwd') is not null\""), "invalid-expression", "engagement.yml", 9,
        FILTER_KEY, "function 'read_csv' is not allowed in the tier filter", ALLOWED_FUNCTIONS_HINT),
    "filter-read-csv-subquery": Case(
        tier_filter("\"area in (select * from read_csv('/etc/passwd'))\""), "invalid-expression",
        "engagement.yml", 9, FILTER_KEY, "the tier filter contains a subquery"),
    "filter-pg-sleep": Case(
        tier_filter('"pg_sleep(10) is null"'), "invalid-expression", "engagement.yml", 9, FILTER_KEY,
        "function 'pg_sleep' is not allowed in the tier filter", ALLOWED_FUNCTIONS_HINT),
    "filter-unclosed-comment": Case(
        tier_filter('"amount > 0 /*"'), "invalid-expression", "engagement.yml", 9, FILTER_KEY,
        "the tier filter is not a valid SQL expression: Error tokenizing 'amount > 0 /'"),
    "filter-closing-quote": Case(
        tier_filter("\"area = 'x' ) or ( 1=1\""), "invalid-expression", "engagement.yml", 9, FILTER_KEY),
    "metric-value-function": Case(
        ((METRICS, "    value: area\n", "    value: \"read_csv('/etc/passwd')\"\n"),),
        "invalid-expression", "metrics.yml", 10, ("account_metrics", 1, "value"),
        "function 'read_csv' is not allowed in the value", ALLOWED_FUNCTIONS_HINT),
    "population-filter-subquery": Case(
        ((HEALTH, "filter: \"plan <> 'internal'\"", "filter: \"plan <> (select 'x')\""),),
        "invalid-expression", "health.yml", 3, ("health_scores", 0, "population", "filter"),
        "the filter contains a subquery"),
    # Derived columns of sources.
    "derived-invalid-expression": Case(
        derived("      seats_per_segment: seats / segmnt\n"), "invalid-expression", "sources.yml", 22,
        ("sources", 1, "derived", "seats_per_segment"),
        "unknown column 'segmnt' in the derived column",
        "Did you mean 'segment'? Declare it under the source's 'columns'."),
    "derived-on-time-stamped-source": Case(
        derived("      promoter: score >= 9\n", NPS_COLUMNS), "invalid-value", "sources.yml", 29,
        ("sources", 2, "derived"),
        "source 'nps' has a 'timestamp', and only attribute sources have derived columns"),
    "derived-name-of-column": Case(
        derived("      seats: seats * 2\n"), "duplicate-column", "sources.yml", 22,
        ("sources", 1, "derived", "seats"),
        "derived column 'seats' of source 'accounts' has the name of one of its columns",
        "Give the derived column a name of its own."),
    "attribute-suggests-derived": Case(
        derived("      seat_share: seats / 100\n") + ((HEALTH, "attribute: accounts.seats", "attribute: accounts.seat_shar"),),
        "unknown-attribute", "health.yml", 73,
        ("health_scores", 0, "categories", 2, "components", 1, "attribute"),
        "attribute 'accounts.seat_shar' is not defined",
        "Did you mean 'accounts.seat_share'? Name source.column of a source without a timestamp."),
    # Declared column types against literals and arithmetic.
    "text-column-compared-with-number": Case(
        ((SOURCES, "      score: number\n", "      score: text\n"),), "type-mismatch", "metrics.yml", 33,
        ("account_metrics", 5, "value"),
        "column 'score' of source 'nps' is declared text, but the value compares it with the number 9: score >= 9",
        "If the column holds numbers, declare 'score: number' under the columns of source 'nps' "
        "(models/sources.yml:28); otherwise cast it, as in cast(score as integer), or compare it with text in "
        "single quotes."),
    "text-column-between-numbers": Case(
        tier_filter('"plan between 1 and 3"'), "type-mismatch", "engagement.yml", 9, FILTER_KEY,
        "column 'plan' of source 'events' is declared text, but the tier filter compares it with the number 1: "
        "plan BETWEEN 1 AND 3"),
    "text-column-in-numbers": Case(
        ((METRICS, "aggregate: count\n    filter: \"event_type = 'checkout'\"",
          "aggregate: count\n    filter: \"lower(area) in ('books', 2)\""),),
        "type-mismatch", "metrics.yml", 5, ("account_metrics", 0, "filter"),
        "column 'area' of source 'events' is declared text, but the filter compares it with the number 2: "
        "LOWER(area) IN ('books', 2)"),
    "number-column-compared-with-text": Case(
        ((HEALTH, "filter: \"plan <> 'internal'\"", "filter: \"amount + 1 <> 'internal'\""),),
        "type-mismatch", "health.yml", 3, ("health_scores", 0, "population", "filter"),
        "column 'amount' of source 'events' is declared number, but the filter compares it with the text "
        "'internal': amount + 1 <> 'internal'",
        "Compare it with a number without quotes. If the column holds text, declare 'amount: text' under the "
        "columns of source 'events' (models/sources.yml:12), or cast it: cast(amount as text)."),
    "text-column-in-arithmetic": Case(
        derived("      seats_per_segment: seats / segment\n"), "type-mismatch", "sources.yml", 22,
        ("sources", 1, "derived", "seats_per_segment"),
        "column 'segment' of source 'accounts' is declared text, but the derived column uses it in arithmetic: "
        "seats / segment",
        "If the column holds numbers, declare 'segment: number' under the columns of source 'accounts' "
        "(models/sources.yml:20); otherwise cast it: cast(segment as double)."),
}

# The full text of one issue per code, as `validate` prints it.
FORMATTED = {
    "segment-unknown-category":
        "models/health.yml:7:14: error unknown-category at health_scores[0].segment_weights.10.engagment: segment "
        "'10' weights category 'engagment', which the score does not have Hint: Did you mean 'engagement'? The "
        "categories are engagement, commercial, relationship.",
    "yaml-bad-indentation":
        "models/engagement.yml:17:11: error yaml-syntax: invalid YAML: mapping values are not allowed here "
        "Hint: Check indentation, colons and quotes on this line and the one above.",
    "yaml-duplicate-key":
        "models/engagement.yml:18:5: error yaml-duplicate-key at stickiness[0].level: key 'level' appears twice "
        "in this mapping (first on line 17) Hint: Remove one of the two entries.",
    "unknown-top-level-key":
        "models/engagement.yml:15:1: error unknown-kind at stickyness: unknown top-level key 'stickyness' "
        "Hint: Did you mean 'stickiness'?",
    "unknown-key-in-definition":
        "models/engagement.yml:17:5: error unknown-key at stickiness[0].levle: unknown key 'levle' "
        "Hint: Did you mean 'level'?",
    "missing-required-key":
        "models/metrics.yml:12:5: error missing-key at account_metrics[2]: missing required key 'aggregate' "
        "Hint: Add 'aggregate' to this mapping.",
    "category-shadows-health-score":
        "models/health.yml:2:5: error duplicate-column at health_scores[0]: view 'account_health' would have two "
        "columns named 'health_score' Hint: Rename the category, window, tier or 'by' column whose name produces "
        "it; the view's columns are as_of_date, account_id, engagement_score, health_score, relationship_score, "
        "health_score, band, "
        "coverage, complete_through.",
    "weight-is-text":
        "models/health.yml:31:9: error invalid-type at health_scores[0].categories[1].weight: expected a number, "
        "got 'thirty' Hint: Write a number here.",
    "name-with-sql-injection":
        "models/engagement.yml:16:5: error invalid-name at stickiness[0].name: invalid name "
        "'x\"; drop table y; --': use lower-case letters, digits and underscores, starting with a letter or underscore, "
        "at most 63 characters Hint: Rename it, for example to 'daily_stickiness'.",
    "unknown-source":
        "models/engagement.yml:2:3: error unknown-source at engagement.source: source 'event' is not defined "
        "Hint: Did you mean 'events'?",
    "unknown-tier-target":
        "models/engagement.yml:30:7: error unknown-tier at tier_mix[0].target.tier: target tier 'power_user' is "
        "not a tier Hint: Did you mean 'power'?",
    "tier-drop-upwards":
        "models/engagement.yml:37:5: error invalid-tier-drop at alerts[0].to: 'browser' to 'power' is not a drop "
        "Hint: A tier drop goes from a higher tier to a lower one; tiers are ordered "
        "inactive < browser < buyer < power.",
    "health-alert-unknown-score":
        "models/health_alerts.yml:4:5: error unknown-health-score at alerts[0].score: health score 'account_helth' "
        "is not defined Hint: Did you mean 'account_health'?",
    "health-alert-unknown-band":
        "models/health_alerts.yml:11:5: error unknown-band at alerts[1].band: band 'red' is not a band of health "
        "score 'account_health' Hint: Valid names: 'at_risk', 'critical', 'steady', 'thriving'.",
    "health-alert-source-without-timestamp":
        "models/health_alerts.yml:16:5: error source-without-timestamp at alerts[2].source: source 'accounts' has "
        "no timestamp column, so its rows have no day Hint: Name a source with 'timestamp:', such as an event or "
        "ticket table.",
    "unknown-metric":
        "models/health.yml:27:13: error unknown-metric at health_scores[0].categories[0].components[2].metric: "
        "metric 'area_30d' is not defined Hint: Did you mean 'areas_30d'? Name an account metric, or "
        "view.column of a stickiness or tier-mix view by account.",
    "unknown-attribute":
        "models/health.yml:73:13: error unknown-attribute at "
        "health_scores[0].categories[2].components[1].attribute: attribute 'accounts.seat' is not defined "
        "Hint: Did you mean 'accounts.seats'? Name source.column of a source without a timestamp.",
    "duplicate-stickiness":
        "models/more.yml:2:5: error duplicate-name at stickiness[0].name: stickiness metric 'stickiness_daily' "
        "is defined twice; the other definition is at models/engagement.yml:16 Hint: Rename or remove one of them.",
    "category-weights-not-100":
        "models/health.yml:10:5: error weights-not-100 at health_scores[0].categories: the category weights sum "
        "to 105, not 100 Hint: Change the weights so that they sum to 100, or set 'normalize: true' on the "
        "health score.",
    "bands-without-zero":
        "models/health.yml:5:5: error band-gap at health_scores[0].bands: no band starts at 0, so scores below "
        "20 have no band Hint: Give the lowest band 'min: 0'.",
    "bands-duplicate-min":
        "models/health.yml:8:25: error overlapping-bands at health_scores[0].bands[2].min: bands 'steady' (line 7) "
        "and 'at_risk' have the same 'min' 50 Hint: Give each band its own lower bound.",
    "unknown-scoring-function":
        "models/health.yml:37:13: error invalid-value at health_scores[0].categories[1].components[0].score: "
        "invalid 'function' 'percentil': expected 'linear', 'steps', 'percentile' Hint: Did you mean "
        "'percentile'?",
    "time-zone-abbreviation":
        "healthlayer.yml:5:1: error invalid-time-zone at time_zone: 'CET' is not an IANA time zone name "
        "Hint: " + TIME_ZONE_EXAMPLES,
    "template-undefined-var":
        "models/engagement.yml:31: error template-undefined: var('buyer_target') is not defined Hint: Add "
        "'buyer_target' under 'vars' in healthlayer.yml, pass --var buyer_target=VALUE, or give a default: "
        "var('name', default).",
    "template-class-attribute":
        "models/engagement.yml:31: error template-unsafe: the template tried an unsafe operation: access to "
        "attribute '__class__' of 'str' object is unsafe. Hint: Templates may only call var() and env_var().",
    "template-include":
        "models/engagement.yml:31: error template-statement: Jinja statements ({% ... %}) are not supported "
        "Hint: Use expressions only: {{ var('name', default) }} or {{ env_var('NAME') }}.",
    "template-division-by-zero":
        "models/engagement.yml:31: error template-error: the template failed: division by zero Hint: Simplify "
        "the expression; templates may only call var() and env_var().",
    "template-syntax":
        "models/engagement.yml:31: error template-syntax: invalid Jinja: unexpected '}', expected ')' "
        "Hint: Jinja expressions look like {{ var('name', default) }}.",
    "include-unknown-module":
        "healthlayer.yml:6:11: error include-not-found at include[0]: library module 'standard/engagment' does "
        "not exist Hint: Did you mean 'standard/engagement'?",
    "trend-of-snapshot":
        "models/health.yml:50:21: error trend-without-history at health_scores[0].categories[1].components[3].trend."
        "attribute: attribute 'accounts.seats' has no history: source 'accounts' holds one value per account, so "
        "its trend would always be 0 Hint: Add 'valid_from: <column>' to source 'accounts', with one row per "
        "account and change, or score the attribute itself with 'attribute:'.",
    "text-column-compared-with-number":
        "models/metrics.yml:33:5: error type-mismatch at account_metrics[5].value: column 'score' of source 'nps' "
        "is declared text, but the value compares it with the number 9: score >= 9 Hint: If the column holds "
        "numbers, declare 'score: number' under the columns of source 'nps' (models/sources.yml:28); otherwise "
        "cast it, as in cast(score as integer), or compare it with text in single quotes.",
    "segment-weights-null-key":
        "models/health.yml:6:7: error yaml-key-type at health_scores[0].segment_weights: segment_weights key null "
        "is not text: each key is the text of a segment value, and YAML reads null as null, no value Hint: Quote "
        "the key, as in 'null': {...}. An account whose segment value is NULL takes the categories' own weights, "
        "so NULL needs no key.",
    "filter-pg-sleep":
        "models/engagement.yml:9:7: error invalid-expression at engagement.tiers[1].filter: function 'pg_sleep' "
        "is not allowed in the tier filter Hint: " + ALLOWED_FUNCTIONS_HINT,
}


def break_project(project: Path, case: Case) -> None:
    for relative, old, new in case.edits:
        replace_text(project, relative, old, new)
    for relative, text in case.files.items():
        (project / relative).write_text(text, encoding="utf-8")


@pytest.mark.parametrize("name", list(CASES))
def test_issue(shop_project: Path, monkeypatch: pytest.MonkeyPatch, name: str):
    monkeypatch.delenv("HL_TEST_UNSET_VARIABLE", raising=False)
    case = CASES[name]
    break_project(shop_project, case)

    issue = only_issue(api.validate(shop_project))

    assert issue.code == case.code
    assert issue.severity == "error"
    assert issue.location.file is not None
    assert issue.location.file.name == case.file
    assert issue.location.line == case.line
    assert issue.location.key_path == case.key_path
    assert issue.hint
    if case.message is not None:
        assert issue.message == case.message
    if case.hint is not None:
        assert issue.hint == case.hint
    if name in FORMATTED:
        assert issue.format(shop_project) == FORMATTED[name]


def test_formatted_covers_codes():
    codes = {case.code for case in CASES.values()}
    pinned = {CASES[name].code for name in FORMATTED}
    assert codes - pinned == set()


def test_fixture_valid(shop_project: Path):
    assert api.validate(shop_project) == []


def test_attribute_history_valid(shop_project: Path):
    for relative, old, new in ACCOUNT_HISTORY + orders_trend("trend: {attribute: accounts.seats, days: 7}"):
        replace_text(shop_project, relative, old, new)

    assert api.validate(shop_project) == []


@pytest.mark.parametrize("text", [
    '"event_type = 1"',                           # event_type has no declared type
    '"cast(plan as integer) between 1 and 3"',     # the cast is the fix the hint gives
    '"plan = \'3\' and amount > 0"',
    '"amount between -1 and 2.5 and amount + 1 in (2, 3)"',
    '"coalesce(plan, 0) = 1"',                     # COALESCE's type is the warehouse's to decide
    '"length(plan) > 2 and abs(amount) < 10"',
])
def test_type_check_accepts(shop_project: Path, text: str):
    replace_text(shop_project, ENGAGEMENT, BUYER_FILTER, f"filter: {text}")

    assert api.validate(shop_project) == []


def test_type_mismatch_library_item(tmp_path: Path):
    project = tmp_path / "saas"
    shutil.copytree(EXAMPLES / "saas", project)
    replace_text(project, SOURCES, "      csat: number ", "      csat: text   ")

    issues = [issue for issue in api.validate(project) if issue.code == "type-mismatch"]

    issue = only_issue(issues)
    assert issue.location.file is not None
    assert issue.location.file.name == "saas_health.yml"
    assert issue.location.key_path[-1] == "value"
    assert "column 'csat' of source 'support_tickets' is declared text" in issue.message
    assert issue.hint is not None
    assert "declare 'csat: number' under the columns of source 'support_tickets' (models/sources.yml:32)" in issue.hint


def test_normalize_accepts_weights(shop_project: Path):
    break_project(shop_project, CASES["category-weights-not-100"])
    replace_text(shop_project, HEALTH, "    missing: renormalize\n", "    missing: renormalize\n    normalize: true\n")

    assert api.validate(shop_project) == []


def test_window_one_week(shop_project: Path):
    replace_text(shop_project, ENGAGEMENT, "  tier_window: 7 days\n", "  tier_window: 1 week\n")

    project, issues = api.load(shop_project)

    assert issues == []
    assert project.engagement.tier_window == 7


def test_template_var_default(shop_project: Path):
    replace_text(shop_project, ENGAGEMENT, BUYER_TARGET, "{{ var('buyer_target', 0.25) }}")

    project, issues = api.load(shop_project)

    assert [issue.code for issue in issues] == ["unused-definition"]  # vars.buyer_share_target
    assert project.tier_mix["tier_mix_daily"].target.min_share == 0.25


def test_template_env_var(shop_project: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HL_TEST_SHARE", "0.35")
    replace_text(shop_project, ENGAGEMENT, BUYER_TARGET, "{{ env_var('HL_TEST_SHARE') }}")

    project, issues = api.load(shop_project)

    assert [issue.code for issue in issues] == ["unused-definition"]  # vars.buyer_share_target
    assert project.tier_mix["tier_mix_daily"].target.min_share == 0.35


def test_template_env_var_default(shop_project: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HL_TEST_UNSET_VARIABLE", raising=False)
    replace_text(shop_project, ENGAGEMENT, BUYER_TARGET, "{{ env_var('HL_TEST_UNSET_VARIABLE', 0.2) }}")

    project, issues = api.load(shop_project)

    assert [issue.code for issue in issues] == ["unused-definition"]  # vars.buyer_share_target
    assert project.tier_mix["tier_mix_daily"].target.min_share == 0.2


def test_validate_var_override(shop_project: Path):
    project, issues = api.load(shop_project, {"buyer_share_target": 0.45})

    assert issues == []
    assert project.tier_mix["tier_mix_daily"].target.min_share == 0.45


def test_filter_comment_rejected(shop_project: Path):
    replace_text(shop_project, ENGAGEMENT, BUYER_FILTER, 'filter: "amount > 0 -- or 1=1"')

    issue = only_issue(api.validate(shop_project))

    assert issue.code == "invalid-expression"
    assert issue.location.key_path == FILTER_KEY


def test_component_weights_message(shop_project: Path):
    break_project(shop_project, CASES["component-weights-not-100"])

    issue = only_issue(api.validate(shop_project))

    assert issue.message == "the component weights of category 'commercial' sum to 101, not 100"


def test_time_zone_hint(shop_project: Path):
    break_project(shop_project, CASES["time-zone-unknown"])

    issue = only_issue(api.validate(shop_project))

    assert "Africa/Abidjan" not in issue.hint
    assert issue.hint.endswith(TIME_ZONE_EXAMPLES)


def test_alias_bomb(shop_project: Path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]")
    lines.append("stickiness: *a9")
    (shop_project / "models" / "bomb.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    started = time.monotonic()
    issue = only_issue(api.validate(shop_project))
    elapsed = time.monotonic() - started

    assert issue.code == "yaml-too-large"
    assert issue.location.file.name == "bomb.yml"
    assert issue.format(shop_project) == (
        "models/bomb.yml: error yaml-too-large: the file expands to more than 200,000 YAML nodes "
        "Hint: Remove aliases that repeat large structures, or split the file.")
    assert elapsed < FAST_SECONDS


def test_file_too_large(shop_project: Path):
    (shop_project / "models" / "big.yml").write_text("# " + "x" * (6 * 1024 * 1024) + "\n", encoding="utf-8")

    started = time.monotonic()
    issue = only_issue(api.validate(shop_project))
    elapsed = time.monotonic() - started

    assert issue.code == "file-too-large"
    assert issue.format(shop_project) == (
        "models/big.yml: error file-too-large: the file has 6,291,459 bytes, more than the 5,242,880 a "
        "definition file may have Hint: Split the definitions into several files.")
    assert elapsed < FAST_SECONDS


def test_binary_file(shop_project: Path):
    (shop_project / "models" / "junk.yml").write_bytes(bytes(range(256)) * 100)

    started = time.monotonic()
    issue = only_issue(api.validate(shop_project))
    elapsed = time.monotonic() - started

    assert issue.code == "file-binary"
    assert issue.format(shop_project) == (
        "models/junk.yml: error file-binary: the file is binary, not YAML text "
        "Hint: Point the project at YAML files only.")
    assert elapsed < FAST_SECONDS


def test_file_not_utf8(shop_project: Path):
    (shop_project / "models" / "latin.yml").write_bytes("stickiness:\n  - name: caf\xe9\n".encode("latin-1"))

    issue = only_issue(api.validate(shop_project))

    assert issue.format(shop_project) == (
        "models/latin.yml:2: error file-encoding: the file is not valid UTF-8 Hint: Save the file as UTF-8.")


def test_template_expansion_limited(shop_project: Path):
    # 6 MB after rendering, above the 5 MB limit of a definition file.
    replace_text(shop_project, ENGAGEMENT, BUYER_TARGET, "0.3\n# {{ 'x' * 6000000 }}")

    issues = api.validate(shop_project)

    assert [issue.location.file.name for issue in issues] == ["engagement.yml"]
