"""API schemas for the rejection taxonomy."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from accord.accounts.schemas import InSchema

Outcome = Literal["nurture", "disqualify"]


class RejectionReasonOut(Schema):
    code: str
    label: str
    description: str
    outcome: str = Field(description="Where a lead rejected for this reason goes: nurture or disqualify.")
    note_required: bool
    is_active: bool = Field(description="False once retired: kept for old feedback, refused for new rejections.")
    order: int
    retired_at: dt.datetime | None


class RejectionReasonIn(InSchema):
    code: str = Field(max_length=32, description="Permanent: lower-case letters, digits and underscores.")
    label: str = Field(max_length=100)
    description: str = Field("", max_length=500)
    outcome: Outcome
    note_required: bool = False


class RejectionReasonUpdate(InSchema):
    label: str = Field(max_length=100)
    description: str = Field("", max_length=500)
    outcome: Outcome
    note_required: bool = False


class ReasonOrderIn(InSchema):
    codes: list[str] = Field(description="Every active reason's code, once, in the order reps should see them.")
