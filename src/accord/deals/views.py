"""Record pages for deals: the list with its filters, and one deal with its people and history.

Read-only for now; every queryset starts from deals_visible_to, so a page lists only
what its viewer may see.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers

from accord.deals.models import Deal, PipelineStage
from accord.deals.selectors import deals_visible_to

PAGE_SIZE = 50
RESULTS = "#results"

DEAL_SORTS = {
    "": (F("close_date").asc(nulls_last=True), "-amount", "id"),
    "amount": ("-amount", "id"),
    "newest": ("-created_at", "-id"),
}


def _renders_results_only(request) -> bool:
    # A history restore after a cache miss asks for the whole page, not the fragment.
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


class DealFilters(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Deal.Status.choices])
    stage = forms.ChoiceField(required=False)
    sort = forms.ChoiceField(
        required=False, choices=[("", "Closing soonest"), ("amount", "Largest amount"), ("newest", "Newest first")]
    )

    def __init__(self, data):
        super().__init__(data)
        stages = PipelineStage.objects.select_related("pipeline").order_by("pipeline__name", "order")
        self.fields["stage"].choices = [("", "Any stage")] + [
            (str(stage.pk), f"{stage.pipeline.name}: {stage.name}") for stage in stages
        ]


@login_required
def deal_list(request):
    form = DealFilters(request.GET)
    form.is_valid()
    chosen = {name: value for name, value in form.cleaned_data.items() if value}
    deals = (
        deals_visible_to(user=request.user)
        .select_related("account", "owner", "stage")
        .annotate(win_probability=Coalesce("probability", "stage__probability"))
    )
    if "status" in chosen:
        deals = deals.filter(status=chosen["status"])
    if "stage" in chosen:
        deals = deals.filter(stage_id=int(chosen["stage"]))
    deals = deals.order_by(*DEAL_SORTS[chosen.get("sort", "")])
    page = Paginator(deals, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page_obj": page, "hx_target": RESULTS, "results_template": "deals/_results.html"}
    template = "deals/_results.html" if _renders_results_only(request) else "deals/list.html"
    response = render(request, template, context)
    # The same URL answers with a fragment or a page; caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def deal_detail(request, deal_id: int):
    deal = get_object_or_404(
        deals_visible_to(user=request.user).select_related(
            "account", "owner", "stage", "pipeline", "source_campaign"
        ),
        pk=deal_id,
    )
    weighted = deal.amount * (deal.probability if deal.probability is not None else deal.stage.probability)
    context = {
        "deal": deal,
        "win_probability": deal.probability if deal.probability is not None else deal.stage.probability,
        "weighted": weighted,
        "people": deal.deal_contacts.select_related("contact").order_by("-is_primary", "id"),
        "stage_changes": deal.stage_changes.select_related("from_stage", "to_stage", "by_user").order_by(
            "-occurred_at", "-id"
        ),
        "activities": deal.activities.select_related("user")[:20],
        "influencers": deal.influencing_campaigns.order_by("name"),
    }
    return render(request, "deals/detail.html", context)
