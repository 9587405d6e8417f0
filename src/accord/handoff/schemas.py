"""API schemas for leads: the queue, one lead with its explanation, and sales' actions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Field, Schema

from accord.accounts.schemas import InSchema, Moment, ObjectId, UserRef
from accord.capture.schemas import AccountRef, CampaignRef, Money
from accord.core.vocabulary import LifecycleStage
from accord.lifecycle.models import Activity

StageValue = Literal[tuple(LifecycleStage.values)]
ActivityKind = Literal[tuple(Activity.Kind.values)]
ActivityOutcome = Literal[tuple(Activity.Outcome.values)]
QueueView = Literal["new", "working", "all", "waiting"]


class QueueFilters(Schema):
    view: QueueView = Field("all", description="new: MQLs to accept or reject; working: accepted; all: both; "
                                                "waiting: open leads waiting on the customer.")


class LeadOut(Schema):
    id: int
    name: str
    email: str | None
    title: str
    account: AccountRef | None
    original_campaign: CampaignRef | None
    owner: UserRef | None
    score: int
    lifecycle_stage: str
    stage_changed_at: dt.datetime | None
    follow_up_due: dt.datetime | None = Field(
        None, description="When the lead's soonest running SLA clock runs out; null when none runs (none opened, all met, paused or closed)."
    )

    waiting_since: dt.datetime | None = Field(
        None, description="Since when the lead waits on the customer; null when it does not (POST/DELETE …/waiting)."
    )
    waiting_note: str | None = Field(None, description="What the customer has to do, as the rep wrote it.")

    @staticmethod
    def resolve_name(contact) -> str:
        return str(contact)

    @staticmethod
    def resolve_waiting_since(contact):
        return getattr(contact, "waiting_since", None)

    @staticmethod
    def resolve_waiting_note(contact):
        return getattr(contact, "waiting_note", None)

    @staticmethod
    def resolve_follow_up_due(contact):
        return getattr(contact, "follow_up_due", None)


class FactorOut(Schema):
    text: str
    points: int


class ExplanationOut(Schema):
    total: int
    fit: int | None
    engagement: int | None
    summary: str
    up: list[FactorOut]
    down: list[FactorOut]
    predicted: str
    computed_at: dt.datetime | None


class TransitionOut(Schema):
    id: int
    from_stage: str
    to_stage: str
    occurred_at: dt.datetime
    by_user: UserRef | None
    by_rule: str
    reason: str


class LeadDetailOut(LeadOut):
    explanation: ExplanationOut
    stage_entered_at: dict[str, dt.datetime] = Field(description="When the lead first entered each stage.")


class StageIn(InSchema):
    to_stage: StageValue
    reason: str = Field("", max_length=500)


class RejectIn(InSchema):
    # Checked against the active reasons by the service, since revenue ops edits the list
    # (GET /api/v1/rejection-reasons); an unknown or retired code is a 422 naming them.
    reason: str = Field(max_length=32, description="The code of an active rejection reason.")
    note: str = Field("", max_length=2000)


class WaitIn(InSchema):
    note: str = Field(min_length=1, max_length=500,
                      description="What the customer has to do, e.g. “sent contract, they review Monday”.")


class AssignIn(InSchema):
    owner_id: ObjectId | None = Field(description="The new owner; null to let the routing rules pick.")


class ActivityIn(InSchema):
    kind: ActivityKind
    outcome: ActivityOutcome = ""
    subject: str = Field("", max_length=200)
    body: str = Field("", max_length=5000)
    occurred_at: Moment | None = None
    duration_minutes: Annotated[int, Field(ge=0, le=24 * 60)] | None = None


class ActivityOut(Schema):
    id: int
    contact_id: int | None
    kind: str
    outcome: str
    subject: str
    body: str
    occurred_at: dt.datetime
    duration_minutes: int | None
    user: UserRef | None


class ConvertIn(InSchema):
    name: str = Field("", max_length=200)
    amount: Money | None = None


class ConvertOut(Schema):
    deal_id: int
    lead: LeadOut
