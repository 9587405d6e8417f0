"""The periods compliance is reported over: named ones (this week … last quarter), custom ranges, trend buckets.

Pure date arithmetic, no Django. Weeks start on Monday. A period's `end` is its last day,
included; `today` decides which week, month or quarter "this" means.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

NAMED = ("this_week", "last_week", "this_month", "last_month", "this_quarter", "last_quarter")
GRAINS = ("week", "month")
MAX_DAYS = 366 * 2


class PeriodError(ValueError):
    """Raise when a period cannot be read; `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Period:
    """Whole days from `start` to `end`, both included."""

    start: date
    end: date
    label: str
    key: str  # what the period is asked for by: a name from NAMED, or "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range(self.days)]

    def elapsed_days(self, today: date) -> int:
        """Return how many of the period's days have begun by `today` (today included)."""
        return max(0, min(self.days, (today - self.start).days + 1))


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def quarter_of(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def named(name: str, today: date) -> Period:
    """Return a named period around `today`."""
    if name == "this_week":
        start = week_of(today)
        return Period(start, start + timedelta(days=6), f"Week of {start:%d %b %Y}", name)
    if name == "last_week":
        start = week_of(today) - timedelta(days=7)
        return Period(start, start + timedelta(days=6), f"Week of {start:%d %b %Y}", name)
    if name in ("this_month", "last_month"):
        start = today.replace(day=1) if name == "this_month" else _add_months(today.replace(day=1), -1)
        return Period(start, month_end(start), f"{start:%B %Y}", name)
    if name in ("this_quarter", "last_quarter"):
        start = quarter_of(today) if name == "this_quarter" else _add_months(quarter_of(today), -3)
        end = _add_months(start, 3) - timedelta(days=1)
        return Period(start, end, f"Q{(start.month - 1) // 3 + 1} {start.year}", name)
    raise PeriodError("period", f"Unknown period {name!r}; use one of {', '.join(NAMED)}, or custom.")


def _date(text: str | None, field: str) -> date:
    if not text:
        raise PeriodError(field, f"A custom period needs {field} (YYYY-MM-DD).")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PeriodError(field, f"{text!r} is not a date like 2026-11-01.") from None


def parse(name: str | None, today: date, *, start: str | None = None, end: str | None = None) -> Period:
    """Return the period asked for: a name from NAMED (default this month), or "custom" with start and end."""
    name = name or "this_month"
    if name != "custom":
        return named(name, today)
    first, last = _date(start, "start"), _date(end, "end")
    if last < first:
        raise PeriodError("end", "The end is before the start.")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError("end", f"A custom period may span at most {MAX_DAYS} days.")
    return Period(first, last, f"{first:%d %b %Y} – {last:%d %b %Y}", "custom")


def trend(grain: str, today: date, count: int) -> list[Period]:
    """Return the last `count` weeks or months, oldest first, the current one (to date) last."""
    if grain not in GRAINS:
        raise PeriodError("grain", f"Unknown grain {grain!r}; use week or month.")
    if grain == "week":
        first = week_of(today)
        starts = [first - timedelta(days=7 * back) for back in range(count - 1, -1, -1)]
        return [Period(s, s + timedelta(days=6), f"{s:%d %b}", "week") for s in starts]
    first = today.replace(day=1)
    starts = [_add_months(first, -back) for back in range(count - 1, -1, -1)]
    return [Period(s, month_end(s), f"{s:%b %Y}", "month") for s in starts]
