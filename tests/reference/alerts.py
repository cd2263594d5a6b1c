"""Rows of the `alerts` view for the account-level rules, computed from the health view and the events.

Every function returns rows with the columns of ALERT_COLUMNS. A day is a `datetime.date` in the
project time zone, and `respond_by` is a naive datetime in that zone: midnight at the start of
the day after the detection day, plus `respond_within` as wall-clock time.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .durations import parse_response_time, parse_window_days
from .events import local_day

ALERT_COLUMNS = ["alert_id", "alert_type", "rule", "account_id", "user_id", "detected_date", "respond_by", "reason",
                 "score"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DEFAULT_BANDS = [{"name": "green", "min": 70}, {"name": "yellow", "min": 40}, {"name": "red", "min": 0}]
# Differences closer than this to a threshold or a tie may compare differently in SQL doubles.
AMBIGUITY = 1e-6

Rows = list[dict[str, Any]]


def id_text(value: Any) -> str | None:
    """Return an account or user id as the alerts view stores it: as text, whatever the source's type."""
    return None if value is None else str(value)


def alert_id(rule: str, account: Any, user: Any, day: date) -> str:
    """Return `rule:account:user:YYYY-MM-DD`, with an empty user for account-level alerts."""
    return f"{rule}:{account}:{'' if user is None else user}:{day.isoformat()}"


def respond_by(day: date, respond_within: Any) -> datetime:
    return datetime.combine(day + timedelta(days=1), time()) + parse_response_time(respond_within)


def account_alert(rule: Mapping[str, Any], account: Any, day: date, reason: str, score: str | None) -> dict[str, Any]:
    return {
        "alert_id": alert_id(rule["name"], account, None, day),
        "alert_type": rule["type"],
        "rule": rule["name"],
        "account_id": id_text(account),
        "user_id": None,
        "detected_date": day,
        "respond_by": respond_by(day, rule["respond_within"]),
        "reason": reason,
        "score": score,
    }


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromordinal(value)


def _by_account(health_rows: Iterable[Mapping[str, Any]]) -> dict[Any, dict[date, Mapping[str, Any]]]:
    accounts: dict[Any, dict[date, Mapping[str, Any]]] = defaultdict(dict)
    for row in health_rows:
        accounts[row["account_id"]][_as_date(row["as_of_date"])] = row
    return accounts


def _bands(score: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Return the bands of a health score, lowest min first."""
    return sorted(score.get("bands", DEFAULT_BANDS), key=lambda band: band["min"])


def band_change_alerts(health_rows: Rows, rule: Mapping[str, Any], score: Mapping[str, Any]) -> Rows:
    """Return a row for each account and day whose band differs from the band of the day before, both known."""
    ranks = {band["name"]: rank for rank, band in enumerate(_bands(score))}
    targets = rule.get("to")
    if isinstance(targets, str):
        targets = [targets]
    direction = rule.get("direction") or ("any" if targets is not None else "down")
    rows = []
    for account, days in _by_account(health_rows).items():
        for day, row in sorted(days.items()):
            previous = days.get(day - timedelta(days=1))
            if previous is None or row["band"] is None or previous["band"] is None:
                continue
            old, new = previous["band"], row["band"]
            if old == new:
                continue
            if direction == "down" and ranks[new] > ranks[old]:
                continue
            if direction == "up" and ranks[new] < ranks[old]:
                continue
            if targets is not None and new not in targets:
                continue
            rows.append(account_alert(rule, account, day, f"band changed from {old} to {new}", rule["score"]))
    return rows


def _drop_margins(health_rows: Rows, rule: Mapping[str, Any]) -> dict[tuple[Any, date], float | None]:
    """Return, per account and day, the highest score of the `days` days before minus the day's score."""
    window = parse_window_days(rule["days"])
    margins: dict[tuple[Any, date], float | None] = {}
    for account, days in _by_account(health_rows).items():
        for day, row in days.items():
            earlier = [days[day - timedelta(days=back)]["health_score"] for back in range(1, window + 1)
                       if day - timedelta(days=back) in days]
            known = [value for value in earlier if value is not None]
            if row["health_score"] is None or not known:
                margins[(account, day)] = None
            else:
                margins[(account, day)] = max(known) - row["health_score"]
    return margins


def score_drop_alerts(health_rows: Rows, rule: Mapping[str, Any]) -> Rows:
    """Return a row for each account and day on which a drop of `points` starts.

    A drop is present on a day when the day's score is at least `points` below the highest score
    of the `days` days before. It starts on a day when it is present and was absent the day before.
    """
    points = float(rule["points"])
    margins = _drop_margins(health_rows, rule)

    def dropped(account: Any, day: date) -> bool:
        margin = margins.get((account, day))
        return margin is not None and margin >= points

    rows = []
    for account, day in sorted(margins, key=lambda key: (str(key[0]), key[1])):
        if dropped(account, day) and not dropped(account, day - timedelta(days=1)):
            reason = f"health score fell by at least {points:g} points within {parse_window_days(rule['days'])} days"
            rows.append(account_alert(rule, account, day, reason, rule["score"]))
    return rows


def score_drop_is_ambiguous(health_rows: Rows, rule: Mapping[str, Any]) -> bool:
    """Return whether a drop is so close to `points` that rounding in SQL could decide it."""
    points = float(rule["points"])
    return any(margin is not None and abs(margin - points) < AMBIGUITY
               for margin in _drop_margins(health_rows, rule).values())


def weakest_category(row: Mapping[str, Any], score: Mapping[str, Any]) -> str | None:
    """Return the category with the lowest non-NULL score. Ties go to the first declared."""
    candidates = [(row[f"{category['name']}_score"], index, category["name"])
                  for index, category in enumerate(score["categories"])
                  if row[f"{category['name']}_score"] is not None]
    return min(candidates)[2] if candidates else None


def _review_band(rule: Mapping[str, Any], score: Mapping[str, Any]) -> str:
    return rule.get("band") or _bands(score)[0]["name"]


def red_review_alerts(health_rows: Rows, rule: Mapping[str, Any], score: Mapping[str, Any]) -> Rows:
    """Return a row for each account in the review band on each review weekday."""
    band = _review_band(rule, score)
    weekday_name = rule.get("weekday", "monday")
    weekday = WEEKDAYS.index(weekday_name)
    rows = []
    for row in health_rows:
        day = _as_date(row["as_of_date"])
        if day.weekday() != weekday or row["band"] != band:
            continue
        reason = f"in band {band} on the {weekday_name} review, weakest category {weakest_category(row, score)}"
        rows.append(account_alert(rule, row["account_id"], day, reason, rule["score"]))
    return rows


def red_review_is_ambiguous(health_rows: Rows, rule: Mapping[str, Any], score: Mapping[str, Any]) -> bool:
    """Return whether two category scores of a listed account differ by so little that SQL could order them otherwise."""
    band = _review_band(rule, score)
    for row in health_rows:
        if row["band"] != band:
            continue
        values = sorted(row[f"{category['name']}_score"] for category in score["categories"]
                        if row[f"{category['name']}_score"] is not None)
        if any(0 < high - low < AMBIGUITY for low, high in zip(values, values[1:])):
            return True
    return False


def active_days(rows: Iterable[Mapping[str, Any]], source: Mapping[str, Any], time_zone: str) -> dict[Any, set[int]]:
    """Return each account's days with rows, as ordinals; rows without an account, timestamp or declared user are left out."""
    zone = ZoneInfo(time_zone)
    days: dict[Any, set[int]] = defaultdict(set)
    for row in rows:
        account = row[source["account"]]
        timestamp = row[source["timestamp"]]
        if account is None or timestamp is None:
            continue
        if source.get("user") is not None and row[source["user"]] is None:
            continue
        days[account].add(local_day(timestamp, zone).toordinal())
    return days


def stale_data_alerts(days: Mapping[Any, set[int]], last_day: int | None, rule: Mapping[str, Any]) -> Rows:
    """Return a row for each account and silence of `silent_for` days after enough active days.

    A silence follows a day e with events when no event falls on e+1 to e+silent_for. It fires on
    e+silent_for, on or before `last_day`, when the account had events on at least
    `min_active_days` of the `lookback` days ending on e.
    """
    silent_for = parse_window_days(rule["silent_for"])
    lookback = parse_window_days(rule.get("lookback", 30))
    minimum = int(rule.get("min_active_days", 1))
    rows = []
    if last_day is None:
        return rows
    for account, account_days in days.items():
        ordered = sorted(account_days)
        for index, last_active in enumerate(ordered):
            following = ordered[index + 1] if index + 1 < len(ordered) else None
            detected = last_active + silent_for
            if detected > last_day or (following is not None and following <= detected):
                continue
            active = sum(1 for day in ordered if last_active - lookback < day <= last_active)
            if active < minimum:
                continue
            reason = (f"no events for {silent_for} days, after events on at least {minimum} "
                      f"of the {lookback} days before")
            rows.append(account_alert(rule, account, date.fromordinal(detected), reason, None))
    return rows
