"""Erasure: every identifying value blanked in place, every figure kept, recorded once."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from accord.accounts.tests.factories import UserFactory
from accord.analytics import quality
from accord.analytics.selectors import Period, leads_and_mqls_by_channel, stage_entries
from accord.capture.models import (
    Account,
    Consent,
    Contact,
    ContactMerge,
    IdempotencyRecord,
    IdentityLink,
    Touchpoint,
)
from accord.capture.tests.factories import AccountFactory, ContactFactory, TouchpointFactory
from accord.collaboration.models import Comment
from accord.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S
from accord.handoff.models import LeadWait
from accord.lifecycle import domain
from accord.lifecycle import services as lifecycle
from accord.lifecycle.models import (
    Activity,
    FeedbackDaily,
    LeadAssignment,
    LeadFeedback,
    StageTransition,
)
from accord.notifications.models import Event, Notification
from accord.notifications.services import ERASED_TITLE
from accord.privacy import services
from accord.privacy.models import Erasure
from accord.privacy.selectors import personal_data
from accord.privacy.tests.conftest import EMAIL
from accord.privacy.tests.factories import LeadScoreFactory
from accord.scoring.models import LeadScore
from accord.sla import reports
from accord.sla import services as sla
from accord.sla.models import ComplianceDaily, SlaClock
from accord.sla.periods import Period as SlaPeriod
from accord.sla.tests.factories import SlaClockFactory

pytestmark = pytest.mark.django_db


def erase(person, **kwargs):
    kwargs.setdefault("confirm", EMAIL)
    return services.erase_contact(contact_id=person.contact.pk, by=person.admin, **kwargs)


def snapshot_of_other(person) -> dict:
    return personal_data(contact_id=person.other.pk, user=person.admin) | {"generated_at": None}


def test_erasure_blanks_the_contacts_identifying_fields_and_keeps_its_facts(person):
    erase(person, reason="DSR-1042")

    contact = Contact.objects.get(pk=person.contact.pk)
    assert (contact.email, contact.first_name, contact.last_name, contact.phone, contact.title,
            contact.external_id) == (None, "", "", "", "", "")
    assert (contact.owner_id, contact.lifecycle_stage, contact.lead_source) == (person.rep.pk, S.LEAD, "paid_search")
    assert contact.account.name == "Smallco"


def test_erasure_blanks_every_table_that_describes_the_person(person):
    pk = person.contact.pk

    erase(person)

    touches = Touchpoint.objects.filter(contact_id=pk).order_by()
    assert list(touches.values_list("anonymous_id", "url", "referrer", "external_id").distinct()) == [("", "", "", "")]
    assert list(touches.values_list("campaign__name", "utm_source").distinct()) == [("Spring webinar", "newsletter")]
    assert IdentityLink.objects.filter(contact_id=pk).count() == 0
    assert list(Consent.objects.filter(contact_id=pk).values_list("ip_hash", "user_agent", "granted")) == [("", "", True)]
    assert list(StageTransition.objects.filter(contact_id=pk).values_list("reason", "to_stage")) == [("", S.MQL)]
    assert list(LeadAssignment.objects.filter(contact_id=pk).values_list("reason", flat=True)) == [""]
    assert list(LeadFeedback.objects.filter(contact_id=pk).values_list("note", "reason")) == [("", "bad_data")]
    assert list(Activity.objects.filter(contact_id=pk).values_list("subject", "body", "kind")) == [("", "", "call")]
    feedback = LeadFeedback.objects.get(contact_id=pk)
    mine = Comment.objects.filter(
        Q(target_type=ContentType.objects.get_for_model(Contact), target_id=pk)
        | Q(target_type=ContentType.objects.get_for_model(LeadFeedback), target_id=feedback.pk)
    ).values_list("body", flat=True)
    assert list(mine) == ["", ""]
    merge = ContactMerge.objects.get(survivor_id=pk)
    assert (merge.snapshot, merge.duplicate_email, merge.moved) == ({}, "", {"touchpoints": 2})
    assert list(LeadWait.objects.filter(contact_id=pk).values_list("note", flat=True)) == [""]
    scores = LeadScore.objects.filter(contact_id=pk).order_by("id")
    assert [(s.total, s.explanation) for s in scores] == [
        (64, {"summary": "VP at a 51–200 software company", "up": [], "down": []}),  # quotes no one: kept
        (64, {}),  # quoted the title
    ]
    notifications = Notification.objects.filter(recipient=person.rep, title__in=[ERASED_TITLE])
    assert list(notifications.values_list("body", flat=True)) == ["", ""]
    payload = Event.objects.get(record_key=f"lead:{pk}").payload
    assert (payload["lead"]["email"], payload["lead"]["first_name"], payload["lead"]["last_name"]) == (None, None, None)
    assert (payload["note"], payload["reason"], payload["redacted"]) == ("", "no_budget", True)
    assert SlaClock.objects.filter(contact_id=pk).count() == 1


def test_erasure_leaves_another_persons_data_exactly_as_it_was(person):
    before = snapshot_of_other(person)

    erase(person)

    assert snapshot_of_other(person) == before


def test_erasure_records_who_when_and_why_but_none_of_the_erased_values(person):
    erasure = erase(person, reason="DSR-1042")

    stored = Erasure.objects.get(contact_id=person.contact.pk)
    assert (stored.pk, stored.erased_by, stored.reason) == (erasure.pk, person.admin, "DSR-1042")
    assert stored.counts["touchpoints"] == 2
    assert stored.counts["identity_links"] == 1
    assert stored.counts["notifications"] == 2
    assert "dana" not in str(stored.counts).lower()


def test_the_export_of_an_erased_contact_says_so_and_holds_no_identifying_value(person):
    erase(person, reason="DSR-1042")

    document = personal_data(contact_id=person.contact.pk, user=person.admin)

    assert document["erased"] is True
    assert (document["erasure"]["erased_by"], document["erasure"]["reason"]) == ("ops", "DSR-1042")
    text = str(document).lower()
    for value in ("dana", "reyes", "555 0100", "555-0100", "head of finance", "crm-77", "anon-dana", "evt-dana"):
        assert value not in text, value


def test_a_second_erasure_is_refused_and_changes_nothing(person):
    erase(person)
    before = personal_data(contact_id=person.contact.pk, user=person.admin) | {"generated_at": None}

    with pytest.raises(Conflict, match=r"already erased on .* by ops"):
        erase(person, confirm="erase")

    assert Erasure.objects.count() == 1
    assert personal_data(contact_id=person.contact.pk, user=person.admin) | {"generated_at": None} == before


def test_a_confirmation_that_is_neither_the_email_nor_erase_is_refused_naming_the_field(person):
    with pytest.raises(ValidationFailed) as refused:
        erase(person, confirm="sam.other@elsewhere.example")

    assert refused.value.field == "confirm"
    assert Contact.objects.get(pk=person.contact.pk).email == EMAIL
    assert Erasure.objects.count() == 0


def test_the_word_erase_confirms_for_a_person_known_without_an_email(person):
    nameless = ContactFactory(email=None, first_name="Offline", last_name="Visitor")

    services.erase_contact(contact_id=nameless.pk, by=person.admin, confirm=" Erase ")

    assert Contact.objects.get(pk=nameless.pk).first_name == ""


def test_neither_a_rep_nor_marketing_may_erase_and_a_hidden_contact_is_not_found(person):
    for role in (Role.SALES_REP, Role.MARKETING, Role.SALES_MANAGER, Role.EXECUTIVE):
        with pytest.raises(PermissionDenied):
            services.erase_contact(contact_id=person.contact.pk, by=UserFactory(role=role), confirm="erase")
    with pytest.raises(NotFound):
        services.erase_contact(contact_id=person.contact.pk + 1000, by=person.admin, confirm="erase")
    assert Contact.objects.get(pk=person.contact.pk).email == EMAIL


def test_a_stored_api_answer_naming_the_person_is_dropped_and_others_kept(person):
    IdempotencyRecord.objects.bulk_create([
        IdempotencyRecord(user=person.admin, key="k1", request_hash="x", status=201,
                          response={"id": person.contact.pk, "email": EMAIL.upper()}, created_at=datetime.now(UTC)),
        IdempotencyRecord(user=person.admin, key="k2", request_hash="x", status=201,
                          response={"id": person.other.pk, "email": person.other.email}, created_at=datetime.now(UTC)),
    ])

    erase(person)

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["k2"]


def test_a_household_with_no_one_else_loses_its_name_and_a_company_keeps_it(person):
    household = AccountFactory(name="The Reyes household", domain="reyes.example", segment="b2c")
    alone = ContactFactory(account=household)
    company_contact = ContactFactory(account=AccountFactory(name="Bigco", segment="b2b"))

    for contact in (alone, company_contact):
        services.erase_contact(contact_id=contact.pk, by=person.admin, confirm="erase")

    household.refresh_from_db()
    assert (household.name, household.domain) == (f"Erased household {household.pk}", "")
    assert Account.objects.get(contacts=company_contact).name == "Bigco"


def test_a_score_explanation_quoting_nobody_is_kept():
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    contact = ContactFactory(email="x@y.example", first_name="", last_name="")
    score = LeadScoreFactory(contact=contact, explanation={"summary": "Someone", "up": [{"text": "Visited (+3)"}]})

    services.erase_contact(contact_id=contact.pk, by=admin, confirm="erase")

    score.refresh_from_db()
    assert score.explanation == {"summary": "Someone", "up": [{"text": "Visited (+3)"}]}


AT = datetime(2026, 11, 2, 10, tzinfo=UTC)


def test_the_lead_quality_compliance_and_funnel_figures_are_the_same_after_erasure():
    """Given leads handed over and judged, and a breached SLA clock, when one is erased, no figure moves."""
    admin, marketer = UserFactory(role=Role.REVOPS_ADMIN), UserFactory(role=Role.MARKETING)
    rep = UserFactory(role=Role.SALES_REP)
    leads = []
    for verdict in (("reject", "no_budget"), ("accept", ""), ("reject", "student")):
        contact = ContactFactory(owner=rep, lead_source="paid_search", created_at=AT)
        TouchpointFactory(contact=contact, utm_source="google", occurred_at=AT - timedelta(hours=1))
        lifecycle.change_stage(contact=contact, to_stage=S.MQL, rule=domain.SCORE_THRESHOLD, at=AT)
        lifecycle.record_feedback(contact=contact, by=rep, decision=verdict[0], reason=verdict[1],
                                  note="Talked to them", at=AT + timedelta(hours=3))
        SlaClockFactory(contact=contact, owner=rep, started_at=AT)
        leads.append(contact)
    sla.check_clocks(now=AT + timedelta(hours=1))  # every clock breaches
    sla.record_touch(contact_id=leads[1].pk, at=AT + timedelta(hours=2))  # one is met late
    period = Period(date(2026, 11, 1), date(2026, 11, 30), "November")
    sla_period = SlaPeriod(period.start, period.end, "November", "custom")

    def figures():
        report = quality.lead_quality(user=marketer, dimension="channel", start=period.start, end=period.end)
        compliance = reports.sales_compliance(visible_to=admin, period=sla_period)
        return (
            [(r.label, r.handed_over, r.accepted, r.rejected, r.reasons) for r in report.rows],
            list(FeedbackDaily.objects.order_by("id").values_list("kind", "reason", "count", "source")),
            compliance.rows, compliance.total,
            list(ComplianceDaily.objects.order_by("id").values()),
            stage_entries(visible_to=marketer, period=period),
            leads_and_mqls_by_channel(visible_to=marketer, period=period),
        )

    before = figures()
    services.erase_contact(contact_id=leads[0].pk, by=admin, confirm="erase", reason="DSR-1")

    assert figures() == before
    first_touch = before[3].figures["first_touch"]
    assert (first_touch.met_late, first_touch.breached) == (1, 2)
    assert before[0] != [] and before[6] != {}
