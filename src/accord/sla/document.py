"""The SLA document: its schema, and parsing it with a line for every mistake.

No Django: the document is validated the same way from the web page, the CLI and tests,
and turns into `WorkCalendar`s and clock budgets with plain functions.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from accord.core.yamldoc import DocumentError, InvalidDocument, validate
from accord.core.yamldoc import StrictDocument as _Strict
from accord.sla.domain import WorkCalendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Fields a handed-over lead may be required to carry; the handoff checks them on Contact.
LEAD_FIELDS = ("email", "first_name", "last_name", "phone", "title", "account", "country",
               "region", "seniority", "lead_source")
STAGES = ("subscriber", "lead", "mql", "sal", "sql", "opportunity", "customer", "nurture",
          "disqualified")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Hours = Annotated[float, Field(gt=0, le=24 * 30)]
Share = Annotated[float, Field(gt=0, lt=1)]


def _known(values: list[str], allowed: tuple[str, ...], what: str) -> list[str]:
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r}; use one of {', '.join(allowed)}")
    return values


def _span(text: str) -> tuple[time, time]:
    match = _SPAN.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a span like '09:00-17:30'")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    midnight = h2 == 24 and m2 == 0
    if not (h1 < 24 and (h2 < 24 or midnight) and m1 < 60 and m2 < 60):
        raise ValueError(f"{text!r} is not a time of day")
    # "Until midnight" is time.max, which the working-time calendar reads as the next day's
    # 00:00: ending at 23:59 instead lost a minute of every day and moved due times by it.
    start, end = time(h1, m1), time.max if midnight else time(h2, m2)
    if not start < end:
        raise ValueError(f"in {text!r} the start is not before the end")
    return start, end


class Calendar(_Strict):
    """When a team works: a time zone, hours per weekday, and holidays."""

    # Blank: the team's own time zone (accounts.Team.timezone).
    timezone: str = ""
    hours: dict[str, list[str]] = Field(
        default_factory=lambda: {day: ["09:00-17:00"] for day in WEEKDAYS[:5]}
    )
    holidays: list[date] = []

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}; use a name like 'Europe/Berlin'") from None
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = [day for day in value if day not in WEEKDAYS]
        if unknown:
            raise ValueError(f"unknown weekday {unknown[0]!r}; use one of {', '.join(WEEKDAYS)}")
        for spans in value.values():
            for span in spans:
                _span(span)
        if not any(value.values()):
            raise ValueError("a calendar needs working hours on at least one day")
        return value

    def work_calendar(self, *, team_timezone: str = "UTC") -> WorkCalendar:
        """Return the pure-domain calendar, in the team's zone when the document names none."""
        return WorkCalendar(
            timezone=self.timezone or team_timezone or "UTC",
            hours={WEEKDAYS.index(day): tuple(sorted(_span(s) for s in spans))
                   for day, spans in self.hours.items() if spans},
            holidays=frozenset(self.holidays),
        )


class Calendars(_Strict):
    """The default calendar, and any team that works differently, by team name."""

    default: Calendar = Calendar()
    teams: dict[str, Calendar] = {}


class Marketing(_Strict):
    """What marketing commits to deliver."""

    # None: derived from the goal plan (planning.Goal, metric "mql") for the period.
    mqls_per_month: Annotated[int, Field(ge=0)] | None = None
    min_acceptance_rate: Annotated[float, Field(ge=0, le=1)] = 0.6
    required_fields: list[str] = ["email", "first_name", "last_name", "account"]

    @field_validator("required_fields")
    @classmethod
    def _fields(cls, value: list[str]) -> list[str]:
        return _known(value, LEAD_FIELDS, "lead field")


class Attempts(_Strict):
    """At least `minimum` attempts (calls, emails, meetings) over `days` before a lead may be recycled."""

    minimum: Annotated[int, Field(ge=1, le=100)] = 6
    days: Annotated[float, Field(gt=0, le=365)] = 10


class Sales(_Strict):
    """What sales commits to do with every lead handed over."""

    # Working hours from assignment to the first touch, per priority tier.
    first_touch_hours: dict[str, Hours] = {"hot": 1, "warm": 4, "cold": 8}
    default_tier: str = "warm"
    # Working hours from assignment to accept or reject.
    decision_hours: Hours = 16
    attempts: Attempts = Attempts()

    @field_validator("first_touch_hours")
    @classmethod
    def _tiers(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("name at least one priority tier")
        return value

    @model_validator(mode="after")
    def _default_tier_exists(self) -> Sales:
        if self.default_tier not in self.first_touch_hours:
            raise ValueError(
                f"default_tier {self.default_tier!r} is not one of the tiers "
                f"({', '.join(self.first_touch_hours)})"
            )
        return self


class Pauses(_Strict):
    """What stops the clocks while it lasts, e.g. a lead parked in nurture or waiting on the customer."""

    stages: list[str] = ["nurture"]
    waiting_on_customer: bool = True

    @field_validator("stages")
    @classmethod
    def _stages(cls, value: list[str]) -> list[str]:
        return _known(value, STAGES, "lifecycle stage")


class SlaDocument(_Strict):
    """The whole two-way agreement."""

    description: str = ""
    marketing: Marketing = Marketing()
    sales: Sales = Sales()
    # Share of the time allowed after which the owner is warned.
    warn_at: Share = 0.75
    on_breach: Literal["alert", "alert_and_reassign"] = "alert"
    pauses: Pauses = Pauses()
    calendars: Calendars = Calendars()

    def stops_clocks(self, *, stage: str | None, waiting_on_customer: bool = False) -> bool:
        """Tell whether a lead in this stage (and waiting on the customer or not) stops its clocks."""
        return stage in self.pauses.stages or (waiting_on_customer and self.pauses.waiting_on_customer)

    def calendar_for(self, *, team_name: str | None, team_timezone: str = "UTC") -> WorkCalendar:
        chosen = self.calendars.teams.get(team_name or "", self.calendars.default)
        return chosen.work_calendar(team_timezone=team_timezone)

    def tier(self, name: str | None) -> str:
        """Return the tier to use: the one named when the document knows it, else the default."""
        return name if name in self.sales.first_touch_hours else self.sales.default_tier

    def first_touch_budget(self, tier: str | None) -> timedelta:
        return timedelta(hours=self.sales.first_touch_hours[self.tier(tier)])

    @property
    def decision_budget(self) -> timedelta:
        return timedelta(hours=self.sales.decision_hours)

    @property
    def attempts_budget(self) -> timedelta:
        return timedelta(days=self.sales.attempts.days)


def parse_sla(source: str) -> SlaDocument:
    """Validate an SLA document, raising core.yamldoc.InvalidDocument with lines and reasons."""
    try:
        return validate(source, SlaDocument)
    except InvalidDocument as error:
        # In the order people read the file, without pydantic's "Value error, " prefix.
        problems = sorted(
            (DocumentError(e.line, e.path, e.message.removeprefix("Value error, ")) for e in error.errors),
            key=lambda e: (e.line or 0, e.path),
        )
        raise InvalidDocument(problems) from None
