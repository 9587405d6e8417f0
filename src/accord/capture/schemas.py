"""API schemas for accounts (companies), contacts and campaigns: In, Patch, Out and list filters."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Literal

import msgspec
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import timezone
from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict, PrivateAttr, field_validator, model_validator

from accord.accounts.schemas import InSchema, Moment, ObjectId, UserRef, omittable
from accord.capture.domain import origin_of
from accord.capture.ingestion import Event
from accord.capture.models import Account, Campaign, Contact, Industry, SizeBand, Touchpoint
from accord.core.vocabulary import Channel, LifecycleStage, Region, Segment

# Choice fields as Literals, so the OpenAPI document lists the allowed values.
# A blank value means "not known" where the model allows it.
IndustryValue = Literal[tuple(["", *Industry.values])]
SizeBandValue = Literal[tuple(["", *SizeBand.values])]
RegionValue = Literal[tuple(["", *Region.values])]
SegmentValue = Literal[tuple(Segment.values)]
BlankableSegment = Literal[tuple(["", *Segment.values])]
TradeChannelValue = Literal[tuple(Account.TradeChannel.values)]
PresenceValue = Literal[tuple(Account.Presence.values)]
SeniorityValue = Literal[tuple(Contact.Seniority.values)]
ChannelValue = Literal[tuple(Channel.values)]
LeadSourceValue = Literal[tuple(["", *Channel.values])]
StageValue = Literal[tuple(LifecycleStage.values)]
CampaignKindValue = Literal[tuple(Campaign.Kind.values)]
CampaignStatusValue = Literal[tuple(Campaign.Status.values)]

CountryCode = Annotated[
    str,
    Field(
        pattern=r"^([A-Z]{2})?$", description="ISO 3166-1 alpha-2, upper case; blank if unknown."
    ),
]
CurrencyCode = Annotated[
    str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, upper case.")
]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Email = Annotated[
    str,
    Field(
        max_length=254,
        description="Stored trimmed and in lower case; unique regardless of case (409 if taken).",
    ),
]


class AccountRef(Schema):
    id: int
    name: str


class CampaignRef(Schema):
    id: int
    name: str


# Accounts -------------------------------------------------------------------------------


class AccountIn(InSchema):
    name: str = Field(min_length=1, max_length=200)
    domain: str = Field(
        "",
        max_length=253,
        description="Web domain, stored in lower case; unique regardless of case.",
    )
    industry: IndustryValue = ""
    size_band: SizeBandValue = ""
    region: RegionValue = ""
    country: CountryCode = ""
    segment: SegmentValue = Segment.B2B.value
    trade_channel: TradeChannelValue = Account.TradeChannel.DIRECT.value
    presence: PresenceValue = Account.Presence.ONLINE.value
    owner_id: ObjectId | None = Field(
        None,
        description="Who owns the account. Left out: the caller for sales roles, else nobody. "
        "A rep may only name themselves, a manager someone in their team.",
    )


class AccountPatch(InSchema):
    name: str = omittable(min_length=1, max_length=200)
    domain: str = omittable(max_length=253)
    industry: IndustryValue = omittable()
    size_band: SizeBandValue = omittable()
    region: RegionValue = omittable()
    country: CountryCode = omittable()
    segment: SegmentValue = omittable()
    trade_channel: TradeChannelValue = omittable()
    presence: PresenceValue = omittable()
    owner_id: ObjectId | None = None


class AccountOut(Schema):
    id: int
    name: str
    domain: str
    industry: str
    size_band: str
    region: str
    country: str
    segment: str
    trade_channel: str
    presence: str
    owner: UserRef | None
    created_at: dt.datetime
    updated_at: dt.datetime


class AccountFilters(Schema):
    segment: SegmentValue | None = None
    region: RegionValue | None = None
    industry: IndustryValue | None = None
    owner_id: ObjectId | None = None
    domain: str | None = Field(None, max_length=253, description="Exact domain, any case.")
    q: str | None = Field(
        None, min_length=1, max_length=200, description="Name or domain starts with this, any case."
    )


# Contacts -------------------------------------------------------------------------------

_STAGE_NOTE = (
    "Read-only here: stage changes go through the lifecycle workflow, which records each "
    "change; new contacts start as leads."
)


class ContactIn(InSchema):
    email: Email | None = None
    first_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
    phone: str = Field("", max_length=40)
    title: str = Field("", max_length=150)
    seniority: SeniorityValue = ""
    account_id: ObjectId | None = Field(None, description="An account you can see.")
    owner_id: ObjectId | None = Field(
        None,
        description="Who owns the contact. Left out: the caller for sales roles, else nobody. "
        "A rep may only name themselves, a manager someone in their team.",
    )
    lead_source: LeadSourceValue = ""
    original_campaign_id: ObjectId | None = None
    country: CountryCode = ""
    region: RegionValue = ""


class ContactPatch(InSchema):
    email: Email | None = None
    first_name: str = omittable(max_length=100)
    last_name: str = omittable(max_length=100)
    phone: str = omittable(max_length=40)
    title: str = omittable(max_length=150)
    seniority: SeniorityValue = omittable()
    account_id: ObjectId | None = None
    owner_id: ObjectId | None = None
    lead_source: LeadSourceValue = omittable()
    original_campaign_id: ObjectId | None = None
    country: CountryCode = omittable()
    region: RegionValue = omittable()


class ContactOut(Schema):
    id: int
    email: str | None
    first_name: str
    last_name: str
    full_name: str
    phone: str
    title: str
    seniority: str
    account: AccountRef | None
    owner: UserRef | None
    lifecycle_stage: str = Field(description=_STAGE_NOTE)
    stage_changed_at: dt.datetime | None
    lead_source: str
    original_campaign: CampaignRef | None
    country: str
    region: str
    score: int = Field(description="The current rule score, 0–100 (0 until the contact is first scored).")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_score(contact) -> int:
        # Lists annotate it (capture.selectors.with_scores); a contact just written reads its row.
        if hasattr(contact, "score"):
            return contact.score
        current = getattr(contact, "current_score", None)
        return current.total if current is not None else 0


class ContactFilters(Schema):
    lifecycle_stage: StageValue | None = None
    owner_id: ObjectId | None = None
    account_id: ObjectId | None = None
    lead_source: LeadSourceValue | None = None
    email: str | None = Field(None, max_length=254, description="Exact email, any case.")
    q: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="First name, last name or email starts with this, any case; "
        "two words match first and last name.",
    )
    created_after: Moment | None = Field(None, description="Created at or after this time.")
    created_before: Moment | None = Field(None, description="Created before this time.")


# Campaigns ------------------------------------------------------------------------------


class CampaignIn(InSchema):
    name: str = Field(min_length=1, max_length=200)
    channel: ChannelValue
    kind: CampaignKindValue = Campaign.Kind.OTHER.value
    status: CampaignStatusValue = Campaign.Status.PLANNED.value
    segment: BlankableSegment = ""
    start_date: dt.date | None = None
    end_date: dt.date | None = Field(None, description="On or after start_date.")
    budget: Money = Decimal(0)
    currency: CurrencyCode | None = Field(
        None, description="ISO 4217; the site's currency if left out."
    )
    owner_id: ObjectId | None = Field(
        None, description="Who runs the campaign; the caller if left out."
    )
    utm_source: str = Field("", max_length=100)
    utm_medium: str = Field("", max_length=100)
    utm_campaign: str = Field(
        "", max_length=100, description="Unique regardless of case, so touches map to one campaign."
    )
    description: str = Field("", max_length=10_000)


class CampaignPatch(InSchema):
    name: str = omittable(min_length=1, max_length=200)
    channel: ChannelValue = omittable()
    kind: CampaignKindValue = omittable()
    status: CampaignStatusValue = omittable()
    segment: BlankableSegment = omittable()
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    budget: Money = omittable()
    currency: CurrencyCode = omittable()
    owner_id: ObjectId | None = None
    utm_source: str = omittable(max_length=100)
    utm_medium: str = omittable(max_length=100)
    utm_campaign: str = omittable(max_length=100)
    description: str = omittable(max_length=10_000)


class CampaignOut(Schema):
    id: int
    name: str
    channel: str
    kind: str
    status: str
    segment: str
    start_date: dt.date | None
    end_date: dt.date | None
    budget: Decimal
    currency: str
    owner: UserRef | None
    utm_source: str
    utm_medium: str
    utm_campaign: str
    description: str
    created_at: dt.datetime
    updated_at: dt.datetime


class CampaignFilters(Schema):
    channel: ChannelValue | None = None
    status: CampaignStatusValue | None = None
    owner_id: ObjectId | None = None


# Cost entries ---------------------------------------------------------------------------

CostPeriod = Literal["day", "month"]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]


class CostIn(InSchema):
    date: dt.date = Field(description="The day spent; for a monthly cost, the month's first day.")
    period: CostPeriod = Field(
        "day", description="`month` checks that `date` is a month's first day; not stored."
    )
    amount: Money = Field(description="Spend, 0 or more, two decimals.")
    currency: CurrencyCode | None = Field(
        None, description="ISO 4217; the campaign's currency if left out."
    )
    impressions: Count | None = None
    clicks: Count | None = None
    note: str = Field("", max_length=200, description="Where the figure came from.")


class CostPatch(InSchema):
    date: dt.date = omittable()
    period: CostPeriod = omittable()
    amount: Money = omittable()
    currency: CurrencyCode = omittable()
    impressions: Count | None = None
    clicks: Count | None = None
    note: str = omittable(max_length=200)


class CostOut(Schema):
    id: int
    campaign: CampaignRef
    date: dt.date
    amount: Decimal
    currency: str
    impressions: int | None
    clicks: int | None
    source: str = Field(description="`manual` (entered by hand or the API) or `import`.")
    note: str
    created_at: dt.datetime


class CostFilters(Schema):
    date_from: dt.date | None = Field(None, description="On or after this day.")
    date_to: dt.date | None = Field(None, description="On or before this day.")


# Events ---------------------------------------------------------------------------------

MAX_BATCH = 1000
TouchKindValue = Literal[tuple(Touchpoint.Kind.values)]


# The plain shape most addresses have (lower-case, as checked here), every one of which
# Django's validator accepts: dot-separated atoms of letters, digits and _%+- before the @,
# hostname labels (no hyphen at either end, at most 63 characters) and a letters-only TLD
# after it. Matching it costs about a microsecond; Django's validator, 40. Anything else
# (quotes, IDNs, IP literals, other atom characters) is left to Django's.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


# A batch repeats people and pages, and integrations send the same ones batch after batch:
# checking each distinct email and URL once per process was most of validating a batch. The
# cache holds more people than an integration's usual rotation (an LRU smaller than a cycle
# of addresses misses every one).
@lru_cache(maxsize=65536)
def _is_email(email: str) -> bool:
    if len(email) <= 320 and _PLAIN_EMAIL.fullmatch(email):
        return True
    try:
        validate_email(email)
    except DjangoValidationError:
        return False
    return True


@lru_cache(maxsize=4096)
def _is_http_url(url: str) -> bool:
    return bool(origin_of(url))


def _optional_id(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


class EventIn(BaseModel):
    """One touch. Name the person by email, external_id or anonymous_id (at least one)."""

    # A plain pydantic model, not a ninja Schema: ninja's per-object root validator
    # (for reading ORM objects, which events never are) doubled the cost of a 1,000-event batch.
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        None,
        max_length=100,
        description="Your id for this event: an id already stored is counted as a duplicate, not stored again.",
    )
    type: TouchKindValue
    occurred_at: Moment
    email: str | None = Field(None, max_length=254, description="Trimmed and lower-cased.")
    external_id: str | None = Field(None, max_length=100, description="The contact's id in your system.")
    anonymous_id: str | None = Field(
        None, max_length=64, description="Visitor id from before the person identified themselves."
    )
    first_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
    utm_source: str = Field("", max_length=100)
    utm_medium: str = Field("", max_length=100)
    utm_campaign: str = Field("", max_length=100)
    utm_term: str = Field("", max_length=100)
    utm_content: str = Field("", max_length=100)
    url: str = Field("", max_length=1000, description="An http(s) URL, or blank.")
    referrer: str = Field("", max_length=1000, description="An http(s) URL, or blank.")
    campaign: str = Field(
        "", max_length=100, description="A campaign's utm_campaign code (any case); defaults to utm_campaign."
    )
    channel: ChannelValue | None = Field(
        None, description="Leave out to infer it from utm_medium, utm_source, the campaign and the referrer."
    )

    _ids = field_validator("id", "external_id", "anonymous_id")(_optional_id)

    @field_validator("email")
    @classmethod
    def _normal_email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        email = value.strip().lower()
        if not _is_email(email):
            raise ValueError("Enter a valid email address.")
        return email

    @field_validator("url", "referrer")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if value and not _is_http_url(value):
            raise ValueError("Give an http(s) URL.")
        return value

    @model_validator(mode="after")
    def _names_someone(self) -> EventIn:
        if not (self.email or self.external_id or self.anonymous_id):
            raise ValueError("Give email, external_id or anonymous_id.")
        return self

    def to_event(self) -> Event:
        """Return the touch to store, its texts trimmed."""
        return Event(
            kind=self.type,
            occurred_at=self.occurred_at,
            email=self.email,
            contact_external_id=self.external_id or "",
            anonymous_id=self.anonymous_id or "",
            first_name=self.first_name.strip(),
            last_name=self.last_name.strip(),
            utm_source=self.utm_source.strip(),
            utm_medium=self.utm_medium.strip(),
            utm_campaign=self.utm_campaign.strip(),
            utm_term=self.utm_term.strip(),
            utm_content=self.utm_content.strip(),
            url=self.url,
            referrer=self.referrer,
            campaign_code=self.campaign.strip(),
            channel=self.channel or "",
            event_id=self.id or "",
        )


class EventBatchIn(BaseModel):
    # Plain pydantic for the same reason as EventIn: ninja's root validator on the batch
    # cost more than validating its 1,000 events.
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(..., min_length=1, max_length=MAX_BATCH)
    # Set when the batch passed the quick check: the events to store, already built, and
    # `events` is then left empty. Read a batch through to_events().
    _checked: list[Event] | None = PrivateAttr(None)

    @model_validator(mode="wrap")
    @classmethod
    def _quick(cls, data: object, handler):
        # A batch of plain, well-formed events (what integrations send) is checked by
        # quick_events; anything else, including every batch with a problem, goes through the
        # models above, which name each problem. Both accept the same events and store the
        # same values; the quick path costs a fifth of validating 1,000 models.
        checked = quick_events(data)
        if checked is None:
            return handler(data)
        batch = cls.model_construct(events=[])
        batch._checked = checked
        return batch

    def to_events(self) -> list[Event]:
        """Return the touches to store, in the batch's order."""
        if self._checked is not None:
            return self._checked
        return [item.to_event() for item in self.events]


_MAX_LENGTHS = {
    name: next((rule.max_length for rule in field.metadata if getattr(rule, "max_length", None)), None)
    for name, field in EventIn.model_fields.items()
}
_NULLABLE = frozenset({"id", "email", "external_id", "anonymous_id", "channel"})
_KINDS = frozenset(Touchpoint.Kind.values)
_CHANNELS = frozenset(Channel.values)
# ISO 8601 as integrations write it; any other spelling pydantic accepts takes the full path.
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?")
_UNKNOWN = object()


def quick_events(data: object) -> list[Event] | None:
    """Return a batch's events if every one is plainly valid, else None (validate it in full).

    Refuses rather than decides anything unusual (a number where text goes, another date
    spelling), so it never accepts what EventIn would refuse and never stores other values.
    """
    if type(data) is not dict or data.keys() != {"events"}:
        return None
    items = data["events"]
    if type(items) is not list or not 1 <= len(items) <= MAX_BATCH:
        return None
    events = []
    for item in items:
        event = _quick_event(item)
        if event is None:
            return None
        events.append(event)
    return events


def _quick_event(item: object) -> Event | None:
    if type(item) is not dict:
        return None
    for name, value in item.items():
        limit = _MAX_LENGTHS.get(name, _UNKNOWN)
        if limit is _UNKNOWN:
            return None
        if type(value) is not str:
            if value is None and name in _NULLABLE:
                continue
            return None
        if limit is not None and len(value) > limit:
            return None
    # Every value is now text, or None where None is allowed; a missing text field is "".
    get = item.get
    return _plain_event(
        get("type"), get("occurred_at"), get("email"), get("external_id"), get("anonymous_id"),
        get("first_name", ""), get("last_name", ""), get("utm_source", ""), get("utm_medium", ""),
        get("utm_campaign", ""), get("utm_term", ""), get("utm_content", ""), get("url", ""),
        get("referrer", ""), get("campaign", ""), get("channel"), get("id"),
    )


def _plain_event(
    kind: str | None, moment: str | None, email: str | None, external_id: str | None, anonymous_id: str | None,
    first_name: str, last_name: str, utm_source: str, utm_medium: str, utm_campaign: str, utm_term: str,
    utm_content: str, url: str, referrer: str, campaign: str, channel: str | None, event_id: str | None,
) -> Event | None:
    """Return the event EventIn would build from these values (texts within their limits), or None.

    None when EventIn would refuse them or when deciding would take more than this does.
    """
    if kind not in _KINDS or (channel is not None and channel not in _CHANNELS):
        return None
    occurred_at = _iso_moment(moment) if moment is not None else None
    if occurred_at is None:
        return None
    if occurred_at.tzinfo is None:
        # As Moment reads it: a time without an offset is in the site's time zone.
        try:
            occurred_at = timezone.make_aware(occurred_at).astimezone(dt.UTC)
        except (ValueError, OverflowError):
            return None
    if email:
        email = email.strip().lower()
        if not email:
            email = None
        elif not _is_email(email):
            return None
    else:
        email = None
    url, referrer = url.strip(), referrer.strip()
    if (url and not _is_http_url(url)) or (referrer and not _is_http_url(referrer)):
        return None
    external_id = (external_id or "").strip()
    anonymous_id = (anonymous_id or "").strip()
    if not (email or external_id or anonymous_id):
        return None
    # Positional, in Event's field order (a test holds it to EventIn's, field by field): keywords
    # cost a fifth of the quick check.
    return Event(
        kind,
        occurred_at,
        email,
        external_id,
        anonymous_id,
        first_name.strip(),
        last_name.strip(),
        "",
        utm_source.strip(),
        utm_medium.strip(),
        utm_campaign.strip(),
        utm_term.strip(),
        utm_content.strip(),
        url,
        referrer,
        campaign.strip(),
        channel or "",
        (event_id or "").strip(),
    )


def _wire_event() -> type[msgspec.Struct]:
    """Build the struct a batch's JSON decodes into: EventIn's fields, types and lengths, _plain_event's order.

    Made from EventIn's own fields, so a field added there is taken here too (or refused, and
    the batch goes through the models) without a second list to keep in step.
    """
    order = ("type", "occurred_at", "email", "external_id", "anonymous_id", "first_name", "last_name",
             "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "url", "referrer",
             "campaign", "channel", "id")
    assert set(order) == set(EventIn.model_fields), "EventIn's fields and the wire struct's differ"
    fields = []
    for name in order:
        limit = _MAX_LENGTHS[name]
        text = Annotated[str, msgspec.Meta(max_length=limit)] if limit is not None else str
        if EventIn.model_fields[name].is_required():
            fields.append((name, text))
        elif name in _NULLABLE:
            fields.append((name, text | None, None))
        else:
            fields.append((name, text, EventIn.model_fields[name].default))
    return msgspec.defstruct("WireEvent", fields, kw_only=True, forbid_unknown_fields=True)


_WireEvent = _wire_event()
_WireBatch = msgspec.defstruct(
    "WireBatch",
    [("events", Annotated[list[_WireEvent], msgspec.Meta(min_length=1, max_length=MAX_BATCH)])],
    forbid_unknown_fields=True,
)
_decode_batch = msgspec.json.Decoder(_WireBatch).decode
_astuple = msgspec.structs.astuple


def events_from_json(body: bytes) -> list[Event] | None:
    """Return a batch body's events if it is plain JSON of plainly valid events, else None.

    The body is decoded straight into typed structs (msgspec, in C: types, lengths and unknown
    fields checked as it reads), then each event is finished as quick_events finishes one.
    Parsing to dicts first and checking them in Python cost 11 ms of a 1,000-event batch; this
    costs 4. Anything else, including every batch with a problem, returns None: the caller then
    parses and validates the body as every other endpoint does, which names each problem.
    """
    try:
        batch = _decode_batch(body)
    except ValueError:  # not JSON, not UTF-8 (msgspec reads only UTF-8), or not of the struct's shape
        return None
    items = [_astuple(item) for item in batch.events]
    if b"\\u" in body and _holds_unstorable_text(items):
        return None
    events = []
    for values in items:
        event = _plain_event(*values)
        if event is None:
            return None
        events.append(event)
    return events


def _holds_unstorable_text(items: list[tuple]) -> bool:
    # A \u escape can spell NUL, which PostgreSQL text cannot hold (a lone surrogate the
    # decoder refuses itself); the API's parser refuses it naming the field.
    return any("\x00" in value for values in items for value in values if value)


# Integrations stamp events to the second, so a batch repeats its times: each distinct text is
# parsed once (a cached hit costs a tenth of the pattern check and parse). Pure, so cacheable:
# the site's time zone, which a time without an offset is read in, is applied after.
@lru_cache(maxsize=4096)
def _iso_moment(text: str) -> dt.datetime | None:
    """Return the time a plain ISO 8601 text names (UTC if it has an offset, naive if not), or None."""
    if not _ISO_MOMENT.fullmatch(text):
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
        return moment if moment.tzinfo is None else moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None


class EventsOut(Schema):
    received: int
    stored: int
    duplicates: int = Field(description="Events whose id was already stored (or repeated in the batch).")
    duplicate_indexes: list[int]
    contacts_created: int
    stitched: int = Field(description="Earlier anonymous touchpoints now attached to a contact.")
    contact_ids: list[int | None] = Field(description="Per event, by index: the contact it was attached to.")
