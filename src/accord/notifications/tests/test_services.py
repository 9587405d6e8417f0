"""Notifications reach real peers: aiosmtpd receives the emails, a local HTTP server the Slack
messages and webhooks. Tasks run in-process here (ImmediateBackend); test_worker_faults.py
drives the real worker process."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.core.errors import ValidationFailed
from accord.core.permissions import Role
from accord.notifications import services, transport
from accord.notifications.events import DomainEvent
from accord.notifications.models import (
    Delivery,
    DeliveryAttempt,
    Digest,
    Event,
    Notification,
    WebhookSubscription,
)
from accord.notifications.tests.factories import (
    SlackWebhookFactory,
    WebhookSubscriptionFactory,
)

pytestmark = pytest.mark.django_db


def notify_rep(rep, key="lead:1:assigned", kind=Notification.Kind.LEAD_ASSIGNED, **extra):
    return services.notify(
        recipient=rep, kind=kind, title="Ada Lovelace (Acme) is yours", dedupe_key=key,
        body="Score 82, from the webinar.", url="/contacts/1/", **extra,
    )


def test_an_urgent_notification_is_emailed_in_plain_text_and_html_with_a_link_to_the_record(
    smtp_server, django_capture_on_commit_callbacks
):
    rep = UserFactory(role=Role.SALES_REP, email="rep@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify_rep(rep)

    [message] = smtp_server.messages
    assert message["To"] == "rep@example.com"
    assert message["Subject"] == "Ada Lovelace (Acme) is yours"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Open it in Accord: https://accord.example.com/contacts/1/" in plain
    assert '<a href="https://accord.example.com/contacts/1/"' in html
    assert "Score 82, from the webinar." in html
    delivery = Delivery.objects.get(notification=notification, channel=Delivery.Channel.EMAIL)
    assert message["Message-ID"] == f"<delivery-{delivery.pk}@accord.example.com>"
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 1)
    assert DeliveryAttempt.objects.get(delivery=delivery).ok


def test_the_same_dedupe_key_twice_sends_one_email(smtp_server, django_capture_on_commit_callbacks):
    rep = UserFactory(role=Role.SALES_REP)

    with django_capture_on_commit_callbacks(execute=True):
        first = notify_rep(rep)
        second = notify_rep(rep)

    assert first is not None and second is None
    assert len(smtp_server.messages) == 1
    assert Delivery.objects.count() == 1


def test_a_rolled_back_change_sends_nothing(smtp_server, django_capture_on_commit_callbacks):
    rep = UserFactory(role=Role.SALES_REP)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify_rep(rep)
        raise RuntimeError("the lead assignment failed")

    assert smtp_server.messages == []
    assert Notification.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_a_person_who_turned_email_off_for_a_kind_gets_it_in_the_inbox_only(
    smtp_server, django_capture_on_commit_callbacks
):
    rep = UserFactory(role=Role.SALES_REP)
    services.save_preferences(user=rep, choices={("lead_assigned", "email"): "off"})

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify_rep(rep)

    assert notification.in_inbox is True
    assert smtp_server.messages == []
    assert Delivery.objects.count() == 0


def test_a_preference_a_channel_does_not_offer_is_refused_naming_the_field():
    rep = UserFactory(role=Role.SALES_REP)

    with pytest.raises(ValidationFailed) as error:
        services.save_preferences(user=rep, choices={("deal_won", "slack"): "digest"})

    assert error.value.field == "deal_won.slack"
    assert rep.notification_preferences.count() == 0


def test_a_breach_reaches_the_teams_slack_channel_with_a_link(
    http_receiver, settings, django_capture_on_commit_callbacks
):
    settings.ACCORD_PUBLIC_URL = "https://accord.example.com"
    team = TeamFactory()
    rep = UserFactory(role=Role.SALES_REP, team=team, email="")
    SlackWebhookFactory(url="https://company.example/ignored")
    services.set_slack_webhook(scope="team", team=team, url=http_receiver.url)

    with django_capture_on_commit_callbacks(execute=True):
        notify_rep(rep, key="sla:7:breach", kind=Notification.Kind.SLA_BREACH)

    [request] = http_receiver.received
    message = json.loads(request.body)
    assert message["text"] == (
        "*<https://accord.example.com/contacts/1/|Ada Lovelace (Acme) is yours>*\nScore 82, from the webinar."
    )
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_a_published_event_reaches_its_subscriber_signed_with_the_documented_headers(
    http_receiver, django_capture_on_commit_callbacks
):
    subscription = WebhookSubscriptionFactory(url=http_receiver.url, event_types=["deal.*"])
    http_receiver.secret = subscription.secret

    with django_capture_on_commit_callbacks(execute=True):
        event = services.publish_event(event_type="deal.won", record_key="deal:42",
                                       payload={"deal_id": 42, "amount": "1200.00"})

    [request] = http_receiver.received
    delivery = Delivery.objects.get(event=event)
    assert request.signature_ok is True
    assert request.headers["X-Accord-Event"] == "deal.won"
    assert request.headers["X-Accord-Delivery"] == str(delivery.pk)
    assert request.headers["X-Accord-Signature"].startswith("v1=")
    assert json.loads(request.body) == {
        "id": str(event.public_id), "type": "deal.won", "record": "deal:42",
        "created_at": event.occurred_at.isoformat(), "data": {"deal_id": 42, "amount": "1200.00"},
    }
    assert (delivery.status, delivery.last_status_code) == (Delivery.Status.SENT, 200)


def test_an_event_no_subscription_wants_is_not_stored():
    WebhookSubscriptionFactory(event_types=["deal.won"])
    WebhookSubscriptionFactory(event_types=[], is_active=False)

    assert services.publish_event(event_type="lead.rejected", record_key="contact:1", payload={}) is None
    assert Event.objects.count() == 0


def test_a_failed_webhook_waits_with_backoff_and_holds_back_later_events_for_the_same_record(
    http_receiver, django_capture_on_commit_callbacks
):
    subscription = WebhookSubscriptionFactory(url=http_receiver.url)
    http_receiver.mode = "503"

    with django_capture_on_commit_callbacks(execute=True):
        services.publish_event(event_type="deal.stage_changed", record_key="deal:1", payload={"n": 1})
        services.publish_event(event_type="deal.stage_changed", record_key="deal:1", payload={"n": 2})
        services.publish_event(event_type="deal.stage_changed", record_key="deal:2", payload={"n": 3})

    first, second, _other = Delivery.objects.filter(subscription=subscription).order_by("id")
    assert http_receiver.refused_503 == 2  # deal:1 #1 and deal:2; deal:1 #2 waits its turn
    first.refresh_from_db()
    assert (first.status, first.attempts, first.last_status_code) == (Delivery.Status.PENDING, 1, 503)
    assert timezone.now() + timedelta(seconds=4) < first.next_attempt_at
    assert (second.attempts, second.status) == (0, Delivery.Status.PENDING)
    attempt = DeliveryAttempt.objects.get(delivery=first)
    assert (attempt.status_code, attempt.response_excerpt) == (503, "busy")

    http_receiver.mode = "up"
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep(now=timezone.now() + timedelta(minutes=5))

    assert [json.loads(r.body)["data"]["n"] for r in http_receiver.received] == [1, 3, 2]
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}


def test_a_delivery_still_failing_after_three_days_is_a_dead_letter_that_can_be_replayed(
    http_receiver, django_capture_on_commit_callbacks
):
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    WebhookSubscriptionFactory(url=http_receiver.url)
    http_receiver.mode = "503"
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_event(event_type="deal.won", record_key="deal:1", payload={})
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        first_attempt_at=timezone.now() - timedelta(days=3), next_attempt_at=timezone.now()
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.sweep(now=timezone.now() + timedelta(minutes=5))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.DEAD, 2)

    http_receiver.mode = "up"
    with django_capture_on_commit_callbacks(execute=True):
        replayed = services.replay(deliveries=[delivery], by=admin)

    delivery.refresh_from_db()
    assert replayed == 1
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 3)
    assert len(http_receiver.received) == 1


def test_a_task_queued_for_an_earlier_attempt_does_nothing(http_receiver, django_capture_on_commit_callbacks):
    WebhookSubscriptionFactory(url=http_receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_event(event_type="deal.won", record_key="deal:1", payload={})
    delivery = Delivery.objects.get()

    assert services.send_delivery(delivery_id=delivery.pk, attempts=0) == "not claimed"
    assert len(http_receiver.received) == 1


def test_the_sweep_sends_again_a_delivery_whose_worker_died_mid_send(
    http_receiver, django_capture_on_commit_callbacks
):
    WebhookSubscriptionFactory(url=http_receiver.url)
    with django_capture_on_commit_callbacks(execute=False):  # queued, never run: a worker took it
        services.publish_event(event_type="deal.won", record_key="deal:1", payload={})
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENDING, attempts=1, claimed_at=timezone.now(),
        first_attempt_at=timezone.now(),
    )

    with django_capture_on_commit_callbacks(execute=True):
        early = services.sweep(now=timezone.now() + timedelta(seconds=30))
    assert early == {"released": 0, "queued": 0}

    with django_capture_on_commit_callbacks(execute=True):
        late = services.sweep(now=timezone.now() + timedelta(minutes=3))

    delivery.refresh_from_db()
    assert late == {"released": 1, "queued": 1}
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 2)
    assert [r.headers["X-Accord-Delivery"] for r in http_receiver.received] == [str(delivery.pk)]


def test_the_daily_digest_gathers_unread_digest_mode_notifications_into_one_email_once_a_day(
    smtp_server, django_capture_on_commit_callbacks
):
    rep = UserFactory(role=Role.SALES_REP, email="rep@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        for n in (1, 2, 3):
            services.notify(recipient=rep, kind=Notification.Kind.DEAL_WON, title=f"Deal {n} won",
                            dedupe_key=f"deal:{n}:won", url=f"/deals/{n}/")
    assert smtp_server.messages == []
    services.mark_read(user=rep, notification_id=Notification.objects.get(title="Deal 2 won").pk)

    with django_capture_on_commit_callbacks(execute=True):
        first = services.send_digests(timezone.now())
        again = services.send_digests(timezone.now())

    assert (first, again) == ({"digests": 1}, {"digests": 0})
    [message] = smtp_server.messages
    assert message["Subject"] == "Your Accord digest: 2 updates"
    plain = message.get_body(("plain",)).get_content()
    assert "Deal 1 won" in plain and "Deal 3 won" in plain and "Deal 2 won" not in plain
    assert "https://accord.example.com/deals/3/" in plain
    assert Digest.objects.get().recipient == rep
    statuses = dict(Delivery.objects.filter(notification__isnull=False)
                    .values_list("notification__title", "status"))
    assert statuses == {"Deal 1 won": "digested", "Deal 2 won": "skipped", "Deal 3 won": "digested"}


def test_a_notification_written_with_deliver_false_goes_to_the_inbox_only(smtp_server):
    rep = UserFactory(role=Role.SALES_REP)

    notification = notify_rep(rep, deliver=False, at=timezone.now() - timedelta(days=30))

    assert notification.in_inbox
    assert Delivery.objects.count() == 0


def test_a_send_that_outlived_its_claim_does_not_overwrite_the_outcome_of_the_worker_that_took_over(
    http_receiver, django_capture_on_commit_callbacks
):
    WebhookSubscriptionFactory(url=http_receiver.url)
    with django_capture_on_commit_callbacks(execute=False):
        services.publish_event(event_type="deal.won", record_key="deal:1", payload={})
    slow = Delivery.objects.get()
    Delivery.objects.filter(pk=slow.pk).update(status=Delivery.Status.SENDING, attempts=1,
                                               claimed_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep()  # takes the claim back and sends it as attempt 2
    slow.refresh_from_db()
    assert (slow.status, slow.attempts) == (Delivery.Status.SENT, 2)

    slow.attempts = 1  # the first worker, back from its long send, records attempt 1
    result = services._record(slow, transport.Outcome(ok=False, status_code=500), started_at=timezone.now(),
                              duration_ms=1)

    slow.refresh_from_db()
    assert result == "claim lost"
    assert (slow.status, slow.attempts, slow.last_status_code) == (Delivery.Status.SENT, 2, 200)


def test_a_deactivated_person_gets_the_inbox_row_but_no_email(smtp_server, django_capture_on_commit_callbacks):
    former = UserFactory(role=Role.SALES_REP, is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        notification = notify_rep(former)

    assert notification.recipient == former
    assert smtp_server.messages == []
    assert Delivery.objects.count() == 0


# Bulk publishing -------------------------------------------------------------------------------

def test_a_batch_of_events_costs_the_same_statements_whatever_its_size(django_assert_num_queries):
    WebhookSubscriptionFactory(event_types=["lead.*"])
    WebhookSubscriptionFactory(event_types=["lead.mql"])
    batch = [DomainEvent(event_type="lead.mql" if n % 2 else "lead.assigned", record_key=f"lead:{n}",
                         payload={"n": n}, occurred_at=timezone.now()) for n in range(50)]

    # subscriptions, events, busy subscribers, deliveries
    with django_assert_num_queries(4):
        stored = services.publish_events(events=batch)

    assert len(stored) == 50
    assert Delivery.objects.count() == 50 + 25


def test_a_later_event_of_the_same_record_in_one_batch_waits_for_the_earlier_one():
    WebhookSubscriptionFactory(event_types=[])
    now = timezone.now()

    services.publish_events(events=[
        DomainEvent(event_type="lead.mql", record_key="lead:7", payload={}, occurred_at=now),
        DomainEvent(event_type="lead.assigned", record_key="lead:7", payload={}, occurred_at=now),
    ])

    first, second = Delivery.objects.order_by("id")
    assert (first.event.event_type, first.queued_at is not None) == ("lead.mql", True)
    assert (second.event.event_type, second.queued_at) == ("lead.assigned", None)


def test_a_subscription_filter_naming_an_unknown_event_type_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        services.create_subscription(by=UserFactory(role=Role.REVOPS_ADMIN), name="CRM",
                                     url="https://crm.example/hook", event_types=["lead.mqll"])

    assert refused.value.field == "event_types"
    assert "'lead.mqll' is not an event type" in refused.value.message


# SSRF ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://10.0.0.5/hook", "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook", "http://localhost/hook", "http://[fd00:ec2::254]/",
])
def test_a_webhook_pointing_at_a_private_address_is_refused_naming_the_url(settings, url):
    settings.ACCORD_WEBHOOK_ALLOW_PRIVATE = ()

    with pytest.raises(ValidationFailed) as refused:
        services.create_subscription(by=UserFactory(role=Role.REVOPS_ADMIN), name="Inside", url=url)

    assert refused.value.field == "url"
    assert "loopback, private, link-local or metadata address" in refused.value.message
    assert WebhookSubscription.objects.count() == 0


def test_a_slack_url_pointing_at_loopback_is_refused(settings):
    settings.ACCORD_WEBHOOK_ALLOW_PRIVATE = ()

    with pytest.raises(ValidationFailed) as refused:
        services.set_slack_webhook(scope="company", url="https://127.0.0.1/services/x")

    assert refused.value.field == "url"


def test_an_address_that_turned_private_after_saving_is_refused_at_send_time_and_dead_lettered(
    settings, http_receiver, django_capture_on_commit_callbacks
):
    # Saved while allowed, then the setting changes: the send re-resolves and checks again,
    # as it would if the name's DNS answer had changed to a private address (rebinding).
    subscription = WebhookSubscriptionFactory(url=http_receiver.url, event_types=[])
    settings.ACCORD_WEBHOOK_ALLOW_PRIVATE = ()

    with django_capture_on_commit_callbacks(execute=True):
        services.publish_event(event_type="deal.won", record_key="deal:1", payload={})

    delivery = Delivery.objects.get(subscription=subscription)
    assert http_receiver.received == []
    assert delivery.status == Delivery.Status.DEAD
    assert "resolves to 127.0.0.1" in delivery.last_error
