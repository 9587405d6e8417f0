"""Store a batch of touches in a constant number of queries, whatever the batch size.

Shared by the public form endpoint (a batch of one) and the event API (up to 1,000).
Every step works on the whole batch: one lookup of stored event ids, one of campaigns, one
of contacts (by email or external id), one of identity links; missing contacts and links
are bulk-inserted (ON CONFLICT DO NOTHING, then read back, so two concurrent batches
naming the same new person agree on one contact), stitched touchpoints are moved in one
UPDATE, and the touchpoints go in with one bulk INSERT. The caller holds the transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, Min, Value, When
from django.db.models.functions import Lower

from accord.capture.domain import infer_channel
from accord.capture.freemail import is_free_mail
from accord.capture.models import Account, Campaign, Contact, IdentityLink, Touchpoint


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
    campaign: Campaign | None = None


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
    outcome = Outcome(contact_ids=[None] * len(events))
    fresh = _drop_duplicates(events, outcome)
    if not fresh:
        return outcome
    batch = [event for _, event in fresh]
    campaigns = _campaigns(batch)
    for event in batch:
        code = (event.campaign_code or event.utm_campaign).lower()
        event.campaign = campaigns.get(code) or default_campaign
    contacts = _contacts(batch, outcome)
    links = _links(batch, contacts, outcome, now=now)
    touchpoints = []
    for index, event in fresh:
        contact_id = _contact_of(event, contacts) or links.get(event.anonymous_id)
        outcome.contact_ids[index] = contact_id
        touchpoints.append(
            Touchpoint(
                contact_id=contact_id,
                anonymous_id=event.anonymous_id,
                campaign=event.campaign,
                channel=_channel(event),
                kind=event.kind,
                occurred_at=event.occurred_at,
                utm_source=event.utm_source,
                utm_medium=event.utm_medium,
                utm_campaign=event.utm_campaign or event.campaign_code,
                utm_term=event.utm_term,
                utm_content=event.utm_content,
                url=event.url,
                referrer=event.referrer,
                external_id=event.event_id,
            )
        )
    _insert_touchpoints(touchpoints, now=now)
    outcome.stored = len(touchpoints)
    return outcome


_TOUCH_COLUMNS = (
    "contact_id", "anonymous_id", "campaign_id", "channel", "kind", "occurred_at", "utm_source",
    "utm_medium", "utm_campaign", "utm_term", "utm_content", "url", "referrer", "external_id",
    "created_at",
)


def _insert_touchpoints(touchpoints: list[Touchpoint], *, now: dt.datetime) -> None:
    """Insert the rows with one prepared statement run for every row (executemany).

    Django's bulk_create spent two thirds of a 1,000-event batch building the SQL in Python;
    the rows here are plain values already validated, so the driver takes them directly.
    """
    ops = connection.ops
    table = ops.quote_name(Touchpoint._meta.db_table)
    columns = ", ".join(ops.quote_name(column) for column in _TOUCH_COLUMNS)
    placeholders = ", ".join(["%s"] * len(_TOUCH_COLUMNS))
    created = ops.adapt_datetimefield_value(now)
    rows = [
        (
            touch.contact_id, touch.anonymous_id, touch.campaign_id, touch.channel, touch.kind,
            ops.adapt_datetimefield_value(touch.occurred_at), touch.utm_source, touch.utm_medium,
            touch.utm_campaign, touch.utm_term, touch.utm_content, touch.url, touch.referrer,
            touch.external_id, created,
        )
        for touch in touchpoints
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)  # noqa: S608


def _drop_duplicates(events: list[Event], outcome: Outcome) -> list[tuple[int, Event]]:
    ids = {event.event_id for event in events if event.event_id}
    stored = (
        set(
            # Spelled like the partial unique index's condition, so the planner uses it.
            Touchpoint.objects.exclude(external_id="")
            .filter(external_id__in=ids)
            .order_by()
            .values_list("external_id", flat=True)
        )
        if ids
        else set()
    )
    fresh = []
    for index, event in enumerate(events):
        if event.event_id:
            if event.event_id in stored:
                outcome.duplicates.append(index)
                continue
            stored.add(event.event_id)
        fresh.append((index, event))
    return fresh


def _campaigns(events: list[Event]) -> dict[str, Campaign]:
    codes = {(event.campaign_code or event.utm_campaign).lower() for event in events}
    codes.discard("")
    if not codes:
        return {}
    found = Campaign.objects.exclude(utm_campaign="").alias(code=Lower("utm_campaign")).filter(code__in=codes)
    return {
        campaign.utm_campaign.lower(): campaign
        for campaign in found.order_by().only("id", "channel", "utm_campaign")
    }


def _channel(event: Event) -> str:
    if event.channel:
        return event.channel
    return infer_channel(
        utm_medium=event.utm_medium,
        utm_source=event.utm_source,
        referrer=event.referrer,
        campaign_channel=event.campaign.channel if event.campaign else "",
    )


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
    queries = []
    if emails:
        queries.append(Contact.objects.alias(email_ci=Lower("email")).filter(email_ci__in=emails))
    if external_ids:
        queries.append(Contact.objects.exclude(external_id="").filter(external_id__in=external_ids))
    rows = [row for query in queries for row in query.order_by().values_list("id", "email", "external_id")]
    for pk, email, external_id in rows:
        if email:
            known.by_email[email.lower()] = pk
        if external_id:
            known.by_external_id[external_id] = pk


def _contacts(events: list[Event], outcome: Outcome) -> _Known:
    known = _Known()
    emails = {event.email for event in events if event.email}
    external_ids = {event.contact_external_id for event in events if event.contact_external_id}
    _lookup(known, emails=emails, external_ids=external_ids)

    new: dict[str, tuple[Event, Contact]] = {}
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
            Contact(
                email=event.email,
                external_id=event.contact_external_id,
                first_name=event.first_name[:100],
                last_name=event.last_name[:100],
                phone=event.phone[:40],
                lead_source=_channel(event),
                original_campaign=event.campaign,
            ),
        )
    if not new:
        return known
    accounts = _accounts_by_domain({event.email.rpartition("@")[2] for event, _ in new.values() if event.email})
    for event, contact in new.values():
        if event.email:
            contact.account_id = accounts.get(event.email.rpartition("@")[2])
    # A concurrent batch may create the same person first; its row wins and is read back.
    Contact.objects.bulk_create([contact for _, contact in new.values()], ignore_conflicts=True)
    _lookup(
        known,
        emails={event.email for event, _ in new.values() if event.email},
        external_ids={event.contact_external_id for event, _ in new.values() if event.contact_external_id},
    )
    # Counted as new to this batch: a concurrent batch that created the same person in
    # the same instant is not told apart (ignore_conflicts returns no ids).
    outcome.contacts_created = sum(1 for event, _ in new.values() if _contact_of(event, known))
    return known


def _fill_blanks(contact: Contact, event: Event) -> None:
    for name in ("first_name", "last_name", "phone"):
        if not getattr(contact, name) and getattr(event, name):
            setattr(contact, name, getattr(event, name))


def _accounts_by_domain(domains: set[str]) -> dict[str, int]:
    # A free-mail domain says nothing about the employer: never link by it.
    domains = {domain for domain in domains if domain and not is_free_mail(domain)}
    if not domains:
        return {}
    rows = Account.objects.exclude(domain="").alias(domain_ci=Lower("domain")).filter(domain_ci__in=domains)
    return {domain.lower(): pk for pk, domain in rows.order_by().values_list("id", "domain")}


def _links(events: list[Event], known: _Known, outcome: Outcome, *, now: dt.datetime) -> dict[str, int]:
    """Return anonymous id → contact id for the batch, linking and stitching newly identified ids."""
    anonymous_ids = {event.anonymous_id for event in events if event.anonymous_id}
    if not anonymous_ids:
        return {}
    links = dict(
        IdentityLink.objects.filter(anonymous_id__in=anonymous_ids)
        .order_by()
        .values_list("anonymous_id", "contact_id")
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
