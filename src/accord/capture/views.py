"""Record pages for what marketing brings in: contacts, accounts and campaigns.

Read-only for now; create and edit forms arrive with their services. Every queryset
starts from a `*_visible_to` selector, so a page can only list what its viewer may see.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Lower
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers

from accord.accounts.models import User
from accord.capture.models import Campaign, CostEntry
from accord.capture.selectors import (
    accounts_visible_to,
    campaigns_visible_to,
    contacts_visible_to,
)
from accord.core.permissions import Role, owner_scope
from accord.core.vocabulary import Channel, LifecycleStage, Region, Segment

PAGE_SIZE = 50
RESULTS = "#results"


def _renders_results_only(request) -> bool:
    # A history restore after a cache miss asks for the whole page, not the fragment.
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


def list_page(request, *, queryset, template: str, results_template: str, context: dict):
    """Render one page of a list, or just its results table for an htmx filter request."""
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {**context, "page_obj": page, "hx_target": RESULTS, "results_template": results_template}
    response = render(request, results_template if _renders_results_only(request) else template, context)
    # The same URL answers with a fragment or a page; caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _choices(blank: str, choices) -> list[tuple[str, str]]:
    return [("", blank), *choices]


def _filters(form: forms.Form) -> dict:
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


@login_required
def contact_list(request):
    form = ContactFilters(request.GET, owners=_owner_choices(request.user))
    chosen = _filters(form)
    contacts = contacts_visible_to(user=request.user).select_related("owner", "account")
    if "stage" in chosen:
        contacts = contacts.filter(lifecycle_stage=chosen["stage"])
    owner = chosen.get("owner")
    if owner == "me":
        contacts = contacts.filter(owner=request.user)
    elif owner == "none":
        contacts = contacts.filter(owner__isnull=True)
    elif owner:
        contacts = contacts.filter(owner_id=int(owner))
    contacts = contacts.order_by(*CONTACT_SORTS[chosen.get("sort", "")])
    return list_page(
        request,
        queryset=contacts,
        template="capture/contacts/list.html",
        results_template="capture/contacts/_results.html",
        context={"form": form},
    )


@login_required
def contact_detail(request, contact_id: int):
    contact = get_object_or_404(
        contacts_visible_to(user=request.user).select_related("owner", "account", "original_campaign"),
        pk=contact_id,
    )
    # Reverse relations keep capture from importing the apps layered above it.
    context = {
        "contact": contact,
        "transitions": contact.stage_transitions.select_related("by_user").order_by("-occurred_at", "-id")[:50],
        "touchpoints": contact.touchpoints.select_related("campaign")[:20],
        "activities": contact.activities.select_related("user")[:20],
        "feedback": contact.feedback.select_related("by_user")[:20],
        "deal_roles": contact.deal_roles.filter(owner_scope(request.user, field="deal__owner"))
        .select_related("deal__stage")
        .order_by("-deal__created_at"),
    }
    return render(request, "capture/contacts/detail.html", context)


# Accounts ------------------------------------------------------------------------------

ACCOUNT_SORTS = {"": (Lower("name"), "id"), "newest": ("-created_at", "-id")}


class AccountFilters(forms.Form):
    segment = forms.ChoiceField(required=False, choices=_choices("Any segment", Segment.choices))
    region = forms.ChoiceField(required=False, choices=_choices("Any region", Region.choices))
    sort = forms.ChoiceField(required=False, choices=[("", "Name"), ("newest", "Newest first")])


@login_required
def account_list(request):
    form = AccountFilters(request.GET)
    chosen = _filters(form)
    accounts = accounts_visible_to(user=request.user).select_related("owner")
    if "segment" in chosen:
        accounts = accounts.filter(segment=chosen["segment"])
    if "region" in chosen:
        accounts = accounts.filter(region=chosen["region"])
    accounts = accounts.order_by(*ACCOUNT_SORTS[chosen.get("sort", "")])
    return list_page(
        request,
        queryset=accounts,
        template="capture/accounts/list.html",
        results_template="capture/accounts/_results.html",
        context={"form": form},
    )


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


@login_required
def campaign_list(request):
    form = CampaignFilters(request.GET)
    chosen = _filters(form)
    money = DecimalField(max_digits=20, decimal_places=2)
    # A correlated subquery runs only for the 50 rows on the page, not the whole table.
    spend = (
        CostEntry.objects.filter(campaign=OuterRef("pk"))
        .values("campaign")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    campaigns = (
        campaigns_visible_to(user=request.user)
        .select_related("owner")
        .annotate(spent=Coalesce(Subquery(spend, output_field=money), Value(0), output_field=money))
    )
    if "channel" in chosen:
        campaigns = campaigns.filter(channel=chosen["channel"])
    if "status" in chosen:
        campaigns = campaigns.filter(status=chosen["status"])
    campaigns = campaigns.order_by(*CAMPAIGN_SORTS[chosen.get("sort", "")])
    return list_page(
        request,
        queryset=campaigns,
        template="capture/campaigns/list.html",
        results_template="capture/campaigns/_results.html",
        context={"form": form},
    )

