"""Marketing's daily rollup: the commitments report read from it answers what the handover and verdict rows say."""

import importlib
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.test import override_settings
from django.utils import timezone

from accord.accounts.tests.factories import UserFactory
from accord.capture.tests.factories import AccountFactory, ContactFactory
from accord.core.permissions import Role
from accord.lifecycle import services as lifecycle
from accord.lifecycle.models import LeadFeedback
from accord.lifecycle.tests.factories import LeadFeedbackFactory
from accord.sla import handover_rollup, reports, services
from accord.sla.models import MISSING_COLUMNS, Handover, HandoverDaily
from accord.sla.periods import Period
from accord.sla.tests.factories import HandoverFactory, SlaVersionFactory

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
SLA = """\
marketing:
  mqls_per_month: 90
  required_fields: [email, phone, title, account]
"""
FIRST_DAY = date(2026, 10, 20)  # the clocks go back in New York on 1 November
DAYS = 40


def local(day: date, moment: time = time.min) -> datetime:
    return datetime.combine(day, moment, tzinfo=NEW_YORK)


def direct_reading(period: Period) -> dict:
    """Read the period's figures from the handover and verdict rows themselves, as the report did before its rollup."""
    zone = timezone.get_current_timezone()
    start, end = reports.bounds(period)
    handovers = Handover.objects.filter(at__gte=start, at__lt=end)
    per_day = {row["day"]: row["n"] for row in handovers.annotate(day=TruncDate("at", tzinfo=zone))
               .values("day").annotate(n=Count("id")).order_by()}
    decisions = dict(LeadFeedback.objects.filter(created_at__gte=start, created_at__lt=end)
                     .values("decision").annotate(n=Count("id")).order_by().values_list("decision", "n"))
    missing: dict[str, int] = {}
    for fields, count in (handovers.filter(complete=False).values("missing_fields").annotate(n=Count("id"))
                          .order_by().values_list("missing_fields", "n")):
        for name in fields:
            missing[name] = missing.get(name, 0) + count
    running, cumulative = 0, []
    for day in period.each_day():
        running += per_day.get(day, 0)
        cumulative.append(running)
    return {"handed_over": handovers.count(), "complete": handovers.filter(Q(complete=True)).count(),
            "accepted": decisions.get("accept", 0), "rejected": decisions.get("reject", 0),
            "missing_by_field": missing, "days": cumulative}


def report_reading(period: Period) -> dict:
    figures = reports.marketing_commitments(period=period, today=period.end)
    return {"handed_over": figures.handed_over, "complete": figures.complete, "accepted": figures.accepted,
            "rejected": figures.rejected, "missing_by_field": figures.missing_by_field,
            "days": [day.actual for day in figures.days]}


def moments(rng: random.Random, day: date) -> datetime:
    """Return a moment of the day in New York, often right at either edge of it."""
    edge = rng.random()
    if edge < 0.25:
        return local(day)  # midnight: the first instant of the day
    if edge < 0.5:
        return local(day + timedelta(days=1)) - timedelta(microseconds=1)  # the last instant
    return local(day) + timedelta(seconds=rng.randrange(86_400))


@override_settings(TIME_ZONE="America/New_York")
def test_the_commitments_read_from_the_rollup_equal_a_direct_reading_over_random_periods_and_changes():
    SlaVersionFactory(source=SLA, effective_from=datetime(2020, 1, 1, tzinfo=UTC))
    rep = UserFactory(role=Role.SALES_REP)
    rng = random.Random(17)
    leads = []
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        for _ in range(rng.randint(0, 3)):
            batch = [ContactFactory(phone=rng.choice(["", "+1 555 0100"]), title=rng.choice(["", "CTO"]),
                                    account=rng.choice([None, AccountFactory()])) for _ in range(rng.randint(1, 3))]
            at = moments(rng, day)
            services.record_handovers(contact_ids=[c.pk for c in batch], at=at)
            services.record_handovers(contact_ids=[c.pk for c in batch], at=at)  # a retried sweep
            leads += [(lead, at) for lead in batch]
    # Verdicts as the handoff gives them: some leads are judged twice, the second verdict days later.
    for lead, handed_over in rng.sample(leads, len(leads) * 2 // 3):
        verdicts = rng.choice([["accept"], ["reject"], ["accept", "reject"], ["reject", "accept"]])
        given = handed_over
        for decision in verdicts:
            given = min(given + timedelta(hours=rng.choice([0.5, 20, 30, 80])), local(FIRST_DAY + timedelta(DAYS)))
            feedback = lifecycle.record_feedback(contact=lead, by=rep, decision=decision,
                                                 reason="no_budget" if decision == "reject" else "", at=given)
            services.count_verdict(feedback=feedback)
    periods = [Period(FIRST_DAY, FIRST_DAY + timedelta(days=DAYS), "all", "custom"),
               Period(date(2026, 11, 1), date(2026, 11, 1), "the day the clocks went back", "custom"),
               Period(date(2026, 11, 1), date(2026, 11, 30), "November", "last_month")]
    for _ in range(30):
        start = FIRST_DAY + timedelta(days=rng.randrange(-3, DAYS))
        periods.append(Period(start, start + timedelta(days=rng.randrange(20)), "random", "custom"))

    for period in periods:
        assert report_reading(period) == direct_reading(period), period
    assert handover_rollup.differences() == []
    assert sum(HandoverDaily.objects.values_list("handed_over", flat=True)) == len(leads)


def test_a_retried_sweep_adds_its_handovers_to_the_day_once():
    SlaVersionFactory(source=SLA, effective_from=datetime(2020, 1, 1, tzinfo=UTC))
    complete = ContactFactory(phone="+1 555 0100", title="CTO", account=AccountFactory())
    lacking = ContactFactory(phone="", title="", account=None)
    at = datetime(2026, 11, 2, 15, tzinfo=UTC)

    first = services.record_handovers(contact_ids=[complete.pk, lacking.pk], at=at)
    again = services.record_handovers(contact_ids=[complete.pk, lacking.pk], at=at)

    assert (first, again) == (2, 0)
    row = HandoverDaily.objects.get()
    assert (row.day, row.handed_over, row.complete, row.accepted, row.rejected) == (date(2026, 11, 2), 2, 1, 0, 0)
    assert {column: getattr(row, column) for column in MISSING_COLUMNS if getattr(row, column)} == {
        "missing_phone": 1, "missing_title": 1, "missing_account": 1}


def test_a_verdict_changed_after_the_fact_counts_each_decision_on_the_day_it_was_given():
    SlaVersionFactory(source=SLA, effective_from=datetime(2020, 1, 1, tzinfo=UTC))
    lead, rep = ContactFactory(), UserFactory(role=Role.SALES_REP)
    services.record_handovers(contact_ids=[lead.pk], at=datetime(2026, 11, 2, 15, tzinfo=UTC))

    for decision, at in (("accept", datetime(2026, 11, 3, 9, tzinfo=UTC)), ("reject", datetime(2026, 11, 9, 9, tzinfo=UTC))):
        services.count_verdict(feedback=lifecycle.record_feedback(
            contact=lead, by=rep, decision=decision, reason="no_budget" if decision == "reject" else "", at=at))

    assert list(HandoverDaily.objects.values_list("day", "handed_over", "accepted", "rejected")) == [
        (date(2026, 11, 2), 1, 0, 0), (date(2026, 11, 3), 0, 1, 0), (date(2026, 11, 9), 0, 0, 1)]
    week = reports.marketing_commitments(period=Period(date(2026, 11, 2), date(2026, 11, 8), "w", "custom"))
    month = reports.marketing_commitments(period=Period(date(2026, 11, 1), date(2026, 11, 30), "m", "custom"))
    assert (week.accepted, week.rejected, month.accepted, month.rejected) == (1, 0, 1, 1)


def test_two_years_of_commitments_take_two_queries_however_many_handovers(django_assert_num_queries):
    SlaVersionFactory(source=SLA, effective_from=datetime(2020, 1, 1, tzinfo=UTC))
    for day in range(0, 700, 7):
        lead = ContactFactory()
        services.record_handovers(contact_ids=[lead.pk], at=datetime(2025, 1, 1, 12, tzinfo=UTC) + timedelta(days=day))
    period = Period(date(2025, 1, 1), date(2026, 12, 31), "two years", "custom")

    # the versions in force (the SLA names a number: the goal plan is not read), the 730 day rows
    with django_assert_num_queries(2):
        figures = reports.marketing_commitments(period=period, today=date(2026, 12, 31))

    assert figures.handed_over == 100
    assert figures.days[-1].actual == 100


def test_a_rebuild_recomputes_the_rollup_from_rows_written_behind_the_services_back():
    SlaVersionFactory(source=SLA, effective_from=datetime(2020, 1, 1, tzinfo=UTC))
    lead = ContactFactory(phone="")
    services.record_handovers(contact_ids=[lead.pk], at=datetime(2026, 11, 2, 15, tzinfo=UTC))
    Handover.objects.filter(contact=lead).update(at=datetime(2026, 11, 5, 15, tzinfo=UTC))  # moved behind its back

    assert handover_rollup.differences() == [date(2026, 11, 2), date(2026, 11, 5)]

    days = handover_rollup.rebuild()

    assert days == 1
    assert list(HandoverDaily.objects.values_list("day", "handed_over", "missing_phone")) == [(date(2026, 11, 5), 1, 1)]
    assert handover_rollup.differences() == []


def test_the_upgrade_fills_the_rollup_from_the_handovers_and_verdicts_already_stored():
    migration = importlib.import_module("accord.sla.migrations.0005_handover_daily")
    lead = ContactFactory()
    HandoverFactory(contact=lead, at=datetime(2026, 11, 2, 15, tzinfo=UTC), missing_fields=["title"], complete=False)
    HandoverFactory(at=datetime(2026, 11, 2, 16, tzinfo=UTC))
    LeadFeedbackFactory(contact=lead, decision="reject", reason="no_budget", created_at=datetime(2026, 11, 4, tzinfo=UTC))

    migration.count_stored_rows(django_apps, None)

    assert list(HandoverDaily.objects.values_list("day", "handed_over", "complete", "missing_title", "rejected")) == [
        (date(2026, 11, 2), 2, 1, 1, 0), (date(2026, 11, 4), 0, 0, 0, 1)]
