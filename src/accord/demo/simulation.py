"""Simulate the demo company with numpy: the world first, then contacts chunk by chunk.

Pure computation, no Django: `World` holds the small global state (timeline, campaigns,
accounts, staff, weekly effects, each contact's skeleton), `simulate_chunk` turns one slice
of contacts into rows for every table, as columns of plain Python values keyed by field
name. Primary keys are precomputed so rows of different tables can point at each other
without reading anything back from the database.

Determinism: every random draw comes from a numpy Generator seeded with (seed, purpose,
chunk) or from a Faker instance seeded with the seed; nothing reads the clock, and nothing
iterates over a set or an unordered mapping.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np

from accord.demo import world as W

DAY = 86_400
HOUR = 3_600
CHUNK_CONTACTS = 5_000

CHANNELS = tuple(W.CHANNEL_RULES)
CH = {name: i for i, name in enumerate(CHANNELS)}
STAGES = ("lead", "mql", "sal", "sql", "opportunity", "customer", "nurture", "disqualified")
ST = {name: i for i, name in enumerate(STAGES)}

# Local hour of day at which people fill in forms, per segment.
_B2B_HOURS = np.array([1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 10, 12, 13, 12, 10, 7, 5, 4, 3, 2, 2, 1], float)
_B2C_HOURS = np.array([2, 1, 1, 1, 1, 1, 2, 4, 6, 7, 8, 8, 9, 9, 8, 8, 9, 10, 12, 14, 14, 12, 8, 4], float)
HOURS_P = (_B2B_HOURS / _B2B_HOURS.sum(), _B2C_HOURS / _B2C_HOURS.sum())

FIRST_TOUCH_KIND = {
    "paid_search": "form_submit", "paid_social": "form_submit", "display": "form_submit",
    "email": "form_submit", "webinar": "webinar_register", "event": "event_visit",
    "content_seo": "content_download", "referral": "referral", "partner": "form_submit",
    "outbound": "email_click", "direct_offline": "store_visit", "organic_social": "form_submit",
    "direct": "form_submit",
}
LATER_TOUCH_KINDS = {
    "paid_search": (("ad_click", 1.0),),
    "paid_social": (("ad_click", 1.0),),
    "display": (("ad_click", 1.0),),
    "email": (("email_open", 0.65), ("email_click", 0.35)),
    "webinar": (("webinar_register", 0.5), ("webinar_attend", 0.5)),
    "event": (("event_visit", 1.0),),
    "content_seo": (("page_view", 0.6), ("content_download", 0.4)),
    "referral": (("referral", 1.0),),
    "partner": (("page_view", 1.0),),
    "outbound": (("email_open", 0.6), ("email_click", 0.4)),
    "direct_offline": (("store_visit", 1.0),),
    "organic_social": (("page_view", 1.0),),
    "direct": (("page_view", 0.85), ("chat", 0.15)),
}
KIND_PATHS = {
    "page_view": ("/", "/product", "/pricing", "/customers", "/blog/five-signs-your-funnel-leaks", "/shop"),
    "form_submit": ("/contact", "/demo", "/quote"),
    "content_download": ("/resources/state-of-revenue", "/resources/roi-calculator"),
    "webinar_register": ("/webinars/pipeline-that-closes",),
    "webinar_attend": ("/webinars/pipeline-that-closes/live",),
    "ad_click": ("/lp/",),
    "email_open": ("",),
    "email_click": ("/newsletter/latest", "/blog/five-signs-your-funnel-leaks"),
    "chat": ("/pricing", "/product"),
    "demo_request": ("/demo",),
    "purchase": ("/shop/checkout",),
    "referral": ("/refer",),
    "event_visit": ("",),
    "store_visit": ("",),
}
REFERRERS = {
    "paid_search": "https://www.google.com/", "content_seo": "https://www.google.com/",
    "paid_social": "https://www.linkedin.com/", "organic_social": "https://www.linkedin.com/",
}
LEAD_RULE = {
    "event": "event badge scan", "direct_offline": "store sign-up", "referral": "referral form",
    "partner": "partner registration", "outbound": "outbound reply", "webinar": "webinar registration",
}
COMPETITOR_DOMAINS = ("rivalcrm.example", "pipeforce.example", "leadlytics.example")
FREEMAIL = ("mail.example", "inbox.example", "post.example", "webmail.example")
STUDENT_DOMAINS = ("student.uni.example", "alumni.college.example", "mail.example")
JUNK_NAMES = ("asdf", "test", "x", "aaa", "qwerty", "none")

INDUSTRY_WORDS = {
    "software": ("Labs", "Software", "Systems", "Cloud", "Data", "Digital"),
    "financial": ("Capital", "Financial", "Partners", "Insurance", "Payments"),
    "professional": ("Consulting", "Advisory", "Partners", "Group", "Associates"),
    "healthcare": ("Health", "Care", "Medical", "Clinics", "Bio"),
    "manufacturing": ("Industries", "Manufacturing", "Components", "Works", "Engineering"),
    "logistics": ("Logistics", "Freight", "Transport", "Shipping"),
    "retail": ("Stores", "Retail", "Market", "Goods", "Outfitters"),
    "hospitality": ("Hotels", "Hospitality", "Restaurants", "Travel"),
    "public": ("Council", "Agency", "Authority", "Services"),
    "education": ("Academy", "Learning", "Institute", "School"),
    "other": ("Holdings", "Enterprises", "Ventures", "Co"),
}
COMPANY_SUFFIX = {
    "US": "Inc.", "CA": "Inc.", "GB": "Ltd", "DE": "GmbH", "FR": "SA", "NL": "B.V.", "SE": "AB",
    "ES": "S.L.", "AU": "Pty Ltd", "SG": "Pte Ltd", "IN": "Pvt Ltd", "BR": "Ltda", "MX": "S.A. de C.V.",
    "AR": "S.A.",
}


def ascii_slug(text: str, sep: str = "") -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", sep, folded).strip(sep)


def shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def to_datetimes(seconds: np.ndarray) -> list[datetime]:
    """Convert epoch seconds to aware UTC datetimes; negative means missing (None)."""
    values = np.asarray(seconds, dtype=np.int64)
    naive = values.astype("datetime64[s]").astype(object)
    return [None if v < 0 else d.replace(tzinfo=UTC) for v, d in zip(values.tolist(), naive, strict=True)]


def to_dates(seconds: np.ndarray) -> list[date]:
    return (np.asarray(seconds, dtype=np.int64) // DAY).astype("datetime64[D]").astype(object).tolist()


def money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def quarter_key(seconds: np.ndarray) -> np.ndarray:
    """Return year * 4 + quarter index (0–3) for epoch seconds."""
    months = (np.asarray(seconds, dtype=np.int64) // DAY).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return (months // 12 + 1970) * 4 + (months % 12) // 3


def _speed_multiplier(hours: np.ndarray) -> np.ndarray:
    result = np.ones_like(hours)
    for limit, multiplier in reversed(W.SPEED_MULTIPLIER):
        result = np.where(hours <= limit, multiplier, result)
    return result


def _conversion(rate: np.ndarray) -> np.ndarray:
    return 1.0 - np.exp(-rate)


def _objects(values) -> np.ndarray:
    """Make an object array of Python values (numpy would turn strings into fixed-width ones)."""
    result = np.empty(len(values), dtype=object)
    result[:] = list(values)
    return result


def _pick(rng: np.random.Generator, options: tuple, n: int) -> np.ndarray:
    """Draw n options uniformly, as an object array (keeps strings as Python str)."""
    values = np.empty(len(options), dtype=object)
    values[:] = list(options)
    return values[rng.integers(0, len(options), n)]


def _weighted(rng: np.random.Generator, pairs: tuple, n: int) -> np.ndarray:
    names = np.empty(len(pairs), dtype=object)
    names[:] = [name for name, _ in pairs]
    weights = np.array([weight for _, weight in pairs], float)
    return names[rng.choice(len(pairs), size=n, p=weights / weights.sum())]


@dataclass(frozen=True)
class Instants:
    """A column of moments as epoch seconds (negative: none), converted by whoever stores it.

    Building 200,000 datetime objects costs more than the simulation that produced them,
    so the loader turns these into whatever its database wants, in bulk.
    """

    seconds: np.ndarray

    def __len__(self) -> int:
        return len(self.seconds)

    def datetimes(self) -> list[datetime | None]:
        return to_datetimes(self.seconds)


@dataclass
class IdCounters:
    """The last primary key used per table, so the next chunk continues after it."""

    last: dict[str, int]

    def take(self, table: str, n: int) -> np.ndarray:
        first = self.last[table] + 1
        self.last[table] += n
        return np.arange(first, first + n, dtype=np.int64)


@dataclass
class Chunk:
    """Rows for every table, as {table: {field: list of values}}, plus goal figures."""

    tables: dict[str, dict[str, list]] = field(default_factory=dict)
    totals: dict[tuple[str, int], float] = field(default_factory=lambda: defaultdict(float))


class NamePools:
    """First and last names per Faker locale, drawn once so a million contacts cost no Faker calls."""

    def __init__(self, seed: int, size: int = 160) -> None:
        from faker import Faker

        self.first: dict[str, np.ndarray] = {}
        self.last: dict[str, np.ndarray] = {}
        for locale in sorted(set(W.COUNTRY_LOCALE.values())):
            fake = Faker(locale)
            fake.seed_instance(seed)
            firsts = sorted({fake.first_name() for _ in range(size)})
            lasts = sorted({fake.last_name() for _ in range(size)})
            # Names that fold to nothing in ASCII would make empty email addresses.
            self.first[locale] = np.array([n for n in firsts if ascii_slug(n)], dtype=object)
            self.last[locale] = np.array([n for n in lasts if ascii_slug(n)], dtype=object)

    def draw(self, rng: np.random.Generator, countries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(countries)
        first = np.empty(n, dtype=object)
        last = np.empty(n, dtype=object)
        locales = np.array([W.COUNTRY_LOCALE[c] for c in countries.tolist()], dtype=object)
        for locale in sorted(set(locales.tolist())):
            mask = locales == locale
            m = int(mask.sum())
            first[mask] = self.first[locale][rng.integers(0, len(self.first[locale]), m)]
            last[mask] = self.last[locale][rng.integers(0, len(self.last[locale]), m)]
        return first, last


@functools.lru_cache(maxsize=4)
def _name_pools(seed: int) -> NamePools:
    # Faker is slow to start; repeated loads in one process (tests) reuse the pools.
    return NamePools(seed)


class World:
    """The global, small state of the simulation: everything except the per-contact detail."""

    def __init__(self, *, seed: int, scale: float, as_of: date, ids: IdCounters,
                 user_ids: dict[str, int], now: datetime | None = None) -> None:
        self.seed = seed
        self.scale = scale
        self.as_of = as_of
        self.now = now
        self.ids = ids
        self.user_ids = user_ids
        self._timeline()
        self._staff()
        self.names = _name_pools(seed)
        self._weekly_effects()
        self._campaigns()
        self._pipelines()
        self._accounts()
        self._contact_skeleton()

    # -- timeline --------------------------------------------------------------------------

    def _timeline(self) -> None:
        self.start = shift_months(self.as_of, -W.MONTHS) + timedelta(days=1)
        self.n_days = (self.as_of - self.start).days + 1
        self.start_s = epoch(self.start)
        # The timeline ends with the as-of day, or now if that is earlier: a demo loaded at noon
        # has nothing later that afternoon.
        self.horizon = epoch(self.as_of) + DAY
        if self.now is not None:
            self.horizon = min(self.horizon, int(self.now.timestamp()))
        days = np.arange(self.n_days, dtype=np.int64)
        self.day_s = self.start_s + days * DAY
        day64 = (self.day_s // DAY).astype("datetime64[D]")
        self.month = day64.astype("datetime64[M]").astype(np.int64) % 12  # 0 = January
        self.weekday = ((self.day_s // DAY) + 3) % 7  # 1970-01-01 was a Thursday
        self.week = (days + self.weekday[0]) // 7
        self.n_weeks = int(self.week[-1]) + 1

    def day_index(self, seconds: np.ndarray) -> np.ndarray:
        return np.clip((np.asarray(seconds) - self.start_s) // DAY, 0, self.n_days - 1)

    # -- staff -----------------------------------------------------------------------------

    def _staff(self) -> None:
        reps = [p for p in W.PEOPLE if p.role == "sales_rep"]
        team_index = {team[0]: i for i, team in enumerate(W.SALES_TEAMS)}
        self.rep_user = np.array([self.user_ids[p.username] for p in reps], np.int64)
        self.rep_team = np.array([team_index[p.team] for p in reps], np.int64)
        self.rep_median = np.array([p.response_hours for p in reps], float)
        self.rep_neglect = np.array([p.neglect for p in reps], float)
        self.rep_skill = np.array([p.skill for p in reps], float)
        self.team_offset = np.array([t[4] for t in W.SALES_TEAMS], np.int64)
        region_team = {}
        for i, team in enumerate(W.SALES_TEAMS):
            for region in team[5]:
                region_team[region] = i
        self.region_team = np.array([region_team[r] for r in W.REGIONS], np.int64)
        self.team_reps = [np.flatnonzero(self.rep_team == t) for t in range(len(W.SALES_TEAMS))]

    def _weekly_effects(self) -> None:
        rng = np.random.default_rng([self.seed, 3])
        n_reps = len(self.rep_user)
        self.mkt_volume = np.exp(rng.normal(0, W.MARKETING_WEEK_VOLUME_SIGMA, self.n_weeks))
        self.mkt_quality = np.exp(rng.normal(0, W.MARKETING_WEEK_QUALITY_SIGMA, self.n_weeks))
        self.sales_week = np.exp(rng.normal(0, W.SALES_WEEK_SIGMA, self.n_weeks))
        self.rep_week = np.exp(rng.normal(0, W.REP_WEEK_SPEED_SIGMA, (n_reps, self.n_weeks)))

    # -- campaigns and their cost ----------------------------------------------------------

    def _window(self, schedule: tuple) -> tuple[int, int | None]:
        """Return the first and last day index a campaign runs (last None: still running)."""
        kind = schedule[0]
        if kind in {"always", "webinars"}:
            return 0, None
        if kind == "from_month":
            return (shift_months(self.start, schedule[1]) - self.start).days, None
        _, month, day, length = schedule
        for year in (self.as_of.year, self.as_of.year - 1, self.as_of.year - 2):
            first = date(year, month, day)
            if self.start <= first <= self.as_of:
                last = first + timedelta(days=length - 1)
                return (first - self.start).days, (last - self.start).days
        raise ValueError(f"no {schedule} window inside the timeline")

    def _campaigns(self) -> None:
        specs = W.CAMPAIGNS
        n_c = len(specs)
        self.campaign_ids = self.ids.take("capture.Campaign", n_c)
        self.camp_channel = np.array([CH[s.channel] for s in specs], np.int64)
        self.camp_segment = [s.segment for s in specs]
        self.camp_utm = [ascii_slug(s.name, "-") for s in specs]
        lead = np.zeros((self.n_days, n_c))
        touch = np.zeros((self.n_days, n_c + 1))
        days = np.arange(self.n_days)
        growth = W.GROWTH[0] + (W.GROWTH[1] - W.GROWTH[0]) * days / max(1, self.n_days - 1)
        volume = growth * self.mkt_volume[self.week]
        season = {
            seg: np.array(W.SEASON[seg])[self.month] * np.array(W.WEEKDAY[seg])[self.weekday]
            for seg in W.SEGMENTS
        }
        season[""] = (season["b2b"] + season["b2c"]) / 2
        self.windows = []
        for c, spec in enumerate(specs):
            first, last = self._window(spec.schedule)
            self.windows.append((first, last))
            active = (days >= first) & (days <= (self.n_days - 1 if last is None else last))
            shape = active.astype(float)
            if spec.schedule[0] == "webinars":
                # Registrations pile up in the ten days before each monthly session.
                sessions = self._webinar_days()
                shape = np.full(self.n_days, 0.25)
                for session in sessions:
                    shape[max(0, session - 10):session + 1] += 1.5
            lead[:, c] = spec.lead_weight * shape * volume * season[spec.segment]
            touch[:, c] = spec.touch_weight * shape * season[spec.segment]
        touch[:, n_c] = W.DIRECT_TOUCH_WEIGHT * season[""]
        self.lead_intensity = lead
        cumulative = np.cumsum(touch, axis=1)
        self.touch_cdf = cumulative / cumulative[:, -1:]
        self.n_contacts = max(20, round(W.CONTACTS * self.scale))
        self.expected_leads = lead / lead.sum() * self.n_contacts

    def _webinar_days(self) -> list[int]:
        """Return the day index of each monthly webinar: the third Thursday."""
        sessions = []
        month = date(self.start.year, self.start.month, 1)
        while month <= self.as_of:
            first_thursday = month + timedelta(days=(3 - month.weekday()) % 7)
            session = first_thursday + timedelta(days=14)
            if self.start <= session <= self.as_of:
                sessions.append((session - self.start).days)
            month = shift_months(month, 1)
        return sessions

    def campaign_rows(self) -> dict[str, list]:
        specs = W.CAMPAIGNS
        spend = self.cost_rows_by_campaign_total()
        cols = defaultdict(list)
        for c, spec in enumerate(specs):
            first, last = self.windows[c]
            start_day = self.start + timedelta(days=first)
            end_day = self.start + timedelta(days=last) if spec.schedule[0] == "yearly" else None
            status = "completed" if end_day is not None and end_day < self.as_of else "active"
            created = datetime.combine(start_day - timedelta(days=14), datetime.min.time(), UTC) + timedelta(hours=9)
            budget = math.ceil(spend[c] * 1.1 / 1000) * 1000
            cols["id"].append(int(self.campaign_ids[c]))
            cols["name"].append(spec.name)
            cols["channel"].append(spec.channel)
            cols["kind"].append(spec.kind)
            cols["status"].append(status)
            cols["segment"].append(spec.segment)
            cols["start_date"].append(start_day)
            cols["end_date"].append(end_day)
            cols["budget"].append(Decimal(budget))
            cols["currency"].append("USD")
            cols["owner_id"].append(self.user_ids[spec.owner])
            cols["utm_source"].append(_utm_source(spec.channel, spec.segment))
            cols["utm_medium"].append(_utm_medium(spec.channel))
            cols["utm_campaign"].append(self.camp_utm[c])
            cols["description"].append(spec.description)
            cols["created_at"].append(created)
            cols["updated_at"].append(created)
        return dict(cols)

    def _daily_spend(self) -> np.ndarray:
        """Return spend per day and campaign: cost per lead × expected leads × noise."""
        if hasattr(self, "_spend"):
            return self._spend
        rng = np.random.default_rng([self.seed, 4])
        cpl = np.array([
            W.CHANNEL_RULES[s.channel].cpl_b2c if s.segment == "b2c" else W.CHANNEL_RULES[s.channel].cpl_b2b
            for s in W.CAMPAIGNS
        ])
        noise = np.exp(rng.normal(0, 0.15, self.expected_leads.shape))
        # A floor keeps always-on ads spending on quiet days, as real budgets do.
        floor = (self.lead_intensity > 0) * 0.02 * cpl
        self._spend = np.maximum(self.expected_leads * cpl * noise, floor)
        # A timeline that ends part-way through its last day has spent that part of the day.
        self._spend[-1] *= (self.horizon - int(self.day_s[-1])) / DAY
        return self._spend

    def cost_rows_by_campaign_total(self) -> np.ndarray:
        return self._daily_spend().sum(axis=0)

    def cost_rows(self) -> dict[str, list]:
        rng = np.random.default_rng([self.seed, 6])
        spend = self._daily_spend()
        cols = defaultdict(list)
        entries = []
        for c, spec in enumerate(W.CAMPAIGNS):
            active = np.flatnonzero(self.lead_intensity[:, c] > 0)
            if spec.channel in W.DAILY_COST_CHANNELS:
                for d in active.tolist():
                    entries.append((c, d, spend[d, c], "import"))
            else:
                by_month: dict[int, float] = {}
                first_day: dict[int, int] = {}
                for d in active.tolist():
                    key = int(self.month[d]) + 12 * (self.start + timedelta(days=d)).year
                    by_month[key] = by_month.get(key, 0.0) + spend[d, c]
                    first_day.setdefault(key, d)
                for key in sorted(by_month):
                    entries.append((c, first_day[key], by_month[key], "manual"))
        ids = self.ids.take("capture.CostEntry", len(entries))
        for (c, d, amount, source), pk in zip(entries, ids.tolist(), strict=True):
            channel = W.CAMPAIGNS[c].channel
            day = self.start + timedelta(days=d)
            impressions = clicks = None
            if channel in W.AD_FUNNEL:
                ctr, click_to_lead = W.AD_FUNNEL[channel]
                clicks = int(max(1, self.expected_leads[d, c] / click_to_lead * rng.lognormal(0, 0.1)))
                impressions = int(clicks / ctr * rng.lognormal(0, 0.1))
            note = {"import": "Ad platform daily spend", "manual": "Monthly costs"}[source]
            if channel == "event":
                note = "Booth, travel and giveaways"
            cols["id"].append(pk)
            cols["campaign_id"].append(int(self.campaign_ids[c]))
            cols["date"].append(day)
            cols["amount"].append(money(max(0.01, amount)))
            cols["currency"].append("USD")
            cols["impressions"].append(impressions)
            cols["clicks"].append(clicks)
            cols["source"].append(source)
            cols["note"].append(note)
            # Booked in the evening, or, on a day still under way, as the timeline ends.
            booked = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=23)
            cols["created_at"].append(min(booked, datetime.fromtimestamp(self.horizon - 1, UTC)))
        return dict(cols)

    # -- pipelines -------------------------------------------------------------------------

    def _pipelines(self) -> None:
        self.pipeline_ids = self.ids.take("deals.Pipeline", len(W.PIPELINES))
        self.stage_ids = []
        for _, _, _, stages in W.PIPELINES:
            self.stage_ids.append(self.ids.take("deals.PipelineStage", len(stages)))

    def pipeline_rows(self) -> tuple[dict[str, list], dict[str, list]]:
        pipelines = defaultdict(list)
        stages = defaultdict(list)
        for p, (name, is_default, _, stage_specs) in enumerate(W.PIPELINES):
            pipelines["id"].append(int(self.pipeline_ids[p]))
            pipelines["name"].append(name)
            pipelines["is_default"].append(is_default)
            for order, (stage_name, probability, outcome) in enumerate(stage_specs):
                stages["id"].append(int(self.stage_ids[p][order]))
                stages["pipeline_id"].append(int(self.pipeline_ids[p]))
                stages["name"].append(stage_name)
                stages["order"].append(order + 1)
                stages["probability"].append(Decimal(probability))
                stages["outcome"].append(outcome)
        return dict(pipelines), dict(stages)

    # -- accounts --------------------------------------------------------------------------

    def _accounts(self) -> None:
        rng = np.random.default_rng([self.seed, 2])
        n_b2b = max(4, round(W.B2B_ACCOUNTS * self.scale))
        n_home = max(2, round(W.HOUSEHOLD_ACCOUNTS * self.scale))
        n = n_b2b + n_home
        self.n_b2b = n_b2b
        self.n_accounts = n
        self.account_ids = self.ids.take("capture.Account", n)
        self.acc_segment = np.r_[np.zeros(n_b2b, np.int64), np.ones(n_home, np.int64)]
        ind_p = np.array([i[1] for i in W.INDUSTRIES])
        size_p = np.array([s[1] for s in W.SIZE_BANDS])
        self.acc_industry = np.r_[rng.choice(len(ind_p), n_b2b, p=ind_p / ind_p.sum()), np.full(n_home, -1)]
        self.acc_size = np.r_[rng.choice(len(size_p), n_b2b, p=size_p / size_p.sum()), np.full(n_home, -1)]
        self.acc_region = rng.choice(len(W.REGIONS), n, p=W.REGION_SHARE)
        self.acc_country = _countries(rng, self.acc_region)
        # Each company belongs to one rep of the team that covers its region (named accounts).
        owner = np.full(n, -1, np.int64)
        for t, reps in enumerate(self.team_reps):
            mask = (self.region_team[self.acc_region] == t) & (self.acc_segment == W.B2B)
            owner[mask] = reps[rng.integers(0, len(reps), int(mask.sum()))]
        self.acc_owner = owner
        _, lasts = self.names.draw(rng, self.acc_country)
        names, domains = [], []
        taken: dict[str, int] = {}
        words_by_industry = [INDUSTRY_WORDS[i[0]] for i in W.INDUSTRIES]
        word_draw = rng.integers(0, 1_000, n).tolist()
        for a in range(n):
            last = lasts[a]
            country = self.acc_country[a]
            if a < n_b2b:
                words = words_by_industry[self.acc_industry[a]]
                word = words[word_draw[a] % len(words)]
                name = f"{last} {word}"
                slug = ascii_slug(name, "-")
                count = taken.get(slug, 0)
                taken[slug] = count + 1
                if count:
                    name = f"{name} {count + 1}"
                    slug = f"{slug}-{count + 1}"
                names.append(f"{name} {COMPANY_SUFFIX[country]}")
                domains.append(f"{slug}.example")
            else:
                names.append(f"{last} household")
                domains.append("")
        self.acc_name = names
        self.acc_domain = domains
        self.acc_trade = np.where(
            self.acc_segment == W.B2B,
            rng.choice(3, n, p=[0.75, 0.10, 0.15]),
            rng.choice(3, n, p=[0.4, 0.6, 0.0]),
        )
        self.acc_presence = np.where(
            self.acc_segment == W.B2B, rng.choice(3, n, p=[0.6, 0.1, 0.3]), rng.choice(3, n, p=[0.3, 0.3, 0.4])
        )

    # -- contacts --------------------------------------------------------------------------

    def _contact_skeleton(self) -> None:
        """Draw when, through which campaign, and for which account each contact arrives."""
        rng = np.random.default_rng([self.seed, 1])
        n = self.n_contacts
        n_c = len(W.CAMPAIGNS)
        flat = self.lead_intensity.ravel()
        cell = rng.choice(flat.size, size=n, p=flat / flat.sum())
        self.c_day = (cell // n_c).astype(np.int32)
        self.c_camp = (cell % n_c).astype(np.int16)
        seg_of_camp = np.array([{"b2b": 0, "b2c": 1, "": -1}[s] for s in self.camp_segment])
        seg = seg_of_camp[self.c_camp]
        mixed = seg < 0
        seg[mixed] = (rng.random(int(mixed.sum())) < 0.45).astype(seg.dtype)
        channel = self.camp_channel[self.c_camp]
        student_share = np.array([W.CHANNEL_RULES[ch].student for ch in CHANNELS])[channel]
        persona = np.where(seg == W.B2C, W.CONSUMER, W.PROFESSIONAL)
        persona[(seg == W.B2B) & (rng.random(n) < student_share)] = W.STUDENT
        self.c_segment = seg.astype(np.int8)
        self.c_persona = persona.astype(np.int8)
        account = np.full(n, -1, np.int64)
        pro = persona == W.PROFESSIONAL
        weight = np.array([s[3] for s in W.SIZE_BANDS])[self.acc_size[: self.n_b2b]]
        account[pro] = rng.choice(self.n_b2b, int(pro.sum()), p=weight / weight.sum())
        home = (persona == W.CONSUMER) & (rng.random(n) < 0.12)
        account[home] = self.n_b2b + rng.integers(0, self.n_accounts - self.n_b2b, int(home.sum()))
        self.c_account = account
        region = rng.choice(len(W.REGIONS), n, p=W.REGION_SHARE)
        has_account = account >= 0
        region[has_account] = self.acc_region[account[has_account]]
        self.c_region = region.astype(np.int8)
        # Chunks hold whole accounts (a deal can only involve its chunk's contacts), and
        # an even share of the people with no account.
        self.n_chunks = max(1, math.ceil(n / CHUNK_CONTACTS))
        chunk = np.empty(n, np.int64)
        chunk[has_account] = account[has_account] * self.n_chunks // self.n_accounts
        loose = np.flatnonzero(~has_account)
        chunk[loose] = np.arange(len(loose)) % self.n_chunks
        self.c_order = np.argsort(chunk, kind="stable")
        self.chunk_bounds = np.searchsorted(chunk[self.c_order], np.arange(self.n_chunks + 1))
        self.contact_id_base = self.ids.take("capture.Contact", n)[0] - 1

    def chunk_accounts(self, k: int) -> np.ndarray:
        first = -(-k * self.n_accounts // self.n_chunks)
        last = -(-(k + 1) * self.n_accounts // self.n_chunks)
        return np.arange(first, last)


def _countries(rng: np.random.Generator, regions: np.ndarray) -> np.ndarray:
    result = np.empty(len(regions), dtype=object)
    for r, region in enumerate(W.REGIONS):
        mask = regions == r
        pairs = W.REGION_COUNTRIES[region]
        result[mask] = _weighted(rng, pairs, int(mask.sum()))
    return result


def _utm_source(channel: str, segment: str) -> str:
    return {
        "paid_search": "google", "paid_social": "linkedin" if segment == "b2b" else "meta",
        "display": "gdn", "email": "newsletter", "webinar": "webinar", "event": "event",
        "content_seo": "blog", "referral": "referral", "partner": "partner", "outbound": "outreach",
        "direct_offline": "store", "organic_social": "social",
    }.get(channel, "")


def _utm_medium(channel: str) -> str:
    return {
        "paid_search": "cpc", "paid_social": "paid_social", "display": "display", "email": "email",
        "webinar": "webinar", "event": "offline", "content_seo": "organic", "referral": "referral",
        "partner": "partner", "outbound": "email", "direct_offline": "offline",
        "organic_social": "social",
    }.get(channel, "")


def _next_working_time(seconds: np.ndarray, offset_hours: np.ndarray) -> np.ndarray:
    """Return the first moment at or after `seconds` inside a rep's working hours."""
    start_h, end_h = W.WORKDAY_HOURS
    local = seconds + offset_hours * HOUR
    day = local // DAY
    second = local % DAY
    begin = np.where(second < start_h * HOUR, day * DAY + start_h * HOUR, local)
    begin = np.where(second >= end_h * HOUR, (day + 1) * DAY + start_h * HOUR, begin)
    weekday = (begin // DAY + 3) % 7
    weekend = weekday >= 5
    begin = np.where(weekend, (begin // DAY + (7 - weekday)) * DAY + start_h * HOUR, begin)
    return begin - offset_hours * HOUR


def simulate_chunk(world: World, k: int) -> Chunk:
    """Simulate the lives of one chunk's contacts from first touch to today."""
    return _ChunkSimulation(world, k).run()


class _ChunkSimulation:
    def __init__(self, world: World, k: int) -> None:
        self.w = world
        self.k = k
        self.rng = np.random.default_rng([world.seed, 100, k])
        self.out = Chunk()

    def run(self) -> Chunk:
        self._people()
        self._funnel()
        self._deals()
        self._transitions()
        self._activities()
        self._touchpoints()
        self._contacts_and_accounts()
        return self.out

    # -- who they are ----------------------------------------------------------------------

    def _people(self) -> None:
        w, rng = self.w, self.rng
        lo, hi = int(w.chunk_bounds[self.k]), int(w.chunk_bounds[self.k + 1])
        pos = w.c_order[lo:hi]
        n = self.n = len(pos)
        self.ids = w.contact_id_base + np.arange(lo, hi, dtype=np.int64) + 1
        self.day = w.c_day[pos].astype(np.int64)
        self.camp = w.c_camp[pos].astype(np.int64)
        self.seg = w.c_segment[pos].astype(np.int64)
        self.persona = w.c_persona[pos].astype(np.int64)
        self.account = w.c_account[pos].copy()
        self.region = w.c_region[pos].astype(np.int64)
        self.channel = w.camp_channel[self.camp]
        rules = [W.CHANNEL_RULES[c] for c in CHANNELS]
        pro = self.persona == W.PROFESSIONAL
        sen_p = np.array([s[1] for s in W.SENIORITIES])
        self.seniority = np.where(pro, rng.choice(len(sen_p), n, p=sen_p / sen_p.sum()), -1)
        self.competitor = pro & (rng.random(n) < W.COMPETITOR_SHARE)
        self.account[self.competitor] = -1
        self.duplicate = rng.random(n) < W.DUPLICATE_SHARE
        self.bad_data = rng.random(n) < np.array([r.bad_data for r in rules])[self.channel]
        self.intent = (self.persona == W.CONSUMER) & (
            rng.random(n) < np.array([r.consumer_intent for r in rules])[self.channel]
        )
        has_acc = self.account >= 0
        self.country = np.empty(n, dtype=object)
        self.country[has_acc] = w.acc_country[self.account[has_acc]]
        self.country[~has_acc] = _countries(rng, self.region[~has_acc])

        fit = np.ones(n)
        b2b_acc = pro & has_acc
        ind_mult = np.array([i[2] for i in W.INDUSTRIES])
        size_mult = np.array([s[2] for s in W.SIZE_BANDS])
        sen_mult = np.array([s[2] for s in W.SENIORITIES])
        fit[b2b_acc] = (ind_mult[w.acc_industry[self.account[b2b_acc]]]
                        * size_mult[w.acc_size[self.account[b2b_acc]]])
        fit[pro] *= sen_mult[self.seniority[pro]]
        fit[self.persona == W.STUDENT] = W.STUDENT_FIT
        consumer = self.persona == W.CONSUMER
        fit[consumer] = np.where(self.intent[consumer], W.CONSUMER_INTENT_FIT, W.CONSUMER_NO_INTENT_FIT)
        fit[self.bad_data] *= W.BAD_DATA_FIT
        self.fit = fit

        hours = np.empty(n, np.int64)
        for s in (W.B2B, W.B2C):
            mask = self.seg == s
            hours[mask] = rng.choice(24, int(mask.sum()), p=HOURS_P[s])
        offset = np.array(W.REGION_UTC_OFFSET)[self.region]
        created = w.day_s[self.day] + (hours - offset) * HOUR + rng.integers(0, HOUR, n)
        self.created = np.clip(created, w.start_s, w.horizon - 60)

    # -- the funnel ------------------------------------------------------------------------

    def _funnel(self) -> None:
        w, rng, n = self.w, self.rng, self.n
        rules = [W.CHANNEL_RULES[c] for c in CHANNELS]
        chan_mql = np.array([r.mql for r in rules])[self.channel]
        self.chan_sales = np.array([r.sales for r in rules])[self.channel]
        week = w.week[w.day_index(self.created)]
        rate = W.MQL_BASE * chan_mql * self.fit ** W.MQL_FIT_EXPONENT * w.mkt_quality[week]
        self.instant = rng.random(n) < W.INSTANT_MQL_SHARE
        delay = np.where(
            self.instant,
            rng.uniform(0.02, 0.25, n),
            rng.lognormal(math.log(W.MQL_DELAY_MEDIAN_HOURS), 1.0, n),
        )
        self.mql_at = self.created + (delay * HOUR).astype(np.int64)
        self.is_mql = (rng.random(n) < _conversion(rate)) & (self.mql_at < w.horizon)

        # Routing: a named account goes to its owner, anyone else round-robin in the region's team.
        team = w.region_team[self.region]
        rep = np.empty(n, np.int64)
        for t, reps in enumerate(w.team_reps):
            mask = team == t
            rep[mask] = reps[rng.integers(0, len(reps), int(mask.sum()))]
        named = (self.account >= 0) & (self.seg == W.B2B)
        named &= w.acc_owner[np.maximum(self.account, 0)] >= 0
        rep[named] = w.acc_owner[self.account[named]]
        self.rep = rep
        self.named = named
        self.assigned_at = np.minimum(self.mql_at + rng.integers(20, 600, n), w.horizon - 1)
        self.is_assigned = self.is_mql & (self.assigned_at < w.horizon)

        offset = w.team_offset[w.rep_team[rep]]
        begin = _next_working_time(self.assigned_at, offset)
        rep_week = w.rep_week[rep, w.week[w.day_index(self.assigned_at)]]
        response = rng.lognormal(np.log(w.rep_median[rep] * rep_week), W.RESPONSE_SIGMA)
        self.first_touch = begin + (response * HOUR).astype(np.int64)
        neglected = rng.random(n) < w.rep_neglect[rep]
        self.feedback_at = self.first_touch + (rng.lognormal(math.log(3.0), 1.0, n) * HOUR).astype(np.int64)
        self._verdicts()
        # Junk the packet gives away is rejected when the rep starts work, without a call, and
        # never neglected: no student or competitor waits in a queue scoring 0.
        on_sight = np.isin(self.reason, W.ON_SIGHT_REASONS)
        seen_at = begin + rng.integers(5 * 60, HOUR, n)
        self.feedback_at = np.where(on_sight, seen_at, self.feedback_at)
        # A verdict not given within the recycle window never comes: marketing takes the lead back.
        self.recycle_at = self.assigned_at + W.MQL_RECYCLE_DAYS * DAY
        neglected = (neglected & ~on_sight) | (self.feedback_at >= self.recycle_at)
        self.touched = self.is_assigned & ~neglected & ~on_sight & (self.first_touch < w.horizon)
        self.has_feedback = self.is_assigned & ~neglected & (self.feedback_at < w.horizon)
        self.accepted = self.has_feedback & (self.reject_to == "")
        self.rejected = self.has_feedback & (self.reject_to != "")
        self.recycled = self.is_assigned & neglected & (self.recycle_at < w.horizon)
        self.speed_hours = (self.first_touch - self.assigned_at) / HOUR
        speed = _speed_multiplier(self.speed_hours)

        sal_week = w.week[w.day_index(self.feedback_at)]
        segment = np.array([W.SQL_SEGMENT[s] for s in W.SEGMENTS])[self.seg]
        rate = (W.SQL_BASE * segment * self.chan_sales * self.fit ** W.SQL_FIT_EXPONENT * speed
                * w.sales_week[sal_week])
        self.will_sql = self.accepted & (rng.random(n) < _conversion(rate))
        self.sql_at = self.feedback_at + (rng.lognormal(math.log(5.0), 0.6, n) * DAY).astype(np.int64)
        self.is_sql = self.will_sql & (self.sql_at < w.horizon)
        self.sal_nurture_at = self.feedback_at + rng.integers(30 * DAY, 60 * DAY, n)

        self.will_opp = self.will_sql & (rng.random(n) < _conversion(W.OPPORTUNITY_BASE * self.fit ** 0.3))
        self.opp_at = self.sql_at + (rng.lognormal(math.log(4.0), 0.5, n) * DAY).astype(np.int64)
        self.is_opp = self.is_sql & self.will_opp & (self.opp_at < w.horizon)
        self.sql_nurture_at = self.sql_at + rng.integers(20 * DAY, 45 * DAY, n)
        self.speed = speed

    def _verdicts(self) -> None:
        """Decide accept or reject; rejections follow the lead's real causes."""
        rng, n = self.rng, self.n
        reason = np.full(n, "good_fit", dtype=object)
        dest = np.full(n, "", dtype=object)
        decided = np.zeros(n, bool)
        size_code = np.where(self.account >= 0, self.w.acc_size[np.maximum(self.account, 0)], -1)
        causes = {
            "duplicate": self.duplicate,
            "competitor": self.competitor,
            "student": self.persona == W.STUDENT,
            "bad_data": self.bad_data,
            "no_intent": (self.persona == W.CONSUMER) & ~self.intent,
            "individual": self.seniority == 4,
            "tiny": (self.seg == W.B2B) & (size_code == 0),
        }
        for cause, mask in causes.items():
            probability, code, stage = W.REJECTION_RULES[cause]
            hit = mask & ~decided & (rng.random(n) < probability)
            reason[hit] = code
            dest[hit] = stage
            decided |= hit
        u = rng.random(n)
        edge = 0.0
        for code, probability, stage in W.BACKGROUND_REJECTIONS:
            hit = ~decided & (u >= edge) & (u < edge + probability)
            reason[hit] = code
            dest[hit] = stage
            edge += probability
        decided |= dest != ""
        self.reason = reason
        self.reject_to = dest
        note_draw = rng.integers(0, 1_000, n)
        self.note = np.array(
            [W.FEEDBACK_NOTES[r][d % len(W.FEEDBACK_NOTES[r])] for r, d in zip(reason.tolist(), note_draw.tolist(), strict=True)],
            dtype=object,
        )

    # -- deals -----------------------------------------------------------------------------

    def _deals(self) -> None:
        w, rng = self.w, self.rng
        idx = np.flatnonzero(self.is_opp)
        m = len(idx)
        self.deal_idx = idx
        self.deal_ids = w.ids.take("deals.Deal", m)
        consumer = self.persona[idx] == W.CONSUMER
        size = np.where(self.account[idx] >= 0, w.acc_size[np.maximum(self.account[idx], 0)], -1)
        size_pos = np.maximum(size, 0)
        median_amount = np.array([s[4] for s in W.SIZE_BANDS], float)[size_pos]
        median_amount = np.where(size < 0, 5_000.0, median_amount)
        amount = np.where(
            consumer,
            np.maximum(15.0, np.round(W.B2C_MEDIAN_ORDER * rng.lognormal(0, 0.6, m), 2)),
            np.maximum(500.0, np.round(median_amount * rng.lognormal(0, 0.55, m), -2)),
        )
        cycle_days = np.where(
            consumer,
            np.maximum(0.1, W.B2C_MEDIAN_CYCLE_DAYS * rng.lognormal(0, 0.7, m)),
            np.array([s[5] for s in W.SIZE_BANDS], float)[size_pos] * rng.lognormal(0, 0.4, m),
        )
        rep = self.rep[idx]
        base = np.where(consumer, W.WIN_BASE["b2c"], W.WIN_BASE["b2b"])
        rate = (base * self.chan_sales[idx] * self.fit[idx] ** W.WIN_FIT_EXPONENT
                * np.sqrt(self.speed[idx]) * w.rep_skill[rep])
        won = rng.random(m) < _conversion(rate)
        opened = self.opp_at[idx]
        close = opened + (cycle_days * DAY).astype(np.int64)
        # End-of-quarter push: B2B deals due in a quarter's last weeks slip to its final days.
        months = (close // DAY).astype("datetime64[D]").astype("datetime64[M]")
        quarter_end = (months - months.astype(np.int64) % 3 + 3).astype("datetime64[D]").astype(np.int64) * DAY
        push = ~consumer & (quarter_end - close < 25 * DAY) & (rng.random(m) < 0.5)
        close = np.where(push, quarter_end - rng.integers(DAY // 2, 5 * DAY, m), close)
        close = np.maximum(close, opened + HOUR)
        self.deal_close = close
        self.deal_closed = close < w.horizon
        self.deal_won = won
        self.deal_amount = amount
        self.deal_consumer = consumer
        self.deal_rep = rep

        n_open = np.where(consumer, 2, 4)
        lost_depth = np.where(
            consumer, rng.integers(1, 3, m), rng.choice(4, m, p=[0.35, 0.3, 0.2, 0.15]) + 1
        )
        depth = np.where(won, n_open, lost_depth)
        changes = defaultdict(list)
        deals = defaultdict(list)
        change_ids = []
        change_rows = []
        loss_reason = _weighted(rng, W.LOSS_REASONS, m)
        won_reason = _pick(rng, W.WON_REASONS, m)
        product = np.where(consumer, _pick(rng, W.PRODUCTS_B2C, m), _pick(rng, W.PRODUCTS_B2B, m))
        jitter = rng.uniform(0.7, 1.0, (m, 4))
        for j in range(m):
            pipeline = 1 if consumer[j] else 0
            stage_ids = w.stage_ids[pipeline]
            span = close[j] - opened[j]
            times = [int(opened[j])]
            for s in range(1, int(depth[j])):
                times.append(int(opened[j] + span * s / depth[j] * jitter[j, s]))
            times = sorted(times)
            previous = None
            current = int(stage_ids[0])
            updated = times[0]
            for s, at in enumerate(times):
                if at >= w.horizon:
                    break
                change_rows.append((int(self.deal_ids[j]), previous, int(stage_ids[s]), at, int(w.rep_user[rep[j]])))
                previous = current = int(stage_ids[s])
                updated = at
            if self.deal_closed[j]:
                final = int(stage_ids[n_open[j]] if won[j] else stage_ids[n_open[j] + 1])
                change_rows.append((int(self.deal_ids[j]), previous, final, int(close[j]), int(w.rep_user[rep[j]])))
                current = final
                updated = int(close[j])
            c = idx[j]
            acc = int(self.account[c])
            status = ("won" if won[j] else "lost") if self.deal_closed[j] else "open"
            deals["id"].append(int(self.deal_ids[j]))
            deals["account_id"].append(int(w.account_ids[acc]) if acc >= 0 else None)
            deals["pipeline_id"].append(int(w.pipeline_ids[pipeline]))
            deals["stage_id"].append(current)
            deals["status"].append(status)
            deals["amount"].append(money(float(amount[j])))
            deals["currency"].append("USD")
            deals["probability"].append(None)
            deals["close_date"].append(to_dates(np.array([close[j]]))[0])
            deals["closed_at"].append(to_datetimes(np.array([close[j]]))[0] if self.deal_closed[j] else None)
            deals["won_reason"].append(won_reason[j] if status == "won" else "")
            deals["loss_reason"].append(loss_reason[j] if status == "lost" else "")
            deals["owner_id"].append(int(w.rep_user[rep[j]]))
            deals["source_campaign_id"].append(int(w.campaign_ids[self.camp[c]]))
            deals["external_id"].append("")
            deals["created_at"].append(to_datetimes(np.array([opened[j]]))[0])
            deals["updated_at"].append(to_datetimes(np.array([updated]))[0])
            deals["_product"].append(product[j])
        change_ids = w.ids.take("deals.DealStageChange", len(change_rows)).tolist()
        for pk, (deal, from_stage, to_stage, at, user) in zip(change_ids, change_rows, strict=True):
            changes["id"].append(pk)
            changes["deal_id"].append(deal)
            changes["from_stage_id"].append(from_stage)
            changes["to_stage_id"].append(to_stage)
            changes["occurred_at"].append(at)
            changes["by_user_id"].append(user)
        if changes:
            changes["occurred_at"] = to_datetimes(np.array(changes["occurred_at"]))
        self.out.tables["deals.Deal"] = dict(deals)
        self.out.tables["deals.DealStageChange"] = dict(changes)

        totals = self.out.totals
        for key, value in zip(quarter_key(opened).tolist(), amount.tolist(), strict=True):
            totals[("pipeline", key)] += value
        closed_won = self.deal_closed & won
        for key, value in zip(quarter_key(close[closed_won]).tolist(), amount[closed_won].tolist(), strict=True):
            totals[("revenue", key)] += value

    # -- lifecycle -------------------------------------------------------------------------

    def _transitions(self) -> None:
        w = self.w
        n = self.n
        rep_user = w.rep_user[self.rep]
        contact, stage, at, user, rule, reason = [], [], [], [], [], []

        def add(mask: np.ndarray, to: str, when: np.ndarray, by_user: np.ndarray | None,
                by_rule: object, why: object) -> None:
            mask = mask & (when < w.horizon)
            where = np.flatnonzero(mask)
            contact.append(where)
            stage.append(np.full(len(where), ST[to]))
            at.append(when[where])
            user.append(by_user[where] if by_user is not None else np.full(len(where), -1))
            rule.append(by_rule[where] if isinstance(by_rule, np.ndarray) else np.full(len(where), by_rule, dtype=object))
            reason.append(why[where] if isinstance(why, np.ndarray) else np.full(len(where), why, dtype=object))

        lead_rule = np.array([LEAD_RULE.get(CHANNELS[c], "web form") for c in self.channel.tolist()], dtype=object)
        everyone = np.ones(n, bool)
        add(everyone, "lead", self.created, None, lead_rule, "")
        # Consumers ask for a quote, not a demo (and leave no demo_request touchpoint).
        asked = np.where(self.seg == W.B2B, "demo request", "quote request")
        mql_rule = np.where(self.instant, asked, "score >= 60").astype(object)
        add(self.is_mql, "mql", self.mql_at, None, mql_rule, "")
        for to in ("disqualified", "nurture"):
            add(self.rejected & (self.reject_to == to), to, self.feedback_at, rep_user, "", self.note)
        add(self.accepted, "sal", self.feedback_at, rep_user, "", "")
        add(self.recycled, "nurture", self.recycle_at, np.full(n, w.user_ids["marketing"]), "",
            f"No verdict from sales within {W.MQL_RECYCLE_DAYS} days; recycled to nurture")
        add(self.accepted & ~self.will_sql, "nurture", self.sal_nurture_at, rep_user, "",
            "No project yet; back to nurture")
        add(self.is_sql, "sql", self.sql_at, rep_user, "", "")
        add(self.is_sql & ~self.will_opp, "nurture", self.sql_nurture_at, rep_user, "",
            "Qualified, but no opportunity this quarter")
        add(self.is_opp, "opportunity", self.opp_at, rep_user, "", "")
        won = np.zeros(n, bool)
        lost = np.zeros(n, bool)
        close = np.zeros(n, np.int64)
        won[self.deal_idx] = self.deal_closed & self.deal_won
        lost[self.deal_idx] = self.deal_closed & ~self.deal_won
        close[self.deal_idx] = self.deal_close
        add(won, "customer", close, None, "deal won", "")
        add(lost, "nurture", close + DAY, None, "deal lost", "")

        contact = np.concatenate(contact)
        stage = np.concatenate(stage)
        at = np.concatenate(at)
        user = np.concatenate(user)
        rule = np.concatenate(rule)
        reason = np.concatenate(reason)
        order = np.lexsort((stage, at, contact))
        contact, stage, at, user, rule, reason = (a[order] for a in (contact, stage, at, user, rule, reason))
        same = np.r_[False, contact[1:] == contact[:-1]]
        previous = np.where(same, np.r_[0, stage[:-1]], -1)
        last = np.r_[contact[1:] != contact[:-1], True]
        self.stage = np.zeros(n, np.int64)
        self.stage_at = np.zeros(n, np.int64)
        self.stage[contact[last]] = stage[last]
        self.stage_at[contact[last]] = at[last]
        cols = {
            "id": w.ids.take("lifecycle.StageTransition", len(contact)).tolist(),
            "contact_id": self.ids[contact].tolist(),
            "from_stage": [STAGES[s] if s >= 0 else "" for s in previous.tolist()],
            "to_stage": [STAGES[s] for s in stage.tolist()],
            "occurred_at": Instants(at),
            "by_user_id": [u if u >= 0 else None for u in user.tolist()],
            "by_rule": rule.tolist(),
            "reason": reason.tolist(),
        }
        self.out.tables["lifecycle.StageTransition"] = cols

        totals = self.out.totals
        for key in quarter_key(self.mql_at[self.is_mql]).tolist():
            totals[("mqls", key)] += 1
        for key in quarter_key(self.sql_at[self.is_sql]).tolist():
            totals[("sqls", key)] += 1

        assigned = np.flatnonzero(self.is_assigned)
        self.out.tables["lifecycle.LeadAssignment"] = {
            "id": w.ids.take("lifecycle.LeadAssignment", len(assigned)).tolist(),
            "contact_id": self.ids[assigned].tolist(),
            "owner_id": rep_user[assigned].tolist(),
            "assigned_at": Instants(self.assigned_at[assigned]),
            "assigned_by_id": [None] * len(assigned),
            "rule": ["account owner" if x else "round robin" for x in self.named[assigned].tolist()],
            "reason": [
                f"Named account of {W.SALES_TEAMS[w.rep_team[r]][0]}" if x else f"Region {W.REGIONS[g].upper()}"
                for x, r, g in zip(self.named[assigned].tolist(), self.rep[assigned].tolist(),
                                   self.region[assigned].tolist(), strict=True)
            ],
        }
        given = np.flatnonzero(self.has_feedback)
        self.out.tables["lifecycle.LeadFeedback"] = {
            "id": w.ids.take("lifecycle.LeadFeedback", len(given)).tolist(),
            "contact_id": self.ids[given].tolist(),
            "by_user_id": rep_user[given].tolist(),
            "decision": ["accept" if a else "reject" for a in self.accepted[given].tolist()],
            # An acceptance has no reason: "good_fit" only picks its note.
            "reason": np.where(self.accepted[given], "", self.reason[given]).tolist(),
            "note": self.note[given].tolist(),
            "created_at": Instants(self.feedback_at[given]),
        }

    # -- what reps did ---------------------------------------------------------------------

    def _activities(self) -> None:
        w, rng = self.w, self.rng
        rep_user = w.rep_user[self.rep]
        parts = []

        # The first call or email after assignment: speed-to-lead is measured from this.
        first = np.flatnonzero(self.touched)
        parts.append((first, self.first_touch[first], np.full(len(first), -1), "first"))

        accepted = np.flatnonzero(self.accepted)
        count = 1 + rng.poisson(1.5, len(accepted))
        owner = np.repeat(accepted, count)
        begin = self.feedback_at[owner]
        end = np.where(self.will_sql[owner], self.sql_at[owner], self.feedback_at[owner] + 30 * DAY)
        parts.append((owner, begin + (rng.random(len(owner)) * (end - begin)).astype(np.int64),
                      np.full(len(owner), -1), "follow"))

        m = len(self.deal_idx)
        count = 1 + rng.poisson(np.where(self.deal_consumer, 0.3, 3.5), m)
        deal_pos = np.repeat(np.arange(m), count)
        owner = self.deal_idx[deal_pos]
        begin = self.opp_at[owner]
        end = self.deal_close[deal_pos]
        parts.append((owner, begin + (rng.random(len(owner)) * (end - begin)).astype(np.int64),
                      self.deal_ids[deal_pos], "deal"))

        contact = np.concatenate([p[0] for p in parts])
        at = np.concatenate([p[1] for p in parts])
        deal = np.concatenate([p[2] for p in parts])
        phase = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(parts)])
        keep = at < w.horizon
        contact, at, deal, phase = contact[keep], at[keep], deal[keep], phase[keep]
        total = len(contact)
        kind = np.where(
            phase == 0,
            _weighted(rng, (("call", 0.6), ("email", 0.4)), total),
            np.where(phase == 1, _weighted(rng, (("call", 0.4), ("email", 0.4), ("meeting", 0.2)), total),
                     _weighted(rng, (("meeting", 0.35), ("call", 0.35), ("email", 0.3)), total)),
        )
        call_outcome = _weighted(rng, (("no_answer", 0.4), ("voicemail", 0.25), ("connected", 0.3),
                                       ("booked_meeting", 0.05)), total)
        email_outcome = _weighted(rng, (("", 0.8), ("replied", 0.2)), total)
        outcome = np.where(kind == "call", call_outcome, np.where(kind == "email", email_outcome, "connected"))
        minutes = rng.integers(5, 26, total)
        meeting_minutes = rng.choice([30, 45, 60], total)
        subjects = {
            ("first", "call"): "Intro call", ("first", "email"): "Thanks for reaching out",
            ("follow", "call"): "Follow-up call", ("follow", "email"): "Following up",
            ("follow", "meeting"): "Discovery meeting", ("deal", "call"): "Check-in on the proposal",
            ("deal", "email"): "Proposal and next steps", ("deal", "meeting"): "Demo with the team",
        }
        phases = ("first", "follow", "deal")
        durations = []
        for k_, o, mi, mm in zip(kind.tolist(), outcome.tolist(), minutes.tolist(), meeting_minutes.tolist(), strict=True):
            if k_ == "meeting":
                durations.append(mm)
            elif k_ == "call" and o in {"connected", "booked_meeting"}:
                durations.append(mi)
            elif k_ == "call":
                durations.append(1)
            else:
                durations.append(None)
        self.out.tables["lifecycle.Activity"] = {
            "id": w.ids.take("lifecycle.Activity", total).tolist(),
            "contact_id": self.ids[contact].tolist(),
            "deal_id": [d if d >= 0 else None for d in deal.tolist()],
            "user_id": rep_user[contact].tolist(),
            "kind": kind.tolist(),
            "outcome": outcome.tolist(),
            "subject": [subjects[(phases[p], k_)] for p, k_ in zip(phase.tolist(), kind.tolist(), strict=True)],
            "body": [""] * total,
            "occurred_at": Instants(at),
            "duration_minutes": durations,
        }

    # -- touchpoints -----------------------------------------------------------------------

    def _touchpoints(self) -> None:
        w, rng, n = self.w, self.rng, self.n
        n_c = len(W.CAMPAIGNS)
        direct = CH["direct"]
        # The touch that created the contact.
        contact = [np.arange(n)]
        at = [self.created]
        camp = [self.camp]
        kind_first = np.array([FIRST_TOUCH_KIND[CHANNELS[c]] for c in self.channel.tolist()], dtype=object)
        kinds = [kind_first]
        anonymous = [np.zeros(n, bool)]

        # Visits before they identified themselves, stitched to them afterwards.
        pre = rng.poisson(np.where(self.seg == W.B2B, 1.0, 0.6))
        owner = np.repeat(np.arange(n), pre)
        contact.append(owner)
        at.append(self.created[owner] - rng.integers(HOUR, 21 * DAY, len(owner)))
        camp.append(np.full(len(owner), -1))
        kinds.append(np.full(len(owner), "page_view", dtype=object))
        anonymous.append(np.ones(len(owner), bool))

        # Later touches: engaged people come back more.
        won = np.zeros(n, bool)
        won[self.deal_idx] = self.deal_closed & self.deal_won
        mean = (7.0 + 4.0 * self.is_mql + 3.0 * self.accepted + 6.0 * self.is_opp) * np.where(self.seg == W.B2B, 1.0, 0.75)
        later = rng.poisson(mean)
        owner = np.repeat(np.arange(n), later)
        begin = self.created[owner]
        end = np.minimum(w.horizon - 1, begin + 300 * DAY)
        when = begin + (rng.random(len(owner)) ** 1.8 * (end - begin)).astype(np.int64)
        day = w.day_index(when)
        u = rng.random(len(owner))
        pick = (w.touch_cdf[day] < u[:, None]).sum(axis=1)
        pick = np.minimum(pick, n_c)
        # A campaign still counts only once it has started.
        pick = np.where(pick == n_c, -1, pick)
        contact.append(owner)
        at.append(when)
        camp.append(pick)
        channel = np.where(pick >= 0, w.camp_channel[np.maximum(pick, 0)], direct)
        later_kinds = np.empty(len(owner), dtype=object)
        for ch_index, name in enumerate(CHANNELS):
            mask = channel == ch_index
            if mask.any():
                later_kinds[mask] = _weighted(rng, LATER_TOUCH_KINDS[name], int(mask.sum()))
        kinds.append(later_kinds)
        anonymous.append(np.zeros(len(owner), bool))

        # Demo requests raise instant MQLs; consumers who buy leave a purchase.
        demo = np.flatnonzero(self.is_mql & self.instant & (self.seg == W.B2B))
        contact.append(demo)
        at.append(self.mql_at[demo])
        camp.append(self.camp[demo])
        kinds.append(np.full(len(demo), "demo_request", dtype=object))
        anonymous.append(np.zeros(len(demo), bool))
        buyers = self.deal_idx[self.deal_consumer & self.deal_closed & self.deal_won]
        buy_at = self.deal_close[self.deal_consumer & self.deal_closed & self.deal_won]
        contact.append(buyers)
        at.append(buy_at)
        camp.append(np.full(len(buyers), -1))
        kinds.append(np.full(len(buyers), "purchase", dtype=object))
        anonymous.append(np.zeros(len(buyers), bool))

        contact = np.concatenate(contact)
        at = np.maximum(np.concatenate(at), w.start_s - 30 * DAY)
        camp = np.concatenate(camp)
        kind = np.concatenate(kinds)
        stitched = np.concatenate(anonymous)
        self.touch_count = np.bincount(contact, minlength=n)

        # Influence: every campaign a deal's contact touched before the deal opened.
        opp_at = np.full(n, -1, np.int64)
        opp_at[self.deal_idx] = self.opp_at[self.deal_idx]
        deal_of = np.full(n, -1, np.int64)
        deal_of[self.deal_idx] = self.deal_ids
        hit = (deal_of[contact] >= 0) & (camp >= 0) & (at <= opp_at[contact])
        pairs = np.unique(deal_of[contact[hit]] * 1_000 + camp[hit])
        self.out.tables["deals.Deal_influencing_campaigns"] = {
            "id": w.ids.take("deals.Deal_influencing_campaigns", len(pairs)).tolist(),
            "deal_id": (pairs // 1_000).tolist(),
            "campaign_id": w.campaign_ids[pairs % 1_000].tolist(),
        }

        # People who never identified themselves.
        n_anon = round(len(contact) * W.ANONYMOUS_TOUCH_SHARE)
        anon_day = rng.integers(0, w.n_days, n_anon)
        anon_at = w.day_s[anon_day] + rng.integers(0, DAY, n_anon)
        anon_at = np.minimum(anon_at, w.horizon - 1)
        u = rng.random(n_anon)
        anon_camp = np.minimum((w.touch_cdf[anon_day] < u[:, None]).sum(axis=1), n_c)
        anon_camp = np.where(anon_camp == n_c, -1, anon_camp)
        anon_channel = np.where(anon_camp >= 0, w.camp_channel[np.maximum(anon_camp, 0)], direct)
        anon_kind = np.where(anon_channel == CH["email"], "email_click", "page_view").astype(object)
        anon_kind[anon_channel == CH["paid_search"]] = "ad_click"

        all_contact = np.r_[contact, np.full(n_anon, -1)]
        all_at = np.r_[at, anon_at]
        all_camp = np.r_[camp, anon_camp]
        all_kind = np.r_[kind, anon_kind]
        all_anon = np.r_[stitched, np.ones(n_anon, bool)]
        total = len(all_contact)
        channel = np.where(all_camp >= 0, w.camp_channel[np.maximum(all_camp, 0)], direct)
        # Organic visitors split between typed-in and search.
        organic = (all_camp < 0) & (rng.random(total) < 0.35)
        channel = np.where(organic, CH["content_seo"], channel)
        # One visitor id per person (their stitched pre-visits share it), one per anonymous touch.
        visitor = rng.integers(0, 2**62, n + max(1, n_anon))
        anon_slot = n + np.maximum(np.arange(total) - len(contact), 0) % max(1, n_anon)
        visitor_of = np.where(all_contact >= 0, visitor[np.maximum(all_contact, 0)], visitor[anon_slot])
        path_draw = rng.integers(0, 1_000, total)
        creative = rng.integers(0, 3, total)
        order = np.argsort(all_at, kind="stable")
        camp = all_camp[order]
        channel = channel[order]
        kind = all_kind[order]
        person = all_contact[order]
        visitor_of = visitor_of[order]
        is_anon = all_anon[order]
        path_draw = path_draw[order]
        creative = creative[order]
        known = camp >= 0
        safe = np.maximum(camp, 0)
        offline = ((channel == CH["event"]) | (channel == CH["direct_offline"])
                   | (kind == "store_visit") | (kind == "event_visit"))
        tagged = known & ~offline
        specs = W.CAMPAIGNS
        by_campaign = {
            "utm_source": _objects([_utm_source(s.channel, s.segment) for s in specs]),
            "utm_medium": _objects([_utm_medium(s.channel) for s in specs]),
            "utm_campaign": _objects(w.camp_utm),
        }
        path = np.empty(total, dtype=object)
        for name, options in KIND_PATHS.items():
            mask = kind == name
            if mask.any():
                path[mask] = _objects(options)[path_draw[mask] % len(options)]
        landing = tagged & (kind == "ad_click")
        path[landing] = "/lp/" + by_campaign["utm_campaign"][safe[landing]]
        url = np.where(offline | (path == ""), "", W.WEBSITE + path)
        referrer = np.where(offline, "", _objects([REFERRERS.get(c, "") for c in CHANNELS])[channel])
        content = np.where(landing, _objects(["creative-a", "creative-b", "creative-c"])[creative], "")
        blank = [""] * total
        cols = {
            "id": w.ids.take("capture.Touchpoint", total).tolist(),
            "contact_id": [int(i) if p >= 0 else None
                           for i, p in zip(self.ids[np.maximum(person, 0)].tolist(), person.tolist(), strict=True)],
            "anonymous_id": [f"v-{v:016x}" if a else "" for v, a in zip(visitor_of.tolist(), is_anon.tolist(), strict=True)],
            "campaign_id": [int(i) if k_ else None
                            for i, k_ in zip(w.campaign_ids[safe].tolist(), known.tolist(), strict=True)],
            "channel": _objects(CHANNELS)[channel].tolist(),
            "kind": kind.tolist(),
            "occurred_at": Instants(all_at[order]),
            "utm_term": blank,
            "utm_content": content.tolist(),
            "url": url.tolist(),
            "referrer": referrer.tolist(),
            "external_id": blank,
            # Stored a moment after it happened, but never after the timeline's end.
            "created_at": Instants(np.minimum(all_at[order] + 1 + np.arange(total) % 90, w.horizon - 1)),
        }
        for name, values in by_campaign.items():
            cols[name] = np.where(tagged, values[safe], "").tolist()
        self.out.tables["capture.Touchpoint"] = cols

    # -- the contact and account rows ------------------------------------------------------

    def _contacts_and_accounts(self) -> None:
        w, rng, n = self.w, self.rng, self.n
        first, last = w.names.draw(rng, self.country)
        title_draw = rng.integers(0, 1_000, n).tolist()
        phone_digits = rng.integers(1_000_000, 9_999_999, n).tolist()
        junk = rng.integers(0, len(JUNK_NAMES), n).tolist()
        domain_draw = rng.integers(0, 1_000, n).tolist()
        offline_only = (self.channel == CH["direct_offline"]) & (rng.random(n) < 0.35)
        sen_codes = [s[0] for s in W.SENIORITIES]
        persona_title = {W.STUDENT: "student", W.CONSUMER: "consumer"}
        owner = np.where(self.is_assigned, w.rep_user[self.rep], -1).tolist()
        used: dict[str, int] = {}
        cols = defaultdict(list)
        for i in range(n):
            pk = int(self.ids[i])
            persona = int(self.persona[i])
            acc = int(self.account[i])
            given, family = str(first[i]), str(last[i])
            if persona == W.PROFESSIONAL:
                seniority = sen_codes[self.seniority[i]]
                titles = W.TITLES[seniority]
            else:
                seniority = persona_title[persona]
                titles = W.TITLES[seniority]
            local = f"{ascii_slug(given)}.{ascii_slug(family)}"
            if self.competitor[i]:
                # Competitors have no account, so may sit in any chunk: the id keeps them unique.
                domain = COMPETITOR_DOMAINS[domain_draw[i] % len(COMPETITOR_DOMAINS)]
                local = f"{local}{pk}"
            elif acc >= 0 and persona == W.PROFESSIONAL:
                domain = w.acc_domain[acc]
            elif persona == W.STUDENT:
                domain = STUDENT_DOMAINS[domain_draw[i] % len(STUDENT_DOMAINS)]
                local = f"{local}{pk}"
            else:
                domain = FREEMAIL[domain_draw[i] % len(FREEMAIL)]
                local = f"{local}{pk}"
            if self.duplicate[i]:
                domain = FREEMAIL[domain_draw[i] % len(FREEMAIL)]
                local = f"{ascii_slug(given)}{ascii_slug(family)}{pk}"
            if self.bad_data[i]:
                given = JUNK_NAMES[junk[i]] if junk[i] % 2 else given
                family = "" if junk[i] % 3 == 0 else family
                local = f"test{pk}"
                domain = FREEMAIL[domain_draw[i] % len(FREEMAIL)]
            email = f"{local}@{domain}"
            # Two people at one company can share a name; real systems add a digit.
            seen = used.get(email, 0)
            used[email] = seen + 1
            if seen:
                email = f"{local}{seen + 1}@{domain}"
            country = self.country[i]
            phone = f"+{W.COUNTRY_DIALLING[country]} 555 {phone_digits[i]}"
            if self.bad_data[i]:
                phone = "123" if junk[i] % 2 else ""
            cols["id"].append(pk)
            cols["email"].append(None if offline_only[i] else email)
            cols["first_name"].append(given)
            cols["last_name"].append(family)
            cols["phone"].append(phone)
            cols["title"].append(titles[title_draw[i] % len(titles)])
            cols["seniority"].append(seniority)
            cols["account_id"].append(int(w.account_ids[acc]) if acc >= 0 else None)
            cols["owner_id"].append(owner[i] if owner[i] >= 0 else None)
            cols["lifecycle_stage"].append(STAGES[self.stage[i]])
            cols["lead_source"].append(CHANNELS[self.channel[i]])
            cols["original_campaign_id"].append(int(w.campaign_ids[self.camp[i]]))
            cols["country"].append(country)
            cols["region"].append(W.REGIONS[self.region[i]])
            cols["external_id"].append("")
        cols["created_at"] = Instants(self.created)
        cols["stage_changed_at"] = Instants(self.stage_at)
        cols["updated_at"] = cols["stage_changed_at"]
        self.out.tables["capture.Contact"] = dict(cols)

        self._deal_contacts(first, last)
        self._account_rows()

    def _deal_contacts(self, first: np.ndarray, last: np.ndarray) -> None:
        w, rng = self.w, self.rng
        by_account: dict[int, list[int]] = defaultdict(list)
        for i, acc in enumerate(self.account.tolist()):
            if acc >= 0 and self.persona[i] == W.PROFESSIONAL:
                by_account[acc].append(i)
        primary_role = {"executive": "decision_maker", "vp": "economic_buyer", "director": "champion",
                        "manager": "champion", "individual": "user", "": "other"}
        sen_codes = [s[0] for s in W.SENIORITIES]
        rows = []
        deals = self.out.tables["deals.Deal"]
        names = []
        for j, c in enumerate(self.deal_idx.tolist()):
            deal = int(self.deal_ids[j])
            acc = int(self.account[c])
            if self.persona[c] == W.CONSUMER:
                rows.append((deal, c, "buyer", True))
                names.append(f"{first[c]} {last[c]} – {deals['_product'][j]}")
                continue
            role = primary_role[sen_codes[self.seniority[c]]] if self.seniority[c] >= 0 else "other"
            rows.append((deal, c, role, True))
            names.append(f"{w.acc_name[acc] if acc >= 0 else f'{first[c]} {last[c]}'} – {deals['_product'][j]}")
            others = [o for o in by_account.get(acc, []) if o != c]
            extra = min(len(others), int(rng.poisson(1.2)))
            if extra:
                chosen = rng.choice(len(others), extra, replace=False)
                for o in sorted(chosen.tolist()):
                    rows.append((deal, others[o], ("influencer", "user", "economic_buyer")[o % 3], False))
        deals["name"] = names
        del deals["_product"]
        self.out.tables["deals.DealContact"] = {
            "id": w.ids.take("deals.DealContact", len(rows)).tolist(),
            "deal_id": [r[0] for r in rows],
            "contact_id": [int(self.ids[r[1]]) for r in rows],
            "role": [r[2] for r in rows],
            "is_primary": [r[3] for r in rows],
        }

    def _account_rows(self) -> None:
        w, rng = self.w, self.rng
        accounts = w.chunk_accounts(self.k)
        local = np.full(w.n_accounts, -1, np.int64)
        local[accounts] = np.arange(len(accounts))
        earliest = np.full(len(accounts), np.iinfo(np.int64).max)
        latest = np.zeros(len(accounts), np.int64)
        mine = (self.account >= 0) & (local[np.maximum(self.account, 0)] >= 0)
        np.minimum.at(earliest, local[self.account[mine]], self.created[mine])
        np.maximum.at(latest, local[self.account[mine]], self.stage_at[mine])
        never = earliest == np.iinfo(np.int64).max
        earliest[never] = w.day_s[rng.integers(0, w.n_days, int(never.sum()))] + 9 * HOUR
        created = np.maximum(w.start_s - 400 * DAY, earliest - rng.integers(0, 5 * DAY, len(accounts)))
        latest = np.maximum(latest, created)
        trade = ("direct", "retail", "wholesale")
        presence = ("online", "offline", "both")
        industries = [i[0] for i in W.INDUSTRIES]
        sizes = [s[0] for s in W.SIZE_BANDS]
        b2b = (w.acc_segment[accounts] == W.B2B).tolist()
        self.out.tables["capture.Account"] = {
            "id": w.account_ids[accounts].tolist(),
            "name": [w.acc_name[a] for a in accounts.tolist()],
            "domain": [w.acc_domain[a] for a in accounts.tolist()],
            "industry": [industries[w.acc_industry[a]] if b else "consumer" for a, b in zip(accounts.tolist(), b2b, strict=True)],
            "size_band": [sizes[w.acc_size[a]] if b else "" for a, b in zip(accounts.tolist(), b2b, strict=True)],
            "region": [W.REGIONS[w.acc_region[a]] for a in accounts.tolist()],
            "country": w.acc_country[accounts].tolist(),
            "segment": ["b2b" if b else "b2c" for b in b2b],
            "trade_channel": [trade[w.acc_trade[a]] for a in accounts.tolist()],
            "presence": [presence[w.acc_presence[a]] for a in accounts.tolist()],
            "owner_id": [int(w.rep_user[w.acc_owner[a]]) if w.acc_owner[a] >= 0 else None for a in accounts.tolist()],
            "external_id": [""] * len(accounts),
            "created_at": Instants(created),
            "updated_at": Instants(latest),
        }


def goal_rows(world: World, totals: dict[tuple[str, int], float], ids: IdCounters,
              created_by: int) -> dict[str, list]:
    """Set company-wide quarterly targets near what the company did (some met, some missed)."""
    rng = np.random.default_rng([world.seed, 5])
    first_q = quarter_key(np.array([world.start_s]))[0]
    current_q = quarter_key(np.array([world.horizon - 1]))[0]
    labels = {"revenue": "revenue won", "pipeline": "pipeline created", "mqls": "MQLs", "sqls": "SQLs"}
    cols = defaultdict(list)
    for q in range(int(first_q) + 1, int(current_q) + 1):
        year, index = divmod(q, 4)
        begin = date(year, index * 3 + 1, 1)
        end = shift_months(begin, 3) - timedelta(days=1)
        for metric, label in labels.items():
            actual = totals.get((metric, q), 0.0)
            if q == current_q:
                actual = totals.get((metric, q - 1), 0.0) * 1.08
            target = max(1.0, actual * rng.lognormal(math.log(1.03), 0.10))
            if metric in {"revenue", "pipeline"}:
                target = round(target, -3) or 1000.0
            else:
                target = float(max(1, round(target)))
            cols["name"].append(f"Q{index + 1} {year} {label}")
            cols["metric"].append(metric)
            cols["period_start"].append(begin)
            cols["period_end"].append(end)
            cols["target"].append(money(target))
            cols["team_id"].append(None)
            cols["created_by_id"].append(created_by)
            cols["created_at"].append(datetime.combine(begin - timedelta(days=10), datetime.min.time(), UTC) + timedelta(hours=10))
    cols["id"] = ids.take("planning.Goal", len(cols["name"])).tolist()
    return dict(cols)
