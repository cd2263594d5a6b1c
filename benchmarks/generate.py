"""Generate a seeded event log of a B2B SaaS product at warehouse scale, as a healthlayer project.

The log covers the 365 days from 2025-07-01 to 2026-06-30 in the project time zone
America/New_York. Accounts have log-normal numbers of users, so a few large accounts sit beside
many small ones. Each user is heavy, regular or occasional, and some users start during the year
or stop before its end. Weekends carry about an eighth of a weekday's activity. The event names
and columns are those of examples/saas, so `standard/engagement` and `standard/saas_health`
deploy on the result. The small account-level sources (accounts, nps_responses,
support_tickets) grow with the number of accounts. With --renewals the output also gets a
renewals table for `healthlayer backtest`, drawn after every other value, so the other files stay
the same bytes.

The events are simulated day by day and written to Parquet in row groups, so memory holds one
row group and one value per user, never the whole log. The requested number of events sets the
number of accounts through the expected events per user, so the written count differs from it
by the random variation: 996,457 events for 1M and 10,006,545 for 10M with the default seed.

    python benchmarks/generate.py --events 10M [--seed 20261205] [--output benchmarks/data/10M] [--renewals]

The output folder gets data/*.parquet, a copy of benchmarks/project (healthlayer.yml and
models/*.yml, with renewals.yml as models/renewals.yml when --renewals is given) and
manifest.json with the counts.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

BENCHMARKS = Path(__file__).resolve().parent
PROJECT_TEMPLATE = BENCHMARKS / "project"
SEED = 20261205

FIRST_DAY = date(2025, 7, 1)
DAYS = 365
TIME_ZONE = "America/New_York"
# Rows per Parquet row group of the events file.
ROW_GROUP_ROWS = 262_144
# Accounts drawn at a time until their expected events reach the requested number.
ACCOUNT_BATCH = 64

PASSIVE = ["page_view", "dashboard_view"]
CORE = ["report_created", "query_run", "record_updated", "workflow_completed"]
POWER = ["automation_built", "api_integration_used", "comment_mentioned", "dashboard_shared"]
EVENT_NAMES = ["login", *PASSIVE, *CORE, *POWER]
# Probability of each name inside its class: passive, core, power.
NAME_WEIGHTS = [[0.6, 0.4], [0.25, 0.35, 0.3, 0.1], [0.25, 0.3, 0.3, 0.15]]
MODULES = ["dashboards", "reports", "contacts", "pipeline", "workflows", "collaboration", "invoicing",
           "forecasting", "inventory", "automations", "integrations", "admin"]
EVENT_MODULES = {
    "page_view": MODULES,
    "dashboard_view": ["dashboards"],
    "report_created": ["reports", "forecasting"],
    "query_run": ["reports", "pipeline", "inventory", "forecasting"],
    "record_updated": ["contacts", "pipeline", "invoicing", "inventory"],
    "workflow_completed": ["workflows", "pipeline", "invoicing"],
    "automation_built": ["automations"],
    "api_integration_used": ["integrations"],
    "comment_mentioned": ["collaboration"],
    "dashboard_shared": ["dashboards"],
}

# Frequency classes: share of users and probability of activity on a full weekday.
FREQUENCY_SHARES = [0.15, 0.45, 0.40]
FREQUENCY_PROBABILITY = np.array([0.8, 0.4, 0.08])
# Roles: share of users, class weights (passive, core, power) and mean events per active day
# besides the login.
ROLE_SHARES = [0.35, 0.5, 0.15]
ROLE_CLASS_WEIGHTS = np.array([[0.97, 0.03, 0.0], [0.5, 0.45, 0.05], [0.35, 0.45, 0.2]])
ROLE_EVENTS_MEAN = np.array([2.5, 3.8, 4.2])
LOGIN_PROBABILITY = 0.6
# Activity by weekday, Monday first: Fridays are quieter and weekends low.
WEEKDAY_FACTOR = np.array([1.0, 1.0, 1.0, 0.97, 0.85, 0.14, 0.11])
# Office zones and their hours ahead of New York time for the same wall-clock hour.
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London"]
ZONE_SHARES = [0.45, 0.2, 0.05, 0.2, 0.1]
ZONE_SHIFT_HOURS = np.array([0.0, 1.0, 2.0, 3.0, -5.0])
PLANS = ["starter", "growth", "enterprise"]
SEGMENTS = ["smb", "mid_market", "enterprise"]
SEAT_PRICE = np.array([25.0, 45.0, 70.0])  # USD per seat and month
# Days since FIRST_DAY on which an NPS survey opens; it stays open for 14 days.
SURVEY_DAYS = [77, 161, 259, 343]
SURVEY_OPEN_DAYS = 14
# The renewal probability of an account with hidden health h is
# 1 / (1 + e^(-RENEWAL_STEEPNESS (h - RENEWAL_MIDPOINT))), the curve of examples/saas.
RENEWAL_STEEPNESS = 9.0
RENEWAL_MIDPOINT = 0.42
# First day (offset from FIRST_DAY) on which the renewal of an account that stays active can fall,
# so that its score day 90 days earlier has at least 30 days of data before it.
FIRST_RENEWAL_DAY = 120

RENEWAL_SCHEMA = pa.schema([
    ("account_id", pa.string()), ("renewal_date", pa.date32()), ("renewed", pa.bool_()),
    ("contract_value", pa.float64()),
])
EVENT_SCHEMA = pa.schema([
    ("event_id", pa.string()), ("event_ts", pa.timestamp("us", tz="UTC")), ("account_id", pa.string()),
    ("user_id", pa.string()), ("event_name", pa.string()), ("feature", pa.string()), ("plan", pa.string()),
])


def parse_count(text: str) -> int:
    """Parse an event count such as 50M, 20K, 1.5M or 250000."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"invalid event count '{text}': use an integer with an optional K or M "
                                         "suffix, such as 20K or 10M")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    count = round(float(match.group(1)) * factor)
    if count < 1_000:
        raise argparse.ArgumentTypeError(f"event count {count} is too small: give at least 1K")
    return count


def day_factors() -> np.ndarray:
    """Return the activity factor of each day: the weekday, August holidays and the year-end break."""
    days = np.arange(DAYS)
    dates = np.datetime64(FIRST_DAY) + days
    weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
    factors = WEEKDAY_FACTOR[weekday].copy()
    months = dates.astype("datetime64[M]").astype(int) % 12 + 1
    factors[months == 8] *= 0.85
    year_end = (dates >= np.datetime64("2025-12-22")) & (dates <= np.datetime64("2026-01-02"))
    factors[year_end] *= 0.5
    return factors


@dataclass
class Population:
    """Accounts and users with the parameters that drive their activity."""

    account_health: np.ndarray    # hidden health, 0 to 1
    account_zone: np.ndarray      # index into ZONES
    account_start: np.ndarray     # first day (offset from FIRST_DAY) of the account
    account_end: np.ndarray       # last day; below DAYS - 1 when the account churns
    account_users: np.ndarray     # number of users
    user_account: np.ndarray      # account index of each user
    user_probability: np.ndarray  # probability of activity on a full weekday
    user_role: np.ndarray         # index into ROLE_SHARES
    user_start: np.ndarray
    user_end: np.ndarray


def draw_accounts(rng: np.random.Generator, count: int) -> dict[str, np.ndarray]:
    users = np.clip(np.round(rng.lognormal(np.log(6.0), 1.1, count)), 1, 5000).astype(np.int64)
    is_new = rng.random(count) < 0.2
    start = np.where(is_new, rng.integers(1, 300, count), 0)
    churns = rng.random(count) < 0.1
    end = np.where(churns, np.maximum(start + 30, rng.integers(60, DAYS, count)), DAYS - 1)
    return {
        "health": rng.beta(2.2, 1.8, count),
        "zone": rng.choice(len(ZONES), count, p=ZONE_SHARES),
        "start": start,
        "end": np.minimum(end, DAYS - 1),
        "users": users,
    }


def draw_users(rng: np.random.Generator, accounts: dict[str, np.ndarray], first_account: int) -> dict[str, np.ndarray]:
    account = np.repeat(np.arange(len(accounts["users"])), accounts["users"])
    count = len(account)
    frequency = rng.choice(3, count, p=FREQUENCY_SHARES)
    jitter = rng.lognormal(0.0, 0.25, count)
    probability = np.minimum(FREQUENCY_PROBABILITY[frequency] * jitter * (0.4 + 0.9 * accounts["health"][account]), 0.95)
    account_start = accounts["start"][account]
    account_end = accounts["end"][account]
    # A quarter of the users join during the account's life and a fifth leave before its end.
    joins = rng.random(count) < 0.25
    start = np.where(joins, account_start + np.floor(rng.random(count) * (account_end - account_start + 1)),
                     account_start).astype(np.int64)
    leaves = rng.random(count) < 0.2
    end = np.where(leaves, start + np.floor(rng.random(count) * (account_end - start + 1)), account_end).astype(np.int64)
    return {
        "account": account + first_account,
        "probability": probability,
        "role": rng.choice(3, count, p=ROLE_SHARES),
        "start": start,
        "end": end,
    }


def expected_events(users: dict[str, np.ndarray], cumulative_factor: np.ndarray) -> np.ndarray:
    """Return each user's expected number of events over the year."""
    factor_days = cumulative_factor[users["end"] + 1] - cumulative_factor[users["start"]]
    per_active_day = LOGIN_PROBABILITY + ROLE_EVENTS_MEAN[users["role"]]
    return users["probability"] * factor_days * per_active_day


def draw_population(rng: np.random.Generator, target_events: int, factors: np.ndarray) -> Population:
    """Draw accounts in batches until their users' expected events reach `target_events`."""
    cumulative_factor = np.concatenate([[0.0], np.cumsum(factors)])
    account_parts: list[dict[str, np.ndarray]] = []
    user_parts: list[dict[str, np.ndarray]] = []
    expected_total = 0.0
    account_count = 0
    while expected_total < target_events:
        accounts = draw_accounts(rng, ACCOUNT_BATCH)
        users = draw_users(rng, accounts, account_count)
        per_account = np.bincount(users["account"] - account_count, expected_events(users, cumulative_factor),
                                  minlength=ACCOUNT_BATCH)
        running = expected_total + np.cumsum(per_account)
        # Keep the accounts up to the first one whose events reach the target.
        keep = int(np.searchsorted(running, target_events) + 1) if running[-1] >= target_events else ACCOUNT_BATCH
        accounts = {name: values[:keep] for name, values in accounts.items()}
        kept_users = users["account"] < account_count + keep
        users = {name: values[kept_users] for name, values in users.items()}
        expected_total = float(running[keep - 1])
        account_count += keep
        account_parts.append(accounts)
        user_parts.append(users)

    def joined(parts: list[dict[str, np.ndarray]], name: str) -> np.ndarray:
        return np.concatenate([part[name] for part in parts])

    return Population(
        account_health=joined(account_parts, "health"), account_zone=joined(account_parts, "zone"),
        account_start=joined(account_parts, "start"), account_end=joined(account_parts, "end"),
        account_users=joined(account_parts, "users"), user_account=joined(user_parts, "account"),
        user_probability=joined(user_parts, "probability"), user_role=joined(user_parts, "role"),
        user_start=joined(user_parts, "start"), user_end=joined(user_parts, "end"),
    )


def identifiers(prefix: str, count: int, width: int) -> pa.Array:
    numbers = pc.cast(pa.array(np.arange(1, count + 1)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width, "0"), "")


def account_plans(population: Population) -> np.ndarray:
    """Return each account's plan index: starter under 10 users, growth under 40, else enterprise."""
    return np.searchsorted([10, 40], population.account_users, side="right")


def local_to_utc(day_offsets: np.ndarray, seconds: np.ndarray) -> pa.Array:
    """Convert wall-clock times in TIME_ZONE (day offset from FIRST_DAY, seconds into it) to UTC instants."""
    epoch_day = np.datetime64(FIRST_DAY).astype("datetime64[D]").astype(np.int64)
    micros = (epoch_day + day_offsets) * 86_400_000_000 + np.round(seconds * 1e6).astype(np.int64)
    local = pa.array(micros, type=pa.timestamp("us"))
    instant = pc.assume_timezone(local, TIME_ZONE, ambiguous="earliest", nonexistent="latest")
    return instant.cast(pa.timestamp("us", tz="UTC"))


class EventSimulator:
    """Simulate each day's events of every user and write them to Parquet in row groups."""

    def __init__(self, rng: np.random.Generator, population: Population, factors: np.ndarray, path: Path):
        self.rng = rng
        self.population = population
        self.factors = factors
        self.writer = pq.ParquetWriter(path, EVENT_SCHEMA, compression="snappy")
        self.user_ids = identifiers("user_", len(population.user_account), 8)
        self.account_ids = identifiers("acct_", len(population.account_users), 6)
        self.plan_names = pa.array(PLANS).take(pa.array(account_plans(population)))
        self.event_names = pa.array(EVENT_NAMES)
        self.last_active = np.full(len(population.user_account), -1, dtype=np.int64)
        self.survey_responses: list[tuple[int, np.ndarray]] = []
        self.buffer: list[dict[str, np.ndarray]] = []
        self.buffered_rows = 0
        self.written = 0
        # Modules by event name, flattened with offsets, to pick a feature without a Python loop.
        flat = [MODULES.index(module) for name in EVENT_NAMES for module in EVENT_MODULES.get(name, [])]
        self.module_counts = np.array([len(EVENT_MODULES.get(name, [])) for name in EVENT_NAMES])
        self.module_offsets = np.concatenate([[0], np.cumsum(self.module_counts)[:-1]])
        self.module_flat = np.array(flat)
        self.modules = pa.array(MODULES)

    def run(self) -> int:
        for day in range(DAYS):
            self.simulate_day(day)
            if day in SURVEY_DAYS:
                # Users active in the 30 days up to the survey may answer it.
                self.survey_responses.append((day, np.flatnonzero(self.last_active >= day - 29)))
        self.flush()
        self.writer.close()
        return self.written

    def simulate_day(self, day: int) -> None:
        population = self.population
        rng = self.rng
        alive = (population.user_start <= day) & (day <= population.user_end)
        draws = rng.random(len(alive))
        active = np.flatnonzero(alive & (draws < population.user_probability * self.factors[day]))
        if len(active) == 0:
            return
        self.last_active[active] = day
        role = population.user_role[active]

        extra = rng.geometric(1.0 / ROLE_EVENTS_MEAN[role])
        login = rng.random(len(active)) < LOGIN_PROBABILITY
        counts = extra + login
        users = np.repeat(active, counts)
        first = np.repeat(np.cumsum(counts) - counts, counts)
        position = np.arange(len(users)) - first
        is_login = np.repeat(login, counts) & (position == 0)

        event_role = population.user_role[users]
        class_cumulative = np.cumsum(ROLE_CLASS_WEIGHTS[event_role], axis=1)
        event_class = (rng.random(len(users))[:, None] >= class_cumulative[:, :2]).sum(axis=1)
        name_offset = np.array([1, 1 + len(PASSIVE), 1 + len(PASSIVE) + len(CORE)])[event_class]
        name_draw = rng.random(len(users))
        within = np.zeros(len(users), dtype=np.int64)
        for class_index, weights in enumerate(NAME_WEIGHTS):
            chosen = event_class == class_index
            within[chosen] = np.searchsorted(np.cumsum(weights)[:-1], name_draw[chosen], side="right")
        names = np.where(is_login, 0, name_offset + within)

        module_draw = np.floor(rng.random(len(users)) * np.maximum(self.module_counts[names], 1)).astype(np.int64)
        module = self.module_flat[np.minimum(self.module_offsets[names] + module_draw, len(self.module_flat) - 1)]

        # Sessions start in office hours of the account's zone, shown here in New York time, and
        # each further event follows after a few seconds to minutes.
        account = population.user_account[users]
        session_start = np.clip(rng.normal(13.0, 2.8, len(active)), 6.0, 22.0) * 3600.0
        shift = ZONE_SHIFT_HOURS[population.account_zone[population.user_account[active]]] * 3600.0
        gaps = 5.0 + rng.exponential(90.0, len(users))
        gaps[position == 0] = 0.0
        elapsed = np.cumsum(gaps)
        within_session = elapsed - elapsed[first]
        seconds = np.clip(np.repeat(session_start + shift, counts) + within_session, 0.0, 86_399.0)
        order = np.argsort(seconds, kind="stable")

        self.buffer.append({
            "seconds": seconds[order], "day": np.full(len(users), day), "account": account[order],
            "user": users[order], "name": names[order], "module": module[order],
        })
        self.buffered_rows += len(users)
        if self.buffered_rows >= ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.buffered_rows:
            return
        columns = {name: np.concatenate([part[name] for part in self.buffer]) for name in self.buffer[0]}
        count = len(columns["user"])
        ids = pc.binary_join_element_wise(
            "evt_", pc.utf8_lpad(pc.cast(pa.array(np.arange(self.written + 1, self.written + count + 1)), pa.string()),
                                 10, "0"), "")
        names = pa.array(columns["name"])
        has_feature = pa.array(columns["name"] != 0)
        feature = pc.if_else(has_feature, self.modules.take(pa.array(columns["module"])), pa.scalar(None, pa.string()))
        table = pa.Table.from_arrays([
            ids,
            local_to_utc(columns["day"], columns["seconds"]),
            self.account_ids.take(pa.array(columns["account"])),
            self.user_ids.take(pa.array(columns["user"])),
            self.event_names.take(names),
            feature,
            self.plan_names.take(pa.array(columns["account"])),
        ], schema=EVENT_SCHEMA)
        self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        self.written += count
        self.buffer = []
        self.buffered_rows = 0


def build_nps(rng: np.random.Generator, population: Population, responses: list[tuple[int, np.ndarray]],
              user_ids: pa.Array, account_ids: pa.Array) -> pa.Table:
    """Draw the answers of recently active users to each survey, more of them at healthier accounts."""
    parts = []
    for survey_day, eligible in responses:
        health = population.account_health[population.user_account[eligible]]
        answers = eligible[rng.random(len(eligible)) < 0.25 + 0.2 * health]
        delay = np.minimum(np.floor(rng.exponential(2.0, len(answers))), SURVEY_OPEN_DAYS - 1).astype(np.int64)
        day = survey_day + delay
        seconds = np.clip(rng.normal(13.0, 2.5, len(answers)), 7.0, 21.0) * 3600.0
        kept = (day <= population.user_end[answers]) & (day < DAYS)
        answers, day, seconds = answers[kept], day[kept], seconds[kept]
        role_shift = np.array([-0.3, 0.0, 0.5])[population.user_role[answers]]
        mean = 3.0 + 7.0 * population.account_health[population.user_account[answers]] + role_shift
        score = np.clip(np.round(rng.normal(mean, 1.6)), 0, 10).astype(np.int64)
        parts.append((answers, day, seconds, score))
    users = np.concatenate([part[0] for part in parts])
    days = np.concatenate([part[1] for part in parts])
    seconds = np.concatenate([part[2] for part in parts])
    scores = np.concatenate([part[3] for part in parts])
    order = np.lexsort((users, seconds, days))
    users, days, seconds, scores = users[order], days[order], seconds[order], scores[order]
    return pa.table({
        "response_id": identifiers("nps_", len(users), 8),
        "account_id": account_ids.take(pa.array(population.user_account[users])),
        "user_id": user_ids.take(pa.array(users)),
        "responded_at": local_to_utc(days, seconds),
        "score": pa.array(scores),
    })


def build_tickets(rng: np.random.Generator, population: Population, factors: np.ndarray,
                  account_ids: pa.Array) -> pa.Table:
    """Open tickets at a rate per user and working day that grows as an account's health falls."""
    cumulative_factor = np.concatenate([[0.0], np.cumsum(factors)])
    user_days = np.bincount(population.user_account,
                            cumulative_factor[population.user_end + 1] - cumulative_factor[population.user_start],
                            minlength=len(population.account_users))
    health = population.account_health
    counts = rng.poisson(user_days * (0.006 + 0.02 * (1.0 - health)))
    accounts = np.repeat(np.arange(len(counts)), counts)
    # Each ticket falls on a day of its account's life, weighted by the day's activity factor.
    start_weight = cumulative_factor[population.account_start[accounts]]
    end_weight = cumulative_factor[population.account_end[accounts] + 1]
    target = start_weight + rng.random(len(accounts)) * (end_weight - start_weight)
    days = np.clip(np.searchsorted(cumulative_factor, target, side="right") - 1, 0, DAYS - 1)
    seconds = np.clip(rng.normal(12.5, 2.5, len(accounts)), 6.0, 21.0) * 3600.0
    seconds += ZONE_SHIFT_HOURS[population.account_zone[accounts]] * 3600.0
    seconds = np.clip(seconds, 0.0, 86_399.0)
    ticket_health = health[accounts]
    sentiment = np.round(np.clip(rng.normal(-0.55 + 1.1 * ticket_health, 0.3), -1.0, 1.0), 3)
    urgent = 0.04 + 0.1 * (1.0 - ticket_health)
    high = urgent + 0.15 + 0.1 * (1.0 - ticket_health)
    normal = high + 0.5
    draw = rng.random(len(accounts)) * (normal + 0.31)
    priority = np.where(draw < urgent, 0, np.where(draw < high, 1, np.where(draw < normal, 2, 3)))
    order = np.lexsort((accounts, seconds, days))
    return pa.table({
        "ticket_id": identifiers("tkt_", len(accounts), 8),
        "account_id": account_ids.take(pa.array(accounts[order])),
        "created_at": local_to_utc(days[order], seconds[order]),
        "sentiment": pa.array(sentiment[order]),
        "priority": pa.array(["urgent", "high", "normal", "low"]).take(pa.array(priority[order])),
    })


def add_csat(rng: np.random.Generator, tickets: pa.Table, population: Population, account_ids: pa.Array) -> pa.Table:
    """Append `csat`, a satisfaction rating from 1 to 5 given to 40% of the tickets, higher at healthier accounts."""
    index = {account_id: position for position, account_id in enumerate(account_ids.to_pylist())}
    health = population.account_health[np.array([index[value] for value in tickets["account_id"].to_pylist()],
                                                 dtype=np.int64)]
    rated = rng.random(len(health)) < 0.4
    rating = np.clip(np.round(rng.normal(1.6 + 3.4 * health, 0.8)), 1, 5).astype(np.int64)
    return tickets.append_column("csat", pa.array(rating, mask=~rated))


def build_accounts(rng: np.random.Generator, population: Population, last_active: np.ndarray,
                   account_ids: pa.Array) -> pa.Table:
    """Build one row of CRM attributes per account, a snapshot on the last day of data valid from the first."""
    count = len(population.account_users)
    health = population.account_health
    plans = account_plans(population)
    users = population.account_users
    seats_purchased = np.ceil(users * rng.uniform(1.0, 1.4, count)).astype(np.int64)
    seats_used = np.bincount(population.user_account[last_active >= DAYS - 30], minlength=count)
    contract_start = np.where(population.account_start > 0, population.account_start,
                              -rng.integers(30, 1500, count))
    promised = np.round(rng.uniform(1.5, 4.0, count), 2)
    achieved = np.round(np.maximum(0.0, promised * (0.15 + 1.05 * health + rng.normal(0.0, 0.12, count))), 2)
    onboarding_median = 8.0 + 150.0 * (1.0 - health) ** 2
    days_to_value = np.maximum(1, np.round(rng.lognormal(np.log(onboarding_median), 0.5))).astype(np.int64)
    # A new account whose onboarding outlasts its days so far has not reached first value.
    reached = (population.account_start == 0) | (population.account_start + days_to_value < DAYS)
    upsell = rng.random(count) < 0.8 * health ** 2
    downgrade = ~upsell & (health < 0.4) & (rng.random(count) < 0.3)
    seat_change = np.maximum(1, np.round(users * rng.uniform(0.1, 0.5, count)))
    expansion = 12.0 * SEAT_PRICE[plans] * seat_change * np.where(upsell, 1.0, np.where(downgrade, -1.0, 0.0))
    meetings = rng.poisson(0.3 + 3.5 * health + np.where(plans == 2, 1.0, 0.0))
    return pa.table({
        "account_id": account_ids,
        "snapshot_date": pa.array([FIRST_DAY] * count, type=pa.date32()),
        "plan": pa.array(PLANS).take(pa.array(plans)),
        "segment": pa.array(SEGMENTS).take(pa.array(plans)),
        "contract_start": pa.array(np.datetime64(FIRST_DAY) + contract_start, type=pa.date32()),
        "promised_roi": pa.array(promised),
        "achieved_roi": pa.array(achieved),
        "seats_purchased": pa.array(seats_purchased),
        "seats_used": pa.array(seats_used.astype(np.int64)),
        "days_to_first_value": pa.array(days_to_value, mask=~reached),
        "expansion_arr": pa.array(expansion),
        "executive_sponsor_meetings_90d": pa.array(meetings.astype(np.int64)),
    })


def build_renewals(rng: np.random.Generator, population: Population, seats_purchased: np.ndarray,
                   account_ids: pa.Array) -> pa.Table:
    """Draw one contract renewal per account that existed before the first day, with its outcome.

    Accounts that start during the year renew after the last day, so they get no row. An account
    whose events stop before the last day did not renew, and its renewal date is the day after
    its last day. Every other account renews on a day from FIRST_RENEWAL_DAY to the last day,
    with a probability that rises with its hidden health. The events of such an account go on
    after a churned renewal, but the backtest reads only the days before it.
    """
    count = len(population.account_users)
    renewal_draw = rng.integers(FIRST_RENEWAL_DAY, DAYS, count)
    outcome_draw = rng.random(count)
    churns_in_log = population.account_end < DAYS - 1
    probability = 1.0 / (1.0 + np.exp(-RENEWAL_STEEPNESS * (population.account_health - RENEWAL_MIDPOINT)))
    renewal_day = np.where(churns_in_log, population.account_end + 1, renewal_draw)
    renewed = ~churns_in_log & (outcome_draw < probability)
    # Annual list price of the contract: its purchased seats at the plan's price per seat and month.
    value = 12.0 * SEAT_PRICE[account_plans(population)] * seats_purchased
    renewing = np.flatnonzero(population.account_start == 0)
    renewing = renewing[np.lexsort((renewing, renewal_day[renewing]))]
    return pa.table({
        "account_id": account_ids.take(pa.array(renewing)),
        "renewal_date": pa.array(np.datetime64(FIRST_DAY) + renewal_day[renewing], type=pa.date32()),
        "renewed": pa.array(renewed[renewing]),
        "contract_value": pa.array(value[renewing]),
    }, schema=RENEWAL_SCHEMA)


def generate(target_events: int, output: Path, seed: int = SEED, renewals: bool = False) -> dict[str, int]:
    """Write the data and the project into `output`; return the row count of each file.

    With `renewals`, also write data/renewals.parquet and declare it as the source `renewals`.
    Its values are drawn after all others, so every other file is the same as without it.
    """
    rng = np.random.default_rng(seed)
    factors = day_factors()
    population = draw_population(rng, target_events, factors)

    data = output / "data"
    data.mkdir(parents=True, exist_ok=True)
    simulator = EventSimulator(rng, population, factors, data / "events.parquet")
    counts = {"events": simulator.run()}
    tables = {
        "nps_responses": build_nps(rng, population, simulator.survey_responses, simulator.user_ids,
                                   simulator.account_ids),
        "support_tickets": build_tickets(rng, population, factors, simulator.account_ids),
        "accounts": build_accounts(rng, population, simulator.last_active, simulator.account_ids),
    }
    # Draws added to the generator come after the draws above, so the rows above stay the same.
    tables["support_tickets"] = add_csat(rng, tables["support_tickets"], population, simulator.account_ids)
    if renewals:
        tables["renewals"] = build_renewals(rng, population, tables["accounts"]["seats_purchased"].to_numpy(),
                                            simulator.account_ids)
    for name, table in tables.items():
        pq.write_table(table, data / f"{name}.parquet", compression="snappy")
        counts[name] = table.num_rows
    counts["users"] = len(population.user_account)

    shutil.copy(PROJECT_TEMPLATE / "healthlayer.yml", output / "healthlayer.yml")
    (output / "models").mkdir(exist_ok=True)
    for model in sorted((PROJECT_TEMPLATE / "models").glob("*.yml")):
        shutil.copy(model, output / "models" / model.name)
    if renewals:
        shutil.copy(PROJECT_TEMPLATE / "renewals.yml", output / "models" / "renewals.yml")
    else:
        # A folder written before with --renewals must not keep that source.
        (output / "models" / "renewals.yml").unlink(missing_ok=True)
        (data / "renewals.parquet").unlink(missing_ok=True)
    manifest = {"seed": seed, "requested_events": target_events, "first_day": FIRST_DAY.isoformat(), "days": DAYS,
                "time_zone": TIME_ZONE, "rows": counts, "pyarrow": pa.__version__, "numpy": np.__version__}
    (output / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=parse_count, default=parse_count("1M"),
                        help="number of events to generate, with an optional K or M suffix (default: 1M)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed of numpy's random generator (default: {SEED})")
    parser.add_argument("--output", type=Path,
                        help="output folder (default: benchmarks/data/<events>, such as benchmarks/data/10M)")
    parser.add_argument("--renewals", action="store_true",
                        help="also write data/renewals.parquet, one renewal per account with its outcome, and "
                             "declare it as the source 'renewals' for healthlayer backtest")
    arguments = parser.parse_args()

    output = arguments.output or BENCHMARKS / "data" / size_label(arguments.events)
    started = time.perf_counter()
    counts = generate(arguments.events, output, arguments.seed, arguments.renewals)
    seconds = time.perf_counter() - started
    rows = ", ".join(f"{count:,} {name}" for name, count in counts.items())
    print(f"{output}: {rows}; {seconds:.1f} s", file=sys.stderr)


def size_label(count: int) -> str:
    """Return 10M for 10,000,000 and 20K for 20,000; other counts stay digits."""
    if count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    if count % 1_000 == 0:
        return f"{count // 1_000}K"
    return str(count)


if __name__ == "__main__":
    main()
