"""Rule scoring maths on numpy arrays: fit, decayed engagement, caps, and explanations.

No Django. The selector hands over one row per contact as small integer codes (industry,
size band, region, seniority, and bitmasks of matched title and email-domain rules) and
engagement events as (row, kind, age in days); everything here is vectorised, so a
million contacts score in well under a second of arithmetic.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

from accord.scoring.rules import (
    ACTIVITY_KINDS,
    INDUSTRIES,
    REGIONS,
    SENIORITIES,
    SIZE_BANDS,
    TOUCHPOINT_KINDS,
    RulesDocument,
)

# Touchpoint kinds first, then activity kinds: the event kind code is an index into this.
EVENT_KINDS = (*TOUCHPOINT_KINDS, *(f"activity:{kind}" for kind in ACTIVITY_KINDS))
TOP_UP = 3
TOP_DOWN = 2
MINUS = "\u2212"
STR = np.dtypes.StringDType()

INDUSTRY_TEXT = {
    "software": "Software company", "financial": "Financial-services company",
    "healthcare": "Healthcare company", "manufacturing": "Manufacturing company",
    "retail": "Retail company", "education": "Education organisation",
    "professional": "Professional-services firm", "hospitality": "Hospitality company",
    "logistics": "Logistics company", "public": "Public-sector organisation",
    "consumer": "Consumer household", "other": "Company in another industry",
}
INDUSTRY_ADJECTIVE = {
    "software": "software", "financial": "financial-services", "healthcare": "healthcare",
    "manufacturing": "manufacturing", "retail": "retail", "education": "education",
    "professional": "professional-services", "hospitality": "hospitality",
    "logistics": "logistics", "public": "public-sector", "other": "",
}
SIZE_TEXT = {"1-10": "1–10", "11-50": "11–50", "51-200": "51–200", "201-1000": "201–1,000",
             "1001-5000": "1,001–5,000", "5000+": "5,000+"}
REGION_TEXT = {"na": "North America", "emea": "Europe, Middle East & Africa",
               "apac": "Asia-Pacific", "latam": "Latin America"}
SENIORITY_TEXT = {"executive": "C-level or owner", "vp": "VP", "director": "Director",
                  "manager": "Manager", "individual": "Individual contributor",
                  "student": "Student", "consumer": "Consumer", "": "Unknown seniority"}
# (one occurrence, many occurrences with {n}) as a rep would say it.
EVENT_TEXT = {
    "page_view": ("Viewed a page", "Viewed {n} pages"),
    "ad_click": ("Clicked an ad", "Clicked {n} ads"),
    "form_submit": ("Filled in a form", "Filled in {n} forms"),
    "email_open": ("Opened an email", "Opened {n} emails"),
    "email_click": ("Clicked an email", "Clicked {n} emails"),
    "content_download": ("Downloaded content", "Downloaded content {n} times"),
    "webinar_register": ("Registered for a webinar", "Registered for {n} webinars"),
    "webinar_attend": ("Attended a webinar", "Attended {n} webinars"),
    "event_visit": ("Visited our booth at an event", "Visited our booth {n} times"),
    "demo_request": ("Requested a demo", "Requested {n} demos"),
    "chat": ("Chatted with us", "Chatted with us {n} times"),
    "store_visit": ("Visited a store", "Visited a store {n} times"),
    "purchase": ("Bought from us", "Bought from us {n} times"),
    "referral": ("Was referred", "Was referred {n} times"),
    "unsubscribe": ("Unsubscribed from email", "Unsubscribed {n} times"),
    "activity:call": ("Had a call with sales", "Had {n} calls with sales"),
    "activity:email": ("Exchanged an email with sales", "Exchanged {n} emails with sales"),
    "activity:meeting": ("Met with sales", "Met with sales {n} times"),
    "activity:note": ("Has a note from sales", "Has {n} notes from sales"),
}


@dataclass
class LeadColumns:
    """One row per contact: category codes (−1 when unknown) and rule-match bitmasks."""

    contact_id: np.ndarray
    industry: np.ndarray
    size_band: np.ndarray
    region: np.ndarray
    seniority: np.ndarray
    title_flags: np.ndarray
    domain_flags: np.ndarray

    def __len__(self) -> int:
        return len(self.contact_id)


LEAD_FIELDS = ("contact_id", "industry", "size_band", "region", "seniority", "title_flags", "domain_flags")


@dataclass
class Events:
    """Engagement events: the contact row each belongs to, its kind code, and its age in days.

    An event rolled up from many (`rollup_events`) also carries how many it stands for and
    the age of the latest of them; a real event stands for one, of its own age.
    """

    row: np.ndarray
    kind: np.ndarray
    age_days: np.ndarray
    count: np.ndarray | None = None
    latest_days: np.ndarray | None = None

    @classmethod
    def empty(cls) -> Events:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))

    def counts(self) -> np.ndarray:
        return self.count if self.count is not None else np.ones(len(self.row), np.int64)

    def latest(self) -> np.ndarray:
        return self.latest_days if self.latest_days is not None else self.age_days

    def take(self, chosen: np.ndarray, row: np.ndarray | None = None) -> Events:
        """Return the chosen events (a mask or indices), optionally re-numbered to `row`."""
        return Events(self.row[chosen] if row is None else row, self.kind[chosen], self.age_days[chosen],
                      None if self.count is None else self.count[chosen],
                      None if self.latest_days is None else self.latest_days[chosen])


def locate(ids: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (position in the sorted, distinct `ids`, found) for each of `targets`.

    Ids from a database sequence are nearly dense, so a lookup table indexed by id answers in
    one gather; np.searchsorted of a million unsorted targets cost ten times as much in cache
    misses. Sparse ids (spread over more than eight times their number) fall back to it.
    """
    targets = np.asarray(targets, dtype=np.int64)
    if len(ids) == 0:
        return np.zeros(len(targets), np.int64), np.zeros(len(targets), bool)
    low, high = int(ids[0]), int(ids[-1])
    if high - low < 8 * len(ids) + 4096:
        # Offset by the lowest id, with one spare slot past the end for ids out of range.
        table = np.full(high - low + 2, -1, dtype=np.int64)
        table[ids - low] = np.arange(len(ids))
        position = table[np.clip(targets - low, -1, high - low + 1)]
        found = position >= 0
        return np.maximum(position, 0), found
    position = np.minimum(np.searchsorted(ids, targets), len(ids) - 1)
    return position, ids[position] == targets


def events_as_of(*, row: np.ndarray, kind: np.ndarray, occurred_s: np.ndarray,
                 as_of_s: np.ndarray | int, count: np.ndarray | None = None,
                 latest_s: np.ndarray | None = None) -> Events:
    """Keep only events that had happened by each row's as-of instant, aged from it.

    This is the leakage guard of training: an event after a lead's snapshot is dropped,
    so nothing that happened later can reach its features. Rolled-up events (`count`, and
    the latest time in `latest_s`) are kept by their latest time.
    """
    reference = as_of_s[row] if isinstance(as_of_s, np.ndarray) else np.int64(as_of_s)
    age_s = reference - occurred_s
    if latest_s is None:
        keep = age_s >= 0
        return Events(row[keep], kind[keep], age_s[keep] / 86_400.0)
    latest_age = reference - latest_s
    keep = latest_age >= 0
    return Events(row[keep], kind[keep], age_s[keep] / 86_400.0, count[keep], latest_age[keep] / 86_400.0)


def events_for(contact_id: np.ndarray, raw: tuple[np.ndarray, np.ndarray, np.ndarray], as_of_s: int) -> Events:
    """Turn (contact id, kind, epoch s) events into rows of the sorted `contact_id`, aged from `as_of_s`.

    Events of unknown contacts and events after the instant are dropped; times arrive rounded
    up to the minute, so an event in the scoring minute still counts, as happening now.
    """
    contact, kind, occurred = raw
    if len(contact_id) == 0:
        return Events.empty()
    row, known = locate(contact_id, contact)
    age_s = as_of_s - occurred[known]
    now = age_s > -60
    return Events(row[known][now], kind[known][now], np.maximum(age_s[now], 0) / 86_400.0)


def rollup_weights(events: Events, half_life_days: float) -> tuple[np.ndarray, ...]:
    """Sum each (row, kind)'s decayed events into one weight as of the events' reference instant.

    Returns (row, kind, weight, count, latest age in days) sorted by row then kind. Decay
    composes: a weight w valued at t0 is worth w · 2^(−(t − t0) / half-life) at t, which is
    what `rollup_events` uses; counts add up and the latest event stays the latest.
    """
    # One sort, shared by the grouping and the latest time: np.unique's sort and group_min's
    # lexsort of the same events had taken 2 s of a weekly rebuild's 3.5M events, this 0.7 s.
    # Weights are still summed by bincount in the events' order, so they stay bit for bit
    # what a full read sums (np.add.reduceat adds pairwise).
    k = len(EVENT_KINDS)
    key = events.row.astype(np.int64) * k + events.kind
    if not len(key):
        return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64), np.zeros(0))
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.r_[True, key[1:] != key[:-1]]
    start = np.flatnonzero(first)
    keys = key[start]
    which = np.empty(len(key), np.int64)
    which[order] = np.cumsum(first) - 1
    weight = np.bincount(which, weights=decay(events.age_days, half_life_days), minlength=len(keys))
    count = np.add.reduceat(events.counts()[order], start).astype(np.int64)
    return keys // k, keys % k, weight, count, np.minimum.reduceat(events.latest()[order], start)


def rollup_events(contact_id: np.ndarray, rollup_contact: np.ndarray, rollup_kind: np.ndarray,
                  weight: np.ndarray, *, elapsed_days: float, half_life_days: float,
                  count: np.ndarray | None = None, latest_days: np.ndarray | None = None) -> Events:
    """Turn rolled-up weights valued `elapsed_days` ago into one event per (contact, kind).

    Each is given the age whose decay is the weight decayed to now, so `score_rules` scores
    it exactly as it would score every event it stands for; with the rollup's counts and
    latest ages (as of its valuation), explanations and the model's features are exact too.
    """
    if len(contact_id) == 0 or len(rollup_contact) == 0:
        return Events.empty()
    row, found = locate(contact_id, rollup_contact)
    if count is None:
        keep = found & (weight > 0)
        age = elapsed_days - half_life_days * np.log2(weight[keep])
        return Events(row[keep], rollup_kind[keep].astype(np.int64), age)
    with np.errstate(divide="ignore"):
        # A weight decayed to nothing still stands for its events: an infinite age.
        age = elapsed_days - half_life_days * np.log2(weight[found])
    return Events(row[found], rollup_kind[found].astype(np.int64), age, count[found].astype(np.int64),
                  latest_days[found] + elapsed_days)


def join_events(*parts: Events) -> Events:
    if all(p.count is None for p in parts):
        return Events(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("row", "kind", "age_days")))
    return Events(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("row", "kind", "age_days")),
                  np.concatenate([p.counts() for p in parts]), np.concatenate([p.latest() for p in parts]))


@dataclass
class Factor:
    """One column of the contribution matrix: a rule, and how to say what it rewarded."""

    code: str
    category: str  # "fit" or "engagement"
    texts: tuple[str, ...] = ()  # per category code, for fit lookups; one text for flags


@dataclass
class RuleScores:
    """Scores for every row, and each factor's contribution (n × factors) for explanations."""

    total: np.ndarray
    fit: np.ndarray
    engagement: np.ndarray
    contributions: np.ndarray
    detail: np.ndarray  # per row and factor: category code for fit lookups, count for events
    last_age: np.ndarray  # per row and event kind: days since the latest, inf when none
    factors: list[Factor]


def normalise_title(title: str) -> str:
    """Lower-case a title and turn punctuation into spaces, padded, for whole-word matching."""
    for mark in ",-/.()&|;:":
        title = title.replace(mark, " ")
    return f" {' '.join(title.lower().split())} "


def title_flags(title: str, keyword_rules: list[list[str]]) -> int:
    """Return a bitmask: bit j is set when the title contains a keyword of rule j as whole words.

    Whole words, so "cto" does not match "director" and "VP, Sales" matches "vp".
    """
    padded = normalise_title(title)
    return sum(1 << j for j, keywords in enumerate(keyword_rules)
               if any(f" {keyword} " in padded for keyword in keywords))


def domain_flags(domain: str, domain_rules: list[list[str]]) -> int:
    """Return a bitmask: bit j is set when the domain is one of rule j's domains or a subdomain."""
    domain = domain.lower().strip(".")
    return sum(1 << j for j, domains in enumerate(domain_rules)
               if any(domain == d or domain.endswith("." + d) for d in domains))


def email_domain_flags(emails: bytes, domain_rules: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Return (line number, flags) of the lines of `emails` (one address a line) at a rule's domain.

    Searching the text for "@domain\\n" and ".domain\\n" finds the lines at any rule's domain,
    in C (any case, as SQL's LIKE); only those few lines are then checked rule by rule with
    `domain_flags`. Testing sixteen LIKE patterns on every row cost SQLite more than reading
    the rows.
    """
    domains = sorted({d for rule in domain_rules for d in rule}, key=len, reverse=True)
    if not domains or not emails:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    data = emails.lower() + b"\n"
    # A literal search per (separator, domain) runs at memory speed; one pattern with an
    # alternation tried at every position was five times slower.
    found = [match.start() for domain in domains for separator in (b"@", b".")
             for match in re.finditer(re.escape(separator + domain.encode() + b"\n"), data)]
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.array(found, dtype=np.int64)
    breaks = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    lines = np.unique(np.searchsorted(breaks, starts))
    begins = np.r_[0, breaks + 1][lines].tolist()
    ends = np.r_[breaks, len(data)][lines].tolist()
    flags = np.array([domain_flags(data[b:e].decode(errors="replace").rsplit("@", 1)[-1], domain_rules)
                      for b, e in zip(begins, ends, strict=True)], dtype=np.int64)
    keep = flags != 0
    return lines[keep], flags[keep]


def packed_ids(ids: np.ndarray) -> dict[str, np.ndarray]:
    """Return ascending ids as named arrays for np.savez: the first and byte steps when they fit.

    A million contacts' rollup holds 3M ids that mostly step by 0 or 1: a byte each instead
    of four. Ids that don't ascend by less than 256 keep 32 bits (64 beyond 2^32).
    """
    steps = np.diff(ids, prepend=ids[:1])
    if len(ids) and steps.min() >= 0 and steps.max() < 256:
        return {"contact_first": ids[:1].astype(np.int64), "contact_step": steps.astype(np.uint8)}
    return {"contact": ids.astype(np.uint32) if len(ids) and ids.max() < 2**32 else ids.astype(np.int64)}


def unpacked_ids(arrays) -> np.ndarray:
    """Return the int64 ids `packed_ids` stored in `arrays` (a mapping of names to arrays)."""
    if "contact_step" in arrays:
        return arrays["contact_first"][0] + np.cumsum(arrays["contact_step"], dtype=np.int64)
    return arrays["contact"].astype(np.int64)


def group_min(group: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Return the smallest value of each group 0..size−1, inf for an empty group.

    The first of each group once sorted by (group, value): np.minimum.at is unbuffered and
    ten times slower on millions of events.
    """
    out = np.full(size, np.inf)
    if len(group):
        order = np.lexsort((values, group))
        sorted_groups = group[order]
        first = np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]
        out[sorted_groups[first]] = values[order][first]
    return out


def decay(age_days: np.ndarray, half_life_days: float) -> np.ndarray:
    """Weight an event by its age: 1 today, ½ one half-life ago, ¼ two half-lives ago."""
    return np.exp2(-np.asarray(age_days, dtype=np.float64) / half_life_days)


def _lookup(points: dict[str, int], vocabulary: tuple[str, ...]) -> np.ndarray:
    # One extra slot at the end, reached by code −1, scores unknown values as nothing.
    return np.array([points.get(value, 0) for value in vocabulary] + [0], dtype=np.float64)


def _signed(points: int) -> str:
    return f"+{points}" if points >= 0 else f"{MINUS}{-points}"


def score_rules(rules: RulesDocument, leads: LeadColumns, events: Events, *,
                explain: bool = True) -> RuleScores:
    """Score every row: fit and engagement each clipped to their caps, the total to 0..total_cap.

    With `explain=False` only the totals are computed: the per-factor matrices an explanation
    needs cost more memory traffic than the scoring itself at a million rows, so a rescore
    scores everyone without them and explains only the rows whose score changed
    (`explain_rows`).
    """
    n = len(leads)
    fit = rules.fit
    columns: list[np.ndarray] = []
    details: list[np.ndarray] = []
    factors: list[Factor] = []
    fit_raw = np.zeros(n)
    for code, points, values, vocabulary, texts in (
        ("industry", fit.industry, leads.industry, INDUSTRIES, INDUSTRY_TEXT),
        ("size_band", fit.size_band, leads.size_band, SIZE_BANDS,
         {k: f"{v} employees" for k, v in SIZE_TEXT.items()}),
        ("region", fit.region, leads.region, REGIONS, {k: f"Based in {v}" for k, v in REGION_TEXT.items()}),
        ("seniority", fit.seniority, leads.seniority, SENIORITIES, SENIORITY_TEXT),
    ):
        column = _lookup(points, vocabulary)[values]
        fit_raw += column
        if explain:
            columns.append(column)
            details.append(np.asarray(values, dtype=np.int64))
            factors.append(Factor(code, "fit", tuple(texts.get(v, v) for v in vocabulary)))
    for prefix, rule_list, flags in (("title", fit.title_keywords, leads.title_flags),
                                     ("domain", fit.email_domains, leads.domain_flags)):
        for j, rule in enumerate(rule_list):
            column = ((np.asarray(flags, dtype=np.int64) >> j) & 1) * float(rule.points)
            fit_raw += column
            if explain:
                columns.append(column)
                details.append(np.zeros(n, np.int64))
                factors.append(Factor(f"{prefix}:{j}", "fit", (rule.label,)))

    engagement = rules.engagement
    k = len(EVENT_KINDS)
    weights = decay(events.age_days, engagement.half_life_days)
    kind_points = {**engagement.touchpoints,
                   **{f"activity:{name}": rule for name, rule in engagement.activities.items()}}
    eng_raw = np.zeros(n)
    if explain:
        flat = events.row * k + events.kind
        counts = np.bincount(flat, weights=events.count, minlength=n * k).astype(np.int64).reshape(n, k)
        last_age = group_min(flat, events.latest(), n * k).reshape(n, k)
    else:
        last_age = np.zeros((n, 0))
    for index, kind in enumerate(EVENT_KINDS):
        rule = kind_points.get(kind)
        if rule is None:
            continue
        mine = events.kind == index
        contribution = np.bincount(events.row[mine], weights=weights[mine], minlength=n) * rule.points
        if rule.max is not None:
            contribution = np.clip(contribution, -rule.max, rule.max)
        eng_raw += contribution
        if explain:
            columns.append(contribution)
            details.append(counts[:, index])
            factors.append(Factor(kind, "engagement"))

    contributions = np.column_stack(columns) if columns else np.zeros((n, 0))
    detail = np.column_stack(details) if details else np.zeros((n, 0), np.int64)
    fit_score = np.clip(np.rint(fit_raw), fit.floor, fit.cap).astype(np.int64)
    eng_score = np.clip(np.rint(eng_raw), engagement.floor, engagement.cap).astype(np.int64)
    # Fit and engagement are shown beside the total, so the total is their clipped sum.
    total = np.clip(fit_score + eng_score, 0, rules.total_cap).astype(np.int64)
    return RuleScores(total, fit_score, eng_score, contributions, detail, last_age, factors)


def explain_rows(rules: RulesDocument, leads: LeadColumns, events: Events,
                 rows: np.ndarray) -> tuple[RuleScores, LeadColumns]:
    """Score the chosen rows again with every factor kept, for their explanations."""
    position = np.full(len(leads), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    mine = position[events.row] >= 0
    subset = LeadColumns(*(getattr(leads, name)[rows] for name in LEAD_FIELDS))
    chosen = events.take(mine, position[events.row[mine]])
    return score_rules(rules, subset, chosen), subset


# -- explanations -------------------------------------------------------------------------


def _json_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def ago(days: float) -> str:
    whole = int(days)
    return "today" if whole == 0 else "yesterday" if whole == 1 else f"{whole} days ago"


def top_factors(scores: RuleScores) -> tuple[np.ndarray, np.ndarray]:
    """Pick each row's strongest factors: TOP_UP positive and TOP_DOWN negative columns (−1 = none)."""
    points = np.rint(scores.contributions).astype(np.int64)
    n, f = points.shape
    if f == 0:
        return np.full((n, 0), -1), np.full((n, 0), -1)
    up_order = np.argsort(-points, axis=1, kind="stable")[:, :TOP_UP]
    down_order = np.argsort(points, axis=1, kind="stable")[:, :TOP_DOWN]
    up_points = np.take_along_axis(points, up_order, axis=1)
    down_points = np.take_along_axis(points, down_order, axis=1)
    up = np.where(up_points > 0, up_order, -1)
    down = np.where(down_points < 0, down_order, -1)
    return up, down


def factor_sentence(factor: Factor, points: int, detail: int, last_age: float) -> str:
    """Say in words what one factor rewarded, with its points, e.g. 'VP (+12)'."""
    if factor.category == "fit":
        text = factor.texts[detail] if len(factor.texts) > 1 else factor.texts[0]
    else:
        one, many = EVENT_TEXT[factor.code]
        when = ago(last_age)
        text = f"{one} {when}" if detail == 1 else f"{many.format(n=detail)}, latest {when}"
    return f"{text} ({_signed(points)})"


def fit_summaries(leads: LeadColumns) -> np.ndarray:
    """Describe who the person is in one phrase, e.g. 'VP at a 51–200 software company'."""
    combo = ((leads.seniority + 1) * 10_000 + (leads.size_band + 1) * 100 + (leads.industry + 1)).astype(np.int64)
    unique, inverse = np.unique(combo, return_inverse=True)
    phrases = []
    for value in unique.tolist():
        seniority, rest = divmod(value, 10_000)
        size, industry = divmod(rest, 100)
        phrases.append(fit_summary(
            SENIORITIES[seniority - 1] if seniority else None,
            SIZE_BANDS[size - 1] if size else None,
            INDUSTRIES[industry - 1] if industry else None,
        ))
    return np.array(phrases, dtype=STR)[inverse.reshape(-1)]


def fit_summary(seniority: str | None, size_band: str | None, industry: str | None) -> str:
    who = SENIORITY_TEXT.get(seniority, "") if seniority not in (None, "") else "Someone"
    if industry == "consumer":
        return "Consumer" if who == "Someone" else who
    adjective = INDUSTRY_ADJECTIVE.get(industry or "", "")
    size = SIZE_TEXT.get(size_band or "", "")
    company = " ".join(part for part in (size, adjective) if part)
    if not company:
        return who
    first = company.split()[0]
    article = "an" if first.startswith(("11", "18", "8")) or first[0] in "aeiou" else "a"
    return f"{who} at {article} {company} company"


def explanation_json(scores: RuleScores, leads: LeadColumns, *, rule_version: int | None,
                     rows: np.ndarray | None = None) -> list[str]:
    """Write each row's explanation as JSON text: the fit summary, top factors up and down.

    Rows share few distinct factor sentences, so each distinct (factor, points, count, days)
    is worded once and rows are assembled from those pieces with vectorised concatenation:
    json.dumps per row would cost more than the scoring itself at a million rows.
    """
    if rows is None:
        rows = np.arange(len(leads))
    subset = _subset(scores, rows)
    n = len(rows)
    up, down = top_factors(subset)
    points = np.rint(subset.contributions).astype(np.int64)
    kind_of = np.array([EVENT_KINDS.index(f.code) if f.category == "engagement" else 0
                        for f in scores.factors] + [0], dtype=np.int64)
    slots = [(chosen[:, j], j) for chosen in (up, down) for j in range(chosen.shape[1])]
    keys = []
    every_row = np.arange(n)
    for column, position in slots:
        safe = np.maximum(column, 0)
        days = subset.last_age[every_row, kind_of[safe]] if subset.last_age.size else np.zeros(n)
        days = np.where(np.isfinite(days), np.minimum(days, 65_000), 0).astype(np.int64)
        is_engagement = np.array([f.category == "engagement" for f in scores.factors] + [False])[safe]
        key = (safe.astype(np.int64) << 50) | ((points[every_row, safe] + 512) << 40)
        key |= np.minimum(subset.detail[every_row, safe], 65_535).astype(np.int64) << 20
        key |= np.where(is_engagement, days, 0) << 1 | (position > 0)
        keys.append(np.where(column >= 0, key, -1))
    stacked = np.stack(keys) if keys else np.full((0, n), -1)
    unique, inverse = np.unique(stacked, return_inverse=True)
    inverse = inverse.reshape(stacked.shape)
    pieces = []
    for key in unique.tolist():
        if key < 0:
            pieces.append("")
            continue
        index, value = key >> 50, ((key >> 40) & 1023) - 512
        detail, days, later = (key >> 20) & 65_535, (key >> 1) & 524_287, key & 1
        factor = scores.factors[index]
        item = json.dumps({"factor": factor.code, "points": value,
                           "text": factor_sentence(factor, value, detail, float(days))},
                          ensure_ascii=False)
        pieces.append(("," if later else "") + item)
    pieces_array = np.array(pieces, dtype=STR)
    summaries = fit_summaries(LeadColumns(*(getattr(leads, name)[rows] for name in (
        "contact_id", "industry", "size_band", "region", "seniority", "title_flags", "domain_flags"))))
    distinct, which = np.unique(summaries, return_inverse=True)
    heads = np.array([json.dumps({"summary": s, "rule_version": rule_version}, ensure_ascii=False)[:-1]
                      for s in distinct.tolist()], dtype=STR)
    out = np.strings.add(heads[which.reshape(-1)], ',"up":[')
    for i in range(len(slots)):
        if i == up.shape[1]:
            out = np.strings.add(out, '],"down":[')
        out = np.strings.add(out, pieces_array[inverse[i]])
    if not slots or up.shape[1] == len(slots):
        out = np.strings.add(out, '],"down":[')
    return np.strings.add(out, "]}").tolist()


def _subset(scores: RuleScores, rows: np.ndarray) -> RuleScores:
    return RuleScores(scores.total[rows], scores.fit[rows], scores.engagement[rows],
                      scores.contributions[rows], scores.detail[rows], scores.last_age[rows],
                      scores.factors)
