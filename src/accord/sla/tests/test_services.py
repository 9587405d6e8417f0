import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.core.errors import PermissionDenied
from accord.core.permissions import Role
from accord.core.yamldoc import InvalidDocument
from accord.notifications.models import Notification
from accord.sla import selectors, services
from accord.sla.models import SlaClock, SlaVersion
from accord.sla.tests.factories import LeadAssignmentFactory, SlaClockFactory, SlaVersionFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")

SLA = """\
description: test agreement
sales:
  first_touch_hours: {{hot: 1, warm: 4, cold: 8}}
  default_tier: warm
  decision_hours: 16
  attempts: {{minimum: 3, days: 10}}
warn_at: 0.75
on_breach: {on_breach}
calendars:
  default:
    hours: {{mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"], fri: ["09:00-17:00"]}}
  teams:
    Sales DE:
      timezone: Europe/Berlin
      holidays: [2026-12-24, 2026-12-25]
"""


def berlin(*args):
    return datetime(*args, tzinfo=BERLIN)


def published(on_breach="alert"):
    return SlaVersionFactory(source=SLA.format(on_breach=on_breach))


def rep_in(team_name, timezone="UTC"):
    team = TeamFactory(name=team_name, timezone=timezone)
    return UserFactory(role=Role.SALES_REP, team=team)


def assigned(owner, at):
    return LeadAssignmentFactory(owner=owner, contact=ContactFactory(owner=owner), assigned_at=at)


def clock(assignment, kind):
    return SlaClock.objects.get(assignment=assignment, kind=kind)


# -- versions -----------------------------------------------------------------------------


def test_publishing_stores_the_next_version_with_who_when_and_why():
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    first = services.publish_sla_version(source=SLA.format(on_breach="alert"), by=admin, note="first")

    second = services.publish_sla_version(source=SLA.format(on_breach="alert_and_reassign"), by=admin,
                                          note="reassign on breach")

    assert (first.version, second.version) == (1, 2)
    assert second.created_by == admin
    assert second.note == "reassign on breach"
    assert second.document["on_breach"] == "alert_and_reassign"
    assert selectors.version_in_force() == second


def test_an_invalid_document_is_refused_with_its_lines_and_nothing_is_stored():
    source = "warn_at: 1.5\nsales:\n  first_touch_hours: {hot: -1}\non_breach: shout\n"

    with pytest.raises(InvalidDocument) as refused:
        services.publish_sla_version(source=source)

    assert [str(e) for e in refused.value.errors] == [
        "line 1: warn_at: Input should be less than 1",
        "line 3: sales.first_touch_hours.hot: Input should be greater than 0",
        "line 4: on_breach: Input should be 'alert' or 'alert_and_reassign'",
    ]
    assert SlaVersion.objects.count() == 0


def test_an_unknown_time_zone_is_refused_naming_the_line():
    source = "calendars:\n  default:\n    timezone: Mars/Olympus\n"

    with pytest.raises(InvalidDocument) as refused:
        services.publish_sla_version(source=source)

    assert [str(e) for e in refused.value.errors] == [
        "line 3: calendars.default.timezone: unknown time zone 'Mars/Olympus'; use a name like 'Europe/Berlin'"
    ]


def test_a_sales_rep_may_not_publish_the_sla():
    with pytest.raises(PermissionDenied):
        services.publish_sla_version(source=SLA.format(on_breach="alert"), by=UserFactory(role=Role.SALES_REP))

    assert SlaVersion.objects.count() == 0


def test_the_version_in_force_at_a_past_moment_is_the_one_published_before_it():
    old = SlaVersionFactory(effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    SlaVersionFactory(effective_from=datetime(2026, 6, 1, tzinfo=UTC))

    assert selectors.version_in_force(datetime(2026, 3, 1, tzinfo=UTC)) == old
    assert selectors.version_in_force(datetime(2025, 3, 1, tzinfo=UTC)) is None


def test_the_shipped_default_is_published_the_first_time_clocks_need_an_sla():
    version, document = services.sla_in_force()

    assert version.version == 1
    assert version.note == "Shipped default"
    assert document.sales.first_touch_hours == {"hot": 1, "warm": 4, "cold": 8}


def test_a_lead_assigned_before_the_first_version_took_effect_runs_on_the_first_version():
    first = SlaVersionFactory(effective_from=datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 26, 9, 0))

    services.open_clocks(assignment=assignment)

    assert SlaVersion.objects.count() == 1
    assert clock(assignment, SlaClock.Kind.FIRST_TOUCH).sla_version == first


# -- due times ----------------------------------------------------------------------------


def test_a_lead_assigned_on_friday_afternoon_is_due_on_monday_in_the_teams_working_hours():
    published()
    rep = rep_in("Sales DE")
    assignment = assigned(rep, berlin(2026, 11, 27, 16, 0))

    services.open_clocks(assignment=assignment, tier="warm")

    first_touch = clock(assignment, SlaClock.Kind.FIRST_TOUCH)
    assert first_touch.due_at == berlin(2026, 11, 30, 12, 0)
    assert first_touch.warn_at == berlin(2026, 11, 30, 11, 0)  # 75 % of 4 working hours
    assert first_touch.calendar["timezone"] == "Europe/Berlin"
    assert clock(assignment, SlaClock.Kind.DECISION).due_at == berlin(2026, 12, 1, 16, 0)
    attempts = clock(assignment, SlaClock.Kind.ATTEMPTS)
    assert attempts.due_at == berlin(2026, 12, 7, 16, 0)  # ten calendar days
    assert attempts.attempts_required == 3


def test_the_teams_holidays_are_skipped():
    published()
    rep = rep_in("Sales DE")
    assignment = assigned(rep, berlin(2026, 12, 23, 16, 0))

    services.open_clocks(assignment=assignment, tier="hot")
    services.open_clocks(assignment=assigned(rep, berlin(2026, 12, 23, 16, 30)), tier="cold")

    # 1 working hour from Wednesday 16:00 is 17:00 the same day; hot is 1 h.
    assert clock(assignment, SlaClock.Kind.FIRST_TOUCH).due_at == berlin(2026, 12, 23, 17, 0)
    decision = clock(assignment, SlaClock.Kind.DECISION)
    # 16 h: 1 h on Wednesday, Thursday and Friday are holidays, then 8 h Monday and 7 h Tuesday.
    assert decision.due_at == berlin(2026, 12, 29, 16, 0)


@pytest.mark.parametrize(
    ("assigned_at", "due_local", "due_utc"),
    [
        # DST starts in New York on Sunday 8 March 2026: Friday is EST (UTC-5), Monday EDT (UTC-4).
        ((2026, 3, 6, 16, 0), (2026, 3, 9, 12, 0), (2026, 3, 9, 16, 0)),
        # DST ends on Sunday 1 November 2026: Friday is EDT (UTC-4), Monday EST (UTC-5).
        ((2026, 10, 30, 16, 0), (2026, 11, 2, 12, 0), (2026, 11, 2, 17, 0)),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_team_without_its_own_calendar_works_the_default_hours_in_its_own_zone_across_dst(
    assigned_at, due_local, due_utc
):
    published()
    rep = rep_in("Sales US", timezone="America/New_York")
    assignment = assigned(rep, datetime(*assigned_at, tzinfo=NEW_YORK))

    services.open_clocks(assignment=assignment, tier="warm")

    due = clock(assignment, SlaClock.Kind.FIRST_TOUCH).due_at
    assert due == datetime(*due_local, tzinfo=NEW_YORK)
    assert due.astimezone(UTC) == datetime(*due_utc, tzinfo=UTC)


def test_an_unknown_tier_gets_the_default_tier():
    published()
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))

    services.open_clocks(assignment=assignment, tier="platinum")

    first_touch = clock(assignment, SlaClock.Kind.FIRST_TOUCH)
    assert (first_touch.tier, first_touch.due_at) == ("warm", berlin(2026, 11, 23, 13, 0))


def test_opening_clocks_twice_for_one_assignment_keeps_one_set():
    published()
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))

    services.open_clocks(assignment=assignment)
    services.open_clocks(assignment=assignment)

    assert SlaClock.objects.filter(assignment=assignment).count() == 3


def test_a_batch_of_assignments_opens_its_clocks_in_the_queries_of_one(django_assert_num_queries):
    published()
    moment = berlin(2026, 11, 23, 9, 0)
    rep = rep_in("Sales DE")
    batch = [(assigned(rep, moment), tier) for tier in ("hot", "cold", "warm", None)]
    services.open_clocks(assignment=assigned(rep, moment))  # the agreement in force is read once

    # the leads' open clocks (none from earlier owners here, so no cancel), owners with teams,
    # the version in force, the insert: none per assignment
    with django_assert_num_queries(4):
        clocks = services.open_clocks_for(assignments=batch, at=moment)

    assert len(clocks) == 12
    first_touch = sorted((c.tier, c.due_at) for c in clocks if c.kind == SlaClock.Kind.FIRST_TOUCH)
    assert first_touch == [("cold", berlin(2026, 11, 23, 17, 0)), ("hot", berlin(2026, 11, 23, 10, 0)),
                           ("warm", berlin(2026, 11, 23, 13, 0)), ("warm", berlin(2026, 11, 23, 13, 0))]


def test_reassigning_a_lead_cancels_the_first_owners_clocks():
    published()
    first = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=first)
    second = LeadAssignmentFactory(contact=first.contact, owner=UserFactory(role=Role.SALES_REP),
                                   assigned_at=berlin(2026, 11, 23, 10, 0))

    services.open_clocks(assignment=second)

    assert set(SlaClock.objects.filter(assignment=first).values_list("cancel_reason", flat=True)) == {"reassigned"}
    assert SlaClock.objects.filter(SlaClock.OPEN, contact=first.contact).count() == 3
    assert set(SlaClock.objects.filter(SlaClock.OPEN).values_list("assignment", flat=True)) == {second.pk}


# -- pauses, touches, decisions -----------------------------------------------------------


def test_time_spent_paused_moves_the_due_time_by_the_working_time_paused():
    published()
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))  # Monday
    services.open_clocks(assignment=assignment, tier="cold")  # 8 h: due Monday 17:00

    services.pause_clocks(contact_id=assignment.contact_id, at=berlin(2026, 11, 23, 10, 0))
    services.resume_clocks(contact_id=assignment.contact_id, at=berlin(2026, 11, 24, 11, 0))

    first_touch = clock(assignment, SlaClock.Kind.FIRST_TOUCH)
    # Paused 7 h on Monday and 2 h on Tuesday: 9 working hours.
    assert first_touch.paused_seconds == 9 * 3600
    assert first_touch.due_at == berlin(2026, 11, 25, 10, 0)
    assert first_touch.warn_at == berlin(2026, 11, 24, 16, 0)  # 6 h + 9 h paused


def test_a_paused_clock_is_not_breached():
    published()
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=assignment, tier="hot")
    services.pause_clocks(contact_id=assignment.contact_id, at=berlin(2026, 11, 23, 9, 30))

    result = services.check_clocks(now=berlin(2026, 11, 23, 12, 0))

    assert (result.warned, result.breached) == (0, 0)
    assert Notification.objects.count() == 0


def test_a_first_touch_meets_the_first_touch_clock_and_counts_an_attempt():
    published()
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=assignment, tier="hot")

    met = services.record_touch(contact_id=assignment.contact_id, at=berlin(2026, 11, 23, 9, 20))

    assert met == 1
    assert clock(assignment, SlaClock.Kind.FIRST_TOUCH).met_at == berlin(2026, 11, 23, 9, 20)
    attempts = clock(assignment, SlaClock.Kind.ATTEMPTS)
    assert (attempts.attempts_done, attempts.met_at) == (1, None)
    assert services.check_clocks(now=berlin(2026, 11, 23, 12, 0)).breached == 0


def test_the_minimum_attempts_meet_the_attempts_clock_but_recycling_waits_for_the_days():
    published()
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=assignment)

    for hour in (10, 11, 12):
        services.record_touch(contact_id=assignment.contact_id, at=berlin(2026, 11, 23, hour, 0))

    attempts = clock(assignment, SlaClock.Kind.ATTEMPTS)
    assert (attempts.attempts_done, attempts.met_at) == (3, berlin(2026, 11, 23, 12, 0))
    assert selectors.may_recycle(contact_id=assignment.contact_id, at=berlin(2026, 11, 24, 9, 0)) is False
    assert selectors.may_recycle(contact_id=assignment.contact_id, at=berlin(2026, 12, 3, 9, 0)) is True


def test_a_decision_meets_the_decision_clock_only():
    published()
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=assignment)

    services.record_decision(contact_id=assignment.contact_id, at=berlin(2026, 11, 23, 9, 5))

    assert clock(assignment, SlaClock.Kind.DECISION).met_at == berlin(2026, 11, 23, 9, 5)
    assert clock(assignment, SlaClock.Kind.FIRST_TOUCH).met_at is None


# -- the checker --------------------------------------------------------------------------


def test_the_owner_is_warned_at_75_percent_of_the_time_allowed():
    published()
    rep = rep_in("Sales DE")
    assignment = assigned(rep, berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=assignment, tier="warm")  # warn 12:00, due 13:00

    before = services.check_clocks(now=berlin(2026, 11, 23, 11, 59))
    at_warn = services.check_clocks(now=berlin(2026, 11, 23, 12, 0))

    assert (before.warned, before.breached) == (0, 0)
    assert (at_warn.warned, at_warn.breached) == (1, 0)
    warning = Notification.objects.get()
    assert (warning.recipient, warning.kind) == (rep, Notification.Kind.SLA_WARNING)
    assert warning.dedupe_key == f"sla:warning:{clock(assignment, SlaClock.Kind.FIRST_TOUCH).pk}"
    assert warning.url == f"/contacts/{assignment.contact_id}/"
    assert clock(assignment, SlaClock.Kind.FIRST_TOUCH).warned_at == berlin(2026, 11, 23, 12, 0)


def test_a_breach_alerts_the_owner_and_the_teams_managers():
    published()
    rep = rep_in("Sales DE")
    manager = UserFactory(role=Role.SALES_MANAGER, team=rep.team)
    head = UserFactory(role=Role.REVOPS_ADMIN)
    rep.team.manager = head
    rep.team.save(update_fields=["manager"])
    UserFactory(role=Role.SALES_MANAGER, team=TeamFactory(name="Other"))  # another team's manager
    assignment = assigned(rep, berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=assignment, tier="hot")  # due 10:00

    result = services.check_clocks(now=berlin(2026, 11, 23, 10, 0))

    first_touch = clock(assignment, SlaClock.Kind.FIRST_TOUCH)
    assert (result.breached, result.warned, result.notifications) == (1, 0, 3)
    assert first_touch.breached_at == berlin(2026, 11, 23, 10, 0)
    assert first_touch.warned_at is None  # past both: one breach, not a late warning too
    breaches = Notification.objects.filter(kind=Notification.Kind.SLA_BREACH)
    assert set(breaches.values_list("recipient", flat=True)) == {rep.pk, manager.pk, head.pk}
    assert first_touch.reassign_requested_at is None


def test_a_breach_in_a_team_without_managers_goes_to_the_revops_admins():
    published()
    rep = rep_in("Sales DE")
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    assignment = assigned(rep, berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=assignment, tier="hot")

    services.check_clocks(now=berlin(2026, 11, 23, 10, 0))

    assert set(Notification.objects.values_list("recipient", flat=True)) == {rep.pk, admin.pk}


def test_running_the_checker_again_sends_nothing_twice():
    published()
    rep = rep_in("Sales DE")
    UserFactory(role=Role.SALES_MANAGER, team=rep.team)
    for hour in (9, 10, 11):
        services.open_clocks(assignment=assigned(rep, berlin(2026, 11, 23, hour, 0)), tier="hot")
    first = services.check_clocks(now=berlin(2026, 11, 24, 9, 0), batch_size=2)

    again = services.check_clocks(now=berlin(2026, 11, 24, 9, 1), batch_size=2)

    # Only the first-touch clocks are due; the decisions fall due on Tuesday afternoon.
    assert (first.breached, first.warned) == (3, 0)
    assert (again.breached, again.warned, again.notifications) == (0, 0, 0)
    assert Notification.objects.filter(kind=Notification.Kind.SLA_BREACH).count() == 6


def test_a_breach_under_an_sla_that_reassigns_asks_the_handoff_to_route_the_lead_again():
    published(on_breach="alert_and_reassign")
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=assignment, tier="hot")

    services.check_clocks(now=berlin(2026, 11, 23, 10, 0))

    first_touch = clock(assignment, SlaClock.Kind.FIRST_TOUCH)
    assert first_touch.reassign_requested_at == berlin(2026, 11, 23, 10, 0)
    assert selectors.clocks_awaiting_reassignment() == [first_touch]
    services.close_clocks(contact_id=assignment.contact_id, at=berlin(2026, 11, 23, 10, 1), reason="reassigned")
    assert selectors.clocks_awaiting_reassignment() == []


def test_cancelled_clocks_never_alert():
    published()
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=assignment, tier="hot")
    services.close_clocks(contact_id=assignment.contact_id, at=berlin(2026, 11, 23, 9, 30), reason="rejected")

    result = services.check_clocks(now=berlin(2026, 12, 31, 9, 0))

    assert (result.warned, result.breached) == (0, 0)
    assert Notification.objects.count() == 0


# -- countdowns ---------------------------------------------------------------------------


def test_a_countdown_shows_the_working_time_left_and_its_state(django_assert_num_queries):
    published()
    rep = rep_in("Sales DE")
    leads = [assigned(rep, berlin(2026, 11, 27, 16, 0)) for _ in range(3)]
    for assignment in leads:
        services.open_clocks(assignment=assignment, tier="warm")  # due Monday 12:00

    with django_assert_num_queries(1):
        views = selectors.clocks_for(contact_ids=[a.contact_id for a in leads], visible_to=rep,
                                     now=berlin(2026, 11, 30, 11, 30))

    first_touch = views[leads[0].contact_id][0]
    assert first_touch.kind == "first_touch"
    assert first_touch.remaining_seconds == 30 * 60  # the weekend does not count
    assert first_touch.state == "warning"
    assert [v.kind for v in views[leads[0].contact_id]] == ["first_touch", "decision", "attempts"]


def test_a_rep_does_not_see_another_reps_clocks():
    published()
    mine = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))
    theirs = assigned(UserFactory(role=Role.SALES_REP), berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=mine)
    services.open_clocks(assignment=theirs)

    views = selectors.clocks_for(contact_ids=[mine.contact_id, theirs.contact_id], visible_to=mine.owner,
                                 now=berlin(2026, 11, 23, 9, 30))

    assert list(views) == [mine.contact_id]


def test_an_overdue_clock_counts_down_below_zero():
    published()
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=assignment, tier="hot")

    views = selectors.clocks_for(contact_ids=[assignment.contact_id], visible_to=assignment.owner,
                                 now=berlin(2026, 11, 23, 10, 15))

    first_touch = views[assignment.contact_id][0]
    assert (first_touch.state, first_touch.remaining_seconds) == ("breached", -15 * 60)


def test_the_breach_is_stamped_with_the_sla_version_in_force_when_the_clock_opened():
    old = published()
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=assignment, tier="hot")
    services.publish_sla_version(source=SLA.format(on_breach="alert_and_reassign"))

    services.check_clocks(now=berlin(2026, 11, 23, 10, 0))

    first_touch = clock(assignment, SlaClock.Kind.FIRST_TOUCH)
    assert first_touch.sla_version == old
    assert first_touch.reassign_requested_at is None
    assert timedelta(seconds=first_touch.budget_seconds) == timedelta(hours=1)


def test_moving_a_lead_to_nurture_pauses_its_clocks_and_back_resumes_them():
    published()
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=assignment, tier="cold")  # due Monday 17:00

    paused = services.lead_status_changed(contact_id=assignment.contact_id, at=berlin(2026, 11, 23, 13, 0),
                                          stage="nurture")
    again = services.lead_status_changed(contact_id=assignment.contact_id, at=berlin(2026, 11, 23, 14, 0),
                                         stage="nurture")
    resumed = services.lead_status_changed(contact_id=assignment.contact_id, at=berlin(2026, 11, 24, 9, 0),
                                           stage="mql")

    assert (paused, again, resumed) == ("paused", "unchanged", "resumed")
    # Paused 13:00-17:00 on Monday: 4 working hours, so due Tuesday 13:00.
    assert clock(assignment, SlaClock.Kind.FIRST_TOUCH).due_at == berlin(2026, 11, 24, 13, 0)


def test_waiting_on_the_customer_pauses_the_clocks_when_the_sla_says_so():
    published()
    assignment = assigned(rep_in("Sales DE"), berlin(2026, 11, 23, 9, 0))
    services.open_clocks(assignment=assignment)

    result = services.lead_status_changed(contact_id=assignment.contact_id, at=berlin(2026, 11, 23, 10, 0),
                                          stage="sal", waiting_on_customer=True)

    assert result == "paused"
    assert SlaClock.objects.filter(contact=assignment.contact, paused_since=berlin(2026, 11, 23, 10, 0)).count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_checkers_running_at_once_alert_each_breach_exactly_once():
    rep = rep_in("Sales DE")
    UserFactory(role=Role.SALES_MANAGER, team=rep.team)
    version = SlaVersionFactory()
    overdue = timezone.now() - timedelta(minutes=5)
    SlaClock.objects.bulk_create(
        SlaClockFactory.build(owner=rep, contact=contact, sla_version=version, started_at=overdue)
        for contact in ContactFactory.create_batch(120, owner=rep)
    )
    start = threading.Barrier(2)
    results = []

    def checker():
        start.wait()
        try:
            results.append(services.check_clocks(batch_size=10))
        finally:
            connection.close()

    threads = [threading.Thread(target=checker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(result.breached for result in results) == 120
    assert Notification.objects.filter(kind=Notification.Kind.SLA_BREACH).count() == 240
    assert not SlaClock.objects.filter(breached_at__isnull=True).exists()
