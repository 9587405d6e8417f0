"""Writes on accounts (companies), contacts and campaigns.

Every write checks the caller's role (core.permissions.require), keeps references inside
what the caller may see (an id out of their scope is reported as unknown, naming the
field), and normalises input so the case-insensitive unique indexes on contact email,
account domain and UTM campaign hold. A contact's lifecycle stage is not changed here:
lifecycle.services owns stage changes and records each one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from types import EllipsisType
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower

from accord.accounts.models import User
from accord.accounts.selectors import default_owner, owner_for_assignment
from accord.capture.models import Account, Campaign, Contact
from accord.capture.selectors import account_to_link, campaign_to_link
from accord.core.errors import Conflict, ValidationFailed
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
