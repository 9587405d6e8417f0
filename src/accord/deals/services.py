"""Writes on deals: create, change, and move between stages.

A deal's status follows its stage's outcome, and every stage a deal enters (including the
first) is recorded as a DealStageChange, the history velocity and forecasts are built on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from types import EllipsisType
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accord.accounts.models import User
from accord.accounts.selectors import default_owner, owner_for_assignment
from accord.capture.selectors import account_to_link, campaign_to_link
from accord.core.errors import ValidationFailed
from accord.core.permissions import Action, require
from accord.deals.models import Deal, DealStageChange, Pipeline, PipelineStage
from accord.deals.selectors import default_pipeline
from accord.notifications import events
from accord.notifications.services import publish_events

DEAL_FIELDS = frozenset(
    {
        "name",
        "account_id",
        "pipeline_id",
        "stage_id",
        "amount",
        "currency",
        "probability",
        "close_date",
        "owner_id",
        "source_campaign_id",
        "won_reason",
        "loss_reason",
    }
)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@transaction.atomic
def create_deal(
    *,
    by: User,
    name: str,
    account_id: int | None = None,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    amount: Decimal = Decimal(0),
    currency: str | None = None,
    probability: Decimal | None = None,
    close_date: date | None = None,
    owner_id: int | EllipsisType | None = ...,
    source_campaign_id: int | None = None,
    won_reason: str = "",
    loss_reason: str = "",
) -> Deal:
    """Create a deal in a stage of a pipeline (the default pipeline's first open stage if not given)."""
    require(by, Action.EDIT_DEALS)
    stage = _stage(stage_id) if stage_id is not None else None
    if pipeline_id is not None:
        pipeline = _pipeline(pipeline_id)
    elif stage is not None:
        pipeline = stage.pipeline
    else:
        pipeline = default_pipeline()
        if pipeline is None:
            raise ValidationFailed("No pipeline is set up yet.", field="pipeline_id")
    if stage is None:
        stage = _first_stage(pipeline)
    _check_stage_in_pipeline(stage, pipeline)

    deal = Deal(pipeline=pipeline)
    _apply(
        deal,
        by=by,
        values={
            "name": name,
            "account_id": account_id,
            "amount": amount,
            "currency": currency or settings.ACCORD_CURRENCY,
            "probability": probability,
            "close_date": close_date,
            "source_campaign_id": source_campaign_id,
            "won_reason": won_reason,
            "loss_reason": loss_reason,
        },
    )
    deal.owner = (
        default_owner(user=by)
        if owner_id is ...
        else owner_for_assignment(user=by, owner_id=owner_id)
    )
    from_stage = _enter_stage(deal, stage)
    deal.save()
    _record_stage_change(deal, from_stage=from_stage, by=by)
    return deal


@transaction.atomic
def update_deal(*, deal: Deal, by: User, changes: Mapping[str, Any]) -> Deal:
    """Change the given fields of a deal the caller can see, recording any stage move."""
    require(by, Action.EDIT_DEALS)
    for field in changes:
        if field not in DEAL_FIELDS:
            raise ValidationFailed(f"{field} cannot be changed here.", field=field)
    changes = dict(changes)
    pipeline_id = changes.pop("pipeline_id", None)
    stage_id = changes.pop("stage_id", None)
    pipeline = _pipeline(pipeline_id) if pipeline_id is not None else deal.pipeline
    stage = _stage(stage_id) if stage_id is not None else deal.stage
    if stage.pipeline_id != pipeline.pk:
        field = "stage_id" if stage_id is not None else "pipeline_id"
        raise ValidationFailed(
            f"Stage {stage.pk} is not in pipeline {pipeline.pk}; give a stage_id of that pipeline.",
            field=field,
        )
    deal.pipeline = pipeline
    _apply(deal, by=by, values=changes)
    from_stage = _enter_stage(deal, stage) if stage.pk != deal.stage_id else None
    deal.save()
    if from_stage is not None:
        _record_stage_change(deal, from_stage=from_stage, by=by)
    return deal


def _apply(deal: Deal, *, by: User, values: Mapping[str, Any]) -> None:
    for field, value in values.items():
        if field == "owner_id":
            deal.owner = owner_for_assignment(user=by, owner_id=value)
        elif field == "account_id":
            deal.account = None if value is None else account_to_link(user=by, account_id=value)
        elif field == "source_campaign_id":
            deal.source_campaign = (
                None
                if value is None
                else campaign_to_link(user=by, campaign_id=value, field="source_campaign_id")
            )
        elif field == "name":
            name = value.strip() if isinstance(value, str) else ""
            if not name:
                raise ValidationFailed("name may not be blank.", field="name")
            deal.name = name
        elif field == "amount":
            if value is None or value < 0:
                raise ValidationFailed("The amount may not be negative.", field="amount")
            deal.amount = value
        elif field == "currency":
            if not isinstance(value, str) or not _CURRENCY.match(value):
                raise ValidationFailed("Give a three-letter ISO currency code.", field="currency")
            deal.currency = value
        elif field == "probability":
            if value is not None and not 0 <= value <= 1:
                raise ValidationFailed(
                    "The probability must be between 0 and 1.", field="probability"
                )
            deal.probability = value
        else:
            setattr(deal, field, value.strip() if isinstance(value, str) else value)


def _enter_stage(deal: Deal, stage: PipelineStage) -> PipelineStage | None:
    """Put the deal in the stage, with the status its outcome implies; return the stage it left."""
    from_stage = deal.stage if deal.stage_id is not None else None
    deal.stage = stage
    deal.status = stage.outcome
    if stage.outcome == PipelineStage.Outcome.OPEN:
        deal.closed_at = None
    elif from_stage is None or from_stage.outcome != stage.outcome:
        deal.closed_at = timezone.now()
    return from_stage


def _record_stage_change(deal: Deal, *, from_stage: PipelineStage | None, by: User) -> None:
    change = DealStageChange.objects.create(
        deal=deal,
        from_stage=from_stage,
        to_stage=deal.stage,
        occurred_at=timezone.now(),
        by_user=by,
    )
    _publish(deal, from_stage=from_stage, by=by, at=change.occurred_at)


def _publish(deal: Deal, *, from_stage: PipelineStage | None, by: User, at) -> None:
    """Tell webhook subscribers: deal.created, or deal.stage_changed and, on closing, deal.won or deal.lost."""
    record = {
        "id": deal.pk, "name": deal.name, "amount": deal.amount, "currency": deal.currency,
        "status": deal.status, "stage": {"id": deal.stage_id, "name": deal.stage.name},
        "pipeline_id": deal.pipeline_id, "account_id": deal.account_id, "owner_id": deal.owner_id,
    }
    actor = events.actor(by)
    if from_stage is None:
        found = [events.deal_event("deal.created", deal=record, by=actor, occurred_at=at,
                                   source_campaign_id=deal.source_campaign_id)]
    else:
        found = [events.deal_event("deal.stage_changed", deal=record, by=actor, occurred_at=at,
                                   from_stage={"id": from_stage.pk, "name": from_stage.name})]
    if deal.status != Deal.Status.OPEN and (from_stage is None or from_stage.outcome != deal.status):
        reason = deal.won_reason if deal.status == Deal.Status.WON else deal.loss_reason
        found.append(events.deal_event(f"deal.{deal.status}", deal=record, by=actor, occurred_at=at,
                                       reason=reason))
    publish_events(events=found)


def _pipeline(pipeline_id: int) -> Pipeline:
    pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
    if pipeline is None:
        raise ValidationFailed(f"No pipeline {pipeline_id}.", field="pipeline_id")
    return pipeline


def _stage(stage_id: int) -> PipelineStage:
    stage = PipelineStage.objects.select_related("pipeline").filter(pk=stage_id).first()
    if stage is None:
        raise ValidationFailed(f"No stage {stage_id}.", field="stage_id")
    return stage


def _first_stage(pipeline: Pipeline) -> PipelineStage:
    stages = pipeline.stages.order_by("order", "id")
    stage = stages.filter(outcome=PipelineStage.Outcome.OPEN).first() or stages.first()
    if stage is None:
        raise ValidationFailed(f"Pipeline {pipeline.pk} has no stages.", field="pipeline_id")
    return stage


def _check_stage_in_pipeline(stage: PipelineStage, pipeline: Pipeline) -> None:
    if stage.pipeline_id != pipeline.pk:
        raise ValidationFailed(
            f"Stage {stage.pk} belongs to pipeline {stage.pipeline_id}, not {pipeline.pk}.",
            field="stage_id",
        )
