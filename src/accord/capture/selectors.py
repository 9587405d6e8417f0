"""Reads on accounts, contacts, campaigns and touchpoints, scoped to the viewer."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from accord.capture.models import Account, Campaign, Contact, Touchpoint
from accord.core.errors import NotFound
from accord.core.permissions import Action, can, owner_scope, sees_everything


def contacts_visible_to(*, user) -> QuerySet[Contact]:
    """Return the contacts a user may see: a rep's own book, a manager's team book, or all."""
    return Contact.objects.filter(owner_scope(user))


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
        return contacts_visible_to(user=user).get(pk=contact_id)
    except Contact.DoesNotExist:
        raise NotFound(f"No contact {contact_id}.") from None


def account_for(*, user, account_id: int) -> Account:
    try:
        return accounts_visible_to(user=user).get(pk=account_id)
    except Account.DoesNotExist:
        raise NotFound(f"No account {account_id}.") from None


def campaign_for(*, user, campaign_id: int) -> Campaign:
    try:
        return campaigns_visible_to(user=user).get(pk=campaign_id)
    except Campaign.DoesNotExist:
        raise NotFound(f"No campaign {campaign_id}.") from None
