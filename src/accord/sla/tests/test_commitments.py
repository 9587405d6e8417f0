from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from accord.accounts.models import Team
from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.capture.tests.factories import AccountFactory, ContactFactory
from accord.core.permissions import Role
from accord.lifecycle.models import LeadFeedback
from accord.lifecycle.tests.factories import LeadFeedbackFactory
from accord.notifications.models import Notification
from accord.sla import periods, reports, services
from accord.sla.models import Handover
from accord.sla.tests.factories import MqlGoalFactory, SlaVersionFactory

pytestmark = pytest.mark.django_db

SLA = """\
marketing:
  mqls_per_month: {mqls}
  min_acceptance_rate: 0.6
  required_fields: [email, phone, account]
"""
NO_NUMBER = """\
marketing:
  min_acceptance_rate: 0.5
"""
NOVEMBER = periods.Period(date(2026, 11, 1), date(2026, 11, 30), "November 2026", "this_month")


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def hand_over(count: int, moment: datetime, **fields) -> None:
    contacts = [ContactFactory(**fields) for _ in range(count)]
    services.record_handovers(contact_ids=[c.pk for c in contacts], at=moment)


def feedback(decision: str, count: int, moment: datetime) -> None:
    # A rejection always carries a reason (a database constraint); an acceptance never does.
    reason = "no_budget" if decision == LeadFeedback.Decision.REJECT else ""
    for _ in range(count):
        services.count_verdict(feedback=LeadFeedbackFactory(decision=decision, reason=reason, created_at=moment))


@pytest.fixture
def marketing_lead():
    # Handovers have been recorded since October: November is measured from its first day.
    hand_over(1, datetime(2026, 10, 1, 0, tzinfo=UTC))
    team = TeamFactory(name="Marketing", function=Team.Function.MARKETING)
    head = UserFactory(role=Role.MARKETING, team=team)
    team.manager = head
    team.save(update_fields=["manager"])
    UserFactory(role=Role.MARKETING, team=team)  # a marketer who is not the manager
    return head


def test_a_handover_records_the_required_fields_the_lead_lacked():
    SlaVersionFactory(source=SLA.format(mqls=300), effective_from=at(1, 0) - timedelta(days=30))
    complete = ContactFactory(email="a@example.com", phone="+1 555", account=AccountFactory())
    lacking = ContactFactory(email="b@example.com", phone="", account=None)

    services.record_handovers(contact_ids=[complete.pk, lacking.pk], at=at(2))
    services.record_handovers(contact_ids=[complete.pk, lacking.pk], at=at(2))  # a retried sweep

    rows = {h.contact_id: (h.complete, h.missing_fields) for h in Handover.objects.all()}
    assert rows == {complete.pk: (True, []), lacking.pk: (False, ["phone", "account"])}


def test_mqls_are_paced_against_the_monthly_commitment_prorated_by_day():
    SlaVersionFactory(source=SLA.format(mqls=300), effective_from=at(1, 0) - timedelta(days=30))
    hand_over(40, at(3), phone="1", account=AccountFactory())
    hand_over(20, at(9), email=None, phone="1")
    feedback(LeadFeedback.Decision.ACCEPT, 3, at(5))
    feedback(LeadFeedback.Decision.REJECT, 7, at(6))

    figures = reports.marketing_commitments(period=NOVEMBER, today=date(2026, 11, 10))

    assert (figures.committed, figures.source, figures.handed_over) == (300, "sla", 60)
    assert figures.expected_to_date == 100  # 10 of 30 days
    assert figures.pacing == 0.6
    assert figures.days[9].actual == 60 and figures.days[2].actual == 40 and figures.days[1].actual == 0
    assert (figures.accepted, figures.rejected, figures.acceptance_rate) == (3, 7, 0.3)
    assert figures.acceptance_below_minimum
    assert (figures.complete, figures.completeness) == (40, 40 / 60)
    assert figures.missing_by_field == {"email": 20, "account": 20}


def test_without_a_number_in_the_sla_the_goal_plans_mql_target_is_the_commitment():
    SlaVersionFactory(source=NO_NUMBER, effective_from=at(1, 0) - timedelta(days=30))
    MqlGoalFactory(period_start=date(2026, 10, 1), period_end=date(2026, 12, 31), target=920)
    week = periods.named("this_week", date(2026, 11, 25))

    figures = reports.marketing_commitments(period=week, today=date(2026, 11, 25))

    assert figures.source == "goal plan"
    assert figures.committed == 70  # 920 over 92 days, 7 of them
    assert figures.expected_to_date == 30  # Monday to Wednesday


def test_pacing_under_80_percent_warns_marketings_manager_once_a_month(marketing_lead):
    SlaVersionFactory(source=SLA.format(mqls=300), effective_from=at(1, 0) - timedelta(days=30))
    hand_over(50, at(3))

    first = services.check_commitments(now=at(10))
    again = services.check_commitments(now=at(10, 15))

    assert (first["pacing"], again["pacing"]) == (1, 0)
    note = Notification.objects.get(dedupe_key__startswith="sla:mql-pacing:")
    assert note.recipient == marketing_lead
    assert note.kind == Notification.Kind.SLA_WARNING
    assert note.title == "MQLs behind the SLA: 50 of 100 expected by today"
    assert note.url == "/sla/compliance/marketing/"


def test_on_pace_nobody_is_warned(marketing_lead):
    SlaVersionFactory(source=SLA.format(mqls=300), effective_from=at(1, 0) - timedelta(days=30))
    hand_over(85, at(3))

    result = services.check_commitments(now=at(10))

    assert (result["pacing"], result["acceptance"]) == (0, 0)
    assert not Notification.objects.filter(dedupe_key__startswith="sla:mql-pacing:").exists()


def test_months_before_handovers_were_recorded_are_not_judged(marketing_lead):
    Handover.objects.all().delete()
    SlaVersionFactory(source=SLA.format(mqls=300), effective_from=at(1, 0) - timedelta(days=60))
    hand_over(5, at(3))  # the first handover ever: mid-November

    result = services.check_commitments(now=datetime(2026, 12, 1, 8, tzinfo=UTC))

    assert result == {"pacing": 0, "acceptance": 0, "missed": 0}
    assert Notification.objects.count() == 0


def test_acceptance_under_the_minimum_warns_once_there_are_enough_decisions(marketing_lead):
    SlaVersionFactory(source=SLA.format(mqls=30), effective_from=at(1, 0) - timedelta(days=30))
    hand_over(20, at(2))
    feedback(LeadFeedback.Decision.ACCEPT, 2, at(4))
    feedback(LeadFeedback.Decision.REJECT, 7, at(4))
    assert services.check_commitments(now=at(10))["acceptance"] == 0  # nine decisions: too few to judge

    feedback(LeadFeedback.Decision.REJECT, 1, at(5))
    result = services.check_commitments(now=at(10))

    assert result["acceptance"] == 1
    note = Notification.objects.get(dedupe_key__startswith="sla:acceptance:2026-11:")
    assert note.title == "Sales accepted 20% of MQLs, under the SLA's 60%"


def test_a_missed_month_alerts_marketing_once_after_it_ends(marketing_lead):
    SlaVersionFactory(source=SLA.format(mqls=300), effective_from=at(1, 0) - timedelta(days=30))
    hand_over(250, at(20))

    services.check_commitments(now=at(30, 20))
    missed = Notification.objects.filter(dedupe_key__startswith="sla:mql-missed:2026-11:")
    assert not missed.exists()  # not before the month is over

    after = services.check_commitments(now=datetime(2026, 12, 1, 8, tzinfo=UTC))
    later = services.check_commitments(now=datetime(2026, 12, 2, 8, tzinfo=UTC))

    assert (after["missed"], later["missed"]) == (1, 0)
    note = missed.get()
    assert note.kind == Notification.Kind.SLA_BREACH
    assert note.title == "MQL commitment missed in November 2026: 250 of 300"


def test_without_marketing_managers_the_marketers_hear_of_it():
    hand_over(1, datetime(2026, 10, 1, 0, tzinfo=UTC))
    SlaVersionFactory(source=SLA.format(mqls=300), effective_from=at(1, 0) - timedelta(days=30))
    marketers = {UserFactory(role=Role.MARKETING).pk, UserFactory(role=Role.MARKETING).pk}
    UserFactory(role=Role.SALES_REP)

    services.check_commitments(now=at(10))

    assert set(Notification.objects.values_list("recipient_id", flat=True)) == marketers
    assert timezone.is_aware(Notification.objects.first().created_at)
