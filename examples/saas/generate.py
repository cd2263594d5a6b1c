#!/usr/bin/env python3
"""Generate the synthetic B2B SaaS data set of the healthlayer ``saas`` example.

A hidden health value per account (the latent health, 0 to 1) drives product usage, NPS
responses, support-ticket sentiment, ROI, sponsor meetings, seat changes and renewals. README.md
beside this file documents the model and the relations it plants.

Every random number comes from one ``random.Random(seed)``, so a seed gives the same rows on
every run with the same Python version. The Parquet bytes also depend on the pyarrow version,
which writes its name into the file footer.

Usage: python generate.py [--out DIR] [--seed N]
"""
from __future__ import annotations

import argparse
import bisect
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20260630
FIRST_DAY = date(2025, 7, 1)
LAST_DAY = date(2026, 6, 30)
# The data range is FIRST_DAY to LAST_DAY in this zone, the time zone of the saas project.
PROJECT_ZONE = ZoneInfo("America/New_York")
N_ACCOUNTS = 60
N_NEW_ACCOUNTS = 12  # accounts whose contract starts inside the data range
MIN_SEATS, MAX_SEATS = 3, 80  # seats purchased per account, upsells included

# Event classes with the relative frequencies of their events. login is not in a class
# because it is emitted separately, at the start of most active days.
PASSIVE_EVENTS = {"page_view": 0.7, "dashboard_view": 0.3}
CORE_EVENTS = {"report_created": 0.15, "query_run": 0.35, "record_updated": 0.35, "workflow_completed": 0.15}
POWER_EVENTS = {"automation_built": 0.15, "api_integration_used": 0.35, "comment_mentioned": 0.35, "dashboard_shared": 0.15}

# Product modules, the values of the `feature` column, from the most to the least commonly
# adopted. An account adopts a subset and its users touch only those modules.
MODULES = [
    "dashboards", "reports", "contacts", "pipeline", "workflows", "collaboration",
    "invoicing", "forecasting", "inventory", "automations", "integrations", "admin",
]
# The modules an event can touch. page_view can touch every module and login none.
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

PLANS = ["starter", "growth", "enterprise"]
SEAT_PRICE = {"starter": 25.0, "growth": 45.0, "enterprise": 70.0}  # USD per seat and month
OFFICE_ZONES = {
    "America/New_York": 45, "America/Chicago": 20, "America/Denver": 5,
    "America/Los_Angeles": 20, "Europe/London": 10,
}

# Share of a user's weekday activity probability by weekday, Monday first.
WEEKDAY_FACTOR = [1.0, 1.05, 1.05, 1.0, 0.8, 0.1, 0.07]
US_HOLIDAYS = {
    date(2025, 7, 4), date(2025, 9, 1), date(2025, 11, 27), date(2025, 11, 28),
    date(2026, 1, 19), date(2026, 2, 16), date(2026, 5, 25),
}
# NPS survey days: one a quarter, each open for 14 days.
SURVEY_DAYS = [date(2025, 9, 16), date(2025, 12, 9), date(2026, 3, 17), date(2026, 6, 9)]
SURVEY_OPEN_DAYS = 14
# Share of closed tickets whose customer answers the satisfaction survey.
CSAT_RESPONSE_RATE = 0.4


@dataclass
class Account:
    account_id: str
    zone: ZoneInfo
    segment: str
    seats: int  # seats purchased at the start of the data range or at signing
    plan: str  # plan at the start of the data range or at signing
    contract_start: date
    base_health: float  # latent health on FIRST_DAY
    health_slope: float  # change of the latent health per 365 days
    modules: list[str]
    promised_roi: float
    is_new: bool
    # First day with core or power actions. Earlier days of a new account are onboarding with
    # passive use only. None for a new account that never gets there.
    activation_day: date | None
    renewal_date: date | None = None  # None for new accounts: their renewal is after LAST_DAY
    renewed: bool | None = None
    end_day: date = LAST_DAY  # last day of activity: the renewal date when the account churns
    upsell_day: date | None = None
    upsell_seats: int = 0
    upgraded_plan: str | None = None  # plan from upsell_day on, when the upsell changed it
    downgrade_seats: int = 0  # seats removed at the renewal
    first_workflow_day: date | None = None  # local day of the first workflow_completed

    def health(self, day: date) -> float:
        """Return the latent health on a day, a straight line over the data range clamped to 0.02-0.98."""
        value = self.base_health + self.health_slope * (day - FIRST_DAY).days / 365
        return min(0.98, max(0.02, value))

    def plan_on(self, day: date) -> str:
        if self.upgraded_plan is not None and day >= self.upsell_day:
            return self.upgraded_plan
        return self.plan

    def current_seats(self) -> int:
        return self.seats + self.upsell_seats - self.downgrade_seats

    def current_plan(self) -> str:
        return self.upgraded_plan or self.plan


@dataclass
class User:
    user_id: str
    account: Account
    role: str  # viewer (mostly passive), member (core actions) or builder (power actions)
    propensity: float  # probability of activity on a weekday, before the health factor
    first_day: date
    last_day: date
    leaves: bool = False  # True when the user stops before the account does
    active_days: list[date] = field(default_factory=list)  # local days with events, ascending


def days_between(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def poisson(rng: random.Random, mean: float) -> int:
    """Draw a Poisson variate by Knuth's multiplication method, which suits means below about 30."""
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def calendar_factor(day: date) -> float:
    """Return the activity factor of a calendar day: US holidays, the year-end break and August are quieter."""
    if day in US_HOLIDAYS:
        return 0.3
    if (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 2):
        return 0.4
    if day.month == 8:
        return 0.85
    return 1.0


def local_time(rng: random.Random, business_share: float = 0.88) -> float:
    """Draw a start time in local hours: mostly office hours, the rest in the evening."""
    if rng.random() < business_share:
        return min(18.5, max(7.0, rng.normalvariate(11.5, 2.4)))
    return rng.uniform(18.5, 23.9)


def to_utc(day: date, hours: float, zone: ZoneInfo) -> datetime:
    local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(seconds=int(hours * 3600))
    return local.astimezone(timezone.utc)


def onboarding_median_days(health: float) -> float:
    """Return the median number of days from contract start to the first core action."""
    return 8 + 150 * (1 - health) ** 2


def build_accounts(rng: random.Random) -> list[Account]:
    accounts = []
    zones, zone_weights = list(OFFICE_ZONES), list(OFFICE_ZONES.values())
    for index in range(N_ACCOUNTS):
        is_new = index >= N_ACCOUNTS - N_NEW_ACCOUNTS
        base_health = rng.betavariate(2.2, 1.8)
        health_slope = rng.normalvariate(0.0, 0.25)

        # Seat counts are log-normal, so a few large accounts sit beside many small ones.
        seats = min(MAX_SEATS, max(MIN_SEATS, round(rng.lognormvariate(math.log(12), 0.85))))
        if seats < 10:
            plan = "starter" if rng.random() < 0.8 else "growth"
        elif seats <= 30:
            plan = "growth" if rng.random() < 0.75 else rng.choice(["starter", "enterprise"])
        else:
            plan = "enterprise" if rng.random() < 0.8 else "growth"
        if seats < 15:
            segment = "smb"
        elif seats <= 40:
            segment = "mid_market"
        else:
            segment = "enterprise"

        module_count = min(12, max(3, round(3 + 9 * base_health + rng.normalvariate(0, 1))))
        ranked = sorted(MODULES, key=lambda module: MODULES.index(module) + rng.uniform(0, 5))
        modules = ranked[:module_count]

        if is_new:
            contract_start = FIRST_DAY + timedelta(days=rng.randint(31, 330))
            # Onboarding takes longer for weaker accounts, and some never reach their first
            # core action inside the data range.
            onboarding = rng.lognormvariate(math.log(onboarding_median_days(base_health)), 0.5)
            activation_day = contract_start + timedelta(days=round(onboarding))
            if activation_day > LAST_DAY:
                activation_day = None
            renewal_date = None
        else:
            # Contracts run for whole years and renew on the anniversary of their start. Every
            # renewal falls between mid-October and late June, so it has at least 106 days of
            # history before it.
            renewal_date = date(2025, 10, 15) + timedelta(days=rng.randint(0, 248))
            contract_start = renewal_date.replace(year=renewal_date.year - rng.randint(1, 4))
            activation_day = FIRST_DAY

        accounts.append(Account(
            account_id=f"acct_{index + 1:03d}",
            zone=ZoneInfo(rng.choices(zones, weights=zone_weights)[0]),
            segment=segment,
            seats=seats,
            plan=plan,
            contract_start=contract_start,
            base_health=base_health,
            health_slope=health_slope,
            modules=modules,
            promised_roi=round(rng.uniform(1.5, 4.0), 1),
            is_new=is_new,
            activation_day=activation_day,
            renewal_date=renewal_date,
        ))
    return accounts


def plan_contract_changes(rng: random.Random, account: Account) -> None:
    """Draw the renewal outcome, an upsell and a downgrade at renewal, all from the latent health."""
    if account.renewal_date is not None:
        health_at_renewal = account.health(account.renewal_date)
        renewal_probability = 1 / (1 + math.exp(-9 * (health_at_renewal - 0.42)))
        account.renewed = rng.random() < renewal_probability
        if not account.renewed:
            account.end_day = account.renewal_date
        elif health_at_renewal < 0.4 and rng.random() < 0.6:
            account.downgrade_seats = max(1, round(account.seats * rng.uniform(0.1, 0.4)))

    start = max(FIRST_DAY, account.contract_start) + timedelta(days=30)
    # At most one upsell, on a random day, with a probability that grows with the latent health
    # on that day. It adds seats up to MAX_SEATS, and an account already there gets none.
    if start >= account.end_day - timedelta(days=30) or account.seats >= MAX_SEATS:
        return
    upsell_day = start + timedelta(days=rng.randint(0, (account.end_day - start).days - 30))
    if rng.random() < 0.8 * account.health(upsell_day) ** 2:
        account.upsell_day = upsell_day
        added = max(1, math.ceil(account.seats * rng.uniform(0.1, 0.5)))
        account.upsell_seats = min(added, MAX_SEATS - account.seats)
        if account.plan != "enterprise" and rng.random() < 0.3:
            account.upgraded_plan = PLANS[PLANS.index(account.plan) + 1]


def draw_user_profile(rng: random.Random, account: Account, champion: bool) -> tuple[str, float]:
    """Draw a role and a weekday activity probability. The first user of an account is its champion."""
    health = account.base_health
    if champion and rng.random() < 0.5 + 0.4 * health:
        role = "builder"
    else:
        builder_share = 0.08 + 0.15 * health
        viewer_share = 0.6 - 0.45 * health
        role = rng.choices(["builder", "viewer", "member"],
                           weights=[builder_share, viewer_share, 1 - builder_share - viewer_share])[0]

    # Frequency classes: daily users, regular users and occasional users. Healthier accounts
    # have more daily users.
    kind = rng.choices(["daily", "regular", "occasional"], weights=[8 + 25 * health, 45, 47 - 25 * health])[0]
    if kind == "daily":
        propensity = rng.uniform(0.75, 0.95)
    elif kind == "regular":
        propensity = rng.uniform(0.3, 0.6)
    else:
        propensity = rng.uniform(0.04, 0.2)
    return role, propensity


def build_users(rng: random.Random, accounts: list[Account]) -> list[User]:
    users: list[User] = []

    def add_user(account: Account, first_day: date, champion: bool = False) -> User | None:
        if first_day > account.end_day:
            return None
        role, propensity = draw_user_profile(rng, account, champion)
        user = User(f"user_{len(users) + 1:05d}", account, role, propensity, first_day, account.end_day)
        users.append(user)
        return user

    for account in accounts:
        health = account.base_health
        utilisation = min(1.0, max(0.2, 0.35 + 0.6 * health + rng.normalvariate(0, 0.08)))
        initial_count = min(account.seats, max(1, round(account.seats * utilisation)))
        start = max(FIRST_DAY, account.contract_start)
        seat_holders = []
        for position in range(initial_count):
            # A new account's users join over its first weeks, its champion on the first day.
            delay = 0 if not account.is_new or position == 0 else rng.randint(0, 40)
            seat_holders.append(add_user(account, start + timedelta(days=delay), champion=position == 0))
        if account.upsell_day is not None:
            for _ in range(account.upsell_seats):
                seat_holders.append(add_user(account, account.upsell_day + timedelta(days=rng.randint(0, 30))))

        # Users leave and some seats are filled again. Weaker accounts lose more users and
        # replace fewer of them. Replacements can leave in turn.
        queue = [user for user in seat_holders if user is not None]
        while queue:
            user = queue.pop(0)
            if user.last_day - user.first_day < timedelta(days=20):
                continue
            if rng.random() >= 0.06 + 0.4 * (1 - health):
                continue
            user.leaves = True
            user.last_day = user.first_day + timedelta(days=rng.randint(20, (user.last_day - user.first_day).days))
            if rng.random() < 0.3 + 0.6 * health:
                replacement = add_user(account, user.last_day + timedelta(days=rng.randint(3, 40)))
                if replacement is not None:
                    queue.append(replacement)

        # A downgrade at renewal removes the seats of the least active users still there.
        if account.downgrade_seats:
            present = [user for user in users
                       if user.account is account and user.first_day <= account.renewal_date <= user.last_day]
            present.sort(key=lambda user: user.propensity)
            for user in present[:account.downgrade_seats]:
                user.leaves = True
                user.last_day = account.renewal_date
    return users


def session_class_weights(role: str, health: float) -> dict[str, float]:
    passive, core, power = {"viewer": (0.98, 0.02, 0.0), "member": (0.45, 0.5, 0.05),
                            "builder": (0.35, 0.45, 0.2)}[role]
    core *= 0.4 + 1.2 * health
    power *= 0.4 + 1.2 * health
    return {"passive": passive, "core": core, "power": power}


def simulate_events(rng: random.Random, users: list[User]) -> list[tuple]:
    """Simulate each user's days and return rows (event_ts, account_id, user_id, event_name, feature, plan)."""
    class_events = {"passive": PASSIVE_EVENTS, "core": CORE_EVENTS, "power": POWER_EVENTS}
    extra_events_mean = {"viewer": 1.5, "member": 2.8, "builder": 3.2}
    rows = []
    for user in users:
        account = user.account
        fade_start = user.last_day - timedelta(days=21)
        for day in days_between(user.first_day, user.last_day):
            health = account.health(day)
            probability = (user.propensity * WEEKDAY_FACTOR[day.weekday()] * calendar_factor(day)
                           * (0.2 + 1.2 * health))
            if user.leaves and day > fade_start:
                # A leaving user fades out over the last three weeks.
                probability *= (user.last_day - day).days / 21
            if account.renewed is False and day > account.end_day - timedelta(days=30):
                # A churning account winds down in the month before its renewal date.
                probability *= 0.5
            if rng.random() >= min(probability, 0.95):
                continue

            user.active_days.append(day)
            can_act = account.activation_day is not None and day >= account.activation_day
            weights = session_class_weights(user.role, health)
            hours = local_time(rng)
            names = ["login"] if rng.random() < 0.6 else []
            extra_count = 1
            continue_probability = extra_events_mean[user.role] / (1 + extra_events_mean[user.role])
            while rng.random() < continue_probability and extra_count < 40:
                extra_count += 1
            for _ in range(extra_count):
                event_class = pick(rng, weights) if can_act else "passive"
                names.append(pick(rng, class_events[event_class]))

            for name in names:
                feature = None
                if name != "login":
                    candidates = [module for module in EVENT_MODULES[name] if module in account.modules]
                    if not candidates:
                        # The account has not adopted the module this action needs, so the
                        # user only looks at a page.
                        name = "page_view"
                        candidates = account.modules
                    feature = rng.choice(candidates)
                if name == "workflow_completed" and account.first_workflow_day is None:
                    account.first_workflow_day = day
                rows.append((to_utc(day, hours, account.zone), account.account_id, user.user_id,
                             name, feature, account.plan_on(day)))
                hours += (5 + rng.expovariate(1 / 90)) / 3600
    return rows


def in_data_range(timestamp: datetime) -> bool:
    return FIRST_DAY <= timestamp.astimezone(PROJECT_ZONE).date() <= LAST_DAY


def build_nps(rng: random.Random, users: list[User]) -> list[tuple]:
    """Draw the responses to each quarterly survey from the users active in the 30 days before it.

    Returns rows (account_id, user_id, responded_at, score).
    """
    rows = []
    for survey_day in SURVEY_DAYS:
        for user in users:
            account = user.account
            if not (user.first_day <= survey_day <= user.last_day):
                continue
            recent = bisect.bisect_left(user.active_days, survey_day - timedelta(days=30))
            if recent == len(user.active_days) or user.active_days[recent] > survey_day:
                continue
            health = account.health(survey_day)
            if rng.random() >= 0.25 + 0.2 * health:
                continue
            response_day = survey_day + timedelta(days=min(SURVEY_OPEN_DAYS - 1, int(rng.expovariate(1 / 2))))
            if response_day > user.last_day:
                continue
            role_shift = {"viewer": -0.3, "member": 0.0, "builder": 0.5}[user.role]
            score = min(10, max(0, round(rng.normalvariate(3.0 + 7.0 * health + role_shift, 1.6))))
            rows.append((account.account_id, user.user_id, to_utc(response_day, local_time(rng), account.zone), score))
    return rows


def build_tickets(rng: random.Random, accounts: list[Account], users: list[User]) -> list[tuple]:
    """Open support tickets at a daily rate per present user that grows as the latent health falls.

    Returns rows (account_id, created_at, sentiment, priority).
    """
    users_by_account: dict[str, list[User]] = {account.account_id: [] for account in accounts}
    for user in users:
        users_by_account[user.account.account_id].append(user)

    rows = []
    for account in accounts:
        account_users = users_by_account[account.account_id]
        for day in days_between(max(FIRST_DAY, account.contract_start), account.end_day):
            present = sum(1 for user in account_users if user.first_day <= day <= user.last_day)
            health = account.health(day)
            mean = present * (0.006 + 0.02 * (1 - health)) * WEEKDAY_FACTOR[day.weekday()] * calendar_factor(day)
            for _ in range(poisson(rng, mean)):
                sentiment = min(1.0, max(-1.0, rng.normalvariate(-0.55 + 1.1 * health, 0.3)))
                urgent = 0.04 + 0.1 * (1 - health)
                high = 0.15 + 0.1 * (1 - health)
                priority = rng.choices(["urgent", "high", "normal", "low"], weights=[urgent, high, 0.5, 0.31])[0]
                rows.append((account.account_id, to_utc(day, local_time(rng, 0.95), account.zone),
                             round(sentiment, 3), priority))
    return rows


def last_event_days_by_user(accounts: list[Account], event_rows: list[tuple]) -> dict[str, dict[str, list[date]]]:
    """Return each account's users with the sorted local days of their events."""
    days: dict[str, dict[str, set[date]]] = {account.account_id: {} for account in accounts}
    for timestamp, account_id, user_id, *_ in event_rows:
        days[account_id].setdefault(user_id, set()).add(timestamp.astimezone(PROJECT_ZONE).date())
    return {account_id: {user_id: sorted(user_days) for user_id, user_days in users.items()}
            for account_id, users in days.items()}


def seats_used_on(user_days: dict[str, list[date]], day: date) -> int:
    """Count the users with an event in the 30 days up to `day`."""
    window_start = day - timedelta(days=29)
    count = 0
    for days in user_days.values():
        position = bisect.bisect_left(days, window_start)
        if position < len(days) and days[position] <= day:
            count += 1
    return count


def contract_on(account: Account, day: date) -> tuple[int, float]:
    """Return the seats purchased on `day` and the net change of annual recurring revenue up to it."""
    seats, expansion_arr = account.seats, 0.0
    plan = account.plan_on(day)
    if account.upsell_day is not None and account.upsell_day <= day:
        seats += account.upsell_seats
        expansion_arr += 12 * account.upsell_seats * SEAT_PRICE[plan]
        if account.upgraded_plan is not None:
            expansion_arr += 12 * account.seats * (SEAT_PRICE[account.upgraded_plan] - SEAT_PRICE[account.plan])
    if account.downgrade_seats and account.renewal_date <= day:
        seats -= account.downgrade_seats
        expansion_arr -= 12 * account.downgrade_seats * SEAT_PRICE[plan]
    return seats, expansion_arr


def sponsor_meetings_mean(account: Account, day: date) -> float:
    return 0.3 + 3.5 * account.health(day) + (1.0 if account.segment == "enterprise" else 0.0)


def achieved_roi(rng: random.Random, account: Account, day: date) -> float:
    return round(max(0.0, account.promised_roi * (0.15 + 1.05 * account.health(day) + rng.normalvariate(0, 0.12))), 2)


def account_row(account: Account, day: date, user_days: dict[str, list[date]], roi: float,
                days_to_first_value: int | None, meetings: int, usage_day: date | None = None) -> dict:
    """Return an attribute row of `day`, with the seats used in the 30 days up to `usage_day` (default `day`)."""
    seats_purchased, expansion_arr = contract_on(account, day)
    return {
        "account_id": account.account_id,
        "snapshot_date": day,
        "plan": account.plan_on(day),
        "segment": account.segment,
        "contract_start": account.contract_start,
        "promised_roi": account.promised_roi,
        "achieved_roi": roi,
        "seats_purchased": seats_purchased,
        "seats_used": seats_used_on(user_days, usage_day or day),
        "days_to_first_value": days_to_first_value,
        "expansion_arr": expansion_arr,
        "executive_sponsor_meetings_90d": meetings,
    }


def build_account_rows(rng: random.Random, accounts: list[Account], event_rows: list[tuple]) -> list[dict]:
    """Build one attribute row per account, a snapshot on the account's last day of activity."""
    user_days = last_event_days_by_user(accounts, event_rows)
    rows = []
    for account in accounts:
        roi = achieved_roi(rng, account, account.end_day)
        if account.is_new:
            days_to_first_value = (None if account.first_workflow_day is None
                                   else (account.first_workflow_day - account.contract_start).days)
        else:
            # The value was recorded before the data range, so it is drawn from the onboarding
            # model of the new accounts.
            median = onboarding_median_days(account.base_health)
            days_to_first_value = max(1, round(rng.lognormvariate(math.log(median), 0.5)))
        meetings = poisson(rng, sponsor_meetings_mean(account, account.end_day))
        rows.append(account_row(account, account.end_day, user_days[account.account_id], roi,
                                days_to_first_value, meetings))
    return rows


def snapshot_days(account: Account) -> list[date]:
    """Return the days of an account's monthly snapshots before its last one.

    The first snapshot is on the first day of data or of the contract, the others on the first
    day of each month up to the account's last day of activity, which has the last snapshot.
    """
    first = max(FIRST_DAY, account.contract_start)
    days = [first]
    month = date(first.year, first.month, 1)
    while True:
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        if month >= account.end_day:
            return days
        days.append(month)


def build_account_history(rng: random.Random, accounts: list[Account], event_rows: list[tuple],
                          last_rows: list[dict]) -> list[dict]:
    """Build the monthly attribute snapshots of each account, ending with its row of `last_rows`.

    Each snapshot shows the account as it was on its day: plan, seats, expansion and the users
    of the 30 days before it. Its ROI and count of sponsor meetings are drawn from that day's
    latent health, and the days to first value appear from the day of first value on.
    """
    user_days = last_event_days_by_user(accounts, event_rows)
    rows = []
    for account, last_row in zip(accounts, last_rows):
        for day in snapshot_days(account):
            roi = achieved_roi(rng, account, day)
            meetings = poisson(rng, sponsor_meetings_mean(account, day))
            # The days to first value are known from the day of first value on.
            days_to_first_value = last_row["days_to_first_value"]
            if days_to_first_value is not None and account.contract_start + timedelta(days=days_to_first_value) > day:
                days_to_first_value = None
            # The data has no events before FIRST_DAY, so the first snapshot of an account that
            # signed earlier counts the users of the first 30 days of data instead.
            usage_day = day + timedelta(days=29) if day == FIRST_DAY and not account.is_new else day
            rows.append(account_row(account, day, user_days[account.account_id], roi, days_to_first_value,
                                    meetings, usage_day))
        rows.append(last_row)
    return rows


def add_csat(rng: random.Random, accounts: list[Account], ticket_rows: list[tuple]) -> list[tuple]:
    """Append a satisfaction rating from 1 to 5 to each ticket, or None when the customer gave none."""
    by_id = {account.account_id: account for account in accounts}
    rated = []
    for row in ticket_rows:
        account = by_id[row[0]]
        rating = None
        if rng.random() < CSAT_RESPONSE_RATE:
            health = account.health(row[1].astimezone(account.zone).date())
            rating = min(5, max(1, round(rng.normalvariate(1.6 + 3.4 * health, 0.8))))
        rated.append((*row, rating))
    return rated


def build_renewal_rows(accounts: list[Account]) -> list[dict]:
    rows = []
    for account in accounts:
        if account.renewal_date is None:
            continue
        # Annual list price of the contract that came up for renewal: its seats and plan on the
        # renewal date, before a downgrade made at the renewal.
        seats = account.seats
        if account.upsell_day is not None and account.upsell_day <= account.renewal_date:
            seats += account.upsell_seats
        rows.append({
            "account_id": account.account_id,
            "renewal_date": account.renewal_date,
            "renewed": account.renewed,
            "contract_value": 12 * seats * SEAT_PRICE[account.plan_on(account.renewal_date)],
        })
    return rows


EVENT_SCHEMA = pa.schema([
    ("event_id", pa.string()), ("event_ts", pa.timestamp("us", tz="UTC")), ("account_id", pa.string()),
    ("user_id", pa.string()), ("event_name", pa.string()), ("feature", pa.string()), ("plan", pa.string()),
])
NPS_SCHEMA = pa.schema([
    ("response_id", pa.string()), ("account_id", pa.string()), ("user_id", pa.string()),
    ("responded_at", pa.timestamp("us", tz="UTC")), ("score", pa.int64()),
])
TICKET_SCHEMA = pa.schema([
    ("ticket_id", pa.string()), ("account_id", pa.string()), ("created_at", pa.timestamp("us", tz="UTC")),
    ("sentiment", pa.float64()), ("priority", pa.string()), ("csat", pa.int64()),
])
ACCOUNT_SCHEMA = pa.schema([
    ("account_id", pa.string()), ("snapshot_date", pa.date32()), ("plan", pa.string()), ("segment", pa.string()),
    ("contract_start", pa.date32()), ("promised_roi", pa.float64()), ("achieved_roi", pa.float64()),
    ("seats_purchased", pa.int64()), ("seats_used", pa.int64()), ("days_to_first_value", pa.int64()),
    ("expansion_arr", pa.float64()), ("executive_sponsor_meetings_90d", pa.int64()),
])
RENEWAL_SCHEMA = pa.schema([
    ("account_id", pa.string()), ("renewal_date", pa.date32()), ("renewed", pa.bool_()),
    ("contract_value", pa.float64()),
])


def numbered_table(rows: list[tuple], schema: pa.Schema, prefix: str, sort_key) -> pa.Table:
    """Sort rows, prepend an id in that order (prefix and a 7-digit number) and build a table."""
    rows = sorted(rows, key=sort_key)
    columns = list(zip(*rows)) if rows else [() for _ in schema.names[1:]]
    arrays = [[f"{prefix}{index:07d}" for index in range(1, len(rows) + 1)]] + [list(column) for column in columns]
    return pa.Table.from_arrays([pa.array(values, type=schema.field(i).type) for i, values in enumerate(arrays)],
                                schema=schema)


def build_dataset(seed: int = SEED) -> tuple[dict[str, pa.Table], dict[str, dict]]:
    """Build the five tables and return them with each account's latent parameters.

    The second value maps account_id to base_health, health_slope and health_at_end. The
    generator never writes it to disk, so the health scores see only the observable data.
    """
    rng = random.Random(seed)
    accounts = build_accounts(rng)
    for account in accounts:
        plan_contract_changes(rng, account)
    users = build_users(rng, accounts)

    event_rows = [row for row in simulate_events(rng, users) if in_data_range(row[0])]
    nps_rows = [row for row in build_nps(rng, users) if in_data_range(row[2])]
    ticket_rows = [row for row in build_tickets(rng, accounts, users) if in_data_range(row[1])]
    last_account_rows = build_account_rows(rng, accounts, event_rows)
    # Draws added to the generator come after the draws above, so the rows above stay the same.
    ticket_rows = add_csat(rng, accounts, ticket_rows)
    account_rows = build_account_history(rng, accounts, event_rows, last_account_rows)

    tables = {
        "events": numbered_table(event_rows, EVENT_SCHEMA, "evt_", lambda row: (row[0], row[1], row[2])),
        "nps_responses": numbered_table(nps_rows, NPS_SCHEMA, "nps_", lambda row: (row[2], row[0], row[1])),
        "support_tickets": numbered_table(ticket_rows, TICKET_SCHEMA, "tkt_", lambda row: (row[1], row[0])),
        "accounts": pa.Table.from_pylist(account_rows, schema=ACCOUNT_SCHEMA),
        "renewals": pa.Table.from_pylist(build_renewal_rows(accounts), schema=RENEWAL_SCHEMA),
    }
    latent = {
        account.account_id: {
            "base_health": account.base_health,
            "health_slope": account.health_slope,
            "health_at_end": account.health(account.end_day),
        }
        for account in accounts
    }
    return tables, latent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "data",
                        help="output folder for the Parquet files (default: data/ beside this script)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed of the random generator (default: {SEED})")
    args = parser.parse_args()

    tables, _ = build_dataset(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        path = args.out / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd")
        print(f"{path}: {table.num_rows} rows, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
