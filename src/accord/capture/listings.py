"""What the contact, account and campaign list pages show: their filter forms and their rows.

A page and its CSV export both call `*_listing(user=…, params=request.GET)`, so an export holds
exactly the rows the page lists, across every page, in the same order. Every queryset starts
from a `*_visible_to` selector, so neither can reach a record its viewer may not see.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
    with_scores,
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
    "name": (Lower("last_name"), Lower("first_name"), "id"),
}


class ScoredFirst:
    """Contacts by score, highest first, then those without a score row (0), newest first: "Highest score".

    Two index-driven queries instead of one ordered outer join, which neither database can
    answer from an index (the join keeps every contact, so the sort reads them all): those
    with a row walk scoring's (total, contact) index and fetch each contact by its key; the
    rest (new contacts not scored yet, and those that never scored above 0) walk the contacts
    newest first, on the last pages only. A page, a count and an export iterate it like a
    queryset.
    """

    def __init__(self, contacts: QuerySet[Contact]):
        self.contacts = contacts
        self.scored = contacts.filter(current_score__isnull=False).order_by(
            F("current_score__total").desc(), F("current_score__contact").desc())
        self.unscored = contacts.filter(current_score__isnull=True).order_by("-id")

    def count(self) -> int:
        return self.contacts.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Contact]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("ScoredFirst takes slices of consecutive rows")
        start, stop = index.start or 0, index.stop
        rows = list(self.scored[start:stop])
        if stop is not None and len(rows) == stop - start:
            return rows
        # Past the contacts with a row: how many there are is known from this page, or
        # counted when the page starts beyond them.
        scored = start + len(rows) if rows else self.scored.count()
        rest = self.unscored[max(0, start - scored):None if stop is None else stop - scored]
        return rows + list(rest)

    def iterator(self, chunk_size: int = 2000) -> Iterator[Contact]:
        yield from self.scored.iterator(chunk_size=chunk_size)
        yield from self.unscored.iterator(chunk_size=chunk_size)


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


def contact_listing(*, user, params: Mapping[str, Any]) -> tuple[ContactFilters, QuerySet[Contact] | ScoredFirst]:
    """Return the contacts page's filter form and its rows for this viewer and query string.

    Each row carries its current `score` (None when never scored).
    """
    form = ContactFilters(params, owners=_owner_choices(user))
    chosen = chosen_filters(form)
    contacts = with_scores(contacts_visible_to(user=user).select_related("owner", "account"))
    if "stage" in chosen:
        contacts = contacts.filter(lifecycle_stage=chosen["stage"])
    owner = chosen.get("owner")
    if owner == "me":
        contacts = contacts.filter(owner=user)
    elif owner == "none":
        contacts = contacts.filter(owner__isnull=True)
    elif owner:
        contacts = contacts.filter(owner_id=int(owner))
    if chosen.get("sort") == "score":
        return form, ScoredFirst(contacts)
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
