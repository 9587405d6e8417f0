"""What the contact, account and campaign list pages show: their filter forms and their rows.

A page and its CSV export both call `*_listing(user=…, params=request.GET)`, so an export holds
exactly the rows the page lists, across every page, in the same order. Every queryset starts
from a `*_visible_to` selector, so neither can reach a record its viewer may not see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Lower

from accord.accounts.models import User
from accord.capture.models import Account, Campaign, CaptureSource, Contact, CostEntry
from accord.capture.selectors import (
    accounts_visible_to,
    campaigns_visible_to,
    capture_sources_visible_to,
    contacts_visible_to,
)
from accord.core.permissions import Role
from accord.core.vocabulary import Channel, LifecycleStage, Region, Segment


def _choices(blank: str, choices) -> list[tuple[str, str]]:
    return [("", blank), *choices]


def chosen_filters(form: forms.Form) -> dict[str, Any]:
    """Return the valid filters only: an unknown value in the URL is ignored, not an error."""
    form.is_valid()
    return {name: value for name, value in form.cleaned_data.items() if value}


# Contacts ------------------------------------------------------------------------------

CONTACT_SORTS = {
    "": ("-created_at", "-id"),
    "score": ("-score", "-id"),
    "name": (Lower("last_name"), Lower("first_name"), "id"),
}


class ContactFilters(forms.Form):
    stage = forms.ChoiceField(required=False, choices=_choices("Any stage", LifecycleStage.choices))
    owner = forms.ChoiceField(required=False)
    sort = forms.ChoiceField(
        required=False, choices=[("", "Newest first"), ("score", "Highest score"), ("name", "Name")]
    )

    def __init__(self, data, *, owners):
        super().__init__(data)
        people = [(str(person.pk), str(person)) for person in owners]
        self.fields["owner"].choices = [("", "Anyone"), ("me", "Me"), ("none", "Unassigned"), *people]


def _owner_choices(user) -> list[User]:
    """Offer the people whose books the viewer can filter by: none for a rep, who sees only theirs."""
    if user.role == Role.SALES_REP:
        return []
    people = User.objects.filter(is_active=True, role__in=[Role.SALES_REP, Role.SALES_MANAGER])
    if user.role == Role.SALES_MANAGER:
        people = people.filter(team_id=user.team_id) if user.team_id else people.filter(pk=user.pk)
    return list(people.order_by("first_name", "last_name", "username"))


def contact_listing(*, user, params: Mapping[str, Any]) -> tuple[ContactFilters, QuerySet[Contact]]:
    """Return the contacts page's filter form and its rows for this viewer and query string."""
    form = ContactFilters(params, owners=_owner_choices(user))
    chosen = chosen_filters(form)
    contacts = contacts_visible_to(user=user).select_related("owner", "account")
    if "stage" in chosen:
        contacts = contacts.filter(lifecycle_stage=chosen["stage"])
    owner = chosen.get("owner")
    if owner == "me":
        contacts = contacts.filter(owner=user)
    elif owner == "none":
        contacts = contacts.filter(owner__isnull=True)
    elif owner:
        contacts = contacts.filter(owner_id=int(owner))
    return form, contacts.order_by(*CONTACT_SORTS[chosen.get("sort", "")])


# Accounts ------------------------------------------------------------------------------

ACCOUNT_SORTS = {"": (Lower("name"), "id"), "newest": ("-created_at", "-id")}


class AccountFilters(forms.Form):
    segment = forms.ChoiceField(required=False, choices=_choices("Any segment", Segment.choices))
    region = forms.ChoiceField(required=False, choices=_choices("Any region", Region.choices))
    sort = forms.ChoiceField(required=False, choices=[("", "Name"), ("newest", "Newest first")])


def account_listing(*, user, params: Mapping[str, Any]) -> tuple[AccountFilters, QuerySet[Account]]:
    """Return the accounts page's filter form and its rows for this viewer and query string."""
    form = AccountFilters(params)
    chosen = chosen_filters(form)
    accounts = accounts_visible_to(user=user).select_related("owner")
    if "segment" in chosen:
        accounts = accounts.filter(segment=chosen["segment"])
    if "region" in chosen:
        accounts = accounts.filter(region=chosen["region"])
    return form, accounts.order_by(*ACCOUNT_SORTS[chosen.get("sort", "")])


# Campaigns -----------------------------------------------------------------------------

CAMPAIGN_SORTS = {
    "": (F("start_date").desc(nulls_last=True), "name", "id"),
    "name": (Lower("name"), "id"),
    "budget": ("-budget", "id"),
}


class CampaignFilters(forms.Form):
    channel = forms.ChoiceField(required=False, choices=_choices("Any channel", Channel.choices))
    status = forms.ChoiceField(required=False, choices=_choices("Any status", Campaign.Status.choices))
    sort = forms.ChoiceField(
        required=False, choices=[("", "Newest start"), ("name", "Name"), ("budget", "Largest budget")]
    )


def campaign_listing(*, user, params: Mapping[str, Any]) -> tuple[CampaignFilters, QuerySet[Campaign]]:
    """Return the campaigns page's filter form and its rows, each with what it has `spent`."""
    form = CampaignFilters(params)
    chosen = chosen_filters(form)
    money = DecimalField(max_digits=20, decimal_places=2)
    # A correlated subquery runs only for the rows fetched (50 on a page), not the whole table.
    spend = (
        CostEntry.objects.filter(campaign=OuterRef("pk"))
        .values("campaign")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    campaigns = (
        campaigns_visible_to(user=user)
        .select_related("owner")
        .annotate(spent=Coalesce(Subquery(spend, output_field=money), Value(0), output_field=money))
    )
    if "channel" in chosen:
        campaigns = campaigns.filter(channel=chosen["channel"])
    if "status" in chosen:
        campaigns = campaigns.filter(status=chosen["status"])
    return form, campaigns.order_by(*CAMPAIGN_SORTS[chosen.get("sort", "")])


# Capture sources -----------------------------------------------------------------------


def capture_source_listing(*, user) -> QuerySet[CaptureSource]:
    """Return the forms page's capture sources, by name."""
    return capture_sources_visible_to(user=user).order_by("name", "id")
