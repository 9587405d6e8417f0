"""API schemas for deals and pipelines: In, Patch, Out and list filters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from accord.accounts.schemas import InSchema, ObjectId, UserRef, omittable
from accord.capture.schemas import AccountRef, CampaignRef, CurrencyCode, Money
from accord.deals.models import Deal

DealStatusValue = Literal[tuple(Deal.Status.values)]
LossReasonValue = Literal[tuple(Deal.LossReason.values)]
Probability = Annotated[
    Decimal,
    Field(
        ge=0,
        le=1,
        max_digits=4,
        decimal_places=3,
        description="Win probability 0–1 overriding the stage's; null uses the stage's.",
    ),
]


class StageOut(Schema):
    id: int
    name: str
    order: int
    probability: Decimal
    outcome: str


class PipelineOut(Schema):
    id: int
    name: str
    is_default: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(pipeline) -> list:
        return list(pipeline.stages.all())


class PipelineRef(Schema):
    id: int
    name: str


class StageRef(Schema):
    id: int
    name: str
    outcome: str


class DealIn(InSchema):
    name: str = Field(min_length=1, max_length=200)
    account_id: ObjectId | None = Field(None, description="An account you can see.")
    pipeline_id: ObjectId | None = Field(
        None, description="Left out: the stage's pipeline, else the default pipeline."
    )
    stage_id: ObjectId | None = Field(
        None,
        description="A stage of the pipeline; left out: its first open stage. "
        "The deal's status follows the stage's outcome.",
    )
    amount: Money = Decimal(0)
    currency: CurrencyCode | None = Field(
        None, description="ISO 4217; the site's currency if left out."
    )
    probability: Probability | None = None
    close_date: dt.date | None = None
    owner_id: ObjectId | None = Field(
        None,
        description="Who owns the deal. Left out: the caller for sales roles, else nobody. "
        "A rep may only name themselves, a manager someone in their team.",
    )
    source_campaign_id: ObjectId | None = None
    won_reason: str = Field("", max_length=200)
    loss_reason: LossReasonValue = ""


class DealPatch(InSchema):
    name: str = omittable(min_length=1, max_length=200)
    account_id: ObjectId | None = None
    pipeline_id: ObjectId = omittable(
        description="Moving to another pipeline needs a stage_id of that pipeline, "
        "unless the current stage belongs to it."
    )
    stage_id: ObjectId = omittable(description="A stage change is recorded in the deal's history.")
    amount: Money = omittable()
    currency: CurrencyCode = omittable()
    probability: Probability | None = None
    close_date: dt.date | None = None
    owner_id: ObjectId | None = None
    source_campaign_id: ObjectId | None = None
    won_reason: str = omittable(max_length=200)
    loss_reason: LossReasonValue = omittable()


class DealOut(Schema):
    id: int
    name: str
    account: AccountRef | None
    pipeline: PipelineRef
    stage: StageRef
    status: str = Field(description="Follows the stage's outcome: open, won or lost.")
    amount: Decimal
    currency: str
    probability: Decimal | None
    close_date: dt.date | None
    closed_at: dt.datetime | None
    won_reason: str
    loss_reason: str
    owner: UserRef | None
    source_campaign: CampaignRef | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DealFilters(Schema):
    status: DealStatusValue | None = None
    owner_id: ObjectId | None = None
    account_id: ObjectId | None = None
    stage_id: ObjectId | None = None
    pipeline_id: ObjectId | None = None
    close_date_from: dt.date | None = Field(None, description="Closing on or after this date.")
    close_date_to: dt.date | None = Field(None, description="Closing on or before this date.")
