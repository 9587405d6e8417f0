"""Store a batch of touches in a constant number of queries, whatever the batch size.

Shared by the public form endpoint (a batch of one) and the event API (up to 1,000).
Every step works on the whole batch: one lookup of stored event ids, one of campaigns, one
of contacts (by email or external id), one of identity links; missing contacts and links
are bulk-inserted (ON CONFLICT DO NOTHING, then read back, so two concurrent batches
naming the same new person agree on one contact), stitched touchpoints are moved in one
UPDATE, and the touchpoints go in with one bulk INSERT. The caller holds the transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, NamedTuple

from django.db import connection, models
from django.db.models import Case, Min, Value, When

from accord.capture import ratelimit
from accord.capture.domain import infer_channel
from accord.capture.freemail import is_free_mail
from accord.capture.models import Account, Campaign, Consent, Contact, IdentityLink, Touchpoint
from accord.core.vocabulary import Channel


@dataclass(slots=True)
class Event:
    """One touch, already validated and normalised (email lower-case, texts stripped)."""

    kind: str
    occurred_at: dt.datetime
    email: str | None = None
    contact_external_id: str = ""
    anonymous_id: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    url: str = ""
    referrer: str = ""
    campaign_code: str = ""
    channel: str = ""
    event_id: str = ""
    # Set while the batch is stored: the campaign matched by code, or the source's default.
    campaign: Campaign | CampaignRef | None = None


class CampaignRef(NamedTuple):
    """What storing a touch needs of its campaign (a model instance costs more to build)."""

    pk: int
    channel: str


@dataclass(slots=True)
class Outcome:
    stored: int = 0
    duplicates: list[int] = field(default_factory=list)
    contacts_created: int = 0
    stitched: int = 0
    contact_ids: list[int | None] = field(default_factory=list)


def ingest(events: list[Event], *, default_campaign: Campaign | None = None,
           now: dt.datetime) -> Outcome:
    """Store the events as touchpoints, finding, creating and stitching contacts on the way."""
    return store(prepare(events, default_campaign=default_campaign, now=now))


@dataclass(slots=True)
class Plan:
    """What a batch's reads decided: the events to store, the people found and to create, the rows."""

    outcome: Outcome
    fresh: list[tuple[int, Event]]
    known: _Known
    new: dict[str, tuple[Event, dict[str, Any]]]
    rows: list[list[Any]]
    now: dt.datetime


def prepare(events: list[Event], *, default_campaign: Campaign | None = None, now: dt.datetime) -> Plan:
    """Read what storing the events needs and build their rows, writing nothing.

    Apart from store so that a caller can run it before taking the write lock (SQLite has one
    writer, and a batch's reads and row building were a third of its time holding it). What
    changes in between is caught by store: a person created meanwhile by the insert's
    conflict and read-back, an event id stored meanwhile by the unique index (an
    IntegrityError, on which the caller prepares and stores again).
    """
    outcome = Outcome(contact_ids=[None] * len(events))
    fresh = _drop_duplicates(events, outcome)
    batch = [event for _, event in fresh]
    campaigns = _campaigns(batch)
    for event in batch:
        code = (event.campaign_code or event.utm_campaign).lower()
        event.campaign = campaigns.get(code) or default_campaign
    known = _Known()
    _lookup(
        known,
        emails={event.email for event in batch if event.email},
        external_ids={event.contact_external_id for event in batch if event.contact_external_id},
    )
    moment = _moment_adapter()
    created = moment(now)
    rows = [
        list(_touch_row(event, contact_id=_contact_of(event, known), channel=_channel(event), created=created,
                        moment=moment))
        for _, event in fresh
    ]
    return Plan(outcome, fresh, known, _contacts_to_create(batch, known), rows, now)


def store(plan: Plan) -> Outcome:
    """Create the missing people, link and stitch visitor ids, and insert the touchpoints. The caller holds the transaction."""
    outcome, known = plan.outcome, plan.known
    if not plan.fresh:
        return outcome
    batch = [event for _, event in plan.fresh]
    _drop_deleted_campaigns(plan.rows, [values for _, values in plan.new.values()])
    _create_contacts(plan.new, known, outcome, now=plan.now)
    links = _links(batch, known, outcome, now=plan.now)
    for (index, event), row in zip(plan.fresh, plan.rows, strict=True):
        if row[0] is None:
            row[0] = _contact_of(event, known) or links.get(event.anonymous_id)
        outcome.contact_ids[index] = row[0]
    _insert_touchpoints(plan.rows)
    outcome.stored = len(plan.rows)
    return outcome


# One identified touch (the public form) -------------------------------------------------


def ingest_identified(
    event: Event,
    *,
    default_campaign: Campaign | None = None,
    title: str = "",
    now: dt.datetime,
) -> int:
    """Store one touch by a person who gave their email; return the contact's id.

    What `ingest` does for a batch, in the fewest statements for a batch of one: the
    campaign by code, one upsert that finds or creates the contact (filling an existing
    one's blank names, phone and title), one insert that links the visitor id if it is new, one
    UPDATE that stitches its earlier touches when it was, and the touchpoint. Each
    statement is written once here rather than built by the ORM per request: building
    them cost more CPU than running them. The caller holds the transaction.
    """
    assert event.email, "ingest_identified needs the person's email"
    with connection.cursor() as cursor:
        # Checked (and locked on PostgreSQL) before the contact names it as its first campaign
        # and before stitching locks any touch: the touchpoint's campaign has no foreign-key
        # constraint (see lock_campaigns). A code is matched under the caller's lock.
        event.campaign = _campaign_by_code(cursor, event)
        if event.campaign is None and default_campaign is not None and lock_campaigns([default_campaign.pk]):
            event.campaign = default_campaign
        channel = _channel(event)
        domain = event.email.rpartition("@")[2]
        contact_id = _upsert_contact(
            cursor,
            values={
                "email": event.email,
                "first_name": event.first_name[:100],
                "last_name": event.last_name[:100],
                "phone": event.phone[:40],
                "lead_source": channel,
                "title": title[:150],
                "original_campaign_id": event.campaign.pk if event.campaign else None,
            },
            domain="" if is_free_mail(domain) else domain,
            now=now,
        )
        if event.anonymous_id:
            _link_and_stitch(cursor, anonymous_id=event.anonymous_id, contact_id=contact_id,
                             seen_at=event.occurred_at, now=now)
    _insert_touchpoints([
        _touch_row(event, contact_id=contact_id, channel=channel,
                   created=connection.ops.adapt_datetimefield_value(now),
                   moment=connection.ops.adapt_datetimefield_value)
    ])
    return contact_id


def insert_row(model: type[models.Model], values: Mapping[str, Any], *, now: dt.datetime) -> None:
    """Insert one row of a plain model with one prepared statement; unnamed fields take their defaults."""
    insert_rows(model, [values], now=now)


def insert_rows(
    model: type[models.Model], rows: list[Mapping[str, Any]], *, now: dt.datetime, ignore_conflicts: bool = False
) -> None:
    """Insert rows naming the same fields with one prepared statement run for each (executemany).

    Unnamed fields take their defaults, auto_now fields `now`. With ignore_conflicts a row
    that breaks a unique constraint is skipped. What bulk_create does, without building a
    model instance and compiling every value of every row.
    """
    if not rows:
        return
    sql, fields = _insert(model, connection.vendor)
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    named = rows[0].keys()
    template = _params(fields, {}, now=now)
    slots = [(at, column) for at, column in enumerate(fields) if column.attname in named]
    # A callable default (a fresh key, say) is called for each row, as save() would.
    fresh = [
        (at, column)
        for at, column in enumerate(fields)
        if column.attname not in named and column.has_default() and callable(column.default)
    ]
    params = []
    for values in rows:
        row = list(template)
        for at, column in fresh:
            row[at] = column.get_db_prep_save(column.get_default(), connection)
        for at, column in slots:
            value = values[column.attname]
            # Text, numbers and NULL go to both drivers as they are; adapt the rest.
            row[at] = value if value is None or type(value) in (str, int) else column.get_db_prep_save(value, connection)
        params.append(row)
    _executemany(sql, params)


# The statements below are built once per process and database: quoting names and joining
# columns on every request cost more CPU than running the statements.


@cache
def _insert(model: type[models.Model], vendor: str) -> tuple[str, tuple[models.Field, ...]]:
    # Every concrete column, so a field added later with a default is filled as save() would.
    fields = tuple(column for column in model._meta.concrete_fields if not column.primary_key)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column.column) for column in fields)
    placeholders = ", ".join("%s" for _ in fields)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})", fields  # noqa: S608


def _params(fields: tuple[models.Field, ...], values: Mapping[str, Any], *, now: dt.datetime) -> list:
    params = []
    for column in fields:
        if column.attname in values:
            value = values[column.attname]
        elif getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False):
            value = now
        else:
            value = column.get_default()
        params.append(column.get_db_prep_save(value, connection))
    return params


@cache
def _campaign_sql(vendor: str) -> str:
    table = connection.ops.quote_name(Campaign._meta.db_table)
    # Spelled like the functional unique index (LOWER, non-empty), so it is used. Locked as
    # lock_campaigns locks (SQLite's write lock covers it there).
    lock = " FOR KEY SHARE" if vendor == "postgresql" else ""
    return f"SELECT id, channel FROM {table} WHERE LOWER(utm_campaign) = %s AND NOT (utm_campaign = ''){lock}"  # noqa: S608


def _campaign_by_code(cursor, event: Event) -> CampaignRef | None:
    code = (event.campaign_code or event.utm_campaign).lower()
    if not code:
        return None
    cursor.execute(_campaign_sql(connection.vendor), [code])
    row = cursor.fetchone()
    return CampaignRef(*row) if row else None


FILLED_BY_FORMS = ("first_name", "last_name", "phone", "title")


@cache
def _contact_sql(vendor: str) -> tuple[str, str, tuple[models.Field, ...], int]:
    quote = connection.ops.quote_name
    insert, fields = _insert(Contact, vendor)
    table = quote(Contact._meta.db_table)
    # A new contact joins the account with their email's domain; an existing one keeps theirs.
    at = [column.attname for column in fields].index("account_id")
    placeholders = ["%s"] * len(fields)
    placeholders[at] = (
        f"(SELECT id FROM {quote(Account._meta.db_table)} WHERE LOWER(domain) = %s AND NOT (domain = ''))"  # noqa: S608
    )
    head = insert.rsplit(" VALUES ", 1)[0]
    filled = [quote(name) for name in FILLED_BY_FORMS]
    sets = ", ".join(
        f"{column} = CASE WHEN {table}.{column} = '' THEN excluded.{column} ELSE {table}.{column} END"
        for column in filled
    )
    blanks = " OR ".join(f"({table}.{column} = '' AND excluded.{column} <> '')" for column in filled)
    # The target is the unique index on LOWER(email). The update runs only when a blank field
    # gets a value, so a returning visitor costs no row write (and no dead row on PostgreSQL);
    # then RETURNING is empty and the id is read.
    upsert = (
        f"{head} VALUES ({', '.join(placeholders)}) ON CONFLICT (LOWER(email)) DO UPDATE SET {sets}, "
        f"updated_at = excluded.updated_at WHERE {blanks} RETURNING id"
    )
    return upsert, f"SELECT id FROM {table} WHERE LOWER(email) = %s", fields, at  # noqa: S608


def _upsert_contact(cursor, *, values: Mapping[str, Any], domain: str, now: dt.datetime) -> int:
    upsert, select, fields, domain_at = _contact_sql(connection.vendor)
    params = _params(fields, values, now=now)
    params[domain_at] = domain  # the account subquery's parameter; "" matches no account
    cursor.execute(upsert, params)
    row = cursor.fetchone()
    if row is None:
        cursor.execute(select, [values["email"]])
        row = cursor.fetchone()
    return row[0]


@cache
def _link_sql(vendor: str) -> tuple[str, str]:
    """Return the statements linking a visitor id and stitching its touches (one, on PostgreSQL)."""
    quote = connection.ops.quote_name
    links, touches = quote(IdentityLink._meta.db_table), quote(Touchpoint._meta.db_table)
    # The first identification wins (ON CONFLICT DO NOTHING). First seen: the earliest
    # anonymous touch with this id, or this one. The WHERE repeats the partial index's condition.
    link = (
        f"INSERT INTO {links} (anonymous_id, contact_id, first_seen_at, linked_at) "  # noqa: S608
        "SELECT %s, %s, CASE WHEN MIN(occurred_at) < %s THEN MIN(occurred_at) ELSE %s END, %s "
        f"FROM {touches} WHERE anonymous_id = %s AND NOT (anonymous_id = '') AND contact_id IS NULL "
        "ON CONFLICT (anonymous_id) DO NOTHING"
    )
    if vendor == "postgresql":
        # One round trip: the stitch runs only when the CTE linked the id (RETURNING a row).
        # Its UPDATE reads the touches as they were before the statement, which is what it
        # needs: the touch being stored is inserted after.
        return (
            f"WITH link AS ({link} RETURNING contact_id) UPDATE {touches} SET contact_id = link.contact_id "  # noqa: S608
            f"FROM link WHERE {touches}.anonymous_id = %s AND NOT ({touches}.anonymous_id = '') "
            f"AND {touches}.contact_id IS NULL"
        ), ""
    stitch = (
        f"UPDATE {touches} SET contact_id = %s "  # noqa: S608
        "WHERE anonymous_id = %s AND NOT (anonymous_id = '') AND contact_id IS NULL"
    )
    return link + " RETURNING id", stitch


def _link_and_stitch(cursor, *, anonymous_id: str, contact_id: int, seen_at: dt.datetime,
                     now: dt.datetime) -> int:
    """Link a visitor id not yet linked to the contact and attach its anonymous touches."""
    link, stitch = _link_sql(connection.vendor)
    ops = connection.ops
    seen, linked = ops.adapt_datetimefield_value(seen_at), ops.adapt_datetimefield_value(now)
    if not stitch:
        cursor.execute(link, [anonymous_id, contact_id, seen, seen, linked, anonymous_id, anonymous_id])
        return cursor.rowcount
    cursor.execute(link, [anonymous_id, contact_id, seen, seen, linked, anonymous_id])
    if cursor.fetchone() is None:
        return 0
    cursor.execute(stitch, [contact_id, anonymous_id])
    return cursor.rowcount


# One form post on PostgreSQL, in one statement -------------------------------------------


def count_and_ingest_identified(
    event: Event,
    *,
    rate_limits: dict[str, int],
    window: int,
    default_campaign: Campaign | None = None,
    title: str = "",
    consent: Mapping[str, Any] | None = None,
    now: dt.datetime,
) -> tuple[dict[str, int], int | None]:
    """Count a form post against its rate limits and, if none refuses it, store it: one statement.

    PostgreSQL only. Return (bucket → count this window, the contact's id). The id is None when
    a limit refused the post (then only the counts are written), and also, rarely, when the
    person was created by a post committed while this statement ran, which its snapshot cannot
    see: nothing but the counts is written then either, and the caller stores the post again.

    What the rate-limit hit and ingest_identified do in eight round trips (health check apart),
    in one: the counts, the campaign by code (else the source's default), the contact upsert,
    the visitor link and stitching, the touchpoint and the consent are CTEs of one statement,
    each insert gated on the limits and on the contact's id. Alone it is its own transaction,
    so no BEGIN or COMMIT travels either. `consent` holds the Consent row's values but its
    contact, or None to store none.
    """
    assert event.email, "count_and_ingest_identified needs the person's email"
    statement = _form_post_statement(len(rate_limits))
    campaign_decides, fallback_channel = _channel_rule(event.utm_medium, event.utm_source, event.referrer)
    domain = event.email.rpartition("@")[2]
    values: dict[str, Any] = {
        **statement.constants,
        **ratelimit.shard_params(rate_limits, window),
        **{f"limit_{n}": limit for n, limit in enumerate(rate_limits.values())},
        "code": (event.campaign_code or event.utm_campaign).lower(),
        "default_campaign": default_campaign.pk if default_campaign else None,
        "default_channel": default_campaign.channel if default_campaign else "",
        "campaign_decides": campaign_decides,
        "fallback_channel": fallback_channel,
        "domain": "" if is_free_mail(domain) else domain,
        "anonymous_id": event.anonymous_id,
        "seen_at": event.occurred_at,
        "now": now,
        "with_consent": consent is not None,
        "c_email": event.email,
        "c_first_name": event.first_name[:100],
        "c_last_name": event.last_name[:100],
        "c_phone": event.phone[:40],
        "c_title": title[:150],
    }
    for name, column in statement.fresh:
        values[name] = column.get_db_prep_save(column.get_default(), connection)
    touch = _touch_row(event, contact_id=None, channel="", created=now, moment=lambda value: value)
    values.update(zip(_TOUCH_PARAMS, touch, strict=True))
    # Without consent to store the consent insert selects no row, but its parameters still go.
    for name in _CONSENT_GIVEN:
        values[f"k_{name}"] = consent[name] if consent is not None else None
    params = [values[name] for name in statement.names]
    with _logged(statement.sql, many=False), _raw_cursor() as cursor:
        # Prepared on a connection's first post: PostgreSQL parses and plans it once, and the
        # driver sends the values without reading the statement (RawCursor: $n placeholders).
        cursor.execute(statement.sql, params, prepare=True)
        buckets, totals, contact_id = cursor.fetchone()
    return dict(zip(buckets, totals, strict=True)), contact_id


@lru_cache(maxsize=4096)
def _channel_rule(utm_medium: str, utm_source: str, referrer: str) -> tuple[bool, str]:
    """Return (whether the campaign's channel decides, the channel otherwise).

    infer_channel takes the campaign's channel only when utm_medium did not decide, so two
    different campaign channels giving one answer means the medium decided it.
    """
    first = infer_channel(utm_medium=utm_medium, utm_source=utm_source, referrer=referrer,
                          campaign_channel=Channel.WEBINAR)
    second = infer_channel(utm_medium=utm_medium, utm_source=utm_source, referrer=referrer,
                           campaign_channel=Channel.PARTNER)
    if first == second:
        return False, str(first)
    return True, str(infer_channel(utm_medium=utm_medium, utm_source=utm_source, referrer=referrer,
                                   campaign_channel=""))


@contextlib.contextmanager
def _raw_cursor():
    import psycopg

    # What connection.cursor() does first: a connection kept from an earlier request is
    # checked (CONN_HEALTH_CHECKS) before this request relies on it.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with psycopg.RawCursor(connection.connection) as cursor:
        yield cursor


_CONSENT_GIVEN = frozenset({"source_id", "text", "granted", "at", "ip_hash", "user_agent"})


class _Statement(NamedTuple):
    sql: str  # with $1 … $n
    names: tuple[str, ...]  # the parameter named by each $n
    constants: dict[str, Any]  # values of fields the post leaves at their (fixed) defaults
    fresh: tuple[tuple[str, models.Field], ...]  # fields whose default is computed per row


@cache
def _form_post_statement(buckets: int) -> _Statement:
    """Build the form post's statement once per process.

    Written with named placeholders, numbered once here: psycopg parses a statement this long
    on every execution otherwise (it caches only short ones). Every parameter is cast to its
    column's type: in INSERT … SELECT, PostgreSQL does not take the types from the target
    columns as it does for VALUES.
    """
    quote = connection.ops.quote_name
    table = _tables()
    constants: dict[str, Any] = {}
    fresh: list[tuple[str, models.Field]] = []

    def value_of(prefix: str, column: models.Field, given: frozenset[str]) -> str:
        name = f"{prefix}_{column.attname}"
        if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False):
            name = "now"
        elif column.attname not in given:
            if callable(column.default):
                fresh.append((name, column))
            else:
                constants[name] = column.get_db_prep_save(column.get_default(), connection)
        return f"%({name})s::{column.cast_db_type(connection)}"

    contact_insert, contact_fields = _insert(Contact, "postgresql")
    special = {
        "account_id": (
            f"(SELECT id FROM {table['Account']} WHERE LOWER(domain) = %(domain)s::text AND NOT (domain = ''))"  # noqa: S608
        ),
        "original_campaign_id": "(SELECT id FROM campaign)",
        "lead_source": "(SELECT channel FROM campaign)",
    }
    given = frozenset({"email", *FILLED_BY_FORMS})
    contact_values = ", ".join(
        special.get(column.attname) or value_of("c", column, given) for column in contact_fields
    )
    contact_table = table["Contact"]
    filled = [quote(name) for name in FILLED_BY_FORMS]
    sets = ", ".join(
        f"{column} = CASE WHEN {contact_table}.{column} = '' THEN excluded.{column} ELSE {contact_table}.{column} END"
        for column in filled
    )
    blanks = " OR ".join(f"({contact_table}.{column} = '' AND excluded.{column} <> '')" for column in filled)

    touch_fields = {column.column: column for column in Touchpoint._meta.concrete_fields}
    touch_special = {"contact_id": "person.id", "campaign_id": "(SELECT id FROM campaign)",
                     "channel": "(SELECT channel FROM campaign)"}
    touch_values = ", ".join(
        touch_special.get(name) or f"%(t_{name})s::{touch_fields[name].cast_db_type(connection)}"
        for name in _TOUCH_COLUMNS
    )
    consent_insert, consent_fields = _insert(Consent, "postgresql")
    consent_values = ", ".join(
        "person.id" if column.attname == "contact_id" else value_of("k", column, _CONSENT_GIVEN)
        for column in consent_fields
    )
    touches = table["Touchpoint"]
    limits = " OR ".join(
        f"(bucket = split_part(%(rl_bucket_{n})s::text, '#', 1) AND total > %(limit_{n})s::bigint)"
        for n in range(buckets)
    )
    # Each step is a CTE; PostgreSQL runs every data-modifying one exactly once, all on the
    # statement's snapshot, so each insert is gated by selecting from what it depends on:
    # `allowed` (no limit refuses) and `person` (the contact's id). Only quoted names, the
    # statements built above and placeholders are formatted in; every value is a parameter.
    sql = (
        f"WITH {ratelimit.shard_ctes(buckets)}, "  # noqa: S608
        f"allowed AS (SELECT 1 AS yes WHERE NOT EXISTS (SELECT 1 FROM counts WHERE {limits})), "
        # The campaign named by code, else the source's default; its channel as infer_channel
        # would give it: the medium's when it decides, else the campaign's, else the fallback.
        # Both locked FOR KEY SHARE: the touchpoint's campaign has no foreign-key constraint
        # (see lock_campaigns); one deleted meanwhile is read as none.
        f"matched AS (SELECT id, channel FROM {table['Campaign']} "
        "WHERE LOWER(utm_campaign) = %(code)s::text AND NOT (utm_campaign = '') LIMIT 1 FOR KEY SHARE), "
        f"fallback AS (SELECT id FROM {table['Campaign']} WHERE id = %(default_campaign)s::bigint FOR KEY SHARE), "
        "campaign AS (SELECT COALESCE((SELECT id FROM matched), (SELECT id FROM fallback)) AS id, "
        "CASE WHEN %(campaign_decides)s::boolean THEN COALESCE(NULLIF(COALESCE((SELECT channel FROM matched), "
        "%(default_channel)s::text), ''), %(fallback_channel)s::text) ELSE %(fallback_channel)s::text END AS channel), "
        f"upserted AS ({contact_insert.rsplit(' VALUES ', 1)[0]} SELECT {contact_values} FROM allowed "
        f"ON CONFLICT (LOWER(email)) DO UPDATE SET {sets}, updated_at = excluded.updated_at "
        f"WHERE {blanks} RETURNING id), "
        # A returning visitor's row is not updated, so it is read; a person created by a post
        # committed after this statement's snapshot is neither, and `person` is then empty.
        f"person AS (SELECT id FROM upserted UNION ALL SELECT id FROM {contact_table} "
        "WHERE LOWER(email) = %(c_email)s::text AND EXISTS (SELECT 1 FROM allowed) "
        "AND NOT EXISTS (SELECT 1 FROM upserted)), "
        # The first identification wins; first seen is the earliest anonymous touch or this one.
        f"linked AS (INSERT INTO {table['IdentityLink']} (anonymous_id, contact_id, first_seen_at, linked_at) "
        f"SELECT %(anonymous_id)s::text, person.id, LEAST((SELECT MIN(occurred_at) FROM {touches} "
        "WHERE anonymous_id = %(anonymous_id)s::text AND NOT (anonymous_id = '') AND contact_id IS NULL), "
        "%(seen_at)s::timestamptz), %(now)s::timestamptz FROM person WHERE NOT (%(anonymous_id)s::text = '') "
        "ON CONFLICT (anonymous_id) DO NOTHING RETURNING contact_id), "
        # Reads the touches as they were before the statement: the one stored below is not among them.
        f"stitched AS (UPDATE {touches} SET contact_id = linked.contact_id FROM linked "
        f"WHERE {touches}.anonymous_id = %(anonymous_id)s::text AND NOT ({touches}.anonymous_id = '') "
        f"AND {touches}.contact_id IS NULL RETURNING 1), "
        f"touched AS ({_touch_insert('postgresql').rsplit(' VALUES ', 1)[0]} SELECT {touch_values} FROM person RETURNING 1), "
        f"consented AS ({consent_insert.rsplit(' VALUES ', 1)[0]} SELECT {consent_values} FROM person "
        "WHERE %(with_consent)s::boolean RETURNING 1) "
        "SELECT (SELECT array_agg(bucket) FROM counts), (SELECT array_agg(total::bigint) FROM counts), "
        "(SELECT id FROM person)"
    )
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return _Statement(re.sub(r"%\((\w+)\)s", number, sql), tuple(names), constants, tuple(fresh))


# Shared ---------------------------------------------------------------------------------

_TOUCH_COLUMNS = (
    "contact_id", "anonymous_id", "campaign_id", "channel", "kind", "occurred_at", "utm_source",
    "utm_medium", "utm_campaign", "utm_term", "utm_content", "url", "referrer", "external_id",
    "created_at",
)
_CAMPAIGN = _TOUCH_COLUMNS.index("campaign_id")
_TOUCH_PARAMS = tuple(f"t_{name}" for name in _TOUCH_COLUMNS)  # the form post statement's names


def _moment_adapter() -> Callable[[dt.datetime], Any]:
    """Return what turns an aware datetime into the database's value, fast for SQLite.

    Django's SQLite backend stores an aware datetime as the naive text of it in the
    connection's time zone; its general adapter, with its checks, was a fifth of the Python
    work of a 1,000-event batch. Other databases take the datetime as it is.
    """
    if connection.vendor != "sqlite":
        return connection.ops.adapt_datetimefield_value
    zone = connection.timezone
    # A batch repeats its times (integrations stamp to the second): each is turned to text once.
    texts: dict[dt.datetime, str] = {}

    def adapt(value: dt.datetime) -> str:
        text = texts.get(value)
        if text is None:
            naive = value if value.tzinfo is None else value.astimezone(zone).replace(tzinfo=None)
            text = texts[value] = str(naive)
        return text

    return adapt


def _touch_row(
    event: Event, *, contact_id: int | None, channel: str, created: Any, moment: Callable[[dt.datetime], Any]
) -> tuple:
    """Return a touchpoint's values in _TOUCH_COLUMNS order, adapted for the database."""
    return (
        contact_id, event.anonymous_id, event.campaign.pk if event.campaign else None, channel, event.kind,
        moment(event.occurred_at), event.utm_source, event.utm_medium,
        event.utm_campaign or event.campaign_code, event.utm_term, event.utm_content, event.url,
        event.referrer, event.event_id, created,
    )


@cache
def _touch_insert(vendor: str) -> str:
    ops = connection.ops
    columns = ", ".join(ops.quote_name(column) for column in _TOUCH_COLUMNS)
    placeholders = ", ".join(["%s"] * len(_TOUCH_COLUMNS))
    return f"INSERT INTO {ops.quote_name(Touchpoint._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608


def _insert_touchpoints(rows: list[tuple] | list[list]) -> None:
    """Insert the rows: COPY on PostgreSQL, one prepared statement run for every row elsewhere.

    Django's bulk_create spent two thirds of a 1,000-event batch building the SQL and model
    instances in Python; the rows here are plain values already validated, their campaigns
    checked (lock_campaigns), so the driver takes them directly.
    """
    if connection.vendor != "postgresql" or len(rows) == 1:
        # One row (a form post): an INSERT is one round trip, COPY two.
        _executemany(_touch_insert(connection.vendor), rows)
        return
    # COPY, its text built here a column at a time and sent in one write: psycopg's write_row
    # cost 12 µs a row (12 ms of a batch's CPU), joining the columns 1.
    sql = _touch_copy()
    with _logged(sql, many=True), connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.write(copy_text(rows))


def _drop_deleted_campaigns(rows: list[list], contacts: list[dict[str, Any]]) -> None:
    """Clear the campaign of touch rows (and new contacts' first campaign) that is gone.

    lock_campaigns keeps the rest from going until commit. The batch was read before its
    transaction began (prepare), so a campaign may have been deleted in between.
    """
    wanted = {row[_CAMPAIGN] for row in rows} | {values["original_campaign_id"] for values in contacts}
    wanted.discard(None)
    if not wanted:
        return
    gone = wanted - lock_campaigns(wanted)
    if gone:
        for row in rows:
            if row[_CAMPAIGN] in gone:
                row[_CAMPAIGN] = None
        for values in contacts:
            if values["original_campaign_id"] in gone:
                values["original_campaign_id"] = None


def lock_campaigns(ids: Collection[int]) -> set[int]:
    """Return those of the campaigns that exist, kept from being deleted until the caller commits.

    Touchpoint.campaign has no foreign-key constraint (see the model): this is its check, one
    statement for a batch's few campaigns where the constraint ran a query per row at commit.
    A writer of touches leaves out a campaign deleted since it read it, as the deletion would
    have (SET_NULL). On PostgreSQL the rows are locked FOR KEY SHARE, which a deletion's
    FOR UPDATE (capture.services.delete_campaigns) waits for, so a deletion that starts now
    clears these touches too once they commit; on SQLite the caller's write lock does that.
    """
    if not ids:
        return set()
    # Outside a transaction the lock would end with the statement (and SQLite's write lock
    # would not be held at all).
    assert connection.in_atomic_block, "lock_campaigns needs the caller's transaction"
    if connection.vendor != "postgresql":
        return {pk for (pk,) in _rows_in("SELECT id FROM {table[Campaign]} WHERE id {in_}", set(ids))}
    with connection.cursor() as cursor:
        # In id order, as delete_campaigns locks them: two lockers of the same campaigns
        # cannot wait on each other.
        cursor.execute(
            f"SELECT id FROM {_tables()['Campaign']} WHERE id = ANY(%s::bigint[]) ORDER BY id FOR KEY SHARE",  # noqa: S608
            ["{" + ",".join(map(str, ids)) + "}"],
        )
        return {pk for (pk,) in cursor.fetchall()}


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(rows: list[tuple] | list[list]) -> str:
    """Return the rows in COPY's text format: tab between values, a line each, NULL as \\N.

    Built a column at a time: a text column is escaped only when it holds a backslash, tab or
    line break (one search of the joined column tells), and any other column's values (ids,
    times, NULL) are turned to text once per distinct value.
    """
    columns = []
    for values in zip(*rows, strict=True):
        try:
            joined = "".join(values)  # fails on the first value that is not text
        except TypeError:
            texts = {value: _copy_value(value) for value in set(values)}
            columns.append(list(map(texts.__getitem__, values)))
            continue
        if _COPY_SPECIAL.search(joined):
            values = [value.translate(_COPY_ESCAPES) for value in values]
        columns.append(values)
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _copy_value(value: Any) -> str:
    if type(value) is int:
        return str(value)
    if value is None:
        return "\\N"
    if type(value) is str:
        return value.translate(_COPY_ESCAPES)
    if type(value) is bool:
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        # ISO 8601 with its offset: PostgreSQL reads it as the same instant in any time zone.
        assert value.tzinfo is not None, "COPY takes aware datetimes only"
        return value.isoformat()
    return str(value)


@cache
def _touch_copy() -> str:
    ops = connection.ops
    columns = ", ".join(ops.quote_name(column) for column in _TOUCH_COLUMNS)
    return f"COPY {ops.quote_name(Touchpoint._meta.db_table)} ({columns}) FROM STDIN"


def _executemany(sql: str, rows: list) -> None:
    """Run one statement for every row, prepared once.

    On PostgreSQL through a server-side-binding cursor: Django's default client-side binding
    quotes every value into the SQL text in Python, which cost more than the inserts.
    """
    if connection.vendor != "postgresql" or len(rows) == 1:
        with connection.cursor() as cursor:
            if len(rows) == 1:
                cursor.execute(sql, rows[0])
            elif connection.vendor == "sqlite":
                _executemany_in_chunks(cursor, sql, rows)
            else:
                cursor.executemany(sql, rows)
        return
    import psycopg

    connection.ensure_connection()
    with _logged(sql, many=True), psycopg.Cursor(connection.connection) as cursor:
        # In chunks too: run a row at a time, 1,000 new contacts cost the server 230 ms.
        _executemany_in_chunks(cursor, sql, rows)


# Rows a multi-row INSERT carries on SQLite: 100 rows of 15 values stay far below its limit of
# 32,766 parameters, and larger chunks measured no faster.
CHUNK_ROWS = 100


def _executemany_in_chunks(cursor, sql: str, rows: list) -> None:
    """Insert the rows CHUNK_ROWS at a time with one multi-row INSERT, the rest one by one.

    SQLite: binding and stepping a statement per row cost 6.4 ms for 1,000 touchpoints, one
    statement per hundred rows 4.1 ms (the same rows, the same indexes; measured in memory).
    PostgreSQL: each statement is a round of parse, bind and execute in the server.
    """
    whole = len(rows) - len(rows) % CHUNK_ROWS
    if whole:
        cursor.executemany(
            _multi_row(sql, CHUNK_ROWS),
            [[value for row in rows[at : at + CHUNK_ROWS] for value in row] for at in range(0, whole, CHUNK_ROWS)],
        )
    if whole < len(rows):
        cursor.executemany(sql, rows[whole:])


@cache
def _multi_row(sql: str, count: int) -> str:
    """Return the one-row INSERT `sql` (`… VALUES (%s, …) [suffix]`) inserting `count` rows."""
    head, _, tail = sql.partition(" VALUES (")
    placeholders, _, suffix = tail.partition(")")
    return f"{head} VALUES {', '.join([f'({placeholders})'] * count)}{suffix}"


@contextlib.contextmanager
def _logged(sql: str, *, many: bool):
    """Run a statement issued on the driver's own cursor as Django runs its own.

    Errors become Django's (an IntegrityError the event API retries on), and the statement is
    logged where Django logs queries (query-count tests, the debug toolbar).
    """
    connection.ensure_connection()
    started = time.monotonic()
    with connection.wrap_database_errors:
        yield
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": f"(many) {sql}" if many else sql, "time": f"{time.monotonic() - started:.3f}"}
        )


def _rows_in(sql: str, values: set[str] | set[int]) -> list[tuple]:
    """Run a SELECT whose `{in}` is followed by a set of values, and return its rows.

    Written out rather than built by the ORM: compiling `__in` lookups of a thousand values
    cost more CPU than running them. The conditions each query repeats (`NOT (col = '')`)
    are spelled like the partial indexes' own, so the planner uses those indexes.
    """
    if not values:
        return []
    if connection.vendor == "postgresql":
        clause, params = "= ANY(%s::text[])", [text_array(values)]
    else:
        clause, params = f"IN ({', '.join(['%s'] * len(values))})", list(values)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=_tables(), in_=clause), params)
        return cursor.fetchall()


@cache
def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        model.__name__: quote(model._meta.db_table)
        for model in (Account, Campaign, Contact, IdentityLink, Touchpoint)
    }


def _drop_duplicates(events: list[Event], outcome: Outcome) -> list[tuple[int, Event]]:
    ids = {event.event_id for event in events if event.event_id}
    stored = _stored_event_ids(ids)
    fresh = []
    for index, event in enumerate(events):
        if event.event_id:
            if event.event_id in stored:
                outcome.duplicates.append(index)
                continue
            stored.add(event.event_id)
        fresh.append((index, event))
    return fresh


def _stored_event_ids(ids: set[str]) -> set[str]:
    """Return those of the event ids that are stored already.

    On PostgreSQL one probe of the unique index per id, forced as for contacts' emails: until
    the table's statistics catch up with its growth (a new install's first minute of events,
    a table just loaded), the planner read `external_id = ANY(…)` as a scan of every
    touchpoint, and each batch of a first 100,000 events took longer than the last (4 → 45 ms).
    """
    if not ids:
        return set()
    if connection.vendor != "postgresql":
        rows = _rows_in(
            "SELECT external_id FROM {table[Touchpoint]} WHERE NOT (external_id = '') AND external_id {in_}", ids
        )
        return {external_id for (external_id,) in rows}
    rows = _probe_each("external_id", "Touchpoint", "external_id = wanted.value AND NOT (external_id = '')", ids)
    return {external_id for (external_id,) in rows}


def _campaigns(events: list[Event]) -> dict[str, CampaignRef]:
    codes = {(event.campaign_code or event.utm_campaign).lower() for event in events}
    codes.discard("")
    rows = _rows_in(
        "SELECT id, channel, utm_campaign FROM {table[Campaign]} "
        "WHERE NOT (utm_campaign = '') AND LOWER(utm_campaign) {in_}",
        codes,
    )
    return {code.lower(): CampaignRef(pk, channel) for pk, channel, code in rows}


def _channel(event: Event) -> str:
    if event.channel:
        return event.channel
    return _inferred_channel(event.utm_medium, event.utm_source, event.referrer,
                             event.campaign.channel if event.campaign else "")


# A batch repeats a handful of sources, media and referrers; infer_channel is pure.
@lru_cache(maxsize=4096)
def _inferred_channel(utm_medium: str, utm_source: str, referrer: str, campaign_channel: str) -> str:
    return infer_channel(utm_medium=utm_medium, utm_source=utm_source, referrer=referrer,
                         campaign_channel=campaign_channel)


@dataclass(slots=True)
class _Known:
    by_email: dict[str, int] = field(default_factory=dict)
    by_external_id: dict[str, int] = field(default_factory=dict)


def _contact_of(event: Event, known: _Known) -> int | None:
    if event.email and event.email in known.by_email:
        return known.by_email[event.email]
    if event.contact_external_id:
        return known.by_external_id.get(event.contact_external_id)
    return None


def _lookup(known: _Known, *, emails: set[str], external_ids: set[str]) -> None:
    # Two queries, not one with OR: each then uses its own index (the external id's is
    # partial, and the planner needs the index's condition spelled out to pick it).
    if connection.vendor == "postgresql" and emails:
        rows = _contacts_by_email_pg(emails)
    else:
        rows = _rows_in("SELECT id, email, external_id FROM {table[Contact]} WHERE LOWER(email) {in_}", emails)
    rows += _rows_in(
        "SELECT id, email, external_id FROM {table[Contact]} WHERE NOT (external_id = '') AND external_id {in_}",
        external_ids,
    )
    for pk, email, external_id in rows:
        if email:
            known.by_email[email.lower()] = pk
        if external_id:
            known.by_external_id[external_id] = pk


def _contacts_by_email_pg(emails: set[str]) -> list[tuple]:
    """Return (id, email, external_id) of the contacts with these (lower-case) emails: PostgreSQL.

    One index probe per email, forced: for `LOWER(email) = ANY(…)` of a thousand emails the
    planner chose a scan of every contact, computing LOWER of each (29–58 ms at 38,500
    contacts, against 6 ms of probes). LIMIT 1 (the index is unique) keeps the lateral
    subquery from being flattened into that same join.
    """
    return _probe_each("id, email, external_id", "Contact", "LOWER(email) = wanted.value", emails)


def _probe_each(columns: str, model: str, match: str, values: Collection[str]) -> list[tuple]:
    """Return the columns of the row `match` finds for each value: one unique-index probe each.

    PostgreSQL only. `match` compares the model's indexed expression with `wanted.value`; LIMIT 1
    (the index is unique) keeps the lateral subquery from being flattened into a join, which the
    planner may then turn into a scan of the table.
    """
    sql = (
        f"SELECT found.* FROM unnest(%s::text[]) AS wanted(value) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT {columns} FROM {_tables()[model]} WHERE {match} LIMIT 1) AS found"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [text_array(values)])
        return cursor.fetchall()


def text_array(values: Collection[str]) -> str:
    """Return PostgreSQL's literal of a text array holding the values, for a `%s::text[]` parameter.

    The driver turns a list into this literal one element at a time in Python (4 ms for a
    thousand emails); quoted here the whole list is one join, each element escaped only when
    the list holds a quote or a backslash.
    """
    if not values:
        return "{}"
    if _ARRAY_SPECIAL.search("".join(values)) is None:
        return '{"' + '","'.join(values) + '"}'
    return "{" + ",".join('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values) + "}"


_ARRAY_SPECIAL = re.compile(r'["\\]')


def _contacts_to_create(events: list[Event], known: _Known) -> dict[str, tuple[Event, dict[str, Any]]]:
    """Return the values of each person the events name who is not known, by email or external id."""
    new: dict[str, tuple[Event, dict[str, Any]]] = {}
    for event in events:
        if _contact_of(event, known) is not None:
            continue
        key = event.email or (f"xid:{event.contact_external_id}" if event.contact_external_id else "")
        if not key:
            continue
        if key in new:
            _fill_blanks(new[key][1], event)
            continue
        new[key] = (
            event,
            {
                "email": event.email,
                "external_id": event.contact_external_id,
                "first_name": event.first_name[:100],
                "last_name": event.last_name[:100],
                "phone": event.phone[:40],
                "lead_source": _channel(event),
                "original_campaign_id": event.campaign.pk if event.campaign else None,
                "account_id": None,
            },
        )
    if new:
        accounts = _accounts_by_domain({event.email.rpartition("@")[2] for event, _ in new.values() if event.email})
        for event, values in new.values():
            if event.email:
                values["account_id"] = accounts.get(event.email.rpartition("@")[2])
    return new


def _create_contacts(
    new: dict[str, tuple[Event, dict[str, Any]]], known: _Known, outcome: Outcome, *, now: dt.datetime
) -> None:
    if not new:
        return
    # A concurrent batch may create the same person first; its row wins and is read back.
    insert_rows(Contact, [values for _, values in new.values()], now=now, ignore_conflicts=True)
    _lookup(
        known,
        emails={event.email for event, _ in new.values() if event.email},
        external_ids={event.contact_external_id for event, _ in new.values() if event.contact_external_id},
    )
    # Counted as new to this batch: a concurrent batch that created the same person in
    # the same instant is not told apart (ON CONFLICT DO NOTHING reports no ids).
    outcome.contacts_created = sum(1 for event, _ in new.values() if _contact_of(event, known))


def _fill_blanks(values: dict[str, Any], event: Event) -> None:
    for name in ("first_name", "last_name", "phone"):
        if not values[name] and getattr(event, name):
            values[name] = getattr(event, name)


def _accounts_by_domain(domains: set[str]) -> dict[str, int]:
    # A free-mail domain says nothing about the employer: never link by it.
    domains = {domain for domain in domains if domain and not is_free_mail(domain)}
    rows = _rows_in("SELECT id, domain FROM {table[Account]} WHERE NOT (domain = '') AND LOWER(domain) {in_}", domains)
    return {domain.lower(): pk for pk, domain in rows}


def _links(events: list[Event], known: _Known, outcome: Outcome, *, now: dt.datetime) -> dict[str, int]:
    """Return anonymous id → contact id for the batch, linking and stitching newly identified ids."""
    anonymous_ids = {event.anonymous_id for event in events if event.anonymous_id}
    if not anonymous_ids:
        return {}
    links = dict(
        _rows_in("SELECT anonymous_id, contact_id FROM {table[IdentityLink]} WHERE anonymous_id {in_}", anonymous_ids)
    )
    # The first identification wins: a shared computer's later visitor does not take over
    # the earlier person's history.
    wanted: dict[str, tuple[int, dt.datetime]] = {}
    for event in events:
        if not event.anonymous_id or event.anonymous_id in links:
            continue
        contact_id = _contact_of(event, known)
        if contact_id is None:
            continue
        first = wanted.get(event.anonymous_id)
        if first is None:
            wanted[event.anonymous_id] = (contact_id, event.occurred_at)
    if not wanted:
        return links
    seen_before = dict(
        Touchpoint.objects.exclude(anonymous_id="")
        .filter(anonymous_id__in=wanted, contact__isnull=True)
        .order_by()
        .values("anonymous_id")
        .annotate(first=Min("occurred_at"))
        .values_list("anonymous_id", "first")
    )
    earliest: dict[str, dt.datetime] = {}
    for event in events:
        if event.anonymous_id in wanted:
            earliest[event.anonymous_id] = min(earliest.get(event.anonymous_id, event.occurred_at), event.occurred_at)
    IdentityLink.objects.bulk_create(
        [
            IdentityLink(
                anonymous_id=anonymous_id,
                contact_id=contact_id,
                first_seen_at=min(filter(None, [seen_before.get(anonymous_id), earliest[anonymous_id]])),
                linked_at=now,
            )
            for anonymous_id, (contact_id, _) in wanted.items()
        ],
        ignore_conflicts=True,
    )
    # Read back: a concurrent request may have linked the same id a moment earlier.
    linked = dict(
        IdentityLink.objects.filter(anonymous_id__in=wanted).order_by().values_list("anonymous_id", "contact_id")
    )
    links.update(linked)
    orphans = Touchpoint.objects.exclude(anonymous_id="").filter(anonymous_id__in=linked, contact__isnull=True)
    outcome.stitched = orphans.update(
        contact_id=Case(
            *(When(anonymous_id=anonymous_id, then=Value(contact_id)) for anonymous_id, contact_id in linked.items())
        )
    )
    return links
