"""Writes on accounts (companies), contacts and campaigns.

Every write checks the caller's role (core.permissions.require), keeps references inside
what the caller may see (an id out of their scope is reported as unknown, naming the
field), and normalises input so the case-insensitive unique indexes on contact email,
account domain and UTM campaign hold. A contact's lifecycle stage is not changed here:
lifecycle.services owns stage changes and records each one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from types import EllipsisType
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone

from accord.accounts.models import User
from accord.accounts.selectors import default_owner, owner_for_assignment
from accord.capture import ratelimit
from accord.capture.domain import UTM_FIELDS, clean_url, origin_of, utm_from_url
from accord.capture.groupcommit import run_in_transaction, run_statement
from accord.capture.ingestion import (
    Event,
    Plan,
    count_and_ingest_identified,
    ingest_identified,
    insert_row,
    prepare,
    store,
)
from accord.capture.models import (
    Account,
    Campaign,
    CaptureSource,
    Consent,
    Contact,
    ContactMerge,
    CostEntry,
    IdempotencyRecord,
    Touchpoint,
    new_public_key,
)
from accord.capture.selectors import (
    account_to_link,
    campaign_to_link,
    duplicate_candidates,
    forget_capture_source,
)
from accord.core.errors import Conflict, NotFound, ValidationFailed
from accord.core.permissions import Action, require
from accord.core.vocabulary import LifecycleStage

ACCOUNT_FIELDS = frozenset(
    {
        "name",
        "domain",
        "industry",
        "size_band",
        "region",
        "country",
        "segment",
        "trade_channel",
        "presence",
        "owner_id",
    }
)
CONTACT_FIELDS = frozenset(
    {
        "email",
        "first_name",
        "last_name",
        "phone",
        "title",
        "seniority",
        "account_id",
        "owner_id",
        "lead_source",
        "original_campaign_id",
        "country",
        "region",
    }
)
CAMPAIGN_FIELDS = frozenset(
    {
        "name",
        "channel",
        "kind",
        "status",
        "segment",
        "start_date",
        "end_date",
        "budget",
        "currency",
        "owner_id",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "description",
    }
)

_DOMAIN = re.compile(r"^[^\s/@:]+\.[^\s/@:]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


# Accounts -------------------------------------------------------------------------------


@transaction.atomic
def create_account(
    *,
    by: User,
    name: str,
    domain: str = "",
    industry: str = "",
    size_band: str = "",
    region: str = "",
    country: str = "",
    segment: str = "b2b",
    trade_channel: str = Account.TradeChannel.DIRECT,
    presence: str = Account.Presence.ONLINE,
    owner_id: int | EllipsisType | None = ...,
) -> Account:
    """Create a company; leaving out owner_id gives it to the caller if they sell."""
    require(by, Action.EDIT_CONTACTS)
    account = Account()
    values = {
        "name": name,
        "domain": domain,
        "industry": industry,
        "size_band": size_band,
        "region": region,
        "country": country,
        "segment": segment,
        "trade_channel": trade_channel,
        "presence": presence,
    }
    _apply_account(account, by=by, values=values)
    account.owner = (
        default_owner(user=by)
        if owner_id is ...
        else owner_for_assignment(user=by, owner_id=owner_id)
    )
    _save(account, conflict_field="domain")
    return account


@transaction.atomic
def update_account(*, account: Account, by: User, changes: Mapping[str, Any]) -> Account:
    """Change the given fields of a company the caller can see."""
    require(by, Action.EDIT_CONTACTS)
    _refuse_unknown(changes, ACCOUNT_FIELDS)
    _apply_account(account, by=by, values=changes)
    _save(account, conflict_field="domain", fields=_model_fields(changes))
    return account


def _apply_account(account: Account, *, by: User, values: Mapping[str, Any]) -> None:
    for field, value in values.items():
        if field == "owner_id":
            account.owner = owner_for_assignment(user=by, owner_id=value)
        elif field == "name":
            account.name = _required_text(value, field="name")
        elif field == "domain":
            account.domain = _clean_domain(value)
            _refuse_taken(
                Account.objects.alias(domain_ci=Lower("domain")).filter(domain_ci=account.domain),
                instance=account,
                field="domain",
                message=f"An account with the domain {account.domain!r} already exists.",
                skip=not account.domain,
            )
        else:
            setattr(account, field, value.strip() if isinstance(value, str) else value)


def _clean_domain(raw: str) -> str:
    domain = raw.strip().lower()
    domain = re.sub(r"^https?://", "", domain).removeprefix("www.").rstrip("/")
    if domain and not _DOMAIN.match(domain):
        raise ValidationFailed("Give a domain such as example.com.", field="domain")
    return domain


# Contacts -------------------------------------------------------------------------------


@transaction.atomic
def create_contact(
    *,
    by: User,
    email: str | None = None,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    title: str = "",
    seniority: str = "",
    account_id: int | None = None,
    owner_id: int | EllipsisType | None = ...,
    lead_source: str = "",
    original_campaign_id: int | None = None,
    country: str = "",
    region: str = "",
) -> Contact:
    """Create a person as a lead; leaving out owner_id gives them to the caller if they sell."""
    require(by, Action.EDIT_CONTACTS)
    contact = Contact(lifecycle_stage=LifecycleStage.LEAD)
    values = {
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "phone": phone,
        "title": title,
        "seniority": seniority,
        "account_id": account_id,
        "lead_source": lead_source,
        "original_campaign_id": original_campaign_id,
        "country": country,
        "region": region,
    }
    _apply_contact(contact, by=by, values=values)
    contact.owner = (
        default_owner(user=by)
        if owner_id is ...
        else owner_for_assignment(user=by, owner_id=owner_id)
    )
    _save(contact, conflict_field="email")
    return contact


@transaction.atomic
def update_contact(*, contact: Contact, by: User, changes: Mapping[str, Any]) -> Contact:
    """Change the given fields of a contact the caller can see (never the lifecycle stage)."""
    require(by, Action.EDIT_CONTACTS)
    _refuse_unknown(changes, CONTACT_FIELDS)
    _apply_contact(contact, by=by, values=changes)
    _save(contact, conflict_field="email", fields=_model_fields(changes))
    return contact


def _apply_contact(contact: Contact, *, by: User, values: Mapping[str, Any]) -> None:
    for field, value in values.items():
        if field == "email":
            contact.email = _clean_email(value)
            _refuse_taken(
                Contact.objects.alias(email_ci=Lower("email")).filter(email_ci=contact.email),
                instance=contact,
                field="email",
                message=f"A contact with the email {contact.email!r} already exists.",
                skip=contact.email is None,
            )
        elif field == "owner_id":
            contact.owner = owner_for_assignment(user=by, owner_id=value)
        elif field == "account_id":
            contact.account = None if value is None else account_to_link(user=by, account_id=value)
        elif field == "original_campaign_id":
            contact.original_campaign = (
                None
                if value is None
                else campaign_to_link(user=by, campaign_id=value, field="original_campaign_id")
            )
        else:
            setattr(contact, field, value.strip() if isinstance(value, str) else value)
    if not (contact.email or contact.first_name or contact.last_name):
        raise ValidationFailed("Give the contact an email or a name.", field="email")


def _clean_email(raw: str | None) -> str | None:
    if raw is None:
        return None
    email = raw.strip().lower()
    if not email:
        return None
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(f"{raw!r} is not an email address.", field="email") from None
    return email


# Campaigns ------------------------------------------------------------------------------


@transaction.atomic
def create_campaign(
    *,
    by: User,
    name: str,
    channel: str,
    kind: str = Campaign.Kind.OTHER,
    status: str = Campaign.Status.PLANNED,
    segment: str = "",
    start_date: date | None = None,
    end_date: date | None = None,
    budget: Decimal = Decimal(0),
    currency: str | None = None,
    owner_id: int | EllipsisType | None = ...,
    utm_source: str = "",
    utm_medium: str = "",
    utm_campaign: str = "",
    description: str = "",
) -> Campaign:
    """Create a campaign; the caller runs it unless owner_id names someone else."""
    require(by, Action.EDIT_CAMPAIGNS)
    campaign = Campaign()
    values = {
        "name": name,
        "channel": channel,
        "kind": kind,
        "status": status,
        "segment": segment,
        "start_date": start_date,
        "end_date": end_date,
        "budget": budget,
        "currency": currency or settings.ACCORD_CURRENCY,
        "utm_source": utm_source,
        "utm_medium": utm_medium,
        "utm_campaign": utm_campaign,
        "description": description,
    }
    _apply_campaign(campaign, by=by, values=values)
    campaign.owner = by if owner_id is ... else owner_for_assignment(user=by, owner_id=owner_id)
    _save(campaign, conflict_field="utm_campaign")
    return campaign


@transaction.atomic
def update_campaign(*, campaign: Campaign, by: User, changes: Mapping[str, Any]) -> Campaign:
    """Change the given fields of a campaign."""
    require(by, Action.EDIT_CAMPAIGNS)
    _refuse_unknown(changes, CAMPAIGN_FIELDS)
    _apply_campaign(campaign, by=by, values=changes)
    _save(campaign, conflict_field="utm_campaign", fields=_model_fields(changes))
    return campaign


@transaction.atomic
def delete_campaigns(*, campaign_ids: Collection[int], by: User) -> int:
    """Delete the campaigns, their costs, and the link from their touches; return how many went.

    The only way campaigns are deleted. Touchpoint.campaign has no foreign-key constraint, so
    the rows are locked FOR UPDATE before Django's collector clears the touches' campaign: an
    ingestion holding one of them (FOR KEY SHARE) finishes first and its touches are cleared
    too; one that comes later waits, finds the campaign gone and stores its touches without it.
    """
    require(by, Action.EDIT_CAMPAIGNS)
    # In id order, as lock_campaigns takes them: a batch and a deletion cannot deadlock.
    ids = list(
        Campaign.objects.select_for_update().filter(pk__in=list(campaign_ids)).order_by("pk").values_list("pk", flat=True)
    )
    if not ids:
        return 0
    Campaign.objects.filter(pk__in=ids).delete()
    return len(ids)


def _apply_campaign(campaign: Campaign, *, by: User, values: Mapping[str, Any]) -> None:
    for field, value in values.items():
        if field == "owner_id":
            campaign.owner = owner_for_assignment(user=by, owner_id=value)
        elif field == "name":
            campaign.name = _required_text(value, field="name")
        elif field == "budget":
            if value is None or value < 0:
                raise ValidationFailed("The budget may not be negative.", field="budget")
            campaign.budget = value
        elif field == "currency":
            if not isinstance(value, str) or not _CURRENCY.match(value):
                raise ValidationFailed("Give a three-letter ISO currency code.", field="currency")
            campaign.currency = value
        elif field == "utm_campaign":
            campaign.utm_campaign = value.strip()
            _refuse_taken(
                Campaign.objects.alias(utm_ci=Lower("utm_campaign")).filter(
                    utm_ci=campaign.utm_campaign.lower()
                ),
                instance=campaign,
                field="utm_campaign",
                message=f"Another campaign already uses utm_campaign {campaign.utm_campaign!r}.",
                skip=not campaign.utm_campaign,
            )
        else:
            setattr(campaign, field, value.strip() if isinstance(value, str) else value)
    if campaign.start_date and campaign.end_date and campaign.end_date < campaign.start_date:
        raise ValidationFailed("The campaign cannot end before it starts.", field="end_date")


# Shared ---------------------------------------------------------------------------------


def _refuse_unknown(changes: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for field in changes:
        if field not in allowed:
            raise ValidationFailed(f"{field} cannot be changed here.", field=field)


def _required_text(value: Any, *, field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationFailed(f"{field} may not be blank.", field=field)
    return text


def _refuse_taken(
    matches: models.QuerySet, *, instance: models.Model, field: str, message: str, skip: bool
) -> None:
    if skip:
        return
    if instance.pk is not None:
        matches = matches.exclude(pk=instance.pk)
    if matches.exists():
        raise Conflict(message, field=field)


def _model_fields(changes: Mapping[str, Any]) -> list[str]:
    # The `*_id` inputs are set through their relation; update_fields names the relation.
    return [field.removesuffix("_id") for field in changes]


def _save(instance: models.Model, *, conflict_field: str, fields: list[str] | None = None) -> None:
    # The checks above answer nearly every conflict; the unique index answers the race
    # where two requests claim the same value at once.
    try:
        with transaction.atomic():
            if fields is None:
                instance.save()
            else:
                instance.save(update_fields=[*fields, "updated_at"])
    except IntegrityError:
        raise Conflict(
            f"The {conflict_field} is taken by another record.", field=conflict_field
        ) from None


# Capture sources --------------------------------------------------------------------------

SOURCE_FIELDS = frozenset(
    {
        "name",
        "kind",
        "default_campaign_id",
        "allowed_origins",
        "consent_text",
        "rate_limit_per_minute",
        "ip_rate_limit_per_minute",
        "is_active",
    }
)


@transaction.atomic
def create_capture_source(*, by: User, name: str, **values: Any) -> CaptureSource:
    """Create a form, webhook or API source with a fresh public key."""
    require(by, Action.EDIT_CAMPAIGNS)
    source = CaptureSource(created_by=by)
    _apply_source(source, by=by, values={"name": name, **values})
    source.save()
    return source


@transaction.atomic
def update_capture_source(*, source: CaptureSource, by: User, changes: Mapping[str, Any]) -> CaptureSource:
    """Change the given fields of a capture source."""
    require(by, Action.EDIT_CAMPAIGNS)
    _apply_source(source, by=by, values=changes)
    source.save(update_fields=_model_fields(changes))
    forget_capture_source(source_id=source.pk)
    return source


@transaction.atomic
def rotate_capture_source_key(*, source: CaptureSource, by: User) -> CaptureSource:
    """Give the source a new public key; pages embedding the old one stop being accepted."""
    require(by, Action.EDIT_CAMPAIGNS)
    source.public_key = new_public_key()
    source.save(update_fields=["public_key"])
    forget_capture_source(source_id=source.pk)
    return source


def _apply_source(source: CaptureSource, *, by: User, values: Mapping[str, Any]) -> None:
    _refuse_unknown(values, SOURCE_FIELDS)
    for field, value in values.items():
        if field == "name":
            source.name = _required_text(value, field="name")
        elif field == "kind":
            if value not in CaptureSource.Kind.values:
                raise ValidationFailed(f"{value!r} is not a source kind.", field="kind")
            source.kind = value
        elif field == "default_campaign_id":
            source.default_campaign = (
                None if value is None else campaign_to_link(user=by, campaign_id=value, field=field)
            )
        elif field == "allowed_origins":
            origins = [line.strip() for line in str(value).splitlines() if line.strip()]
            for origin in origins:
                if origin_of(origin) != origin.rstrip("/").lower():
                    raise ValidationFailed(
                        f"{origin!r} is not an origin such as https://www.example.com.",
                        field="allowed_origins",
                    )
            source.allowed_origins = "\n".join(origin.rstrip("/").lower() for origin in origins)
        elif field in {"rate_limit_per_minute", "ip_rate_limit_per_minute"}:
            if not isinstance(value, int) or value < 1:
                raise ValidationFailed("Give a limit of at least 1 per minute.", field=field)
            setattr(source, field, value)
        else:
            setattr(source, field, value.strip() if isinstance(value, str) else value)


# The public form endpoint ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FormSubmission:
    """A form post checked and normalised, ready to store."""

    event: Event
    title: str
    consent_granted: bool


def capture_form_submission(
    *,
    source: CaptureSource,
    fields: Mapping[str, str],
    ip: str = "",
    user_agent: str = "",
    page_url: str = "",
) -> int:
    """Store a form post: the person, their touch, their consent, and their earlier visits.

    Return the contact's id. `fields` are the posted values; `page_url` is the page the form
    sat on when the form did not say (the Referer header). Raise ValidationFailed naming the
    field at fault, before anything is written.
    """
    submission = check_form_submission(fields=fields, page_url=page_url)
    return store_form_submission(source=source, submission=submission, ip=ip, user_agent=user_agent)


def check_form_submission(*, fields: Mapping[str, str], page_url: str = "") -> FormSubmission:
    """Check and normalise posted form fields without touching the database.

    Raise ValidationFailed naming the field at fault. Apart from storing, so the endpoint
    does this work before it takes the database's write lock.
    """
    for name, value in fields.items():
        _refuse_unstorable(name, value)
    email = _clean_email(fields.get("email") or "")
    if email is None:
        raise ValidationFailed("Give an email address.", field="email")
    url = clean_url(fields.get("page_url") or fields.get("url") or page_url)
    utm = utm_from_url(url)
    utm.update({name: fields[name].strip() for name in UTM_FIELDS if fields.get(name, "").strip()})
    event = Event(
        kind=Touchpoint.Kind.FORM_SUBMIT,
        occurred_at=timezone.now(),
        email=email,
        anonymous_id=fields.get("anonymous_id", "").strip()[:64],
        first_name=fields.get("first_name", "").strip()[:100],
        last_name=fields.get("last_name", "").strip()[:100],
        phone=fields.get("phone", "").strip()[:40],
        url=url,
        referrer=clean_url(fields.get("referrer") or ""),
        **{name: value[:100] for name, value in utm.items()},
    )
    return FormSubmission(
        event=event,
        title=fields.get("title", "").strip()[:150],
        consent_granted=fields.get("consent", "").strip().lower() in {"1", "on", "yes", "true"},
    )


def record_form_post(
    *, source: CaptureSource, submission: FormSubmission | None, ip: str, user_agent: str = ""
) -> tuple[int | None, int | None]:
    """Count a post against the source's rate limits and store it if allowed and given.

    Return (seconds to wait, None) when a limit refuses it, else (None, the contact's id or
    None when nothing was to be stored). The count and the data commit together, in a
    transaction grouped with other posts' on SQLite (capture.groupcommit: a post costs a share
    of one fsync) and its own on PostgreSQL; a refused post still commits its count.
    """
    # Always the source's bucket, then the IP's: two posts lock counter rows in the same
    # order, so they cannot deadlock on them (PostgreSQL).
    limits = {f"key:{source.pk}": source.rate_limit_per_minute, f"ip:{source.pk}:{ip}": source.ip_rate_limit_per_minute}
    if submission is not None and connection.vendor == "postgresql":
        return _record_form_post_in_one_statement(
            source=source, submission=submission, limits=limits, ip=ip, user_agent=user_agent
        )

    def write() -> tuple[int | None, int | None]:
        retry = ratelimit.hit(limits)
        if retry is not None or submission is None:
            return retry, None
        return None, store_form_submission(source=source, submission=submission, ip=ip, user_agent=user_agent)

    return run_in_transaction(write)


def _record_form_post_in_one_statement(
    *, source: CaptureSource, submission: FormSubmission, limits: dict[str, int], ip: str, user_agent: str
) -> tuple[int | None, int | None]:
    # PostgreSQL: the count and the whole write are one statement, one round trip, committed
    # by itself (see ingestion.count_and_ingest_identified); a post cost eight round trips.
    event = submission.event
    now = ratelimit.now()
    window = int(now // ratelimit.WINDOW_SECONDS)
    consent = _consent_values(source=source, submission=submission, ip=ip, user_agent=user_agent)
    counts, contact_id = run_statement(
        partial(
            count_and_ingest_identified, event, rate_limits=limits, window=window,
            default_campaign=source.default_campaign, title=submission.title, consent=consent,
            now=event.occurred_at,
        )
    )
    ratelimit.sweep(window)
    retry = ratelimit.retry_after(counts, limits, now=now)
    if retry is not None:
        return retry, None
    if contact_id is None:
        # The person was created by a post committed while the statement ran, unseen by its
        # snapshot, so nothing but the count was stored: store the post now (counted once).
        contact_id = run_in_transaction(
            partial(store_form_submission, source=source, submission=submission, ip=ip, user_agent=user_agent)
        )
    return None, contact_id


def _consent_values(
    *, source: CaptureSource, submission: FormSubmission, ip: str, user_agent: str
) -> dict[str, Any] | None:
    """Return the Consent row a post stores, but its contact; None when the source asks none."""
    if not source.consent_text:
        return None
    return {
        "source_id": source.pk,
        "text": source.consent_text,
        "granted": submission.consent_granted,
        "at": submission.event.occurred_at,
        "ip_hash": hash_ip(ip),
        "user_agent": user_agent[:300],
    }


def store_form_submission(
    *, source: CaptureSource, submission: FormSubmission, ip: str = "", user_agent: str = ""
) -> int:
    """Store a checked form post and return the contact's id; see capture_form_submission."""
    event = submission.event
    # savepoint=False: inside the endpoint's transaction this adds no SAVEPOINT round trips;
    # any error here fails the whole request anyway.
    with transaction.atomic(savepoint=False):
        contact_id = ingest_identified(
            event, default_campaign=source.default_campaign, title=submission.title, now=event.occurred_at
        )
        consent = _consent_values(source=source, submission=submission, ip=ip, user_agent=user_agent)
        if consent is not None:
            insert_row(Consent, {**consent, "contact_id": contact_id}, now=event.occurred_at)
    return contact_id


def hash_ip(ip: str) -> str:
    """Return a keyed digest of an IP address, or "" for none."""
    if not ip:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()


def _refuse_unstorable(name: str, value: str) -> None:
    # PostgreSQL text cannot hold NUL; a form post must answer 422, never 500.
    if "\x00" in name or "\x00" in value:
        raise ValidationFailed("Text may not contain NUL characters.", field=name.replace("\x00", "") or None)


# The event API --------------------------------------------------------------------------

IDEMPOTENCY_TTL = dt.timedelta(hours=24)


def ingest_events(
    *,
    by: User,
    events: list[Event],
    idempotency_key: str | None = None,
    request_hash: str = "",
    created_status: int = 200,
) -> tuple[int, dict[str, Any], bool]:
    """Store the events in one transaction; return (status, body, replayed).

    With an idempotency key, the first answer is stored beside the data in the same
    transaction and a retry with the same key and body gets it back without writing; the
    same key with a different body is refused (Conflict naming the header).
    """
    require(by, Action.IMPORT_DATA)
    # A retry is answered before the batch's reads: they are most of its cost, and it stores nothing.
    replay = _stored_answer(by=by, idempotency_key=idempotency_key, request_hash=request_hash)
    if replay is not None:
        return replay

    def write(plan: Plan) -> tuple[int, dict[str, Any], bool]:
        # Again under the write lock: a request with the same key may have committed meanwhile.
        replay = _stored_answer(by=by, idempotency_key=idempotency_key, request_hash=request_hash)
        if replay is not None:
            return replay
        outcome = store(plan)
        status = created_status if outcome.stored else 200
        body = {
            "received": len(events),
            "stored": outcome.stored,
            "duplicates": len(outcome.duplicates),
            "duplicate_indexes": outcome.duplicates,
            "contacts_created": outcome.contacts_created,
            "stitched": outcome.stitched,
            "contact_ids": outcome.contact_ids,
        }
        if idempotency_key:
            IdempotencyRecord.objects.filter(created_at__lt=plan.now - IDEMPOTENCY_TTL).delete()
            IdempotencyRecord.objects.create(
                user=by,
                key=idempotency_key,
                request_hash=request_hash,
                status=status,
                response=body,
                created_at=plan.now,
            )
        return status, body, False

    for attempt in range(3):
        try:
            # The reads before the write lock, the writes grouped with other requests' on
            # SQLite (capture.groupcommit).
            plan = prepare(events, now=timezone.now())
            return run_in_transaction(partial(write, plan))
        except IntegrityError:
            # A concurrent request stored the same event id or idempotency key first;
            # after it committed, the next attempt sees its rows and answers accordingly.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _stored_answer(
    *, by: User, idempotency_key: str | None, request_hash: str
) -> tuple[int, dict[str, Any], bool] | None:
    if not idempotency_key:
        return None
    record = IdempotencyRecord.objects.filter(user=by, key=idempotency_key).first()
    return _replay(record, request_hash=request_hash) if record is not None else None


def _replay(record: IdempotencyRecord, *, request_hash: str) -> tuple[int, dict[str, Any], bool]:
    if record.request_hash != request_hash:
        raise Conflict(
            "This Idempotency-Key was already used with a different request; "
            "use a new key for a new request.",
            field="Idempotency-Key",
        )
    return record.status, record.response, True


def request_digest(*, path: str, body: bytes) -> str:
    """Return the digest an idempotency record keeps of a request."""
    return hashlib.sha256(path.encode() + b"\n" + body).hexdigest()


# Merging duplicates ---------------------------------------------------------------------

MERGE_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "title",
    "seniority",
    "account_id",
    "owner_id",
    "lead_source",
    "original_campaign_id",
    "country",
    "region",
    "external_id",
)


@transaction.atomic
def merge_contacts(
    *,
    survivor: Contact,
    duplicate: Contact,
    by: User,
    field_choices: Mapping[str, str] | None = None,
    rule: str = "manual",
) -> ContactMerge:
    """Fold the duplicate into the survivor: every related row moves, then the duplicate goes.

    The survivor's empty fields take the duplicate's values; `field_choices` maps a field
    (one of MERGE_FIELDS, or "email") to "survivor" or "duplicate" to decide otherwise.
    The lifecycle stage and score stay the survivor's: lifecycle and scoring own them.
    """
    require(by, Action.EDIT_CONTACTS)
    if survivor.pk == duplicate.pk:
        raise ValidationFailed("A contact cannot be merged into itself.", field="duplicate")
    choices = dict(field_choices or {})
    for name, choice in choices.items():
        if name not in {*MERGE_FIELDS, "email"}:
            raise ValidationFailed(f"{name} cannot be chosen in a merge.", field=name)
        if choice not in {"survivor", "duplicate"}:
            raise ValidationFailed("Choose survivor or duplicate.", field=name)
    locked = {c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])}
    if len(locked) != 2:
        raise NotFound("One of the contacts no longer exists.")
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    snapshot = json.loads(
        json.dumps(
            {field.attname: getattr(duplicate, field.attname) for field in Contact._meta.concrete_fields},
            cls=DjangoJSONEncoder,
        )
    )

    changed = []
    for name in MERGE_FIELDS:
        mine, theirs = getattr(survivor, name), getattr(duplicate, name)
        choice = choices.get(name) or ("duplicate" if _blank(mine) and not _blank(theirs) else "survivor")
        if choice == "duplicate" and mine != theirs:
            setattr(survivor, name, theirs)
            changed.append(name if name == "external_id" else name.removesuffix("_id"))
    take_email = choices.get("email") == "duplicate" or (not survivor.email and duplicate.email)
    if take_email and duplicate.email != survivor.email:
        survivor.email = duplicate.email
        changed.append("email")

    moved = _move_related(survivor=survivor, duplicate=duplicate)
    duplicate_id, duplicate_email = duplicate.pk, duplicate.email or ""
    # The unique email and external id must be free before the survivor takes them.
    Contact.objects.filter(pk=duplicate_id).delete()
    if changed:
        survivor.save(update_fields=[*changed, "updated_at"])
    return ContactMerge.objects.create(
        survivor=survivor,
        duplicate_id=duplicate_id,
        duplicate_email=duplicate_email,
        snapshot=snapshot,
        moved=moved,
        rule=rule,
        by=by,
        at=timezone.now(),
    )


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _move_related(*, survivor: Contact, duplicate: Contact) -> dict[str, int]:
    """Point every row that refers to the duplicate at the survivor; return counts by table.

    Walks the model graph instead of naming lifecycle, deals or collaboration models:
    capture sits below them and must not import them, and a table added later moves too.
    A row that would break a unique constraint with the survivor's (both on the same deal)
    is dropped: the survivor already holds that place.
    """
    moved: dict[str, int] = {}
    for relation in Contact._meta.related_objects:
        if relation.many_to_many:
            continue  # A through model is its own relation and is handled as one.
        model, name = relation.related_model, relation.field.name
        label = model._meta.label
        rows = model._base_manager.filter(**{name: duplicate})
        for together in _unique_sets(model, name):
            others = [field for field in together if field != name]
            clash = model._base_manager.filter(**{name: survivor}, **{f: OuterRef(f) for f in others})
            dropped, _ = rows.filter(Exists(clash)).delete()
            if dropped:
                moved[f"{label} (already on survivor)"] = dropped
        count = rows.update(**{name: survivor})
        if count:
            moved[label] = count
    contact_type = ContentType.objects.get_for_model(Contact)
    for model in apps.get_models():
        for field in model._meta.private_fields:
            if isinstance(field, GenericForeignKey):
                count = model._base_manager.filter(
                    **{field.ct_field: contact_type, field.fk_field: duplicate.pk}
                ).update(**{field.fk_field: survivor.pk})
                if count:
                    moved[model._meta.label] = moved.get(model._meta.label, 0) + count
    return moved


def _unique_sets(model: type[models.Model], name: str) -> list[list[str]]:
    sets = [list(together) for together in model._meta.unique_together if name in together]
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields and name in constraint.fields:
            sets.append(list(constraint.fields))
    return sets


def merge_by_rule(*, rule: str, by: User, limit: int = 1000) -> list[ContactMerge]:
    """Merge every group of candidates the rule finds into its oldest contact."""
    require(by, Action.EDIT_CONTACTS)
    merges: list[ContactMerge] = []
    for group in duplicate_candidates(user=by, rule=rule):
        survivor, *duplicates = sorted(group, key=lambda contact: (contact.created_at, contact.pk))
        for duplicate in duplicates:
            if len(merges) >= limit:
                return merges
            merges.append(merge_contacts(survivor=survivor, duplicate=duplicate, by=by, rule=rule))
            survivor.refresh_from_db()
    return merges


COST_PERIODS = ("day", "month")
COST_FIELDS = frozenset({"date", "period", "amount", "currency", "impressions", "clicks", "note"})
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")


@transaction.atomic
def record_cost(
    *,
    campaign: Campaign,
    by: User,
    date: date,
    amount: Decimal,
    currency: str | None = None,
    impressions: int | None = None,
    clicks: int | None = None,
    note: str = "",
    period: str = "day",
) -> CostEntry:
    """Record money a campaign spent on a day (or a month, dated to its first day), entered by hand."""
    require(by, Action.EDIT_CAMPAIGNS)
    cost = CostEntry(campaign=campaign, source=CostEntry.Source.MANUAL)
    _apply_cost(
        cost,
        values={
            "date": date, "period": period, "amount": amount, "impressions": impressions,
            "clicks": clicks, "note": note,
            "currency": currency or campaign.currency or settings.ACCORD_CURRENCY,
        },
    )
    cost.save()
    return cost


@transaction.atomic
def update_cost(*, cost: CostEntry, by: User, changes: Mapping[str, Any]) -> CostEntry:
    """Change the given fields of a cost entry; `period` only checks the date, it is not stored."""
    require(by, Action.EDIT_CAMPAIGNS)
    _refuse_unknown(changes, COST_FIELDS)
    _apply_cost(cost, values=changes)
    cost.save(update_fields=[name for name in changes if name != "period"] or None)
    return cost


@transaction.atomic
def delete_cost(*, cost: CostEntry, by: User) -> None:
    require(by, Action.EDIT_CAMPAIGNS)
    cost.delete()


def _apply_cost(cost: CostEntry, *, values: Mapping[str, Any]) -> None:
    if "amount" in values:
        if values["amount"] is None or values["amount"] < 0:
            raise ValidationFailed("A cost cannot be negative.", field="amount")
        cost.amount = values["amount"]
    for field in ("impressions", "clicks"):
        if field in values:
            if values[field] is not None and values[field] < 0:
                raise ValidationFailed(f"{field.capitalize()} cannot be negative.", field=field)
            setattr(cost, field, values[field])
    if "currency" in values:
        code = (values["currency"] or "").strip().upper()
        if not _CURRENCY_CODE.fullmatch(code):
            raise ValidationFailed("Give a three-letter ISO 4217 code such as EUR.", field="currency")
        cost.currency = code
    if "note" in values:
        cost.note = (values["note"] or "").strip()[:200]
    if "date" in values:
        if values["date"] is None:
            raise ValidationFailed("A cost needs the day (or month) it was spent.", field="date")
        cost.date = values["date"]
    period = values.get("period") or "day"
    if period not in COST_PERIODS:
        raise ValidationFailed("The period is day or month.", field="period")
    # A month's spend is dated to its first day, so reports can sum it with daily entries.
    if period == "month" and cost.date.day != 1:
        raise ValidationFailed(
            f"A monthly cost is dated to the month's first day ({cost.date:%Y-%m}-01).", field="date"
        )


def record_cost_once(
    *,
    idempotency_key: str | None,
    request_hash: str,
    render: Callable[[CostEntry], dict[str, Any]],
    **cost: Any,
) -> tuple[dict[str, Any], bool]:
    """Record a cost unless this key already did; return (the answer, whether it is a replay).

    The answer (`render` of the new entry) is kept beside the entry in one transaction, so
    a client retrying after a lost response gets the same answer and no second entry.
    """
    if not idempotency_key:
        return render(record_cost(**cost)), False
    by = cost["by"]
    for attempt in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.filter(user=by, key=idempotency_key).first()
                if record is not None:
                    _, body, replayed = _replay(record, request_hash=request_hash)
                    return body, replayed
                body = render(record_cost(**cost))
                now = timezone.now()
                IdempotencyRecord.objects.filter(created_at__lt=now - IDEMPOTENCY_TTL).delete()
                IdempotencyRecord.objects.create(
                    user=by, key=idempotency_key, request_hash=request_hash, status=201,
                    response=body, created_at=now,
                )
                return body, False
        except IntegrityError:
            # A concurrent retry stored the key first; the next attempt replays its answer.
            if attempt == 1:
                raise
    raise AssertionError("unreachable")
