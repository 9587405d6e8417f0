import factory
from django.utils import timezone

from accord.accounts.tests.factories import UserFactory
from accord.notifications.models import (
    Delivery,
    Event,
    Notification,
    SlackWebhook,
    WebhookSubscription,
)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    kind = Notification.Kind.LEAD_ASSIGNED
    title = factory.Sequence(lambda n: f"Lead {n} is yours")
    url = factory.Sequence(lambda n: f"/contacts/{n}/")
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")
    created_at = factory.LazyFunction(timezone.now)


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookSubscription

    name = factory.Sequence(lambda n: f"Warehouse {n}")
    url = "http://127.0.0.1:9/hook"
    secret = factory.Sequence(lambda n: f"whsec_test_{n}")
    event_types = factory.LazyFunction(list)
    created_at = factory.LazyFunction(timezone.now)


class SlackWebhookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlackWebhook

    scope = SlackWebhook.Scope.COMPANY
    url = "https://hooks.slack.example/services/T0/B0/secret"
    updated_at = factory.LazyFunction(timezone.now)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    event_type = "deal.won"
    record_key = factory.Sequence(lambda n: f"deal:{n}")
    payload = factory.LazyFunction(dict)
    occurred_at = factory.LazyFunction(timezone.now)


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    channel = Delivery.Channel.WEBHOOK
    event = factory.SubFactory(EventFactory)
    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    record_key = factory.SelfAttribute("event.record_key")
    created_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.LazyFunction(timezone.now)
