"""Reads for scoring: the active rules and model, score history, and columnar lead data.

Scoring a million contacts cannot afford a Python object per value, so the columnar
readers ask the database to join each chunk of rows into one comma-separated string
(group_concat on SQLite, string_agg on PostgreSQL) that numpy parses in C.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import numpy as np
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from accord.capture.selectors import contacts_visible_to
from accord.scoring import predictive
from accord.scoring.domain import (
    EVENT_KINDS,
    LeadColumns,
    email_domain_flags,
    events_for,
    explain_rows,
    explanation_json,
    group_min,
    locate,
    title_flags,
    unpacked_ids,
)
from accord.scoring.models import (
    EngagementRollup,
    LeadScore,
    PredictiveModelVersion,
    ScoringRuleSet,
)
from accord.scoring.rules import (
    CHANNELS,
    INDUSTRIES,
    REGIONS,
    SENIORITIES,
    SIZE_BANDS,
    RulesDocument,
    parse_rules,
)

CHUNK_ROWS = 250_000
SQL_STAGES = ("sql", "opportunity", "customer")
OPPORTUNITY_STAGES = ("opportunity", "customer")
DEFAULT_RULES = Path(__file__).with_name("default_rules.yaml")


def active_rule_set() -> ScoringRuleSet | None:
    return ScoringRuleSet.objects.filter(is_active=True).first()


def rule_set(*, version: int) -> ScoringRuleSet:
    return ScoringRuleSet.objects.get(version=version)


def rule_sets() -> list[ScoringRuleSet]:
    return list(ScoringRuleSet.objects.select_related("created_by"))


def active_model() -> PredictiveModelVersion | None:
    """Return the active model version without its artifact, which predictive.estimator_for
    loads once per process: every new lead's scoring reads this row."""
    return PredictiveModelVersion.objects.defer("artifact").filter(is_active=True).first()


def model_version(*, version: int) -> PredictiveModelVersion:
    return PredictiveModelVersion.objects.get(version=version)


def model_versions() -> list[PredictiveModelVersion]:
    return list(PredictiveModelVersion.objects.defer("artifact"))


def latest_score(*, contact_id: int) -> LeadScore | None:
    return LeadScore.objects.filter(contact_id=contact_id).first()


def score_history(*, contact_id: int, limit: int = 50) -> list[LeadScore]:
    return list(LeadScore.objects.filter(contact_id=contact_id)[:limit])


# -- columnar readers ---------------------------------------------------------------------


def _vendor() -> str:
    return "pg" if connection.vendor == "postgresql" else "sqlite"


def _epoch(column: str) -> str:
    if _vendor() == "pg":
        # FLOOR, as SQLite's unixepoch truncates: a cast rounds, and would put a touch made in
        # the same second as the scoring half a second into the future.
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"unixepoch({column})"


def _code(column: str, vocabulary: Sequence[str], params: list) -> str:
    """Map a text column to its index in `vocabulary` (−1 when missing or unknown)."""
    whens = []
    for index, value in enumerate(vocabulary):
        whens.append(f"WHEN %s THEN {index}")
        params.append(value)
    return f"(CASE {column} {' '.join(whens)} ELSE -1 END)"


def _aggregate(expression: str, separator: str = "','") -> str:
    if _vendor() == "pg":
        return f"string_agg({expression}, {separator})"
    return f"group_concat({expression}, {separator})"


def _texts(aggregates: list[str], source: str, params: list, *, key: str, where: str = "",
           chunk: int | None = CHUNK_ROWS, bounds: tuple[int, int] | None = None,
           parallel: bool = True) -> Iterator[tuple]:
    """Yield, per range of the `key` column, the values of `aggregates` (texts, None when no rows).

    Several aggregates of one query see the same rows in the same order, so their lists
    line up row for row. `chunk=None` reads everything in one range. Ranges of the primary
    key, not ORDER BY … LIMIT pages: the database then only walks the table, which made
    reading events four times faster on SQLite. Expressions must not be NULL (CASE … ELSE
    −1, COALESCE): an aggregate skips NULLs, and the lists would no longer line up.
    `source` starts with the table `key` belongs to. `bounds` (lowest, highest key) saves
    the MIN/MAX query when the caller knows them. Several ranges are read by `READERS`
    connections at once unless `parallel` is false (a query of a temporary table, which only
    this connection sees).
    """
    select = ", ".join(aggregates)
    extra = f" AND ({where})" if where else ""
    with connection.cursor() as cursor:
        if chunk is None and bounds is None:
            # A read of a few named contacts is one query on the filter's index, no range.
            cursor.execute(f"SELECT {select} FROM {source} WHERE 1 = 1{extra}", params)  # noqa: S608
            yield cursor.fetchone()
            return
        if bounds is None:
            # The key's range in its own table, without the filter or the joins, one aggregate
            # per subquery: SQLite answers a lone MIN or MAX from the index end, but scans every
            # row for MIN and MAX together or under a filter (7 s for 3M touchpoints at load 7).
            # A wider range than needed costs only an empty first or last chunk.
            table = source.split()[0]
            column = key.split(".")[-1]
            cursor.execute(f"SELECT (SELECT MIN({column}) FROM {table}), (SELECT MAX({column}) FROM {table})")  # noqa: S608
            bounds = cursor.fetchone()
        low, high = bounds
        if low is None:
            return
        sql = f"SELECT {select} FROM {source} WHERE {key} >= %s AND {key} < %s{extra}"  # noqa: S608
        chunk = chunk or int(high) - int(low) + 1
        # Never past `high`: rows added since the bounds were read are left to the next read.
        ranges = [(start, min(start + chunk, int(high) + 1)) for start in range(int(low), int(high) + 1, chunk)]
        if not (parallel and len(ranges) > 1 and READERS > 1 and not connection.in_atomic_block):
            for bounds_of_range in ranges:
                cursor.execute(sql, [*params, *bounds_of_range])
                yield cursor.fetchone()
            return
    with ThreadPoolExecutor(READERS, thread_name_prefix="scoring-read") as pool:
        yield from pool.map(partial(_read_range, sql, params), ranges)


# Connections that read the ranges of a whole-base read at once. The database builds each
# range's lists in C, where SQLite and psycopg let go of the GIL, so two readers keep both
# cores of a small server busy while this thread parses the ranges already read: reading 1M
# contacts took 3.2 s on one connection. Inside a transaction (a test, or a caller's atomic
# block) the ranges are read on the caller's connection, the only one that sees its writes.
READERS = 2


def _read_range(sql: str, params: list, bounds: tuple[int, int]) -> tuple:
    return _own_connection(partial(_fetch_one, sql, [*params, *bounds]))


def _fetch_one(sql: str, params: list) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def side_by_side[A, B](first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """Return (first(), second()), the second run at the same time on its own connection.

    For two whole-base reads (every contact, every touch): each already keeps about one and
    a half cores busy, so run together they fill both (1M contacts and 3.5M touches: 6.2 s
    one after the other, 5.5 s together). Inside a transaction both run on the caller's
    connection, one after the other, as `_texts` does.
    """
    if READERS < 2 or connection.in_atomic_block:
        return first(), second()
    with ThreadPoolExecutor(1, thread_name_prefix="scoring-read-pair") as pool:
        later = pool.submit(_own_connection, second)
        return first(), later.result()


def _own_connection[T](work: Callable[[], T]) -> T:
    # Run on a thread of a pool, so on that thread's own connection (Django's are per thread),
    # closed afterwards so no thread leaves one open.
    try:
        return work()
    finally:
        connections[DEFAULT_DB_ALIAS].close()


def _numbers(text: str | None) -> np.ndarray:
    return np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, np.int64)


def _packed(select: list[str], source: str, params: list, *, key: str, where: str = "",
            chunk: int | None = CHUNK_ROWS, bounds: tuple[int, int] | None = None,
            parallel: bool = True) -> Iterator[np.ndarray]:
    """Yield chunks of rows as int64 arrays (rows × columns), by ranges of the `key` column (see _texts)."""
    width = len(select)
    if _vendor() == "pg":
        row = " || ',' || ".join(f"({e})::bigint::text" for e in select)
    else:
        row = " || ',' || ".join(f"({e})" for e in select)
    for (text,) in _texts([_aggregate(row)], source, params, key=key, where=where, chunk=chunk, bounds=bounds,
                          parallel=parallel):
        if text:
            yield _numbers(text).reshape(-1, width)


# Packed event layout, low bits first: minutes since 2000-01-01 rounded up (25 bits, to 2063),
# the kind code (5 bits), the contact id (33 bits). One integer per row is what makes the read
# fast: building a comma-separated row of three values cost SQLite three times as much.
EPOCH_2000 = 946_684_800
MINUTE_BITS, KIND_BITS = 25, 5


def _bigint(column: str) -> str:
    return f"CAST({column} AS BIGINT)"


def _clamp(expression: str, low: int, high: int) -> str:
    if _vendor() == "pg":
        return f"LEAST(GREATEST({expression}, {low}), {high})"
    return f"MIN(MAX({expression}, {low}), {high})"


def _ids_condition(column: str, contact_ids: Sequence[int] | None) -> str:
    if contact_ids is None:
        return ""
    ids = [int(i) for i in contact_ids] or [-1]
    return f"{column} IN ({', '.join(str(i) for i in ids)})"


def _values(expression: str, source: str, params: list, *, key: str, where: str = "",
            chunk: int | None = CHUNK_ROWS, bounds: tuple[int, int] | None = None,
            parallel: bool = True) -> np.ndarray:
    parts = [part[:, 0] for part in _packed([expression], source, params, key=key, where=where, chunk=chunk,
                                            bounds=bounds, parallel=parallel)]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def _title_flag_table(rules: RulesDocument, where: str) -> bool:
    """Fill a temporary (title, flags) table with the distinct titles that match a keyword rule.

    Titles repeat ("Director of Marketing"), so they are matched once each, vectorised, and
    the contact query joins the small table of those that matched. Return whether any did.
    """
    keyword_rules = [r.keywords for r in rules.fit.title_keywords]
    if not keyword_rules:
        return False
    with connection.cursor() as cursor:
        condition = f" AND {where}" if where else ""
        cursor.execute(f"SELECT DISTINCT c.title FROM capture_contact c WHERE c.title <> ''{condition}")  # noqa: S608
        titles = [row[0] for row in cursor.fetchall()]
        flagged = [(title, flags) for title in titles if (flags := title_flags(title, keyword_rules))]
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS scoring_title_flags "
                       "(value TEXT PRIMARY KEY, flags BIGINT)")
        cursor.execute("DELETE FROM scoring_title_flags")
        if flagged:
            cursor.executemany("INSERT INTO scoring_title_flags (value, flags) VALUES (%s, %s)", flagged)
    return bool(flagged)


def _domain_flags_expression(rules: RulesDocument) -> tuple[str, str]:
    """Return (flags expression, any-match condition) testing each email-domain rule with LIKE.

    One pass of suffix patterns over the emails, instead of extracting every address's domain
    and joining a table of matched domains, which took SQLite twice as long. The patterns are
    written into the SQL: the rules schema allows only letters, digits, dots and hyphens in a
    domain, so no quote or LIKE wildcard can reach it, and the range reader's parameters stay
    in order.
    """
    like = "ILIKE" if _vendor() == "pg" else "LIKE"
    terms, any_match = [], []
    for j, rule in enumerate(rules.fit.email_domains):
        tests = []
        for domain_name in rule.domains:
            if not re.fullmatch(r"[a-z0-9.-]+", domain_name):
                raise ValueError(f"not a domain: {domain_name!r}")
            # %% is a literal % once the range parameters are bound.
            tests += [f"c.email {like} '%%@{domain_name}'", f"c.email {like} '%%.{domain_name}'"]
        test = " OR ".join(tests)
        terms.append(f"(CASE WHEN {test} THEN {1 << j} ELSE 0 END)")
        any_match.append(test)
    return " + ".join(terms), " OR ".join(any_match)


def _title_column(text: str, rows: int, keyword_rules: list[list[str]], known: dict[str, int]) -> np.ndarray | None:
    """Return the title-rule flags of a range's titles (one a line), or None when a title holds a line break.

    Each distinct title is matched once, remembered in `known` across ranges. Reading the
    titles in the contact walk replaced a second walk joining a table of matched titles
    (and a DISTINCT over every title to fill it): 1.0 s of CPU for a million contacts.
    """
    titles = text.split("\n")
    if len(titles) != rows:
        return None
    for title in set(titles).difference(known):
        known[title] = title_flags(title, keyword_rules) if title else 0
    return np.fromiter(map(known.__getitem__, titles), np.int64, rows)


def _title_pairs(rules: RulesDocument, where: str, bounds: tuple[int, int]) -> np.ndarray:
    """Return (contact id << 24) + flags of the contacts whose title matches a keyword rule."""
    if not _title_flag_table(rules, where):
        return np.zeros(0, np.int64)
    return _values(f"({_bigint('c.id')} * 16777216) + tf.flags",
                   "capture_contact c JOIN scoring_title_flags tf ON tf.value = c.title", [],
                   key="c.id", where=where, chunk=None if where else CHUNK_ROWS, bounds=bounds, parallel=False)


def _domain_pairs(rules: RulesDocument, where: str) -> np.ndarray:
    """Return (contact id << 24) + flags of the contacts matching an email-domain rule, tested in SQL.

    What the contact read falls back to when its list of emails does not line up with its
    rows (an email holding a line break).
    """
    flags, any_match = _domain_flags_expression(rules)
    return _values(f"({_bigint('c.id')} * 16777216) + {flags}", "capture_contact c", [], key="c.id",
                   where=f"({any_match}) AND {where}", chunk=None)


@dataclass
class ContactColumns:
    """What scoring reads of each contact, ordered by contact id: one read serves rules and model."""

    leads: LeadColumns
    score: np.ndarray  # the current score (ContactScore.total; 0 without a row)
    channel: np.ndarray  # lead-source code (CHANNELS), −1 when unknown
    segment: np.ndarray  # the account's segment code (b2b, b2c), −1 when none
    created_s: np.ndarray | None  # epoch seconds, when asked for


SEGMENTS = ("b2b", "b2c")
# Packed contact layout, low bits first: the current score (10 bits; 0 without a ContactScore
# row, and for every contact of a whole-base read, which reads scores on their own),
# lead-source channel, region and seniority codes + 1 (4 bits each), then the contact id from
# bit 26. An account: segment, region, size band and industry codes + 1 (4 bits each), then
# its id from bit 16.
CODE_BITS = 4
REGION_FROM_ACCOUNT = 15


def _current_scores() -> tuple[np.ndarray, np.ndarray]:
    """Return the ids (sorted) of every contact with a ContactScore row, and their current scores.

    Read on their own, like accounts, and joined in numpy: the table is two integers a row
    in contact id order, so its walk is short, and a join in SQL costs a search per contact.
    """
    values = _values(f"({_bigint('s.contact_id')} << 10) | {_clamp('s.total', 0, 1023)}",
                     "scoring_contactscore s", [], key="s.contact_id")
    values.sort()
    return values >> 10, values & 1023


def count_contacts_up_to(highest: int) -> int:
    """Count the contacts whose id is at most `highest`.

    As all contacts less those above: SQLite counts a whole table from its smallest index in
    a millisecond for a million rows, but walks every row to count under a condition, and
    the contacts above are the few created since.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT COUNT(*) FROM capture_contact) "
                       "- (SELECT COUNT(*) FROM capture_contact WHERE id > %s)", [highest])
        return int(cursor.fetchone()[0])


def contact_ids_up_to(highest: int) -> np.ndarray:
    """Return the ids of the contacts whose id is at most `highest`, sorted."""
    return np.sort(_values(_bigint("c.id"), "capture_contact c", [], key="c.id",
                           bounds=(0, highest), parallel=False))


def _account_codes(contact_where: str) -> tuple[np.ndarray, np.ndarray]:
    """Return account ids (sorted) and their packed codes, for every account or the named contacts'."""
    params: list = []
    packed = f"({_bigint('a.id')} << 16)"
    for position, (column, vocabulary) in enumerate((("a.industry", INDUSTRIES), ("a.size_band", SIZE_BANDS),
                                                     ("a.region", REGIONS), ("a.segment", SEGMENTS))):
        packed += f" | (({_code(column, vocabulary, params)} + 1) << {CODE_BITS * (3 - position)})"
    where = f"a.id IN (SELECT c.account_id FROM capture_contact c WHERE {contact_where})" if contact_where else ""  # noqa: S608
    values = _values(packed, "capture_account a", params, key="a.id", where=where,
                     chunk=None if contact_where else CHUNK_ROWS)
    values.sort()
    return values >> 16, values & 0xFFFF


def contact_columns(*, rules: RulesDocument, contact_ids: Sequence[int] | None = None,
                    created: bool = False, chunk: int = CHUNK_ROWS) -> ContactColumns:
    """Read every contact's (or the given ones') scoring columns, with creation times when `created`.

    One walk of the contact table returns, per range of ids, three lists built by the
    database: a packed integer per contact (id, category codes), its account id, and its
    email. Accounts and current scores are read on their own and joined in numpy:
    joining them in SQL cost SQLite a B-tree search per contact, more than the rest of the
    read. Email-domain rules are one regular expression over the emails, in C; the few
    matching emails are then checked rule by rule. Title rules are matched once per
    distinct title, read in the same walk (`_title_column`); a title holding a line break
    sends the read to a join of the matched titles instead (`_title_pairs`).
    """
    params: list = []
    # Built in the order the parameters appear in the SQL.
    seniority = _code("c.seniority", SENIORITIES, params)
    region = (f"(CASE COALESCE(c.region, '') WHEN '' THEN {REGION_FROM_ACCOUNT - 1} ELSE "
              f"{_code('c.region', REGIONS, params)} END)")
    channel = _code("c.lead_source", CHANNELS, params)
    packed = (f"({_bigint('c.id')} << 26) | (({seniority} + 1) << 18) | (({region} + 1) << 14)"
              f" | (({channel} + 1) << 10)")
    named = contact_ids is not None
    if named:
        # A few named contacts (a new lead) take their score in the same statement: a search
        # each is nothing next to the query a separate read of scores would add.
        packed += (f" | COALESCE((SELECT {_clamp('s.total', 0, 1023)} FROM scoring_contactscore s"  # noqa: S608
                   " WHERE s.contact_id = c.id), 0)")
    text = "::text" if _vendor() == "pg" else ""
    aggregates = [_aggregate(f"({packed}){text}"), _aggregate(f"COALESCE(c.account_id, 0){text}")]
    if created:
        aggregates.append(_aggregate(f"({_epoch('c.created_at')}){text}"))
    newline = "chr(10)" if _vendor() == "pg" else "char(10)"
    domain_rules = [r.domains for r in rules.fit.email_domains]
    if domain_rules:
        aggregates.append(_aggregate("COALESCE(c.email, '')", newline))
    emails = len(aggregates) - 1
    keyword_rules = [r.keywords for r in rules.fit.title_keywords]
    if keyword_rules:
        aggregates.append(_aggregate("COALESCE(c.title, '')", newline))
    titles_line_up, title_of = True, {}
    where = _ids_condition("c.id", contact_ids)
    parts: list[list[np.ndarray]] = [[] for _ in range(5)]
    for texts in _texts(aggregates, "capture_contact c", params, key="c.id", where=where,
                        chunk=None if contact_ids is not None else chunk):
        values = _numbers(texts[0])
        parts[0].append(values)
        parts[1].append(_numbers(texts[1]))
        if created:
            parts[2].append(_numbers(texts[2]))
        if keyword_rules and len(values) and titles_line_up:
            column = _title_column(texts[-1], len(values), keyword_rules, title_of)
            titles_line_up = column is not None
            parts[4].append(column)
        if domain_rules and len(values):
            if texts[emails].count("\n") + 1 == len(values):
                lines, flags = email_domain_flags(texts[emails].encode(), domain_rules)
            else:
                ids = values >> 26
                pairs = _domain_pairs(rules, " AND ".join(filter(None, (
                    where, f"c.id >= {int(ids.min())} AND c.id <= {int(ids.max())}"))))
                order = np.argsort(ids)
                lines, flags = order[np.searchsorted(ids[order], pairs >> 24)], pairs & 0xFFFFFF
            column = np.zeros(len(values), np.int64)
            column[lines] = flags
            parts[3].append(column)

    def joined(index: int) -> np.ndarray:
        return np.concatenate(parts[index]) if parts[index] else np.zeros(0, np.int64)

    values = joined(0)
    order = np.argsort(values, kind="stable")
    values = values[order]
    contact_id = values >> 26
    account_id = joined(1)[order]
    created_s = joined(2)[order] if created else None
    domain = joined(3)[order] if domain_rules else np.zeros(len(values), np.int64)
    account_ids, account_codes = _account_codes(where) if len(values) else (np.zeros(0, np.int64),) * 2
    account = _align(account_ids, account_codes, account_id, 0)

    def code(packed_values: np.ndarray, position: int) -> np.ndarray:
        return ((packed_values >> (CODE_BITS * position)) & 15) - 1

    contact_region = ((values >> 14) & 15) - 1
    region_codes = np.where(contact_region == REGION_FROM_ACCOUNT - 1, code(account, 1), contact_region)
    title = np.zeros(len(values), np.int64)
    if keyword_rules and len(values) and titles_line_up:
        title = joined(4)[order]
    elif keyword_rules and len(values):
        pairs = _title_pairs(rules, where, (int(contact_id[0]), int(contact_id[-1])))
        title[np.searchsorted(contact_id, pairs >> 24)] = pairs & 0xFFFFFF
    leads = LeadColumns(contact_id, code(account, 3), code(account, 2), region_codes,
                        ((values >> 18) & 15) - 1, title, domain)
    if named or not len(values):
        score = values & 1023
    else:
        scored_ids, scores = _current_scores()
        score = _align(scored_ids, scores, contact_id, 0)
    return ContactColumns(leads=leads, score=score,
                          channel=((values >> 10) & 15) - 1,
                          segment=code(account, 0), created_s=created_s)


def lead_columns(*, rules: RulesDocument, contact_ids: Sequence[int] | None = None,
                 chunk: int = CHUNK_ROWS) -> tuple[LeadColumns, np.ndarray]:
    """Return every contact's scoring columns, ordered by contact id, and its current score."""
    columns = contact_columns(rules=rules, contact_ids=contact_ids, chunk=chunk)
    return columns.leads, columns.score


def event_watermarks() -> tuple[int, int]:
    """Return the highest touchpoint and activity ids (0 when none): what a full read covers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT MAX(id) FROM capture_touchpoint), (SELECT MAX(id) FROM lifecycle_activity)")
        touch, activity = cursor.fetchone()
    return int(touch or 0), int(activity or 0)


def engagement_events(*, contact_ids: Sequence[int] | None = None, chunk: int = CHUNK_ROWS,
                      since: tuple[int, int] = (0, 0),
                      until: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return touchpoints and activities of known contacts as (contact id, kind code, epoch s).

    Every one, or those of the given contacts, or (reading the whole base) only those with
    ids after `since` and up to `until` (touchpoint id, activity id). Times are rounded up
    to the minute (the packed layout): an event can only look later than it was, so the
    as-of guard of training never lets a later event in.
    """
    out = []
    touch_kinds = [k for k in EVENT_KINDS if not k.startswith("activity:")]
    activity_kinds = [k.removeprefix("activity:") for k in EVENT_KINDS if k.startswith("activity:")]
    unknown = (1 << KIND_BITS) - 1
    if contact_ids is None:
        until = until or event_watermarks()
    for index, (table, kinds, offset) in enumerate((("capture_touchpoint", touch_kinds, 0),
                                                    ("lifecycle_activity", activity_kinds, len(touch_kinds)))):
        params: list = []
        kind = _code("t.kind", kinds, params).replace("ELSE -1", f"ELSE {unknown - offset}")
        minutes = _clamp(f"({_epoch('t.occurred_at')} - {EPOCH_2000} + 59) / 60", 0, (1 << MINUTE_BITS) - 1)
        packed = (f"({_bigint('t.contact_id')} << {MINUTE_BITS + KIND_BITS})"
                  f" | (({kind} + {offset}) << {MINUTE_BITS}) | {minutes}")
        where = "t.contact_id IS NOT NULL"
        if contact_ids is not None:
            where += " AND " + _ids_condition("t.contact_id", contact_ids)
            out.append(_values(packed, f"{table} t", params, key="t.id", where=where, chunk=None))
        elif until is not None and until[index] > since[index]:
            # Ranges of 250k ids, not the million they were: the last ranges of a whole-base
            # read run on one thread while the other idles, and read beside the contacts'
            # ranges, smaller ones keep both cores busy to the end (a first scoring of 1M
            # contacts and 3.5M touches read in 4.7-4.8 s instead of 5.4-5.5).
            out.append(_values(packed, f"{table} t", params, key="t.id", where=where, chunk=chunk,
                               bounds=(since[index] + 1, until[index])))
    values = np.concatenate(out) if out else np.zeros(0, np.int64)
    kind = (values >> MINUTE_BITS) & unknown
    values = values[kind != unknown]
    minute = values & ((1 << MINUTE_BITS) - 1)
    return values >> (MINUTE_BITS + KIND_BITS), (values >> MINUTE_BITS) & unknown, EPOCH_2000 + minute * 60


@dataclass
class Rollup:
    """The stored engagement rollup: weights per (contact, kind) as of `valued_s`, and future touches."""

    valued_s: int
    built_at: datetime
    half_life_days: float
    watermarks: tuple[int, int]
    contact: np.ndarray
    kind: np.ndarray
    weight: np.ndarray
    pending: tuple[np.ndarray, np.ndarray, np.ndarray]  # (contact, kind, epoch s) not yet happened
    # How many touches each weight stands for, and the latest one's age in days at `valued_s`;
    # None in a rollup stored before they were kept.
    count: np.ndarray | None = None
    latest_days: np.ndarray | None = None


def engagement_rollup() -> Rollup | None:
    """Read the stored rollup, or None when there is none (or a part is missing)."""
    parts = list(EngagementRollup.objects.all())
    if not parts or [p.part for p in parts] != list(range(len(parts))):
        return None
    arrays = [np.load(io.BytesIO(bytes(p.data))) for p in parts]
    first = parts[0]

    def joined(name: str) -> np.ndarray:
        return np.concatenate([a[name] for a in arrays])

    valued_s = int(first.valued_at.timestamp())
    counted = all("count" in a and "latest_s" in a for a in arrays)
    return Rollup(
        valued_s=valued_s, built_at=first.built_at, half_life_days=first.half_life_days,
        watermarks=(first.touchpoint_watermark, first.activity_watermark),
        contact=np.concatenate([unpacked_ids(a) for a in arrays]), kind=joined("kind"), weight=joined("weight"),
        pending=(joined("pending_contact"), joined("pending_kind"), joined("pending_s")),
        count=joined("count").astype(np.int64) if counted else None,
        latest_days=(valued_s - EPOCH_2000 - joined("latest_s").astype(np.int64)) / 86_400.0 if counted else None,
    )


def lifecycle_history(*, contact_ids: Sequence[int] | None = None) -> dict[str, np.ndarray]:
    """Return stage transitions (contact, stage code, epoch s) and feedback (contact, rejected, epoch s)."""
    stages = ("subscriber", "lead", "mql", "sal", "sql", "opportunity", "customer", "nurture", "disqualified")
    where_ids = ""
    if contact_ids is not None:
        ids = [int(i) for i in contact_ids] or [-1]
        where_ids = f"t.contact_id IN ({', '.join(str(i) for i in ids)})"
    params: list = []
    select = ["t.contact_id", _code("t.to_stage", stages, params), _epoch("t.occurred_at")]
    step = None if contact_ids is not None else CHUNK_ROWS * 4
    parts = list(_packed(select, "lifecycle_stagetransition t", params, key="t.id", where=where_ids,
                         chunk=step))
    transitions = np.concatenate(parts) if parts else np.zeros((0, 3), np.int64)
    params = []
    select = ["t.contact_id", "CASE WHEN t.decision = %s THEN 1 ELSE 0 END", _epoch("t.created_at")]
    params.append("reject")
    parts = list(_packed(select, "lifecycle_leadfeedback t", params, key="t.id", where=where_ids,
                         chunk=step))
    feedback = np.concatenate(parts) if parts else np.zeros((0, 3), np.int64)
    return {"stages": np.array(stages), "transitions": transitions, "feedback": feedback}


def deal_wins(*, contact_ids: Sequence[int] | None = None) -> np.ndarray:
    """Return (contact id, 1, close time in epoch s) for each won deal a contact is on.

    A deal is won when its status is won; its `closed_at` is when. The middle column keeps
    the (contact, flag, time) shape the other lifecycle readers share.
    """
    params: list = []
    where = "d.status = 'won' AND d.closed_at IS NOT NULL"
    if contact_ids is not None:
        where += " AND " + _ids_condition("dc.contact_id", contact_ids)
    parts = list(_packed(["dc.contact_id", "1", _epoch("d.closed_at")],
                         "deals_dealcontact dc JOIN deals_deal d ON d.id = dc.deal_id", params, key="dc.id",
                         where=where, chunk=None if contact_ids is not None else CHUNK_ROWS * 4))
    return np.concatenate(parts) if parts else np.zeros((0, 3), np.int64)


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def model_comparison(*, first: int, second: int) -> list[tuple[str, str, str]]:
    """Return (metric, value in `first`, value in `second`) rows of two model cards."""
    a, b = model_version(version=first), model_version(version=second)

    def show(version: PredictiveModelVersion, name: str) -> str:
        if version.unavailable_reason:
            return "unavailable"
        value = getattr(version, name)
        if name in {"lift_by_decile", "rules_lift_by_decile"}:
            return f"{value[0]:.2f}" if value else "—"
        if isinstance(value, float):
            return f"{value:.4f}"
        if isinstance(value, datetime):
            return f"{value:%Y-%m-%d}"
        return "—" if value is None else f"{value}"

    names = ("trained_at", "train_size", "eval_start", "eval_end", "eval_size", "positive_rate", "roc_auc",
             "pr_auc", "brier", "lift_by_decile", "rules_roc_auc", "rules_lift_by_decile", "is_active")
    labels = {"lift_by_decile": "top-decile lift", "rules_lift_by_decile": "rules top-decile lift"}
    return [(labels.get(n, n.replace("_", " ")), show(a, n), show(b, n)) for n in names]


NEVER = np.iinfo(np.int64).max


def _align(ids: np.ndarray, values: np.ndarray, target: np.ndarray, missing: int) -> np.ndarray:
    """Return `values` (keyed by sorted `ids`) for each of `target`'s ids, `missing` where absent.

    Reads made moments apart can disagree by a contact created in between.
    """
    where, found = locate(ids, target)
    return np.where(found, values[where], missing) if len(ids) else np.full(len(target), missing, np.int64)


def load_history(*, rules: RulesDocument, contact_ids: Sequence[int] | None = None,
                 columns: ContactColumns | None = None,
                 events: tuple[np.ndarray, ...] | None = None) -> predictive.History:
    """Read what features and labels need, for every contact or the given ones.

    A rescore passes the contact columns (read with `created=True`) and events it has
    already read, for the same contacts, so a million contacts are not read twice: (contact,
    kind, epoch s), or rolled-up ones with (…, count, latest epoch s).
    """
    if columns is None or columns.created_s is None:
        columns = contact_columns(rules=rules, contact_ids=contact_ids, created=True)
    leads = columns.leads
    contact, kind, occurred, *rolled_up = events if events is not None else engagement_events(contact_ids=contact_ids)
    row = np.searchsorted(leads.contact_id, contact)
    n = len(leads)
    life = lifecycle_history(contact_ids=contact_ids)
    stages = list(life["stages"])

    def first_time(pairs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        chosen = pairs[mask]
        earliest = group_min(np.searchsorted(leads.contact_id, chosen[:, 0]), chosen[:, 2].astype(float), n)
        out = np.full(n, NEVER, dtype=np.int64)
        seen = np.isfinite(earliest)
        out[seen] = earliest[seen].astype(np.int64)
        return out

    transitions, feedback = life["transitions"], life["feedback"]
    codes = transitions[:, 1]
    at_least = {name: np.isin(codes, [stages.index(s) for s in names])
                for name, names in (("mql", ("mql", "sal", "sql", "opportunity", "customer")),
                                    ("sal", ("sal", "sql", "opportunity", "customer")),
                                    ("sql", SQL_STAGES), ("opportunity", OPPORTUNITY_STAGES))}
    decisions = feedback[:, 1]
    wins = deal_wins(contact_ids=contact_ids)
    return predictive.History(
        leads=leads, created_s=columns.created_s, channel=columns.channel, segment=columns.segment,
        event_row=row, event_kind=kind, event_s=occurred,
        event_count=rolled_up[0] if rolled_up else None, event_latest_s=rolled_up[1] if rolled_up else None,
        first_mql_s=first_time(transitions, at_least["mql"]),
        first_sal_s=first_time(transitions, at_least["sal"]),
        first_sql_s=first_time(transitions, at_least["sql"]),
        first_accept_s=first_time(feedback, decisions == 0),
        first_reject_s=first_time(feedback, decisions == 1),
        first_opportunity_s=first_time(transitions, at_least["opportunity"]),
        first_won_s=first_time(wins, np.ones(len(wins), bool)),
    )


# -- explanations -------------------------------------------------------------------------

NO_MODEL = "predictive model unavailable: no model has been trained yet"


@dataclass(frozen=True)
class ModelStatus:
    """Whether a predictive model is in charge of probabilities, and if not, why."""

    version: int | None
    reason: str | None  # None when a model is in charge

    @property
    def in_charge(self) -> bool:
        return self.reason is None


def model_status() -> ModelStatus:
    """Say which model predicts, or why rule scores stand alone (too little history, none trained)."""
    versions = list(PredictiveModelVersion.objects.defer("artifact").order_by("-is_active", "-version")[:1])
    if versions and versions[0].is_active:
        return ModelStatus(versions[0].version, None)
    if versions and versions[0].unavailable_reason:
        return ModelStatus(None, versions[0].unavailable_reason)
    if versions:
        return ModelStatus(None, "predictive model unavailable: no model version is active")
    return ModelStatus(None, NO_MODEL)


@dataclass(frozen=True)
class Factor:
    """One reason a score is what it is, in a rep's words."""

    code: str  # rule factor ("seniority", "domain:0", "webinar_attend") or model feature group
    text: str  # the words alone: "VP", "Attended a webinar 3 days ago"
    label: str  # the words with the contribution: "VP (+12)", "Came in through webinar (+6 pts)"
    points: int  # rule points, or percentage points of probability for a model factor
    probability_delta: float | None = None  # model factors: the probability's change, e.g. 0.062


@dataclass(frozen=True)
class ScoreExplanation:
    """A contact's latest score, where it comes from, and why, ready for a page or a packet."""

    contact_id: int
    score: int  # the rule score, 0..100, as in ContactScore (routing and MQL use it)
    fit: int
    engagement: int
    source: str  # "model v3" or "rules v2": what the factors below explain
    source_kind: str  # "model" or "rules"
    rule_version: int | None
    model_version: int | None
    probability: float | None  # chance of reaching SQL within the model's horizon
    computed_at: datetime | None  # None: never scored, worded as of now
    summary: str  # who the person is: "VP at a 51–200 software company"
    up: tuple[Factor, ...]  # what pushes the source's score up, strongest first
    down: tuple[Factor, ...]  # what pulls it down, strongest first
    rule_up: tuple[Factor, ...]  # the rule score's own factors, whatever the source
    rule_down: tuple[Factor, ...]
    fallback: str | None  # why no model probability: "predictive model unavailable: only 37 …"


def _factor(item: dict) -> Factor:
    label = item["text"]
    text = label.rsplit(" (", 1)[0] if label.endswith(")") else label
    return Factor(item["factor"], text, label, int(item["points"]), item.get("delta"))


def _rule_words(*, contact_id: int, rule_version: int | None, as_of: datetime) -> dict | None:
    """Word a contact's rule score as of an instant, with the rules version it was made by."""
    chosen = (ScoringRuleSet.objects.filter(version=rule_version).first() if rule_version is not None
              else active_rule_set())
    rules = RulesDocument.model_validate(chosen.parsed) if chosen else parse_rules(
        DEFAULT_RULES.read_text(encoding="utf-8"))
    version = chosen.version if chosen else None
    leads, _ = lead_columns(rules=rules, contact_ids=[contact_id])
    if len(leads) == 0:
        return None
    events = events_for(leads.contact_id, engagement_events(contact_ids=[contact_id]), int(as_of.timestamp()))
    scores, subset = explain_rows(rules, leads, events, np.array([0]))
    words = json.loads(explanation_json(scores, subset, rule_version=version)[0])
    return {**words, "total": int(scores.total[0]), "fit": int(scores.fit[0]),
            "engagement": int(scores.engagement[0]), "rule_version": version}


def _model_words(*, contact_id: int, version: int, as_of: datetime) -> dict | None:
    """Predict and word a contact's probability with a stored model version, as of an instant."""
    model = PredictiveModelVersion.objects.filter(version=version, artifact__isnull=False).first()
    if model is None or model.unavailable_reason:
        return None
    rules = RulesDocument.model_validate(model.params["rules"])
    history = load_history(rules=rules, contact_ids=[contact_id])
    if len(history.leads) == 0:
        return None
    X, _ = predictive.features_as_of(history, np.array([0]), np.array([int(as_of.timestamp())]), rules)
    estimator = predictive.estimator_for(model)
    probability = predictive.predict(estimator, X)
    return predictive.explain(estimator, X, probability, baseline=np.array(model.params["baseline"], dtype=float),
                              names=model.features)[0]


def score_explanation(*, contact_id: int, visible_to=None) -> ScoreExplanation:
    """Explain a contact's latest score: its number, its source, its probability and its factors.

    The stored explanation is used when the score has one; a score from a bulk rescore
    (numbers only) or a contact never scored is worded now, with the same rules and model
    versions and as of the score's own instant. With `visible_to`, a contact outside the
    viewer's records raises Contact.DoesNotExist, as if it did not exist.
    """
    if visible_to is not None:
        contacts_visible_to(user=visible_to).only("pk").get(pk=contact_id)
    latest = latest_score(contact_id=contact_id)
    as_of = latest.computed_at if latest is not None else timezone.now()
    stored = latest.explanation if latest is not None else {}
    rules_part = stored if "up" in stored else _rule_words(
        contact_id=contact_id, rule_version=latest.rule_version if latest else None, as_of=as_of) or {}
    status = model_status()
    model_version = latest.model_version if latest is not None else status.version
    model_part = None
    if model_version is not None and (latest is None or latest.predicted_probability is not None):
        kept = stored.get("predictive")
        model_part = kept if isinstance(kept, dict) and "up" in kept else _model_words(
            contact_id=contact_id, version=model_version, as_of=as_of)
    rule_up = tuple(_factor(item) for item in rules_part.get("up", []))
    rule_down = tuple(_factor(item) for item in rules_part.get("down", []))
    rule_version = latest.rule_version if latest is not None else rules_part.get("rule_version")
    if model_part is not None:
        source, kind = f"model v{model_version}", "model"
        up = tuple(_factor(item) for item in model_part["up"])
        down = tuple(_factor(item) for item in model_part["down"])
        probability = latest.predicted_probability if latest is not None else model_part["probability"]
        fallback = None
    else:
        source, kind, up, down = f"rules v{rule_version}", "rules", rule_up, rule_down
        probability, model_version = None, None
        kept = stored.get("predictive")
        fallback = kept if isinstance(kept, str) else (status.reason or NO_MODEL)
    return ScoreExplanation(
        contact_id=contact_id,
        score=latest.total if latest is not None else rules_part.get("total", 0),
        fit=latest.fit if latest is not None else rules_part.get("fit", 0),
        engagement=latest.engagement if latest is not None else rules_part.get("engagement", 0),
        source=source, source_kind=kind, rule_version=rule_version, model_version=model_version,
        probability=probability, computed_at=latest.computed_at if latest is not None else None,
        summary=rules_part.get("summary", ""), up=up, down=down, rule_up=rule_up, rule_down=rule_down,
        fallback=fallback,
    )
