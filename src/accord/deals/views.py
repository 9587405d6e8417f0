"""Record pages for deals: the list with its filters, and one deal with its people and history.

Read-only for now; every queryset starts from deals_visible_to, so a page lists only
what its viewer may see.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers

from accord.deals.listings import deal_listing
from accord.deals.selectors import deals_visible_to

PAGE_SIZE = 50
RESULTS = "#results"


def _renders_results_only(request) -> bool:
    # A history restore after a cache miss asks for the whole page, not the fragment.
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


@login_required
def deal_list(request):
    form, deals = deal_listing(user=request.user, params=request.GET)
    page = Paginator(deals, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form, "page_obj": page, "hx_target": RESULTS, "results_template": "deals/_results.html",
        "export_list": "deals",
    }
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
