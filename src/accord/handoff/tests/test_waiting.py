"""A rep marks a lead waiting on the customer: the SLA clocks pause if the SLA says so, and run again after."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accord.accounts.tests.factories import UserFactory
from accord.accounts.tests.test_api_client import api_as, errors_of
from accord.capture.tests.factories import TouchpointFactory
from accord.core.permissions import Role
from accord.handoff import selectors, services
from accord.handoff.models import LeadWait
from accord.handoff.tests.factories import ALL_HOURS, hot_lead, sales_team
from accord.lifecycle import services as lifecycle
from accord.notifications.models import Event
from accord.notifications.tests.factories import WebhookSubscriptionFactory
from accord.sla.models import SlaClock
from accord.sla.services import DEFAULT_SLA
from accord.sla.tests.factories import SlaVersionFactory

pytestmark = pytest.mark.django_db
ROUND_THE_CLOCK = "\n".join(
    ["calendars:", "  default:", "    hours:"] + [f'      {day}: ["00:00-24:00"]'
                                                 for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
) + "\n"


def sla_source(*, waiting_pauses: bool = True) -> str:
    source = DEFAULT_SLA.read_text(encoding="utf-8").split("calendars:")[0] + ROUND_THE_CLOCK
    return source if waiting_pauses else source.replace("waiting_on_customer: true", "waiting_on_customer: false")


@pytest.fixture
def mql():
    sales_team("Sales NA", reps=2)
    lifecycle.publish_routing(source=ALL_HOURS + 'rules:\n  - {name: na, team: "Sales NA"}\n')
    SlaVersionFactory(source=sla_source())
    lead = hot_lead()
    services.evaluate_leads(contact_ids=[lead.pk])
    lead.refresh_from_db()
    return lead


def open_clocks(lead):
    return list(SlaClock.objects.filter(SlaClock.OPEN, contact=lead).order_by("kind"))


def test_marking_a_lead_waiting_through_the_api_pauses_its_clocks_and_says_since_when(mql):
    response = api_as(mql.owner).post(f"/leads/{mql.pk}/waiting", {"note": "Sent contract, they review Monday"})

    assert response.status_code == 200
    body = response.json()
    wait = LeadWait.objects.get(contact=mql)
    assert (body["waiting_note"], body["waiting_since"] is not None) == ("Sent contract, they review Monday", True)
    assert (wait.note, wait.started_by, wait.ended_at) == ("Sent contract, they review Monday", mql.owner, None)
    assert [c.paused_since for c in open_clocks(mql)] == [wait.started_at] * 3


def test_resuming_through_the_api_moves_the_due_times_later_by_the_time_spent_waiting(mql):
    due_before = {c.kind: c.due_at for c in open_clocks(mql)}
    start = timezone.now()
    services.mark_waiting(contact=mql, by=mql.owner, note="Legal review", at=start)

    services.stop_waiting(contact=mql, by=mql.owner, at=start + timedelta(hours=2))
    response = api_as(mql.owner).delete(f"/leads/{mql.pk}/waiting")

    assert response.status_code == 200
    assert response.json()["waiting_since"] is None
    wait = LeadWait.objects.get(contact=mql)
    assert (wait.end_reason, wait.ended_by) == (LeadWait.EndedBy.REP, mql.owner)
    for clock in open_clocks(mql):
        assert clock.paused_since is None
        assert clock.due_at - due_before[clock.kind] == pytest.approx(timedelta(hours=2), abs=timedelta(seconds=2))


def test_under_an_sla_that_does_not_pause_for_customers_the_wait_is_recorded_and_the_clocks_run_on(mql):
    SlaClock.objects.update(sla_version=SlaVersionFactory(source=sla_source(waiting_pauses=False)))

    services.mark_waiting(contact=mql, by=mql.owner, note="Waiting for budget sign-off")

    assert LeadWait.objects.filter(contact=mql, ended_at__isnull=True).count() == 1
    assert [c.paused_since for c in open_clocks(mql)] == [None, None, None]


def test_marking_it_again_updates_the_note_and_never_opens_a_second_wait(mql):
    services.mark_waiting(contact=mql, by=mql.owner, note="Contract sent")

    api_as(mql.owner).post(f"/leads/{mql.pk}/waiting", {"note": "Contract sent, chasing Friday"})

    [wait] = LeadWait.objects.filter(contact=mql)
    assert (wait.note, wait.ended_at) == ("Contract sent, chasing Friday", None)


def test_a_blank_note_is_refused_naming_the_note_and_nothing_pauses(mql):
    response = api_as(mql.owner).post(f"/leads/{mql.pk}/waiting", {"note": "   "})

    assert response.status_code == 422
    assert errors_of(response) == [("note", "invalid")]
    assert LeadWait.objects.count() == 0
    assert [c.paused_since for c in open_clocks(mql)] == [None, None, None]


def test_a_rep_cannot_mark_someone_elses_lead_waiting(mql):
    stranger = UserFactory(role=Role.SALES_REP)

    response = api_as(stranger).post(f"/leads/{mql.pk}/waiting", {"note": "Mine now"})

    assert response.status_code == 404
    assert LeadWait.objects.count() == 0


def test_logging_a_call_ends_the_wait_and_resumes_the_clocks(mql):
    services.mark_waiting(contact=mql, by=mql.owner, note="Contract sent")

    services.log_activity(contact=mql, by=mql.owner, kind="call", subject="They signed")

    wait = LeadWait.objects.get(contact=mql)
    assert wait.end_reason == LeadWait.EndedBy.ACTIVITY
    assert all(c.paused_since is None for c in SlaClock.objects.filter(contact=mql, cancelled_at__isnull=True))


def test_a_note_to_oneself_does_not_end_the_wait(mql):
    services.mark_waiting(contact=mql, by=mql.owner, note="Contract sent")

    services.log_activity(contact=mql, by=mql.owner, kind="note", subject="Still nothing")

    assert LeadWait.objects.get(contact=mql).ended_at is None


def test_the_sweep_ends_the_wait_when_the_customer_gets_in_touch_at_the_touchpoints_time(mql):
    start = timezone.now() - timedelta(hours=3)
    services.mark_waiting(contact=mql, by=mql.owner, note="Contract sent", at=start)
    services.sweep_new_leads()  # the cursor starts from now on the first sweep
    touched_at = start + timedelta(hours=1)
    TouchpointFactory(contact=mql, occurred_at=touched_at)

    totals = services.sweep_new_leads()

    wait = LeadWait.objects.get(contact=mql)
    assert totals["resumed"] == 1
    assert (wait.end_reason, wait.ended_at, wait.ended_by) == (LeadWait.EndedBy.TOUCHPOINT, touched_at, None)
    assert all(c.paused_since is None for c in open_clocks(mql))


def test_the_queue_filter_lists_only_the_leads_waiting_on_the_customer(mql):
    other = hot_lead()
    services.evaluate_leads(contact_ids=[other.pk])
    services.mark_waiting(contact=mql, by=mql.owner, note="Contract sent")

    waiting = list(selectors.lead_queue(user=mql.owner, view="waiting"))

    assert [lead.pk for lead in waiting] == [mql.pk]
    assert waiting[0].waiting_note == "Contract sent"


def test_the_lead_page_shows_the_paused_countdown_with_why_and_since_when(client, mql):
    services.mark_waiting(contact=mql, by=mql.owner, note="Sent contract, they review Monday")
    client.force_login(mql.owner)

    page = client.get(reverse("lead", args=[mql.pk])).content.decode()

    assert "paused — waiting on customer since" in page
    assert "Sent contract, they review Monday" in page
    assert "Stop waiting: resume the clocks" in page


def test_the_queue_row_form_marks_a_lead_waiting_and_answers_the_row(client, mql):
    client.force_login(mql.owner)

    response = client.post(reverse("lead-wait", args=[mql.pk]), {"note": "Reviewing the quote"},
                           HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "Waiting on customer since" in response.content.decode()
    assert LeadWait.objects.get(contact=mql).note == "Reviewing the quote"


def test_a_subscriber_hears_the_lead_wait_and_resume_in_order(mql):
    WebhookSubscriptionFactory(event_types=["lead.waiting", "lead.resumed"])

    services.mark_waiting(contact=mql, by=mql.owner, note="Contract sent")
    services.stop_waiting(contact=mql, by=mql.owner)

    waiting, resumed = Event.objects.order_by("id")
    assert (waiting.event_type, waiting.record_key) == ("lead.waiting", f"lead:{mql.pk}")
    assert waiting.payload["note"] == "Contract sent"
    assert waiting.payload["actor"] == {"type": "user", "id": mql.owner.pk, "username": mql.owner.username}
    assert (resumed.event_type, resumed.payload["ended_by"]) == ("lead.resumed", "rep")
