"""Reads on deals and pipelines, scoped to the viewer."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet

from accord.core.errors import NotFound
from accord.core.permissions import Action, owner_scope, require
from accord.deals.models import Deal, Pipeline, PipelineStage

# What a deal shows in lists and the API, fetched in the same query.
DEAL_RELATED = ("account", "pipeline", "stage", "owner", "source_campaign")


def deals_visible_to(*, user) -> QuerySet[Deal]:
    """Return the deals a user may see: a rep's own, a manager's team's, or all."""
    return Deal.objects.filter(owner_scope(user))


def deal_for(*, user, deal_id: int) -> Deal:
    try:
        return deals_visible_to(user=user).select_related(*DEAL_RELATED).get(pk=deal_id)
    except Deal.DoesNotExist:
        raise NotFound(f"No deal {deal_id}.") from None


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("id").first()


def deal_list(
    *,
    user,
    status: str | None = None,
    owner_id: int | None = None,
    account_id: int | None = None,
    stage_id: int | None = None,
    pipeline_id: int | None = None,
    close_date_from: dt.date | None = None,
    close_date_to: dt.date | None = None,
) -> QuerySet[Deal]:
    """Return the visible deals matching every filter given, newest first."""
    deals = deals_visible_to(user=user).select_related(*DEAL_RELATED)
    if status is not None:
        deals = deals.filter(status=status)
    if owner_id is not None:
        deals = deals.filter(owner_id=owner_id)
    if account_id is not None:
        deals = deals.filter(account_id=account_id)
    if stage_id is not None:
        deals = deals.filter(stage_id=stage_id)
    if pipeline_id is not None:
        deals = deals.filter(pipeline_id=pipeline_id)
    if close_date_from is not None:
        deals = deals.filter(close_date__gte=close_date_from)
    if close_date_to is not None:
        deals = deals.filter(close_date__lte=close_date_to)
    return deals.order_by("-created_at", "-id")


def pipelines_with_stages(*, user) -> QuerySet[Pipeline]:
    """Return every pipeline with its stages in order, for anyone who may see records."""
    require(user, Action.VIEW_RECORDS)
    stages = Prefetch("stages", queryset=PipelineStage.objects.order_by("order", "id"))
    return Pipeline.objects.prefetch_related(stages).order_by("name", "id")
