"""API schemas for comments."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from accord.accounts.schemas import InSchema, UserRef


class CommentIn(InSchema):
    body: str = Field(min_length=1, max_length=5000)


class CommentOut(Schema):
    id: int
    author: UserRef | None
    body: str = Field(description="Plain text as written: escape it when showing it as HTML.")
    created_at: dt.datetime
