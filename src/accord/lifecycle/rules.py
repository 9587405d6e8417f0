"""The routing document: the MQL threshold and who gets a new MQL, validated with a line per mistake.

No Django: vocabularies are repeated as plain tuples (a test checks they match the model
choices), so the document can be validated anywhere. Team names are checked against the
database by lifecycle.services when the document is published.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from accord.core.yamldoc import StrictDocument as _Strict
from accord.core.yamldoc import known, validate

INDUSTRIES = ("software", "financial", "healthcare", "manufacturing", "retail", "education",
              "professional", "hospitality", "logistics", "public", "consumer", "other")
SIZE_BANDS = ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+")
REGIONS = ("na", "emea", "apac", "latam")
SEGMENTS = ("b2b", "b2c")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Match(_Strict):
    """What a lead must have for a rule to fire; a missing list matches anything."""

    region: list[str] = []
    segment: list[str] = []
    industry: list[str] = []
    size_band: list[str] = []

    @field_validator("region")
    @classmethod
    def _regions(cls, values: list[str]) -> list[str]:
        return known(values, REGIONS, "region")

    @field_validator("segment")
    @classmethod
    def _segments(cls, values: list[str]) -> list[str]:
        return known(values, SEGMENTS, "segment")

    @field_validator("industry")
    @classmethod
    def _industries(cls, values: list[str]) -> list[str]:
        return known(values, INDUSTRIES, "industry")

    @field_validator("size_band")
    @classmethod
    def _sizes(cls, values: list[str]) -> list[str]:
        return known(values, SIZE_BANDS, "size band")


class Rule(_Strict):
    """Send leads that match to a team, shared round-robin among its available reps."""

    name: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    when: Match = Match()
    team: str = Field(min_length=1, max_length=100)


class WorkingHours(_Strict):
    """When reps take new leads, in each team's own time zone."""

    days: list[str] = Field(default=["mon", "tue", "wed", "thu", "fri"], min_length=1)
    start: str = "09:00"
    end: str = "17:00"

    @field_validator("days")
    @classmethod
    def _days(cls, values: list[str]) -> list[str]:
        return known([value.lower() for value in values], WEEKDAYS, "weekday")

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(str(value)):
            raise ValueError(f"{value!r} is not a time of day as HH:MM (24-hour)")
        return str(value)

    @model_validator(mode="after")
    def _start_before_end(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError(f"start ({self.start}) must be before end ({self.end})")
        return self

    def weekday_hours(self) -> dict[int, tuple[tuple[time, time], ...]]:
        """Return the hours as sla.domain.WorkCalendar takes them: weekday → ((start, end),)."""
        opens, closes = time.fromisoformat(self.start), time.fromisoformat(self.end)
        return {WEEKDAYS.index(day): ((opens, closes),) for day in self.days}


class RoutingDocument(_Strict):
    """The whole routing document."""

    description: str = ""
    mql_threshold: Annotated[int, Field(ge=1, le=100)] = 60
    # The person who already owns the contact, or its account, keeps the relationship.
    keep_existing_owner: bool = True
    account_owner_first: bool = True
    rules: list[Rule] = Field(default=[], max_length=200)
    # Where leads go that no rule matches; without one they wait unassigned for a manager.
    fallback_team: str | None = Field(default=None, min_length=1, max_length=100)
    working_hours: WorkingHours = WorkingHours()

    @model_validator(mode="after")
    def _unique_rule_names(self) -> RoutingDocument:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named {rule.name!r}; rule names must be unique")
            seen.add(rule.name)
        return self

    def team_names(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Return each team the document names with the path of the value that names it."""
        named = [(("rules", index, "team"), rule.team) for index, rule in enumerate(self.rules)]
        if self.fallback_team:
            named.append((("fallback_team",), self.fallback_team))
        return named


def parse_routing(source: str) -> RoutingDocument:
    """Validate a routing document, raising core.yamldoc.InvalidDocument with lines and reasons."""
    return validate(source, RoutingDocument)
