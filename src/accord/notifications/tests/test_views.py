import pytest
from django.urls import reverse
from django.utils import timezone

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.core.permissions import Role
from accord.notifications.models import (
    Delivery,
    Notification,
    Preference,
    SlackWebhook,
    WebhookSubscription,
)
from accord.notifications.tests.factories import (
    NotificationFactory,
    WebhookDeliveryFactory,
    WebhookSubscriptionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(client):
    user = UserFactory(role=Role.SALES_REP)
    client.force_login(user)
    return user


@pytest.fixture
def admin(client):
    user = UserFactory(role=Role.REVOPS_ADMIN)
    client.force_login(user)
    return user


def dead_delivery(subscription, n):
    return WebhookDeliveryFactory(
        subscription=subscription, event__record_key=f"deal:{n}", status=Delivery.Status.DEAD,
        attempts=20, last_status_code=500,
    )


def test_the_inbox_lists_only_the_viewers_notifications_in_a_fixed_number_of_queries(
    client, rep, django_assert_num_queries
):
    NotificationFactory.create_batch(30, recipient=rep)
    NotificationFactory(recipient=UserFactory(), title="Someone else's lead")

    with django_assert_num_queries(5):  # session, user, unread count, page count, page
        response = client.get(reverse("inbox"))

    assert response.status_code == 200
    assert len(response.context["page_obj"].object_list) == 25
    assert response.context["unread"] == 30
    assert b"Someone else&#x27;s lead" not in response.content


def test_the_unread_badge_is_one_count_query(client, rep, django_assert_num_queries):
    NotificationFactory.create_batch(3, recipient=rep)
    NotificationFactory(recipient=rep, read_at=timezone.now())

    with django_assert_num_queries(3):  # session, user, count
        response = client.get(reverse("inbox-badge"))

    assert response.context["unread"] == 3
    assert b'data-testid="unread-count">3<' in response.content


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, rep):
    notification = NotificationFactory(recipient=rep, url="/contacts/7/")

    response = client.post(reverse("inbox-read", args=[notification.pk]), {"open": "1"})

    assert response.status_code == 302
    assert response["Location"] == "/contacts/7/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_a_notification_with_an_outside_link_is_marked_read_but_not_followed(client, rep):
    notification = NotificationFactory(recipient=rep, url="https://evil.example/")

    response = client.post(reverse("inbox-read", args=[notification.pk]), {"open": "1"})

    assert response["Location"] == "/inbox/"


def test_nobody_can_mark_another_persons_notification_read(client, rep):
    theirs = NotificationFactory(recipient=UserFactory())

    response = client.post(reverse("inbox-read", args=[theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_clears_the_viewers_unread_only(client, rep):
    NotificationFactory.create_batch(2, recipient=rep)
    other = NotificationFactory(recipient=UserFactory())

    client.post(reverse("inbox-read-all"))

    assert Notification.objects.filter(recipient=rep, read_at__isnull=True).count() == 0
    other.refresh_from_db()
    assert other.read_at is None


def posted_preferences(**overrides):
    from accord.notifications.domain import Channel

    data = {f"{kind}.{channel.value}": "immediate" for kind in Notification.Kind.values for channel in Channel}
    data.update(overrides)
    return data


def test_saving_preferences_stores_each_choice(client, rep):
    response = client.post(reverse("notification-preferences"),
                           posted_preferences(**{"deal_won.email": "digest", "comment.in_app": "off"}))

    assert response.status_code == 302
    saved = dict(((p.kind, p.channel), p.mode) for p in Preference.objects.filter(user=rep))
    assert saved[("deal_won", "email")] == "digest"
    assert saved[("comment", "in_app")] == "off"
    assert len(saved) == len(Notification.Kind.values) * 3


def test_a_mode_the_channel_does_not_offer_is_refused_next_to_the_field(client, rep):
    response = client.post(reverse("notification-preferences"),
                           posted_preferences(**{"deal_won.slack": "digest"}))

    assert response.status_code == 422
    assert "slack offers immediate, off, not &#x27;digest&#x27;." in response.content.decode()
    assert Preference.objects.count() == 0


def test_a_plain_http_slack_url_is_refused(client, rep):
    response = client.post(reverse("notification-preferences"),
                           posted_preferences(slack_url="http://hooks.example/x"))

    assert response.status_code == 422
    assert "Slack webhook URLs start with https://." in response.content.decode()
    assert SlackWebhook.objects.count() == 0


def test_a_rep_cannot_open_the_integration_pages(client, rep):
    for name in ("notification-webhooks", "notification-deliveries", "notification-dead-letters",
                 "notification-slack"):
        assert client.get(reverse(name)).status_code == 403


def test_an_admin_adds_a_webhook_and_sees_its_generated_secret(client, admin):
    response = client.post(reverse("notification-webhooks"), {
        "name": "Warehouse", "url": "https://warehouse.example/accord", "event_types": ["deal.won", "deal.*"],
        "is_active": "on",
    })

    subscription = WebhookSubscription.objects.get()
    assert response["Location"] == reverse("notification-webhook", args=[subscription.pk])
    assert subscription.event_types == ["deal.*", "deal.won"]
    assert subscription.secret.startswith("whsec_")
    assert subscription.secret in client.get(response["Location"]).content.decode()


def test_a_webhook_url_that_is_not_http_is_refused_naming_the_field(client, admin):
    response = client.post(reverse("notification-webhooks"), {"name": "X", "url": "ftp://x.example/"})

    assert response.status_code == 422
    assert response.context["form"].errors == {"url": ["Give a full http:// or https:// URL."]}
    assert WebhookSubscription.objects.count() == 0


def test_an_admin_sets_a_teams_slack_webhook(client, admin):
    team = TeamFactory()

    client.post(reverse("notification-slack"), {"team": team.pk, "url": "https://hooks.slack.com/services/T/B/x"})

    hook = SlackWebhook.objects.get()
    assert (hook.scope, hook.team, hook.user) == ("team", team, None)


def test_the_delivery_log_pages_in_a_fixed_number_of_queries(client, admin, django_assert_num_queries):
    subscription = WebhookSubscriptionFactory()
    for n in range(12):
        dead_delivery(subscription, n)

    with django_assert_num_queries(4):  # session, user, count, page (related rows joined)
        response = client.get(reverse("notification-deliveries"), {"status": "dead"})

    assert response.status_code == 200
    assert len(response.context["page_obj"].object_list) == 12


def test_replaying_chosen_dead_letters_queues_exactly_those(client, admin, django_capture_on_commit_callbacks):
    subscription = WebhookSubscriptionFactory(is_active=False)  # replays fail again, quickly
    first, second, third = (dead_delivery(subscription, n) for n in range(3))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(reverse("notification-replay"), {"delivery": [first.pk, third.pk]})

    assert response.status_code == 302
    [enqueue] = queued  # one callback queues the sends of the batch
    assert sorted(delivery_id for delivery_id, _ in enqueue.args[0]) == [first.pk, third.pk]
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "pending", second.pk: "dead", third.pk: "pending"}


def test_the_webhook_form_offers_the_published_event_types_and_families(client, admin):
    page = client.get(reverse("notification-webhooks")).content.decode()

    for value in ("lead.*", "sla.*", "deal.*", "lead.mql", "lead.rejected", "sla.breached", "deal.won"):
        assert f'value="{value}"' in page


def test_a_webhook_url_on_a_private_address_is_refused_on_the_url_field(client, admin, settings):
    settings.ACCORD_WEBHOOK_ALLOW_PRIVATE = ()

    response = client.post(reverse("notification-webhooks"), {
        "name": "Metadata", "url": "http://169.254.169.254/latest/meta-data/", "event_types": ["lead.*"],
    })

    assert response.status_code == 422
    assert "169.254.169.254, a loopback, private, link-local or metadata address" in response.content.decode()
    assert WebhookSubscription.objects.count() == 0
