"""Reads on deals and pipelines, scoped to the viewer."""

from __future__ import annotations

from django.db.models import QuerySet

from accord.core.errors import NotFound
from accord.core.permissions import owner_scope
from accord.deals.models import Deal, Pipeline


def deals_visible_to(*, user) -> QuerySet[Deal]:
    """Return the deals a user may see: a rep's own, a manager's team's, or all."""
    return Deal.objects.filter(owner_scope(user))


def deal_for(*, user, deal_id: int) -> Deal:
    try:
        return deals_visible_to(user=user).get(pk=deal_id)
    except Deal.DoesNotExist:
        raise NotFound(f"No deal {deal_id}.") from None


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("id").first()
