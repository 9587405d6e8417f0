"""API schemas for the signed-in user and their tokens, plus the pieces every app's API shares.

The shared pieces (InSchema, ObjectId, Moment, omittable, Page, UserRef) live here, in the
lowest app with an API, because apps may import downwards only; they would sit better in
core once core grows an API module.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.conf import settings
from django.utils import timezone
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import AfterValidator, ConfigDict

# Ids are 64-bit in the database; a larger number must be refused as input, not sent to SQL.
MAX_ID = 2**63 - 1

ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _as_utc(value: dt.datetime) -> dt.datetime:
    # A time without an offset is read in the site's time zone, as the pages do.
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("The time is out of range.") from None


Moment = Annotated[dt.datetime, AfterValidator(_as_utc)]


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omittable(**constraints: Any) -> Any:
    """Declare a PATCH field that may be left out but, when sent, must not be null."""
    # Pydantic does not validate defaults, so leaving the field out yields None (and
    # leaves it out of model_fields_set), while an explicit null fails the type check.
    return Field(default=None, json_schema_extra=_drop_default, **constraints)


class InSchema(Schema):
    """Base of request bodies: an unknown or read-only field is refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Page(LimitOffsetPagination):
    """Limit/offset pages whose bounds the database can take, with the total `count`."""

    class Input(Schema):
        limit: int = Field(
            100,
            ge=1,
            le=settings.NINJA_PAGINATION_MAX_LIMIT,
            description="Items per page (at most ACCORD_API_PAGE_SIZE_MAX).",
        )
        offset: int = Field(0, ge=0, le=MAX_ID, description="Items to skip.")


class UserRef(Schema):
    id: int
    username: str
    name: str = Field(description="Full name, or the username when no name is set.")

    @staticmethod
    def resolve_name(user) -> str:
        return user.get_full_name() or user.username


class TeamRef(Schema):
    id: int
    name: str


class MeOut(Schema):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    role: str
    team: TeamRef | None
    actions: list[str] = Field(
        description="What this user's role allows (core.permissions.Action)."
    )


class TokenIn(InSchema):
    name: str = Field(min_length=1, max_length=100, description="What the token is for.")
    expires_at: Moment | None = Field(
        None, description="When the token stops working; never, if left out. Must be in the future."
    )


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart.")
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(
        description="The secret, shown this once and never again: send it as `Authorization: Bearer <token>`."
    )
