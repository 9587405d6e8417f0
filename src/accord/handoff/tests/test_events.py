"""Webhook subscribers hear what happens to leads, deals and their SLA clocks, filtered and in order."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tests.receivers import HttpReceiver

from accord.deals import services as deals
from accord.deals.tests.factories import PipelineFactory, PipelineStageFactory
from accord.handoff import services
from accord.handoff.tests.factories import ALL_HOURS, hot_lead, sales_team
from accord.lifecycle import services as lifecycle
from accord.notifications.models import Delivery, Event
from accord.notifications.tests.factories import WebhookSubscriptionFactory
from accord.sla import services as sla

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    receiver = HttpReceiver().up()
    yield receiver
    receiver.down()


@pytest.fixture
def team():
    sales_team("Sales NA", reps=2)
    lifecycle.publish_routing(source=ALL_HOURS + 'rules:\n  - {name: na, team: "Sales NA"}\n')


def received(receiver) -> list[tuple[str, str]]:
    return [(json.loads(r.body)["type"], json.loads(r.body)["record"]) for r in receiver.received]


def test_a_filtered_subscriber_receives_exactly_the_matching_events_in_order_signed(
    team, receiver, django_capture_on_commit_callbacks
):
    subscription = WebhookSubscriptionFactory(url=receiver.url, event_types=["lead.mql", "lead.accepted", "deal.*"])
    receiver.secret = subscription.secret
    won = PipelineStageFactory(pipeline=PipelineFactory(is_default=True), name="Won", order=9, outcome="won")
    PipelineStageFactory(pipeline=won.pipeline, name="Discovery", order=1)
    lead = hot_lead()

    with django_capture_on_commit_callbacks(execute=True):
        services.evaluate_leads(contact_ids=[lead.pk])
    lead.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.accept_lead(contact=lead, by=lead.owner)
    with django_capture_on_commit_callbacks(execute=True):
        deal = services.convert_to_deal(contact=lead, by=lead.owner, amount=5000)
    with django_capture_on_commit_callbacks(execute=True):
        deals.update_deal(deal=deal, by=lead.owner, changes={"stage_id": won.pk, "won_reason": "Best fit"})

    assert received(receiver) == [
        ("lead.mql", f"lead:{lead.pk}"), ("lead.accepted", f"lead:{lead.pk}"),
        ("deal.created", f"deal:{deal.pk}"), ("deal.stage_changed", f"deal:{deal.pk}"),
        ("deal.won", f"deal:{deal.pk}"),
    ]
    assert all(r.signature_ok for r in receiver.received)
    mql = json.loads(receiver.received[0].body)["data"]
    assert mql["schema"] == 1
    assert mql["lead"]["id"] == lead.pk
    assert mql["lead"]["lifecycle_stage"] == "mql"
    assert mql["actor"] == {"type": "system", "name": "scoring"}
    assert mql["url"].endswith(f"/leads/{lead.pk}/")
    won_event = json.loads(receiver.received[-1].body)["data"]
    assert (won_event["deal"]["status"], won_event["deal"]["amount"], won_event["reason"]) == ("won", "5000.00", "Best fit")


def test_a_rejection_carries_its_reason_code_and_note(team):
    WebhookSubscriptionFactory(event_types=["lead.*"])
    lead = hot_lead()
    services.evaluate_leads(contact_ids=[lead.pk])
    lead.refresh_from_db()

    services.reject_lead(contact=lead, by=lead.owner, reason="bad_timing", note="Budget opens in Q3")

    assert list(Event.objects.order_by("id").values_list("event_type", flat=True)) == [
        "lead.mql", "lead.assigned", "lead.rejected"]
    rejected = Event.objects.get(event_type="lead.rejected").payload
    assert (rejected["reason"], rejected["note"], rejected["lead"]["lifecycle_stage"]) == (
        "bad_timing", "Budget opens in Q3", "nurture")


def test_a_batch_of_breaches_publishes_one_event_per_clock(team):
    WebhookSubscriptionFactory(event_types=["sla.breached"])
    leads = [hot_lead() for _ in range(3)]
    services.evaluate_leads(contact_ids=[lead.pk for lead in leads])

    result = sla.check_clocks(now=timezone.now() + timedelta(days=30))

    breached = Event.objects.filter(event_type="sla.breached")
    assert result.breached == 9
    assert breached.count() == 9
    assert Delivery.objects.filter(event__in=breached).count() == 9
    assert {e.payload["clock"]["kind"] for e in breached} == {"first_touch", "decision", "attempts"}


def test_a_sweep_handing_over_many_leads_publishes_in_a_fixed_number_of_statements(team):
    WebhookSubscriptionFactory(event_types=["lead.mql", "lead.assigned"])
    few = [hot_lead() for _ in range(2)]
    many = [hot_lead() for _ in range(20)]

    with CaptureQueriesContext(connection) as small:
        services.evaluate_leads(contact_ids=[lead.pk for lead in few])
    with CaptureQueriesContext(connection) as large:
        services.evaluate_leads(contact_ids=[lead.pk for lead in many])

    def publishing(queries):
        return sum(q["sql"].startswith('INSERT INTO "notifications_event"')
                   or 'FROM "notifications_webhooksubscription"' in q["sql"] for q in queries.captured_queries)

    assert Event.objects.filter(event_type="lead.mql").count() == 22
    assert Event.objects.filter(event_type="lead.assigned").count() == 20  # two reps of capacity ten
    assert publishing(large) == publishing(small)
