from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from accord.sla.document import parse_sla
from accord.sla.domain import (
    CalendarError,
    WorkCalendar,
    add_working_time,
    calendar_from_json,
    calendar_to_json,
    without_pauses,
    working_time_between,
)
from accord.sla.services import DEFAULT_SLA

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN)


def test_four_working_hours_from_friday_afternoon_fall_due_on_monday_morning():
    calendar = WorkCalendar(timezone="Europe/Berlin")  # Mon-Fri 09-17
    due = add_working_time(berlin(2026, 11, 27, 16, 0), timedelta(hours=4), calendar)
    assert due == berlin(2026, 11, 30, 12, 0)


def test_a_lead_assigned_at_night_starts_its_clock_when_the_office_opens():
    calendar = WorkCalendar(timezone="Europe/Berlin")
    due = add_working_time(berlin(2026, 11, 24, 22, 30), timedelta(hours=1), calendar)
    assert due == berlin(2026, 11, 25, 10, 0)


def test_a_holiday_is_skipped_like_a_weekend():
    calendar = WorkCalendar(timezone="Europe/Berlin", holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)}))
    # Wednesday 23 Dec 16:00 + 2 h: 1 h on Wednesday, then Thu 24 and Fri 25 are holidays, then the weekend.
    due = add_working_time(berlin(2026, 12, 23, 16, 0), timedelta(hours=2), calendar)
    assert due == berlin(2026, 12, 28, 10, 0)


def test_the_clock_keeps_wall_clock_hours_across_the_autumn_dst_change():
    calendar = WorkCalendar(timezone="America/New_York")
    # DST ends on Sunday 1 Nov 2026 in New York: Friday 16:00 EDT + 2 h = Monday 10:00 EST.
    start = datetime(2026, 10, 30, 16, 0, tzinfo=NEW_YORK)
    due = add_working_time(start, timedelta(hours=2), calendar)
    assert due == datetime(2026, 11, 2, 10, 0, tzinfo=NEW_YORK)
    assert due.astimezone(UTC) == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    # Elapsed real time is 2 days 19 h: the night of the change is an hour longer.
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=2, hours=19)


def test_a_round_the_clock_calendar_counts_the_short_spring_dst_day_as_23_hours():
    calendar = WorkCalendar(timezone="Europe/Berlin", hours={d: ((time(0), time(23, 59, 59)),) for d in range(7)})
    # 29 March 2026: clocks jump from 02:00 to 03:00 in Berlin.
    worked = working_time_between(berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 29, 23, 59, 59), calendar)
    assert worked == timedelta(hours=22, minutes=59, seconds=59)


def test_hours_until_midnight_run_on_into_the_next_day_without_losing_a_minute():
    document = parse_sla(DEFAULT_SLA.read_text(encoding="utf-8").split("calendars:")[0]
                         + 'calendars:\n  default:\n    timezone: UTC\n    hours: {mon: ["00:00-24:00"], tue: ["00:00-24:00"]}\n')
    calendar = calendar_from_json(calendar_to_json(document.calendar_for(team_name=None)))

    # Monday 22:00 + 4 h of working time, across midnight into Tuesday
    due = add_working_time(datetime(2026, 11, 30, 22, 0, tzinfo=UTC), timedelta(hours=4), calendar)

    assert due == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert working_time_between(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC),
                                calendar) == timedelta(hours=48)


def test_working_time_between_two_moments_ignores_nights_and_weekends():
    calendar = WorkCalendar(timezone="Europe/Berlin")
    worked = working_time_between(berlin(2026, 11, 27, 15, 0), berlin(2026, 11, 30, 11, 0), calendar)
    assert worked == timedelta(hours=4)


def test_time_inside_a_pause_does_not_count():
    calendar = WorkCalendar(timezone="Europe/Berlin")
    pause = (berlin(2026, 11, 30, 10, 0), berlin(2026, 11, 30, 12, 0))
    elapsed = without_pauses(berlin(2026, 11, 30, 9, 0), berlin(2026, 11, 30, 17, 0), [pause], calendar)
    assert elapsed == timedelta(hours=6)


def test_overlapping_pauses_are_not_subtracted_twice():
    calendar = WorkCalendar(timezone="Europe/Berlin")
    pauses = [
        (berlin(2026, 11, 30, 10, 0), berlin(2026, 11, 30, 12, 0)),
        (berlin(2026, 11, 30, 11, 0), berlin(2026, 11, 30, 13, 0)),
    ]
    elapsed = without_pauses(berlin(2026, 11, 30, 9, 0), berlin(2026, 11, 30, 17, 0), pauses, calendar)
    assert elapsed == timedelta(hours=5)


def test_split_shifts_count_only_their_open_hours():
    calendar = WorkCalendar(timezone="UTC", hours={0: ((time(8), time(12)), (time(13), time(17)))})
    due = add_working_time(datetime(2026, 11, 30, 11, 0, tzinfo=UTC), timedelta(hours=2), calendar)
    assert due == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def test_a_calendar_without_any_working_hours_is_refused_instead_of_looping():
    calendar = WorkCalendar(timezone="UTC", hours={})
    with pytest.raises(CalendarError, match="no working time"):
        add_working_time(datetime(2026, 11, 30, tzinfo=UTC), timedelta(hours=1), calendar)


def test_an_interval_that_ends_before_it_starts_is_refused_with_the_weekday():
    with pytest.raises(CalendarError, match="weekday 2"):
        WorkCalendar(hours={2: ((time(17), time(9)),)})


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add_working_time(datetime(2026, 11, 30, 9), timedelta(hours=1), WorkCalendar())
