"""The scoring rules document: its schema, and parsing it with a line for every mistake.

No Django: the vocabularies are repeated here as plain tuples, and a test checks they
match the model choices, so the document can be validated anywhere.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from accord.core.yamldoc import StrictDocument as _Strict
from accord.core.yamldoc import known, validate

INDUSTRIES = ("software", "financial", "healthcare", "manufacturing", "retail", "education",
              "professional", "hospitality", "logistics", "public", "consumer", "other")
SIZE_BANDS = ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+")
REGIONS = ("na", "emea", "apac", "latam")
SENIORITIES = ("executive", "vp", "director", "manager", "individual", "student", "consumer", "")
TOUCHPOINT_KINDS = ("page_view", "ad_click", "form_submit", "email_open", "email_click",
                    "content_download", "webinar_register", "webinar_attend", "event_visit",
                    "demo_request", "chat", "store_visit", "purchase", "referral", "unsubscribe")
ACTIVITY_KINDS = ("call", "email", "meeting", "note")
CHANNELS = ("paid_search", "paid_social", "display", "email", "webinar", "event", "content_seo",
            "referral", "partner", "outbound", "direct_offline", "organic_social", "direct")
MAX_KEYWORD_RULES = 24
MAX_DOMAIN_RULES = 24

Points = Annotated[int, Field(ge=-100, le=100)]


class KeywordRule(_Strict):
    """Points when a job title contains any of the keywords (whole words, any case)."""

    keywords: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(min_length=1)
    points: Points
    label: str = Field(min_length=1, max_length=120)

    @field_validator("keywords")
    @classmethod
    def _normalise(cls, keywords: list[str]) -> list[str]:
        return [" ".join(keyword.lower().split()) for keyword in keywords]


class DomainRule(_Strict):
    """Points when the email address is at one of the domains or a subdomain of one."""

    domains: list[Annotated[str, Field(min_length=2, max_length=253, pattern=r"^[A-Za-z0-9.-]+$")]] = Field(min_length=1)
    points: Points
    label: str = Field(min_length=1, max_length=120)

    @field_validator("domains")
    @classmethod
    def _normalise(cls, domains: list[str]) -> list[str]:
        return [domain.lower().strip(".") for domain in domains]


class Fit(_Strict):
    """Who the person is and where they work."""

    cap: Points = 60
    floor: Points = -100
    industry: dict[str, Points] = {}
    size_band: dict[str, Points] = {}
    region: dict[str, Points] = {}
    seniority: dict[str, Points] = {}
    title_keywords: list[KeywordRule] = Field(default=[], max_length=MAX_KEYWORD_RULES)
    email_domains: list[DomainRule] = Field(default=[], max_length=MAX_DOMAIN_RULES)

    @field_validator("industry")
    @classmethod
    def _industries(cls, values: dict) -> dict:
        return known(values, INDUSTRIES, "industry")

    @field_validator("size_band")
    @classmethod
    def _sizes(cls, values: dict) -> dict:
        return known(values, SIZE_BANDS, "size band")

    @field_validator("region")
    @classmethod
    def _regions(cls, values: dict) -> dict:
        return known(values, REGIONS, "region")

    @field_validator("seniority")
    @classmethod
    def _seniorities(cls, values: dict) -> dict:
        return known(values, SENIORITIES, "seniority")


class KindPoints(_Strict):
    """Points for each occurrence of a kind of touch, before decay, with an optional ceiling."""

    points: Points
    max: Annotated[int, Field(ge=0, le=100)] | None = None


class Engagement(_Strict):
    """What the person did, worth less the longer ago they did it."""

    cap: Points = 50
    floor: Points = -100
    half_life_days: float = Field(default=30.0, gt=0, le=3650)
    touchpoints: dict[str, KindPoints] = {}
    activities: dict[str, KindPoints] = {}

    @field_validator("touchpoints")
    @classmethod
    def _touch_kinds(cls, values: dict) -> dict:
        return known(values, TOUCHPOINT_KINDS, "touchpoint kind")

    @field_validator("activities")
    @classmethod
    def _activity_kinds(cls, values: dict) -> dict:
        return known(values, ACTIVITY_KINDS, "activity kind")


class RulesDocument(_Strict):
    """The whole scoring rules document."""

    description: str = ""
    fit: Fit = Fit()
    engagement: Engagement = Engagement()
    total_cap: Annotated[int, Field(ge=1, le=100)] = 100

    @model_validator(mode="after")
    def _caps_in_order(self) -> RulesDocument:
        for name, part in (("fit", self.fit), ("engagement", self.engagement)):
            if part.floor > part.cap:
                raise ValueError(f"{name}.floor ({part.floor}) is above {name}.cap ({part.cap})")
        return self


def parse_rules(source: str) -> RulesDocument:
    """Validate a rules document, raising core.yamldoc.InvalidDocument with lines and reasons."""
    return validate(source, RulesDocument)
