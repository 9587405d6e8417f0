"""API schemas for data-subject requests."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from accord.accounts.schemas import InSchema


class ErasureIn(InSchema):
    confirm: str = Field(..., max_length=254, description="The contact's email, or the word `erase`.")
    reason: str = Field("", max_length=500, description="The request or ticket reference; never the erased values.")


class ErasureOut(Schema):
    contact_id: int
    erased_at: datetime
    erased_by: str | None = Field(description="Username of who erased it.")
    reason: str
    counts: dict[str, int] = Field(description="Rows changed per table.")

    @staticmethod
    def resolve_erased_by(erasure) -> str | None:
        return erasure.erased_by.get_username() if erasure.erased_by else None
