"""What the deals list page shows: its filter form and its rows.

The page and its CSV export both call `deal_listing(user=…, params=request.GET)`, so an export
holds exactly the deals the page lists, across every page, in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from accord.deals.models import Deal, PipelineStage
from accord.deals.selectors import deals_visible_to

DEAL_SORTS = {
    "": (F("close_date").asc(nulls_last=True), "-amount", "id"),
    "amount": ("-amount", "id"),
    "newest": ("-created_at", "-id"),
}


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


def deal_listing(*, user, params: Mapping[str, Any]) -> tuple[DealFilters, QuerySet[Deal]]:
    """Return the deals page's filter form and its rows, each with its `win_probability`."""
    form = DealFilters(params)
    form.is_valid()
    chosen = {name: value for name, value in form.cleaned_data.items() if value}
    deals = (
        deals_visible_to(user=user)
        .select_related("account", "owner", "stage")
        .annotate(win_probability=Coalesce("probability", "stage__probability"))
    )
    if "status" in chosen:
        deals = deals.filter(status=chosen["status"])
    if "stage" in chosen:
        deals = deals.filter(stage_id=int(chosen["stage"]))
    return form, deals.order_by(*DEAL_SORTS[chosen.get("sort", "")])
