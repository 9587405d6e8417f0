"""Working time: the clock an SLA runs on.

Pure functions, no Django. A calendar is a team's business hours per weekday in its own
time zone, plus holidays. Clocks count only working time, so "first touch within
4 working hours" assigned at 16:00 on a Friday falls due at 12:00 on Monday
(with 9-17 hours), and a public holiday or a daylight-saving change moves it correctly:
hours are laid out in local wall-clock time and converted to UTC instant by instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")
MAX_DAYS_SCANNED = 3 * 366  # a calendar with no working time at all must not loop forever


class CalendarError(ValueError):
    """Raise when a calendar cannot be used (e.g. it has no working hours at all)."""


@dataclass(frozen=True)
class WorkCalendar:
    """Business hours per weekday (0 = Monday) as (start, end) local times, a time zone, and holidays."""

    timezone: str = "UTC"
    hours: dict[int, tuple[tuple[time, time], ...]] = field(
        default_factory=lambda: {day: ((time(9), time(17)),) for day in range(5)}
    )
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises on an unknown zone name
        for day, intervals in self.hours.items():
            if not 0 <= day <= 6:
                raise CalendarError(f"weekday {day} is not 0 (Monday) to 6 (Sunday)")
            for start, end in intervals:
                if not start < end:
                    raise CalendarError(f"on weekday {day}, {start:%H:%M} is not before {end:%H:%M}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """Return the day's working intervals as UTC datetimes."""
        if day in self.holidays:
            return []
        zone = self.zone
        result = []
        for start, end in sorted(self.hours.get(day.weekday(), ())):
            # Arithmetic happens in UTC: Python subtracts and compares two datetimes that
            # share a tzinfo by wall clock, which is wrong across a DST change. fold=0
            # picks the first of an ambiguous local time.
            opens = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
            closes = (datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone) if end == time.max
                      else datetime.combine(day, end, tzinfo=zone)).astimezone(UTC)
            if opens < closes:
                result.append((opens, closes))
        return result


def _working_intervals(calendar: WorkCalendar, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Yield working intervals from the one containing `since` onwards, clipped to start at `since`."""
    if since.tzinfo is None:
        raise ValueError("working-time clocks need aware datetimes")
    since = since.astimezone(UTC)
    day = since.astimezone(calendar.zone).date() - timedelta(days=1)
    empty_days = 0
    while empty_days <= MAX_DAYS_SCANNED:
        intervals = calendar.intervals_on(day)
        empty_days = 0 if intervals else empty_days + 1
        for opens, closes in intervals:
            if closes <= since:
                continue
            yield max(opens, since), closes
        day += timedelta(days=1)
    raise CalendarError("the calendar has no working time in the next three years")


def add_working_time(start: datetime, duration: timedelta, calendar: WorkCalendar) -> datetime:
    """Return the moment `duration` of working time after `start`."""
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    remaining = duration
    for opens, closes in _working_intervals(calendar, start):
        available = closes - opens
        if remaining <= available:
            return (opens + remaining).astimezone(start.tzinfo)
        remaining -= available
    raise AssertionError("unreachable: _working_intervals raises before running out")


def working_time_between(start: datetime, end: datetime, calendar: WorkCalendar) -> timedelta:
    """Return how much working time lies between two moments (zero if end is not after start)."""
    total = timedelta(0)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return total
    for opens, closes in _working_intervals(calendar, start):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total


def without_pauses(
    start: datetime, end: datetime, pauses: Iterable[tuple[datetime, datetime]], calendar: WorkCalendar
) -> timedelta:
    """Return the working time between start and end, less the working time spent in pauses.

    Overlapping pauses count once.
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    elapsed = working_time_between(start, end, calendar)
    clipped = sorted(
        (max(start, lo.astimezone(UTC)), min(end, hi.astimezone(UTC))) for lo, hi in pauses
    )
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in clipped:
        if lo >= hi:
            continue
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    for lo, hi in merged:
        elapsed -= working_time_between(lo, hi, calendar)
    return elapsed


# -- clocks -------------------------------------------------------------------------------


def calendar_to_json(calendar: WorkCalendar) -> dict:
    """Return the calendar as plain JSON, to freeze on a clock when it opens."""
    return {
        "timezone": calendar.timezone,
        # isoformat keeps time.max ("until midnight") exact: 23:59:59.999999.
        "hours": {str(day): [[a.isoformat(), b.isoformat()] for a, b in spans]
                  for day, spans in sorted(calendar.hours.items())},
        "holidays": sorted(day.isoformat() for day in calendar.holidays),
    }


def calendar_from_json(data: dict) -> WorkCalendar:
    if not data:
        return WorkCalendar()
    return WorkCalendar(
        timezone=data["timezone"],
        hours={int(day): tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in spans)
               for day, spans in data["hours"].items()},
        holidays=frozenset(date.fromisoformat(day) for day in data["holidays"]),
    )


@dataclass(frozen=True)
class ClockSpec:
    """What a clock needs to place its instants: when it started, how long it allows, on which time."""

    started_at: datetime
    budget: timedelta
    working: bool
    calendar: WorkCalendar
    paused: timedelta = timedelta(0)

    def after(self, amount: timedelta) -> datetime:
        """Return the instant when `amount` of the clock's time (plus pauses) has run since it started."""
        if self.working:
            return add_working_time(self.started_at, amount + self.paused, self.calendar)
        return self.started_at + amount + self.paused

    def due_at(self) -> datetime:
        return self.after(self.budget)

    def warn_at(self, share: float) -> datetime:
        return self.after(self.budget * share)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Return the clock's kind of time between two moments (working or plain)."""
        if self.working:
            return working_time_between(start, end, self.calendar)
        return max(end - start, timedelta(0))

    def remaining(self, now: datetime) -> timedelta:
        """Return the time left before the clock is due (negative once overdue), in its own time."""
        used = self.elapsed(self.started_at, now) - self.paused
        return self.budget - used


def working_until(now: datetime, calendar: WorkCalendar) -> datetime | None:
    """Return when the working interval `now` falls in closes, or None outside working hours."""
    for opens, closes in _working_intervals(calendar, now):
        return closes if opens <= now.astimezone(UTC) else None
    return None
