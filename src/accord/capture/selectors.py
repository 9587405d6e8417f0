"""Reads on accounts, contacts, campaigns and touchpoints, scoped to the viewer."""

from __future__ import annotations

import datetime as dt
import time

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import (
    Coalesce,
    Length,
    Lower,
    NullIf,
    Replace,
    StrIndex,
    Substr,
    Trim,
)

from accord.capture.freemail import is_free_mail
from accord.capture.models import Account, Campaign, CaptureSource, Contact, CostEntry, Touchpoint
from accord.core.errors import NotFound, ValidationFailed
from accord.core.permissions import Action, can, owner_scope, sees_everything

# What a contact shows in lists and the API, fetched in the same query.
CONTACT_RELATED = ("account", "owner", "original_campaign")


def contacts_visible_to(*, user) -> QuerySet[Contact]:
    """Return the contacts a user may see: a rep's own book, a manager's team book, or all."""
    return Contact.objects.filter(owner_scope(user))


# A contact's current score is scoring's (ContactScore), reached through its reverse
# relation: capture imports nothing above it. A contact without a row scores 0.
SCORE = Coalesce(F("current_score__total"), 0)


def with_scores(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Annotate each contact's current score as `score` (0 when it has no ContactScore row)."""
    return contacts.annotate(score=SCORE)


def accounts_visible_to(*, user) -> QuerySet[Account]:
    """Return the accounts a user owns or holds a contact in (or all, for roles that see all)."""
    if not can(user, Action.VIEW_RECORDS):
        return Account.objects.none()
    if sees_everything(user):
        return Account.objects.all()
    holds_contact = Exists(
        Contact.objects.filter(owner_scope(user), account=OuterRef("pk"))
    )
    return Account.objects.filter(owner_scope(user) | holds_contact)


def campaigns_visible_to(*, user) -> QuerySet[Campaign]:
    if not can(user, Action.VIEW_CAMPAIGNS):
        return Campaign.objects.none()
    return Campaign.objects.all()


def touchpoints_visible_to(*, user) -> QuerySet[Touchpoint]:
    return Touchpoint.objects.filter(contact__in=contacts_visible_to(user=user))


def contact_for(*, user, contact_id: int) -> Contact:
    try:
        return with_scores(contacts_visible_to(user=user).select_related(*CONTACT_RELATED)).get(pk=contact_id)
    except Contact.DoesNotExist:
        raise NotFound(f"No contact {contact_id}.") from None


def account_for(*, user, account_id: int) -> Account:
    try:
        return accounts_visible_to(user=user).select_related("owner").get(pk=account_id)
    except Account.DoesNotExist:
        raise NotFound(f"No account {account_id}.") from None


def campaign_for(*, user, campaign_id: int) -> Campaign:
    try:
        return campaigns_visible_to(user=user).select_related("owner").get(pk=campaign_id)
    except Campaign.DoesNotExist:
        raise NotFound(f"No campaign {campaign_id}.") from None


# A reference in a write (a contact's account_id, a deal's source_campaign_id) to a record
# the caller cannot see is bad input naming that field, not a 404 of the whole request.
def account_to_link(*, user, account_id: int, field: str = "account_id") -> Account:
    """Return the visible account with this id, or raise ValidationFailed naming the field."""
    account = accounts_visible_to(user=user).filter(pk=account_id).first()
    if account is None:
        raise ValidationFailed(f"No account {account_id}.", field=field)
    return account


def campaign_to_link(*, user, campaign_id: int, field: str) -> Campaign:
    """Return the visible campaign with this id, or raise ValidationFailed naming the field."""
    campaign = campaigns_visible_to(user=user).filter(pk=campaign_id).first()
    if campaign is None:
        raise ValidationFailed(f"No campaign {campaign_id}.", field=field)
    return campaign


def contact_list(
    *,
    user,
    lifecycle_stage: str | None = None,
    owner_id: int | None = None,
    account_id: int | None = None,
    lead_source: str | None = None,
    email: str | None = None,
    q: str | None = None,
    created_after: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
) -> QuerySet[Contact]:
    """Return the visible contacts matching every filter given, newest first, each with its `score`."""
    contacts = with_scores(contacts_visible_to(user=user).select_related(*CONTACT_RELATED))
    if lifecycle_stage is not None:
        contacts = contacts.filter(lifecycle_stage=lifecycle_stage)
    if owner_id is not None:
        contacts = contacts.filter(owner_id=owner_id)
    if account_id is not None:
        contacts = contacts.filter(account_id=account_id)
    if lead_source is not None:
        contacts = contacts.filter(lead_source=lead_source)
    if email is not None:
        # Lower(email) is what the unique index holds, so the lookup uses it.
        contacts = contacts.alias(email_ci=Lower("email")).filter(email_ci=email.strip().lower())
    if q is not None and q.strip():
        contacts = contacts.filter(_name_or_email_starts_with(q.strip()))
    if created_after is not None:
        contacts = contacts.filter(created_at__gte=created_after)
    if created_before is not None:
        contacts = contacts.filter(created_at__lt=created_before)
    return contacts.order_by("-created_at", "-id")


def _name_or_email_starts_with(q: str) -> Q:
    words = q.split()
    match = (
        Q(first_name__istartswith=q) | Q(last_name__istartswith=q) | Q(email__istartswith=q)
    )
    if len(words) == 2:
        match |= Q(first_name__istartswith=words[0], last_name__istartswith=words[1])
    return match


def account_list(
    *,
    user,
    segment: str | None = None,
    region: str | None = None,
    industry: str | None = None,
    owner_id: int | None = None,
    domain: str | None = None,
    q: str | None = None,
) -> QuerySet[Account]:
    """Return the visible accounts matching every filter given, by name."""
    accounts = accounts_visible_to(user=user).select_related("owner")
    if segment is not None:
        accounts = accounts.filter(segment=segment)
    if region is not None:
        accounts = accounts.filter(region=region)
    if industry is not None:
        accounts = accounts.filter(industry=industry)
    if owner_id is not None:
        accounts = accounts.filter(owner_id=owner_id)
    if domain is not None:
        accounts = accounts.alias(domain_ci=Lower("domain")).filter(domain_ci=domain.strip().lower())
    if q is not None and q.strip():
        q = q.strip()
        accounts = accounts.filter(Q(name__istartswith=q) | Q(domain__istartswith=q))
    return accounts.order_by("name", "id")


def campaign_list(
    *, user, channel: str | None = None, status: str | None = None, owner_id: int | None = None
) -> QuerySet[Campaign]:
    """Return the visible campaigns matching every filter given, latest start first."""
    campaigns = campaigns_visible_to(user=user).select_related("owner")
    if channel is not None:
        campaigns = campaigns.filter(channel=channel)
    if status is not None:
        campaigns = campaigns.filter(status=status)
    if owner_id is not None:
        campaigns = campaigns.filter(owner_id=owner_id)
    # Campaigns not yet scheduled (no start date) come last; the id keeps pages stable.
    return campaigns.order_by(F("start_date").desc(nulls_last=True), "name", "id")


def cost_list(
    *, user, campaign_id: int, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> QuerySet[CostEntry]:
    """Return a visible campaign's cost entries, latest day first; 404 for a campaign not visible."""
    campaign = campaign_for(user=user, campaign_id=campaign_id)
    costs = campaign.costs.all()
    if date_from is not None:
        costs = costs.filter(date__gte=date_from)
    if date_to is not None:
        costs = costs.filter(date__lte=date_to)
    return costs.order_by("-date", "-id")


def cost_for(*, user, campaign_id: int, cost_id: int) -> CostEntry:
    campaign = campaign_for(user=user, campaign_id=campaign_id)
    try:
        return campaign.costs.get(pk=cost_id)
    except CostEntry.DoesNotExist:
        raise NotFound(f"No cost entry {cost_id} on campaign {campaign_id}.") from None


# Capture sources ------------------------------------------------------------------------


def capture_sources_visible_to(*, user) -> QuerySet[CaptureSource]:
    if not can(user, Action.VIEW_CAMPAIGNS):
        return CaptureSource.objects.none()
    return CaptureSource.objects.select_related("default_campaign", "created_by")


def capture_source_for(*, user, source_id: int) -> CaptureSource:
    try:
        return capture_sources_visible_to(user=user).get(pk=source_id)
    except CaptureSource.DoesNotExist:
        raise NotFound(f"No capture source {source_id}.") from None


# How long a worker process trusts the source it read for a key. The public endpoint reads
# the source on every post, and the query cost more than the rest of the post; a change
# (deactivation, new limits, a rotated key) reaches every worker within this time, and
# the process that made it at once.
SOURCE_CACHE_SECONDS = 10.0
_sources_by_key: dict[str, tuple[float, CaptureSource]] = {}


def capture_source_by_key(*, public_key: str) -> CaptureSource | None:
    """Return the source with this public key, active or not, for the public endpoint.

    Unknown keys are not remembered: a source created a moment ago in another process is
    found at once (and guessing keys is throttled by the endpoint).
    """
    now = time.monotonic()
    cached = _sources_by_key.get(public_key)
    if cached is not None and cached[0] > now:
        return cached[1]
    source = CaptureSource.objects.select_related("default_campaign").filter(public_key=public_key).first()
    if source is None:
        _sources_by_key.pop(public_key, None)
    else:
        if len(_sources_by_key) > 10_000:
            _sources_by_key.clear()
        _sources_by_key[public_key] = (now + SOURCE_CACHE_SECONDS, source)
    return source


def forget_capture_source(*, source_id: int) -> None:
    """Drop this process's cached copy of a source, after it changed."""
    for key, (_, source) in list(_sources_by_key.items()):
        if source.pk == source_id:
            del _sources_by_key[key]


# Duplicates ------------------------------------------------------------------------------

# Rules that find contacts who are probably one person. A contact's email and external id
# are unique, so neither can be shared; these compare what people type differently.
MERGE_RULES = {
    "name_and_domain": "Same first and last name (ignoring case) at the same company domain",
    "phone": "Same phone number (digits only, at least 7)",
}

_DIGITS_ONLY = ("+", " ", "-", "(", ")", ".", "/")


def _phone_digits():
    expression = Trim("phone")
    for char in _DIGITS_ONLY:
        expression = Replace(expression, Value(char), Value(""))
    return expression


def _rule_keys(rule: str) -> dict:
    if rule == "name_and_domain":
        at = StrIndex("email", Value("@"))
        email_domain = Substr(Lower("email"), at + 1)
        return {
            "k_first": Lower(Trim("first_name")),
            "k_last": Lower(Trim("last_name")),
            "k_domain": Coalesce(NullIf(Lower("account__domain"), Value("")), email_domain),
        }
    if rule == "phone":
        return {"k_phone": _phone_digits()}
    raise ValidationFailed(f"{rule!r} is not a merge rule.", field="rule")


def duplicate_candidates(*, user, rule: str, limit: int = 50) -> list[list[Contact]]:
    """Return groups of visible contacts that the rule says are one person, oldest first."""
    keys = _rule_keys(rule)
    contacts = contacts_visible_to(user=user).annotate(**keys)
    if rule == "name_and_domain":
        contacts = contacts.exclude(first_name="").exclude(last_name="").filter(k_domain__isnull=False)
    else:
        contacts = contacts.exclude(phone="").annotate(k_len=Length("k_phone")).filter(k_len__gte=7)
    groups = list(
        contacts.values(*keys)
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by(*keys)[:limit]
    )
    if rule == "name_and_domain":
        # Two namesakes at gmail.com are not one person.
        groups = [group for group in groups if not is_free_mail(group["k_domain"])]
    if not groups:
        return []
    match = Q()
    for group in groups:
        match |= Q(**{key: group[key] for key in keys})
    members: dict[tuple, list[Contact]] = {}
    for contact in contacts.filter(match).select_related(*CONTACT_RELATED).order_by("created_at", "id"):
        members.setdefault(tuple(getattr(contact, key) for key in keys), []).append(contact)
    return [group for group in members.values() if len(group) > 1]


def merge_preview(*, user, survivor_id: int, duplicate_id: int) -> dict:
    """Return the two contacts and how many touchpoints, activities and deals each holds."""
    survivor = contact_for(user=user, contact_id=survivor_id)
    duplicate = contact_for(user=user, contact_id=duplicate_id)
    if survivor.pk == duplicate.pk:
        raise ValidationFailed("Choose two different contacts.", field="duplicate")
    counts = {}
    for contact in (survivor, duplicate):
        counts[contact.pk] = {
            "touchpoints": contact.touchpoints.count(),
            "activities": contact.activities.count(),
            "deals": contact.deal_roles.count(),
            "consents": contact.consents.count(),
        }
    return {"survivor": survivor, "duplicate": duplicate, "counts": counts}
